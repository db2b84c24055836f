//! Abuse controls: per-address rate limits, the honeypot on the public form, body limits on
//! every POST, security headers, and the published OpenAPI contract.

use serde_json::Value;

use crate::helpers::{spawn_app_with, valid_form, valid_request, Backend, TestApp};
use crate::on_both_backends;

async fn limited_app(per_minute: u32, trusted: &[&str]) -> TestApp {
    let trusted: Vec<std::net::IpAddr> = trusted.iter().map(|t| t.parse().unwrap()).collect();
    spawn_app_with(Backend::Sqlite, move |s| {
        s.limits.per_minute = per_minute;
        s.limits.login_per_minute = per_minute;
        s.limits.trusted_proxies = trusted;
    })
    .await
    .expect("sqlite app")
}

/// An anonymous read: refused (401) until the address is over its limit (429).
async fn api_get(app: &TestApp, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut req = app.raw.get(app.url("/api/v1/requests/TF-AAAA-AAAA"));
    if let Some(ip) = forwarded_for {
        req = req.header("x-forwarded-for", ip);
    }
    req.send().await.unwrap()
}

#[actix_web::test]
async fn the_api_answers_429_with_retry_after_past_the_limit() {
    let app = limited_app(3, &[]).await;
    for _ in 0..3 {
        assert_eq!(api_get(&app, None).await.status(), 401);
    }
    let resp = api_get(&app, None).await;
    assert_eq!(resp.status(), 429);
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited");
    assert!(body["errors"].as_array().unwrap().is_empty());
    // A refused post stores nothing.
    let resp = app.post_json("/api/v1/requests", &valid_request()).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(app.request_count().await, 0);
    // Health checks and the contract stay reachable.
    assert_eq!(
        app.raw
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        app.raw
            .get(app.url("/api/openapi.json"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[actix_web::test]
async fn the_form_answers_429_with_a_short_page_but_still_shows_the_form() {
    let app = limited_app(2, &[]).await;
    for _ in 0..2 {
        let resp = app
            .raw
            .post(app.url("/requests"))
            .form(&valid_form())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 303);
    }
    let resp = app
        .raw
        .post(app.url("/"))
        .form(&valid_form())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = resp.text().await.unwrap();
    assert!(page.contains("Too many requests"));
    assert_eq!(app.request_count().await, 2);
    // Reading the form is not limited.
    for _ in 0..5 {
        assert_eq!(
            app.raw.get(app.url("/")).send().await.unwrap().status(),
            200
        );
    }
}

#[actix_web::test]
async fn staff_login_attempts_are_limited_per_address() {
    let app = limited_app(2, &[]).await;
    let (_, email, _) = app.create_staff("caseworker", &[]).await;
    for _ in 0..2 {
        assert_eq!(app.login(&email, "wrong password!").await.status(), 401);
    }
    let resp = app.login(&email, "wrong password!").await;
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    // The login page itself still loads.
    assert_eq!(
        app.raw
            .get(app.url("/admin/login"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[actix_web::test]
async fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
    // Not trusted: a client cannot buy a fresh allowance by naming another address.
    let app = limited_app(2, &[]).await;
    for i in 0..2 {
        assert_eq!(
            api_get(&app, Some(&format!("203.0.113.{i}")))
                .await
                .status(),
            401
        );
    }
    assert_eq!(api_get(&app, Some("203.0.113.99")).await.status(), 429);

    // Behind a trusted proxy, each client named by it has its own allowance.
    let app = limited_app(2, &["127.0.0.1"]).await;
    for _ in 0..2 {
        assert_eq!(api_get(&app, Some("203.0.113.1")).await.status(), 401);
    }
    assert_eq!(api_get(&app, Some("203.0.113.1")).await.status(), 429);
    assert_eq!(
        api_get(&app, Some("198.51.100.1, 203.0.113.1"))
            .await
            .status(),
        429,
        "the client cannot prepend addresses to escape"
    );
    assert_eq!(api_get(&app, Some("203.0.113.2")).await.status(), 401);
}

#[actix_web::test]
async fn a_limit_of_zero_turns_limiting_off() {
    let app = limited_app(0, &[]).await;
    for _ in 0..100 {
        assert_eq!(api_get(&app, None).await.status(), 401);
    }
}

#[actix_web::test]
async fn hsts_is_sent_only_when_the_app_is_served_over_https() {
    let app = spawn_app_with(Backend::Sqlite, |_| {}).await.unwrap();
    let resp = app.raw.get(app.url("/")).send().await.unwrap();
    assert!(!resp.headers().contains_key("strict-transport-security"));

    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.base_url = url::Url::parse("https://triage.example.org").unwrap();
        s.cookie_secure = true;
    })
    .await
    .unwrap();
    let resp = app.raw.get(app.url("/")).send().await.unwrap();
    let hsts = resp.headers()["strict-transport-security"]
        .to_str()
        .unwrap();
    assert!(hsts.contains("max-age=31536000"));
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"));
    let resp = app.raw.get(app.url("/admin/login")).send().await.unwrap();
    let cookie = resp.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Secure"),
        "{cookie}"
    );
}

on_both_backends! {
    async fn a_filled_honeypot_looks_accepted_but_stores_nothing(app: TestApp) {
        let page = app.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("name=\"website\""));
        assert!(page.contains("tabindex=\"-1\""));
        assert!(page.contains("Leave this field empty"));

        let mut form = valid_form();
        form.push(("website", "http://spam.example"));
        let resp = app.raw.post(app.url("/requests")).form(&form).send().await.unwrap();
        assert_eq!(resp.status(), 303);
        let location = resp.headers()["location"].to_str().unwrap().to_string();
        let thanks = app.client.get(app.url(&location)).send().await.unwrap();
        assert_eq!(thanks.status(), 200);
        let thanks = thanks.text().await.unwrap();
        assert!(thanks.contains("Thank you"));
        assert!(!thanks.contains("TF-"), "no reference for a robot");
        assert_eq!(app.request_count().await, 0);

        // An empty honeypot is what people send.
        let mut form = valid_form();
        form.push(("website", ""));
        let resp = app.raw.post(app.url("/requests")).form(&form).send().await.unwrap();
        assert_eq!(resp.status(), 303);
        assert_eq!(app.request_count().await, 1);
    }

    async fn every_post_route_refuses_oversized_and_mistyped_bodies(app: TestApp) {
        let big = "x".repeat(200 * 1024);
        let staff = app.staff("admin", &[]).await;
        let reference = app.submit(serde_json::json!({})).await;
        let actions = format!("/admin/requests/{reference}/actions");
        for path in [
            "/admin/login",
            "/admin/logout",
            "/admin/requests/new",
            actions.as_str(),
            "/admin/users",
            "/admin/rules",
            "/admin/rules/test",
            "/admin/guidance",
            "/admin/queue-settings",
        ] {
            let resp = staff
                .client
                .post(app.url(path))
                .form(&[("csrf", "x"), ("body", big.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 413, "{path}");
            let resp = staff
                .client
                .post(app.url(path))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 415, "{path}");
        }
        let resp = app.raw.post(app.url("/requests")).form(&[("description", big.as_str())]).send().await.unwrap();
        assert_eq!(resp.status(), 413);
        assert_eq!(app.request_count().await, 1);
    }

    async fn the_openapi_document_describes_the_api(app: TestApp) {
        let resp = app.raw.get(app.url("/api/openapi.json")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let doc: Value = resp.json().await.unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let paths = doc["paths"].as_object().unwrap();
        for path in [
            "/api/v1/requests",
            "/api/v1/requests/{reference}",
            "/api/v1/requests/{reference}/duplicates",
            "/api/v1/stats/forecast",
            "/healthz",
            "/readyz",
        ] {
            assert!(paths.contains_key(path), "{path} missing");
        }
        let post = &doc["paths"]["/api/v1/requests"]["post"];
        for status in ["201", "400", "413", "415", "422"] {
            assert!(post["responses"][status].is_object(), "{status} missing");
        }
        // Every status an /api/v1 operation can answer is declared, with its headers.
        for (path, method, statuses) in [
            ("/api/v1/requests", "post", &["201", "400", "401", "403", "413", "415", "422", "429", "500", "503"][..]),
            ("/api/v1/requests:batch", "post", &["200", "400", "401", "403", "413", "415", "422", "429", "500", "503"]),
            ("/api/v1/requests/{reference}", "get", &["200", "401", "403", "404", "429", "500", "503"]),
            ("/api/v1/requests/{reference}/duplicates", "get", &["200", "401", "403", "404", "429", "500", "503"]),
            ("/api/v1/stats/forecast", "get", &["200", "401", "403", "429", "500", "503"]),
            ("/api/v1/requests/{reference}/messages", "get", &["200", "401", "403", "404", "429", "500", "503"]),
            ("/api/v1/requests/{reference}/messages", "post", &["201", "400", "401", "403", "404", "413", "415", "422", "429", "500", "503"]),
        ] {
            let responses = doc["paths"][path][method]["responses"].as_object().unwrap();
            let mut declared: Vec<&str> = responses.keys().map(String::as_str).collect();
            declared.sort();
            assert_eq!(declared, statuses, "{method} {path}");
            for (status, response) in responses {
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(schema, "#/components/schemas/ErrorBody", "{method} {path} {status}");
                }
            }
            assert!(responses["429"]["headers"]["Retry-After"].is_object(), "{method} {path}");
            assert!(responses["401"]["headers"]["WWW-Authenticate"].is_object(), "{method} {path}");
        }
        let batch = &doc["paths"]["/api/v1/requests:batch"]["post"];
        assert!(batch["responses"]["422"]["content"]["application/json"]["example"]["errors"][0]["field"]
            .as_str()
            .unwrap()
            .starts_with("[1]."));
        assert!(batch["description"].as_str().unwrap().contains("no row is valid"));
        assert_eq!(doc["paths"]["/api/v1/requests"]["post"]["responses"]["201"]["headers"]["Location"]["schema"]["type"], "string");
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for schema in ["IntakeInput", "RequestSummary", "ErrorBody", "FieldError", "DuplicateCandidates", "ForecastReport"] {
            assert!(schemas.contains_key(schema), "{schema} missing");
        }
        let error = &schemas["ErrorBody"]["properties"];
        assert!(error["error"].is_object() && error["message"].is_object() && error["errors"].is_object());
    }
}

/// Routing does not depend on the database: SQLite only.
#[actix_web::test]
async fn every_address_answers_a_method_it_does_not_take_with_405_and_allow() {
    let app = crate::helpers::spawn_app(Backend::Sqlite)
        .await
        .expect("sqlite app");
    // (address, the methods it takes, answered in the API's error format)
    let addresses = [
        ("/", "GET, HEAD, POST", false),
        ("/requests", "GET, POST", false),
        ("/status", "GET, HEAD, POST", false),
        ("/thanks", "GET, HEAD", false),
        ("/submitted/x", "GET", false),
        ("/static/style.css", "GET, HEAD", false),
        ("/healthz", "GET, HEAD", false),
        ("/readyz", "GET, HEAD", false),
        ("/metrics", "GET, HEAD", false),
        ("/admin", "GET", false),
        ("/admin/login", "GET, POST", false),
        ("/admin/login/code", "GET, POST", false),
        ("/admin/logout", "POST", false),
        ("/admin/requests/new", "GET, POST", false),
        ("/admin/requests/TF-0000-0000", "GET", false),
        ("/admin/partners/tokens/x/revoke", "POST", false),
        ("/api/openapi.json", "GET, HEAD", true),
        ("/api/v1/requests", "POST", true),
        ("/api/v1/requests:batch", "POST", true),
        ("/api/v1/requests/TF-0000-0000", "GET", true),
        ("/api/v1/requests/TF-0000-0000/duplicates", "GET", true),
    ];
    let methods = ["TRACE", "PATCH", "PROPFIND", "PUT", "DELETE"];
    for (path, allowed, api) in addresses {
        let mut expected: Vec<&str> = allowed.split(", ").collect();
        expected.sort();
        for method in methods {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let resp = app
                .raw
                .request(method.clone(), app.url(path))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 405, "{method} {path}");
            let allow = resp.headers()["allow"].to_str().unwrap().to_string();
            let mut got: Vec<&str> = allow.split(',').map(str::trim).collect();
            got.sort();
            assert_eq!(got, expected, "{method} {path}");
            if api {
                let err: Value = resp.json().await.unwrap();
                assert_eq!(err["error"], "method_not_allowed", "{method} {path}");
            }
        }
    }
    // A common method is refused the same way where the address does not take it, and
    // answered where it does.
    let resp = app.raw.get(app.url("/admin/logout")).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "POST");
    let resp = app.raw.head(app.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}
