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
/// The hourly counts are added up by day in the database.
pub fn daily(
    conn: &mut DbConnection,
    since: NaiveDateTime,
) -> Result<BTreeMap<String, BTreeMap<NaiveDate, Day>>, DbError> {
    use diesel::sql_types::Timestamp;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        kind: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        queue: String,
        #[diesel(sql_type = Timestamp)]
        day: NaiveDateTime,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    const SELECT: &str = "SELECT kind, queue_slug AS queue, {day} AS day, \
         CAST(SUM(n) AS BIGINT) AS n FROM case_hour_counts \
         WHERE kind IN ('received', 'closed') AND hour >= {since} \
         GROUP BY kind, {day}, queue_slug";
    let rows: Vec<Row> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(
            SELECT
                .replace("{day}", "date(hour) || ' 00:00:00'")
                .replace("{since}", "?"),
        )
        .bind::<Timestamp, _>(since)
        .load(c)?,
        DbConnection::Postgres(c) => diesel::sql_query(
            SELECT
                .replace("{day}", "date_trunc('day', hour)")
                .replace("{since}", "$1"),
        )
        .bind::<Timestamp, _>(since)
        .load(c)?,
    };
    let mut out: BTreeMap<String, BTreeMap<NaiveDate, Day>> = BTreeMap::new();
    for r in rows {
        let day = out
            .entry(r.queue)
            .or_default()
            .entry(r.day.date())
            .or_default();
        if r.kind == counts::RECEIVED {
            day.received += r.n;
        } else {
            day.closed += r.n;
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

/// The latest closings: who closed how many requests of which queue, and since when.
#[derive(Debug, Clone, PartialEq)]
pub struct Closings {
    pub groups: Vec<Closures>,
    /// Where the closings read start: `since`, or, when there were more than the limit
    /// since then, the moment of the oldest one read.
    pub from: NaiveDateTime,
}

/// The latest `limit` status changes since `since` (through the partial index
/// `audit_events_status_changed`, newest first) that are their request's current closing
/// (`closed_at` is the moment of the row), each joined to its request by key, grouped by
/// actor and queue. A request reopened and closed again counts once, for its last closing.
/// Bounded by `limit`, so that a surge of closings costs no more to read.
pub fn latest_closings(
    conn: &mut DbConnection,
    since: NaiveDateTime,
    limit: i64,
) -> Result<Closings, DbError> {
    use diesel::sql_types::{BigInt, Timestamp};
    const LATEST: &str = "SELECT created_at, request_id, actor FROM audit_events \
         WHERE action = 'status_changed' AND created_at >= {since} \
         ORDER BY created_at DESC LIMIT {limit}";
    const GROUPED: &str = "SELECT a.actor AS actor, r.queue_slug AS queue, COUNT(*) AS n, \
         {age} AS age_seconds FROM ({latest}) a JOIN case_requests r ON r.id = a.request_id \
         WHERE r.closed_at = a.created_at GROUP BY a.actor, r.queue_slug";
    #[derive(QueryableByName)]
    struct Oldest {
        #[diesel(sql_type = Timestamp)]
        created_at: NaiveDateTime,
    }
    let latest =
        |since: &str, limit: &str| LATEST.replace("{since}", since).replace("{limit}", limit);
    let (groups, oldest): (Vec<Closures>, Vec<Oldest>) = match conn {
        DbConnection::Sqlite(c) => {
            let age = "CAST(SUM((julianday(r.closed_at) - julianday(r.created_at)) * 86400.0) \
                 AS REAL)";
            let sql = GROUPED
                .replace("{age}", age)
                .replace("{latest}", &latest("?", "?"));
            let oldest = format!("{} OFFSET ?", latest("?", "1"));
            (
                diesel::sql_query(sql)
                    .bind::<Timestamp, _>(since)
                    .bind::<BigInt, _>(limit)
                    .load(c)?,
                diesel::sql_query(oldest)
                    .bind::<Timestamp, _>(since)
                    .bind::<BigInt, _>(limit - 1)
                    .load(c)?,
            )
        }
        DbConnection::Postgres(c) => {
            let age = "CAST(SUM(EXTRACT(EPOCH FROM (r.closed_at - r.created_at))) \
                 AS DOUBLE PRECISION)";
            let sql = GROUPED
                .replace("{age}", age)
                .replace("{latest}", &latest("$1", "$2"));
            let oldest = format!("{} OFFSET $2", latest("$1", "1"));
            (
                diesel::sql_query(sql)
                    .bind::<Timestamp, _>(since)
                    .bind::<BigInt, _>(limit)
                    .load(c)?,
                diesel::sql_query(oldest)
                    .bind::<Timestamp, _>(since)
                    .bind::<BigInt, _>(limit - 1)
                    .load(c)?,
            )
        }
    };
    Ok(Closings {
        groups,
        from: oldest.first().map_or(since, |o| o.created_at.max(since)),
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
