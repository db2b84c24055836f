//! Settings screens: staff accounts and roles (admin), queues and their notification
//! addresses (admin), routing rules with a test preview and standard guidance (lead, admin).

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Utc;
use std::collections::HashMap;

use super::auth::{
    check_new_password, create_user as create_account, hash_password, CreateUserError,
};
use super::{audited, see_other, status_for, AdminError, Nav, Staff};
use crate::db;
use crate::domain::fields::ContactEmail;
use crate::domain::staff::{Permission, Role};
use crate::domain::vocab::Location;
use crate::domain::{route, Category, Priority, QueueSlug, RoutingFacts, RoutingRule, Source};
use crate::web::errors::html;
use crate::web::AppState;

type Form = web::Form<HashMap<String, String>>;

fn field(f: &HashMap<String, String>, k: &str) -> String {
    f.get(k).map(|s| s.trim().to_string()).unwrap_or_default()
}

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
    form: HashMap<String, String>,
}

async fn users_page(
    state: &AppState,
    staff: &Staff,
    error: Option<String>,
    form: HashMap<String, String>,
) -> Result<HttpResponse, AdminError> {
    let (users, queues) = db::run(&state.pool, |conn| {
        let users = db::staff::list(conn)?;
        let mut items = Vec::new();
        for u in users {
            let queues = db::staff::memberships(conn, &u.id)?;
            items.push((u, queues));
        }
        Ok((items, db::queues::all(conn)?))
    })
    .await?;
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

pub async fn users(state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ManageUsers)?;
    users_page(&state, &staff, None, HashMap::new()).await
}

fn chosen_queues(f: &HashMap<String, String>) -> Vec<String> {
    let mut qs: Vec<String> = f
        .iter()
        .filter(|(k, v)| k.starts_with("queue:") && !v.is_empty())
        .map(|(k, _)| k["queue:".len()..].to_string())
        .collect();
    qs.sort();
    qs
}

pub async fn create_user(
    state: web::Data<AppState>,
    staff: Staff,
    form: Form,
) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ManageUsers)?;
    staff.check_csrf(&form)?;
    let f = form.into_inner();
    let role: Role = match field(&f, "role").parse() {
        Ok(r) => r,
        Err(_) => return users_page(&state, &staff, Some("choose a role".into()), f).await,
    };
    let password = field(&f, "password");
    if let Err(msg) = check_new_password(&password, &password) {
        return users_page(&state, &staff, Some(msg.to_string()), f).await;
    }
    let hash = web::block(move || hash_password(&password))
        .await
        .map_err(|e| AdminError::Internal(e.into()))??;
    let (email, name, queues) = (field(&f, "email"), field(&f, "name"), chosen_queues(&f));
    let actor = staff.actor();
    let now = Utc::now().naive_utc();
    let result = db::run(&state.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            match create_account(conn, &email, &name, role, hash, now) {
                Ok(user) => {
                    db::staff::set_memberships(conn, &user.id, &queues)?;
                    db::cases::audit(
                        conn,
                        None,
                        &actor,
                        "user_created",
                        format!("{} as {}", user.display_name, role.as_str()),
                        now,
                    )?;
                    Ok(Ok(()))
                }
                Err(CreateUserError::Db(e)) => Err(e),
                Err(e) => Ok(Err(e.to_string())),
            }
        })
    })
    .await?;
    match result {
        Ok(()) => Ok(see_other("/admin/users")),
        Err(msg) => users_page(&state, &staff, Some(msg), f).await,
    }
}

pub async fn update_user(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ManageUsers)?;
    staff.check_csrf(&form)?;
    let f = form.into_inner();
    let id = id.into_inner();
    let role: Role = field(&f, "role")
        .parse()
        .map_err(|_| AdminError::Invalid("choose a role".into()))?;
    let active = !field(&f, "active").is_empty();
    if id == staff.id && (!active || role != Role::Admin) {
        return users_page(
            &state,
            &staff,
            Some("you cannot remove your own admin access".into()),
            HashMap::new(),
        )
        .await;
    }
    let password = field(&f, "password");
    let hash = if password.is_empty() {
        None
    } else {
        if let Err(msg) = check_new_password(&password, &password) {
            return users_page(&state, &staff, Some(msg.to_string()), HashMap::new()).await;
        }
        Some(
            web::block(move || hash_password(&password))
                .await
                .map_err(|e| AdminError::Internal(e.into()))??,
        )
    };
    let queues = chosen_queues(&f);
    let actor = staff.actor();
    let now = Utc::now().naive_utc();
    let found = db::run(&state.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let Some(user) = db::staff::find(conn, &id)? else {
                return Ok(false);
            };
            db::staff::update_role_and_status(conn, &id, role.as_str(), active)?;
            db::staff::set_memberships(conn, &id, &queues)?;
            if let Some(hash) = &hash {
                db::staff::set_password(conn, &id, hash)?;
            }
            if !active || hash.is_some() || user.role != role {
                // A changed account logs in again with what it may now do.
                db::staff::delete_user_sessions(conn, &id)?;
            }
            db::cases::audit(
                conn,
                None,
                &actor,
                "user_updated",
                format!(
                    "{}: role {}, {}{}, queues [{}]",
                    user.display_name,
                    role.as_str(),
                    if active { "active" } else { "deactivated" },
                    if hash.is_some() {
                        ", password reset"
                    } else {
                        ""
                    },
                    queues.join(", ")
                ),
                now,
            )?;
            Ok(true)
        })
    })
    .await?;
    if found {
        Ok(see_other("/admin/users"))
    } else {
        Err(AdminError::NotFound)
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
    test: HashMap<String, String>,
    test_result: Option<String>,
}

impl RulesPage {
    fn tested(&self, key: &str, value: &str) -> bool {
        self.test.get(key).map(String::as_str) == Some(value)
    }
}

async fn rules_page(
    state: &AppState,
    staff: &Staff,
    error: Option<String>,
    test: HashMap<String, String>,
    test_result: Option<String>,
) -> Result<HttpResponse, AdminError> {
    let (rules, queues) = db::run(&state.pool, |conn| {
        Ok((db::settings::rule_rows(conn)?, db::queues::all(conn)?))
    })
    .await?;
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

pub async fn rules(state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ManageRules)?;
    rules_page(&state, &staff, None, HashMap::new(), None).await
}

/// An optional condition: empty means "any".
fn condition<T: std::str::FromStr>(
    f: &HashMap<String, String>,
    k: &str,
) -> Result<Option<T>, String> {
    let v = field(f, k);
    if v.is_empty() {
        return Ok(None);
    }
    v.parse()
        .map(Some)
        .map_err(|_| format!("{k}: choose one of the options"))
}

fn parse_rule(f: &HashMap<String, String>) -> Result<RoutingRule, String> {
    let id = Some(field(f, "id"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let position = field(f, "position").parse::<i32>().map_err(|_| {
        "position: give a whole number; lower numbers are checked first".to_string()
    })?;
    let name = field(f, "name");
    if name.is_empty() || name.chars().count() > 200 {
        return Err("name: give the rule a short name".into());
    }
    Ok(RoutingRule {
        id,
        position,
        name,
        category: condition(f, "category")?,
        priority: condition(f, "priority")?,
        source: condition(f, "source")?,
        location: condition(f, "location")?,
        queue: QueueSlug::parse(&field(f, "queue"))
            .map_err(|_| "queue: choose a queue".to_string())?,
        enabled: !field(f, "enabled").is_empty(),
    })
}

pub async fn save_rule(
    state: web::Data<AppState>,
    staff: Staff,
    form: Form,
) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ManageRules)?;
    staff.check_csrf(&form)?;
    let rule = match parse_rule(&form) {
        Ok(r) => r,
        Err(msg) => return rules_page(&state, &staff, Some(msg), HashMap::new(), None).await,
    };
    let actor = staff.actor();
    let now = Utc::now().naive_utc();
    let saved = db::run(&state.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            if db::queues::all(conn)?
                .iter()
                .all(|q| q.slug != rule.queue.as_str())
            {
                return Ok(false);
            }
            db::settings::save_rule(conn, &rule, now)?;
            db::cases::audit(
                conn,
                None,
                &actor,
                "rule_saved",
                format!(
                    "{} (position {}) -> {}",
                    rule.name,
                    rule.position,
                    rule.queue.as_str()
                ),
                now,
            )?;
            Ok(true)
        })
    })
    .await?;
    if saved {
        state.intake.forget_setup();
        Ok(see_other("/admin/rules"))
    } else {
        rules_page(
            &state,
            &staff,
            Some("queue: that queue does not exist".into()),
            HashMap::new(),
            None,
        )
        .await
    }
}

pub async fn delete_rule(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ManageRules)?;
    staff.check_csrf(&form)?;
    let actor = staff.actor();
    let id = id.into_inner();
    let now = Utc::now().naive_utc();
    db::run(&state.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            if db::settings::delete_rule(conn, &id)? > 0 {
                db::cases::audit(conn, None, &actor, "rule_deleted", id.clone(), now)?;
            }
            Ok(())
        })
    })
    .await?;
    state.intake.forget_setup();
    Ok(see_other("/admin/rules"))
}

/// "Test this rule set against a sample request": which rule wins and where it goes.
pub async fn test_rule(
    state: web::Data<AppState>,
    staff: Staff,
    form: Form,
) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ManageRules)?;
    staff.check_csrf(&form)?;
    let f = form.into_inner();
    let facts = (|| -> Result<RoutingFacts, String> {
        Ok(RoutingFacts {
            category: condition(&f, "category")?.ok_or("category: choose one")?,
            priority: condition(&f, "priority")?.ok_or("priority: choose one")?,
            source: condition(&f, "source")?.ok_or("source: choose one")?,
            location: condition(&f, "location")?.ok_or("location: choose one")?,
        })
    })();
    let facts = match facts {
        Ok(f) => f,
        Err(msg) => return rules_page(&state, &staff, Some(msg), f, None).await,
    };
    let (rules, default_queue) = db::run(&state.pool, db::requests::routing_table).await?;
    let d = route(&rules, &facts, &default_queue);
    let result = match d.rule_name {
        Some(name) => format!("Goes to queue \"{}\" by rule \"{name}\".", d.queue.as_str()),
        None => format!(
            "No rule matches: goes to the default queue \"{}\".",
            d.queue.as_str()
        ),
    };
    rules_page(&state, &staff, None, f, Some(result)).await
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
    let rows = db::run(&state.pool, db::settings::guidance_rows).await?;
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
    staff: Staff,
) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ManageRules)?;
    guidance_page(&state, &staff, None).await
}

pub async fn save_guidance(
    state: web::Data<AppState>,
    staff: Staff,
    form: Form,
) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ManageRules)?;
    staff.check_csrf(&form)?;
    let category: Category = match field(&form, "category").parse() {
        Ok(c) => c,
        Err(_) => return guidance_page(&state, &staff, Some("unknown category".into())).await,
    };
    let (body, next) = (field(&form, "body"), field(&form, "next_steps"));
    if body.is_empty()
        || next.is_empty()
        || body.chars().count() > 5000
        || next.chars().count() > 2000
    {
        return guidance_page(
            &state,
            &staff,
            Some(
                "both texts are needed (guidance up to 5,000 characters, next steps up to 2,000)"
                    .into(),
            ),
        )
        .await;
    }
    let now = Utc::now().naive_utc();
    audited(
        &state,
        &staff,
        "guidance_saved",
        category.as_str().to_string(),
        move |conn| db::settings::save_guidance(conn, category.as_str(), &body, &next, now),
    )
    .await?;
    state.intake.forget_setup();
    Ok(see_other("/admin/guidance"))
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
    let queues = db::run(&state.pool, db::queues::all).await?;
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

pub async fn queues(state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ManageQueues)?;
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

pub async fn save_queue(
    state: web::Data<AppState>,
    staff: Staff,
    form: Form,
) -> Result<HttpResponse, AdminError> {
    staff.require(Permission::ManageQueues)?;
    staff.check_csrf(&form)?;
    let slug = match QueueSlug::parse(&field(&form, "slug")) {
        Ok(s) => s,
        Err(msg) => return queues_page(&state, &staff, Some(format!("short name {msg}"))).await,
    };
    let name = field(&form, "name");
    if name.is_empty() || name.chars().count() > 100 {
        return queues_page(&state, &staff, Some("give the queue a name".into())).await;
    }
    let emails = match parse_addresses(&field(&form, "notify_emails")) {
        Ok(e) => e,
        Err(msg) => return queues_page(&state, &staff, Some(msg)).await,
    };
    let description = field(&form, "description");
    let now = Utc::now().naive_utc();
    let detail = slug.as_str().to_string();
    audited(&state, &staff, "queue_saved", detail, move |conn| {
        db::settings::save_queue(conn, slug.as_str(), &name, &description, &emails, now)
    })
    .await?;
    state.intake.forget_setup();
    Ok(see_other("/admin/queue-settings"))
}
