//! The audit log for admins and leads (`ViewAuditLog`): who read or changed what and when,
//! newest first, filtered by actor, action and date, keyset-paged, and exported as a
//! streamed CSV (the export itself goes on the record).

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{NaiveDate, NaiveTime};
use serde::Deserialize;
use std::collections::HashMap;

use super::cases::who;
use super::{need, page, AdminError, Allowed, Nav};
use crate::app::audit::names_of;
use crate::db::audit::{AuditEntry, AuditFilter};
use crate::db::cases::Cursor;
use crate::domain::Actor;
use crate::web::AppState;

pub const PAGE_SIZE: i64 = 100;

/// The filters as they appear in the query string.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    /// First day shown (YYYY-MM-DD, UTC).
    pub from: Option<String>,
    /// Last day shown, inclusive.
    pub to: Option<String>,
    pub after: Option<String>,
}

impl AuditQuery {
    fn filter(&self) -> Result<AuditFilter, AdminError> {
        let some = |o: &Option<String>| o.clone().filter(|s| !s.trim().is_empty());
        let day = |o: &Option<String>, name: &str| {
            some(o)
                .map(|s| {
                    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
                        AdminError::Invalid(format!("{name} must be a date like 2026-01-31"))
                    })
                })
                .transpose()
        };
        Ok(AuditFilter {
            actor: some(&self.actor)
                .map(|a| {
                    a.trim().parse::<Actor>().map_err(|_| {
                        AdminError::Invalid("Who must be one of the listed actors".into())
                    })
                })
                .transpose()?,
            action: some(&self.action),
            from: day(&self.from, "From")?.map(|d| d.and_time(NaiveTime::MIN)),
            until: day(&self.to, "To")?
                .and_then(|d| d.succ_opt())
                .map(|d| d.and_time(NaiveTime::MIN)),
        })
    }

    fn query_string(&self, after: Option<&str>) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
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

    fn sel(&self, value: &Option<String>, option: &str) -> bool {
        value.as_deref() == Some(option)
    }
}

pub struct AuditItem {
    pub when: String,
    pub who: String,
    pub action: String,
    pub reference: Option<String>,
    pub detail: String,
}

fn item(e: &AuditEntry, names: &HashMap<String, String>) -> AuditItem {
    AuditItem {
        when: e.event.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
        who: who(&e.event.actor, names),
        action: e.event.action.replace('_', " "),
        reference: e.reference.clone(),
        detail: e.event.detail.clone(),
    }
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    nav: Nav,
    query: AuditQuery,
    items: Vec<AuditItem>,
    actors: Vec<(String, String)>,
    actions: Vec<String>,
    next: Option<String>,
    export: String,
}

/// `GET /admin/audit`
pub async fn audit_page(
    state: web::Data<AppState>,
    staff: Allowed<need::ViewAuditLog>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AdminError> {
    let query = query.into_inner();
    let filter = query.filter()?;
    let after = match query.after.as_deref().filter(|a| !a.is_empty()) {
        Some(raw) => Some(Cursor::decode(raw).ok_or(AdminError::NotFound)?),
        None => None,
    };
    let crate::app::audit::Page {
        entries,
        next,
        named,
        actions,
    } = crate::app::audit::page(&state, &staff, filter, after, PAGE_SIZE).await?;
    let names = names_of(&named);
    // Every kind of actor, then each staff account and each partner with a token.
    let actors: Vec<(String, String)> = Actor::FIXED
        .iter()
        .chain(named.iter().map(|(actor, _)| actor))
        .map(|a| (a.to_string(), who(a, &names)))
        .collect();
    page(AuditPage {
        nav: Nav::of(&staff),
        items: entries.iter().map(|e| item(e, &names)).collect(),
        next: next.map(|c| query.query_string(Some(&c.encode()))),
        export: query.query_string(None),
        actors,
        actions,
        query,
    })
}

/// `GET /admin/audit.csv`: the filtered log, streamed.
pub async fn audit_csv(
    state: web::Data<AppState>,
    staff: Allowed<need::ViewAuditLog>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AdminError> {
    let query = query.into_inner();
    let filter = query.filter()?;
    let description = query.query_string(None);
    let rx = crate::app::audit::export(&state, &staff, filter, description, who)?;
    Ok(super::csv_download(rx, "audit-log.csv"))
}
