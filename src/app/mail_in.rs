//! Taking in a mail sent to the task-force mailbox, from any transport (drop folder, an
//! MTA's pipe, IMAP): one path behind them all. A mail becomes exactly one thing — an
//! answer on the case it replies to, a new request, a note of an automatic answer, a
//! bounce on the mail it reports, or mail kept raw for staff because it could not be
//! read — in one transaction with its ledger row, whose unique key (the Message-ID, else
//! a hash of the bytes) makes a second import of the same mail impossible.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use sha2::{Digest, Sha256};

use super::intake::Also;
use super::staff::Staff;
use super::{AppState, Error, Result};
use crate::config::Settings;
use crate::db::mail_in::{self as ledger, AttachmentRow, InboundRow, UnreadableRow};
use crate::db::models::{new_row_id, AuditEventRow, CaseRequestRow};
use crate::db::{self, DbConnection, DbError};
use crate::domain::correspondence::{MessageBody, MESSAGE_LIMIT};
use crate::domain::fields::{CaseNumber, ContactEmail, PersonName, PhoneNumber};
use crate::domain::intake::{Applicant, NewCaseRequest, Submitter, DESCRIPTION_MAX_CHARS};
use crate::domain::staff::Permission;
use crate::domain::vocab::{
    Location, OutboxKind, ReferralProgram, SivStatus, Source, SubmitterKind, UsTie,
};
use crate::domain::{Actor, CaseReference};
use crate::email::inbound::{self, Inbound, Unreadable, Writer};

pub use crate::domain::vocab::{MailOrigin as Origin, MailOutcome as Outcome};

/// What became of a mail.
#[derive(Debug, Clone)]
pub struct Taken {
    /// Its ledger row (the only thing logged about it).
    pub ledger_id: String,
    pub outcome: Outcome,
    /// The case it became or was added to.
    pub reference: Option<CaseReference>,
    /// Why it could not be read (no personal data: sizes and structure only).
    pub reason: Option<String>,
}

/// Takes one raw RFC 5322 message in. `Ok`: stored for good (or a duplicate delivery of a
/// mail already taken). `Err`: nothing was stored (the database could not be reached); the
/// caller keeps the mail and offers it again later.
pub async fn take(app: &AppState, raw: Vec<u8>, origin: Origin) -> Result<Taken> {
    take_at(app, raw, origin, app.clock.now()).await
}

/// `take`, at a given time.
pub async fn take_at(
    app: &AppState,
    raw: Vec<u8>,
    origin: Origin,
    now: DateTime<Utc>,
) -> Result<Taken> {
    let key = inbound::ledger_key(&raw);
    let taken = match already(app, &key).await? {
        Some(t) => t,
        None => take_new(app, raw, origin, key.clone(), None, now).await?,
    };
    app.metrics.mail_taken_in(taken.outcome);
    tracing::info!(
        ledger_id = %taken.ledger_id,
        outcome = %taken.outcome,
        origin = %origin,
        "mail taken in"
    );
    Ok(taken)
}

/// The ledger's answer for a key already taken: a duplicate delivery.
async fn already(app: &AppState, key: &str) -> Result<Option<Taken>> {
    let key = key.to_string();
    let row = db::run(&app.pool, move |conn| ledger::by_key(conn, &key)).await?;
    Ok(row.map(|r| Taken {
        ledger_id: r.id,
        outcome: Outcome::Duplicate,
        reference: None,
        reason: None,
    }))
}

/// A mail not in the ledger yet. `replacing`: the ledger row of an unreadable mail that
/// staff retry, which the new outcome replaces.
async fn take_new(
    app: &AppState,
    raw: Vec<u8>,
    origin: Origin,
    key: String,
    replacing: Option<String>,
    now: DateTime<Utc>,
) -> Result<Taken> {
    let settings = app.settings.clone();
    let own_domain = settings.mail.from.email.domain().to_ascii_lowercase();
    let entry = Entry {
        id: replacing.clone().unwrap_or_else(new_row_id),
        key: key.clone(),
        origin,
        replacing: replacing.is_some(),
        now: now.naive_utc(),
    };
    let mail = match inbound::read(&raw, settings.mail_in.limits(), &own_domain) {
        Ok(mail) => mail,
        Err(why) => return keep_unreadable(app, entry, raw, why).await,
    };
    let result = match &mail.writer {
        Writer::Bounce(_) => file_bounce(app, entry, mail, &own_domain).await,
        _ => match find_case(app, &mail, &own_domain).await? {
            Some(Thread::Requester(case)) => add_to_case(app, entry, mail, case).await,
            Some(Thread::StaffNotice(case)) => note_staff_reply(app, entry, case).await,
            None => new_request(app, entry, mail, now).await,
        },
    };
    match result {
        Err(e) if is_db(&e) => match already(app, &key).await? {
            // Another instance, or a delivery racing this one, took it first.
            Some(t) if replacing.is_none() => Ok(t),
            _ => Err(e),
        },
        other => other,
    }
}

fn is_db(e: &Error) -> bool {
    matches!(e, Error::Db(_))
}

/// The ledger row every outcome writes.
struct Entry {
    id: String,
    key: String,
    origin: Origin,
    /// The row exists (an unreadable mail retried): update it instead of inserting.
    replacing: bool,
    now: NaiveDateTime,
}

impl Entry {
    fn write(
        &self,
        conn: &mut DbConnection,
        outcome: Outcome,
        request_id: Option<&str>,
        sender_hash: Option<String>,
        acknowledged: bool,
    ) -> Result<(), DbError> {
        if self.replacing {
            return ledger::set_outcome(conn, &self.id, outcome, request_id);
        }
        ledger::record(
            conn,
            &InboundRow {
                id: self.id.clone(),
                ledger_key: self.key.clone(),
                origin: self.origin,
                outcome,
                request_id: request_id.map(str::to_string),
                outbox_id: None,
                sender_hash,
                acknowledged,
                received_at: self.now,
            },
        )
    }
}

/// Keeps a mail that could not be read, raw (cut at the size limit), for staff.
async fn keep_unreadable(
    app: &AppState,
    entry: Entry,
    mut raw: Vec<u8>,
    why: Unreadable,
) -> Result<Taken> {
    let size = raw.len() as i64;
    raw.truncate(app.settings.mail_in.max_bytes);
    let id = entry.id.clone();
    let reason = why.to_string();
    db::run(&app.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            if entry.replacing {
                // Retried and still unreadable: it stays on the list, as it was.
                return Ok(());
            }
            entry.write(conn, Outcome::Unreadable, None, None, false)?;
            ledger::keep_unreadable(
                conn,
                &UnreadableRow {
                    id: entry.id.clone(),
                    reason: why.to_string(),
                    raw,
                    size,
                    state: ledger::WAITING.into(),
                    resolved_by: None,
                    resolved_at: None,
                    received_at: entry.now,
                },
            )
        })
    })
    .await?;
    Ok(Taken {
        ledger_id: id,
        outcome: Outcome::Unreadable,
        reference: None,
        reason: Some(reason),
    })
}

/// What a mail answers.
enum Thread {
    /// Mail we sent the requester (acknowledgment, message, status change), the case's reply
    /// token, or a subject reference from the case's own requester.
    Requester(CaseRequestRow),
    /// A notice we sent staff about the case (a page, a new request, an SLA warning…).
    StaffNotice(CaseRequestRow),
}

/// The case a mail belongs to: a reply to one of our Message-IDs, mail to a case's reply
/// token, or a subject reference from that case's own requester.
async fn find_case(app: &AppState, mail: &Inbound, own_domain: &str) -> Result<Option<Thread>> {
    let ours: Vec<String> = mail
        .answers
        .iter()
        .filter_map(|id| id.rsplit_once('@'))
        .filter(|(_, d)| d.eq_ignore_ascii_case(own_domain))
        .map(|(local, _)| local.to_string())
        .collect();
    let tokens: Vec<String> = match &app.settings.reply_to {
        Some(reply_to) => mail
            .recipients
            .iter()
            .filter_map(|r| crate::domain::correspondence::token_of(reply_to.as_str(), r))
            .collect(),
        None => Vec::new(),
    };
    let references = mail.subject_references();
    let sender = mail.from.as_str().to_ascii_lowercase();
    Ok(db::run(&app.pool, move |conn| {
        for sent in ledger::sent_mail(conn, &ours)? {
            if let Some(case) = request(conn, sent.request_id.as_deref())? {
                let to_requester = matches!(
                    sent.kind,
                    OutboxKind::Acknowledgment | OutboxKind::Message | OutboxKind::StatusChanged
                );
                return Ok(Some(if to_requester {
                    Thread::Requester(case)
                } else {
                    Thread::StaffNotice(case)
                }));
            }
        }
        for token in &tokens {
            let id = ledger::request_of_token(conn, token)?;
            if let Some(case) = request(conn, id.as_deref())? {
                return Ok(Some(Thread::Requester(case)));
            }
        }
        for reference in &references {
            let Some(case) = db::requests::find_by_reference(conn, reference.as_str())? else {
                continue;
            };
            let personal = db::requests::personal_data(conn, &case.id)?;
            let from_requester = personal.is_some_and(|p| {
                [p.applicant_email, p.submitter_email]
                    .into_iter()
                    .flatten()
                    .any(|e| e.eq_ignore_ascii_case(&sender))
            });
            if from_requester {
                return Ok(Some(Thread::Requester(case)));
            }
        }
        Ok(None)
    })
    .await?)
}

fn request(conn: &mut DbConnection, id: Option<&str>) -> Result<Option<CaseRequestRow>, DbError> {
    let Some(id) = id else { return Ok(None) };
    Ok(db::requests::find_by_ids(conn, &[id.to_string()])?
        .into_iter()
        .next())
}

/// An answer on its case: the requester's reply (stored as an incoming message, which
/// reopens and notifies as a status-page answer does), or an automatic answer, noted on
/// the case and nothing more.
async fn add_to_case(
    app: &AppState,
    entry: Entry,
    mail: Inbound,
    case: CaseRequestRow,
) -> Result<Taken> {
    let settings = app.settings.clone();
    let outcome = match mail.writer {
        Writer::Person => Outcome::Threaded,
        Writer::AutoReply => Outcome::OutOfOffice,
        _ => Outcome::Automatic,
    };
    let id = entry.id.clone();
    let reference = case.reference.clone();
    let mails = db::run_as(&app.pool, move |conn| -> Result<usize> {
        db::write_transaction(conn, |conn| {
            entry.write(conn, outcome, Some(&case.id), None, false)?;
            let files = attachment_rows(&settings, &entry.id, &case.id, &mail, entry.now);
            ledger::attach(conn, &files)?;
            if outcome != Outcome::Threaded {
                let what = if outcome == Outcome::OutOfOffice {
                    "an out-of-office answer to our mail arrived"
                } else {
                    "an automatic mail about this case arrived"
                };
                db::cases::audit(
                    conn,
                    Some(&case.id),
                    &Actor::Mail,
                    "mail_automatic",
                    what.into(),
                    entry.now,
                )?;
                return Ok(0);
            }
            let body = MessageBody::parse(&answer_text(&mail), MESSAGE_LIMIT)
                .map_err(|e| Error::Invalid(e.to_string()))?;
            super::correspondence::take_answer(conn, &settings, &case, Actor::Mail, body, entry.now)
        })
    })
    .await?;
    app.wake_for(mails);
    Ok(Taken {
        ledger_id: id,
        outcome,
        reference: CaseReference::parse(&reference),
        reason: None,
    })
}

/// A reply to a notice we sent staff: noted on the case's timeline, never taken as the
/// requester's answer (nor shown to them); the mail itself stays where it came from.
async fn note_staff_reply(app: &AppState, entry: Entry, case: CaseRequestRow) -> Result<Taken> {
    let id = entry.id.clone();
    let reference = case.reference.clone();
    db::run(&app.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            entry.write(conn, Outcome::Automatic, Some(&case.id), None, false)?;
            db::cases::audit(
                conn,
                Some(&case.id),
                &Actor::Mail,
                "mail_staff_reply",
                "a reply to a staff notice about this case arrived by mail; it is not the \
                 requester's answer and was not added to the conversation"
                    .into(),
                entry.now,
            )
        })
    })
    .await?;
    Ok(Taken {
        ledger_id: id,
        outcome: Outcome::Automatic,
        reference: CaseReference::parse(&reference),
        reason: None,
    })
}

/// The text of a reply as the case shows it: what the sender wrote above the quote of our
/// mail, at most `MESSAGE_LIMIT` characters (the whole mail stays in the attachments when
/// longer).
fn answer_text(mail: &Inbound) -> String {
    let text = strip_quote(&mail.text);
    let text = if text.trim().is_empty() {
        if mail.files.is_empty() {
            "(The mail had no text.)".to_string()
        } else {
            "(The mail had no text; see its attachments.)".to_string()
        }
    } else {
        text
    };
    cut(&text, MESSAGE_LIMIT)
}

/// A reply's own text: lines up to the first quoted block (`> …`) or "On … wrote:".
fn strip_quote(text: &str) -> String {
    let mut kept = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with('>') {
            break;
        }
        let lower = t.to_lowercase();
        if (lower.starts_with("on ") && lower.trim_end().ends_with("wrote:"))
            || lower.starts_with("-----original message-----")
        {
            break;
        }
        kept.push(line);
    }
    kept.join("\n").trim().to_string()
}

/// `text` cut to at most `limit` characters.
fn cut(text: &str, limit: usize) -> String {
    text.chars().take(limit).collect()
}

/// A delivery-status report: recorded on the outgoing mail it reports (the outbox and the
/// case show it); never a request.
async fn file_bounce(
    app: &AppState,
    entry: Entry,
    mail: Inbound,
    own_domain: &str,
) -> Result<Taken> {
    let Writer::Bounce(bounce) = mail.writer else {
        unreachable!("only bounces are filed as bounces")
    };
    let ours: Vec<String> = bounce
        .about
        .iter()
        .filter_map(|id| id.rsplit_once('@'))
        .filter(|(_, d)| d.eq_ignore_ascii_case(own_domain))
        .map(|(local, _)| local.to_string())
        .collect();
    let id = entry.id.clone();
    let reference = db::run(&app.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let sent = ledger::sent_mail(conn, &ours)?;
            let case = sent.iter().find_map(|s| s.request_id.clone());
            entry.write(conn, Outcome::Bounce, case.as_deref(), None, false)?;
            let mut reference = None;
            for s in &sent {
                let (outbox_id, request_id) = (&s.id, &s.request_id);
                let to = crate::email::mask(bounce.recipient.as_deref().unwrap_or(&s.recipient));
                let mut reason = format!("could not be delivered to {to}");
                if let Some(status) = &bounce.status {
                    reason.push_str(&format!(" (status {status})"));
                }
                if !ledger::record_bounce(conn, outbox_id, &entry.id, &reason, entry.now)? {
                    continue;
                }
                if let Some(case) = request(conn, request_id.as_deref())? {
                    db::cases::audit(
                        conn,
                        Some(&case.id),
                        &Actor::Mail,
                        "mail_bounced",
                        format!("a mail {reason}"),
                        entry.now,
                    )?;
                    reference = Some(case.reference);
                }
            }
            Ok::<_, DbError>(reference)
        })
    })
    .await?;
    Ok(Taken {
        ledger_id: id,
        outcome: Outcome::Bounce,
        reference: reference.as_deref().and_then(CaseReference::parse),
        reason: None,
    })
}

/// A keyed hash of a sender's address, to count acknowledgments without storing it.
fn sender_hash(address: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"case-triage mail sender\0");
    h.update(address.to_ascii_lowercase().as_bytes());
    inbound::hex(&h.finalize())
}

/// A new request from a mail: the sender as submitter, the subject and text as the
/// description, category "Other request" until staff re-categorize it, acknowledged in the
/// mail's language unless the mail is automatic or the sender had their hourly share.
async fn new_request(
    app: &AppState,
    entry: Entry,
    mail: Inbound,
    now: DateTime<Utc>,
) -> Result<Taken> {
    let settings = app.settings.clone();
    let hash = sender_hash(mail.from.as_str());
    let person = mail.writer == Writer::Person;
    let acknowledge = person && {
        let hash = hash.clone();
        let limit = i64::from(settings.mail_in.acks_per_hour);
        let since = entry.now - Duration::hours(1);
        db::run(&app.pool, move |conn| {
            ledger::acknowledgments_since(conn, &hash, since)
        })
        .await?
            < limit
    };
    let mentions = mail.subject_references();
    let outcome = match (person, mentions.is_empty()) {
        (false, _) => Outcome::Automatic,
        (true, false) => Outcome::Mentions,
        (true, true) => Outcome::NewRequest,
    };
    let request = request_of(&settings, &mail);
    let files = Arc::new(mail);
    let entry = Arc::new(entry);
    let write = {
        let (entry, files, settings) = (entry.clone(), files.clone(), settings.clone());
        move |conn: &mut DbConnection,
              row: &CaseRequestRow|
              -> Result<Vec<AuditEventRow>, DbError> {
            entry.write(
                conn,
                outcome,
                Some(&row.id),
                Some(hash.clone()),
                acknowledge,
            )?;
            let mut rows = attachment_rows(&settings, &entry.id, &row.id, &files, entry.now);
            rows.extend(full_text_row(&entry.id, &row.id, &files, entry.now));
            ledger::attach(conn, &rows)?;
            Ok(mentions
                .iter()
                .map(|r| {
                    AuditEventRow::new(
                        Some(&row.id),
                        &Actor::Mail,
                        "mail_mentions",
                        format!(
                            "mentions {}: the mail quotes that reference in its subject and was not \
                             sent by that case's requester; link the two only if they are the same person",
                            r.as_str()
                        ),
                        entry.now,
                    )
                })
                .collect())
        }
    };
    let also = Also {
        acknowledge,
        write: Arc::new(write),
    };
    let created =
        super::intake::submit_with(app, vec![request], Actor::Mail, None, now, Some(also))
            .await
            .map_err(Error::from)?;
    let row = &created
        .first()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("no request stored")))?
        .row;
    Ok(Taken {
        ledger_id: entry.id.clone(),
        outcome,
        reference: CaseReference::parse(&row.reference),
        reason: None,
    })
}

/// The request a new mail makes.
fn request_of(settings: &Settings, mail: &Inbound) -> NewCaseRequest {
    let domain = mail.sender_domain();
    let kind = if settings.mail_in.agency_domains.contains(&domain) {
        SubmitterKind::AgencyOffice
    } else if settings.mail_in.organization_domains.contains(&domain) {
        SubmitterKind::Organization
    } else {
        // "self" or "sponsor": only the sender knows; staff set it.
        SubmitterKind::SelfApplicant
    };
    let name = mail
        .from_name
        .as_deref()
        .and_then(|n| PersonName::parse(n).ok())
        .or_else(|| PersonName::parse(mail.from.as_str().split('@').next()?).ok())
        .unwrap_or_else(|| PersonName::parse("Unknown sender").expect("a valid name"));
    let language = mail.language(settings.mail_in.arabic_script_language);
    // A number written without its country code is read where the sender most likely is:
    // Pakistan for a .pk address, else Afghanistan for mail in Dari or Pashto.
    let home = if domain.ends_with(".pk") {
        Some(phonenumber::country::Id::PK)
    } else if language != crate::domain::Language::En || domain.ends_with(".af") {
        Some(phonenumber::country::Id::AF)
    } else {
        None
    };
    let phone = inbound::phone_numbers_in(&mail.text)
        .into_iter()
        .find_map(|p| PhoneNumber::parse(&p, home).ok());
    let siv_case_number = inbound::case_numbers_in(&mail.text)
        .into_iter()
        .find_map(|n| CaseNumber::parse(&n).ok());
    let description = description_of(mail);
    let own = kind == SubmitterKind::SelfApplicant;
    NewCaseRequest {
        source: Source::Email,
        entered_by: None,
        submitter: Submitter {
            kind,
            name: Some(name.clone()),
            email: Some(mail.from.clone()),
            phone: None,
            organization: (!own).then_some(domain),
        },
        applicant: Applicant {
            full_name: name,
            date_of_birth: None,
            phone,
            whatsapp: None,
            email: own.then(|| mail.from.clone()),
            // Unknown until staff read the mail.
            location: Location::Elsewhere,
            household_size: None,
        },
        siv_status: SivStatus::None,
        siv_case_number,
        referral_program: ReferralProgram::None,
        referred_by: None,
        claimed_programs: Default::default(),
        us_tie: UsTie::None,
        danger: false,
        medical: false,
        description: Some(description),
        language,
    }
}

/// Subject and text, at most the description's length.
fn description_of(mail: &Inbound) -> String {
    let text = match (mail.subject.is_empty(), mail.text.trim().is_empty()) {
        (true, true) => "(The mail had no subject and no text.)".to_string(),
        (false, true) => mail.subject.clone(),
        (true, false) => mail.text.trim().to_string(),
        (false, false) => format!("{}\n\n{}", mail.subject, mail.text.trim()),
    };
    cut(&text, DESCRIPTION_MAX_CHARS)
}

/// The whole text as a file when the description had to be cut.
fn full_text_row(
    inbound_id: &str,
    request_id: &str,
    mail: &Inbound,
    now: NaiveDateTime,
) -> Option<AttachmentRow> {
    let whole = format!("{}\n\n{}", mail.subject, mail.text);
    if whole.chars().count() <= DESCRIPTION_MAX_CHARS {
        return None;
    }
    Some(attachment_row(
        inbound_id,
        request_id,
        "message.txt",
        "text/plain",
        whole.into_bytes(),
        usize::MAX,
        now,
    ))
}

/// The rows of a mail's files: sniffed, hashed, kept when within the limit.
fn attachment_rows(
    settings: &Settings,
    inbound_id: &str,
    request_id: &str,
    mail: &Inbound,
    now: NaiveDateTime,
) -> Vec<AttachmentRow> {
    mail.files
        .iter()
        .map(|f| {
            attachment_row(
                inbound_id,
                request_id,
                &f.filename,
                &f.declared_type,
                f.data.clone(),
                settings.mail_in.max_file_bytes,
                now,
            )
        })
        .collect()
}

fn attachment_row(
    inbound_id: &str,
    request_id: &str,
    filename: &str,
    declared_type: &str,
    data: Vec<u8>,
    limit: usize,
    now: NaiveDateTime,
) -> AttachmentRow {
    let size = data.len();
    let kept = size <= limit;
    AttachmentRow {
        id: new_row_id(),
        request_id: request_id.to_string(),
        message_row_id: None,
        inbound_id: inbound_id.to_string(),
        filename: filename.to_string(),
        content_type: inbound::sniff(&data).to_string(),
        declared_type: declared_type.to_string(),
        size: size as i64,
        sha256: inbound::hex(&Sha256::digest(&data)),
        data: kept.then_some(data),
        refused: (!kept).then(|| {
            format!(
                "not kept: {} bytes, over the limit of {} bytes (MAIL_MAX_FILE_BYTES)",
                size, limit
            )
        }),
        created_at: now,
    }
}

/// The mail that could not be read, for the staff page.
pub async fn unreadable(app: &AppState, staff: &Staff) -> Result<Vec<ledger::UnreadableSummary>> {
    super::require(staff, Permission::ViewAuditLog)?;
    Ok(db::run(&app.pool, |conn| ledger::unreadable(conn, false)).await?)
}

/// What staff do with a mail that could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolve {
    /// Read it again (after a fix, or with higher limits).
    Retry,
    /// File it as a new request as it is: its raw text as the description.
    Convert,
    /// Throw it away (its bytes are emptied; the ledger row stays).
    Discard,
}

/// Resolves an unreadable mail, audited. Answers what became of it.
pub async fn resolve(
    app: &AppState,
    staff: &Staff,
    id: String,
    action: Resolve,
    now: DateTime<Utc>,
) -> Result<Taken> {
    super::require(staff, Permission::ViewAuditLog)?;
    let actor = staff.actor();
    let lookup = id.clone();
    let row = db::run(&app.pool, move |conn| {
        ledger::unreadable_by_id(conn, &lookup)
    })
    .await?
    .filter(|r| r.state == ledger::WAITING)
    .ok_or(Error::NotFound)?;
    let by = actor.to_string();
    let taken = match action {
        Resolve::Discard => {
            close(app, &actor, &id, ledger::DISCARDED, "discarded", now).await?;
            Taken {
                ledger_id: id,
                outcome: Outcome::Unreadable,
                reference: None,
                reason: None,
            }
        }
        Resolve::Retry => {
            let key = db::run(&app.pool, {
                let id = id.clone();
                move |conn| ledger_key_of(conn, &id)
            })
            .await?;
            let taken =
                take_new(app, row.raw, Origin::DropFolder, key, Some(id.clone()), now).await?;
            if taken.outcome != Outcome::Unreadable {
                close(
                    app,
                    &actor,
                    &id,
                    ledger::RETRIED,
                    "retried and taken in",
                    now,
                )
                .await?;
            }
            taken
        }
        Resolve::Convert => {
            let text = String::from_utf8_lossy(&row.raw).into_owned();
            let request = raw_request(&app.settings, &text);
            let (id2, by2, actor2) = (id.clone(), by.clone(), actor.clone());
            let write = move |conn: &mut DbConnection,
                              req: &CaseRequestRow|
                  -> Result<Vec<AuditEventRow>, DbError> {
                ledger::set_outcome(conn, &id2, Outcome::NewRequest, Some(&req.id))?;
                ledger::resolve_unreadable(conn, &id2, ledger::CONVERTED, &by2, now.naive_utc())?;
                Ok(vec![AuditEventRow::new(
                    Some(&req.id),
                    &actor2,
                    "mail_unreadable_resolved",
                    format!("unreadable mail {id2}: turned into this request"),
                    now.naive_utc(),
                )])
            };
            let created = super::intake::submit_with(
                app,
                vec![request],
                staff.actor(),
                None,
                now,
                Some(Also {
                    acknowledge: false,
                    write: Arc::new(write),
                }),
            )
            .await
            .map_err(Error::from)?;
            Taken {
                ledger_id: id,
                outcome: Outcome::NewRequest,
                reference: created
                    .first()
                    .and_then(|c| CaseReference::parse(&c.row.reference)),
                reason: None,
            }
        }
    };
    Ok(taken)
}

/// Closes an unreadable mail with its audit row.
async fn close(
    app: &AppState,
    actor: &Actor,
    id: &str,
    state: &'static str,
    what: &'static str,
    now: DateTime<Utc>,
) -> Result<()> {
    let (actor, id) = (actor.clone(), id.to_string());
    db::run(&app.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            ledger::resolve_unreadable(conn, &id, state, &actor.to_string(), now.naive_utc())?;
            db::cases::audit(
                conn,
                None,
                &actor,
                "mail_unreadable_resolved",
                format!("unreadable mail {id}: {what}"),
                now.naive_utc(),
            )
        })
    })
    .await?;
    Ok(())
}

fn ledger_key_of(conn: &mut DbConnection, id: &str) -> Result<String, DbError> {
    ledger::key_of(conn, id)?.ok_or_else(|| DbError::Corrupt("inbound_mail row missing".into()))
}

/// A request from an unreadable mail's raw text, as staff asked.
fn raw_request(settings: &Settings, text: &str) -> NewCaseRequest {
    let sender = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            if !name.eq_ignore_ascii_case("from") {
                return None;
            }
            let a = value.rsplit('<').next()?.trim_end_matches('>').trim();
            ContactEmail::parse(a).ok()
        });
    let known = sender.is_some();
    let mail = Inbound {
        message_id: None,
        from: sender.unwrap_or_else(|| {
            ContactEmail::parse("unknown-sender@example.org").expect("a valid address")
        }),
        from_name: None,
        recipients: Vec::new(),
        subject: String::new(),
        answers: Vec::new(),
        text: text.to_string(),
        files: Vec::new(),
        writer: Writer::Person,
    };
    let mut request = request_of(settings, &mail);
    if !known {
        request.submitter.email = None;
        request.applicant.email = None;
    }
    request
}

/// A file of a case's mail, for a staff member who may work the case; the download is on
/// the record.
pub async fn download(
    app: &AppState,
    staff: &Staff,
    reference: CaseReference,
    id: String,
    now: NaiveDateTime,
) -> Result<AttachmentRow> {
    super::require(staff, Permission::WorkOwnQueues)?;
    let staff = staff.clone();
    db::run_as(&app.pool, move |conn| {
        let case = db::requests::find_by_reference(conn, reference.as_str())?
            .filter(|c| staff.can_work_queue(&c.queue_slug))
            .ok_or(Error::NotFound)?;
        let file = ledger::attachment(conn, &case.id, &id)?
            .filter(|f| f.data.is_some())
            .ok_or(Error::NotFound)?;
        db::cases::audit(
            conn,
            Some(&case.id),
            &staff.actor(),
            "attachment_downloaded",
            format!("file {}", file.id),
            now,
        )?;
        Ok(file)
    })
    .await
}

/// The raw bytes of an unreadable mail, for staff who may see it; on the record.
pub async fn raw(app: &AppState, staff: &Staff, id: String, now: NaiveDateTime) -> Result<Vec<u8>> {
    super::require(staff, Permission::ViewAuditLog)?;
    let actor = staff.actor();
    db::run_as(&app.pool, move |conn| {
        let row = ledger::unreadable_by_id(conn, &id)?.ok_or(Error::NotFound)?;
        db::cases::audit(
            conn,
            None,
            &actor,
            "mail_unreadable_viewed",
            format!("unreadable mail {id} downloaded"),
            now,
        )?;
        Ok(row.raw)
    })
    .await
}
