//! Dates and numbers as Afghans write them: a Tazkira's Solar Hijri date of birth, in
//! Persian digits, or only its year; a phone number written locally. Entered on the form,
//! at the staff walk-in desk, in a CSV list and through the API, and read back by staff in
//! both calendars.

use crate::helpers::{
    csrf_of, duplicate_candidates, find_reference, valid_form, valid_request, with_field, TestApp,
};
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

/// The reference an upload's result links to.
fn linked_reference(page: &str) -> String {
    let link = page
        .split("href=\"/admin/requests/TF-")
        .nth(1)
        .expect("a link to the request");
    find_reference(&format!("TF-{link}")).expect("a reference")
}

/// The `errors` of a refused API request, as (field, code).
async fn refused(app: &TestApp, body: &Value) -> Vec<(String, String)> {
    let resp = app.post_json("/api/v1/requests", body).await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

on_both_backends! {
    async fn a_partner_sends_a_tazkira_date_and_staff_read_it_in_both_calendars(app: TestApp) {
        let mut body = valid_request();
        body["applicant"]["date_of_birth"] = json!("۱۳۶۹/۱۰/۱۱");
        body["applicant"]["date_of_birth_calendar"] = json!("hijri_shamsi");
        let reference = submit_api(&app, &body).await;
        assert!(case_page(&app, &reference).await.contains("1991-01-01 (1369-10-11 SH)"));

        // Only the year is known: kept as a year.
        body["applicant"]["full_name"] = json!("Zarghuna Stanikzai");
        body["applicant"]["phone"] = json!("+93 799 555 444");
        body["applicant"]["date_of_birth"] = json!("1369");
        let year = submit_api(&app, &body).await;
        assert!(case_page(&app, &year).await.contains("1990–1991 (1369 SH)"));

        // Today's clients send Gregorian dates and nothing else, as before.
        let mut gregorian = valid_request();
        gregorian["applicant"]["full_name"] = json!("Palwasha Wardak");
        gregorian["applicant"]["phone"] = json!("+93 788 555 444");
        gregorian["applicant"]["date_of_birth"] = json!("1990-01-01");
        let plain = submit_api(&app, &gregorian).await;
        assert!(case_page(&app, &plain).await.contains("1990-01-01 (1368-10-11 SH)"));
    }

    async fn a_date_in_the_wrong_calendar_is_refused_with_the_calendar_to_choose(app: TestApp) {
        let mut body = valid_request();
        body["applicant"]["date_of_birth"] = json!("1369-10-11");
        assert_eq!(refused(&app, &body).await, [("applicant.date_of_birth".into(), "date_looks_solar_hijri".into())]);
        body["applicant"]["date_of_birth_calendar"] = json!("hijri_shamsi");
        body["applicant"]["date_of_birth"] = json!("1990-05-01");
        assert_eq!(refused(&app, &body).await, [("applicant.date_of_birth".into(), "date_looks_gregorian".into())]);
        body["applicant"]["date_of_birth_calendar"] = json!("julian");
        assert_eq!(refused(&app, &body).await, [("applicant.date_of_birth_calendar".into(), "invalid".into())]);
        assert_eq!(app.request_count().await, 0);
    }

    async fn the_dari_form_asks_for_a_solar_hijri_date_and_keeps_what_was_typed(app: TestApp) {
        let form = app.client.get(app.url("/?lang=fa-AF")).send().await.unwrap().text().await.unwrap();
        assert!(form.contains("name=\"applicant_date_of_birth_calendar\" value=\"hijri_shamsi\" checked"), "{form}");
        assert!(form.contains("به‌طور پیش‌فرض هجری شمسی"), "the label says Solar Hijri is the default");
        let english = app.client.get(app.url("/?lang=en")).send().await.unwrap().text().await.unwrap();
        assert!(english.contains("name=\"applicant_date_of_birth_calendar\" value=\"gregorian\" checked"));

        // In English, a Tazkira year typed as Gregorian: the error names the calendar.
        let typed = with_field(with_field(valid_form(), "lang", "en"), "applicant_date_of_birth", "۱۳۶۹");
        let typed = with_field(typed, "applicant_date_of_birth_calendar", "gregorian");
        let resp = app.raw.post(app.url("/requests")).form(&typed).send().await.unwrap();
        assert_eq!(resp.status(), 422);
        let page = resp.text().await.unwrap();
        assert!(page.contains("1369 looks like a Solar Hijri year: choose Solar Hijri."), "{page}");
        assert!(page.contains("value=\"۱۳۶۹\""), "what was typed is kept");

        // In Dari, the form's default calendar reads it.
        let dari = with_field(with_field(valid_form(), "lang", "fa-AF"), "applicant_date_of_birth", "۱۳۶۹/۱۰/۱۱");
        let dari = with_field(dari, "applicant_date_of_birth_calendar", "hijri_shamsi");
        let page = app.post_form(&dari).await;
        assert_eq!(page.status(), 200);
        let reference = find_reference(&page.text().await.unwrap()).expect("reference");
        assert!(case_page(&app, &reference).await.contains("1991-01-01 (1369-10-11 SH)"));
    }

    async fn staff_enter_a_walk_in_with_a_solar_hijri_date(app: TestApp) {
        let worker = app.staff("caseworker", &["triage", "siv"]).await;
        let form = with_field(valid_form(), "applicant_date_of_birth", "1369");
        let form = with_field(form, "applicant_date_of_birth_calendar", "hijri_shamsi");
        let resp = worker.post(&app, "/admin/requests/new", "/admin/requests/new", &form).await;
        assert_eq!(resp.status(), 200);
        assert!(resp.text().await.unwrap().contains("1990–1991 (1369 SH)"));
    }

    async fn a_walk_in_list_names_the_calendar_of_each_line(app: TestApp) {
        let worker = app.staff("caseworker", &["triage", "siv"]).await;
        let template = worker.get(&app, "/admin/requests/template.csv").await.text().await.unwrap();
        let header = template.lines().next().unwrap().trim_start_matches('\u{feff}').to_string();
        assert!(header.contains(",applicant_date_of_birth,applicant_date_of_birth_calendar,"), "{header}");
        let example = template.lines().nth(1).unwrap().to_string();
        let shamsi = example
            .replace("1990-05-01,gregorian", "۱۳۶۹-۱۰-۱۱,hijri_shamsi")
            .replace("Example Person", "Gulalai Stanikzai")
            .replace("+93 700 000 000", "+93 722 333 444");
        assert_ne!(shamsi, example);
        // A list made before the column existed: Gregorian.
        let old_header = header.replace(",applicant_date_of_birth_calendar", "");
        let old_line = example.replace(",gregorian,", ",");
        let page = worker.get(&app, "/admin/requests/upload").await.text().await.unwrap();
        let csv = format!("{header}\n{shamsi}\n");
        let upload = |body: String, page: String| {
            let form = reqwest::multipart::Form::new()
                .text("csrf", csrf_of(&page))
                .part("file", reqwest::multipart::Part::text(body).file_name("list.csv"));
            worker.client.post(app.url("/admin/requests/upload")).multipart(form).send()
        };
        let done = upload(csv, page.clone()).await.unwrap().text().await.unwrap();
        assert!(done.contains("<strong>1</strong> request stored"), "{done}");
        let reference = linked_reference(&done);
        assert!(case_page(&app, &reference).await.contains("1991-01-01 (1369-10-11 SH)"));
        let done = upload(format!("{old_header}\n{old_line}\n"), page).await.unwrap().text().await.unwrap();
        assert!(done.contains("<strong>1</strong> request stored"), "{done}");
        let reference = linked_reference(&done);
        assert!(case_page(&app, &reference).await.contains("1990-05-01 (1369-02-11 SH)"));
    }

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

    async fn a_year_alone_matches_a_full_date_of_that_year(app: TestApp) {
        let mut first = valid_request();
        first["applicant"]["full_name"] = json!("Wahidullah Stanikzai");
        first["applicant"]["date_of_birth"] = json!("1990-05-01");
        first["applicant"]["phone"] = Value::Null;
        first["applicant"]["email"] = json!("first@example.org");
        let first = submit_api(&app, &first).await;

        let mut second = valid_request();
        second["applicant"]["full_name"] = json!("Wahidullah Stanikzai");
        second["applicant"]["date_of_birth"] = json!("۱۳۶۹");
        second["applicant"]["date_of_birth_calendar"] = json!("hijri_shamsi");
        second["applicant"]["phone"] = Value::Null;
        second["applicant"]["email"] = json!("second@example.org");
        let second = submit_api(&app, &second).await;
        let reference = second.clone();
        let found = app.db(move |c| duplicate_candidates(c, &reference)).await;
        let candidate = &found["candidates"][0];
        assert_eq!(candidate["reference"], first.as_str());
        let reasons = candidate["reasons"].as_array().unwrap();
        assert!(reasons.iter().any(|r| r.as_str().unwrap().ends_with("+ same birth year")), "{found}");
    }
}
