//! Staff authentication: passwords (argon2id), database-backed sessions in an HttpOnly
//! cookie, CSRF tokens on every state-changing form, login throttling, and the one-time
//! setup link that creates the first admin.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use askama::Template;
use chrono::{Duration, NaiveDateTime, Utc};
use rand::Rng;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use subtle::ConstantTimeEq;

use super::AdminError;
use crate::db::models::UserRow;
use crate::db::{self, DbConnection, DbError};
use crate::domain::fields::ContactEmail;
use crate::domain::reference::random_token;
use crate::domain::staff::{Permission, Role};
use crate::domain::Actor;
use crate::web::errors::html;
use crate::web::AppState;

pub const SESSION_COOKIE: &str = "ct_session";
const LOGIN_CSRF_COOKIE: &str = "ct_login_csrf";
/// Failed logins before an account is locked for `LOCKOUT_MINUTES`.
pub const MAX_FAILED_LOGINS: i32 = 5;
pub const LOCKOUT_MINUTES: i64 = 15;
pub const MIN_PASSWORD_CHARS: usize = 12;

pub use crate::app::staff::Staff;

/// Checks a web handler makes of the person behind the session.
impl Staff {
    pub fn require(&self, p: Permission) -> Result<(), AdminError> {
        if self.can(p) {
            Ok(())
        } else {
            Err(AdminError::Forbidden)
        }
    }

    /// Checks the CSRF token a form sent.
    pub fn check_csrf(&self, form: &HashMap<String, String>) -> Result<(), AdminError> {
        let sent = form.get("csrf").map(String::as_str).unwrap_or("");
        if bool::from(sent.as_bytes().ct_eq(self.csrf.as_bytes())) {
            Ok(())
        } else {
            Err(AdminError::BadCsrf)
        }
    }
}

pub fn sha256_hex(value: &str) -> String {
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
            let hash = sha256_hex(&token);
            let now = Utc::now().naive_utc();
            let found = db::run(&state.pool, move |conn| {
                let Some((csrf, user)) = db::staff::find_session(conn, &hash, now)? else {
                    return Ok(None);
                };
                let queues = db::staff::memberships(conn, &user.id)?;
                Ok(Some((csrf, user, queues)))
            })
            .await?;
            let (csrf, user, queues) = found.ok_or(AdminError::LoginRequired)?;
            let role = user.role;
            Ok(Staff {
                id: user.id,
                email: user.email,
                name: user.display_name,
                role,
                queues,
                csrf,
            })
        })
    }
}

/// Hashes a password with argon2id and a fresh salt. Slow on purpose: call off the runtime.
pub fn hash_password(password: &str) -> Result<String, AdminError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AdminError::Internal(anyhow::anyhow!("password hashing failed: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// A hash to verify against when the account does not exist, so that a wrong email takes
/// as long as a wrong password.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not-a-real-password-at-all").unwrap_or_default())
}

/// Checks a new password; the message is for the person choosing it.
pub fn check_new_password(password: &str, confirm: &str) -> Result<(), &'static str> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err("the password must have at least 12 characters");
    }
    if password.len() > 256 {
        return Err("the password is too long");
    }
    if password != confirm {
        return Err("the two passwords are not the same");
    }
    Ok(())
}

/// Creates a staff account. Shared by the admin screen, the setup link and the CLI.
pub fn create_user(
    conn: &mut DbConnection,
    email: &str,
    name: &str,
    role: Role,
    password_hash: String,
    now: NaiveDateTime,
) -> Result<UserRow, CreateUserError> {
    let email = ContactEmail::parse(email).map_err(|_| CreateUserError::BadEmail)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(CreateUserError::BadName);
    }
    let user = UserRow {
        id: uuid::Uuid::new_v4().to_string(),
        email: email.as_str().to_lowercase(),
        display_name: name.to_string(),
        password_hash,
        role,
        active: true,
        failed_logins: 0,
        last_failed_login_at: None,
        created_at: now,
        totp_secret: None,
        totp_enabled: false,
        totp_last_step: None,
        recovery_codes: String::new(),
    };
    if db::staff::find_by_email(conn, &user.email)?.is_some() {
        return Err(CreateUserError::Exists);
    }
    db::staff::insert_user(conn, &user)?;
    Ok(user)
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("the email address is not valid")]
    BadEmail,
    #[error("the name must have 1 to 100 characters")]
    BadName,
    #[error("an account with this email address already exists")]
    Exists,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for CreateUserError {
    fn from(e: diesel::result::Error) -> Self {
        CreateUserError::Db(e.into())
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

/// Starts a session for `user_id` and answers with a redirect that sets its cookie. A
/// `pending_mfa` session only opens the second-factor page.
pub(super) async fn start_session(
    state: &AppState,
    user_id: String,
    to: &str,
    pending_mfa: bool,
) -> Result<HttpResponse, AdminError> {
    let mut rng = rand::rng();
    let token = format!("{}{}", random_token(&mut rng), random_token(&mut rng));
    let csrf = random_token(&mut rng);
    let hash = sha256_hex(&token);
    let now = Utc::now().naive_utc();
    let hours = state.settings.session_hours;
    let expires = now + Duration::hours(hours.into());
    db::run(&state.pool, move |conn| {
        db::staff::delete_expired_sessions(conn, now)?;
        db::staff::create_session(conn, &hash, &user_id, &csrf, now, expires, pending_mfa)
    })
    .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .cookie(session_cookie(
            token,
            state,
            CookieDuration::hours(hours.into()),
        ))
        .finish())
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
}

fn login_page(
    state: &AppState,
    status: actix_web::http::StatusCode,
    email: &str,
    error: Option<&str>,
) -> Result<HttpResponse, AdminError> {
    let csrf = random_token(&mut rand::rng());
    let body = LoginPage {
        tr: Default::default(),
        switch: None,
        csrf: &csrf,
        email,
        error,
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

pub async fn login_form(state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    login_page(&state, actix_web::http::StatusCode::OK, "", None)
}

pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AdminError> {
    use actix_web::http::StatusCode;
    let form = form.into_inner();
    let sent_csrf = form.get("csrf").cloned().unwrap_or_default();
    let cookie_csrf = req
        .cookie(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let email = form
        .get("email")
        .map(|e| e.trim().to_lowercase())
        .unwrap_or_default();
    if cookie_csrf.is_empty() || !bool::from(sent_csrf.as_bytes().ct_eq(cookie_csrf.as_bytes())) {
        return login_page(
            &state,
            StatusCode::FORBIDDEN,
            &email,
            Some("The login form expired. Please try again."),
        );
    }
    let password = form.get("password").cloned().unwrap_or_default();
    let now = Utc::now().naive_utc();
    let lookup = email.clone();
    let user = db::run(&state.pool, move |conn| {
        db::staff::find_by_email(conn, &lookup)
    })
    .await?;

    if let Some(u) = &user {
        let locked = u.failed_logins >= MAX_FAILED_LOGINS
            && u.last_failed_login_at
                .is_some_and(|t| now - t < Duration::minutes(LOCKOUT_MINUTES));
        if locked {
            let mut resp = login_page(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                &email,
                Some("Too many failed attempts. Wait 15 minutes and try again."),
            )?;
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(LOCKOUT_MINUTES as u64 * 60),
            );
            return Ok(resp);
        }
    }
    let hash = user
        .as_ref()
        .filter(|u| u.active)
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    let ok = web::block(move || verify_password(&password, &hash))
        .await
        .map_err(|e| AdminError::Internal(e.into()))?;
    match user.filter(|u| u.active) {
        Some(u) if ok => {
            let id = u.id.clone();
            db::run(&state.pool, move |conn| {
                db::staff::reset_failed_logins(conn, &id)?;
                db::cases::audit(
                    conn,
                    None,
                    &Actor::Staff(id.clone()),
                    "logged_in",
                    String::new(),
                    now,
                )
            })
            .await?;
            if u.totp_enabled {
                start_session(&state, u.id, "/admin/login/code", true).await
            } else {
                start_session(&state, u.id, "/admin", false).await
            }
        }
        found => {
            if let Some(u) = found {
                let id = u.id.clone();
                db::run(&state.pool, move |conn| {
                    db::staff::record_failed_login(conn, &id, now)
                })
                .await?;
            }
            login_page(
                &state,
                StatusCode::UNAUTHORIZED,
                &email,
                Some("The email address or password is not right."),
            )
        }
    }
}

pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: Staff,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AdminError> {
    staff.check_csrf(&form)?;
    if let Some(token) = req.cookie(SESSION_COOKIE) {
        let hash = sha256_hex(token.value());
        db::run(&state.pool, move |conn| {
            db::staff::delete_session(conn, &hash)
        })
        .await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/login"))
        .cookie(session_cookie(String::new(), &state, CookieDuration::ZERO))
        .finish())
}

/// When no staff account exists yet, makes a one-time link that creates the first admin.
/// Returns the link; the caller prints it once.
pub fn issue_setup_link(
    conn: &mut DbConnection,
    base_url: &url::Url,
) -> Result<Option<String>, DbError> {
    if db::staff::count_users(conn)? > 0 {
        return Ok(None);
    }
    let token: String = {
        let mut rng = rand::rng();
        let bytes: [u8; 24] = rng.random();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    db::staff::replace_setup_token(conn, &sha256_hex(&token), Utc::now().naive_utc())?;
    let mut link = base_url.clone();
    link.set_path(&format!("/admin/setup/{token}"));
    Ok(Some(link.to_string()))
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

async fn setup_token_valid(state: &AppState, token: &str) -> Result<bool, AdminError> {
    let hash = sha256_hex(token);
    Ok(db::run(&state.pool, move |conn| {
        db::staff::setup_token_is_valid(conn, &hash)
    })
    .await?)
}

pub async fn setup_form(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    if !setup_token_valid(&state, &token).await? {
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

pub async fn setup(
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AdminError> {
    let token = token.into_inner();
    if !setup_token_valid(&state, &token).await? {
        return Err(AdminError::NotFound);
    }
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let (email, name, password, confirm) = (
        field("email"),
        field("name"),
        field("password"),
        field("confirm"),
    );
    let fail = |msg: &str| -> Result<HttpResponse, AdminError> {
        let body = SetupPage {
            tr: Default::default(),
            switch: None,
            token: &token,
            email: &email,
            name: &name,
            error: Some(msg),
        }
        .render()?;
        Ok(html(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            body,
        ))
    };
    if let Err(msg) = check_new_password(&password, &confirm) {
        return fail(msg);
    }
    if ContactEmail::parse(&email).is_err() {
        return fail("the email address is not valid");
    }
    if name.trim().is_empty() || name.trim().chars().count() > 100 {
        return fail("the name must have 1 to 100 characters");
    }
    let hash = web::block(move || hash_password(&password))
        .await
        .map_err(|e| AdminError::Internal(e.into()))??;
    let now = Utc::now().naive_utc();
    let (e, n, t) = (email.clone(), name.clone(), sha256_hex(&token));
    let created = db::run(&state.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            if !db::staff::consume_setup_token(conn, &t, now)? {
                return Ok(None);
            }
            match create_user(conn, &e, &n, Role::Admin, hash, now) {
                Ok(user) => Ok(Some(user)),
                Err(CreateUserError::Db(err)) => Err(err),
                Err(other) => Err(DbError::Corrupt(other.to_string())),
            }
        })
    })
    .await?;
    match created {
        Some(user) => start_session(&state, user.id, "/admin", false).await,
        None => fail("this setup link has already been used"),
    }
}
