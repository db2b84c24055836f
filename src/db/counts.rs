//! Maintained aggregates of `case_requests`, so that the dashboard and queue totals cost the
//! same at a million requests as at a thousand.
//!
//! Two tables, written in the same transaction as every change to a request (intake, batch
//! intake, workflow actions, demo data):
//! - `case_counts`: requests per (queue, category, status, priority, assignee);
//! - `case_hour_counts`: per hour and queue, requests received (by partner), requests
//!   closed, and requests still open by the hour they were received (by priority).
//!
//! A writer records what a row looked like before and after its change (`Tally`), and adds
//! the difference at the end of its transaction. On PostgreSQL each transaction adds to one
//! of a few stripes of every row, so concurrent intakes do not wait on each other's row
//! lock until commit; readers add the stripes up. SQLite has one writer and one stripe.
//! The migration that made the tables filled them from the rows there were; `rebuild` does
//! it again, and `recount` counts from scratch to check the maintained numbers.

use chrono::{NaiveDateTime, Timelike};
use diesel::prelude::*;
use std::collections::{BTreeMap, HashMap};

use super::models::CaseRequestRow;
use super::schema::{case_counts, case_hour_counts, case_requests};
use super::{DbConnection, DbError};

/// Adds each `(key, n)` of `changes` to its row of `table` in `stripe` with one statement
/// per 500 rows (`INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n`, per backend: the
/// multi-backend connection has no upsert of its own), then deletes the rows a decrease left
/// at zero, one by one (intake only adds). The keys are distinct (a map's), as one statement
/// may update a row only once, and in key order, so two writers of a stripe cannot deadlock.
macro_rules! add_to_rows {
    (
        $conn:expr, $table:ident, $changes:expr, $stripe:expr,
        |$k:ident| [$($col:ident = $val:expr),+]
    ) => {{
        let changes: Vec<_> = $changes.into_iter().filter(|(_, n)| *n != 0).collect();
        for chunk in changes.chunks(500) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|($k, n)| {
                    ($($table::$col.eq($val),)+ $table::stripe.eq($stripe), $table::n.eq(*n))
                })
                .collect();
            let target = ($($table::$col,)+ $table::stripe);
            let add = $table::n.eq($table::n + diesel::upsert::excluded($table::n));
            match &mut *$conn {
                DbConnection::Sqlite(c) => diesel::insert_into($table::table)
                    .values(&rows)
                    .on_conflict(target)
                    .do_update()
                    .set(add)
                    .execute(c)?,
                DbConnection::Postgres(c) => diesel::insert_into($table::table)
                    .values(&rows)
                    .on_conflict(target)
                    .do_update()
                    .set(add)
                    .execute(c)?,
            };
        }
        for ($k, _) in changes.iter().filter(|(_, n)| *n < 0) {
            diesel::delete(
                $table::table
                    $(.filter($table::$col.eq($val)))+
                    .filter($table::stripe.eq($stripe))
                    .filter($table::n.eq(0)),
            )
            .execute($conn)?;
        }
    }};
}

/// Stripes per row on PostgreSQL: about the pool size, so that concurrent writers rarely
/// share one.
const STRIPES: i32 = 8;

/// What `case_hour_counts.kind` says a row counts.
pub const RECEIVED: &str = "received";
pub const CLOSED: &str = "closed";
pub const OPEN: &str = "open";

/// The dimensions of `case_counts`; an empty assignee means unassigned.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StateKey {
    pub queue: String,
    pub category: String,
    pub status: String,
    pub priority: String,
    pub assignee: String,
}

/// The dimensions of `case_hour_counts`: priority is set for `open`, partner for `received`;
/// the queue is the request's queue as it is now.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HourKey {
    pub kind: &'static str,
    pub hour: NaiveDateTime,
    pub queue: String,
    pub priority: String,
    pub partner: String,
}

/// The start of the hour `t` falls in.
pub fn hour_of(t: NaiveDateTime) -> NaiveDateTime {
    t.date()
        .and_hms_opt(t.hour(), 0, 0)
        .expect("an hour of a valid time is valid")
}

/// Changes to the aggregates, collected during a transaction and written at its end.
#[derive(Debug, Default)]
pub struct Tally {
    states: BTreeMap<StateKey, i64>,
    hours: BTreeMap<HourKey, i64>,
}

impl Tally {
    /// Counts `row` in (`sign` 1) or out (`sign` -1). For a change, count the row as it
    /// was out and as it is now in: what did not change cancels.
    pub fn add(&mut self, row: &CaseRequestRow, sign: i64) {
        let state = StateKey {
            queue: row.queue_slug.clone(),
            category: row.category.to_string(),
            status: row.status.to_string(),
            priority: row.priority.to_string(),
            assignee: row.assignee_id.clone().unwrap_or_default(),
        };
        *self.states.entry(state).or_default() += sign;
        let mut hour = |kind, at, priority: &str, partner: &str| {
            let key = HourKey {
                kind,
                hour: hour_of(at),
                queue: row.queue_slug.clone(),
                priority: priority.to_string(),
                partner: partner.to_string(),
            };
            *self.hours.entry(key).or_default() += sign;
        };
        hour(
            RECEIVED,
            row.created_at,
            "",
            row.partner_id.as_deref().unwrap_or(""),
        );
        if row.is_open {
            hour(OPEN, row.created_at, row.priority.as_str(), "");
        }
        if let Some(at) = row.closed_at {
            hour(CLOSED, at, "", "");
        }
    }

    /// Writes the changes in a stripe of its own choosing: any on PostgreSQL, the only one
    /// on SQLite. Call inside the transaction that made them.
    pub fn flush(self, conn: &mut DbConnection) -> Result<(), DbError> {
        let stripe = match conn {
            DbConnection::Postgres(_) => rand::random_range(0..STRIPES),
            DbConnection::Sqlite(_) => 0,
        };
        self.flush_in_stripe(conn, stripe)
    }

    /// Writes the changes in one stripe: a lone writer of many rows (demo data) keeps to
    /// one, so that readers have fewer rows to add up. Rows are written in key order, so
    /// two transactions that share a stripe cannot deadlock; a row that drops to zero goes.
    pub fn flush_in_stripe(self, conn: &mut DbConnection, stripe: i32) -> Result<(), DbError> {
        add_to_rows!(conn, case_counts, self.states, stripe, |k| [
            queue_slug = &k.queue,
            category = &k.category,
            status = &k.status,
            priority = &k.priority,
            assignee_id = &k.assignee
        ]);
        add_to_rows!(conn, case_hour_counts, self.hours, stripe, |k| [
            kind = k.kind,
            hour = k.hour,
            queue_slug = &k.queue,
            priority = &k.priority,
            partner_id = &k.partner
        ]);
        Ok(())
    }
}

/// Requests per state, stripes added up; zero counts left out.
pub fn states(conn: &mut DbConnection) -> Result<HashMap<StateKey, i64>, DbError> {
    let rows: Vec<(String, String, String, String, String, i64)> = case_counts::table
        .select((
            case_counts::queue_slug,
            case_counts::category,
            case_counts::status,
            case_counts::priority,
            case_counts::assignee_id,
            case_counts::n,
        ))
        .load(conn)?;
    let mut out: HashMap<StateKey, i64> = HashMap::new();
    for (queue, category, status, priority, assignee, n) in rows {
        let key = StateKey {
            queue,
            category,
            status,
            priority,
            assignee,
        };
        *out.entry(key).or_default() += n;
    }
    out.retain(|_, n| *n != 0);
    Ok(out)
}

/// Hourly counts of one kind from `since` on, stripes added up; zero counts left out.
pub fn hours(
    conn: &mut DbConnection,
    kind: &'static str,
    since: NaiveDateTime,
) -> Result<HashMap<HourKey, i64>, DbError> {
    hours_from(conn, kind, Some(since))
}

/// Every hourly count of one kind, stripes added up; zero counts left out.
pub fn all_hours(
    conn: &mut DbConnection,
    kind: &'static str,
) -> Result<HashMap<HourKey, i64>, DbError> {
    hours_from(conn, kind, None)
}

fn hours_from(
    conn: &mut DbConnection,
    kind: &'static str,
    since: Option<NaiveDateTime>,
) -> Result<HashMap<HourKey, i64>, DbError> {
    let mut q = case_hour_counts::table
        .filter(case_hour_counts::kind.eq(kind))
        .into_boxed();
    if let Some(since) = since {
        q = q.filter(case_hour_counts::hour.ge(since));
    }
    let rows: Vec<(NaiveDateTime, String, String, String, i64)> = q
        .select((
            case_hour_counts::hour,
            case_hour_counts::queue_slug,
            case_hour_counts::priority,
            case_hour_counts::partner_id,
            case_hour_counts::n,
        ))
        .load(conn)?;
    let mut out: HashMap<HourKey, i64> = HashMap::new();
    for (hour, queue, priority, partner, n) in rows {
        let key = HourKey {
            kind,
            hour,
            queue,
            priority,
            partner,
        };
        *out.entry(key).or_default() += n;
    }
    out.retain(|_, n| *n != 0);
    Ok(out)
}

/// Open requests by the hour they were received and their priority, summed over queues,
/// partners and stripes in the database, oldest hour first: read once, so that any number
/// of "open and received before" questions are answered from it.
pub fn open_by_hour(conn: &mut DbConnection) -> Result<Vec<(NaiveDateTime, String, i64)>, DbError> {
    use diesel::sql_types::BigInt;
    Ok(case_hour_counts::table
        .filter(case_hour_counts::kind.eq(OPEN))
        .group_by((case_hour_counts::hour, case_hour_counts::priority))
        .select((
            case_hour_counts::hour,
            case_hour_counts::priority,
            diesel::dsl::sql::<BigInt>("CAST(SUM(n) AS BIGINT)"),
        ))
        .order(case_hour_counts::hour)
        .load(conn)?)
}

/// Every aggregate, as maintained or as counted afresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub states: HashMap<StateKey, i64>,
    pub hours: HashMap<HourKey, i64>,
}

impl Snapshot {
    /// How many counts differ from `other`'s, a count missing on one side included.
    pub fn differences(&self, other: &Snapshot) -> usize {
        fn one_way<K: Eq + std::hash::Hash>(a: &HashMap<K, i64>, b: &HashMap<K, i64>) -> usize {
            a.iter().filter(|(k, n)| b.get(*k) != Some(*n)).count()
        }
        fn both<K: Eq + std::hash::Hash>(a: &HashMap<K, i64>, b: &HashMap<K, i64>) -> usize {
            one_way(a, b) + b.keys().filter(|k| !a.contains_key(*k)).count()
        }
        both(&self.states, &other.states) + both(&self.hours, &other.hours)
    }
}

/// The maintained aggregates.
pub fn maintained(conn: &mut DbConnection) -> Result<Snapshot, DbError> {
    let mut hours_all = HashMap::new();
    for kind in [RECEIVED, CLOSED, OPEN] {
        hours_all.extend(all_hours(conn, kind)?);
    }
    Ok(Snapshot {
        states: states(conn)?,
        hours: hours_all,
    })
}

/// The aggregates counted from every request, in batches: the check on `maintained`.
pub fn recount(conn: &mut DbConnection) -> Result<Snapshot, DbError> {
    let mut tally = Tally::default();
    let mut after = String::new();
    loop {
        let rows: Vec<CaseRequestRow> = case_requests::table
            .filter(case_requests::id.gt(&after))
            .order(case_requests::id)
            .limit(10_000)
            .select(CaseRequestRow::as_select())
            .load(conn)?;
        let Some(last) = rows.last() else { break };
        after = last.id.clone();
        for row in &rows {
            tally.add(row, 1);
        }
    }
    Ok(Snapshot {
        states: tally.states.into_iter().filter(|(_, n)| *n != 0).collect(),
        hours: tally.hours.into_iter().filter(|(_, n)| *n != 0).collect(),
    })
}

/// Replaces the aggregates with a fresh count of every request, in one transaction (for a
/// database changed behind the app's back, such as a restored backup of one table).
pub fn rebuild(conn: &mut super::Conn) -> Result<Snapshot, DbError> {
    super::write_transaction(conn, |conn| {
        let conn = &mut **conn;
        let fresh = recount(conn)?;
        diesel::delete(case_counts::table).execute(conn)?;
        diesel::delete(case_hour_counts::table).execute(conn)?;
        let tally = Tally {
            states: fresh.states.clone().into_iter().collect(),
            hours: fresh.hours.clone().into_iter().collect(),
        };
        tally.flush_in_stripe(conn, 0)?;
        Ok(fresh)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::vocab::{
        Category, Language, Location, Priority, ReferralProgram, SivStatus, Source, Status,
        SubmitterKind, UsTie,
    };

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    fn row() -> CaseRequestRow {
        CaseRequestRow {
            id: "r1".into(),
            reference: "TF-AAAA-AAAA".into(),
            receipt_token: "t".into(),
            source: Source::WebForm,
            submitter_kind: SubmitterKind::SelfApplicant,
            applicant_location: Location::Pakistan,
            household_size: None,
            siv_status: SivStatus::None,
            referral_program: ReferralProgram::None,
            claimed_programs: crate::domain::vocab::Programs::default(),
            us_tie: UsTie::None,
            urgent_danger: false,
            urgent_medical: false,
            category: Category::SivPending,
            category_reason: String::new(),
            priority: Priority::Normal,
            priority_reason: String::new(),
            queue_slug: "siv".into(),
            routing_rule_id: None,
            routing_rule_name: None,
            status: Status::New,
            consent_at: at("2026-03-04 10:59:59.5"),
            created_at: at("2026-03-04 10:59:59.5"),
            updated_at: at("2026-03-04 10:59:59.5"),
            assignee_id: None,
            entered_by: None,
            closed_at: None,
            is_open: true,
            language: Language::En,
            partner_id: Some("p1".into()),
        }
    }

    #[test]
    fn an_hour_starts_on_the_hour() {
        assert_eq!(
            hour_of(at("2026-03-04 10:59:59.999")),
            at("2026-03-04 10:00:00")
        );
        assert_eq!(
            hour_of(at("2026-03-04 11:00:00")),
            at("2026-03-04 11:00:00")
        );
    }

    #[test]
    fn a_new_request_counts_as_received_open_and_in_its_state() {
        let mut t = Tally::default();
        t.add(&row(), 1);
        assert_eq!(t.states.values().copied().collect::<Vec<_>>(), vec![1]);
        let kinds: Vec<(&str, &str, &str)> = t
            .hours
            .keys()
            .map(|k| (k.kind, k.priority.as_str(), k.partner.as_str()))
            .collect();
        assert_eq!(kinds, vec![(OPEN, "normal", ""), (RECEIVED, "", "p1")]);
        assert!(t.hours.keys().all(|k| k.hour == at("2026-03-04 10:00:00")));
    }

    #[test]
    fn closing_moves_a_request_between_states_and_leaves_received_alone() {
        let before = row();
        let mut after = row();
        after.status = Status::Resolved;
        after.is_open = false;
        after.closed_at = Some(at("2026-03-06 08:30:00"));
        let mut t = Tally::default();
        t.add(&before, -1);
        t.add(&after, 1);
        let changed: Vec<(&str, i64)> = t
            .states
            .iter()
            .filter(|(_, n)| **n != 0)
            .map(|(k, n)| (k.status.as_str(), *n))
            .collect();
        assert_eq!(changed, vec![("new", -1), ("resolved", 1)]);
        let hours: Vec<(&str, NaiveDateTime, i64)> = t
            .hours
            .iter()
            .filter(|(_, n)| **n != 0)
            .map(|(k, n)| (k.kind, k.hour, *n))
            .collect();
        assert_eq!(
            hours,
            vec![
                (CLOSED, at("2026-03-06 08:00:00"), 1),
                (OPEN, at("2026-03-04 10:00:00"), -1)
            ]
        );
    }

    #[test]
    fn a_change_to_nothing_counted_cancels_out() {
        let mut noted = row();
        noted.updated_at = at("2026-03-05 09:00:00");
        let mut t = Tally::default();
        t.add(&row(), -1);
        t.add(&noted, 1);
        assert!(t.states.values().chain(t.hours.values()).all(|n| *n == 0));
    }
}
