//! Where messages go: an SMTP server (`SMTP_URL`), `.eml` files in `{DATA_DIR}/mail/`
//! (the default), or memory (unit tests). Turns an outbox row into a lettre message, and a
//! delivery failure into a description that holds no address or server reply text.

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{
    Address, AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use secrecy::ExposeSecret;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::mails::one_line;
use crate::config::{mail_dir, Settings};
use crate::db::outbox::OutboxRow;

/// How long one SMTP conversation step may take.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub enum Transport {
    Smtp(Arc<Smtp>),
    Files(AsyncFileTransport<Tokio1Executor>),
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
                Ok(Transport::Files(AsyncFileTransport::new(dir)))
            }
        }
    }

    pub fn memory() -> (Self, Arc<Mutex<Vec<Vec<u8>>>>) {
        let sent = Arc::new(Mutex::new(Vec::new()));
        (Transport::Memory(sent.clone()), sent)
    }

    pub async fn send(&self, message: Message) -> Result<(), SendFailure> {
        match self {
            Transport::Smtp(smtp) => match &smtp.0 {
                Some(t) => t.send(message).await.map(drop).map_err(smtp_failure),
                None => Err(SendFailure {
                    reason: "the SMTP transport is shut down".to_string(),
                    permanent: false,
                }),
            },
            Transport::Files(t) => t.send(message).await.map(drop).map_err(|e| {
                let kind = io_kind(&e).unwrap_or_else(|| "unknown".to_string());
                SendFailure {
                    reason: format!("could not write the mail file: {kind}"),
                    permanent: false,
                }
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

/// The message for one outbox row: sender, recipient, one-line subject, a text and an HTML
/// alternative. Its Message-ID comes from the row, so a receiver can tell a resent copy.
pub fn build_message(from: &Mailbox, row: &OutboxRow) -> Result<Message, SendFailure> {
    let invalid = |what: &str| SendFailure {
        reason: format!("the stored {what} is not valid"),
        permanent: true,
    };
    let to: Address = row.recipient.parse().map_err(|_| invalid("recipient"))?;
    let domain = from.email.domain();
    Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to))
        .subject(one_line(&row.subject))
        .message_id(Some(format!("<{}@{domain}>", row.id)))
        .date_now()
        .multipart(MultiPart::alternative_plain_html(
            row.body_text.clone(),
            row.body_html.clone(),
        ))
        .map_err(|_| invalid("message"))
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
            kind: "acknowledgment".into(),
            request_id: None,
            recipient: recipient.into(),
            subject: "Your request TF-7K3M-9QXD\r\nBcc: evil@example.org".into(),
            body_text: "plain".into(),
            body_html: "<p>html</p>".into(),
            urgent: false,
            dedup_key: None,
            status: "pending".into(),
            attempts: 1,
            last_error: None,
            next_attempt_at: now,
            locked_until: None,
            created_at: now,
            sent_at: None,
        }
    }

    #[actix_web::test]
    async fn a_message_has_one_subject_line_and_both_alternatives() {
        let from: Mailbox = "Task force <no-reply@taskforce.example>".parse().unwrap();
        let (transport, sent) = Transport::memory();
        let message = build_message(&from, &row("ahmad@example.org")).unwrap();
        transport.send(message).await.unwrap();
        let raw = String::from_utf8(sent.lock().unwrap()[0].clone()).unwrap();
        assert!(raw.contains("Subject: Your request TF-7K3M-9QXD Bcc: evil@example.org\r\n"));
        assert!(!raw.contains("\r\nBcc:"));
        assert!(raw.contains("To: ahmad@example.org"));
        assert!(raw.contains("Message-ID: <0b1c@taskforce.example>"));
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("text/plain") && raw.contains("text/html"));
    }

    #[test]
    fn a_bad_stored_address_fails_for_good() {
        let from: Mailbox = "no-reply@taskforce.example".parse().unwrap();
        let err = build_message(&from, &row("not an address")).unwrap_err();
        assert!(err.permanent);
        assert!(!err.reason.contains("not an address"));
    }
}
