//! Escalation's storage: the chains and duty schedules leads keep, where each escalation
//! stands, the pages sent with their single-use links, the SLA notices sent, and the
//! signing key of the links.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{CaseRequestRow, UserRow};
use super::schema::{
    case_requests, duty_marks, duty_slots, escalation_pages, escalation_steps, escalations, outbox,
    signing_keys, sla_warnings, users,
};
use super::{DbConnection, DbError};
use crate::domain::escalation::{Chain, DutyMark, DutySlot, SlaWarning, Step, Target};
use crate::domain::vocab::OutboxKind;
use crate::domain::Priority;

/// Where an escalation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Paging until someone acknowledges.
    Active,
    /// Someone took the case.
    Acknowledged,
    /// The case stopped being urgent, or was closed.
    Stopped,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Acknowledged => "acknowledged",
            State::Stopped => "stopped",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = escalations, primary_key(request_id))]
#[diesel(treat_none_as_default_value = false, treat_none_as_null = true)]
pub struct EscalationRow {
    pub request_id: String,
    pub queue_slug: String,
    pub state: String,
    pub started_at: NaiveDateTime,
    /// Pages sent so far: the number of the next in the chain's plan.
    pub pages: i32,
    pub next_page_at: Option<NaiveDateTime>,
    pub ended_at: Option<NaiveDateTime>,
    /// Who acknowledged or stopped it (a staff user id).
    pub ended_by: Option<String>,
    pub end_reason: Option<String>,
}

impl EscalationRow {
    /// An escalation that starts at `now` with its first page due at once.
    pub fn starting(request_id: &str, queue_slug: &str, now: NaiveDateTime) -> Self {
        EscalationRow {
            request_id: request_id.to_string(),
            queue_slug: queue_slug.to_string(),
            state: State::Active.as_str().to_string(),
            started_at: now,
            pages: 0,
            next_page_at: Some(now),
            ended_at: None,
            ended_by: None,
            end_reason: None,
        }
    }

    pub fn is_active(&self) -> bool {
        self.state == State::Active.as_str()
    }
}

/// One page sent to one person or address.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = escalation_pages)]
#[diesel(treat_none_as_default_value = false)]
pub struct PageRow {
    pub id: String,
    pub request_id: String,
    /// Which page of the escalation (from 1).
    pub number: i32,
    /// Whom the step meant, in words ("whoever is on duty", "the leads").
    pub target: String,
    pub user_id: Option<String>,
    pub outbox_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub used_by: Option<String>,
}

// ---- chains and duty ----

/// A queue's chain; `None` when it has none.
pub fn chain(conn: &mut DbConnection, queue: &str) -> Result<Option<Chain>, DbError> {
    let rows: Vec<(String, Option<String>, i32)> = escalation_steps::table
        .filter(escalation_steps::queue_slug.eq(queue))
        .order(escalation_steps::position)
        .select((
            escalation_steps::target,
            escalation_steps::user_id,
            escalation_steps::wait_minutes,
        ))
        .load(conn)?;
    if rows.is_empty() {
        return Ok(None);
    }
    let corrupt = || DbError::Corrupt("escalation_steps holds an invalid step".into());
    let steps = rows
        .into_iter()
        .map(|(target, user, wait)| {
            Ok(Step {
                target: Target::parse(&target, user.as_deref()).map_err(|_| corrupt())?,
                wait_minutes: u32::try_from(wait).map_err(|_| corrupt())?,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    Chain::parse(steps).map(Some).map_err(|_| corrupt())
}

/// Replaces a queue's chain (`None`: no chain).
pub fn save_chain(
    conn: &mut DbConnection,
    queue: &str,
    chain: Option<&Chain>,
) -> Result<(), DbError> {
    diesel::delete(escalation_steps::table.filter(escalation_steps::queue_slug.eq(queue)))
        .execute(conn)?;
    for (i, s) in chain
        .map(Chain::steps)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        diesel::insert_into(escalation_steps::table)
            .values((
                escalation_steps::queue_slug.eq(queue),
                escalation_steps::position.eq(i as i32),
                escalation_steps::target.eq(s.target.kind()),
                escalation_steps::user_id.eq(s.target.user_id()),
                escalation_steps::wait_minutes.eq(s.wait_minutes as i32),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn duty_slots(conn: &mut DbConnection, queue: &str) -> Result<Vec<DutySlot>, DbError> {
    let rows: Vec<(String, i32, i32, i32)> = duty_slots::table
        .filter(duty_slots::queue_slug.eq(queue))
        .order((duty_slots::position, duty_slots::id))
        .select((
            duty_slots::user_id,
            duty_slots::weekday,
            duty_slots::start_minute,
            duty_slots::end_minute,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(user_id, weekday, start, end)| DutySlot {
            user_id,
            weekday: weekday.clamp(0, 6) as u32,
            start_minute: start.clamp(0, 1440) as u32,
            end_minute: end.clamp(0, 1440) as u32,
        })
        .collect())
}

/// Replaces a queue's weekly schedule.
pub fn save_duty_slots(
    conn: &mut DbConnection,
    queue: &str,
    slots: &[DutySlot],
) -> Result<(), DbError> {
    diesel::delete(duty_slots::table.filter(duty_slots::queue_slug.eq(queue))).execute(conn)?;
    for (i, s) in slots.iter().enumerate() {
        diesel::insert_into(duty_slots::table)
            .values((
                duty_slots::id.eq(super::models::new_row_id()),
                duty_slots::queue_slug.eq(queue),
                duty_slots::user_id.eq(&s.user_id),
                duty_slots::weekday.eq(s.weekday as i32),
                duty_slots::start_minute.eq(s.start_minute as i32),
                duty_slots::end_minute.eq(s.end_minute as i32),
                duty_slots::position.eq(i as i32),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn duty_marks(conn: &mut DbConnection, queue: &str) -> Result<Vec<DutyMark>, DbError> {
    let rows: Vec<(String, bool, NaiveDateTime)> = duty_marks::table
        .filter(duty_marks::queue_slug.eq(queue))
        .select((duty_marks::user_id, duty_marks::on_duty, duty_marks::set_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(user_id, on_duty, set_at)| DutyMark {
            user_id,
            on_duty,
            set_at,
        })
        .collect())
}

/// Records that `user` is on (`Some(true)`), off (`Some(false)`) or back to the schedule
/// (`None`) for `queue`.
pub fn mark_duty(
    conn: &mut DbConnection,
    user: &str,
    queue: &str,
    on: Option<bool>,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::delete(
        duty_marks::table
            .filter(duty_marks::user_id.eq(user))
            .filter(duty_marks::queue_slug.eq(queue)),
    )
    .execute(conn)?;
    if let Some(on) = on {
        diesel::insert_into(duty_marks::table)
            .values((
                duty_marks::user_id.eq(user),
                duty_marks::queue_slug.eq(queue),
                duty_marks::on_duty.eq(on),
                duty_marks::set_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Active leads, else active admins: whom the end of a chain notifies.
pub fn leads(conn: &mut DbConnection) -> Result<Vec<UserRow>, DbError> {
    for role in ["lead", "admin"] {
        let found: Vec<UserRow> = users::table
            .filter(users::active.eq(true))
            .filter(users::role.eq(role))
            .order(users::display_name)
            .select(UserRow::as_select())
            .load(conn)?;
        if !found.is_empty() {
            return Ok(found);
        }
    }
    Ok(Vec::new())
}

// ---- escalation state ----

pub fn find(conn: &mut DbConnection, request_id: &str) -> Result<Option<EscalationRow>, DbError> {
    Ok(escalations::table
        .find(request_id)
        .select(EscalationRow::as_select())
        .first(conn)
        .optional()?)
}

/// Starts (or starts again) the escalation of a request: active, first page due at once.
/// Answers `false` when one was already active.
pub fn start(
    conn: &mut DbConnection,
    request_id: &str,
    queue: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    match find(conn, request_id)? {
        Some(e) if e.is_active() => Ok(false),
        Some(_) => {
            diesel::update(escalations::table.find(request_id))
                .set(EscalationRow::starting(request_id, queue, now))
                .execute(conn)?;
            Ok(true)
        }
        None => {
            diesel::insert_into(escalations::table)
                .values(EscalationRow::starting(request_id, queue, now))
                .execute(conn)?;
            Ok(true)
        }
    }
}

/// Active escalations whose next page is due at `now`, longest due first.
pub fn due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> Result<Vec<EscalationRow>, DbError> {
    Ok(escalations::table
        .filter(escalations::state.eq(State::Active.as_str()))
        .filter(escalations::next_page_at.le(now))
        .order(escalations::next_page_at)
        .limit(limit)
        .select(EscalationRow::as_select())
        .load(conn)?)
}

/// Moves an escalation past page `pages` to the next, due at `next` (`None`: no more).
/// `false` when another worker did it first (or it ended): the caller then sends nothing.
/// On PostgreSQL a second worker's update waits for the first's commit and then matches
/// nothing; SQLite has one writer.
pub fn advance(
    conn: &mut DbConnection,
    request_id: &str,
    pages: i32,
    next: Option<NaiveDateTime>,
) -> Result<bool, DbError> {
    let changed = diesel::update(
        escalations::table
            .find(request_id)
            .filter(escalations::state.eq(State::Active.as_str()))
            .filter(escalations::pages.eq(pages)),
    )
    .set((
        escalations::pages.eq(pages + 1),
        escalations::next_page_at.eq(next),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Ends an active escalation; answers it as it stood, or `None` when none was active.
pub fn end(
    conn: &mut DbConnection,
    request_id: &str,
    state: State,
    by: Option<&str>,
    reason: &str,
    now: NaiveDateTime,
) -> Result<Option<EscalationRow>, DbError> {
    let Some(before) = find(conn, request_id)?.filter(EscalationRow::is_active) else {
        return Ok(None);
    };
    let changed = diesel::update(
        escalations::table
            .find(request_id)
            .filter(escalations::state.eq(State::Active.as_str())),
    )
    .set((
        escalations::state.eq(state.as_str()),
        escalations::next_page_at.eq(None::<NaiveDateTime>),
        escalations::ended_at.eq(Some(now)),
        escalations::ended_by.eq(by),
        escalations::end_reason.eq(Some(reason)),
    ))
    .execute(conn)?;
    Ok((changed == 1).then_some(before))
}

/// Removes the pages of a request still waiting in the outbox (claimed ones included: the
/// worker checks `page_is_queued` right before it sends); answers how many.
pub fn cancel_queued_pages(conn: &mut DbConnection, request_id: &str) -> Result<usize, DbError> {
    Ok(diesel::delete(
        outbox::table
            .filter(outbox::request_id.eq(request_id))
            .filter(outbox::kind.eq(OutboxKind::Page.as_str()))
            .filter(outbox::status.eq("pending")),
    )
    .execute(conn)?)
}

/// Whether a page's outbox row is still waiting to be sent (not cancelled meanwhile).
pub fn page_is_queued(conn: &mut DbConnection, outbox_id: &str) -> Result<bool, DbError> {
    let n: i64 = outbox::table
        .filter(outbox::id.eq(outbox_id))
        .filter(outbox::status.eq("pending"))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub fn insert_page(conn: &mut DbConnection, page: &PageRow) -> Result<(), DbError> {
    diesel::insert_into(escalation_pages::table)
        .values(page)
        .execute(conn)?;
    Ok(())
}

pub fn find_page(conn: &mut DbConnection, id: &str) -> Result<Option<PageRow>, DbError> {
    Ok(escalation_pages::table
        .find(id)
        .select(PageRow::as_select())
        .first(conn)
        .optional()?)
}

/// Uses a page's link once; `false` when it was used already.
pub fn use_page(
    conn: &mut DbConnection,
    id: &str,
    by: &str,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let changed = diesel::update(
        escalation_pages::table
            .find(id)
            .filter(escalation_pages::used_at.is_null()),
    )
    .set((
        escalation_pages::used_at.eq(Some(now)),
        escalation_pages::used_by.eq(Some(by)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// The pages of a request, oldest first.
pub fn pages_of(conn: &mut DbConnection, request_id: &str) -> Result<Vec<PageRow>, DbError> {
    Ok(escalation_pages::table
        .filter(escalation_pages::request_id.eq(request_id))
        .order((escalation_pages::created_at, escalation_pages::id))
        .select(PageRow::as_select())
        .load(conn)?)
}

/// Escalations with their request's reference and priority: the active ones (longest
/// waiting first), then the `ended` latest that ended.
pub fn overview(
    conn: &mut DbConnection,
    ended: i64,
) -> Result<Vec<(EscalationRow, String, Priority)>, DbError> {
    let select = (
        EscalationRow::as_select(),
        case_requests::reference,
        case_requests::priority,
    );
    let mut rows: Vec<(EscalationRow, String, String)> = escalations::table
        .inner_join(case_requests::table)
        .filter(escalations::state.eq(State::Active.as_str()))
        .order(escalations::started_at)
        .select(select)
        .load(conn)?;
    rows.extend(
        escalations::table
            .inner_join(case_requests::table)
            .filter(escalations::state.ne(State::Active.as_str()))
            .order(escalations::ended_at.desc())
            .limit(ended)
            .select(select)
            .load::<(EscalationRow, String, String)>(conn)?,
    );
    rows.into_iter()
        .map(|(e, reference, priority)| {
            Ok((e, reference, super::parse_column("priority", &priority)?))
        })
        .collect()
}

/// A request by id.
pub fn case(conn: &mut DbConnection, id: &str) -> Result<Option<CaseRequestRow>, DbError> {
    Ok(case_requests::table
        .find(id)
        .select(CaseRequestRow::as_select())
        .first(conn)
        .optional()?)
}

// ---- SLA warnings ----

/// Open requests of `priority` received at or before `cutoff` that have had no `kind`
/// notice yet, oldest first.
pub fn unwarned(
    conn: &mut DbConnection,
    priority: Priority,
    kind: SlaWarning,
    cutoff: NaiveDateTime,
    limit: i64,
) -> Result<Vec<CaseRequestRow>, DbError> {
    let warned = sla_warnings::table
        .filter(sla_warnings::request_id.eq(case_requests::id))
        .filter(sla_warnings::kind.eq(kind.as_str()));
    Ok(case_requests::table
        .filter(case_requests::is_open.eq(true))
        .filter(case_requests::priority.eq(priority.as_str()))
        .filter(case_requests::created_at.le(cutoff))
        .filter(diesel::dsl::not(diesel::dsl::exists(warned)))
        .order(case_requests::created_at)
        .limit(limit)
        .select(CaseRequestRow::as_select())
        .load(conn)?)
}

/// Records a notice; `false` when another instance (or an earlier round) recorded it. A
/// savepoint keeps a surrounding PostgreSQL transaction usable after the conflict.
pub fn record_warning(
    conn: &mut DbConnection,
    request_id: &str,
    kind: SlaWarning,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(sla_warnings::table)
            .values((
                sla_warnings::request_id.eq(request_id),
                sla_warnings::kind.eq(kind.as_str()),
                sla_warnings::sent_at.eq(now),
            ))
            .execute(conn)
    });
    super::inserted_once(inserted)
}

// ---- signing key ----

/// The secret named `name`, made (32 random bytes) the first time it is asked for; every
/// instance on the database reads the same.
pub fn signing_key(
    conn: &mut DbConnection,
    name: &str,
    now: NaiveDateTime,
) -> Result<Vec<u8>, DbError> {
    let read = |conn: &mut DbConnection| -> Result<Option<String>, DbError> {
        Ok(signing_keys::table
            .find(name)
            .select(signing_keys::secret)
            .first(conn)
            .optional()?)
    };
    if let Some(secret) = read(conn)? {
        return Ok(secret.into_bytes());
    }
    let bytes: [u8; 32] = rand::random();
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(signing_keys::table)
            .values((
                signing_keys::name.eq(name),
                signing_keys::secret.eq(&secret),
                signing_keys::created_at.eq(now),
            ))
            .execute(conn)
    });
    super::inserted_once(inserted)?;
    read(conn)?
        .map(String::into_bytes)
        .ok_or_else(|| DbError::Corrupt("signing_keys lost a key".into()))
}
