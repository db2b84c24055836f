//! The settings leads and admins edit: routing rules (and a test of where a sample request
//! would go), standard guidance per category, and queues with their notification addresses.
//! Every change is audited and makes intake read its setup afresh.

use chrono::NaiveDateTime;

use super::staff::Staff;
use super::{audited, require, AppState, Error, Result};
use crate::db;
use crate::db::models::{GuidanceRow, QueueRow, RoutingRuleRow};
use crate::domain::staff::Permission;
use crate::domain::{route, Category, QueueSlug, RoutingDecision, RoutingFacts, RoutingRule};

/// The routing rules in the order they are checked, and every queue.
pub async fn rules(app: &AppState, staff: &Staff) -> Result<(Vec<RoutingRuleRow>, Vec<QueueRow>)> {
    require(staff, Permission::ManageRules)?;
    Ok(db::run(&app.pool, |conn| {
        Ok((db::settings::rule_rows(conn)?, db::queues::all(conn)?))
    })
    .await?)
}

/// Saves `rule` (new or changed); its queue must exist.
pub async fn save_rule(
    app: &AppState,
    staff: &Staff,
    rule: RoutingRule,
    now: NaiveDateTime,
) -> Result<()> {
    require(staff, Permission::ManageRules)?;
    let actor = staff.actor();
    let detail = format!(
        "{} (position {}) -> {}",
        rule.name,
        rule.position,
        rule.queue.as_str()
    );
    let saved = db::run(&app.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            if db::queues::all(conn)?
                .iter()
                .all(|q| q.slug != rule.queue.as_str())
            {
                return Ok(false);
            }
            db::settings::save_rule(conn, &rule, now)?;
            db::cases::audit(conn, None, &actor, "rule_saved", detail, now)?;
            Ok(true)
        })
    })
    .await?;
    if !saved {
        return Err(Error::Invalid("queue: that queue does not exist".into()));
    }
    app.intake.forget_setup();
    Ok(())
}

/// Deletes rule `id` (audited when there was one).
pub async fn delete_rule(
    app: &AppState,
    staff: &Staff,
    id: String,
    now: NaiveDateTime,
) -> Result<()> {
    require(staff, Permission::ManageRules)?;
    let actor = staff.actor();
    db::run(&app.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            if db::settings::delete_rule(conn, &id)? > 0 {
                db::cases::audit(conn, None, &actor, "rule_deleted", id.clone(), now)?;
            }
            Ok(())
        })
    })
    .await?;
    app.intake.forget_setup();
    Ok(())
}

/// Where a request with `facts` would go under the rules as they are now.
pub async fn test_rules(
    app: &AppState,
    staff: &Staff,
    facts: RoutingFacts,
) -> Result<RoutingDecision> {
    require(staff, Permission::ManageRules)?;
    let (rules, default_queue) =
        db::run(&app.pool, |conn| db::requests::routing_table(conn)).await?;
    Ok(route(&rules, &facts, &default_queue))
}

/// The standard guidance saved so far (not every category need have some).
pub async fn guidance(app: &AppState, staff: &Staff) -> Result<Vec<GuidanceRow>> {
    require(staff, Permission::ManageRules)?;
    Ok(db::run(&app.pool, |conn| db::settings::guidance_rows(conn)).await?)
}

/// Saves the guidance and next steps sent with cases of `category`.
pub async fn save_guidance(
    app: &AppState,
    staff: &Staff,
    category: Category,
    body: String,
    next_steps: String,
    now: NaiveDateTime,
) -> Result<()> {
    require(staff, Permission::ManageRules)?;
    if body.is_empty()
        || next_steps.is_empty()
        || body.chars().count() > 5000
        || next_steps.chars().count() > 2000
    {
        return Err(Error::Invalid(
            "both texts are needed (guidance up to 5,000 characters, next steps up to 2,000)"
                .into(),
        ));
    }
    let actor = staff.actor();
    let detail = category.as_str().to_string();
    db::run(&app.pool, move |conn| {
        audited(conn, &actor, "guidance_saved", detail, now, |conn| {
            db::settings::save_guidance(conn, category.as_str(), &body, &next_steps, now)
        })
    })
    .await?;
    app.intake.forget_setup();
    Ok(())
}

/// Every queue with its settings.
pub async fn queues(app: &AppState, staff: &Staff) -> Result<Vec<QueueRow>> {
    require(staff, Permission::ManageQueues)?;
    Ok(db::run(&app.pool, |conn| db::queues::all(conn)).await?)
}

/// A queue as an admin set it: checked name, addresses joined by commas.
pub struct QueueSettings {
    pub slug: QueueSlug,
    pub name: String,
    pub description: String,
    pub notify_emails: String,
}

/// Creates queue `q.slug`, or changes its name, description and addresses.
pub async fn save_queue(
    app: &AppState,
    staff: &Staff,
    q: QueueSettings,
    now: NaiveDateTime,
) -> Result<()> {
    require(staff, Permission::ManageQueues)?;
    let actor = staff.actor();
    let detail = q.slug.as_str().to_string();
    db::run(&app.pool, move |conn| {
        audited(conn, &actor, "queue_saved", detail, now, |conn| {
            db::settings::save_queue(
                conn,
                q.slug.as_str(),
                &q.name,
                &q.description,
                &q.notify_emails,
                now,
            )
        })
    })
    .await?;
    app.intake.forget_setup();
    Ok(())
}
