//! The conversation: a caseworker writes to the requester (previewed, in the requester's
//! language, through the outbox), the requester answers on the status page, and purge
//! empties what was said.

use std::time::Duration;

use case_triage::db::{self, DbConnection};
use case_triage::domain::Language;
use diesel::prelude::*;

use crate::helpers::{find_reference, spawn_app_with, valid_form, with_field, Backend, TestApp};
use crate::smtp::SmtpSink;
use crate::status::check;
use crate::{for_each_backend, on_both_backends};

const WAIT: Duration = Duration::from_secs(40);

for_each_backend!(a_caseworker_writes_in_dari_and_the_applicant_answers_on_the_status_page);

/// Files a request through the public form (in `lang`) and answers its reference and
/// status-check code, as the confirmation page shows them.
pub async fn file_by_form(
    app: &TestApp,
    lang: &'static str,
    email: Option<&'static str>,
) -> (String, String) {
    let mut form = with_field(valid_form(), "lang", lang);
    if let Some(e) = email {
        form = with_field(form, "applicant_email", e);
    }
    let page = app.post_form(&form).await.text().await.unwrap();
    let reference = find_reference(&page).expect("a reference on the confirmation");
    let marker = "id=\"status-code\" dir=\"ltr\"><bdi>";
    let start = page.find(marker).expect("the status-check code") + marker.len();
    let code = page[start..start + page[start..].find('<').unwrap()].to_string();
    (reference, code)
}

/// The queue a request was routed to.
pub async fn queue_of(app: &TestApp, reference: &str) -> String {
    let r = reference.to_string();
    app.db(move |c| Ok(db::requests::find_by_reference(c, &r)?.unwrap().queue_slug))
        .await
}

pub async fn status_of(app: &TestApp, reference: &str) -> String {
    let r = reference.to_string();
    app.db(move |c| {
        Ok(db::requests::find_by_reference(c, &r)?
            .unwrap()
            .status
            .to_string())
    })
    .await
}

/// The requester answers on the status page; (HTTP status, page).
pub async fn answer(
    app: &TestApp,
    reference: &str,
    code: &str,
    lang: &str,
    text: &str,
) -> (u16, String) {
    let fields = [
        ("reference", reference),
        ("code", code),
        ("lang", lang),
        ("answer", text),
    ];
    let resp = app
        .raw
        .post(app.url("/status/answer"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

fn bodies(conn: &mut DbConnection, reference: &str) -> Result<Vec<(String, String)>, db::DbError> {
    use case_triage::db::schema::{case_messages as m, case_requests as c};
    Ok(m::table
        .inner_join(c::table)
        .filter(c::reference.eq(reference))
        .order(m::created_at)
        .select((m::direction, m::body))
        .load(conn)?)
}

async fn a_caseworker_writes_in_dari_and_the_applicant_answers_on_the_status_page(
    backend: Backend,
) {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(app) = spawn_app_with(backend, |s| {
        s.mail.smtp_url = Some(sink.url().into());
        s.mail.poll = Duration::from_secs(3600);
        s.reply_to = Some(
            case_triage::domain::fields::ContactEmail::parse("taskforce@taskforce.example")
                .unwrap(),
        );
    })
    .await
    else {
        return;
    };
    let (reference, code) = file_by_form(&app, "fa-AF", Some("family@example.org")).await;
    // The acknowledgment and the queue's notice.
    sink.wait_for(2, WAIT).await;
    let queue = queue_of(&app, &reference).await;
    let (worker_id, worker_email, password) = app.create_staff("caseworker", &[&queue]).await;
    let worker = crate::helpers::StaffClient {
        client: reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap(),
        id: worker_id,
    };
    app.login_with(&worker.client, &worker_email, &password)
        .await;
    assert_eq!(
        worker
            .act(&app, &reference, &[("action", "assign_self")])
            .await
            .status(),
        200
    );

    let case_path = format!("/admin/requests/{reference}");
    let compose = format!("{case_path}/messages");

    // The lead keeps a saved reply in English and Dari; an unknown placeholder is refused.
    let lead = app.staff("lead", &[]).await;
    let text = "لطفاً شمارهٔ پروندهٔ COM خود را بفرستید.\n{guidance}\n{status_page}";
    let save = |english: &'static str| {
        let fields = [
            ("title", "Ask for the COM case number"),
            ("category", ""),
            ("text_en", english),
            ("text_fa-AF", text),
            ("text_ps", ""),
        ];
        let (lead, app) = (&lead, &app);
        async move {
            lead.post(app, "/admin/replies", "/admin/replies", &fields)
                .await
        }
    };
    let refused = save("Dear {name}").await;
    assert_eq!(refused.status(), 422);
    let refused = refused.text().await.unwrap();
    assert!(refused.contains("{name} is not a placeholder"), "{refused}");
    assert!(
        refused.contains("لطفاً شمارهٔ پروندهٔ COM"),
        "what was typed is kept"
    );
    let saved = save("Please send your COM case number. {guidance} {status_page}").await;
    assert_eq!(saved.status(), 200);
    let editor = saved.text().await.unwrap();
    assert!(editor.contains("No text yet in: Pashto"), "{editor}");
    let reply_id = app
        .db(|c| {
            use case_triage::db::schema::saved_replies as r;
            Ok(r::table.select(r::id).first::<String>(c)?)
        })
        .await;

    // The caseworker starts from it in Dari; in Pashto it is refused, saying why.
    let loaded = worker
        .post(
            &app,
            &case_path,
            &compose,
            &[
                ("reply", reply_id.as_str()),
                ("language", "fa-AF"),
                ("text", ""),
                ("status", ""),
                ("step", "load"),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        loaded.contains("لطفاً شمارهٔ پروندهٔ COM خود را بفرستید."),
        "{loaded}"
    );
    let pashto = worker
        .post(
            &app,
            &case_path,
            &compose,
            &[
                ("reply", reply_id.as_str()),
                ("language", "ps"),
                ("text", text),
                ("status", ""),
                ("step", "send"),
            ],
        )
        .await;
    assert_eq!(pashto.status(), 422);
    assert!(pashto.text().await.unwrap().contains("has no Pashto text"));

    // The preview shows the mail as it will be sent, keeps the text, and sends nothing.
    let step = |step: &'static str| {
        let fields = [
            ("reply", reply_id.clone()),
            ("language", "fa-AF".to_string()),
            ("text", text.to_string()),
            ("status", "awaiting_information".to_string()),
            ("step", step.to_string()),
        ];
        let (worker, app, case_path, compose) = (&worker, &app, &case_path, &compose);
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            worker.post(app, case_path, compose, &fields).await
        }
    };
    let preview = step("preview").await;
    assert_eq!(preview.status(), 200);
    let preview = preview.text().await.unwrap();
    let category = app
        .db({
            let r = reference.clone();
            move |c| Ok(db::requests::find_by_reference(c, &r)?.unwrap().category)
        })
        .await;
    let (guidance, _) = case_triage::i18n::guidance(Language::FaAf, category);
    assert!(preview.contains("id=\"message-preview\""), "{preview}");
    assert!(preview.contains(&guidance), "the guidance is filled in");
    assert!(preview.contains("{guidance}"), "the typed text is kept");
    assert!(preview.contains(&format!("{}/status", app.address)) || preview.contains("/status"));
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 2, "a preview sends nothing");

    let sent = step("send").await;
    assert_eq!(sent.status(), 200);
    assert_eq!(status_of(&app, &reference).await, "awaiting_information");
    let mails = sink.wait_for(3, WAIT).await;
    let to_family: Vec<_> = mails
        .iter()
        .filter(|m| m.rcpt_to == "family@example.org")
        .collect();
    assert_eq!(
        to_family.len(),
        2,
        "the acknowledgment and the message, once: {mails:#?}"
    );
    let message = to_family
        .iter()
        .find(|m| m.raw.contains("Reply-To:"))
        .expect("the message");
    assert!(message.subject.contains(&reference), "{}", message.subject);
    assert!(!message.subject.contains("Karimi"));
    assert!(message.html.contains("dir=\"rtl\""), "{}", message.html);
    assert!(message.text.contains(&guidance));
    assert!(message.text.contains("لطفاً شمارهٔ پروندهٔ COM"));
    assert!(
        message.text.contains("http://127.0.0.1:"),
        "an absolute status-page link"
    );
    assert!(
        message.raw.contains("Reply-To: taskforce+"),
        "{}",
        message.raw
    );
    // The Message-ID and the Reply-To token lead back to the case.
    let stored_id = app
        .db(|c| {
            use case_triage::db::schema::case_messages as m;
            Ok(m::table
                .select((m::message_id, m::thread_token))
                .first::<(Option<String>, Option<String>)>(c)?)
        })
        .await;
    assert_eq!(stored_id.0.as_deref(), Some(message.message_id.as_str()));
    let token = stored_id.1.unwrap();
    assert!(message
        .raw
        .contains(&format!("taskforce+{token}@taskforce.example")));
    // The case page shows it as outgoing, with its author and delivery state.
    let page = worker.get(&app, &case_path).await.text().await.unwrap();
    assert!(page.contains("to the requester"), "{page}");
    assert!(page.contains("mail sent") || page.contains("mail waiting to be sent"));

    // The applicant reads it on the status page, in Dari, and answers.
    let (status, page) = check(&app, &reference, &code, "fa-AF").await;
    assert_eq!(status, 200);
    assert!(page.contains("لطفاً شمارهٔ پروندهٔ COM"));
    assert!(page.contains("name=\"answer\""));
    assert!(!page.contains(&code) || page.contains("type=\"hidden\" name=\"code\""));

    // A wrong code is the status check's 404; an empty or long answer keeps what was typed.
    assert_eq!(
        answer(&app, &reference, "WRONG123", "fa-AF", "سلام").await.0,
        404
    );
    let (status, page) = answer(&app, &reference, &code, "fa-AF", "   ").await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"answer-error\""));
    let long = "ب".repeat(4001);
    let (status, page) = answer(&app, &reference, &code, "fa-AF", &long).await;
    assert_eq!(status, 422);
    assert!(page.contains(&long), "the text is kept");

    let (status, page) = answer(&app, &reference, &code, "fa-AF", "شمارهٔ پرونده: COM-1234").await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"answer-sent\""), "{page}");
    assert_eq!(status_of(&app, &reference).await, "in_progress");
    let mails = sink.wait_for(4, WAIT).await;
    let notices: Vec<_> = mails.iter().filter(|m| m.rcpt_to == worker_email).collect();
    assert_eq!(notices.len(), 1, "{mails:#?}");
    assert!(notices[0].subject.contains(&reference));
    assert!(
        !notices[0].raw.contains("COM-1234"),
        "no answer in the notice"
    );
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.messages().len(), 4, "one notice, nothing more");

    // The case page marks nothing new once seen; the answer is there.
    let page = worker.get(&app, &case_path).await.text().await.unwrap();
    assert!(page.contains("COM-1234"));
    assert!(page.contains("answered on the status page"));
}

on_both_backends! {
    async fn a_request_without_email_gets_its_message_on_the_status_page_only(app: TestApp) {
        let (reference, code) = file_by_form(&app, "en", None).await;
        let lead = app.staff("lead", &[]).await;
        let case_path = format!("/admin/requests/{reference}");
        let page = lead.get(&app, &case_path).await.text().await.unwrap();
        assert!(page.contains("id=\"no-address\""), "the case says so");
        let resp = lead
            .post(&app, &case_path, &format!("{case_path}/messages"), &[("language", "en"), ("text", "Please tell us your COM case number ({reference})."), ("status", ""), ("step", "send")])
            .await;
        assert_eq!(resp.status(), 200);
        let page = resp.text().await.unwrap();
        assert!(page.contains("status page only"), "{page}");
        let mails: i64 = app
            .db(|c| {
                use case_triage::db::schema::outbox;
                Ok(outbox::table.filter(outbox::kind.eq("message")).count().get_result(c)?)
            })
            .await;
        assert_eq!(mails, 0);
        let (status, page) = check(&app, &reference, &code, "en").await;
        assert_eq!(status, 200);
        assert!(page.contains(&format!("Please tell us your COM case number ({reference}).")));
        // Internal notes never reach the status page.
        lead.act(&app, &reference, &[("action", "note"), ("body", "internal: call the NGO")]).await;
        let (_, page) = check(&app, &reference, &code, "en").await;
        assert!(!page.contains("internal: call the NGO"));
    }

    async fn purge_empties_the_bodies_of_the_conversation(app: TestApp) {
        let (reference, code) = file_by_form(&app, "en", Some("family@example.org")).await;
        let lead = app.staff("lead", &[]).await;
        let case_path = format!("/admin/requests/{reference}");
        lead.post(&app, &case_path, &format!("{case_path}/messages"), &[("language", "en"), ("text", "Which camp are you in?"), ("status", ""), ("step", "send")]).await;
        assert_eq!(answer(&app, &reference, &code, "en", "We are in Nasir Bagh.").await.0, 200);
        let r = reference.clone();
        let before = app.db(move |c| bodies(c, &r)).await;
        assert_eq!(before.len(), 2);
        let r = reference.clone();
        app.db_conn(move |c| {
            use case_triage::db::schema::case_requests as cr;
            let past = chrono::Utc::now().naive_utc() - chrono::Duration::days(400);
            diesel::update(cr::table.filter(cr::reference.eq(r)))
                .set((cr::status.eq("resolved"), cr::is_open.eq(false), cr::closed_at.eq(Some(past))))
                .execute(&mut **c)?;
            let now = chrono::Utc::now().naive_utc();
            db::purge::run(c, now - chrono::Duration::days(365), db::purge::Trigger::Cli, now)?;
            Ok(())
        })
        .await;
        let r = reference.clone();
        let after = app.db(move |c| bodies(c, &r)).await;
        assert_eq!(after.len(), 2, "the messages stay, counted");
        assert!(after.iter().all(|(_, b)| b == "[removed]"), "{after:?}");
    }
}

/// Sets a request's received time back `days` days, straight in the database.
fn age(conn: &mut DbConnection, reference: &str, days: i64) -> Result<(), db::DbError> {
    use case_triage::db::schema::case_requests as c;
    let at = chrono::Utc::now().naive_utc() - chrono::Duration::days(days);
    diesel::update(c::table.filter(c::reference.eq(reference)))
        .set(c::created_at.eq(at))
        .execute(conn)?;
    Ok(())
}

on_both_backends! {
    async fn queues_show_who_is_waiting_on_whom_and_new_replies(app: TestApp) {
        let (waiting, code) = file_by_form(&app, "en", None).await;
        let (ours, _) = file_by_form(&app, "en", None).await;
        let lead = app.staff("lead", &[]).await;
        let queue = queue_of(&app, &waiting).await;
        let case_path = format!("/admin/requests/{waiting}");
        let asked = [("language", "en"), ("text", "Which camp are you in?"), ("status", "awaiting_information"), ("step", "send")];
        lead.post(&app, &case_path, &format!("{case_path}/messages"), &asked).await;
        for (r, days) in [(&waiting, 20), (&ours, 20)] {
            let r = r.to_string();
            app.db(move |c| age(c, &r, days)).await;
        }

        let list = |filter: &'static str| {
            let path = format!("/admin/queues/{queue}?{filter}");
            let lead = &lead;
            let app = &app;
            async move { lead.get(app, &path).await.text().await.unwrap() }
        };
        let on_requester = list("waiting=requester").await;
        assert!(on_requester.contains(&waiting) && !on_requester.contains(&ours), "{on_requester}");
        let on_us = list("waiting=us").await;
        assert!(on_us.contains(&ours) && !on_us.contains(&waiting));

        // The SLA breach list leaves out the case waiting on the requester, and says so.
        let dashboard = lead.get(&app, "/admin").await.text().await.unwrap();
        let breaches = &dashboard[dashboard.find("id=\"sla-h\"").unwrap()..];
        let breaches = &breaches[..breaches.find("</section>").unwrap()];
        assert!(breaches.contains(&ours) && !breaches.contains(&waiting), "{breaches}");
        assert!(breaches.contains("leaves out cases waiting on the requester (awaiting information): 1 open."), "{breaches}");

        // The answer marks the case in the queue and on the dashboard until it is opened.
        assert_eq!(answer(&app, &waiting, &code, "en", "Nasir Bagh.").await.0, 200);
        let all = list("status=all").await;
        let row = &all[all.find(&format!(">{waiting}<")).unwrap()..];
        assert!(row[..row.find("</tr>").unwrap()].contains("new reply"), "{row}");
        let dashboard = lead.get(&app, "/admin").await.text().await.unwrap();
        assert!(dashboard.contains("Cases with a new reply from the requester: <strong>1</strong>"));
        assert!(list("waiting=us").await.contains(&waiting), "in progress again: waiting on us");
        lead.get(&app, &case_path).await;
        assert!(!list("status=all").await.contains("new reply"), "seen once opened");
    }

    async fn partners_read_the_conversation_and_add_information(app: TestApp) {
        use crate::partners::{distinct_request, partner_with_token, post_with};
        let admin = app.staff("admin", &[]).await;
        let (partner, token) = partner_with_token(&app, &admin, "Example NGO", "").await;
        let (_, other_token) = partner_with_token(&app, &admin, "Other NGO", "").await;
        let created = post_with(&app, "/api/v1/requests", &token, &distinct_request()).await;
        assert_eq!(created.status(), 201);
        let reference = created.json::<serde_json::Value>().await.unwrap()["reference"].as_str().unwrap().to_string();
        let p = partner.clone();
        app.db(move |c| {
            use case_triage::db::schema::partners;
            diesel::update(partners::table.find(p))
                .set((partners::webhook_url.eq(Some("http://127.0.0.1:9/hook")), partners::webhook_secret.eq(Some("whsec_test"))))
                .execute(c)?;
            Ok(())
        })
        .await;
        let path = format!("/api/v1/requests/{reference}/messages");
        let get = |token: Option<&str>| {
            let mut req = app.raw.get(app.url(&path));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            req.send()
        };
        let empty: serde_json::Value = get(Some(&token)).await.unwrap().json().await.unwrap();
        assert_eq!(empty["messages"], serde_json::json!([]));
        assert_eq!(get(None).await.unwrap().status(), 401);
        assert_eq!(get(Some(&other_token)).await.unwrap().status(), 404, "another partner's is unknown");

        let case_path = format!("/admin/requests/{reference}");
        admin.post(&app, &case_path, &format!("{case_path}/messages"), &[("language", "en"), ("text", "Please send the COM case number."), ("status", ""), ("step", "send")]).await;
        admin.act(&app, &reference, &[("action", "note"), ("body", "internal only")]).await;
        let read: serde_json::Value = get(Some(&token)).await.unwrap().json().await.unwrap();
        assert_eq!(read["messages"].as_array().unwrap().len(), 1, "{read}");
        assert_eq!(read["messages"][0]["body"], "Please send the COM case number.");
        assert_eq!(read["messages"][0]["direction"], "outgoing");
        let kinds: Vec<String> = app
            .db(|c| {
                use case_triage::db::schema::outbox;
                Ok(outbox::table.select(outbox::kind).load(c)?)
            })
            .await;
        assert!(kinds.iter().any(|k| k == "webhook.message"), "{kinds:?}");

        for bad in [serde_json::json!({"body": "  "}), serde_json::json!({"body": "x".repeat(4001)})] {
            let resp = post_with(&app, &path, &token, &bad).await;
            assert_eq!(resp.status(), 422);
            let body: serde_json::Value = resp.json().await.unwrap();
            assert_eq!(body["errors"][0]["field"], "body", "{body}");
        }
        assert_eq!(post_with(&app, &path, &other_token, &serde_json::json!({"body": "x"})).await.status(), 404);
        let added = post_with(&app, &path, &token, &serde_json::json!({"body": "COM-2021-1234"})).await;
        assert_eq!(added.status(), 201);
        let r = reference.clone();
        let stored = app.db(move |c| bodies(c, &r)).await;
        assert_eq!(stored.last().unwrap(), &("incoming".to_string(), "COM-2021-1234".to_string()));
        let read: serde_json::Value = get(Some(&token)).await.unwrap().json().await.unwrap();
        assert_eq!(read["messages"].as_array().unwrap().len(), 1, "only messages to the requester");
    }
}
