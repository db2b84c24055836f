//! Storage: one connection type over SQLite and PostgreSQL, its pool, migrations and seed
//! data, and the queries. The only module that speaks SQL.

/// Inserts several rows with one statement. The multi-backend connection has no multi-row
/// insert, so each backend does its own.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite(c) => {
                diesel::insert_into($table).values($rows).execute(c)
            }
            $crate::db::DbConnection::Postgres(c) => {
                diesel::insert_into($table).values($rows).execute(c)
            }
        }
    };
}
pub(crate) use insert_rows;

pub mod audit;
pub mod cases;
pub mod counts;
pub mod dashboard;
pub mod duplicates;
pub mod escalation;
pub mod forecast;
pub mod imap;
pub mod mail_in;
pub mod messages;
pub mod models;
pub mod outbox;
pub mod partners;
pub mod purge;
pub mod queues;
pub mod replies;
pub mod requests;
pub mod schema;
pub mod settings;
pub mod setup;
pub mod sql;
pub mod staff;
pub mod writer;

pub use writer::Writer;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use secrecy::ExposeSecret;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::DatabaseUrl;

/// A connection to whichever backend `DATABASE_URL` chose.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// The query backend of `DbConnection` (boxed queries need it named).
pub type DbBackend = <DbConnection as Connection>::Backend;

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConnection = r2d2::PooledConnection<Manager>;

/// A connection with what it shares with the other connections its `Manager` opened: on
/// SQLite, the queue of writers (`write_transaction`). Everything else reads through it as
/// the `DbConnection` it holds.
pub struct Conn {
    db: DbConnection,
    writers: Arc<Mutex<()>>,
}

impl std::ops::Deref for Conn {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.db
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.db
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("could not connect to the database")]
    Connect(#[from] diesel::ConnectionError),
    #[error("no database connection available")]
    Pool(#[from] r2d2::PoolError),
    #[error("database query failed")]
    Query(#[from] diesel::result::Error),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// A shared commit failed (or never ran): nothing of the work was stored.
    #[error("the transaction was not committed: {0}")]
    Commit(String),
}

impl DbError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, DbError::Query(diesel::result::Error::NotFound))
    }
}

/// Opens connections for the pool, on the backend the URL names, never guessing. The
/// connections of one manager queue for SQLite's write lock together.
#[derive(Clone)]
pub struct Manager {
    url: DatabaseUrl,
    writers: Arc<Mutex<()>>,
}

impl Manager {
    pub fn new(url: DatabaseUrl) -> Self {
        Manager {
            url,
            writers: Arc::default(),
        }
    }

    pub fn connect(&self) -> Result<Conn, diesel::ConnectionError> {
        Ok(Conn {
            db: self.open()?,
            writers: Arc::clone(&self.writers),
        })
    }

    fn open(&self) -> Result<DbConnection, diesel::ConnectionError> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_string_lossy();
                let mut conn = SqliteConnection::establish(&path)?;
                // WAL for concurrent readers; FULL so a committed intake survives a power cut;
                // a busy timeout so concurrent writers wait instead of failing. The timeout
                // comes first: switching to WAL needs a lock a running instance may hold
                // (a command such as `admin create` next to a busy server). Freed space is
                // zeroed, so what purge removes cannot be read back from the file.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 15000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -1024; \
                     PRAGMA secure_delete = ON;",
                )
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => {
                let mut url = url::Url::parse(url.expose_secret())
                    .map_err(|_| diesel::ConnectionError::InvalidConnectionUrl("bad url".into()))?;
                if !url.query_pairs().any(|(k, _)| k == "connect_timeout") {
                    url.query_pairs_mut().append_pair("connect_timeout", "5");
                }
                Ok(DbConnection::Postgres(PgConnection::establish(
                    url.as_str(),
                )?))
            }
        }
    }
}

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Conn, r2d2::Error> {
        Manager::connect(self).map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), r2d2::Error> {
        conn.db.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.db.is_broken()
    }
}

/// Builds the pool. Connections are opened lazily, so a database that is down at this
/// moment shows up as `/healthz` 503s, not a crash.
pub fn build_pool(url: &DatabaseUrl, size: u32, timeout: Duration) -> Pool {
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(timeout)
        .build_unchecked(Manager::new(url.clone()))
}

/// Runs a blocking database closure on the blocking thread pool, so that neither the
/// checkout nor the query ever stalls the async runtime.
/// The closure may fail with any error a `DbError` converts into.
pub async fn run<T, F>(pool: &Pool, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut Conn) -> Result<T, DbError> + Send + 'static,
    T: Send + 'static,
{
    run_as(pool, f).await
}

/// `run` for work whose error type is wider than `DbError` (an intake that also queues mail).
pub async fn run_as<T, E, F>(pool: &Pool, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    let pool = pool.clone();
    match actix_web::rt::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(DbError::from)?;
        f(&mut conn)
    })
    .await
    {
        Ok(result) => result,
        Err(join) => Err(DbError::Corrupt(format!("database task failed: {join}")).into()),
    }
}

/// Answers whether the database answers, within `timeout`.
pub fn ping(pool: &Pool, timeout: Duration) -> Result<(), DbError> {
    let mut conn = pool.get_timeout(timeout)?;
    conn.batch_execute("SELECT 1")?;
    Ok(())
}

/// An insert's outcome when the row may exist already: `true` inserted, `false` a unique
/// violation (another instance or an earlier run wrote it), the error otherwise.
pub fn inserted_once(inserted: Result<usize, diesel::result::Error>) -> Result<bool, DbError> {
    match inserted {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Parses a stored enum text, reporting which column held a bad value.
pub fn parse_column<T: std::str::FromStr>(column: &str, value: &str) -> Result<T, DbError> {
    value
        .parse()
        .map_err(|_| DbError::Corrupt(format!("{column} holds an unknown value")))
}

/// Runs `f` in a transaction that may write. On SQLite it starts with `BEGIN IMMEDIATE`,
/// taking the write lock up front: a deferred transaction that reads first and then writes
/// fails at once with SQLITE_BUSY when another writer committed in between, where an
/// immediate one waits its turn (busy timeout). PostgreSQL needs nothing special.
pub fn write_transaction<T, E, F>(conn: &mut Conn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Conn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <DbConnection as Connection>::TransactionManager;
    let immediate = match &mut conn.db {
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::transaction_manager_status_mut(sqlite)
                .transaction_depth()?
                .is_none()
        }
        DbConnection::Postgres(_) => false,
    };
    if !immediate {
        // PostgreSQL, or a savepoint inside a transaction SQLite already holds the lock for.
        Manager::begin_transaction(&mut conn.db)?;
        return finish(conn, f);
    }
    // SQLite has one writer. The writers of one pool queue here, in order, instead of in
    // SQLite's busy handler, which sleeps in growing steps and turns a burst of intakes
    // into second-long tails. Other pools and processes on the same file still meet the
    // busy timeout.
    let writers = Arc::clone(&conn.writers);
    let _turn = writers
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let DbConnection::Sqlite(sqlite) = &mut conn.db {
        AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    }
    finish(conn, f)
}

/// Runs `f` in the transaction just begun, then commits it, or rolls it back on an error.
fn finish<T, E, F>(conn: &mut Conn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Conn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::TransactionManager;
    type Manager = <DbConnection as Connection>::TransactionManager;
    match f(conn) {
        Ok(value) => {
            Manager::commit_transaction(&mut conn.db)?;
            Ok(value)
        }
        Err(e) => match Manager::rollback_transaction(&mut conn.db) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(e),
            Err(rollback) => Err(rollback.into()),
        },
    }
}
