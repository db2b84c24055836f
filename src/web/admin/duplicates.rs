//! Possible duplicates on the case page: the candidates side by side with the matching
//! fields marked, and the staff decision (confirm: the later request is closed as a
//! duplicate of the earlier; reject: never suggested again).

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::Deserialize;

use super::{need, see_other, AdminError, Posted};
use crate::app::duplicates::{Compared, Decision};
use crate::db::models::{CaseRequestRow, PersonalDataRow};
use crate::domain::CaseReference;
use crate::web::AppState;

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
            p.and_then(PersonalDataRow::birth_date)
                .map(|b| b.both_calendars())
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

/// The candidates of a case as its page compares them.
pub fn views(
    compared: Vec<Compared>,
    case: &CaseRequestRow,
    personal: Option<&PersonalDataRow>,
) -> Vec<DuplicateView> {
    let mine = fields(case, personal);
    compared
        .into_iter()
        .map(
            |Compared {
                 candidate: c,
                 other,
             }| {
                let rows = other
                    .map(|(row, personal)| {
                        let theirs = fields(&row, personal.as_ref());
                        mine.iter()
                            .zip(theirs)
                            .map(|((label, a), (_, b))| CompareRow {
                                label,
                                same: !a.is_empty() && normalize(a) == normalize(&b),
                                mine: a.clone(),
                                theirs: b,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                DuplicateView {
                    score: format!("{:.2}", c.score_per_mille as f64 / 1000.0),
                    reasons: c.reasons.join(", "),
                    status: c.status.to_string(),
                    reference: c.reference,
                    rows,
                }
            },
        )
        .collect()
}

fn normalize(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    other: String,
    #[serde(default)]
    decision: String,
}

/// `POST /admin/requests/{reference}/duplicates` with `other` and `decision`
/// (`confirm` or `reject`).
pub async fn decide(
    state: web::Data<AppState>,
    posted: Posted<need::WorkOwnQueues, DecideForm>,
    reference: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let this = CaseReference::parse(&reference).ok_or(AdminError::NotFound)?;
    let other = CaseReference::parse(&form.other)
        .ok_or_else(|| AdminError::Invalid("choose a candidate".into()))?;
    let decision = match form.decision.as_str() {
        "confirm" => Decision::Confirm,
        "reject" => Decision::Reject,
        _ => return Err(AdminError::Invalid("choose confirm or reject".into())),
    };
    let back = format!("/admin/requests/{this}");
    let now = Utc::now().naive_utc();
    crate::app::duplicates::decide(&state, &staff, this, other, decision, now).await?;
    Ok(see_other(&back))
}
