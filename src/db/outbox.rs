//! The outbox: mail the app owes, one row per recipient. Written in the transaction of the
//! change that causes it, claimed and delivered by the worker, listed and retried by staff.

use chrono::{Duration, NaiveDateTime};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use std::fmt;
use std::str::FromStr;

use super::schema::outbox;
use super::{DbConnection, DbError};
pub use crate::domain::vocab::OutboxKind;

/// Where a mail stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    /// Waiting for its first or next attempt.
    Pending,
    Sent,
    /// Gave up after the maximum number of attempts; staff can retry it.
    Dead,
}

impl OutboxStatus {
    pub const ALL: &'static [OutboxStatus] = &[
        OutboxStatus::Pending,
        OutboxStatus::Sent,
        OutboxStatus::Dead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Dead => "dead",
        }
    }
}

impl FromStr for OutboxStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        OutboxStatus::ALL
            .iter()
            .copied()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("expected one of pending, sent, dead, not {s:?}"))
    }
}

impl fmt::Display for OutboxStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
// None is NULL, never DEFAULT: then SQLite takes many rows in one INSERT.
#[diesel(treat_none_as_default_value = false)]
pub struct OutboxRow {
    pub id: String,
    pub kind: OutboxKind,
    pub request_id: Option<String>,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub urgent: bool,
    pub dedup_key: Option<String>,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    /// The `Reply-To` of a mail a requester may answer; `None`: no such header.
    pub reply_to: Option<String>,
}

impl OutboxRow {
    /// A row due now with no attempts yet; the caller fills in what is sent and to whom.
    pub fn pending(id: String, kind: OutboxKind, now: NaiveDateTime) -> Self {
        OutboxRow {
            id,
            kind,
            request_id: None,
            recipient: String::new(),
            subject: String::new(),
            body_text: String::new(),
            body_html: String::new(),
            urgent: false,
            dedup_key: None,
            status: OutboxStatus::Pending,
            attempts: 0,
            last_error: None,
            next_attempt_at: now,
            locked_until: None,
            created_at: now,
            sent_at: None,
            reply_to: None,
        }
    }
}

/// Mail counts per status, for the CLI now and the admin dashboard later.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sent: i64,
    pub dead: i64,
}

pub fn insert(conn: &mut DbConnection, row: &OutboxRow) -> Result<(), DbError> {
    diesel::insert_into(outbox::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Inserts a row whose `dedup_key` must be unique; `false` when another instance (or an
/// earlier run) already wrote it. A savepoint keeps a surrounding PostgreSQL transaction
/// usable after the conflict.
pub fn insert_once(conn: &mut DbConnection, row: &OutboxRow) -> Result<bool, DbError> {
    let inserted =
        conn.transaction(|conn| diesel::insert_into(outbox::table).values(row).execute(conn));
    super::inserted_once(inserted)
}

pub fn exists_with_key(conn: &mut DbConnection, key: &str) -> Result<bool, DbError> {
    let n: i64 = outbox::table
        .filter(outbox::dedup_key.eq(key))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The ids of rows that are due and not held by a live claim, urgent first, read from
/// `$due`, an alias of `outbox` (so that an `UPDATE` of `outbox` can select them).
macro_rules! due_ids {
    ($due:ident, $now:expr, $limit:expr) => {
        $due.filter(
            $due.field(outbox::status)
                .eq(OutboxStatus::Pending.as_str()),
        )
        .filter($due.field(outbox::next_attempt_at).le($now))
        .filter(
            $due.field(outbox::locked_until)
                .is_null()
                .or($due.field(outbox::locked_until).lt($now)),
        )
        .order((
            $due.field(outbox::urgent).desc(),
            $due.field(outbox::next_attempt_at),
            $due.field(outbox::id),
        ))
        .limit($limit)
        .select($due.field(outbox::id))
    };
}

/// Claims up to `limit` due rows for one worker until `now + lease`, counting the attempt:
/// escalation pages first (an indexed look at the few there are), then the rest, urgent
/// first. On PostgreSQL the rows are locked with `FOR UPDATE SKIP LOCKED`, so workers of
/// several instances never claim the same row; SQLite has one writer, and takes its write
/// lock before the statement reads. A worker that dies leaves its claim to expire.
pub fn claim_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease: Duration,
    limit: i64,
) -> Result<Vec<OutboxRow>, DbError> {
    let due = diesel::alias!(outbox as due);
    // Written out, not bound, so that both backends see the partial index `outbox_pages_due`
    // (migration 000030) applies.
    let pages_only =
        diesel::dsl::sql::<diesel::sql_types::Bool>("due.status = 'pending' AND due.kind = 'page'");
    let mut rows = claim!(
        conn,
        now,
        lease,
        due_ids!(due, now, limit).filter(pages_only.clone())
    );
    let left = limit - rows.len() as i64;
    if left > 0 {
        rows.extend(claim!(conn, now, lease, due_ids!(due, now, left)));
    }
    Ok(rows)
}

/// Claims the rows of `$ids` (a query of ids on the alias `due`), in their order.
macro_rules! claim {
    ($conn:expr, $now:expr, $lease:expr, $ids:expr) => {{
        let claimed = (
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::locked_until.eq(Some($now + $lease)),
        );
        // One statement on both backends: `UPDATE … WHERE id IN (the due ids) RETURNING …`.
        let mut rows = match $conn {
            // Atomic on its own and prepared once per connection: in a surge the worker
            // claims a few rows at a time, and a transaction of three statements cost
            // PostgreSQL five round trips.
            DbConnection::Postgres(c) => {
                let due = $ids.for_update().skip_locked();
                SameText(
                    diesel::update(outbox::table)
                        .filter(outbox::id.eq_any(due))
                        .set(claimed)
                        .returning(OutboxRow::as_returning()),
                )
                .get_results(c)
            }
            // Not in the queue of this process's writers (`db::write_transaction`) but in
            // SQLite's busy handler, on purpose: in a surge the group commit holds the lock
            // nearly always, the handler's growing sleeps let the worker claim now and then,
            // and intake goes first; the mail drains after the surge. Claiming through the
            // queue, 50 at a time, sent 5 times more mail during a surge but cost intake
            // 20-25 % of its rate at 8 connections (a mail costs about 0.6 ms of CPU here).
            DbConnection::Sqlite(c) => c.immediate_transaction(|c| {
                diesel::update(outbox::table)
                    .filter(outbox::id.eq_any($ids))
                    .set(claimed)
                    .returning(OutboxRow::as_returning())
                    .get_results(c)
            }),
        }?;
        // Sent in the order they were chosen: urgent first, then the longest due.
        rows.sort_by(|a: &OutboxRow, b: &OutboxRow| {
            b.urgent
                .cmp(&a.urgent)
                .then(a.next_attempt_at.cmp(&b.next_attempt_at))
                .then(a.id.cmp(&b.id))
        });
        rows
    }};
}
use claim;

/// A statement whose text is the same every time, so PostgreSQL may keep it prepared:
/// diesel prepares no `UPDATE` for reuse, as a changeset's text may vary with its values,
/// but `claim_due`'s never does. Load through it (`get_results`): `execute` asks the
/// `UPDATE` itself, which says no.
struct SameText<Q>(Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for SameText<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for SameText<Q> {
    type QueryId = ();
    // Cached by its text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for SameText<Q> {
    type SqlType = Q::SqlType;
}

impl<Q> RunQueryDsl<diesel::pg::PgConnection> for SameText<Q> {}

/// Records rows as sent at `now`.
pub fn mark_sent(
    conn: &mut DbConnection,
    ids: &[String],
    now: NaiveDateTime,
) -> Result<(), DbError> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
        .set((
            outbox::status.eq(OutboxStatus::Sent.as_str()),
            outbox::sent_at.eq(Some(now)),
            outbox::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Gives back claimed rows that were not attempted (the worker is stopping): they are due
/// again at once for the next worker, and the attempt they were charged is returned.
pub fn release(conn: &mut DbConnection, ids: &[String]) -> Result<(), DbError> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(
        outbox::table
            .filter(outbox::id.eq_any(ids))
            .filter(outbox::status.eq(OutboxStatus::Pending.as_str())),
    )
    .set((
        outbox::attempts.eq(outbox::attempts - 1),
        outbox::locked_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(())
}

/// Records a failed attempt: retried at `retry_at`, or dead when that is `None`.
/// `error` must hold no personal data.
pub fn mark_failed(
    conn: &mut DbConnection,
    id: &str,
    error: &str,
    retry_at: Option<NaiveDateTime>,
) -> Result<(), DbError> {
    let target = outbox::table.find(id);
    let released = (
        outbox::last_error.eq(Some(error)),
        outbox::locked_until.eq(None::<NaiveDateTime>),
    );
    match retry_at {
        Some(at) => diesel::update(target)
            .set((
                released,
                outbox::status.eq(OutboxStatus::Pending.as_str()),
                outbox::next_attempt_at.eq(at),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((released, outbox::status.eq(OutboxStatus::Dead.as_str())))
            .execute(conn)?,
    };
    Ok(())
}

/// The newest rows first, optionally of one status.
pub fn list(
    conn: &mut DbConnection,
    status: Option<OutboxStatus>,
    limit: i64,
) -> Result<Vec<OutboxRow>, DbError> {
    let mut query = outbox::table
        .select(OutboxRow::as_select())
        .order((outbox::created_at.desc(), outbox::id))
        .limit(limit)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(outbox::status.eq(status.as_str()));
    }
    Ok(query.load(conn)?)
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<OutboxRow>, DbError> {
    Ok(outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .first(conn)
        .optional()?)
}

/// Makes a dead (or still pending) mail due now with a fresh set of attempts; `false` when
/// there is no such mail or it was already sent.
pub fn retry(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<bool, DbError> {
    let changed = diesel::update(
        outbox::table
            .find(id)
            .filter(outbox::status.ne(OutboxStatus::Sent.as_str())),
    )
    .set(requeued(now))
    .execute(conn)?;
    Ok(changed > 0)
}

/// Retries every dead mail; returns how many.
pub fn retry_all_dead(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, DbError> {
    Ok(
        diesel::update(outbox::table.filter(outbox::status.eq(OutboxStatus::Dead.as_str())))
            .set(requeued(now))
            .execute(conn)?,
    )
}

#[allow(clippy::type_complexity)]
fn requeued(
    now: NaiveDateTime,
) -> (
    diesel::dsl::Eq<outbox::status, &'static str>,
    diesel::dsl::Eq<outbox::attempts, i32>,
    diesel::dsl::Eq<outbox::next_attempt_at, NaiveDateTime>,
    diesel::dsl::Eq<outbox::locked_until, Option<NaiveDateTime>>,
) {
    (
        outbox::status.eq(OutboxStatus::Pending.as_str()),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(now),
        outbox::locked_until.eq(None),
    )
}

pub fn counts(conn: &mut DbConnection) -> Result<OutboxCounts, DbError> {
    let rows: Vec<(String, i64)> = outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?;
    let mut counts = OutboxCounts::default();
    for (status, n) in rows {
        match status.parse::<OutboxStatus>() {
            Ok(OutboxStatus::Pending) => counts.pending = n,
            Ok(OutboxStatus::Sent) => counts.sent = n,
            Ok(OutboxStatus::Dead) => counts.dead = n,
            Err(_) => {
                return Err(DbError::Corrupt(
                    "outbox.status holds an unknown value".into(),
                ))
            }
        }
    }
    Ok(counts)
}
