//! Escalation on the staff side: the landing of a page's "I take this case" link, the case
//! page's Acknowledge button, marking oneself on or off duty, the leads' page of every
//! escalation, and the rota editor of a queue.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{need, page, see_other, status_for, AdminError, Allowed, Nav, Posted, Staff};
use crate::app::escalation::{Landing, Overview, PageLink};
use crate::app::rota::Rota;
use crate::domain::CaseReference;
use crate::email::mails::age_in_words;
use crate::web::errors::html;
use crate::web::AppState;

/// `?until=&sig=` of a page's link.
#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    until: i64,
    #[serde(default)]
    sig: String,
}

#[derive(Template)]
#[template(path = "admin/page_link.html")]
struct LandingPage {
    nav: Nav,
    page: String,
    until: i64,
    sig: String,
    /// "ready", "used", "expired", "over" or "invalid".
    state: &'static str,
    reference: String,
    queue: String,
    waited: String,
}

fn landing_page(
    staff: &Staff,
    link: &PageLink,
    landing: Landing,
) -> Result<HttpResponse, AdminError> {
    let (state, reference, queue, waited) = match landing {
        Landing::Ready {
            reference,
            queue,
            waited,
        } => ("ready", reference, queue, age_in_words(waited)),
        Landing::Used { reference } => ("used", reference, String::new(), String::new()),
        Landing::Expired { reference } => ("expired", reference, String::new(), String::new()),
        Landing::Over { reference } => ("over", reference, String::new(), String::new()),
        Landing::Invalid => ("invalid", String::new(), String::new(), String::new()),
    };
    let status = if state == "ready" {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::GONE
    };
    let body = LandingPage {
        nav: Nav::of(staff),
        page: link.page.clone(),
        until: link.until,
        sig: link.sig.clone(),
        state,
        reference,
        queue,
        waited,
    }
    .render()?;
    Ok(html(status, body))
}

/// `GET /admin/pages/{id}`: the link of a page mail. Logged out, it goes through the login
/// and comes back; logged in, it shows the case waiting, with "I take this case".
pub async fn follow_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: Result<Staff, AdminError>,
    id: web::Path<String>,
    query: web::Query<LinkQuery>,
) -> Result<HttpResponse, AdminError> {
    let staff = match staff {
        Ok(s) => s,
        Err(AdminError::LoginRequired) => {
            let back = req
                .uri()
                .path_and_query()
                .map_or(req.path(), |p| p.as_str());
            return Ok(see_other(&super::auth::login_then(back)));
        }
        Err(e) => return Err(e),
    };
    let link = PageLink {
        page: id.into_inner(),
        until: query.until,
        sig: query.sig.clone(),
    };
    let landing = crate::app::escalation::land(&state, &staff, link.clone()).await?;
    landing_page(&staff, &link, landing)
}

/// Text, not a number: a flattened form (`Posted`) hands every field over as text.
#[derive(Deserialize)]
pub struct TakeForm {
    #[serde(default)]
    until: String,
    #[serde(default)]
    sig: String,
}

/// `POST /admin/pages/{id}`: "I take this case".
pub async fn take(
    state: web::Data<AppState>,
    posted: Posted<need::WorkOwnQueues, TakeForm>,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let link = PageLink {
        page: id.into_inner(),
        until: form.until.trim().parse().unwrap_or(0),
        sig: form.sig,
    };
    match crate::app::escalation::take(&state, &staff, link.clone()).await? {
        Landing::Ready { reference, .. } => Ok(see_other(&format!("/admin/requests/{reference}"))),
        other => landing_page(&staff, &link, other),
    }
}

#[derive(Deserialize)]
pub struct Nothing {}

/// `POST /admin/requests/{reference}/acknowledge`: the case page's button.
pub async fn acknowledge(
    state: web::Data<AppState>,
    posted: Posted<need::WorkOwnQueues, Nothing>,
    reference: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let reference = CaseReference::parse(&reference).ok_or(AdminError::NotFound)?;
    let now = state.clock.now().naive_utc();
    crate::app::escalation::acknowledge(&state, &posted.staff, reference.clone(), now).await?;
    Ok(see_other(&format!("/admin/requests/{reference}")))
}

#[derive(Template)]
#[template(path = "admin/duty.html")]
struct DutyPage {
    nav: Nav,
    /// (slug, name, on duty now).
    queues: Vec<(String, String, bool)>,
}

/// `GET /admin/duty`: whether one is on duty for each of one's queues, and the switch.
pub async fn duty(
    state: web::Data<AppState>,
    staff: Allowed<need::WorkOwnQueues>,
) -> Result<HttpResponse, AdminError> {
    let queues = crate::app::escalation::my_duty(&state, &staff).await?;
    page(DutyPage {
        nav: Nav::of(&staff),
        queues,
    })
}

#[derive(Deserialize)]
pub struct DutyForm {
    queue: String,
    /// `on`, `off` or `schedule`.
    duty: String,
}

pub async fn set_duty(
    state: web::Data<AppState>,
    posted: Posted<need::WorkOwnQueues, DutyForm>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let on = match form.duty.as_str() {
        "on" => Some(true),
        "off" => Some(false),
        "schedule" => None,
        _ => {
            return Err(AdminError::Invalid(
                "choose on duty, off duty or the schedule".into(),
            ))
        }
    };
    let now = state.clock.now().naive_utc();
    crate::app::escalation::set_duty(&state, &staff, form.queue, on, now).await?;
    Ok(see_other("/admin/duty"))
}

#[derive(Template)]
#[template(path = "admin/escalations.html")]
struct EscalationsPage {
    nav: Nav,
    items: Vec<Overview>,
    queues: Vec<(String, String)>,
    now: chrono::NaiveDateTime,
}

impl EscalationsPage {
    fn ago(&self, at: &chrono::NaiveDateTime) -> String {
        age_in_words(self.now - *at)
    }

    fn until(&self, at: &Option<chrono::NaiveDateTime>) -> String {
        match at {
            Some(at) if *at > self.now => format!("in {}", age_in_words(*at - self.now)),
            Some(_) => "now".to_string(),
            None => "none (the leads were notified)".to_string(),
        }
    }
}

/// `GET /admin/escalations`: every active escalation and the latest that ended.
pub async fn escalations(
    state: web::Data<AppState>,
    staff: Allowed<need::ManageEscalation>,
) -> Result<HttpResponse, AdminError> {
    let items = crate::app::escalation::overview(&state, &staff, 50).await?;
    let queues = crate::app::cases::queues(&state)
        .await?
        .into_iter()
        .map(|(q, _)| (q.slug, q.name))
        .collect();
    page(EscalationsPage {
        nav: Nav::of(&staff),
        items,
        queues,
        now: state.clock.now().naive_utc(),
    })
}

#[derive(Template)]
#[template(path = "admin/rota.html")]
struct RotaPage {
    nav: Nav,
    rota: Rota,
    error: Option<String>,
    utc_offset: String,
}

async fn rota_page(
    state: &AppState,
    staff: &Staff,
    queue: String,
    error: Option<String>,
    typed: Option<RotaForm>,
) -> Result<HttpResponse, AdminError> {
    let mut rota = crate::app::rota::show(state, staff, queue).await?;
    if let Some(t) = typed {
        rota.chain = t.chain;
        rota.schedule = t.schedule;
    }
    let status = status_for(&error);
    let body = RotaPage {
        nav: Nav::of(staff),
        rota,
        error,
        utc_offset: state.settings.escalation.utc_offset.to_string(),
    }
    .render()?;
    Ok(html(status, body))
}

/// `GET /admin/escalations/{queue}`: a queue's chain and duty schedule.
pub async fn rota(
    state: web::Data<AppState>,
    staff: Allowed<need::ManageEscalation>,
    queue: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    rota_page(&state, &staff, queue.into_inner(), None, None).await
}

#[derive(Deserialize)]
pub struct RotaForm {
    #[serde(default)]
    chain: String,
    #[serde(default)]
    schedule: String,
}

pub async fn save_rota(
    state: web::Data<AppState>,
    posted: Posted<need::ManageEscalation, RotaForm>,
    queue: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let queue = queue.into_inner();
    let now = state.clock.now().naive_utc();
    let (chain, schedule) = (form.chain.clone(), form.schedule.clone());
    match crate::app::rota::save(&state, &staff, queue.clone(), chain, schedule, now).await {
        Ok(()) => Ok(see_other(&format!("/admin/escalations/{queue}"))),
        Err(crate::app::Error::Invalid(msg)) => {
            rota_page(&state, &staff, queue, Some(msg), Some(form)).await
        }
        Err(e) => Err(e.into()),
    }
}
