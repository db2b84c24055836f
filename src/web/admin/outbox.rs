//! The mail outbox for staff: what waits, what went out, what died and why, and a retry
//! for dead mail. Recipients are masked; bodies are not shown.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use std::collections::HashMap;

use super::{need, page, see_other, AdminError, Allowed, Nav, Posted};
use crate::app::outbox::Retry;
use crate::db::outbox::{OutboxCounts, OutboxRow, OutboxStatus};
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
    /// What a bounce report said of it ("could not be delivered to a***@…").
    pub bounce: String,
}

#[derive(Template)]
#[template(path = "admin/outbox.html")]
struct OutboxPage {
    nav: Nav,
    counts: OutboxCounts,
    status: String,
    items: Vec<MailItem>,
    unreadable: i64,
}

#[derive(Debug, Deserialize)]
pub struct OutboxQuery {
    pub status: Option<String>,
}

fn item(row: OutboxRow, bounces: &HashMap<String, String>) -> MailItem {
    let when = match row.sent_at {
        Some(t) => format!("sent {}", t.format("%Y-%m-%d %H:%M")),
        None if row.status == OutboxStatus::Pending => {
            format!("next try {}", row.next_attempt_at.format("%Y-%m-%d %H:%M"))
        }
        None => format!("queued {}", row.created_at.format("%Y-%m-%d %H:%M")),
    };
    MailItem {
        bounce: bounces.get(&row.id).cloned().unwrap_or_default(),
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
    staff: Allowed<need::ViewAuditLog>,
    query: web::Query<OutboxQuery>,
) -> Result<HttpResponse, AdminError> {
    let status = query
        .status
        .as_deref()
        .and_then(|s| s.parse::<OutboxStatus>().ok());
    let listing = crate::app::outbox::list(&state, &staff, status).await?;
    page(OutboxPage {
        nav: Nav::of(&staff),
        counts: listing.counts,
        status: status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        items: listing
            .rows
            .into_iter()
            .map(|r| item(r, &listing.bounces))
            .collect(),
        unreadable: listing.unreadable,
    })
}

/// What the retry buttons send: `id`, or `all_dead=yes`.
#[derive(Deserialize)]
pub struct RetryForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    all_dead: String,
}

/// `POST /admin/outbox/retry` with `id`, or `all_dead=yes`.
pub async fn retry(
    state: web::Data<AppState>,
    posted: Posted<need::ViewAuditLog, RetryForm>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let which = if form.all_dead.is_empty() {
        Retry::One(form.id)
    } else {
        Retry::AllDead
    };
    crate::app::outbox::retry(&state, &staff, which, Utc::now().naive_utc()).await?;
    Ok(see_other("/admin/outbox?status=pending"))
}
