//! The public pages: the request form, its validation errors and the confirmation.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::Utc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::errors::{html, PageError};
use super::form::{self, FormValues};
use super::AppState;
use crate::db;
use crate::domain::vocab::{Location, ReferralProgram, SivStatus, SubmitterKind, UsTie};
use crate::domain::{Category, FieldError, Source};
use crate::intake;

#[derive(Template)]
#[template(path = "public/intake_form.html")]
pub struct IntakeFormPage<'a> {
    /// Where the form posts: the public intake, or the staff walk-in entry.
    action: &'a str,
    /// The staff session's CSRF token, for the walk-in form.
    csrf: Option<&'a str>,
    values: FormValues,
    /// Errors keyed by form field name, in the order the form asks.
    errors: Vec<FieldError>,
}

type Options = Vec<(&'static str, &'static str)>;

impl IntakeFormPage<'_> {
    fn err(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }

    fn val(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    fn is(&self, name: &str, value: &str) -> bool {
        self.val(name) == value
    }

    fn on(&self, name: &str) -> bool {
        self.values.get(name).is_some_and(|v| !v.is_empty())
    }

    fn label_of(&self, name: &str) -> &'static str {
        form::label_of(name)
    }

    fn submitter_kinds(&self) -> Options {
        SubmitterKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label()))
            .collect()
    }

    fn locations(&self) -> Options {
        Location::ALL
            .iter()
            .map(|l| (l.as_str(), l.label()))
            .collect()
    }

    fn siv_statuses(&self) -> Options {
        SivStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect()
    }

    fn referral_programs(&self) -> Options {
        ReferralProgram::ALL
            .iter()
            .map(|r| (r.as_str(), r.label()))
            .collect()
    }

    fn us_ties(&self) -> Options {
        UsTie::ALL.iter().map(|t| (t.as_str(), t.label())).collect()
    }
}

/// The order fields appear on the form, so the error summary reads top to bottom.
const FIELD_ORDER: &[&str] = &[
    "submitter_kind",
    "submitter_name",
    "submitter_organization",
    "submitter_email",
    "submitter_phone",
    "applicant_full_name",
    "applicant_date_of_birth",
    "applicant_phone",
    "applicant_whatsapp",
    "applicant_email",
    "applicant_location",
    "applicant_household_size",
    "siv_status",
    "siv_case_number",
    "referral_program",
    "referral_referred_by",
    "us_tie",
    "description",
    "consent",
];

/// One error per field (the first found), as form names, in form order.
fn form_errors(errors: Vec<FieldError>) -> Vec<FieldError> {
    let mut out: Vec<FieldError> = Vec::new();
    for e in errors {
        let name = form::form_name(&e.field);
        if !out.iter().any(|o| o.field == name) {
            out.push(FieldError::new(name, e.message));
        }
    }
    out.sort_by_key(|e| {
        FIELD_ORDER
            .iter()
            .position(|f| *f == e.field)
            .unwrap_or(usize::MAX)
    });
    out
}

/// Renders the request form; `errors` are keyed by form field name.
pub fn render_form_for(
    values: FormValues,
    errors: Vec<FieldError>,
    action: &str,
    csrf: Option<&str>,
) -> Result<HttpResponse, PageError> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = IntakeFormPage {
        action,
        csrf,
        values,
        errors,
    }
    .render()?;
    Ok(html(status, body))
}

fn render_form(values: FormValues, errors: Vec<FieldError>) -> Result<HttpResponse, PageError> {
    render_form_for(values, errors, "/requests", None)
}

/// Parses the form into a request, or returns the errors keyed by form field name.
pub fn parse_form(
    values: &FormValues,
    source: Source,
    today: chrono::NaiveDate,
) -> Result<crate::domain::NewCaseRequest, Vec<FieldError>> {
    let (input, mut errors) = form::to_input(values);
    match input.into_request(source, today) {
        Ok(request) if errors.is_empty() => Ok(request),
        Ok(_) => Err(form_errors(errors)),
        Err(more) => {
            errors.extend(more);
            Err(form_errors(errors))
        }
    }
}

/// The form field only robots fill in: hidden from people, who are asked to leave it empty.
pub const HONEYPOT: &str = "website";
/// Submissions dropped by the honeypot since start, for the log line.
static HONEYPOT_HITS: AtomicU64 = AtomicU64::new(0);

/// Where a submission caught by the honeypot is sent: a thank-you with no reference.
pub async fn thanks() -> Result<HttpResponse, PageError> {
    let body = super::errors::MessagePage {
        title: "Thank you",
        message: "Your request was received. The task force will review it and contact you.",
    }
    .render()?;
    Ok(html(StatusCode::OK, body))
}

pub async fn intake_form() -> Result<HttpResponse, PageError> {
    render_form(FormValues::new(), Vec::new())
}

pub async fn submit_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !is_form {
        let body = super::errors::MessagePage {
            title: "This form could not be read",
            message: "Please go back to the form and send it again from your browser.",
        }
        .render()?;
        return Ok(html(StatusCode::UNSUPPORTED_MEDIA_TYPE, body));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let values: FormValues = pairs.into_iter().collect();
    if values.get(HONEYPOT).is_some_and(|v| !v.is_empty()) {
        // Answer as if accepted, so the robot learns nothing; store nothing.
        let total = HONEYPOT_HITS.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::info!(
            counter = "honeypot_dropped",
            total,
            "form submission dropped: honeypot filled"
        );
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/thanks"))
            .finish());
    }

    let now = Utc::now();
    let request = match parse_form(&values, Source::WebForm, now.date_naive()) {
        Ok(request) => request,
        Err(errors) => return render_form(values, errors),
    };

    let settings = state.settings.clone();
    let created = db::run_as(&state.pool, move |conn| {
        intake::submit(conn, &settings, &request, "public", now)
    })
    .await?;
    if created.mails > 0 {
        state.mail.wake();
    }
    state
        .metrics
        .intake(&created.row.category, &created.row.source);
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/submitted/{}", created.row.receipt_token),
        ))
        .finish())
}

#[derive(Template)]
#[template(path = "public/confirmation.html")]
pub struct ConfirmationPage {
    reference: String,
    category_label: &'static str,
    next_steps: String,
    guidance: String,
    received: String,
}

pub async fn confirmation(
    state: web::Data<AppState>,
    receipt: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let token = receipt.into_inner();
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(PageError::NotFound);
    }
    let found = db::run(&state.pool, move |conn| {
        let Some(row) = db::requests::find_by_receipt(conn, &token)? else {
            return Ok::<_, db::DbError>(None);
        };
        let category: Category = db::parse_column("case_requests.category", &row.category)?;
        let guidance = db::requests::guidance_for(conn, category)?;
        Ok(Some((row, category, guidance)))
    })
    .await?;
    let Some((row, category, guidance)) = found else {
        return Err(PageError::NotFound);
    };
    let (guidance, next_steps) = guidance.map(|g| (g.body, g.next_steps)).unwrap_or_else(|| {
        (
            String::new(),
            "The task force will review your request and contact you.".to_string(),
        )
    });
    let body = ConfirmationPage {
        reference: row.reference,
        category_label: category.label(),
        next_steps,
        guidance,
        received: row.created_at.format("%Y-%m-%d %H:%M").to_string(),
    }
    .render()?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}
