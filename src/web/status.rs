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
    /// The messages from the task force, newest first: (date, text, direction of the text).
    pub messages: Vec<(String, String, &'static str)>,
}

/// The answer form under a found request: reference and code again (hidden fields, never
/// in the address), the text as typed when it comes back with an error.
pub struct AnswerBox {
    pub reference: String,
    pub code: String,
    pub text: String,
    pub error: Option<String>,
    pub sent: bool,
}

#[derive(Template)]
#[template(path = "public/status.html")]
struct StatusPage<'a> {
    tr: Tr,
    switch: Option<&'a str>,
    reference: String,
    not_found: bool,
    result: Option<StatusResult>,
    answer: Option<AnswerBox>,
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
        answer: None,
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
    let answer = AnswerBox {
        reference: form.reference.trim().to_string(),
        code: form.code.trim().to_string(),
        text: String::new(),
        error: None,
        sent: false,
    };
    check(state, language, form, answer)
        .await
        .unwrap_or_else(|e| e.page(language))
}

/// The answer form: the status check's fields and the requester's text.
#[derive(serde::Deserialize)]
pub struct AnswerForm {
    #[serde(flatten)]
    check: StatusForm,
    #[serde(default)]
    answer: String,
}

/// `POST /status/answer`: the requester answers the task force. A wrong code is the same
/// 404 as the status check's; an empty or too long answer comes back with what was typed.
pub async fn post_answer(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<AnswerForm>,
) -> HttpResponse {
    let AnswerForm {
        check: form,
        answer,
    } = form.into_inner();
    let language = lang::negotiate(&req, form.lang.as_deref());
    let tr = Tr(language);
    let reference = CaseReference::parse(form.reference.trim());
    let now = chrono::Utc::now().naive_utc();
    let who = crate::app::correspondence::Answerer::Requester {
        reference,
        code_hash: status_code_hash(&form.code),
    };
    let taken = crate::app::correspondence::answer(&state, who, answer.clone(), now).await;
    use crate::app::correspondence::AnswerError;
    use crate::domain::correspondence::BodyError;
    let mut boxed = AnswerBox {
        reference: form.reference.trim().to_string(),
        code: form.code.trim().to_string(),
        text: String::new(),
        error: None,
        sent: false,
    };
    match taken {
        Ok(()) => boxed.sent = true,
        // Not found: `check` answers the same 404 as a wrong code on the status form.
        Err(AnswerError::NotFound) => {}
        Err(AnswerError::Body(e)) => {
            boxed.text = answer;
            boxed.error = Some(match e {
                BodyError::Empty => tr.t("status-answer-empty"),
                BodyError::TooLong(n, _) => {
                    tr.t_with("status-answer-too-long", "count", &n.to_string())
                }
            });
        }
        Err(AnswerError::Failed(e)) => return PageError::from(e).page(language),
    }
    check(state, language, form, boxed)
        .await
        .unwrap_or_else(|e| e.page(language))
}

async fn check(
    state: web::Data<AppState>,
    language: Language,
    form: StatusForm,
    answer: AnswerBox,
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
        messages,
    }) = found
    else {
        let page = StatusPage {
            tr,
            switch: Some("/status"),
            reference: typed.chars().take(20).collect(),
            not_found: true,
            result: None,
            answer: None,
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
            messages: messages
                .into_iter()
                .map(|m| {
                    let date = m.created_at.format("%Y-%m-%d").to_string();
                    (
                        tr.t_with(
                            "status-message-sent",
                            "date",
                            &format!("\u{2068}{date}\u{2069}"),
                        ),
                        m.body,
                        m.language.dir(),
                    )
                })
                .collect(),
        }),
        answer: Some(answer),
    };
    let status = if page.answer.as_ref().is_some_and(|a| a.error.is_some()) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    respond(page, status)
}
