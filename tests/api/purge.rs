//! Retention: `purge` anonymizes requests closed long ago, keeps what statistics need, and
//! the daily job runs once a day however many instances run.

use crate::on_both_backends;
use crate::process::command;
use case_triage::db::{self, DbConnection};
use diesel::prelude::*;
use serde_json::json;
use std::time::Duration;

/// Closes a request as resolved `days_ago` days ago, straight in the database.
fn close(conn: &mut DbConnection, reference: &str, days_ago: i64) -> Result<(), db::DbError> {
    use case_triage::db::schema::case_requests as c;
    let at = chrono::Utc::now().naive_utc() - chrono::Duration::days(days_ago);
    diesel::update(c::table.filter(c::reference.eq(reference)))
        .set((
            c::status.eq("resolved"),
            c::is_open.eq(false),
            c::closed_at.eq(Some(at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The request's name, other personal fields, duplicate keys, notes and mail as stored.
#[derive(Debug)]
struct Stored {
    name: String,
    other_fields: Vec<Option<String>>,
    category: String,
    dedup_keys: i64,
    notes: Vec<String>,
    mail: Vec<(String, String, String)>,
}

fn stored(conn: &mut DbConnection, reference: &str) -> Result<Stored, db::DbError> {
    use case_triage::db::schema::{case_notes, dedup_keys, outbox};
    let d = db::cases::detail(conn, reference)?.expect("the request is still there");
    let p = d.personal.unwrap();
    let id = d.case.id.clone();
    Ok(Stored {
        name: p.applicant_full_name,
        other_fields: vec![
            p.submitter_email,
            p.submitter_phone,
            p.applicant_date_of_birth.map(|d| d.to_string()),
            p.applicant_phone,
            p.applicant_whatsapp,
            p.applicant_email,
            p.siv_case_number,
            p.description,
        ],
        category: d.case.category.to_string(),
        dedup_keys: dedup_keys::table
            .filter(dedup_keys::request_id.eq(&id))
            .count()
            .get_result(conn)?,
        notes: case_notes::table
            .filter(case_notes::request_id.eq(&id))
            .select(case_notes::body)
            .load(conn)?,
        mail: outbox::table
            .filter(outbox::request_id.eq(&id))
            .select((outbox::recipient, outbox::body_text, outbox::subject))
            .load(conn)?,
    })
}

async fn wait_for_mail(app: &crate::helpers::TestApp) {
    for _ in 0..100 {
        if app.db(db::outbox::counts).await.pending == 0 {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the outbox never drained");
}

/// The files under `dir` (at any depth) holding any of `needles`, with the needle found.
fn files_holding(dir: &std::path::Path, needles: &[String]) -> Vec<(std::path::PathBuf, String)> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap_or_default();
            for needle in needles {
                let n = needle.as_bytes();
                if !n.is_empty() && bytes.windows(n.len()).any(|w| w == n) {
                    found.push((path.clone(), needle.clone()));
                }
            }
        }
    }
    found
}

fn purge_runs(conn: &mut DbConnection) -> Result<Vec<(String, String)>, db::DbError> {
    use case_triage::db::schema::audit_events as a;
    Ok(a::table
        .filter(a::action.eq("purged"))
        .select((a::actor, a::detail))
        .load(conn)?)
}

on_both_backends! {
    async fn purge_anonymizes_requests_closed_long_ago_and_keeps_the_statistics(app: TestApp) {
        let old = app.submit(json!({"email": "old.applicant@example.org", "siv": {"status": "in_process", "case_number": "ISB2015000111"}, "description": "Hiding near the old bazaar"})).await;
        let recent = app.submit(json!({"email": "recent.applicant@example.org"})).await;
        let open = app.submit(json!({})).await;
        let lead = app.staff("lead", &[]).await;
        lead.act(&app, &old, &[("action", "note"), ("body", "Met the family at the gate")]).await;
        wait_for_mail(&app).await;
        let (o, r) = (old.clone(), recent.clone());
        app.db(move |c| { close(c, &o, 400)?; close(c, &r, 10) }).await;
        let before_old = { let r = old.clone(); app.db(move |c| stored(c, &r)).await };
        let before_recent = { let r = recent.clone(); app.db(move |c| stored(c, &r)).await };
        assert!(before_old.dedup_keys > 0 && !before_old.mail.is_empty());

        let out = command(&crate::process::env_for_app(&app))
            .args(["purge", "--closed-before-days", "365"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains("anonymized 1 request(s)"), "{said}");
        assert!(said.contains(&format!("removed {} mail file(s)", before_old.mail.len())), "{said}");

        // Nothing of it stays readable on disk: not in the database file or its log after a
        // checkpoint, not in the mail folder. The recent request is found, so the search works.
        if matches!(app.backend, crate::helpers::Backend::Sqlite) {
            app.db(|c| {
                use diesel::connection::SimpleConnection;
                c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")?;
                Ok(())
            })
            .await;
        }
        let mut gone = vec![before_old.name.clone(), "Met the family at the gate".to_string()];
        // Every personal field but the date of birth, which another request may share.
        let birth = before_old.other_fields[2].clone();
        gone.extend(before_old.other_fields.iter().flatten().filter(|f| Some(*f) != birth.as_ref()).cloned());
        assert!(gone.iter().any(|g| g == "Hiding near the old bazaar") && gone.len() >= 6, "{gone:?}");
        let on_disk = files_holding(app.dir.path(), &gone);
        assert!(on_disk.is_empty(), "purged data still on disk: {on_disk:?}");
        let kept = files_holding(app.dir.path(), &["recent.applicant@example.org".to_string()]);
        assert!(!kept.is_empty(), "the recent request's mail is still on disk");

        let after = { let r = old.clone(); app.db(move |c| stored(c, &r)).await };
        assert_eq!(after.name, "[removed]");
        assert!(after.other_fields.iter().all(Option::is_none), "{after:?}");
        assert_eq!(after.category, before_old.category, "statistics keep the category");
        assert_eq!(after.dedup_keys, 0);
        assert_eq!(after.notes, ["[removed]"], "the note row stays, its text goes");
        assert_eq!(after.mail.len(), before_old.mail.len());
        for (to, body, subject) in &after.mail {
            assert_eq!((to.as_str(), body.as_str()), ("[removed]", ""));
            assert!(!subject.contains(&before_old.name), "subjects name no person");
        }
        let untouched = { let r = recent.clone(); app.db(move |c| stored(c, &r)).await };
        assert_eq!(untouched.name, before_recent.name);
        assert_eq!(untouched.dedup_keys, before_recent.dedup_keys);
        assert_eq!(untouched.mail, before_recent.mail);
        let still_open = { let r = open.clone(); app.db(move |c| stored(c, &r)).await };
        assert_ne!(still_open.name, "[removed]");

        // Staff still see the case, without the data; the trail says what happened.
        let page = lead.get(&app, &format!("/admin/requests/{old}")).await.text().await.unwrap();
        assert!(page.contains("[removed]") && !page.contains("Met the family"));
        let runs = app.db(purge_runs).await;
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].0, "cli");
        assert!(runs[0].1.starts_with("anonymized 1 requests"), "{}", runs[0].1);
        assert!(!runs[0].1.contains("old.applicant"));

        // A second run finds nothing more to do.
        let out = command(&crate::process::env_for_app(&app)).args(["purge", "--closed-before-days", "365"]).output().unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains("anonymized 0 request(s)"));
    }

    async fn the_daily_purge_runs_once_across_instances(app: TestApp) {
        let old = app.submit(json!({})).await;
        let o = old.clone();
        app.db(move |c| close(c, &o, 30)).await;
        let mut app = app;
        app.settings.purge_after_days = Some(7);
        let first = app.spawn_sibling().await;
        let second = app.spawn_sibling().await;
        for _ in 0..100 {
            let o = old.clone();
            if app.db(move |c| stored(c, &o)).await.name == "[removed]" {
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        let o = old.clone();
        assert_eq!(app.db(move |c| stored(c, &o)).await.name, "[removed]");
        // Give the slower instance time to have its turn, then count the runs.
        actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
        let runs = app.db(purge_runs).await;
        assert_eq!(runs.len(), 1, "{runs:?}");
        assert_eq!(runs[0].0, "scheduler");
        drop((first, second));
    }
}
