//! Staff finding a person: one box for a name in any spelling, script and order, a phone in
//! any format, a birth year in either calendar, or a mix; ranked by the evidence duplicate
//! matching weighs, limited to the queues the searcher works, and on the record.

use crate::helpers::{csrf_of, valid_request, StaffClient, TestApp};
use crate::on_both_backends;
use serde_json::{json, Value};

/// The references a search shows, in order.
async fn search(app: &TestApp, staff: &StaffClient, q: &str) -> Vec<String> {
    let page = staff.get(app, "/admin/people").await.text().await.unwrap();
    let resp = staff
        .client
        .post(app.url("/admin/people"))
        .form(&[("csrf", csrf_of(&page).as_str()), ("q", q)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    page.split("<tr><td><a href=\"/admin/requests/")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect()
}

async fn submit(app: &TestApp, body: &Value) -> Option<String> {
    let resp = app.post_json("/api/v1/requests", body).await;
    if resp.status() != 201 {
        return None;
    }
    let created: Value = resp.json().await.unwrap();
    Some(created["reference"].as_str().unwrap().to_string())
}

/// A request about one side of a labelled pair (name, birth, phone, email, case number,
/// household size, location).
fn request_of(f: &[&str]) -> Value {
    let text = |s: &str| if s.is_empty() { Value::Null } else { json!(s) };
    json!({
        // An NGO desk's address, which matching does not count as the applicant's.
        "submitter": {"kind": "organization", "organization": "Example NGO", "email": "desk@ngo.example"},
        "applicant": {
            "full_name": f[0],
            "date_of_birth": text(f[1]),
            "phone": text(f[2]),
            "email": text(f[3]),
            "location": f[6],
            "household_size": f[5].parse::<i64>().ok(),
        },
        "siv": {"status": "none", "case_number": text(f[4])},
        "consent": true
    })
}

on_both_backends! {
    async fn a_caseworker_finds_a_person_however_they_are_written(app: TestApp) {
        let mut karimi = valid_request();
        karimi["applicant"]["full_name"] = json!("Mohammad Karimi");
        karimi["applicant"]["date_of_birth"] = json!("1985-06-01");
        karimi["applicant"]["phone"] = json!("0700 123 456");
        karimi["applicant"]["location"] = json!("afghanistan");
        let karimi = submit(&app, &karimi).await.unwrap();
        let mut namesake = valid_request();
        namesake["applicant"]["full_name"] = json!("Mohammad Karimi");
        namesake["applicant"]["date_of_birth"] = json!("1962-02-02");
        namesake["applicant"]["phone"] = json!("+93 799 888 777");
        let namesake = submit(&app, &namesake).await.unwrap();

        let lead = app.staff("lead", &[]).await;
        for q in ["Muhammad Karimi 1364", "karimi mohd 1985", "كريمي محمد ۱۳۶۴", "+93 700 123 456", "0093-700-123-456 Karimi"] {
            let found = search(&app, &lead, q).await;
            assert_eq!(found.first(), Some(&karimi), "{q}: {found:?}");
        }
        let found = search(&app, &lead, "Mohammad Karimi").await;
        assert!(found.contains(&karimi) && found.contains(&namesake), "both namesakes");
        assert_eq!(search(&app, &lead, &karimi.to_lowercase()).await.first(), Some(&karimi));

        // A caseworker of another desk sees neither.
        let other = app.staff("caseworker", &["urgent-protection"]).await;
        assert!(search(&app, &other, "Mohammad Karimi 1985").await.is_empty());

        // The searches that showed someone are on the record, without what was typed.
        let searched: Vec<String> = app
            .db(|c| {
                use diesel::prelude::*;
                use case_triage::db::schema::audit_events as a;
                Ok(a::table.filter(a::action.eq("searched")).select(a::detail).load::<String>(c)?)
            })
            .await;
        assert_eq!(searched.len(), 7, "{searched:?}");
        assert!(searched.iter().all(|d| d.starts_with("person search: ") && !d.contains("arim")));
    }

    async fn namesakes_in_other_queues_do_not_hide_a_caseworkers_case(app: TestApp) {
        // Filed first: the caseworker's case, on the SIV desk.
        let mut wanted = valid_request();
        wanted["applicant"]["full_name"] = json!("Abdul Rahman Noori");
        wanted["siv"] = json!({"status": "in_process", "case_number": null});
        let wanted = submit(&app, &wanted).await.unwrap();
        // Then more namesakes than a search scores, newer, all in the triage queue.
        let app_ref = &app;
        let sends = (0..40).map(|i| async move {
            let mut namesake = valid_request();
            namesake["applicant"]["full_name"] = json!("Abdul Rahman Noori");
            namesake["applicant"]["phone"] = json!(format!("+93 70 000 {:04}", 1000 + i));
            submit(app_ref, &namesake).await.unwrap()
        });
        let namesakes = futures_util::future::join_all(sends).await;
        // Matching sent them to the SIV desk after the first; staff moved them to triage.
        let moved = namesakes.clone();
        app.db(move |c| {
            use diesel::prelude::*;
            use case_triage::db::schema::case_requests as r;
            diesel::update(r::table.filter(r::reference.eq_any(&moved)))
                .set(r::queue_slug.eq("triage"))
                .execute(c)?;
            Ok(())
        })
        .await;
        let desk = app.staff("caseworker", &["siv"]).await;
        let found = search(&app, &desk, "Abdurrahman Noori").await;
        assert_eq!(found, vec![wanted.clone()], "only the case of the desk, found");
        let lead = app.staff("lead", &[]).await;
        let all = search(&app, &lead, "Abdurrahman Noori").await;
        assert!(all.iter().all(|r| r == &wanted || namesakes.contains(r)));
    }

    async fn the_right_person_ranks_first_among_namesakes_on_a_labelled_set(app: TestApp) {
        // The labelled pairs of duplicate detection: the first side of every pair is
        // stored (and the second side of the pairs of different people: namesakes,
        // brothers, twins), then the second side of each same-person pair is searched for
        // as a caseworker would type it: its name, birth date or year, and phone.
        let csv = include_str!("../data/dedup_pairs.csv");
        let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
        let mut stored = std::collections::HashMap::new();
        let app_ref = &app;
        for chunk in rows.chunks(16) {
            let sends = chunk.iter().map(|r| async move {
                let app = app_ref;
                let a = submit(app, &request_of(&r[3..10])).await;
                if r[1] == "different" {
                    submit(app, &request_of(&r[10..17])).await;
                }
                (r[0].to_string(), a)
            });
            for (id, a) in futures_util::future::join_all(sends).await {
                if let Some(reference) = a {
                    stored.insert(id, reference);
                }
            }
        }
        assert!(stored.len() >= 590, "the labelled people are stored: {}", stored.len());
        let lead = app.staff("lead", &[]).await;
        let (mut asked, mut first, mut top5) = (0, 0, 0);
        for r in rows.iter().filter(|r| r[1] == "same") {
            let Some(wanted) = stored.get(r[0]) else { continue };
            let q = [r[10], r[11], r[12]].join(" ");
            let found = search(&app, &lead, &q).await;
            asked += 1;
            match found.iter().position(|f| f == wanted) {
                Some(0) => { first += 1; top5 += 1 }
                Some(n) if n < 5 => top5 += 1,
                _ => println!("pair {}: {q:?} ranks {:?}", r[0], found.iter().position(|f| f == wanted)),
            }
        }
        let (first, top5) = (first as f64 / asked as f64, top5 as f64 / asked as f64);
        println!("person search over {asked} people: first {first:.3}, in the top 5 {top5:.3}");
        assert!(first >= MIN_FIRST && top5 >= MIN_TOP5, "first {first:.3}, top 5 {top5:.3}");
    }
}

/// Just below what the labelled set measured: the right person first for 0.953 of the 300
/// searches, in the top five for 0.973 (docs/product/staff-guide.md).
const MIN_FIRST: f64 = 0.95;
const MIN_TOP5: f64 = 0.97;
