//! Every page is valid HTML: the Nu HTML Checker (vnu.jar, the W3C validator) reads the
//! pages the running app serves, public and staff side, with data and without, and any
//! error it reports fails the test with its messages. Needs Java 17 and `npm ci` in
//! tests/html (`.ci/run` does both).

use std::path::Path;
use std::process::Command;

use crate::helpers::{find_reference, spawn_app, valid_form, valid_request, Backend};

fn skip_or_fail(what: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("HTML validation cannot run in CI: {what}");
    }
    println!("SKIPPED HTML validation: {what}");
}

#[actix_web::test]
async fn every_page_the_app_serves_is_valid_html() {
    let jar = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/html/node_modules/vnu-jar/build/dist/vnu.jar");
    if !jar.exists() {
        return skip_or_fail("run `npm ci --ignore-scripts` in tests/html");
    }
    if Command::new("java").arg("-version").output().is_err() {
        return skip_or_fail("java is missing (apt-get install openjdk-17-jre-headless)");
    }
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite app");
    let mut pages: Vec<(&str, String)> = Vec::new();
    let get = |path: String| {
        let request = app.raw.get(app.url(&path));
        async move {
            let resp = request.send().await.unwrap();
            assert!(
                resp.status().is_success() || resp.status() == 404,
                "{path}: {}",
                resp.status()
            );
            resp.text().await.unwrap()
        }
    };

    // The public side, in English and in Dari (right to left).
    pages.push(("form", get("/".into()).await));
    pages.push(("form-dari", get("/?lang=fa-AF".into()).await));
    let errors = app
        .client
        .post(app.url("/requests"))
        .form(&[("applicant_phone", "call me")])
        .send()
        .await
        .unwrap();
    assert_eq!(errors.status(), 422);
    pages.push(("form-with-errors", errors.text().await.unwrap()));
    let confirmation = app.post_form(&valid_form()).await.text().await.unwrap();
    let reference = find_reference(&confirmation).expect("a reference");
    let code = confirmation
        .split("id=\"status-code\" dir=\"ltr\"><bdi>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the status-check code")
        .to_string();
    pages.push(("confirmation", confirmation));
    pages.push(("status-form", get("/status".into()).await));
    let status = app
        .raw
        .post(app.url("/status"))
        .form(&[("reference", reference.as_str()), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    pages.push(("status-result", status.text().await.unwrap()));
    pages.push(("not-found", get("/no-such-page".into()).await));
    pages.push(("staff-login", get("/admin/login".into()).await));

    // The staff side: a case with a duplicate to compare, a note and a timeline; a queue
    // with cases and one without.
    let mut twin = valid_request();
    twin["applicant"]["phone"] = serde_json::json!("+93 700 123 456");
    twin["siv"] = serde_json::json!({"status": "in_process", "case_number": "ISB-2021-555"});
    let resp = app.post_json("/api/v1/requests", &twin).await;
    assert_eq!(resp.status(), 201);
    let other = app.submit(serde_json::json!({})).await;
    let admin = app.staff("admin", &[]).await;
    admin
        .act(
            &app,
            &reference,
            &[("action", "note"), ("body", "Called back, no answer.")],
        )
        .await;
    admin
        .post(
            &app,
            "/admin/partners",
            "/admin/partners",
            &[("name", "Example NGO"), ("daily_quota", "")],
        )
        .await;
    // A conversation: a saved reply lacking Pashto, a message sent, an answer taken.
    admin
        .post(
            &app,
            "/admin/replies",
            "/admin/replies",
            &[
                ("title", "Ask for the COM case number"),
                ("category", ""),
                ("text_en", "Please send your COM case number. {status_page}"),
                ("text_fa-AF", "لطفاً شمارهٔ پرونده را بفرستید."),
                ("text_ps", ""),
            ],
        )
        .await;
    let case_path = format!("/admin/requests/{reference}");
    let compose = format!("{case_path}/messages");
    let message = |step: &'static str| {
        [
            ("language", "en"),
            ("text", "Which camp are you in? {guidance}"),
            ("status", "awaiting_information"),
            ("step", step),
        ]
    };
    let preview = admin
        .post(&app, &case_path, &compose, &message("preview"))
        .await;
    assert_eq!(preview.status(), 200);
    pages.push(("case-message-preview", preview.text().await.unwrap()));
    admin
        .post(&app, &case_path, &compose, &message("send"))
        .await;
    let answered = app
        .raw
        .post(app.url("/status/answer"))
        .form(&[
            ("reference", reference.as_str()),
            ("code", code.as_str()),
            ("answer", "Nasir Bagh."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 200);
    pages.push(("status-answered", answered.text().await.unwrap()));
    let refused = app
        .raw
        .post(app.url("/status/answer"))
        .form(&[
            ("reference", reference.as_str()),
            ("code", code.as_str()),
            ("answer", " "),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    pages.push(("status-answer-refused", refused.text().await.unwrap()));
    let staff_get = |path: String| {
        let admin = &admin;
        let app = &app;
        async move {
            let resp = admin.get(app, &path).await;
            assert_eq!(resp.status(), 200, "{path}");
            resp.text().await.unwrap()
        }
    };
    let case = staff_get(format!("/admin/requests/{reference}")).await;
    assert!(
        case.contains("class=\"compare\""),
        "the case page compares a duplicate"
    );
    pages.push(("case", case));
    pages.push((
        "case-without-duplicates",
        staff_get(format!("/admin/requests/{other}")).await,
    ));
    pages.push(("dashboard", staff_get("/admin".into()).await));
    pages.push(("queues", staff_get("/admin/queues".into()).await));
    let queue = staff_get("/admin/queues/triage".into()).await;
    assert!(queue.contains(&other), "the triage queue lists a case");
    pages.push(("queue", queue));
    let empty = staff_get("/admin/queues/consular".into()).await;
    assert!(
        empty.contains("No cases match."),
        "the consular queue is empty"
    );
    pages.push(("queue-empty", empty));
    pages.push((
        "search-empty",
        staff_get("/admin/cases?q=nobody".into()).await,
    ));
    // Mail taken in: a request with a file from its mail, and mail that could not be read.
    let mailed = crate::mail_in::deliver(
        &app,
        "nested.eml",
        &crate::mail_in::corpus("nested_attachment.eml", &[]),
    )
    .await;
    crate::mail_in::deliver(
        &app,
        "broken.eml",
        &crate::mail_in::corpus("broken_boundary.eml", &[]),
    )
    .await;
    let mailed_reference = {
        let id = mailed.request_id.unwrap();
        app.db(move |c| {
            Ok(case_triage::db::requests::find_by_ids(c, &[id])?
                .remove(0)
                .reference)
        })
        .await
    };
    pages.push((
        "case-with-files",
        staff_get(format!("/admin/requests/{mailed_reference}")).await,
    ));
    for (name, path) in [
        ("unreadable-mail", "/admin/mail/unreadable"),
        ("walk-in", "/admin/requests/new"),
        ("walk-in-list", "/admin/requests/upload"),
        ("rules", "/admin/rules"),
        ("guidance", "/admin/guidance"),
        ("replies", "/admin/replies"),
        ("queue-settings", "/admin/queue-settings"),
        ("users", "/admin/users"),
        ("partners", "/admin/partners"),
        ("outbox", "/admin/outbox"),
        ("outbox-empty", "/admin/outbox?status=dead"),
        ("audit", "/admin/audit"),
        ("account", "/admin/account"),
    ] {
        pages.push((name, staff_get(path.into()).await));
    }

    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, body) in &pages {
        let file = dir.path().join(format!("{name}.html"));
        std::fs::write(&file, body).unwrap();
        files.push(file);
    }
    let output = actix_web::rt::task::spawn_blocking(move || {
        Command::new("java")
            .arg("-jar")
            .arg(jar)
            .args(["--errors-only", "--format", "json"])
            .args(&files)
            .output()
    })
    .await
    .unwrap()
    .expect("java runs");
    // vnu writes its report to stderr and exits 1 when it found errors.
    let report: serde_json::Value = serde_json::from_slice(&output.stderr).unwrap_or_else(|e| {
        panic!(
            "vnu's report is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let problems: Vec<String> = report["messages"]
        .as_array()
        .expect("a list of messages")
        .iter()
        .map(|m| {
            let file = m["url"].as_str().unwrap_or_default();
            let page = file.rsplit('/').next().unwrap_or(file);
            format!(
                "{page}:{}: {}: {}\n    {}",
                m["lastLine"],
                m["type"].as_str().unwrap_or_default(),
                m["message"].as_str().unwrap_or_default(),
                m["extract"].as_str().unwrap_or_default().replace('\n', " "),
            )
        })
        .collect();
    assert!(
        problems.is_empty() && output.status.success(),
        "the HTML validator found {} problems in {} pages:\n{}",
        problems.len(),
        pages.len(),
        problems.join("\n")
    );
    println!("{} pages are valid HTML", pages.len());
}
