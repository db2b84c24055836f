//! Retention: anonymizes the personal data of requests closed long ago, keeping what
//! statistics need (category, queue, dates, counts). One audit row per run, counts only.

use chrono::{NaiveDateTime, NaiveTime};
use diesel::prelude::*;

use super::outbox::OutboxStatus;
use super::schema::{
    audit_events, case_attachments, case_messages, case_notes, case_requests, dedup_keys,
    inbound_mail, outbox, request_personal_data, unreadable_mail,
};
use super::{write_transaction, Conn, DbConnection, DbError};
use crate::domain::Actor;

/// What replaces a name, a note or a mail recipient.
pub const REMOVED: &str = "[removed]";
/// The audit action of a purge run.
pub const ACTION: &str = "purged";
/// Serializes purge runs of several instances on PostgreSQL (`pg_advisory_xact_lock`).
const LOCK_KEY: i64 = 0x6374_7075_7267; // "ctpurg"
/// Requests anonymized per statement, well under SQLite's bound-parameter limit.
const CHUNK: i64 = 500;

/// What one run changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeCounts {
    pub requests: usize,
    pub notes: usize,
    /// Messages of the correspondence whose bodies were emptied.
    pub messages: usize,
    pub dedup_keys: usize,
    pub mails: usize,
    /// Files from mail emptied, and mail that could not be read whose raw bytes were.
    pub attachments: usize,
    pub unreadable_mail: usize,
}

/// Who runs a purge: the CLI always runs; the daily job runs once per UTC day however many
/// instances try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Cli,
    Daily,
}

impl Trigger {
    fn actor(self) -> Actor {
        match self {
            Trigger::Cli => Actor::Cli,
            Trigger::Daily => Actor::Scheduler,
        }
    }
}

/// Anonymizes every request closed before `cutoff` and not purged yet. `None` when the
/// daily job already ran today (on this or another instance).
pub fn run(
    conn: &mut Conn,
    cutoff: NaiveDateTime,
    trigger: Trigger,
    now: NaiveDateTime,
) -> Result<Option<PurgeCounts>, DbError> {
    write_transaction(conn, |conn| {
        let conn = &mut **conn;
        if matches!(conn, DbConnection::Postgres(_)) {
            // Held to the end of the transaction; SQLite's BEGIN IMMEDIATE already
            // makes this transaction the only writer.
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({LOCK_KEY})")).execute(conn)?;
        }
        if trigger == Trigger::Daily {
            let midnight = now.date().and_time(NaiveTime::MIN);
            let done: i64 = audit_events::table
                .filter(audit_events::action.eq(ACTION))
                .filter(audit_events::actor.eq(trigger.actor()))
                .filter(audit_events::created_at.ge(midnight))
                .count()
                .get_result(conn)?;
            if done > 0 {
                return Ok(None);
            }
        }
        let mut counts = PurgeCounts::default();
        loop {
            let ids: Vec<String> = case_requests::table
                .filter(case_requests::is_open.eq(false))
                .filter(case_requests::closed_at.lt(cutoff))
                .filter(case_requests::purged_at.is_null())
                .select(case_requests::id)
                .limit(CHUNK)
                .load(conn)?;
            if ids.is_empty() {
                break;
            }
            anonymize(conn, &ids, now, &mut counts)?;
        }
        // Mail that could not be read is kept as long as a closed request, then emptied.
        counts.unreadable_mail += diesel::update(
            unreadable_mail::table
                .filter(unreadable_mail::received_at.lt(cutoff))
                .filter(unreadable_mail::size.gt(0)),
        )
        .set((
            unreadable_mail::raw.eq(Vec::<u8>::new()),
            unreadable_mail::size.eq(0),
            unreadable_mail::state.eq(super::mail_in::DISCARDED),
        ))
        .execute(conn)?;
        // Mail that was still pending when its request was anonymized has gone out since.
        let late: Vec<String> = outbox::table
            .inner_join(
                case_requests::table.on(outbox::request_id.eq(case_requests::id.nullable())),
            )
            .filter(case_requests::purged_at.is_not_null())
            .filter(outbox::status.ne(OutboxStatus::Pending.as_str()))
            .filter(outbox::recipient.ne(REMOVED))
            .select(case_requests::id)
            .distinct()
            .load(conn)?;
        for chunk in late.chunks(CHUNK as usize) {
            counts.mails += empty_sent_mail(conn, chunk)?;
        }
        super::cases::audit(
            conn,
            None,
            &trigger.actor(),
            ACTION,
            format!(
                "anonymized {} requests closed before {} ({} notes, {} messages, {} duplicate keys, {} mails, {} files); emptied {} unreadable mails received before then",
                counts.requests,
                cutoff.format("%Y-%m-%d"),
                counts.notes,
                counts.messages,
                counts.dedup_keys,
                counts.mails,
                counts.attachments,
                counts.unreadable_mail
            ),
            now,
        )?;
        Ok(Some(counts))
    })
}

/// Takes what purge overwrote off the disk where the database can. SQLite zeroes the
/// space it frees (`secure_delete` on every connection), but its write-ahead log keeps
/// the pages as they were until a checkpoint; truncating it leaves no copy. PostgreSQL
/// keeps old row versions in the table files until VACUUM; a plain VACUUM frees them for
/// reuse without locking the tables, and `VACUUM FULL` (an operator's choice, it locks
/// them) rewrites the files.
pub fn scrub(conn: &mut DbConnection) -> Result<(), DbError> {
    use diesel::connection::SimpleConnection;
    match conn {
        DbConnection::Sqlite(c) => c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")?,
        DbConnection::Postgres(c) => c.batch_execute(
            "VACUUM request_personal_data, case_notes, case_messages, outbox, dedup_keys",
        )?,
    }
    Ok(())
}

/// Of the outbox rows `ids`, the ones that exist, each with whether purge emptied it.
pub fn mails_emptied(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<Vec<(String, bool)>, DbError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK as usize) {
        let found: Vec<(String, String)> = outbox::table
            .filter(outbox::id.eq_any(chunk))
            .select((outbox::id, outbox::recipient))
            .load(conn)?;
        out.extend(found.into_iter().map(|(id, to)| (id, to == REMOVED)));
    }
    Ok(out)
}

/// Empties the recipient and bodies of the mails of `requests` that are no longer pending
/// and not emptied yet.
fn empty_sent_mail(
    conn: &mut DbConnection,
    requests: &[String],
) -> Result<usize, diesel::result::Error> {
    diesel::update(
        outbox::table
            .filter(outbox::request_id.eq_any(requests))
            .filter(outbox::status.ne(OutboxStatus::Pending.as_str()))
            .filter(outbox::recipient.ne(REMOVED)),
    )
    .set((
        outbox::recipient.eq(REMOVED),
        outbox::body_text.eq(""),
        outbox::body_html.eq(""),
    ))
    .execute(conn)
}

fn anonymize(
    conn: &mut DbConnection,
    ids: &[String],
    now: NaiveDateTime,
    counts: &mut PurgeCounts,
) -> Result<(), diesel::result::Error> {
    let ids = ids.to_vec();
    let pd = request_personal_data::table.filter(request_personal_data::request_id.eq_any(&ids));
    diesel::update(
        pd.clone()
            .filter(request_personal_data::submitter_name.is_not_null()),
    )
    .set(request_personal_data::submitter_name.eq(Some(REMOVED)))
    .execute(conn)?;
    diesel::update(pd)
        .set((
            request_personal_data::applicant_full_name.eq(REMOVED),
            request_personal_data::submitter_email.eq(None::<String>),
            request_personal_data::submitter_phone.eq(None::<String>),
            request_personal_data::submitter_organization.eq(None::<String>),
            request_personal_data::applicant_date_of_birth.eq(None::<chrono::NaiveDate>),
            request_personal_data::applicant_date_of_birth_precision
                .eq(None::<crate::domain::vocab::BirthPrecision>),
            request_personal_data::applicant_date_of_birth_calendar
                .eq(None::<crate::domain::vocab::Calendar>),
            request_personal_data::applicant_phone.eq(None::<String>),
            request_personal_data::applicant_whatsapp.eq(None::<String>),
            request_personal_data::applicant_email.eq(None::<String>),
            request_personal_data::siv_case_number.eq(None::<String>),
            request_personal_data::referred_by.eq(None::<String>),
            request_personal_data::description.eq(None::<String>),
        ))
        .execute(conn)?;
    counts.dedup_keys +=
        diesel::delete(dedup_keys::table.filter(dedup_keys::request_id.eq_any(&ids)))
            .execute(conn)?;
    // Mail still pending is left to go out (a later run empties it); what was sent, or gave
    // up, keeps its subject, which names the reference only.
    counts.mails += empty_sent_mail(conn, &ids)?;
    counts.notes += diesel::update(case_notes::table.filter(case_notes::request_id.eq_any(&ids)))
        .set(case_notes::body.eq(REMOVED))
        .execute(conn)?;
    counts.messages +=
        diesel::update(case_messages::table.filter(case_messages::request_id.eq_any(&ids)))
            .set(case_messages::body.eq(REMOVED))
            .execute(conn)?;
    counts.attachments += diesel::update(
        case_attachments::table
            .filter(case_attachments::request_id.eq_any(&ids))
            .filter(case_attachments::data.is_not_null()),
    )
    .set((
        case_attachments::data.eq(None::<Vec<u8>>),
        case_attachments::filename.eq(REMOVED),
    ))
    .execute(conn)?;
    diesel::update(inbound_mail::table.filter(inbound_mail::request_id.eq_any(&ids)))
        .set(inbound_mail::sender_hash.eq(None::<String>))
        .execute(conn)?;
    counts.requests += diesel::update(case_requests::table.filter(case_requests::id.eq_any(&ids)))
        .set(case_requests::purged_at.eq(Some(now)))
        .execute(conn)?;
    Ok(())
}
