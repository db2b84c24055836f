//! The staff side's queries on cases: filtered lists with keyset paging, the case page,
//! and workflow changes, each written with its audit row in one transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::HashMap;

use super::models::{AuditEventRow, CaseRequestRow, NoteRow, PersonalDataRow, QueueRow};
use super::schema::{case_notes, case_requests, queues, users};
use super::{parse_column, DbConnection, DbError};
use crate::domain::workflow::{check, CaseAction, CaseState, WorkflowError};
use crate::domain::{Actor, Category, Status};

/// Which cases a list shows.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub queue: Option<String>,
    /// When set, only these queues (a caseworker's own).
    pub allowed_queues: Option<Vec<String>>,
    pub category: Option<Category>,
    pub priority: Option<String>,
    /// A status, or `None` with `open_only` for the open backlog.
    pub status: Option<Status>,
    /// Leaves out the cases of this status ("waiting on us": open, not awaiting information).
    pub exclude_status: Option<Status>,
    pub open_only: bool,
    /// `Some(None)` means unassigned.
    pub assignee: Option<Option<String>>,
    /// Only cases created before this moment (at least this old).
    pub created_before: Option<NaiveDateTime>,
    /// Only cases created after this moment (at most this old).
    pub created_after: Option<NaiveDateTime>,
    pub reference: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    #[default]
    OldestFirst,
    NewestFirst,
}

/// Where the next page starts: the last row of this page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: NaiveDateTime,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        // Nanoseconds: SQLite keeps the full precision of the stored timestamp.
        let nanos = self
            .created_at
            .and_utc()
            .timestamp_nanos_opt()
            .unwrap_or(i64::MAX);
        format!("{nanos}_{}", self.id)
    }

    pub fn decode(raw: &str) -> Option<Cursor> {
        let (nanos, id) = raw.split_once('_')?;
        let created_at = chrono::DateTime::from_timestamp_nanos(nanos.parse().ok()?).naive_utc();
        uuid::Uuid::parse_str(id).ok()?;
        Some(Cursor {
            created_at,
            id: id.to_string(),
        })
    }
}

type BoxedCases<'a> = case_requests::BoxedQuery<'a, super::DbBackend>;

fn filtered(filter: &CaseFilter) -> BoxedCases<'_> {
    let mut q = case_requests::table.into_boxed();
    if let Some(queue) = &filter.queue {
        q = q.filter(case_requests::queue_slug.eq(queue.clone()));
    }
    if let Some(allowed) = &filter.allowed_queues {
        q = q.filter(case_requests::queue_slug.eq_any(allowed.clone()));
    }
    if let Some(c) = filter.category {
        q = q.filter(case_requests::category.eq(c.as_str()));
    }
    if let Some(p) = &filter.priority {
        q = q.filter(case_requests::priority.eq(p.clone()));
    }
    if let Some(s) = filter.status {
        // is_open follows the status: it leads the index that serves the list.
        q = q
            .filter(case_requests::status.eq(s.as_str()))
            .filter(case_requests::is_open.eq(s.is_open()));
    } else if filter.open_only {
        q = q.filter(case_requests::is_open.eq(true));
    }
    if let Some(s) = filter.exclude_status {
        q = q.filter(case_requests::status.ne(s.as_str()));
    }
    match &filter.assignee {
        Some(None) => q = q.filter(case_requests::assignee_id.is_null()),
        Some(Some(id)) => q = q.filter(case_requests::assignee_id.eq(id.clone())),
        None => {}
    }
    if let Some(t) = filter.created_before {
        q = q.filter(case_requests::created_at.lt(t));
    }
    if let Some(t) = filter.created_after {
        q = q.filter(case_requests::created_at.gt(t));
    }
    if let Some(r) = &filter.reference {
        q = q.filter(case_requests::reference.eq(r.clone()));
    }
    q
}

/// One page of cases, and the cursor of the next page if there is one.
pub fn list(
    conn: &mut DbConnection,
    filter: &CaseFilter,
    order: SortOrder,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<(Vec<CaseRequestRow>, Option<Cursor>), DbError> {
    let mut q = filtered(filter);
    if let Some(c) = after {
        // The plain bound on created_at first: it is what lets the index start at the cursor
        // instead of at the first row (neither planner reads one out of the `or`).
        q = match order {
            SortOrder::OldestFirst => q.filter(case_requests::created_at.ge(c.created_at)).filter(
                case_requests::created_at
                    .gt(c.created_at)
                    .or(case_requests::id.gt(c.id.clone())),
            ),
            SortOrder::NewestFirst => q.filter(case_requests::created_at.le(c.created_at)).filter(
                case_requests::created_at
                    .lt(c.created_at)
                    .or(case_requests::id.lt(c.id.clone())),
            ),
        };
    }
    q = match order {
        SortOrder::OldestFirst => {
            q.order((case_requests::created_at.asc(), case_requests::id.asc()))
        }
        SortOrder::NewestFirst => {
            q.order((case_requests::created_at.desc(), case_requests::id.desc()))
        }
    };
    let mut rows = q
        .limit(limit + 1)
        .select(CaseRequestRow::as_select())
        .load(conn)?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| Cursor {
            created_at: r.created_at,
            id: r.id.clone(),
        })
    } else {
        None
    };
    Ok((rows, next))
}

/// How many cases a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    Exact(i64),
    /// At least this many: counting further would cost more than the page is worth.
    AtLeast(i64),
}

impl std::fmt::Display for Total {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Total::Exact(n) => write!(f, "{n}"),
            Total::AtLeast(n) => write!(f, "{n}+"),
        }
    }
}

/// Beyond this many matching cases, a list whose total the maintained counts cannot give
/// says "at least" instead of counting on.
pub const COUNT_CAP: i64 = 1_000;

/// The number of cases a filter matches: exact from the maintained counts when the filter
/// only names queue, category, priority, status and assignee; otherwise counted through
/// the list's index up to `COUNT_CAP`.
pub fn count(conn: &mut DbConnection, filter: &CaseFilter) -> Result<Total, DbError> {
    if filter.created_before.is_none()
        && filter.created_after.is_none()
        && filter.reference.is_none()
    {
        let mut n = 0;
        for (k, c) in super::counts::states(conn)? {
            if state_matches(filter, &k)? {
                n += c;
            }
        }
        return Ok(Total::Exact(n));
    }
    let seen: i64 = filtered(filter)
        .select(case_requests::id)
        .limit(COUNT_CAP + 1)
        .load::<String>(conn)?
        .len() as i64;
    Ok(if seen > COUNT_CAP {
        Total::AtLeast(COUNT_CAP)
    } else {
        Total::Exact(seen)
    })
}

/// Whether the cases counted under `k` match the filter (which names no dates or
/// reference); the same conditions as `filtered`.
fn state_matches(filter: &CaseFilter, k: &super::counts::StateKey) -> Result<bool, DbError> {
    let status: Status = parse_column("case_counts.status", &k.status)?;
    let assignee = Some(k.assignee.as_str()).filter(|a| !a.is_empty());
    Ok(filter.queue.as_ref().is_none_or(|q| *q == k.queue)
        && filter
            .allowed_queues
            .as_ref()
            .is_none_or(|qs| qs.contains(&k.queue))
        && filter.category.is_none_or(|c| c.as_str() == k.category)
        && filter.priority.as_ref().is_none_or(|p| *p == k.priority)
        && match filter.status {
            Some(s) => s == status,
            None => !filter.open_only || status.is_open(),
        }
        && filter.exclude_status != Some(status)
        && filter
            .assignee
            .as_ref()
            .is_none_or(|a| a.as_deref() == assignee))
}

/// Display names of the given users.
pub fn user_names(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<HashMap<String, String>, DbError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// Everything the case page shows.
pub struct CaseDetail {
    pub case: CaseRequestRow,
    pub personal: Option<PersonalDataRow>,
    pub queue: QueueRow,
    pub notes: Vec<NoteRow>,
    pub timeline: Vec<AuditEventRow>,
    pub names: HashMap<String, String>,
}

pub fn detail(conn: &mut DbConnection, reference: &str) -> Result<Option<CaseDetail>, DbError> {
    let Some(case) = super::requests::find_by_reference(conn, reference)? else {
        return Ok(None);
    };
    let personal = super::requests::personal_data(conn, &case.id)?;
    let queue = super::queues::find(conn, &case.queue_slug)?;
    let notes = case_notes::table
        .filter(case_notes::request_id.eq(&case.id))
        .order(case_notes::created_at)
        .select(NoteRow::as_select())
        .load(conn)?;
    let timeline = super::requests::audit_trail(conn, &case.id)?;
    let mut ids: Vec<String> = notes.iter().map(|n| n.author_id.clone()).collect();
    ids.extend(case.assignee_id.clone());
    ids.extend(case.entered_by.clone());
    ids.extend(
        timeline
            .iter()
            .filter_map(|e| e.actor.staff_id().map(str::to_string)),
    );
    let names = user_names(conn, &ids)?;
    Ok(Some(CaseDetail {
        case,
        personal,
        queue,
        notes,
        timeline,
        names,
    }))
}

/// Personal data of the given requests, by request id.
pub fn personal_data_for(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<HashMap<String, PersonalDataRow>, DbError> {
    use super::schema::request_personal_data as p;
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(p::table
        .filter(p::request_id.eq_any(ids))
        .select(PersonalDataRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| (r.request_id.clone(), r))
        .collect())
}

/// Internal notes of the given requests, oldest first, by request id.
pub fn notes_for(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<HashMap<String, Vec<String>>, DbError> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let rows = case_notes::table
        .filter(case_notes::request_id.eq_any(ids))
        .order(case_notes::created_at)
        .select((case_notes::request_id, case_notes::body))
        .load::<(String, String)>(conn)?;
    for (id, body) in rows {
        out.entry(id).or_default().push(body);
    }
    Ok(out)
}

/// Writes an audit row that is not tied to a change (a view, an export).
pub fn audit(
    conn: &mut DbConnection,
    request_id: Option<&str>,
    actor: &Actor,
    action: &str,
    detail: String,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let row = AuditEventRow::new(request_id, actor, action, detail, now);
    diesel::insert_into(super::schema::audit_events::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(transparent)]
    Refused(#[from] WorkflowError),
    #[error("that queue does not exist")]
    UnknownQueue,
    #[error("that person cannot be assigned cases in this queue")]
    UnknownAssignee,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for ActionError {
    fn from(e: diesel::result::Error) -> Self {
        ActionError::Db(e.into())
    }
}

/// What an applied action changed, for notifications.
#[derive(Debug, Clone)]
pub struct Applied {
    pub case: CaseRequestRow,
    pub action: CaseAction,
    pub previous: CaseState,
}

/// Applies one action to a case with its audit row, in one transaction.
pub fn apply(
    conn: &mut DbConnection,
    case_id: &str,
    action: CaseAction,
    actor: &Actor,
    referral_text: Option<&str>,
    now: NaiveDateTime,
) -> Result<Applied, ActionError> {
    conn.transaction(|conn| {
        // Touch the row first: on SQLite this takes the write lock before anything is read.
        diesel::update(case_requests::table.find(case_id))
            .set(case_requests::updated_at.eq(now))
            .execute(conn)?;
        let case: CaseRequestRow = case_requests::table
            .find(case_id)
            .select(CaseRequestRow::as_select())
            .first(conn)?;
        let state = CaseState {
            status: case.status,
            category: case.category,
            queue: case.queue_slug.clone(),
            assignee: case.assignee_id.clone(),
        };
        check(&state, &action)?;
        let (audit_action, detail) = match &action {
            CaseAction::Assign { to } => {
                let detail = match to {
                    Some(user_id) => {
                        let user = super::staff::find(conn, user_id)?
                            .filter(|u| u.active)
                            .ok_or(ActionError::UnknownAssignee)?;
                        format!("assigned to {}", user.display_name)
                    }
                    None => "unassigned".to_string(),
                };
                diesel::update(case_requests::table.find(case_id))
                    .set(case_requests::assignee_id.eq(to))
                    .execute(conn)?;
                ("assigned", detail)
            }
            CaseAction::ChangeStatus {
                to,
                referral_partner,
            } => {
                let open = to.is_open();
                diesel::update(case_requests::table.find(case_id))
                    .set((
                        case_requests::status.eq(to.as_str()),
                        case_requests::is_open.eq(open),
                        case_requests::closed_at.eq(if open { None } else { Some(now) }),
                    ))
                    .execute(conn)?;
                let mut detail = crate::domain::workflow::status_change(state.status, *to);
                if let Some(partner) = referral_partner
                    .as_deref()
                    .filter(|_| *to == crate::domain::Status::ReferredOut)
                {
                    detail.push_str(&format!("; referred to {}", partner.trim()));
                    if let Some(text) = referral_text {
                        detail.push_str(&format!(" with the standard referral text: {text}"));
                    }
                }
                ("status_changed", detail)
            }
            CaseAction::Recategorize { to, reason } => {
                diesel::update(case_requests::table.find(case_id))
                    .set((
                        case_requests::category.eq(to.as_str()),
                        case_requests::category_reason
                            .eq(format!("re-categorized by staff: {}", reason.trim())),
                    ))
                    .execute(conn)?;
                (
                    "recategorized",
                    format!(
                        "category {} → {}: {}",
                        state.category.label(),
                        to.label(),
                        reason.trim()
                    ),
                )
            }
            CaseAction::MoveQueue { to, reason } => {
                let exists: i64 = queues::table
                    .filter(queues::slug.eq(to.as_str()))
                    .count()
                    .get_result(conn)?;
                if exists == 0 {
                    return Err(ActionError::UnknownQueue);
                }
                diesel::update(case_requests::table.find(case_id))
                    .set(case_requests::queue_slug.eq(to.as_str()))
                    .execute(conn)?;
                (
                    "moved",
                    format!("queue {} → {}: {}", state.queue, to.as_str(), reason.trim()),
                )
            }
            CaseAction::AddNote { body } => {
                let author = match actor.staff_id() {
                    Some(id) => id.to_string(),
                    None => actor.to_string(),
                };
                diesel::insert_into(case_notes::table)
                    .values(&NoteRow {
                        id: uuid::Uuid::new_v4().to_string(),
                        request_id: case_id.to_string(),
                        author_id: author,
                        body: body.trim().to_string(),
                        created_at: now,
                    })
                    .execute(conn)?;
                // The note itself is personal working data; the trail records only that it exists.
                ("noted", "internal note added".to_string())
            }
        };
        audit(conn, Some(case_id), actor, audit_action, detail, now)?;
        let before = case;
        let case = case_requests::table
            .find(case_id)
            .select(CaseRequestRow::as_select())
            .first(conn)?;
        let mut tally = super::counts::Tally::default();
        tally.add(&before, -1);
        tally.add(&case, 1);
        tally.flush(conn)?;
        Ok(Applied {
            case,
            action,
            previous: state,
        })
    })
}
