//! What staff can do to a case, and which of those changes make sense. Pure: the db layer
//! applies a validated `Change` and writes its audit row.

use super::routing::QueueSlug;
use super::vocab::{Category, Status};

/// A staff action on one case, as submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseAction {
    /// Assign to a user (`None` = unassign).
    Assign {
        to: Option<String>,
    },
    ChangeStatus {
        to: Status,
        /// Who the case is referred to, required for `referred_out`.
        referral_partner: Option<String>,
    },
    Recategorize {
        to: Category,
        reason: String,
    },
    MoveQueue {
        to: QueueSlug,
        reason: String,
    },
    AddNote {
        body: String,
    },
}

/// The parts of a case an action looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseState {
    pub status: Status,
    pub category: Category,
    pub queue: String,
    pub assignee: Option<String>,
}

/// Why an action was refused, in words for the person who tried it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("the case already has that status")]
    SameStatus,
    #[error("say who the case is referred to (UNHCR or the partner organization)")]
    ReferralPartnerMissing,
    #[error("the case is already in that category")]
    SameCategory,
    #[error("the case is already in that queue")]
    SameQueue,
    #[error("give a reason so the next person understands the change")]
    ReasonMissing,
    #[error("the note is empty")]
    EmptyNote,
    #[error("the note is too long (at most 10,000 characters)")]
    NoteTooLong,
    #[error("the case is already assigned that way")]
    SameAssignee,
}

pub const NOTE_MAX_CHARS: usize = 10_000;

/// Checks an action against the case's current state.
pub fn check(state: &CaseState, action: &CaseAction) -> Result<(), WorkflowError> {
    match action {
        CaseAction::Assign { to } => {
            if *to == state.assignee {
                return Err(WorkflowError::SameAssignee);
            }
        }
        CaseAction::ChangeStatus {
            to,
            referral_partner,
        } => {
            if *to == state.status {
                return Err(WorkflowError::SameStatus);
            }
            if *to == Status::ReferredOut
                && referral_partner
                    .as_deref()
                    .is_none_or(|p| p.trim().is_empty())
            {
                return Err(WorkflowError::ReferralPartnerMissing);
            }
        }
        CaseAction::Recategorize { to, reason } => {
            if *to == state.category {
                return Err(WorkflowError::SameCategory);
            }
            if reason.trim().is_empty() {
                return Err(WorkflowError::ReasonMissing);
            }
        }
        CaseAction::MoveQueue { to, reason } => {
            if to.as_str() == state.queue {
                return Err(WorkflowError::SameQueue);
            }
            if reason.trim().is_empty() {
                return Err(WorkflowError::ReasonMissing);
            }
        }
        CaseAction::AddNote { body } => {
            if body.trim().is_empty() {
                return Err(WorkflowError::EmptyNote);
            }
            if body.chars().count() > NOTE_MAX_CHARS {
                return Err(WorkflowError::NoteTooLong);
            }
        }
    }
    Ok(())
}

/// How the audit trail words a change of status.
pub fn status_change(from: Status, to: Status) -> String {
    format!("status {} → {}", from.label(), to.label())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> CaseState {
        CaseState {
            status: Status::New,
            category: Category::NoReferral,
            queue: "triage".into(),
            assignee: None,
        }
    }

    #[test]
    fn referral_needs_a_partner() {
        let refer = |p: Option<&str>| CaseAction::ChangeStatus {
            to: Status::ReferredOut,
            referral_partner: p.map(str::to_string),
        };
        assert_eq!(
            check(&state(), &refer(None)),
            Err(WorkflowError::ReferralPartnerMissing)
        );
        assert_eq!(
            check(&state(), &refer(Some("  "))),
            Err(WorkflowError::ReferralPartnerMissing)
        );
        assert_eq!(check(&state(), &refer(Some("UNHCR"))), Ok(()));
    }

    #[test]
    fn no_op_changes_are_refused() {
        let s = state();
        assert_eq!(
            check(
                &s,
                &CaseAction::ChangeStatus {
                    to: Status::New,
                    referral_partner: None
                }
            ),
            Err(WorkflowError::SameStatus)
        );
        assert_eq!(
            check(&s, &CaseAction::Assign { to: None }),
            Err(WorkflowError::SameAssignee)
        );
        assert_eq!(
            check(
                &s,
                &CaseAction::MoveQueue {
                    to: QueueSlug::parse("triage").unwrap(),
                    reason: "x".into()
                }
            ),
            Err(WorkflowError::SameQueue)
        );
    }

    #[test]
    fn recategorizing_needs_a_reason() {
        let action = CaseAction::Recategorize {
            to: Category::SivPending,
            reason: " ".into(),
        };
        assert_eq!(check(&state(), &action), Err(WorkflowError::ReasonMissing));
    }

    #[test]
    fn notes_must_have_content() {
        assert_eq!(
            check(&state(), &CaseAction::AddNote { body: "\n".into() }),
            Err(WorkflowError::EmptyNote)
        );
        assert_eq!(
            check(
                &state(),
                &CaseAction::AddNote {
                    body: "x".repeat(NOTE_MAX_CHARS + 1)
                }
            ),
            Err(WorkflowError::NoteTooLong)
        );
    }
}
