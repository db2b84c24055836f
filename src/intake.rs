//! The intake path every source shares (web form, partner API, staff entry): classify,
//! route, and store the request with its audit trail in one transaction.

use chrono::{DateTime, Utc};
use diesel::Connection;

use crate::db::models::{AuditEventRow, CaseRequestRow, PersonalDataRow};
use crate::db::{self, DbConnection, DbError};
use crate::domain::reference::random_token;
use crate::domain::{
    classify, route, CaseReference, Classification, Facts, NewCaseRequest, RoutingDecision,
    RoutingFacts, Status,
};

/// A request that is now stored and acknowledged.
#[derive(Debug, Clone)]
pub struct Created {
    pub row: CaseRequestRow,
    pub queue_name: String,
}

/// Stores a validated request. `actor` names who submitted it for the audit trail
/// (never personal data).
pub fn submit(
    conn: &mut DbConnection,
    request: &NewCaseRequest,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Created, DbError> {
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

    let mut rng = rand::rng();
    let mut attempt = 0;
    let row = loop {
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
        let result = conn.transaction(|conn| db::requests::insert(conn, &row, &personal, &audit));
        match result {
            Ok(()) => break row,
            // A reference collision: about one in 10^12, so just draw again.
            Err(DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ))) if attempt < 5 => continue,
            Err(e) => return Err(e),
        }
    };
    let queue_name = db::requests::queue(conn, &row.queue_slug)?.name;
    tracing::info!(
        reference_id = %row.id,
        category = %row.category,
        priority = %row.priority,
        queue = %row.queue_slug,
        source = %row.source,
        "request created"
    );
    Ok(Created { row, queue_name })
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
        assignee_id: None,
        entered_by: r.entered_by.clone(),
        closed_at: None,
        is_open: true,
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
