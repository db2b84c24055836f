//! Finding a person: a caseworker's one search box, answered through the keys duplicate
//! matching files every request under (never a scan of the requests), ranked by the same
//! evidence, limited to the queues the searcher may work, and on the record.

use chrono::NaiveDateTime;

use super::intake::profile_of_stored;
use super::staff::Staff;
use super::{AppState, Error, Result};
use crate::db::{self, DbConnection, DbError};
use crate::domain::dedup::{assess, rank_candidates, MAX_CANDIDATES};
use crate::domain::search::PersonQuery;
use crate::domain::staff::Permission;
use crate::domain::{Category, Status};

/// The most people a search shows.
pub const MAX_RESULTS: usize = 20;

/// One person found, with why.
#[derive(Debug, Clone)]
pub struct Found {
    pub reference: String,
    /// The matcher's score in [0, 1]; 1 for the reference asked for.
    pub score: f64,
    pub reasons: Vec<String>,
    pub category: Category,
    pub status: Status,
    pub queue_slug: String,
    pub created_at: NaiveDateTime,
}

/// The people `query` may mean, most likely first, among the cases `staff` may open.
/// A search that shows anyone is audited (who, when, how many), never with its text.
pub async fn people(
    app: &AppState,
    staff: &Staff,
    query: PersonQuery,
    now: NaiveDateTime,
) -> Result<Vec<Found>> {
    if !staff.can(Permission::WorkOwnQueues) {
        return Err(Error::Forbidden);
    }
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let staff = staff.clone();
    let recent = app.intake.recent().clone();
    db::run_as(&app.pool, move |conn| {
        let found = find(conn, &recent, &query, &staff)?;
        if !found.is_empty() {
            let detail = format!("person search: {} shown", found.len());
            db::cases::audit(conn, None, &staff.actor(), "searched", detail, now)?;
        }
        Ok(found)
    })
    .await
}

/// Requests in the queues `staff` may work among those sharing a key, best first, at most
/// `MAX_CANDIDATES` scored: namesakes in other queues must not crowd out the person a
/// caseworker is looking for. At most `LOOKED_AT` are looked up for their queue.
fn candidates_for(
    conn: &mut DbConnection,
    staff: &Staff,
    ranked: Vec<String>,
) -> std::result::Result<Vec<String>, DbError> {
    const LOOKED_AT: usize = 2_000;
    if staff.can(Permission::WorkAllQueues) {
        return Ok(ranked.into_iter().take(MAX_CANDIDATES).collect());
    }
    let mut kept = Vec::new();
    for chunk in ranked
        .chunks(4 * MAX_CANDIDATES)
        .take(LOOKED_AT / (4 * MAX_CANDIDATES))
    {
        let rows = db::requests::find_by_ids(conn, chunk)?;
        for id in chunk {
            let allowed = rows
                .iter()
                .find(|r| &r.id == id)
                .is_some_and(|r| staff.can_work_queue(&r.queue_slug));
            if allowed {
                kept.push(id.clone());
                if kept.len() == MAX_CANDIDATES {
                    return Ok(kept);
                }
            }
        }
    }
    Ok(kept)
}

fn find(
    conn: &mut DbConnection,
    recent: &db::duplicates::Recent,
    query: &PersonQuery,
    staff: &Staff,
) -> std::result::Result<Vec<Found>, DbError> {
    let profile = query.profile();
    let keys = profile.blocking_keys();
    let matches = db::duplicates::key_matches(conn, recent, &keys)?;
    let mut ids = candidates_for(conn, staff, rank_candidates(&keys, matches))?;
    let asked = match &query.reference {
        Some(reference) => db::requests::find_by_reference(conn, &reference.to_string())?,
        None => None,
    };
    if let Some(row) = &asked {
        ids.retain(|id| id != &row.id);
    }
    let stored = db::duplicates::load_requests(conn, recent, &ids)?;
    let rows = db::requests::find_by_ids(conn, &ids)?;
    let mut found: Vec<Found> = asked
        .into_iter()
        .map(|row| (row, 1.0, vec!["same reference".to_string()]))
        .chain(stored.iter().filter_map(|s| {
            let row = rows.iter().find(|r| r.id == s.id)?.clone();
            let assessment = assess(&profile, &profile_of_stored(s));
            Some((row, assessment.score, assessment.reasons))
        }))
        .filter(|(row, _, _)| staff.can_work_queue(&row.queue_slug))
        .map(|(row, score, reasons)| Found {
            reference: row.reference,
            score,
            reasons,
            category: row.category,
            status: row.status,
            queue_slug: row.queue_slug,
            created_at: row.created_at,
        })
        .collect();
    found.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.created_at.cmp(&a.created_at))
    });
    found.truncate(MAX_RESULTS);
    Ok(found)
}
