//! How far mail has been taken in from each IMAP mailbox.

use chrono::Utc;
use diesel::prelude::*;

use super::schema::imap_state;
use super::{write_transaction, Conn, DbConnection, DbError};

/// The highest UID of `account` under `uid_validity` whose mail, and every mail below it,
/// is stored; `None` when nothing of that UIDVALIDITY has been taken yet.
pub fn last_uid(
    conn: &mut DbConnection,
    account: &str,
    uid_validity: u32,
) -> Result<Option<u32>, DbError> {
    let uid: Option<i64> = imap_state::table
        .find((account, i64::from(uid_validity)))
        .select(imap_state::last_uid)
        .first(conn)
        .optional()?;
    uid.map(|u| u32::try_from(u).map_err(|_| DbError::Corrupt("imap_state.last_uid".into())))
        .transpose()
}

/// Records that everything up to `uid` is stored. Progress only moves forward: another
/// instance on the same mailbox may have recorded a higher UID already.
pub fn advance(conn: &mut Conn, account: &str, uid_validity: u32, uid: u32) -> Result<(), DbError> {
    let now = Utc::now().naive_utc();
    let key = (account, i64::from(uid_validity));
    let row = (
        imap_state::account.eq(account),
        imap_state::uid_validity.eq(i64::from(uid_validity)),
        imap_state::last_uid.eq(i64::from(uid)),
        imap_state::updated_at.eq(now),
    );
    // Insert-if-missing, then raise: both statements are safe against a concurrent writer.
    write_transaction(conn, |conn| {
        match &mut **conn {
            DbConnection::Sqlite(c) => diesel::insert_into(imap_state::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(c)?,
            DbConnection::Postgres(c) => diesel::insert_into(imap_state::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(c)?,
        };
        diesel::update(imap_state::table.find(key))
            .filter(imap_state::last_uid.lt(i64::from(uid)))
            .set((
                imap_state::last_uid.eq(i64::from(uid)),
                imap_state::updated_at.eq(now),
            ))
            .execute(&mut **conn)?;
        Ok(())
    })
}
