//! Migrations (embedded, one folder per backend with the same version names) and the seed
//! data of a fresh installation. Both run at start-up and from the `migrate` command.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::schema::{guidance, queues, routing_rules};
use super::{DbConnection, DbError};
use crate::domain::defaults;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Any fixed number: instances that start together take turns migrating.
const MIGRATION_LOCK_KEY: i64 = 0x7466_5f6d_6967;

/// Applies pending migrations; returns how many ran.
pub fn migrate(conn: &mut DbConnection) -> Result<usize, DbError> {
    let err = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    match conn {
        DbConnection::Sqlite(c) => Ok(c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map_err(err)?
            .len()),
        DbConnection::Postgres(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
            let ran = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len());
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
            ran.map_err(err)
        }
    }
}

/// Whether every embedded migration has been applied.
pub fn is_migrated(conn: &mut DbConnection) -> Result<bool, DbError> {
    let err = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    let pending = match conn {
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS).map_err(err)?,
        DbConnection::Postgres(c) => c.has_pending_migration(POSTGRES_MIGRATIONS).map_err(err)?,
    };
    Ok(!pending)
}

/// Seeds queues, routing rules and guidance on a database that has none; leaves an
/// installation the lead has already edited alone. Safe to run from several instances.
pub fn seed(conn: &mut DbConnection) -> Result<bool, DbError> {
    conn.transaction(|conn| {
        let existing: i64 = queues::table.count().get_result(conn)?;
        if existing > 0 {
            return Ok(false);
        }
        let now = chrono::Utc::now().naive_utc();
        for q in defaults::queues() {
            diesel::insert_into(queues::table)
                .values((
                    queues::slug.eq(q.slug),
                    queues::name.eq(q.name),
                    queues::description.eq(q.description),
                    queues::notify_emails.eq(q.notify_emails),
                    queues::is_default.eq(q.slug == defaults::DEFAULT_QUEUE),
                    queues::created_at.eq(now),
                ))
                .execute(conn)?;
        }
        // The urgent desk's escalation chain (migration 000030 gives it to installations
        // that had the desk before).
        super::escalation::save_chain(
            conn,
            "urgent-protection",
            Some(&crate::domain::escalation::Chain::urgent_desk_default()),
        )?;
        for r in defaults::routing_rules() {
            diesel::insert_into(routing_rules::table)
                .values((
                    routing_rules::id.eq(&r.id),
                    routing_rules::position.eq(r.position),
                    routing_rules::name.eq(&r.name),
                    routing_rules::category.eq(r.category.map(|c| c.as_str())),
                    routing_rules::priority.eq(r.priority.map(|p| p.as_str())),
                    routing_rules::source.eq(r.source.map(|s| s.as_str())),
                    routing_rules::location.eq(r.location.map(|l| l.as_str())),
                    routing_rules::queue_slug.eq(r.queue.as_str()),
                    routing_rules::enabled.eq(r.enabled),
                    routing_rules::created_at.eq(now),
                ))
                .execute(conn)?;
        }
        for g in defaults::guidance() {
            diesel::insert_into(guidance::table)
                .values((
                    guidance::category.eq(g.category.as_str()),
                    guidance::body.eq(g.body),
                    guidance::next_steps.eq(g.next_steps),
                    guidance::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(true)
    })
    .or_else(|e: DbError| match e {
        // Another instance seeded at the same moment.
        DbError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        other => Err(other),
    })
}
