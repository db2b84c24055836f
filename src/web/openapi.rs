//! The published contract of the JSON API: an OpenAPI 3 document generated from the
//! request and response types themselves, served at `GET /api/openapi.json`.

use actix_web::HttpResponse;
use utoipa::OpenApi;

use super::{api, errors, health};
use crate::domain::intake;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "case-triage partner API",
        description = "Send a resettlement request once; the server classifies and routes it. Every error has the body `{\"error\", \"message\", \"errors\": [{\"field\", \"message\"}]}`."
    ),
    paths(
        api::create_request,
        api::get_request,
        api::get_duplicates,
        health::healthz,
        health::readyz
    ),
    components(schemas(
        intake::IntakeInput,
        intake::FieldError,
        errors::ErrorBody,
        api::RequestSummary,
        api::DuplicateCandidates,
        health::HealthBody
    ))
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`.
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
