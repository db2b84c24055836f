//! Possible duplicates as staff decide them: the candidates of a case, the first few with
//! the other request loaded for comparison (an audited view of its personal data), and the
//! decision: confirm (the later request is closed as a duplicate of the earlier) or reject
//! (never suggested again).

use chrono::NaiveDateTime;

use super::staff::Staff;
use super::{AppState, Error, Result};
use crate::db::duplicates::CandidateView;
use crate::db::models::{CaseRequestRow, PersonalDataRow};
use crate::db::{self, DbConnection, DbError};
use crate::domain::staff::Permission;
use crate::domain::vocab::DuplicateStatus;
use crate::domain::workflow::CaseAction;
use crate::domain::{Actor, CaseReference, Status};

/// How many candidates the case page compares field by field.
const COMPARED: usize = 3;

/// A candidate of a case, with the other request when it is one of the first `COMPARED`
/// still in question.
pub struct Compared {
    pub candidate: CandidateView,
    pub other: Option<(CaseRequestRow, Option<PersonalDataRow>)>,
}

/// The candidates of `case`; loading another request's personal data is audited on it.
pub fn compared(
    conn: &mut DbConnection,
    case: &CaseRequestRow,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<Vec<Compared>, DbError> {
    let mut out = Vec::new();
    for (i, candidate) in db::duplicates::candidates_of(conn, &case.id)?
        .into_iter()
        .enumerate()
    {
        let mut other = None;
        if i < COMPARED && candidate.status != DuplicateStatus::Rejected {
            if let Some(row) = db::requests::find_by_reference(conn, &candidate.reference)? {
                let personal = db::requests::personal_data(conn, &row.id)?;
                let detail = format!("compared with {}", case.reference);
                db::cases::audit(conn, Some(&row.id), actor, "viewed", detail, now)?;
                other = Some((row, personal));
            }
        }
        out.push(Compared { candidate, other });
    }
    Ok(out)
}

/// What staff decided about two requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The same person: the later request is closed as a duplicate of the earlier.
    Confirm,
    /// Not the same person: the pair is never suggested again.
    Reject,
}

/// Records `decision` about the requests `this` and `other`, which `staff` must both be
/// allowed to work. The decision, its audit rows and the partner's webhook commit together.
pub async fn decide(
    app: &AppState,
    staff: &Staff,
    this: CaseReference,
    other: CaseReference,
    decision: Decision,
    now: NaiveDateTime,
) -> Result<()> {
    if !staff.can(Permission::WorkOwnQueues) {
        return Err(Error::Forbidden);
    }
    let staff = staff.clone();
    let hooked = db::run_as(&app.pool, move |conn| -> Result<bool> {
        let (Some(a), Some(b)) = (
            db::requests::find_by_reference(conn, &this.to_string())?,
            db::requests::find_by_reference(conn, &other.to_string())?,
        ) else {
            return Err(Error::NotFound);
        };
        if !staff.can_work_queue(&a.queue_slug) || !staff.can_work_queue(&b.queue_slug) {
            return Err(Error::Forbidden);
        }
        let (earlier, later) = if (a.created_at, &a.id) <= (b.created_at, &b.id) {
            (a, b)
        } else {
            (b, a)
        };
        let actor = staff.actor();
        db::write_transaction(conn, |conn| match decision {
            Decision::Confirm => confirm(conn, &earlier, &later, &actor, now),
            Decision::Reject => {
                db::duplicates::reject(conn, &later.id, &earlier.id, &actor, now)?;
                for (case, peer) in [(&later, &earlier), (&earlier, &later)] {
                    let detail = format!("not the same person as {}", peer.reference);
                    db::cases::audit(
                        conn,
                        Some(&case.id),
                        &actor,
                        "duplicate_rejected",
                        detail,
                        now,
                    )?;
                }
                Ok(false)
            }
        })
    })
    .await?;
    app.wake_for(usize::from(hooked));
    Ok(())
}

/// Links `later` to `earlier` and closes it as a duplicate; true when that queued a webhook.
fn confirm(
    conn: &mut DbConnection,
    earlier: &CaseRequestRow,
    later: &CaseRequestRow,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<bool> {
    db::duplicates::confirm(conn, &later.id, &earlier.id, actor, now)?;
    let detail = format!("duplicate of {}", earlier.reference);
    db::cases::audit(
        conn,
        Some(&later.id),
        actor,
        "duplicate_confirmed",
        detail,
        now,
    )?;
    let detail = format!(
        "{} confirmed as a duplicate of this request",
        later.reference
    );
    db::cases::audit(
        conn,
        Some(&earlier.id),
        actor,
        "duplicate_linked",
        detail,
        now,
    )?;
    if later.status == Status::ClosedDuplicate {
        return Ok(false);
    }
    let close = CaseAction::ChangeStatus {
        to: Status::ClosedDuplicate,
        referral_partner: None,
    };
    let applied = db::cases::apply(conn, &later.id, close, actor, None, now)
        .map_err(super::cases::refused)?;
    Ok(crate::email::webhook::enqueue_for(conn, &applied, now)?)
}
