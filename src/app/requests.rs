//! What the people outside the task force may read about a request: a partner its own
//! requests and their duplicates among its own, the requester the status behind a
//! reference and its code, and the confirmation page once. Nothing here is personal data.

use chrono::NaiveDateTime;
use subtle::ConstantTimeEq;

use super::{AppState, Result};
use crate::db::duplicates::CandidateView;
use crate::db::models::{CaseRequestRow, GuidanceRow, MessageRow, PartnerRow};
use crate::db::{self, DbError};
use crate::domain::{CaseReference, Category, Status, TokenScope};

/// The partner holding the API token whose SHA-256 is `token_hash`, if it is valid now.
pub async fn partner_by_token(
    app: &AppState,
    token_hash: String,
    now: NaiveDateTime,
) -> Result<Option<(PartnerRow, TokenScope)>> {
    Ok(db::run(&app.pool, move |conn| {
        db::partners::authenticate(conn, &token_hash, now)
    })
    .await?)
}

/// Requests `partner_id` submitted since `since`, for its daily quota.
pub async fn submitted_since(
    app: &AppState,
    partner_id: String,
    since: NaiveDateTime,
) -> Result<i64> {
    Ok(db::run(&app.pool, move |conn| {
        db::partners::submitted_since(conn, &partner_id, since)
    })
    .await?)
}

/// A request `partner` submitted, with its queue's name. Another partner's request, or
/// one that came from the form, is `None` exactly like an unknown reference.
pub async fn submitted_by(
    app: &AppState,
    partner: &PartnerRow,
    reference: CaseReference,
) -> Result<Option<(CaseRequestRow, String)>> {
    let partner_id = partner.id.clone();
    Ok(db::run(&app.pool, move |conn| {
        let Some(row) = own(conn, &partner_id, &reference)? else {
            return Ok(None);
        };
        let queue = db::queues::find(conn, &row.queue_slug)?;
        Ok(Some((row, queue.name)))
    })
    .await?)
}

/// The possible duplicates of a request `partner` submitted, among the other requests it
/// submitted: a candidate it did not submit would tell it that someone else asked for
/// help for the same person, and under which reference.
pub async fn duplicates_for(
    app: &AppState,
    partner: &PartnerRow,
    reference: CaseReference,
) -> Result<Option<Vec<CandidateView>>> {
    let partner_id = partner.id.clone();
    Ok(db::run(&app.pool, move |conn| {
        let Some(row) = own(conn, &partner_id, &reference)? else {
            return Ok(None);
        };
        let mut candidates = db::duplicates::candidates_of(conn, &row.id)?;
        candidates.retain(|c| c.partner_id.as_deref() == Some(partner_id.as_str()));
        Ok(Some(candidates))
    })
    .await?)
}

pub(super) fn own(
    conn: &mut db::DbConnection,
    partner_id: &str,
    reference: &CaseReference,
) -> Result<Option<CaseRequestRow>, DbError> {
    Ok(db::requests::find_by_reference(conn, reference.as_str())?
        .filter(|row| row.partner_id.as_deref() == Some(partner_id)))
}

/// What the status page shows of a request.
pub struct StatusSeen {
    pub updated_at: NaiveDateTime,
    pub category: Category,
    pub status: Status,
    pub guidance: Option<GuidanceRow>,
    /// The messages the task force wrote to the requester, newest first.
    pub messages: Vec<MessageRow>,
}

/// The status behind `reference` when `code_hash` is its status-check code's hash, with
/// the messages addressed to the requester, newest first.
pub async fn status(
    app: &AppState,
    reference: Option<CaseReference>,
    code_hash: String,
) -> Result<Option<StatusSeen>> {
    Ok(db::run(&app.pool, move |conn| {
        let Some(row) = behind_code(conn, reference.as_ref(), &code_hash)? else {
            return Ok(None);
        };
        Ok(Some(StatusSeen {
            updated_at: row.updated_at,
            category: row.category,
            status: row.status,
            guidance: db::requests::guidance_for(conn, row.category)?,
            messages: db::messages::addressed_to_requester(conn, &row.id)?,
        }))
    })
    .await?)
}

/// The request behind `reference` when `code_hash` is its status-check code's hash. The
/// code is compared in constant time, and against a stand-in when there is no request,
/// so a wrong code looks and takes like an unknown reference.
pub(super) fn behind_code(
    conn: &mut db::DbConnection,
    reference: Option<&CaseReference>,
    code_hash: &str,
) -> Result<Option<CaseRequestRow>, DbError> {
    let row = match reference {
        Some(r) => db::requests::find_by_reference(conn, r.as_str())?,
        None => None,
    };
    let stored = match &row {
        Some(r) => db::requests::status_code_hash(conn, &r.id)?,
        None => None,
    }
    .unwrap_or_else(|| "-".repeat(64));
    let matches = bool::from(code_hash.as_bytes().ct_eq(stored.as_bytes()));
    Ok(row.filter(|_| matches))
}

/// What the confirmation page shows after a submission.
pub struct Confirmation {
    pub row: CaseRequestRow,
    pub guidance: Option<GuidanceRow>,
    /// The status-check code in plain, the first time the page is opened within
    /// `shown_for` of the submission; it is erased then, and only its hash stays.
    pub status_code: Option<String>,
    /// The date of birth as recorded, shown with the code only (the first showing), so
    /// that the page's link alone later shows nothing personal.
    pub birth: Option<crate::domain::birth::BirthDate>,
}

/// The request behind a submission's receipt.
pub async fn confirmation(
    app: &AppState,
    receipt: String,
    shown_for: chrono::Duration,
    now: NaiveDateTime,
) -> Result<Option<Confirmation>> {
    Ok(db::run(&app.pool, move |conn| {
        let Some(row) = db::requests::find_by_receipt(conn, &receipt)? else {
            return Ok(None);
        };
        let fresh = now - row.created_at < shown_for;
        let status_code = db::requests::take_status_code(conn, &row.id)?.filter(|_| fresh);
        let guidance = db::requests::guidance_for(conn, row.category)?;
        let birth = match status_code {
            Some(_) => db::requests::personal_data(conn, &row.id)?.and_then(|p| p.birth_date()),
            None => None,
        };
        Ok(Some(Confirmation {
            row,
            guidance,
            status_code,
            birth,
        }))
    })
    .await?)
}
