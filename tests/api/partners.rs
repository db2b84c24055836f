//! Partner organizations: admins issue API tokens, partners submit with them, see only
//! their own requests, send batches and stay within their daily quota.

use crate::helpers::{distinct_name, spawn_app_with, valid_request, Backend, StaffClient, TestApp};
use crate::on_both_backends;
use case_triage::db;
use serde_json::{json, Value};

/// A request about a new, distinct person.
pub(crate) fn distinct_request() -> Value {
    let mut body = valid_request();
    body["applicant"]["full_name"] = json!(distinct_name());
    body["applicant"]["phone"] = json!(format!("+93 7{:08}", rand::random::<u32>() % 100_000_000));
    body
}

/// The partner's id, by its name.
pub(crate) async fn partner_id(app: &TestApp, name: &str) -> String {
    let name = name.to_string();
    app.db(db::partners::list)
        .await
        .into_iter()
        .find(|p| p.name == name)
        .expect("the partner exists")
        .id
}

/// An admin adds a partner on `/admin/partners` and issues it a token; returns the
/// partner's id and the token as the page showed it.
pub(crate) async fn partner_with_token(
    app: &TestApp,
    admin: &StaffClient,
    name: &str,
    quota: &str,
) -> (String, String) {
    let resp = admin
        .post(
            app,
            "/admin/partners",
            "/admin/partners",
            &[("name", name), ("daily_quota", quota)],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains(name));
    let id = partner_id(app, name).await;
    let token = issue(app, admin, &id, "intake system").await;
    (id, token)
}

async fn issue(app: &TestApp, admin: &StaffClient, partner: &str, name: &str) -> String {
    let resp = admin
        .post(
            app,
            "/admin/partners",
            &format!("/admin/partners/{partner}/tokens"),
            &[("name", name)],
        )
        .await;
    shown_once(resp, "new-token").await
}

/// The secret a page shows once in `<code id="{id}">`, after checking it is kept out of caches.
pub(crate) async fn shown_once(resp: reqwest::Response, id: &str) -> String {
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let page = resp.text().await.unwrap();
    let open = format!("<code id=\"{id}\">");
    let start = page.find(&open).unwrap_or_else(|| panic!("{id} is shown")) + open.len();
    page[start..start + page[start..].find("</code>").unwrap()].to_string()
}

pub(crate) async fn post_with(
    app: &TestApp,
    path: &str,
    token: &str,
    body: &Value,
) -> reqwest::Response {
    app.raw
        .post(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn get_with(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = app.raw.get(app.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

async fn error_code(resp: reqwest::Response) -> String {
    let body: Value = resp.json().await.unwrap();
    body["error"].as_str().unwrap().to_string()
}

on_both_backends! {
    async fn a_partner_submits_with_its_token_until_it_is_revoked(app: TestApp) {
        let admin = app.staff("admin", &[]).await;
        let (id, token) = partner_with_token(&app, &admin, "Example NGO", "").await;
        assert!(token.starts_with("ctp_") && token.len() > 40, "{token}");

        // Only the token's hash is kept.
        let stored = app.db(db::partners::tokens).await;
        assert_eq!(stored.len(), 1);
        assert_ne!(stored[0].token_hash, token);
        assert_eq!(stored[0].token_hash, case_triage::web::admin::auth::sha256_hex(&token));
        let page = admin.get(&app, "/admin/partners").await.text().await.unwrap();
        assert!(!page.contains(&token), "the token is shown only once");
        assert!(page.contains("never"));

        let resp = post_with(&app, "/api/v1/requests", &token, &distinct_request()).await;
        assert_eq!(resp.status(), 201);
        let created: Value = resp.json().await.unwrap();
        let reference = created["reference"].as_str().unwrap().to_string();

        // The request records its partner, and the audit trail names it.
        let lookup = reference.clone();
        let row = app
            .db(move |conn| db::requests::find_by_reference(conn, &lookup))
            .await
            .unwrap();
        assert_eq!(row.partner_id.as_deref(), Some(id.as_str()));
        let trail = app.db(move |conn| db::requests::audit_trail(conn, &row.id)).await;
        assert_eq!(trail[0].actor.to_string(), format!("partner:{id}"));
        let page = admin.get(&app, "/admin/partners").await.text().await.unwrap();
        assert!(!page.contains(">never<"), "the token's last use is shown");

        let token_id = app.db(db::partners::tokens).await[0].id.clone();
        let resp = admin
            .post(&app, "/admin/partners", &format!("/admin/partners/tokens/{token_id}/revoke"), &[])
            .await;
        assert_eq!(resp.status(), 200);
        assert!(resp.text().await.unwrap().contains("revoked"));

        // A revoked token is refused even though anonymous use is allowed here.
        let resp = post_with(&app, "/api/v1/requests", &token, &distinct_request()).await;
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.headers()["www-authenticate"], "Bearer");
        assert_eq!(error_code(resp).await, "unauthorized");
        let resp = get_with(&app, &format!("/api/v1/requests/{reference}"), Some(&token)).await;
        assert_eq!(resp.status(), 401);
        // Without a token the deployment's anonymous use still works.
        let resp = app.post_json("/api/v1/requests", &distinct_request()).await;
        assert_eq!(resp.status(), 201);
    }

    async fn a_partner_sees_only_its_own_requests(app: TestApp) {
        let admin = app.staff("admin", &[]).await;
        let (_, first) = partner_with_token(&app, &admin, "First NGO", "").await;
        let (_, second) = partner_with_token(&app, &admin, "Second NGO", "").await;
        let resp = post_with(&app, "/api/v1/requests", &first, &distinct_request()).await;
        let reference = resp.json::<Value>().await.unwrap()["reference"].as_str().unwrap().to_string();
        let anonymous = app.submit(json!({})).await;

        for path in [format!("/api/v1/requests/{reference}"), format!("/api/v1/requests/{reference}/duplicates")] {
            let resp = get_with(&app, &path, Some(&first)).await;
            assert_eq!(resp.status(), 200, "{path}");
            // Another partner's request looks exactly like an unknown one.
            let theirs = get_with(&app, &path, Some(&second)).await;
            assert_eq!(theirs.status(), 404);
            let theirs: Value = theirs.json().await.unwrap();
            let unknown = get_with(&app, &path.replace(&reference, "TF-0000-0000"), Some(&second)).await;
            assert_eq!(unknown.status(), 404);
            assert_eq!(theirs, unknown.json::<Value>().await.unwrap());
            // Reading always needs a token, even where anonymous submission is allowed.
            assert_eq!(get_with(&app, &path, None).await.status(), 401);
        }
        let resp = get_with(&app, &format!("/api/v1/requests/{anonymous}"), Some(&first)).await;
        assert_eq!(resp.status(), 404, "an anonymous request is no partner's own");
    }

    async fn a_partners_duplicates_name_only_its_own_requests(app: TestApp) {
        // The same person reported by the first partner twice, by a second partner and on
        // the form: the first partner learns of its own second report only.
        let admin = app.staff("admin", &[]).await;
        let (_, first) = partner_with_token(&app, &admin, "First NGO", "").await;
        let (_, second) = partner_with_token(&app, &admin, "Second NGO", "").await;
        let same = valid_request();
        let reference = |resp: reqwest::Response| async move {
            assert_eq!(resp.status(), 201);
            resp.json::<Value>().await.unwrap()["reference"].as_str().unwrap().to_string()
        };
        let ours = reference(post_with(&app, "/api/v1/requests", &first, &same).await).await;
        let theirs = reference(post_with(&app, "/api/v1/requests", &second, &same).await).await;
        let anonymous = reference(app.post_json("/api/v1/requests", &same).await).await;
        let ours_again = reference(post_with(&app, "/api/v1/requests", &first, &same).await).await;
        let all = {
            let r = ours.clone();
            app.db(move |c| crate::helpers::duplicate_candidates(c, &r)).await
        };
        assert_eq!(all["candidates"].as_array().unwrap().len(), 3, "staff see every report: {all}");

        let resp = get_with(&app, &format!("/api/v1/requests/{ours}/duplicates"), Some(&first)).await;
        assert_eq!(resp.status(), 200);
        let body = resp.text().await.unwrap();
        let shown: Value = serde_json::from_str(&body).unwrap();
        let listed: Vec<&str> = shown["candidates"].as_array().unwrap().iter().map(|c| c["reference"].as_str().unwrap()).collect();
        assert_eq!(listed, [ours_again.as_str()]);
        assert!(!body.contains(&theirs) && !body.contains(&anonymous), "{body}");
    }

    async fn a_batch_stores_the_valid_rows_and_reports_every_row(app: TestApp) {
        let admin = app.staff("admin", &[]).await;
        let (id, token) = partner_with_token(&app, &admin, "Batch NGO", "").await;
        let mut invalid = distinct_request();
        invalid["applicant"]["full_name"] = json!("");
        let rows = json!([distinct_request(), invalid, distinct_request()]);
        let before = app.request_count().await;
        let resp = post_with(&app, "/api/v1/requests:batch", &token, &rows).await;
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["created"], 2);
        assert_eq!(body["invalid"], 1);
        let results = body["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r["index"], i);
        }
        assert_eq!(results[0]["status"], "created");
        assert!(results[0]["reference"].as_str().unwrap().starts_with("TF-"));
        assert!(results[0]["category"].is_string());
        assert!(results[0]["queue"]["slug"].is_string());
        assert_eq!(results[1]["status"], "invalid");
        assert_eq!(results[1]["errors"][0]["field"], "applicant.full_name");
        assert!(results[1].get("reference").is_none());
        assert_eq!(results[2]["status"], "created");
        assert_eq!(app.request_count().await, before + 2);

        // The partner's requests are its own.
        let reference = results[2]["reference"].as_str().unwrap();
        let lookup = reference.to_string();
        let row = app.db(move |conn| db::requests::find_by_reference(conn, &lookup)).await.unwrap();
        assert_eq!(row.partner_id.as_deref(), Some(id.as_str()));
        let resp = get_with(&app, &format!("/api/v1/requests/{reference}"), Some(&token)).await;
        assert_eq!(resp.status(), 200);
        let summary: Value = resp.json().await.unwrap();
        assert_eq!(summary["category"], results[2]["category"]);
        assert_eq!(summary["queue"], results[2]["queue"]);

        // The dashboard counts the partner's requests of the day.
        let page = admin.get(&app, "/admin").await.text().await.unwrap();
        let row = &page[page.find("<bdi>Batch NGO</bdi>").expect("the partner's row")..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.ends_with("<td class=\"num\">2</td><td class=\"num\"><strong>2</strong></td>"), "{row}");

        // All or nothing.
        let resp = post_with(&app, "/api/v1/requests:batch?atomic=true", &token, &rows).await;
        assert_eq!(resp.status(), 422);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "invalid_fields");
        assert_eq!(body["errors"][0]["field"], "[1].applicant.full_name");
        assert_eq!(app.request_count().await, before + 2, "nothing stored");
        let valid = json!([distinct_request(), distinct_request()]);
        let resp = post_with(&app, "/api/v1/requests:batch?atomic=true", &token, &valid).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(app.request_count().await, before + 4);

        // A batch with no valid row stores nothing and says so, as `atomic` would.
        let mut nameless = distinct_request();
        nameless["applicant"]["full_name"] = json!("");
        let mut unconsented = distinct_request();
        unconsented["consent"] = json!(false);
        let before_invalid = app.request_count().await;
        let rows = json!([nameless, unconsented, [1]]);
        let resp = post_with(&app, "/api/v1/requests:batch", &token, &rows).await;
        assert_eq!(resp.status(), 422);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "invalid_fields");
        let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["[0].applicant.full_name", "[1].consent", "[2]"]);
        assert_eq!(app.request_count().await, before_invalid, "nothing stored");

        // Not a list, an empty list, or a bad flag: 422.
        for (path, body) in [
            ("/api/v1/requests:batch", json!({"not": "a list"})),
            ("/api/v1/requests:batch", json!([])),
            ("/api/v1/requests:batch?atomic=maybe", json!([distinct_request()])),
        ] {
            let resp = post_with(&app, path, &token, &body).await;
            assert_eq!(resp.status(), 422, "{path} {body}");
        }
        // Anonymous batches work where anonymous use is allowed.
        let resp = app.post_json("/api/v1/requests:batch", &json!([distinct_request()])).await;
        assert_eq!(resp.status(), 200);
    }

    async fn a_partner_past_its_daily_quota_is_told_when_to_come_back(app: TestApp) {
        let admin = app.staff("admin", &[]).await;
        let (id, token) = partner_with_token(&app, &admin, "Quota NGO", "2").await;
        for _ in 0..2 {
            let resp = post_with(&app, "/api/v1/requests", &token, &distinct_request()).await;
            assert_eq!(resp.status(), 201);
        }
        let resp = post_with(&app, "/api/v1/requests", &token, &distinct_request()).await;
        assert_eq!(resp.status(), 429);
        let wait: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=86_400).contains(&wait), "{wait}");
        assert_eq!(error_code(resp).await, "quota_exceeded");
        let resp = post_with(&app, "/api/v1/requests:batch", &token, &json!([distinct_request()])).await;
        assert_eq!(resp.status(), 429);

        // The admin raises the quota; the partner goes on.
        let resp = admin
            .post(&app, "/admin/partners", &format!("/admin/partners/{id}/quota"), &[("daily_quota", "3")])
            .await;
        assert_eq!(resp.status(), 200);
        let resp = post_with(&app, "/api/v1/requests", &token, &distinct_request()).await;
        assert_eq!(resp.status(), 201);
        // Anonymous use has no quota, only the per-address rate limit.
        assert_eq!(app.post_json("/api/v1/requests", &distinct_request()).await.status(), 201);
    }

    async fn only_admins_manage_partners(app: TestApp) {
        let admin = app.staff("admin", &[]).await;
        let page = admin.get(&app, "/admin").await.text().await.unwrap();
        assert!(page.contains("href=\"/admin/partners\""));
        for role in ["lead", "caseworker", "viewer"] {
            let staff = app.staff(role, &[]).await;
            assert_eq!(staff.get(&app, "/admin/partners").await.status(), 403, "{role}");
            let page = staff.get(&app, "/admin").await.text().await.unwrap();
            assert!(!page.contains("href=\"/admin/partners\""), "{role}");
            let resp = staff
                .post(&app, "/admin", "/admin/partners", &[("name", "Sneaky NGO")])
                .await;
            assert_eq!(resp.status(), 403, "{role}");
        }
        let resp = admin
            .post(&app, "/admin/partners", "/admin/partners", &[("name", ""), ("daily_quota", "")])
            .await;
        assert_eq!(resp.status(), 422);
        let resp = admin
            .post(&app, "/admin/partners", "/admin/partners", &[("name", "X"), ("daily_quota", "lots")])
            .await;
        assert_eq!(resp.status(), 422);
        assert!(app.db(db::partners::list).await.is_empty());
    }
}

/// Spawns an instance where the API takes no anonymous requests.
async fn closed_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |s| s.api_anonymous = false).await
}

async fn token_required(app: TestApp) {
    let admin = app.staff("admin", &[]).await;
    let (_, token) = partner_with_token(&app, &admin, "Closed NGO", "").await;

    let resp = app.post_json("/api/v1/requests", &distinct_request()).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    assert_eq!(error_code(resp).await, "unauthorized");
    for bad in ["Bearer ", "Bearer ctp_0000", "Basic dXNlcjpwYXNz"] {
        let resp = app
            .raw
            .post(app.url("/api/v1/requests"))
            .header("authorization", bad)
            .json(&distinct_request())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{bad}");
    }
    let resp = app
        .post_json("/api/v1/requests:batch", &json!([distinct_request()]))
        .await;
    assert_eq!(resp.status(), 401);
    assert_eq!(app.request_count().await, 0);

    let resp = post_with(&app, "/api/v1/requests", &token, &distinct_request()).await;
    assert_eq!(resp.status(), 201);
    let reference = resp.json::<Value>().await.unwrap()["reference"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/requests/{reference}");
    assert_eq!(get_with(&app, &path, None).await.status(), 401);
    assert_eq!(get_with(&app, &path, Some(&token)).await.status(), 200);
}

#[actix_web::test]
async fn a_token_is_required_when_anonymous_use_is_off_sqlite() {
    token_required(closed_app(Backend::Sqlite).await.expect("sqlite app")).await
}

#[actix_web::test]
async fn a_token_is_required_when_anonymous_use_is_off_postgres() {
    if let Some(app) = closed_app(Backend::Postgres).await {
        token_required(app).await
    }
}
