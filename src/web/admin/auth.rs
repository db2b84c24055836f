//! Staff authentication on the web: the session cookie (HttpOnly) and the `Staff`
//! extractor that resolves it, the login form with its own CSRF cookie, logging out, and
//! the page of the one-time setup link. The accounts and sessions themselves are
//! `app::staff`.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use std::future::Future;
use std::pin::Pin;
use subtle::ConstantTimeEq;

use super::{need, AdminError, Posted};
use crate::app::staff::{self, Login, NewSession};
use crate::domain::reference::random_token;
use crate::domain::staff::Permission;
use crate::web::errors::html;
use crate::web::AppState;

pub const SESSION_COOKIE: &str = "ct_session";
const LOGIN_CSRF_COOKIE: &str = "ct_login_csrf";

pub use crate::app::staff::{
    check_new_password, issue_setup_link, sha256_hex, verify_password, Staff, LOCKOUT_MINUTES,
    MAX_FAILED_LOGINS, MIN_PASSWORD_CHARS,
};
pub use crate::app::users::{create_account as create_user, CreateUserError};

/// Hashes a password with argon2id and a fresh salt. Slow on purpose: call off the runtime.
pub fn hash_password(password: &str) -> Result<String, AdminError> {
    Ok(staff::hash_password(password)?)
}

/// Checks a web handler makes of the person behind the session.
impl Staff {
    pub fn require(&self, p: Permission) -> Result<(), AdminError> {
        if self.can(p) {
            Ok(())
        } else {
            Err(AdminError::Forbidden)
        }
    }
}

impl FromRequest for Staff {
    type Error = AdminError;
    type Future = Pin<Box<dyn Future<Output = Result<Staff, AdminError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (Some(token), Some(state)) = (token, state) else {
                return Err(AdminError::LoginRequired);
            };
            let now = Utc::now().naive_utc();
            staff::session(&state, &token, now)
                .await?
                .ok_or(AdminError::LoginRequired)
        })
    }
}

fn session_cookie(value: String, state: &AppState, max_age: CookieDuration) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .http_only(true)
        .secure(state.settings.cookie_secure)
        // Lax so the link in a notification mail opens the case for a logged-in user;
        // state changes are protected by CSRF tokens, not by the cookie policy.
        .same_site(SameSite::Lax)
        .max_age(max_age)
        .finish()
}

/// A redirect to `to` that sets the cookie of a session just started.
pub(super) fn with_session(state: &AppState, session: NewSession, to: &str) -> HttpResponse {
    let hours = CookieDuration::hours(session.hours.into());
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .cookie(session_cookie(session.token, state, hours))
        .finish()
}

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage<'a> {
    /// Staff pages are English and have no language switch.
    tr: crate::i18n::Tr,
    switch: Option<&'a str>,
    csrf: &'a str,
    email: &'a str,
    error: Option<&'a str>,
    /// Where to go once logged in (a page's "I take this case" link); empty: the dashboard.
    next: &'a str,
}

fn login_page(
    state: &AppState,
    status: actix_web::http::StatusCode,
    (email, next): (&str, &str),
    error: Option<&str>,
) -> Result<HttpResponse, AdminError> {
    let csrf = random_token(&mut rand::rng());
    let body = LoginPage {
        tr: Default::default(),
        switch: None,
        csrf: &csrf,
        email,
        error,
        next: safe_next(next).unwrap_or(""),
    }
    .render()?;
    let mut resp = html(status, body);
    let cookie = Cookie::build(LOGIN_CSRF_COOKIE, csrf)
        .path("/admin/login")
        .http_only(true)
        .secure(state.settings.cookie_secure)
        .same_site(SameSite::Strict)
        .finish();
    resp.add_cookie(&cookie)
        .map_err(|e| AdminError::Internal(e.into()))?;
    Ok(resp)
}

/// `?next=` of the login form.
#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

pub async fn login_form(
    state: web::Data<AppState>,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AdminError> {
    login_page(
        &state,
        actix_web::http::StatusCode::OK,
        ("", &query.next),
        None,
    )
}

/// `next` when it is a page of the staff side of this app, never another site.
fn safe_next(next: &str) -> Option<&str> {
    (next.starts_with("/admin/")
        && !next.contains("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control))
    .then_some(next)
}

/// The login page's address that comes back to `path` once logged in.
pub fn login_then(path: &str) -> String {
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    url.append_pair("next", path);
    format!("/admin/login?{}", url.finish())
}

/// The login form: not a staff form (there is no session yet), so its CSRF token is checked
/// against the login form's own cookie.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AdminError> {
    use actix_web::http::StatusCode;
    let LoginForm {
        csrf,
        email,
        password,
        next,
    } = form.into_inner();
    let cookie_csrf = req
        .cookie(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let email = email.trim().to_lowercase();
    if cookie_csrf.is_empty() || !bool::from(csrf.as_bytes().ct_eq(cookie_csrf.as_bytes())) {
        return login_page(
            &state,
            StatusCode::FORBIDDEN,
            (&email, &next),
            Some("The login form expired. Please try again."),
        );
    }
    let now = Utc::now().naive_utc();
    match staff::login(&state, &email, password, now).await? {
        Login::Locked => {
            let mut resp = login_page(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                (&email, &next),
                Some("Too many failed attempts. Wait 15 minutes and try again."),
            )?;
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(LOCKOUT_MINUTES as u64 * 60),
            );
            Ok(resp)
        }
        Login::Refused => login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            (&email, &next),
            Some("The email address or password is not right."),
        ),
        Login::Started {
            session,
            pending_mfa,
        } => {
            let to = if pending_mfa {
                "/admin/login/code"
            } else {
                safe_next(&next).unwrap_or("/admin")
            };
            Ok(with_session(&state, session, to))
        }
    }
}

/// A form with nothing in it but its CSRF token.
#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    _: Posted<need::LoggedIn, Empty>,
) -> Result<HttpResponse, AdminError> {
    if let Some(token) = req.cookie(SESSION_COOKIE) {
        staff::logout(&state, token.value()).await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/login"))
        .cookie(session_cookie(String::new(), &state, CookieDuration::ZERO))
        .finish())
}

#[derive(Template)]
#[template(path = "admin/setup.html")]
struct SetupPage<'a> {
    /// Staff pages are English and have no language switch.
    tr: crate::i18n::Tr,
    switch: Option<&'a str>,
    token: &'a str,
    email: &'a str,
    name: &'a str,
    error: Option<&'a str>,
}

pub async fn setup_form(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    if !staff::setup_valid(&state, &token).await? {
        return Err(AdminError::NotFound);
    }
    let body = SetupPage {
        tr: Default::default(),
        switch: None,
        token: &token,
        email: "",
        name: "",
        error: None,
    }
    .render()?;
    Ok(html(actix_web::http::StatusCode::OK, body))
}

/// The setup form: no session and no CSRF token; the one-time link is the secret.
#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn setup(
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<SetupForm>,
) -> Result<HttpResponse, AdminError> {
    let token = token.into_inner();
    let SetupForm {
        email,
        name,
        password,
        confirm,
    } = form.into_inner();
    let now = Utc::now().naive_utc();
    let created =
        staff::create_first_admin(&state, &token, &email, &name, password, &confirm, now).await;
    let msg = match created {
        Ok(session) => return Ok(with_session(&state, session, "/admin")),
        Err(crate::app::Error::Invalid(msg)) => msg,
        Err(e) => return Err(e.into()),
    };
    let body = SetupPage {
        tr: Default::default(),
        switch: None,
        token: &token,
        email: &email,
        name: &name,
        error: Some(&msg),
    }
    .render()?;
    Ok(html(
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        body,
    ))
}
