//! The correspondence of a case: its messages, the request's reply token, and which cases
//! hold an answer staff have not seen.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::HashSet;

use super::models::MessageRow;
use super::outbox::OutboxStatus;
use super::schema::{case_messages, case_requests, outbox, reply_tokens};
use super::{DbConnection, DbError};
use crate::domain::vocab::Direction;

pub fn insert(conn: &mut DbConnection, row: &MessageRow) -> Result<(), DbError> {
    diesel::insert_into(case_messages::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The request's reply token, made now if it has none yet. Call inside the transaction
/// that uses it.
pub fn reply_token(
    conn: &mut DbConnection,
    request_id: &str,
    now: NaiveDateTime,
) -> Result<String, DbError> {
    let found: Option<String> = reply_tokens::table
        .find(request_id)
        .select(reply_tokens::token)
        .first(conn)
        .optional()?;
    if let Some(token) = found {
        return Ok(token);
    }
    let token = crate::domain::correspondence::new_reply_token();
    diesel::insert_into(reply_tokens::table)
        .values((
            reply_tokens::request_id.eq(request_id),
            reply_tokens::token.eq(&token),
            reply_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(token)
}

/// A message as staff see it: with the state of the mail that carries it, if any.
pub struct Delivered {
    pub message: MessageRow,
    pub mail: Option<OutboxStatus>,
}

/// Every message of a request, oldest first, each with its mail's state.
pub fn of_request(conn: &mut DbConnection, request_id: &str) -> Result<Vec<Delivered>, DbError> {
    let rows: Vec<(MessageRow, Option<OutboxStatus>)> = case_messages::table
        .left_join(outbox::table.on(case_messages::outbox_id.eq(outbox::id.nullable())))
        .filter(case_messages::request_id.eq(request_id))
        .order((case_messages::created_at, case_messages::id))
        .select((MessageRow::as_select(), outbox::status.nullable()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(message, mail)| Delivered { message, mail })
        .collect())
}

/// The messages addressed to the requester (outgoing), newest first.
pub fn addressed_to_requester(
    conn: &mut DbConnection,
    request_id: &str,
) -> Result<Vec<MessageRow>, DbError> {
    Ok(case_messages::table
        .filter(case_messages::request_id.eq(request_id))
        .filter(case_messages::direction.eq(Direction::Outgoing.as_str()))
        .order((case_messages::created_at.desc(), case_messages::id.desc()))
        .select(MessageRow::as_select())
        .load(conn)?)
}

/// Marks the request's incoming messages as seen by staff.
pub fn mark_seen(
    conn: &mut DbConnection,
    request_id: &str,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    Ok(diesel::update(
        case_messages::table
            .filter(case_messages::request_id.eq(request_id))
            .filter(case_messages::direction.eq(Direction::Incoming.as_str()))
            .filter(case_messages::seen_by_staff_at.is_null()),
    )
    .set(case_messages::seen_by_staff_at.eq(Some(now)))
    .execute(conn)?)
}

/// Of the requests `ids`, those with an incoming message staff have not seen.
pub fn with_unseen_reply(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<HashSet<String>, DbError> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(case_messages::table
        .filter(case_messages::request_id.eq_any(ids))
        .filter(case_messages::direction.eq(Direction::Incoming.as_str()))
        .filter(case_messages::seen_by_staff_at.is_null())
        .select(case_messages::request_id)
        .distinct()
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

/// Of the requests with references `references`, those with an answer staff have not seen.
pub fn references_with_unseen_reply(
    conn: &mut DbConnection,
    references: &[String],
) -> Result<HashSet<String>, DbError> {
    if references.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(case_messages::table
        .inner_join(case_requests::table)
        .filter(case_requests::reference.eq_any(references))
        .filter(case_messages::direction.eq(Direction::Incoming.as_str()))
        .filter(case_messages::seen_by_staff_at.is_null())
        .select(case_requests::reference)
        .distinct()
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

/// How many open requests hold an answer staff have not seen. Read from the unseen answers
/// (a partial index), each request looked up by its key: a join lets SQLite start from the
/// open requests instead, hundreds of thousands of them in a surge.
pub fn open_with_unseen_reply(conn: &mut DbConnection) -> Result<i64, DbError> {
    let open = case_requests::table
        .filter(case_requests::id.eq(case_messages::request_id))
        .filter(case_requests::is_open.eq(true));
    Ok(case_messages::table
        .filter(case_messages::direction.eq(Direction::Incoming.as_str()))
        .filter(case_messages::seen_by_staff_at.is_null())
        .filter(diesel::dsl::exists(open))
        .select(diesel::dsl::count(case_messages::request_id).aggregate_distinct())
        .first(conn)?)
}
