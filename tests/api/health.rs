//! Health checks as a load balancer sees them.

use crate::helpers::{spawn_app, Backend};
use crate::on_both_backends;
use serde_json::Value;

on_both_backends! {
    async fn healthy_when_the_database_answers(app: TestApp) {
        let resp = app.raw.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let resp = app.raw.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["migrations"], "applied");
    }
}

#[actix_web::test]
async fn unhealthy_when_the_database_is_gone() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    assert_eq!(
        app.raw
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.drop_database();
    let resp = app.raw.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["database"], "unreachable");
    // The API says so too, instead of pretending the input was bad.
    let resp = app
        .post_json("/api/v1/requests", &crate::helpers::valid_request())
        .await;
    assert_eq!(resp.status(), 503);
}

#[actix_web::test]
async fn security_headers_are_on_every_page() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    for path in ["/", "/healthz", "/nope"] {
        let resp = app.raw.get(app.url(path)).send().await.unwrap();
        let h = resp.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'"));
    }
}
