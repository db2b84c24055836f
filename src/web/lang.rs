//! Which language a public page speaks: a `?lang=` link from the language switch, then the
//! form's hidden `lang` field, then the `lang` cookie the switch sets, then the browser's
//! `Accept-Language`, then English. The code is not personal data, so it may sit in URLs.

use actix_web::cookie::{time::Duration, Cookie, SameSite};
use actix_web::http::header;
use actix_web::HttpRequest;

use crate::domain::Language;

/// The cookie that remembers a choice made with the language switch.
pub const COOKIE: &str = "lang";

/// The language asked for by `?lang=` in the query string, if any.
pub fn from_query(req: &HttpRequest) -> Option<Language> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    pairs
        .iter()
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Language::from_tag(v))
}

fn from_cookie(req: &HttpRequest) -> Option<Language> {
    req.cookie(COOKIE)
        .and_then(|c| Language::from_tag(c.value()))
}

/// The best supported language of an `Accept-Language` header (`fa-AF,fa;q=0.9,en;q=0.5`).
pub fn from_accept_language(raw: &str) -> Option<Language> {
    let mut ranked: Vec<(f32, Language)> = raw
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.split(';');
            let lang = Language::from_tag(pieces.next()?)?;
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (q > 0.0).then_some((q, lang))
        })
        .collect();
    // Stable: equal weights keep the browser's order.
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranked.first().map(|(_, lang)| *lang)
}

fn from_header(req: &HttpRequest) -> Option<Language> {
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(from_accept_language)
}

/// The language of a public page; `field` is the form's hidden `lang` value, if posted.
pub fn negotiate(req: &HttpRequest, field: Option<&str>) -> Language {
    from_query(req)
        .or_else(|| field.and_then(Language::from_tag))
        .or_else(|| from_cookie(req))
        .or_else(|| from_header(req))
        .unwrap_or_default()
}

/// The cookie that keeps `lang` for the next pages (a year; not personal data).
pub fn cookie(lang: Language) -> Cookie<'static> {
    Cookie::build(COOKIE, lang.as_str())
        .path("/")
        .max_age(Duration::days(365))
        .same_site(SameSite::Lax)
        .http_only(true)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        assert_eq!(
            from_accept_language("de-DE,fa-AF;q=0.8,en;q=0.5"),
            Some(Language::FaAf)
        );
        assert_eq!(from_accept_language("ps,en"), Some(Language::Ps));
        assert_eq!(
            from_accept_language("en;q=0.3, prs;q=0.9"),
            Some(Language::FaAf)
        );
        assert_eq!(from_accept_language("fa;q=0, en-US"), Some(Language::En));
        assert_eq!(from_accept_language("de, fr"), None);
        assert_eq!(from_accept_language(""), None);
    }
}
