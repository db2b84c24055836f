//! Static assets, compiled into the binary so the release build runs from anywhere.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

const STYLE_CSS: &str = include_str!("../../static/style.css");

/// Bumped with the stylesheet so browsers may cache it for a year.
pub const STYLE_VERSION: &str = "6";

pub async fn serve(file: web::Path<String>) -> HttpResponse {
    let (body, content_type) = match file.as_str() {
        "style.css" => (STYLE_CSS, "text/css; charset=utf-8"),
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(body)
}
