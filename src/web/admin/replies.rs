//! The saved-reply library (`/admin/replies`), beside the guidance page: each reply with
//! its texts per language, the languages it lacks, and a form for a new one.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::{need, see_other, status_for, AdminError, Allowed, Nav, Posted, Staff};
use crate::app::replies::{language_name, ReplyInput};
use crate::app::Error;
use crate::db::replies::SavedReply;
use crate::domain::{Category, Language};
use crate::web::errors::html;
use crate::web::AppState;

/// One reply in the editor: its fields, its text per language (empty where it lacks one).
pub struct ReplyItem {
    pub id: String,
    pub title: String,
    pub category: String,
    /// (language code, language name, text).
    pub texts: Vec<(&'static str, &'static str, String)>,
    /// "Pashto, English" or empty.
    pub missing: String,
}

impl ReplyItem {
    fn of(r: &SavedReply) -> Self {
        ReplyItem {
            id: r.id.clone(),
            title: r.title.clone(),
            category: r
                .category
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
            texts: Language::ALL
                .iter()
                .map(|l| {
                    (
                        l.as_str(),
                        language_name(*l),
                        r.text(*l).unwrap_or_default().to_string(),
                    )
                })
                .collect(),
            missing: r
                .missing()
                .into_iter()
                .map(language_name)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    fn blank() -> Self {
        ReplyItem {
            id: String::new(),
            title: String::new(),
            category: String::new(),
            texts: Language::ALL
                .iter()
                .map(|l| (l.as_str(), language_name(*l), String::new()))
                .collect(),
            missing: String::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/replies.html")]
struct RepliesPage {
    nav: Nav,
    items: Vec<ReplyItem>,
    /// The new reply's form, as typed when it came back with an error.
    new: ReplyItem,
    error: Option<String>,
    categories: Vec<(&'static str, &'static str)>,
}

async fn replies_page(
    state: &AppState,
    staff: &Staff,
    error: Option<String>,
    typed: Option<ReplyItem>,
) -> Result<HttpResponse, AdminError> {
    let replies = crate::app::replies::list(state, staff).await?;
    let status = status_for(&error);
    let body = RepliesPage {
        nav: Nav::of(staff),
        items: replies.iter().map(ReplyItem::of).collect(),
        new: typed.unwrap_or_else(ReplyItem::blank),
        error,
        categories: Category::ALL
            .iter()
            .map(|c| (c.as_str(), c.label()))
            .collect(),
    }
    .render()?;
    Ok(html(status, body))
}

pub async fn replies(
    state: web::Data<AppState>,
    staff: Allowed<need::ManageRules>,
) -> Result<HttpResponse, AdminError> {
    replies_page(&state, &staff, None, None).await
}

/// What the editor sends for one reply.
#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    text_en: String,
    #[serde(default, rename = "text_fa-AF")]
    text_fa: String,
    #[serde(default)]
    text_ps: String,
}

pub async fn save_reply(
    state: web::Data<AppState>,
    posted: Posted<need::ManageRules, ReplyForm>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let typed = ReplyItem {
        id: form.id.trim().to_string(),
        title: form.title.clone(),
        category: form.category.trim().to_string(),
        texts: vec![
            ("en", "English", form.text_en.clone()),
            ("fa-AF", "Dari", form.text_fa.clone()),
            ("ps", "Pashto", form.text_ps.clone()),
        ],
        missing: String::new(),
    };
    let input = ReplyInput {
        id: Some(typed.id.clone()).filter(|i| !i.is_empty()),
        title: form.title,
        category: form.category.trim().parse().ok(),
        texts: vec![
            (Language::En, form.text_en),
            (Language::FaAf, form.text_fa),
            (Language::Ps, form.text_ps),
        ],
    };
    let now = Utc::now().naive_utc();
    match crate::app::replies::save(&state, &staff, input, now).await {
        Ok(()) => Ok(see_other("/admin/replies")),
        Err(Error::Invalid(msg)) => replies_page(&state, &staff, Some(msg), Some(typed)).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn delete_reply(
    state: web::Data<AppState>,
    posted: Posted<need::ManageRules, ReplyForm>,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let now = Utc::now().naive_utc();
    crate::app::replies::delete(&state, &posted.staff, id.into_inner(), now).await?;
    Ok(see_other("/admin/replies"))
}
