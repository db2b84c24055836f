//! A staff member's own account: the optional second factor (TOTP, enrolled with a QR code,
//! with one-time recovery codes) and the second step of logging in with it.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::auth::{Empty, SESSION_COOKIE};
use super::{need, see_other, AdminError, Nav, Posted, Staff};
use crate::app::staff::{self, LoginCode};
use crate::web::errors::html;
use crate::web::AppState;

/// A QR code of the otpauth URL as inline SVG (our own markup: only rectangles).
fn qr_svg(url: &str) -> Result<String, AdminError> {
    let code = qrcode::QrCode::new(url.as_bytes())
        .map_err(|e| AdminError::Internal(anyhow::anyhow!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build())
}

/// A use case's answer about one's own account: an account that is gone ends the session.
fn own(e: crate::app::Error) -> AdminError {
    match e {
        crate::app::Error::NotFound => AdminError::LoginRequired,
        e => e.into(),
    }
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
    let account = staff::account(state, staff).await.map_err(own)?;
    let (qr, secret) = match account.enrolling {
        Some((secret, url)) => (Some(qr_svg(&url)?), Some(secret)),
        None => (None, None),
    };
    let status = super::status_for(&error);
    let body = AccountPage {
        nav: Nav::of(staff),
        email: account.email,
        enabled: account.totp_enabled,
        qr,
        secret,
        recovery,
        error,
    }
    .render()?;
    Ok(html(status, body))
}

/// Shows the account page again with the message of an `Invalid` answer.
async fn or_again(
    state: &AppState,
    staff: &Staff,
    result: crate::app::Result<HttpResponse>,
) -> Result<HttpResponse, AdminError> {
    match result {
        Err(crate::app::Error::Invalid(msg)) => {
            account_page(state, staff, Vec::new(), Some(msg)).await
        }
        other => other.map_err(own),
    }
}

pub async fn account(state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, AdminError> {
    account_page(&state, &staff, Vec::new(), None).await
}

/// Starts enrolling: a fresh secret, not active until a code from it is confirmed.
pub async fn start_totp(
    state: web::Data<AppState>,
    posted: Posted<need::LoggedIn, Empty>,
) -> Result<HttpResponse, AdminError> {
    staff::start_totp(&state, &posted.staff)
        .await
        .map_err(own)?;
    Ok(see_other("/admin/account"))
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// Confirms enrolment with a code from the app; shows the recovery codes once.
pub async fn confirm_totp(
    state: web::Data<AppState>,
    posted: Posted<need::LoggedIn, CodeForm>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let now = Utc::now().naive_utc();
    match staff::confirm_totp(&state, &staff, &form.code, now).await {
        Ok(Some(codes)) => account_page(&state, &staff, codes, None).await,
        Ok(None) => Ok(see_other("/admin/account")),
        Err(e) => or_again(&state, &staff, Err(e)).await,
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

/// Turns the second factor off; needs the account's password.
pub async fn disable_totp(
    state: web::Data<AppState>,
    posted: Posted<need::LoggedIn, PasswordForm>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let now = Utc::now().naive_utc();
    let done = staff::disable_totp(&state, &staff, form.password, now).await;
    or_again(&state, &staff, done.map(|()| see_other("/admin/account"))).await
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

/// The session cookie of this browser, if it has one.
fn session_token(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE).map(|c| c.value().to_string())
}

pub async fn code_form(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AdminError> {
    let now = Utc::now().naive_utc();
    let pending = match session_token(&req) {
        Some(token) => staff::login_pending(&state, &token, now).await?,
        None => false,
    };
    if !pending {
        return Ok(see_other("/admin/login"));
    }
    code_page(StatusCode::OK, None)
}

/// The second step of logging in: a current code from the app, or an unused recovery code.
/// Wrong codes count towards the same lockout as wrong passwords.
pub async fn check_login_code(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AdminError> {
    let Some(token) = session_token(&req) else {
        return Ok(see_other("/admin/login"));
    };
    let now = Utc::now().naive_utc();
    match staff::login_code(&state, &token, &form.code, now).await? {
        LoginCode::NotPending => Ok(see_other("/admin/login")),
        LoginCode::Locked => code_page(
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many wrong codes. Wait 15 minutes and try again."),
        ),
        LoginCode::Refused => code_page(
            StatusCode::UNAUTHORIZED,
            Some("That code is not right, or it was used already."),
        ),
        LoginCode::Accepted => Ok(see_other("/admin")),
    }
}
