//! What the lead and admins edit: routing rules, standard guidance, queues.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{GuidanceRow, RoutingRuleRow};
use super::schema::{guidance, queues, routing_rules};
use super::{DbConnection, DbError};
use crate::domain::RoutingRule;

pub fn rule_rows(conn: &mut DbConnection) -> Result<Vec<RoutingRuleRow>, DbError> {
    Ok(routing_rules::table
        .order((routing_rules::position, routing_rules::id))
        .select(RoutingRuleRow::as_select())
        .load(conn)?)
}

/// Inserts the rule, or replaces the one with the same id.
pub fn save_rule(
    conn: &mut DbConnection,
    r: &RoutingRule,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let values = (
        routing_rules::position.eq(r.position),
        routing_rules::name.eq(&r.name),
        routing_rules::category.eq(r.category.map(|c| c.as_str())),
        routing_rules::priority.eq(r.priority.map(|p| p.as_str())),
        routing_rules::source.eq(r.source.map(|s| s.as_str())),
        routing_rules::location.eq(r.location.map(|l| l.as_str())),
        routing_rules::sender_domain.eq(r.sender_domain.as_deref()),
        routing_rules::queue_slug.eq(r.queue.as_str()),
        routing_rules::enabled.eq(r.enabled),
    );
    let updated = diesel::update(routing_rules::table.find(&r.id))
        .set(values)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(routing_rules::table)
            .values((
                routing_rules::id.eq(&r.id),
                values,
                routing_rules::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn delete_rule(conn: &mut DbConnection, id: &str) -> Result<usize, DbError> {
    Ok(diesel::delete(routing_rules::table.find(id)).execute(conn)?)
}

pub fn guidance_rows(conn: &mut DbConnection) -> Result<Vec<GuidanceRow>, DbError> {
    Ok(guidance::table
        .select(GuidanceRow::as_select())
        .load(conn)?)
}

pub fn save_guidance(
    conn: &mut DbConnection,
    category: &str,
    body: &str,
    next_steps: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let updated = diesel::update(guidance::table.find(category))
        .set((
            guidance::body.eq(body),
            guidance::next_steps.eq(next_steps),
            guidance::updated_at.eq(now),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(guidance::table)
            .values((
                guidance::category.eq(category),
                guidance::body.eq(body),
                guidance::next_steps.eq(next_steps),
                guidance::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Creates the queue, or updates name, description and addresses of an existing one.
pub fn save_queue(
    conn: &mut DbConnection,
    slug: &str,
    name: &str,
    description: &str,
    notify_emails: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let updated = diesel::update(queues::table.find(slug))
        .set((
            queues::name.eq(name),
            queues::description.eq(description),
            queues::notify_emails.eq(notify_emails),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(queues::table)
            .values((
                queues::slug.eq(slug),
                queues::name.eq(name),
                queues::description.eq(description),
                queues::notify_emails.eq(notify_emails),
                queues::is_default.eq(false),
                queues::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}
