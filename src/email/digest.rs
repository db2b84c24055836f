//! The daily digest for the task-force lead: new requests per category in the last 24
//! hours, open requests per queue, and how long the oldest open one has waited. Queued once
//! per day (`digest:YYYY-MM-DD`) however many instances try.

use chrono::{DateTime, Utc};

use super::mails::{DigestReport, Mail};
use super::{enqueue, MailError};
use crate::config::Settings;
use crate::db::{self, DbConnection, DbError};
use crate::domain::Category;

/// The numbers as of `now`.
pub fn report(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<DigestReport, DbError> {
    let at = now.naive_utc();
    let mut new_per_category =
        db::requests::new_per_category(conn, at - chrono::Duration::hours(24))?
            .into_iter()
            .map(|(c, n)| {
                Ok((
                    db::parse_column::<Category>("case_requests.category", &c)?,
                    n,
                ))
            })
            .collect::<Result<Vec<_>, DbError>>()?;
    new_per_category.sort_by_key(|(c, _)| Category::ALL.iter().position(|x| x == c));
    let open_per_queue = db::requests::open_per_queue(conn)?
        .into_iter()
        .map(|(q, n)| (q.name, n))
        .collect();
    let oldest_open_age = db::requests::oldest_open(conn)?.map(|t| at - t);
    Ok(DigestReport {
        day: now.date_naive(),
        new_per_category,
        open_per_queue,
        oldest_open_age,
    })
}

/// Queues the digest of `now`'s day unless it exists; `true` when this call queued it.
pub fn enqueue_daily(
    conn: &mut DbConnection,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<bool, MailError> {
    let key = format!("digest:{}", now.date_naive());
    if db::outbox::exists_with_key(conn, &key)? {
        return Ok(false);
    }
    let mail = Mail::Digest {
        to: settings.mail.digest_to.clone(),
        report: report(conn, now)?,
    };
    Ok(enqueue(conn, settings, &mail, now)? > 0)
}
