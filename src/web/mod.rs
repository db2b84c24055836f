//! HTTP: the public request form, the partner JSON API, health checks and static assets.

pub mod admin;
pub mod api;
pub mod api_messages;
pub mod assets;
pub mod errors;
pub mod form;
pub mod health;
pub mod json;
pub mod lang;
pub mod limits;
pub mod middleware;
pub mod openapi;
pub mod pages;
pub mod stats;
pub mod status;

use actix_web::middleware::from_fn;
use actix_web::web;
use actix_web::ResponseError;

pub use crate::app::AppState;

/// Largest JSON body the API accepts.
pub const API_BODY_LIMIT: usize = 64 * 1024;
/// Largest body of `POST /api/v1/requests:batch` (500 requests of a few KiB each).
pub const BATCH_BODY_LIMIT: usize = 4 * 1024 * 1024;
/// Largest form body accepted (a 5,000-character description in Arabic script,
/// percent-encoded, is about 60 KB).
pub const FORM_BODY_LIMIT: usize = 128 * 1024;

/// Every address is one resource holding all of its methods, so that any other method is
/// answered 405 with an `Allow` header naming them. (`cfg.route` would put the method guard
/// on the address itself, and another method would fall through to the not-found page.)
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/")
            .route(get_or_head().to(pages::intake_form))
            .route(web::post().to(pages::submit_form))
            .wrap(from_fn(limits::limit_form)),
    )
    .service(
        web::resource("/requests")
            .route(web::post().to(pages::submit_form))
            // The address a form with errors came back from, reloaded or bookmarked.
            .route(web::get().to(pages::to_the_form))
            .wrap(from_fn(limits::limit_form)),
    )
    .service(web::resource("/submitted/{receipt}").get(pages::confirmation))
    .service(
        web::resource("/status")
            .route(get_or_head().to(status::status_form))
            .route(web::post().to(status::check_status))
            .wrap(from_fn(limits::limit_form)),
    )
    .service(
        web::resource("/status/answer")
            .route(web::post().to(status::post_answer))
            // A reloaded or bookmarked answer address: the status form.
            .route(get_or_head().to(status::status_form))
            .wrap(from_fn(limits::limit_form)),
    )
    .service(web::resource("/thanks").route(get_or_head().to(pages::thanks)))
    .service(
        web::scope("/api/v1")
            .wrap(from_fn(limits::limit_api))
            .service(api_resource("/requests", "POST").route(web::post().to(api::create_request)))
            .service(
                api_resource("/requests:batch", "POST").route(web::post().to(api::create_batch)),
            )
            .service(
                api_resource("/requests/{reference}", "GET").route(web::get().to(api::get_request)),
            )
            .service(
                api_resource("/requests/{reference}/duplicates", "GET")
                    .route(web::get().to(api::get_duplicates)),
            )
            .service(
                api_resource("/requests/{reference}/messages", "GET, POST")
                    .route(web::get().to(api_messages::get_messages))
                    .route(web::post().to(api_messages::post_message)),
            )
            .service(api_resource("/stats/forecast", "GET").route(web::get().to(stats::forecast))),
    )
    .service(
        api_resource("/api/openapi.json", "GET, HEAD").route(get_or_head().to(openapi::document)),
    )
    .service(web::resource("/healthz").route(get_or_head().to(health::healthz)))
    .service(web::resource("/readyz").route(get_or_head().to(health::readyz)))
    .service(web::resource("/metrics").route(get_or_head().to(health::metrics)))
    .service(web::resource("/static/{file}").route(get_or_head().to(assets::serve)))
    .service(web::resource("/robots.txt").route(get_or_head().to(assets::robots)))
    .service(web::resource("/favicon.ico").route(get_or_head().to(assets::favicon_ico)))
    .configure(admin::routes)
    .default_service(web::to(not_found));
}

/// GET, and HEAD answered by the same handler (the server sends no body for HEAD): uptime
/// monitors often ask with HEAD. Only for pages that change nothing when read: a case page
/// records who viewed it, and a confirmation page shows its status-check code once.
fn get_or_head() -> actix_web::Route {
    use actix_web::guard;
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// An API resource whose other methods are answered `405` in the API's error format.
fn api_resource(path: &str, allowed: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || async move {
        errors::ApiError::MethodNotAllowed(allowed).error_response()
    }))
}

/// What an address that leads nowhere answers: the API's error format under `/api/`, and
/// elsewhere the not-found page in the visitor's language, with a link to the form.
async fn not_found(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    if req.path().starts_with("/api/") {
        return errors::ApiError::NotFound.error_response();
    }
    errors::PageError::NotFound.page(lang::negotiate(&req, None))
}
