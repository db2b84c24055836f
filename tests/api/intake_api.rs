//! Partners posting requests to `POST /api/v1/requests`.

use crate::helpers::valid_request;
use crate::on_both_backends;
use case_triage::db;
use serde_json::{json, Value};

async fn field_errors(resp: reqwest::Response) -> Vec<String> {
    let body: Value = resp.json().await.unwrap();
    body["errors"]
        .as_array()
        .expect("errors list")
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect()
}

on_both_backends! {
    async fn a_valid_request_is_created_classified_and_routed(app: TestApp) {
        let mut body = valid_request();
        body["siv"] = json!({"status": "in_process", "case_number": "ISB-2021-123456"});
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 201);
        let location = resp.headers()["location"].to_str().unwrap().to_string();
        let created: Value = resp.json().await.unwrap();

        let reference = created["reference"].as_str().unwrap();
        assert!(case_triage::domain::CaseReference::parse(reference).is_some(), "{reference}");
        assert_eq!(location, format!("/api/v1/requests/{reference}"));
        assert_eq!(created["category"], "siv_pending");
        assert_eq!(created["priority"], "normal");
        assert_eq!(created["queue"]["slug"], "siv");
        assert_eq!(created["queue"]["name"], "SIV desk");
        assert_eq!(created["status"], "new");
        assert_eq!(created["source"], "partner_api");
        assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
        // The answer never echoes personal data.
        assert!(!created.to_string().contains("Karimi"));

        // Reading it back needs a partner's token (see partners.rs).
        let fetched = app.raw.get(app.url(&location)).send().await.unwrap();
        assert_eq!(fetched.status(), 401);

        let reference = reference.to_string();
        let (row, trail) = app
            .db(move |c| {
                let row = db::requests::find_by_reference(c, &reference)?.unwrap();
                let trail = db::requests::audit_trail(c, &row.id)?;
                Ok((row, trail))
            })
            .await;
        assert_eq!(row.routing_rule_name.as_deref(), Some("Pending SIV to the SIV desk"));
        let actions: Vec<_> = trail.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["created", "routed"]);
        assert!(trail[1].detail.contains("SIV desk") || trail[1].detail.contains("to siv"));
    }

    async fn every_category_lands_in_its_queue(app: TestApp) {
        let cases: Vec<(Value, &str, &str, &str)> = vec![
            (json!({"urgent": {"danger": true, "medical": false}, "us_tie": "citizen"}), "urgent_protection", "urgent", "urgent-protection"),
            (json!({"urgent": {"danger": false, "medical": true}}), "urgent_protection", "urgent", "urgent-protection"),
            (json!({"us_tie": "immediate_family", "siv": {"status": "approved"}}), "amcit_lpr", "high", "consular"),
            (json!({"siv": {"status": "approved"}}), "siv_approved", "high", "siv"),
            (json!({"siv": {"status": "in_process"}, "referral": {"program": "p2"}}), "siv_pending", "normal", "siv"),
            (json!({"referral": {"program": "p1", "referred_by": "UNHCR Islamabad"}}), "refugee_referral", "normal", "refugee-referrals"),
            (json!({"location": "border", "claimed_programs": ["parole"]}), "border_arrival", "high", "refugee-referrals"),
            (json!({"claimed_programs": ["siv", "p2"]}), "no_referral", "normal", "triage"),
            (json!({"household_size": 9}), "other", "high", "triage"),
            (json!({}), "other", "normal", "triage"),
        ];
        // Ten different people: the same applicant ten times would be flagged as
        // duplicates and follow the first request's queue.
        let people = ["Ahmad Karimi", "Bilal Popal", "Farid Wardak", "Jawad Niazi", "Khalid Safi",
            "Naveed Sultani", "Qasim Jalali", "Tariq Samadi", "Zahir Nazari", "Omar Durrani"];
        for (i, (changes, category, priority, queue)) in cases.into_iter().enumerate() {
            let mut body = valid_request();
            body["applicant"]["full_name"] = json!(people[i]);
            body["applicant"]["phone"] = json!(format!("+93 70{i} 123 456"));
            body["applicant"]["date_of_birth"] = json!(format!("{}-05-01", 1960 + 3 * i));
            for (k, v) in changes.as_object().unwrap() {
                match k.as_str() {
                    "location" | "household_size" => body["applicant"][k] = v.clone(),
                    _ => body[k] = v.clone(),
                }
            }
            let resp = app.post_json("/api/v1/requests", &body).await;
            assert_eq!(resp.status(), 201, "{changes}");
            let created: Value = resp.json().await.unwrap();
            assert_eq!(created["category"], category, "{changes}");
            assert_eq!(created["priority"], priority, "{changes}");
            assert_eq!(created["queue"]["slug"], queue, "{changes}");
        }
        assert_eq!(app.request_count().await, 10);
    }

    async fn missing_and_invalid_fields_are_all_named_and_nothing_is_stored(app: TestApp) {
        let resp = app.post_json("/api/v1/requests", &json!({"submitter": {"kind": "self"}})).await;
        assert_eq!(resp.status(), 422);
        assert_eq!(
            field_errors(resp).await,
            ["applicant.full_name", "applicant.location", "applicant.phone", "consent"]
        );

        let mut body = valid_request();
        body["consent"] = json!(false);
        body["applicant"]["household_size"] = json!(-2);
        body["applicant"]["email"] = json!("someone@@example");
        body["applicant"]["date_of_birth"] = json!("2999-01-01");
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 422);
        assert_eq!(
            field_errors(resp).await,
            ["applicant.date_of_birth", "applicant.email", "applicant.household_size", "consent"]
        );

        let mut body = valid_request();
        body["applicant"]["phone"] = Value::Null;
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 422, "a request needs one contact channel");

        assert_eq!(app.request_count().await, 0);
    }

    async fn wrong_types_unknown_fields_and_bad_enums_are_422_with_the_field(app: TestApp) {
        let mut body = valid_request();
        body["applicant"]["household_size"] = json!("five");
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 422);
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["errors"][0]["field"], "applicant.household_size");
        assert_eq!(err["errors"][0]["message"], "must be a whole number, not text");

        // A value of the wrong type is told the allowed values, never the Rust type.
        let mut body = valid_request();
        body["siv"]["status"] = json!(2);
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 422);
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["errors"][0]["field"], "siv.status");
        assert_eq!(err["errors"][0]["message"], "must be one of: none, in_process, approved, not the number 2");

        let mut body = valid_request();
        body["applicant"]["nickname"] = json!("Ahmad");
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 422);
        let err: Value = resp.json().await.unwrap();
        assert!(err["errors"][0]["field"].as_str().unwrap().contains("nickname"), "{err}");

        let mut body = valid_request();
        body["us_tie"] = json!("green_card");
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 422);
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["errors"][0]["field"], "us_tie");
        assert!(err["errors"][0]["message"].as_str().unwrap().contains("citizen, lpr"));

        let mut body = valid_request();
        body["claimed_programs"] = json!(["siv", "asylum"]);
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 422);
        assert_eq!(field_errors(resp).await, ["claimed_programs[1]"]);

        // Every misfit of one body is named in one answer, array elements by their index
        // as sent, and the fields that fit are still checked on the next round.
        let mut body = valid_request();
        body["applicant"]["household_size"] = json!("five");
        body["applicant"]["nickname"] = json!("Ahmad");
        body["urgent"]["danger"] = json!("no");
        body["claimed_programs"] = json!(["asylum", "siv", "tps", 7]);
        body["consent"] = json!("yes");
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 422);
        let mut fields = field_errors(resp).await;
        fields.sort();
        assert_eq!(
            fields,
            [
                "applicant.household_size",
                "applicant.nickname",
                "claimed_programs[0]",
                "claimed_programs[2]",
                "claimed_programs[3]",
                "consent",
                "urgent.danger",
            ]
        );

        assert_eq!(app.request_count().await, 0);
    }

    async fn parts_sent_as_lists_are_refused_at_every_depth(app: TestApp) {
        // What serde alone would read by position, field after field.
        let positional = [
            ("submitter", json!(["self", null, null, null, null])),
            ("applicant", json!(["Ahmad Karimi", "1990-05-01", "+93 700 123 456", null, null, "pakistan", 4])),
            ("siv", json!(["approved", "COM-123456"])),
            ("referral", json!(["p1", "UNHCR Islamabad"])),
            ("urgent", json!([true, true])),
        ];
        for (part, list) in &positional {
            let mut body = valid_request();
            body[part] = list.clone();
            let resp = app.post_json("/api/v1/requests", &body).await;
            assert_eq!(resp.status(), 422, "{part}");
            let err: Value = resp.json().await.unwrap();
            assert_eq!(err["errors"].as_array().unwrap().len(), 1, "{err}");
            assert_eq!(err["errors"][0]["field"], *part, "{err}");
            assert_eq!(err["errors"][0]["message"], "must be an object, not a list", "{err}");
        }

        let whole: Vec<Value> = positional
            .iter()
            .map(|(_, list)| list.clone())
            .chain([json!([]), json!("none"), json!(null), json!("text"), json!(true), json!("en")])
            .collect();
        let resp = app.post_json("/api/v1/requests", &Value::Array(whole.clone())).await;
        assert_eq!(resp.status(), 422);
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["errors"].as_array().unwrap().len(), 1, "{err}");
        assert_eq!(err["errors"][0]["field"], "", "{err}");
        assert_eq!(err["errors"][0]["message"], "must be an object, not a list", "{err}");

        // Every row of a batch is read the same way.
        let mut nested = valid_request();
        nested["siv"] = json!(["approved", "COM-123456"]);
        let rows = json!([valid_request(), nested, whole]);
        let resp = app.post_json("/api/v1/requests:batch", &rows).await;
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["created"], 1, "{body}");
        assert_eq!(body["results"][1]["errors"][0]["field"], "siv", "{body}");
        assert_eq!(body["results"][2]["errors"][0]["field"], "", "{body}");
        assert_eq!(app.request_count().await, 1, "only the row sent as an object is stored");
    }

    async fn what_the_published_schema_allows_is_stored_and_what_it_refuses_is_not(app: TestApp) {
        // The document's own example.
        let doc: Value = app.raw.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
        let example = doc["paths"]["/api/v1/requests"]["post"]["requestBody"]["content"]["application/json"]["example"].clone();
        let resp = app.post_json("/api/v1/requests", &example).await;
        assert_eq!(resp.status(), 201, "{example}");

        // What JSON Schema allows where a client might not expect it: a whole number written
        // 4.0, flags sent as null, blank optional text, white space around values.
        let mut body = valid_request();
        body["applicant"]["full_name"] = json!(" Bilal Popal\t");
        body["applicant"]["household_size"] = json!(4.0);
        body["applicant"]["email"] = json!("   ");
        body["applicant"]["phone"] = json!("\u{3000}+93 701 234 567\n");
        body["submitter"]["name"] = json!(" ");
        body["urgent"] = json!({"danger": null, "medical": null});
        body["claimed_programs"] = Value::Null;
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 201, "{body}");

        // Lengths count what was sent, white space around it included (`maxLength`).
        let mut body = valid_request();
        body["applicant"]["full_name"] = json!(format!(" {} ", "a".repeat(199)));
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 422);
        assert_eq!(field_errors(resp).await, ["applicant.full_name"]);
        let mut body = valid_request();
        body["applicant"]["household_size"] = json!(4.5);
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 422);
        assert_eq!(field_errors(resp).await, ["applicant.household_size"]);

        // The schema names what the server requires, and nothing else.
        let schemas = &doc["components"]["schemas"];
        assert_eq!(schemas["IntakeInput"]["required"], json!(["submitter", "applicant", "consent"]));
        assert_eq!(schemas["SubmitterInput"]["required"], json!(["kind"]));
        assert_eq!(schemas["ApplicantInput"]["required"], json!(["full_name", "location"]));
        for optional in ["SivInput", "ReferralInput", "UrgentInput"] {
            assert!(schemas[optional].get("required").is_none(), "{optional}");
        }
        let resp = app.post_json("/api/v1/requests", &json!({})).await;
        assert_eq!(resp.status(), 422);
        assert_eq!(
            field_errors(resp).await,
            ["submitter.kind", "applicant.full_name", "applicant.location", "applicant.phone", "consent"]
        );
        assert_eq!(app.request_count().await, 2);
    }

    async fn malformed_oversized_and_non_json_bodies_are_refused(app: TestApp) {
        let resp = app
            .raw
            .post(app.url("/api/v1/requests"))
            .header("content-type", "application/json")
            .body("{\"submitter\": ")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"], "malformed_json");

        // A valid request followed by anything but white space is not JSON either.
        for tail in [" x", " {}"] {
            let resp = app
                .raw
                .post(app.url("/api/v1/requests"))
                .header("content-type", "application/json")
                .body(format!("{}{tail}", valid_request()))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 400, "tail {tail:?}");
            let err: Value = resp.json().await.unwrap();
            assert_eq!(err["error"], "malformed_json");
        }

        let mut body = valid_request();
        body["description"] = json!("x".repeat(200_000));
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 413);
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"], "body_too_large");

        let resp = app
            .raw
            .post(app.url("/api/v1/requests"))
            .header("content-type", "text/plain")
            .body(valid_request().to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 415);

        let mut body = valid_request();
        body["description"] = json!("y".repeat(5001));
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 422);
        assert_eq!(field_errors(resp).await, ["description"]);

        assert_eq!(app.request_count().await, 0);
    }

    async fn arabic_script_names_are_stored_intact(app: TestApp) {
        let mut body = valid_request();
        body["applicant"]["full_name"] = json!("  محمد   رحیمی  ");
        body["applicant"]["phone"] = json!("+۹۳ ۷۰۰ ۱۲۳ ۴۵۶");
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 201);
        let created: Value = resp.json().await.unwrap();
        let reference = created["reference"].as_str().unwrap().to_string();
        let personal = app
            .db(move |c| {
                let row = db::requests::find_by_reference(c, &reference)?.unwrap();
                db::requests::personal_data(c, &row.id)
            })
            .await
            .unwrap();
        assert_eq!(personal.applicant_full_name, "محمد رحیمی");
        assert_eq!(personal.applicant_phone.as_deref(), Some("+93700123456"));
    }

    async fn a_reference_alone_tells_a_stranger_nothing(app: TestApp) {
        // Submitting needs no token here (API_ANONYMOUS=true); reading always does, and a
        // stranger gets the same answer for a real reference as for a made-up one.
        let resp = app.post_json("/api/v1/requests", &valid_request()).await;
        assert_eq!(resp.status(), 201);
        let known = resp.json::<Value>().await.unwrap()["reference"].as_str().unwrap().to_string();
        let mut answers = Vec::new();
        for reference in [known.as_str(), "TF-0000-0000", "not-a-reference"] {
            for path in [format!("/api/v1/requests/{reference}"), format!("/api/v1/requests/{reference}/duplicates")] {
                let resp = app.raw.get(app.url(&path)).send().await.unwrap();
                assert_eq!(resp.status(), 401, "{path}");
                assert_eq!(resp.headers()["www-authenticate"], "Bearer");
                let body = resp.text().await.unwrap();
                for derived in ["siv", "queue", "priority", "category", "urgent"] {
                    assert!(!body.contains(derived), "{path}: {body}");
                }
                answers.push(body);
            }
        }
        assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");

        // With a token, an unknown reference is 404.
        let admin = app.staff("admin", &[]).await;
        let (_, token) = crate::partners::partner_with_token(&app, &admin, "Example NGO", "").await;
        for path in ["/api/v1/requests/TF-0000-0000", "/api/v1/requests/not-a-reference"] {
            let resp = app.raw.get(app.url(path)).bearer_auth(&token).send().await.unwrap();
            assert_eq!(resp.status(), 404, "{path}");
        }
    }
}

on_both_backends! {
    async fn a_burst_of_concurrent_requests_is_stored_once_each(app: TestApp) {
        // Requests that arrive together are committed together on SQLite; each caller
        // still gets its own answer, and each answer is a stored request.
        let posts = (0..60).map(|i| {
            let mut body = valid_request();
            body["applicant"]["full_name"] = json!(crate::helpers::distinct_name());
            body["applicant"]["phone"] = json!(format!("+93 70{:07}", 1_000_000 + i));
            let app = &app;
            async move { app.post_json("/api/v1/requests", &body).await }
        });
        let answers = futures_util::future::join_all(posts).await;
        let mut references = std::collections::BTreeSet::new();
        for resp in answers {
            assert_eq!(resp.status(), 201);
            let created: Value = resp.json().await.unwrap();
            references.insert(created["reference"].as_str().unwrap().to_string());
        }
        assert_eq!(references.len(), 60, "one reference each");
        assert_eq!(app.request_count().await, 60);
        for reference in references.iter().take(5) {
            let reference = reference.clone();
            let stored = app.db(move |c| db::requests::find_by_reference(c, &reference)).await;
            assert!(stored.is_some());
        }
    }

    async fn work_that_fails_in_a_shared_commit_leaves_the_rest_stored(app: TestApp) {
        let writer = db::Writer::start(app.pool.clone());
        let now = chrono::Utc::now().naive_utc();
        let jobs = (0..40).map(|i| {
            let writer = writer.clone();
            async move {
                writer
                    .run(None, move |conn, _rows| {
                        db::write_transaction(conn, |conn| {
                            db::cases::audit(conn, None, &case_triage::domain::Actor::Cli, "group_test", format!("row {i}"), now)?;
                            if i % 2 == 1 {
                                return Err(db::DbError::Corrupt(format!("refused {i}")));
                            }
                            Ok(i)
                        })
                    })
                    .await
            }
        });
        let results = futures_util::future::join_all(jobs).await;
        for (i, result) in results.iter().enumerate() {
            match result {
                Ok(n) => assert!(i % 2 == 0 && *n == i),
                Err(e) => assert!(i % 2 == 1 && e.to_string().contains(&format!("refused {i}")), "{e}"),
            }
        }
        let filter = db::audit::AuditFilter { action: Some("group_test".into()), ..Default::default() };
        let (rows, _) = app.db(move |c| db::audit::list(c, &filter, None, 100)).await;
        let mut stored: Vec<String> = rows.into_iter().map(|r| r.event.detail).collect();
        stored.sort();
        let mut expected: Vec<String> = (0..40).filter(|i| i % 2 == 0).map(|i| format!("row {i}")).collect();
        expected.sort();
        assert_eq!(stored, expected, "only the work that succeeded is stored");
    }
}

/// Routing does not depend on the database: SQLite only.
#[actix_web::test]
async fn api_addresses_and_methods_that_do_not_exist_answer_in_the_api_error_format() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite)
        .await
        .expect("app");
    let resp = app.raw.get(app.url("/api/v1/cases")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"], "not_found");

    for (method, path, allowed) in [
        (reqwest::Method::GET, "/api/v1/requests", "POST"),
        (reqwest::Method::PUT, "/api/v1/requests:batch", "POST"),
        (
            reqwest::Method::DELETE,
            "/api/v1/requests/TF-0000-0000",
            "GET",
        ),
        (
            reqwest::Method::POST,
            "/api/v1/requests/TF-0000-0000/duplicates",
            "GET",
        ),
    ] {
        let resp = app
            .raw
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 405, "{method} {path}");
        assert_eq!(resp.headers()["allow"], allowed, "{method} {path}");
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"], "method_not_allowed", "{method} {path}");
    }
}

/// Each application queues its own SQLite writers: one app in the middle of a write holds
/// up no other app in the same process (two apps in one test binary share nothing).
#[actix_web::test]
async fn an_application_is_not_held_up_by_another_applications_writer() {
    use crate::helpers::{spawn_app, Backend};
    let a = spawn_app(Backend::Sqlite)
        .await
        .expect("SQLite is always there");
    let b = spawn_app(Backend::Sqlite)
        .await
        .expect("SQLite is always there");
    let (held, is_held) = tokio::sync::oneshot::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let pool = a.pool.clone();
    let holder = actix_web::rt::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        db::write_transaction(&mut conn, |_| {
            held.send(()).unwrap();
            released.recv().ok();
            Ok::<_, db::DbError>(())
        })
    });
    is_held.await.unwrap();
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        b.post_json("/api/v1/requests", &valid_request()),
    )
    .await;
    release.send(()).unwrap();
    holder.await.unwrap().unwrap();
    let resp = answer.expect("the other app took the request while the first one was writing");
    assert_eq!(resp.status(), 201);
    assert_eq!(b.request_count().await, 1);
}
