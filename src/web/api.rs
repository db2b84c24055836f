//! The partner JSON API (`/api/v1`).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use super::admin::auth::sha256_hex;
use super::errors::responses::{ReadErrors, ServerErrors, SubmitErrors};
use super::errors::{ApiError, ErrorBody};
use super::json::{parse_json, read_json_body};
use super::{AppState, API_BODY_LIMIT, BATCH_BODY_LIMIT};
use crate::db::models::{CaseRequestRow, PartnerRow};
use crate::domain::{
    Actor, CaseReference, FieldError, IntakeInput, NewCaseRequest, Source, TokenScope,
};

/// Most requests one batch may hold.
pub const BATCH_MAX_ROWS: usize = 500;

/// The partner whose token came with the call, or `None` for anonymous use where the
/// deployment allows it. A token that is sent must be valid, even where anonymous use is
/// allowed: a partner whose token was revoked learns so instead of going anonymous. A
/// reporting token reads the statistics only.
async fn caller(state: &AppState, req: &HttpRequest) -> Result<Option<PartnerRow>, ApiError> {
    if !req.headers().contains_key(header::AUTHORIZATION) {
        return if state.settings.api_anonymous {
            Ok(None)
        } else {
            Err(ApiError::Unauthorized)
        };
    }
    match token_of(state, req).await? {
        (partner, TokenScope::Requests) => Ok(Some(partner)),
        (_, TokenScope::Reporting) => Err(ApiError::Forbidden(
            "this token reads the statistics only; requests are submitted and read with a \
             token issued to submit and read requests",
        )),
    }
}

/// The partner and scope of the bearer token sent; `Unauthorized` when there is none or it
/// is not a valid one.
pub(super) async fn token_of(
    state: &AppState,
    req: &HttpRequest,
) -> Result<(PartnerRow, TokenScope), ApiError> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::Unauthorized)?;
    let hash = sha256_hex(token);
    let now = state.clock.now().naive_utc();
    let found = crate::app::requests::partner_by_token(state, hash, now).await?;
    found.ok_or(ApiError::Unauthorized)
}

/// The audit actor of a submission: the partner with a token, the anonymous API without.
fn actor_of(partner: Option<&PartnerRow>) -> Actor {
    match partner {
        Some(p) => Actor::Partner(p.id.clone()),
        None => Actor::AnonymousApi,
    }
}

/// Refuses `adding` more requests when they would take the partner past its daily quota.
/// Counted from the database, so the quota holds across instances; two batches racing on
/// different instances may overshoot it by what they carry.
async fn check_quota(
    state: &AppState,
    partner: Option<&PartnerRow>,
    adding: usize,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let Some((id, quota)) = partner.and_then(|p| Some((p.id.clone(), p.daily_quota?))) else {
        return Ok(());
    };
    let midnight = now.date_naive().and_time(chrono::NaiveTime::MIN);
    let used = crate::app::requests::submitted_since(state, id, midnight).await?;
    if used + adding as i64 > i64::from(quota) {
        let next = midnight + chrono::Duration::days(1);
        let retry_after = (next - now.naive_utc()).num_seconds().max(1) as u64;
        return Err(ApiError::QuotaExceeded { quota, retry_after });
    }
    Ok(())
}

/// The partner reading through the API. Reading always needs a token, whatever
/// `API_ANONYMOUS` says: a reference alone (seen in a forwarded mail or on a screenshot)
/// must not tell a stranger anything about the request or the person.
pub(super) async fn reader(state: &AppState, req: &HttpRequest) -> Result<PartnerRow, ApiError> {
    if req.headers().get(header::AUTHORIZATION).is_none() {
        return Err(ApiError::Unauthorized);
    }
    caller(state, req).await?.ok_or(ApiError::Unauthorized)
}

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

/// A stored UTC time as the API writes times: RFC 3339 with milliseconds.
pub(super) fn rfc3339(t: NaiveDateTime) -> String {
    DateTime::<Utc>::from_naive_utc_and_offset(t, Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl RequestSummary {
    pub fn of(row: &CaseRequestRow, queue_name: String) -> Self {
        RequestSummary {
            reference: row.reference.clone(),
            category: row.category.to_string(),
            category_label: row.category.label(),
            priority: row.priority.to_string(),
            queue: QueueRef {
                slug: row.queue_slug.clone(),
                name: queue_name,
            },
            status: row.status.to_string(),
            source: row.source.to_string(),
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
        }
    }
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
        SubmitErrors,
        (status = 413, description = "The body is over 64 KiB (`body_too_large`)", body = ErrorBody),
        (status = 422, description = "Unknown, missing or invalid fields (`invalid_fields`)", body = ErrorBody),
        (status = 429, description = "Too many requests from this address (`rate_limited`), or the partner's daily quota is used up (`quota_exceeded`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the next call can succeed"))),
        ServerErrors,
    ),
    security((), ("bearer" = []))
)]
pub async fn create_request(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let partner = caller(&state, &req).await?;
    let body = read_json_body(&req, payload, API_BODY_LIMIT).await?;
    let input: IntakeInput = parse_json(&body)?;
    let now = state.clock.now();
    let request = input
        .into_request(Source::PartnerApi, now.date_naive())
        .map_err(ApiError::Invalid)?;
    check_quota(&state, partner.as_ref(), 1, now).await?;
    let actor = actor_of(partner.as_ref());
    let partner_id = partner.map(|p| p.id);
    let created = crate::app::intake::submit(&state, vec![request], actor, partner_id, now)
        .await?
        .remove(0);
    let summary = RequestSummary::of(&created.row, created.queue_name);
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/requests/{}", summary.reference),
        ))
        .json(summary))
}

/// The summary of a request this partner submitted: what was derived, never personal
/// data. Needs the partner's token.
#[utoipa::path(
    get,
    path = "/api/v1/requests/{reference}",
    tag = "requests",
    params(("reference" = String, Path, description = "The reference, like TF-7K3M-9QXD")),
    responses(
        (status = 200, description = "The request's summary", body = RequestSummary),
        ReadErrors,
        ServerErrors,
    ),
    security(("bearer" = []))
)]
pub async fn get_request(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let partner = reader(&state, &req).await?;
    let reference = CaseReference::parse(&reference).ok_or(ApiError::NotFound)?;
    let (row, queue_name) = crate::app::requests::submitted_by(&state, &partner, reference)
        .await?
        .ok_or(ApiError::NotFound)?;
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

/// `GET /api/v1/requests/{reference}/duplicates`: the possible duplicates of a request
/// this partner submitted, among the other requests it submitted, earlier and later, most
/// likely first. Needs the partner's token; staff see every candidate on the case page.
#[utoipa::path(
    get,
    path = "/api/v1/requests/{reference}/duplicates",
    tag = "requests",
    params(("reference" = String, Path, description = "The reference, like TF-7K3M-9QXD")),
    responses(
        (status = 200, description = "Possible duplicates, most likely first", body = DuplicateCandidates),
        ReadErrors,
        ServerErrors,
    ),
    security(("bearer" = []))
)]
pub async fn get_duplicates(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let partner = reader(&state, &req).await?;
    let reference = CaseReference::parse(&reference).ok_or(ApiError::NotFound)?;
    let candidates = crate::app::requests::duplicates_for(&state, &partner, reference.clone())
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(DuplicateCandidates {
        reference: reference.to_string(),
        candidates: candidates
            .into_iter()
            .map(|c| DuplicateCandidate {
                reference: c.reference,
                score: f64::from(c.score_per_mille) / 1000.0,
                reasons: c.reasons,
                status: c.status.to_string(),
            })
            .collect(),
    }))
}

/// One row's outcome in a batch: `created` with its reference, category and queue, or
/// `invalid` with its field errors.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchResult {
    /// The row's position in the array sent, from 0.
    pub index: usize,
    pub status: RowStatus,
    /// A created row's.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reference: Option<String>,
    /// A created row's.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub category: Option<String>,
    /// A created row's.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub queue: Option<QueueRef>,
    /// An invalid row's.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub errors: Option<Vec<FieldError>>,
}

/// What became of one row of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    Created,
    Invalid,
}

/// The answer to a batch: one result per row, in the order sent.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchResponse {
    pub created: usize,
    pub invalid: usize,
    pub results: Vec<BatchResult>,
}

/// The body of a batch as the published contract says it: 1 to `BATCH_MAX_ROWS`
/// requests. (The handler reads each row as it came, to name the row of each misfit.)
pub struct BatchRows;

impl utoipa::PartialSchema for BatchRows {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::ArrayBuilder;
        ArrayBuilder::new()
            .items(utoipa::openapi::Ref::from_schema_name("IntakeInput"))
            .min_items(Some(1))
            .max_items(Some(BATCH_MAX_ROWS))
            .into()
    }
}

impl utoipa::ToSchema for BatchRows {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push(("IntakeInput".into(), IntakeInput::schema()));
        IntakeInput::schemas(schemas);
    }
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchQuery {
    /// All or nothing: when any row is invalid, answer 422 and store none.
    #[serde(default)]
    pub atomic: bool,
}

/// Parses one row of a batch into a request, or its field errors; the row as sent, so it
/// is read exactly as `POST /api/v1/requests` reads a body.
fn parse_row(
    row: &serde_json::value::RawValue,
    today: chrono::NaiveDate,
) -> Result<NewCaseRequest, Vec<FieldError>> {
    let input: IntakeInput = parse_json(row.get().as_bytes()).map_err(|e| match e {
        ApiError::Invalid(errors) | ApiError::MalformedJson(errors) => errors,
        other => vec![FieldError::new("", other.to_string())],
    })?;
    input.into_request(Source::PartnerApi, today)
}

/// Logs many requests at once, each as `POST /api/v1/requests` would.
///
/// Each row goes through the same checks, classification and routing. The valid rows are
/// stored and every row is reported, in order, with a 200. When no row is valid, or with
/// `atomic=true` when any row is not, nothing is stored and the answer is a 422 naming
/// every field at fault as `[index].field`.
#[utoipa::path(
    post,
    path = "/api/v1/requests:batch",
    tag = "requests",
    params(BatchQuery),
    request_body(content = BatchRows, content_type = "application/json",
        description = "An array of 1 to 500 requests, each as for `POST /api/v1/requests`; at most 4 MiB"),
    responses(
        (status = 200, description = "At least one row was valid: one result per row, in order; the valid rows are stored (all in one transaction)", body = BatchResponse),
        SubmitErrors,
        (status = 413, description = "The body is over 4 MiB (`body_too_large`)", body = ErrorBody),
        (status = 422, description = "Nothing is stored (`invalid_fields`): the body is not an array of 1 to 500 requests, `atomic` is not `true` or `false`, no row is valid, or (with `atomic=true`) a row is invalid. Fields are named `[index].field`, `[index]` for a row that is not an object.", body = ErrorBody,
            example = json!({"error": "invalid_fields", "message": "the request has invalid fields", "errors": [
                {"field": "[1].applicant.full_name", "code": "full_name_missing", "message": "please enter the full name of the person who needs help"},
                {"field": "[2]", "code": "invalid", "message": "must be an object, not a list"}
            ]})),
        (status = 429, description = "Too many requests from this address (`rate_limited`), or the valid rows would pass the partner's daily quota (`quota_exceeded`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the next call can succeed"))),
        ServerErrors,
    ),
    security((), ("bearer" = []))
)]
pub async fn create_batch(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let partner = caller(&state, &req).await?;
    let query = web::Query::<BatchQuery>::from_query(req.query_string())
        .map_err(|_| ApiError::Invalid(vec![FieldError::new("atomic", "must be true or false")]))?;
    let body = read_json_body(&req, payload, BATCH_BODY_LIMIT).await?;
    let rows: Vec<Box<serde_json::value::RawValue>> = parse_json(&body)?;
    if rows.is_empty() || rows.len() > BATCH_MAX_ROWS {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "",
            format!("send from 1 to {BATCH_MAX_ROWS} requests in one batch"),
        )]));
    }
    let now = state.clock.now();
    let parsed: Vec<Result<NewCaseRequest, Vec<FieldError>>> = rows
        .into_iter()
        .map(|row| parse_row(&row, now.date_naive()))
        .collect();
    // All or nothing where the caller asks for it; and where nothing could be stored, the
    // answer a client expects when nothing was: the field errors, not a 200.
    if query.atomic || parsed.iter().all(Result::is_err) {
        let errors: Vec<FieldError> = parsed
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e)))
            .flat_map(|(i, errors)| {
                errors.iter().map(move |e| FieldError {
                    field: if e.field.is_empty() {
                        format!("[{i}]")
                    } else {
                        format!("[{i}].{}", e.field)
                    },
                    ..e.clone()
                })
            })
            .collect();
        if !errors.is_empty() {
            return Err(ApiError::Invalid(errors));
        }
    }
    let valid: Vec<NewCaseRequest> = parsed
        .iter()
        .filter_map(|r| r.as_ref().ok().cloned())
        .collect();
    check_quota(&state, partner.as_ref(), valid.len(), now).await?;
    let created = if valid.is_empty() {
        Vec::new()
    } else {
        let actor = actor_of(partner.as_ref());
        let partner_id = partner.map(|p| p.id);
        crate::app::intake::submit(&state, valid, actor, partner_id, now).await?
    };
    let mut created = created.into_iter();
    let results: Vec<BatchResult> = parsed
        .into_iter()
        .enumerate()
        .map(|(index, row)| match row {
            Ok(_) => {
                let c = created.next().expect("one stored request per valid row");
                BatchResult {
                    index,
                    status: RowStatus::Created,
                    reference: Some(c.row.reference),
                    category: Some(c.row.category.to_string()),
                    queue: Some(QueueRef {
                        slug: c.row.queue_slug,
                        name: c.queue_name,
                    }),
                    errors: None,
                }
            }
            Err(errors) => BatchResult {
                index,
                status: RowStatus::Invalid,
                reference: None,
                category: None,
                queue: None,
                errors: Some(errors),
            },
        })
        .collect();
    let created_count = results
        .iter()
        .filter(|r| r.status == RowStatus::Created)
        .count();
    Ok(HttpResponse::Ok().json(BatchResponse {
        created: created_count,
        invalid: results.len() - created_count,
        results,
    }))
}
