//! `case-triage demo-data`: made-up requests in bulk, consistent enough that the staff
//! pages and duplicate matching treat them like real intake.

use case_triage::db::schema::{case_requests, dedup_keys, request_personal_data};
use diesel::prelude::*;

crate::on_both_backends! {
    async fn demo_data_fills_the_staff_pages_consistently(app: TestApp) {
        let pool = app.pool.clone();
        let counts = actix_web::rt::task::spawn_blocking(move || {
            let mut conn = pool.get().unwrap();
            let now = chrono::Utc::now().naive_utc();
            let mut seen = Vec::new();
            let c = case_triage::app::demo::fill(&mut conn, 12_345, 7, now, |n| seen.push(n))
                .unwrap();
            // One progress call per transaction, ending at the total.
            assert_eq!(seen, vec![10_000, 12_345]);
            c
        })
        .await
        .unwrap();
        assert_eq!(counts.requests, 12_345);
        assert!(counts.closed > 0 && counts.repeat_applicants > 0);

        let pool = app.pool.clone();
        let (open, inconsistent, names, arabic, shared_keys) =
            actix_web::rt::task::spawn_blocking(move || {
                let mut conn = pool.get().unwrap();
                let rows: Vec<(String, bool, Option<chrono::NaiveDateTime>)> = case_requests::table
                    .select((case_requests::status, case_requests::is_open, case_requests::closed_at))
                    .load(&mut **conn)
                    .unwrap();
                let open = rows.iter().filter(|r| r.1).count();
                let inconsistent = rows
                    .iter()
                    .filter(|(status, is_open, closed_at)| {
                        let s: case_triage::domain::Status = status.parse().unwrap();
                        s.is_open() != *is_open || closed_at.is_some() == *is_open
                    })
                    .count();
                let names: Vec<String> = request_personal_data::table
                    .select(request_personal_data::applicant_full_name)
                    .load(&mut **conn)
                    .unwrap();
                let arabic = names
                    .iter()
                    .filter(|n| n.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)))
                    .count();
                let shared: i64 = dedup_keys::table
                    .group_by(dedup_keys::key)
                    .having(diesel::dsl::count_star().gt(1))
                    .select(dedup_keys::key)
                    .load::<String>(&mut **conn)
                    .unwrap()
                    .len() as i64;
                (open, inconsistent, names.len(), arabic, shared)
            })
            .await
            .unwrap();
        assert_eq!(inconsistent, 0, "status, is_open and closed_at disagree");
        assert_eq!(names, 12_345, "every request has its personal data");
        assert!(arabic > 0, "some names are in Arabic script");
        assert!(shared_keys > 0, "repeat applicants share duplicate keys");

        // The dashboard counts what was loaded.
        let admin = app.staff("admin", &[]).await;
        let page = admin.get(&app, "/admin").await.text().await.unwrap();
        assert!(
            page.contains(&format!("<strong id=\"open-total\">{open}</strong>")),
            "dashboard should show {open} open"
        );
        let queue = admin.get(&app, "/admin/queues").await;
        assert_eq!(queue.status(), 200);
        assert!(queue.text().await.unwrap().contains("TF-"));

        // A new request about a loaded person is matched against the loaded data.
        let mut body = crate::helpers::valid_request();
        let pool = app.pool.clone();
        let (name, dob, phone) = actix_web::rt::task::spawn_blocking(move || {
            let mut conn = pool.get().unwrap();
            request_personal_data::table
                .filter(request_personal_data::applicant_phone.is_not_null())
                .filter(request_personal_data::applicant_date_of_birth.is_not_null())
                .select((
                    request_personal_data::applicant_full_name,
                    request_personal_data::applicant_date_of_birth,
                    request_personal_data::applicant_phone,
                ))
                .first::<(String, Option<chrono::NaiveDate>, Option<String>)>(&mut **conn)
                .unwrap()
        })
        .await
        .unwrap();
        body["applicant"]["full_name"] = serde_json::json!(name);
        body["applicant"]["date_of_birth"] = serde_json::json!(dob.unwrap().to_string());
        body["applicant"]["phone"] = serde_json::json!(phone.unwrap());
        let resp = app.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 201);
        let created: serde_json::Value = resp.json().await.unwrap();
        let reference = created["reference"].as_str().unwrap();
        let reference = reference.to_string();
        let found = app.db(move |c| crate::helpers::duplicate_candidates(c, &reference)).await;
        assert!(!found["candidates"].as_array().unwrap().is_empty(), "{found}");
    }
}

#[test]
fn the_demo_data_command_reports_what_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_case-triage"))
        .env_remove("DATABASE_URL")
        .env("DATA_DIR", dir.path())
        .env("LOG", "warn")
        .args(["demo-data", "--count", "250"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("wrote 250 made-up requests"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("250/250 requests (100%)"), "{stderr}");
}
