//! Partner webhooks: when a request a partner submitted changes status, a signed JSON POST
//! to the partner's URL. The delivery is an outbox row written in the transaction of the
//! change, so it shares the mail's guarantees: it survives a crash, it is retried with the
//! same backoff, and after the last attempt it is a dead letter staff can retry.
//!
//! Each POST carries `X-CaseTriage-Signature: sha256=<hex>`, the HMAC-SHA256 of
//! `"{X-CaseTriage-Timestamp}.{body}"` under the partner's webhook secret, and a stable
//! `X-CaseTriage-Delivery` id a receiver can de-duplicate on. The body holds the reference and
//! the derived facts only, never personal data.

use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;
use std::time::Duration;

use super::transport::SendFailure;
use crate::db::cases::Applied;
use crate::db::models::CaseRequestRow;
use crate::db::outbox::OutboxKind;
use crate::db::outbox::OutboxRow;
use crate::db::{self, DbConnection, DbError};
use crate::domain::workflow::CaseAction;

/// The event name partners see, in the body and the `X-CaseTriage-Event` header.
pub const EVENT_STATUS_CHANGED: &str = "request.status_changed";
/// The event of a message the task force wrote to the requester.
pub const EVENT_MESSAGE: &str = "request.message";
/// How long one delivery may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The body of a status-change delivery.
#[derive(Debug, Serialize)]
struct StatusChanged<'a> {
    event: &'static str,
    delivery_id: &'a str,
    occurred_at: String,
    reference: &'a str,
    status: &'a str,
    previous_status: &'a str,
    category: &'a str,
    priority: &'a str,
}

fn rfc3339(t: NaiveDateTime) -> String {
    DateTime::<Utc>::from_naive_utc_and_offset(t, Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Queues the webhook an applied action causes: a status change of a request whose partner
/// has a webhook. Call it inside the transaction of the change; returns whether a delivery
/// was queued.
pub fn enqueue_for(
    conn: &mut DbConnection,
    applied: &Applied,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let CaseAction::ChangeStatus { to, .. } = &applied.action else {
        return Ok(false);
    };
    if *to == applied.previous.status {
        return Ok(false);
    }
    let case = &applied.case;
    queue_delivery(
        conn,
        case,
        OutboxKind::WebhookStatusChanged,
        EVENT_STATUS_CHANGED,
        now,
        |delivery_id| {
            serde_json::to_string(&StatusChanged {
                event: EVENT_STATUS_CHANGED,
                delivery_id,
                occurred_at: rfc3339(now),
                reference: &case.reference,
                status: to.as_str(),
                previous_status: applied.previous.status.as_str(),
                category: case.category.as_str(),
                priority: case.priority.as_str(),
            })
        },
    )
}

/// The body of a new-message delivery: that the task force wrote to the requester, not
/// what (the partner reads the message through the API).
#[derive(Debug, Serialize)]
struct MessageWritten<'a> {
    event: &'static str,
    delivery_id: &'a str,
    occurred_at: String,
    reference: &'a str,
}

/// Queues a `request.message` delivery when the task force wrote to the requester of a
/// request whose partner has a webhook; call it inside the transaction of the message.
pub fn enqueue_message(
    conn: &mut DbConnection,
    case: &CaseRequestRow,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    queue_delivery(
        conn,
        case,
        OutboxKind::WebhookMessage,
        EVENT_MESSAGE,
        now,
        |delivery_id| {
            serde_json::to_string(&MessageWritten {
                event: EVENT_MESSAGE,
                delivery_id,
                occurred_at: rfc3339(now),
                reference: &case.reference,
            })
        },
    )
}

/// Writes one delivery of `event` about `case` to the outbox when the case's partner has a
/// webhook; `body` makes the JSON from the delivery's id.
fn queue_delivery(
    conn: &mut DbConnection,
    case: &CaseRequestRow,
    kind: OutboxKind,
    event: &'static str,
    now: NaiveDateTime,
    body: impl FnOnce(&str) -> serde_json::Result<String>,
) -> Result<bool, DbError> {
    let Some(partner_id) = case.partner_id.as_deref() else {
        return Ok(false);
    };
    let has_webhook =
        db::partners::find(conn, partner_id)?.is_some_and(|p| p.webhook_url.is_some());
    if !has_webhook {
        return Ok(false);
    }
    let id = uuid::Uuid::new_v4().to_string();
    let body = body(&id).map_err(|e| DbError::Corrupt(format!("webhook body: {e}")))?;
    let row = OutboxRow {
        request_id: Some(case.id.clone()),
        // The partner, not its URL: a delivery goes to the URL and secret of its attempt.
        recipient: partner_id.to_string(),
        subject: event.to_string(),
        body_text: body,
        ..OutboxRow::pending(id, kind, now)
    };
    db::outbox::insert(conn, &row)?;
    Ok(true)
}

/// `sha256=<hex>` of HMAC-SHA256(secret, "{timestamp}.{body}").
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Sends webhook deliveries over HTTP(S): no redirects, a ten-second limit, any answer but
/// 2xx is a failure to retry.
#[derive(Clone)]
pub struct Hooks {
    agent: ureq::Agent,
}

impl Default for Hooks {
    fn default() -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("case-triage-webhook/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Hooks { agent }
    }
}

impl Hooks {
    /// Posts one claimed delivery to the partner's current URL, signed with its current
    /// secret. Blocks: call it off the async runtime.
    pub fn send(
        &self,
        row: &OutboxRow,
        url: Option<&str>,
        secret: Option<&str>,
    ) -> Result<(), SendFailure> {
        let (Some(url), Some(secret)) = (url, secret) else {
            return Err(SendFailure {
                reason: "the partner has no webhook any more".into(),
                permanent: true,
            });
        };
        let timestamp = Utc::now().timestamp();
        let sent = self
            .agent
            .post(url)
            .header("Content-Type", "application/json")
            .header("X-CaseTriage-Event", row.subject.as_str())
            .header("X-CaseTriage-Delivery", row.id.as_str())
            .header("X-CaseTriage-Timestamp", timestamp.to_string())
            .header(
                "X-CaseTriage-Signature",
                signature(secret, timestamp, &row.body_text),
            )
            .send(row.body_text.as_str());
        match sent {
            Ok(resp) if resp.status().is_success() => Ok(()),
            Ok(resp) => Err(SendFailure {
                reason: format!("the webhook answered HTTP {}", resp.status().as_u16()),
                permanent: false,
            }),
            Err(e) => Err(SendFailure {
                reason: format!("the webhook was not reached: {}", unreached(&e)),
                permanent: false,
            }),
        }
    }
}

/// Why a webhook was not reached, in words that name no host.
fn unreached(e: &ureq::Error) -> &'static str {
    match e {
        ureq::Error::Timeout(_) => "timed out",
        ureq::Error::HostNotFound => "host not found",
        ureq::Error::ConnectionFailed => "connection failed",
        ureq::Error::Io(_) => "connection lost",
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => "TLS failed",
        ureq::Error::BadUri(_) => "the URL is not usable",
        _ => "HTTP failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_timestamp_dot_body() {
        // The expected value was computed outside the app, with Python's hmac module:
        // hmac.new(b"whsec_test", b'1700000000.{"event":"request.status_changed"}', sha256).
        let body = r#"{"event":"request.status_changed"}"#;
        assert_eq!(
            signature("whsec_test", 1_700_000_000, body),
            "sha256=e7a344bb6e5e12b890ba053fda266d623eace19184528543e154f02abab3c41a"
        );
        // Any change in time, body or key changes it.
        let sig = signature("whsec_test", 1_700_000_000, body);
        assert_ne!(sig, signature("whsec_test", 1_700_000_001, body));
        assert_ne!(sig, signature("whsec_test", 1_700_000_000, "{}"));
        assert_ne!(sig, signature("whsec_tesu", 1_700_000_000, body));
    }
}
