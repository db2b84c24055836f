//! The conversation with the requester: a caseworker writes (previewed first, optionally
//! with a status change in the same commit), the requester answers on the status page or a
//! partner on their behalf. Each owns its transaction, audit row, outbox rows and wake-up.

use chrono::NaiveDateTime;

use super::staff::Staff;
use super::{AppState, Error, Result};
use crate::config::Settings;
use crate::db::models::{CaseRequestRow, MessageRow, PersonalDataRow};
use crate::db::{self, DbConnection};
use crate::domain::correspondence::{self, Filled, MessageBody, ANSWER_LIMIT, MESSAGE_LIMIT};
use crate::domain::fields::ContactEmail;
use crate::domain::staff::Permission;
use crate::domain::vocab::Direction;
use crate::domain::workflow::CaseAction;
use crate::domain::{Actor, CaseReference, Language, Status};
use crate::email::{self, Guidance, Mail, Rendered};

/// Where mail to the requester goes: the applicant's address, else the submitter's.
pub fn requester_address(personal: Option<&PersonalDataRow>) -> Option<ContactEmail> {
    let p = personal?;
    [&p.applicant_email, &p.submitter_email]
        .into_iter()
        .flatten()
        .find_map(|e| ContactEmail::parse(e).ok())
}

/// What a caseworker wrote to the requester, as the compose form sends it.
#[derive(Debug, Clone)]
pub struct Compose {
    pub language: Language,
    /// The text as typed; may hold `{reference}`, `{guidance}`, `{status_page}`.
    pub text: String,
    /// A status to set in the same action (e.g. "Awaiting information").
    pub status: Option<Status>,
    /// The saved reply the text was started from: it must have a text in `language`.
    pub reply: Option<String>,
}

/// A message as it will go out, for the preview.
pub struct Preview {
    /// The mail, when the request has an address; else the text the status page shows.
    pub mail: Option<Rendered>,
    pub body: String,
}

/// The message `compose` makes for `case`: placeholders filled with the case's values in
/// the message's language, checked against the limits.
fn body_for(
    conn: &mut DbConnection,
    settings: &Settings,
    case: &CaseRequestRow,
    compose: &Compose,
) -> Result<MessageBody> {
    if let Some(id) = &compose.reply {
        super::replies::text_in(db::replies::find(conn, id)?.as_ref(), compose.language)?;
    }
    correspondence::check_placeholders(&compose.text).map_err(|e| Error::Invalid(e.to_string()))?;
    let stored = db::requests::guidance_for(conn, case.category)?.map(|g| Guidance {
        body: g.body,
        next_steps: g.next_steps,
    });
    let guidance = Guidance::in_language(compose.language, case.category, stored);
    let guidance = [guidance.body, guidance.next_steps]
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    let status_page = email::mails::page_link(&settings.base_url, "/status");
    let filled = correspondence::fill(
        &compose.text,
        &Filled {
            reference: &case.reference,
            guidance: &guidance,
            status_page: &status_page,
        },
    );
    MessageBody::parse(&filled, MESSAGE_LIMIT).map_err(|e| Error::Invalid(e.to_string()))
}

/// A case `staff` may write on: in one of their queues.
fn writable(
    conn: &mut DbConnection,
    staff: &Staff,
    reference: &CaseReference,
) -> Result<CaseRequestRow> {
    let case = db::requests::find_by_reference(conn, reference.as_str())?.ok_or(Error::NotFound)?;
    if !staff.can_work_queue(&case.queue_slug) {
        return Err(Error::Forbidden);
    }
    Ok(case)
}

/// The mail of a message to the requester at `to`, Reply-To with the case's token.
fn message_mail(
    conn: &mut DbConnection,
    settings: &Settings,
    case: &CaseRequestRow,
    to: ContactEmail,
    language: Language,
    body: &MessageBody,
    token: &str,
) -> Result<Mail> {
    Ok(Mail::Message {
        to,
        case: super::cases::facts_of(conn, case)?,
        language,
        body: body.as_str().to_string(),
        reply_to: settings
            .reply_to
            .as_ref()
            .map(|r| correspondence::reply_address(r.as_str(), token)),
    })
}

/// Exactly what `send` would send, sending nothing.
pub async fn preview(
    app: &AppState,
    staff: &Staff,
    reference: CaseReference,
    compose: Compose,
) -> Result<Preview> {
    super::require(staff, Permission::WorkOwnQueues)?;
    let staff = staff.clone();
    let settings = app.settings.clone();
    db::run_as(&app.pool, move |conn| {
        let case = writable(conn, &staff, &reference)?;
        let body = body_for(conn, &settings, &case, &compose)?;
        let personal = db::requests::personal_data(conn, &case.id)?;
        let mail = match requester_address(personal.as_ref()) {
            // The token only shapes the Reply-To header, which the preview does not show.
            Some(to) => Some(
                message_mail(
                    conn,
                    &settings,
                    &case,
                    to,
                    compose.language,
                    &body,
                    "preview",
                )?
                .render(&settings.base_url)
                .map_err(|e| Error::Internal(e.into()))?,
            ),
            None => None,
        };
        Ok(Preview {
            mail,
            body: body.into_string(),
        })
    })
    .await
}

/// How a message went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// By mail, and on the status page.
    ByMail,
    /// The request has no address: on the status page only.
    StatusPageOnly,
}

/// Writes `compose` to the requester of `reference`: the message, its mail (with a
/// Message-ID and Reply-To that lead back to the case), the partner's webhook, the audit
/// row and the optional status change commit together.
pub async fn send(
    app: &AppState,
    staff: &Staff,
    reference: CaseReference,
    compose: Compose,
    now: NaiveDateTime,
) -> Result<Sent> {
    super::require(staff, Permission::WorkOwnQueues)?;
    let staff = staff.clone();
    let settings = app.settings.clone();
    let (sent, mails) = db::run_as(&app.pool, move |conn| -> Result<(Sent, usize)> {
        let case = writable(conn, &staff, &reference)?;
        let body = body_for(conn, &settings, &case, &compose)?;
        let personal = db::requests::personal_data(conn, &case.id)?;
        let to = requester_address(personal.as_ref());
        let guidance = db::requests::guidance_for(conn, case.category)?;
        let actor = staff.actor();
        db::write_transaction(conn, |conn| {
            let token = db::messages::reply_token(conn, &case.id, now)?;
            let mut mails = 0;
            let (outbox_id, sent) = match to {
                Some(to) => {
                    let mail =
                        message_mail(conn, &settings, &case, to, compose.language, &body, &token)?;
                    let ids = email::enqueue_ids(conn, &settings, &mail, now.and_utc())?;
                    mails += ids.len();
                    (ids.into_iter().next(), Sent::ByMail)
                }
                None => (None, Sent::StatusPageOnly),
            };
            db::messages::insert(
                conn,
                &MessageRow {
                    id: db::models::new_row_id(),
                    request_id: case.id.clone(),
                    direction: Direction::Outgoing,
                    author: actor.clone(),
                    body: body.into_string(),
                    language: compose.language,
                    message_id: outbox_id
                        .as_deref()
                        .map(|id| email::transport::message_id(&settings.mail.from, id)),
                    outbox_id,
                    thread_token: Some(token),
                    created_at: now,
                    seen_by_staff_at: Some(now),
                },
            )?;
            let how = match sent {
                Sent::ByMail => "by mail and on the status page",
                Sent::StatusPageOnly => "on the status page only (no address)",
            };
            db::cases::audit(
                conn,
                Some(&case.id),
                &actor,
                "message_sent",
                format!("wrote to the requester in {}, {how}", compose.language),
                now,
            )?;
            mails += usize::from(email::webhook::enqueue_message(conn, &case, now)?);
            if let Some(to) = compose.status.filter(|s| *s != case.status) {
                let action = CaseAction::ChangeStatus {
                    to,
                    referral_partner: None,
                };
                mails += super::cases::apply_in(
                    conn,
                    &settings,
                    &actor,
                    &case,
                    action,
                    guidance.as_ref(),
                    now,
                )?;
            }
            Ok((sent, mails))
        })
    })
    .await?;
    app.wake_for(mails);
    Ok(sent)
}

/// Why an answer was not taken.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// No request behind the reference and code (or not the partner's): the same as unknown.
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Body(#[from] correspondence::BodyError),
    #[error(transparent)]
    Failed(#[from] Error),
}

impl From<db::DbError> for AnswerError {
    fn from(e: db::DbError) -> Self {
        AnswerError::Failed(e.into())
    }
}

/// Who answers, and how they prove the request is theirs.
pub enum Answerer {
    /// The requester on the status page: reference and status-check code (its hash).
    Requester {
        reference: Option<CaseReference>,
        code_hash: String,
    },
    /// A partner, on behalf of the applicant of a request it submitted.
    Partner {
        partner_id: String,
        reference: CaseReference,
    },
}

/// Takes an answer to the task force: from the requester on the status page, or from a
/// partner on the applicant's behalf. A request that is not theirs is `NotFound`.
pub async fn answer(
    app: &AppState,
    who: Answerer,
    text: String,
    now: NaiveDateTime,
) -> Result<(), AnswerError> {
    let settings = app.settings.clone();
    let mails = db::run_as(&app.pool, move |conn| -> Result<usize, AnswerError> {
        let (case, author) = match &who {
            Answerer::Requester {
                reference,
                code_hash,
            } => (
                super::requests::behind_code(conn, reference.as_ref(), code_hash)?,
                Actor::Requester,
            ),
            Answerer::Partner {
                partner_id,
                reference,
            } => (
                super::requests::own(conn, partner_id, reference)?,
                Actor::Partner(partner_id.clone()),
            ),
        };
        let case = case.ok_or(AnswerError::NotFound)?;
        let body = MessageBody::parse(&text, ANSWER_LIMIT)?;
        Ok(take_answer(conn, &settings, &case, author, body, now)?)
    })
    .await?;
    app.wake_for(mails);
    Ok(())
}

/// Stores an answer as an incoming message with its audit row, moves a case that was
/// waiting for it back to "In progress" (`REPLY_REOPENS`), and tells its assignee (else
/// its queue) in a mail that names the reference only.
pub(super) fn take_answer(
    conn: &mut db::Conn,
    settings: &Settings,
    case: &CaseRequestRow,
    author: Actor,
    body: MessageBody,
    now: NaiveDateTime,
) -> Result<usize> {
    db::write_transaction(conn, |conn| {
        db::messages::insert(
            conn,
            &MessageRow {
                id: db::models::new_row_id(),
                request_id: case.id.clone(),
                direction: Direction::Incoming,
                author: author.clone(),
                body: body.into_string(),
                language: case.language,
                outbox_id: None,
                message_id: None,
                thread_token: None,
                created_at: now,
                seen_by_staff_at: None,
            },
        )?;
        db::cases::audit(
            conn,
            Some(&case.id),
            &author,
            "message_received",
            "the requester answered".into(),
            now,
        )?;
        let mut mails = 0;
        if settings.reply_reopens && case.status == Status::AwaitingInformation {
            let action = CaseAction::ChangeStatus {
                to: Status::InProgress,
                referral_partner: None,
            };
            mails += super::cases::apply_in(conn, settings, &author, case, action, None, now)?;
        }
        let to = super::cases::assignee_or_queue(conn, case)?;
        if !to.is_empty() {
            let mail = Mail::ReplyReceived {
                to,
                case: super::cases::facts_of(conn, case)?,
            };
            mails += email::enqueue(conn, settings, &mail, now.and_utc())?;
        }
        Ok(mails)
    })
}

/// The messages of a partner's request addressed to the requester, newest first; `None`
/// when the request is not the partner's.
pub async fn for_partner(
    app: &AppState,
    partner_id: String,
    reference: CaseReference,
) -> Result<Option<Vec<MessageRow>>> {
    Ok(db::run(&app.pool, move |conn| {
        let Some(case) = super::requests::own(conn, &partner_id, &reference)? else {
            return Ok(None);
        };
        Ok(Some(db::messages::addressed_to_requester(conn, &case.id)?))
    })
    .await?)
}
