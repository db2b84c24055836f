//! What browsers and crawlers ask any site for: `/robots.txt` and the icon.

use crate::helpers::{spawn_app, Backend};

#[actix_web::test]
async fn crawlers_may_read_the_public_form_but_not_the_staff_pages_or_the_api() {
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite app");
    let resp = app.raw.get(app.url("/robots.txt")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/plain; charset=utf-8");
    let robots = resp.text().await.unwrap();
    let rules: Vec<&str> = robots
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(rules[0], "User-agent: *", "{robots}");
    for rule in ["Allow: /", "Disallow: /admin", "Disallow: /api"] {
        assert!(rules.contains(&rule), "{rule} in:\n{robots}");
    }
    // The form itself is not disallowed by any rule (longest match wins, `/` is allowed).
    assert!(
        !rules.contains(&"Disallow: /"),
        "the whole site is disallowed:\n{robots}"
    );
}

#[actix_web::test]
async fn every_page_has_an_icon_and_favicon_ico_leads_to_it() {
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite app");
    let staff = app.staff("viewer", &[]).await;
    let public = app.raw.get(app.url("/")).send().await.unwrap();
    let pages = [
        public.text().await.unwrap(),
        staff.get(&app, "/admin").await.text().await.unwrap(),
    ];
    let mut icons = Vec::new();
    for page in &pages {
        let link = page
            .split("<link rel=\"icon\" href=\"")
            .nth(1)
            .expect("a <link rel=\"icon\">");
        icons.push(link[..link.find('"').unwrap()].to_string());
    }
    assert_eq!(icons[0], icons[1], "one icon for both sides");

    let icon = app.raw.get(app.url(&icons[0])).send().await.unwrap();
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert!(icon.text().await.unwrap().starts_with("<svg"));

    let ico = app.raw.get(app.url("/favicon.ico")).send().await.unwrap();
    assert!(ico.status().is_redirection(), "{}", ico.status());
    assert_eq!(ico.headers()["location"], icons[0].as_str());
    let followed = app
        .client
        .get(app.url("/favicon.ico"))
        .send()
        .await
        .unwrap();
    assert_eq!(followed.status(), 200);
    assert_eq!(followed.headers()["content-type"], "image/svg+xml");
}
