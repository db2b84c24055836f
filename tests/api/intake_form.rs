//! Applicants and sponsors using the public form in a browser (no JavaScript).

use crate::helpers::{find_reference, valid_form, with_field};
use crate::on_both_backends;

on_both_backends! {
    async fn the_form_asks_the_plain_questions(app: TestApp) {
        let resp = app.client.get(app.url("/")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let page = resp.text().await.unwrap();
        for needle in [
            "name=\"submitter_kind\"",
            "name=\"applicant_full_name\"",
            "name=\"applicant_date_of_birth\"",
            "name=\"applicant_phone\"",
            "name=\"applicant_whatsapp\"",
            "name=\"applicant_email\"",
            "name=\"applicant_location\"",
            "name=\"applicant_household_size\"",
            "name=\"siv_status\"",
            "name=\"siv_case_number\"",
            "name=\"referral_program\"",
            "name=\"us_tie\"",
            "name=\"urgent_danger\"",
            "name=\"urgent_medical\"",
            "name=\"description\"",
            "name=\"consent\"",
            "At or near the Afghanistan-Pakistan border",
            "<meta name=\"viewport\"",
        ] {
            assert!(page.contains(needle), "form lacks {needle}");
        }
        assert!(!page.contains("<script"), "the form needs no JavaScript");
        let css = app.client.get(app.url("/static/style.css")).send().await.unwrap();
        assert_eq!(css.status(), 200);
        assert!(css.headers()["cache-control"].to_str().unwrap().contains("max-age"));
    }

    async fn a_valid_submission_shows_reference_category_and_guidance(app: TestApp) {
        let resp = app.raw.post(app.url("/requests")).form(&valid_form()).send().await.unwrap();
        assert_eq!(resp.status(), 303, "post-redirect-get");
        let location = resp.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with("/submitted/"));
        assert!(!location.contains("TF-"), "the reference is not put in the URL");

        let page = app.client.get(app.url(&location)).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        let reference = find_reference(&page).expect("reference on the page");
        assert!(page.contains("Special Immigrant Visa in process"));
        assert!(page.contains("What happens next"));
        assert!(page.contains("National Visa Center"), "the SIV guidance is shown");
        assert!(!page.contains("Karimi"), "no personal data on the confirmation");

        // Reloading the confirmation does not submit again.
        let again = app.client.get(app.url(&location)).send().await.unwrap().text().await.unwrap();
        assert_eq!(find_reference(&again), Some(reference));
        assert_eq!(app.request_count().await, 1);
    }

    async fn a_request_without_referral_gets_the_referral_guidance(app: TestApp) {
        let form = with_field(valid_form(), "siv_status", "none");
        let form = with_field(form, "claimed_p2", "yes");
        let page = app.post_form(&form).await;
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        assert!(find_reference(&page).is_some());
        assert!(page.contains("Eligibility claimed, no referral on file"));
        assert!(page.contains("P-2"));
        assert!(page.contains("UNHCR"));
    }

    async fn an_invalid_form_comes_back_filled_in_with_every_error(app: TestApp) {
        let form = vec![
            ("submitter_kind", "sponsor"),
            ("applicant_full_name", "فاطمه <b>احمدی</b>"),
            ("applicant_date_of_birth", "31.12.1990x"),
            ("applicant_phone", "call me"),
            ("applicant_household_size", "0"),
            ("siv_status", "in_process"),
            ("description", "Please help \"us\""),
        ];
        let resp = app.post_form(&form).await;
        assert_eq!(resp.status(), 422);
        let page = resp.text().await.unwrap();
        for (field, message) in [
            ("submitter_name", "Please give your own name"),
            ("applicant_date_of_birth", "Enter a date like 1990-05-31"),
            ("applicant_phone", "A phone number may contain only digits"),
            ("applicant_location", "Please say where the person is now"),
            ("applicant_household_size", "from 1 to 50"),
            ("consent", "We can only take the request if you agree"),
        ] {
            assert!(page.contains(&format!("id=\"{field}-error\"")), "no error next to {field}");
            assert!(page.contains(message), "missing message for {field}: {message}");
            assert!(page.contains(&format!("href=\"#{field}\"")), "summary does not link {field}");
        }
        // What was typed is still there, escaped.
        assert!(page.contains("value=\"فاطمه &#60;b&#62;احمدی&#60;/b&#62;\"") || page.contains("value=\"فاطمه &lt;b&gt;احمدی&lt;/b&gt;\""), "name kept and escaped");
        assert!(page.contains("value=\"call me\""));
        assert!(page.contains("value=\"sponsor\" checked"));
        assert!(page.contains("Please help &#34;us&#34;") || page.contains("Please help &quot;us&quot;"));
        assert!(!page.contains("<b>احمدی</b>"));
        assert_eq!(app.request_count().await, 0, "nothing is stored");
    }

    async fn tampered_choices_are_errors_not_crashes(app: TestApp) {
        let form = with_field(valid_form(), "applicant_location", "mars");
        let resp = app.post_form(&form).await;
        assert_eq!(resp.status(), 422);
        assert!(resp.text().await.unwrap().contains("Please choose one of the options"));
        assert_eq!(app.request_count().await, 0);
    }

    async fn unknown_confirmation_links_are_404(app: TestApp) {
        let resp = app.client.get(app.url("/submitted/0123456789abcdef0123456789abcdef")).send().await.unwrap();
        assert_eq!(resp.status(), 404);
        let resp = app.client.get(app.url("/submitted/..%2F..%2Fetc")).send().await.unwrap();
        assert_eq!(resp.status(), 404);
    }
}

/// Routing does not depend on the database: SQLite only.
#[actix_web::test]
async fn a_mistyped_address_a_reloaded_form_address_and_a_head_request_get_an_answer() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite)
        .await
        .expect("app");
    // An address that leads nowhere is a page in the visitor's language, with a way on.
    let resp = app
        .raw
        .get(app.url("/reqests"))
        .header("accept-language", "ps")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = resp.text().await.unwrap();
    assert!(page.contains(r#"<html lang="ps" dir="rtl">"#), "{page}");
    assert!(page.contains(r#"<a href="/">"#), "{page}");

    // The address a form with errors came back from, opened again, is the form.
    let resp = app
        .raw
        .get(app.url("/requests?lang=fa-AF"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/?lang=fa-AF");
    let resp = app.client.get(app.url("/requests")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains(r#"action="/requests""#));

    // Uptime monitors that ask with HEAD get the GET answer's status and headers, no body.
    for path in ["/", "/healthz", "/readyz", "/status"] {
        let resp = app.raw.head(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "HEAD {path}");
        assert!(resp.headers().contains_key("content-type"), "HEAD {path}");
        assert!(resp.bytes().await.unwrap().is_empty(), "HEAD {path}");
    }
}
