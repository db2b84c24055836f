//! Possible duplicates on the case page: the candidates side by side with the matching
//! fields marked, and the staff decision (confirm: the later request is closed as a
//! duplicate of the earlier; reject: never suggested again).

use actix_web::{web, HttpResponse};
use chrono::Utc;
use std::collections::HashMap;

use super::{see_other, AdminError, Staff};
use crate::db::models::{CaseRequestRow, PersonalDataRow};
use crate::db::{self, DbConnection, DbError};
use crate::domain::staff::Permission;
use crate::domain::vocab::DuplicateStatus;
use crate::domain::workflow::CaseAction;
use crate::domain::{Actor, CaseReference, Status};
use crate::web::AppState;

/// How many candidates the case page compares field by field.
const COMPARED: usize = 3;

pub struct CompareRow {
    pub label: &'static str,
    pub mine: String,
    pub theirs: String,
    pub same: bool,
}

pub struct DuplicateView {
    pub reference: String,
    pub score: String,
    pub reasons: String,
    pub status: String,
    pub rows: Vec<CompareRow>,
}

fn fields(case: &CaseRequestRow, p: Option<&PersonalDataRow>) -> Vec<(&'static str, String)> {
    let o = |v: Option<&String>| v.cloned().unwrap_or_default();
    vec![
        (
            "Applicant",
            p.map(|p| p.applicant_full_name.clone()).unwrap_or_default(),
        ),
        (
            "Date of birth",
            p.and_then(|p| p.applicant_date_of_birth)
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ),
        ("Phone", o(p.and_then(|p| p.applicant_phone.as_ref()))),
        ("WhatsApp", o(p.and_then(|p| p.applicant_whatsapp.as_ref()))),
        ("Email", o(p.and_then(|p| p.applicant_email.as_ref()))),
        (
            "SIV case number",
            o(p.and_then(|p| p.siv_case_number.as_ref())),
        ),
        ("Where", case.applicant_location.to_string()),
        (
            "Household",
            case.household_size
                .map(|n| n.to_string())
                .unwrap_or_default(),
        ),
        ("Submitted by", case.submitter_kind.to_string()),
        (
            "Received",
            case.created_at.format("%Y-%m-%d %H:%M").to_string(),
        ),
        ("Status", case.status.to_string()),
        ("Queue", case.queue_slug.clone()),
    ]
}

/// The candidates of a case for its page; views of the candidates' personal data are
/// audited like any other.
pub fn load(
    conn: &mut DbConnection,
    case: &CaseRequestRow,
    personal: Option<&PersonalDataRow>,
    actor: &Actor,
    now: chrono::NaiveDateTime,
) -> Result<Vec<DuplicateView>, DbError> {
    let mine = fields(case, personal);
    let mut out = Vec::new();
    for (i, c) in db::duplicates::candidates_of(conn, &case.id)?
        .into_iter()
        .enumerate()
    {
        let mut rows = Vec::new();
        if i < COMPARED && c.status != DuplicateStatus::Rejected {
            if let Some(other) = db::requests::find_by_reference(conn, &c.reference)? {
                let theirs_personal = db::requests::personal_data(conn, &other.id)?;
                db::cases::audit(
                    conn,
                    Some(&other.id),
                    actor,
                    "viewed",
                    format!("compared with {}", case.reference),
                    now,
                )?;
                let theirs = fields(&other, theirs_personal.as_ref());
                rows = mine
                    .iter()
                    .zip(theirs)
                    .map(|((label, a), (_, b))| CompareRow {
                        label,
                        same: !a.is_empty() && normalize(a) == normalize(&b),
                        mine: a.clone(),
                        theirs: b,
                    })
                    .collect();
            }
        }
        out.push(DuplicateView {
            score: format!("{:.2}", c.score_per_mille as f64 / 1000.0),
            reasons: c.reasons.join(", "),
            status: c.status.to_string(),
            reference: c.reference,
            rows,
        });
    }
    Ok(out)
}

fn normalize(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// `POST /admin/requests/{reference}/duplicates` with `other` and `decision`
/// (`confirm` or `reject`).
pub async fn decide(
    state: web::Data<AppState>,
    staff: Staff,
    reference: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::WorkOwnQueues)?;
    staff.check_csrf(&form)?;
    let this = CaseReference::parse(&reference)
        .ok_or(AdminError::NotFound)?
        .to_string();
    let other = form
        .get("other")
        .and_then(|o| CaseReference::parse(o))
        .ok_or_else(|| AdminError::Invalid("choose a candidate".into()))?
        .to_string();
    let confirm = match form.get("decision").map(String::as_str) {
        Some("confirm") => true,
        Some("reject") => false,
        _ => return Err(AdminError::Invalid("choose confirm or reject".into())),
    };
    let allowed = staff.allowed_queues();
    let actor = staff.actor();
    let now = Utc::now().naive_utc();
    let back = this.clone();
    let hooked = db::run_as(&state.pool, move |conn| -> Result<bool, AdminError> {
        let (Some(a), Some(b)) = (
            db::requests::find_by_reference(conn, &this)?,
            db::requests::find_by_reference(conn, &other)?,
        ) else {
            return Err(AdminError::NotFound);
        };
        if allowed
            .as_ref()
            .is_some_and(|qs| !qs.contains(&a.queue_slug) || !qs.contains(&b.queue_slug))
        {
            return Err(AdminError::Forbidden);
        }
        let (earlier, later) = if (a.created_at, &a.id) <= (b.created_at, &b.id) {
            (a, b)
        } else {
            (b, a)
        };
        // The decision, its audit rows and the partner's webhook commit together.
        db::write_transaction(conn, |conn| -> Result<bool, AdminError> {
            if confirm {
                db::duplicates::confirm(conn, &later.id, &earlier.id, &actor, now)?;
                db::cases::audit(
                    conn,
                    Some(&later.id),
                    &actor,
                    "duplicate_confirmed",
                    format!("duplicate of {}", earlier.reference),
                    now,
                )?;
                db::cases::audit(
                    conn,
                    Some(&earlier.id),
                    &actor,
                    "duplicate_linked",
                    format!(
                        "{} confirmed as a duplicate of this request",
                        later.reference
                    ),
                    now,
                )?;
                if later.status != Status::ClosedDuplicate {
                    let close = CaseAction::ChangeStatus {
                        to: Status::ClosedDuplicate,
                        referral_partner: None,
                    };
                    let applied = db::cases::apply(conn, &later.id, close, &actor, None, now)
                        .map_err(|e| match e {
                            db::cases::ActionError::Db(e) => AdminError::Db(e),
                            other => AdminError::Invalid(other.to_string()),
                        })?;
                    return Ok(crate::email::webhook::enqueue_for(conn, &applied, now)?);
                }
            } else {
                db::duplicates::reject(conn, &later.id, &earlier.id, &actor, now)?;
                for (case, peer) in [(&later, &earlier), (&earlier, &later)] {
                    db::cases::audit(
                        conn,
                        Some(&case.id),
                        &actor,
                        "duplicate_rejected",
                        format!("not the same person as {}", peer.reference),
                        now,
                    )?;
                }
            }
            Ok(false)
        })
    })
    .await?;
    if hooked {
        state.mail.wake();
    }
    Ok(see_other(&format!("/admin/requests/{back}")))
}
