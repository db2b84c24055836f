//! Rows as stored, and their conversion to and from domain types.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{
    api_tokens, audit_events, case_messages, case_notes, case_requests, guidance, partners, queues,
    request_personal_data, routing_rules, status_codes, users,
};
use super::DbError;
use crate::domain::birth::BirthDate;
use crate::domain::staff::Role;
use crate::domain::vocab::{BirthPrecision, Calendar, Direction, Programs, TokenScope};
use crate::domain::{
    Actor, Category, Language, Location, Priority, QueueSlug, ReferralProgram, RoutingRule,
    SivStatus, Source, Status, SubmitterKind, UsTie,
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = case_requests)]
// None is NULL, never DEFAULT: then SQLite takes many rows in one INSERT.
#[diesel(treat_none_as_default_value = false)]
pub struct CaseRequestRow {
    pub id: String,
    pub reference: String,
    pub receipt_token: String,
    pub source: Source,
    pub submitter_kind: SubmitterKind,
    pub applicant_location: Location,
    pub household_size: Option<i32>,
    pub siv_status: SivStatus,
    pub referral_program: ReferralProgram,
    pub claimed_programs: Programs,
    pub us_tie: UsTie,
    pub urgent_danger: bool,
    pub urgent_medical: bool,
    pub category: Category,
    pub category_reason: String,
    pub priority: Priority,
    pub priority_reason: String,
    pub queue_slug: String,
    pub routing_rule_id: Option<String>,
    pub routing_rule_name: Option<String>,
    pub status: Status,
    pub consent_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub assignee_id: Option<String>,
    pub entered_by: Option<String>,
    pub closed_at: Option<NaiveDateTime>,
    pub is_open: bool,
    /// The requester's language (`en`, `fa-AF`, `ps`): mail to them is written in it.
    pub language: Language,
    /// The partner organization whose API token submitted it; `None` for the web form,
    /// staff entry and anonymous API use.
    pub partner_id: Option<String>,
}

/// The applicant's status-check code of one request.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = status_codes)]
// None is NULL, never DEFAULT: then SQLite takes many rows in one INSERT.
#[diesel(treat_none_as_default_value = false)]
pub struct StatusCodeRow {
    pub request_id: String,
    /// SHA-256 (hex) of the code.
    pub code_hash: String,
    /// The plain code of a web-form request until its confirmation page has shown it.
    pub code_plain: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = partners)]
pub struct PartnerRow {
    pub id: String,
    pub name: String,
    /// Requests per UTC day; `None` is unlimited.
    pub daily_quota: Option<i32>,
    pub created_at: NaiveDateTime,
    /// Where status changes of the partner's requests are POSTed; `None`: no webhook.
    pub webhook_url: Option<String>,
    /// The HMAC-SHA256 key that signs each delivery (kept in clear: signing needs it).
    pub webhook_secret: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct ApiTokenRow {
    pub id: String,
    pub partner_id: String,
    pub name: String,
    /// SHA-256 (hex) of the token; the token itself is shown once and never stored.
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub scope: TokenScope,
}

/// The personal data of one request; read only where a role needs it, and audited.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = request_personal_data)]
// None is NULL, never DEFAULT: then SQLite takes many rows in one INSERT.
#[diesel(treat_none_as_default_value = false)]
pub struct PersonalDataRow {
    pub request_id: String,
    pub submitter_name: Option<String>,
    pub submitter_email: Option<String>,
    pub submitter_phone: Option<String>,
    pub submitter_organization: Option<String>,
    pub applicant_full_name: String,
    pub applicant_date_of_birth: Option<NaiveDate>,
    pub applicant_phone: Option<String>,
    pub applicant_whatsapp: Option<String>,
    pub applicant_email: Option<String>,
    pub siv_case_number: Option<String>,
    pub referred_by: Option<String>,
    pub description: Option<String>,
    pub applicant_date_of_birth_precision: Option<BirthPrecision>,
    pub applicant_date_of_birth_calendar: Option<Calendar>,
}

impl PersonalDataRow {
    /// The applicant's date of birth with what is known of it.
    pub fn birth_date(&self) -> Option<BirthDate> {
        self.applicant_date_of_birth.map(|date| {
            BirthDate::stored(
                date,
                self.applicant_date_of_birth_precision,
                self.applicant_date_of_birth_calendar,
            )
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = queues)]
pub struct QueueRow {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub notify_emails: String,
    pub is_default: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = routing_rules)]
pub struct RoutingRuleRow {
    pub id: String,
    pub position: i32,
    pub name: String,
    pub category: Option<Category>,
    pub priority: Option<Priority>,
    pub source: Option<Source>,
    pub location: Option<Location>,
    pub queue_slug: String,
    pub enabled: bool,
    pub created_at: NaiveDateTime,
    pub sender_domain: Option<String>,
}

impl RoutingRuleRow {
    pub fn into_rule(self) -> Result<RoutingRule, DbError> {
        Ok(RoutingRule {
            category: self.category,
            priority: self.priority,
            source: self.source,
            location: self.location,
            sender_domain: self.sender_domain,
            queue: QueueSlug::parse(&self.queue_slug)
                .map_err(|_| DbError::Corrupt("routing_rules.queue_slug".into()))?,
            id: self.id,
            position: self.position,
            name: self.name,
            enabled: self.enabled,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = guidance)]
pub struct GuidanceRow {
    pub category: Category,
    pub body: String,
    pub next_steps: String,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
// None is NULL, never DEFAULT: then SQLite takes many rows in one INSERT.
#[diesel(treat_none_as_default_value = false)]
pub struct AuditEventRow {
    pub id: String,
    pub request_id: Option<String>,
    pub actor: Actor,
    pub action: String,
    pub detail: String,
    pub created_at: NaiveDateTime,
}

/// A new id for a row of a table that grows with every intake (requests, audit events,
/// mail): a UUIDv7, which grows with the time it was made, so that new rows fill the
/// rightmost pages of every index on an id instead of a random page each (docs/performance.md).
pub fn new_row_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl AuditEventRow {
    pub fn new(
        request_id: Option<&str>,
        actor: &Actor,
        action: &str,
        detail: String,
        at: NaiveDateTime,
    ) -> Self {
        AuditEventRow {
            id: new_row_id(),
            request_id: request_id.map(str::to_string),
            actor: actor.clone(),
            action: action.to_string(),
            detail,
            created_at: at,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub active: bool,
    pub failed_logins: i32,
    pub last_failed_login_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// Base32 TOTP secret; set while enrolling and once enabled.
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub totp_last_step: Option<i64>,
    /// SHA-256 hashes of unused recovery codes, comma-separated.
    pub recovery_codes: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = case_notes)]
pub struct NoteRow {
    pub id: String,
    pub request_id: String,
    pub author_id: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

/// One message of a case's correspondence. The body is personal data: shown to staff who
/// may work the case and, for an outgoing one, to the requester; emptied by purge.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = case_messages)]
#[diesel(treat_none_as_default_value = false)]
pub struct MessageRow {
    pub id: String,
    pub request_id: String,
    pub direction: Direction,
    pub author: Actor,
    pub body: String,
    pub language: Language,
    /// The mail that carries an outgoing message; `None`: on the status page only.
    pub outbox_id: Option<String>,
    /// That mail's Message-ID header.
    pub message_id: Option<String>,
    /// The request's reply token when the message went out.
    pub thread_token: Option<String>,
    pub created_at: NaiveDateTime,
    pub seen_by_staff_at: Option<NaiveDateTime>,
}
