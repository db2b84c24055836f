//! The dashboard's forecast: where each queue's backlog is heading, which requests will pass
//! their target first, what more caseworkers would change, and how good the same forecast
//! was two weeks ago. Read from the maintained counts and a bounded window of the audit
//! trail; the arithmetic is `domain::forecast`.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use std::collections::{BTreeMap, BTreeSet};

use super::{Error, Result};
use crate::config::Settings;
use crate::db::forecast::{Closures, Day, OpenDay};
use crate::db::{self, DbConnection, DbError, Pool};
use crate::domain::forecast::{self as f, Backtest, BreachForecast, Projection, Trend};
use crate::domain::staff::Permission;
use crate::domain::{Actor, Priority, TokenScope};
use crate::email::QueueOutlook;

/// Whole days of history shown and smoothed (today, still under way, is not among them).
pub const HISTORY_DAYS: i64 = 60;
/// The horizons projected, in days.
pub const HORIZONS: [u32; 2] = [14, 30];
/// How far ahead projected SLA breaches look, in days.
pub const BREACH_DAYS: u32 = 7;
/// How far back closures per caseworker and the age of closed requests are measured...
pub const STAFF_WINDOW_DAYS: i64 = 14;
/// ...reading at most this many of the latest closings (a surge of them costs no more).
pub const CLOSINGS_READ: i64 = 1_000;
/// How old the backtested forecast is, in days.
pub const BACKTEST_DAYS: u32 = 14;
/// The "N more caseworkers" the staffing table tries.
pub const EXTRA_WORKERS: [u32; 4] = [1, 2, 5, 10];
/// Requests the breach list names.
pub const BREACH_LIST: usize = 20;

/// One whole day of a queue's history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoryDay {
    pub day: NaiveDate,
    pub received: i64,
    pub closed: i64,
    /// Open at the end of the day.
    pub backlog: i64,
}

/// The forecast of one queue, or of all of them together.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueForecast {
    /// `None` for the total.
    pub slug: Option<String>,
    pub name: String,
    pub history: Vec<HistoryDay>,
    /// Open now.
    pub backlog: i64,
    /// Smoothed requests received and closed a day.
    pub inflow: f64,
    pub closures: f64,
    /// One per `HORIZONS`.
    pub projections: Vec<Projection>,
    pub trend: Trend,
    pub breaches: BreachForecast,
    /// Caseworkers who closed a request of this queue among the closings read.
    pub caseworkers: usize,
    /// Days to clear with each of `EXTRA_WORKERS` more; `None` where it does not clear.
    pub with_more: Vec<(u32, Option<f64>)>,
    /// More caseworkers needed to clear within the target.
    pub needed: Option<u32>,
    /// Mean wait by Little's law (backlog / inflow), and measured: the mean age at closing
    /// of the requests among the closings read, in days.
    pub littles_wait_days: Option<f64>,
    pub measured_wait_days: Option<f64>,
    pub backtest: Option<Backtest>,
}

/// A request projected to pass its target within `BREACH_DAYS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectedBreach {
    pub reference: String,
    pub queue: String,
    pub priority: Priority,
    pub received: NaiveDateTime,
    pub past_target_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub now: NaiveDateTime,
    pub alpha: f64,
    /// The latest days that carry 90% of the smoothing's weight.
    pub weighing_days: u32,
    pub target_days: u32,
    pub sla_hours: [u32; 3],
    pub total: QueueForecast,
    pub queues: Vec<QueueForecast>,
    /// The next requests to pass their target, soonest first (`BREACH_LIST` at most).
    pub breaches: Vec<ProjectedBreach>,
    /// Requests closed a day per caseworker who closed any, over the closings read.
    pub per_caseworker: Option<f64>,
    pub caseworkers: usize,
    /// Where the closings read start: `STAFF_WINDOW_DAYS` ago, or later when there were more
    /// than `CLOSINGS_READ` since.
    pub closings_from: NaiveDateTime,
}

/// The forecast as of `now`, for every queue and in total.
pub async fn dashboard_forecast(
    pool: &Pool,
    settings: &Settings,
    now: NaiveDateTime,
) -> Result<Forecast, DbError> {
    let (alpha, target_days, sla) = (
        settings.forecast.alpha,
        settings.forecast.target_days,
        settings.sla_hours,
    );
    db::run(pool, move |conn| load(conn, now, alpha, target_days, sla)).await
}

/// Who reads the forecast through the reporting API.
pub enum Reporter {
    /// A logged-in staff member (the session of the admin pages).
    Staff(super::staff::Staff),
    /// A partner's API token, with what it was issued for.
    Token(TokenScope),
}

/// The dashboard's forecast for a report: for a staff member whose role sees the dashboard,
/// or a token issued with the reporting scope; anyone else is `Forbidden`.
pub async fn report(
    app: &super::AppState,
    reader: &Reporter,
    now: NaiveDateTime,
) -> Result<Forecast> {
    match reader {
        Reporter::Staff(staff) => super::require(staff, Permission::ViewDashboard)?,
        Reporter::Token(TokenScope::Reporting) => {}
        Reporter::Token(TokenScope::Requests) => return Err(Error::Forbidden),
    }
    Ok(dashboard_forecast(&app.pool, &app.settings, now).await?)
}

/// `dashboard_forecast` on a connection.
pub fn load(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    alpha: f64,
    target_days: u32,
    sla_hours: [u32; 3],
) -> Result<Forecast, DbError> {
    let today = now.date();
    let first = today - Duration::days(HISTORY_DAYS);
    let days = db::forecast::daily(conn, first.and_time(chrono::NaiveTime::MIN))?;
    let open = db::forecast::open_days(conn)?;
    let closings = db::forecast::latest_closings(
        conn,
        now - Duration::days(STAFF_WINDOW_DAYS),
        CLOSINGS_READ,
    )?;
    let staff_days = ((now - closings.from).num_seconds() as f64 / 86_400.0).max(1.0 / 24.0);
    let closures = closings.groups;
    let queue_rows = db::queues::all(conn)?;

    let (per_caseworker, caseworkers) = per_caseworker(&closures, staff_days);
    let ctx = Context {
        now,
        first,
        alpha,
        target_days,
        sla_hours,
        per_caseworker,
    };
    let none = BTreeMap::new();
    let mut queues = Vec::new();
    for q in &queue_rows {
        let q_open: Vec<OpenDay> = open.iter().filter(|o| o.queue == q.slug).cloned().collect();
        let q_closures: Vec<&Closures> = closures.iter().filter(|c| c.queue == q.slug).collect();
        queues.push(ctx.queue(
            Some(q.slug.clone()),
            q.name.clone(),
            days.get(&q.slug).unwrap_or(&none),
            &q_open,
            &q_closures,
        ));
    }
    // The total adds up every queue, one since removed included.
    let mut all_days: BTreeMap<NaiveDate, Day> = BTreeMap::new();
    for (day, d) in days.values().flatten() {
        let t = all_days.entry(*day).or_default();
        t.received += d.received;
        t.closed += d.closed;
    }
    let mut total = ctx.queue(
        None,
        "All queues".into(),
        &all_days,
        &open,
        &closures.iter().collect::<Vec<_>>(),
    );
    // Each queue is worked at its own pace: the total's breaches are the queues' added up.
    total.breaches = BreachForecast::default();
    for q in &queues {
        for i in 0..3 {
            total.breaches.by_priority[i] += q.breaches.by_priority[i];
        }
    }

    let then = now + Duration::days(BREACH_DAYS.into());
    let mut breaches = Vec::new();
    for q in &queues {
        let (Some(slug), Some(from)) = (&q.slug, q.breaches.untouched_from) else {
            continue;
        };
        for p in Priority::ALL.iter().copied() {
            // None projected: nothing to look for (and no index range to read through).
            if q.breaches.by_priority[f::priority_index(p)] == 0 {
                continue;
            }
            let target = Duration::hours(sla_hours[f::priority_index(p)].into());
            // Not past the target yet, and past it by `then`.
            let from = from.max(now - target + Duration::microseconds(1));
            if from > then - target {
                continue;
            }
            let rows =
                db::forecast::open_between(conn, slug, p, from, then - target, BREACH_LIST as i64)?;
            breaches.extend(
                rows.into_iter()
                    .map(|(reference, received)| ProjectedBreach {
                        reference,
                        queue: q.name.clone(),
                        priority: p,
                        received,
                        past_target_at: received + target,
                    }),
            );
        }
    }
    breaches
        .sort_by(|a, b| (a.past_target_at, &a.reference).cmp(&(b.past_target_at, &b.reference)));
    breaches.truncate(BREACH_LIST);

    Ok(Forecast {
        now,
        alpha,
        weighing_days: f::days_weighing_most(alpha),
        target_days,
        sla_hours,
        total,
        queues,
        breaches,
        per_caseworker,
        caseworkers,
        closings_from: closings.from,
    })
}

/// Closures a day per caseworker who closed any in the window, and how many did.
fn per_caseworker(closures: &[Closures], days: f64) -> (Option<f64>, usize) {
    let mut staff = BTreeSet::new();
    let mut n = 0;
    for c in closures {
        if let Ok(Actor::Staff(id)) = c.actor.parse::<Actor>() {
            staff.insert(id);
            n += c.n;
        }
    }
    let rate = (!staff.is_empty()).then(|| n as f64 / (staff.len() as f64 * days));
    (rate, staff.len())
}

struct Context {
    now: NaiveDateTime,
    first: NaiveDate,
    alpha: f64,
    target_days: u32,
    sla_hours: [u32; 3],
    per_caseworker: Option<f64>,
}

impl Context {
    fn queue(
        &self,
        slug: Option<String>,
        name: String,
        days: &BTreeMap<NaiveDate, Day>,
        open: &[OpenDay],
        closures: &[&Closures],
    ) -> QueueForecast {
        let backlog: i64 = open.iter().map(|o| o.n).sum();
        let today = days.get(&self.now.date()).copied().unwrap_or_default();
        // Worked back from now: open at the end of each day.
        let mut end = backlog - today.received + today.closed;
        let mut history: Vec<HistoryDay> = (0..HISTORY_DAYS)
            .rev()
            .map(|i| {
                let day = self.first + Duration::days(i);
                let d = days.get(&day).copied().unwrap_or_default();
                let h = HistoryDay {
                    day,
                    received: d.received,
                    closed: d.closed,
                    backlog: end.max(0),
                };
                end = end - d.received + d.closed;
                h
            })
            .collect();
        history.reverse();
        let inflow_days: Vec<f64> = history.iter().map(|h| h.received as f64).collect();
        let closed_days: Vec<f64> = history.iter().map(|h| h.closed as f64).collect();
        let inflow = f::smoothed(&inflow_days, self.alpha);
        let closures_rate = f::smoothed(&closed_days, self.alpha);
        let b = backlog as f64;

        let days_open: Vec<f::Open> = open
            .iter()
            .map(|o| f::Open {
                from: o.day,
                priority: o.priority,
                n: o.n,
            })
            .collect();
        let breaches = f::breaches_ahead(
            &days_open,
            closures_rate,
            BREACH_DAYS,
            self.now,
            self.sla_hours,
        );

        let mut workers = BTreeSet::new();
        let (mut closed_n, mut age) = (0i64, 0.0);
        for c in closures {
            if let Ok(Actor::Staff(id)) = c.actor.parse::<Actor>() {
                workers.insert(id);
            }
            closed_n += c.n;
            age += c.age_seconds;
        }
        let per = self.per_caseworker.unwrap_or(0.0);
        let with_more = EXTRA_WORKERS
            .iter()
            .map(|&n| {
                let days = self
                    .per_caseworker
                    .and_then(|_| f::days_to_clear(b, inflow, closures_rate, per, n));
                (n, days)
            })
            .collect();
        QueueForecast {
            slug,
            name,
            backlog,
            inflow,
            closures: closures_rate,
            projections: HORIZONS
                .iter()
                .map(|&k| f::project(b, inflow, closures_rate, k))
                .collect(),
            trend: f::trend(b, inflow, closures_rate),
            breaches,
            caseworkers: workers.len(),
            with_more,
            needed: f::workers_needed(b, inflow, closures_rate, per, self.target_days),
            littles_wait_days: f::littles_wait_days(b, inflow),
            measured_wait_days: (closed_n > 0).then(|| age / closed_n as f64 / 86_400.0),
            backtest: f::backtest(
                &inflow_days,
                &closed_days,
                history.last().map_or(0.0, |h| h.backlog as f64),
                self.alpha,
                BACKTEST_DAYS,
            ),
            history,
        }
    }
}

/// The digest's outlook with `settings`: per queue, the backlog now, in 14 days, and the
/// trend in words, from the same forecast as the dashboard.
pub fn digest_outlook(
    settings: &Settings,
) -> impl Fn(&mut DbConnection, NaiveDateTime) -> Result<Vec<QueueOutlook>, DbError> + Send + Sync {
    let (alpha, target_days, sla) = (
        settings.forecast.alpha,
        settings.forecast.target_days,
        settings.sla_hours,
    );
    move |conn, now| {
        let forecast = load(conn, now, alpha, target_days, sla)?;
        Ok(forecast.queues.iter().map(outlook_of).collect())
    }
}

fn outlook_of(q: &QueueForecast) -> QueueOutlook {
    let in_14_days = q
        .projections
        .iter()
        .find(|p| p.days == 14)
        .map_or(q.backlog, |p| p.expected.round() as i64);
    let trend = match q.trend {
        Trend::Clearing { days } => format!("clears in {} days", days.ceil() as i64),
        Trend::Growing { per_day } => format!("growing by {per_day:.1} a day"),
        Trend::Steady => "steady".to_string(),
    };
    QueueOutlook {
        queue: q.name.clone(),
        backlog: q.backlog,
        in_14_days,
        trend,
    }
}
