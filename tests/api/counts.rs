//! The dashboard reads maintained counts instead of counting a million rows. After every
//! kind of write (intake, concurrent intake, a partner's batch, staff actions, a confirmed
//! duplicate, demo data, purge) they equal a full recount, and what the dashboard and the
//! queue pages show equals what the rows themselves say.

use case_triage::db::dashboard::{SlaTargets, AGE_BUCKETS};
use case_triage::db::models::CaseRequestRow;
use case_triage::db::schema::case_requests;
use case_triage::db::{self, counts};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;

use crate::helpers::TestApp;

const TARGETS: SlaTargets = SlaTargets {
    urgent_hours: 24,
    high_hours: 72,
    normal_hours: 336,
};

async fn all_rows(app: &TestApp) -> Vec<CaseRequestRow> {
    app.db(|conn| {
        Ok(case_requests::table
            .select(CaseRequestRow::as_select())
            .load(conn)?)
    })
    .await
}

/// Fails with the first difference between the maintained counts and a recount.
async fn assert_counts_match(app: &TestApp, after: &str) {
    let (kept, fresh) = app
        .db(|conn| Ok((counts::maintained(conn)?, counts::recount(conn)?)))
        .await;
    for (k, n) in &fresh.states {
        assert_eq!(kept.states.get(k), Some(n), "after {after}: {k:?}");
    }
    for (k, n) in &fresh.hours {
        assert_eq!(kept.hours.get(k), Some(n), "after {after}: {k:?}");
    }
    assert_eq!(kept, fresh, "after {after}: counts nobody has");
}

/// The dashboard's numbers against the same numbers counted over the rows.
fn assert_dashboard_matches_rows(
    rows: &[CaseRequestRow],
    d: &db::dashboard::Dashboard,
    now: NaiveDateTime,
) {
    let open: Vec<&CaseRequestRow> = rows.iter().filter(|r| r.is_open).collect();
    assert_eq!(d.open_total, open.len() as i64, "open total");
    for q in ["triage", "siv", "urgent-protection"] {
        let n = open.iter().filter(|r| r.queue_slug == q).count() as i64;
        assert_eq!(d.by_queue.get(q).copied().unwrap_or(0), n, "open in {q}");
        let oldest = open
            .iter()
            .filter(|r| r.queue_slug == q)
            .map(|r| r.created_at)
            .min();
        assert_eq!(d.oldest_per_queue.get(q).copied(), oldest, "oldest in {q}");
    }
    for p in ["urgent", "high", "normal"] {
        let n = open.iter().filter(|r| r.priority.as_str() == p).count() as i64;
        assert_eq!(d.by_priority.get(p).copied().unwrap_or(0), n, "open {p}");
    }
    for (i, (label, from, to)) in AGE_BUCKETS.iter().enumerate() {
        let n = open
            .iter()
            .filter(|r| r.created_at <= now - Duration::days(*from))
            .filter(|r| to.is_none_or(|to| r.created_at > now - Duration::days(to)))
            .count() as i64;
        assert_eq!(d.age_buckets[i], (*label, n), "age bucket {label}");
    }
    let breaches = open
        .iter()
        .filter(|r| r.created_at <= now - Duration::hours(TARGETS.hours_for(r.priority.as_str())))
        .count() as i64;
    assert_eq!(d.breach_total, breaches, "SLA breaches");
    let received = |from: i64, to: i64| {
        rows.iter()
            .filter(|r| {
                r.created_at > now - Duration::days(to)
                    && r.created_at <= now - Duration::days(from)
            })
            .count() as i64
    };
    assert_eq!(
        (d.new_this_week, d.new_last_week),
        (received(0, 7), received(7, 14)),
        "week over week"
    );
    for (day, new, closed) in &d.pace {
        let n = rows.iter().filter(|r| r.created_at.date() == *day).count() as i64;
        let c = rows
            .iter()
            .filter(|r| r.closed_at.is_some_and(|t| t.date() == *day))
            .count() as i64;
        assert_eq!((*new, *closed), (n, c), "pace on {day}");
    }
    let unassigned = open.iter().filter(|r| r.assignee_id.is_none()).count() as i64;
    assert_eq!(
        d.workload.get(&None).copied().unwrap_or(0),
        unassigned,
        "unassigned"
    );
}

crate::on_both_backends! {
    async fn maintained_counts_match_a_recount_after_every_kind_of_write(app: TestApp) {
        let now = chrono::Utc::now().naive_utc();
        app.db_conn(move |conn| {
            case_triage::app::demo::fill(conn, 3_000, 11, now, |_| {})?;
            Ok(())
        })
        .await;
        assert_counts_match(&app, "demo data").await;

        // Requests from the public API, some at the same time.
        let mut refs = Vec::new();
        for _ in 0..4 {
            refs.push(app.submit(json!({})).await);
        }
        let urgent = app.submit(json!({"urgent": {"danger": true, "medical": false}})).await;
        let together: Vec<_> = (0..12)
            .map(|_| {
                let body = crate::partners::distinct_request();
                let (client, url) = (app.client.clone(), app.url("/api/v1/requests"));
                actix_web::rt::spawn(async move { client.post(url).json(&body).send().await.unwrap().status() })
            })
            .collect();
        for t in together {
            assert_eq!(t.await.unwrap(), 201);
        }
        assert_counts_match(&app, "intake").await;

        // A partner's batch.
        let admin = app.staff("admin", &[]).await;
        let (_, token) = crate::partners::partner_with_token(&app, &admin, "Counting NGO", "").await;
        let batch = json!([crate::partners::distinct_request(), crate::partners::distinct_request()]);
        let resp = crate::partners::post_with(&app, "/api/v1/requests:batch", &token, &batch).await;
        assert_eq!(resp.status(), 200);
        assert_counts_match(&app, "a partner's batch").await;

        // Staff work the cases: assign, move, re-categorize, close and reopen.
        let lead = app.staff("lead", &[]).await;
        let steps: [(&str, &[(&str, &str)]); 7] = [
            (&refs[0], &[("action", "assign_self")]),
            (&refs[0], &[("action", "status"), ("status", "in_progress")]),
            (&refs[1], &[("action", "move"), ("queue", "siv"), ("reason", "has a COM number")]),
            (&refs[1], &[("action", "recategorize"), ("category", "siv_pending"), ("reason", "letter seen")]),
            (&refs[2], &[("action", "status"), ("status", "resolved")]),
            (&refs[2], &[("action", "status"), ("status", "triaged")]),
            (&urgent, &[("action", "status"), ("status", "referred_out"), ("referral_partner", "UNHCR")]),
        ];
        for (reference, fields) in steps {
            let resp = lead.act(&app, reference, fields).await;
            assert_eq!(resp.status(), 200, "{fields:?}");
            let page = resp.text().await.unwrap();
            assert!(!page.contains("class=\"error-summary\""), "{fields:?} was refused");
        }
        assert_counts_match(&app, "staff actions").await;

        // The same person twice: staff confirm the duplicate, which closes the later one.
        let first = app.post_json("/api/v1/requests", &crate::helpers::valid_request()).await;
        let first: serde_json::Value = first.json().await.unwrap();
        let second = app.post_json("/api/v1/requests", &crate::helpers::valid_request()).await;
        let second: serde_json::Value = second.json().await.unwrap();
        let (first, second) = (first["reference"].as_str().unwrap(), second["reference"].as_str().unwrap());
        let resp = lead
            .post(&app, &format!("/admin/requests/{second}"), &format!("/admin/requests/{second}/duplicates"), &[("other", first), ("decision", "confirm")])
            .await;
        assert!(resp.text().await.unwrap().contains("id=\"status\">Closed as duplicate"));
        assert_counts_match(&app, "a confirmed duplicate").await;

        // Retention anonymizes closed requests; the counts keep them.
        app.db_conn(move |conn| {
            db::purge::run(conn, now + Duration::days(1), db::purge::Trigger::Cli, now)?;
            Ok(())
        })
        .await;
        assert_counts_match(&app, "purge").await;

        // What the dashboard shows is what the rows say, to the request.
        let now = chrono::Utc::now().naive_utc();
        let rows = all_rows(&app).await;
        let d = app.db(move |conn| db::dashboard::load(conn, now, TARGETS, 20)).await;
        assert_dashboard_matches_rows(&rows, &d, now);
        let open = rows.iter().filter(|r| r.is_open).count();
        let page = admin.get(&app, "/admin").await.text().await.unwrap();
        assert!(page.contains(&format!("<strong id=\"open-total\">{open}</strong>")), "dashboard shows {open} open");

        // Queue totals: exact from the counts, and counted for a filter they cannot answer.
        let in_siv = rows.iter().filter(|r| r.is_open && r.queue_slug == "siv").count();
        let page = lead.get(&app, "/admin/queues/siv").await.text().await.unwrap();
        assert!(page.contains(&format!("<strong id=\"case-total\">{in_siv}</strong>")), "siv shows {in_siv}");
        let high = rows.iter().filter(|r| r.is_open && r.queue_slug == "siv" && r.priority.as_str() == "high").count();
        let page = lead.get(&app, "/admin/queues/siv?priority=high").await.text().await.unwrap();
        assert!(page.contains(&format!("<strong id=\"case-total\">{high}</strong>")), "high in siv shows {high}");
        let week = rows
            .iter()
            .filter(|r| r.is_open && r.queue_slug == "siv")
            .filter(|r| r.created_at <= now - Duration::days(3) && r.created_at > now - Duration::days(7))
            .count();
        let page = lead.get(&app, "/admin/queues/siv?age=3-7").await.text().await.unwrap();
        assert!(page.contains(&format!("<strong id=\"case-total\">{week}</strong>")), "3-7 days in siv shows {week}");

        // Past the cap, a list the counts cannot total says "at least".
        let old_open = rows.iter().filter(|r| r.is_open && r.created_at <= now - Duration::days(14)).count() as i64;
        let cap = db::cases::COUNT_CAP;
        let shown = if old_open > cap { format!("{cap}+") } else { old_open.to_string() };
        let page = lead.get(&app, "/admin/cases?age=gt14").await.text().await.unwrap();
        assert!(page.contains(&format!("<strong id=\"case-total\">{shown}</strong>")), "older than 14 days shows {shown}");

        // Rebuilding from the rows changes nothing.
        let before = app.db(counts::maintained).await;
        let rebuilt = app.db_conn(counts::rebuild).await;
        assert_eq!(rebuilt, before);
        assert_eq!(app.db(counts::maintained).await, before);
    }
}
