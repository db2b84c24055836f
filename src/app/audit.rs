//! The audit log as admins and leads read it (`ViewAuditLog`): a page at a time, or all
//! that a filter lets through as a streamed CSV (the export itself goes on the record).

use std::collections::HashMap;

use super::export::{cell, Export, ExportBatch};
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

/// Display names of every staff account and partner, by id.
pub fn names_of(named: &[(Actor, String)]) -> HashMap<String, String> {
    named
        .iter()
        .filter_map(|(actor, name)| {
            let id = actor.staff_id().or(actor.partner_id())?;
            Some((id.to_string(), name.clone()))
        })
        .collect()
}

/// How an actor is named, given the names by id from `names_of`.
pub type Naming = fn(&Actor, &HashMap<String, String>) -> String;

/// Most events one export batch reads.
const EXPORT_BATCH: i64 = 1000;

/// The events `filter` lets through as CSV, newest first, actors named by `who`, streamed
/// batch by batch; the export is audited with `description` (the filter as a query
/// string) once its last batch has gone.
pub fn export(
    app: &AppState,
    staff: &Staff,
    filter: AuditFilter,
    description: String,
    who: Naming,
) -> Result<tokio::sync::mpsc::Receiver<Vec<u8>>> {
    require(staff, Permission::ViewAuditLog)?;
    let export = Export {
        filename: "audit-log.csv",
        header: vec![
            "created_at",
            "actor",
            "actor_name",
            "action",
            "reference",
            "detail",
        ],
        actor: staff.actor(),
        action: "audit_exported",
    };
    let mut names = None;
    let mut after: Option<Cursor> = None;
    Ok(super::export::stream(
        app.pool.clone(),
        export,
        move |exported| format!("{exported} audit events as CSV ({description})"),
        move |conn| {
            if names.is_none() {
                names = Some(names_of(&db::audit::named_actors(conn)?));
            }
            let names = names.as_ref().expect("set above");
            let (entries, next) = db::audit::list(conn, &filter, after.as_ref(), EXPORT_BATCH)?;
            let records = entries
                .iter()
                .map(|e| {
                    vec![
                        e.event
                            .created_at
                            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                            .to_string(),
                        e.event.actor.to_string(),
                        cell(&who(&e.event.actor, names)),
                        e.event.action.clone(),
                        e.reference.clone().unwrap_or_default(),
                        cell(&e.event.detail),
                    ]
                })
                .collect();
            let more = next.is_some();
            after = next;
            Ok(ExportBatch { records, more })
        },
    ))
}
