//! The mail outbox as staff see it (what waits, what went out, what died and why) and the
//! retry of dead mail.

use chrono::NaiveDateTime;

use super::staff::Staff;
use super::{audited, require, AppState, Error, Result};
use crate::db;
use crate::db::outbox::{OutboxCounts, OutboxRow, OutboxStatus};
use crate::domain::staff::Permission;

/// How many rows the outbox page lists.
const LISTED: i64 = 200;

/// The counts by status, and the latest mail (with `status` only, when given).
pub async fn list(
    app: &AppState,
    staff: &Staff,
    status: Option<OutboxStatus>,
) -> Result<(OutboxCounts, Vec<OutboxRow>)> {
    require(staff, Permission::ViewAuditLog)?;
    Ok(db::run(&app.pool, move |conn| {
        Ok((
            db::outbox::counts(conn)?,
            db::outbox::list(conn, status, LISTED)?,
        ))
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
    let found = db::run(&app.pool, move |conn| match which {
        Retry::AllDead => {
            let detail = "all dead mail".to_string();
            audited(conn, &actor, "mail_retried", detail, now, |conn| {
                db::outbox::retry_all_dead(conn, now)
            })?;
            Ok(true)
        }
        Retry::One(id) => {
            let detail = format!("mail {id}");
            audited(conn, &actor, "mail_retried", detail, now, |conn| {
                db::outbox::retry(conn, &id, now)
            })
        }
    })
    .await?;
    if !found {
        return Err(Error::NotFound);
    }
    app.mail.wake();
    Ok(())
}
