//! Partner organizations, their API tokens and what they submitted.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::models::{ApiTokenRow, PartnerRow};
use super::schema::{api_tokens, case_requests, partners};
use super::{DbConnection, DbError};
use crate::domain::TokenScope;

pub fn list(conn: &mut DbConnection) -> Result<Vec<PartnerRow>, DbError> {
    Ok(partners::table
        .order((partners::name, partners::id))
        .select(PartnerRow::as_select())
        .load(conn)?)
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<PartnerRow>, DbError> {
    Ok(partners::table
        .find(id)
        .select(PartnerRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn name_taken(conn: &mut DbConnection, name: &str) -> Result<bool, DbError> {
    let n: i64 = partners::table
        .filter(partners::name.eq(name))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub fn insert(conn: &mut DbConnection, row: &PartnerRow) -> Result<(), DbError> {
    diesel::insert_into(partners::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn set_quota(
    conn: &mut DbConnection,
    id: &str,
    daily_quota: Option<i32>,
) -> Result<usize, DbError> {
    Ok(diesel::update(partners::table.find(id))
        .set(partners::daily_quota.eq(daily_quota))
        .execute(conn)?)
}

/// Every token of every partner, newest first; revoked ones included, for the record.
pub fn tokens(conn: &mut DbConnection) -> Result<Vec<ApiTokenRow>, DbError> {
    Ok(api_tokens::table
        .order((api_tokens::created_at.desc(), api_tokens::id))
        .select(ApiTokenRow::as_select())
        .load(conn)?)
}

pub fn insert_token(conn: &mut DbConnection, row: &ApiTokenRow) -> Result<(), DbError> {
    diesel::insert_into(api_tokens::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Revokes a token; returns whether there was a live token to revoke. Writes first: on
/// SQLite a transaction that reads before it writes can fail to take the write lock.
pub fn revoke_token(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let changed = diesel::update(
        api_tokens::table
            .find(id)
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(changed > 0)
}

/// The partner holding a live token with this hash, noting that the token was used.
pub fn authenticate(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<(PartnerRow, TokenScope)>, DbError> {
    let found: Option<(String, TokenScope, PartnerRow)> = api_tokens::table
        .inner_join(partners::table)
        .filter(api_tokens::token_hash.eq(token_hash))
        .filter(api_tokens::revoked_at.is_null())
        .select((api_tokens::id, api_tokens::scope, PartnerRow::as_select()))
        .first(conn)
        .optional()?;
    let Some((token_id, scope, partner)) = found else {
        return Ok(None);
    };
    diesel::update(api_tokens::table.find(&token_id))
        .set(api_tokens::last_used_at.eq(Some(now)))
        .execute(conn)?;
    Ok(Some((partner, scope)))
}

/// Requests the partner submitted since `since`.
pub fn submitted_since(
    conn: &mut DbConnection,
    partner_id: &str,
    since: NaiveDateTime,
) -> Result<i64, DbError> {
    Ok(case_requests::table
        .filter(case_requests::partner_id.eq(partner_id))
        .filter(case_requests::created_at.ge(since))
        .count()
        .get_result(conn)?)
}

/// Requests per partner and UTC day since `since` (the start of an hour), as (partner name,
/// day, count), by name then day, from the maintained hourly counts.
pub fn per_day(
    conn: &mut DbConnection,
    since: NaiveDateTime,
) -> Result<Vec<(String, NaiveDate, i64)>, DbError> {
    let names: std::collections::HashMap<String, String> = partners::table
        .select((partners::id, partners::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let hours = super::counts::hours(conn, super::counts::RECEIVED, since)?;
    let mut counts: std::collections::BTreeMap<(String, NaiveDate), i64> = Default::default();
    for (k, n) in hours {
        if let Some(name) = names.get(&k.partner) {
            *counts.entry((name.clone(), k.hour.date())).or_default() += n;
        }
    }
    Ok(counts.into_iter().map(|((n, d), c)| (n, d, c)).collect())
}

/// Sets or (with `None`) removes the partner's webhook; returns how many partners changed.
/// A new `secret` replaces the old one; `None` with a URL keeps the current secret.
pub fn set_webhook(
    conn: &mut DbConnection,
    id: &str,
    url: Option<&str>,
    secret: Option<&str>,
) -> Result<usize, DbError> {
    let target = partners::table.find(id);
    Ok(match (url, secret) {
        (None, _) => diesel::update(target)
            .set((
                partners::webhook_url.eq(None::<String>),
                partners::webhook_secret.eq(None::<String>),
            ))
            .execute(conn)?,
        (Some(url), Some(secret)) => diesel::update(target)
            .set((
                partners::webhook_url.eq(url),
                partners::webhook_secret.eq(secret),
            ))
            .execute(conn)?,
        (Some(url), None) => diesel::update(target)
            .set(partners::webhook_url.eq(url))
            .execute(conn)?,
    })
}
