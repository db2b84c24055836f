//! Mail taken in: the ledger (one row per mail, unique by its key), mail kept for staff
//! because it could not be read, the files that came with mail, and bounce reports.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    case_attachments, inbound_mail, outbox, outbox_bounces, reply_tokens, unreadable_mail,
};
use super::{DbConnection, DbError};
use crate::domain::vocab::{MailOrigin, MailOutcome};

/// One mail taken in, whatever became of it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = inbound_mail)]
#[diesel(treat_none_as_default_value = false)]
pub struct InboundRow {
    pub id: String,
    pub ledger_key: String,
    pub origin: MailOrigin,
    pub outcome: MailOutcome,
    pub request_id: Option<String>,
    pub outbox_id: Option<String>,
    pub sender_hash: Option<String>,
    pub acknowledged: bool,
    pub received_at: NaiveDateTime,
}

/// A mail that could not be read, as it arrived (cut at the size limit).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = unreadable_mail)]
#[diesel(treat_none_as_default_value = false)]
pub struct UnreadableRow {
    pub id: String,
    pub reason: String,
    pub raw: Vec<u8>,
    pub size: i64,
    pub state: String,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<NaiveDateTime>,
    pub received_at: NaiveDateTime,
}

/// What the list of unreadable mail shows: no content.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = unreadable_mail)]
pub struct UnreadableSummary {
    pub id: String,
    pub reason: String,
    pub size: i64,
    pub state: String,
    pub received_at: NaiveDateTime,
}

/// States of an unreadable mail.
pub const WAITING: &str = "waiting";
pub const RETRIED: &str = "retried";
pub const CONVERTED: &str = "converted";
pub const DISCARDED: &str = "discarded";

/// A file that came with a mail; `data` is `None` when it was not kept or was purged.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = case_attachments)]
#[diesel(treat_none_as_default_value = false)]
pub struct AttachmentRow {
    pub id: String,
    pub request_id: String,
    pub message_row_id: Option<String>,
    pub inbound_id: String,
    pub filename: String,
    pub content_type: String,
    pub declared_type: String,
    pub size: i64,
    pub sha256: String,
    pub data: Option<Vec<u8>>,
    pub refused: Option<String>,
    pub created_at: NaiveDateTime,
}

/// A case's attachment as its page lists it, without the bytes.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = case_attachments)]
pub struct AttachmentInfo {
    pub id: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub refused: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Writes the ledger row of a mail. A second mail with the same key fails with a unique
/// violation: the caller's transaction rolls back and the mail counts as a duplicate.
pub fn record(conn: &mut DbConnection, row: &InboundRow) -> Result<(), DbError> {
    diesel::insert_into(inbound_mail::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The ledger row of a mail by its key.
pub fn by_key(conn: &mut DbConnection, key: &str) -> Result<Option<InboundRow>, DbError> {
    Ok(inbound_mail::table
        .filter(inbound_mail::ledger_key.eq(key))
        .select(InboundRow::as_select())
        .first(conn)
        .optional()?)
}

/// The ledger key of row `id`.
pub fn key_of(conn: &mut DbConnection, id: &str) -> Result<Option<String>, DbError> {
    Ok(inbound_mail::table
        .find(id)
        .select(inbound_mail::ledger_key)
        .first(conn)
        .optional()?)
}

/// The request whose reply token is `token`.
pub fn request_of_token(conn: &mut DbConnection, token: &str) -> Result<Option<String>, DbError> {
    Ok(reply_tokens::table
        .filter(reply_tokens::token.eq(token))
        .select(reply_tokens::request_id)
        .first(conn)
        .optional()?)
}

/// Moves a ledger row to a new outcome (an unreadable mail retried or turned into a request).
pub fn set_outcome(
    conn: &mut DbConnection,
    id: &str,
    outcome: MailOutcome,
    request_id: Option<&str>,
) -> Result<(), DbError> {
    diesel::update(inbound_mail::table.find(id))
        .set((
            inbound_mail::outcome.eq(outcome),
            inbound_mail::request_id.eq(request_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// Acknowledgments sent to the sender with this hash since `since`.
pub fn acknowledgments_since(
    conn: &mut DbConnection,
    sender_hash: &str,
    since: NaiveDateTime,
) -> Result<i64, DbError> {
    Ok(inbound_mail::table
        .filter(inbound_mail::sender_hash.eq(sender_hash))
        .filter(inbound_mail::received_at.ge(since))
        .filter(inbound_mail::acknowledged.eq(true))
        .count()
        .get_result(conn)?)
}

pub fn keep_unreadable(conn: &mut DbConnection, row: &UnreadableRow) -> Result<(), DbError> {
    diesel::insert_into(unreadable_mail::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Unreadable mail, newest first: those waiting, or all.
pub fn unreadable(
    conn: &mut DbConnection,
    waiting_only: bool,
) -> Result<Vec<UnreadableSummary>, DbError> {
    let mut q = unreadable_mail::table
        .select(UnreadableSummary::as_select())
        .order(unreadable_mail::received_at.desc())
        .limit(500)
        .into_boxed();
    if waiting_only {
        q = q.filter(unreadable_mail::state.eq(WAITING));
    }
    Ok(q.load(conn)?)
}

pub fn unreadable_by_id(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<UnreadableRow>, DbError> {
    Ok(unreadable_mail::table
        .find(id)
        .select(UnreadableRow::as_select())
        .first(conn)
        .optional()?)
}

/// Closes an unreadable mail: retried, converted or discarded (its raw bytes emptied).
pub fn resolve_unreadable(
    conn: &mut DbConnection,
    id: &str,
    state: &str,
    by: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let target = unreadable_mail::table
        .find(id)
        .filter(unreadable_mail::state.eq(WAITING));
    let n = if state == DISCARDED {
        diesel::update(target)
            .set((
                unreadable_mail::state.eq(state),
                unreadable_mail::resolved_by.eq(by),
                unreadable_mail::resolved_at.eq(now),
                unreadable_mail::raw.eq(Vec::<u8>::new()),
            ))
            .execute(conn)?
    } else {
        diesel::update(target)
            .set((
                unreadable_mail::state.eq(state),
                unreadable_mail::resolved_by.eq(by),
                unreadable_mail::resolved_at.eq(now),
            ))
            .execute(conn)?
    };
    Ok(n == 1)
}

pub fn waiting_unreadable(conn: &mut DbConnection) -> Result<i64, DbError> {
    Ok(unreadable_mail::table
        .filter(unreadable_mail::state.eq(WAITING))
        .count()
        .get_result(conn)?)
}

pub fn attach(conn: &mut DbConnection, rows: &[AttachmentRow]) -> Result<(), DbError> {
    for row in rows {
        diesel::insert_into(case_attachments::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// A case's attachments, oldest first.
pub fn attachments_of(
    conn: &mut DbConnection,
    request_id: &str,
) -> Result<Vec<AttachmentInfo>, DbError> {
    Ok(case_attachments::table
        .filter(case_attachments::request_id.eq(request_id))
        .select(AttachmentInfo::as_select())
        .order((case_attachments::created_at, case_attachments::id))
        .load(conn)?)
}

/// One attachment of a case, with its bytes.
pub fn attachment(
    conn: &mut DbConnection,
    request_id: &str,
    id: &str,
) -> Result<Option<AttachmentRow>, DbError> {
    Ok(case_attachments::table
        .find(id)
        .filter(case_attachments::request_id.eq(request_id))
        .select(AttachmentRow::as_select())
        .first(conn)
        .optional()?)
}

/// Records that outgoing mail `outbox_id` could not be delivered; once per mail.
pub fn record_bounce(
    conn: &mut DbConnection,
    outbox_id: &str,
    inbound_id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let exists = outbox_bounces::table
        .find(outbox_id)
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(outbox_bounces::table)
        .values((
            outbox_bounces::outbox_id.eq(outbox_id),
            outbox_bounces::inbound_id.eq(inbound_id),
            outbox_bounces::reason.eq(reason),
            outbox_bounces::bounced_at.eq(now),
        ))
        .execute(conn)?;
    Ok(true)
}

/// The bounce of each of `outbox_ids` that has one: (outbox id, reason, when).
pub fn bounces_of(
    conn: &mut DbConnection,
    outbox_ids: &[String],
) -> Result<Vec<(String, String, NaiveDateTime)>, DbError> {
    Ok(outbox_bounces::table
        .filter(outbox_bounces::outbox_id.eq_any(outbox_ids))
        .select((
            outbox_bounces::outbox_id,
            outbox_bounces::reason,
            outbox_bounces::bounced_at,
        ))
        .load(conn)?)
}

/// An outgoing mail a reply or a bounce names.
#[derive(Debug, Clone, Queryable)]
pub struct SentMail {
    pub id: String,
    pub kind: crate::domain::vocab::OutboxKind,
    pub request_id: Option<String>,
    pub recipient: String,
}

/// The outgoing mail with one of these ids. Used to match replies and bounces to what we
/// sent.
pub fn sent_mail(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<SentMail>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(outbox::table
        .filter(outbox::id.eq_any(ids))
        .select((
            outbox::id,
            outbox::kind,
            outbox::request_id,
            outbox::recipient,
        ))
        .load(conn)?)
}
