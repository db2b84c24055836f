//! Group commit for intake. SQLite has one writer and pays one fsync per commit
//! (synchronous=FULL), so one transaction per request caps intake at the disk's fsync rate;
//! PostgreSQL commits concurrent writers side by side, but pays a parse, a plan and a round
//! trip for each of the eight statements of each request. Here one thread takes the
//! intakes that arrive together, reads for all of them at once what was filed lately under
//! their duplicate keys (`FiledSince`), runs each against one transaction, gathering the
//! rows they add (`RequestRows`), writes those with one statement per table, commits once,
//! and only then answers each caller: nothing is acknowledged before it is durable.
//!
//! When any work of a group fails, or writing the group's rows does, the group is rolled
//! back and each work runs again alone, in a transaction of its own: one request's failure
//! fails only that request. A commit that fails alone answers its request with the error.
//!
//! Each instance has its own committing thread; on PostgreSQL several instances commit
//! side by side, as separate connections would.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use tokio::sync::oneshot;

use super::duplicates::{FiledSince, Recent, RecentlyFiled, Recheck};
use super::requests::RequestRows;
use super::{write_transaction, Conn, DbConnection, DbError, Pool};

/// The most intakes committed together; a larger group waits for the next commit.
const MAX_GROUP: usize = 256;

/// Runs write work, grouped into shared commits. Cheap to clone.
#[derive(Clone)]
pub struct Writer {
    group: mpsc::SyncSender<Box<dyn Job>>,
    /// How many shared commits the committing thread has remembered the keys of.
    committed: Arc<AtomicU64>,
    /// What matching keeps between intakes; the committing thread adds what it commits.
    recent: Arc<Recent>,
}

impl Writer {
    /// A writer for the pool's database: it starts the committing thread, which holds one
    /// of the pool's connections while it commits and stops when the last clone of the
    /// writer is dropped.
    pub fn start(pool: Pool) -> Writer {
        // Bounded: under a flood, callers wait for room instead of queueing without end.
        let (group, jobs) = mpsc::sync_channel::<Box<dyn Job>>(4 * MAX_GROUP);
        let committed = Arc::new(AtomicU64::new(0));
        let recent = Arc::new(Recent::default());
        let committer = Committer {
            pool,
            filed: RecentlyFiled::default(),
            committed: committed.clone(),
            recent: recent.clone(),
        };
        std::thread::Builder::new()
            .name("group-commit".into())
            .spawn(move || committer.serve(&jobs))
            .expect("the group-commit thread starts");
        Writer {
            group,
            committed,
            recent,
        }
    }

    /// What matching keeps between this writer's intakes.
    pub fn recent(&self) -> &Arc<Recent> {
        &self.recent
    }

    /// The mark of a search outside the commit (`keys_seen`), read before it: on
    /// PostgreSQL, a second search inside the commit finds what this process's commits
    /// filed after it in memory (`RecentlyFiled`).
    pub fn committed(&self) -> u64 {
        self.committed.load(Ordering::Acquire)
    }

    /// Runs `work` and answers once what it wrote is committed. `work` runs inside the
    /// group's transaction and adds its rows to the `RequestRows` it is given (written
    /// after it, with the group's), or writes them itself; it must not commit, and it may
    /// run twice (the second time alone, when its group failed). `recheck`: the duplicate
    /// search it will make among what was filed since its mark, which the group reads
    /// once for all its works (`RequestRows::filed_since`).
    pub async fn run<T, E, F>(&self, recheck: Option<Recheck>, work: F) -> Result<T, E>
    where
        F: FnMut(&mut Conn, &mut RequestRows) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Pending {
            work,
            recheck,
            result: None,
            reply,
        });
        let queued = match self.group.try_send(job) {
            Ok(()) => true,
            Err(mpsc::TrySendError::Disconnected(_)) => false,
            // A full queue: wait for room off the async runtime, where blocking is allowed.
            Err(mpsc::TrySendError::Full(job)) => {
                let group = self.group.clone();
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
    fn run(&mut self, conn: &mut Conn, rows: &mut RequestRows) -> bool;
    /// The search among lately filed keys the work will make, if any.
    fn recheck(&self) -> Option<&Recheck>;
    /// Answers the caller: the work's own result if it was committed, else `failed`.
    fn answer(self: Box<Self>, failed: Option<DbError>);
}

struct Pending<F, T, E> {
    work: F,
    recheck: Option<Recheck>,
    /// The result of the last run.
    result: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> Job for Pending<F, T, E>
where
    F: FnMut(&mut Conn, &mut RequestRows) -> Result<T, E> + Send,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    fn run(&mut self, conn: &mut Conn, rows: &mut RequestRows) -> bool {
        let result = (self.work)(conn, rows);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn recheck(&self) -> Option<&Recheck> {
        self.recheck.as_ref()
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

/// The committing thread's state: the pool, and on PostgreSQL what its recent commits
/// filed under which keys.
struct Committer {
    pool: Pool,
    filed: RecentlyFiled,
    committed: Arc<AtomicU64>,
    recent: Arc<Recent>,
}

impl Committer {
    /// Waits for work, takes what else has arrived meanwhile (up to `MAX_GROUP`), and
    /// commits it together.
    fn serve(mut self, jobs: &mpsc::Receiver<Box<dyn Job>>) {
        while let Ok(first) = jobs.recv() {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match jobs.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            self.commit_group(group);
        }
    }

    fn commit_group(&mut self, group: Vec<Box<dyn Job>>) {
        let mut conn = match self.pool.get() {
            Ok(conn) => conn,
            Err(e) => {
                let reason = e.to_string();
                for job in group {
                    job.answer(Some(DbError::Commit(reason.clone())));
                }
                return;
            }
        };
        set_temp_store(&mut conn, "MEMORY");
        self.commit_and_answer(&mut conn, group);
        set_temp_store(&mut conn, "DEFAULT");
    }

    /// Commits `group` and answers its callers; when it fails, commits its work one by one.
    fn commit_and_answer(&mut self, conn: &mut Conn, mut group: Vec<Box<dyn Job>>) {
        let size = group.len();
        match self.commit(conn, &mut group) {
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
                    self.commit_alone(conn, job, failure);
                }
            }
            Err(_) => {
                tracing::debug!(size, "group failed; committing its work one by one");
                for mut job in group {
                    match self.commit(conn, std::slice::from_mut(&mut job)) {
                        Ok(()) => job.answer(None),
                        Err(failure) => self.commit_alone(conn, job, failure),
                    }
                }
            }
        }
    }

    /// Answers work that failed alone with its own error (or the commit's). A unique key
    /// the rows broke is a collision of random identifiers (a reference: about one in
    /// 10^12), so the work runs again and draws new ones, a few times.
    fn commit_alone(&mut self, conn: &mut Conn, mut job: Box<dyn Job>, mut failure: Failure) {
        for _ in 0..4 {
            let Failure::Commit(DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ))) = failure
            else {
                break;
            };
            match self.commit(conn, std::slice::from_mut(&mut job)) {
                Ok(()) => return job.answer(None),
                Err(again) => failure = again,
            }
        }
        job.answer(failure.into_commit());
    }

    /// Runs `group` in one transaction, writes the rows it gathered and commits; on
    /// PostgreSQL it then remembers the keys the group filed.
    fn commit(&mut self, conn: &mut Conn, group: &mut [Box<dyn Job>]) -> Result<(), Failure> {
        let remember = matches!(**conn, DbConnection::Postgres(_));
        let recent = &self.filed;
        let (keys, stored) = write_transaction(conn, |conn| {
            let searches: Vec<&Recheck> = group.iter().filter_map(|job| job.recheck()).collect();
            let mut rows = RequestRows::default();
            rows.filed_since =
                FiledSince::read(conn, &searches, recent, &self.recent).map_err(Failure::Commit)?;
            for job in group.iter_mut() {
                if !job.run(conn, &mut rows) {
                    return Err(Failure::Work);
                }
            }
            let stored = rows.stored_all();
            let keys = rows.write(conn).map_err(Failure::Commit)?;
            Ok((remember.then_some(keys), stored))
        })?;
        self.recent.keep_committed(stored);
        if let Some(keys) = keys {
            self.filed.remember(keys);
            self.committed
                .store(self.filed.committed(), Ordering::Release);
        }
        Ok(())
    }
}

/// On SQLite, where temporary files are kept: in memory while the committing thread holds
/// the connection. SQLite can undo one statement of a transaction and keep the others, so
/// each statement that writes many rows (the group's one insert per table) first copies
/// every page it changes into a statement journal; beyond 64 KiB that journal is a
/// temporary file, and writing it was about a third of the bytes a group commit wrote. With
/// 256 connections sending intakes, the server's peak memory was 2 MB higher. The
/// connection goes back to the pool with the default, so a large sort elsewhere still
/// spills to disk, not into memory. A failure only costs speed, so it is logged.
fn set_temp_store(conn: &mut DbConnection, store: &str) {
    use diesel::connection::SimpleConnection;
    if let DbConnection::Sqlite(conn) = conn {
        if let Err(e) = conn.batch_execute(&format!("PRAGMA temp_store = {store}")) {
            tracing::warn!(error = %e, "could not set where temporary data is kept");
        }
    }
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

fn stopped() -> DbError {
    DbError::Commit("the database writer stopped before storing it".into())
}
