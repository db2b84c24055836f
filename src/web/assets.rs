//! Static assets, compiled into the binary so the release build runs from anywhere, and
//! what browsers and crawlers ask every site for: `/robots.txt` and `/favicon.ico`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

const STYLE_CSS: &str = include_str!("../../static/style.css");
const FAVICON_SVG: &str = include_str!("../../static/favicon.svg");
const ROBOTS_TXT: &str = include_str!("../../static/robots.txt");

/// Bumped with the stylesheet so browsers may cache it for a year.
pub const STYLE_VERSION: &str = "7";

/// Bumped with the icon, for the same reason.
pub const FAVICON_VERSION: &str = "1";

/// Where the layouts' `<link rel="icon">` points.
pub const FAVICON_PATH: &str = "/static/favicon.svg";

pub async fn serve(file: web::Path<String>) -> HttpResponse {
    let (body, content_type) = match file.as_str() {
        "style.css" => (STYLE_CSS, "text/css; charset=utf-8"),
        "favicon.svg" => (FAVICON_SVG, "image/svg+xml"),
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(body)
}

pub async fn robots() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(ROBOTS_TXT)
}

/// Browsers and feed readers ask for `/favicon.ico` whatever the page links to: they are
/// sent to the SVG icon.
pub async fn favicon_ico() -> HttpResponse {
    HttpResponse::MovedPermanently()
        .insert_header((
            header::LOCATION,
            format!("{FAVICON_PATH}?v={FAVICON_VERSION}"),
        ))
        .finish()
}
