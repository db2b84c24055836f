//! The public pages: the request form, its validation errors and the confirmation.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::errors::{html, PageError};
use super::form::{self, FormValues};
use super::{lang, AppState};
use crate::domain::fields::ascii_digits;
use crate::domain::vocab::{Calendar, Program, ReferralProgram, SivStatus, SubmitterKind, UsTie};
use crate::domain::Actor;
use crate::domain::{FieldError, Language, Location, Source};
use crate::i18n::{self, Tr};

#[derive(Template)]
#[template(path = "public/intake_form.html")]
pub struct IntakeFormPage<'a> {
    tr: Tr,
    /// Where the language switch links (`None`: no switch, on the staff walk-in form).
    switch: Option<&'a str>,
    /// Where the form posts: the public intake, or the staff walk-in entry.
    action: &'a str,
    /// The staff session's CSRF token, for the walk-in form.
    csrf: Option<&'a str>,
    values: FormValues,
    /// Errors keyed by form field name, in the order the form asks.
    errors: Vec<FieldError>,
}

impl IntakeFormPage<'_> {
    /// The error shown under a field, in the page's language.
    fn err(&self, name: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| self.message_of(e))
    }

    fn message_of(&self, e: &FieldError) -> String {
        if e.code == "invalid" {
            e.message.clone()
        } else {
            // A date in the other calendar is named by the year typed.
            let typed = ascii_digits(self.val(&e.field));
            let year = typed.split(['-', '/']).find(|p| p.len() == 4).unwrap_or("");
            self.tr.error_with(e.code, "year", year)
        }
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

    fn label_of(&self, name: &str) -> String {
        self.tr.t(&form::label_key(name))
    }

    fn claim_name(&self, program: &str) -> String {
        format!("claimed_{program}")
    }

    /// The answers of a question, as (value, label in the page's language).
    fn options(&self, group: &str) -> Vec<(&'static str, String)> {
        let values: Vec<&'static str> = match group {
            "submitter_kind" => SubmitterKind::ALL.iter().map(|v| v.as_str()).collect(),
            "location" => Location::ALL.iter().map(|v| v.as_str()).collect(),
            "siv_status" => SivStatus::ALL.iter().map(|v| v.as_str()).collect(),
            "referral_program" => ReferralProgram::ALL.iter().map(|v| v.as_str()).collect(),
            "program" => Program::ALL.iter().map(|v| v.as_str()).collect(),
            "us_tie" => UsTie::ALL.iter().map(|v| v.as_str()).collect(),
            "calendar" => Calendar::ALL.iter().map(|v| v.as_str()).collect(),
            _ => Vec::new(),
        };
        values
            .into_iter()
            .map(|v| (v, self.tr.option(group, v)))
            .collect()
    }
}

/// One error per field (the first found), as form names, in form order.
fn form_errors(errors: Vec<FieldError>) -> Vec<FieldError> {
    let mut out: Vec<FieldError> = Vec::new();
    for e in errors {
        let name = form::form_name(&e.field);
        if !out.iter().any(|o| o.field == name) {
            out.push(FieldError { field: name, ..e });
        }
    }
    out.sort_by_key(|e| {
        form::FIELDS
            .iter()
            .position(|f| *f == e.field)
            .unwrap_or(usize::MAX)
    });
    out
}

/// Renders the request form; `errors` are keyed by form field name. `switch` is where the
/// language switch links (`None` hides it, as on the staff walk-in form).
pub fn render_form_for(
    tr: Tr,
    switch: Option<&str>,
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
    let mut values = values;
    values
        .entry(form::CALENDAR.to_string())
        .or_insert_with(|| Calendar::default_for(tr.lang()).as_str().to_string());
    let body = IntakeFormPage {
        tr,
        switch,
        action,
        csrf,
        values,
        errors,
    }
    .render()?;
    Ok(html(status, body))
}

/// The public form in `language`, remembering an explicit choice in the `lang` cookie.
fn render_form(
    language: Language,
    remember: bool,
    values: FormValues,
    errors: Vec<FieldError>,
) -> Result<HttpResponse, PageError> {
    let mut response = render_form_for(Tr(language), Some("/"), values, errors, "/requests", None)?;
    public_headers(&mut response, language, remember);
    Ok(response)
}

/// Public pages vary by language; an explicit choice is kept in a cookie.
fn public_headers(response: &mut HttpResponse, language: Language, remember: bool) {
    response.headers_mut().insert(
        header::VARY,
        header::HeaderValue::from_static("Accept-Language, Cookie"),
    );
    if remember {
        let _ = response.add_cookie(&lang::cookie(language));
    }
}

/// Parses the form into a request, or returns the errors keyed by form field name.
pub fn parse_form(
    values: &FormValues,
    source: Source,
    today: chrono::NaiveDate,
) -> Result<crate::domain::NewCaseRequest, Vec<FieldError>> {
    let (mut input, mut errors) = form::to_input(values);
    input.language = values.get("lang").and_then(|l| Language::from_tag(l));
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

/// `GET /requests`: the form's own address (with the language asked for, if any).
pub async fn to_the_form(req: HttpRequest) -> HttpResponse {
    let to = match lang::from_query(&req) {
        Some(language) => format!("/?lang={}", language.as_str()),
        None => "/".to_string(),
    };
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, to))
        .finish()
}

/// Where a submission caught by the honeypot is sent: a thank-you with no reference.
pub async fn thanks(req: HttpRequest) -> HttpResponse {
    let language = lang::negotiate(&req, None);
    let tr = Tr(language);
    let page = super::errors::MessagePage {
        tr,
        switch: None,
        title: &tr.t("thanks-title"),
        message: &tr.t("thanks-body"),
    }
    .render();
    match page {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => PageError::from(e).page(language),
    }
}

pub async fn intake_form(req: HttpRequest) -> HttpResponse {
    let language = lang::negotiate(&req, None);
    let chosen = lang::from_query(&req).is_some();
    render_form(language, chosen, FormValues::new(), Vec::new())
        .unwrap_or_else(|e| e.page(language))
}

pub async fn submit_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let values: FormValues = pairs.into_iter().collect();
    let language = lang::negotiate(&req, values.get("lang").map(String::as_str));
    submit(state, req, values, language)
        .await
        .unwrap_or_else(|e| e.page(language))
}

async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    mut values: FormValues,
    language: Language,
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
        let tr = Tr(language);
        let body = super::errors::MessagePage {
            tr,
            switch: None,
            title: &tr.t("unreadable-title"),
            message: &tr.t("unreadable-body"),
        }
        .render()?;
        return Ok(html(StatusCode::UNSUPPORTED_MEDIA_TYPE, body));
    }
    if values.get(HONEYPOT).is_some_and(|v| !v.is_empty()) {
        // Answer as if accepted, so the robot learns nothing; store nothing.
        let total = state.metrics.honeypot_dropped();
        tracing::info!(
            counter = "honeypot_dropped",
            total,
            "form submission dropped: honeypot filled"
        );
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/thanks"))
            .finish());
    }
    // The language the page speaks is the language the requester's mail will speak.
    values.insert("lang".to_string(), language.as_str().to_string());

    let now = state.clock.now();
    let request = match parse_form(&values, Source::WebForm, now.date_naive()) {
        Ok(request) => request,
        Err(errors) => return render_form(language, true, values, errors),
    };

    let created = crate::app::intake::submit(&state, vec![request], Actor::PublicForm, None, now)
        .await?
        .remove(0);
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/submitted/{}", created.row.receipt_token),
        ))
        .cookie(lang::cookie(language))
        .finish())
}

#[derive(Template)]
#[template(path = "public/confirmation.html")]
pub struct ConfirmationPage<'a> {
    tr: Tr,
    switch: Option<&'a str>,
    reference: String,
    category_label: String,
    next_steps: String,
    guidance: String,
    received_line: String,
    /// The status-check code, on the first showing within a day of the request only.
    status_code: Option<String>,
    /// The date of birth as recorded, in the requester's calendar and the other, with the
    /// code only.
    birth_line: Option<String>,
}

/// "Date of birth as recorded: 1369-10-11 (Solar Hijri) = 1991-01-01 (Gregorian)", the
/// requester's calendar first, each date isolated so that it keeps its order in
/// right-to-left text.
fn birth_line(tr: &Tr, b: crate::domain::birth::BirthDate) -> String {
    let shamsi = tr.t_with(
        "confirm-birth-shamsi",
        "date",
        &format!("\u{2068}{}\u{2069}", b.solar_hijri()),
    );
    let gregorian = tr.t_with(
        "confirm-birth-gregorian",
        "date",
        &format!("\u{2068}{}\u{2069}", b.gregorian()),
    );
    let both = match b.calendar() {
        crate::domain::vocab::Calendar::HijriShamsi => format!("{shamsi} = {gregorian}"),
        crate::domain::vocab::Calendar::Gregorian => format!("{gregorian} = {shamsi}"),
    };
    tr.t_with("confirm-birth", "date", &both)
}

/// How long after the request its confirmation page may still show the status-check code.
const STATUS_CODE_SHOWN_HOURS: i64 = 24;

/// The confirmation speaks the language the request was made in, unless the switch is used.
pub async fn confirmation(
    state: web::Data<AppState>,
    req: HttpRequest,
    receipt: web::Path<String>,
) -> HttpResponse {
    let asked = lang::from_query(&req);
    let fallback = asked.unwrap_or_else(|| lang::negotiate(&req, None));
    show_confirmation(state, asked, receipt.into_inner())
        .await
        .unwrap_or_else(|e| e.page(fallback))
}

async fn show_confirmation(
    state: web::Data<AppState>,
    asked: Option<Language>,
    token: String,
) -> Result<HttpResponse, PageError> {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(PageError::NotFound);
    }
    let path = format!("/submitted/{token}");
    let shown_for = chrono::Duration::hours(STATUS_CODE_SHOWN_HOURS);
    let now = state.clock.now().naive_utc();
    let Some(crate::app::requests::Confirmation {
        row,
        guidance,
        status_code,
        birth,
    }) = crate::app::requests::confirmation(&state, token, shown_for, now).await?
    else {
        return Err(PageError::NotFound);
    };
    let category = row.category;
    let language = asked.unwrap_or(row.language);
    let tr = Tr(language);
    let (guidance, next_steps) = match (language, guidance) {
        // The lead keeps the guidance in English; other languages read the catalog's.
        (Language::En, Some(g)) => (g.body, g.next_steps),
        (Language::En, None) => (String::new(), tr.t("next-steps-default")),
        (other, _) => i18n::guidance(other, category),
    };
    let received = row.created_at.format("%Y-%m-%d %H:%M").to_string();
    let body = ConfirmationPage {
        birth_line: birth.map(|b| birth_line(&tr, b)),
        tr,
        switch: Some(&path),
        status_code,
        reference: row.reference,
        category_label: tr.t(&format!("category-{category}")),
        next_steps,
        guidance,
        // Isolated, so the date and time keep their order inside right-to-left text.
        received_line: tr.t_with(
            "confirm-received",
            "time",
            &format!("\u{2068}{received}\u{2069}"),
        ),
    }
    .render()?;
    let mut response = HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body);
    public_headers(&mut response, language, asked.is_some());
    Ok(response)
}
