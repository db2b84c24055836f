//! Staff accounts, queue memberships, sessions and one-time setup tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::UserRow;
use super::schema::{queue_members, sessions, setup_tokens, users};
use super::{DbConnection, DbError};

pub fn count_users(conn: &mut DbConnection) -> Result<i64, DbError> {
    Ok(users::table.count().get_result(conn)?)
}

pub fn insert_user(conn: &mut DbConnection, user: &UserRow) -> Result<(), DbError> {
    diesel::insert_into(users::table)
        .values(user)
        .execute(conn)?;
    Ok(())
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<UserRow>, DbError> {
    Ok(users::table
        .filter(users::email.eq(email.to_lowercase()))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<UserRow>, DbError> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<UserRow>, DbError> {
    Ok(users::table
        .order(users::display_name)
        .select(UserRow::as_select())
        .load(conn)?)
}

/// Active users who may be assigned cases in a queue: its members, leads and admins.
pub fn assignable(conn: &mut DbConnection, queue: &str) -> Result<Vec<UserRow>, DbError> {
    let members = queue_members::table
        .filter(queue_members::queue_slug.eq(queue))
        .select(queue_members::user_id);
    Ok(users::table
        .filter(users::active.eq(true))
        .filter(
            users::id
                .eq_any(members)
                .or(users::role.eq_any(["admin", "lead"])),
        )
        .order(users::display_name)
        .select(UserRow::as_select())
        .load(conn)?)
}

pub fn update_role_and_status(
    conn: &mut DbConnection,
    id: &str,
    role: &str,
    active: bool,
) -> Result<usize, DbError> {
    Ok(diesel::update(users::table.find(id))
        .set((users::role.eq(role), users::active.eq(active)))
        .execute(conn)?)
}

pub fn set_password(conn: &mut DbConnection, id: &str, hash: &str) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set((users::password_hash.eq(hash), users::failed_logins.eq(0)))
        .execute(conn)?;
    Ok(())
}

pub fn record_failed_login(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set((
            users::failed_logins.eq(users::failed_logins + 1),
            users::last_failed_login_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn reset_failed_logins(conn: &mut DbConnection, id: &str) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set(users::failed_logins.eq(0))
        .execute(conn)?;
    Ok(())
}

pub fn memberships(conn: &mut DbConnection, user_id: &str) -> Result<Vec<String>, DbError> {
    Ok(queue_members::table
        .filter(queue_members::user_id.eq(user_id))
        .select(queue_members::queue_slug)
        .order(queue_members::queue_slug)
        .load(conn)?)
}

pub fn set_memberships(
    conn: &mut DbConnection,
    user_id: &str,
    queues: &[String],
) -> Result<(), DbError> {
    diesel::delete(queue_members::table.filter(queue_members::user_id.eq(user_id)))
        .execute(conn)?;
    for q in queues {
        diesel::insert_into(queue_members::table)
            .values((
                queue_members::user_id.eq(user_id),
                queue_members::queue_slug.eq(q),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn create_session(
    conn: &mut DbConnection,
    id_hash: &str,
    user_id: &str,
    csrf: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
    pending_mfa: bool,
) -> Result<(), DbError> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(id_hash),
            sessions::user_id.eq(user_id),
            sessions::csrf_token.eq(csrf),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(expires_at),
            sessions::pending_mfa.eq(pending_mfa),
        ))
        .execute(conn)?;
    Ok(())
}

/// The live, fully logged-in session with this hashed id and its (active) user.
pub fn find_session(
    conn: &mut DbConnection,
    id_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<(String, UserRow)>, DbError> {
    find_session_in_state(conn, id_hash, now, false)
}

/// A session that has passed the password and waits for the second factor.
pub fn find_pending_session(
    conn: &mut DbConnection,
    id_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<(String, UserRow)>, DbError> {
    find_session_in_state(conn, id_hash, now, true)
}

fn find_session_in_state(
    conn: &mut DbConnection,
    id_hash: &str,
    now: NaiveDateTime,
    pending_mfa: bool,
) -> Result<Option<(String, UserRow)>, DbError> {
    Ok(sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(id_hash))
        .filter(sessions::expires_at.gt(now))
        .filter(sessions::pending_mfa.eq(pending_mfa))
        .filter(users::active.eq(true))
        .select((sessions::csrf_token, UserRow::as_select()))
        .first(conn)
        .optional()?)
}

pub fn delete_session(conn: &mut DbConnection, id_hash: &str) -> Result<(), DbError> {
    diesel::delete(sessions::table.find(id_hash)).execute(conn)?;
    Ok(())
}

pub fn delete_user_sessions(conn: &mut DbConnection, user_id: &str) -> Result<(), DbError> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?;
    Ok(())
}

pub fn delete_expired_sessions(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    Ok(diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)?)
}

/// Replaces any unused setup token with a new one.
pub fn replace_setup_token(
    conn: &mut DbConnection,
    hash: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    conn.transaction(|conn| {
        diesel::delete(setup_tokens::table.filter(setup_tokens::used_at.is_null()))
            .execute(conn)?;
        diesel::insert_into(setup_tokens::table)
            .values((
                setup_tokens::token_hash.eq(hash),
                setup_tokens::created_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    })
}

pub fn setup_token_is_valid(conn: &mut DbConnection, hash: &str) -> Result<bool, DbError> {
    let n: i64 = setup_tokens::table
        .filter(setup_tokens::token_hash.eq(hash))
        .filter(setup_tokens::used_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(n > 0 && count_users(conn)? == 0)
}

/// Marks the token used; false if it was not valid (used, replaced or unknown).
pub fn consume_setup_token(
    conn: &mut DbConnection,
    hash: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(
        setup_tokens::table
            .filter(setup_tokens::token_hash.eq(hash))
            .filter(setup_tokens::used_at.is_null()),
    )
    .set(setup_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn complete_mfa(conn: &mut DbConnection, id_hash: &str) -> Result<(), DbError> {
    diesel::update(sessions::table.find(id_hash))
        .set(sessions::pending_mfa.eq(false))
        .execute(conn)?;
    Ok(())
}

/// Stores a secret being enrolled (not yet enabled), or clears the second factor.
pub fn set_totp_secret(
    conn: &mut DbConnection,
    id: &str,
    secret: Option<&str>,
) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set((
            users::totp_secret.eq(secret),
            users::totp_enabled.eq(false),
            users::totp_last_step.eq(None::<i64>),
            users::recovery_codes.eq(""),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn enable_totp(
    conn: &mut DbConnection,
    id: &str,
    step: i64,
    recovery_hashes: &str,
) -> Result<(), DbError> {
    diesel::update(users::table.find(id))
        .set((
            users::totp_enabled.eq(true),
            users::totp_last_step.eq(step),
            users::recovery_codes.eq(recovery_hashes),
        ))
        .execute(conn)?;
    Ok(())
}

/// Accepts a TOTP time step once: false when this step (or a later one) was used before.
pub fn use_totp_step(conn: &mut DbConnection, id: &str, step: i64) -> Result<bool, DbError> {
    let n = diesel::update(
        users::table.find(id).filter(
            users::totp_last_step
                .is_null()
                .or(users::totp_last_step.lt(step)),
        ),
    )
    .set(users::totp_last_step.eq(step))
    .execute(conn)?;
    Ok(n == 1)
}

/// Uses up one recovery code; false when it is not one of the unused ones.
pub fn use_recovery_code(conn: &mut super::Conn, id: &str, hash: &str) -> Result<bool, DbError> {
    super::write_transaction(conn, |conn| {
        let conn = &mut **conn;
        let Some(user) = find(conn, id)? else {
            return Ok(false);
        };
        let codes: Vec<&str> = user
            .recovery_codes
            .split(',')
            .filter(|c| !c.is_empty())
            .collect();
        if !codes.contains(&hash) {
            return Ok(false);
        }
        let left: Vec<&str> = codes.into_iter().filter(|c| *c != hash).collect();
        diesel::update(users::table.find(id))
            .set(users::recovery_codes.eq(left.join(",")))
            .execute(conn)?;
        Ok(true)
    })
}
