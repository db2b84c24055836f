//! Duplicate detection storage: the blocking keys each request is filed under, the
//! candidate pairs intake found, and staff decisions on them.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::models::PersonalDataRow;
use super::schema::{case_requests, dedup_keys, duplicate_candidates, request_personal_data};
use super::{DbConnection, DbError};
use crate::domain::dedup::KeyMatch;
use crate::domain::vocab::{BirthPrecision, DuplicateStatus};
use crate::domain::Actor;

/// At most this many requests are taken per key (the most recent), so that a key shared
/// by thousands (a frequent surname in one birth year) cannot turn intake into a scan.
pub const CANDIDATES_PER_KEY: i64 = 50;

/// What matching needs of an earlier request: its facts and the personal data it
/// compares, read by column name.
#[derive(Debug, Clone, QueryableByName)]
#[diesel(table_name = case_requests)]
pub struct StoredRequest {
    pub id: String,
    pub reference: String,
    pub queue_slug: String,
    pub submitter_kind: String,
    pub household_size: Option<i32>,
    #[diesel(column_name = applicant_location)]
    pub location: String,
    #[diesel(embed)]
    pub personal: ComparedPersonal,
}

impl StoredRequest {
    /// A request about to be written, as matching reads it once stored.
    pub fn of(row: &super::models::CaseRequestRow, personal: &PersonalDataRow) -> StoredRequest {
        StoredRequest {
            id: row.id.clone(),
            reference: row.reference.clone(),
            queue_slug: row.queue_slug.clone(),
            submitter_kind: row.submitter_kind.to_string(),
            household_size: row.household_size,
            location: row.applicant_location.to_string(),
            personal: personal.into(),
        }
    }
}

/// The personal data matching compares: the applicant's name, birth date and contacts,
/// the submitter's contacts and the SIV case number (not the description or who
/// referred them).
#[derive(Debug, Clone, QueryableByName)]
#[diesel(table_name = request_personal_data)]
pub struct ComparedPersonal {
    pub applicant_full_name: String,
    pub applicant_date_of_birth: Option<NaiveDate>,
    pub applicant_date_of_birth_precision: Option<BirthPrecision>,
    pub applicant_phone: Option<String>,
    pub applicant_whatsapp: Option<String>,
    pub applicant_email: Option<String>,
    pub submitter_phone: Option<String>,
    pub submitter_email: Option<String>,
    pub siv_case_number: Option<String>,
}

impl From<&PersonalDataRow> for ComparedPersonal {
    fn from(p: &PersonalDataRow) -> Self {
        ComparedPersonal {
            applicant_full_name: p.applicant_full_name.clone(),
            applicant_date_of_birth: p.applicant_date_of_birth,
            applicant_date_of_birth_precision: p.applicant_date_of_birth_precision,
            applicant_phone: p.applicant_phone.clone(),
            applicant_whatsapp: p.applicant_whatsapp.clone(),
            applicant_email: p.applicant_email.clone(),
            submitter_phone: p.submitter_phone.clone(),
            submitter_email: p.submitter_email.clone(),
            siv_case_number: p.siv_case_number.clone(),
        }
    }
}

/// A candidate pair as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = duplicate_candidates)]
// None is NULL, never DEFAULT: then SQLite takes many rows in one INSERT.
#[diesel(treat_none_as_default_value = false)]
pub struct CandidateRow {
    pub request_id: String,
    pub candidate_id: String,
    /// Per mille.
    pub score: i32,
    /// A JSON list of plain-word reasons.
    pub reasons: String,
    pub status: DuplicateStatus,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub decided_by: Option<String>,
}

/// A candidate of one request as staff and the API see it: the other request's
/// reference, never its personal data.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateView {
    pub reference: String,
    /// The partner that submitted the other request, if one did.
    pub partner_id: Option<String>,
    pub score_per_mille: i32,
    pub reasons: Vec<String>,
    pub status: DuplicateStatus,
}

/// The requests filed under any of `keys`: per key the most recent
/// `CANDIDATES_PER_KEY`, each through the index on `key`, as (the key's index in `keys`,
/// request id, when it was received).
pub fn key_matches(
    conn: &mut DbConnection,
    recent: &Recent,
    keys: &[String],
) -> Result<Vec<KeyMatch>, DbError> {
    if let DbConnection::Postgres(pg) = conn {
        // One round trip for all the keys instead of one per key.
        return Ok(KeyRow::matches(key_rows_pg(pg, recent, keys, None)?));
    }
    let mut found = Vec::new();
    for (index, key) in keys.iter().enumerate() {
        found.extend(
            dedup_keys::table
                .filter(dedup_keys::key.eq(key))
                .order(dedup_keys::created_at.desc())
                .limit(CANDIDATES_PER_KEY)
                .select((dedup_keys::request_id, dedup_keys::created_at))
                .load::<(String, NaiveDateTime)>(conn)?
                .into_iter()
                .map(|(id, at)| KeyMatch {
                    key: index,
                    request_id: id,
                    created_at: at,
                }),
        );
    }
    Ok(found)
}

/// Where the key table stood when a search began, so that a second search finds only
/// what was filed after it: requests created since `since` and stored after `last_row`:
/// on SQLite the last key row (rowids only grow: the newest rows are never purged), on
/// PostgreSQL the last shared commit of this process (`RecentlyFiled`).
#[derive(Debug, Clone, Copy)]
pub struct KeysSeen {
    since: NaiveDateTime,
    last_row: i64,
}

/// Reads the mark before the search it bounds: whatever the search cannot see was filed
/// after it. `committed`: the shared commits of this process so far (`Writer::committed`).
pub fn keys_seen(
    conn: &mut DbConnection,
    since: NaiveDateTime,
    committed: u64,
) -> Result<KeysSeen, DbError> {
    use diesel::sql_types::BigInt;

    #[derive(QueryableByName)]
    struct Last {
        #[diesel(sql_type = BigInt)]
        last_row: i64,
    }
    let last_row = match conn {
        DbConnection::Sqlite(sqlite) => {
            diesel::sql_query("SELECT coalesce(max(rowid), 0) AS last_row FROM dedup_keys")
                .get_result::<Last>(sqlite)?
                .last_row
        }
        DbConnection::Postgres(_) => i64::try_from(committed).unwrap_or(i64::MAX),
    };
    Ok(KeysSeen { since, last_row })
}

/// `key_matches` among what was filed after `seen`, in one statement. Few rows qualify,
/// so none is left out per key.
pub fn key_matches_after(
    conn: &mut DbConnection,
    recent: &Recent,
    keys: &[String],
    seen: KeysSeen,
) -> Result<Vec<KeyMatch>, DbError> {
    Ok(KeyRow::matches(key_rows_after(conn, recent, keys, seen)?))
}

/// The key rows `key_matches_after` reads, with where each was stored.
fn key_rows_after(
    conn: &mut DbConnection,
    recent: &Recent,
    keys: &[String],
    seen: KeysSeen,
) -> Result<Vec<KeyRow>, DbError> {
    use diesel::sql_types::{BigInt, Text, Timestamp};

    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let sqlite = match conn {
        DbConnection::Postgres(pg) => return key_rows_pg(pg, recent, keys, Some(seen.since)),
        DbConnection::Sqlite(sqlite) => sqlite,
    };
    // The keys as one JSON array, numbered from 1 as on PostgreSQL.
    let keys = json_list(keys)?;
    Ok(diesel::sql_query(
        "SELECT k.key + 1 AS ord, d.request_id, d.created_at, d.rowid AS row \
         FROM json_each(?) AS k JOIN dedup_keys d ON d.key = k.value \
         WHERE d.created_at >= ? AND d.rowid > ?",
    )
    .bind::<Text, _>(keys)
    .bind::<Timestamp, _>(seen.since)
    .bind::<BigInt, _>(seen.last_row)
    .load(sqlite)?)
}

/// What was filed under the keys of a group's second searches since the earliest of their
/// marks, read once for the whole shared commit: on SQLite with one statement, on
/// PostgreSQL from what this process's recent commits filed (`RecentlyFiled`), or with one
/// statement when those are forgotten. Each search then takes what was filed after its
/// own mark, as `key_matches_after` would read it, without a round trip of its own.
///
/// On PostgreSQL what other processes commit meanwhile is not read again: like two
/// transactions of the same instant, it is not linked.
#[derive(Debug, Default)]
pub struct FiledSince {
    /// The earliest mark; `None` until something is read.
    from: Option<KeysSeen>,
    /// Per key read, newest first, what was filed under it.
    by_key: HashMap<String, Vec<KeyRow>>,
}

/// A second search a work of a shared commit will make: its mark and its keys.
#[derive(Debug)]
pub struct Recheck {
    pub seen: KeysSeen,
    pub keys: Vec<String>,
}

impl FiledSince {
    /// Reads what `key_matches_after` would find for each of `searches`.
    pub fn read(
        conn: &mut DbConnection,
        searches: &[&Recheck],
        filed: &RecentlyFiled,
        recent: &Recent,
    ) -> Result<FiledSince, DbError> {
        let Some(from) = searches.iter().map(|s| s.seen).reduce(|a, b| KeysSeen {
            since: a.since.min(b.since),
            last_row: a.last_row.min(b.last_row),
        }) else {
            return Ok(FiledSince::default());
        };
        let mut keys: Vec<String> = searches.iter().flat_map(|s| s.keys.clone()).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut by_key: HashMap<String, Vec<KeyRow>> =
            keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        let mut rows = match conn {
            DbConnection::Postgres(_) if filed.holds_after(from.last_row) => {
                filed.key_rows_after(&keys, from)
            }
            _ => key_rows_after(conn, recent, &keys, from)?,
        };
        rows.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.row.cmp(&a.row)));
        for row in rows {
            let key = usize::try_from(row.ord - 1).ok().and_then(|i| keys.get(i));
            if let Some(filed) = key.and_then(|key| by_key.get_mut(key)) {
                filed.push(row);
            }
        }
        Ok(FiledSince {
            from: Some(from),
            by_key,
        })
    }

    /// `key_matches_after(keys, seen)` from what was read, or `None` when it was not read
    /// for these keys and this mark (then the caller asks the database).
    pub fn matches(&self, keys: &[String], seen: KeysSeen) -> Option<Vec<KeyMatch>> {
        let from = self.from?;
        if seen.since < from.since || seen.last_row < from.last_row {
            return None;
        }
        let mut found = Vec::new();
        for (index, key) in keys.iter().enumerate() {
            let filed = self.by_key.get(key)?;
            found.extend(
                filed
                    .iter()
                    .filter(|f| f.created_at >= seen.since)
                    .filter(|f| f.row.is_none_or(|row| row > seen.last_row))
                    // The newest of each key, as PostgreSQL's statement keeps them.
                    .take(CANDIDATES_PER_KEY as usize)
                    .map(|f| KeyMatch {
                        key: index,
                        request_id: f.request_id.clone(),
                        created_at: f.created_at,
                    }),
            );
        }
        Some(found)
    }
}

/// What the last shared commits of this process filed under which keys, newest last, so
/// that the commits' second searches do not ask PostgreSQL for it. The oldest are
/// forgotten beyond `RECENT_KEY_ROWS` key rows.
#[derive(Debug, Default)]
pub struct RecentlyFiled {
    /// Per commit, its number (from 1) and the key rows it wrote.
    commits: std::collections::VecDeque<(u64, Filed)>,
    committed: u64,
    /// The newest commit forgotten.
    forgotten: u64,
    key_rows: usize,
}

/// Duplicate keys, each with the requests filed under it and when they were received.
pub type Filed = HashMap<String, Vec<(String, NaiveDateTime)>>;

/// A few seconds of a surge; a search older than that reads the database.
const RECENT_KEY_ROWS: usize = 32_768;

impl RecentlyFiled {
    /// Remembers what one more commit filed.
    pub fn remember(&mut self, filed: Filed) {
        self.committed += 1;
        self.key_rows += filed.values().map(Vec::len).sum::<usize>();
        self.commits.push_back((self.committed, filed));
        while self.key_rows > RECENT_KEY_ROWS {
            let Some((number, old)) = self.commits.pop_front() else {
                break;
            };
            self.forgotten = number;
            self.key_rows -= old.values().map(Vec::len).sum::<usize>();
        }
    }

    /// How many commits were remembered.
    pub fn committed(&self) -> u64 {
        self.committed
    }

    /// Whether every commit after `mark` is still remembered.
    fn holds_after(&self, mark: i64) -> bool {
        u64::try_from(mark).is_ok_and(|mark| mark >= self.forgotten)
    }

    /// The key rows commits after `seen` filed under `keys` (numbered from 1 as the
    /// statements number them), and when.
    fn key_rows_after(&self, keys: &[String], seen: KeysSeen) -> Vec<KeyRow> {
        let mut found = Vec::new();
        for (number, filed) in &self.commits {
            let number = i64::try_from(*number).unwrap_or(i64::MAX);
            if number <= seen.last_row {
                continue;
            }
            for (index, key) in keys.iter().enumerate() {
                for (id, at) in filed.get(key).into_iter().flatten() {
                    if *at >= seen.since {
                        found.push(KeyRow {
                            ord: i64::try_from(index).unwrap_or(i64::MAX) + 1,
                            request_id: id.clone(),
                            created_at: *at,
                            row: Some(number),
                        });
                    }
                }
            }
        }
        found
    }
}

/// A list as a JSON array, which SQLite's `json_each` reads as rows: one bind for any
/// number of values.
fn json_list(values: &[String]) -> Result<String, DbError> {
    serde_json::to_string(values).map_err(|e| DbError::Corrupt(e.to_string()))
}

/// A row a key lookup in SQL finds: the key's number in the list (from 1), the request,
/// and where the key row was stored (SQLite's rowid; none on PostgreSQL, where the time
/// bound alone serves).
#[derive(Debug, QueryableByName)]
struct KeyRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    ord: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    request_id: String,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    created_at: NaiveDateTime,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    row: Option<i64>,
}

impl KeyRow {
    fn matches(rows: Vec<KeyRow>) -> Vec<KeyMatch> {
        rows.into_iter()
            .map(|f| KeyMatch {
                key: usize::try_from(f.ord - 1).unwrap_or(usize::MAX),
                request_id: f.request_id,
                created_at: f.created_at,
            })
            .collect()
    }
}

/// `key_matches` in one statement: per key (numbered from 1 by `WITH ORDINALITY`) the
/// newest rows through the index on `key`, as the per-key queries read them.
fn key_rows_pg(
    conn: &mut diesel::pg::PgConnection,
    recent: &Recent,
    keys: &[String],
    since: Option<NaiveDateTime>,
) -> Result<Vec<KeyRow>, DbError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let plan = recent.plan_generation();
    Ok(KeyLookupPg { keys, since, plan }.load(conn)?)
}

/// Loads the candidates' facts and personal data (only those, never the whole table),
/// sorted by id. A request read in the last `RECENT_FOR` is not read again: in a surge
/// the same few dozen recent requests are the candidates of every new request with a
/// common name, and reading them was most of what the database did per intake.
pub fn load_requests(
    conn: &mut DbConnection,
    recent: &Recent,
    ids: &[String],
) -> Result<Vec<Arc<StoredRequest>>, DbError> {
    let mut out = Vec::with_capacity(ids.len());
    let mut missing = Vec::new();
    {
        let kept = recent.kept.lock().unwrap_or_else(PoisonError::into_inner);
        for id in ids {
            match kept.get(id) {
                Some(stored) => out.push(stored.clone()),
                None => missing.push(id.clone()),
            }
        }
    }
    if !missing.is_empty() {
        let loaded = match conn {
            DbConnection::Postgres(pg) => RequestsByIdsPg {
                ids: &missing,
                plan: recent.plan_generation(),
            }
            .load(pg)?,
            DbConnection::Sqlite(sqlite) => RequestsByIds {
                ids: json_list(&missing)?,
            }
            .load(sqlite)?,
        };
        let loaded: Vec<Arc<StoredRequest>> = loaded.into_iter().map(Arc::new).collect();
        out.extend(loaded.iter().cloned());
        recent
            .kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keep(loaded);
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// How long a request `load_requests` read is reused: as long as the intake setup is, so
/// a change made on another instance (a corrected name, a moved case, an anonymization)
/// reaches matching as soon as a routing change does.
const RECENT_FOR: Duration = Duration::from_secs(1);

/// The most requests kept: about two megabytes, a few seconds of a surge.
const RECENT_MAX: usize = 4096;

/// What matching keeps between intakes, owned by the application that matches (each
/// has its own): the requests `load_requests` read or intake committed lately, by id, with
/// when, and how many requests it has committed.
#[derive(Default)]
pub struct Recent {
    kept: Mutex<Kept>,
    filed: std::sync::atomic::AtomicU64,
}

/// Names no request: what is kept holds personal data.
impl std::fmt::Debug for Recent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recent").finish_non_exhaustive()
    }
}

impl Recent {
    /// Drops what was kept: personal data that was anonymized must not stay in memory
    /// either.
    pub fn forget(&self) {
        *self.kept.lock().unwrap_or_else(PoisonError::into_inner) = Kept::default();
    }

    /// Keeps requests just committed as if `load_requests` had read them: in a surge they
    /// are the next requests' candidates. Also counts them, for `plan_generation`.
    pub fn keep_committed(&self, committed: Vec<Arc<StoredRequest>>) {
        self.filed
            .fetch_add(committed.len() as u64, std::sync::atomic::Ordering::Relaxed);
        self.kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keep(committed);
    }

    /// The generation the statements matching reads on PostgreSQL (`KeyLookupPg`,
    /// `RequestsByIdsPg`) name in their text: one more each time this application has
    /// filed four times as many requests, up to 8 (32,768 requests or more).
    ///
    /// Each connection prepares them once and PostgreSQL keeps a generic plan after five
    /// runs. They are written so that the kept plan reads through the indexes whatever
    /// the tables held when it was made: the newest rows of each key (`LATERAL … ORDER BY
    /// created_at DESC LIMIT`), each candidate by its primary keys (`LATERAL … LIMIT 1`).
    /// Only tables analyzed while they held a few rows (one page) get a plan that reads
    /// them whole; the generations keep such a plan from outliving the tables it was made
    /// for until autovacuum's next analysis replaces it.
    fn plan_generation(&self) -> u32 {
        let filed = self.filed.load(std::sync::atomic::Ordering::Relaxed);
        ((u64::BITS - filed.leading_zeros()) / 2).min(8)
    }
}

/// Requests kept in two generations: the young one takes what is added; once it holds
/// half of `RECENT_MAX` or is `RECENT_FOR` old, it becomes the old one and the old one is
/// dropped. So what is kept stays bounded without a scan per addition, and a full cache
/// forgets its oldest half, not everything.
#[derive(Default)]
struct Kept {
    young: HashMap<String, ReadAt>,
    old: HashMap<String, ReadAt>,
    /// When the young generation took its first request.
    young_since: Option<Instant>,
}

impl Kept {
    /// A request kept less than `RECENT_FOR` ago.
    fn get(&self, id: &str) -> Option<&Arc<StoredRequest>> {
        let (at, stored) = self.young.get(id).or_else(|| self.old.get(id))?;
        (at.elapsed() < RECENT_FOR).then_some(stored)
    }

    fn keep(&mut self, read: Vec<Arc<StoredRequest>>) {
        let now = Instant::now();
        let aged = self
            .young_since
            .is_some_and(|since| now.duration_since(since) >= RECENT_FOR);
        if aged || self.young.len() + read.len() > RECENT_MAX / 2 {
            self.old = std::mem::take(&mut self.young);
            self.young_since = None;
        }
        self.young_since.get_or_insert(now);
        for stored in read {
            self.young.insert(stored.id.clone(), (now, stored));
        }
    }
}

type ReadAt = (Instant, Arc<StoredRequest>);

/// What `load_requests` reads of a request and its personal data, by column name.
const STORED_REQUEST_COLUMNS: &str = "SELECT c.id, c.reference, c.queue_slug, \
     c.submitter_kind, c.household_size, c.applicant_location, p.applicant_full_name, \
     p.applicant_date_of_birth, p.applicant_date_of_birth_precision, p.applicant_phone, p.applicant_whatsapp, p.applicant_email, \
     p.submitter_phone, p.submitter_email, p.siv_case_number \
     FROM case_requests c JOIN request_personal_data p ON p.request_id = c.id";

/// `load_requests` on SQLite: the ids as one JSON array, so that the statement is the same
/// for any number of them and stays prepared (an `IN` list of binds is prepared afresh
/// for every intake).
struct RequestsByIds {
    ids: String,
}

impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for RequestsByIds {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> QueryResult<()> {
        out.push_sql(STORED_REQUEST_COLUMNS);
        out.push_sql(" WHERE c.id IN (SELECT value FROM json_each(");
        out.push_bind_param::<diesel::sql_types::Text, _>(&self.ids)?;
        out.push_sql("))");
        Ok(())
    }
}

impl diesel::query_builder::QueryId for RequestsByIds {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::Query for RequestsByIds {
    type SqlType = diesel::sql_types::Untyped;
}

impl RunQueryDsl<diesel::sqlite::SqliteConnection> for RequestsByIds {}

/// `key_rows_pg`'s statement: `since`, when there is one, bounds the index scan.
struct KeyLookupPg<'a> {
    keys: &'a [String],
    since: Option<NaiveDateTime>,
    /// `Recent::plan_generation`.
    plan: u32,
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for KeyLookupPg<'_> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        use diesel::sql_types::{Array, BigInt, Text, Timestamp};
        out.push_sql(&format!("/* plan {} */ ", self.plan));
        out.push_sql(
            "SELECT k.ord, d.request_id, d.created_at, NULL::int8 AS row \
             FROM unnest(",
        );
        out.push_bind_param::<Array<Text>, _>(self.keys)?;
        out.push_sql(
            "::text[]) WITH ORDINALITY AS k(key, ord) \
             CROSS JOIN LATERAL (SELECT request_id, created_at FROM dedup_keys \
             WHERE key = k.key",
        );
        if let Some(since) = &self.since {
            out.push_sql(" AND created_at >= ");
            out.push_bind_param::<Timestamp, _>(since)?;
        }
        out.push_sql(" ORDER BY created_at DESC LIMIT ");
        out.push_bind_param::<BigInt, _>(&CANDIDATES_PER_KEY)?;
        out.push_sql(") d");
        Ok(())
    }
}

/// `load_requests` on PostgreSQL.
struct RequestsByIdsPg<'a> {
    ids: &'a [String],
    /// `Recent::plan_generation`.
    plan: u32,
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for RequestsByIdsPg<'_> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        use diesel::sql_types::{Array, Text};
        out.push_sql(&format!("/* plan {} */ ", self.plan));
        // The ids through a scalar subquery: PostgreSQL then costs the list at the same
        // length whether it plans for these ids or for any, and keeps the generic plan
        // after five runs. Given the array itself, it counts its elements, mostly one to
        // five (the rest are remembered, `RECENT_FOR`), finds a plan for so few cheaper
        // than the generic one costed for ten, and so planned afresh every run: 0.2 ms of
        // its time per run, four times what running it took.
        out.push_sql("SELECT r.* FROM unnest((SELECT ");
        out.push_bind_param::<Array<Text>, _>(self.ids)?;
        out.push_sql("::text[])) AS i(id) CROSS JOIN LATERAL (");
        out.push_sql(STORED_REQUEST_COLUMNS);
        out.push_sql(" WHERE c.id = i.id LIMIT 1) r");
        Ok(())
    }
}

/// Statements cached by their SQL text, which differs with the bound they write.
macro_rules! cached_by_sql {
    ($($query:ident),+) => {$(
        impl diesel::query_builder::QueryId for $query<'_> {
            type QueryId = ();
            const HAS_STATIC_QUERY_ID: bool = false;
        }

        impl diesel::query_builder::Query for $query<'_> {
            type SqlType = diesel::sql_types::Untyped;
        }

        impl RunQueryDsl<diesel::pg::PgConnection> for $query<'_> {}
    )+};
}
cached_by_sql!(KeyLookupPg, RequestsByIdsPg);

/// The requests staff have said are not duplicates of `request_id`, in either direction.
pub fn rejected_partners(
    conn: &mut DbConnection,
    request_id: &str,
) -> Result<HashSet<String>, DbError> {
    let rows: Vec<(String, String)> = duplicate_candidates::table
        .filter(duplicate_candidates::status.eq(DuplicateStatus::Rejected))
        .filter(
            duplicate_candidates::request_id
                .eq(request_id)
                .or(duplicate_candidates::candidate_id.eq(request_id)),
        )
        .select((
            duplicate_candidates::request_id,
            duplicate_candidates::candidate_id,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(a, b)| if a == request_id { b } else { a })
        .collect())
}

/// Stores suggested candidates. Call inside the intake transaction.
pub fn insert_candidates(conn: &mut DbConnection, rows: &[CandidateRow]) -> Result<(), DbError> {
    for row in rows {
        diesel::insert_into(duplicate_candidates::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// The stored pair of two requests, whichever was first.
fn find_pair(conn: &mut DbConnection, a: &str, b: &str) -> Result<Option<CandidateRow>, DbError> {
    Ok(duplicate_candidates::table
        .filter(
            (duplicate_candidates::request_id
                .eq(a)
                .and(duplicate_candidates::candidate_id.eq(b)))
            .or(duplicate_candidates::request_id
                .eq(b)
                .and(duplicate_candidates::candidate_id.eq(a))),
        )
        .select(CandidateRow::as_select())
        .first(conn)
        .optional()?)
}

fn decide(
    conn: &mut DbConnection,
    request_id: &str,
    candidate_id: &str,
    status: DuplicateStatus,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let Some(pair) = find_pair(conn, request_id, candidate_id)? else {
        return Ok(false);
    };
    diesel::update(
        duplicate_candidates::table.find((pair.request_id.as_str(), pair.candidate_id.as_str())),
    )
    .set((
        duplicate_candidates::status.eq(status),
        duplicate_candidates::decided_at.eq(Some(now)),
        duplicate_candidates::decided_by.eq(Some(actor.to_string())),
    ))
    .execute(conn)?;
    Ok(true)
}

/// Staff confirm that two requests are about the same person. Returns whether the pair
/// was a suggestion.
pub fn confirm(
    conn: &mut DbConnection,
    request_id: &str,
    candidate_id: &str,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    decide(
        conn,
        request_id,
        candidate_id,
        DuplicateStatus::Confirmed,
        actor,
        now,
    )
}

/// Staff say two requests are about different people: the pair is kept as rejected (added
/// if it was never suggested), and matching never suggests it again.
pub fn reject(
    conn: &mut DbConnection,
    request_id: &str,
    candidate_id: &str,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    if !decide(
        conn,
        request_id,
        candidate_id,
        DuplicateStatus::Rejected,
        actor,
        now,
    )? {
        insert_candidates(
            conn,
            &[CandidateRow {
                request_id: request_id.to_string(),
                candidate_id: candidate_id.to_string(),
                score: 0,
                reasons: "[]".to_string(),
                status: DuplicateStatus::Rejected,
                created_at: now,
                decided_at: Some(now),
                decided_by: Some(actor.to_string()),
            }],
        )?;
    }
    Ok(())
}

/// The candidates of a request in both directions (earlier requests it may duplicate,
/// later ones that may duplicate it), best first.
pub fn candidates_of(
    conn: &mut DbConnection,
    request_id: &str,
) -> Result<Vec<CandidateView>, DbError> {
    type Found = (String, Option<String>, i32, String, DuplicateStatus);
    let earlier: Vec<Found> = duplicate_candidates::table
        .inner_join(
            case_requests::table.on(case_requests::id.eq(duplicate_candidates::candidate_id)),
        )
        .filter(duplicate_candidates::request_id.eq(request_id))
        .select((
            case_requests::reference,
            case_requests::partner_id,
            duplicate_candidates::score,
            duplicate_candidates::reasons,
            duplicate_candidates::status,
        ))
        .load(conn)?;
    let later: Vec<Found> = duplicate_candidates::table
        .inner_join(case_requests::table.on(case_requests::id.eq(duplicate_candidates::request_id)))
        .filter(duplicate_candidates::candidate_id.eq(request_id))
        .select((
            case_requests::reference,
            case_requests::partner_id,
            duplicate_candidates::score,
            duplicate_candidates::reasons,
            duplicate_candidates::status,
        ))
        .load(conn)?;
    let mut out = earlier
        .into_iter()
        .chain(later)
        .map(|(reference, partner_id, score, reasons, status)| {
            let reasons = serde_json::from_str(&reasons)
                .map_err(|_| DbError::Corrupt("duplicate_candidates.reasons".into()))?;
            Ok(CandidateView {
                reference,
                partner_id,
                score_per_mille: score,
                reasons,
                status,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    out.sort_by(|a, b| {
        b.score_per_mille
            .cmp(&a.score_per_mille)
            .then_with(|| a.reference.cmp(&b.reference))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filed(key: &str, ids: &[&str], at: NaiveDateTime) -> Filed {
        let rows = ids.iter().map(|id| (id.to_string(), at)).collect();
        HashMap::from([(key.to_string(), rows)])
    }

    fn morning() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 27)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .expect("a date")
    }

    fn ids(rows: &[KeyRow]) -> Vec<&str> {
        let mut ids: Vec<&str> = rows.iter().map(|r| r.request_id.as_str()).collect();
        ids.sort_unstable();
        ids
    }

    #[test]
    fn a_second_search_finds_what_later_commits_filed_and_no_more() {
        let at = morning();
        let mut recent = RecentlyFiled::default();
        recent.remember(filed("name:wardak", &["a"], at));
        let mark = KeysSeen {
            since: at - chrono::Duration::seconds(60),
            last_row: i64::try_from(recent.committed()).expect("small"),
        };
        recent.remember(filed("name:wardak", &["b", "c"], at));
        recent.remember(filed("phone:799555101", &["d"], at));
        let keys = ["name:wardak".to_string(), "email:x".to_string()];
        assert!(recent.holds_after(mark.last_row));
        let found = recent.key_rows_after(&keys, mark);
        assert_eq!(
            ids(&found),
            ["b", "c"],
            "only commits after the mark, only these keys"
        );
        assert!(found.iter().all(|r| r.ord == 1));
        let later = KeysSeen {
            since: at + chrono::Duration::seconds(1),
            ..mark
        };
        assert!(
            recent.key_rows_after(&keys, later).is_empty(),
            "filed before `since`"
        );
    }

    #[test]
    fn a_search_older_than_what_is_remembered_reads_the_database() {
        let at = morning();
        let mut recent = RecentlyFiled::default();
        let many: Vec<String> = (0..RECENT_KEY_ROWS / 4).map(|i| i.to_string()).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(recent.holds_after(0));
        for _ in 0..5 {
            recent.remember(filed("name:wardak", &many, at));
        }
        assert!(!recent.holds_after(0), "the first commit is forgotten");
        assert!(recent.holds_after(1));
        assert_eq!(recent.committed(), 5);
    }
}
