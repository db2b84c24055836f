//! What the forecast reads: daily inflow and closures per queue and the open backlog by the
//! hour received, from the maintained counts (`counts`); closures per caseworker from the
//! audit rows of a bounded recent window; and the requests a projected breach names.
//! Never a scan of the requests table.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use std::collections::BTreeMap;

use super::counts;
use super::schema::case_requests;
use super::{DbConnection, DbError};
use crate::domain::Priority;

/// Requests of one queue received and closed on one day (UTC).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Day {
    pub received: i64,
    pub closed: i64,
}

/// Per queue, per day from `since` on: received and closed. Days with neither are left out.
pub fn daily(
    conn: &mut DbConnection,
    since: NaiveDateTime,
) -> Result<BTreeMap<String, BTreeMap<NaiveDate, Day>>, DbError> {
    let mut out: BTreeMap<String, BTreeMap<NaiveDate, Day>> = BTreeMap::new();
    for kind in [counts::RECEIVED, counts::CLOSED] {
        for (k, n) in counts::hours(conn, kind, since)? {
            let day = out
                .entry(k.queue)
                .or_default()
                .entry(k.hour.date())
                .or_default();
            if kind == counts::RECEIVED {
                day.received += n;
            } else {
                day.closed += n;
            }
        }
    }
    Ok(out)
}

/// Open requests of one queue and priority received on one day (UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenDay {
    pub queue: String,
    /// The start of the day.
    pub day: NaiveDateTime,
    pub priority: Priority,
    pub n: i64,
}

#[derive(QueryableByName)]
struct OpenRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    queue: String,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    day: NaiveDateTime,
    #[diesel(sql_type = diesel::sql_types::Text)]
    priority: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Every open request counted by queue, day received and priority, oldest day first: the
/// hourly counts added up in the database, so that a few thousand rows come back at most.
pub fn open_days(conn: &mut DbConnection) -> Result<Vec<OpenDay>, DbError> {
    const SELECT: &str = "SELECT queue_slug AS queue, {day} AS day, priority, \
         CAST(SUM(n) AS BIGINT) AS n FROM case_hour_counts WHERE kind = 'open' \
         GROUP BY {day}, queue_slug, priority HAVING SUM(n) <> 0 \
         ORDER BY {day}, queue_slug, priority";
    let rows: Vec<OpenRow> = match conn {
        DbConnection::Sqlite(c) => {
            diesel::sql_query(SELECT.replace("{day}", "date(hour) || ' 00:00:00'")).load(c)?
        }
        DbConnection::Postgres(c) => {
            diesel::sql_query(SELECT.replace("{day}", "date_trunc('day', hour)")).load(c)?
        }
    };
    rows.into_iter()
        .map(|r| {
            let priority = r.priority.parse::<Priority>().map_err(|_| {
                DbError::Corrupt("case_hour_counts.priority holds an unknown value".into())
            })?;
            Ok(OpenDay {
                queue: r.queue,
                day: r.day,
                priority,
                n: r.n,
            })
        })
        .collect()
}

/// Requests one actor closed in one queue in the window, and their total age at closing.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct Closures {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub actor: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub queue: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
    /// Seconds from received to closed, added up.
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub age_seconds: f64,
}

/// Who closed how many requests of which queue since `since`: the status changes of the
/// window (through the partial index `audit_events_status_changed`) that are the request's
/// current closing (`closed_at` is the moment of the row), each joined to its request by
/// key. A request reopened and closed again counts once, for its last closing.
pub fn closures_since(
    conn: &mut DbConnection,
    since: NaiveDateTime,
) -> Result<Vec<Closures>, DbError> {
    use diesel::sql_types::Timestamp;
    const FROM: &str = "FROM audit_events a JOIN case_requests r ON r.id = a.request_id \
         WHERE a.created_at >= {since} AND a.action = 'status_changed' \
         AND r.closed_at = a.created_at GROUP BY a.actor, r.queue_slug";
    Ok(match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(format!(
            "SELECT a.actor AS actor, r.queue_slug AS queue, COUNT(*) AS n, \
             CAST(SUM((julianday(r.closed_at) - julianday(r.created_at)) * 86400.0) AS REAL) \
             AS age_seconds {}",
            FROM.replace("{since}", "?")
        ))
        .bind::<Timestamp, _>(since)
        .load(c)?,
        DbConnection::Postgres(c) => diesel::sql_query(format!(
            "SELECT a.actor AS actor, r.queue_slug AS queue, COUNT(*) AS n, \
             CAST(SUM(EXTRACT(EPOCH FROM (r.closed_at - r.created_at))) AS DOUBLE PRECISION) \
             AS age_seconds {}",
            FROM.replace("{since}", "$1")
        ))
        .bind::<Timestamp, _>(since)
        .load(c)?,
    })
}

/// The oldest `limit` open requests of a queue and priority received in `[from, until]`:
/// reference and when received, oldest first, through `(is_open, queue_slug, created_at)`.
pub fn open_between(
    conn: &mut DbConnection,
    queue: &str,
    priority: Priority,
    from: NaiveDateTime,
    until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<(String, NaiveDateTime)>, DbError> {
    Ok(case_requests::table
        .filter(case_requests::is_open.eq(true))
        .filter(case_requests::queue_slug.eq(queue))
        .filter(case_requests::created_at.ge(from))
        .filter(case_requests::created_at.le(until))
        .filter(case_requests::priority.eq(priority.as_str()))
        .order((case_requests::created_at, case_requests::id))
        .limit(limit)
        .select((case_requests::reference, case_requests::created_at))
        .load(conn)?)
}
