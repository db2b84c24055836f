//! Email and partner webhooks: what the app owes people outside it, written to the outbox in
//! the transaction of the change that causes it (`enqueue`, `webhook::enqueue_for`), and the
//! worker that delivers it with retries, a dead letter state and a daily digest. Sits above
//! `db` and `domain`; knows nothing of the HTTP server.

pub mod digest;
pub mod inbound;
pub mod mails;
pub mod transport;
pub mod webhook;
pub mod worker;

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::db::outbox::OutboxRow;
use crate::db::{self, DbConnection, DbError};
use crate::domain::fields::ContactEmail;
pub use mails::{CaseFacts, DigestReport, Guidance, Mail, Outcome, QueueOutlook, Rendered};
pub use worker::{Shutdown, Waker, Worker};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("a mail template failed to render")]
    Render(#[from] askama::Error),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for MailError {
    fn from(e: diesel::result::Error) -> Self {
        MailError::Db(e.into())
    }
}

/// Writes `mail` to the outbox, one row per recipient; call it inside the transaction of
/// the change that causes the mail. Returns how many rows were written (a mail with a
/// dedup key that already exists writes none).
pub fn enqueue(
    conn: &mut DbConnection,
    settings: &Settings,
    mail: &Mail,
    now: DateTime<Utc>,
) -> Result<usize, MailError> {
    let mut gathered = Vec::new();
    let written = enqueue_into(conn, &mut gathered, settings, mail, now)?;
    for row in &gathered {
        db::outbox::insert(conn, row)?;
    }
    Ok(written)
}

/// `enqueue` for a mail without a dedup key, answering the ids of the rows written (one
/// per recipient): a message's mail is known by its row, whose id makes its Message-ID.
pub fn enqueue_ids(
    conn: &mut DbConnection,
    settings: &Settings,
    mail: &Mail,
    now: DateTime<Utc>,
) -> Result<Vec<String>, MailError> {
    let rows = outbox_rows(settings, mail, now)?;
    for row in &rows {
        db::outbox::insert(conn, row)?;
    }
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// `enqueue`, leaving the rows that need no check against the outbox in `gathered`, for
/// the caller to write with the rest of its change (`RequestRows`).
pub fn enqueue_into(
    conn: &mut DbConnection,
    gathered: &mut Vec<OutboxRow>,
    settings: &Settings,
    mail: &Mail,
    now: DateTime<Utc>,
) -> Result<usize, MailError> {
    let mut written = 0;
    for row in outbox_rows(settings, mail, now)? {
        if row.dedup_key.is_some() {
            written += usize::from(db::outbox::insert_once(conn, &row)?);
        } else {
            gathered.push(row);
            written += 1;
        }
    }
    Ok(written)
}

/// The outbox rows of a mail, one per recipient.
fn outbox_rows(
    settings: &Settings,
    mail: &Mail,
    now: DateTime<Utc>,
) -> Result<Vec<OutboxRow>, MailError> {
    let rendered = mail.render(&settings.base_url)?;
    let now = now.naive_utc();
    Ok(mail
        .recipients()
        .into_iter()
        .map(|to| OutboxRow {
            request_id: mail.request_id().map(str::to_string),
            recipient: to.as_str().to_string(),
            subject: rendered.subject.clone(),
            body_text: rendered.text.clone(),
            body_html: rendered.html.clone(),
            urgent: mail.is_urgent(),
            dedup_key: mail.dedup_key(),
            reply_to: mail.reply_to().map(str::to_string),
            ..OutboxRow::pending(db::models::new_row_id(), mail.kind(), now)
        })
        .collect())
}

/// The valid addresses of a comma-separated list (a queue's `notify_emails`); invalid
/// entries are skipped and logged without their text.
pub fn address_list(raw: &str) -> Vec<ContactEmail> {
    raw.split([',', ';'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .filter_map(|a| match ContactEmail::parse(a) {
            Ok(address) => Some(address),
            Err(_) => {
                tracing::warn!("skipped an invalid notification address");
                None
            }
        })
        .collect()
}

/// Who an outbox row goes to, as logs and staff lists show it: a masked address, or the
/// webhook of a partner (by id; a partner is no person).
pub fn recipient_label(row: &OutboxRow) -> String {
    if row.kind.is_webhook() {
        format!("webhook of partner {}", row.recipient)
    } else {
        mask(&row.recipient)
    }
}

/// An address as logs and staff lists show it: `a***@example.org`.
pub fn mask(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        _ => "***".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_addresses_keep_only_the_first_letter_and_the_domain() {
        assert_eq!(mask("ahmad.karimi@example.org"), "a***@example.org");
        assert_eq!(mask("x@y.example"), "x***@y.example");
        assert_eq!(mask("nonsense"), "***");
        assert_eq!(mask("@example.org"), "***");
    }

    #[test]
    fn address_lists_keep_the_valid_addresses() {
        let list = address_list(" a@taskforce.example, ,not-an-address;b@taskforce.example");
        let list: Vec<_> = list.iter().map(ContactEmail::as_str).collect();
        assert_eq!(list, ["a@taskforce.example", "b@taskforce.example"]);
    }
}
