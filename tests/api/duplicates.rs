//! The same family reported three ways (the applicant on the form, a sponsor and an NGO
//! through the API, each spelling the name its own way) is recognized at intake.

use crate::helpers::{
    duplicate_candidates, find_reference, valid_form, valid_request, with_field, TestApp,
};
use crate::on_both_backends;
use case_triage::db;
use serde_json::{json, Value};

async fn duplicates_of(app: &TestApp, reference: &str) -> Value {
    let reference = reference.to_string();
    app.db(move |c| duplicate_candidates(c, &reference)).await
}

async fn submit_api(app: &TestApp, body: &Value) -> Value {
    let resp = app.post_json("/api/v1/requests", body).await;
    assert_eq!(resp.status(), 201);
    resp.json().await.unwrap()
}

/// The audit trail of a request, as (action, detail) pairs.
async fn trail(app: &TestApp, reference: &str) -> Vec<(String, String)> {
    let reference = reference.to_string();
    app.db(move |c| {
        let row = db::requests::find_by_reference(c, &reference)?.expect("stored");
        Ok(db::requests::audit_trail(c, &row.id)?
            .into_iter()
            .map(|e| (e.action, e.detail))
            .collect())
    })
    .await
}

fn reasons(candidate: &Value) -> Vec<&str> {
    candidate["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect()
}

on_both_backends! {
    async fn one_family_reported_three_ways_is_flagged_and_kept_together(app: TestApp) {
        // 1. The applicant, on the public form, in Latin script: SIV pending, to the SIV desk.
        // A name few people bear, so that the name alone links reports (the commonest names
        // need a shared identifier or date of birth as well).
        let form = with_field(valid_form(), "applicant_full_name", "Jamshid Stanikzai");
        let page = app.post_form(&form).await;
        assert_eq!(page.status(), 200);
        let first = find_reference(&page.text().await.unwrap()).expect("reference");
        assert!(duplicates_of(&app, &first).await["candidates"].as_array().unwrap().is_empty());

        // 2. A sponsor abroad, another spelling and a title, the same phone written another
        // way, no SIV details: on its own this would go to triage.
        let mut sponsor = valid_request();
        sponsor["submitter"] = json!({"kind": "sponsor", "name": "Rahim Karimi", "phone": "+1 202 555 0100"});
        sponsor["applicant"]["full_name"] = json!("Haji Jamsheed Stanekzai");
        sponsor["applicant"]["phone"] = json!("0700123456");
        sponsor["applicant"]["date_of_birth"] = Value::Null;
        let second = submit_api(&app, &sponsor).await;
        assert_eq!(second["queue"]["slug"], "siv", "routed to the first request's queue");
        let second = second["reference"].as_str().unwrap().to_string();

        // 3. An NGO, in Arabic script, with the case number and no phone of the applicant.
        let mut ngo = valid_request();
        ngo["submitter"] = json!({"kind": "organization", "organization": "Example NGO", "email": "intake@ngo.example"});
        ngo["applicant"]["full_name"] = json!("جمشید ستانکزی");
        ngo["applicant"]["phone"] = Value::Null;
        ngo["siv"] = json!({"status": "none", "case_number": "isb 2021 555"});
        ngo["claimed_programs"] = json!(["siv"]);
        let third = submit_api(&app, &ngo).await;
        assert_eq!(third["category"], "no_referral");
        assert_eq!(third["queue"]["slug"], "siv", "routed to the first request's queue");
        let third = third["reference"].as_str().unwrap().to_string();

        // 4. Someone else of the same family name: not flagged, routed by the rules.
        let mut other = valid_request();
        other["applicant"]["full_name"] = json!("Mahmood Stanikzai");
        other["applicant"]["date_of_birth"] = json!("1975-02-02");
        other["applicant"]["phone"] = json!("+93 799 888 777");
        let fourth = submit_api(&app, &other).await;
        assert_eq!(fourth["queue"]["slug"], "triage");
        let fourth = fourth["reference"].as_str().unwrap().to_string();
        assert!(duplicates_of(&app, &fourth).await["candidates"].as_array().unwrap().is_empty());

        let found = duplicates_of(&app, &second).await;
        assert_eq!(found["reference"], second.as_str());
        // The first request it may duplicate, and the NGO's report that came after it.
        let candidates = found["candidates"].as_array().unwrap();
        let refs: Vec<&str> = candidates.iter().map(|c| c["reference"].as_str().unwrap()).collect();
        assert_eq!(refs.len(), 2, "{found}");
        assert!(refs.contains(&first.as_str()) && refs.contains(&third.as_str()), "{found}");
        let by_first = candidates.iter().find(|c| c["reference"] == first.as_str()).unwrap();
        assert_eq!(by_first["status"], "suggested");
        assert!(by_first["score"].as_f64().unwrap() >= 0.8);
        assert!(reasons(by_first).contains(&"same phone"), "{found}");

        let found = duplicates_of(&app, &third).await;
        let by_first = found["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["reference"] == first.as_str())
            .expect("the first request is a candidate");
        let why = reasons(by_first);
        assert!(why.contains(&"same case number"), "{found}");
        assert!(why.iter().any(|r| r.starts_with("name ~ ") && r.ends_with("same date of birth")), "{found}");

        // The first request lists the later ones; no personal data anywhere.
        let found = duplicates_of(&app, &first).await;
        let later: Vec<&str> = found["candidates"].as_array().unwrap().iter().map(|c| c["reference"].as_str().unwrap()).collect();
        assert!(later.contains(&second.as_str()) && later.contains(&third.as_str()), "{found}");
        assert!(!later.contains(&fourth.as_str()));
        for needle in ["Stanikzai", "ستانکزی", "700", "ISB", "ngo.example"] {
            assert!(!found.to_string().contains(needle), "{needle} in {found}");
        }

        // The audit trail says why it went where it went.
        let events = trail(&app, &second).await;
        assert!(events.contains(&("routed".to_string(), format!("to siv: possible duplicate of {first}"))), "{events:?}");
        assert!(events.iter().any(|(a, d)| a == "possible_duplicate" && d.contains(&first)), "{events:?}");
    }

    async fn routing_to_the_original_can_be_turned_off_and_rejections_stick(app: TestApp) {
        let page = app.post_form(&valid_form()).await;
        let first = find_reference(&page.text().await.unwrap()).expect("reference");
        let mut sponsor = valid_request();
        sponsor["submitter"] = json!({"kind": "sponsor", "name": "Rahim Karimi"});
        sponsor["applicant"]["full_name"] = json!("Karimi, Mohd Ahmad");
        let second = submit_api(&app, &sponsor).await;
        let second = second["reference"].as_str().unwrap().to_string();

        let (a, b) = (second.clone(), first.clone());
        app.db(move |c| {
            let a = db::requests::find_by_reference(c, &a)?.unwrap().id;
            let b = db::requests::find_by_reference(c, &b)?.unwrap().id;
            db::duplicates::reject(c, &a, &b, &case_triage::domain::Actor::Staff("caseworker".into()), chrono::Utc::now().naive_utc())?;
            assert!(db::duplicates::rejected_partners(c, &b)?.contains(&a));
            Ok(())
        })
        .await;
        let found = duplicates_of(&app, &first).await;
        assert_eq!(found["candidates"][0]["status"], "rejected", "{found}");
    }

    async fn staff_compare_candidates_side_by_side_and_decide(app: TestApp) {
        let first = submit_api(&app, &valid_request()).await["reference"].as_str().unwrap().to_string();
        let mut again = valid_request();
        again["applicant"]["full_name"] = json!("Mohammad Ahmad Karimi");
        let second = submit_api(&app, &again).await["reference"].as_str().unwrap().to_string();
        let lead = app.staff("lead", &[]).await;
        let page = lead.get(&app, &format!("/admin/requests/{second}")).await.text().await.unwrap();
        assert!(page.contains("Possible duplicates"));
        assert!(page.contains(&format!("href=\"/admin/requests/{first}\"")));
        assert!(page.contains("<tr class=\"match\"><th scope=\"row\">Phone</th>"), "the shared phone is marked");
        assert!(!page.contains("<tr class=\"match\"><th scope=\"row\">Applicant</th>"), "the names differ");

        let resp = lead
            .post(&app, &format!("/admin/requests/{second}"), &format!("/admin/requests/{second}/duplicates"), &[("other", first.as_str()), ("decision", "confirm")])
            .await;
        assert_eq!(resp.status(), 200);
        let page = resp.text().await.unwrap();
        assert!(page.contains("id=\"status\">Closed as duplicate"));
        assert!(page.contains(&format!("duplicate of {first}")));
        let original = lead.get(&app, &format!("/admin/requests/{first}")).await.text().await.unwrap();
        assert!(original.contains(&format!("{second} confirmed as a duplicate of this request")));
        assert!(original.contains("id=\"status\">Received"), "the original stays open");

        let third = submit_api(&app, &valid_request()).await["reference"].as_str().unwrap().to_string();
        let worker = app.staff("caseworker", &["consular"]).await;
        let resp = worker
            .post(&app, "/admin", &format!("/admin/requests/{third}/duplicates"), &[("other", first.as_str()), ("decision", "reject")])
            .await;
        assert_eq!(resp.status(), 403, "not their queue");
        let resp = lead
            .post(&app, &format!("/admin/requests/{third}"), &format!("/admin/requests/{third}/duplicates"), &[("other", first.as_str()), ("decision", "reject")])
            .await;
        let page = resp.text().await.unwrap();
        assert!(page.contains(&format!("not the same person as {first}")));
        let dups = duplicates_of(&app, &third).await;
        let rejected = dups["candidates"].as_array().unwrap().iter().find(|c| c["reference"] == first.as_str()).unwrap();
        assert_eq!(rejected["status"], "rejected");
    }

    async fn a_name_written_together_finds_the_report_that_wrote_it_apart(app: TestApp) {
        // Nothing but the compound given name is written alike: a typo in the surname, new
        // phones. Only the key of the two tokens written as one finds the earlier report.
        let mut apart = valid_request();
        apart["applicant"]["full_name"] = json!("Gul Ahmad Sultami");
        apart["applicant"]["phone"] = json!("+93 711 000 111");
        let apart = submit_api(&app, &apart).await["reference"].as_str().unwrap().to_string();
        let mut together = valid_request();
        together["applicant"]["full_name"] = json!("Gulahmad Sultani");
        together["applicant"]["phone"] = json!("+93 722 000 222");
        let together = submit_api(&app, &together).await["reference"].as_str().unwrap().to_string();

        let found = duplicates_of(&app, &together).await;
        let candidates = found["candidates"].as_array().unwrap();
        assert_eq!(candidates.len(), 1, "{found}");
        assert_eq!(candidates[0]["reference"], apart.as_str());
        assert!(reasons(&candidates[0]).iter().any(|r| r.starts_with("name ~ ") && r.ends_with("same date of birth")), "{found}");
    }

    async fn a_crowd_of_namesakes_does_not_hide_the_report_sharing_a_phone(app: TestApp) {
        // One report, then more namesakes born the same year (different dates, phones)
        // than intake scores or looks up per key: the same name keys are all full of them.
        let mut original = valid_request();
        original["applicant"]["phone"] = json!("+93 799 555 111");
        let original = submit_api(&app, &original).await["reference"].as_str().unwrap().to_string();
        for i in 0..60 {
            let mut namesake = valid_request();
            namesake["applicant"]["date_of_birth"] = json!(format!("1990-{:02}-{:02}", 7 + i % 6, 1 + i % 28));
            namesake["applicant"]["phone"] = json!(format!("+93 78{:01} {:03} 222", i % 10, i));
            submit_api(&app, &namesake).await;
        }
        let mut again = valid_request();
        again["applicant"]["phone"] = json!("0799 555 111");
        let again = submit_api(&app, &again).await;
        let found = duplicates_of(&app, again["reference"].as_str().unwrap()).await;
        let first = &found["candidates"][0];
        assert_eq!(first["reference"], original.as_str(), "{found}");
        assert!(reasons(first).contains(&"same phone"), "{found}");
    }

    async fn a_batch_that_names_one_person_twice_links_the_two(app: TestApp) {
        // Rows of one batch are stored in one commit; the second is matched against the
        // first before either is written.
        let admin = app.staff("admin", &[]).await;
        let (_, token) = crate::partners::partner_with_token(&app, &admin, "Twice NGO", "").await;
        let mut first = valid_request();
        first["applicant"]["full_name"] = json!("Spozhmai Wardak");
        first["applicant"]["phone"] = json!("+93 799 555 101");
        let mut second = first.clone();
        second["applicant"]["full_name"] = json!("Spojmai Wardak");
        second["applicant"]["phone"] = json!("0799555101");
        let resp = crate::partners::post_with(&app, "/api/v1/requests:batch", &token, &json!([first, second])).await;
        assert_eq!(resp.status(), 200);
        let answer: Value = resp.json().await.unwrap();
        let references: Vec<&str> =
            answer["results"].as_array().unwrap().iter().map(|r| r["reference"].as_str().unwrap()).collect();
        let found = duplicates_of(&app, references[1]).await;
        let linked: Vec<&str> =
            found["candidates"].as_array().unwrap().iter().map(|c| c["reference"].as_str().unwrap()).collect();
        assert_eq!(linked, [references[0]], "{found}");
        let trail = trail(&app, references[1]).await;
        assert!(
            trail.iter().any(|(action, detail)| action == "possible_duplicate" && detail.contains(references[0])),
            "{trail:?}"
        );
    }

    async fn the_same_person_reported_twice_at_once_is_linked(app: TestApp) {
        // Requests that arrive together share one commit, and matching against the
        // committed requests runs before it: the same person reported twice at the same
        // moment is still linked, through the check inside the commit (the commit's own
        // rows, or what commits since the search filed).
        let mut body = valid_request();
        body["applicant"]["full_name"] = json!("Zarghuna Nangialai");
        body["applicant"]["phone"] = json!("+93 766 123 987");
        let mut sponsor = body.clone();
        sponsor["submitter"] =
            json!({"kind": "sponsor", "name": "Rahim Karimi", "phone": "+1 202 555 0100"});
        for _ in 0..5 {
            let (a, b) =
                futures_util::future::join(submit_api(&app, &body), submit_api(&app, &sponsor)).await;
            let (a, b) = (
                a["reference"].as_str().unwrap().to_string(),
                b["reference"].as_str().unwrap().to_string(),
            );
            let found = duplicates_of(&app, &a).await;
            let linked: Vec<&str> = found["candidates"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["reference"].as_str().unwrap())
                .collect();
            assert!(
                linked.contains(&b.as_str()),
                "{a} and {b} are not linked: {found}"
            );
        }
    }

    async fn duplicates_of_an_unknown_request_are_404(app: TestApp) {
        let admin = app.staff("admin", &[]).await;
        let (_, token) = crate::partners::partner_with_token(&app, &admin, "Example NGO", "").await;
        for path in ["/api/v1/requests/TF-AAAA-AAAA/duplicates", "/api/v1/requests/nonsense/duplicates"] {
            let resp = app.raw.get(app.url(path)).bearer_auth(&token).send().await.unwrap();
            assert_eq!(resp.status(), 404, "{path}");
        }
    }
}

/// With `DEDUP_ROUTE_TO_ORIGINAL=false` a flagged request keeps its own queue.
#[actix_web::test]
async fn a_flagged_request_keeps_its_queue_when_routing_to_the_original_is_off() {
    use crate::helpers::{test_env, Backend};
    use case_triage::startup::Application;
    let env = test_env(Backend::Sqlite).expect("sqlite");
    let mut settings = env.settings.clone();
    settings.dedup.route_to_original = false;
    let app = Application::build(settings).await.expect("app starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let pool = app.pool().clone();
    actix_web::rt::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let form = with_field(valid_form(), "siv_status", "in_process");
    let resp = client
        .post(format!("{address}/requests"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = client
        .post(format!("{address}/api/v1/requests"))
        .json(&valid_request())
        .send()
        .await
        .unwrap();
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["queue"]["slug"], "triage");
    let reference = created["reference"].as_str().unwrap().to_string();
    let found = actix_web::rt::task::spawn_blocking(move || {
        duplicate_candidates(&mut pool.get().unwrap(), &reference).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        found["candidates"].as_array().unwrap().len(),
        1,
        "still flagged: {found}"
    );
    drop(env);
}
