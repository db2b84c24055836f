//! The partner JSON API (`/api/v1`).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use futures_util::StreamExt;
use serde::Serialize;

use super::errors::{ApiError, ErrorBody};
use super::{AppState, API_BODY_LIMIT};
use crate::db;
use crate::db::models::CaseRequestRow;
use crate::domain::{CaseReference, FieldError, IntakeInput, Source};
use crate::intake;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueRef {
    pub slug: String,
    pub name: String,
}

/// A request as the API shows it: what was derived, never the personal data.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RequestSummary {
    pub reference: String,
    pub category: String,
    pub category_label: &'static str,
    pub priority: String,
    pub queue: QueueRef,
    pub status: String,
    pub source: String,
    pub created_at: String,
    pub updated_at: String,
}

fn rfc3339(t: NaiveDateTime) -> String {
    DateTime::<Utc>::from_naive_utc_and_offset(t, Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl RequestSummary {
    pub fn of(row: &CaseRequestRow, queue_name: String) -> Self {
        let category_label = row
            .category
            .parse::<crate::domain::Category>()
            .map(|c| c.label())
            .unwrap_or("");
        RequestSummary {
            reference: row.reference.clone(),
            category: row.category.clone(),
            category_label,
            priority: row.priority.clone(),
            queue: QueueRef {
                slug: row.queue_slug.clone(),
                name: queue_name,
            },
            status: row.status.clone(),
            source: row.source.clone(),
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
        }
    }
}

/// Reads a JSON body: 415 unless it says JSON, 413 past the limit.
pub async fn read_json_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::BytesMut, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "application/json" && !(mime.starts_with("application/") && mime.ends_with("+json"))
    {
        return Err(ApiError::UnsupportedMediaType);
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::TooLarge(limit));
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::MalformedJson(vec![FieldError::new("", "the body could not be read")])
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses JSON into `T`, naming the field at fault: syntax errors are 400, a body that
/// is JSON but does not fit the contract (wrong type, unknown field) is 422.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let field = if path == "." { String::new() } else { path };
            let message = inner.to_string();
            let message = match message.find(" at line ") {
                Some(i) => message[..i].to_string(),
                None => message,
            };
            let message = plain_type_error(&message).unwrap_or(message);
            match inner.classify() {
                serde_json::error::Category::Data => {
                    Err(ApiError::Invalid(vec![FieldError::new(field, message)]))
                }
                _ => Err(ApiError::MalformedJson(vec![FieldError::new(
                    field, message,
                )])),
            }
        }
    }
}

/// Rewords serde's "invalid type: string \"five\", expected i64" for people.
fn plain_type_error(message: &str) -> Option<String> {
    let rest = message.strip_prefix("invalid type: ")?;
    let (got, expected) = rest.split_once(", expected ")?;
    let want = match expected {
        e if e.starts_with('i') || e.starts_with('u') => "a whole number",
        "a boolean" => "true or false",
        "a string" => "a text string",
        "a sequence" => "a list",
        e if e.starts_with("struct ") => "an object",
        other => other,
    };
    Some(format!("must be {want}, not {got}"))
}

/// Logs a request: the server classifies, routes and stores it and answers with its summary.
#[utoipa::path(
    post,
    path = "/api/v1/requests",
    tag = "requests",
    request_body(content = IntakeInput, content_type = "application/json", example = json!({
        "submitter": {"kind": "organization", "organization": "Example NGO", "email": "intake@ngo.example"},
        "applicant": {"full_name": "Ahmad Karimi", "date_of_birth": "1990-05-01",
                      "phone": "+93 700 123 456", "location": "pakistan", "household_size": 5},
        "siv": {"status": "in_process", "case_number": "ISB2021123456"},
        "referral": {"program": "none"},
        "claimed_programs": ["siv"],
        "us_tie": "none",
        "urgent": {"danger": false, "medical": false},
        "description": "Waiting for the visa interview.",
        "consent": true
    })),
    responses(
        (status = 201, description = "Stored, classified and routed", body = RequestSummary,
            headers(("Location" = String, description = "/api/v1/requests/{reference}"))),
        (status = 400, description = "The body is not JSON (`malformed_json`)", body = ErrorBody),
        (status = 413, description = "The body is over 64 KiB (`body_too_large`)", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "Unknown, missing or invalid fields (`invalid_fields`)", body = ErrorBody),
        (status = 429, description = "Too many requests from this address (`rate_limited`); see Retry-After", body = ErrorBody),
        (status = 503, description = "The database is unreachable (`unavailable`)", body = ErrorBody),
    )
)]
pub async fn create_request(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_body(&req, payload, API_BODY_LIMIT).await?;
    let input: IntakeInput = parse_json(&body)?;
    let now = Utc::now();
    let request = input
        .into_request(Source::PartnerApi, now.date_naive())
        .map_err(ApiError::Invalid)?;
    let settings = state.settings.clone();
    let created = db::run_as(&state.pool, move |conn| {
        intake::submit(conn, &settings, &request, "partner", now)
    })
    .await?;
    if created.mails > 0 {
        state.mail.wake();
    }
    state
        .metrics
        .intake(&created.row.category, &created.row.source);
    let summary = RequestSummary::of(&created.row, created.queue_name);
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/requests/{}", summary.reference),
        ))
        .json(summary))
}

/// The summary of a request: what was derived, never personal data.
#[utoipa::path(
    get,
    path = "/api/v1/requests/{reference}",
    tag = "requests",
    params(("reference" = String, Path, description = "The reference, like TF-7K3M-9QXD")),
    responses(
        (status = 200, description = "The request's summary", body = RequestSummary),
        (status = 404, description = "No such request (`not_found`)", body = ErrorBody),
        (status = 429, description = "Too many requests from this address (`rate_limited`)", body = ErrorBody),
        (status = 503, description = "The database is unreachable (`unavailable`)", body = ErrorBody),
    )
)]
pub async fn get_request(
    state: web::Data<AppState>,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let reference = CaseReference::parse(&reference).ok_or(ApiError::NotFound)?;
    let found = db::run(&state.pool, move |conn| {
        let Some(row) = db::requests::find_by_reference(conn, reference.as_str())? else {
            return Ok::<_, db::DbError>(None);
        };
        let queue = db::requests::queue(conn, &row.queue_slug)?;
        Ok(Some((row, queue.name)))
    })
    .await?;
    let (row, queue_name) = found.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(RequestSummary::of(&row, queue_name)))
}

/// One candidate as the API shows it: the other request's reference, the score and the
/// evidence in words; no personal data.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DuplicateCandidate {
    pub reference: String,
    pub score: f64,
    pub reasons: Vec<String>,
    pub status: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DuplicateCandidates {
    pub reference: String,
    pub candidates: Vec<DuplicateCandidate>,
}

/// `GET /api/v1/requests/{reference}/duplicates`: the possible duplicates of a request,
/// earlier and later, most likely first.
#[utoipa::path(
    get,
    path = "/api/v1/requests/{reference}/duplicates",
    tag = "requests",
    params(("reference" = String, Path, description = "The reference, like TF-7K3M-9QXD")),
    responses(
        (status = 200, description = "Possible duplicates, most likely first", body = DuplicateCandidates),
        (status = 404, description = "No such request (`not_found`)", body = ErrorBody),
        (status = 429, description = "Too many requests from this address (`rate_limited`)", body = ErrorBody),
        (status = 503, description = "The database is unreachable (`unavailable`)", body = ErrorBody),
    )
)]
pub async fn get_duplicates(
    state: web::Data<AppState>,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let reference = CaseReference::parse(&reference).ok_or(ApiError::NotFound)?;
    let lookup = reference.to_string();
    let found = db::run(&state.pool, move |conn| {
        let Some(row) = db::requests::find_by_reference(conn, &lookup)? else {
            return Ok(None);
        };
        Ok(Some(db::duplicates::candidates_of(conn, &row.id)?))
    })
    .await?;
    let candidates = found.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(DuplicateCandidates {
        reference: reference.to_string(),
        candidates: candidates
            .into_iter()
            .map(|c| DuplicateCandidate {
                reference: c.reference,
                score: f64::from(c.score_per_mille) / 1000.0,
                reasons: c.reasons,
                status: c.status,
            })
            .collect(),
    }))
}
