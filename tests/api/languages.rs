//! Requesters reading the public side in Dari, Pashto or English: the language their
//! browser asks for or the one they pick, right-to-left pages, their own digits and script,
//! and mail in the language they used. Also the page weight on a weak connection.

use case_triage::db;
use case_triage::i18n::{message, Language, Tr};

use crate::helpers::{find_reference, valid_form, valid_request, with_field};
use crate::on_both_backends;

fn t(lang: Language, key: &str) -> String {
    message(lang, key, None)
}

on_both_backends! {
    async fn the_form_speaks_the_language_the_browser_asks_for(app: TestApp) {
        for (accept, lang, dir) in [
            ("fa-AF,fa;q=0.9,en;q=0.5", Language::FaAf, "rtl"),
            ("ps-AF, en;q=0.3", Language::Ps, "rtl"),
            ("de-DE, en-GB;q=0.8", Language::En, "ltr"),
        ] {
            let resp = app
                .client
                .get(app.url("/"))
                .header("Accept-Language", accept)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            assert!(resp.headers()["vary"].to_str().unwrap().contains("Accept-Language"));
            let page = resp.text().await.unwrap();
            assert!(page.contains(&format!("<html lang=\"{lang}\" dir=\"{dir}\">")), "{accept}");
            for key in ["form-heading", "q-applicant-full-name", "location-border", "form-submit"] {
                assert!(page.contains(&t(lang, key)), "{accept}: {key}");
            }
            // The switch names each language in itself, whatever the page's language.
            assert!(page.contains(">دری</a>") && page.contains(">پښتو</a>") && page.contains(">English</a>"));
            assert!(page.contains(&format!("name=\"lang\" value=\"{lang}\"")));
        }
    }

    async fn a_chosen_language_survives_a_validation_error_and_the_submit(app: TestApp) {
        // The switch link sets the language for the following pages.
        let page = app.client.get(app.url("/?lang=fa-AF")).send().await.unwrap();
        assert!(page.headers()["set-cookie"].to_str().unwrap().starts_with("lang=fa-AF"));
        let page = app.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("<html lang=\"fa-AF\" dir=\"rtl\">"));

        // An invalid form comes back in Dari, errors and all, linked from the summary.
        let form = vec![("lang", "fa-AF"), ("applicant_phone", "call me")];
        let resp = app.post_form(&form).await;
        assert_eq!(resp.status(), 422);
        let page = resp.text().await.unwrap();
        assert!(page.contains("<html lang=\"fa-AF\" dir=\"rtl\">"));
        let tr = Tr(Language::FaAf);
        assert!(page.contains(&tr.t_count("error-summary-title", "count", 5)), "{page}");
        for (field, code) in [
            ("submitter_kind", "submitter_kind_missing"),
            ("applicant_full_name", "full_name_missing"),
            ("applicant_phone", "phone_characters"),
            ("applicant_location", "location_missing"),
            ("consent", "consent_missing"),
        ] {
            assert!(page.contains(&tr.error(code)), "{field}");
            assert!(page.contains(&format!("href=\"#{field}\"")), "{field}");
        }
        assert!(!page.contains("Please"), "no English on the Dari page");

        // A valid form in Dari: Persian digits, Arabic-script name typed decomposed.
        let form = vec![
            ("lang", "fa-AF"),
            ("submitter_kind", "self"),
            ("applicant_full_name", "\u{0627}\u{0653}منه رحیمی"),
            ("applicant_date_of_birth", "۱۹۹۰-۰۵-۰۱"),
            ("applicant_phone", "+۹۳ ۷۰۰ ۱۲۳ ۴۵۶"),
            ("applicant_email", "amina@example.org"),
            ("applicant_location", "pakistan"),
            ("applicant_household_size", "۶"),
            ("siv_status", "in_process"),
            ("siv_case_number", "ISB-۲۰۲۱-۵۵۵"),
            ("referral_program", "none"),
            ("us_tie", "none"),
            ("description", "ما منتظر مصاحبه هستیم."),
            ("consent", "yes"),
        ];
        let resp = app.post_form(&form).await;
        assert_eq!(resp.status(), 200);
        let page = resp.text().await.unwrap();
        assert!(page.contains("<html lang=\"fa-AF\" dir=\"rtl\">"));
        assert!(page.contains(&t(Language::FaAf, "confirm-heading")));
        assert!(page.contains(&t(Language::FaAf, "category-siv_pending")));
        // Dari guidance comes from the catalog; the lead's English text is not shown.
        assert!(page.contains(&t(Language::FaAf, "guidance-siv_pending")));
        assert!(!page.contains("A Special Immigrant Visa case goes through"));
        let reference = find_reference(&page).expect("a reference on the page");
        assert!(page.contains(&format!("dir=\"ltr\"><bdi>{reference}</bdi>")));

        let r = reference.clone();
        let (row, personal) = app
            .db(move |c| {
                let row = db::requests::find_by_reference(c, &r)?.unwrap();
                let personal = db::requests::personal_data(c, &row.id)?.unwrap();
                Ok((row, personal))
            })
            .await;
        assert_eq!(row.language.as_str(), "fa-AF");
        assert_eq!(row.household_size, Some(6));
        assert_eq!(personal.applicant_full_name, "\u{0622}منه رحیمی", "stored as NFC");
        assert_eq!(personal.applicant_phone.as_deref(), Some("+93700123456"));
        assert_eq!(personal.applicant_date_of_birth.unwrap().to_string(), "1990-05-01");
        assert_eq!(personal.siv_case_number.as_deref(), Some("ISB2021555"));
        assert_eq!(personal.description.as_deref(), Some("ما منتظر مصاحبه هستیم."));

        // The acknowledgment is written in Dari too.
        let ack = app
            .db(|c| db::outbox::list(c, None, 100))
            .await
            .into_iter()
            .find(|m| m.kind.as_str() == "acknowledgment")
            .expect("an acknowledgment");
        assert_eq!(
            ack.subject,
            tr.t_with("mail-ack-subject", "reference", &reference)
        );
        assert!(ack.body_html.contains("lang=\"fa-AF\" dir=\"rtl\""));
        assert!(ack.body_text.contains(&t(Language::FaAf, "guidance-siv_pending")));

        // Staff see the name intact on an English page.
        let staff = app.staff("lead", &[]).await;
        let case = staff.get(&app, &format!("/admin/requests/{reference}")).await;
        let case = case.text().await.unwrap();
        assert!(case.contains("<html lang=\"en\""));
        assert!(case.contains("\u{0622}منه رحیمی"));
    }

    async fn the_confirmation_speaks_the_language_of_the_request(app: TestApp) {
        let form = with_field(valid_form(), "lang", "ps");
        let page = app.post_form(&form).await.text().await.unwrap();
        assert!(page.contains("<html lang=\"ps\" dir=\"rtl\">"));
        assert!(page.contains(&t(Language::Ps, "confirm-heading")));
        // The switch on the confirmation page re-renders it in another language.
        let link = page
            .split("href=\"")
            .filter_map(|s| s.split('"').next())
            .find(|href| href.starts_with("/submitted/") && href.ends_with("?lang=en"))
            .expect("a switch link to English")
            .to_string();
        let english = app.client.get(app.url(&link)).send().await.unwrap().text().await.unwrap();
        assert!(english.contains("<html lang=\"en\" dir=\"ltr\">"));
        assert!(english.contains("Your request has been received"));
        // The lead's English guidance from the database.
        assert!(english.contains("A Special Immigrant Visa case goes through"));
    }

    async fn partners_may_give_the_requesters_language(app: TestApp) {
        let mut body = valid_request();
        body["language"] = serde_json::json!("ps");
        body["applicant"]["email"] = serde_json::json!("ahmad@example.org");
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 201);
        let reference = resp.json::<serde_json::Value>().await.unwrap()["reference"]
            .as_str()
            .unwrap()
            .to_string();
        let r = reference.clone();
        let row = app
            .db(move |c| Ok(db::requests::find_by_reference(c, &r)?.unwrap()))
            .await;
        assert_eq!(row.language.as_str(), "ps");
        let ack = app
            .db(|c| db::outbox::list(c, None, 100))
            .await
            .into_iter()
            .find(|m| m.kind.as_str() == "acknowledgment")
            .unwrap();
        assert_eq!(ack.subject, Tr(Language::Ps).t_with("mail-ack-subject", "reference", &reference));

        body["language"] = serde_json::json!("de");
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 422);
        let err: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(err["errors"][0]["field"], "language");
        assert!(err["errors"][0]["message"].as_str().unwrap().contains("en, fa-AF, ps"));

        // Without the field, mail is in English; field errors carry a stable code.
        let mut body = valid_request();
        body["applicant"]["phone"] = serde_json::json!("call me");
        let err: serde_json::Value = app.post_json("/api/v1/requests", &body).await.json().await.unwrap();
        assert_eq!(err["errors"][0]["code"], "phone_characters");
        assert_eq!(err["errors"][0]["message"], "may contain only digits, spaces, dashes and a leading +");
    }
}

/// The public form with its stylesheet, gzip-compressed as the server sends it, stays under
/// 30 KB for a weak phone connection; the stylesheet is cached for a year.
#[actix_web::test]
async fn the_form_and_its_stylesheet_are_light() {
    use crate::helpers::{spawn_app, Backend};
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let mut total = 0;
    let style = format!(
        "/static/style.css?v={}",
        case_triage::web::assets::STYLE_VERSION
    );
    for (path, lang) in [
        ("/", "en"),
        ("/", "fa-AF"),
        ("/", "ps"),
        (style.as_str(), "en"),
    ] {
        let resp = app
            .raw
            .get(app.url(path))
            .header("Accept-Encoding", "gzip")
            .header("Accept-Language", lang)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()["content-encoding"],
            "gzip",
            "{path} is compressed"
        );
        if path.starts_with("/static/") {
            let cache = resp.headers()["cache-control"]
                .to_str()
                .unwrap()
                .to_string();
            assert!(cache.contains("max-age=31536000"), "{cache}");
        }
        let size = resp.bytes().await.unwrap().len();
        println!("page weight: {path} ({lang}) {size} bytes gzip");
        if path == "/" {
            total = total.max(size);
        } else {
            total += size;
        }
    }
    println!("page weight: form + stylesheet, heaviest language: {total} bytes gzip");
    assert!(total < 30 * 1024, "{total} bytes is over the 30 KB budget");
}

/// Search engines and link previews show a page's description: each public page has one,
/// in the reader's language.
#[actix_web::test]
async fn every_public_page_describes_itself_in_the_readers_language() {
    use crate::helpers::{spawn_app, Backend};
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    for lang in [Language::En, Language::FaAf, Language::Ps] {
        let code = lang.to_string();
        let form = with_field(valid_form(), "lang", lang.as_str());
        let confirmation = app.post_form(&form).await.text().await.unwrap();
        let reference = find_reference(&confirmation).expect("a reference");
        let status_code = confirmation
            .split("id=\"status-code\" dir=\"ltr\"><bdi>")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .expect("the status-check code")
            .to_string();
        let status = app
            .raw
            .post(app.url("/status"))
            .form(&[
                ("reference", reference.as_str()),
                ("code", status_code.as_str()),
                ("lang", code.as_str()),
            ])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let get = |path: String| {
            let request = app.raw.get(app.url(&path));
            async move { request.send().await.unwrap().text().await.unwrap() }
        };
        let pages = [
            ("the form", get(format!("/?lang={code}")).await),
            ("the confirmation", confirmation),
            ("the status form", get(format!("/status?lang={code}")).await),
            ("a status", status),
            (
                "a page that is not there",
                get(format!("/nothing-here?lang={code}")).await,
            ),
        ];
        let description = format!(
            "<meta name=\"description\" content=\"{}\">",
            t(lang, "meta-description")
        );
        for (name, page) in pages {
            assert!(
                page.contains(&format!("<html lang=\"{code}\"")),
                "{name} in {code}"
            );
            assert!(page.contains(&description), "{name} in {code}: {page}");
        }
    }
}
