//! The task force's side, driven through HTTP with a cookie-holding client for each role.

use crate::helpers::{csrf_of, spawn_app, Backend};
use crate::on_both_backends;
use case_triage::db;
use serde_json::json;

/// The number of columns in the header of the page's table, and how many its empty-state
/// row spans.
fn columns_and_empty_row_span(page: &str) -> (usize, usize) {
    let head = page.split("<thead>").nth(1).expect("a table header");
    let head = &head[..head.find("</thead>").expect("the header ends")];
    let columns = head.matches("<th").count();
    let span = page
        .split("<td colspan=\"")
        .nth(1)
        .expect("an empty-state row");
    let span = span[..span.find('"').unwrap()]
        .parse()
        .expect("a number of columns");
    (columns, span)
}

on_both_backends! {
    async fn anonymous_visitors_get_the_login_page(app: TestApp) {
        let reference = app.submit(json!({})).await;
        for path in [
            "/admin".to_string(),
            "/admin/queues".to_string(),
            "/admin/queues/triage".to_string(),
            format!("/admin/requests/{reference}"),
            "/admin/users".to_string(),
            "/admin/rules".to_string(),
            "/admin/export.csv".to_string(),
        ] {
            let resp = app.client.get(app.url(&path)).send().await.unwrap();
            assert_eq!(resp.url().path(), "/admin/login", "{path}");
            assert!(resp.text().await.unwrap().contains("Staff login"));
        }
        let resp = app
            .raw
            .post(app.url(&format!("/admin/requests/{reference}/actions")))
            .form(&[("action", "assign_self")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 303);
        assert_eq!(resp.headers()["location"], "/admin/login");
    }

    async fn wrong_passwords_are_refused_and_repeated_failures_lock_the_account(app: TestApp) {
        let (_, email, password) = app.create_staff("caseworker", &["triage"]).await;
        let resp = app.login(&email, "not the password").await;
        assert_eq!(resp.status(), 401);
        assert!(resp.text().await.unwrap().contains("not right"));
        let resp = app.login("nobody@taskforce.example", "whatever it is").await;
        assert_eq!(resp.status(), 401, "unknown accounts look the same");
        for _ in 0..4 {
            app.login(&email, "still wrong").await;
        }
        let resp = app.login(&email, &password).await;
        assert_eq!(resp.status(), 429, "locked after 5 failures, even with the right password");
        assert!(resp.headers().contains_key("retry-after"));
    }

    async fn the_session_cookie_is_http_only_and_logout_ends_it(app: TestApp) {
        let (_, email, password) = app.create_staff("viewer", &[]).await;
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let resp = app.login_with(&client, &email, &password).await;
        assert_eq!(resp.status(), 303);
        let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(cookie.starts_with("ct_session="));
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        let page = client.get(app.url("/admin")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let csrf = csrf_of(&page.text().await.unwrap());
        let out = client.post(app.url("/admin/logout")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(out.status(), 303);
        let after = client.get(app.url("/admin")).send().await.unwrap();
        assert_eq!(after.status(), 303, "the session is gone");
    }

    async fn each_role_is_refused_what_it_may_not_do(app: TestApp) {
        let siv_case = app.submit(json!({"siv": {"status": "in_process"}})).await;
        let consular_case = app.submit(json!({"us_tie": "citizen"})).await;

        let viewer = app.staff("viewer", &[]).await;
        assert_eq!(viewer.get(&app, "/admin").await.status(), 200);
        for path in ["/admin/queues", "/admin/queues/siv", &format!("/admin/requests/{siv_case}"), "/admin/export.csv", "/admin/users", "/admin/rules", "/admin/requests/new", "/admin/replies"] {
            assert_eq!(viewer.get(&app, path).await.status(), 403, "viewer: {path}");
        }
        let home = "/admin";
        let write = |reference: &str| format!("/admin/requests/{reference}/messages");
        let message = [("language", "en"), ("text", "Please send your case number."), ("status", ""), ("step", "send")];
        assert_eq!(viewer.post(&app, home, &write(&siv_case), &message).await.status(), 403, "viewers write no messages");
        let dashboard = viewer.get(&app, "/admin").await.text().await.unwrap();
        assert!(!dashboard.contains("Karimi"), "no personal data on the dashboard");

        let worker = app.staff("caseworker", &["siv"]).await;
        assert_eq!(worker.get(&app, "/admin/queues/siv").await.status(), 200);
        assert_eq!(worker.get(&app, &format!("/admin/requests/{siv_case}")).await.status(), 200);
        for path in ["/admin/queues/consular", &format!("/admin/requests/{consular_case}"), "/admin/users", "/admin/rules", "/admin/guidance", "/admin/queue-settings", "/admin/replies"] {
            assert_eq!(worker.get(&app, path).await.status(), 403, "caseworker: {path}");
        }
        assert_eq!(worker.post(&app, home, &write(&consular_case), &message).await.status(), 403, "caseworkers write only in their queues");
        assert_eq!(worker.post(&app, home, &write(&siv_case), &message).await.status(), 200, "and write in them");
        let reply = [("title", "x"), ("category", ""), ("text_en", "x"), ("text_fa-AF", ""), ("text_ps", "")];
        assert_eq!(worker.post(&app, home, "/admin/replies", &reply).await.status(), 403, "caseworkers keep no saved replies");
        let resp = worker.act(&app, &siv_case, &[("action", "move"), ("queue", "triage"), ("reason", "x")]).await;
        assert_eq!(resp.status(), 403, "caseworkers do not move cases");
        let resp = worker.act(&app, &siv_case, &[("action", "recategorize"), ("category", "other"), ("reason", "x")]).await;
        assert_eq!(resp.status(), 403);
        let lead = app.staff("lead", &[]).await;
        let lead_id = lead.id.clone();
        let resp = worker.act(&app, &siv_case, &[("action", "assign"), ("assignee", lead_id.as_str())]).await;
        assert_eq!(resp.status(), 403, "caseworkers assign only themselves");

        for path in ["/admin/queues/consular", "/admin/rules", "/admin/guidance", "/admin/replies", &format!("/admin/requests/{consular_case}")] {
            assert_eq!(lead.get(&app, path).await.status(), 200, "lead: {path}");
        }
        assert_eq!(lead.post(&app, home, "/admin/replies", &reply).await.status(), 200, "leads keep saved replies");
        for path in ["/admin/users", "/admin/queue-settings"] {
            assert_eq!(lead.get(&app, path).await.status(), 403, "lead: {path}");
        }

        let admin = app.staff("admin", &[]).await;
        for path in ["/admin", "/admin/queues", "/admin/users", "/admin/rules", "/admin/guidance", "/admin/replies", "/admin/queue-settings", "/admin/requests/new"] {
            assert_eq!(admin.get(&app, path).await.status(), 200, "admin: {path}");
        }
    }

    async fn forms_without_the_csrf_token_are_refused(app: TestApp) {
        let reference = app.submit(json!({})).await;
        let lead = app.staff("lead", &[]).await;
        let resp = lead
            .client
            .post(app.url(&format!("/admin/requests/{reference}/actions")))
            .form(&[("action", "assign_self"), ("csrf", "forged")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403);
        let page = lead.get(&app, &format!("/admin/requests/{reference}")).await.text().await.unwrap();
        assert!(page.contains("id=\"assignee\">nobody"));
    }

    async fn a_caseworker_works_a_case_from_triage_to_referral(app: TestApp) {
        let reference = app.submit(json!({"claimed_programs": ["p2"], "full_name": "Zahra Ahmadi"})).await;
        let worker = app.staff("caseworker", &["triage"]).await;

        let queue = worker.get(&app, "/admin/queues/triage").await.text().await.unwrap();
        assert!(queue.contains(&reference), "the case is in the triage queue");
        assert!(!queue.contains("Zahra"), "queue lists carry no personal data");

        let case = worker.get(&app, &format!("/admin/requests/{reference}")).await.text().await.unwrap();
        assert!(case.contains("Zahra Ahmadi"));
        assert!(case.contains("Eligibility claimed, no referral on file"));
        assert!(case.contains("default queue: no rule matched"));

        let resp = worker.act(&app, &reference, &[("action", "assign_self")]).await;
        assert_eq!(resp.status(), 200);
        assert!(resp.url().path().ends_with(&reference), "redirected back to the case");
        let resp = worker.act(&app, &reference, &[("action", "status"), ("status", "triaged")]).await;
        assert_eq!(resp.status(), 200);
        let resp = worker.act(&app, &reference, &[("action", "note"), ("body", "Called back; P-2 employer letter pending.")]).await;
        assert_eq!(resp.status(), 200);

        let resp = worker.act(&app, &reference, &[("action", "status"), ("status", "referred_out")]).await;
        assert_eq!(resp.status(), 422);
        assert!(resp.text().await.unwrap().contains("say who the case is referred to"));
        let resp = worker
            .act(&app, &reference, &[("action", "status"), ("status", "referred_out"), ("referral_partner", "UNHCR")])
            .await;
        let page = resp.text().await.unwrap();
        assert!(page.contains("id=\"status\">Referred out"));
        assert!(page.contains("P-2 employer letter pending"));
        assert!(page.contains("referred to UNHCR with the standard referral text"));
        assert!(page.contains("Staff Caseworker"), "the timeline names who acted");

        let r = reference.clone();
        let (case, trail) = app
            .db(move |c| {
                let case = db::requests::find_by_reference(c, &r)?.unwrap();
                let trail = db::requests::audit_trail(c, &case.id)?;
                Ok((case, trail))
            })
            .await;
        assert!(!case.is_open);
        assert!(case.closed_at.is_some());
        let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).filter(|a| *a != "viewed").collect();
        assert_eq!(actions, ["created", "routed", "assigned", "status_changed", "noted", "status_changed"]);
        assert!(trail.iter().filter(|e| e.action == "viewed").count() >= 5, "every view of personal data is audited");
        assert!(trail.iter().all(|e| !e.detail.contains("employer letter")), "note text stays out of the trail");
    }

    async fn a_lead_reassigns_moves_and_recategorizes(app: TestApp) {
        let reference = app.submit(json!({})).await;
        let worker = app.staff("caseworker", &["siv"]).await;
        let lead = app.staff("lead", &[]).await;
        let resp = lead.act(&app, &reference, &[("action", "move"), ("queue", "siv"), ("reason", "")]).await;
        assert_eq!(resp.status(), 422, "a move needs a reason");
        let resp = lead.act(&app, &reference, &[("action", "move"), ("queue", "siv"), ("reason", "Has a COM case number")]).await;
        assert_eq!(resp.status(), 200);
        let resp = lead
            .act(&app, &reference, &[("action", "recategorize"), ("category", "siv_pending"), ("reason", "COM approval letter seen")])
            .await;
        assert_eq!(resp.status(), 200);
        let worker_id = worker.id.clone();
        let resp = lead.act(&app, &reference, &[("action", "assign"), ("assignee", worker_id.as_str())]).await;
        let page = resp.text().await.unwrap();
        assert!(page.contains("id=\"assignee\">Staff Caseworker"));
        assert!(page.contains("SIV desk"));
        assert!(page.contains("Special Immigrant Visa in process"));
        // The caseworker now sees it in their own list.
        let mine = worker.get(&app, "/admin/queues/siv?assignee=me").await.text().await.unwrap();
        assert!(mine.contains(&reference));
    }

    async fn the_dashboard_counts_backlog_by_category_queue_priority_and_age(app: TestApp) {
        app.submit(json!({"urgent": {"danger": true, "medical": false}})).await;
        app.submit(json!({"siv": {"status": "in_process"}})).await;
        app.submit(json!({"siv": {"status": "approved"}})).await;
        let closed = app.submit(json!({})).await;
        let lead = app.staff("lead", &[]).await;
        lead.act(&app, &closed, &[("action", "status"), ("status", "resolved")]).await;

        let viewer = app.staff("viewer", &[]).await;
        let page = viewer.get(&app, "/admin").await.text().await.unwrap();
        assert!(page.contains("<strong id=\"open-total\">3</strong>"), "{page}");
        assert!(page.contains("SIV desk</td><td class=\"num\">2</td>"));
        assert!(page.contains("Urgent protection desk</td><td class=\"num\">1</td>"));
        assert!(page.contains("<th scope=\"row\">Urgent</th><td class=\"num\">1</td>"));
        assert!(page.contains("<th scope=\"row\">&lt; 1 day</th><td class=\"num\">3</td>") || page.contains("<th scope=\"row\">&#60; 1 day</th><td class=\"num\">3</td>"));
        assert!(page.contains("<svg class=\"chart\""));
        assert!(page.contains("4 new</title>") || page.contains(": 4 new"), "today's bar counts 4 new");
        assert!(page.contains("1 closed</title>"));
        assert!(!page.contains("href=\"/admin/queues/"), "viewers get no links into queues");
    }

    async fn queue_pages_filter_and_page_through_every_case(app: TestApp) {
        for i in 0..55 {
            let changes = if i % 5 == 0 { json!({"household_size": 9}) } else { json!({}) };
            app.submit(changes).await;
        }
        let lead = app.staff("lead", &[]).await;
        let first = lead.get(&app, "/admin/queues/triage").await.text().await.unwrap();
        assert!(first.contains("<strong id=\"case-total\">55</strong>"));
        assert_eq!(first.matches("href=\"/admin/requests/TF-").count(), 50);
        let next = first.split("href=\"?").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&").replace("&#38;", "&");
        let second = lead.get(&app, &format!("/admin/queues/triage?{next}")).await.text().await.unwrap();
        assert_eq!(second.matches("href=\"/admin/requests/TF-").count(), 5);
        assert!(!second.contains("rel=\"next\""));

        let high = lead.get(&app, "/admin/queues/triage?priority=high").await.text().await.unwrap();
        assert!(high.contains("<strong id=\"case-total\">11</strong>"));
        let old = lead.get(&app, "/admin/queues/triage?age=gt14").await.text().await.unwrap();
        assert!(old.contains("<strong id=\"case-total\">0</strong>"));

        let one = app.submit(json!({})).await;
        let found = lead.get(&app, &format!("/admin/cases?q={}", one.to_lowercase())).await;
        assert!(found.url().path().ends_with(&one), "a reference search opens the case");
    }

    async fn an_empty_table_says_so_across_all_of_its_columns(app: TestApp) {
        let admin = app.staff("admin", &[]).await;
        for path in [
            "/admin/queues/triage",
            "/admin/cases?status=all",
            "/admin/outbox?status=dead",
            "/admin/audit?from=2001-01-01&to=2001-01-02",
        ] {
            let page = admin.get(&app, path).await.text().await.unwrap();
            let (columns, spanned) = columns_and_empty_row_span(&page);
            assert_eq!(spanned, columns, "{path}: the empty-state row spans {spanned} of {columns} columns");
        }
    }

    async fn csv_export_streams_every_row_and_notes_only_for_leads(app: TestApp) {
        let reference = app.submit(json!({"full_name": "=HYPERLINK(\"x\")"})).await;
        for _ in 0..3 {
            app.submit(json!({})).await;
        }
        let lead = app.staff("lead", &[]).await;
        lead.act(&app, &reference, &[("action", "note"), ("body", "internal remark")]).await;
        let csv = lead.get(&app, "/admin/export.csv?status=all").await;
        assert_eq!(csv.status(), 200);
        assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let body = csv.text().await.unwrap();
        assert_eq!(body.lines().count(), 5, "header and four rows");
        assert!(body.lines().next().unwrap().ends_with("internal_notes"));
        assert!(body.contains("internal remark"));
        assert!(body.contains("'=HYPERLINK"), "formulas are neutralised");

        let worker = app.staff("caseworker", &["triage"]).await;
        let body = worker.get(&app, "/admin/export.csv?queue=triage").await.text().await.unwrap();
        assert!(!body.contains("internal_notes") && !body.contains("internal remark"));
        assert_eq!(worker.get(&app, "/admin/export.csv?queue=siv").await.status(), 403);

        let trail: Vec<String> = app
            .db(|c| {
                use diesel::prelude::*;
                use case_triage::db::schema::audit_events as a;
                Ok(a::table.filter(a::action.eq("exported")).select(a::detail).load::<String>(c)?)
            })
            .await;
        assert_eq!(trail.len(), 2);
        assert!(trail[0].starts_with("4 cases"));
    }

    async fn staff_enter_walk_in_requests(app: TestApp) {
        let worker = app.staff("caseworker", &["triage"]).await;
        let form = crate::helpers::with_field(crate::helpers::valid_form(), "siv_status", "none");
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, *v)).collect();
        let resp = worker.post(&app, "/admin/requests/new", "/admin/requests/new", &fields).await;
        assert_eq!(resp.status(), 200);
        let page = resp.text().await.unwrap();
        assert!(page.contains("Entered by staff"));
        assert!(page.contains("entered by Staff Caseworker"));
        let bad = worker.post(&app, "/admin/requests/new", "/admin/requests/new", &[("applicant_full_name", "X")]).await;
        assert_eq!(bad.status(), 422);
        assert_eq!(app.request_count().await, 1);
    }

    async fn admins_manage_accounts_and_deactivation_ends_sessions(app: TestApp) {
        let admin = app.staff("admin", &[]).await;
        let resp = admin
            .post(&app, "/admin/users", "/admin/users", &[
                ("name", "Nadia Rahimi"),
                ("email", "nadia@taskforce.example"),
                ("role", "caseworker"),
                ("queue:siv", "yes"),
                ("password", "long enough password"),
            ])
            .await;
        assert_eq!(resp.status(), 200);
        assert!(resp.text().await.unwrap().contains("nadia@taskforce.example"));
        let short = admin
            .post(&app, "/admin/users", "/admin/users", &[("name", "X"), ("email", "x@taskforce.example"), ("role", "viewer"), ("password", "short")])
            .await;
        assert_eq!(short.status(), 422);

        let nadia = reqwest::Client::builder().cookie_store(true).build().unwrap();
        let resp = app.login_with(&nadia, "nadia@taskforce.example", "long enough password").await;
        assert_eq!(resp.status(), 200);
        assert_eq!(nadia.get(app.url("/admin/queues/siv")).send().await.unwrap().status(), 200);

        let id = app.db(|c| Ok(db::staff::find_by_email(c, "nadia@taskforce.example")?.unwrap().id)).await;
        let resp = admin.post(&app, "/admin/users", &format!("/admin/users/{id}"), &[("role", "caseworker")]).await;
        assert_eq!(resp.status(), 200);
        let after = nadia.get(app.url("/admin/queues/siv")).send().await.unwrap();
        assert_eq!(after.url().path(), "/admin/login", "a deactivated account is logged out");
        let again = app.login("nadia@taskforce.example", "long enough password").await;
        assert_eq!(again.status(), 401);
    }

    async fn leads_edit_routing_rules_and_preview_them(app: TestApp) {
        let lead = app.staff("lead", &[]).await;
        // A request before the change takes the seeded route (and warms what intake keeps
        // in memory: the change below must still apply to the very next request).
        let mut border = crate::helpers::valid_request();
        border["applicant"]["location"] = json!("border");
        border["applicant"]["full_name"] = json!(crate::helpers::distinct_name());
        border["applicant"]["phone"] = json!("+93 711 222 333");
        let before: serde_json::Value = app.post_json("/api/v1/requests", &border).await.json().await.unwrap();
        assert_ne!(before["queue"]["slug"], "consular", "{before}");
        let resp = lead
            .post(&app, "/admin/rules", "/admin/rules", &[
                ("position", "5"),
                ("name", "Partner border lists to consular"),
                ("source", "partner_api"),
                ("location", "border"),
                ("queue", "consular"),
                ("enabled", "yes"),
            ])
            .await;
        assert_eq!(resp.status(), 200);
        let preview = lead
            .post(&app, "/admin/rules", "/admin/rules/test", &[
                ("category", "border_arrival"),
                ("priority", "high"),
                ("source", "partner_api"),
                ("location", "border"),
            ])
            .await
            .text()
            .await
            .unwrap();
        assert!(preview.contains("Goes to queue \"consular\" by rule \"Partner border lists to consular\"") || preview.contains("Goes to queue &#34;consular&#34; by rule &#34;Partner border lists to consular&#34;") || preview.contains("Goes to queue &quot;consular&quot;"), "{preview}");

        let mut body = crate::helpers::valid_request();
        body["applicant"]["location"] = json!("border");
        let created: serde_json::Value = app.post_json("/api/v1/requests", &body).await.json().await.unwrap();
        assert_eq!(created["queue"]["slug"], "consular");
        let bad = lead.post(&app, "/admin/rules", "/admin/rules", &[("position", "x"), ("name", "n"), ("queue", "consular")]).await;
        assert_eq!(bad.status(), 422);
    }

    async fn edited_guidance_reaches_the_confirmation_page(app: TestApp) {
        let lead = app.staff("lead", &[]).await;
        let resp = lead
            .post(&app, "/admin/guidance", "/admin/guidance", &[
                ("category", "other"),
                ("body", "Visit the UNHCR help desk in Islamabad on Tuesdays."),
                ("next_steps", "We will call you within a week."),
            ])
            .await;
        assert_eq!(resp.status(), 200);
        let form = crate::helpers::with_field(crate::helpers::valid_form(), "siv_status", "none");
        let page = app.post_form(&form).await.text().await.unwrap();
        assert!(page.contains("Visit the UNHCR help desk in Islamabad on Tuesdays."));
        assert!(page.contains("We will call you within a week."));
    }

    async fn the_setup_link_creates_the_first_admin_once(app: TestApp) {
        let base = url::Url::parse(&app.address).unwrap();
        let link = app
            .db(move |c| case_triage::web::admin::auth::issue_setup_link(c, &base))
            .await
            .expect("no users yet, so a link");
        let path = url::Url::parse(&link).unwrap().path().to_string();
        let form = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(form.status(), 200);
        let resp = app
            .client
            .post(app.url(&path))
            .form(&[("name", "First Admin"), ("email", "first@taskforce.example"), ("password", "a very long password"), ("confirm", "a very long password")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.url().path(), "/admin");
        assert!(resp.text().await.unwrap().contains("First Admin"));
        assert_eq!(app.raw.get(app.url(&path)).send().await.unwrap().status(), 404, "used once");
    }
}

#[actix_web::test]
async fn admin_create_reads_the_password_from_stdin() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let data = app.dir.path().to_path_buf();
    let mut child = Command::new(env!("CARGO_BIN_EXE_case-triage"))
        .env("DATA_DIR", &data)
        .env_remove("DATABASE_URL")
        .args([
            "admin",
            "create",
            "--email",
            "cli@taskforce.example",
            "--name",
            "Cli Admin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"from stdin password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("from stdin password"));
    let resp = app
        .login("cli@taskforce.example", "from stdin password")
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("Cli Admin"));
}

/// The current TOTP code of `secret`, `steps_ahead` time steps from now.
fn totp_code(secret: &str, steps_ahead: u64) -> String {
    let t = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .with_account_name("x")
        .build()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    t.generate(now + 30 * steps_ahead).to_string()
}

fn between<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = page
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in page"))
        + start.len();
    &page[from..from + page[from..].find(end).unwrap()]
}

on_both_backends! {
    async fn staff_can_add_a_second_factor_with_recovery_codes(app: TestApp) {
        let (_, email, password) = app.create_staff("lead", &[]).await;
        let browser = reqwest::Client::builder().cookie_store(true).build().unwrap();
        assert_eq!(app.login_with(&browser, &email, &password).await.status(), 200);
        let page = browser.get(app.url("/admin/account")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Two-step login is <strong>off</strong>"));
        let csrf = csrf_of(&page);
        let page = browser
            .post(app.url("/admin/account/totp/start"))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("<svg"), "a QR code to scan");
        let secret = between(&page, "id=\"totp-secret\">", "<").to_string();
        let wrong = browser
            .post(app.url("/admin/account/totp"))
            .form(&[("csrf", csrf.as_str()), ("code", "000000")])
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 422);
        let code = totp_code(&secret, 0);
        let page = browser
            .post(app.url("/admin/account/totp"))
            .form(&[("csrf", csrf.as_str()), ("code", code.as_str())])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let codes: Vec<String> = between(&page, "id=\"recovery-codes\">", "</ul>")
            .split("<code>")
            .skip(1)
            .map(|c| c[..c.find('<').unwrap()].to_string())
            .collect();
        assert_eq!(codes.len(), 10);

        // Logging in now takes a second step; the password alone opens nothing.
        let phone = reqwest::Client::builder().cookie_store(true).build().unwrap();
        let resp = app.login_with(&phone, &email, &password).await;
        assert_eq!(resp.url().path(), "/admin/login/code");
        let blocked = phone.get(app.url("/admin")).send().await.unwrap();
        assert_eq!(blocked.url().path(), "/admin/login");
        let resp = app.login_with(&phone, &email, &password).await;
        assert_eq!(resp.url().path(), "/admin/login/code");
        let replay = phone.post(app.url("/admin/login/code")).form(&[("code", code.as_str())]).send().await.unwrap();
        assert_eq!(replay.status(), 401, "a code is accepted once");
        let next = totp_code(&secret, 1);
        let ok = phone.post(app.url("/admin/login/code")).form(&[("code", next.as_str())]).send().await.unwrap();
        assert_eq!(ok.url().path(), "/admin");
        assert_eq!(ok.status(), 200);

        // A recovery code works once.
        let laptop = reqwest::Client::builder().cookie_store(true).build().unwrap();
        app.login_with(&laptop, &email, &password).await;
        let ok = laptop.post(app.url("/admin/login/code")).form(&[("code", codes[3].as_str())]).send().await.unwrap();
        assert_eq!(ok.url().path(), "/admin");
        let again = reqwest::Client::builder().cookie_store(true).build().unwrap();
        app.login_with(&again, &email, &password).await;
        let used = again.post(app.url("/admin/login/code")).form(&[("code", codes[3].as_str())]).send().await.unwrap();
        assert_eq!(used.status(), 401);
    }
}

on_both_backends! {
    async fn walk_in_lists_upload_as_csv_with_a_result_per_line(app: TestApp) {
        let worker = app.staff("caseworker", &["triage"]).await;
        let template = worker.get(&app, "/admin/requests/template.csv").await;
        assert_eq!(template.status(), 200);
        let template = template.text().await.unwrap();
        let header = template.lines().next().unwrap().to_string();
        // After the byte order mark (see csv_downloads_open_in_excel_…), kept in the upload.
        let columns = header.trim_start_matches('\u{feff}');
        assert!(columns.starts_with("submitter_kind,") && columns.ends_with(",urgent_medical"));
        let example = template.lines().nth(1).unwrap().to_string();
        let mut csv = format!("{header}\n{example}\n");
        csv.push_str(&example.replace("Example Person", "Second Person").replace("+93 700 000 000", "+93 711 111 111"));
        csv.push('\n');
        csv.push_str(&example.replace(",pakistan,", ",mars,"));
        csv.push('\n');

        let upload = |all_or_nothing: bool, body: String| {
            let worker = &worker;
            let app = &app;
            async move {
                let page = worker.get(app, "/admin/requests/upload").await.text().await.unwrap();
                let mut form = reqwest::multipart::Form::new()
                    .text("csrf", csrf_of(&page))
                    .part("file", reqwest::multipart::Part::text(body).file_name("list.csv"));
                if all_or_nothing {
                    form = form.text("all_or_nothing", "yes");
                }
                worker.client.post(app.url("/admin/requests/upload")).multipart(form).send().await.unwrap()
            }
        };
        let resp = upload(true, csv.clone()).await;
        assert_eq!(resp.status(), 422);
        assert!(resp.text().await.unwrap().contains("nothing was stored"));
        assert_eq!(app.request_count().await, 0);

        let resp = upload(false, csv).await;
        assert_eq!(resp.status(), 422, "one line had an error");
        let page = resp.text().await.unwrap();
        assert!(page.contains("<strong>2</strong> requests stored"));
        assert!(page.contains("applicant_location: please choose one of the options") || page.contains("applicant.location"), "{page}");
        assert_eq!(page.matches("href=\"/admin/requests/TF-").count(), 2);
        assert_eq!(app.request_count().await, 2);

        let bad = upload(false, "name,phone\nx,y\n".to_string()).await;
        assert_eq!(bad.status(), 422);
        assert!(bad.text().await.unwrap().contains("unknown column"));
        let viewer = app.staff("viewer", &[]).await;
        assert_eq!(viewer.get(&app, "/admin/requests/upload").await.status(), 403);
    }
}

/// The bytes of a CSV download, checked to start with the UTF-8 byte order mark (what makes
/// Excel read it as UTF-8) and to be UTF-8 after it.
async fn csv_for_excel(
    staff: &crate::helpers::StaffClient,
    app: &crate::helpers::TestApp,
    path: &str,
) -> Vec<u8> {
    let resp = staff.get(app, path).await;
    assert_eq!(resp.status(), 200, "{path}");
    assert_eq!(
        resp.headers()["content-type"],
        "text/csv; charset=utf-8",
        "{path}"
    );
    let bytes = resp.bytes().await.unwrap().to_vec();
    assert_eq!(
        &bytes[..3],
        b"\xEF\xBB\xBF",
        "{path} starts with a byte order mark"
    );
    assert!(std::str::from_utf8(&bytes[3..]).is_ok(), "{path} is UTF-8");
    bytes
}

on_both_backends! {
    async fn csv_downloads_open_in_excel_with_dari_and_pashto_intact(app: TestApp) {
        let name = "زرغونه کریمی";
        let description = "موږ په پېښور کې یو او د مرکې په تمه یو";
        let reference = app.submit(json!({"full_name": name, "description": description})).await;
        let admin = app.staff("admin", &[]).await;

        let bytes = csv_for_excel(&admin, &app, "/admin/export.csv?status=all").await;
        let mut reader = csv::Reader::from_reader(&bytes[3..]);
        let header = reader.headers().unwrap().clone();
        assert_eq!(&header[0], "reference", "the mark is not part of the first column's name");
        let column = |name: &str| header.iter().position(|h| h == name).unwrap();
        let row = reader
            .records()
            .map(Result::unwrap)
            .find(|r| r[0] == reference)
            .expect("the request is exported");
        assert_eq!(&row[column("applicant_full_name")], name);
        assert_eq!(&row[column("description")], description);

        let audit = csv_for_excel(&admin, &app, "/admin/audit.csv").await;
        assert!(String::from_utf8(audit).unwrap().contains(&reference));

        // The walk-in template opens the same way, and goes back up as downloaded.
        let template = csv_for_excel(&admin, &app, "/admin/requests/template.csv").await;
        let page = admin.get(&app, "/admin/requests/upload").await.text().await.unwrap();
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf_of(&page))
            .part("file", reqwest::multipart::Part::bytes(template).file_name("walk-in-template.csv"));
        let resp = admin.client.post(app.url("/admin/requests/upload")).multipart(form).send().await.unwrap();
        let page = resp.text().await.unwrap();
        assert!(page.contains("<strong>1</strong> request stored"), "{page}");
    }
}
