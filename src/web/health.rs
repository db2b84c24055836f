//! Liveness and readiness for load balancers and orchestration.

use actix_web::{web, HttpResponse};
use serde_json::json;
use std::time::Duration;

use super::AppState;
use crate::db;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// What the health checks answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct HealthBody {
    /// `ok` or `unavailable`.
    pub status: String,
    /// `ok` or `unreachable`.
    pub database: String,
    /// `/readyz` only: `applied`, `pending` or `unknown`.
    #[schema(nullable = false)]
    pub migrations: Option<String>,
}

/// 200 when the database answers, 503 when it does not.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    responses(
        (status = 200, description = "The database answers", body = HealthBody),
        (status = 503, description = "The database does not answer", body = HealthBody),
    )
)]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.clone();
    let ok = web::block(move || db::ping(&pool, CHECK_TIMEOUT))
        .await
        .is_ok_and(|r| r.is_ok());
    respond(
        ok,
        json!({ "database": if ok { "ok" } else { "unreachable" } }),
    )
}

/// 200 when the database answers and every migration is applied.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "Ready to serve", body = HealthBody),
        (status = 503, description = "The database does not answer or migrations are pending", body = HealthBody),
    )
)]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.clone();
    let checked = web::block(move || -> Result<bool, db::DbError> {
        let mut conn = pool.get_timeout(CHECK_TIMEOUT)?;
        db::setup::is_migrated(&mut conn)
    })
    .await;
    let (database, migrations) = match checked {
        Ok(Ok(true)) => ("ok", "applied"),
        Ok(Ok(false)) => ("ok", "pending"),
        _ => ("unreachable", "unknown"),
    };
    respond(
        database == "ok" && migrations == "applied",
        json!({ "database": database, "migrations": migrations }),
    )
}

/// Prometheus metrics: this instance's counters and latencies, and the shared backlog.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.clone();
    let shared = web::block(move || -> Result<_, db::DbError> {
        let mut conn = pool.get_timeout(CHECK_TIMEOUT)?;
        let queues = db::queues::with_open_counts(&mut conn)?
            .into_iter()
            .map(|(q, n)| (q.slug, n))
            .collect::<Vec<_>>();
        let c = db::outbox::counts(&mut conn)?;
        Ok((queues, c))
    })
    .await;
    let (queues, outbox) = match shared {
        Ok(Ok((q, c))) => (
            q,
            vec![("pending", c.pending), ("sent", c.sent), ("dead", c.dead)],
        ),
        _ => (Vec::new(), Vec::new()),
    };
    let pool = state.pool.state();
    let body = state
        .metrics
        .render(&queues, &outbox, pool.connections, pool.idle_connections);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}

fn respond(ok: bool, mut body: serde_json::Value) -> HttpResponse {
    body["status"] = json!(if ok { "ok" } else { "unavailable" });
    if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
