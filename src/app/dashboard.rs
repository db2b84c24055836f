//! The dashboard's figures, for every staff role (aggregates only).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use std::collections::HashMap;

use super::staff::Staff;
use super::{require, AppState, Result};
use crate::db;
use crate::db::dashboard::{Dashboard, SlaTargets};
use crate::db::models::{PartnerRow, QueueRow};
use crate::domain::staff::Permission;

/// How many breached cases the dashboard lists.
const BREACHES_LISTED: i64 = 20;

/// What the dashboard shows.
pub struct Figures {
    pub dashboard: Dashboard,
    pub queues: Vec<QueueRow>,
    /// Names of the staff in the workload table, by user id.
    pub names: HashMap<String, String>,
    pub partners: Vec<PartnerRow>,
    /// Requests per partner name and day, from `first_day` on.
    pub per_day: Vec<(String, NaiveDate, i64)>,
    /// Where the backlog is heading.
    pub forecast: super::forecast::Forecast,
}

/// The figures but the forecast, read in one blocking call.
struct Rest {
    dashboard: Dashboard,
    queues: Vec<QueueRow>,
    names: HashMap<String, String>,
    partners: Vec<PartnerRow>,
    per_day: Vec<(String, NaiveDate, i64)>,
}

/// The figures at `now` under the configured SLA, partners' requests from `first_day` on.
pub async fn load(
    app: &AppState,
    staff: &Staff,
    now: NaiveDateTime,
    first_day: NaiveDate,
) -> Result<Figures> {
    require(staff, Permission::ViewDashboard)?;
    let sla = app.settings.sla_hours;
    let targets = SlaTargets {
        urgent_hours: sla[0].into(),
        high_hours: sla[1].into(),
        normal_hours: sla[2].into(),
    };
    // The forecast and the rest are read at once, on two connections.
    let forecast = super::forecast::dashboard_forecast(&app.pool, &app.settings, now);
    let rest = db::run(&app.pool, move |conn| {
        let dashboard = db::dashboard::load(conn, now, targets, BREACHES_LISTED)?;
        let queues = db::queues::all(conn)?;
        let ids: Vec<String> = dashboard.workload.keys().flatten().cloned().collect();
        let names = db::cases::user_names(conn, &ids)?;
        let since = first_day.and_time(NaiveTime::MIN);
        Ok(Rest {
            dashboard,
            queues,
            names,
            partners: db::partners::list(conn)?,
            per_day: db::partners::per_day(conn, since)?,
        })
    });
    let (forecast, rest) = futures_util::future::join(forecast, rest).await;
    let (forecast, rest) = (forecast?, rest?);
    Ok(Figures {
        dashboard: rest.dashboard,
        queues: rest.queues,
        names: rest.names,
        partners: rest.partners,
        per_day: rest.per_day,
        forecast,
    })
}
