//! Staff accounts as admins manage them: the list with each account's queues, a new
//! account, and a change of role, status, password or queues (which logs a changed
//! account out, so that it logs in again with what it may now do).

use chrono::NaiveDateTime;

use super::staff::{check_new_password, hash_password, Staff};
use super::{require, AppState, Error, Result};
use crate::db::models::{QueueRow, UserRow};
use crate::db::{self, DbConnection, DbError};
use crate::domain::fields::ContactEmail;
use crate::domain::staff::{Permission, Role};
use crate::domain::Actor;

/// Every account with the queues it works, and every queue (for the checkboxes).
pub async fn list(
    app: &AppState,
    staff: &Staff,
) -> Result<(Vec<(UserRow, Vec<String>)>, Vec<QueueRow>)> {
    require(staff, Permission::ManageUsers)?;
    Ok(db::run(&app.pool, |conn| {
        let mut users = Vec::new();
        for u in db::staff::list(conn)? {
            let queues = db::staff::memberships(conn, &u.id)?;
            users.push((u, queues));
        }
        Ok((users, db::queues::all(conn)?))
    })
    .await?)
}

/// A new account as the admin typed it; the password is already checked and hashed.
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub queues: Vec<String>,
}

/// Creates the account `new` with its queues.
pub async fn create(app: &AppState, staff: &Staff, new: NewUser, now: NaiveDateTime) -> Result<()> {
    require(staff, Permission::ManageUsers)?;
    let actor = staff.actor();
    db::run_as(&app.pool, move |conn| {
        store(conn, &actor, new, now).map(drop)
    })
    .await
}

/// The operator creates an account from the command line (`admin create`): no runtime
/// there, so the password is checked, hashed and stored on this thread.
pub fn create_from_cli(
    conn: &mut db::Conn,
    new: NewUser,
    password: &str,
    now: NaiveDateTime,
) -> Result<UserRow> {
    check_new_password(password, password).map_err(|m| Error::Invalid(m.into()))?;
    let new = NewUser {
        password_hash: hash_password(password)?,
        ..new
    };
    store(conn, &Actor::Cli, new, now)
}

/// Stores the account `new` with its queues and its audit row, in one transaction.
fn store(conn: &mut db::Conn, actor: &Actor, new: NewUser, now: NaiveDateTime) -> Result<UserRow> {
    db::write_transaction(conn, |conn| {
        let user = create_account(
            conn,
            &new.email,
            &new.name,
            new.role,
            new.password_hash,
            now,
        )
        .map_err(|e| match e {
            CreateUserError::Db(e) => Error::Db(e),
            e => Error::Invalid(e.to_string()),
        })?;
        db::staff::set_memberships(conn, &user.id, &new.queues)?;
        let detail = format!("{} as {}", user.display_name, new.role.as_str());
        db::cases::audit(conn, None, actor, "user_created", detail, now)?;
        Ok(user)
    })
}

/// Creates a staff account.
pub fn create_account(
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

/// What an admin sets on an existing account; a new password is already checked and hashed.
pub struct UserChange {
    pub role: Role,
    pub active: bool,
    pub password_hash: Option<String>,
    pub queues: Vec<String>,
}

/// `Invalid` when `staff` would take their own admin access away (account `id` is theirs).
pub fn keeps_own_access(staff: &Staff, id: &str, role: Role, active: bool) -> Result<()> {
    if id == staff.id && (!active || role != Role::Admin) {
        return Err(Error::Invalid(
            "you cannot remove your own admin access".into(),
        ));
    }
    Ok(())
}

/// Changes account `id` as `change` says.
pub async fn update(
    app: &AppState,
    staff: &Staff,
    id: String,
    change: UserChange,
    now: NaiveDateTime,
) -> Result<()> {
    require(staff, Permission::ManageUsers)?;
    keeps_own_access(staff, &id, change.role, change.active)?;
    let actor = staff.actor();
    let UserChange {
        role,
        active,
        password_hash: hash,
        queues,
    } = change;
    db::run_as(&app.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let Some(user) = db::staff::find(conn, &id)? else {
                return Err(Error::NotFound);
            };
            db::staff::update_role_and_status(conn, &id, role.as_str(), active)?;
            db::staff::set_memberships(conn, &id, &queues)?;
            if let Some(hash) = &hash {
                db::staff::set_password(conn, &id, hash)?;
            }
            if !active || hash.is_some() || user.role != role {
                // A changed account logs in again with what it may now do.
                db::staff::delete_user_sessions(conn, &id)?;
            }
            let detail = format!(
                "{}: role {}, {}{}, queues [{}]",
                user.display_name,
                role.as_str(),
                if active { "active" } else { "deactivated" },
                if hash.is_some() {
                    ", password reset"
                } else {
                    ""
                },
                queues.join(", ")
            );
            db::cases::audit(conn, None, &actor, "user_updated", detail, now)?;
            Ok(())
        })
    })
    .await
}
