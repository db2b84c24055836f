//! Mail that could not be read, for staff: each with its reason and size, to retry, turn
//! into a request or discard; the raw mail downloadable (audited), never shown as a page.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{need, page, see_other, AdminError, Allowed, Nav, Posted};
use crate::app::mail_in::Resolve;
use crate::db::mail_in::UnreadableSummary;
use crate::web::AppState;

#[derive(Template)]
#[template(path = "admin/unreadable.html")]
struct UnreadablePage {
    nav: Nav,
    items: Vec<UnreadableSummary>,
}

impl UnreadablePage {
    fn size(&self, bytes: &i64) -> String {
        super::file_size(*bytes)
    }
}

/// `GET /admin/mail/unreadable`.
pub async fn unreadable(
    state: web::Data<AppState>,
    staff: Allowed<need::ViewAuditLog>,
) -> Result<HttpResponse, AdminError> {
    let items = crate::app::mail_in::unreadable(&state, &staff).await?;
    page(UnreadablePage {
        nav: Nav::of(&staff),
        items,
    })
}

/// What the buttons send.
#[derive(Deserialize)]
pub struct ResolveForm {
    #[serde(default)]
    action: String,
}

/// `POST /admin/mail/unreadable/{id}` with `action` = retry, convert or discard.
pub async fn resolve(
    state: web::Data<AppState>,
    posted: Posted<need::ViewAuditLog, ResolveForm>,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let action = match form.action.as_str() {
        "retry" => Resolve::Retry,
        "convert" => Resolve::Convert,
        "discard" => Resolve::Discard,
        _ => {
            return Err(AdminError::Invalid(
                "choose retry, turn into a request, or discard".into(),
            ))
        }
    };
    let taken =
        crate::app::mail_in::resolve(&state, &staff, id.into_inner(), action, state.clock.now())
            .await?;
    Ok(match taken.reference {
        Some(r) if action != Resolve::Discard => {
            see_other(&format!("/admin/requests/{}", r.as_str()))
        }
        _ => see_other("/admin/mail/unreadable"),
    })
}

/// `GET /admin/mail/unreadable/{id}/raw`: the mail as it arrived, as a download.
pub async fn raw(
    state: web::Data<AppState>,
    staff: Allowed<need::ViewAuditLog>,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let id = id.into_inner();
    let raw =
        crate::app::mail_in::raw(&state, &staff, id.clone(), state.clock.now().naive_utc()).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"unreadable-{id}.eml\""),
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "no-store"))
        .body(raw))
}
