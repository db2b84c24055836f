//! The audit log as staff read it: every event, newest first, filtered and keyset-paged,
//! with the reference of the request an event is about.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::cases::Cursor;
use super::models::AuditEventRow;
use super::schema::{audit_events, case_requests, partners, users};
use super::{DbConnection, DbError};
use crate::domain::Actor;

/// Which events a list shows.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// The exact actor.
    pub actor: Option<Actor>,
    pub action: Option<String>,
    /// Events at or after this moment.
    pub from: Option<NaiveDateTime>,
    /// Events before this moment.
    pub until: Option<NaiveDateTime>,
}

/// One event and the reference of its request, if it is about one.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub event: AuditEventRow,
    pub reference: Option<String>,
}

/// One page of events, newest first, and the cursor of the next page if there is one.
pub fn list(
    conn: &mut DbConnection,
    filter: &AuditFilter,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<(Vec<AuditEntry>, Option<Cursor>), DbError> {
    let mut q = audit_events::table
        .left_join(case_requests::table)
        .select((
            AuditEventRow::as_select(),
            case_requests::reference.nullable(),
        ))
        .into_boxed();
    if let Some(actor) = &filter.actor {
        q = q.filter(audit_events::actor.eq(actor.to_string()));
    }
    if let Some(action) = &filter.action {
        q = q.filter(audit_events::action.eq(action.clone()));
    }
    if let Some(t) = filter.from {
        q = q.filter(audit_events::created_at.ge(t));
    }
    if let Some(t) = filter.until {
        q = q.filter(audit_events::created_at.lt(t));
    }
    if let Some(c) = after {
        q = q.filter(
            audit_events::created_at
                .lt(c.created_at)
                .or(audit_events::created_at
                    .eq(c.created_at)
                    .and(audit_events::id.lt(c.id.clone()))),
        );
    }
    let mut rows: Vec<(AuditEventRow, Option<String>)> = q
        .order((audit_events::created_at.desc(), audit_events::id.desc()))
        .limit(limit + 1)
        .load(conn)?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|(e, _)| Cursor {
            created_at: e.created_at,
            id: e.id.clone(),
        })
    } else {
        None
    };
    let entries = rows
        .into_iter()
        .map(|(event, reference)| AuditEntry { event, reference })
        .collect();
    Ok((entries, next))
}

/// Every action that occurs in the log, for the filter.
pub fn actions(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    Ok(audit_events::table
        .select(audit_events::action)
        .distinct()
        .order(audit_events::action)
        .load(conn)?)
}

/// Every staff account, active or not, then every partner, as (actor, display name), for
/// the filter and for naming actors.
pub fn named_actors(conn: &mut DbConnection) -> Result<Vec<(Actor, String)>, DbError> {
    let staff = users::table
        .select((users::id, users::display_name))
        .order(users::display_name)
        .load::<(String, String)>(conn)?
        .into_iter()
        .map(|(id, name)| (Actor::Staff(id), name));
    let partners = partners::table
        .select((partners::id, partners::name))
        .order(partners::name)
        .load::<(String, String)>(conn)?
        .into_iter()
        .map(|(id, name)| (Actor::Partner(id), name));
    Ok(staff.chain(partners).collect())
}
