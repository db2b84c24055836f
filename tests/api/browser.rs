//! User stories in a real headless Chromium: what people see and click, with screenshots of
//! each main step in `<target dir>/browser-artifacts/`. The HTTP tests cover the rules on both
//! backends; these show the pages work in a browser, so they run on SQLite only.

use crate::browser_support::{self, Browser};
use crate::helpers::{find_reference, spawn_app, valid_request, Backend};
use fantoccini::Locator;
use serde_json::json;

/// Answers every question a person in Pakistan without a visa application would, by typing
/// and clicking.
async fn fill_in_the_form(browser: &Browser, name: &str, phone: &str) {
    browser
        .click(r#"input[name="submitter_kind"][value="self"]"#)
        .await;
    browser.type_into("#applicant_full_name", name).await;
    browser.type_into("#applicant_phone", phone).await;
    browser
        .click(r#"input[name="applicant_location"][value="pakistan"]"#)
        .await;
    browser.type_into("#applicant_household_size", "4").await;
    browser
        .click(r#"input[name="siv_status"][value="none"]"#)
        .await;
    browser
        .click(r#"input[name="referral_program"][value="none"]"#)
        .await;
    browser.click(r#"input[name="us_tie"][value="none"]"#).await;
    browser
        .type_into("#description", "We need to know what to do next.")
        .await;
    browser.click("#consent").await;
}

#[actix_web::test]
async fn a_person_fills_in_the_form_and_reads_their_reference_number() {
    let Some(mut browser) = browser_support::open("public-form").await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite app");

    browser.goto(&app.url("/")).await;
    assert_eq!(
        browser.text("h1").await,
        "Ask the task force for help",
        "the form opens"
    );
    browser.screenshot("empty-form").await;

    fill_in_the_form(&browser, "Ahmad Karimi", "+93 700 123 456").await;
    assert!(browser.is_selected("#consent").await, "consent is ticked");
    browser.screenshot("filled-in-form").await;

    browser.click_through("button[type=submit]").await;
    let reference = browser.text("#reference").await;
    assert_eq!(
        find_reference(&reference).as_deref(),
        Some(reference.as_str()),
        "a reference like TF-XXXX-XXXX, got {reference:?}"
    );
    assert_eq!(browser.text("h1").await, "Your request has been received");
    assert!(!browser.text("#category").await.is_empty());
    browser.screenshot("confirmation").await;
    assert_eq!(app.request_count().await, 1, "one request stored");

    browser.close().await;
}

#[actix_web::test]
async fn a_form_with_missing_answers_shows_what_to_fix_and_keeps_what_was_typed() {
    let Some(mut browser) = browser_support::open("public-form-errors").await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite app");

    browser.goto(&app.url("/")).await;
    // Name and phone only: who is writing, where the person is and consent are missing.
    browser
        .type_into("#applicant_full_name", "Ahmad Karimi")
        .await;
    browser
        .type_into("#applicant_phone", "+93 700 123 456")
        .await;
    browser
        .type_into("#description", "Please call us in the evening.")
        .await;
    browser.click_through("button[type=submit]").await;

    let summary = browser.text(".error-summary").await;
    assert!(summary.contains("Please fix 3 answers"), "{summary}");
    for field in ["submitter_kind", "applicant_location", "consent"] {
        browser.find(&format!("#{field}-error")).await;
    }
    assert_eq!(
        browser.value("#applicant_full_name").await,
        "Ahmad Karimi",
        "typed values are kept"
    );
    assert_eq!(browser.value("#applicant_phone").await, "+93 700 123 456");
    assert_eq!(
        browser.value("#description").await,
        "Please call us in the evening."
    );
    browser.screenshot("error-summary").await;
    assert_eq!(app.request_count().await, 0, "nothing stored");

    // The person answers what was missing and sends the form again.
    browser
        .click(r#"input[name="submitter_kind"][value="self"]"#)
        .await;
    browser
        .click(r#"input[name="applicant_location"][value="pakistan"]"#)
        .await;
    browser.click("#consent").await;
    browser.click_through("button[type=submit]").await;
    let reference = browser.text("#reference").await;
    assert!(find_reference(&reference).is_some(), "{reference:?}");
    assert_eq!(app.request_count().await, 1);

    browser.close().await;
}

#[actix_web::test]
async fn a_caseworker_takes_a_request_from_the_queue_and_refers_it_out() {
    let Some(mut browser) = browser_support::open("caseworker").await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite app");
    // No visa application and no program claimed: the request lands in the triage queue.
    let reference = app
        .submit(json!({"siv": {"status": "none"}, "claimed_programs": []}))
        .await;
    let (_, email, password) = app.create_staff("caseworker", &["triage"]).await;

    browser.goto(&app.url("/admin/login")).await;
    browser.screenshot("login").await;
    browser.type_into("#email", &email).await;
    browser.type_into("#password", &password).await;
    browser.click_through("button[type=submit]").await;

    assert_eq!(browser.path().await, "/admin", "the dashboard after login");
    assert_eq!(browser.text("#open-total").await, "1", "one open request");
    let triage_open = browser
        .find_by(Locator::XPath(
            r#"//tr[td/a[@href="/admin/queues/triage"]]/td[2]"#,
        ))
        .await;
    assert_eq!(triage_open.text().await.unwrap(), "1", "one open in triage");
    browser.screenshot("dashboard").await;

    browser
        .click_through(r#"a[href="/admin/queues/triage"]"#)
        .await;
    assert_eq!(browser.path().await, "/admin/queues/triage");
    browser.find_by(Locator::LinkText(&reference)).await;
    browser.screenshot("queue").await;

    browser
        .click_through(&format!(r#"a[href="/admin/requests/{reference}"]"#))
        .await;
    assert_eq!(browser.text("#reference").await, reference);
    assert_eq!(browser.text("#status").await, "Received");
    assert_eq!(browser.text("#assignee").await, "nobody");
    browser.screenshot("case").await;

    browser.click_through("#assign-self").await;
    assert_eq!(browser.text("#assignee").await, "Staff Caseworker");
    browser.screenshot("assigned").await;

    browser.select("#status-select", "Referred out").await;
    browser.type_into("#referral-partner", "UNHCR").await;
    browser.click_through("#change-status").await;
    assert_eq!(browser.text("#status").await, "Referred out");
    assert_eq!(browser.text("#assignee").await, "Staff Caseworker");
    let timeline = browser.text("#timeline").await;
    assert!(
        timeline.contains("UNHCR"),
        "the referral partner is on record: {timeline}"
    );
    browser.screenshot("referred-out").await;

    // Two months of history with a surge: the dashboard's forecast has something to say.
    crate::forecast::fill(&app, chrono::Utc::now().date_naive()).await;
    browser.goto(&app.url("/admin")).await;
    let growing = browser.text("#forecast-table tbody tr:first-child").await;
    assert!(growing.contains("Growing by"), "the surge shows: {growing}");
    browser.scroll_to("#forecast-h").await;
    browser.screenshot("dashboard-forecast").await;
    browser.scroll_to("#breaches-ahead-h").await;
    browser.screenshot("dashboard-forecast-breaches").await;

    browser.close().await;
}

/// One "word" of `len` letters: what a pasted link, a name typed without spaces or a finger
/// resting on a key leaves in a field.
fn long_word(len: usize) -> String {
    "Ahmadzai".chars().cycle().take(len).collect()
}

/// The page fits the window: nothing to scroll sideways to.
async fn assert_fits(browser: &Browser, page: &str) {
    let width = browser.content_width().await;
    assert!(
        width <= 1280.0,
        "{page} is {width} px wide in a 1280 px window"
    );
}

#[actix_web::test]
async fn words_longer_than_a_line_wrap_on_the_case_page_and_in_the_duplicate_comparison() {
    use case_triage::domain::fields::PersonName;
    use case_triage::domain::intake::DESCRIPTION_MAX_CHARS;

    let Some(mut browser) = browser_support::open("long-words").await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite app");
    browser.set_viewport_width(1280).await;
    let name = long_word(PersonName::MAX_CHARS);
    let description = long_word(DESCRIPTION_MAX_CHARS);
    let phone = "+93 700 123 456";

    // The applicant on the form, and a sponsor through the API about the same person: the
    // second request is compared with the first field by field.
    browser.goto(&app.url("/")).await;
    fill_in_the_form(&browser, "Ahmad Karimi", phone).await;
    browser.paste_into("#applicant_full_name", &name).await;
    browser.paste_into("#description", &description).await;
    browser.click_through("button[type=submit]").await;
    let first = find_reference(&browser.text("#reference").await).expect("a reference");
    let mut body = valid_request();
    body["submitter"] = json!({"kind": "sponsor", "name": long_word(PersonName::MAX_CHARS)});
    body["applicant"]["full_name"] = json!(name);
    body["applicant"]["phone"] = json!(phone);
    body["description"] = json!(description);
    let resp = app.post_json("/api/v1/requests", &body).await;
    assert_eq!(resp.status(), 201);
    let second: serde_json::Value = resp.json().await.unwrap();
    let second = second["reference"].as_str().unwrap().to_string();

    let (_, email, password) = app.create_staff("lead", &[]).await;
    browser
        .log_in(app.url("/admin/login"), &email, &password)
        .await;

    browser
        .goto(&app.url(&format!("/admin/requests/{second}")))
        .await;
    let compared = browser
        .find_by(Locator::XPath(&format!(
            r#"//table[contains(@class, "compare")]//th[text()="{first}"]"#
        )))
        .await;
    assert!(compared.is_displayed().await.unwrap());
    assert!(browser
        .text("#applicant-name")
        .await
        .starts_with("Ahmadzai"));
    browser.screenshot("case-with-comparison").await;
    assert_fits(&browser, "the case page with its duplicate comparison").await;

    // A note is user text too, and so is its line in the timeline.
    browser.paste_into("#note-body", &long_word(2000)).await;
    browser.click_through("#note-body ~ button").await;
    assert!(browser.text(".note .prewrap").await.starts_with("Ahmadzai"));
    browser.screenshot("case-with-note").await;
    assert_fits(&browser, "the case page with a note").await;

    browser
        .goto(&app.url(&format!("/admin/requests/{first}")))
        .await;
    browser.find("table.compare").await;
    assert_fits(&browser, "the first request's case page").await;

    browser.close().await;
}

#[actix_web::test]
async fn a_caseworker_previews_and_sends_a_message_and_the_applicant_answers_in_dari() {
    let Some(mut browser) = browser_support::open("correspondence").await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite app");
    let (reference, code) =
        crate::correspondence::file_by_form(&app, "fa-AF", Some("family@example.org")).await;
    let queue = crate::correspondence::queue_of(&app, &reference).await;
    let (_, email, password) = app.create_staff("caseworker", &[&queue]).await;

    browser
        .log_in(app.url("/admin/login"), &email, &password)
        .await;
    browser
        .goto(&app.url(&format!("/admin/requests/{reference}")))
        .await;
    assert!(
        browser
            .is_selected(r#"#message-language option[value="fa-AF"]"#)
            .await,
        "the request's language by default"
    );
    let text = "سلام. لطفاً شمارهٔ پروندهٔ خود را بفرستید: {reference}";
    browser.paste_into("#message-text", text).await;
    browser
        .select("#message-status", "Awaiting information")
        .await;
    browser.click_through("#preview-message").await;
    let preview = browser.text("#message-preview").await;
    assert!(
        preview.contains(&format!("لطفاً شمارهٔ پروندهٔ خود را بفرستید: {reference}")),
        "the placeholder filled in: {preview}"
    );
    assert_eq!(
        browser.value("#message-text").await,
        text,
        "the text is kept"
    );
    browser.scroll_to("#message-preview").await;
    browser.screenshot("preview").await;
    browser.click_through("#send-message").await;
    assert_eq!(browser.text("#status").await, "Awaiting information");
    let conversation = browser.text("#messages").await;
    assert!(conversation.contains("to the requester"), "{conversation}");
    browser.scroll_to("#conversation").await;
    browser.screenshot("sent").await;

    // The applicant, in Dari, reads it on the status page and answers.
    browser.goto(&app.url("/status?lang=fa-AF")).await;
    browser.type_into("#reference", &reference).await;
    browser.type_into("#code", &code).await;
    browser.click_through("button[type=submit]").await;
    let messages = browser.text("#messages").await;
    assert!(
        messages.contains("لطفاً شمارهٔ پروندهٔ خود را بفرستید"),
        "{messages}"
    );
    browser.screenshot("status-page").await;
    browser
        .paste_into("#answer", "شمارهٔ پرونده: COM-1234")
        .await;
    browser.click_through("#send-answer").await;
    browser.find("#answer-sent").await;
    browser.screenshot("answered").await;
    assert_eq!(
        crate::correspondence::status_of(&app, &reference).await,
        "in_progress"
    );

    browser.close().await;
}

#[actix_web::test]
async fn a_person_writes_a_tazkira_date_in_dari_and_staff_read_it_in_both_calendars() {
    let Some(mut browser) = browser_support::open("dari-solar-hijri-date").await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite app");

    browser.goto(&app.url("/?lang=fa-AF")).await;
    assert!(
        browser
            .is_selected(r#"input[name="applicant_date_of_birth_calendar"][value="hijri_shamsi"]"#)
            .await,
        "the Dari form offers Solar Hijri first"
    );
    fill_in_the_form(&browser, "احمد کریمی", "+۹۳ ۷۰۰ ۱۲۳ ۴۵۶").await;
    browser
        .type_into("#applicant_date_of_birth", "۱۳۶۹/۱۰/۱۱")
        .await;
    browser.screenshot("filled-in-form").await;
    browser.click_through("button[type=submit]").await;
    let reference = browser.text("#reference").await;
    assert_eq!(
        find_reference(&reference).as_deref(),
        Some(reference.as_str()),
        "the confirmation shows a reference, got {reference:?}"
    );
    let birth = browser.text("#birth").await;
    assert!(
        birth.contains("1369-10-11") && birth.contains("هجری شمسی") && birth.contains("1991-01-01"),
        "the confirmation shows the date as recorded, in both calendars: {birth:?}"
    );
    browser.screenshot("confirmation").await;

    let (_, email, password) = app.create_staff("admin", &[]).await;
    browser
        .log_in(app.url("/admin/login"), &email, &password)
        .await;
    browser
        .goto(&app.url(&format!("/admin/requests/{reference}")))
        .await;
    let page = browser.text("main").await;
    assert!(
        page.contains("1991-01-01 (1369-10-11 SH)"),
        "the case page shows both calendars: {page}"
    );
    browser.screenshot("case").await;
    browser.close().await;
}
