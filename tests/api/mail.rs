//! Mail through a real SMTP server: what requesters and queues receive, and the outbox's
//! promises: mail waits while the server is down, arrives exactly once, dead mail can be
//! retried, several instances never send a mail twice, one digest per day.

use std::collections::HashSet;
use std::time::Duration;

use case_triage::db;
use case_triage::domain::fields::ContactEmail;
use case_triage::domain::{Category, Priority};
use case_triage::email::{self, CaseFacts, Mail};

use crate::helpers::{
    find_reference, spawn_app, spawn_app_with, valid_form, valid_request, with_field, Backend,
    TestApp,
};
use crate::smtp::{Received, SmtpSink};

const WAIT: Duration = Duration::from_secs(40);

crate::for_each_backend!(
    requesters_and_queues_get_their_mail_and_nothing_personal,
    mail_waits_while_the_server_is_down_and_arrives_exactly_once,
    dead_mail_is_visible_and_can_be_retried,
    two_instances_send_each_mail_exactly_once,
    the_digest_is_queued_once_a_day_with_the_days_numbers,
    the_worker_mails_the_digest_to_the_lead_after_the_digest_hour,
    a_failed_outbox_write_stores_no_request,
    staff_actions_mail_the_assignee_and_the_requester,
);

fn to<'a>(mails: &'a [Received], rcpt: &str) -> Vec<&'a Received> {
    mails.iter().filter(|m| m.rcpt_to == rcpt).collect()
}

fn assert_nothing_personal(m: &Received) {
    for part in [&m.subject, &m.text, &m.html, &m.raw] {
        for personal in [
            "Karimi",
            "Ahmad",
            "ISB-2021-555",
            "+93",
            "<script>",
            "alert(1)",
        ] {
            assert!(
                !part.contains(personal),
                "{personal:?} in mail {:?}",
                m.subject
            );
        }
    }
}

async fn outbox(app: &TestApp) -> Vec<db::outbox::OutboxRow> {
    app.db(|c| db::outbox::list(c, None, 1000)).await
}

/// Waits until `done` holds for the outbox rows.
async fn wait_outbox(app: &TestApp, what: &str, done: impl Fn(&[db::outbox::OutboxRow]) -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let rows = outbox(app).await;
        if done(&rows) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "outbox never reached: {what}: {rows:#?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn requesters_and_queues_get_their_mail_and_nothing_personal(backend: Backend) {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    // Nobody polls during the test: only the wake-up after a commit sends the mail now.
    let Some(app) = spawn_app_with(backend, |s| {
        s.mail.smtp_url = Some(sink.url().into());
        s.mail.poll = Duration::from_secs(3600);
    })
    .await
    else {
        return;
    };

    let form = with_field(valid_form(), "applicant_email", "requester@example.org");
    let form = with_field(form, "description", "<script>alert(1)</script> please help");
    let page = app.post_form(&form).await;
    assert_eq!(page.status(), 200);
    let form_ref = find_reference(&page.text().await.unwrap()).unwrap();

    let mut body = valid_request();
    body["submitter"] = serde_json::json!({"kind": "organization", "organization": "Example NGO", "email": "intake@ngo.example"});
    body["urgent"] = serde_json::json!({"danger": true, "medical": false});
    let resp = app.post_json("/api/v1/requests", &body).await;
    assert_eq!(resp.status(), 201);
    let api_ref = resp.json::<serde_json::Value>().await.unwrap()["reference"]
        .as_str()
        .unwrap()
        .to_string();

    // The urgent request also pages its desk (nobody is on duty: the desk's list).
    let mails = sink.wait_for(5, WAIT).await;
    assert_eq!(mails.len(), 5, "{mails:#?}");
    for m in &mails {
        assert_nothing_personal(m);
        assert!(
            m.from.contains("<no-reply@taskforce.example>"),
            "{}",
            m.from
        );
        assert_eq!(m.to, m.rcpt_to);
    }

    let ack = to(&mails, "requester@example.org");
    assert_eq!(ack.len(), 1);
    let ack = ack[0];
    assert_eq!(
        ack.subject,
        format!("Your request {form_ref} has been received")
    );
    for part in [&ack.text, &ack.html] {
        assert!(part.contains(&form_ref));
        assert!(part.contains("Special Immigrant Visa in process"));
        assert!(part.contains("National Visa Center"), "the SIV guidance");
        assert!(
            part.contains("The SIV desk will check where your case stands"),
            "what happens next"
        );
    }

    let notice = to(&mails, "siv@taskforce.example");
    assert_eq!(notice.len(), 1);
    let notice = notice[0];
    assert_eq!(
        notice.subject,
        "New request on SIV desk: Special Immigrant Visa in process"
    );
    let link = format!(
        "{}/admin/requests/{form_ref}",
        app.settings.base_url.as_str().trim_end_matches('/')
    );
    assert!(notice.text.contains(&link), "{}", notice.text);
    assert!(notice.html.contains(&format!("href=\"{link}\"")));
    assert!(notice.text.contains("Priority:  Normal"));

    let (pages, urgent): (Vec<&Received>, Vec<&Received>) = to(&mails, "urgent@taskforce.example")
        .into_iter()
        .partition(|m| m.subject.starts_with("[PAGE]"));
    assert_eq!(pages.len(), 1);
    assert!(!pages[0].subject.contains(&api_ref), "{}", pages[0].subject);
    assert_eq!(urgent.len(), 1);
    assert!(
        urgent[0].subject.starts_with("[URGENT] New request on "),
        "{}",
        urgent[0].subject
    );
    // A staff subject names no reference: beside the queue, category and urgency it would
    // tell anyone who sees the subject what the person asked for.
    assert!(
        !urgent[0].subject.contains(&api_ref),
        "{}",
        urgent[0].subject
    );
    let partner_ack = to(&mails, "intake@ngo.example");
    assert_eq!(partner_ack.len(), 1);
    assert!(partner_ack[0]
        .text
        .contains("Urgent protection or medical need"));

    let rows = outbox(&app).await;
    assert!(
        rows.iter()
            .all(|r| r.status.as_str() == "sent" && r.attempts == 1),
        "{rows:#?}"
    );
}

async fn mail_waits_while_the_server_is_down_and_arrives_exactly_once(backend: Backend) {
    let Some(mut sink) = SmtpSink::down() else {
        return;
    };
    let Some(app) = spawn_app_with(backend, |s| s.mail.smtp_url = Some(sink.url().into())).await
    else {
        return;
    };

    let form = with_field(valid_form(), "applicant_email", "requester@example.org");
    assert_eq!(app.post_form(&form).await.status(), 200);
    let mut body = valid_request();
    body["applicant"]["email"] = serde_json::json!("other@example.org");
    assert_eq!(app.post_json("/api/v1/requests", &body).await.status(), 201);
    assert_eq!(app.request_count().await, 2);

    wait_outbox(&app, "every mail tried and failed", |rows| {
        rows.len() == 4
            && rows.iter().all(|r| {
                r.status.as_str() == "pending" && r.attempts >= 1 && r.last_error.is_some()
            })
    })
    .await;
    for row in outbox(&app).await {
        let error = row.last_error.unwrap();
        assert!(
            error.starts_with("could not reach the mail server"),
            "{error}"
        );
        assert!(!error.contains('@'), "no address in stored errors: {error}");
    }

    sink.up();
    let mails = sink.wait_for(4, WAIT).await;
    assert_eq!(mails.len(), 4, "every mail exactly once: {mails:#?}");
    let ids: HashSet<_> = mails.iter().map(|m| m.message_id.clone()).collect();
    assert_eq!(ids.len(), 4);
    wait_outbox(&app, "all sent", |rows| {
        rows.iter().all(|r| r.status.as_str() == "sent")
    })
    .await;
}

fn binary(app: &TestApp) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_case-triage"));
    cmd.env_clear()
        .env("DATA_DIR", app.dir.path())
        .env("DATABASE_URL", app.database_url())
        .env("LOG", "warn");
    cmd
}

fn run(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().expect("run the binary");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn dead_mail_is_visible_and_can_be_retried(backend: Backend) {
    let Some(mut sink) = SmtpSink::down() else {
        return;
    };
    let Some(app) = spawn_app_with(backend, |s| {
        s.mail.smtp_url = Some(sink.url().into());
        s.mail.max_attempts = 2;
    })
    .await
    else {
        return;
    };
    let mut body = valid_request();
    body["applicant"]["email"] = serde_json::json!("requester@example.org");
    assert_eq!(app.post_json("/api/v1/requests", &body).await.status(), 201);

    wait_outbox(&app, "both mails dead", |rows| {
        rows.len() == 2
            && rows
                .iter()
                .all(|r| r.status.as_str() == "dead" && r.attempts == 2)
    })
    .await;
    let counts = app.db(db::outbox::counts).await;
    assert_eq!((counts.pending, counts.sent, counts.dead), (0, 0, 2));

    // Staff see the dead mail, recipients masked.
    let listed = run(binary(&app).args(["outbox", "list", "--status", "dead"]));
    assert!(listed.contains("r***@example.org"), "{listed}");
    assert!(listed.contains("t***@taskforce.example"), "{listed}");
    assert!(!listed.contains("requester@"), "{listed}");
    assert!(
        listed.contains("could not reach the mail server"),
        "{listed}"
    );
    assert!(listed.contains("pending 0, sent 0, dead 2"), "{listed}");

    sink.up();
    let rows = outbox(&app).await;
    let ack = rows
        .iter()
        .find(|r| r.kind.as_str() == "acknowledgment")
        .unwrap();
    let retried = run(binary(&app).args(["outbox", "retry", &ack.id]));
    assert!(retried.contains("queued again"), "{retried}");
    let mails = sink.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].rcpt_to, "requester@example.org");

    let retried = run(binary(&app).args(["outbox", "retry", "--all-dead"]));
    assert!(retried.contains("1 dead mail(s) queued again"), "{retried}");
    let mails = sink.wait_for(2, WAIT).await;
    assert_eq!(mails.len(), 2);
    wait_outbox(&app, "all sent", |rows| {
        rows.iter().all(|r| r.status.as_str() == "sent")
    })
    .await;

    let out = binary(&app)
        .args(["outbox", "retry", "no-such-id"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

async fn two_instances_send_each_mail_exactly_once(backend: Backend) {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(first) = spawn_app_with(backend, |s| s.mail.smtp_url = Some(sink.url().into())).await
    else {
        return;
    };
    let second = first.spawn_sibling().await;

    // Thirty mails committed at once, then both workers woken together.
    const N: usize = 30;
    let settings = first.settings.clone();
    first
        .db(move |conn| {
            let now = chrono::Utc::now();
            for i in 0..N {
                let mail = Mail::Assigned {
                    to: ContactEmail::parse(&format!("caseworker{i}@taskforce.example")).unwrap(),
                    case: CaseFacts {
                        request_id: format!("r{i}"),
                        reference: "TF-7K3M-9QXD".into(),
                        category: Category::Other,
                        priority: Priority::Normal,
                        queue_name: "Task force — triage".into(),
                    },
                };
                email::enqueue(conn, &settings, &mail, now).map_err(|e| match e {
                    email::MailError::Db(db) => db,
                    other => panic!("{other}"),
                })?;
            }
            Ok(())
        })
        .await;
    first.mail.wake();
    second.mail.wake();

    let mails = sink.wait_for(N, WAIT).await;
    assert_eq!(mails.len(), N, "each mail exactly once");
    let recipients: HashSet<_> = mails.iter().map(|m| m.rcpt_to.clone()).collect();
    assert_eq!(recipients.len(), N);
    wait_outbox(&first, "all sent once", |rows| {
        rows.iter()
            .filter(|r| r.kind.as_str() == "assigned")
            .all(|r| r.status.as_str() == "sent" && r.attempts == 1)
    })
    .await;
}

async fn the_digest_is_queued_once_a_day_with_the_days_numbers(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let second = app.spawn_sibling().await;
    for (siv, danger) in [("in_process", false), ("in_process", false), ("none", true)] {
        let mut body = valid_request();
        body["siv"]["status"] = serde_json::json!(siv);
        body["urgent"]["danger"] = serde_json::json!(danger);
        assert_eq!(app.post_json("/api/v1/requests", &body).await.status(), 201);
    }
    // Twenty hours on: the requests are within the last 24 hours and have waited that long.
    let at = chrono::Utc::now() + chrono::Duration::hours(20);
    let key = format!("digest:{}", at.date_naive());
    let queue = |app: &TestApp| {
        let settings = app.settings.clone();
        let pool = app.pool.clone();
        async move {
            db::run_as(&pool, move |conn| {
                let outlook = case_triage::app::forecast::digest_outlook(&settings);
                email::digest::enqueue_daily(conn, &settings, at, &outlook)
            })
            .await
        }
    };
    // Two instances at the same moment, then one of them again.
    let (a, b) = futures_util::future::join(queue(&app), queue(&second)).await;
    let again = queue(&app).await.unwrap();
    assert_eq!(
        [a.unwrap(), b.unwrap(), again]
            .iter()
            .filter(|q| **q)
            .count(),
        1,
        "exactly one call queues the digest"
    );

    let digests: Vec<_> = outbox(&app)
        .await
        .into_iter()
        .filter(|r| r.dedup_key.as_deref() == Some(key.as_str()))
        .collect();
    assert_eq!(digests.len(), 1);
    let digest = &digests[0];
    assert_eq!(digest.recipient, "lead@taskforce.example");
    assert_eq!(
        digest.subject,
        format!("Task force digest {}: 3 new, 3 open", at.date_naive())
    );
    assert!(
        digest
            .body_text
            .contains("  Urgent protection or medical need: 1\n"),
        "{}",
        digest.body_text
    );
    assert!(digest
        .body_text
        .contains("  Special Immigrant Visa in process: 2\n"));
    assert!(digest.body_text.contains("  SIV desk: 2\n"));
    // Each queue's outlook, from the dashboard's forecast.
    assert!(digest
        .body_text
        .contains("Where the backlog is heading, at the recent pace:"));
    assert!(
        digest.body_text.contains("  SIV desk: 2 open, about "),
        "{}",
        digest.body_text
    );
    assert!(digest.body_html.contains("Where the backlog is heading"));
    assert!(digest.body_text.contains("  Urgent protection desk: 1\n"));
    assert!(digest
        .body_text
        .contains("  Consular desk (AMCIT / LPR): 0\n"));
    assert!(
        digest.body_text.contains("Oldest open request: 19 hours")
            || digest.body_text.contains("Oldest open request: 20 hours"),
        "{}",
        digest.body_text
    );
}

async fn the_worker_mails_the_digest_to_the_lead_after_the_digest_hour(backend: Backend) {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(app) = spawn_app_with(backend, |s| {
        s.mail.smtp_url = Some(sink.url().into());
        s.mail.digest_hour = Some(0);
    })
    .await
    else {
        return;
    };
    let second = app.spawn_sibling().await;
    second.mail.wake();
    let mails = sink.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1, "one digest from two instances");
    let digest = &mails[0];
    assert_eq!(digest.rcpt_to, "lead@taskforce.example");
    let today = chrono::Utc::now().date_naive();
    assert_eq!(
        digest.subject,
        format!("Task force digest {today}: 0 new, 0 open")
    );
    assert!(digest.text.contains("Oldest open request: none open"));
    assert!(digest.html.contains("Open requests (backlog): 0"));
}

async fn a_failed_outbox_write_stores_no_request(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.db(|conn| {
        use diesel::connection::SimpleConnection;
        conn.batch_execute("DROP TABLE outbox")?;
        Ok(())
    })
    .await;
    let resp = app.post_json("/api/v1/requests", &valid_request()).await;
    assert_eq!(resp.status(), 500);
    assert_eq!(
        app.request_count().await,
        0,
        "the request is rolled back with its mail"
    );
}

async fn staff_actions_mail_the_assignee_and_the_requester(backend: Backend) {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(app) = spawn_app_with(backend, |s| {
        s.mail.smtp_url = Some(sink.url().into());
        s.mail.poll = Duration::from_secs(3600);
    })
    .await
    else {
        return;
    };
    let reference = app
        .submit(serde_json::json!({"email": "family@example.org"}))
        .await;
    // Acknowledgment and the triage queue's notice.
    sink.wait_for(2, WAIT).await;

    let lead = app.staff("lead", &[]).await;
    let (worker_id, worker_email, _) = app.create_staff("caseworker", &["triage"]).await;
    let resp = lead
        .act(
            &app,
            &reference,
            &[("action", "assign"), ("assignee", worker_id.as_str())],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let resp = lead
        .act(
            &app,
            &reference,
            &[
                ("action", "status"),
                ("status", "referred_out"),
                ("referral_partner", "UNHCR"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);

    let mails = sink.wait_for(4, WAIT).await;
    assert_eq!(mails.len(), 4, "{mails:#?}");
    let assigned = to(&mails, &worker_email);
    assert_eq!(assigned.len(), 1);
    assert!(
        assigned[0].subject.ends_with("has been assigned to you"),
        "{}",
        assigned[0].subject
    );
    assert!(assigned[0]
        .text
        .contains(&format!("/admin/requests/{reference}")));
    let family = to(&mails, "family@example.org");
    assert_eq!(family.len(), 2, "acknowledgment, then the referral");
    let referred = family
        .iter()
        .find(|m| m.message_id != family[0].message_id || m.subject != family[0].subject)
        .unwrap();
    assert!(referred.subject.contains(&reference));
    for m in &mails {
        assert!(!m.raw.contains("UNHCR Islamabad"));
        assert!(!m.subject.contains("Karimi"));
    }
    // Assigning oneself sends nothing.
    let worker = app.staff("caseworker", &["triage"]).await;
    let other = app.submit(serde_json::json!({})).await;
    worker.act(&app, &other, &[("action", "assign_self")]).await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sink.messages().len(),
        5,
        "only the new request's queue notice"
    );
}

#[actix_web::test]
async fn staff_see_dead_mail_in_the_outbox_page_and_retry_it() {
    let Some(app) = spawn_app_with(Backend::Sqlite, |s| {
        s.mail.smtp_url = Some("smtp://127.0.0.1:9".to_string().into());
        s.mail.max_attempts = 1;
        s.mail.poll = Duration::from_millis(200);
    })
    .await
    else {
        return;
    };
    app.submit(serde_json::json!({"email": "family@example.org"}))
        .await;
    wait_outbox(&app, "every mail dead", |rows| {
        !rows.is_empty() && rows.iter().all(|r| r.status.as_str() == "dead")
    })
    .await;
    let worker = app.staff("caseworker", &["triage"]).await;
    assert_eq!(worker.get(&app, "/admin/outbox").await.status(), 403);
    let lead = app.staff("lead", &[]).await;
    let page = lead
        .get(&app, "/admin/outbox?status=dead")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("<strong id=\"dead\">2</strong>"), "{page}");
    assert!(page.contains("f***@example.org"), "recipients are masked");
    assert!(!page.contains("family@example.org"));
    let resp = lead
        .post(
            &app,
            "/admin/outbox",
            "/admin/outbox/retry",
            &[("all_dead", "yes")],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let rows = outbox(&app).await;
    assert!(rows
        .iter()
        .all(|r| r.status.as_str() != "dead" || r.attempts >= 1));
    assert!(rows
        .iter()
        .any(|r| r.attempts == 0 || r.status.as_str() == "pending" || r.status.as_str() == "dead"));
}
