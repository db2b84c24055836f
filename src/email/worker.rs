//! The outbox worker: started next to the HTTP server, it claims due mail, sends it, and
//! records the outcome: sent; a retry after an exponential backoff; or, after the last
//! attempt, dead (staff can retry it). It also queues the daily digest. Several instances
//! can run workers on one database: claims are exclusive and expire if a worker dies.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

use super::transport::{build_message, SendFailure, Transport};
use super::webhook::Hooks;
use super::{digest, recipient_label, MailError};
use crate::config::Settings;
use crate::db::duplicates::Recent;
use crate::db::outbox::OutboxRow;
use crate::db::{self, Pool};

/// Rows one worker claims at a time.
const BATCH: i64 = 5;
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);

/// Wakes the worker at once (after a commit that wrote mail) instead of at the next poll.
#[derive(Debug, Clone, Default)]
pub struct Waker(Arc<Notify>);

impl Waker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Wakes the worker; if it is busy, it makes another round as soon as it is done.
    pub fn wake(&self) {
        self.0.notify_one();
    }

    /// Waits until woken (at once when a wake-up came while the worker was busy).
    pub async fn notified(&self) {
        self.0.notified().await;
    }
}

/// Tells the worker to stop: it finishes the mail it is sending, records the outcome, and
/// returns. Mail not yet claimed stays pending for the next start (or another instance).
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Sender<bool>);

impl Shutdown {
    /// A signal and the receiver the worker watches.
    pub fn new() -> (Self, watch::Receiver<bool>) {
        let (tx, rx) = watch::channel(false);
        (Shutdown(tx), rx)
    }

    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    /// Another receiver of the same signal, for another background task.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.0.subscribe()
    }
}

/// The delay before the next attempt after `attempts` failed ones: base * 2^(attempts-1),
/// at most six hours.
pub fn backoff(base: Duration, attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(31);
    base.checked_mul(1u32 << doublings)
        .map_or(MAX_BACKOFF, |d| d.min(MAX_BACKOFF))
}

pub struct Worker {
    pool: Pool,
    transport: Transport,
    hooks: Hooks,
    settings: Arc<Settings>,
    waker: Waker,
    stop: watch::Receiver<bool>,
    /// What intake's matching keeps; the purge makes it forget what it anonymized.
    recent: Arc<Recent>,
    /// The digest's outlook per queue.
    outlook: Arc<digest::Outlook>,
    /// What "due now" means.
    clock: crate::clock::Clock,
}

impl Worker {
    pub fn new(
        pool: Pool,
        transport: Transport,
        settings: Arc<Settings>,
        waker: Waker,
        stop: watch::Receiver<bool>,
        recent: Arc<Recent>,
        outlook: Arc<digest::Outlook>,
    ) -> Self {
        Worker {
            pool,
            transport,
            hooks: Hooks::default(),
            settings,
            waker,
            stop,
            recent,
            outlook,
            clock: crate::clock::Clock::real(),
        }
    }

    /// The worker with the clock that says what is due (tests move it).
    pub fn with_clock(mut self, clock: crate::clock::Clock) -> Self {
        self.clock = clock;
        self
    }

    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Runs until told to stop (or the task is dropped): daily jobs when due, deliver what
    /// is due, sleep until woken, stopped or the poll interval has passed.
    pub async fn run(self) {
        let mut digest_day = None;
        let mut purge_day = None;
        while !self.stopping() {
            self.queue_digest_if_due(self.clock.now(), &mut digest_day)
                .await;
            self.purge_if_due(self.clock.now(), &mut purge_day).await;
            if let Err(e) = self.deliver_due().await {
                tracing::warn!(error = %format!("{:#}", anyhow::Error::from(e)), "outbox round failed");
            }
            if self.stopping() {
                break;
            }
            let mut stop = self.stop.clone();
            tokio::select! {
                _ = self.waker.0.notified() => {}
                _ = stop.changed() => {}
                _ = tokio::time::sleep(self.settings.mail.poll) => {}
            }
        }
        tracing::info!("outbox worker stopped");
    }

    /// Delivers every mail that is due now; returns how many were sent. When told to stop it
    /// finishes the mail in hand and gives back the rest of its claim. What a claim sent is
    /// marked sent with one statement once the claim is through (or broken off), not one
    /// transaction per mail: in a surge every transaction waits for a pool connection and a
    /// commit among the intakes'. A crash in between sends those few again after the claim
    /// runs out, as a crash between sending and marking always could.
    pub async fn deliver_due(&self) -> Result<usize, MailError> {
        let mut sent = 0;
        while !self.stopping() {
            let now = self.clock.now().naive_utc();
            // Longer than a batch can take with every SMTP step timing out, so a live worker
            // never loses its rows; a dead worker's rows are free again after it.
            let lease = chrono::Duration::from_std(self.settings.mail.claim)
                .unwrap_or(chrono::Duration::minutes(15));
            let rows = db::run(&self.pool, move |conn| {
                db::outbox::claim_due(conn, now, lease, BATCH)
            })
            .await?;
            if rows.is_empty() {
                return Ok(sent);
            }
            let mut rows = rows.into_iter();
            let mut delivered = Vec::new();
            let mut failed = None;
            for row in rows.by_ref() {
                match self.deliver(row).await {
                    Ok(Some(id)) => delivered.push(id),
                    Ok(None) => {}
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
                if self.stopping() {
                    break;
                }
            }
            sent += delivered.len();
            let unsent: Vec<String> = rows.map(|r| r.id).collect();
            let now = self.clock.now().naive_utc();
            if !delivered.is_empty() || !unsent.is_empty() {
                db::run(&self.pool, move |conn| {
                    db::write_transaction(conn, |conn| {
                        db::outbox::mark_sent(conn, &delivered, now)?;
                        db::outbox::release(conn, &unsent)
                    })
                })
                .await?;
            }
            if let Some(e) = failed {
                return Err(e);
            }
        }
        Ok(sent)
    }

    /// Posts a webhook delivery to its partner's current URL, signed with its current secret.
    async fn post_webhook(&self, row: &OutboxRow) -> Result<Result<(), SendFailure>, MailError> {
        let partner_id = row.recipient.clone();
        let partner = db::run(&self.pool, move |conn| {
            db::partners::find(conn, &partner_id)
        })
        .await?;
        let (url, secret) = partner
            .map(|p| (p.webhook_url, p.webhook_secret))
            .unwrap_or_default();
        let hooks = self.hooks.clone();
        let row = row.clone();
        let posted = tokio::task::spawn_blocking(move || {
            hooks.send(&row, url.as_deref(), secret.as_deref())
        })
        .await;
        Ok(posted.unwrap_or_else(|_| {
            Err(SendFailure {
                reason: "the webhook delivery stopped unexpectedly".into(),
                permanent: false,
            })
        }))
    }

    /// Sends one claimed row (a mail, or a partner's webhook) and records a failure; its id
    /// when it was delivered, for the caller to mark it sent.
    async fn deliver(&self, row: OutboxRow) -> Result<Option<String>, MailError> {
        if row.kind == crate::domain::vocab::OutboxKind::Page {
            // Acknowledging a case removes its queued pages, claimed ones too: look again
            // right before sending, so a page claimed before the acknowledgment stays unsent.
            let id = row.id.clone();
            let queued = db::run(&self.pool, move |conn| {
                db::escalation::page_is_queued(conn, &id)
            })
            .await?;
            if !queued {
                tracing::info!(mail = %row.id, "page not sent: the case was acknowledged");
                return Ok(None);
            }
        }
        let hook = row.kind.is_webhook();
        let result = if hook {
            self.post_webhook(&row).await?
        } else {
            match build_message(&self.settings.mail.from, &row) {
                Ok(message) => self.transport.send(&row.id, message).await,
                Err(failure) => Err(failure),
            }
        };
        let now = self.clock.now().naive_utc();
        let what = if hook { "webhook" } else { "mail" };
        let to = recipient_label(&row);
        let attempts = u32::try_from(row.attempts).unwrap_or(u32::MAX);
        let id = row.id.clone();
        match result {
            Ok(()) => {
                tracing::info!(mail = %row.id, kind = %row.kind, to = %to, attempts, "{what} sent");
                Ok(Some(id))
            }
            Err(failure) => {
                let retry_at: Option<NaiveDateTime> =
                    (!failure.permanent && attempts < self.settings.mail.max_attempts).then(|| {
                        now + chrono::Duration::from_std(backoff(
                            self.settings.mail.retry_base,
                            attempts,
                        ))
                        .unwrap_or(chrono::Duration::hours(6))
                    });
                let reason = failure.reason.clone();
                db::run(&self.pool, move |conn| {
                    db::outbox::mark_failed(conn, &id, &reason, retry_at)
                })
                .await?;
                match retry_at {
                    Some(at) => tracing::warn!(
                        mail = %row.id, kind = %row.kind, to = %to, attempts,
                        error = %failure.reason, retry_at = %at, "{what} not sent; will retry"
                    ),
                    None => tracing::error!(
                        mail = %row.id, kind = %row.kind, to = %to, attempts,
                        error = %failure.reason, "{what} not sent; gave up (dead letter)"
                    ),
                }
                Ok(None)
            }
        }
    }

    /// Runs the retention purge once a day when `PURGE_AFTER_DAYS` is set; the purge itself
    /// makes sure only one instance runs it per day.
    async fn purge_if_due(&self, now: DateTime<Utc>, last: &mut Option<NaiveDate>) {
        let Some(days) = self.settings.purge_after_days else {
            return;
        };
        let today = now.date_naive();
        if *last == Some(today) {
            return;
        }
        let now = now.naive_utc();
        let cutoff = now - chrono::Duration::days(days.into());
        let dir = crate::config::mail_dir(&self.settings.data_dir);
        match db::run(&self.pool, move |conn| {
            let done = db::purge::run(conn, cutoff, db::purge::Trigger::Daily, now)?;
            if done.is_some() {
                db::purge::scrub(conn)?;
                let (removed, _) = super::transport::remove_purged_mail_files(conn, &dir)?;
                tracing::info!(removed, "mail files of anonymized requests removed");
            }
            Ok::<_, db::DbError>(done)
        })
        .await
        {
            Ok(done) => {
                *last = Some(today);
                if let Some(c) = done {
                    self.recent.forget();
                    tracing::info!(
                        requests = c.requests,
                        notes = c.notes,
                        dedup_keys = c.dedup_keys,
                        mails = c.mails,
                        "retention purge done"
                    );
                }
            }
            Err(e) => {
                tracing::warn!(error = %format!("{:#}", anyhow::Error::from(e)), "retention purge failed; will try again")
            }
        }
    }

    /// Queues today's digest once `DIGEST_HOUR` has passed; the outbox's unique key keeps it
    /// to one per day across instances, `last` saves the check until tomorrow.
    async fn queue_digest_if_due(&self, now: DateTime<Utc>, last: &mut Option<NaiveDate>) {
        let today = now.date_naive();
        let Some(hour) = self.settings.mail.digest_hour else {
            return;
        };
        if now.hour() < hour || *last == Some(today) {
            return;
        }
        let (settings, outlook) = (self.settings.clone(), self.outlook.clone());
        match db::run_as(&self.pool, move |conn| {
            digest::enqueue_daily(conn, &settings, now, &*outlook)
        })
        .await
        {
            Ok(queued) => {
                *last = Some(today);
                if queued {
                    tracing::info!(day = %today, "daily digest queued");
                }
            }
            Err(e) => {
                tracing::warn!(error = %format!("{:#}", anyhow::Error::from(e)), "daily digest not queued")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_six_hours() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(base, 1), Duration::from_secs(30));
        assert_eq!(backoff(base, 2), Duration::from_secs(60));
        assert_eq!(backoff(base, 4), Duration::from_secs(240));
        assert_eq!(backoff(base, 12), MAX_BACKOFF);
        assert_eq!(backoff(base, 1000), MAX_BACKOFF);
        assert_eq!(backoff(base, 0), base);
    }
}
