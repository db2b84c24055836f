//! Saved replies: the lead's library a caseworker starts a message from. Every text is
//! checked for unknown placeholders when saved; a reply lacking a language's text never
//! goes out in that language.

use chrono::NaiveDateTime;

use super::staff::Staff;
use super::{audited, require, AppState, Error, Result};
use crate::db::{self, replies::SavedReply};
use crate::domain::correspondence::{check_placeholders, MESSAGE_LIMIT};
use crate::domain::staff::Permission;
use crate::domain::{Category, Language};

/// Every saved reply: for the editor (leads, admins) and the compose form (caseworkers).
pub async fn list(app: &AppState, staff: &Staff) -> Result<Vec<SavedReply>> {
    if !(staff.can(Permission::ManageRules) || staff.can(Permission::WorkOwnQueues)) {
        return Err(Error::Forbidden);
    }
    Ok(db::run(&app.pool, |conn| db::replies::list(conn)).await?)
}

/// A saved reply as the editor sends it; `id: None` makes a new one.
pub struct ReplyInput {
    pub id: Option<String>,
    pub title: String,
    pub category: Option<Category>,
    /// The text per language; an empty one is a language the reply lacks.
    pub texts: Vec<(Language, String)>,
}

/// Creates or changes a saved reply; refuses one with an unknown placeholder, saying which.
pub async fn save(
    app: &AppState,
    staff: &Staff,
    input: ReplyInput,
    now: NaiveDateTime,
) -> Result<()> {
    require(staff, Permission::ManageRules)?;
    let title = input.title.trim().to_string();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(Error::Invalid(
            "give the reply a title (up to 200 characters)".into(),
        ));
    }
    let mut texts = Vec::new();
    for (language, text) in input.texts {
        let text = text.trim().replace("\r\n", "\n");
        if text.is_empty() {
            continue;
        }
        check_placeholders(&text)
            .map_err(|e| Error::Invalid(format!("{} text: {e}", language_name(language))))?;
        if text.chars().count() > MESSAGE_LIMIT {
            return Err(Error::Invalid(format!(
                "the {} text is longer than {MESSAGE_LIMIT} characters",
                language_name(language)
            )));
        }
        texts.push((language, text));
    }
    if texts.is_empty() {
        return Err(Error::Invalid(
            "write the reply in at least one language".into(),
        ));
    }
    let reply = SavedReply {
        id: input.id.unwrap_or_else(db::models::new_row_id),
        title,
        category: input.category,
        updated_at: now,
        texts,
    };
    let actor = staff.actor();
    let detail = format!("saved reply {}", reply.id);
    db::run(&app.pool, move |conn| {
        audited(conn, &actor, "saved_reply_saved", detail, now, |conn| {
            db::replies::save(conn, &reply)
        })
    })
    .await?;
    Ok(())
}

pub async fn delete(app: &AppState, staff: &Staff, id: String, now: NaiveDateTime) -> Result<()> {
    require(staff, Permission::ManageRules)?;
    let actor = staff.actor();
    let detail = format!("deleted saved reply {id}");
    let found = db::run(&app.pool, move |conn| {
        audited(conn, &actor, "saved_reply_deleted", detail, now, |conn| {
            db::replies::delete(conn, &id)
        })
    })
    .await?;
    if found {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// The text of saved reply `id` in `language`; refused, naming the reason, when it has none.
pub fn text_in(reply: Option<&SavedReply>, language: Language) -> Result<String> {
    let reply = reply.ok_or_else(|| Error::Invalid("that saved reply no longer exists".into()))?;
    reply.text(language).map(str::to_string).ok_or_else(|| {
        Error::Invalid(format!(
            "the saved reply “{}” has no {} text, so it cannot be sent in {}; choose another language or write the message yourself",
            reply.title,
            language_name(language),
            language_name(language)
        ))
    })
}

/// The language's name in English (staff pages are English).
pub fn language_name(l: Language) -> &'static str {
    match l {
        Language::En => "English",
        Language::FaAf => "Dari",
        Language::Ps => "Pashto",
    }
}

/// The text of saved reply `id` in `language`, to start a message from.
pub async fn load(app: &AppState, staff: &Staff, id: String, language: Language) -> Result<String> {
    require(staff, Permission::WorkOwnQueues)?;
    let reply = db::run(&app.pool, move |conn| db::replies::find(conn, &id)).await?;
    text_in(reply.as_ref(), language)
}
