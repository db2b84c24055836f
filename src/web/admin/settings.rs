//! Settings screens: staff accounts and roles (admin), queues and their notification
//! addresses (admin), routing rules with a test preview and standard guidance (lead, admin).

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Utc;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

use super::auth::{check_new_password, hash_password};
use super::{need, see_other, status_for, AdminError, Allowed, Nav, Posted, Staff};
use crate::app::settings::QueueSettings;
use crate::app::users::{NewUser, UserChange};
use crate::app::Error;
use crate::domain::fields::ContactEmail;
use crate::domain::staff::Role;
use crate::domain::vocab::Location;
use crate::domain::{Category, Priority, QueueSlug, RoutingFacts, RoutingRule, Source};
use crate::web::errors::html;
use crate::web::AppState;

// ---- users ----

pub struct UserItem {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: &'static str,
    pub active: bool,
    pub queues: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    nav: Nav,
    users: Vec<UserItem>,
    roles: Vec<(&'static str, &'static str)>,
    queues: Vec<(String, String)>,
    error: Option<String>,
    form: UserForm,
}

/// What the user forms send: a new account's name and email, and for new and existing
/// accounts the role, a password, `active`, and a `queue:{slug}` box per queue worked.
#[derive(Default, Deserialize)]
pub struct UserForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    active: String,
    #[serde(flatten)]
    queues: ChosenQueues,
}

/// The queues whose `queue:{slug}` box was ticked, sorted.
#[derive(Default)]
struct ChosenQueues(Vec<String>);

impl<'de> Deserialize<'de> for ChosenQueues {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let fields = BTreeMap::<String, String>::deserialize(d)?;
        Ok(ChosenQueues(
            fields
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .filter_map(|(k, _)| k.strip_prefix("queue:").map(str::to_string))
                .collect(),
        ))
    }
}

async fn users_page(
    state: &AppState,
    staff: &Staff,
    error: Option<String>,
    form: UserForm,
) -> Result<HttpResponse, AdminError> {
    let (users, queues) = crate::app::users::list(state, staff).await?;
    let status = status_for(&error);
    let body = UsersPage {
        nav: Nav::of(staff),
        users: users
            .into_iter()
            .map(|(u, queues)| UserItem {
                role: u.role.as_str(),
                id: u.id,
                email: u.email,
                name: u.display_name,
                active: u.active,
                queues,
            })
            .collect(),
        roles: Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect(),
        queues: queues.into_iter().map(|q| (q.slug, q.name)).collect(),
        error,
        form,
    }
    .render()?;
    Ok(html(status, body))
}

pub async fn users(
    state: web::Data<AppState>,
    staff: Allowed<need::ManageUsers>,
) -> Result<HttpResponse, AdminError> {
    users_page(&state, &staff, None, UserForm::default()).await
}

/// The argon2 hash of `password`, made on the blocking pool.
async fn hashed(password: String) -> Result<String, AdminError> {
    web::block(move || hash_password(&password))
        .await
        .map_err(|e| AdminError::Internal(e.into()))?
}

pub async fn create_user(
    state: web::Data<AppState>,
    posted: Posted<need::ManageUsers, UserForm>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let Ok(role) = form.role.trim().parse::<Role>() else {
        return users_page(&state, &staff, Some("choose a role".into()), form).await;
    };
    let password = form.password.trim().to_string();
    if let Err(msg) = check_new_password(&password, &password) {
        return users_page(&state, &staff, Some(msg.to_string()), form).await;
    }
    let new = NewUser {
        email: form.email.trim().to_string(),
        name: form.name.trim().to_string(),
        role,
        password_hash: hashed(password).await?,
        queues: form.queues.0.clone(),
    };
    let now = Utc::now().naive_utc();
    match crate::app::users::create(&state, &staff, new, now).await {
        Ok(()) => Ok(see_other("/admin/users")),
        Err(Error::Invalid(msg)) => users_page(&state, &staff, Some(msg), form).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn update_user(
    state: web::Data<AppState>,
    posted: Posted<need::ManageUsers, UserForm>,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let id = id.into_inner();
    let role: Role = form
        .role
        .trim()
        .parse()
        .map_err(|_| AdminError::Invalid("choose a role".into()))?;
    let active = !form.active.trim().is_empty();
    let again = |msg: String| users_page(&state, &staff, Some(msg), UserForm::default());
    match crate::app::users::keeps_own_access(&staff, &id, role, active) {
        Ok(()) => {}
        Err(Error::Invalid(msg)) => return again(msg).await,
        Err(e) => return Err(e.into()),
    }
    let password = form.password.trim().to_string();
    let password_hash = if password.is_empty() {
        None
    } else {
        if let Err(msg) = check_new_password(&password, &password) {
            return again(msg.to_string()).await;
        }
        Some(hashed(password).await?)
    };
    let change = UserChange {
        role,
        active,
        password_hash,
        queues: form.queues.0,
    };
    let now = Utc::now().naive_utc();
    match crate::app::users::update(&state, &staff, id, change, now).await {
        Ok(()) => Ok(see_other("/admin/users")),
        Err(Error::Invalid(msg)) => again(msg).await,
        Err(e) => Err(e.into()),
    }
}

// ---- routing rules ----

pub struct RuleItem {
    pub id: String,
    pub position: i32,
    pub name: String,
    pub category: String,
    pub priority: String,
    pub source: String,
    pub location: String,
    pub sender_domain: String,
    pub queue: String,
    pub enabled: bool,
}

#[derive(Template)]
#[template(path = "admin/rules.html")]
struct RulesPage {
    nav: Nav,
    rules: Vec<RuleItem>,
    queues: Vec<(String, String)>,
    categories: Vec<(&'static str, &'static str)>,
    priorities: Vec<(&'static str, &'static str)>,
    sources: Vec<(&'static str, &'static str)>,
    locations: Vec<(&'static str, &'static str)>,
    error: Option<String>,
    test: RuleForm,
    test_result: Option<String>,
}

impl RulesPage {
    fn tested(&self, key: &str, value: &str) -> bool {
        let sent = match key {
            "category" => &self.test.category,
            "priority" => &self.test.priority,
            "source" => &self.test.source,
            "location" => &self.test.location,
            _ => return false,
        };
        sent == value
    }
}

/// What the rule forms send: a rule to save, or (its conditions only) a sample request
/// to test the rules against.
#[derive(Default, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    sender_domain: String,
    #[serde(default)]
    queue: String,
    #[serde(default)]
    enabled: String,
}

async fn rules_page(
    state: &AppState,
    staff: &Staff,
    error: Option<String>,
    test: RuleForm,
    test_result: Option<String>,
) -> Result<HttpResponse, AdminError> {
    let (rules, queues) = crate::app::settings::rules(state, staff).await?;
    let status = status_for(&error);
    let body = RulesPage {
        nav: Nav::of(staff),
        rules: rules
            .into_iter()
            .map(|r| RuleItem {
                id: r.id,
                position: r.position,
                name: r.name,
                category: r.category.map(|c| c.to_string()).unwrap_or_default(),
                priority: r.priority.map(|p| p.to_string()).unwrap_or_default(),
                source: r.source.map(|s| s.to_string()).unwrap_or_default(),
                location: r.location.map(|l| l.to_string()).unwrap_or_default(),
                sender_domain: r.sender_domain.unwrap_or_default(),
                queue: r.queue_slug,
                enabled: r.enabled,
            })
            .collect(),
        queues: queues.into_iter().map(|q| (q.slug, q.name)).collect(),
        categories: Category::ALL
            .iter()
            .map(|c| (c.as_str(), c.label()))
            .collect(),
        priorities: Priority::ALL
            .iter()
            .map(|p| (p.as_str(), p.label()))
            .collect(),
        sources: Source::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        locations: Location::ALL
            .iter()
            .map(|l| (l.as_str(), l.label()))
            .collect(),
        error,
        test,
        test_result,
    }
    .render()?;
    Ok(html(status, body))
}

pub async fn rules(
    state: web::Data<AppState>,
    staff: Allowed<need::ManageRules>,
) -> Result<HttpResponse, AdminError> {
    rules_page(&state, &staff, None, RuleForm::default(), None).await
}

/// An optional condition sent as field `k`: empty means "any".
fn condition<T: std::str::FromStr>(raw: &str, k: &str) -> Result<Option<T>, String> {
    let v = raw.trim();
    if v.is_empty() {
        return Ok(None);
    }
    v.parse()
        .map(Some)
        .map_err(|_| format!("{k}: choose one of the options"))
}

fn parse_rule(f: &RuleForm) -> Result<RoutingRule, String> {
    let id = Some(f.id.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let position = f.position.trim().parse::<i32>().map_err(|_| {
        "position: give a whole number; lower numbers are checked first".to_string()
    })?;
    let name = f.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        return Err("name: give the rule a short name".into());
    }
    Ok(RoutingRule {
        id,
        position,
        name,
        category: condition(&f.category, "category")?,
        priority: condition(&f.priority, "priority")?,
        source: condition(&f.source, "source")?,
        location: condition(&f.location, "location")?,
        sender_domain: RoutingRule::parse_sender_domain(&f.sender_domain)?,
        queue: QueueSlug::parse(f.queue.trim()).map_err(|_| "queue: choose a queue".to_string())?,
        enabled: !f.enabled.trim().is_empty(),
    })
}

type RuleFormPosted = Posted<need::ManageRules, RuleForm>;

pub async fn save_rule(
    state: web::Data<AppState>,
    posted: RuleFormPosted,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let again = |msg: String| rules_page(&state, &staff, Some(msg), RuleForm::default(), None);
    let rule = match parse_rule(&form) {
        Ok(r) => r,
        Err(msg) => return again(msg).await,
    };
    let now = Utc::now().naive_utc();
    match crate::app::settings::save_rule(&state, &staff, rule, now).await {
        Ok(()) => Ok(see_other("/admin/rules")),
        Err(Error::Invalid(msg)) => again(msg).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn delete_rule(
    state: web::Data<AppState>,
    posted: RuleFormPosted,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, .. } = posted;
    let now = Utc::now().naive_utc();
    crate::app::settings::delete_rule(&state, &staff, id.into_inner(), now).await?;
    Ok(see_other("/admin/rules"))
}

/// "Test this rule set against a sample request": which rule wins and where it goes.
pub async fn test_rule(
    state: web::Data<AppState>,
    posted: RuleFormPosted,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let facts = (|| -> Result<RoutingFacts, String> {
        Ok(RoutingFacts {
            category: condition(&form.category, "category")?.ok_or("category: choose one")?,
            priority: condition(&form.priority, "priority")?.ok_or("priority: choose one")?,
            source: condition(&form.source, "source")?.ok_or("source: choose one")?,
            location: condition(&form.location, "location")?.ok_or("location: choose one")?,
            sender_domain: RoutingRule::parse_sender_domain(&form.sender_domain)?,
        })
    })();
    let facts = match facts {
        Ok(f) => f,
        Err(msg) => return rules_page(&state, &staff, Some(msg), form, None).await,
    };
    let d = crate::app::settings::test_rules(&state, &staff, facts).await?;
    let result = match d.rule_name {
        Some(name) => format!("Goes to queue \"{}\" by rule \"{name}\".", d.queue.as_str()),
        None => format!(
            "No rule matches: goes to the default queue \"{}\".",
            d.queue.as_str()
        ),
    };
    rules_page(&state, &staff, None, form, Some(result)).await
}

// ---- guidance ----

#[derive(Template)]
#[template(path = "admin/guidance.html")]
struct GuidancePage {
    nav: Nav,
    items: Vec<(&'static str, &'static str, String, String)>,
    error: Option<String>,
}

async fn guidance_page(
    state: &AppState,
    staff: &Staff,
    error: Option<String>,
) -> Result<HttpResponse, AdminError> {
    let rows = crate::app::settings::guidance(state, staff).await?;
    let items = Category::ALL
        .iter()
        .map(|c| {
            let row = rows.iter().find(|r| r.category == *c);
            (
                c.as_str(),
                c.label(),
                row.map(|r| r.body.clone()).unwrap_or_default(),
                row.map(|r| r.next_steps.clone()).unwrap_or_default(),
            )
        })
        .collect();
    let status = status_for(&error);
    Ok(html(
        status,
        GuidancePage {
            nav: Nav::of(staff),
            items,
            error,
        }
        .render()?,
    ))
}

pub async fn guidance(
    state: web::Data<AppState>,
    staff: Allowed<need::ManageRules>,
) -> Result<HttpResponse, AdminError> {
    guidance_page(&state, &staff, None).await
}

/// What the guidance form sends: the category, its guidance text and its next steps.
#[derive(Deserialize)]
pub struct GuidanceForm {
    #[serde(default)]
    category: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    next_steps: String,
}

pub async fn save_guidance(
    state: web::Data<AppState>,
    posted: Posted<need::ManageRules, GuidanceForm>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let category: Category = match form.category.trim().parse() {
        Ok(c) => c,
        Err(_) => return guidance_page(&state, &staff, Some("unknown category".into())).await,
    };
    let (body, next) = (
        form.body.trim().to_string(),
        form.next_steps.trim().to_string(),
    );
    let now = Utc::now().naive_utc();
    match crate::app::settings::save_guidance(&state, &staff, category, body, next, now).await {
        Ok(()) => Ok(see_other("/admin/guidance")),
        Err(Error::Invalid(msg)) => guidance_page(&state, &staff, Some(msg)).await,
        Err(e) => Err(e.into()),
    }
}

// ---- queues ----

#[derive(Template)]
#[template(path = "admin/queue_settings.html")]
struct QueueSettingsPage {
    nav: Nav,
    queues: Vec<crate::db::models::QueueRow>,
    error: Option<String>,
}

async fn queues_page(
    state: &AppState,
    staff: &Staff,
    error: Option<String>,
) -> Result<HttpResponse, AdminError> {
    let queues = crate::app::settings::queues(state, staff).await?;
    let status = status_for(&error);
    Ok(html(
        status,
        QueueSettingsPage {
            nav: Nav::of(staff),
            queues,
            error,
        }
        .render()?,
    ))
}

pub async fn queues(
    state: web::Data<AppState>,
    staff: Allowed<need::ManageQueues>,
) -> Result<HttpResponse, AdminError> {
    queues_page(&state, &staff, None).await
}

/// Comma- or line-separated addresses, each checked.
fn parse_addresses(raw: &str) -> Result<String, String> {
    let mut out = Vec::new();
    for part in raw
        .split([',', '\n', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let email =
            ContactEmail::parse(part).map_err(|_| format!("\"{part}\" is not an email address"))?;
        out.push(email.as_str().to_string());
    }
    Ok(out.join(","))
}

/// What the queue form sends.
#[derive(Deserialize)]
pub struct QueueForm {
    #[serde(default)]
    slug: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    notify_emails: String,
}

/// The queue as the form describes it, or the message saying what to correct.
fn parse_queue(form: &QueueForm) -> Result<QueueSettings, String> {
    let slug = QueueSlug::parse(form.slug.trim()).map_err(|msg| format!("short name {msg}"))?;
    let name = form.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err("give the queue a name".into());
    }
    Ok(QueueSettings {
        slug,
        name,
        description: form.description.trim().to_string(),
        notify_emails: parse_addresses(form.notify_emails.trim())?,
    })
}

pub async fn save_queue(
    state: web::Data<AppState>,
    posted: Posted<need::ManageQueues, QueueForm>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let queue = match parse_queue(&form) {
        Ok(q) => q,
        Err(msg) => return queues_page(&state, &staff, Some(msg)).await,
    };
    let now = Utc::now().naive_utc();
    crate::app::settings::save_queue(&state, &staff, queue, now).await?;
    Ok(see_other("/admin/queue-settings"))
}
