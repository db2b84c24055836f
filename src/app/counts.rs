//! The maintained counts behind the dashboard and the queue totals, checked against a
//! fresh count of the requests, or rebuilt from them (`case-triage recount`).

use crate::db::counts::Snapshot;
use crate::db::{self, DbConnection, DbError};

/// How the maintained counts compare with a fresh count.
pub struct Checked {
    /// Counts that differ; 0 when they all match.
    pub differ: usize,
    pub fresh: Snapshot,
}

/// Counts the requests from scratch and compares the maintained counts with that.
pub fn check(conn: &mut DbConnection) -> Result<Checked, DbError> {
    let kept = db::counts::maintained(conn)?;
    let fresh = db::counts::recount(conn)?;
    Ok(Checked {
        differ: kept.differences(&fresh),
        fresh,
    })
}

/// Replaces the maintained counts with a fresh count, in one transaction.
pub fn rebuild(conn: &mut db::Conn) -> Result<Snapshot, DbError> {
    db::counts::rebuild(conn)
}
