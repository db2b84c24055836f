//! Queues and cases: the queue list, a queue's filtered and paged cases, the case page with
//! its actions, walk-in requests and the streamed CSV export.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{Duration, NaiveDateTime};
use serde::Deserialize;
use std::collections::HashMap;

use super::dashboard::age_text;
use super::{need, page, see_other, AdminError, Allowed, Nav, Posted, Staff};
use crate::db;
use crate::db::cases::{CaseDetail, CaseFilter, Cursor, SortOrder};
use crate::db::models::CaseRequestRow;
use crate::domain::staff::Permission;
use crate::domain::workflow::CaseAction;
use crate::domain::{Actor, CaseReference, Category, Priority, QueueSlug, Source, Status};
use crate::web::errors::html;
use crate::web::form::FormValues;
use crate::web::AppState;

pub const PAGE_SIZE: i64 = 50;

#[derive(Template)]
#[template(path = "admin/queues.html")]
struct QueueListPage {
    nav: Nav,
    queues: Vec<(String, String, String, i64, bool)>,
}

pub async fn queue_list(
    state: web::Data<AppState>,
    staff: Allowed<need::WorkOwnQueues>,
) -> Result<HttpResponse, AdminError> {
    let queues = crate::app::cases::queues(&state).await?;
    let queues = queues
        .into_iter()
        .map(|(q, n)| {
            let mine = staff.can_work_queue(&q.slug);
            (q.slug, q.name, q.description, n, mine)
        })
        .collect();
    page(QueueListPage {
        nav: Nav::of(&staff),
        queues,
    })
}

/// Filters as they appear in the query string of a queue view or an export.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    pub queue: Option<String>,
    pub category: Option<String>,
    pub priority: Option<String>,
    /// `open` (default), `all`, or a status.
    pub status: Option<String>,
    /// `me`, `none`, or a user id.
    pub assignee: Option<String>,
    /// `lt1`, `1-3`, `3-7`, `7-14`, `gt14`.
    pub age: Option<String>,
    /// `us` (open, not awaiting information) or `requester` (awaiting information).
    pub waiting: Option<String>,
    /// `oldest` (default) or `newest`.
    pub sort: Option<String>,
    pub after: Option<String>,
    /// A reference number to find.
    pub q: Option<String>,
}

impl ListQuery {
    fn filter(&self, staff: &Staff, now: NaiveDateTime) -> CaseFilter {
        let some = |o: &Option<String>| o.clone().filter(|s| !s.is_empty());
        let mut f = CaseFilter {
            queue: some(&self.queue),
            allowed_queues: staff.allowed_queues(),
            category: some(&self.category).and_then(|c| c.parse().ok()),
            priority: some(&self.priority).filter(|p| p.parse::<Priority>().is_ok()),
            ..Default::default()
        };
        match some(&self.status).as_deref() {
            None | Some("open") => f.open_only = true,
            Some("all") => {}
            Some(s) => f.status = s.parse().ok(),
        }
        match some(&self.waiting).as_deref() {
            Some("requester") => {
                f.status = Some(Status::AwaitingInformation);
                f.open_only = false;
            }
            Some("us") => {
                f.status = None;
                f.open_only = true;
                f.exclude_status = Some(Status::AwaitingInformation);
            }
            _ => {}
        }
        f.assignee = match some(&self.assignee).as_deref() {
            None | Some("any") => None,
            Some("me") => Some(Some(staff.id.clone())),
            Some("none") => Some(None),
            Some(id) => Some(Some(id.to_string())),
        };
        let days = |n: i64| now - Duration::days(n);
        match some(&self.age).as_deref() {
            Some("lt1") => f.created_after = Some(days(1)),
            Some("1-3") => (f.created_before, f.created_after) = (Some(days(1)), Some(days(3))),
            Some("3-7") => (f.created_before, f.created_after) = (Some(days(3)), Some(days(7))),
            Some("7-14") => (f.created_before, f.created_after) = (Some(days(7)), Some(days(14))),
            Some("gt14") => f.created_before = Some(days(14)),
            _ => {}
        }
        if let Some(q) = some(&self.q) {
            // An unparseable reference matches nothing rather than everything.
            f.reference = Some(CaseReference::parse(&q).map(|r| r.to_string()).unwrap_or(q));
        }
        f
    }

    fn order(&self) -> SortOrder {
        match self.sort.as_deref() {
            Some("newest") => SortOrder::NewestFirst,
            _ => SortOrder::OldestFirst,
        }
    }

    /// The query string of the same list, for paging links and the export.
    pub fn query_string(&self, after: Option<&str>) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("queue", &self.queue),
            ("category", &self.category),
            ("priority", &self.priority),
            ("status", &self.status),
            ("assignee", &self.assignee),
            ("waiting", &self.waiting),
            ("age", &self.age),
            ("sort", &self.sort),
            ("q", &self.q),
        ] {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                pairs.push((k, v.clone()));
            }
        }
        if let Some(a) = after {
            pairs.push(("after", a.to_string()));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

pub struct CaseItem {
    pub reference: String,
    pub category: &'static str,
    pub priority: String,
    pub status: &'static str,
    pub location: String,
    pub household: String,
    pub age: String,
    pub assignee: String,
    pub queue: String,
    /// The requester answered and nobody on staff has opened the case since.
    pub new_reply: bool,
}

fn items(
    rows: &[CaseRequestRow],
    names: &HashMap<String, String>,
    new_replies: &std::collections::HashSet<String>,
    now: NaiveDateTime,
) -> Vec<CaseItem> {
    rows.iter()
        .map(|r| CaseItem {
            reference: r.reference.clone(),
            category: r.category.label(),
            priority: r.priority.to_string(),
            status: r.status.label(),
            location: r.applicant_location.to_string(),
            household: r.household_size.map(|n| n.to_string()).unwrap_or_default(),
            age: age_text(r.created_at, now),
            assignee: r
                .assignee_id
                .as_ref()
                .and_then(|id| names.get(id).cloned())
                .unwrap_or_default(),
            queue: r.queue_slug.clone(),
            new_reply: new_replies.contains(&r.id),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "admin/queue.html")]
struct QueuePage {
    nav: Nav,
    title: String,
    slug: String,
    query: ListQuery,
    items: Vec<CaseItem>,
    total: db::cases::Total,
    next: Option<String>,
    export: String,
    categories: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    assignees: Vec<(String, String)>,
    can_export: bool,
}

impl QueuePage {
    fn sel(&self, value: &Option<String>, option: &str) -> bool {
        value.as_deref() == Some(option)
    }
}

async fn list_page(
    state: web::Data<AppState>,
    staff: Staff,
    slug: Option<String>,
    mut query: ListQuery,
) -> Result<HttpResponse, AdminError> {
    query.queue = slug.clone();
    let now = state.clock.now().naive_utc();
    let filter = query.filter(&staff, now);
    let order = query.order();
    let after = query.after.as_deref().and_then(Cursor::decode);
    let listing = crate::app::cases::list(
        &state,
        &staff,
        slug.clone(),
        filter,
        order,
        after,
        PAGE_SIZE,
    )
    .await?;
    let crate::app::cases::Listing {
        queue_name,
        rows,
        next,
        total,
        names,
        assignees,
        new_replies,
    } = listing;
    let next = next.map(|c| query.query_string(Some(&c.encode())));
    page(QueuePage {
        nav: Nav::of(&staff),
        title: queue_name.unwrap_or_else(|| "All cases you can see".to_string()),
        slug: slug.unwrap_or_default(),
        items: items(&rows, &names, &new_replies, now),
        total,
        next,
        export: query.query_string(None),
        categories: Category::ALL
            .iter()
            .map(|c| (c.as_str(), c.label()))
            .collect(),
        statuses: Status::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        assignees: assignees
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect(),
        can_export: staff.can(Permission::ExportCases),
        query,
    })
}

pub async fn queue_view(
    state: web::Data<AppState>,
    staff: Staff,
    slug: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AdminError> {
    list_page(state, staff, Some(slug.into_inner()), query.into_inner()).await
}

/// All queues the person can see; a reference search that finds one case opens it.
pub async fn search(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AdminError> {
    let query = query.into_inner();
    if let Some(r) = query.q.as_deref().and_then(CaseReference::parse) {
        if query.queue.is_none() {
            return Ok(see_other(&format!("/admin/requests/{r}")));
        }
    }
    list_page(state, staff, None, query).await
}

// ---- the case page ----

pub struct TimelineEntry {
    pub when: String,
    pub who: String,
    pub action: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "admin/case.html")]
struct CasePage {
    nav: Nav,
    d: CaseDetail,
    category: &'static str,
    status: &'static str,
    source: &'static str,
    assignee: String,
    entered_by: String,
    guidance: String,
    timeline: Vec<TimelineEntry>,
    notes: Vec<(String, String, String)>,
    error: Option<String>,
    assignees: Vec<(String, String)>,
    queues: Vec<(String, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    categories: Vec<(&'static str, &'static str)>,
    can_assign_others: bool,
    duplicates: Vec<super::duplicates::DuplicateView>,
    messages: Vec<super::messages::MessageItem>,
    compose: super::messages::ComposeView,
    reachable_by_mail: bool,
    /// Saved replies for the compose form: (id, title, the languages it lacks).
    replies: Vec<(String, String, String)>,
    attachments: Vec<AttachmentItem>,
    /// While an escalation pages people: how many pages so far.
    paging: Option<i32>,
}

/// A file from the case's mail, as the case page lists it.
pub struct AttachmentItem {
    pub id: String,
    pub filename: String,
    pub content_type: String,
    pub size: String,
    pub sha256: String,
    /// Why it was not kept; empty when it can be downloaded.
    pub refused: String,
    pub when: String,
}

impl AttachmentItem {
    fn of(a: &crate::db::mail_in::AttachmentInfo) -> Self {
        AttachmentItem {
            id: a.id.clone(),
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size: super::file_size(a.size),
            sha256: a.sha256.clone(),
            refused: a.refused.clone().unwrap_or_default(),
            when: a.created_at.format("%Y-%m-%d %H:%M").to_string(),
        }
    }
}

/// `GET /admin/requests/{reference}/attachments/{id}`: a file from the case's mail, as a
/// download (never shown inline, its type not sniffed by the browser), audited.
pub async fn attachment(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AdminError> {
    let (reference, id) = path.into_inner();
    let reference = CaseReference::parse(&reference).ok_or(AdminError::NotFound)?;
    let file =
        crate::app::mail_in::download(&state, &staff, reference, id, state.clock.now().naive_utc())
            .await?;
    let name = file.filename.replace(['"', '\\'], "_");
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    Ok(HttpResponse::Ok()
        .content_type(file.content_type.as_str())
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
                encoded.replace('+', "%20")
            ),
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "no-store"))
        .body(file.data.unwrap_or_default()))
}

impl CasePage {
    /// The programs claimed, in plain words (staff pages are English).
    fn programs(&self) -> String {
        let claimed: Vec<&str> = self
            .d
            .case
            .claimed_programs
            .0
            .iter()
            .map(|p| p.label())
            .collect();
        if claimed.is_empty() {
            "none".to_string()
        } else {
            claimed.join("; ")
        }
    }
}

pub(super) fn who(actor: &Actor, names: &HashMap<String, String>) -> String {
    match actor {
        Actor::Staff(id) => names
            .get(id)
            .cloned()
            .unwrap_or_else(|| "former staff".to_string()),
        Actor::Partner(id) => names
            .get(id)
            .map(|name| format!("{name} (API token)"))
            .unwrap_or_else(|| actor.label().to_string()),
        other => other.label().to_string(),
    }
}

/// The case page; `compose` is the message form as typed (kept across a preview or an
/// error), `None` for a fresh one in the request's language.
pub(super) async fn render_case(
    state: &AppState,
    staff: &Staff,
    reference: String,
    error: Option<String>,
    compose: Option<super::messages::ComposeView>,
) -> Result<HttpResponse, AdminError> {
    let reference = CaseReference::parse(&reference).ok_or(AdminError::NotFound)?;
    let now = state.clock.now().naive_utc();
    let crate::app::cases::Opened {
        detail: d,
        guidance,
        assignees,
        queues,
        duplicates,
        messages,
        reachable_by_mail,
        replies,
        attachments,
        escalation,
    } = crate::app::cases::open(state, staff, reference, now).await?;
    let duplicates = super::duplicates::views(duplicates, &d.case, d.personal.as_ref());
    let names = &d.names;
    let timeline = d
        .timeline
        .iter()
        .map(|e| TimelineEntry {
            when: e.created_at.format("%Y-%m-%d %H:%M").to_string(),
            who: who(&e.actor, names),
            action: e.action.replace('_', " "),
            detail: e.detail.clone(),
        })
        .collect();
    let notes = d
        .notes
        .iter()
        .map(|n| {
            (
                n.created_at.format("%Y-%m-%d %H:%M").to_string(),
                names.get(&n.author_id).cloned().unwrap_or_default(),
                n.body.clone(),
            )
        })
        .collect();
    let status = super::status_for(&error);
    let body = CasePage {
        nav: Nav::of(staff),
        category: d.case.category.label(),
        status: d.case.status.label(),
        source: d.case.source.label(),
        assignee: d
            .case
            .assignee_id
            .as_ref()
            .and_then(|id| names.get(id).cloned())
            .unwrap_or_default(),
        entered_by: d
            .case
            .entered_by
            .as_ref()
            .and_then(|id| names.get(id).cloned())
            .unwrap_or_default(),
        guidance: guidance.map(|g| g.body).unwrap_or_default(),
        timeline,
        notes,
        error,
        assignees: assignees
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect(),
        queues: queues.into_iter().map(|q| (q.slug, q.name)).collect(),
        statuses: Status::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        categories: Category::ALL
            .iter()
            .map(|c| (c.as_str(), c.label()))
            .collect(),
        can_assign_others: staff.can(Permission::AssignOthers),
        duplicates,
        messages: super::messages::items(&messages, names),
        compose: compose.unwrap_or_else(|| super::messages::ComposeView::fresh(d.case.language)),
        reachable_by_mail,
        replies: super::messages::reply_choices(&replies),
        attachments: attachments.iter().map(AttachmentItem::of).collect(),
        paging: escalation.filter(|e| e.is_active()).map(|e| e.pages),
        d,
    }
    .render()?;
    Ok(html(status, body))
}

pub async fn case_page(
    state: web::Data<AppState>,
    staff: Staff,
    reference: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    render_case(&state, &staff, reference.into_inner(), None, None).await
}

/// The case page's action form: which action, and the fields that action reads.
#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    referral_partner: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    queue: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    body: String,
}

/// Reads the action form into a `CaseAction`; what the role may do is the use case's check.
fn parse_action(staff: &Staff, f: &ActionForm) -> Result<CaseAction, String> {
    let given = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    match f.action.trim() {
        "assign_self" => Ok(CaseAction::Assign {
            to: Some(staff.id.clone()),
        }),
        "assign" => Ok(CaseAction::Assign {
            to: given(&f.assignee),
        }),
        "status" => Ok(CaseAction::ChangeStatus {
            to: f
                .status
                .trim()
                .parse()
                .map_err(|_| "choose a status".to_string())?,
            referral_partner: given(&f.referral_partner),
        }),
        "recategorize" => Ok(CaseAction::Recategorize {
            to: f
                .category
                .trim()
                .parse()
                .map_err(|_| "choose a category".to_string())?,
            reason: f.reason.trim().to_string(),
        }),
        "move" => Ok(CaseAction::MoveQueue {
            to: QueueSlug::parse(f.queue.trim()).map_err(|_| "choose a queue".to_string())?,
            reason: f.reason.trim().to_string(),
        }),
        "note" => Ok(CaseAction::AddNote {
            body: f.body.trim().to_string(),
        }),
        _ => Err("unknown action".to_string()),
    }
}

pub async fn case_action(
    state: web::Data<AppState>,
    posted: Posted<need::WorkOwnQueues, ActionForm>,
    reference: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let reference = CaseReference::parse(&reference).ok_or(AdminError::NotFound)?;
    let page = format!("/admin/requests/{reference}");
    let action = match parse_action(&staff, &form) {
        Ok(a) => a,
        Err(msg) => {
            return render_case(&state, &staff, reference.to_string(), Some(msg), None).await
        }
    };
    let now = state.clock.now().naive_utc();
    match crate::app::cases::act(&state, &staff, reference.clone(), action, now).await {
        Ok(()) => Ok(see_other(&page)),
        Err(crate::app::Error::Invalid(msg)) => {
            render_case(&state, &staff, reference.to_string(), Some(msg), None).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---- walk-in requests ----

pub async fn new_request_form(
    staff: Allowed<need::EnterRequests>,
) -> Result<HttpResponse, AdminError> {
    walk_in_form(&staff, FormValues::new(), Vec::new())
}

/// The walk-in form, empty or shown again with what was typed and what is wrong with it.
fn walk_in_form(
    staff: &Staff,
    values: FormValues,
    errors: Vec<crate::domain::FieldError>,
) -> Result<HttpResponse, AdminError> {
    crate::web::pages::render_form_for(
        crate::i18n::Tr::default(),
        None,
        values,
        errors,
        "/admin/requests/new",
        Some(&staff.csrf),
    )
    .map_err(|e| AdminError::Internal(anyhow::anyhow!("{e}")))
}

pub async fn create_request(
    state: web::Data<AppState>,
    posted: Posted<need::EnterRequests, FormValues>,
) -> Result<HttpResponse, AdminError> {
    let Posted {
        staff,
        form: values,
        ..
    } = posted;
    let now = state.clock.now();
    let mut request =
        match crate::web::pages::parse_form(&values, Source::StaffEntered, now.date_naive()) {
            Ok(r) => r,
            Err(errors) => return walk_in_form(&staff, values, errors),
        };
    request.entered_by = Some(staff.id.clone());
    let created = crate::app::intake::submit(&state, vec![request], staff.actor(), None, now)
        .await
        .map_err(|e| AdminError::Internal(e.into()))?
        .remove(0);
    Ok(see_other(&format!(
        "/admin/requests/{}",
        created.row.reference
    )))
}

// ---- CSV export ----

pub async fn export_csv(
    state: web::Data<AppState>,
    staff: Allowed<need::ExportCases>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AdminError> {
    let query = query.into_inner();
    let now = state.clock.now().naive_utc();
    let filter = query.filter(&staff, now);
    let order = query.order();
    let description = query.query_string(None);
    let rx = crate::app::cases::export(
        &state,
        &staff,
        query.queue.clone(),
        filter,
        order,
        description,
    )?;
    Ok(super::csv_download(rx, "cases.csv"))
}
