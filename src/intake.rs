//! The intake path every source shares (web form, partner API, staff entry): classify,
//! route, and store the request with its audit trail and the mail it causes (the
//! requester's acknowledgment, the queue's notification) in one transaction.

use chrono::{DateTime, Utc};
use diesel::Connection;

use crate::config::Settings;
use crate::db::models::{AuditEventRow, CaseRequestRow, GuidanceRow, PersonalDataRow, QueueRow};
use crate::db::{self, DbConnection, DbError};
use crate::domain::reference::random_token;
use crate::domain::{
    classify, route, CaseReference, Classification, Facts, NewCaseRequest, RoutingDecision,
    RoutingFacts, Status,
};
use crate::email::{self, CaseFacts, Guidance, Mail, MailError};

/// A request that is now stored and acknowledged.
#[derive(Debug, Clone)]
pub struct Created {
    pub row: CaseRequestRow,
    pub queue_name: String,
    /// Outbox rows written with the request: wake the worker when there are any.
    pub mails: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the request's mail could not be written to the outbox")]
    Mail(#[source] MailError),
}

impl From<diesel::result::Error> for SubmitError {
    fn from(e: diesel::result::Error) -> Self {
        SubmitError::Db(e.into())
    }
}

impl From<MailError> for SubmitError {
    fn from(e: MailError) -> Self {
        match e {
            MailError::Db(db) => SubmitError::Db(db),
            other => SubmitError::Mail(other),
        }
    }
}

/// Stores a validated request and queues its mail. `actor` names who submitted it for the
/// audit trail (never personal data).
pub fn submit(
    conn: &mut DbConnection,
    settings: &Settings,
    request: &NewCaseRequest,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Created, SubmitError> {
    let (rules, default_queue) = db::requests::routing_table(conn)?;
    let classification = classify(&Facts::of(request, now.date_naive()));
    let decision = route(
        &rules,
        &RoutingFacts {
            category: classification.category,
            priority: classification.priority,
            source: request.source,
            location: request.applicant.location,
        },
        &default_queue,
    );
    let queue = db::requests::queue(conn, decision.queue.as_str())?;
    let guidance = db::requests::guidance_for(conn, classification.category)?;

    let mut rng = rand::rng();
    let mut attempt = 0;
    let (row, mails) = loop {
        attempt += 1;
        let row = build_row(
            request,
            &classification,
            &decision,
            CaseReference::generate(&mut rng),
            random_token(&mut rng),
            now,
        );
        let personal = personal_row(&row.id, request);
        let audit = audit_rows(&row, &classification, &decision, actor);
        let result = conn.transaction(|conn| -> Result<usize, SubmitError> {
            db::requests::insert(conn, &row, &personal, &audit)?;
            let mut written = 0;
            for mail in mails_for(request, &row, &classification, &queue, guidance.as_ref()) {
                written += email::enqueue(conn, settings, &mail, now)?;
            }
            Ok(written)
        });
        match result {
            Ok(mails) => break (row, mails),
            // A reference collision: about one in 10^12, so just draw again.
            Err(SubmitError::Db(DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )))) if attempt < 5 => continue,
            Err(e) => return Err(e),
        }
    };
    tracing::info!(
        reference_id = %row.id,
        category = %row.category,
        priority = %row.priority,
        queue = %row.queue_slug,
        source = %row.source,
        mails,
        "request created"
    );
    Ok(Created {
        row,
        queue_name: queue.name,
        mails,
    })
}

/// The mail a new request causes: an acknowledgment when the requester gave an address,
/// and a notification to the queue's addresses.
fn mails_for(
    request: &NewCaseRequest,
    row: &CaseRequestRow,
    c: &Classification,
    queue: &QueueRow,
    guidance: Option<&GuidanceRow>,
) -> Vec<Mail> {
    let case = CaseFacts {
        request_id: row.id.clone(),
        reference: row.reference.clone(),
        category: c.category,
        priority: c.priority,
        queue_name: queue.name.clone(),
    };
    let mut mails = Vec::new();
    if let Some(to) = request.reply_email() {
        let guidance = match guidance {
            Some(g) => Guidance {
                body: g.body.clone(),
                next_steps: g.next_steps.clone(),
            },
            None => Guidance {
                body: String::new(),
                next_steps: "The task force will review your request and contact you.".to_string(),
            },
        };
        mails.push(Mail::Acknowledgment {
            to: to.clone(),
            case: case.clone(),
            guidance,
        });
    }
    let staff = email::address_list(&queue.notify_emails);
    if !staff.is_empty() {
        mails.push(Mail::NewRequest { to: staff, case });
    }
    mails
}

fn build_row(
    r: &NewCaseRequest,
    c: &Classification,
    d: &RoutingDecision,
    reference: CaseReference,
    receipt_token: String,
    now: DateTime<Utc>,
) -> CaseRequestRow {
    let now = now.naive_utc();
    CaseRequestRow {
        id: uuid::Uuid::new_v4().to_string(),
        reference: reference.to_string(),
        receipt_token,
        source: r.source.as_str().to_string(),
        submitter_kind: r.submitter.kind.as_str().to_string(),
        applicant_location: r.applicant.location.as_str().to_string(),
        household_size: r.applicant.household_size.map(i32::from),
        siv_status: r.siv_status.as_str().to_string(),
        referral_program: r.referral_program.as_str().to_string(),
        claimed_programs: r
            .claimed_programs
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(","),
        us_tie: r.us_tie.as_str().to_string(),
        urgent_danger: r.danger,
        urgent_medical: r.medical,
        category: c.category.as_str().to_string(),
        category_reason: c.category_reason.to_string(),
        priority: c.priority.as_str().to_string(),
        priority_reason: c.priority_reason.clone(),
        queue_slug: d.queue.as_str().to_string(),
        routing_rule_id: d.rule_id.clone(),
        routing_rule_name: d.rule_name.clone(),
        status: Status::New.as_str().to_string(),
        consent_at: now,
        created_at: now,
        updated_at: now,
    }
}

fn personal_row(request_id: &str, r: &NewCaseRequest) -> PersonalDataRow {
    let text = |o: Option<&str>| o.map(str::to_string);
    PersonalDataRow {
        request_id: request_id.to_string(),
        submitter_name: text(r.submitter.name.as_ref().map(|n| n.as_str())),
        submitter_email: text(r.submitter.email.as_ref().map(|e| e.as_str())),
        submitter_phone: text(r.submitter.phone.as_ref().map(|p| p.as_str())),
        submitter_organization: r.submitter.organization.clone(),
        applicant_full_name: r.applicant.full_name.as_str().to_string(),
        applicant_date_of_birth: r.applicant.date_of_birth,
        applicant_phone: text(r.applicant.phone.as_ref().map(|p| p.as_str())),
        applicant_whatsapp: text(r.applicant.whatsapp.as_ref().map(|p| p.as_str())),
        applicant_email: text(r.applicant.email.as_ref().map(|e| e.as_str())),
        siv_case_number: r.siv_case_number.as_ref().map(|n| n.to_string()),
        referred_by: r.referred_by.clone(),
        description: r.description.clone(),
    }
}

fn audit_rows(
    row: &CaseRequestRow,
    c: &Classification,
    d: &RoutingDecision,
    actor: &str,
) -> Vec<AuditEventRow> {
    let id = Some(row.id.as_str());
    let routed = match &d.rule_name {
        Some(name) => format!("to {} by rule \"{name}\"", d.queue.as_str()),
        None => format!("to {} (default queue: no rule matched)", d.queue.as_str()),
    };
    vec![
        AuditEventRow::new(
            id,
            actor,
            "created",
            format!(
                "via {}; category {} ({}); priority {} ({})",
                row.source, c.category, c.category_reason, c.priority, c.priority_reason
            ),
            row.created_at,
        ),
        // Routing follows creation; a microsecond keeps the timeline in that order.
        AuditEventRow::new(
            id,
            "system",
            "routed",
            routed,
            row.created_at + chrono::Duration::microseconds(1),
        ),
    ]
}
