//! The applicant's status check (`/status`): reference number and status-check code in,
//! the current status in plain words, the date of the last change and the standard
//! guidance out; nothing else. A wrong code and an unknown reference get the same answer.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::errors::{html, PageError};
use super::{lang, AppState};
use crate::domain::reference::status_code_hash;
use crate::domain::{CaseReference, Language, Status};
use crate::i18n::{self, Tr};

pub struct StatusResult {
    pub words: String,
    pub changed: String,
    pub guidance: String,
    pub next_steps: String,
}

#[derive(Template)]
#[template(path = "public/status.html")]
struct StatusPage<'a> {
    tr: Tr,
    switch: Option<&'a str>,
    reference: String,
    not_found: bool,
    result: Option<StatusResult>,
}

fn respond(page: StatusPage, status: StatusCode) -> Result<HttpResponse, PageError> {
    let mut resp = html(status, page.render()?);
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}

/// `GET /status`: the form.
pub async fn status_form(req: HttpRequest) -> HttpResponse {
    let language = lang::negotiate(&req, None);
    let page = StatusPage {
        tr: Tr(language),
        switch: Some("/status"),
        reference: String::new(),
        not_found: false,
        result: None,
    };
    respond(page, StatusCode::OK).unwrap_or_else(|e| e.page(language))
}

/// The status in the words an applicant needs.
fn words_key(status: Status) -> &'static str {
    match status {
        Status::New => "status-received",
        Status::Triaged | Status::InProgress | Status::AwaitingInformation => "status-reviewing",
        Status::ReferredOut => "status-referred",
        Status::Resolved | Status::ClosedDuplicate => "status-resolved",
    }
}

/// The status check form: reference and status-check code, and the page's language.
#[derive(serde::Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    reference: String,
    #[serde(default)]
    code: String,
    lang: Option<String>,
}

/// `POST /status`.
pub async fn check_status(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<StatusForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let language = lang::negotiate(&req, form.lang.as_deref());
    check(state, language, form)
        .await
        .unwrap_or_else(|e| e.page(language))
}

async fn check(
    state: web::Data<AppState>,
    language: Language,
    form: StatusForm,
) -> Result<HttpResponse, PageError> {
    let typed = form.reference.trim();
    let given = status_code_hash(&form.code);
    let reference = CaseReference::parse(typed);
    let found = crate::app::requests::status(&state, reference, given).await?;
    let tr = Tr(language);
    let Some(crate::app::requests::StatusSeen {
        updated_at,
        category,
        status,
        guidance,
    }) = found
    else {
        let page = StatusPage {
            tr,
            switch: Some("/status"),
            reference: typed.chars().take(20).collect(),
            not_found: true,
            result: None,
        };
        return respond(page, StatusCode::NOT_FOUND);
    };
    let (guidance, next_steps) = match (language, guidance) {
        (Language::En, Some(g)) => (g.body, g.next_steps),
        (Language::En, None) => (String::new(), tr.t("next-steps-default")),
        (other, _) => i18n::guidance(other, category),
    };
    let date = updated_at.format("%Y-%m-%d").to_string();
    let page = StatusPage {
        tr,
        switch: Some("/status"),
        reference: String::new(),
        not_found: false,
        result: Some(StatusResult {
            words: tr.t(words_key(status)),
            // Isolated, so the date keeps its order inside right-to-left text.
            changed: tr.t_with("status-changed", "date", &format!("\u{2068}{date}\u{2069}")),
            guidance,
            next_steps,
        }),
    };
    respond(page, StatusCode::OK)
}
