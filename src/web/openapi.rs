//! The published contract of the JSON API: an OpenAPI 3 document generated from the
//! request and response types themselves, served at `GET /api/openapi.json`.

use actix_web::HttpResponse;
use utoipa::OpenApi;

use super::{api, api_messages, errors, health, stats};
use crate::domain::intake;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "case-triage partner API",
        description = "Send a resettlement request once; the server classifies and routes it. Partners authenticate with `Authorization: Bearer <token>`. Submitting may be anonymous where the deployment allows it (`API_ANONYMOUS=true`, the default); reading a request or its duplicates always needs a token, and a partner reads only the requests it submitted. The forecast statistics (`/api/v1/stats/forecast`, no personal data) need a token issued with the reporting scope, or a staff session whose role sees the dashboard; a token does one of the two, never both. Every error has the body `{\"error\", \"message\", \"errors\": [{\"field\", \"message\"}]}`."
    ),
    paths(
        api::create_request,
        api::create_batch,
        api::get_request,
        api::get_duplicates,
        api_messages::get_messages,
        api_messages::post_message,
        stats::forecast,
        health::healthz,
        health::readyz
    ),
    components(schemas(
        intake::IntakeInput,
        intake::FieldError,
        errors::ErrorBody,
        api::RequestSummary,
        api::DuplicateCandidates,
        api::BatchResponse,
        api::BatchResult,
        api_messages::Messages,
        api_messages::NewAnswer,
        stats::ForecastReport,
        health::HealthBody
    )),
    modifiers(&BearerToken)
)]
pub struct ApiDoc;

/// Declares the `bearer` scheme: a partner's API token, issued on `/admin/partners`.
struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A partner's API token, issued on /admin/partners either to submit and read requests or for reporting (the statistics only). Required for every read; optional for submitting where the deployment allows anonymous submission (API_ANONYMOUS=true, the default). A token that is sent must be valid.",
                    ))
                    .build(),
            ),
        );
    }
}

/// `GET /api/openapi.json`.
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
