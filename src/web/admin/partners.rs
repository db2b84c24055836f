//! Partner organizations and their API tokens (admin): create partners, set their daily
//! quota, issue tokens (shown once, stored as SHA-256) and revoke them, and set the webhook
//! their status changes are posted to (its signing secret shown once).

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
    /// The webhook URL as stored, or as just typed when it was refused.
    pub webhook_url: String,
    pub has_webhook: bool,
}

/// A token just issued: its only appearance.
pub struct Issued {
    pub partner: String,
    pub name: String,
    pub token: String,
}

/// A webhook signing secret just made: its only appearance.
pub struct NewSecret {
    pub partner: String,
    pub secret: String,
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
    let (partners, tokens) = db::run(&state.pool, |conn| {
        Ok((db::partners::list(conn)?, db::partners::tokens(conn)?))
    })
    .await?;
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
    staff: Staff,
) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ManagePartners)?;
    partners_page(&state, &staff, Shown::default()).await
}

/// The partner with this id, or 404.
async fn find_partner(state: &AppState, id: &str) -> Result<PartnerRow, AdminError> {
    let id = id.to_string();
    db::run(&state.pool, move |conn| db::partners::find(conn, &id))
        .await?
        .ok_or(AdminError::NotFound)
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
        let error = Shown::error("give the partner a name (up to 200 characters)");
        return partners_page(&state, &staff, error).await;
    }
    let quota = match parse_quota(&field(&form, "daily_quota")) {
        Ok(q) => q,
        Err(e) => return partners_page(&state, &staff, Shown::error(e)).await,
    };
    let lookup = name.clone();
    if db::run(&state.pool, move |conn| {
        db::partners::name_taken(conn, &lookup)
    })
    .await?
    {
        let error = Shown::error(format!("a partner named \"{name}\" already exists"));
        return partners_page(&state, &staff, error).await;
    }
    let row = PartnerRow {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        daily_quota: quota,
        created_at: Utc::now().naive_utc(),
        webhook_url: None,
        webhook_secret: None,
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
        Err(e) => return partners_page(&state, &staff, Shown::error(e)).await,
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

/// A new secret (API token or webhook secret): 32 random bytes, hex, after a prefix that
/// makes it recognizable (`ctp_` for tokens, `whsec_` for webhook secrets).
fn new_secret(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::rng().random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
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
        let error = Shown::error("give the token a name (up to 100 characters)");
        return partners_page(&state, &staff, error).await;
    }
    let partner_id = id.into_inner();
    let partner = find_partner(&state, &partner_id).await?;
    let token = new_secret("ctp_");
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
    let shown = Shown {
        issued: Some(issued),
        ..Shown::default()
    };
    partners_page(&state, &staff, shown).await
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

/// A webhook URL as an admin typed it: a full http(s) address with a host and no user name
/// or password (the signature authenticates the app), at most 2,000 characters.
fn parse_webhook_url(raw: &str) -> Result<String, String> {
    let refused = || {
        "Webhook URL: enter a full address starting with https:// (or http://), without a user \
         name or password, e.g. https://partner.example/hooks/case-triage"
            .to_string()
    };
    if raw.chars().count() > 2000 {
        return Err("Webhook URL: use an address of at most 2000 characters".into());
    }
    let url = url::Url::parse(raw).map_err(|_| refused())?;
    let usable = matches!(url.scheme(), "https" | "http")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none();
    if usable {
        Ok(url.to_string())
    } else {
        Err(refused())
    }
}

/// `POST /admin/partners/{id}/webhook`: sets, changes or (empty URL) removes the partner's
/// webhook. A first webhook, or `new_secret=on`, makes a signing secret shown this once.
pub async fn set_webhook(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ManagePartners)?;
    staff.check_csrf(&form)?;
    let partner_id = id.into_inner();
    let partner = find_partner(&state, &partner_id).await?;
    let typed = field(&form, "webhook_url");
    if typed.is_empty() {
        let detail = format!("partner {partner_id} webhook removed");
        audited(
            &state,
            &staff,
            "partner_webhook_removed",
            detail,
            move |conn| db::partners::set_webhook(conn, &partner_id, None, None),
        )
        .await?;
        return Ok(see_other("/admin/partners"));
    }
    let url = match parse_webhook_url(&typed) {
        Ok(url) => url,
        Err(e) => {
            let shown = Shown {
                typed_webhook: Some((partner_id, typed)),
                ..Shown::error(e)
            };
            return partners_page(&state, &staff, shown).await;
        }
    };
    let renew = partner.webhook_secret.is_none() || field(&form, "new_secret") == "on";
    let secret = renew.then(|| new_secret("whsec_"));
    let detail = format!(
        "partner {partner_id} webhook set to {url}{}",
        if renew {
            " with a new signing secret"
        } else {
            ""
        }
    );
    let stored = secret.clone();
    audited(&state, &staff, "partner_webhook_set", detail, move |conn| {
        db::partners::set_webhook(conn, &partner_id, Some(&url), stored.as_deref())
    })
    .await?;
    match secret {
        Some(secret) => {
            let shown = Shown {
                secret: Some(NewSecret {
                    partner: partner.name,
                    secret,
                }),
                ..Shown::default()
            };
            partners_page(&state, &staff, shown).await
        }
        None => Ok(see_other("/admin/partners")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_must_be_full_http_addresses_without_credentials() {
        assert_eq!(
            parse_webhook_url("https://partner.example/hooks/ct").unwrap(),
            "https://partner.example/hooks/ct"
        );
        assert!(parse_webhook_url("http://127.0.0.1:9000/h").is_ok());
        for bad in [
            "partner.example/hooks",
            "ftp://partner.example/",
            "https://user:pw@partner.example/",
            "https://user@partner.example/",
            "javascript:alert(1)",
            "https://",
        ] {
            let e = parse_webhook_url(bad).unwrap_err();
            assert!(e.starts_with("Webhook URL:"), "{bad}: {e}");
        }
        let long = format!("https://partner.example/{}", "a".repeat(2000));
        assert!(parse_webhook_url(&long).unwrap_err().contains("2000"));
    }
}
