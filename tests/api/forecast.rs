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

use crate::helpers::TestApp;

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
