//! Saved replies: a lead's library of texts per category, at most one text per language.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{saved_replies, saved_reply_texts};
use super::{DbConnection, DbError};
use crate::domain::{Category, Language};

/// A saved reply with its texts.
#[derive(Debug, Clone)]
pub struct SavedReply {
    pub id: String,
    pub title: String,
    /// The category it is meant for; `None`: any.
    pub category: Option<Category>,
    pub updated_at: NaiveDateTime,
    pub texts: Vec<(Language, String)>,
}

impl SavedReply {
    pub fn text(&self, language: Language) -> Option<&str> {
        self.texts
            .iter()
            .find(|(l, _)| *l == language)
            .map(|(_, t)| t.as_str())
    }

    /// The languages it has no text in.
    pub fn missing(&self) -> Vec<Language> {
        Language::ALL
            .iter()
            .copied()
            .filter(|l| self.text(*l).is_none())
            .collect()
    }
}

/// Every saved reply, by title.
pub fn list(conn: &mut DbConnection) -> Result<Vec<SavedReply>, DbError> {
    let rows: Vec<(String, String, Option<Category>, NaiveDateTime)> = saved_replies::table
        .order((saved_replies::title, saved_replies::id))
        .select((
            saved_replies::id,
            saved_replies::title,
            saved_replies::category,
            saved_replies::updated_at,
        ))
        .load(conn)?;
    let texts: Vec<(String, Language, String)> = saved_reply_texts::table
        .select((
            saved_reply_texts::reply_id,
            saved_reply_texts::language,
            saved_reply_texts::body,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, title, category, updated_at)| {
            let mut mine: Vec<(Language, String)> = texts
                .iter()
                .filter(|(r, _, _)| *r == id)
                .map(|(_, l, b)| (*l, b.clone()))
                .collect();
            mine.sort_by_key(|(l, _)| *l);
            SavedReply {
                id,
                title,
                category,
                updated_at,
                texts: mine,
            }
        })
        .collect())
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<SavedReply>, DbError> {
    Ok(list(conn)?.into_iter().find(|r| r.id == id))
}

/// Creates or replaces a saved reply and all its texts.
pub fn save(conn: &mut DbConnection, reply: &SavedReply) -> Result<(), DbError> {
    diesel::delete(saved_reply_texts::table.filter(saved_reply_texts::reply_id.eq(&reply.id)))
        .execute(conn)?;
    diesel::delete(saved_replies::table.find(&reply.id)).execute(conn)?;
    diesel::insert_into(saved_replies::table)
        .values((
            saved_replies::id.eq(&reply.id),
            saved_replies::title.eq(&reply.title),
            saved_replies::category.eq(reply.category.map(|c| c.as_str())),
            saved_replies::updated_at.eq(reply.updated_at),
        ))
        .execute(conn)?;
    for (language, body) in &reply.texts {
        diesel::insert_into(saved_reply_texts::table)
            .values((
                saved_reply_texts::reply_id.eq(&reply.id),
                saved_reply_texts::language.eq(language.as_str()),
                saved_reply_texts::body.eq(body),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Deletes a saved reply; `false` when there was none.
pub fn delete(conn: &mut DbConnection, id: &str) -> Result<bool, DbError> {
    diesel::delete(saved_reply_texts::table.filter(saved_reply_texts::reply_id.eq(id)))
        .execute(conn)?;
    Ok(diesel::delete(saved_replies::table.find(id)).execute(conn)? > 0)
}
