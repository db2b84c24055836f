//! A staff member's own account: the optional second factor (TOTP, enrolled with a QR code,
//! with one-time recovery codes) and the second step of logging in with it.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::Utc;
use rand::Rng;
use std::collections::HashMap;
use totp_rs::{Builder, Secret, Totp};

use super::auth::{
    sha256_hex, verify_password, LOCKOUT_MINUTES, MAX_FAILED_LOGINS, SESSION_COOKIE,
};
use super::{audited, see_other, AdminError, Nav, Staff};
use crate::db;
use crate::web::errors::html;
use crate::web::AppState;

const ISSUER: &str = "case-triage";
const RECOVERY_CODES: usize = 10;

fn totp(secret_base32: &str, account: &str) -> Result<Totp, AdminError> {
    let secret = Secret::try_from_base32(secret_base32)
        .map_err(|_| AdminError::Internal(anyhow::anyhow!("stored TOTP secret is not base32")))?;
    Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| AdminError::Internal(anyhow::anyhow!("TOTP setup: {e}")))
}

/// The time step a code is valid for, if it is valid now.
fn check_code(t: &Totp, code: &str) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    t.check_current(&code).map(|step| step as i64)
}

/// A QR code of the otpauth URL as inline SVG (our own markup: only rectangles).
fn qr_svg(url: &str) -> Result<String, AdminError> {
    let code = qrcode::QrCode::new(url.as_bytes())
        .map_err(|e| AdminError::Internal(anyhow::anyhow!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build())
}

#[derive(Template)]
#[template(path = "admin/account.html")]
struct AccountPage {
    nav: Nav,
    email: String,
    enabled: bool,
    /// While enrolling: the QR code and the secret to type in by hand.
    qr: Option<String>,
    secret: Option<String>,
    /// Shown once, right after enrolling.
    recovery: Vec<String>,
    error: Option<String>,
}

async fn account_page(
    state: &AppState,
    staff: &Staff,
    recovery: Vec<String>,
    error: Option<String>,
) -> Result<HttpResponse, AdminError> {
    let id = staff.id.clone();
    let user = db::run(&state.pool, move |conn| db::staff::find(conn, &id))
        .await?
        .ok_or(AdminError::LoginRequired)?;
    let (qr, secret) = match (&user.totp_secret, user.totp_enabled) {
        (Some(s), false) => {
            let url = totp(s, &user.email)?
                .to_url()
                .map_err(|e| AdminError::Internal(anyhow::anyhow!("TOTP URL: {e}")))?;
            (Some(qr_svg(&url)?), Some(s.clone()))
        }
        _ => (None, None),
    };
    let status = super::status_for(&error);
    let body = AccountPage {
        nav: Nav::of(staff),
        email: user.email,
        enabled: user.totp_enabled,
        qr,
        secret,
        recovery,
        error,
    }
    .render()?;
    Ok(html(status, body))
}

pub async fn account(state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, AdminError> {
    account_page(&state, &staff, Vec::new(), None).await
}

/// Starts enrolling: a fresh secret, not active until a code from it is confirmed.
pub async fn start_totp(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AdminError> {
    staff.check_csrf(&form)?;
    let secret = Secret::generate().to_base32();
    let id = staff.id.clone();
    db::run(&state.pool, move |conn| {
        db::staff::set_totp_secret(conn, &id, Some(&secret))
    })
    .await?;
    Ok(see_other("/admin/account"))
}

/// Confirms enrolment with a code from the app; shows the recovery codes once.
pub async fn confirm_totp(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AdminError> {
    staff.check_csrf(&form)?;
    let id = staff.id.clone();
    let user = db::run(&state.pool, move |conn| db::staff::find(conn, &id))
        .await?
        .ok_or(AdminError::LoginRequired)?;
    let Some(secret) = user.totp_secret.filter(|_| !user.totp_enabled) else {
        return Ok(see_other("/admin/account"));
    };
    let code = form.get("code").cloned().unwrap_or_default();
    let Some(step) = check_code(&totp(&secret, &user.email)?, &code) else {
        return account_page(
            &state,
            &staff,
            Vec::new(),
            Some(
                "That code is not right. Check the time on your phone and type the current code."
                    .into(),
            ),
        )
        .await;
    };
    let codes: Vec<String> = {
        let mut rng = rand::rng();
        (0..RECOVERY_CODES)
            .map(|_| {
                let n: u64 = rng.random_range(0..10u64.pow(10));
                let s = format!("{n:010}");
                format!("{}-{}", &s[..5], &s[5..])
            })
            .collect()
    };
    let hashes = codes
        .iter()
        .map(|c| sha256_hex(c))
        .collect::<Vec<_>>()
        .join(",");
    let id = staff.id.clone();
    audited(&state, &staff, "totp_enabled", String::new(), move |conn| {
        db::staff::enable_totp(conn, &id, step, &hashes)
    })
    .await?;
    account_page(&state, &staff, codes, None).await
}

/// Turns the second factor off; needs the account's password.
pub async fn disable_totp(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AdminError> {
    staff.check_csrf(&form)?;
    let id = staff.id.clone();
    let user = db::run(&state.pool, move |conn| db::staff::find(conn, &id))
        .await?
        .ok_or(AdminError::LoginRequired)?;
    let password = form.get("password").cloned().unwrap_or_default();
    let hash = user.password_hash.clone();
    let ok = web::block(move || verify_password(&password, &hash))
        .await
        .map_err(|e| AdminError::Internal(e.into()))?;
    if !ok {
        return account_page(
            &state,
            &staff,
            Vec::new(),
            Some("The password is not right.".into()),
        )
        .await;
    }
    let id = staff.id.clone();
    audited(
        &state,
        &staff,
        "totp_disabled",
        String::new(),
        move |conn| db::staff::set_totp_secret(conn, &id, None),
    )
    .await?;
    Ok(see_other("/admin/account"))
}

#[derive(Template)]
#[template(path = "admin/login_code.html")]
struct CodePage<'a> {
    /// Staff pages are English and have no language switch.
    tr: crate::i18n::Tr,
    switch: Option<&'a str>,
    error: Option<&'a str>,
}

fn code_page(status: StatusCode, error: Option<&str>) -> Result<HttpResponse, AdminError> {
    let page = CodePage {
        tr: Default::default(),
        switch: None,
        error,
    };
    Ok(html(status, page.render()?))
}

/// The pending session of this browser, if the password step is done.
async fn pending(
    state: &AppState,
    req: &HttpRequest,
) -> Result<Option<(String, crate::db::models::UserRow)>, AdminError> {
    let Some(token) = req.cookie(SESSION_COOKIE) else {
        return Ok(None);
    };
    let hash = sha256_hex(token.value());
    let now = Utc::now().naive_utc();
    let user = db::run(&state.pool, {
        let hash = hash.clone();
        move |conn| db::staff::find_pending_session(conn, &hash, now)
    })
    .await?;
    Ok(user.map(|(_, u)| (hash, u)))
}

pub async fn code_form(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AdminError> {
    if pending(&state, &req).await?.is_none() {
        return Ok(see_other("/admin/login"));
    }
    code_page(StatusCode::OK, None)
}

/// The second step of logging in: a current code from the app, or an unused recovery code.
/// Wrong codes count towards the same lockout as wrong passwords.
pub async fn check_login_code(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AdminError> {
    let Some((session, user)) = pending(&state, &req).await? else {
        return Ok(see_other("/admin/login"));
    };
    let now = Utc::now().naive_utc();
    let locked = user.failed_logins >= MAX_FAILED_LOGINS
        && user
            .last_failed_login_at
            .is_some_and(|t| now - t < chrono::Duration::minutes(LOCKOUT_MINUTES));
    if locked {
        return code_page(
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many wrong codes. Wait 15 minutes and try again."),
        );
    }
    let code = form
        .get("code")
        .map(|c| c.trim().to_string())
        .unwrap_or_default();
    let step = match &user.totp_secret {
        Some(secret) => check_code(&totp(secret, &user.email)?, &code),
        None => None,
    };
    let id = user.id.clone();
    let recovery_hash = sha256_hex(&code);
    let accepted = db::run(&state.pool, move |conn| {
        let ok = match step {
            Some(step) => db::staff::use_totp_step(conn, &id, step)?,
            None => db::staff::use_recovery_code(conn, &id, &recovery_hash)?,
        };
        if ok {
            db::staff::complete_mfa(conn, &session)?;
            db::staff::reset_failed_logins(conn, &id)?;
            let how = if step.is_some() {
                "with a code"
            } else {
                "with a recovery code"
            };
            db::cases::audit(
                conn,
                None,
                &crate::domain::Actor::Staff(id.clone()),
                "logged_in",
                how.to_string(),
                now,
            )?;
        } else {
            db::staff::record_failed_login(conn, &id, now)?;
        }
        Ok(ok)
    })
    .await?;
    if accepted {
        Ok(see_other("/admin"))
    } else {
        code_page(
            StatusCode::UNAUTHORIZED,
            Some("That code is not right, or it was used already."),
        )
    }
}
