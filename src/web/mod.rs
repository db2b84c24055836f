//! HTTP: the public request form, the partner JSON API, health checks and static assets.

pub mod admin;
pub mod api;
pub mod assets;
pub mod errors;
pub mod form;
pub mod health;
pub mod lang;
pub mod limits;
pub mod middleware;
pub mod openapi;
pub mod pages;
pub mod status;

use actix_web::middleware::from_fn;
use actix_web::web;
use std::sync::Arc;

use crate::config::Settings;
use crate::db::Pool;
use crate::email::Waker;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    /// Intake: its setup in memory, its writes grouped into shared commits on SQLite.
    pub intake: crate::intake::Intake,
    pub settings: Arc<Settings>,
    /// Wakes the outbox worker after a commit that wrote mail.
    pub mail: Waker,
    pub metrics: crate::metrics::Metrics,
}

/// Largest JSON body the API accepts.
pub const API_BODY_LIMIT: usize = 64 * 1024;
/// Largest body of `POST /api/v1/requests:batch` (500 requests of a few KiB each).
pub const BATCH_BODY_LIMIT: usize = 4 * 1024 * 1024;
/// Largest form body accepted (a 5,000-character description in Arabic script,
/// percent-encoded, is about 60 KB).
pub const FORM_BODY_LIMIT: usize = 128 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/")
            .route(web::get().to(pages::intake_form))
            .route(web::post().to(pages::submit_form))
            .wrap(from_fn(limits::limit_form)),
    )
    .service(
        web::resource("/requests")
            .route(web::post().to(pages::submit_form))
            .wrap(from_fn(limits::limit_form)),
    )
    .route("/submitted/{receipt}", web::get().to(pages::confirmation))
    .service(
        web::resource("/status")
            .route(web::get().to(status::status_form))
            .route(web::post().to(status::check_status))
            .wrap(from_fn(limits::limit_form)),
    )
    .route("/thanks", web::get().to(pages::thanks))
    .service(
        web::scope("/api/v1")
            .wrap(from_fn(limits::limit_api))
            .route("/requests", web::post().to(api::create_request))
            .route("/requests:batch", web::post().to(api::create_batch))
            .route("/requests/{reference}", web::get().to(api::get_request))
            .route(
                "/requests/{reference}/duplicates",
                web::get().to(api::get_duplicates),
            ),
    )
    .route("/api/openapi.json", web::get().to(openapi::document))
    .route("/healthz", web::get().to(health::healthz))
    .route("/readyz", web::get().to(health::readyz))
    .route("/metrics", web::get().to(health::metrics))
    .route("/static/{file}", web::get().to(assets::serve))
    .configure(admin::routes);
}
