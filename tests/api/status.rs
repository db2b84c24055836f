//! Applicants checking their request with the reference number and status-check code.

use crate::helpers::{find_reference, valid_form, with_field, TestApp};
use crate::on_both_backends;
use case_triage::db::schema::{case_requests, outbox};
use diesel::prelude::*;

/// The status-check code a page shows, if any.
fn code_on(page: &str) -> Option<String> {
    let marker = "id=\"status-code\" dir=\"ltr\"><bdi>";
    let start = page.find(marker)? + marker.len();
    Some(page[start..start + page[start..].find('<')?].to_string())
}

pub async fn check(app: &TestApp, reference: &str, code: &str, lang: &str) -> (u16, String) {
    let resp = app
        .raw
        .post(app.url("/status"))
        .form(&[("reference", reference), ("code", code), ("lang", lang)])
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

on_both_backends! {
    async fn an_applicant_checks_the_status_with_the_code_shown_once(app: TestApp) {
        let form = with_field(valid_form(), "applicant_email", "ahmad@example.org");
        let resp = app.post_form(&form).await;
        assert_eq!(resp.status(), 200);
        let confirmation_url = resp.url().clone();
        let page = resp.text().await.unwrap();
        let reference = find_reference(&page).unwrap();
        let code = code_on(&page).expect("the confirmation shows the status-check code");
        assert_eq!(code.len(), 8);

        // Shown once: a reload no longer has it, and only its hash is stored.
        let again = app.client.get(confirmation_url).send().await.unwrap().text().await.unwrap();
        assert!(code_on(&again).is_none());
        assert!(again.contains(&reference));
        // The acknowledgment mail, written at intake, carries it.
        let bodies: Vec<String> = app
            .db(|conn| Ok(outbox::table.select(outbox::body_text).load(conn)?))
            .await;
        assert!(bodies.iter().any(|b| b.contains(&code) && b.contains(&reference)));

        let form = app.client.get(app.url("/status")).send().await.unwrap();
        assert_eq!(form.status(), 200);
        assert!(form.text().await.unwrap().contains("name=\"code\""));

        let (status, page) = check(&app, &reference, &code, "en").await;
        assert_eq!(status, 200);
        assert!(page.contains("Received: waiting to be reviewed."), "{page}");
        assert!(page.contains("Last change:"));
        assert!(!page.contains("Ahmad") && !page.contains("Karimi") && !page.contains("ahmad@"));
        // Typed in lower case with a dash, it still matches.
        let typed = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();
        assert_eq!(check(&app, &reference, &typed, "en").await.0, 200);

        // In Dari.
        let (status, page) = check(&app, &reference, &code, "fa-AF").await;
        assert_eq!(status, 200);
        assert!(page.contains("دریافت شد: در انتظار بررسی."));

        // The task force works on it: the applicant sees it in plain words.
        let r = reference.clone();
        app.db(move |conn| {
            diesel::update(case_requests::table.filter(case_requests::reference.eq(r)))
                .set(case_requests::status.eq("referred_out"))
                .execute(conn)?;
            Ok(())
        })
        .await;
        let (_, page) = check(&app, &reference, &code, "en").await;
        assert!(page.contains("Referred to UNHCR or a partner organization."));
    }

    async fn a_wrong_code_looks_like_an_unknown_reference(app: TestApp) {
        let resp = app.post_form(&valid_form()).await;
        let page = resp.text().await.unwrap();
        let reference = find_reference(&page).unwrap();
        let code = code_on(&page).unwrap();
        let wrong = if code.starts_with('0') { "1" } else { "0" }.to_string() + &code[1..];

        let (wrong_status, wrong_page) = check(&app, &reference, &wrong, "en").await;
        let (unknown_status, unknown_page) = check(&app, "TF-0000-0000", &code, "en").await;
        let (empty_status, empty_page) = check(&app, &reference, "", "en").await;
        assert_eq!(wrong_status, 404);
        assert_eq!(unknown_status, 404);
        assert_eq!(empty_status, 404);
        assert!(wrong_page.contains("We could not find a request with this reference number and code."));
        // The same page, but for the reference typed back into the form.
        assert_eq!(wrong_page.replace(&reference, "TF-0000-0000"), unknown_page);
        assert_eq!(wrong_page, empty_page);
        assert!(!wrong_page.contains("Received"));
    }
}
