//! Group commit for intake on SQLite. SQLite has one writer and pays one fsync per commit
//! (synchronous=FULL), so one transaction per request caps intake at the disk's fsync rate.
//! Here one thread takes the intakes that arrive together, runs each against one
//! transaction, gathering the rows they add (`RequestRows`), writes those with one
//! statement per table, commits once, and only then answers each caller: nothing is
//! acknowledged before it is durable.
//!
//! When any work of a group fails, or writing the group's rows does, the group is rolled
//! back and each work runs again alone, in a transaction of its own: one request's failure
//! fails only that request. A commit that fails alone answers its request with the error.
//!
//! PostgreSQL takes concurrent writers and commits them in parallel, so there each work
//! runs alone, on the pool, as any other query does: a single committing thread would
//! queue the duplicate matching that the server's connections do side by side.

use std::sync::mpsc;
use tokio::sync::oneshot;

use super::requests::RequestRows;
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
            let (group, jobs) = mpsc::sync_channel::<Box<dyn Job>>(4 * MAX_GROUP);
            let pool = pool.clone();
            std::thread::Builder::new()
                .name("group-commit".into())
                .spawn(move || serve(&pool, &jobs))
                .expect("the group-commit thread starts");
            group
        });
        Writer { pool, group }
    }

    /// Whether work is grouped into shared commits (SQLite).
    pub fn groups(&self) -> bool {
        self.group.is_some()
    }

    /// Runs `work` and answers once what it wrote is committed. `work` runs inside the
    /// group's transaction and adds its rows to the `RequestRows` it is given (written
    /// after it, with the group's), or writes them itself; it must not commit, and it may
    /// run twice (the second time alone, when its group failed).
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnMut(&mut DbConnection, &mut RequestRows) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Pending {
            work,
            result: None,
            reply,
        });
        let Some(group) = &self.group else {
            let pool = self.pool.clone();
            actix_web::rt::task::spawn_blocking(move || commit_group(&pool, vec![job]))
                .await
                .map_err(|join| DbError::Corrupt(format!("database task failed: {join}")))?;
            return answer.await.unwrap_or_else(|_| Err(stopped().into()));
        };
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

/// One caller's work, waiting for its turn.
trait Job: Send {
    /// Runs the work inside a transaction; whether it succeeded.
    fn run(&mut self, conn: &mut DbConnection, rows: &mut RequestRows) -> bool;
    /// Answers the caller: the work's own result if it was committed, else `failed`.
    fn answer(self: Box<Self>, failed: Option<DbError>);
}

struct Pending<F, T, E> {
    work: F,
    /// The result of the last run.
    result: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> Job for Pending<F, T, E>
where
    F: FnMut(&mut DbConnection, &mut RequestRows) -> Result<T, E> + Send,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    fn run(&mut self, conn: &mut DbConnection, rows: &mut RequestRows) -> bool {
        let result = (self.work)(conn, rows);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn answer(self: Box<Self>, failed: Option<DbError>) {
        let answer = match (self.result, failed) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(value)), None) => Ok(value),
            (_, Some(error)) => Err(error.into()),
            (None, None) => Err(stopped().into()),
        };
        // The caller may have gone away; what committed stays committed.
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

fn commit_group(pool: &Pool, mut group: Vec<Box<dyn Job>>) {
    let mut conn = match pool.get() {
        Ok(conn) => conn,
        Err(e) => {
            let reason = e.to_string();
            for job in group {
                job.answer(Some(DbError::Commit(reason.clone())));
            }
            return;
        }
    };
    let size = group.len();
    match commit(&mut conn, &mut group) {
        Ok(()) => {
            if size > 1 {
                tracing::debug!(size, "group committed");
            }
            for job in group {
                job.answer(None);
            }
        }
        Err(failure) if size == 1 => {
            if let Some(job) = group.pop() {
                commit_alone(&mut conn, job, failure);
            }
        }
        Err(_) => {
            tracing::debug!(size, "group failed; committing its work one by one");
            for mut job in group {
                match commit(&mut conn, std::slice::from_mut(&mut job)) {
                    Ok(()) => job.answer(None),
                    Err(failure) => commit_alone(&mut conn, job, failure),
                }
            }
        }
    }
}

/// Answers work that failed alone with its own error (or the commit's). A unique key the
/// rows broke is a collision of random identifiers (a reference: about one in 10^12), so
/// the work runs again and draws new ones, a few times.
fn commit_alone(conn: &mut DbConnection, mut job: Box<dyn Job>, mut failure: Failure) {
    for _ in 0..4 {
        let Failure::Commit(DbError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))) = failure
        else {
            break;
        };
        match commit(conn, std::slice::from_mut(&mut job)) {
            Ok(()) => return job.answer(None),
            Err(again) => failure = again,
        }
    }
    job.answer(failure.into_commit());
}

/// Why a group was not committed.
enum Failure {
    /// A work failed; its result says why.
    Work,
    /// Writing the rows failed, or the transaction did.
    Commit(DbError),
}

impl Failure {
    /// The error to answer with besides the work's own result.
    fn into_commit(self) -> Option<DbError> {
        match self {
            Failure::Work => None,
            Failure::Commit(e) => Some(e),
        }
    }
}

impl From<diesel::result::Error> for Failure {
    fn from(e: diesel::result::Error) -> Self {
        Failure::Commit(DbError::Commit(e.to_string()))
    }
}

/// Runs `group` in one transaction, writes the rows it gathered and commits.
fn commit(conn: &mut DbConnection, group: &mut [Box<dyn Job>]) -> Result<(), Failure> {
    write_transaction(conn, |conn| {
        let mut rows = RequestRows::default();
        for job in group.iter_mut() {
            if !job.run(conn, &mut rows) {
                return Err(Failure::Work);
            }
        }
        rows.write(conn).map_err(Failure::Commit)
    })
}

fn stopped() -> DbError {
    DbError::Commit("the database writer stopped before storing it".into())
}
