//! Aggregates for the dashboard: counts, ages and pace. Never personal data.
//!
//! Counts come from the maintained aggregates (`counts`), whole hours at a time; where a
//! window starts or ends inside an hour, that hour's part is counted through an index, so
//! every number is exact and no query reads more than an hour of requests.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use std::collections::HashMap;

use super::counts::{self, hour_of, HourKey};
use super::schema::{case_requests, queues};
use super::{DbConnection, DbError};
use crate::domain::{Priority, Status};

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
    /// The oldest open requests past their SLA target, oldest first.
    pub breaches: Vec<Breach>,
    /// How many open requests are past their SLA target.
    pub breach_total: i64,
    /// Open requests waiting on the requester ("Awaiting information"), from the counts:
    /// the breach list leaves them out.
    pub waiting_on_requester: i64,
    /// The references in the breach list whose requester answered and nobody has looked.
    pub breaches_with_new_reply: std::collections::HashSet<String>,
    /// Open cases with an answer nobody on staff has seen yet.
    pub new_replies: i64,
}

/// An open request past its SLA target: reference, priority, queue, received.
pub type Breach = (String, String, String, NaiveDateTime);

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

/// Everything the dashboard shows; `breach_limit` caps the list of breaches.
pub fn load(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    targets: SlaTargets,
    breach_limit: i64,
) -> Result<Dashboard, DbError> {
    let mut d = Dashboard::default();
    for (k, n) in counts::states(conn)? {
        let open = k
            .status
            .parse::<Status>()
            .map(Status::is_open)
            .map_err(|_| DbError::Corrupt("case_counts.status holds an unknown value".into()))?;
        if !open {
            continue;
        }
        d.open_total += n;
        if k.status == Status::AwaitingInformation.as_str() {
            d.waiting_on_requester += n;
        }
        *d.by_queue.entry(k.queue).or_default() += n;
        *d.by_priority.entry(k.priority.clone()).or_default() += n;
        *d.workload
            .entry(Some(k.assignee).filter(|a| !a.is_empty()))
            .or_default() += n;
        *d.by_category_status
            .entry((k.category, k.status))
            .or_default() += n;
    }

    // Open requests received at or before each bucket boundary, counted once each.
    let open_hours = counts::open_by_hour(conn)?;
    let mut open_at: HashMap<i64, i64> = HashMap::new();
    for days in AGE_BUCKETS
        .iter()
        .flat_map(|(_, from, to)| [Some(*from), *to])
        .flatten()
    {
        if let std::collections::hash_map::Entry::Vacant(e) = open_at.entry(days) {
            e.insert(open_until(
                conn,
                &open_hours,
                None,
                now - Duration::days(days),
                now,
            )?);
        }
    }
    d.age_buckets = AGE_BUCKETS
        .iter()
        .map(|(label, from, to)| (*label, open_at[from] - to.map_or(0, |to| open_at[&to])))
        .collect();
    d.oldest_per_queue = oldest_open_per_queue(conn)?;

    for p in Priority::ALL {
        let priority = p.as_str();
        let cutoff = now - Duration::hours(targets.hours_for(priority));
        d.breach_total += open_until(conn, &open_hours, Some(priority), cutoff, now)?;
        let waiting = Status::AwaitingInformation.as_str();
        // Waiting on the requester: the task force cannot act, so it is no breach to chase.
        d.breaches.extend(
            case_requests::table
                .filter(case_requests::is_open.eq(true))
                .filter(case_requests::status.ne(waiting))
                .filter(case_requests::priority.eq(priority))
                .filter(case_requests::created_at.le(cutoff))
                .order((case_requests::created_at, case_requests::id))
                .limit(breach_limit)
                .select((
                    case_requests::reference,
                    case_requests::priority,
                    case_requests::queue_slug,
                    case_requests::created_at,
                ))
                .load::<Breach>(conn)?,
        );
    }
    d.breaches.sort_by_key(|r| r.3);
    d.breaches.truncate(breach_limit.max(0) as usize);
    let listed: Vec<String> = d.breaches.iter().map(|b| b.0.clone()).collect();
    d.breaches_with_new_reply = super::messages::references_with_unseen_reply(conn, &listed)?;
    d.new_replies = super::messages::open_with_unseen_reply(conn)?;

    let start = (now - Duration::days(29))
        .date()
        .and_hms_opt(0, 0, 0)
        .unwrap_or(now);
    let received = counts::hours(conn, counts::RECEIVED, start)?;
    let closed = counts::hours(conn, counts::CLOSED, start)?;
    let per_day = |hours: &HashMap<HourKey, i64>| {
        let mut days: HashMap<NaiveDate, i64> = HashMap::new();
        for (k, n) in hours {
            *days.entry(k.hour.date()).or_default() += n;
        }
        days
    };
    let (new_per_day, closed_per_day) = (per_day(&received), per_day(&closed));
    d.pace = (0..30)
        .map(|i| {
            let day = start.date() + Duration::days(i);
            (
                day,
                new_per_day.get(&day).copied().unwrap_or(0),
                closed_per_day.get(&day).copied().unwrap_or(0),
            )
        })
        .collect();
    // Received at or before t, counted from `start` (further back than two weeks).
    let mut received_until = |t: NaiveDateTime| -> Result<i64, DbError> {
        if t >= now {
            // Everything so far: the maintained counts alone, however many came in this
            // hour (in a surge, thousands, which counting row by row would read).
            return Ok(received.values().sum());
        }
        let floor = hour_of(t);
        let whole: i64 = received
            .iter()
            .filter(|(k, _)| k.hour < floor)
            .map(|(_, n)| n)
            .sum();
        let partial: i64 = case_requests::table
            .filter(case_requests::created_at.ge(floor))
            .filter(case_requests::created_at.le(t))
            .count()
            .get_result(conn)?;
        Ok(whole + partial)
    };
    let (now_n, week_n, fortnight_n) = (
        received_until(now)?,
        received_until(now - Duration::days(7))?,
        received_until(now - Duration::days(14))?,
    );
    d.new_this_week = now_n - week_n;
    d.new_last_week = week_n - fortnight_n;
    Ok(d)
}

/// Open requests (of one priority, or all) received at or before `t`: whole hours from the
/// maintained counts, the hour `t` falls in through the index on open requests; at `now`
/// or later, all of them, from the maintained counts alone.
fn open_until(
    conn: &mut DbConnection,
    open_hours: &[(NaiveDateTime, String, i64)],
    priority: Option<&str>,
    t: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<i64, DbError> {
    let received_before = |hour: NaiveDateTime| -> i64 {
        open_hours
            .iter()
            .take_while(|(h, _, _)| *h < hour)
            .filter(|(_, p, _)| priority.is_none_or(|want| p == want))
            .map(|(_, _, n)| n)
            .sum()
    };
    let floor = hour_of(t);
    if t >= now {
        return Ok(received_before(floor + Duration::hours(1)));
    }
    let whole = received_before(floor);
    let mut partial = case_requests::table
        .filter(case_requests::is_open.eq(true))
        .filter(case_requests::created_at.ge(floor))
        .filter(case_requests::created_at.le(t))
        .into_boxed();
    if let Some(p) = priority {
        partial = partial.filter(case_requests::priority.eq(p));
    }
    let partial: i64 = partial.count().get_result(conn)?;
    Ok(whole + partial)
}

/// When the oldest open request of each queue came in (queues with none left out): one
/// index lookup per queue.
pub fn oldest_open_per_queue(
    conn: &mut DbConnection,
) -> Result<HashMap<String, NaiveDateTime>, DbError> {
    let slugs: Vec<String> = queues::table.select(queues::slug).load(conn)?;
    let mut out = HashMap::new();
    for slug in slugs {
        let oldest: Option<NaiveDateTime> = case_requests::table
            .filter(case_requests::is_open.eq(true))
            .filter(case_requests::queue_slug.eq(&slug))
            .order(case_requests::created_at)
            .select(case_requests::created_at)
            .first(conn)
            .optional()?;
        if let Some(t) = oldest {
            out.insert(slug, t);
        }
    }
    Ok(out)
}
