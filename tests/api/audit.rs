//! The audit log page and its export: who may see it, what it shows, filters and paging.

use crate::on_both_backends;
use case_triage::db;
use serde_json::json;

on_both_backends! {
    async fn only_admins_and_leads_read_the_audit_log(app: TestApp) {
        for role in ["caseworker", "viewer"] {
            let staff = app.staff(role, &["triage"]).await;
            for path in ["/admin/audit", "/admin/audit.csv"] {
                assert_eq!(staff.get(&app, path).await.status(), 403, "{role}: {path}");
            }
            let dashboard = staff.get(&app, "/admin").await.text().await.unwrap();
            assert!(!dashboard.contains("/admin/audit"), "{role} sees no link");
        }
        for role in ["lead", "admin"] {
            let staff = app.staff(role, &[]).await;
            let dashboard = staff.get(&app, "/admin").await.text().await.unwrap();
            assert!(dashboard.contains("href=\"/admin/audit\""), "{role} has the link");
            assert_eq!(staff.get(&app, "/admin/audit").await.status(), 200, "{role}");
        }
        let resp = app.raw.get(app.url("/admin/audit")).send().await.unwrap();
        assert_eq!(resp.headers()["location"], "/admin/login");
    }

    async fn the_audit_log_shows_who_read_what_newest_first_with_filters(app: TestApp) {
        let reference = app.submit(json!({})).await;
        let worker = app.staff("caseworker", &["triage"]).await;
        let lead = app.staff("lead", &[]).await;
        assert_eq!(worker.get(&app, &format!("/admin/requests/{reference}")).await.status(), 200);
        assert_eq!(lead.get(&app, "/admin/export.csv?status=all").await.status(), 200);
        lead.get(&app, "/admin/export.csv?status=all").await.text().await.unwrap();

        let page = lead.get(&app, "/admin/audit").await.text().await.unwrap();
        let exported = page.find("<td>exported</td>").expect("the export is listed");
        let viewed = page.find("<td>viewed</td>").expect("the view is listed");
        assert!(exported < viewed, "newest first");
        assert!(page.contains("Staff Lead") && page.contains("Staff Caseworker"), "display names");
        assert!(page.contains(&format!("href=\"/admin/requests/{reference}\"")), "the case reference");
        assert!(!page.contains("<td>user:"), "names, not ids, in the table");

        let mine = lead
            .get(&app, &format!("/admin/audit?actor=user:{}", worker.id))
            .await
            .text()
            .await
            .unwrap();
        assert!(mine.contains("<td>viewed</td>") && !mine.contains("<td>exported</td>"), "{mine}");
        let views = lead.get(&app, "/admin/audit?action=viewed").await.text().await.unwrap();
        assert!(views.contains("Staff Caseworker") && !views.contains("<td>exported</td>"));
        let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%d");
        let future = lead.get(&app, &format!("/admin/audit?from={tomorrow}")).await.text().await.unwrap();
        assert!(future.contains("No events match"));
        let today = chrono::Utc::now().format("%Y-%m-%d");
        let today_only = lead
            .get(&app, &format!("/admin/audit?from={today}&to={today}&action=viewed"))
            .await
            .text()
            .await
            .unwrap();
        assert!(today_only.contains("Staff Caseworker"));
        assert_eq!(lead.get(&app, "/admin/audit?from=yesterday").await.status(), 422);
    }

    async fn the_audit_filter_offers_every_kind_of_actor(app: TestApp) {
        let admin = app.staff("admin", &[]).await;
        let (id, token) = crate::partners::partner_with_token(&app, &admin, "Filter NGO", "").await;
        let resp = crate::partners::post_with(&app, "/api/v1/requests", &token, &crate::partners::distinct_request()).await;
        assert_eq!(resp.status(), 201);
        let theirs = resp.json::<serde_json::Value>().await.unwrap()["reference"].as_str().unwrap().to_string();
        let anonymous = app.submit(json!({})).await;

        let page = admin.get(&app, "/admin/audit").await.text().await.unwrap();
        for (value, label) in [
            ("public", "applicant (web form)"),
            ("partner", "partner (API)"),
            ("system", "system"),
            ("cli", "cli"),
            ("scheduler", "scheduler"),
            ("demo-data", "demo-data"),
        ] {
            assert!(page.contains(&format!("<option value=\"{value}\">{label}</option>")), "{value}: {page}");
        }
        assert!(page.contains(&format!("<option value=\"partner:{id}\">Filter NGO (API token)</option>")), "{page}");

        // The partner's own submissions, named by the partner.
        let by_partner = admin.get(&app, &format!("/admin/audit?actor=partner:{id}")).await.text().await.unwrap();
        assert!(by_partner.contains(&theirs) && !by_partner.contains(&anonymous), "{by_partner}");
        assert!(by_partner.contains("Filter NGO (API token)"));
        // What the app did on its own: routing both requests.
        let by_system = admin.get(&app, "/admin/audit?actor=system").await.text().await.unwrap();
        assert!(by_system.contains("<td>routed</td>") && by_system.contains(&theirs) && by_system.contains(&anonymous));
        assert!(!by_system.contains("<td>created</td>"), "{by_system}");
        assert_eq!(admin.get(&app, "/admin/audit?actor=nobody").await.status(), 422);
    }

    async fn the_audit_log_pages_and_exports_what_the_filter_shows(app: TestApp) {
        let now = chrono::Utc::now().naive_utc();
        app.db(move |conn| {
            for i in 0..130 {
                let at = now - chrono::Duration::seconds(i);
                db::cases::audit(conn, None, &case_triage::domain::Actor::Cli, "user_created", format!("event {i}"), at)?;
            }
            Ok(())
        })
        .await;
        let lead = app.staff("lead", &[]).await;
        let first = lead.get(&app, "/admin/audit?action=user_created").await.text().await.unwrap();
        assert!(first.contains("event 0<") && first.contains("event 99<") && !first.contains("event 100<"));
        let at = first.find("rel=\"next\"").expect("a next page");
        let href_start = first[..at].rfind("href=\"?").unwrap() + "href=\"".len();
        let href = first[href_start..at].trim_end_matches(['"', ' ']).replace("&amp;", "&").replace("&#38;", "&");
        let second = lead.get(&app, &format!("/admin/audit{href}")).await.text().await.unwrap();
        assert!(second.contains("event 100<") && second.contains("event 129<"), "{href}\n{second}");
        assert!(!second.contains("event 99<") && !second.contains("rel=\"next\""));

        let csv = lead.get(&app, "/admin/audit.csv?action=user_created").await;
        assert_eq!(csv.status(), 200);
        assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let body = csv.text().await.unwrap();
        assert_eq!(body.lines().count(), 131, "header and every event");
        assert!(body.lines().nth(1).unwrap().contains("event 0"));
        let trail: Vec<String> = app
            .db(|c| {
                use diesel::prelude::*;
                use case_triage::db::schema::audit_events as a;
                Ok(a::table.filter(a::action.eq("audit_exported")).select(a::detail).load::<String>(c)?)
            })
            .await;
        assert_eq!(trail.len(), 1, "the export is on the record");
        assert!(trail[0].starts_with("130 audit events"), "{}", trail[0]);
    }
}
