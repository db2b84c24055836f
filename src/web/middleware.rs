//! Cross-cutting HTTP behaviour: security headers and request logs that name the route
//! pattern, never the path (paths can hold tokens) or the query.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use std::time::Instant;

use super::AppState;

const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// Logs method, route pattern, status and duration of every request.
pub async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "<unmatched>".to_string());
    let metrics = req
        .app_data::<actix_web::web::Data<crate::web::AppState>>()
        .map(|s| s.metrics.clone());
    let res = next.call(req).await?;
    if let Some(m) = metrics {
        m.http(
            method.as_str(),
            &route,
            res.status().as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    tracing::info!(
        %method,
        route = %route,
        status = res.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "http"
    );
    Ok(res)
}

/// Tells browsers to use HTTPS only, for a year, once they have reached the app over it.
const HSTS: &str = "max-age=31536000";

/// Adds security headers to every response; HSTS when the app is served over HTTPS.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let https = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.settings.base_url.scheme() == "https");
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    Ok(res)
}
