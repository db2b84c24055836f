//! Staff members as the use cases see them: who is acting and what their role lets them do;
//! their accounts (passwords as argon2id hashes, the optional second factor), their
//! database-backed sessions, logging in with its lockout, and the one-time setup link that
//! creates the first admin.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use chrono::{Duration, NaiveDateTime, Utc};
use rand::Rng;
use sha2::{Digest, Sha256};
use totp_rs::{Builder, Secret, Totp};

use super::users::{create_account, CreateUserError};
use super::{audited, AppState, Error, Result};
use crate::db::models::UserRow;
use crate::db::{self, DbConnection, DbError};
use crate::domain::fields::ContactEmail;
use crate::domain::reference::random_token;
use crate::domain::staff::{Permission, Role};
use crate::domain::Actor;

/// A logged-in staff member, resolved from the session cookie.
#[derive(Debug, Clone)]
pub struct Staff {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub queues: Vec<String>,
    pub csrf: String,
}

impl Staff {
    /// How the audit trail names this person.
    pub fn actor(&self) -> Actor {
        Actor::Staff(self.id.clone())
    }

    pub fn can(&self, p: Permission) -> bool {
        self.role.can(p)
    }

    /// Queues whose cases this person may open; `None` means all.
    pub fn allowed_queues(&self) -> Option<Vec<String>> {
        if self.can(Permission::WorkAllQueues) {
            None
        } else if self.can(Permission::WorkOwnQueues) {
            Some(self.queues.clone())
        } else {
            Some(Vec::new())
        }
    }

    pub fn can_work_queue(&self, slug: &str) -> bool {
        self.can(Permission::WorkAllQueues)
            || (self.can(Permission::WorkOwnQueues) && self.queues.iter().any(|q| q == slug))
    }
}

// ---- accounts ----

/// Failed logins (or wrong second-factor codes) before an account is locked for
/// `LOCKOUT_MINUTES`.
pub const MAX_FAILED_LOGINS: i32 = 5;
pub const LOCKOUT_MINUTES: i64 = 15;
pub const MIN_PASSWORD_CHARS: usize = 12;

const TOTP_ISSUER: &str = "case-triage";
const RECOVERY_CODES: usize = 10;

/// How session ids, setup tokens, recovery codes and API tokens are stored: never as sent.
pub fn sha256_hex(value: &str) -> String {
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Hashes a password with argon2id and a fresh salt. Slow on purpose: call off the runtime.
pub fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(anyhow::anyhow!("password hashing failed: {e}")))
}

/// Checks a password against its stored hash. Slow on purpose: call off the runtime.
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

/// Runs slow work (password hashing) on the blocking pool, off the async runtime.
async fn off_runtime<T, F>(f: F) -> Result<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    actix_web::rt::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(e.into()))
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

// ---- sessions and logging in ----

/// The staff member behind a live, fully logged-in session (`token` as the cookie holds it).
pub async fn session(app: &AppState, token: &str, now: NaiveDateTime) -> Result<Option<Staff>> {
    let hash = sha256_hex(token);
    let found = db::run(&app.pool, move |conn| {
        let Some((csrf, user)) = db::staff::find_session(conn, &hash, now)? else {
            return Ok(None);
        };
        let queues = db::staff::memberships(conn, &user.id)?;
        Ok(Some((csrf, user, queues)))
    })
    .await?;
    Ok(found.map(|(csrf, user, queues)| Staff {
        id: user.id,
        email: user.email,
        name: user.display_name,
        role: user.role,
        queues,
        csrf,
    }))
}

/// A session just started: the token for the cookie, and how long it lasts.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub hours: u32,
}

/// Starts a session for `user_id`, clearing expired ones. A `pending_mfa` session only
/// opens the second-factor step.
fn open_session(
    conn: &mut DbConnection,
    user_id: &str,
    pending_mfa: bool,
    hours: u32,
    now: NaiveDateTime,
) -> Result<NewSession, DbError> {
    let mut rng = rand::rng();
    let token = format!("{}{}", random_token(&mut rng), random_token(&mut rng));
    let csrf = random_token(&mut rng);
    let expires = now + Duration::hours(hours.into());
    db::staff::delete_expired_sessions(conn, now)?;
    db::staff::create_session(
        conn,
        &sha256_hex(&token),
        user_id,
        &csrf,
        now,
        expires,
        pending_mfa,
    )?;
    Ok(NewSession { token, hours })
}

/// Whether too many failed attempts lock the account at `now`.
fn locked(user: &UserRow, now: NaiveDateTime) -> bool {
    user.failed_logins >= MAX_FAILED_LOGINS
        && user
            .last_failed_login_at
            .is_some_and(|t| now - t < Duration::minutes(LOCKOUT_MINUTES))
}

/// How a login attempt ended.
#[derive(Debug)]
pub enum Login {
    /// Too many failed attempts: try again after `LOCKOUT_MINUTES`.
    Locked,
    /// Wrong email address or password (the two look the same).
    Refused,
    /// The password was right. With a second factor the session waits for its code.
    Started {
        session: NewSession,
        pending_mfa: bool,
    },
}

/// The first step of logging in: email address and password. Failed attempts count
/// towards the lockout; a success is audited and starts a session.
pub async fn login(
    app: &AppState,
    email: &str,
    password: String,
    now: NaiveDateTime,
) -> Result<Login> {
    let lookup = email.to_string();
    let user = db::run(&app.pool, move |conn| {
        db::staff::find_by_email(conn, &lookup)
    })
    .await?;
    if user.as_ref().is_some_and(|u| locked(u, now)) {
        return Ok(Login::Locked);
    }
    let user = user.filter(|u| u.active);
    // The dummy hash is made on first use: also off the runtime.
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let right = off_runtime(move || {
        let hash = match &hash {
            Some(hash) => hash.as_str(),
            None => dummy_hash(),
        };
        verify_password(&password, hash)
    })
    .await?;
    let Some(user) = user else {
        return Ok(Login::Refused);
    };
    let id = user.id;
    if !right {
        db::run(&app.pool, move |conn| {
            db::staff::record_failed_login(conn, &id, now)
        })
        .await?;
        return Ok(Login::Refused);
    }
    let pending_mfa = user.totp_enabled;
    let hours = app.settings.session_hours;
    let session = db::run(&app.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            db::staff::reset_failed_logins(conn, &id)?;
            let actor = Actor::Staff(id.clone());
            db::cases::audit(conn, None, &actor, "logged_in", String::new(), now)?;
            open_session(conn, &id, pending_mfa, hours, now)
        })
    })
    .await?;
    Ok(Login::Started {
        session,
        pending_mfa,
    })
}

/// Ends the session `token` names.
pub async fn logout(app: &AppState, token: &str) -> Result<()> {
    let hash = sha256_hex(token);
    db::run(&app.pool, move |conn| {
        db::staff::delete_session(conn, &hash)
    })
    .await?;
    Ok(())
}

// ---- the first admin ----

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

/// Whether `token` is an unused setup link while no account exists.
pub async fn setup_valid(app: &AppState, token: &str) -> Result<bool> {
    let hash = sha256_hex(token);
    Ok(db::run(&app.pool, move |conn| {
        db::staff::setup_token_is_valid(conn, &hash)
    })
    .await?)
}

/// The first admin, from the setup link: `NotFound` when the link is not valid, `Invalid`
/// with the message for the person when the details are not (or the link was used
/// meanwhile). Uses the link up and starts the new admin's session.
pub async fn create_first_admin(
    app: &AppState,
    token: &str,
    email: &str,
    name: &str,
    password: String,
    confirm: &str,
    now: NaiveDateTime,
) -> Result<NewSession> {
    if !setup_valid(app, token).await? {
        return Err(Error::NotFound);
    }
    check_new_password(&password, confirm).map_err(|m| Error::Invalid(m.into()))?;
    // The details are checked again when the account is stored; here, before the slow hash.
    if ContactEmail::parse(email).is_err() {
        return Err(Error::Invalid(CreateUserError::BadEmail.to_string()));
    }
    if name.trim().is_empty() || name.trim().chars().count() > 100 {
        return Err(Error::Invalid(CreateUserError::BadName.to_string()));
    }
    let hash = off_runtime(move || hash_password(&password)).await??;
    let (email, name, token) = (email.to_string(), name.to_string(), sha256_hex(token));
    let hours = app.settings.session_hours;
    db::run_as(&app.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            if !db::staff::consume_setup_token(conn, &token, now)? {
                return Err(Error::Invalid(
                    "this setup link has already been used".into(),
                ));
            }
            let user = create_account(conn, &email, &name, Role::Admin, hash, now).map_err(
                |e| match e {
                    CreateUserError::Db(e) => e,
                    other => DbError::Corrupt(other.to_string()),
                },
            )?;
            Ok(open_session(conn, &user.id, false, hours, now)?)
        })
    })
    .await
}

// ---- the second factor ----

fn totp(secret_base32: &str, account: &str) -> Result<Totp> {
    let secret = Secret::try_from_base32(secret_base32)
        .map_err(|_| Error::Internal(anyhow::anyhow!("stored TOTP secret is not base32")))?;
    Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(TOTP_ISSUER))
        .build()
        .map_err(|e| Error::Internal(anyhow::anyhow!("TOTP setup: {e}")))
}

/// The time step a code is valid for, if it is valid now.
fn check_code(t: &Totp, code: &str) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    t.check_current(&code).map(|step| step as i64)
}

/// A staff member's own account as its page shows it.
#[derive(Debug, Clone)]
pub struct Account {
    pub email: String,
    pub totp_enabled: bool,
    /// While enrolling: the secret to type in by hand, and the otpauth URL of its QR code.
    pub enrolling: Option<(String, String)>,
}

/// The account of `staff`; `NotFound` when it is gone.
pub async fn account(app: &AppState, staff: &Staff) -> Result<Account> {
    let user = own_user(app, staff).await?;
    let enrolling = match (user.totp_secret, user.totp_enabled) {
        (Some(secret), false) => {
            let url = totp(&secret, &user.email)?
                .to_url()
                .map_err(|e| Error::Internal(anyhow::anyhow!("TOTP URL: {e}")))?;
            Some((secret, url))
        }
        _ => None,
    };
    Ok(Account {
        email: user.email,
        totp_enabled: user.totp_enabled,
        enrolling,
    })
}

async fn own_user(app: &AppState, staff: &Staff) -> Result<UserRow> {
    let id = staff.id.clone();
    db::run(&app.pool, move |conn| db::staff::find(conn, &id))
        .await?
        .ok_or(Error::NotFound)
}

/// Starts enrolling: a fresh secret, not active until a code from it is confirmed.
pub async fn start_totp(app: &AppState, staff: &Staff) -> Result<()> {
    let secret = Secret::generate().to_base32();
    let id = staff.id.clone();
    db::run(&app.pool, move |conn| {
        db::staff::set_totp_secret(conn, &id, Some(&secret))
    })
    .await?;
    Ok(())
}

/// Confirms enrolment with a current `code` from the app: the one-time recovery codes to
/// show once, or `None` when nothing is being enrolled. Audited.
pub async fn confirm_totp(
    app: &AppState,
    staff: &Staff,
    code: &str,
    now: NaiveDateTime,
) -> Result<Option<Vec<String>>> {
    let user = own_user(app, staff).await?;
    let Some(secret) = user.totp_secret.filter(|_| !user.totp_enabled) else {
        return Ok(None);
    };
    let Some(step) = check_code(&totp(&secret, &user.email)?, code) else {
        return Err(Error::Invalid(
            "That code is not right. Check the time on your phone and type the current code."
                .into(),
        ));
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
    let (id, actor) = (staff.id.clone(), staff.actor());
    db::run(&app.pool, move |conn| {
        audited(conn, &actor, "totp_enabled", String::new(), now, |conn| {
            db::staff::enable_totp(conn, &id, step, &hashes)
        })
    })
    .await?;
    Ok(Some(codes))
}

/// Turns the second factor off; needs the account's password. Audited.
pub async fn disable_totp(
    app: &AppState,
    staff: &Staff,
    password: String,
    now: NaiveDateTime,
) -> Result<()> {
    let hash = own_user(app, staff).await?.password_hash;
    if !off_runtime(move || verify_password(&password, &hash)).await? {
        return Err(Error::Invalid("The password is not right.".into()));
    }
    let (id, actor) = (staff.id.clone(), staff.actor());
    db::run(&app.pool, move |conn| {
        audited(conn, &actor, "totp_disabled", String::new(), now, |conn| {
            db::staff::set_totp_secret(conn, &id, None)
        })
    })
    .await?;
    Ok(())
}

/// The user whose session `token` passed the password and waits for the second factor.
async fn pending_user(app: &AppState, token: &str, now: NaiveDateTime) -> Result<Option<UserRow>> {
    let hash = sha256_hex(token);
    let found = db::run(&app.pool, move |conn| {
        db::staff::find_pending_session(conn, &hash, now)
    })
    .await?;
    Ok(found.map(|(_, user)| user))
}

/// Whether the session `token` waits for its second factor.
pub async fn login_pending(app: &AppState, token: &str, now: NaiveDateTime) -> Result<bool> {
    Ok(pending_user(app, token, now).await?.is_some())
}

/// How the second step of logging in ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginCode {
    /// No session waits for a code: start again with the password.
    NotPending,
    /// Too many wrong attempts: try again after `LOCKOUT_MINUTES`.
    Locked,
    /// Not a current code nor an unused recovery code.
    Refused,
    /// The session is fully logged in.
    Accepted,
}

/// The second step of logging in: a current code from the app, or an unused recovery code.
/// Wrong codes count towards the same lockout as wrong passwords; a success is audited.
pub async fn login_code(
    app: &AppState,
    token: &str,
    code: &str,
    now: NaiveDateTime,
) -> Result<LoginCode> {
    let Some(user) = pending_user(app, token, now).await? else {
        return Ok(LoginCode::NotPending);
    };
    if locked(&user, now) {
        return Ok(LoginCode::Locked);
    }
    let code = code.trim();
    let step = match &user.totp_secret {
        Some(secret) => check_code(&totp(secret, &user.email)?, code),
        None => None,
    };
    let (id, session, recovery_hash) = (user.id, sha256_hex(token), sha256_hex(code));
    let accepted = db::run(&app.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let ok = match step {
                Some(step) => db::staff::use_totp_step(conn, &id, step)?,
                None => db::staff::use_recovery_code(conn, &id, &recovery_hash)?,
            };
            if !ok {
                db::staff::record_failed_login(conn, &id, now)?;
                return Ok(false);
            }
            db::staff::complete_mfa(conn, &session)?;
            db::staff::reset_failed_logins(conn, &id)?;
            let how = if step.is_some() {
                "with a code"
            } else {
                "with a recovery code"
            };
            let actor = Actor::Staff(id.clone());
            db::cases::audit(conn, None, &actor, "logged_in", how.to_string(), now)?;
            Ok(true)
        })
    })
    .await?;
    Ok(if accepted {
        LoginCode::Accepted
    } else {
        LoginCode::Refused
    })
}
