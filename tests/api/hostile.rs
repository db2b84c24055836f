//! Hostile input through the public form and the partner API: whatever arrives, the answer
//! is a clear 4xx (and nothing is stored) or the request is stored and shown inert, never a
//! server error or a half-written request.

use serde_json::{json, Value};

use crate::helpers::{find_reference, valid_form, valid_request, TestApp};
use crate::on_both_backends;

/// Markup that would run in a browser if a page printed it unescaped.
const XSS: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>\"><svg onload=alert(3)>";
/// How the templates print it: as text.
const ESCAPED: &str = "&#60;script&#62;alert(1)&#60;/script&#62;";
const XSS_NEEDLES: &[&str] = &[
    "<script>alert",
    "<img src=x",
    "onerror=alert(2)>",
    "<svg onload",
    "\"><svg",
];

fn assert_inert(page: &str, what: &str) {
    for needle in XSS_NEEDLES {
        assert!(!page.contains(needle), "{what} prints {needle:?} unescaped");
    }
}

/// The JSON body with one field (by path) replaced.
fn api_body_with(path: &[&str], value: Value) -> Value {
    let mut body = valid_request();
    let mut at = &mut body;
    for key in &path[..path.len() - 1] {
        at = &mut at[*key];
    }
    at[path[path.len() - 1]] = value;
    body
}

/// The form with one field replaced (owned strings, for values built at run time).
fn form_with(name: &str, value: &str) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = valid_form()
        .into_iter()
        .filter(|(k, _)| *k != name)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    form.push((name.to_string(), value.to_string()));
    form
}

async fn post_form(app: &TestApp, form: &[(String, String)]) -> reqwest::Response {
    app.raw
        .post(app.url("/requests"))
        .form(form)
        .send()
        .await
        .expect("form sent")
}

async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.raw
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request sent")
}

/// A refused API request: the given 4xx with the documented error body.
async fn assert_api_refused(resp: reqwest::Response, statuses: &[u16], what: &str) {
    let status = resp.status().as_u16();
    assert!(
        statuses.contains(&status),
        "{what}: got {status}, expected one of {statuses:?}"
    );
    let body: Value = resp
        .json()
        .await
        .unwrap_or_else(|e| panic!("{what}: body is not JSON: {e}"));
    assert!(body["error"].is_string(), "{what}: {body}");
    assert!(body["message"].is_string(), "{what}: {body}");
    assert!(body["errors"].is_array(), "{what}: {body}");
}

/// The staff case page of a stored request.
async fn staff_case_page(app: &TestApp, reference: &str) -> String {
    let staff = app.staff("lead", &[]).await;
    let resp = staff
        .get(app, &format!("/admin/requests/{reference}"))
        .await;
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}

on_both_backends! {
    async fn markup_in_every_form_text_field_is_stored_and_shown_inert(app: TestApp) {
        let mut form = valid_form()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>();
        form.retain(|(k, _)| !matches!(k.as_str(), "submitter_kind" | "siv_case_number"));
        form.push(("submitter_kind".into(), "organization".into()));
        for field in [
            "submitter_name",
            "submitter_organization",
            "applicant_full_name",
            "referral_referred_by",
            "description",
        ] {
            form.retain(|(k, _)| k != field);
            form.push((field.to_string(), format!("Ahmad {XSS}")));
        }
        let resp = post_form(&app, &form).await;
        assert_eq!(resp.status(), 303);
        let location = resp.headers()["location"].to_str().unwrap().to_string();
        let confirmation = app.client.get(app.url(&location)).send().await.unwrap();
        assert_eq!(confirmation.status(), 200);
        let confirmation = confirmation.text().await.unwrap();
        assert_inert(&confirmation, "the confirmation page");
        let reference = find_reference(&confirmation).expect("a reference");

        let page = staff_case_page(&app, &reference).await;
        assert_inert(&page, "the staff case page");
        assert!(page.contains(ESCAPED), "the text is kept, escaped");
        assert_eq!(app.request_count().await, 1);
    }

    async fn markup_in_fields_that_refuse_it_comes_back_escaped(app: TestApp) {
        for field in [
            "submitter_email",
            "submitter_phone",
            "applicant_date_of_birth",
            "applicant_phone",
            "applicant_whatsapp",
            "applicant_email",
            "applicant_household_size",
            "siv_case_number",
            "applicant_location",
            "submitter_kind",
        ] {
            let resp = post_form(&app, &form_with(field, XSS)).await;
            let status = resp.status();
            let page = resp.text().await.unwrap();
            assert_eq!(status, 422, "{field}: {page}");
            assert_inert(&page, field);
            assert!(page.contains(ESCAPED) || !page.contains("alert(1)"), "{field}");
        }
        assert_eq!(app.request_count().await, 0);
    }

    async fn markup_in_every_api_text_field_is_stored_and_shown_inert(app: TestApp) {
        let mut body = valid_request();
        body["submitter"] = json!({
            "kind": "organization",
            "name": format!("Sponsor {XSS}"),
            "organization": format!("NGO {XSS}"),
        });
        body["applicant"]["full_name"] = json!(format!("Ahmad {XSS}"));
        body["referral"]["referred_by"] = json!(format!("UNHCR {XSS}"));
        body["description"] = json!(format!("Help {XSS}"));
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 201);
        let created: Value = resp.json().await.unwrap();
        let reference = created["reference"].as_str().unwrap().to_string();
        let page = staff_case_page(&app, &reference).await;
        assert_inert(&page, "the staff case page");
        assert!(page.contains(&format!("NGO {ESCAPED}")));

        for path in [
            &["submitter", "email"][..],
            &["submitter", "phone"],
            &["applicant", "email"],
            &["applicant", "phone"],
            &["applicant", "whatsapp"],
            &["applicant", "date_of_birth"],
            &["siv", "case_number"],
            &["applicant", "location"],
            &["us_tie"],
        ] {
            let resp = app.post_json("/api/v1/requests", &api_body_with(path, json!(XSS))).await;
            assert_api_refused(resp, &[422], &path.join(".")).await;
        }
        assert_eq!(app.request_count().await, 1);
    }

    async fn sql_metacharacters_are_plain_text(app: TestApp) {
        let name = "Robert'); DROP TABLE case_requests;-- O'Brien";
        let resp = post_form(&app, &form_with("applicant_full_name", name)).await;
        assert_eq!(resp.status(), 303);
        let body = api_body_with(
            &["description"],
            json!("1' OR '1'='1'; DELETE FROM request_personal_data; --\\\"%_"),
        );
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 201);
        let reference: Value = resp.json().await.unwrap();
        let page = staff_case_page(&app, reference["reference"].as_str().unwrap()).await;
        assert!(page.contains("DELETE FROM request_personal_data"));
        assert_eq!(app.request_count().await, 2, "both stored, nothing dropped");
        // A search with the same characters is just a search.
        let staff = app.staff("lead", &[]).await;
        let resp = staff.get(&app, "/admin/cases?q=%27%3B%20DROP%20TABLE%20case_requests%3B--").await;
        assert!(resp.status().is_success(), "{}", resp.status());
    }

    async fn nul_and_bidi_override_characters_are_refused(app: TestApp) {
        for value in ["Ahmad\u{0}Karimi", "\u{202E}imaraK damhA", "Ahmad\u{2066}Karimi\u{2069}", "Ahmad\u{7}"] {
            let resp = post_form(&app, &form_with("applicant_full_name", value)).await;
            assert_eq!(resp.status(), 422, "{value:?}");
            let resp = app
                .post_json("/api/v1/requests", &api_body_with(&["applicant", "full_name"], json!(value)))
                .await;
            assert_api_refused(resp, &[422], &format!("{value:?}")).await;
            let resp = app
                .post_json("/api/v1/requests", &api_body_with(&["submitter", "name"], json!(value)))
                .await;
            assert_api_refused(resp, &[422], &format!("submitter {value:?}")).await;
        }
        let resp = post_form(&app, &form_with("description", "line one\u{0}line two")).await;
        assert_eq!(resp.status(), 422);
        assert_eq!(app.request_count().await, 0);
    }

    async fn invalid_utf8_is_refused_or_replaced(app: TestApp) {
        let mut json = br#"{"submitter":{"kind":"self"},"applicant":{"full_name":"Ahmad "#.to_vec();
        json.extend_from_slice(&[0xff, 0xfe, 0xc3]);
        json.extend_from_slice(br#"","phone":"+93 700 123 456","location":"pakistan"},"consent":true}"#);
        let resp = post_raw(&app, "/api/v1/requests", "application/json", json).await;
        assert_api_refused(resp, &[400], "invalid UTF-8 in JSON").await;

        // Browsers percent-encode; undecodable bytes become U+FFFD, never a server error.
        let mut form = b"submitter_kind=self&applicant_location=pakistan&consent=yes&applicant_phone=%2B93700123456&applicant_full_name=Ahmad%FF%FEKarimi&description=".to_vec();
        form.extend_from_slice(&[0xff, 0xc0, 0x80]);
        let resp = post_raw(&app, "/requests", "application/x-www-form-urlencoded", form).await;
        let status = resp.status().as_u16();
        assert!(status == 303 || status == 422, "got {status}");
        let expected = i64::from(status == 303);
        assert_eq!(app.request_count().await, expected);
    }

    async fn oversized_bodies_are_refused_whole(app: TestApp) {
        for size in [1024 * 1024, 10 * 1024 * 1024] {
            let mut body = valid_request();
            body["description"] = json!("x".repeat(size));
            let resp = app
                .raw
                .post(app.url("/api/v1/requests"))
                .json(&body)
                .send()
                .await;
            match resp {
                Ok(resp) => assert_api_refused(resp, &[413], &format!("{size} byte JSON")).await,
                // The server may answer and close before a large upload finishes; what
                // matters is that nothing was stored.
                Err(e) => assert!(size > 1024 * 1024, "{size} byte JSON: {e}"),
            }
            let form = form_with("description", &"x".repeat(size));
            match app.raw.post(app.url("/requests")).form(&form).send().await {
                Ok(resp) => assert_eq!(resp.status(), 413, "{size} byte form"),
                Err(e) => assert!(size > 1024 * 1024, "{size} byte form: {e}"),
            }
        }
        assert_eq!(app.request_count().await, 0);
    }

    async fn deeply_nested_json_is_a_client_error(app: TestApp) {
        let deep = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let bodies = [
            deep(20_000),
            format!(r#"{{"description": {}}}"#, deep(10_000)),
            format!(r#"{{"submitter": {}}}"#, "{\"kind\":".repeat(5_000) + "\"self\"" + &"}".repeat(5_000)),
            format!(r#"{{"claimed_programs": {}}}"#, deep(129)),
            format!(r#"{{"claimed_programs": {}, "extra": 1}}"#, deep(2_000)),
        ];
        for body in bodies {
            let resp = post_raw(&app, "/api/v1/requests", "application/json", body.into_bytes()).await;
            assert_api_refused(resp, &[400, 422], "nested JSON").await;
        }
        assert_eq!(app.request_count().await, 0);
    }

    async fn absurd_dates_are_refused(app: TestApp) {
        for date in ["0000-01-01", "99999-01-01", "+99999-12-31", "-0001-01-01", "1990-02-30", "1899-12-31", "9999-12-31", "1990-13-01"] {
            let resp = post_form(&app, &form_with("applicant_date_of_birth", date)).await;
            assert_eq!(resp.status(), 422, "form {date}");
            let resp = app
                .post_json("/api/v1/requests", &api_body_with(&["applicant", "date_of_birth"], json!(date)))
                .await;
            assert_api_refused(resp, &[422], date).await;
        }
        assert_eq!(app.request_count().await, 0);
    }

    async fn impossible_household_sizes_are_refused(app: TestApp) {
        for size in ["-1", "0", "-9223372036854775808", "99999999999999999999", "51", "4.5", "1e3"] {
            let resp = post_form(&app, &form_with("applicant_household_size", size)).await;
            assert_eq!(resp.status(), 422, "form {size}");
            let number: Value = serde_json::from_str(size).unwrap();
            let resp = app
                .post_json("/api/v1/requests", &api_body_with(&["applicant", "household_size"], number))
                .await;
            assert_api_refused(resp, &[422], size).await;
        }
        assert_eq!(app.request_count().await, 0);
    }

    async fn header_injection_in_email_fields_is_refused(app: TestApp) {
        for value in [
            "a@example.org\r\nBcc: victim@example.org",
            "a@example.org\nSubject: hi",
            "\"Evil\" <a@example.org>",
            "a@example.org, b@example.org",
        ] {
            for field in ["applicant_email", "submitter_email"] {
                let resp = post_form(&app, &form_with(field, value)).await;
                assert_eq!(resp.status(), 422, "{field} {value:?}");
            }
            for path in [&["applicant", "email"][..], &["submitter", "email"]] {
                let resp = app.post_json("/api/v1/requests", &api_body_with(path, json!(value))).await;
                assert_api_refused(resp, &[422], value).await;
            }
        }
        assert_eq!(app.request_count().await, 0);
    }

    async fn wrong_content_types_are_415(app: TestApp) {
        let json = serde_json::to_vec(&valid_request()).unwrap();
        for ct in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""] {
            let resp = post_raw(&app, "/api/v1/requests", ct, json.clone()).await;
            assert_api_refused(resp, &[415], ct).await;
        }
        for ct in ["application/json", "text/plain", "multipart/form-data; boundary=x"] {
            let resp = post_raw(&app, "/requests", ct, b"applicant_full_name=Ahmad".to_vec()).await;
            assert_eq!(resp.status(), 415, "{ct}");
        }
        assert_eq!(app.request_count().await, 0);
    }

    async fn oversized_headers_and_long_fields_are_client_errors(app: TestApp) {
        // Headers far over what any browser or partner sends.
        let resp = app.raw.get(app.url("/")).header("x-padding", "a".repeat(20 * 1024)).send().await.unwrap();
        assert_eq!(resp.status(), 431);
        let mut req = app.raw.post(app.url("/api/v1/requests")).json(&valid_request());
        for i in 0..40 {
            req = req.header(format!("x-pad-{i}"), "b".repeat(500));
        }
        assert_eq!(req.send().await.unwrap().status(), 431);
        // Fields longer than any real answer, each under the body limit.
        for (field, len) in [("applicant_full_name", 201), ("submitter_organization", 201), ("description", 5_001), ("applicant_email", 300), ("applicant_phone", 200), ("siv_case_number", 200)] {
            let resp = post_form(&app, &form_with(field, &"a".repeat(len))).await;
            assert_eq!(resp.status(), 422, "{field}");
        }
        assert_eq!(app.request_count().await, 0);
    }
}
