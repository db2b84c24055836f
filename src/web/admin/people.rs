//! The person search: one box (the header's, and this page's) for a name, phone, email,
//! case number, reference or birth date, or a mix. Posted, never in the address: what is
//! searched for is personal data, and addresses end up in logs and browser history.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::dashboard::age_text;
use super::{need, page, AdminError, Allowed, Nav, Posted};
use crate::app::search::Found;
use crate::domain::search::PersonQuery;
use crate::web::AppState;

#[derive(Template)]
#[template(path = "admin/people.html")]
struct PeoplePage {
    nav: Nav,
    /// What was typed, kept in the box.
    q: String,
    searched: bool,
    results: Vec<(Found, String)>,
}

#[derive(Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    q: String,
}

pub async fn form(staff: Allowed<need::WorkOwnQueues>) -> Result<HttpResponse, AdminError> {
    page(PeoplePage {
        nav: Nav::of(&staff),
        q: String::new(),
        searched: false,
        results: Vec::new(),
    })
}

pub async fn search(
    state: web::Data<AppState>,
    posted: Posted<need::WorkOwnQueues, SearchForm>,
) -> Result<HttpResponse, AdminError> {
    let Posted { staff, form, .. } = posted;
    let now = Utc::now().naive_utc();
    let query = PersonQuery::parse(&form.q, now.date());
    let found = crate::app::search::people(&state, &staff, query, now).await?;
    page(PeoplePage {
        nav: Nav::of(&staff),
        q: form.q,
        searched: true,
        results: found
            .into_iter()
            .map(|f| {
                let age = age_text(f.created_at, now);
                (f, age)
            })
            .collect(),
    })
}
