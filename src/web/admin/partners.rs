//! Partner organizations and their API tokens (admin): create partners, set their daily
//! quota, issue tokens (shown once, stored as SHA-256) and revoke them, and set the webhook
//! their status changes are posted to (its signing secret shown once).

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{NaiveDateTime, Utc};
use serde::Deserialize;

use super::{need, see_other, status_for, AdminError, Allowed, Nav, Posted, Staff};
use crate::app::partners::{Issued, NewSecret};
use crate::app::Error;
use crate::domain::TokenScope;
use crate::web::errors::html;
use crate::web::AppState;

pub struct TokenItem {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: String,
    pub revoked_at: Option<String>,
    /// What the token may do, in words.
    pub scope: &'static str,
}

pub struct PartnerItem {
    pub id: String,
    pub name: String,
    pub quota: String,
    pub tokens: Vec<TokenItem>,
    /// The webhook URL as stored, or as just typed when it was refused.
    pub webhook_url: String,
    pub has_webhook: bool,
}

/// What the page shows besides the partners: a secret shown once, or an error with the
/// value the admin typed (partner id, URL).
#[derive(Default)]
struct Shown {
    issued: Option<Issued>,
    secret: Option<NewSecret>,
    error: Option<String>,
    typed_webhook: Option<(String, String)>,
}

impl Shown {
    fn error(message: impl Into<String>) -> Self {
        Shown {
            error: Some(message.into()),
            ..Shown::default()
        }
    }
}

#[derive(Template)]
#[template(path = "admin/partners.html")]
struct PartnersPage {
    nav: Nav,
    partners: Vec<PartnerItem>,
    issued: Option<Issued>,
    secret: Option<NewSecret>,
    error: Option<String>,
}

fn when(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

async fn partners_page(
    state: &AppState,
    staff: &Staff,
    shown: Shown,
) -> Result<HttpResponse, AdminError> {
    let (partners, tokens) = crate::app::partners::list(state, staff).await?;
    let status = status_for(&shown.error);
    let items = partners
        .into_iter()
        .map(|p| PartnerItem {
            webhook_url: match &shown.typed_webhook {
                Some((id, typed)) if *id == p.id => typed.clone(),
                _ => p.webhook_url.clone().unwrap_or_default(),
            },
            has_webhook: p.webhook_url.is_some(),
            tokens: tokens
                .iter()
                .filter(|t| t.partner_id == p.id)
                .map(|t| TokenItem {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    created_at: when(t.created_at),
                    last_used_at: t.last_used_at.map(when).unwrap_or_else(|| "never".into()),
                    revoked_at: t.revoked_at.map(when),
                    scope: t.scope.label(),
                })
                .collect(),
            quota: p.daily_quota.map(|q| q.to_string()).unwrap_or_default(),
            id: p.id,
            name: p.name,
        })
        .collect();
    let once = shown.issued.is_some() || shown.secret.is_some();
    let body = PartnersPage {
        nav: Nav::of(staff),
        partners: items,
        issued: shown.issued,
        secret: shown.secret,
        error: shown.error,
    }
    .render()?;
    let mut resp = html(status, body);
    if once {
        // A token or secret is in this page only: keep it out of every cache.
        resp.headers_mut().insert(
            actix_web::http::header::CACHE_CONTROL,
            actix_web::http::header::HeaderValue::from_static("no-store"),
        );
    }
    Ok(resp)
}

/// `GET /admin/partners`.
pub async fn partners(
    state: web::Data<AppState>,
    staff: Allowed<need::ManagePartners>,
) -> Result<HttpResponse, AdminError> {
    partners_page(&state, &staff, Shown::default()).await
}

/// What the partner forms send: a name (partner or token), a daily quota, a token's scope,
/// a webhook URL and whether to make its signing secret anew.
#[derive(Deserialize)]
pub struct PartnerForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    daily_quota: String,
    /// Empty (an older page) issues the token every partner had before scopes.
    #[serde(default)]
    scope: String,
    #[serde(default)]
    webhook_url: String,
    #[serde(default)]
    new_secret: String,
}

type Form = Posted<need::ManagePartners, PartnerForm>;

/// The page again with the use case's message, or its error.
async fn refused(state: &AppState, staff: &Staff, e: Error) -> Result<HttpResponse, AdminError> {
    match e {
        Error::Invalid(msg) => partners_page(state, staff, Shown::error(msg)).await,
        e => Err(e.into()),
    }
}

/// `POST /admin/partners`: a new partner organization.
pub async fn create_partner(
    state: web::Data<AppState>,
    posted: Form,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let name = form.name.trim().to_string();
    let now = Utc::now().naive_utc();
    match crate::app::partners::create(&state, &staff, name, form.daily_quota.trim(), now).await {
        Ok(()) => Ok(see_other("/admin/partners")),
        Err(e) => refused(&state, &staff, e).await,
    }
}

/// `POST /admin/partners/{id}/quota`.
pub async fn set_quota(
    state: web::Data<AppState>,
    posted: Form,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let (id, quota) = (id.into_inner(), form.daily_quota.trim());
    let now = Utc::now().naive_utc();
    match crate::app::partners::set_quota(&state, &staff, id, quota, now).await {
        Ok(()) => Ok(see_other("/admin/partners")),
        Err(e) => refused(&state, &staff, e).await,
    }
}

/// `POST /admin/partners/{id}/tokens`: issues a token and shows it this once.
pub async fn issue_token(
    state: web::Data<AppState>,
    posted: Form,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let (id, name) = (id.into_inner(), form.name.trim().to_string());
    let scope = match form.scope.as_str() {
        "" => TokenScope::Requests,
        typed => match typed.parse() {
            Ok(scope) => scope,
            Err(e) => {
                let msg = format!("What the token may do: {e}");
                return partners_page(&state, &staff, Shown::error(msg)).await;
            }
        },
    };
    let now = Utc::now().naive_utc();
    match crate::app::partners::issue_token(&state, &staff, id, name, scope, now).await {
        Ok(issued) => {
            let shown = Shown {
                issued: Some(issued),
                ..Shown::default()
            };
            partners_page(&state, &staff, shown).await
        }
        Err(e) => refused(&state, &staff, e).await,
    }
}

/// `POST /admin/partners/tokens/{id}/revoke`.
pub async fn revoke_token(
    state: web::Data<AppState>,
    posted: Form,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, .. } = posted;
    let now = Utc::now().naive_utc();
    crate::app::partners::revoke_token(&state, &staff, id.into_inner(), now).await?;
    Ok(see_other("/admin/partners"))
}

/// `POST /admin/partners/{id}/webhook`: sets, changes or (empty URL) removes the partner's
/// webhook. A first webhook, or `new_secret=on`, makes a signing secret shown this once.
pub async fn set_webhook(
    state: web::Data<AppState>,
    posted: Form,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let partner_id = id.into_inner();
    let typed = form.webhook_url.trim().to_string();
    let renew = form.new_secret.trim() == "on";
    let now = Utc::now().naive_utc();
    let set = crate::app::partners::set_webhook(
        &state,
        &staff,
        partner_id.clone(),
        typed.clone(),
        renew,
        now,
    )
    .await;
    match set {
        Ok(Some(secret)) => {
            let shown = Shown {
                secret: Some(secret),
                ..Shown::default()
            };
            partners_page(&state, &staff, shown).await
        }
        Ok(None) => Ok(see_other("/admin/partners")),
        Err(Error::Invalid(msg)) => {
            let shown = Shown {
                typed_webhook: Some((partner_id, typed)),
                ..Shown::error(msg)
            };
            partners_page(&state, &staff, shown).await
        }
        Err(e) => Err(e.into()),
    }
}
