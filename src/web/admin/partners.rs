//! Partner organizations and their API tokens (admin): create partners, set their daily
//! quota, issue tokens (shown once, stored as SHA-256) and revoke them.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{NaiveDateTime, Utc};
use rand::Rng;
use std::collections::HashMap;

use super::auth::sha256_hex;
use super::{audited, see_other, status_for, AdminError, Nav, Staff};
use crate::db;
use crate::db::models::{ApiTokenRow, PartnerRow};
use crate::domain::staff::Permission;
use crate::web::errors::html;
use crate::web::AppState;

type Form = web::Form<HashMap<String, String>>;

fn field(f: &HashMap<String, String>, k: &str) -> String {
    f.get(k).map(|s| s.trim().to_string()).unwrap_or_default()
}

pub struct TokenItem {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: String,
    pub revoked_at: Option<String>,
}

pub struct PartnerItem {
    pub id: String,
    pub name: String,
    pub quota: String,
    pub tokens: Vec<TokenItem>,
}

/// A token just issued: its only appearance.
pub struct Issued {
    pub partner: String,
    pub name: String,
    pub token: String,
}

#[derive(Template)]
#[template(path = "admin/partners.html")]
struct PartnersPage {
    nav: Nav,
    partners: Vec<PartnerItem>,
    issued: Option<Issued>,
    error: Option<String>,
}

fn when(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

async fn partners_page(
    state: &AppState,
    staff: &Staff,
    issued: Option<Issued>,
    error: Option<String>,
) -> Result<HttpResponse, AdminError> {
    let (partners, tokens) = db::run(&state.pool, |conn| {
        Ok((db::partners::list(conn)?, db::partners::tokens(conn)?))
    })
    .await?;
    let status = status_for(&error);
    let items = partners
        .into_iter()
        .map(|p| PartnerItem {
            tokens: tokens
                .iter()
                .filter(|t| t.partner_id == p.id)
                .map(|t| TokenItem {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    created_at: when(t.created_at),
                    last_used_at: t.last_used_at.map(when).unwrap_or_else(|| "never".into()),
                    revoked_at: t.revoked_at.map(when),
                })
                .collect(),
            quota: p.daily_quota.map(|q| q.to_string()).unwrap_or_default(),
            id: p.id,
            name: p.name,
        })
        .collect();
    let body = PartnersPage {
        nav: Nav::of(staff),
        partners: items,
        issued,
        error,
    }
    .render()?;
    Ok(html(status, body))
}

/// `GET /admin/partners`.
pub async fn partners(
    state: web::Data<AppState>,
    staff: Staff,
) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ManagePartners)?;
    partners_page(&state, &staff, None, None).await
}

/// An empty field is unlimited; otherwise a whole number of requests per day.
fn parse_quota(raw: &str) -> Result<Option<i32>, String> {
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<i32>()
        .ok()
        .filter(|q| (0..=1_000_000).contains(q))
        .map(Some)
        .ok_or_else(|| {
            "the daily quota is a whole number from 0 to 1000000, or empty for no limit".into()
        })
}

/// `POST /admin/partners`: a new partner organization.
pub async fn create_partner(
    state: web::Data<AppState>,
    staff: Staff,
    form: Form,
) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ManagePartners)?;
    staff.check_csrf(&form)?;
    let name = field(&form, "name");
    if name.is_empty() || name.chars().count() > 200 {
        let error = Some("give the partner a name (up to 200 characters)".to_string());
        return partners_page(&state, &staff, None, error).await;
    }
    let quota = match parse_quota(&field(&form, "daily_quota")) {
        Ok(q) => q,
        Err(e) => return partners_page(&state, &staff, None, Some(e)).await,
    };
    let lookup = name.clone();
    if db::run(&state.pool, move |conn| {
        db::partners::name_taken(conn, &lookup)
    })
    .await?
    {
        let error = Some(format!("a partner named \"{name}\" already exists"));
        return partners_page(&state, &staff, None, error).await;
    }
    let row = PartnerRow {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        daily_quota: quota,
        created_at: Utc::now().naive_utc(),
    };
    let detail = format!("partner {} created", row.id);
    audited(&state, &staff, "partner_created", detail, move |conn| {
        db::partners::insert(conn, &row)
    })
    .await?;
    Ok(see_other("/admin/partners"))
}

/// `POST /admin/partners/{id}/quota`.
pub async fn set_quota(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ManagePartners)?;
    staff.check_csrf(&form)?;
    let quota = match parse_quota(&field(&form, "daily_quota")) {
        Ok(q) => q,
        Err(e) => return partners_page(&state, &staff, None, Some(e)).await,
    };
    let id = id.into_inner();
    let detail = format!(
        "partner {id} daily quota {}",
        quota.map_or("unlimited".to_string(), |q| q.to_string())
    );
    let changed = audited(&state, &staff, "partner_quota_set", detail, move |conn| {
        db::partners::set_quota(conn, &id, quota)
    })
    .await?;
    if changed == 0 {
        return Err(AdminError::NotFound);
    }
    Ok(see_other("/admin/partners"))
}

/// A new API token: 32 random bytes, hex, with a prefix that makes it recognizable.
fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("ctp_{hex}")
}

/// `POST /admin/partners/{id}/tokens`: issues a token and shows it this once.
pub async fn issue_token(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ManagePartners)?;
    staff.check_csrf(&form)?;
    let name = field(&form, "name");
    if name.is_empty() || name.chars().count() > 100 {
        let error = Some("give the token a name (up to 100 characters)".to_string());
        return partners_page(&state, &staff, None, error).await;
    }
    let partner_id = id.into_inner();
    let lookup = partner_id.clone();
    let partner = db::run(&state.pool, move |conn| db::partners::find(conn, &lookup))
        .await?
        .ok_or(AdminError::NotFound)?;
    let token = new_token();
    let row = ApiTokenRow {
        id: uuid::Uuid::new_v4().to_string(),
        partner_id,
        name: name.clone(),
        token_hash: sha256_hex(&token),
        created_at: Utc::now().naive_utc(),
        last_used_at: None,
        revoked_at: None,
    };
    let detail = format!("token {} issued to partner {}", row.id, row.partner_id);
    audited(&state, &staff, "api_token_issued", detail, move |conn| {
        db::partners::insert_token(conn, &row)
    })
    .await?;
    let issued = Issued {
        partner: partner.name,
        name,
        token,
    };
    let mut resp = partners_page(&state, &staff, Some(issued), None).await?;
    // The token is in this page only: keep it out of every cache.
    resp.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}

/// `POST /admin/partners/tokens/{id}/revoke`.
pub async fn revoke_token(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ManagePartners)?;
    staff.check_csrf(&form)?;
    let id = id.into_inner();
    let detail = format!("token {id} revoked");
    let now = Utc::now().naive_utc();
    let revoked = audited(&state, &staff, "api_token_revoked", detail, move |conn| {
        db::partners::revoke_token(conn, &id, now)
    })
    .await?;
    if !revoked {
        return Err(AdminError::NotFound);
    }
    Ok(see_other("/admin/partners"))
}
