//! Duplicate detection storage: the blocking keys each request is filed under, the
//! candidate pairs intake found, and staff decisions on them.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::HashSet;

use super::models::PersonalDataRow;
use super::schema::{case_requests, dedup_keys, duplicate_candidates, request_personal_data};
use super::{DbConnection, DbError};
use crate::domain::dedup::KeyMatch;

/// At most this many requests are taken per key (the most recent), so that a key shared
/// by thousands (a frequent surname in one birth year) cannot turn intake into a scan.
pub const CANDIDATES_PER_KEY: i64 = 50;

/// Candidate statuses.
pub const SUGGESTED: &str = "suggested";
pub const CONFIRMED: &str = "confirmed";
pub const REJECTED: &str = "rejected";

/// What matching needs of an earlier request: its facts and its personal data, read with
/// the query builder (SQLite) or by column name from SQL (PostgreSQL).
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = case_requests)]
pub struct StoredRequest {
    pub id: String,
    pub reference: String,
    pub queue_slug: String,
    pub submitter_kind: String,
    pub household_size: Option<i32>,
    #[diesel(column_name = applicant_location)]
    pub location: String,
    #[diesel(embed)]
    pub personal: PersonalDataRow,
}

/// A candidate pair as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = duplicate_candidates)]
pub struct CandidateRow {
    pub request_id: String,
    pub candidate_id: String,
    /// Per mille.
    pub score: i32,
    /// A JSON list of plain-word reasons.
    pub reasons: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub decided_by: Option<String>,
}

/// A candidate of one request as staff and the API see it: the other request's
/// reference, never its personal data.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateView {
    pub reference: String,
    pub score_per_mille: i32,
    pub reasons: Vec<String>,
    pub status: String,
}

/// Files a request under its keys. Call inside the intake transaction.
pub fn insert_keys(
    conn: &mut DbConnection,
    request_id: &str,
    keys: &[String],
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let rows: Vec<_> = keys
        .iter()
        .map(|key| {
            (
                dedup_keys::key.eq(key),
                dedup_keys::request_id.eq(request_id),
                dedup_keys::created_at.eq(now),
            )
        })
        .collect();
    if !rows.is_empty() {
        super::insert_rows!(conn, dedup_keys::table, &rows)?;
    }
    Ok(())
}

/// The requests filed under any of `keys`: per key the most recent
/// `CANDIDATES_PER_KEY`, each through the index on `key`, as (the key's index in `keys`,
/// request id, when it was received). With `since`, only among requests created at or
/// after it.
pub fn key_matches(
    conn: &mut DbConnection,
    keys: &[String],
    since: Option<NaiveDateTime>,
) -> Result<Vec<KeyMatch>, DbError> {
    if let DbConnection::Postgres(pg) = conn {
        // One round trip for all the keys instead of one per key.
        return key_matches_pg(pg, keys, since);
    }
    let mut found = Vec::new();
    for (index, key) in keys.iter().enumerate() {
        let mut query = dedup_keys::table
            .filter(dedup_keys::key.eq(key))
            .order(dedup_keys::created_at.desc())
            .limit(CANDIDATES_PER_KEY)
            .select((dedup_keys::request_id, dedup_keys::created_at))
            .into_boxed();
        if let Some(since) = since {
            query = query.filter(dedup_keys::created_at.ge(since));
        }
        found.extend(
            query
                .load::<(String, NaiveDateTime)>(conn)?
                .into_iter()
                .map(|(id, at)| KeyMatch {
                    key: index,
                    request_id: id,
                    created_at: at,
                }),
        );
    }
    Ok(found)
}

/// `key_matches` in one statement: per key (numbered from 1 by `WITH ORDINALITY`) the
/// newest rows through the index on `key`, as the per-key queries read them.
fn key_matches_pg(
    conn: &mut diesel::pg::PgConnection,
    keys: &[String],
    since: Option<NaiveDateTime>,
) -> Result<Vec<KeyMatch>, DbError> {
    use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamp};

    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = BigInt)]
        ord: i64,
        #[diesel(sql_type = Text)]
        request_id: String,
        #[diesel(sql_type = Timestamp)]
        created_at: NaiveDateTime,
    }
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    // The `since` bound is written only when there is one, so that it is an index bound.
    let bound = if since.is_some() {
        "AND created_at >= $3"
    } else {
        "AND $3::timestamp IS NULL"
    };
    let found: Vec<Found> = diesel::sql_query(format!(
        "SELECT k.ord, d.request_id, d.created_at \
         FROM unnest($1::text[]) WITH ORDINALITY AS k(key, ord) \
         CROSS JOIN LATERAL (SELECT request_id, created_at FROM dedup_keys \
             WHERE key = k.key {bound} ORDER BY created_at DESC LIMIT $2) d"
    ))
    .bind::<Array<Text>, _>(keys)
    .bind::<BigInt, _>(CANDIDATES_PER_KEY)
    .bind::<Nullable<Timestamp>, _>(since)
    .load(conn)?;
    Ok(found
        .into_iter()
        .map(|f| KeyMatch {
            key: usize::try_from(f.ord - 1).unwrap_or(usize::MAX),
            request_id: f.request_id,
            created_at: f.created_at,
        })
        .collect())
}

/// Loads the candidates' facts and personal data (only those, never the whole table).
pub fn load_requests(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<Vec<StoredRequest>, DbError> {
    let mut out = match conn {
        DbConnection::Postgres(pg) => load_requests_pg(pg, ids)?,
        DbConnection::Sqlite(_) => {
            let mut out = Vec::with_capacity(ids.len());
            // Bounded chunks keep each IN list well under SQLite's parameter limit.
            for chunk in ids.chunks(500) {
                out.extend(
                    case_requests::table
                        .inner_join(request_personal_data::table)
                        .filter(case_requests::id.eq_any(chunk))
                        .select(StoredRequest::as_select())
                        .load(conn)?,
                );
            }
            out
        }
    };
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// `load_requests` as a statement PostgreSQL plans afresh each time. A prepared one keeps
/// the plan made when it was first used; made while the tables were nearly empty (a new
/// database at the start of a surge), that plan reads both tables whole.
fn load_requests_pg(
    conn: &mut diesel::pg::PgConnection,
    ids: &[String],
) -> Result<Vec<StoredRequest>, DbError> {
    use diesel::sql_types::{Array, Text};
    Ok(diesel::sql_query(
        "SELECT c.id, c.reference, c.queue_slug, c.submitter_kind, c.household_size, \
         c.applicant_location, p.* \
         FROM case_requests c JOIN request_personal_data p ON p.request_id = c.id \
         WHERE c.id = ANY($1)",
    )
    .bind::<Array<Text>, _>(ids)
    .load(conn)?)
}

/// The requests staff have said are not duplicates of `request_id`, in either direction.
pub fn rejected_partners(
    conn: &mut DbConnection,
    request_id: &str,
) -> Result<HashSet<String>, DbError> {
    let rows: Vec<(String, String)> = duplicate_candidates::table
        .filter(duplicate_candidates::status.eq(REJECTED))
        .filter(
            duplicate_candidates::request_id
                .eq(request_id)
                .or(duplicate_candidates::candidate_id.eq(request_id)),
        )
        .select((
            duplicate_candidates::request_id,
            duplicate_candidates::candidate_id,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(a, b)| if a == request_id { b } else { a })
        .collect())
}

/// Stores suggested candidates. Call inside the intake transaction.
pub fn insert_candidates(conn: &mut DbConnection, rows: &[CandidateRow]) -> Result<(), DbError> {
    for row in rows {
        diesel::insert_into(duplicate_candidates::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// The stored pair of two requests, whichever was first.
fn find_pair(conn: &mut DbConnection, a: &str, b: &str) -> Result<Option<CandidateRow>, DbError> {
    Ok(duplicate_candidates::table
        .filter(
            (duplicate_candidates::request_id
                .eq(a)
                .and(duplicate_candidates::candidate_id.eq(b)))
            .or(duplicate_candidates::request_id
                .eq(b)
                .and(duplicate_candidates::candidate_id.eq(a))),
        )
        .select(CandidateRow::as_select())
        .first(conn)
        .optional()?)
}

fn decide(
    conn: &mut DbConnection,
    request_id: &str,
    candidate_id: &str,
    status: &str,
    actor: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let Some(pair) = find_pair(conn, request_id, candidate_id)? else {
        return Ok(false);
    };
    diesel::update(
        duplicate_candidates::table.find((pair.request_id.as_str(), pair.candidate_id.as_str())),
    )
    .set((
        duplicate_candidates::status.eq(status),
        duplicate_candidates::decided_at.eq(Some(now)),
        duplicate_candidates::decided_by.eq(Some(actor)),
    ))
    .execute(conn)?;
    Ok(true)
}

/// Staff confirm that two requests are about the same person. Returns whether the pair
/// was a suggestion.
pub fn confirm(
    conn: &mut DbConnection,
    request_id: &str,
    candidate_id: &str,
    actor: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    decide(conn, request_id, candidate_id, CONFIRMED, actor, now)
}

/// Staff say two requests are about different people: the pair is kept as rejected (added
/// if it was never suggested), and matching never suggests it again.
pub fn reject(
    conn: &mut DbConnection,
    request_id: &str,
    candidate_id: &str,
    actor: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    if !decide(conn, request_id, candidate_id, REJECTED, actor, now)? {
        insert_candidates(
            conn,
            &[CandidateRow {
                request_id: request_id.to_string(),
                candidate_id: candidate_id.to_string(),
                score: 0,
                reasons: "[]".to_string(),
                status: REJECTED.to_string(),
                created_at: now,
                decided_at: Some(now),
                decided_by: Some(actor.to_string()),
            }],
        )?;
    }
    Ok(())
}

/// The candidates of a request in both directions (earlier requests it may duplicate,
/// later ones that may duplicate it), best first.
pub fn candidates_of(
    conn: &mut DbConnection,
    request_id: &str,
) -> Result<Vec<CandidateView>, DbError> {
    let earlier: Vec<(String, i32, String, String)> = duplicate_candidates::table
        .inner_join(
            case_requests::table.on(case_requests::id.eq(duplicate_candidates::candidate_id)),
        )
        .filter(duplicate_candidates::request_id.eq(request_id))
        .select((
            case_requests::reference,
            duplicate_candidates::score,
            duplicate_candidates::reasons,
            duplicate_candidates::status,
        ))
        .load(conn)?;
    let later: Vec<(String, i32, String, String)> = duplicate_candidates::table
        .inner_join(case_requests::table.on(case_requests::id.eq(duplicate_candidates::request_id)))
        .filter(duplicate_candidates::candidate_id.eq(request_id))
        .select((
            case_requests::reference,
            duplicate_candidates::score,
            duplicate_candidates::reasons,
            duplicate_candidates::status,
        ))
        .load(conn)?;
    let mut out = earlier
        .into_iter()
        .chain(later)
        .map(|(reference, score, reasons, status)| {
            let reasons = serde_json::from_str(&reasons)
                .map_err(|_| DbError::Corrupt("duplicate_candidates.reasons".into()))?;
            Ok(CandidateView {
                reference,
                score_per_mille: score,
                reasons,
                status,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    out.sort_by(|a, b| {
        b.score_per_mille
            .cmp(&a.score_per_mille)
            .then_with(|| a.reference.cmp(&b.reference))
    });
    Ok(out)
}
