//! Walk-in lists as CSV: a downloadable template whose columns are the request form's
//! fields, and an upload that takes every row through the same checks as the form. Each
//! row gets its own result; rows with errors are listed with them and nothing of them is
//! stored. With "all or nothing", one bad row stores none.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Utc;
use futures_util::StreamExt;
use std::collections::HashMap;

use super::guard::csrf_matches;
use super::{need, page, AdminError, Allowed, Nav, Staff};
use crate::app::export::csv_writer_with_bom;
use crate::domain::Source;
use crate::web::form;
use crate::web::AppState;

/// The columns of the template: the form's questions, then its tick boxes.
pub fn columns() -> Vec<&'static str> {
    form::FIELDS
        .iter()
        .chain(form::TICK_BOXES)
        .copied()
        .collect()
}

/// An example line, in the order of `columns()`.
const EXAMPLE: &[&str] = &[
    "organization",
    "",
    "Example NGO walk-in desk",
    "desk@ngo.example",
    "",
    "Example Person",
    "1990-05-01",
    "gregorian",
    "+93 700 000 000",
    "",
    "",
    "pakistan",
    "4",
    "in_process",
    "",
    "none",
    "",
    "none",
    "Walked in on Tuesday.",
    "yes",
    "yes",
    "",
    "",
    "",
    "",
    "",
];
/// Largest upload and most rows in one.
pub const MAX_BYTES: usize = 2 * 1024 * 1024;
pub const MAX_ROWS: usize = 1000;

pub struct RowResult {
    pub line: usize,
    pub reference: Option<String>,
    pub errors: String,
}

#[derive(Template)]
#[template(path = "admin/upload.html")]
struct UploadPage {
    nav: Nav,
    results: Vec<RowResult>,
    stored: usize,
    error: Option<String>,
}

pub async fn upload_form(staff: Allowed<need::EnterRequests>) -> Result<HttpResponse, AdminError> {
    page(UploadPage {
        nav: Nav::of(&staff),
        results: Vec::new(),
        stored: 0,
        error: None,
    })
}

pub async fn template(_: Allowed<need::EnterRequests>) -> Result<HttpResponse, AdminError> {
    let mut w = csv_writer_with_bom();
    let _ = w.write_record(columns());
    let _ = w.write_record(EXAMPLE);
    let body = w
        .into_inner()
        .map_err(|e| AdminError::Internal(anyhow::anyhow!("{e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"walk-in-template.csv\"",
        ))
        .body(body))
}

/// What the upload form sends.
#[derive(Default)]
struct Upload {
    csrf: String,
    all_or_nothing: bool,
    file: Vec<u8>,
}

/// Reads the multipart fields (`csrf`, `all_or_nothing`, `file`) within the size limit.
async fn read_fields(mut payload: Multipart) -> Result<Upload, String> {
    let mut upload = Upload::default();
    let mut total = 0usize;
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| "the upload could not be read".to_string())?;
        let name = field.name().unwrap_or_default().to_string();
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| "the upload could not be read".to_string())?;
            total += chunk.len();
            if total > MAX_BYTES {
                return Err("the file is larger than 2 MB; split the list".to_string());
            }
            data.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf" => upload.csrf = String::from_utf8_lossy(&data).into_owned(),
            "all_or_nothing" => upload.all_or_nothing = !data.is_empty(),
            "file" => upload.file = data,
            _ => {}
        }
    }
    Ok(upload)
}

pub async fn upload(
    state: web::Data<AppState>,
    staff: Allowed<need::EnterRequests>,
    payload: Multipart,
) -> Result<HttpResponse, AdminError> {
    let staff = staff.0;
    let fail = |staff: &Staff, msg: String| {
        let body = UploadPage {
            nav: Nav::of(staff),
            results: Vec::new(),
            stored: 0,
            error: Some(msg),
        }
        .render()?;
        Ok(crate::web::errors::html(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            body,
        ))
    };
    let fields = match read_fields(payload).await {
        Ok(f) => f,
        Err(msg) => return fail(&staff, msg),
    };
    csrf_matches(&staff, &fields.csrf)?;
    let all_or_nothing = fields.all_or_nothing;
    let file = fields.file;
    if file.is_empty() {
        return fail(&staff, "choose a CSV file made from the template".into());
    }

    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(file.as_slice());
    let headers = match reader.headers() {
        Ok(h) => h
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
            .collect::<Vec<_>>(),
        Err(_) => return fail(&staff, "the file is not CSV".into()),
    };
    let known = columns();
    if let Some(unknown) = headers.iter().find(|h| !known.contains(&h.as_str())) {
        return fail(
            &staff,
            format!("unknown column \"{unknown}\": use the template's columns"),
        );
    }
    let today = Utc::now().date_naive();
    let mut results = Vec::new();
    let mut valid = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        if i >= MAX_ROWS {
            return fail(&staff, format!("more than {MAX_ROWS} rows: split the list"));
        }
        let Ok(record) = record else {
            results.push(RowResult {
                line,
                reference: None,
                errors: "this line is not valid CSV".into(),
            });
            continue;
        };
        let values: HashMap<String, String> = headers
            .iter()
            .cloned()
            .zip(record.iter().map(str::to_string))
            .collect();
        match crate::web::pages::parse_form(&values, Source::StaffEntered, today) {
            Ok(mut request) => {
                request.entered_by = Some(staff.id.clone());
                results.push(RowResult {
                    line,
                    reference: None,
                    errors: String::new(),
                });
                valid.push((results.len() - 1, request));
            }
            Err(errors) => results.push(RowResult {
                line,
                reference: None,
                errors: errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            }),
        }
    }
    let has_errors = results.iter().any(|r| !r.errors.is_empty());
    let mut stored = 0;
    let blocked = all_or_nothing && has_errors;
    if !(valid.is_empty() || blocked) {
        let requests: Vec<_> = valid.iter().map(|(_, r)| r.clone()).collect();
        let created =
            crate::app::intake::submit(&state, requests, staff.actor(), None, state.clock.now())
                .await
                .map_err(|e| AdminError::Internal(e.into()))?;
        for ((at, _), c) in valid.iter().zip(&created) {
            results[*at].reference = Some(c.row.reference.clone());
        }
        stored = created.len();
    }
    let error = (has_errors && all_or_nothing)
        .then(|| "nothing was stored: fix the rows below and upload the file again".to_string());
    let status = if has_errors {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        actix_web::http::StatusCode::OK
    };
    let body = UploadPage {
        nav: Nav::of(&staff),
        results,
        stored,
        error,
    }
    .render()?;
    Ok(crate::web::errors::html(status, body))
}
