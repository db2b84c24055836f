//! Queues as the app reads them: one list, in the order pages show it, one lookup, and the
//! open cases of each from the maintained counts.

use diesel::prelude::*;
use std::collections::HashMap;

use super::models::QueueRow;
use super::schema::queues;
use super::{parse_column, DbConnection, DbError};
use crate::domain::Status;

/// Every queue: the default one first, then by name.
pub fn all(conn: &mut DbConnection) -> Result<Vec<QueueRow>, DbError> {
    Ok(queues::table
        .order((queues::is_default.desc(), queues::name))
        .select(QueueRow::as_select())
        .load(conn)?)
}

/// The queue `slug` names.
pub fn find(conn: &mut DbConnection, slug: &str) -> Result<QueueRow, DbError> {
    Ok(queues::table
        .find(slug)
        .select(QueueRow::as_select())
        .first(conn)?)
}

/// Every queue, by slug.
pub fn by_slug(conn: &mut DbConnection) -> Result<HashMap<String, QueueRow>, DbError> {
    Ok(all(conn)?
        .into_iter()
        .map(|q| (q.slug.clone(), q))
        .collect())
}

/// Open cases per queue slug, from the maintained counts.
pub fn open_counts(conn: &mut DbConnection) -> Result<HashMap<String, i64>, DbError> {
    let mut out: HashMap<String, i64> = HashMap::new();
    for (k, n) in super::counts::states(conn)? {
        if parse_column::<Status>("case_counts.status", &k.status)?.is_open() {
            *out.entry(k.queue).or_default() += n;
        }
    }
    Ok(out)
}

/// Every queue with its open cases (zero included), in the order of `all`.
pub fn with_open_counts(conn: &mut DbConnection) -> Result<Vec<(QueueRow, i64)>, DbError> {
    let counts = open_counts(conn)?;
    Ok(all(conn)?
        .into_iter()
        .map(|q| {
            let n = counts.get(&q.slug).copied().unwrap_or(0);
            (q, n)
        })
        .collect())
}
