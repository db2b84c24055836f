//! Partner webhooks: an admin gives a partner a webhook URL and gets its signing secret once;
//! status changes of that partner's requests reach a real HTTP receiver, signed, once each,
//! and are retried through the outbox while the receiver fails.

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::helpers::{StaffClient, TestApp};
use crate::on_both_backends;
use crate::partners::{distinct_request, partner_with_token, post_with, shown_once};
use case_triage::db;

/// One POST the receiver got, and what it answered.
#[derive(Debug, Clone)]
struct Delivery {
    headers: HashMap<String, String>,
    body: String,
    answered: u16,
}

/// A partner's HTTP endpoint on loopback: records every request and answers with the
/// status it is told to.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Delivery>>>,
    answer: Arc<AtomicU16>,
    server: actix_web::dev::ServerHandle,
}

impl Receiver {
    fn start(answer: u16) -> Receiver {
        let got = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(AtomicU16::new(answer));
        let (g, a) = (got.clone(), answer.clone());
        let server = HttpServer::new(move || {
            let (g, a) = (g.clone(), a.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: String| {
                let (g, a) = (g.clone(), a.clone());
                async move {
                    let code = a.load(Ordering::SeqCst);
                    let headers = req
                        .headers()
                        .iter()
                        .map(|(k, v)| {
                            (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())
                        })
                        .collect();
                    g.lock().unwrap().push(Delivery {
                        headers,
                        body,
                        answered: code,
                    });
                    HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap())
                        .finish()
                }
            }))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .expect("the receiver binds");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hooks/case-triage"),
            got,
            answer,
            server: handle,
        }
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `done` holds for what was received.
    async fn wait(&self, what: &str, done: impl Fn(&[Delivery]) -> bool) -> Vec<Delivery> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.deliveries();
            if done(&got) {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "never received: {what}: {got:#?}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}

/// Sets the partner's webhook on `/admin/partners`; returns the secret the page shows once.
async fn set_webhook(
    app: &TestApp,
    admin: &StaffClient,
    partner: &str,
    fields: &[(&str, &str)],
) -> String {
    let resp = admin
        .post(
            app,
            "/admin/partners",
            &format!("/admin/partners/{partner}/webhook"),
            fields,
        )
        .await;
    shown_once(resp, "new-webhook-secret").await
}

/// The signature a partner computes to check a delivery, written from the README's recipe.
fn expected_signature(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

on_both_backends! {
    async fn status_changes_reach_the_partners_webhook_signed_and_once(app: TestApp) {
        let receiver = Receiver::start(200);
        let admin = app.staff("admin", &[]).await;
        let (partner, token) = partner_with_token(&app, &admin, "Webhook NGO", "").await;
        let secret = set_webhook(&app, &admin, &partner, &[("webhook_url", &receiver.url)]).await;
        assert!(secret.starts_with("whsec_") && secret.len() > 40, "{secret}");
        let page = admin.get(&app, "/admin/partners").await.text().await.unwrap();
        assert!(page.contains(&receiver.url), "the URL is shown");
        assert!(!page.contains(&secret), "the secret is shown only once");

        let request = distinct_request();
        let name = request["applicant"]["full_name"].as_str().unwrap().to_string();
        let resp = post_with(&app, "/api/v1/requests", &token, &request).await;
        assert_eq!(resp.status(), 201);
        let ours = resp.json::<Value>().await.unwrap()["reference"].as_str().unwrap().to_string();
        // A request the partner did not send: its changes are none of the partner's business.
        let resp = app.post_json("/api/v1/requests", &distinct_request()).await;
        let theirs = resp.json::<Value>().await.unwrap()["reference"].as_str().unwrap().to_string();

        for reference in [&theirs, &ours] {
            let resp = admin.act(&app, reference, &[("action", "status"), ("status", "triaged")]).await;
            assert_eq!(resp.status(), 200, "status change of {reference}");
        }
        // Assigning is no status change: no delivery.
        admin.act(&app, &ours, &[("action", "assign_self")]).await;

        let got = receiver.wait("one delivery", |d| !d.is_empty()).await;
        let d = &got[0];
        assert_eq!(d.headers["content-type"], "application/json");
        assert_eq!(d.headers["x-casetriage-event"], "request.status_changed");
        let timestamp = &d.headers["x-casetriage-timestamp"];
        let sent_at: i64 = timestamp.parse().expect("a Unix time");
        assert!((chrono::Utc::now().timestamp() - sent_at).abs() < 60);
        assert_eq!(d.headers["x-casetriage-signature"], expected_signature(&secret, timestamp, &d.body));
        assert_ne!(d.headers["x-casetriage-signature"], expected_signature("whsec_other", timestamp, &d.body));
        let body: Value = serde_json::from_str(&d.body).unwrap();
        assert_eq!(body["event"], "request.status_changed");
        assert_eq!(body["reference"], ours.as_str());
        assert_eq!(body["status"], "triaged");
        assert_eq!(body["previous_status"], "new");
        assert_eq!(body["delivery_id"], d.headers["x-casetriage-delivery"].as_str());
        assert!(body["occurred_at"].as_str().unwrap().ends_with('Z'));
        assert!(!d.body.contains(&name), "no personal data in a delivery");
        assert!(!d.body.contains(&theirs));

        // The partner's view of the request agrees with the delivery.
        let resp = app
            .raw
            .get(app.url(&format!("/api/v1/requests/{ours}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.json::<Value>().await.unwrap()["status"], "triaged");

        // Closing it sends the next change, in order; nothing else arrives.
        admin.act(&app, &ours, &[("action", "status"), ("status", "resolved")]).await;
        let got = receiver.wait("two deliveries", |d| d.len() >= 2).await;
        let second: Value = serde_json::from_str(&got[1].body).unwrap();
        assert_eq!((second["previous_status"].as_str(), second["status"].as_str()), (Some("triaged"), Some("resolved")));
        actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(receiver.deliveries().len(), 2, "one delivery per change");
        let outbox = app.db(|c| db::outbox::list(c, None, 100)).await;
        let hooks: Vec<_> = outbox.iter().filter(|r| r.kind.as_str() == "webhook.status_changed").collect();
        assert_eq!(hooks.len(), 2);
        assert!(hooks.iter().all(|r| r.status.as_str() == "sent" && r.attempts == 1));
    }

    async fn a_failing_webhook_is_retried_until_it_answers(app: TestApp) {
        let receiver = Receiver::start(500);
        let admin = app.staff("admin", &[]).await;
        let (partner, token) = partner_with_token(&app, &admin, "Flaky NGO", "").await;
        let secret = set_webhook(&app, &admin, &partner, &[("webhook_url", &receiver.url)]).await;
        let resp = post_with(&app, "/api/v1/requests", &token, &distinct_request()).await;
        let reference = resp.json::<Value>().await.unwrap()["reference"].as_str().unwrap().to_string();
        admin.act(&app, &reference, &[("action", "status"), ("status", "triaged")]).await;

        receiver.wait("a failed attempt", |d| !d.is_empty()).await;
        // The failure is recorded for staff, without the partner's address.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let rows = app.db(|c| db::outbox::list(c, None, 100)).await;
            let row = rows.iter().find(|r| r.kind.as_str() == "webhook.status_changed").unwrap();
            if row.last_error.is_some() {
                assert_eq!(row.status.as_str(), "pending");
                assert_eq!(row.last_error.as_deref(), Some("the webhook answered HTTP 500"));
                break;
            }
            assert!(Instant::now() < deadline, "the failure was never recorded");
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        let page = admin.get(&app, "/admin/outbox").await.text().await.unwrap();
        assert!(page.contains("webhook of partner"));
        assert!(page.contains("HTTP 500"));

        receiver.answer.store(200, Ordering::SeqCst);
        let got = receiver.wait("a delivery that succeeds", |d| d.iter().any(|d| d.answered == 200)).await;
        // Every attempt is the same delivery, freshly signed; it succeeds once.
        let id = &got[0].headers["x-casetriage-delivery"];
        assert!(got.iter().all(|d| &d.headers["x-casetriage-delivery"] == id));
        assert!(got.iter().all(|d| d.headers["x-casetriage-signature"]
            == expected_signature(&secret, &d.headers["x-casetriage-timestamp"], &d.body)));
        actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(receiver.deliveries().iter().filter(|d| d.answered == 200).count(), 1);
        let rows = app.db(|c| db::outbox::list(c, None, 100)).await;
        let row = rows.iter().find(|r| r.kind.as_str() == "webhook.status_changed").unwrap();
        assert_eq!(row.status.as_str(), "sent");
        assert_eq!(row.attempts as usize, receiver.deliveries().len());
    }

    async fn admins_set_change_and_remove_webhooks_with_clear_errors(app: TestApp) {
        let app = &app;
        let admin = app.staff("admin", &[]).await;
        let (partner, _) = partner_with_token(app, &admin, "Careful NGO", "").await;
        let webhook = || {
            let partner = partner.clone();
            async move { app.db(move |c| db::partners::find(c, &partner)).await.unwrap() }
        };

        // A bad address is refused, named, kept as typed, and nothing is stored.
        let typed = "partner.example/hooks";
        let resp = admin
            .post(app, "/admin/partners", &format!("/admin/partners/{partner}/webhook"), &[("webhook_url", typed)])
            .await;
        assert_eq!(resp.status(), 422);
        let page = resp.text().await.unwrap();
        assert!(page.contains("Webhook URL:"), "the field is named");
        assert!(page.contains(&format!("value=\"{typed}\"")), "what was typed is kept");
        assert!(!page.contains("new-webhook-secret"));
        assert_eq!(webhook().await.webhook_url, None);

        let first = set_webhook(app, &admin, &partner, &[("webhook_url", "https://partner.example/a")]).await;
        // Changing the URL alone keeps the secret.
        let resp = admin
            .post(app, "/admin/partners", &format!("/admin/partners/{partner}/webhook"), &[("webhook_url", "https://partner.example/b")])
            .await;
        assert_eq!(resp.status(), 200);
        assert!(!resp.text().await.unwrap().contains("new-webhook-secret"));
        let stored = webhook().await;
        assert_eq!(stored.webhook_url.as_deref(), Some("https://partner.example/b"));
        assert_eq!(stored.webhook_secret.as_deref(), Some(first.as_str()));
        // A new secret on request replaces the old one.
        let second = set_webhook(app, &admin, &partner, &[("webhook_url", "https://partner.example/b"), ("new_secret", "on")]).await;
        assert_ne!(second, first);
        assert_eq!(webhook().await.webhook_secret.as_deref(), Some(second.as_str()));

        // Only admins manage partners.
        let lead = app.staff("lead", &[]).await;
        let resp = lead
            .post(app, "/admin", &format!("/admin/partners/{partner}/webhook"), &[("webhook_url", "")])
            .await;
        assert_eq!(resp.status(), 403);
        assert!(webhook().await.webhook_url.is_some());

        // An empty address removes the webhook and its secret.
        let resp = admin
            .post(app, "/admin/partners", &format!("/admin/partners/{partner}/webhook"), &[("webhook_url", "")])
            .await;
        assert_eq!(resp.status(), 200);
        let stored = webhook().await;
        assert_eq!((stored.webhook_url, stored.webhook_secret), (None, None));

        // Each change is in the audit trail.
        let (trail, _) = app.db(|c| db::audit::list(c, &Default::default(), None, 100)).await;
        let actions: Vec<_> = trail.iter().map(|a| a.event.action.as_str()).collect();
        assert_eq!(actions.iter().filter(|a| **a == "partner_webhook_set").count(), 3, "{actions:?}");
        assert_eq!(actions.iter().filter(|a| **a == "partner_webhook_removed").count(), 1, "{actions:?}");
    }
}
