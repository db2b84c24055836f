//! Partner organizations and their API tokens as admins manage them: a new partner, its
//! daily quota, tokens (returned once, stored as SHA-256) and their revocation, and the
//! webhook its status changes are posted to (a new signing secret returned once).

use chrono::NaiveDateTime;
use rand::Rng;

use super::staff::{sha256_hex, Staff};
use super::{audited, require, AppState, Error, Result};
use crate::db;
use crate::db::models::{ApiTokenRow, PartnerRow};
use crate::domain::staff::Permission;
use crate::domain::TokenScope;

/// Every partner, and every token issued to any of them.
pub async fn list(app: &AppState, staff: &Staff) -> Result<(Vec<PartnerRow>, Vec<ApiTokenRow>)> {
    require(staff, Permission::ManagePartners)?;
    Ok(db::run(&app.pool, |conn| {
        Ok((db::partners::list(conn)?, db::partners::tokens(conn)?))
    })
    .await?)
}

/// An empty field is unlimited; otherwise a whole number of requests per day.
fn parse_quota(raw: &str) -> Result<Option<i32>> {
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<i32>()
        .ok()
        .filter(|q| (0..=1_000_000).contains(q))
        .map(Some)
        .ok_or_else(|| {
            Error::Invalid(
                "the daily quota is a whole number from 0 to 1000000, or empty for no limit".into(),
            )
        })
}

/// A new partner organization named `name`, with the daily quota typed as `quota`.
pub async fn create(
    app: &AppState,
    staff: &Staff,
    name: String,
    quota: &str,
    now: NaiveDateTime,
) -> Result<()> {
    require(staff, Permission::ManagePartners)?;
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::Invalid(
            "give the partner a name (up to 200 characters)".into(),
        ));
    }
    let row = PartnerRow {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        daily_quota: parse_quota(quota)?,
        created_at: now,
        webhook_url: None,
        webhook_secret: None,
    };
    let actor = staff.actor();
    db::run_as(&app.pool, move |conn| {
        if db::partners::name_taken(conn, &row.name)? {
            let taken = format!("a partner named \"{}\" already exists", row.name);
            return Err(Error::Invalid(taken));
        }
        let detail = format!("partner {} created", row.id);
        audited(conn, &actor, "partner_created", detail, now, |conn| {
            db::partners::insert(conn, &row)
        })?;
        Ok(())
    })
    .await
}

/// Sets partner `id`'s daily quota as typed in `quota`.
pub async fn set_quota(
    app: &AppState,
    staff: &Staff,
    id: String,
    quota: &str,
    now: NaiveDateTime,
) -> Result<()> {
    require(staff, Permission::ManagePartners)?;
    let quota = parse_quota(quota)?;
    let detail = format!(
        "partner {id} daily quota {}",
        quota.map_or("unlimited".to_string(), |q| q.to_string())
    );
    let actor = staff.actor();
    let changed = db::run(&app.pool, move |conn| {
        audited(conn, &actor, "partner_quota_set", detail, now, |conn| {
            db::partners::set_quota(conn, &id, quota)
        })
    })
    .await?;
    if changed == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// A new secret (API token or webhook secret): 32 random bytes, hex, after a prefix that
/// makes it recognizable (`ctp_` for tokens, `whsec_` for webhook secrets).
fn new_secret(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::rng().random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

/// A token just issued: its only appearance.
pub struct Issued {
    pub partner: String,
    pub name: String,
    pub scope: TokenScope,
    pub token: String,
}

/// Issues partner `partner_id` a token named `name` for `scope`; the token is in the
/// answer only.
pub async fn issue_token(
    app: &AppState,
    staff: &Staff,
    partner_id: String,
    name: String,
    scope: TokenScope,
    now: NaiveDateTime,
) -> Result<Issued> {
    require(staff, Permission::ManagePartners)?;
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::Invalid(
            "give the token a name (up to 100 characters)".into(),
        ));
    }
    let token = new_secret("ctp_");
    let row = ApiTokenRow {
        id: uuid::Uuid::new_v4().to_string(),
        partner_id,
        name,
        token_hash: sha256_hex(&token),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
        scope,
    };
    let actor = staff.actor();
    db::run_as(&app.pool, move |conn| {
        let partner = db::partners::find(conn, &row.partner_id)?.ok_or(Error::NotFound)?;
        let detail = format!(
            "token {} issued to partner {} (scope {})",
            row.id, row.partner_id, row.scope
        );
        audited(conn, &actor, "api_token_issued", detail, now, |conn| {
            db::partners::insert_token(conn, &row)
        })?;
        Ok(Issued {
            partner: partner.name,
            name: row.name,
            scope: row.scope,
            token,
        })
    })
    .await
}

/// Revokes token `id`.
pub async fn revoke_token(
    app: &AppState,
    staff: &Staff,
    id: String,
    now: NaiveDateTime,
) -> Result<()> {
    require(staff, Permission::ManagePartners)?;
    let actor = staff.actor();
    let detail = format!("token {id} revoked");
    let revoked = db::run(&app.pool, move |conn| {
        audited(conn, &actor, "api_token_revoked", detail, now, |conn| {
            db::partners::revoke_token(conn, &id, now)
        })
    })
    .await?;
    if !revoked {
        return Err(Error::NotFound);
    }
    Ok(())
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

/// A webhook signing secret just made: its only appearance.
pub struct NewSecret {
    pub partner: String,
    pub secret: String,
}

/// Sets, changes or (empty `typed` URL) removes partner `partner_id`'s webhook. A first
/// webhook, or `renew`, makes a signing secret, in the answer only.
pub async fn set_webhook(
    app: &AppState,
    staff: &Staff,
    partner_id: String,
    typed: String,
    renew: bool,
    now: NaiveDateTime,
) -> Result<Option<NewSecret>> {
    require(staff, Permission::ManagePartners)?;
    let actor = staff.actor();
    db::run_as(&app.pool, move |conn| {
        let partner = db::partners::find(conn, &partner_id)?.ok_or(Error::NotFound)?;
        if typed.is_empty() {
            let detail = format!("partner {partner_id} webhook removed");
            audited(
                conn,
                &actor,
                "partner_webhook_removed",
                detail,
                now,
                |conn| db::partners::set_webhook(conn, &partner_id, None, None),
            )?;
            return Ok(None);
        }
        let url = parse_webhook_url(&typed).map_err(Error::Invalid)?;
        let renew = partner.webhook_secret.is_none() || renew;
        let secret = renew.then(|| new_secret("whsec_"));
        let detail = format!(
            "partner {partner_id} webhook set to {url}{}",
            if renew {
                " with a new signing secret"
            } else {
                ""
            }
        );
        audited(conn, &actor, "partner_webhook_set", detail, now, |conn| {
            db::partners::set_webhook(conn, &partner_id, Some(&url), secret.as_deref())
        })?;
        Ok(secret.map(|secret| NewSecret {
            partner: partner.name,
            secret,
        }))
    })
    .await
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
