//! The daily digest for the task-force lead: new requests per category in the last 24
//! hours, open requests per queue, how long the oldest open one has waited, and where each
//! queue's backlog is heading. Queued once per day (`digest:YYYY-MM-DD`) however many
//! instances try.

use chrono::{DateTime, Utc};

use super::mails::{DigestReport, Mail, QueueOutlook};
use super::{enqueue, MailError};
use crate::config::Settings;
use crate::db::{self, DbConnection, DbError};
use crate::domain::Category;

/// Where each queue's backlog is heading as of a moment: the forecast, which the
/// application layer computes and hands to the outbox worker.
pub type Outlook = dyn Fn(&mut DbConnection, chrono::NaiveDateTime) -> Result<Vec<QueueOutlook>, DbError>
    + Send
    + Sync;

/// The numbers as of `now`.
pub fn report(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    outlook: &Outlook,
) -> Result<DigestReport, DbError> {
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
        outlook: outlook(conn, at)?,
    })
}

/// Queues the digest of `now`'s day unless it exists; `true` when this call queued it.
pub fn enqueue_daily(
    conn: &mut DbConnection,
    settings: &Settings,
    now: DateTime<Utc>,
    outlook: &Outlook,
) -> Result<bool, MailError> {
    let key = format!("digest:{}", now.date_naive());
    if db::outbox::exists_with_key(conn, &key)? {
        return Ok(false);
    }
    let mail = Mail::Digest {
        to: settings.mail.digest_to.clone(),
        report: report(conn, now, outlook)?,
    };
    Ok(enqueue(conn, settings, &mail, now)? > 0)
}
