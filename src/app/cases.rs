//! Working cases: the queues and their pages, opening a case (an audited view of personal
//! data), and the actions on it (assign, change status, re-categorize, move, note) with the
//! mail and webhook they cause.

use chrono::NaiveDateTime;

use super::duplicates::{self, Compared};
use super::export::{cell, Export, ExportBatch};
use super::staff::Staff;
use super::{AppState, Error, Result};
use crate::db::cases::{ActionError, Applied, CaseDetail, CaseFilter, Cursor, SortOrder, Total};
use crate::db::models::{CaseRequestRow, GuidanceRow, QueueRow, UserRow};
use crate::db::{self, DbConnection, DbError};
use crate::domain::fields::ContactEmail;
use crate::domain::staff::Permission;
use crate::domain::workflow::CaseAction;
use crate::domain::{CaseReference, Status};
use crate::email::{CaseFacts, Guidance, Mail, Outcome};

/// Every queue with its open cases.
pub async fn queues(app: &AppState) -> Result<Vec<(QueueRow, i64)>> {
    Ok(db::run(&app.pool, |conn| db::queues::with_open_counts(conn)).await?)
}

/// One page of a queue (or of every queue the person may see, `queue: None`).
pub struct Listing {
    pub queue_name: Option<String>,
    pub rows: Vec<CaseRequestRow>,
    pub next: Option<Cursor>,
    pub total: Total,
    /// Names of the assignees on the page, by user id.
    pub names: std::collections::HashMap<String, String>,
    /// Whom the page offers as assignee in its filter.
    pub assignees: Vec<UserRow>,
    /// The ids of the cases on the page with an answer staff have not seen.
    pub new_replies: std::collections::HashSet<String>,
}

pub async fn list(
    app: &AppState,
    staff: &Staff,
    queue: Option<String>,
    filter: CaseFilter,
    order: SortOrder,
    after: Option<Cursor>,
    page_size: i64,
) -> Result<Listing> {
    if !staff.can(Permission::WorkOwnQueues) {
        return Err(Error::Forbidden);
    }
    if let Some(slug) = &queue {
        if !staff.can_work_queue(slug) {
            return Err(Error::Forbidden);
        }
    }
    db::run(&app.pool, move |conn| {
        let queue_name = match &queue {
            Some(slug) => match db::queues::find(conn, slug) {
                Ok(q) => Some(q.name),
                Err(e) if e.is_not_found() => return Ok(None),
                Err(e) => return Err(e),
            },
            None => None,
        };
        let total = db::cases::count(conn, &filter)?;
        // Nothing to list: no index scan in search of rows that are not there.
        let (rows, next) = if total == Total::Exact(0) {
            (Vec::new(), None)
        } else {
            db::cases::list(conn, &filter, order, after.as_ref(), page_size)?
        };
        let ids: Vec<String> = rows.iter().filter_map(|r| r.assignee_id.clone()).collect();
        let names = db::cases::user_names(conn, &ids)?;
        let on_page: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let new_replies = db::messages::with_unseen_reply(conn, &on_page)?;
        let assignees = match &queue {
            Some(s) => db::staff::assignable(conn, s)?,
            None => db::staff::list(conn)?,
        };
        Ok(Some(Listing {
            queue_name,
            rows,
            next,
            total,
            names,
            assignees,
            new_replies,
        }))
    })
    .await?
    .ok_or(Error::NotFound)
}

/// A case as its page shows it.
pub struct Opened {
    pub detail: CaseDetail,
    pub guidance: Option<GuidanceRow>,
    pub assignees: Vec<UserRow>,
    pub queues: Vec<QueueRow>,
    pub duplicates: Vec<Compared>,
    /// The correspondence, oldest first, each message with the state of its mail.
    pub messages: Vec<db::messages::Delivered>,
    /// Whether the request has an address mail to the requester can go to.
    pub reachable_by_mail: bool,
    /// The saved replies for the case's category (or any category).
    pub replies: Vec<db::replies::SavedReply>,
    /// The files that came with the case's mail (no bytes).
    pub attachments: Vec<db::mail_in::AttachmentInfo>,
    /// The case's escalation, if it was ever urgent.
    pub escalation: Option<db::escalation::EscalationRow>,
}

/// Opens a case for a staff member who may work its queue. Every view of a case's
/// personal data (and of the candidates compared with it) is on the record.
pub async fn open(
    app: &AppState,
    staff: &Staff,
    reference: CaseReference,
    now: NaiveDateTime,
) -> Result<Opened> {
    if !staff.can(Permission::WorkOwnQueues) {
        return Err(Error::Forbidden);
    }
    let staff = staff.clone();
    db::run_as(&app.pool, move |conn| {
        let detail = db::cases::detail(conn, &reference.to_string())?.ok_or(Error::NotFound)?;
        if !staff.can_work_queue(&detail.case.queue_slug) {
            return Err(Error::Forbidden);
        }
        let actor = staff.actor();
        let case = &detail.case;
        db::cases::audit(
            conn,
            Some(&case.id),
            &actor,
            "viewed",
            "case page".into(),
            now,
        )?;
        let guidance = db::requests::guidance_for(conn, case.category)?;
        let assignees = db::staff::assignable(conn, &case.queue_slug)?;
        let queues = db::queues::all(conn)?;
        let duplicates = duplicates::compared(conn, case, &actor, now)?;
        // The view above is on the record; the answers shown are now seen.
        let messages = db::messages::of_request(conn, &case.id)?;
        db::messages::mark_seen(conn, &case.id, now)?;
        let reachable_by_mail =
            super::correspondence::requester_address(detail.personal.as_ref()).is_some();
        let mut replies = db::replies::list(conn)?;
        replies.retain(|r| r.category.is_none_or(|c| c == case.category));
        let attachments = db::mail_in::attachments_of(conn, &case.id)?;
        let escalation = db::escalation::find(conn, &case.id)?;
        Ok(Opened {
            attachments,
            escalation,
            detail,
            guidance,
            assignees,
            queues,
            duplicates,
            messages,
            reachable_by_mail,
            replies,
        })
    })
    .await
}

/// Applies `action` to the case `reference` for `staff`. The change, its audit row and the
/// mail and webhook it causes commit together; the outbox worker is woken after.
pub async fn act(
    app: &AppState,
    staff: &Staff,
    reference: CaseReference,
    action: CaseAction,
    now: NaiveDateTime,
) -> Result<()> {
    if !staff.can(Permission::WorkOwnQueues) {
        return Err(Error::Forbidden);
    }
    let escalation_action = match &action {
        CaseAction::Assign { to: Some(to) } => Some(*to == staff.id),
        _ => None,
    };
    let staff = staff.clone();
    let settings = app.settings.clone();
    let (mails, escalation) = db::run_as(&app.pool, move |conn| -> Result<_> {
        let case = db::requests::find_by_reference(conn, &reference.to_string())?
            .ok_or(Error::NotFound)?;
        if !staff.can_work_queue(&case.queue_slug) || !may(&staff, &action, &case) {
            return Err(Error::Forbidden);
        }
        let guidance = db::requests::guidance_for(conn, case.category)?;
        db::write_transaction(conn, |conn| {
            let active = |conn: &mut DbConnection| -> Result<_> {
                Ok(db::escalation::find(conn, &case.id)?.filter(|e| e.is_active()))
            };
            let before = active(conn)?;
            let mails = apply_in(
                conn,
                &settings,
                &staff.actor(),
                &case,
                action,
                guidance.as_ref(),
                now,
            )?;
            Ok((mails, (before, active(conn)?)))
        })
    })
    .await?;
    app.wake_for(mails);
    match escalation {
        // Started by this action: its first page is due now.
        (None, Some(_)) => app.escalation.wake(),
        // Ended by this action; by taking the case, it was acknowledged.
        (Some(before), None) if matches!(escalation_action, Some(true)) => {
            app.metrics.acknowledged(now - before.started_at)
        }
        _ => {}
    }
    Ok(())
}

/// Applies `action` to `case` inside the caller's write transaction, with its audit row and
/// the mail and webhook it causes; answers how many outbox rows it wrote.
pub(super) fn apply_in(
    conn: &mut DbConnection,
    settings: &crate::config::Settings,
    actor: &crate::domain::Actor,
    case: &CaseRequestRow,
    action: CaseAction,
    guidance: Option<&GuidanceRow>,
    now: NaiveDateTime,
) -> Result<usize> {
    let referral_text = guidance.map(|g| g.body.clone());
    let applied = db::cases::apply(conn, &case.id, action, actor, referral_text.as_deref(), now)
        .map_err(refused)?;
    super::escalation::after_action(conn, &applied, actor, now)?;
    let mut mails = 0;
    for mail in mails_for(conn, &applied, actor.staff_id().unwrap_or(""), guidance)? {
        mails += crate::email::enqueue(conn, settings, &mail, now.and_utc())?;
    }
    mails += usize::from(crate::email::webhook::enqueue_for(conn, &applied, now)?);
    Ok(mails)
}

/// What a mail about `case` may tell of it.
pub(super) fn facts_of(
    conn: &mut DbConnection,
    case: &CaseRequestRow,
) -> Result<CaseFacts, DbError> {
    Ok(CaseFacts {
        request_id: case.id.clone(),
        reference: case.reference.clone(),
        category: case.category,
        priority: case.priority,
        queue_name: db::queues::find(conn, &case.queue_slug)?.name,
    })
}

/// Who hears of news about `case`: its assignee while active, else the queue's list.
pub(super) fn assignee_or_queue(
    conn: &mut DbConnection,
    case: &CaseRequestRow,
) -> Result<Vec<ContactEmail>, DbError> {
    let assignee = match &case.assignee_id {
        Some(id) => db::staff::find(conn, id)?
            .filter(|u| u.active)
            .and_then(|u| ContactEmail::parse(&u.email).ok()),
        None => None,
    };
    Ok(match assignee {
        Some(a) => vec![a],
        None => {
            crate::email::address_list(&db::queues::find(conn, &case.queue_slug)?.notify_emails)
        }
    })
}

/// What a role may do beyond working its own queues: assigning someone else (or taking a
/// case away from its assignee), re-categorizing and moving need `AssignOthers`.
fn may(staff: &Staff, action: &CaseAction, case: &CaseRequestRow) -> bool {
    if staff.can(Permission::AssignOthers) {
        return true;
    }
    match action {
        CaseAction::Assign { to: Some(to) } => *to == staff.id,
        CaseAction::Assign { to: None } => case.assignee_id.as_deref() == Some(staff.id.as_str()),
        CaseAction::Recategorize { .. } | CaseAction::MoveQueue { .. } => false,
        _ => true,
    }
}

/// An action the workflow refused is the person's to correct; a storage failure is not.
pub(super) fn refused(e: ActionError) -> Error {
    match e {
        ActionError::Db(e) => Error::Db(e),
        other => Error::Invalid(other.to_string()),
    }
}

/// The mail an applied action causes: the new assignee hears of an assignment someone
/// else made; the requester hears when the request is referred out or resolved.
fn mails_for(
    conn: &mut DbConnection,
    applied: &Applied,
    actor_id: &str,
    guidance: Option<&GuidanceRow>,
) -> Result<Vec<Mail>, DbError> {
    let case = &applied.case;
    let facts = |conn: &mut DbConnection| facts_of(conn, case);
    let mut mails = Vec::new();
    match &applied.action {
        CaseAction::Assign { to: Some(user_id) } if user_id != actor_id => {
            if let Some(user) = db::staff::find(conn, user_id)? {
                if let Ok(to) = ContactEmail::parse(&user.email) {
                    mails.push(Mail::Assigned {
                        to,
                        case: facts(conn)?,
                    });
                }
            }
        }
        CaseAction::ChangeStatus { to, .. }
            if matches!(to, Status::ReferredOut | Status::Resolved) =>
        {
            let personal = db::requests::personal_data(conn, &case.id)?;
            let reply = personal.and_then(|p| p.applicant_email.or(p.submitter_email));
            if let Some(to_addr) = reply.and_then(|e| ContactEmail::parse(&e).ok()) {
                let case_facts = facts(conn)?;
                let language = case.language;
                let stored = guidance.map(|g| Guidance {
                    body: g.body.clone(),
                    next_steps: g.next_steps.clone(),
                });
                mails.push(Mail::StatusChanged {
                    to: to_addr,
                    language,
                    guidance: Guidance::in_language(language, case_facts.category, stored),
                    case: case_facts,
                    outcome: if *to == Status::ReferredOut {
                        Outcome::ReferredOut
                    } else {
                        Outcome::Resolved
                    },
                });
            }
        }
        _ => {}
    }
    Ok(mails)
}

/// Most cases one export batch reads.
const EXPORT_BATCH: i64 = 1000;

/// The cases `filter` selects as CSV, personal data included (internal notes too for a
/// role with `ExportNotes`), streamed batch by batch; the export is audited with
/// `description` (the filter as a query string) once its last batch has gone.
pub fn export(
    app: &AppState,
    staff: &Staff,
    queue: Option<String>,
    filter: CaseFilter,
    order: SortOrder,
    description: String,
) -> Result<tokio::sync::mpsc::Receiver<Vec<u8>>> {
    if !staff.can(Permission::ExportCases) || queue.is_some_and(|q| !staff.can_work_queue(&q)) {
        return Err(Error::Forbidden);
    }
    let with_notes = staff.can(Permission::ExportNotes);
    let mut header = vec![
        "reference",
        "created_at",
        "source",
        "category",
        "priority",
        "status",
        "queue",
        "assignee",
        "location",
        "household_size",
        "siv_status",
        "referral_program",
        "us_tie",
        "urgent_danger",
        "urgent_medical",
        "applicant_full_name",
        "applicant_date_of_birth",
        "applicant_phone",
        "applicant_whatsapp",
        "applicant_email",
        "submitter_kind",
        "submitter_name",
        "submitter_organization",
        "submitter_email",
        "submitter_phone",
        "siv_case_number",
        "referred_by",
        "description",
    ];
    if with_notes {
        header.push("internal_notes");
    }
    let mut after: Option<Cursor> = None;
    let export = Export {
        filename: "cases.csv",
        header,
        actor: staff.actor(),
        action: "exported",
    };
    Ok(super::export::stream(
        app.pool.clone(),
        export,
        move |exported| format!("{exported} cases as CSV ({description})"),
        move |conn| {
            let (rows, next) = db::cases::list(conn, &filter, order, after.as_ref(), EXPORT_BATCH)?;
            let mut records = Vec::with_capacity(rows.len());
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let personal = db::cases::personal_data_for(conn, &ids)?;
            let notes = if with_notes {
                db::cases::notes_for(conn, &ids)?
            } else {
                std::collections::HashMap::new()
            };
            let assignee_ids: Vec<String> =
                rows.iter().filter_map(|r| r.assignee_id.clone()).collect();
            let names = db::cases::user_names(conn, &assignee_ids)?;
            for r in &rows {
                let p = personal.get(&r.id);
                let pd = |f: fn(&crate::db::models::PersonalDataRow) -> Option<String>| {
                    p.and_then(f).unwrap_or_default()
                };
                let mut rec = vec![
                    r.reference.clone(),
                    r.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    r.source.to_string(),
                    r.category.to_string(),
                    r.priority.to_string(),
                    r.status.to_string(),
                    r.queue_slug.clone(),
                    r.assignee_id
                        .as_ref()
                        .and_then(|id| names.get(id).cloned())
                        .unwrap_or_default(),
                    r.applicant_location.to_string(),
                    r.household_size.map(|n| n.to_string()).unwrap_or_default(),
                    r.siv_status.to_string(),
                    r.referral_program.to_string(),
                    r.us_tie.to_string(),
                    r.urgent_danger.to_string(),
                    r.urgent_medical.to_string(),
                    pd(|p| Some(p.applicant_full_name.clone())),
                    pd(|p| p.birth_date().map(|b| b.gregorian())),
                    pd(|p| p.applicant_phone.clone()),
                    pd(|p| p.applicant_whatsapp.clone()),
                    pd(|p| p.applicant_email.clone()),
                    r.submitter_kind.to_string(),
                    pd(|p| p.submitter_name.clone()),
                    pd(|p| p.submitter_organization.clone()),
                    pd(|p| p.submitter_email.clone()),
                    pd(|p| p.submitter_phone.clone()),
                    pd(|p| p.siv_case_number.clone()),
                    pd(|p| p.referred_by.clone()),
                    pd(|p| p.description.clone()),
                ];
                if with_notes {
                    rec.push(
                        notes
                            .get(&r.id)
                            .cloned()
                            .unwrap_or_default()
                            .join("\n---\n"),
                    );
                }
                records.push(rec.iter().map(|v| cell(v)).collect());
            }
            let more = next.is_some();
            after = next;
            Ok(ExportBatch { records, more })
        },
    ))
}
