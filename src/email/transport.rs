//! Where messages go: an SMTP server (`SMTP_URL`), `.eml` files in `{DATA_DIR}/mail/`
//! (the default), or memory (unit tests). Turns an outbox row into a lettre message, and a
//! delivery failure into a description that holds no address or server reply text.

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::mails::one_line;
use crate::config::{mail_dir, Settings};
use crate::db::outbox::OutboxRow;
use crate::db::{self, DbConnection, DbError};
use std::collections::HashMap;

/// How long one SMTP conversation step may take.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub enum Transport {
    Smtp(Arc<Smtp>),
    /// One `{outbox id}.eml` file per mail in this folder: a mail sent again replaces its
    /// file, and purge can find the files of the requests it anonymizes.
    Files(PathBuf),
    /// Keeps messages (as sent bytes) for tests.
    Memory(Arc<Mutex<Vec<Vec<u8>>>>),
}

/// lettre's SMTP transport with its connection pool. The pool spawns a clean-up task when
/// dropped, which panics outside a runtime (when the process or a test's runtime shuts
/// down); there it is left to the exit instead.
pub struct Smtp(Option<AsyncSmtpTransport<Tokio1Executor>>);

impl Drop for Smtp {
    fn drop(&mut self) {
        if tokio::runtime::Handle::try_current().is_err() {
            std::mem::forget(self.0.take());
        }
    }
}

/// A transport could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("SMTP_URL is not usable (expected smtp://host:port, smtps://… or ?tls=required)")]
    SmtpUrl,
    #[error("cannot create the mail folder {0}")]
    MailDir(String, #[source] std::io::Error),
}

/// Why one message was not delivered, in words safe to log and store (no addresses, no
/// server reply text, which may quote them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct SendFailure {
    pub reason: String,
    /// Retrying cannot help (e.g. the stored address is not an address).
    pub permanent: bool,
}

impl Transport {
    /// Builds the configured transport. Call on the async runtime: the SMTP connection pool
    /// starts a background task.
    pub fn from_settings(settings: &Settings) -> Result<Self, TransportError> {
        match &settings.mail.smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|_| TransportError::SmtpUrl)?
                    .timeout(Some(SMTP_TIMEOUT))
                    .pool_config(
                        PoolConfig::new()
                            .max_size(4)
                            .idle_timeout(Duration::from_secs(60)),
                    )
                    .build();
                Ok(Transport::Smtp(Arc::new(Smtp(Some(transport)))))
            }
            None => {
                let dir = mail_dir(&settings.data_dir);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| TransportError::MailDir(dir.display().to_string(), e))?;
                Ok(Transport::Files(dir))
            }
        }
    }

    pub fn memory() -> (Self, Arc<Mutex<Vec<Vec<u8>>>>) {
        let sent = Arc::new(Mutex::new(Vec::new()));
        (Transport::Memory(sent.clone()), sent)
    }

    /// Sends the message of outbox row `id`.
    pub async fn send(&self, id: &str, message: Message) -> Result<(), SendFailure> {
        match self {
            Transport::Smtp(smtp) => match &smtp.0 {
                Some(t) => t.send(message).await.map(drop).map_err(smtp_failure),
                None => Err(SendFailure {
                    reason: "the SMTP transport is shut down".to_string(),
                    permanent: false,
                }),
            },
            Transport::Files(dir) => write_mail_file(dir, id, &message.formatted())
                .await
                .map_err(|e| SendFailure {
                    reason: format!("could not write the mail file: {}", e.kind()),
                    permanent: false,
                }),
            Transport::Memory(sent) => {
                sent.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(message.formatted());
                Ok(())
            }
        }
    }
}

/// Writes `{dir}/{id}.eml` whole or not at all: into a temporary file first, renamed once
/// it is on disk, so a crash never leaves half a mail for a reader of the folder.
async fn write_mail_file(dir: &Path, id: &str, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let path = mail_file(dir, id);
    let partial = dir.join(format!(".{id}.eml.partial"));
    let mut file = tokio::fs::File::create(&partial).await?;
    file.write_all(bytes).await?;
    file.sync_all().await?;
    tokio::fs::rename(&partial, &path).await
}

/// The file the file transport writes for outbox row `id`.
pub fn mail_file(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.eml"))
}

/// Removes the mail files of requests purge anonymized: the file transport's copy holds
/// the recipient and the body that purge emptied in the outbox. A file is known by its
/// name (`{outbox id}.eml`) or, for one written before files were named so, by its
/// Message-ID. Answers how many files were removed and how many could not be.
pub fn remove_purged_mail_files(
    conn: &mut DbConnection,
    dir: &Path,
) -> Result<(usize, usize), DbError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok((0, 0));
    };
    let files: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .filter_map(|p| Some((p.file_stem()?.to_str()?.to_string(), p)))
        .collect();
    let stems: Vec<String> = files.iter().map(|(stem, _)| stem.clone()).collect();
    let by_name: HashMap<String, bool> = db::purge::mails_emptied(conn, &stems)?
        .into_iter()
        .collect();
    let mut emptied: Vec<&PathBuf> = Vec::new();
    let mut by_header: Vec<(String, &PathBuf)> = Vec::new();
    for (stem, path) in &files {
        match by_name.get(stem) {
            Some(true) => emptied.push(path),
            Some(false) => {}
            None => by_header.extend(message_id_of(path).map(|id| (id, path))),
        }
    }
    let ids: Vec<String> = by_header.iter().map(|(id, _)| id.clone()).collect();
    let known: HashMap<String, bool> = db::purge::mails_emptied(conn, &ids)?.into_iter().collect();
    emptied.extend(
        by_header
            .iter()
            .filter(|(id, _)| known.get(id) == Some(&true))
            .map(|(_, path)| *path),
    );
    let mut failed = 0;
    for path in &emptied {
        if let Err(e) = std::fs::remove_file(path) {
            tracing::warn!(file = %path.display(), error = %e.kind(), "cannot remove a purged mail file");
            failed += 1;
        }
    }
    Ok((emptied.len() - failed, failed))
}

/// The outbox id in a mail file's `Message-ID: <{id}@…>` header, read from its head.
fn message_id_of(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut head = Vec::with_capacity(8192);
    std::fs::File::open(path)
        .ok()?
        .take(8192)
        .read_to_end(&mut head)
        .ok()?;
    let head = String::from_utf8_lossy(&head);
    let (_, rest) = head.split_once("\nMessage-ID: <")?;
    let (id, _) = rest.split_once('@')?;
    Some(id.to_string())
}

/// A header with one fixed value, for lettre's typed headers.
macro_rules! fixed_header {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $value:literal) => {
        $(#[$doc])*
        #[derive(Clone)]
        struct $ty;

        impl Header for $ty {
            fn name() -> HeaderName {
                HeaderName::new_from_ascii_str($name)
            }

            fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok($ty)
            }

            fn display(&self) -> HeaderValue {
                HeaderValue::new(Self::name(), $value.to_string())
            }
        }
    };
}

fixed_header!(
    /// RFC 3834: the app sends every mail on its own, so vacation responders and mail
    /// intakes (ours too) must not answer it.
    AutoSubmitted, "Auto-Submitted", "auto-generated"
);
fixed_header!(
    /// The same request in the words Exchange and Outlook read.
    AutoResponseSuppress, "X-Auto-Response-Suppress", "All"
);

/// The message for one outbox row: sender, recipient, one-line subject, a text and an HTML
/// alternative. Its Message-ID comes from the row, so a receiver can tell a resent copy.
pub fn build_message(from: &Mailbox, row: &OutboxRow) -> Result<Message, SendFailure> {
    let invalid = |what: &str| SendFailure {
        reason: format!("the stored {what} is not valid"),
        permanent: true,
    };
    let to: Address = row.recipient.parse().map_err(|_| invalid("recipient"))?;
    let mut builder = Message::builder();
    if let Some(reply_to) = &row.reply_to {
        builder = builder.reply_to(reply_to.parse().map_err(|_| invalid("Reply-To"))?);
    }
    builder
        .from(from.clone())
        .to(Mailbox::new(None, to))
        .subject(one_line(&row.subject))
        .message_id(Some(message_id(from, &row.id)))
        .header(AutoSubmitted)
        .header(AutoResponseSuppress)
        .date_now()
        .multipart(MultiPart::alternative_plain_html(
            row.body_text.clone(),
            row.body_html.clone(),
        ))
        .map_err(|_| invalid("message"))
}

/// The Message-ID of outbox row `id`'s mail: `<{id}@{the sender's domain}>`. A reply names it
/// in `In-Reply-To`, which leads back to the row and so to its case.
pub fn message_id(from: &Mailbox, id: &str) -> String {
    format!("<{id}@{}>", from.email.domain())
}

fn smtp_failure(e: lettre::transport::smtp::Error) -> SendFailure {
    let code = e.status().map(|c| format!(" ({c})")).unwrap_or_default();
    let reason = if e.is_permanent() {
        format!("the mail server refused the message{code}")
    } else if e.is_transient() {
        format!("the mail server deferred the message{code}")
    } else if e.is_timeout() {
        "timed out talking to the mail server".to_string()
    } else if e.is_tls() {
        "the TLS handshake with the mail server failed".to_string()
    } else if let Some(kind) = io_kind(&e) {
        format!("could not reach the mail server: {kind}")
    } else {
        "the mail server conversation failed".to_string()
    };
    // A refusal may concern this recipient only, and servers recover: keep retrying until
    // the attempts run out, then staff decide.
    SendFailure {
        reason,
        permanent: false,
    }
}

/// The kind of the I/O error in a cause chain ("connection refused"), if any.
fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cause {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io.kind().to_string());
        }
        cause = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(recipient: &str) -> OutboxRow {
        let now = chrono::Utc::now().naive_utc();
        OutboxRow {
            id: "0b1c".into(),
            kind: crate::db::outbox::OutboxKind::Acknowledgment,
            request_id: None,
            recipient: recipient.into(),
            subject: "Your request TF-7K3M-9QXD\r\nBcc: evil@example.org".into(),
            body_text: "plain".into(),
            body_html: "<p>html</p>".into(),
            urgent: false,
            dedup_key: None,
            status: crate::db::outbox::OutboxStatus::Pending,
            attempts: 1,
            last_error: None,
            next_attempt_at: now,
            locked_until: None,
            created_at: now,
            sent_at: None,
            reply_to: None,
        }
    }

    #[actix_web::test]
    async fn a_message_has_one_subject_line_and_both_alternatives() {
        let from: Mailbox = "Task force <no-reply@taskforce.example>".parse().unwrap();
        let (transport, sent) = Transport::memory();
        let message = build_message(&from, &row("ahmad@example.org")).unwrap();
        transport.send("0b1c", message).await.unwrap();
        let raw = String::from_utf8(sent.lock().unwrap()[0].clone()).unwrap();
        assert!(
            raw.contains("\r\nAuto-Submitted: auto-generated\r\n"),
            "{raw}"
        );
        assert!(raw.contains("\r\nX-Auto-Response-Suppress: All\r\n"));
        assert!(raw.contains("Subject: Your request TF-7K3M-9QXD Bcc: evil@example.org\r\n"));
        assert!(!raw.contains("\r\nBcc:"));
        assert!(raw.contains("To: ahmad@example.org"));
        assert!(raw.contains("Message-ID: <0b1c@taskforce.example>"));
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("text/plain") && raw.contains("text/html"));
        assert!(!raw.contains("Reply-To:"));

        let mut answerable = row("ahmad@example.org");
        answerable.reply_to = Some("taskforce+0123abcd@taskforce.example".into());
        let raw = build_message(&from, &answerable).unwrap().formatted();
        let raw = String::from_utf8(raw).unwrap();
        assert!(raw.contains("Reply-To: taskforce+0123abcd@taskforce.example\r\n"));
    }

    #[actix_web::test]
    async fn the_file_transport_writes_one_file_per_mail_and_a_resend_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let transport = Transport::Files(dir.path().to_path_buf());
        let from: Mailbox = "no-reply@taskforce.example".parse().unwrap();
        for _ in 0..2 {
            let message = build_message(&from, &row("ahmad@example.org")).unwrap();
            transport.send("0b1c", message).await.unwrap();
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["0b1c.eml"]);
        let raw = std::fs::read_to_string(mail_file(dir.path(), "0b1c")).unwrap();
        assert!(raw.contains("To: ahmad@example.org"));
    }

    #[test]
    fn a_bad_stored_address_fails_for_good() {
        let from: Mailbox = "no-reply@taskforce.example".parse().unwrap();
        let err = build_message(&from, &row("not an address")).unwrap_err();
        assert!(err.permanent);
        assert!(!err.reason.contains("not an address"));
    }
}
