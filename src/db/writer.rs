//! Group commit for intake on SQLite. SQLite has one writer and pays one fsync per commit
//! (synchronous=FULL), so one transaction per request caps intake at the disk's fsync rate.
//! Here one thread takes the intakes that arrive together, runs each in its own savepoint
//! of one transaction, commits once, and only then answers each caller: nothing is
//! acknowledged before it is durable, and one request's failure rolls back only its own
//! savepoint. A commit that fails answers every request of the group with an error, and
//! none of them is stored.
//!
//! PostgreSQL takes concurrent writers and commits them in parallel, so there the work runs
//! on the pool as any other query does.

use diesel::connection::Connection;
use std::sync::mpsc;
use tokio::sync::oneshot;

use super::{write_transaction, DbConnection, DbError, Pool};
use crate::config::DatabaseUrl;

/// The most intakes committed together; a larger group waits for the next commit.
const MAX_GROUP: usize = 256;

/// Runs write work, grouped into shared commits on SQLite. Cheap to clone.
#[derive(Clone)]
pub struct Writer {
    pool: Pool,
    group: Option<mpsc::SyncSender<Box<dyn Job>>>,
}

impl Writer {
    /// A writer for the pool's database: on SQLite it starts the committing thread, which
    /// stops when the last clone of the writer is dropped.
    pub fn start(pool: Pool, database: &DatabaseUrl) -> Writer {
        let group = matches!(database, DatabaseUrl::Sqlite(_)).then(|| {
            // Bounded: under a flood, callers wait for room instead of queueing without end.
            let (tx, rx) = mpsc::sync_channel::<Box<dyn Job>>(4 * MAX_GROUP);
            let pool = pool.clone();
            std::thread::Builder::new()
                .name("group-commit".into())
                .spawn(move || serve(&pool, &rx))
                .expect("the group-commit thread starts");
            tx
        });
        Writer { pool, group }
    }

    /// Whether work is grouped into shared commits (SQLite).
    pub fn groups(&self) -> bool {
        self.group.is_some()
    }

    /// Runs `work` and answers once what it wrote is committed. `work` opens its own
    /// transaction with `write_transaction`; in a group that is a savepoint of the group's
    /// transaction, so `work` must not commit by other means.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let Some(group) = &self.group else {
            return super::run_as(&self.pool, work).await;
        };
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Pending { work, reply });
        let queued = match group.try_send(job) {
            Ok(()) => true,
            Err(mpsc::TrySendError::Disconnected(_)) => false,
            // A full queue: wait for room off the async runtime, where blocking is allowed.
            Err(mpsc::TrySendError::Full(job)) => {
                let group = group.clone();
                actix_web::rt::task::spawn_blocking(move || group.send(job).is_ok())
                    .await
                    .unwrap_or(false)
            }
        };
        if !queued {
            return Err(stopped().into());
        }
        answer.await.unwrap_or_else(|_| Err(stopped().into()))
    }
}

fn stopped() -> DbError {
    DbError::Commit("the database writer stopped before storing it".into())
}

/// One caller's work, waiting for its turn.
trait Job: Send {
    /// Runs the work inside the group's transaction.
    fn run(self: Box<Self>, conn: &mut DbConnection) -> Box<dyn Ran>;
    /// Answers without running (no connection for the group).
    fn fail(self: Box<Self>, error: DbError);
}

/// Work that ran and waits for the group's commit to answer its caller.
trait Ran: Send {
    fn ok(&self) -> bool;
    /// Answers the caller: its own result if the group committed, else the commit error.
    fn answer(self: Box<Self>, commit: Option<DbError>);
}

struct Pending<F, T, E> {
    work: F,
    reply: oneshot::Sender<Result<T, E>>,
}

struct Done<T, E> {
    result: Result<T, E>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> Job for Pending<F, T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &mut DbConnection) -> Box<dyn Ran> {
        let result = (self.work)(conn);
        Box::new(Done {
            result,
            reply: self.reply,
        })
    }

    fn fail(self: Box<Self>, error: DbError) {
        // The caller may have gone away; nothing ran, so there is nothing to undo.
        let _ = self.reply.send(Err(error.into()));
    }
}

impl<T, E> Ran for Done<T, E>
where
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    fn ok(&self) -> bool {
        self.result.is_ok()
    }

    fn answer(self: Box<Self>, commit: Option<DbError>) {
        let answer = match (self.result, commit) {
            (Ok(value), None) => Ok(value),
            (Ok(_), Some(error)) => Err(error.into()),
            (Err(e), _) => Err(e),
        };
        let _ = self.reply.send(answer);
    }
}

/// The committing thread: waits for work, takes what else has arrived meanwhile (up to
/// `MAX_GROUP`), and commits it together.
fn serve(pool: &Pool, jobs: &mpsc::Receiver<Box<dyn Job>>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(pool, group);
    }
}

fn commit_group(pool: &Pool, group: Vec<Box<dyn Job>>) {
    let mut conn = match pool.get() {
        Ok(conn) => conn,
        Err(e) => {
            let reason = e.to_string();
            for job in group {
                job.fail(DbError::Commit(reason.clone()));
            }
            return;
        }
    };
    let size = group.len();
    let mut ran: Vec<Box<dyn Ran>> = Vec::with_capacity(size);
    let committed = write_transaction(&mut conn, |conn| -> Result<(), diesel::result::Error> {
        for job in group {
            // Each caller's work in its own savepoint: a failure undoes only that work.
            let mut done = None;
            let savepoint = conn.transaction(|conn| {
                let result = job.run(conn);
                let ok = result.ok();
                done = Some(result);
                if ok {
                    Ok(())
                } else {
                    Err(diesel::result::Error::RollbackTransaction)
                }
            });
            ran.extend(done);
            match savepoint {
                Ok(()) | Err(diesel::result::Error::RollbackTransaction) => {}
                // The transaction itself failed: the rest of the group is answered below.
                Err(e) => return Err(e),
            }
        }
        Ok(())
    });
    if size > 1 {
        tracing::debug!(size, "group committed");
    }
    let reason = committed.as_ref().err().map(ToString::to_string);
    for done in ran {
        done.answer(reason.clone().map(DbError::Commit));
    }
}
