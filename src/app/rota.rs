//! The duty rota leads keep per queue: the escalation chain and the weekly duty schedule,
//! written as lines of text (docs/operating/escalation.md) and refused with the line at
//! fault when they cannot be used.

use chrono::NaiveDateTime;

use super::staff::Staff;
use super::{require, AppState, Error, Result};
use crate::db::models::{QueueRow, UserRow};
use crate::db::{self, DbConnection};
use crate::domain::escalation::{self as rules, Chain, ChainError, DutySlot, Step, Target};
use crate::domain::staff::Permission;

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A queue's rota as its page shows it.
pub struct Rota {
    pub queue: QueueRow,
    /// One line per step: `on-duty 15`, `next-on-duty 15`, `queue 30`, `EMAIL 10`.
    pub chain: String,
    /// Whether the queue has a chain of its own (else the urgent desk's default applies).
    pub has_chain: bool,
    /// One line per slot: `Mon 08:00-20:00 EMAIL`.
    pub schedule: String,
    /// Who is on duty now, by name, first to be paged first.
    pub on_duty: Vec<String>,
    /// Who may be named: those who can see the queue.
    pub staff: Vec<UserRow>,
}

pub async fn show(app: &AppState, staff: &Staff, queue: String) -> Result<Rota> {
    require(staff, Permission::ManageEscalation)?;
    let settings = app.settings.clone();
    let now = app.clock.now().naive_utc();
    db::run_as(&app.pool, move |conn| {
        let queue = find_queue(conn, &queue)?;
        let staff = db::staff::assignable(conn, &queue.slug)?;
        let email_of = |id: &str| {
            staff.iter().find(|u| u.id == id).map_or_else(
                || "(no longer on this queue)".to_string(),
                |u| u.email.clone(),
            )
        };
        let own = db::escalation::chain(conn, &queue.slug)?;
        let chain = own.clone().unwrap_or_else(Chain::urgent_desk_default);
        let chain = chain
            .steps()
            .iter()
            .map(|s| {
                let who = match &s.target {
                    Target::OnDuty => "on-duty".to_string(),
                    Target::NextOnDuty => "next-on-duty".to_string(),
                    Target::QueueList => "queue".to_string(),
                    Target::Staff(id) => email_of(id),
                };
                format!("{who} {}", s.wait_minutes)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let schedule = db::escalation::duty_slots(conn, &queue.slug)?
            .iter()
            .map(|s| {
                format!(
                    "{} {}-{} {}",
                    WEEKDAYS[s.weekday as usize],
                    rules::time_of_day(s.start_minute),
                    rules::time_of_day(s.end_minute),
                    email_of(&s.user_id)
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        let on_duty = super::escalation::on_duty_now(conn, &settings, &queue.slug, now)?
            .iter()
            .filter_map(|id| staff.iter().find(|u| &u.id == id))
            .map(|u| u.display_name.clone())
            .collect();
        Ok(Rota {
            queue,
            chain,
            has_chain: own.is_some(),
            schedule,
            on_duty,
            staff,
        })
    })
    .await
}

/// Saves a queue's chain and schedule from their lines, both or neither.
pub async fn save(
    app: &AppState,
    staff: &Staff,
    queue: String,
    chain: String,
    schedule: String,
    now: NaiveDateTime,
) -> Result<()> {
    require(staff, Permission::ManageEscalation)?;
    let actor = staff.actor();
    db::run_as(&app.pool, move |conn| {
        let queue = find_queue(conn, &queue)?;
        let can_see = db::staff::assignable(conn, &queue.slug)?;
        let chain = parse_chain(&chain, &can_see, conn)?;
        let slots = parse_schedule(&schedule, &can_see)?;
        let detail = format!(
            "escalation rota of queue {}: {} step(s), {} duty slot(s)",
            queue.slug,
            chain.steps().len(),
            slots.len()
        );
        super::audited(conn, &actor, "rota_saved", detail, now, |conn| {
            db::escalation::save_chain(conn, &queue.slug, Some(&chain))?;
            db::escalation::save_duty_slots(conn, &queue.slug, &slots)
        })?;
        Ok(())
    })
    .await
}

fn find_queue(conn: &mut DbConnection, slug: &str) -> Result<QueueRow> {
    match db::queues::find(conn, slug) {
        Ok(q) => Ok(q),
        Err(e) if e.is_not_found() => Err(Error::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// Lines of `WHO MINUTES`; WHO is `on-duty`, `next-on-duty`, `queue` or a staff email.
fn parse_chain(text: &str, can_see: &[UserRow], conn: &mut DbConnection) -> Result<Chain> {
    let mut steps = Vec::new();
    for (n, line) in lines(text) {
        let bad = |what: &str| Error::Invalid(format!("escalation chain, line {n}: {what}"));
        let (who, wait) = line
            .rsplit_once(char::is_whitespace)
            .ok_or_else(|| bad("write whom to page and the minutes to wait, as \"on-duty 15\""))?;
        let wait_minutes: u32 = wait
            .trim()
            .parse()
            .map_err(|_| bad("the wait is a number of minutes, as \"on-duty 15\""))?;
        let target = match who.trim() {
            "on-duty" => Target::OnDuty,
            "next-on-duty" => Target::NextOnDuty,
            "queue" => Target::QueueList,
            email => {
                let email = email.to_lowercase();
                match can_see.iter().find(|u| u.email == email) {
                    Some(u) => Target::Staff(u.id.clone()),
                    None if db::staff::find_by_email(conn, &email)?.is_some() => {
                        return Err(Error::Invalid(
                            ChainError::CannotSeeQueue(steps.len() + 1, email).to_string(),
                        ))
                    }
                    None => return Err(bad("no active staff member has that email address")),
                }
            }
        };
        steps.push(Step {
            target,
            wait_minutes,
        });
    }
    Chain::parse(steps).map_err(|e| Error::Invalid(format!("escalation chain: {e}")))
}

/// Lines of `DAY HH:MM-HH:MM EMAIL`, in the task force's local time.
fn parse_schedule(text: &str, can_see: &[UserRow]) -> Result<Vec<DutySlot>> {
    let mut slots = Vec::new();
    for (n, line) in lines(text) {
        let bad = |what: &str| Error::Invalid(format!("duty schedule, line {n}: {what}"));
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [day, hours, email] = parts[..] else {
            return Err(bad(
                "write a day, hours and an email, as \"Mon 08:00-20:00 name@example.org\"",
            ));
        };
        let weekday = WEEKDAYS
            .iter()
            .position(|d| d.eq_ignore_ascii_case(day))
            .ok_or_else(|| bad("the day is one of Mon, Tue, Wed, Thu, Fri, Sat, Sun"))?;
        let (start, end) = hours
            .split_once('-')
            .and_then(|(a, b)| Some((rules::parse_time_of_day(a)?, rules::parse_time_of_day(b)?)))
            .filter(|(a, _)| *a < 1440)
            .ok_or_else(|| {
                bad("the hours are HH:MM-HH:MM, as 08:00-20:00 (20:00-08:00 runs overnight)")
            })?;
        let email = email.to_lowercase();
        let user = can_see
            .iter()
            .find(|u| u.email == email)
            .ok_or_else(|| bad("that person cannot see this queue (or has no account)"))?;
        slots.push(DutySlot {
            user_id: user.id.clone(),
            weekday: weekday as u32,
            start_minute: start,
            end_minute: end % 1440,
        });
    }
    Ok(slots)
}

/// The non-empty lines of `text` with their numbers (from 1); `#` starts a comment.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split('#').next().unwrap_or("").trim()))
        .filter(|(_, l)| !l.is_empty())
}
