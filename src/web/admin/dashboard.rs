//! The dashboard: backlog, age and pace at a glance, for every staff role (aggregates only).

use actix_web::{web, HttpResponse};
use askama::Template;

use super::{need, page, AdminError, Allowed, Nav};
use crate::domain::staff::Permission;
use crate::domain::{Category, Priority, Status};
use crate::web::AppState;

pub struct Bar {
    pub x: u32,
    pub new_y: u32,
    pub new_h: u32,
    pub closed_y: u32,
    pub closed_h: u32,
    pub label: String,
    pub new: i64,
    pub closed: i64,
}

pub struct Breach {
    pub reference: String,
    pub priority: String,
    pub queue: String,
    pub age: String,
    /// The requester answered and nobody on staff has looked yet.
    pub new_reply: bool,
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
pub struct DashboardPage {
    nav: Nav,
    open_total: i64,
    categories: Vec<(&'static str, Vec<i64>, i64)>,
    statuses: Vec<&'static str>,
    queues: Vec<(String, String, i64, String)>,
    priorities: Vec<(&'static str, i64)>,
    ages: Vec<(&'static str, i64)>,
    bars: Vec<Bar>,
    chart_max: i64,
    new_this_week: i64,
    new_last_week: i64,
    week_change: String,
    workload: Vec<(String, i64)>,
    breaches: Vec<Breach>,
    breach_total: i64,
    /// Open cases waiting on the requester, which the breach list leaves out.
    waiting_on_requester: i64,
    /// Open cases with an answer nobody has seen.
    new_replies: i64,
    sla: [u32; 3],
    show_links: bool,
    partner_days: Vec<String>,
    partner_rows: Vec<(String, Vec<i64>, i64)>,
    forecast: super::forecast::ForecastView,
    /// Urgent cases nobody has taken yet: (reference, waiting, pages sent).
    paging: Vec<(String, String, i32)>,
}

/// Days shown in the requests-per-partner table, today included.
const PARTNER_DAYS: i64 = 14;

/// "3 d 4 h" style age.
pub fn age_text(created: chrono::NaiveDateTime, now: chrono::NaiveDateTime) -> String {
    let d = now - created;
    if d.num_days() >= 1 {
        format!("{} d {} h", d.num_days(), d.num_hours() % 24)
    } else if d.num_hours() >= 1 {
        format!("{} h {} min", d.num_hours(), d.num_minutes() % 60)
    } else {
        format!("{} min", d.num_minutes().max(0))
    }
}

const CHART_HEIGHT: i64 = 120;

pub async fn dashboard(
    state: web::Data<AppState>,
    staff: Allowed<need::ViewDashboard>,
) -> Result<HttpResponse, AdminError> {
    let now = state.clock.now().naive_utc();
    let sla = state.settings.sla_hours;
    let paging = crate::app::escalation::unacknowledged(&state)
        .await?
        .into_iter()
        .map(|o| (o.reference, age_text(o.row.started_at, now), o.row.pages))
        .collect();
    let first_day = now.date() - chrono::Duration::days(PARTNER_DAYS - 1);
    let crate::app::dashboard::Figures {
        dashboard: mut d,
        queues,
        names,
        partners,
        per_day,
        forecast,
    } = crate::app::dashboard::load(&state, &staff, now, first_day).await?;
    let (breach_rows, breach_total) = (std::mem::take(&mut d.breaches), d.breach_total);
    let days: Vec<chrono::NaiveDate> = (0..PARTNER_DAYS)
        .map(|i| first_day + chrono::Duration::days(i))
        .collect();
    let partner_rows = partners
        .into_iter()
        .map(|p| {
            let counts: Vec<i64> = days
                .iter()
                .map(|day| {
                    per_day
                        .iter()
                        .find(|(name, d, _)| *name == p.name && d == day)
                        .map_or(0, |(_, _, n)| *n)
                })
                .collect();
            let total = counts.iter().sum();
            (p.name, counts, total)
        })
        .collect();

    let statuses: Vec<Status> = Status::ALL
        .iter()
        .copied()
        .filter(|s| s.is_open())
        .collect();
    let categories = Category::ALL
        .iter()
        .map(|c| {
            let counts: Vec<i64> = statuses
                .iter()
                .map(|s| {
                    d.by_category_status
                        .get(&(c.as_str().to_string(), s.as_str().to_string()))
                        .copied()
                        .unwrap_or(0)
                })
                .collect();
            let total = counts.iter().sum();
            (c.label(), counts, total)
        })
        .collect();
    let queues = queues
        .into_iter()
        .map(|q| {
            let open = d.by_queue.get(&q.slug).copied().unwrap_or(0);
            let oldest = d
                .oldest_per_queue
                .get(&q.slug)
                .map(|t| age_text(*t, now))
                .unwrap_or_else(|| "—".to_string());
            (q.slug, q.name, open, oldest)
        })
        .collect();
    let priorities = Priority::ALL
        .iter()
        .map(|p| {
            (
                p.label(),
                d.by_priority.get(p.as_str()).copied().unwrap_or(0),
            )
        })
        .collect();

    let chart_max = d
        .pace
        .iter()
        .map(|(_, n, c)| (*n).max(*c))
        .max()
        .unwrap_or(0)
        .max(1);
    let scale = |n: i64| (n * CHART_HEIGHT / chart_max) as u32;
    let bars = d
        .pace
        .iter()
        .enumerate()
        .map(|(i, (day, new, closed))| Bar {
            x: 40 + i as u32 * 20,
            new_y: 10 + CHART_HEIGHT as u32 - scale(*new),
            new_h: scale(*new),
            closed_y: 10 + CHART_HEIGHT as u32 - scale(*closed),
            closed_h: scale(*closed),
            label: day.format("%d %b").to_string(),
            new: *new,
            closed: *closed,
        })
        .collect();
    let week_change = if d.new_last_week == 0 {
        if d.new_this_week == 0 {
            "no change".to_string()
        } else {
            "up from none".to_string()
        }
    } else {
        let pct = (d.new_this_week - d.new_last_week) as f64 * 100.0 / d.new_last_week as f64;
        format!("{pct:+.0}%")
    };
    let mut workload: Vec<(String, i64)> = d
        .workload
        .iter()
        .map(|(id, n)| {
            let name = match id {
                None => "Unassigned".to_string(),
                Some(id) => names
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| "Former staff".to_string()),
            };
            (name, *n)
        })
        .collect();
    workload.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let breaches = breach_rows
        .into_iter()
        .map(|(reference, priority, queue, created)| Breach {
            new_reply: d.breaches_with_new_reply.contains(&reference),
            reference,
            priority,
            queue,
            age: age_text(created, now),
        })
        .collect();

    page(DashboardPage {
        show_links: staff.can(Permission::WorkOwnQueues),
        nav: Nav::of(&staff),
        open_total: d.open_total,
        categories,
        statuses: statuses.iter().map(|s| s.label()).collect(),
        queues,
        priorities,
        ages: d.age_buckets,
        bars,
        chart_max,
        new_this_week: d.new_this_week,
        new_last_week: d.new_last_week,
        week_change,
        workload,
        breaches,
        breach_total,
        waiting_on_requester: d.waiting_on_requester,
        new_replies: d.new_replies,
        sla,
        partner_days: days.iter().map(|d| d.format("%d %b").to_string()).collect(),
        partner_rows,
        forecast: super::forecast::ForecastView::of(&forecast),
        paging,
    })
}
