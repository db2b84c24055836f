//! Someone in danger is never left waiting: an urgent request pages the person on duty, again,
//! the next person, then the leads, through a real SMTP server, until someone takes the case.
//! Time moves by the app's clock, never by sleeping through minutes.

use std::time::Duration;

use case_triage::db;
use chrono::Duration as Minutes;
use serde_json::json;

use crate::browser_support;
use crate::helpers::{spawn_app_with, Backend, StaffClient, TestApp};
use crate::smtp::{Received, SmtpSink};

const WAIT: Duration = Duration::from_secs(40);
const DESK: &str = "urgent-protection";

crate::for_each_backend!(
    an_urgent_request_pages_on_duty_again_the_next_person_then_the_leads,
    taking_the_case_between_steps_stops_every_later_page,
    a_page_still_queued_when_someone_acknowledges_never_goes_out,
    a_restart_mid_escalation_continues_with_no_lost_and_no_doubled_page,
    two_instances_send_each_page_once,
    re_categorizing_out_of_urgent_stops_paging_and_into_urgent_starts_it,
    the_pages_link_needs_a_login_works_once_and_says_when_it_is_used_or_expired,
    warnings_fire_once_before_and_once_at_the_breach,
    a_rota_that_cannot_work_is_refused_naming_the_problem,
);

/// An instance that sends mail to `sink` and runs escalation rounds only when woken (at
/// start, after an urgent commit) or when a test asks: the test decides when time passes.
async fn app_with(backend: Backend, sink: &SmtpSink) -> Option<TestApp> {
    let url = sink.url();
    spawn_app_with(backend, move |s| {
        s.mail.smtp_url = Some(url.into());
        s.escalation.poll = Duration::from_secs(3600);
    })
    .await
}

struct Officer {
    client: StaffClient,
    email: String,
    password: String,
}

/// A caseworker of the urgent desk, logged in, who says they are on duty.
async fn officer_on_duty(app: &TestApp) -> Officer {
    let (client, email, password) = app.staff_with_login("caseworker", &[DESK]).await;
    let resp = client
        .post(
            app,
            "/admin/duty",
            "/admin/duty",
            &[("queue", DESK), ("duty", "on")],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains(&format!("id=\"duty-{DESK}\">on duty")),
        "{page}"
    );
    // Marked one after the other: the first is paged first.
    app.clock.advance(Minutes::seconds(1));
    Officer {
        client,
        email,
        password,
    }
}

async fn urgent_request(app: &TestApp) -> String {
    app.submit(json!({"urgent": {"danger": true, "medical": false}}))
        .await
}

fn pages(mails: &[Received]) -> Vec<&Received> {
    mails
        .iter()
        .filter(|m| m.subject.starts_with("[PAGE]"))
        .collect()
}

/// The recipients of the pages so far, in the order they arrived, once `expected` have
/// (and a moment more, to catch one too many).
async fn paged(sink: &SmtpSink, expected: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + WAIT;
    while pages(&sink.messages()).len() < expected {
        assert!(
            std::time::Instant::now() < deadline,
            "expected {expected} pages, got {}",
            pages(&sink.messages()).len()
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    let mails = sink.messages();
    let pages = pages(&mails);
    assert_eq!(pages.len(), expected, "{pages:#?}");
    pages.iter().map(|m| m.rcpt_to.clone()).collect()
}

async fn metrics(app: &TestApp) -> String {
    let resp = app.raw.get(app.url("/metrics")).send().await.unwrap();
    resp.text().await.unwrap()
}

async fn advance_and_round(app: &TestApp, minutes: i64) {
    app.clock.advance(Minutes::minutes(minutes));
    app.escalator.round().await.expect("an escalation round");
}

async fn page_rows(app: &TestApp) -> Vec<db::outbox::OutboxRow> {
    let rows = app.db(|c| db::outbox::list(c, None, 1000)).await;
    rows.into_iter()
        .filter(|r| r.kind == db::outbox::OutboxKind::Page)
        .collect()
}

/// The page's link, on `app` (the mail's links are on `BASE_URL`, the bind address).
fn link_in(app: &TestApp, mail: &Received) -> String {
    let at = mail.text.find("http").expect("a link in the page");
    let rest = &mail.text[at..];
    let link = &rest[..rest.find(char::is_whitespace).unwrap_or(rest.len())];
    let path = &link[link.find("/admin/pages/").expect("a page link")..];
    app.url(path)
}

async fn an_urgent_request_pages_on_duty_again_the_next_person_then_the_leads(backend: Backend) {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(app) = app_with(backend, &sink).await else {
        return;
    };
    let (_, lead, _) = app.create_staff("lead", &[]).await;
    let first = officer_on_duty(&app).await;
    let second = officer_on_duty(&app).await;

    let reference = urgent_request(&app).await;
    // At once: the officer on duty.
    assert_eq!(paged(&sink, 1).await[0], first.email);
    let page = pages(&sink.messages())[0].clone();
    // Like every staff subject, it names no reference (the body does).
    assert_eq!(
        page.subject,
        "[PAGE] An urgent request on Urgent protection desk waits for someone to take it (0 minutes)"
    );
    for part in [&page.text, &page.html] {
        assert!(part.contains(&reference));
        assert!(part.contains("Urgent protection desk"));
        assert!(part.contains("Urgent"), "the priority");
        assert!(part.contains("Waiting"), "how long it has waited");
        assert!(part.contains("/admin/pages/"), "the link");
        for personal in ["+93", "Ahmad", "Karimi", "1990"] {
            assert!(!part.contains(personal), "{personal} in a page");
        }
    }
    assert!(
        !link_in(&app, &page).contains(&reference),
        "no reference in the link"
    );

    // Nothing before the wait is over; again after it.
    advance_and_round(&app, 14).await;
    assert_eq!(paged(&sink, 1).await.len(), 1);
    advance_and_round(&app, 1).await;
    assert_eq!(paged(&sink, 2).await[1], first.email);
    // Then the next person on duty, then the leads.
    advance_and_round(&app, 15).await;
    assert_eq!(paged(&sink, 3).await[2], second.email);
    advance_and_round(&app, 15).await;
    assert_eq!(paged(&sink, 4).await[3], lead);
    // And no more.
    advance_and_round(&app, 120).await;
    assert_eq!(paged(&sink, 4).await.len(), 4);
    let rows = page_rows(&app).await;
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.sent_at.is_some()));

    // The leads' page shows the escalation and its history.
    let lead_client = app.staff("lead", &[]).await;
    let overview = lead_client
        .get(&app, "/admin/escalations")
        .await
        .text()
        .await
        .unwrap();
    assert!(overview.contains(&reference));
    assert!(overview.contains("waiting for someone"));
    assert!(overview.contains("the next person on duty"));
    assert!(overview.contains("none (the leads were notified)"));
    let dashboard = lead_client.get(&app, "/admin").await.text().await.unwrap();
    assert!(dashboard.contains(&reference), "the dashboard's top list");
    let metrics = metrics(&app).await;
    assert!(
        metrics.contains("case_triage_escalation_pages_total"),
        "{metrics}"
    );
}

async fn taking_the_case_between_steps_stops_every_later_page(backend: Backend) {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(app) = app_with(backend, &sink).await else {
        return;
    };
    app.create_staff("lead", &[]).await;
    let officer = officer_on_duty(&app).await;
    let reference = urgent_request(&app).await;
    paged(&sink, 1).await;
    advance_and_round(&app, 15).await;
    paged(&sink, 2).await;

    let case_page = officer
        .client
        .get(&app, &format!("/admin/requests/{reference}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        case_page.contains("id=\"acknowledge\""),
        "the Acknowledge button"
    );
    let resp = officer
        .client
        .act(&app, &reference, &[("action", "assign_self")])
        .await;
    assert_eq!(resp.status(), 200);
    let case_page = resp.text().await.unwrap();
    assert!(!case_page.contains("id=\"acknowledge\""));
    assert!(case_page.contains("escalation acknowledged by taking the case"));

    for _ in 0..4 {
        advance_and_round(&app, 30).await;
    }
    assert_eq!(
        paged(&sink, 2).await.len(),
        2,
        "no page after the acknowledgment"
    );
    let rows = page_rows(&app).await;
    assert_eq!(rows.len(), 2, "no later page in the outbox either");
    let metrics = metrics(&app).await;
    assert!(metrics.contains("case_triage_escalation_time_to_acknowledge_seconds_count 1"));
}

async fn a_page_still_queued_when_someone_acknowledges_never_goes_out(backend: Backend) {
    // The mail server is down: the first page waits in the outbox.
    let Some(mut sink) = SmtpSink::down() else {
        return;
    };
    let Some(app) = app_with(backend, &sink).await else {
        return;
    };
    let officer = officer_on_duty(&app).await;
    let reference = urgent_request(&app).await;
    let deadline = std::time::Instant::now() + WAIT;
    while page_rows(&app).await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "no page queued");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }

    let resp = officer
        .client
        .post(
            &app,
            &format!("/admin/requests/{reference}"),
            &format!("/admin/requests/{reference}/acknowledge"),
            &[],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let case_page = resp.text().await.unwrap();
    assert!(case_page.contains("escalation acknowledged on the case page"));
    assert!(case_page.contains("1 queued page(s) cancelled"));
    assert!(page_rows(&app).await.is_empty(), "the queued page is gone");

    advance_and_round(&app, 60).await;
    sink.up();
    app.mail.wake();
    // The desk's new-request notice still arrives; no page does.
    let mails = sink.wait_for(1, WAIT).await;
    assert!(pages(&mails).is_empty(), "{mails:#?}");
    assert!(page_rows(&app).await.is_empty());
}

async fn a_restart_mid_escalation_continues_with_no_lost_and_no_doubled_page(backend: Backend) {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(app) = app_with(backend, &sink).await else {
        return;
    };
    let officer = officer_on_duty(&app).await;
    urgent_request(&app).await;
    paged(&sink, 1).await;

    // The instance stops; the second page falls due while nothing runs.
    app.stopper.stop(true).await;
    app.clock.advance(Minutes::minutes(20));
    let restarted = app.spawn_sibling().await;
    // Right after the start, once.
    assert_eq!(
        paged(&sink, 2).await,
        [officer.email.clone(), officer.email.clone()]
    );
    restarted.escalator.round().await.unwrap();
    assert_eq!(paged(&sink, 2).await.len(), 2, "not sent twice");
    // The next wait counts from the page sent after the restart.
    advance_and_round(&restarted, 14).await;
    assert_eq!(paged(&sink, 2).await.len(), 2);
    advance_and_round(&restarted, 1).await;
    assert_eq!(paged(&sink, 3).await.len(), 3);
}

async fn two_instances_send_each_page_once(backend: Backend) {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(app) = app_with(backend, &sink).await else {
        return;
    };
    let other = app.spawn_sibling().await;
    app.create_staff("lead", &[]).await;
    officer_on_duty(&app).await;
    officer_on_duty(&app).await;
    for _ in 0..3 {
        urgent_request(&app).await;
    }
    paged(&sink, 3).await;
    for step in 2..=4 {
        app.clock.advance(Minutes::minutes(15));
        let (a, b) =
            futures_util::future::join(app.escalator.round(), other.escalator.round()).await;
        let sent = a.unwrap().pages + b.unwrap().pages;
        assert_eq!(sent, 3, "step {step}: one page per request in all");
        assert_eq!(paged(&sink, 3 * step).await.len(), 3 * step);
    }
    assert_eq!(page_rows(&app).await.len(), 12);
}

async fn re_categorizing_out_of_urgent_stops_paging_and_into_urgent_starts_it(backend: Backend) {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(app) = app_with(backend, &sink).await else {
        return;
    };
    let officer = officer_on_duty(&app).await;
    let lead = app.staff("lead", &[]).await;
    let reference = urgent_request(&app).await;
    paged(&sink, 1).await;
    let resp = lead
        .act(
            &app,
            &reference,
            &[
                ("action", "recategorize"),
                ("category", "no_referral"),
                ("reason", "no danger after all"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("escalation stopped by re-categorizing"));
    advance_and_round(&app, 60).await;
    assert_eq!(paged(&sink, 1).await.len(), 1);

    let resp = lead
        .act(
            &app,
            &reference,
            &[
                ("action", "recategorize"),
                ("category", "urgent_protection"),
                ("reason", "danger after all"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(paged(&sink, 2).await[1], officer.email);
}

async fn the_pages_link_needs_a_login_works_once_and_says_when_it_is_used_or_expired(
    backend: Backend,
) {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(app) = app_with(backend, &sink).await else {
        return;
    };
    let officer = officer_on_duty(&app).await;
    let reference = urgent_request(&app).await;
    paged(&sink, 1).await;
    let link = link_in(&app, pages(&sink.messages())[0]);

    // Logged out: the login page, which comes back to the link.
    let resp = app.raw.get(&link).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let login = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(
        login.starts_with("/admin/login?next=%2Fadmin%2Fpages%2F"),
        "{login}"
    );
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let form = browser
        .get(app.url(&login))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::helpers::csrf_of(&form);
    let next = form
        .split("name=\"next\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the login form carries where to go next")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let landing = browser
        .post(app.url("/admin/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", officer.email.as_str()),
            ("password", officer.password.as_str()),
            ("next", next.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(landing.status(), 200);
    assert!(landing.url().path().starts_with("/admin/pages/"));
    let landing = landing.text().await.unwrap();
    assert!(landing.contains("I take this case"), "{landing}");
    assert!(landing.contains(&reference));

    // A link whose signature was changed is refused.
    let last = if link.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &link[..link.len() - 1]);
    let resp = browser.get(&forged).send().await.unwrap();
    assert_eq!(resp.status(), 410);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("This link is not valid"));

    // "I take this case": acknowledged, assigned, on the timeline.
    let csrf = crate::helpers::csrf_of(&landing);
    let (page_path, query) = link[app.address.len()..].split_once('?').unwrap();
    let until = query
        .split('&')
        .find_map(|p| p.strip_prefix("until="))
        .unwrap();
    let sig = query
        .split('&')
        .find_map(|p| p.strip_prefix("sig="))
        .unwrap();
    let taken = browser
        .post(app.url(page_path))
        .form(&[("csrf", csrf), ("until", until.into()), ("sig", sig.into())])
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), 200);
    assert_eq!(taken.url().path(), format!("/admin/requests/{reference}"));
    let case_page = taken.text().await.unwrap();
    assert!(
        case_page.contains("escalation acknowledged with the page&#39;s link")
            || case_page.contains("escalation acknowledged with the page's link")
    );
    assert!(
        case_page.contains("id=\"assignee\">Staff Caseworker"),
        "assigned"
    );

    // Used: it says so, and offers the case page.
    let again = browser.get(&link).send().await.unwrap();
    assert_eq!(again.status(), 410);
    let again = again.text().await.unwrap();
    assert!(again.contains("This link has been used"));
    assert!(again.contains(&format!("href=\"/admin/requests/{reference}\"")));
    advance_and_round(&app, 60).await;
    assert_eq!(paged(&sink, 1).await.len(), 1);

    // An expired link of another case says so too.
    let other = urgent_request(&app).await;
    let deadline = std::time::Instant::now() + WAIT;
    let mail = loop {
        let mails = sink.messages();
        if let Some(m) = pages(&mails).into_iter().find(|m| m.text.contains(&other)) {
            break m.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no page for {other}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };
    app.clock.advance(Minutes::hours(25));
    let expired = browser.get(link_in(&app, &mail)).send().await.unwrap();
    assert_eq!(expired.status(), 410);
    let expired = expired.text().await.unwrap();
    assert!(expired.contains("This link has expired"));
    assert!(expired.contains(&format!("href=\"/admin/requests/{other}\"")));
}

async fn warnings_fire_once_before_and_once_at_the_breach(backend: Backend) {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let url = sink.url();
    let Some(app) = spawn_app_with(backend, move |s| {
        s.mail.smtp_url = Some(url.into());
        s.escalation.poll = Duration::from_secs(3600);
        s.sla_hours = [10, 10, 10];
        s.escalation.sla_warning_hours = 4;
    })
    .await
    else {
        return;
    };
    let reference = app.submit(json!({})).await;
    let notice = sink.wait_for(1, WAIT).await;
    assert_eq!(notice.len(), 1, "the queue's new-request notice");
    let warnings = |mails: Vec<Received>| -> Vec<String> {
        mails
            .into_iter()
            .filter(|m| m.subject.starts_with("[SLA]"))
            .map(|m| m.subject)
            .collect()
    };

    advance_and_round(&app, 5 * 60 + 50).await;
    assert!(warnings(sink.wait_for(1, WAIT).await).is_empty());
    advance_and_round(&app, 10).await;
    advance_and_round(&app, 1).await;
    let soon = warnings(sink.wait_for(2, WAIT).await);
    assert_eq!(soon.len(), 1, "{soon:?}");
    assert_eq!(
        soon[0],
        "[SLA] A request on Task force — triage breaching in 3 hours 59 minutes"
    );
    advance_and_round(&app, 4 * 60).await;
    advance_and_round(&app, 30).await;
    let all = warnings(sink.wait_for(3, WAIT).await);
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(
        all[1],
        "[SLA] A request on Task force — triage has passed its target"
    );
    let bodies: Vec<Received> = sink
        .messages()
        .into_iter()
        .filter(|m| m.subject.starts_with("[SLA]"))
        .collect();
    assert!(bodies.iter().all(|m| m.text.contains(&reference)));
}

async fn a_rota_that_cannot_work_is_refused_naming_the_problem(backend: Backend) {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(app) = app_with(backend, &sink).await else {
        return;
    };
    let lead = app.staff("lead", &[]).await;
    let (_, outsider, _) = app.create_staff("caseworker", &["siv"]).await;
    let (_, officer, _) = app.create_staff("caseworker", &[DESK]).await;
    let rota = format!("/admin/escalations/{DESK}");
    let page = lead.get(&app, &rota).await.text().await.unwrap();
    assert!(
        page.contains("on-duty 15\non-duty 15\nnext-on-duty 15"),
        "{page}"
    );
    for (chain, schedule, expected) in [
        ("", "", "an escalation chain needs at least one step"),
        (
            "on-duty 0",
            "",
            "step 1: the wait before the next step must be at least one minute",
        ),
        (
            &format!("on-duty 5\n{outsider} 10") as &str,
            "",
            "cannot see this queue",
        ),
        (
            "on-duty 5",
            &format!("Mon 08:00-20:00 {outsider}") as &str,
            "duty schedule, line 1",
        ),
        (
            "on-duty 5",
            "Funday 08:00-20:00 x@y.example",
            "the day is one of",
        ),
    ] {
        let resp = lead
            .post(
                &app,
                &rota,
                &rota,
                &[("chain", chain), ("schedule", schedule)],
            )
            .await;
        assert_eq!(resp.status(), 422, "{chain:?} {schedule:?}");
        let body = resp.text().await.unwrap();
        assert!(body.contains(expected), "{expected}: {body}");
    }
    let chain = format!("{officer} 10\nqueue 20");
    let schedule = format!("Mon 00:00-24:00 {officer}\nTue 20:00-08:00 {officer}");
    let resp = lead
        .post(
            &app,
            &rota,
            &rota,
            &[("chain", &chain), ("schedule", &schedule)],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    assert!(page.contains(&format!("{officer} 10\nqueue 20")), "{page}");
    assert!(
        page.contains(&format!("Mon 00:00-00:00 {officer}"))
            || page.contains(&format!("Mon 00:00-24:00 {officer}"))
    );
    // A caseworker may not change the rota.
    let caseworker = app.staff("caseworker", &[DESK]).await;
    let resp = caseworker.get(&app, &rota).await;
    assert_eq!(resp.status(), 403);
}

/// A caseworker follows the link in the page mail, logs in, and takes the case.
#[actix_web::test]
async fn a_caseworker_follows_the_page_logs_in_and_takes_the_case() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(mut browser) = browser_support::open("escalation-page").await else {
        return;
    };
    let app = app_with(Backend::Sqlite, &sink).await.expect("sqlite app");
    let officer = officer_on_duty(&app).await;
    let reference = urgent_request(&app).await;
    paged(&sink, 1).await;
    let link = link_in(&app, pages(&sink.messages())[0]);

    browser.goto(&link).await;
    assert_eq!(browser.path().await, "/admin/login");
    browser.screenshot("login").await;
    browser.type_into("#email", &officer.email).await;
    browser.type_into("#password", &officer.password).await;
    browser.click_through("button[type=submit]").await;
    assert!(browser.path().await.starts_with("/admin/pages/"));
    assert_eq!(browser.text("#reference").await, reference);
    browser.screenshot("take").await;
    browser.click_through("#take").await;
    assert_eq!(browser.path().await, format!("/admin/requests/{reference}"));
    assert_eq!(browser.text("#assignee").await, "Staff Caseworker");
    browser.screenshot("taken").await;
    browser.close().await;

    advance_and_round(&app, 60).await;
    assert_eq!(
        paged(&sink, 1).await.len(),
        1,
        "no page after taking the case"
    );
}
