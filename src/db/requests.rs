//! Queries about case requests, their queues, routing rules and guidance.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

use super::counts::Tally;
use super::duplicates::{CandidateRow, Filed, FiledSince, StoredRequest};
use super::outbox::OutboxRow;

use super::models::{
    AuditEventRow, CaseRequestRow, GuidanceRow, PersonalDataRow, QueueRow, RoutingRuleRow,
    StatusCodeRow,
};
use super::schema::{
    audit_events, case_requests, dedup_keys, duplicate_candidates, guidance, outbox, queues,
    request_personal_data, routing_rules, status_codes,
};
use super::{DbConnection, DbError};
use crate::domain::dedup::KeyMatch;
use crate::domain::{Category, QueueSlug, RoutingRule};

/// The routing rules in order, and the queue that takes what no rule claims.
pub fn routing_table(conn: &mut DbConnection) -> Result<(Vec<RoutingRule>, QueueSlug), DbError> {
    let rules = routing_rules::table
        .order((routing_rules::position, routing_rules::id))
        .select(RoutingRuleRow::as_select())
        .load(conn)?
        .into_iter()
        .map(RoutingRuleRow::into_rule)
        .collect::<Result<Vec<_>, _>>()?;
    let default_slug: String = queues::table
        .filter(queues::is_default.eq(true))
        .select(queues::slug)
        .order(queues::slug)
        .first(conn)?;
    let default_queue =
        QueueSlug::parse(&default_slug).map_err(|_| DbError::Corrupt("queues.slug".into()))?;
    Ok((rules, default_queue))
}

/// The rows new requests add, gathered so that any number of requests is written with one
/// statement per table: intake's shared commit, a batch, demo data and the raw floor.
#[derive(Default)]
pub struct RequestRows {
    pub requests: Vec<CaseRequestRow>,
    pub personal: Vec<PersonalDataRow>,
    pub audit: Vec<AuditEventRow>,
    pub status_codes: Vec<StatusCodeRow>,
    /// Duplicate keys: per key, the requests filed under it and when they were received.
    keys: Filed,
    pub candidates: Vec<CandidateRow>,
    pub outbox: Vec<OutboxRow>,
    /// Escalations of urgent requests, started in the commit that stores them.
    pub escalations: Vec<super::escalation::EscalationRow>,
    /// What the gathered changes add to the dashboard counts.
    pub tally: Tally,
    /// Not written: what was filed lately under the keys of the commit's second searches,
    /// read once for all of them.
    pub filed_since: FiledSince,
}

/// Rows per insert statement: far below either backend's limit on bound values.
const ROWS_PER_STATEMENT: usize = 500;

impl RequestRows {
    /// Files `request_id` under its duplicate keys.
    pub fn add_keys(&mut self, request_id: &str, keys: &[String], at: NaiveDateTime) {
        for key in keys {
            self.keys
                .entry(key.clone())
                .or_default()
                .push((request_id.to_string(), at));
        }
    }

    /// The gathered requests filed under any of `keys`, as `key_matches` finds stored ones:
    /// matching sees them before they are written.
    pub fn key_matches(&self, keys: &[String]) -> Vec<KeyMatch> {
        let mut found = Vec::new();
        for (index, key) in keys.iter().enumerate() {
            for (id, at) in self.keys.get(key).into_iter().flatten() {
                found.push(KeyMatch {
                    key: index,
                    request_id: id.clone(),
                    created_at: *at,
                });
            }
        }
        found
    }

    /// A gathered request as matching reads a stored one.
    pub fn stored(&self, id: &str) -> Option<Arc<StoredRequest>> {
        let row = self.requests.iter().find(|r| r.id == id)?;
        let personal = self.personal.iter().find(|p| p.request_id == id)?;
        Some(Arc::new(StoredRequest::of(row, personal)))
    }

    /// Every gathered request as matching reads a stored one.
    pub fn stored_all(&self) -> Vec<Arc<StoredRequest>> {
        let personal: HashMap<&str, &PersonalDataRow> = self
            .personal
            .iter()
            .map(|p| (p.request_id.as_str(), p))
            .collect();
        self.requests
            .iter()
            .filter_map(|row| {
                let personal = personal.get(row.id.as_str())?;
                Some(Arc::new(StoredRequest::of(row, personal)))
            })
            .collect()
    }

    /// How many duplicate keys are gathered.
    pub fn key_count(&self) -> usize {
        self.keys.values().map(Vec::len).sum()
    }

    /// Puts the rows in key order, so that each insert lands next to the previous one in
    /// the indexes (a large batch of random ids; duplicate keys are always written so).
    pub fn sort_by_key(&mut self) {
        self.requests.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        self.personal
            .sort_unstable_by(|a, b| a.request_id.cmp(&b.request_id));
        self.audit.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    }

    /// Writes what is gathered and empties it; hands back the duplicate keys it wrote (per
    /// key, the requests filed under it and when). Call inside a transaction.
    pub fn write(&mut self, conn: &mut DbConnection) -> Result<Filed, DbError> {
        self.write_counts_in(conn, None)
    }

    /// `write`, adding the counts to one `stripe` of each count row (all of a large load in
    /// the first, so that readers have fewer rows to add up) or, when `None`, to a stripe
    /// of the transaction's own.
    pub fn write_counts_in(
        &mut self,
        conn: &mut DbConnection,
        stripe: Option<i32>,
    ) -> Result<Filed, DbError> {
        for chunk in self.requests.chunks(ROWS_PER_STATEMENT) {
            super::insert_rows!(conn, case_requests::table, chunk)?;
        }
        for chunk in self.personal.chunks(ROWS_PER_STATEMENT) {
            super::insert_rows!(conn, request_personal_data::table, chunk)?;
        }
        for chunk in self.audit.chunks(ROWS_PER_STATEMENT) {
            super::insert_rows!(conn, audit_events::table, chunk)?;
        }
        for chunk in self.status_codes.chunks(ROWS_PER_STATEMENT) {
            super::insert_rows!(conn, status_codes::table, chunk)?;
        }
        let mut keys: Vec<_> = self
            .keys
            .iter()
            .flat_map(|(key, filed)| filed.iter().map(move |(id, at)| (key, id, at)))
            .collect();
        keys.sort_unstable();
        for chunk in keys.chunks(ROWS_PER_STATEMENT * 4) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|&(key, id, at)| {
                    (
                        dedup_keys::key.eq(key),
                        dedup_keys::request_id.eq(id),
                        dedup_keys::created_at.eq(at),
                    )
                })
                .collect();
            super::insert_rows!(conn, dedup_keys::table, &rows)?;
        }
        for chunk in self.candidates.chunks(ROWS_PER_STATEMENT) {
            super::insert_rows!(conn, duplicate_candidates::table, chunk)?;
        }
        for chunk in self.outbox.chunks(ROWS_PER_STATEMENT) {
            super::insert_rows!(conn, outbox::table, chunk)?;
        }
        for chunk in self.escalations.chunks(ROWS_PER_STATEMENT) {
            super::insert_rows!(conn, super::schema::escalations::table, chunk)?;
        }
        let tally = std::mem::take(&mut self.tally);
        match stripe {
            Some(stripe) => tally.flush_in_stripe(conn, stripe)?,
            None => tally.flush(conn)?,
        }
        let filed = std::mem::take(&mut self.keys);
        *self = RequestRows::default();
        Ok(filed)
    }
}

pub fn find_by_receipt(
    conn: &mut DbConnection,
    token: &str,
) -> Result<Option<CaseRequestRow>, DbError> {
    Ok(case_requests::table
        .filter(case_requests::receipt_token.eq(token))
        .select(CaseRequestRow::as_select())
        .first(conn)
        .optional()?)
}

/// Takes the plain status-check code for the confirmation page: returns it and erases it,
/// so it is shown once.
pub fn take_status_code(conn: &mut super::Conn, id: &str) -> Result<Option<String>, DbError> {
    crate::db::write_transaction(conn, |conn| {
        let conn = &mut **conn;
        let plain: Option<Option<String>> = status_codes::table
            .find(id)
            .select(status_codes::code_plain)
            .first(conn)
            .optional()?;
        if plain.as_ref().is_some_and(Option::is_some) {
            diesel::update(status_codes::table.find(id))
                .set(status_codes::code_plain.eq(None::<String>))
                .execute(conn)?;
        }
        Ok(plain.flatten())
    })
}

/// The stored hash of a request's status-check code.
pub fn status_code_hash(conn: &mut DbConnection, id: &str) -> Result<Option<String>, DbError> {
    Ok(status_codes::table
        .find(id)
        .select(status_codes::code_hash)
        .first(conn)
        .optional()?)
}

pub fn find_by_reference(
    conn: &mut DbConnection,
    reference: &str,
) -> Result<Option<CaseRequestRow>, DbError> {
    Ok(case_requests::table
        .filter(case_requests::reference.eq(reference))
        .select(CaseRequestRow::as_select())
        .first(conn)
        .optional()?)
}

/// The requests with these ids (those that still exist), in no particular order.
pub fn find_by_ids(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<Vec<CaseRequestRow>, DbError> {
    Ok(case_requests::table
        .filter(case_requests::id.eq_any(ids))
        .select(CaseRequestRow::as_select())
        .load(conn)?)
}

/// Every guidance text, by category.
pub fn all_guidance(
    conn: &mut DbConnection,
) -> Result<std::collections::HashMap<Category, GuidanceRow>, DbError> {
    Ok(guidance::table
        .select(GuidanceRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|g| (g.category, g))
        .collect())
}

pub fn guidance_for(
    conn: &mut DbConnection,
    category: Category,
) -> Result<Option<GuidanceRow>, DbError> {
    Ok(guidance::table
        .find(category.as_str())
        .select(GuidanceRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn audit_trail(
    conn: &mut DbConnection,
    request_id: &str,
) -> Result<Vec<AuditEventRow>, DbError> {
    Ok(audit_events::table
        .filter(audit_events::request_id.eq(request_id))
        .order((audit_events::created_at, audit_events::id))
        .select(AuditEventRow::as_select())
        .load(conn)?)
}

pub fn count(conn: &mut DbConnection) -> Result<i64, DbError> {
    Ok(case_requests::table.count().get_result(conn)?)
}

pub fn personal_data(
    conn: &mut DbConnection,
    request_id: &str,
) -> Result<Option<PersonalDataRow>, DbError> {
    Ok(request_personal_data::table
        .find(request_id)
        .select(PersonalDataRow::as_select())
        .first(conn)
        .optional()?)
}

/// New requests per category since `since`, for the daily digest.
pub fn new_per_category(
    conn: &mut DbConnection,
    since: chrono::NaiveDateTime,
) -> Result<Vec<(String, i64)>, DbError> {
    Ok(case_requests::table
        .filter(case_requests::created_at.ge(since))
        .group_by(case_requests::category)
        .select((case_requests::category, diesel::dsl::count_star()))
        .order(case_requests::category)
        .load(conn)?)
}

/// Open requests per queue (every queue, zero included), by slug.
pub fn open_per_queue(conn: &mut DbConnection) -> Result<Vec<(QueueRow, i64)>, DbError> {
    let mut queues = super::queues::with_open_counts(conn)?;
    queues.sort_by(|(a, _), (b, _)| a.slug.cmp(&b.slug));
    Ok(queues)
}

/// When the oldest open request came in.
pub fn oldest_open(conn: &mut DbConnection) -> Result<Option<chrono::NaiveDateTime>, DbError> {
    Ok(super::dashboard::oldest_open_per_queue(conn)?
        .into_values()
        .min())
}
