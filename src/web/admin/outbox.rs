//! The mail outbox for staff: what waits, what went out, what died and why, and a retry
//! for dead mail. Recipients are masked; bodies are not shown.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use std::collections::HashMap;

use super::{audited, page, see_other, AdminError, Nav, Staff};
use crate::db::outbox::{OutboxCounts, OutboxStatus};
use crate::db::{self, outbox::OutboxRow};
use crate::domain::staff::Permission;
use crate::email;
use crate::web::AppState;

pub struct MailItem {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "admin/outbox.html")]
struct OutboxPage {
    nav: Nav,
    counts: OutboxCounts,
    status: String,
    items: Vec<MailItem>,
}

#[derive(Debug, Deserialize)]
pub struct OutboxQuery {
    pub status: Option<String>,
}

fn item(row: OutboxRow) -> MailItem {
    let when = match row.sent_at {
        Some(t) => format!("sent {}", t.format("%Y-%m-%d %H:%M")),
        None if row.status == OutboxStatus::Pending => {
            format!("next try {}", row.next_attempt_at.format("%Y-%m-%d %H:%M"))
        }
        None => format!("queued {}", row.created_at.format("%Y-%m-%d %H:%M")),
    };
    MailItem {
        recipient: email::recipient_label(&row),
        id: row.id,
        kind: row.kind.to_string(),
        status: row.status.as_str().to_string(),
        attempts: row.attempts,
        last_error: row.last_error.unwrap_or_default(),
        when,
    }
}

pub async fn outbox(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<OutboxQuery>,
) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ViewAuditLog)?;
    let status = query
        .status
        .as_deref()
        .and_then(|s| s.parse::<OutboxStatus>().ok());
    let (counts, rows) = db::run(&state.pool, move |conn| {
        Ok((
            db::outbox::counts(conn)?,
            db::outbox::list(conn, status, 200)?,
        ))
    })
    .await?;
    page(OutboxPage {
        nav: Nav::of(&staff),
        counts,
        status: status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        items: rows.into_iter().map(item).collect(),
    })
}

/// `POST /admin/outbox/retry` with `id`, or `all_dead=yes`.
pub async fn retry(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ViewAuditLog)?;
    staff.check_csrf(&form)?;
    let now = Utc::now().naive_utc();
    if form.get("all_dead").is_some_and(|v| !v.is_empty()) {
        audited(
            &state,
            &staff,
            "mail_retried",
            "all dead mail".into(),
            move |conn| db::outbox::retry_all_dead(conn, now),
        )
        .await?;
    } else {
        let id = form.get("id").cloned().unwrap_or_default();
        let detail = format!("mail {id}");
        let found = audited(&state, &staff, "mail_retried", detail, move |conn| {
            db::outbox::retry(conn, &id, now)
        })
        .await?;
        if !found {
            return Err(AdminError::NotFound);
        }
    }
    state.mail.wake();
    Ok(see_other("/admin/outbox?status=pending"))
}
