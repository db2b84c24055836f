//! Escalation of urgent requests: started in the commit that makes a request urgent, paged
//! step by step by `Escalator::round` until someone acknowledges (the page's link, the case
//! page's button, or taking the case), stopped when the case stops being urgent or closes.
//! The same round sends the SLA warnings. Every time comes from the application's `Clock`.

use chrono::{Duration, NaiveDateTime};
use tokio::sync::watch;

use super::staff::Staff;
use super::{require, AppState, Error, Result};
use crate::config::Settings;
use crate::db::cases::Applied;
use crate::db::escalation::{EscalationRow, PageRow, State};
use crate::db::models::{CaseRequestRow, QueueRow};
use crate::db::{self, DbConnection};
use crate::domain::escalation::{self as rules, Chain, Next, SlaWarning, Target};
use crate::domain::fields::ContactEmail;
use crate::domain::staff::Permission;
use crate::domain::workflow::CaseAction;
use crate::domain::{Actor, Category, Priority};
use crate::email::{self, Mail, Waker};

/// The name of the key page links are signed with (`signing_keys`).
const LINK_KEY: &str = "page_links";
/// Escalations one round pages at most; the next round takes the rest.
const ROUND_LIMIT: i64 = 100;

/// Whether a case of `category` is paged until someone takes it.
pub fn escalates(category: Category) -> bool {
    category == Category::UrgentProtection
}

// ---- inside the transactions of other use cases ----

/// Starts the escalation of `case` (an urgent request just stored, or re-categorized into
/// urgent) in the caller's transaction; its first page is due at once.
pub fn start_in(
    conn: &mut DbConnection,
    case: &CaseRequestRow,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<()> {
    if db::escalation::start(conn, &case.id, &case.queue_slug, now)? {
        db::cases::audit(
            conn,
            Some(&case.id),
            actor,
            "escalation_started",
            "urgent: paging until someone takes the case".into(),
            now,
        )?;
    }
    Ok(())
}

/// Ends an active escalation as `state`, cancelling the pages still in the outbox, with its
/// audit row; answers how long it ran, or `None` when none was active.
fn end_in(
    conn: &mut DbConnection,
    request_id: &str,
    state: State,
    actor: &Actor,
    reason: &str,
    now: NaiveDateTime,
) -> Result<Option<Duration>> {
    let Some(ended) = db::escalation::end(conn, request_id, state, actor.staff_id(), reason, now)?
    else {
        return Ok(None);
    };
    let cancelled = db::escalation::cancel_queued_pages(conn, request_id)?;
    let ran = now - ended.started_at;
    let (action, what) = match state {
        State::Acknowledged => ("acknowledged", "escalation acknowledged"),
        _ => ("escalation_stopped", "escalation stopped"),
    };
    db::cases::audit(
        conn,
        Some(request_id),
        actor,
        action,
        format!(
            "{what} {reason} after {} and {} page(s); {cancelled} queued page(s) cancelled",
            email::mails::age_in_words(ran),
            ended.pages
        ),
        now,
    )?;
    Ok(Some(ran))
}

/// What an applied case action means for its escalation: taking the case acknowledges it,
/// re-categorizing into urgent starts it, out of urgent (or closing the case) stops it.
pub fn after_action(
    conn: &mut DbConnection,
    applied: &Applied,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<()> {
    let case = &applied.case;
    match &applied.action {
        CaseAction::Assign { to: Some(to) } if Some(to.as_str()) == actor.staff_id() => {
            end_in(
                conn,
                &case.id,
                State::Acknowledged,
                actor,
                "by taking the case",
                now,
            )?;
        }
        CaseAction::Recategorize { to, .. } if escalates(*to) && case.is_open => {
            start_in(conn, case, actor, now)?;
        }
        CaseAction::Recategorize { .. } => {
            end_in(
                conn,
                &case.id,
                State::Stopped,
                actor,
                "by re-categorizing",
                now,
            )?;
        }
        CaseAction::ChangeStatus { to, .. } if !to.is_open() => {
            end_in(
                conn,
                &case.id,
                State::Stopped,
                actor,
                "by closing the case",
                now,
            )?;
        }
        _ => {}
    }
    Ok(())
}

// ---- acknowledging ----

/// Acknowledges the escalation of the case `reference` from its page (the button).
pub async fn acknowledge(
    app: &AppState,
    staff: &Staff,
    reference: crate::domain::CaseReference,
    now: NaiveDateTime,
) -> Result<()> {
    require(staff, Permission::WorkOwnQueues)?;
    let staff = staff.clone();
    let ran = db::run_as(&app.pool, move |conn| -> Result<_> {
        let case = db::requests::find_by_reference(conn, &reference.to_string())?
            .ok_or(Error::NotFound)?;
        if !staff.can_work_queue(&case.queue_slug) {
            return Err(Error::Forbidden);
        }
        db::write_transaction(conn, |conn| {
            end_in(
                conn,
                &case.id,
                State::Acknowledged,
                &staff.actor(),
                "on the case page",
                now,
            )
        })?
        .ok_or_else(|| Error::Invalid("nobody is being paged for this case".into()))
    })
    .await?;
    app.metrics.acknowledged(ran);
    Ok(())
}

/// The link of a page as it arrived: the page id, its expiry and signature.
#[derive(Debug, Clone)]
pub struct PageLink {
    pub page: String,
    pub until: i64,
    pub sig: String,
}

/// What a page's link leads to.
#[derive(Debug, Clone)]
pub enum Landing {
    /// Ready to confirm: "I take this case".
    Ready {
        reference: String,
        queue: String,
        waited: Duration,
    },
    /// Followed before; the case page is where to go now.
    Used {
        reference: String,
    },
    Expired {
        reference: String,
    },
    /// Someone took the case (or it stopped being urgent) meanwhile.
    Over {
        reference: String,
    },
    /// Not a link the app made.
    Invalid,
}

/// Checks a page's link for `staff`, changing nothing.
pub async fn land(app: &AppState, staff: &Staff, link: PageLink) -> Result<Landing> {
    require(staff, Permission::WorkOwnQueues)?;
    let now = app.clock.now().naive_utc();
    let staff = staff.clone();
    db::run_as(&app.pool, move |conn| {
        let (landing, _) = landing(conn, &staff, &link, now)?;
        Ok(landing)
    })
    .await
}

/// Takes the case of a page's link: uses the link once, acknowledges the escalation and,
/// when nobody has the case, assigns it to `staff`, in one transaction.
pub async fn take(app: &AppState, staff: &Staff, link: PageLink) -> Result<Landing> {
    require(staff, Permission::WorkOwnQueues)?;
    let now = app.clock.now().naive_utc();
    let staff = staff.clone();
    let settings = app.settings.clone();
    let (landing, ran, mails) = db::run_as(&app.pool, move |conn| {
        db::write_transaction(conn, |conn| -> Result<_> {
            let (landing, case) = landing(conn, &staff, &link, now)?;
            let (Landing::Ready { .. }, Some(case)) = (&landing, case) else {
                return Ok((landing, None, 0));
            };
            if !db::escalation::use_page(conn, &link.page, &staff.id, now)? {
                return Ok((
                    Landing::Used {
                        reference: case.reference.clone(),
                    },
                    None,
                    0,
                ));
            }
            let actor = staff.actor();
            let ran = end_in(
                conn,
                &case.id,
                State::Acknowledged,
                &actor,
                "with the page's link",
                now,
            )?;
            let mut mails = 0;
            if case.assignee_id.is_none() {
                let action = CaseAction::Assign {
                    to: Some(staff.id.clone()),
                };
                mails = super::cases::apply_in(conn, &settings, &actor, &case, action, None, now)?;
            }
            Ok((landing, ran, mails))
        })
    })
    .await?;
    if let Some(ran) = ran {
        app.metrics.acknowledged(ran);
    }
    app.wake_for(mails);
    Ok(landing)
}

/// Where a link stands for `staff`, with its case when it is ready to take.
fn landing(
    conn: &mut DbConnection,
    staff: &Staff,
    link: &PageLink,
    now: NaiveDateTime,
) -> Result<(Landing, Option<CaseRequestRow>)> {
    let key = db::escalation::signing_key(conn, LINK_KEY, now)?;
    if !rules::link_is_genuine(&key, &link.page, link.until, &link.sig) {
        return Ok((Landing::Invalid, None));
    }
    let Some(page) = db::escalation::find_page(conn, &link.page)? else {
        return Ok((Landing::Invalid, None));
    };
    let case = db::escalation::case(conn, &page.request_id)?.ok_or(Error::NotFound)?;
    if !staff.can_work_queue(&case.queue_slug) {
        return Err(Error::Forbidden);
    }
    let reference = case.reference.clone();
    let active = db::escalation::find(conn, &case.id)?.is_some_and(|e| e.is_active());
    let landing = if page.used_at.is_some() {
        Landing::Used { reference }
    } else if now >= page.expires_at || link.until != page.expires_at.and_utc().timestamp() {
        Landing::Expired { reference }
    } else if !active {
        Landing::Over { reference }
    } else {
        Landing::Ready {
            reference,
            queue: db::queues::find(conn, &case.queue_slug)?.name,
            waited: now - case.created_at,
        }
    };
    Ok((landing, Some(case)))
}

// ---- duty ----

/// Marks `staff` on duty (`Some(true)`), off duty, or back to the schedule for `queue`.
pub async fn set_duty(
    app: &AppState,
    staff: &Staff,
    queue: String,
    on: Option<bool>,
    now: NaiveDateTime,
) -> Result<()> {
    require(staff, Permission::WorkOwnQueues)?;
    if !staff.can_work_queue(&queue) {
        return Err(Error::Forbidden);
    }
    let staff = staff.clone();
    let what = match on {
        Some(true) => "on duty",
        Some(false) => "off duty",
        None => "on duty as scheduled",
    };
    db::run(&app.pool, move |conn| {
        super::audited(
            conn,
            &staff.actor(),
            "duty",
            format!("{what} for queue {queue}"),
            now,
            |conn| db::escalation::mark_duty(conn, &staff.id, &queue, on, now),
        )
    })
    .await?;
    Ok(())
}

/// The queues `staff` works, each with whether they are on duty for it now.
pub async fn my_duty(app: &AppState, staff: &Staff) -> Result<Vec<(String, String, bool)>> {
    require(staff, Permission::WorkOwnQueues)?;
    let (staff, settings) = (staff.clone(), app.settings.clone());
    let now = app.clock.now().naive_utc();
    Ok(db::run(&app.pool, move |conn| {
        let mut out = Vec::new();
        for q in db::queues::all(conn)? {
            if staff.can_work_queue(&q.slug) {
                let on = on_duty_now(conn, &settings, &q.slug, now)?.contains(&staff.id);
                out.push((q.slug, q.name, on));
            }
        }
        Ok(out)
    })
    .await?)
}

// ---- the rounds ----

/// Runs escalation rounds: pages due, SLA warnings due. Cloned from the `AppState`; tests
/// run one round with `round` after moving the clock.
#[derive(Clone)]
pub struct Escalator {
    app: AppState,
}

/// What one round queued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub pages: usize,
    pub warnings: usize,
}

impl Escalator {
    pub fn new(app: AppState) -> Self {
        Escalator { app }
    }

    /// Sends every page and warning due now, each in its own transaction, each once however
    /// many instances run rounds at the same time.
    pub async fn round(&self) -> Result<Round> {
        let now = self.app.clock.now().naive_utc();
        let settings = self.app.settings.clone();
        let round = db::run_as(&self.app.pool, move |conn| -> Result<Round> {
            let mut round = Round::default();
            for e in db::escalation::due(conn, now, ROUND_LIMIT)? {
                round.pages +=
                    db::write_transaction(conn, |conn| page_next(conn, &settings, &e, now))?;
            }
            round.warnings = warn_due(conn, &settings, now)?;
            Ok(round)
        })
        .await?;
        self.app.metrics.paged(round.pages);
        self.app.wake_for(round.pages + round.warnings);
        Ok(round)
    }

    /// Runs rounds until told to stop: at start (what fell due while no instance ran goes
    /// out now), when woken, and every `ESCALATION_POLL_SECS`.
    pub async fn run(self, waker: Waker, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            if let Err(e) = self.round().await {
                tracing::warn!(error = %format!("{:#}", anyhow::Error::from(e)), "escalation round failed");
            }
            tokio::select! {
                _ = waker.notified() => {}
                _ = stop.changed() => {}
                _ = tokio::time::sleep(self.app.settings.escalation.poll) => {}
            }
        }
        tracing::info!("escalation worker stopped");
    }
}

/// One person or address a page goes to.
struct Recipient {
    user_id: Option<String>,
    name: String,
    to: ContactEmail,
}

/// Sends the next page of `e`, if it is still due (another instance may have sent it).
fn page_next(
    conn: &mut DbConnection,
    settings: &Settings,
    e: &EscalationRow,
    now: NaiveDateTime,
) -> Result<usize> {
    let chain =
        db::escalation::chain(conn, &e.queue_slug)?.unwrap_or_else(Chain::urgent_desk_default);
    let index = u32::try_from(e.pages).unwrap_or(u32::MAX);
    let queue = db::queues::find(conn, &e.queue_slug)?;
    let (label, recipients, next) = match rules::plan(&chain, settings.escalation.repeats, index) {
        Next::Page { target, wait, .. } => (
            target.label(),
            recipients(conn, settings, target, &queue, now)?,
            Some(now + wait),
        ),
        Next::Leads => ("the leads", leads(conn, settings)?, None),
        Next::Done => ("", Vec::new(), None),
    };
    if !db::escalation::advance(conn, &e.request_id, e.pages, next)? || recipients.is_empty() {
        return Ok(0);
    }
    let case = db::escalation::case(conn, &e.request_id)?.ok_or(Error::NotFound)?;
    let facts = super::cases::facts_of(conn, &case)?;
    let key = db::escalation::signing_key(conn, LINK_KEY, now)?;
    let number = e.pages + 1;
    let expires = now + Duration::hours(settings.escalation.link_hours.into());
    // Whole seconds: the link carries the expiry as a number.
    let expires = chrono::DateTime::from_timestamp(expires.and_utc().timestamp(), 0)
        .map_or(expires, |t| t.naive_utc());
    let until = expires.and_utc().timestamp();
    for r in &recipients {
        let page_id = uuid::Uuid::new_v4().simple().to_string();
        let sig = rules::sign_link(&key, &page_id, until);
        let mail = Mail::Page {
            to: r.to.clone(),
            case: facts.clone(),
            waited: now - case.created_at,
            number: number as u32,
            link: email::mails::page_link(
                &settings.base_url,
                &format!("/admin/pages/{page_id}?until={until}&sig={sig}"),
            ),
            expires,
        };
        let outbox_id = email::enqueue_ids(conn, settings, &mail, now.and_utc())?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("a page wrote no outbox row")))?;
        db::escalation::insert_page(
            conn,
            &PageRow {
                id: page_id,
                request_id: case.id.clone(),
                number,
                target: label.to_string(),
                user_id: r.user_id.clone(),
                outbox_id,
                created_at: now,
                expires_at: expires,
                used_at: None,
                used_by: None,
            },
        )?;
    }
    let names: Vec<&str> = recipients.iter().map(|r| r.name.as_str()).collect();
    db::cases::audit(
        conn,
        Some(&case.id),
        &Actor::System,
        "paged",
        format!("page {number} to {label}: {}", names.join(", ")),
        now,
    )?;
    Ok(recipients.len())
}

/// Who a step's target is at `now`; when that is nobody, the queue's list, and when the
/// queue has none, the leads: a page always reaches someone.
fn recipients(
    conn: &mut DbConnection,
    settings: &Settings,
    target: &Target,
    queue: &QueueRow,
    now: NaiveDateTime,
) -> Result<Vec<Recipient>> {
    let can_see = db::staff::assignable(conn, &queue.slug)?;
    let person = |id: &str| {
        can_see.iter().find(|u| u.id == id).and_then(|u| {
            Some(Recipient {
                user_id: Some(u.id.clone()),
                name: u.display_name.clone(),
                to: ContactEmail::parse(&u.email).ok()?,
            })
        })
    };
    let mut on_duty = || -> Result<Vec<String>> {
        let mut found = on_duty_now(conn, settings, &queue.slug, now)?;
        found.retain(|id| can_see.iter().any(|u| &u.id == id));
        Ok(found)
    };
    let found: Vec<Recipient> = match target {
        Target::OnDuty => on_duty()?
            .first()
            .and_then(|id| person(id))
            .into_iter()
            .collect(),
        Target::NextOnDuty => on_duty()?
            .get(1)
            .and_then(|id| person(id))
            .into_iter()
            .collect(),
        Target::Staff(id) => person(id).into_iter().collect(),
        Target::QueueList => Vec::new(),
    };
    if !found.is_empty() {
        return Ok(found);
    }
    let list: Vec<Recipient> = email::address_list(&queue.notify_emails)
        .into_iter()
        .map(|to| Recipient {
            user_id: None,
            name: email::mask(to.as_str()),
            to,
        })
        .collect();
    if !list.is_empty() {
        return Ok(list);
    }
    leads(conn, settings)
}

/// The ids of who is on duty for `queue` at `now`, first to page first.
pub(super) fn on_duty_now(
    conn: &mut DbConnection,
    settings: &Settings,
    queue: &str,
    now: NaiveDateTime,
) -> Result<Vec<String>, db::DbError> {
    let slots = db::escalation::duty_slots(conn, queue)?;
    let marks = db::escalation::duty_marks(conn, queue)?;
    Ok(rules::on_duty(
        &slots,
        &marks,
        settings.escalation.utc_offset,
        now,
    ))
}

/// The leads (else the admins, else `DIGEST_TO`): where a chain ends.
fn leads(conn: &mut DbConnection, settings: &Settings) -> Result<Vec<Recipient>> {
    let mut found: Vec<Recipient> = db::escalation::leads(conn)?
        .into_iter()
        .filter_map(|u| {
            Some(Recipient {
                to: ContactEmail::parse(&u.email).ok()?,
                user_id: Some(u.id),
                name: u.display_name,
            })
        })
        .collect();
    if found.is_empty() {
        let to = settings.mail.digest_to.clone();
        found.push(Recipient {
            user_id: None,
            name: email::mask(to.as_str()),
            to,
        });
    }
    Ok(found)
}

/// Queues the SLA notices due at `now`: at the breach, and `SLA_WARNING_HOURS` before it;
/// each once per case. A case first seen past its target gets the breach notice only.
fn warn_due(conn: &mut db::Conn, settings: &Settings, now: NaiveDateTime) -> Result<usize> {
    let lead = Duration::hours(settings.escalation.sla_warning_hours.into());
    let mut sent = 0;
    for priority in [Priority::Urgent, Priority::High, Priority::Normal] {
        let index = crate::domain::forecast::priority_index(priority);
        let target = Duration::hours(settings.sla_hours[index].into());
        for kind in [SlaWarning::Breached, SlaWarning::Soon] {
            let before = match kind {
                SlaWarning::Breached => target,
                SlaWarning::Soon if target > lead => target - lead,
                SlaWarning::Soon => continue,
            };
            for case in db::escalation::unwarned(conn, priority, kind, now - before, ROUND_LIMIT)? {
                sent += db::write_transaction(conn, |conn| {
                    warn_one(conn, settings, &case, kind, target, now)
                })?;
            }
        }
    }
    Ok(sent)
}

fn warn_one(
    conn: &mut DbConnection,
    settings: &Settings,
    case: &CaseRequestRow,
    kind: SlaWarning,
    target: Duration,
    now: NaiveDateTime,
) -> Result<usize> {
    if !db::escalation::record_warning(conn, &case.id, kind, now)? {
        return Ok(0);
    }
    if kind == SlaWarning::Breached {
        db::escalation::record_warning(conn, &case.id, SlaWarning::Soon, now)?;
    }
    let to = super::cases::assignee_or_queue(conn, case)?;
    if to.is_empty() {
        return Ok(0);
    }
    let mail = Mail::SlaWarning {
        to,
        case: super::cases::facts_of(conn, case)?,
        warning: kind,
        target,
        remaining: (case.created_at + target - now).max(Duration::zero()),
    };
    Ok(email::enqueue(conn, settings, &mail, now.and_utc())?)
}

// ---- what leads see ----

/// One escalation as the leads' page and the dashboard show it.
pub struct Overview {
    pub reference: String,
    pub priority: Priority,
    pub row: EscalationRow,
    /// Who ended it, by name.
    pub ended_by: Option<String>,
    /// The pages sent, oldest first, with the recipient's name where it was a person.
    pub pages: Vec<(PageRow, Option<String>)>,
}

/// Active escalations (longest waiting first), then the latest `ended` that ended.
pub async fn overview(app: &AppState, staff: &Staff, ended: i64) -> Result<Vec<Overview>> {
    require(staff, Permission::ManageEscalation)?;
    Ok(db::run(&app.pool, move |conn| load_overview(conn, ended, true)).await?)
}

/// The active escalations only, without their history: the dashboard's top list.
pub async fn unacknowledged(app: &AppState) -> Result<Vec<Overview>> {
    Ok(db::run(&app.pool, |conn| {
        let mut all = load_overview(conn, 0, false)?;
        all.retain(|o| o.row.is_active());
        Ok(all)
    })
    .await?)
}

fn load_overview(
    conn: &mut DbConnection,
    ended: i64,
    history: bool,
) -> Result<Vec<Overview>, db::DbError> {
    let rows = db::escalation::overview(conn, ended)?;
    let mut ids: Vec<String> = rows
        .iter()
        .filter_map(|(e, ..)| e.ended_by.clone())
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    let mut all_pages = Vec::new();
    for (e, ..) in &rows {
        let pages = if history {
            db::escalation::pages_of(conn, &e.request_id)?
        } else {
            Vec::new()
        };
        ids.extend(pages.iter().filter_map(|p| p.user_id.clone()));
        ids.extend(pages.iter().filter_map(|p| p.used_by.clone()));
        all_pages.push(pages);
    }
    let names = db::cases::user_names(conn, &ids)?;
    for ((row, reference, priority), pages) in rows.into_iter().zip(all_pages) {
        out.push(Overview {
            reference,
            priority,
            ended_by: row.ended_by.as_ref().and_then(|id| names.get(id).cloned()),
            pages: pages
                .into_iter()
                .map(|p| {
                    let name = p.user_id.as_ref().and_then(|id| names.get(id).cloned());
                    (p, name)
                })
                .collect(),
            row,
        });
    }
    Ok(out)
}
