//! The conversation through the partner API: `GET /api/v1/requests/{reference}/messages`
//! (the messages addressed to the requester of a request the partner submitted) and `POST`
//! to the same path (information the partner adds on behalf of the applicant).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::api::reader;
use super::errors::responses::{ReadErrors, ServerErrors};
use super::errors::{ApiError, ErrorBody};
use super::json::{parse_json, read_json_body};
use super::{AppState, API_BODY_LIMIT};
use crate::app::correspondence::{AnswerError, Answerer};
use crate::domain::correspondence::{BodyError, ANSWER_LIMIT};
use crate::domain::problem::Problem;
use crate::domain::{CaseReference, FieldError, Language};

/// One message as a partner sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiMessage {
    /// Always `outgoing`: the task force to the requester.
    pub direction: String,
    pub language: Language,
    pub body: String,
    /// RFC 3339, UTC.
    pub created_at: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Messages {
    pub reference: String,
    /// Newest first.
    pub messages: Vec<ApiMessage>,
}

/// What a partner adds on behalf of the applicant.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAnswer {
    /// Plain text, 1 to 4,000 characters, not only white space.
    #[schema(min_length = 1, max_length = 4000, pattern = r"\S")]
    pub body: String,
}

/// The messages the task force wrote to the requester of a request this partner submitted,
/// newest first. Internal notes are never among them.
#[utoipa::path(
    get,
    path = "/api/v1/requests/{reference}/messages",
    tag = "requests",
    params(("reference" = String, Path, description = "The reference, like TF-7K3M-9QXD")),
    responses(
        (status = 200, description = "The messages addressed to the requester, newest first", body = Messages),
        ReadErrors,
        ServerErrors,
    ),
    security(("bearer" = []))
)]
pub async fn get_messages(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let partner = reader(&state, &req).await?;
    let reference = CaseReference::parse(&reference).ok_or(ApiError::NotFound)?;
    let rows =
        crate::app::correspondence::for_partner(&state, partner.id.clone(), reference.clone())
            .await?
            .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(Messages {
        reference: reference.to_string(),
        messages: rows
            .into_iter()
            .map(|m| ApiMessage {
                direction: m.direction.to_string(),
                language: m.language,
                body: m.body,
                created_at: super::api::rfc3339(m.created_at),
            })
            .collect(),
    }))
}

/// Adds information on behalf of the applicant of a request this partner submitted: stored
/// on the case as the requester's answer, with the same effects as one on the status page.
#[utoipa::path(
    post,
    path = "/api/v1/requests/{reference}/messages",
    tag = "requests",
    params(("reference" = String, Path, description = "The reference, like TF-7K3M-9QXD")),
    request_body(content = NewAnswer, content_type = "application/json",
        example = json!({"body": "The applicant's COM case number is on the way."})),
    responses(
        (status = 201, description = "Stored on the case"),
        (status = 400, description = "The body is not JSON (`malformed_json`)", body = ErrorBody),
        (status = 413, description = "The body is over 64 KiB (`body_too_large`)", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "`body` is missing, empty or longer than 4,000 characters (`invalid_fields`)", body = ErrorBody),
        ReadErrors,
        ServerErrors,
    ),
    security(("bearer" = []))
)]
pub async fn post_message(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let partner = reader(&state, &req).await?;
    let reference = CaseReference::parse(&reference).ok_or(ApiError::NotFound)?;
    let body = read_json_body(&req, payload, API_BODY_LIMIT).await?;
    let input: NewAnswer = parse_json(&body)?;
    let who = Answerer::Partner {
        partner_id: partner.id,
        reference,
    };
    let now = Utc::now().naive_utc();
    match crate::app::correspondence::answer(&state, who, input.body, now).await {
        Ok(()) => Ok(HttpResponse::Created().finish()),
        Err(AnswerError::NotFound) => Err(ApiError::NotFound),
        Err(AnswerError::Body(e)) => Err(ApiError::Invalid(vec![FieldError {
            field: "body".into(),
            code: match e {
                BodyError::Empty => "invalid",
                BodyError::TooLong(..) => Problem::TextTooLong.code(),
            },
            message: match e {
                BodyError::Empty => "must not be empty".into(),
                BodyError::TooLong(n, _) => {
                    format!("is {n} characters long; at most {ANSWER_LIMIT} are allowed")
                }
            },
        }])),
        Err(AnswerError::Failed(e)) => Err(e.into()),
    }
}
