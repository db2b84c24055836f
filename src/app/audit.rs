//! The audit log as admins and leads read it (`ViewAuditLog`).

use super::staff::Staff;
use super::{require, AppState, Result};
use crate::db;
use crate::db::audit::{AuditEntry, AuditFilter};
use crate::db::cases::Cursor;
use crate::domain::staff::Permission;
use crate::domain::Actor;

/// One page of the log, newest first.
pub struct Page {
    pub entries: Vec<AuditEntry>,
    /// Where the next page starts, when there is one.
    pub next: Option<Cursor>,
    /// Every staff account and every partner with a token, with its name.
    pub named: Vec<(Actor, String)>,
    /// Every action the log holds.
    pub actions: Vec<String>,
}

/// Up to `size` events that `filter` lets through, after `after`.
pub async fn page(
    app: &AppState,
    staff: &Staff,
    filter: AuditFilter,
    after: Option<Cursor>,
    size: i64,
) -> Result<Page> {
    require(staff, Permission::ViewAuditLog)?;
    Ok(db::run(&app.pool, move |conn| {
        let (entries, next) = db::audit::list(conn, &filter, after.as_ref(), size)?;
        Ok(Page {
            entries,
            next,
            named: db::audit::named_actors(conn)?,
            actions: db::audit::actions(conn)?,
        })
    })
    .await?)
}
