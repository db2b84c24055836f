//! The reporting API (`/api/v1/stats`): the dashboard's forecast as JSON for leadership's
//! own reports. Numbers only: no personal data, and no references either (the dashboard's
//! list of the next breaches links staff to cases; a report needs how many).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Serialize;

use super::admin::auth::SESSION_COOKIE;
use super::api::{rfc3339, token_of};
use super::errors::responses::ServerErrors;
use super::errors::ApiError;
use super::AppState;
use crate::app::forecast::{Forecast, QueueForecast, Reporter, BREACH_DAYS, HISTORY_DAYS};
use crate::domain::forecast::{Backtest, Projection, Trend};

/// The forecast of one queue, or of all queues together.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueReport {
    /// The queue's slug; `null` for the total over all queues.
    pub queue: Option<String>,
    pub name: String,
    /// Requests open now.
    pub backlog: i64,
    /// Requests received a day, smoothed (exponentially weighted moving average).
    pub inflow_per_day: f64,
    /// Requests closed a day, smoothed alike.
    pub closures_per_day: f64,
    /// The backlog projected ahead, with its band.
    pub projections: Vec<ProjectionReport>,
    pub trend: TrendReport,
    /// Open requests past their target `days` from now at the current closure pace.
    pub projected_breaches: BreachReport,
    /// Caseworkers who closed a request of this queue in the window measured.
    pub caseworkers: usize,
    /// Days to clear the backlog with more caseworkers on this queue.
    pub with_more_caseworkers: Vec<StaffingReport>,
    /// More caseworkers needed to clear the backlog within the target; `null` when no
    /// closures were measured.
    pub caseworkers_needed: Option<u32>,
    /// Mean wait in days by Little's law (backlog / inflow); `null` without inflow.
    pub littles_law_wait_days: Option<f64>,
    /// Mean age in days, at closing, of the requests closed in the window measured.
    pub measured_wait_days: Option<f64>,
    /// The forecast made `days` ago against what happened; `null` without that history.
    pub backtest: Option<BacktestReport>,
    /// The whole days of history, oldest first.
    pub history: Vec<DayReport>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProjectionReport {
    pub days: u32,
    pub expected: f64,
    pub low: f64,
    pub high: f64,
}

impl From<&Projection> for ProjectionReport {
    fn from(p: &Projection) -> Self {
        ProjectionReport {
            days: p.days,
            expected: p.expected,
            low: p.low,
            high: p.high,
        }
    }
}

/// Where the backlog is heading at the current pace.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TrendReport {
    /// Closures outrun inflow: the backlog is gone in `days`.
    Clearing { days: f64 },
    /// Inflow outruns closures by `per_day` requests a day.
    Growing { per_day: f64 },
    /// Inflow and closures match (within a tenth of a request a day).
    Steady,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BreachReport {
    pub days: u32,
    pub urgent: i64,
    pub high: i64,
    pub normal: i64,
    pub total: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffingReport {
    pub more_caseworkers: u32,
    /// `null` where the backlog would still not clear.
    pub clears_in_days: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BacktestReport {
    /// How long ago the forecast was made.
    pub days: u32,
    pub forecast: ProjectionReport,
    pub actual: f64,
    /// forecast − actual.
    pub error: f64,
    /// |error| / actual; `null` when nothing was left open.
    pub relative_error: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DayReport {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub received: i64,
    pub closed: i64,
    /// Open at the end of the day.
    pub backlog: i64,
}

/// The forecast as the dashboard shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ForecastReport {
    /// When it was computed (RFC 3339, UTC).
    pub as_of: String,
    /// The smoothing factor (`FORECAST_ALPHA`).
    pub alpha: f64,
    /// The latest days that carry 90 % of the smoothing's weight.
    pub weighing_days: u32,
    /// Whole days of history smoothed.
    pub history_days: i64,
    /// The target the staffing numbers clear the backlog within (`FORECAST_TARGET_DAYS`).
    pub target_days: u32,
    /// How the projection band is made.
    pub band: &'static str,
    /// Requests closed a day per caseworker who closed any, in the window measured.
    pub closures_per_caseworker_per_day: Option<f64>,
    pub caseworkers: usize,
    /// Where the window of closings measured starts (RFC 3339, UTC).
    pub closings_measured_from: String,
    pub total: QueueReport,
    pub queues: Vec<QueueReport>,
}

impl From<&Backtest> for BacktestReport {
    fn from(b: &Backtest) -> Self {
        BacktestReport {
            days: b.days,
            forecast: (&b.forecast).into(),
            actual: b.actual,
            error: b.error,
            relative_error: b.relative,
        }
    }
}

impl From<&QueueForecast> for QueueReport {
    fn from(q: &QueueForecast) -> Self {
        let [urgent, high, normal] = q.breaches.by_priority;
        QueueReport {
            queue: q.slug.clone(),
            name: q.name.clone(),
            backlog: q.backlog,
            inflow_per_day: q.inflow,
            closures_per_day: q.closures,
            projections: q.projections.iter().map(Into::into).collect(),
            trend: match q.trend {
                Trend::Clearing { days } => TrendReport::Clearing { days },
                Trend::Growing { per_day } => TrendReport::Growing { per_day },
                Trend::Steady => TrendReport::Steady,
            },
            projected_breaches: BreachReport {
                days: BREACH_DAYS,
                urgent,
                high,
                normal,
                total: q.breaches.total(),
            },
            caseworkers: q.caseworkers,
            with_more_caseworkers: q
                .with_more
                .iter()
                .map(|&(more_caseworkers, clears_in_days)| StaffingReport {
                    more_caseworkers,
                    clears_in_days,
                })
                .collect(),
            caseworkers_needed: q.needed,
            littles_law_wait_days: q.littles_wait_days,
            measured_wait_days: q.measured_wait_days,
            backtest: q.backtest.as_ref().map(Into::into),
            history: q
                .history
                .iter()
                .map(|d| DayReport {
                    day: d.day.format("%Y-%m-%d").to_string(),
                    received: d.received,
                    closed: d.closed,
                    backlog: d.backlog,
                })
                .collect(),
        }
    }
}

impl From<&Forecast> for ForecastReport {
    fn from(f: &Forecast) -> Self {
        ForecastReport {
            as_of: rfc3339(f.now),
            alpha: f.alpha,
            weighing_days: f.weighing_days,
            history_days: HISTORY_DAYS,
            target_days: f.target_days,
            band: "±2√(inflow·days): two standard deviations of the requests that arrive in \
                   that many days if arrivals are Poisson; closures are taken as steady",
            closures_per_caseworker_per_day: f.per_caseworker,
            caseworkers: f.caseworkers,
            closings_measured_from: rfc3339(f.closings_from),
            total: (&f.total).into(),
            queues: f.queues.iter().map(Into::into).collect(),
        }
    }
}

/// Who is reading: a bearer token when one is sent (and then it must be valid), else the
/// staff session of the admin pages.
async fn reporter(state: &AppState, req: &HttpRequest) -> Result<Reporter, ApiError> {
    if req.headers().contains_key(header::AUTHORIZATION) {
        let (_, scope) = token_of(state, req).await?;
        return Ok(Reporter::Token(scope));
    }
    let session = req.cookie(SESSION_COOKIE).ok_or(ApiError::Unauthorized)?;
    let now = Utc::now().naive_utc();
    let staff = crate::app::staff::session(state, session.value(), now)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(Reporter::Staff(staff))
}

/// What a reader who may not read the forecast is told.
fn refused(reader: &Reporter) -> ApiError {
    ApiError::Forbidden(match reader {
        Reporter::Token(_) => {
            "this token may submit and read requests, not the statistics; an admin issues a \
             token with the reporting scope on /admin/partners"
        }
        Reporter::Staff(_) => "your role does not see the dashboard",
    })
}

/// `GET /api/v1/stats/forecast`: where each queue's backlog is heading, the projected SLA
/// breaches and what more caseworkers would change, with the backtest; the same numbers as
/// the dashboard, unrounded. For a token issued with the reporting scope, or a logged-in
/// staff member whose role sees the dashboard.
#[utoipa::path(
    get,
    path = "/api/v1/stats/forecast",
    tag = "statistics",
    responses(
        (status = 200, description = "The forecast of every queue and in total", body = ForecastReport),
        (status = 401, description = "No API token or staff session, or an unknown or revoked token (`unauthorized`)",
            body = super::errors::ErrorBody,
            headers(("WWW-Authenticate" = String, description = "Bearer"))),
        (status = 403, description = "A token issued to submit and read requests, not for reporting, or a staff role that does not see the dashboard (`forbidden`)",
            body = super::errors::ErrorBody),
        (status = 429, description = "Too many requests from this address (`rate_limited`)",
            body = super::errors::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the next call can succeed"))),
        ServerErrors,
    ),
    security(("bearer" = []))
)]
pub async fn forecast(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let reader = reporter(&state, &req).await?;
    let now = Utc::now().naive_utc();
    match crate::app::forecast::report(&state, &reader, now).await {
        Ok(forecast) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(ForecastReport::from(&forecast))),
        Err(crate::app::Error::Forbidden) => Err(refused(&reader)),
        Err(e) => Err(e.into()),
    }
}
