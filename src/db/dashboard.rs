//! Aggregates for the dashboard: counts, ages and pace. Never personal data.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use std::collections::HashMap;

use super::schema::case_requests;
use super::{DbConnection, DbError};

#[derive(QueryableByName)]
struct DayCount {
    #[diesel(sql_type = diesel::sql_types::Date)]
    day: NaiveDate,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Rows per calendar day of `column` since `start`. Both backends have `date()`; only the
/// parameter placeholder differs.
fn per_day(
    conn: &mut DbConnection,
    column: &str,
    start: NaiveDateTime,
) -> Result<HashMap<NaiveDate, i64>, DbError> {
    let placeholder = match conn {
        DbConnection::Postgres(_) => "$1",
        DbConnection::Sqlite(_) => "?",
    };
    let sql = format!(
        "SELECT date({column}) AS day, COUNT(*) AS n FROM case_requests \
         WHERE {column} >= {placeholder} GROUP BY date({column})"
    );
    Ok(diesel::sql_query(sql)
        .bind::<diesel::sql_types::Timestamp, _>(start)
        .load::<DayCount>(conn)?
        .into_iter()
        .map(|d| (d.day, d.n))
        .collect())
}

/// Age buckets of open requests, in days: < 1, 1-3, 3-7, 7-14, > 14.
pub const AGE_BUCKETS: [(&str, i64, Option<i64>); 5] = [
    ("< 1 day", 0, Some(1)),
    ("1-3 days", 1, Some(3)),
    ("3-7 days", 3, Some(7)),
    ("7-14 days", 7, Some(14)),
    ("> 14 days", 14, None),
];

#[derive(Debug, Clone, Default)]
pub struct Dashboard {
    /// (category, status) -> open count
    pub by_category_status: HashMap<(String, String), i64>,
    pub by_queue: HashMap<String, i64>,
    pub by_priority: HashMap<String, i64>,
    pub age_buckets: Vec<(&'static str, i64)>,
    pub oldest_per_queue: HashMap<String, NaiveDateTime>,
    /// (day, new, closed) for the last 30 days, oldest first.
    pub pace: Vec<(NaiveDate, i64, i64)>,
    pub new_this_week: i64,
    pub new_last_week: i64,
    /// assignee id (None = unassigned) -> open count
    pub workload: HashMap<Option<String>, i64>,
    pub open_total: i64,
}

/// SLA targets: how long an open request of each priority may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaTargets {
    pub urgent_hours: i64,
    pub high_hours: i64,
    pub normal_hours: i64,
}

impl SlaTargets {
    pub fn hours_for(&self, priority: &str) -> i64 {
        match priority {
            "urgent" => self.urgent_hours,
            "high" => self.high_hours,
            _ => self.normal_hours,
        }
    }
}

pub fn load(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Dashboard, DbError> {
    let open = case_requests::is_open.eq(true);
    let by_category_status = case_requests::table
        .filter(open)
        .group_by((case_requests::category, case_requests::status))
        .select((
            case_requests::category,
            case_requests::status,
            diesel::dsl::count_star(),
        ))
        .load::<(String, String, i64)>(conn)?
        .into_iter()
        .map(|(c, s, n)| ((c, s), n))
        .collect::<HashMap<_, _>>();
    let open_total = by_category_status.values().sum();
    let by_queue = case_requests::table
        .filter(open)
        .group_by(case_requests::queue_slug)
        .select((case_requests::queue_slug, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let by_priority = case_requests::table
        .filter(open)
        .group_by(case_requests::priority)
        .select((case_requests::priority, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let mut age_buckets = Vec::new();
    for (label, from_days, to_days) in AGE_BUCKETS {
        let mut q = case_requests::table
            .filter(open)
            .filter(case_requests::created_at.le(now - Duration::days(from_days)))
            .into_boxed();
        if let Some(to) = to_days {
            q = q.filter(case_requests::created_at.gt(now - Duration::days(to)));
        }
        let n: i64 = q.count().get_result(conn)?;
        age_buckets.push((label, n));
    }
    let oldest_per_queue = case_requests::table
        .filter(open)
        .group_by(case_requests::queue_slug)
        .select((
            case_requests::queue_slug,
            diesel::dsl::min(case_requests::created_at),
        ))
        .load::<(String, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .filter_map(|(q, t)| t.map(|t| (q, t)))
        .collect();

    let start = (now - Duration::days(29))
        .date()
        .and_hms_opt(0, 0, 0)
        .unwrap_or(now);
    let new_per_day = per_day(conn, "created_at", start)?;
    let closed_per_day = per_day(conn, "closed_at", start)?;
    let pace = (0..30)
        .map(|i| {
            let day = start.date() + Duration::days(i);
            (
                day,
                new_per_day.get(&day).copied().unwrap_or(0),
                closed_per_day.get(&day).copied().unwrap_or(0),
            )
        })
        .collect();
    let mut week = |from: i64, to: i64| -> Result<i64, DbError> {
        Ok(case_requests::table
            .filter(case_requests::created_at.gt(now - Duration::days(to)))
            .filter(case_requests::created_at.le(now - Duration::days(from)))
            .count()
            .get_result(conn)?)
    };
    let new_this_week = week(0, 7)?;
    let new_last_week = week(7, 14)?;
    let workload = case_requests::table
        .filter(open)
        .group_by(case_requests::assignee_id)
        .select((case_requests::assignee_id, diesel::dsl::count_star()))
        .load::<(Option<String>, i64)>(conn)?
        .into_iter()
        .collect();

    Ok(Dashboard {
        by_category_status,
        by_queue,
        by_priority,
        age_buckets,
        oldest_per_queue,
        pace,
        new_this_week,
        new_last_week,
        workload,
        open_total,
    })
}

/// An open request past its SLA target: reference, priority, queue, received.
pub type Breach = (String, String, String, NaiveDateTime);

/// Open requests past their SLA target, oldest first, and how many there are in all.
pub fn sla_breaches(
    conn: &mut DbConnection,
    targets: SlaTargets,
    now: NaiveDateTime,
    limit: i64,
) -> Result<(Vec<Breach>, i64), DbError> {
    let mut rows = Vec::new();
    let mut total = 0;
    for priority in ["urgent", "high", "normal"] {
        let cutoff = now - Duration::hours(targets.hours_for(priority));
        let q = case_requests::table
            .filter(case_requests::is_open.eq(true))
            .filter(case_requests::priority.eq(priority))
            .filter(case_requests::created_at.lt(cutoff));
        total += q.count().get_result::<i64>(conn)?;
        rows.extend(
            q.order(case_requests::created_at)
                .limit(limit)
                .select((
                    case_requests::reference,
                    case_requests::priority,
                    case_requests::queue_slug,
                    case_requests::created_at,
                ))
                .load::<Breach>(conn)?,
        );
    }
    rows.sort_by_key(|r| r.3);
    rows.truncate(limit as usize);
    Ok((rows, total))
}
