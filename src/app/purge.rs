//! The retention purge an operator runs: anonymize what closed long ago, take the old bytes
//! off the disk, and remove the mail files of the anonymized requests.

use chrono::NaiveDateTime;
use std::path::Path;

use crate::config::mail_dir;
use crate::db::purge::{PurgeCounts, Trigger};
use crate::db::{self, DbConnection, DbError};
use crate::email::transport::remove_purged_mail_files;

/// What one purge did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub counts: PurgeCounts,
    /// Mail files removed from `{DATA_DIR}/mail/`, and those that could not be.
    pub files_removed: usize,
    pub files_failed: usize,
    /// PostgreSQL keeps old row versions in its files until they are reused (`VACUUM FULL`
    /// rewrites them); SQLite's freed space is zeroed.
    pub on_postgres: bool,
}

/// Anonymizes every request closed before `cutoff`; `None` when `trigger` is the daily job
/// and it already ran today.
pub fn run(
    conn: &mut db::Conn,
    data_dir: &Path,
    cutoff: NaiveDateTime,
    trigger: Trigger,
    now: NaiveDateTime,
) -> Result<Option<Purged>, DbError> {
    let Some(counts) = db::purge::run(conn, cutoff, trigger, now)? else {
        return Ok(None);
    };
    db::purge::scrub(conn)?;
    let (files_removed, files_failed) = remove_purged_mail_files(conn, &mail_dir(data_dir))?;
    Ok(Some(Purged {
        counts,
        files_removed,
        files_failed,
        on_postgres: matches!(**conn, DbConnection::Postgres(_)),
    }))
}
