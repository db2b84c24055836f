//! The mail outbox as staff see it (what waits, what went out, what died and why) and the
//! retry of dead mail.

use chrono::NaiveDateTime;
use std::collections::HashMap;

use super::staff::Staff;
use super::{require, AppState, Error, Result};
use crate::db::outbox::{OutboxCounts, OutboxRow, OutboxStatus};
use crate::db::{self, DbConnection, DbError};
use crate::domain::staff::Permission;
use crate::domain::Actor;

/// How many rows the outbox page lists.
const LISTED: i64 = 200;

/// What the outbox page shows.
pub struct Listing {
    pub counts: OutboxCounts,
    /// The latest mail (with the status asked for only, when given).
    pub rows: Vec<OutboxRow>,
    /// Why listed mail could not be delivered, by mail id, from bounce reports.
    pub bounces: HashMap<String, String>,
    /// Incoming mail that could not be read, waiting for staff.
    pub unreadable: i64,
}

/// The counts by status, the latest mail (with `status` only, when given) and their bounces.
pub async fn list(app: &AppState, staff: &Staff, status: Option<OutboxStatus>) -> Result<Listing> {
    require(staff, Permission::ViewAuditLog)?;
    Ok(db::run(&app.pool, move |conn| {
        let rows = db::outbox::list(conn, status, LISTED)?;
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let bounces = db::mail_in::bounces_of(conn, &ids)?
            .into_iter()
            .map(|(id, reason, _)| (id, reason))
            .collect();
        Ok(Listing {
            counts: db::outbox::counts(conn)?,
            rows,
            bounces,
            unreadable: db::mail_in::waiting_unreadable(conn)?,
        })
    })
    .await?)
}

/// Which mail to send again.
pub enum Retry {
    /// Every dead mail.
    AllDead,
    /// The mail with this id.
    One(String),
}

/// Queues `which` mail to be sent again, and wakes the outbox worker.
pub async fn retry(app: &AppState, staff: &Staff, which: Retry, now: NaiveDateTime) -> Result<()> {
    require(staff, Permission::ViewAuditLog)?;
    let actor = staff.actor();
    let queued = db::run(&app.pool, move |conn| requeue(conn, &actor, which, now)).await?;
    if queued == 0 {
        return Err(Error::NotFound);
    }
    app.mail.wake();
    Ok(())
}

/// Queues `which` mail again on `conn`, with its audit row when any was queued; how many
/// were. The command line calls it on a connection of its own (a running server's worker
/// finds them on its next round).
pub fn requeue(
    conn: &mut db::Conn,
    actor: &Actor,
    which: Retry,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    db::write_transaction(conn, |conn| {
        let (queued, detail) = match which {
            Retry::AllDead => (
                db::outbox::retry_all_dead(conn, now)?,
                "all dead mail".to_string(),
            ),
            Retry::One(id) => (
                usize::from(db::outbox::retry(conn, &id, now)?),
                format!("mail {id}"),
            ),
        };
        if queued > 0 {
            db::cases::audit(conn, None, actor, "mail_retried", detail, now)?;
        }
        Ok(queued)
    })
}

/// The counts by status and the latest `limit` mail (with `status` only, when given), on
/// a connection of its own: the command line's listing.
pub fn listing(
    conn: &mut DbConnection,
    status: Option<OutboxStatus>,
    limit: i64,
) -> Result<(OutboxCounts, Vec<OutboxRow>), DbError> {
    Ok((
        db::outbox::counts(conn)?,
        db::outbox::list(conn, status, limit)?,
    ))
}
