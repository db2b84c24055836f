//! Numbers as Afghans write them: a phone number written locally, in Persian digits.

use crate::helpers::{duplicate_candidates, valid_request, TestApp};
use crate::on_both_backends;
use serde_json::{json, Value};

async fn submit_api(app: &TestApp, body: &Value) -> String {
    let resp = app.post_json("/api/v1/requests", body).await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let created: Value = resp.json().await.unwrap();
    created["reference"].as_str().unwrap().to_string()
}

/// The case page as an admin sees it.
async fn case_page(app: &TestApp, reference: &str) -> String {
    let admin = app.staff("admin", &[]).await;
    let resp = admin
        .get(app, &format!("/admin/requests/{reference}"))
        .await;
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}

on_both_backends! {
    async fn a_local_afghan_number_and_its_international_form_are_one_phone(app: TestApp) {
        let mut first = valid_request();
        first["applicant"]["full_name"] = json!("Mirwais Stanikzai");
        first["applicant"]["location"] = json!("afghanistan");
        first["applicant"]["phone"] = json!("۰۷۰۰ ۱۲۳ ۴۵۶");
        let first = submit_api(&app, &first).await;
        assert!(case_page(&app, &first).await.contains("+93700123456"), "stored in E.164");

        let mut second = valid_request();
        second["applicant"]["full_name"] = json!("Mirwais Stanekzai");
        second["applicant"]["location"] = json!("pakistan");
        second["applicant"]["phone"] = json!("+93 700 123 456");
        second["applicant"]["date_of_birth"] = Value::Null;
        let second = submit_api(&app, &second).await;
        let reference = second.clone();
        let found = app.db(move |c| duplicate_candidates(c, &reference)).await;
        let candidate = &found["candidates"][0];
        assert_eq!(candidate["reference"], first.as_str());
        assert!(candidate["reasons"].as_array().unwrap().contains(&json!("same phone")), "{found}");

        // From Pakistan a local number is Pakistani.
        let mut pakistani = valid_request();
        pakistani["applicant"]["full_name"] = json!("Shabana Wardak");
        pakistani["applicant"]["phone"] = json!("0300 1234567");
        let pakistani = submit_api(&app, &pakistani).await;
        assert!(case_page(&app, &pakistani).await.contains("+923001234567"));
    }
}
