//! How failures reach clients: JSON for the API, a page for browsers. Bad input is the
//! client's to fix and says which field; our own failures are a 500 whose cause is logged,
//! never shown.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use serde::Serialize;

use crate::app::intake::SubmitError;
use crate::db::DbError;
use crate::domain::{FieldError, Language};
use crate::i18n::Tr;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the body is not valid JSON")]
    MalformedJson(Vec<FieldError>),
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("not found")]
    NotFound,
    /// Answered with an `Allow` header naming the methods that are.
    #[error("this method is not allowed here; use {0}")]
    MethodNotAllowed(&'static str),
    #[error("a valid API token is required: send Authorization: Bearer <token>")]
    Unauthorized,
    /// A valid caller that may not do this; the sentence says why and what to do.
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("the partner's daily quota of {quota} requests is used up; it resets at midnight UTC, in {retry_after} seconds")]
    QuotaExceeded { quota: i32, retry_after: u64 },
    #[error("too many requests from your address; try again in {0} seconds")]
    RateLimited(u64),
    #[error("the service is temporarily unavailable")]
    Unavailable(#[source] DbError),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// The body of every API error: a code to branch on, a sentence, and the field errors.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// `malformed_json`, `invalid_fields`, `body_too_large`, `unsupported_media_type`,
    /// `not_found`, `method_not_allowed`, `unauthorized`, `forbidden`, `quota_exceeded`,
    /// `rate_limited`, `unavailable` or `internal_error`.
    #[schema(example = "invalid_fields")]
    pub error: &'static str,
    #[schema(example = "the request has invalid fields")]
    pub message: String,
    /// One entry per field at fault; empty when no field is.
    pub errors: Vec<FieldError>,
}

impl ApiError {
    fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::Invalid(_) => "invalid_fields",
            ApiError::TooLarge(_) => "body_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::QuotaExceeded { .. } => "quota_exceeded",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Pool(_) | DbError::Connect(_) | DbError::Commit(_) => ApiError::Unavailable(e),
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<crate::app::Error> for ApiError {
    fn from(e: crate::app::Error) -> Self {
        use crate::app::Error;
        match e {
            Error::NotFound | Error::Forbidden => ApiError::NotFound,
            Error::Db(db) => db.into(),
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Db(db) => db.into(),
            other => ApiError::Internal(other.into()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson(_) => StatusCode::BAD_REQUEST,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::QuotaExceeded { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        log_server_error(self);
        let errors = match self {
            ApiError::MalformedJson(e) | ApiError::Invalid(e) => e.clone(),
            _ => Vec::new(),
        };
        let mut resp = HttpResponse::build(self.status_code());
        match self {
            ApiError::Unauthorized => {
                resp.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::MethodNotAllowed(allowed) => {
                resp.insert_header((header::ALLOW, *allowed));
            }
            ApiError::QuotaExceeded { retry_after, .. } => {
                resp.insert_header((header::RETRY_AFTER, *retry_after));
            }
            _ => {}
        }
        resp.json(ErrorBody {
            error: self.code(),
            message: self.to_string(),
            errors,
        })
    }
}

/// The error answers several `/api/v1` operations share, declared once for the OpenAPI
/// document; an operation lists its own beside them.
pub mod responses {
    use super::ErrorBody;

    /// Every operation: failures on our side.
    #[derive(utoipa::IntoResponses)]
    pub enum ServerErrors {
        #[response(
            status = 500,
            description = "A failure on our side, logged with its cause (`internal_error`)"
        )]
        Internal(ErrorBody),
        #[response(
            status = 503,
            description = "The database is unreachable (`unavailable`)"
        )]
        Unavailable(ErrorBody),
    }

    /// The operations that take a JSON body and store requests.
    #[derive(utoipa::IntoResponses)]
    pub enum SubmitErrors {
        #[response(status = 400, description = "The body is not JSON (`malformed_json`)")]
        MalformedJson(ErrorBody),
        #[response(
            status = 401,
            description = "No valid API token where one is required, or a revoked one (`unauthorized`)",
            headers(("WWW-Authenticate" = String, description = "Bearer"))
        )]
        Unauthorized(ErrorBody),
        #[response(
            status = 403,
            description = "A reporting token, which reads the statistics only (`forbidden`)"
        )]
        Forbidden(ErrorBody),
        #[response(
            status = 415,
            description = "Content-Type is not application/json (`unsupported_media_type`)"
        )]
        UnsupportedMediaType(ErrorBody),
    }

    /// The operations that read a request a partner submitted.
    #[derive(utoipa::IntoResponses)]
    pub enum ReadErrors {
        #[response(
            status = 401,
            description = "No API token, or an unknown or revoked one: reading always needs a partner token, even where anonymous submission is allowed (`unauthorized`)",
            headers(("WWW-Authenticate" = String, description = "Bearer"))
        )]
        Unauthorized(ErrorBody),
        #[response(
            status = 403,
            description = "A reporting token, which reads the statistics only (`forbidden`)"
        )]
        Forbidden(ErrorBody),
        #[response(
            status = 404,
            description = "No such request, or not one this partner submitted: both answer alike (`not_found`)"
        )]
        NotFound(ErrorBody),
        #[response(
            status = 429,
            description = "Too many requests from this address (`rate_limited`)",
            headers(("Retry-After" = u64, description = "Seconds until the next call can succeed"))
        )]
        RateLimited(ErrorBody),
    }
}

/// Errors of the HTML pages.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("page not found")]
    NotFound,
    #[error("the service is temporarily unavailable")]
    Unavailable(#[source] DbError),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<DbError> for PageError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Pool(_) | DbError::Connect(_) | DbError::Commit(_) => {
                PageError::Unavailable(e)
            }
            other => PageError::Internal(other.into()),
        }
    }
}

impl From<crate::app::Error> for PageError {
    fn from(e: crate::app::Error) -> Self {
        use crate::app::Error;
        match e {
            Error::NotFound | Error::Forbidden => PageError::NotFound,
            Error::Db(db) => db.into(),
            other => PageError::Internal(other.into()),
        }
    }
}

impl From<SubmitError> for PageError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Db(db) => db.into(),
            other => PageError::Internal(other.into()),
        }
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        PageError::Internal(e.into())
    }
}

#[derive(Template)]
#[template(path = "public/message.html")]
pub struct MessagePage<'a> {
    pub tr: Tr,
    /// Where the language switch links; `None` hides it.
    pub switch: Option<&'a str>,
    pub title: &'a str,
    pub message: &'a str,
}

impl PageError {
    /// The error as a page in `language`; server-side causes are logged, never shown.
    pub fn page(&self, language: Language) -> HttpResponse {
        log_server_error(self);
        let tr = Tr(language);
        let (title, message) = match self {
            PageError::NotFound => (tr.t("not-found-title"), tr.t("not-found-body")),
            _ => (tr.t("failure-title"), tr.t("failure-body")),
        };
        let body = MessagePage {
            tr,
            switch: None,
            title: &title,
            message: &message,
        }
        .render()
        .unwrap_or_else(|_| message.clone());
        html(self.status_code(), body)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.page(Language::En)
    }
}

/// An HTML response with the given status.
pub fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// Logs server-side failures with their cause chain; client errors are not logged here.
fn log_server_error(e: &(dyn std::error::Error + 'static)) {
    let mut chain = String::new();
    let mut source = e.source();
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    if !chain.is_empty() {
        tracing::error!(error = %e, cause = %chain, "request failed");
    }
}
