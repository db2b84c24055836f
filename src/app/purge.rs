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

/// Removes taken mail older than `cutoff` from the drop folder's `done/` and `failed/`
/// (the mail as it arrived is personal data). Answers how many were removed and failed.
fn remove_old_inbox_files(inbox: &Path, cutoff: NaiveDateTime) -> (usize, usize) {
    let cutoff = std::time::SystemTime::UNIX_EPOCH
        + std::time::Duration::from_secs(cutoff.and_utc().timestamp().max(0) as u64);
    let (mut removed, mut failed) = (0, 0);
    for sub in ["done", "failed"] {
        let Ok(entries) = std::fs::read_dir(inbox.join(sub)) else {
            continue;
        };
        for path in entries.filter_map(|e| e.ok()).map(|e| e.path()) {
            let old = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < cutoff);
            if !old || !path.is_file() {
                continue;
            }
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) => {
                    failed += 1;
                    tracing::warn!(error = %e, "cannot remove an old mail from the drop folder");
                }
            }
        }
    }
    (removed, failed)
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
    let (mut files_removed, mut files_failed) =
        remove_purged_mail_files(conn, &mail_dir(data_dir))?;
    let (removed, failed) = remove_old_inbox_files(&crate::config::inbox_dir(data_dir), cutoff);
    files_removed += removed;
    files_failed += failed;
    Ok(Some(Purged {
        counts,
        files_removed,
        files_failed,
        on_postgres: matches!(**conn, DbConnection::Postgres(_)),
    }))
}
