//! The partner JSON API (`/api/v1`).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use futures_util::StreamExt;
use serde::Serialize;

use super::admin::auth::sha256_hex;
use super::errors::{ApiError, ErrorBody};
use super::{AppState, API_BODY_LIMIT, BATCH_BODY_LIMIT};
use crate::db;
use crate::db::models::{CaseRequestRow, PartnerRow};
use crate::domain::{CaseReference, FieldError, IntakeInput, NewCaseRequest, Source};

/// Most requests one batch may hold.
pub const BATCH_MAX_ROWS: usize = 500;

/// The partner whose token came with the call, or `None` for anonymous use where the
/// deployment allows it. A token that is sent must be valid, even where anonymous use is
/// allowed: a partner whose token was revoked learns so instead of going anonymous.
async fn caller(state: &AppState, req: &HttpRequest) -> Result<Option<PartnerRow>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return if state.settings.api_anonymous {
            Ok(None)
        } else {
            Err(ApiError::Unauthorized)
        };
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::Unauthorized)?;
    let hash = sha256_hex(token);
    let now = Utc::now().naive_utc();
    let partner = db::run(&state.pool, move |conn| {
        db::partners::authenticate(conn, &hash, now)
    })
    .await?;
    partner.map(Some).ok_or(ApiError::Unauthorized)
}

/// The audit actor of a submission: `partner:<id>` with a token, `partner` without.
fn actor_of(partner: Option<&PartnerRow>) -> String {
    match partner {
        Some(p) => format!("partner:{}", p.id),
        None => "partner".to_string(),
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
    let used = db::run(&state.pool, move |conn| {
        db::partners::submitted_since(conn, &id, midnight)
    })
    .await?;
    if used + adding as i64 > i64::from(quota) {
        let next = midnight + chrono::Duration::days(1);
        let retry_after = (next - now.naive_utc()).num_seconds().max(1) as u64;
        return Err(ApiError::QuotaExceeded { quota, retry_after });
    }
    Ok(())
}

/// Whether the caller may see a request: anyone where the deployment allows anonymous
/// use, a partner only its own.
fn visible_to(row: &CaseRequestRow, partner: Option<&PartnerRow>) -> bool {
    match partner {
        Some(p) => row.partner_id.as_deref() == Some(p.id.as_str()),
        None => true,
    }
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

/// Parses JSON into `T`, naming the fields at fault: syntax errors are 400, a body that
/// is JSON but does not fit the contract (wrong type, unknown field) is 422 with every such
/// field named at once, so a partner's client can mend them all in one round.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // Anything but white space after the value is not JSON either.
    let not_json = |e: serde_json::Error| ApiError::MalformedJson(vec![described(&[], e)]);
    let de = &mut serde_json::Deserializer::from_slice(body);
    let first = match serde_path_to_error::deserialize::<_, T>(&mut *de) {
        Ok(v) => return de.end().map(|()| v).map_err(not_json),
        Err(e) => e,
    };
    if first.inner().classify() != serde_json::error::Category::Data {
        return Err(ApiError::MalformedJson(vec![field_error(first)]));
    }
    // Serde stops at the first misfit. Read the body as plain JSON and ask again with each
    // misfit taken out, until the rest fits.
    let de = &mut serde_json::Deserializer::from_slice(body);
    let mut value = serde_path_to_error::deserialize::<_, serde_json::Value>(&mut *de)
        .map_err(|e| ApiError::MalformedJson(vec![field_error(e)]))?;
    de.end().map_err(not_json)?;
    let mut errors = Vec::new();
    let mut removed = Removed::default();
    while errors.len() < MAX_FIELD_ERRORS {
        let Err(e) = serde_path_to_error::deserialize::<_, T>(&value) else {
            break;
        };
        let steps = steps_of(e.path());
        // What is left unfit as a whole (an array that became too short) was said already.
        if steps.is_empty() && !errors.is_empty() {
            break;
        }
        let sent = removed.as_sent(&steps);
        errors.push(described(&sent, e.into_inner()));
        if !take_out(&mut value, &steps, &sent, &mut removed) {
            break;
        }
    }
    // A misfit that plain JSON hides (a field given twice reads as the last one).
    if errors.is_empty() {
        errors.push(field_error(first));
    }
    Err(ApiError::Invalid(errors))
}

/// Most contract errors one answer names.
const MAX_FIELD_ERRORS: usize = 20;

fn field_error(e: serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let steps = steps_of(e.path());
    described(&steps, e.into_inner())
}

/// A parse error at `steps` as a field error: the path (empty for the whole body) and
/// serde's words without the position, reworded for people.
fn described(steps: &[Step], e: serde_json::Error) -> FieldError {
    let mut field = path_text(steps);
    let mut message = plain_message(e);
    // Serde names a field given twice or left out in its words only, at the object
    // holding it.
    for (prefix, words) in [
        ("duplicate field `", "is given more than once; send it once"),
        ("missing field `", "is required"),
    ] {
        if let Some(name) = message
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix('`'))
        {
            if !field.is_empty() {
                field.push('.');
            }
            field.push_str(name);
            message = words.to_string();
            break;
        }
    }
    FieldError::new(field, message)
}

fn plain_message(e: serde_json::Error) -> String {
    let message = e.to_string();
    let message = match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    in_contract_words(&message).unwrap_or(message)
}

/// One step of a path into a JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
    Unknown,
}

fn steps_of(path: &serde_path_to_error::Path) -> Vec<Step> {
    use serde_path_to_error::Segment;
    path.iter()
        .map(|segment| match segment {
            Segment::Map { key } => Step::Key(key.clone()),
            Segment::Enum { variant } => Step::Key(variant.clone()),
            Segment::Seq { index } => Step::Index(*index),
            Segment::Unknown => Step::Unknown,
        })
        .collect()
}

/// A path as the contract names fields: `applicant.phone`, `claimed_programs[1]`.
fn path_text(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Index(index) => out.push_str(&format!("[{index}]")),
            Step::Key(key) if out.is_empty() => out.push_str(key),
            Step::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
            Step::Unknown if out.is_empty() => out.push('?'),
            Step::Unknown => out.push_str(".?"),
        }
    }
    out
}

/// How many elements `take_out` removed from each array, the array named by its path as
/// sent. Serde reads a list front to back, so every element removed from it came before
/// the next misfit it reports: that misfit's index as sent is its index now plus the count.
#[derive(Default)]
struct Removed(Vec<(Vec<Step>, usize)>);

impl Removed {
    /// `steps` (indices as they are now) as the path in the body as sent.
    fn as_sent(&self, steps: &[Step]) -> Vec<Step> {
        let mut sent = Vec::with_capacity(steps.len());
        for step in steps {
            let step = match step {
                Step::Index(now) => Step::Index(now + self.count(&sent)),
                other => other.clone(),
            };
            sent.push(step);
        }
        sent
    }

    fn count(&self, array: &[Step]) -> usize {
        self.0
            .iter()
            .find(|(at, _)| at.as_slice() == array)
            .map_or(0, |(_, n)| *n)
    }

    fn record(&mut self, array: &[Step]) {
        match self.0.iter_mut().find(|(at, _)| at.as_slice() == array) {
            Some((_, n)) => *n += 1,
            None => self.0.push((array.to_vec(), 1)),
        }
    }
}

/// Removes the value at `steps` (an object's key or an array's element; `sent` is the
/// same path as sent) from `value`; `false` when there is nothing there to remove. Every
/// field of the contract is optional or has a default, so the rest can be asked again.
fn take_out(
    value: &mut serde_json::Value,
    steps: &[Step],
    sent: &[Step],
    removed: &mut Removed,
) -> bool {
    let Some((last, parents)) = steps.split_last() else {
        return false;
    };
    let mut at = value;
    for step in parents {
        let next = match (step, at) {
            (Step::Key(key), serde_json::Value::Object(map)) => map.get_mut(key),
            (Step::Index(index), serde_json::Value::Array(items)) => items.get_mut(*index),
            _ => None,
        };
        let Some(next) = next else {
            return false;
        };
        at = next;
    }
    match (last, at) {
        (Step::Key(key), serde_json::Value::Object(map)) => map.remove(key).is_some(),
        (Step::Index(index), serde_json::Value::Array(items)) if *index < items.len() => {
            items.remove(*index);
            if let Some((_, array)) = sent.split_last() {
                removed.record(array);
            }
            true
        }
        _ => false,
    }
}

/// Serde's words for a value that does not fit ("invalid type: string \"five\", expected
/// i64") in the contract's ("must be a whole number, not text"): a client sees what the
/// field should be, never the Rust type behind it.
fn in_contract_words(message: &str) -> Option<String> {
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (got, expected) = rest.split_once(", expected ")?;
        let want = wanted(expected);
        return Some(match sent(got) {
            Some(got) => format!("must be {want}, not {got}"),
            None => format!("must be {want}"),
        });
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        let (_, expected) = rest.split_once(", expected ")?;
        return Some(match wanted(expected) {
            // A whole number past what any field of the contract holds.
            "a whole number" => "is out of range".to_string(),
            want => format!("must be {want}"),
        });
    }
    if let Some(rest) = message.strip_prefix("invalid length ") {
        let (_, expected) = rest.split_once(", expected ")?;
        return Some(format!("must be {}", wanted(expected)));
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (_, known) = rest.split_once('`')?;
        // The known names are the ones serde quotes: "expected one of `a`, `b`".
        let names: Vec<&str> = known.split('`').skip(1).step_by(2).collect();
        return Some(if names.is_empty() {
            "is not a field of the contract".to_string()
        } else {
            format!(
                "is not a field of the contract; the fields here are: {}",
                names.join(", ")
            )
        });
    }
    None
}

/// What serde expected, as the contract says it.
fn wanted(expected: &str) -> &str {
    match expected {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "usize" | "a whole number" => "a whole number",
        "f32" | "f64" => "a number",
        "a boolean" => "true or false",
        "a string" | "a borrowed string" => "a text string",
        "a sequence" => "a list",
        "a map" | "an object" => "an object",
        e if e.starts_with("struct ") => "an object",
        e if e.starts_with("one of: ") => e,
        _ => "a value the contract allows here",
    }
}

/// What was sent, as the contract says it; `None` when serde's words say nothing a
/// client would recognise. Text is not echoed: the field names it, and it may be long.
fn sent(got: &str) -> Option<String> {
    let quoted = |prefix: &str| {
        got.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('`'))
            .and_then(|rest| rest.strip_suffix('`'))
            .map(str::to_string)
    };
    match got {
        "null" | "unit value" => Some("null".to_string()),
        "sequence" => Some("a list".to_string()),
        "map" => Some("an object".to_string()),
        g if g.starts_with("string ") => Some("text".to_string()),
        _ => quoted("boolean ")
            .or_else(|| quoted("integer ").map(|n| format!("the number {n}")))
            .or_else(|| quoted("floating point ").map(|n| format!("the number {n}"))),
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
        (status = 400, description = "The body is not JSON (`malformed_json`)", body = ErrorBody),
        (status = 413, description = "The body is over 64 KiB (`body_too_large`)", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json (`unsupported_media_type`)", body = ErrorBody),
        (status = 401, description = "No valid API token where one is required, or a revoked one (`unauthorized`)", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "Bearer"))),
        (status = 422, description = "Unknown, missing or invalid fields (`invalid_fields`)", body = ErrorBody),
        (status = 429, description = "Too many requests from this address (`rate_limited`), or the partner's daily quota is used up (`quota_exceeded`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the next call can succeed"))),
        (status = 500, description = "A failure on our side, logged with its cause (`internal_error`)", body = ErrorBody),
        (status = 503, description = "The database is unreachable (`unavailable`)", body = ErrorBody),
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
    let now = Utc::now();
    let request = input
        .into_request(Source::PartnerApi, now.date_naive())
        .map_err(ApiError::Invalid)?;
    check_quota(&state, partner.as_ref(), 1, now).await?;
    let settings = state.settings.clone();
    let actor = actor_of(partner.as_ref());
    let partner_id = partner.map(|p| p.id);
    let created = state
        .intake
        .submit(settings, vec![request], actor, partner_id, now)
        .await?
        .remove(0);
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
        (status = 401, description = "No valid API token where one is required, or a revoked one (`unauthorized`)", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "Bearer"))),
        (status = 404, description = "No such request, or (with a token) not one this partner submitted (`not_found`)", body = ErrorBody),
        (status = 429, description = "Too many requests from this address (`rate_limited`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the next call can succeed"))),
        (status = 500, description = "A failure on our side, logged with its cause (`internal_error`)", body = ErrorBody),
        (status = 503, description = "The database is unreachable (`unavailable`)", body = ErrorBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn get_request(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let partner = caller(&state, &req).await?;
    let reference = CaseReference::parse(&reference).ok_or(ApiError::NotFound)?;
    let found = db::run(&state.pool, move |conn| {
        let Some(row) = db::requests::find_by_reference(conn, reference.as_str())? else {
            return Ok::<_, db::DbError>(None);
        };
        let queue = db::requests::queue(conn, &row.queue_slug)?;
        Ok(Some((row, queue.name)))
    })
    .await?;
    let (row, queue_name) = found
        .filter(|(row, _)| visible_to(row, partner.as_ref()))
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

/// `GET /api/v1/requests/{reference}/duplicates`: the possible duplicates of a request,
/// earlier and later, most likely first.
#[utoipa::path(
    get,
    path = "/api/v1/requests/{reference}/duplicates",
    tag = "requests",
    params(("reference" = String, Path, description = "The reference, like TF-7K3M-9QXD")),
    responses(
        (status = 200, description = "Possible duplicates, most likely first", body = DuplicateCandidates),
        (status = 401, description = "No valid API token where one is required, or a revoked one (`unauthorized`)", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "Bearer"))),
        (status = 404, description = "No such request, or (with a token) not one this partner submitted (`not_found`)", body = ErrorBody),
        (status = 429, description = "Too many requests from this address (`rate_limited`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the next call can succeed"))),
        (status = 500, description = "A failure on our side, logged with its cause (`internal_error`)", body = ErrorBody),
        (status = 503, description = "The database is unreachable (`unavailable`)", body = ErrorBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn get_duplicates(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let partner = caller(&state, &req).await?;
    let reference = CaseReference::parse(&reference).ok_or(ApiError::NotFound)?;
    let lookup = reference.to_string();
    let found = db::run(&state.pool, move |conn| {
        let Some(row) = db::requests::find_by_reference(conn, &lookup)? else {
            return Ok(None);
        };
        if !visible_to(&row, partner.as_ref()) {
            return Ok(None);
        }
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
        (status = 400, description = "The body is not JSON (`malformed_json`)", body = ErrorBody),
        (status = 401, description = "No valid API token where one is required, or a revoked one (`unauthorized`)", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "Bearer"))),
        (status = 413, description = "The body is over 4 MiB (`body_too_large`)", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "Nothing is stored (`invalid_fields`): the body is not an array of 1 to 500 requests, `atomic` is not `true` or `false`, no row is valid, or (with `atomic=true`) a row is invalid. Fields are named `[index].field`, `[index]` for a row that is not an object.", body = ErrorBody,
            example = json!({"error": "invalid_fields", "message": "the request has invalid fields", "errors": [
                {"field": "[1].applicant.full_name", "code": "full_name_missing", "message": "please enter the full name of the person who needs help"},
                {"field": "[2]", "code": "invalid", "message": "must be an object, not a list"}
            ]})),
        (status = 429, description = "Too many requests from this address (`rate_limited`), or the valid rows would pass the partner's daily quota (`quota_exceeded`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the next call can succeed"))),
        (status = 500, description = "A failure on our side, logged with its cause (`internal_error`)", body = ErrorBody),
        (status = 503, description = "The database is unreachable (`unavailable`)", body = ErrorBody),
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
    let now = Utc::now();
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
        let settings = state.settings.clone();
        let actor = actor_of(partner.as_ref());
        let partner_id = partner.map(|p| p.id);
        state
            .intake
            .submit(settings, valid, actor, partner_id, now)
            .await?
    };
    if created.iter().any(|c| c.mails > 0) {
        state.mail.wake();
    }
    let mut created = created.into_iter();
    let results: Vec<BatchResult> = parsed
        .into_iter()
        .enumerate()
        .map(|(index, row)| match row {
            Ok(_) => {
                let c = created.next().expect("one stored request per valid row");
                state.metrics.intake(&c.row.category, &c.row.source);
                BatchResult {
                    index,
                    status: RowStatus::Created,
                    reference: Some(c.row.reference),
                    category: Some(c.row.category),
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fields(body: &serde_json::Value) -> Vec<String> {
        match parse_json::<IntakeInput>(body.to_string().as_bytes()) {
            Err(ApiError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected invalid fields, got {other:?}"),
        }
    }

    proptest! {
        /// Whatever mix of good and bad programs is sent, exactly the bad ones are named,
        /// each by its index in the list as sent.
        #[test]
        fn every_bad_list_element_is_named_by_its_index_as_sent(
            picks in proptest::collection::vec((any::<bool>(), 0usize..4), 1..12)
        ) {
            let good = ["siv", "p1", "p2", "parole"];
            let list: Vec<serde_json::Value> = picks
                .iter()
                .map(|&(ok, n)| if ok { good[n].into() } else { format!("bad{n}").into() })
                .collect();
            let bad: Vec<String> = picks
                .iter()
                .enumerate()
                .filter(|(_, (ok, _))| !ok)
                .map(|(i, _)| format!("claimed_programs[{i}]"))
                .collect();
            let body = serde_json::json!({"claimed_programs": list, "consent": "yes"});
            let mut expected = bad;
            expected.push("consent".to_string());
            let mut got = fields(&body);
            got.sort();
            expected.sort();
            prop_assert_eq!(got, expected);
        }
    }

    /// Every name the contract gives a field, at any depth, so that generated bodies
    /// reach the nested parts.
    const KEYS: &[&str] = &[
        "submitter",
        "applicant",
        "siv",
        "referral",
        "claimed_programs",
        "us_tie",
        "urgent",
        "description",
        "consent",
        "language",
        "kind",
        "name",
        "email",
        "phone",
        "organization",
        "full_name",
        "date_of_birth",
        "whatsapp",
        "location",
        "household_size",
        "status",
        "case_number",
        "program",
        "referred_by",
        "danger",
        "medical",
    ];

    /// Values the contract allows somewhere, so that some fields fit and the rest is asked.
    const WORDS: &[&str] = &[
        "self",
        "sponsor",
        "organization",
        "agency_office",
        "pakistan",
        "border",
        "none",
        "in_process",
        "approved",
        "p1",
        "p2",
        "siv",
        "parole",
        "citizen",
        "lpr",
        "en",
        "fa-AF",
        "ps",
        "Ahmad Karimi",
        "+93 700 123 456",
        "1990-05-01",
    ];

    /// What serde or Rust would call things; a client must never read these. Generated
    /// text is drawn from letters that cannot spell any of them.
    const RUST_WORDS: &[&str] = &[
        "struct",
        "enum",
        "variant",
        "newtype",
        "tuple",
        "sequence",
        "map",
        "unit value",
        "floating point",
        "Option",
        "Vec",
        "String",
        "str`",
        "bool",
        "i8",
        "i16",
        "i32",
        "i64",
        "i128",
        "isize",
        "u8",
        "u16",
        "u32",
        "u64",
        "u128",
        "usize",
        "f32",
        "f64",
        "IntakeInput",
        "SubmitterInput",
        "ApplicantInput",
        "SivInput",
        "ReferralInput",
        "UrgentInput",
        "SubmitterKind",
        "Location",
        "SivStatus",
        "ReferralProgram",
        "Program",
        "UsTie",
        "Language",
    ];

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => proptest::sample::select(KEYS).prop_map(String::from),
            1 => "[a-h_]{1,4}",
        ]
    }

    fn object(
        values: impl Strategy<Value = serde_json::Value>,
    ) -> impl Strategy<Value = serde_json::Value> {
        proptest::collection::vec((key(), values), 0..8)
            .prop_map(|pairs| serde_json::Value::Object(pairs.into_iter().collect()))
    }

    /// Any JSON shape, of a depth serde reads without hitting its recursion limit.
    fn json_shape() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            proptest::num::f64::NORMAL.prop_map(Value::from),
            proptest::sample::select(WORDS).prop_map(Value::from),
            "[a-h ]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                object(inner),
            ]
        })
    }

    proptest! {
        /// Whatever shape a body has, every answer is the body's fit or the contract's
        /// words for each misfit, never serde's words for the Rust types behind it.
        #[test]
        fn no_answer_names_a_rust_type(
            body in prop_oneof![1 => json_shape(), 3 => object(json_shape())]
        ) {
            match parse_json::<IntakeInput>(body.to_string().as_bytes()) {
                Ok(_) => {}
                Err(ApiError::Invalid(errors)) => {
                    prop_assert!(!errors.is_empty());
                    for e in errors {
                        prop_assert!(!e.message.is_empty(), "{body}: {e:?}");
                        for word in RUST_WORDS {
                            prop_assert!(
                                !e.message.contains(word),
                                "{word:?} in {:?} at {:?} for {body}", e.message, e.field
                            );
                        }
                    }
                }
                Err(other) => prop_assert!(false, "{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn misfits_are_told_in_the_contracts_words() {
        for (body, field, message) in [
            (
                serde_json::json!({"siv": {"status": 3}}),
                "siv.status",
                "must be one of: none, in_process, approved, not the number 3",
            ),
            (
                serde_json::json!({"applicant": {"household_size": "five"}}),
                "applicant.household_size",
                "must be a whole number, not text",
            ),
            (
                serde_json::json!({"applicant": {"household_size": 4.5}}),
                "applicant.household_size",
                "must be a whole number, not the number 4.5",
            ),
            (
                serde_json::json!({"applicant": {"household_size": [4]}}),
                "applicant.household_size",
                "must be a whole number, not a list",
            ),
            (
                serde_json::json!({"consent": "yes"}),
                "consent",
                "must be true or false, not text",
            ),
            (
                serde_json::json!({"urgent": 1}),
                "urgent",
                "must be an object, not the number 1",
            ),
            (
                serde_json::json!({"referral": "p1"}),
                "referral",
                "must be an object, not text",
            ),
            (
                serde_json::json!({"claimed_programs": {}}),
                "claimed_programs",
                "must be a list, not an object",
            ),
            (
                serde_json::json!({"description": []}),
                "description",
                "must be a text string, not a list",
            ),
            (
                serde_json::json!({"urgent": {"now": true}}),
                "urgent.now",
                "is not a field of the contract; the fields here are: danger, medical",
            ),
        ] {
            assert_eq!(
                errors(&body),
                [(field.to_string(), message.to_string())],
                "{body}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_named_together() {
        let body = serde_json::json!({
            "applicant": {"nickname": "A", "household_size": true, "location": "mars"},
            "urgent": {"danger": 1},
            "extra": null,
        });
        let mut got = fields(&body);
        got.sort();
        assert_eq!(
            got,
            [
                "applicant.household_size",
                "applicant.location",
                "applicant.nickname",
                "extra",
                "urgent.danger"
            ]
        );
    }

    fn errors(body: &serde_json::Value) -> Vec<(String, String)> {
        match parse_json::<IntakeInput>(body.to_string().as_bytes()) {
            Err(ApiError::Invalid(errors)) => {
                errors.into_iter().map(|e| (e.field, e.message)).collect()
            }
            other => panic!("expected invalid fields, got {other:?}"),
        }
    }

    #[test]
    fn a_body_that_is_not_an_object_is_one_error() {
        for body in [
            serde_json::json!([1, 2]),
            serde_json::json!([{"kind": "self"}, {"full_name": "A"}]),
            serde_json::json!([]),
            serde_json::json!("text"),
        ] {
            let got = errors(&body);
            assert_eq!(got.len(), 1, "{body}: {got:?}");
            assert_eq!(got[0].0, "", "{body}");
            assert!(got[0].1.starts_with("must be an object"), "{body}: {got:?}");
        }
    }

    /// Serde would read a struct from a list by position; every part of the contract is
    /// an object, at every depth.
    #[test]
    fn a_list_where_a_part_is_wanted_is_named() {
        let parts = [
            (
                "submitter",
                serde_json::json!(["self", null, null, null, null]),
            ),
            (
                "applicant",
                serde_json::json!(["Ahmad Karimi", null, "+93700123456"]),
            ),
            ("siv", serde_json::json!(["approved", "COM-123456"])),
            ("referral", serde_json::json!(["p1", "UNHCR"])),
            ("urgent", serde_json::json!([true, false])),
            ("siv", serde_json::json!([])),
        ];
        for (part, list) in parts {
            let body = serde_json::json!({ part: list, "consent": true });
            assert_eq!(
                errors(&body),
                [(
                    part.to_string(),
                    "must be an object, not a list".to_string()
                )],
                "{body}"
            );
        }
    }

    #[test]
    fn a_list_sent_as_null_is_an_empty_list() {
        let input: IntakeInput = parse_json(br#"{"claimed_programs": null}"#).unwrap();
        assert!(input.claimed_programs.is_empty());
        assert_eq!(
            fields(&serde_json::json!({"claimed_programs": ["siv", "x"]})),
            ["claimed_programs[1]"]
        );
    }

    #[test]
    fn a_field_given_twice_is_named() {
        for (body, field) in [
            (&br#"{"consent": true, "consent": false}"#[..], "consent"),
            (
                br#"{"applicant": {"phone": "1", "phone": "2"}}"#,
                "applicant.phone",
            ),
        ] {
            match parse_json::<IntakeInput>(body) {
                Err(ApiError::Invalid(errors)) => {
                    assert_eq!(errors.len(), 1);
                    assert_eq!(errors[0].field, field);
                    assert!(errors[0].message.contains("more than once"));
                }
                other => panic!("expected invalid fields, got {other:?}"),
            }
        }
    }

    #[test]
    fn trailing_characters_are_not_json() {
        assert!(matches!(
            parse_json::<IntakeInput>(b"{} x"),
            Err(ApiError::MalformedJson(_))
        ));
        assert!(parse_json::<IntakeInput>(b"{}  \n").is_ok());
    }
}
