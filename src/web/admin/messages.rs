//! Writing to the requester from the case page: the compose form (language, text, the
//! category's guidance, a status to set), its preview, and the conversation as staff see it.

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use std::collections::HashMap;

use super::cases::{render_case, who};
use super::{need, see_other, AdminError, Posted};
use crate::app::correspondence::{Compose, Preview};
use crate::db::messages::Delivered;
use crate::db::outbox::OutboxStatus;
use crate::db::replies::SavedReply;
use crate::domain::vocab::Direction;
use crate::domain::{CaseReference, Language, Status};
use crate::web::AppState;

use crate::app::replies::language_name;

/// One message of the conversation on the case page.
pub struct MessageItem {
    pub when: String,
    pub outgoing: bool,
    pub who: String,
    pub language: &'static str,
    /// Where it went or came from: "mail sent", "status page only", …
    pub delivery: &'static str,
    pub body: String,
    pub dir: &'static str,
}

pub fn items(messages: &[Delivered], names: &HashMap<String, String>) -> Vec<MessageItem> {
    messages
        .iter()
        .rev()
        .map(|Delivered { message: m, mail }| {
            let outgoing = m.direction == Direction::Outgoing;
            MessageItem {
                when: m.created_at.format("%Y-%m-%d %H:%M").to_string(),
                outgoing,
                who: who(&m.author, names),
                language: language_name(m.language),
                delivery: match (outgoing, mail) {
                    (true, None) => "status page only",
                    (true, Some(OutboxStatus::Pending)) => "mail waiting to be sent",
                    (true, Some(OutboxStatus::Sent)) => "mail sent",
                    (true, Some(OutboxStatus::Dead)) => "mail failed: see the outbox",
                    (false, _) if m.author.partner_id().is_some() => "from the partner's API",
                    (false, _) => "answered on the status page",
                },
                body: m.body.clone(),
                dir: m.language.dir(),
            }
        })
        .collect()
}

/// The saved replies a compose form offers: (id, title, "no Pashto text" or empty).
pub fn reply_choices(replies: &[SavedReply]) -> Vec<(String, String, String)> {
    replies
        .iter()
        .map(|r| {
            let missing: Vec<&str> = r.missing().into_iter().map(language_name).collect();
            let lacks = if missing.is_empty() {
                String::new()
            } else {
                format!("no {} text", missing.join(" or "))
            };
            (r.id.clone(), r.title.clone(), lacks)
        })
        .collect()
}

/// The compose form as the page shows it: what was typed, and the preview if asked for.
pub struct ComposeView {
    /// The saved reply the text was started from, if any.
    pub reply: String,
    pub language: Language,
    pub text: String,
    pub status: String,
    /// The mail's subject and text as they will go out; `None` until previewed.
    pub preview: Option<(String, String)>,
    /// A preview of a request without an address: the text the status page will show.
    pub preview_page_only: Option<String>,
}

impl ComposeView {
    pub fn fresh(language: Language) -> Self {
        ComposeView {
            reply: String::new(),
            language,
            text: String::new(),
            status: String::new(),
            preview: None,
            preview_page_only: None,
        }
    }

    pub fn languages(&self) -> Vec<(&'static str, &'static str, bool)> {
        Language::ALL
            .iter()
            .map(|l| (l.as_str(), language_name(*l), *l == self.language))
            .collect()
    }

    pub fn statuses(&self) -> Vec<(&'static str, &'static str, bool)> {
        Status::ALL
            .iter()
            .map(|s| (s.as_str(), s.label(), s.as_str() == self.status))
            .collect()
    }
}

/// What the compose form sends.
#[derive(Deserialize)]
pub struct ComposeForm {
    #[serde(default)]
    language: String,
    #[serde(default)]
    text: String,
    /// A status to set with the message; empty: leave it.
    #[serde(default)]
    status: String,
    /// The saved reply chosen, by id; empty: none.
    #[serde(default)]
    reply: String,
    /// `load` (the saved reply's text), `guidance` (insert the placeholder), `preview` or
    /// `send`.
    #[serde(default)]
    step: String,
}

pub async fn compose(
    state: web::Data<AppState>,
    posted: Posted<need::WorkOwnQueues, ComposeForm>,
    reference: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let reference = CaseReference::parse(&reference).ok_or(AdminError::NotFound)?;
    let language = form.language.parse().unwrap_or_default();
    let reply = Some(form.reply.trim().to_string()).filter(|r| !r.is_empty());
    let mut view = ComposeView {
        reply: reply.clone().unwrap_or_default(),
        language,
        text: form.text.clone(),
        status: form.status.trim().to_string(),
        preview: None,
        preview_page_only: None,
    };
    let compose = Compose {
        language,
        text: form.text,
        status: form.status.trim().parse().ok(),
        reply: reply.clone(),
    };
    let again = |error: Option<String>, view| {
        render_case(&state, &staff, reference.to_string(), error, Some(view))
    };
    match form.step.as_str() {
        "load" => match reply {
            None => again(Some("choose a saved reply".into()), view).await,
            Some(id) => match crate::app::replies::load(&state, &staff, id, language).await {
                Ok(text) => {
                    view.text = text;
                    again(None, view).await
                }
                Err(crate::app::Error::Invalid(msg)) => again(Some(msg), view).await,
                Err(e) => Err(e.into()),
            },
        },
        "guidance" => {
            if !view.text.is_empty() && !view.text.ends_with('\n') {
                view.text.push('\n');
            }
            view.text.push_str("{guidance}");
            again(None, view).await
        }
        "preview" => {
            match crate::app::correspondence::preview(&state, &staff, reference.clone(), compose)
                .await
            {
                Ok(Preview { mail, body }) => {
                    match mail {
                        Some(m) => view.preview = Some((m.subject, m.text)),
                        None => view.preview_page_only = Some(body),
                    }
                    again(None, view).await
                }
                Err(crate::app::Error::Invalid(msg)) => again(Some(msg), view).await,
                Err(e) => Err(e.into()),
            }
        }
        _ => {
            let now = Utc::now().naive_utc();
            match crate::app::correspondence::send(&state, &staff, reference.clone(), compose, now)
                .await
            {
                Ok(_) => Ok(see_other(&format!(
                    "/admin/requests/{reference}#conversation"
                ))),
                Err(crate::app::Error::Invalid(msg)) => again(Some(msg), view).await,
                Err(e) => Err(e.into()),
            }
        }
    }
}
