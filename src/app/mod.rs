//! Use cases: each takes what a caller parsed and who is acting, owns the transaction, the
//! audit rows, the outbox rows it causes, the worker's wake-up and the metrics, and answers
//! a typed result. Web handlers and CLI commands parse, call one, and render.

pub mod audit;
pub mod cases;
pub mod correspondence;
pub mod counts;
pub mod dashboard;
pub mod demo;
pub mod duplicates;
pub mod escalation;
pub mod export;
pub mod forecast;
pub mod intake;
pub mod mail_in;
pub mod outbox;
pub mod partners;
pub mod purge;
pub mod replies;
pub mod requests;
pub mod rota;
pub mod search;
pub mod settings;
pub mod staff;
pub mod users;

use std::sync::Arc;

use chrono::NaiveDateTime;

use crate::config::Settings;
use crate::db::{self, DbError, Pool};
use crate::domain::staff::Permission;
use crate::domain::Actor;
use crate::email::Waker;

/// What the use cases share: built once by `startup::Application`, cloned into every
/// worker of the HTTP server. Every cache and counter hangs off it, none off a `static`.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    /// Intake: its setup in memory, its writes grouped into shared commits on SQLite.
    pub intake: intake::Intake,
    pub settings: Arc<Settings>,
    /// Wakes the outbox worker after a commit that wrote mail.
    pub mail: Waker,
    pub metrics: crate::metrics::Metrics,
    /// The time every escalation, SLA warning and outbox decision reads.
    pub clock: crate::clock::Clock,
    /// Wakes the escalation worker after a commit that started an escalation.
    pub escalation: Waker,
}

impl AppState {
    /// The state of one instance on `pool`: its own intake writer and metrics.
    pub fn new(
        pool: Pool,
        settings: Arc<Settings>,
        mail: Waker,
        clock: crate::clock::Clock,
        escalation: Waker,
    ) -> AppState {
        let writer = db::Writer::start(pool.clone());
        AppState {
            intake: intake::Intake::new(pool.clone(), writer),
            pool,
            settings,
            mail,
            metrics: crate::metrics::Metrics::new(),
            clock,
            escalation,
        }
    }

    /// Wakes the outbox worker when a commit wrote `mails` outbox rows.
    pub fn wake_for(&self, mails: usize) {
        if mails > 0 {
            self.mail.wake();
        }
    }
}

/// Why a use case did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Nothing by that name, or nothing the actor may see (the two look the same).
    #[error("not found")]
    NotFound,
    /// The actor's role does not allow this.
    #[error("your role does not allow this")]
    Forbidden,
    /// What was asked cannot be done as asked; the message says why, for the person.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        Error::Db(e.into())
    }
}

impl From<intake::SubmitError> for Error {
    fn from(e: intake::SubmitError) -> Self {
        match e {
            intake::SubmitError::Db(e) => Error::Db(e),
            intake::SubmitError::Mail(e) => Error::from(e),
        }
    }
}

impl From<crate::email::MailError> for Error {
    fn from(e: crate::email::MailError) -> Self {
        Error::Internal(e.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `Forbidden` unless `staff`'s role has permission `p`.
pub(crate) fn require(staff: &staff::Staff, p: Permission) -> Result<()> {
    if staff.can(p) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// Runs a settings change and writes its audit row (no case) in the same transaction.
pub(crate) fn audited<T>(
    conn: &mut db::Conn,
    actor: &Actor,
    action: &'static str,
    detail: String,
    now: NaiveDateTime,
    change: impl FnOnce(&mut db::Conn) -> Result<T, DbError>,
) -> Result<T, DbError> {
    db::write_transaction(conn, |conn| {
        let out = change(conn)?;
        db::cases::audit(conn, None, actor, action, detail, now)?;
        Ok(out)
    })
}
