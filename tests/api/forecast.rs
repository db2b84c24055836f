//! The dashboard forecast over a history whose numbers are known: 100 old requests still
//! open, then 60 days of 10 received and 10 closed a day in the SIV queue, the last 14 of
//! them with 20 received. Every number the forecast gives follows by hand.

use case_triage::app::forecast;
use case_triage::db::models::{AuditEventRow, CaseRequestRow};
use case_triage::db::{self, requests::RequestRows};
use case_triage::domain::forecast::Trend;
use case_triage::domain::vocab::{
    Category, Language, Location, Priority, ReferralProgram, SivStatus, Source, Status,
    SubmitterKind, UsTie,
};
use case_triage::domain::Actor;
use chrono::{Duration, NaiveDate, NaiveDateTime, Utc};

use crate::helpers::{StaffClient, TestApp};
use crate::partners::{distinct_request, partner_id, post_with, shown_once};
use serde_json::{json, Value};

const CASEWORKER: &str = "fixture-caseworker";

fn request(n: usize, received: NaiveDateTime, closed: Option<NaiveDateTime>) -> CaseRequestRow {
    CaseRequestRow {
        id: format!("fc-{n:06}"),
        reference: format!("TF-FC{:02}-{:04}", n / 10_000, n % 10_000),
        receipt_token: format!("token-{n}"),
        source: Source::WebForm,
        submitter_kind: SubmitterKind::SelfApplicant,
        applicant_location: Location::Pakistan,
        household_size: None,
        siv_status: SivStatus::None,
        referral_program: ReferralProgram::None,
        claimed_programs: Default::default(),
        us_tie: UsTie::None,
        urgent_danger: false,
        urgent_medical: false,
        category: Category::SivPending,
        category_reason: "fixture".into(),
        priority: Priority::Normal,
        priority_reason: "fixture".into(),
        queue_slug: "siv".into(),
        routing_rule_id: None,
        routing_rule_name: None,
        status: if closed.is_some() {
            Status::Resolved
        } else {
            Status::New
        },
        consent_at: received,
        created_at: received,
        updated_at: closed.unwrap_or(received),
        assignee_id: None,
        entered_by: None,
        closed_at: closed,
        is_open: closed.is_none(),
        language: Language::En,
        partner_id: None,
    }
}

/// The history as of noon on `today`; returns the references of the surge's open requests,
/// oldest first.
pub async fn fill(app: &TestApp, today: NaiveDate) -> Vec<String> {
    let at = |day: i64, h: u32| (today - Duration::days(day)).and_hms_opt(h, 0, 0).unwrap();
    let mut rows = RequestRows::default();
    let mut n = 0;
    let mut open_refs = Vec::new();
    for _ in 0..100 {
        rows.requests.push(request(n, at(61, 9), None));
        n += 1;
    }
    for day in (1..=60).rev() {
        let received = if day <= 14 { 20 } else { 10 };
        for i in 0..received {
            let closed = (i < 10).then(|| at(day, 17));
            let row = request(n, at(day, 9), closed);
            if let Some(closed) = closed {
                rows.audit.push(AuditEventRow::new(
                    Some(&row.id),
                    &Actor::Staff(CASEWORKER.into()),
                    "status_changed",
                    "status New → Resolved".into(),
                    closed,
                ));
            } else {
                open_refs.push(row.reference.clone());
            }
            rows.requests.push(row);
            n += 1;
        }
    }
    for row in &rows.requests {
        rows.tally.add(row, 1);
    }
    app.db_conn(move |conn| {
        db::write_transaction(conn, |conn| rows.write(conn).map(|_| ()))?;
        Ok(())
    })
    .await;
    open_refs
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

crate::on_both_backends! {
    async fn a_known_history_gives_known_forecast_numbers(app: TestApp) {
        let today = NaiveDate::from_ymd_opt(2026, 3, 20).unwrap();
        let now = today.and_hms_opt(12, 0, 0).unwrap();
        let refs = fill(&app, today).await;
        let f = app
            .db(move |conn| forecast::load(conn, now, 0.25, 14, [24, 72, 336]))
            .await;
        let siv = f.queues.iter().find(|q| q.slug.as_deref() == Some("siv")).unwrap();
        assert_eq!(f.total.backlog, 240);
        assert_eq!(siv.backlog, 240);
        assert_eq!(siv.history.len(), 60);
        assert_eq!(siv.history[0].backlog, 100, "open at the end of the first day");
        assert_eq!(siv.history[45].backlog, 100, "before the surge");
        assert_eq!(siv.history[59].backlog, 240);
        // Smoothed: 14 days of 20 after 10s, α = 0.25.
        let inflow = 20.0 - 10.0 * 0.75f64.powi(14);
        assert!(close(siv.inflow, inflow), "inflow {}", siv.inflow);
        assert!(close(siv.closures, 10.0));
        let p14 = siv.projections[0];
        assert_eq!(p14.days, 14);
        assert!(close(p14.expected, 240.0 + 14.0 * (inflow - 10.0)));
        assert!(close(p14.high - p14.expected, 2.0 * (inflow * 14.0).sqrt()));
        assert!(matches!(siv.trend, Trend::Growing { per_day } if close(per_day, inflow - 10.0)));

        // 70 taken oldest first in 7 days: 30 of the old ones and the surge's days 14 to 7
        // back are past 14 days by then.
        assert_eq!(siv.breaches.by_priority, [0, 0, 110]);
        assert_eq!(f.total.breaches.total(), 110);
        let listed: Vec<&str> = f.breaches.iter().map(|b| b.reference.as_str()).collect();
        assert_eq!(listed.len(), 20);
        // Day 14 back is already past its target; days 13 and 12 back pass it next.
        assert_eq!(listed, refs[10..30].iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(f.breaches[0].past_target_at, now + Duration::hours(21));

        // One caseworker closed 140 in the last 14 days.
        assert_eq!(f.per_caseworker, Some(10.0));
        assert_eq!(f.caseworkers, 1);
        assert_eq!(siv.caseworkers, 1);
        assert_eq!(siv.with_more[1].0, 2);
        let two_more = siv.with_more[1].1.unwrap();
        assert!(close(two_more, 240.0 / (30.0 - inflow)));
        assert_eq!(siv.needed, Some(3));
        assert!(close(siv.littles_wait_days.unwrap(), 240.0 / inflow));
        assert!(close(siv.measured_wait_days.unwrap(), 8.0 / 24.0));

        // Two weeks ago the pace was flat: it expected 100 and 240 are open.
        let b = siv.backtest.unwrap();
        assert!(close(b.forecast.expected, 100.0));
        assert!(close(b.actual, 240.0));
        assert!(close(b.error, -140.0));
        assert!(close(b.relative.unwrap(), 140.0 / 240.0));

        let triage = f.queues.iter().find(|q| q.slug.as_deref() == Some("triage")).unwrap();
        assert_eq!(triage.backlog, 0);
        assert_eq!(triage.breaches.total(), 0);
    }

    async fn the_dashboard_shows_the_forecast_in_words_and_links_only_for_caseworkers(app: TestApp) {
        let today = Utc::now().date_naive();
        fill(&app, today).await;
        let lead = app.staff("lead", &[]).await;
        let page = lead.get(&app, "/admin").await.text().await.unwrap();
        for words in [
            "Forecast: where the backlog is heading",
            "at the recent pace",
            "Open in 14 days (likely range)",
            "Open in 30 days (likely range)",
            "Projected SLA breaches in 7 days",
            "Days to clear with 2 more",
            "More needed to clear within 14 days",
            "Little's law",
            "Is the forecast any good?",
            "closed a day per caseworker (over the last 14 days",
            "<polyline points=",
        ] {
            assert!(page.contains(words), "the dashboard says {words:?}");
        }
        assert!(page.contains("href=\"/admin/requests/TF-FC"), "a lead follows the list to the cases");
        let viewer = app.staff("viewer", &[]).await;
        let page = viewer.get(&app, "/admin").await.text().await.unwrap();
        assert!(page.contains("Next to pass their target"));
        assert!(page.contains("TF-FC"), "a viewer sees references, as on the SLA list");
        assert!(!page.contains("href=\"/admin/requests/"), "but no links to the cases");
    }
}

/// Issues partner `partner` a token of `scope` on the partners page; the token as shown.
async fn token_of_scope(app: &TestApp, admin: &StaffClient, partner: &str, scope: &str) -> String {
    let path = format!("/admin/partners/{partner}/tokens");
    let fields = [("name", "weekly report"), ("scope", scope)];
    let resp = admin.post(app, "/admin/partners", &path, &fields).await;
    shown_once(resp, "new-token").await
}

async fn get_forecast(app: &TestApp, token: &str) -> reqwest::Response {
    app.raw
        .get(app.url("/api/v1/stats/forecast"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

crate::on_both_backends! {
    async fn leadership_reads_the_dashboards_forecast_with_a_reporting_token_or_a_staff_session(app: TestApp) {
        let today = Utc::now().date_naive();
        fill(&app, today).await;
        let admin = app.staff("admin", &[]).await;
        let resp = admin
            .post(&app, "/admin/partners", "/admin/partners", &[("name", "Leadership reports")])
            .await;
        assert_eq!(resp.status(), 200);
        let partner = partner_id(&app, "Leadership reports").await;
        let reporting = token_of_scope(&app, &admin, &partner, "reporting").await;
        let page = admin.get(&app, "/admin/partners").await.text().await.unwrap();
        assert!(page.contains("<td>reporting statistics only</td>"), "the token list says what it may do");

        let resp = get_forecast(&app, &reporting).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["cache-control"], "no-store");
        let text = resp.text().await.unwrap();
        assert!(!text.contains("TF-"), "numbers only, no references: {text:.300}");
        let body: Value = serde_json::from_str(&text).unwrap();

        // The same numbers as the dashboard: the forecast as of the same moment.
        let as_of = chrono::DateTime::parse_from_rfc3339(body["as_of"].as_str().unwrap())
            .unwrap()
            .naive_utc();
        let f = app
            .db(move |conn| forecast::load(conn, as_of, 0.25, 14, [24, 72, 336]))
            .await;
        assert_eq!(body["total"]["backlog"], 240);
        assert_eq!(body["total"]["queue"], Value::Null);
        let siv = body["queues"].as_array().unwrap().iter().find(|q| q["queue"] == "siv").unwrap();
        let want = f.queues.iter().find(|q| q.slug.as_deref() == Some("siv")).unwrap();
        assert_eq!(siv["backlog"], want.backlog);
        assert!(close(siv["inflow_per_day"].as_f64().unwrap(), want.inflow));
        assert!(close(siv["closures_per_day"].as_f64().unwrap(), want.closures));
        for (got, want) in siv["projections"].as_array().unwrap().iter().zip(&want.projections) {
            assert_eq!(got["days"], want.days);
            assert!(close(got["expected"].as_f64().unwrap(), want.expected));
            assert!(close(got["high"].as_f64().unwrap(), want.high));
        }
        assert_eq!(siv["trend"]["kind"], "growing");
        assert_eq!(siv["projected_breaches"]["days"], 7);
        assert_eq!(siv["projected_breaches"]["normal"], want.breaches.by_priority[2]);
        assert_eq!(siv["projected_breaches"]["total"], want.breaches.total());
        assert_eq!(siv["caseworkers_needed"], want.needed.unwrap());
        assert_eq!(siv["history"].as_array().unwrap().len(), 60);
        assert_eq!(siv["history"][59]["backlog"], 240);
        let backtest = &siv["backtest"];
        assert!(close(backtest["actual"].as_f64().unwrap(), 240.0));
        assert_eq!(body["closures_per_caseworker_per_day"], f.per_caseworker.unwrap());
        assert!(body["band"].as_str().unwrap().contains("Poisson"));

        // A staff member reads it with the session of the admin pages.
        let viewer = app.staff("viewer", &[]).await;
        let resp = viewer.get(&app, "/api/v1/stats/forecast").await;
        assert_eq!(resp.status(), 200);
        let staff_body: Value = resp.json().await.unwrap();
        assert_eq!(staff_body["total"]["backlog"], 240);

        // A token does one thing: one to submit and read requests reads no statistics...
        let requests = token_of_scope(&app, &admin, &partner, "requests").await;
        let resp = get_forecast(&app, &requests).await;
        assert_eq!(resp.status(), 403);
        let refused: Value = resp.json().await.unwrap();
        assert_eq!(refused["error"], "forbidden");
        assert!(refused["message"].as_str().unwrap().contains("reporting scope"), "{refused}");
        // ...and the reporting token neither submits nor reads requests.
        let reference = app.submit(json!({})).await;
        let resp = post_with(&app, "/api/v1/requests", &reporting, &distinct_request()).await;
        assert_eq!(resp.status(), 403);
        let resp = app
            .raw
            .get(app.url(&format!("/api/v1/requests/{reference}")))
            .bearer_auth(&reporting)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403);
        assert_eq!(app.request_count().await, 1 + 100 + 60 * 10 + 14 * 10);

        // Nobody, or a made-up token: 401.
        let resp = app.raw.get(app.url("/api/v1/stats/forecast")).send().await.unwrap();
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.headers()["www-authenticate"], "Bearer");
        assert_eq!(get_forecast(&app, "ctp_made_up").await.status(), 401);
    }

    async fn a_token_scope_the_page_does_not_offer_is_refused_and_nothing_is_issued(app: TestApp) {
        let admin = app.staff("admin", &[]).await;
        admin
            .post(&app, "/admin/partners", "/admin/partners", &[("name", "Scopes")])
            .await;
        let partner = partner_id(&app, "Scopes").await;
        let path = format!("/admin/partners/{partner}/tokens");
        let fields = [("name", "everything"), ("scope", "admin")];
        let resp = admin.post(&app, "/admin/partners", &path, &fields).await;
        assert_eq!(resp.status(), 422);
        let page = resp.text().await.unwrap();
        assert!(page.contains("What the token may do: must be one of: requests, reporting"), "{page:.2000}");
        assert!(!page.contains("id=\"new-token\""));
        assert!(app.db(db::partners::tokens).await.is_empty());
    }
}
