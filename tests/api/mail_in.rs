//! Mail to the task-force mailbox, taken in through the drop folder (`$DATA_DIR/inbox`) and
//! the MTA pipe (`case-triage mail-in`): what each mail of the corpus in
//! `tests/data/mail/` becomes, on both backends.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use case_triage::db::{self, DbConnection};
use diesel::prelude::*;

use crate::for_each_backend;
use crate::helpers::{spawn_app_with, Backend, TestApp};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mail");

for_each_backend!(
    new_mail_becomes_a_request_in_its_language_with_its_files,
    replies_thread_onto_their_case_and_strangers_do_not,
    automatic_mail_is_never_answered_and_bounces_are_matched,
    mail_that_cannot_be_read_is_kept_for_staff,
    the_same_mail_twice_is_taken_once_and_acknowledgments_are_limited,
    the_pipe_command_exits_75_when_the_database_is_down,
    a_rule_on_the_sender_domain_routes_mail,
);

/// A corpus mail with its placeholders filled.
pub fn corpus(name: &str, fill: &[(&str, &str)]) -> Vec<u8> {
    let mut raw = std::fs::read(Path::new(CORPUS).join(name)).expect("corpus mail");
    for (from, to) in fill {
        raw = replace(&raw, from.as_bytes(), to.as_bytes());
    }
    raw
}

fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

async fn app(
    backend: Backend,
    configure: impl FnOnce(&mut case_triage::config::Settings),
) -> Option<TestApp> {
    spawn_app_with(backend, |s| {
        s.mail.from = "Task force <no-reply@taskforce.example>".parse().unwrap();
        s.mail.poll = Duration::from_secs(3600);
        s.mail_in.max_bytes = 1024 * 1024;
        s.mail_in.max_file_bytes = 64 * 1024;
        s.reply_to = Some(
            case_triage::domain::fields::ContactEmail::parse("taskforce@taskforce.example")
                .unwrap(),
        );
        configure(s);
    })
    .await
}

/// What a delivered mail became: its ledger row.
#[derive(Debug)]
pub struct Became {
    pub outcome: String,
    pub request_id: Option<String>,
    pub file: PathBuf,
}

/// Puts `raw` in the drop folder as `name` (written beside it, then moved in, as a mail
/// client or an MTA does) and waits until the folder has taken it.
pub async fn deliver(app: &TestApp, name: &str, raw: &[u8]) -> Became {
    let inbox = app.dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let tmp = app.dir.path().join(format!("{name}.part"));
    std::fs::write(&tmp, raw).unwrap();
    std::fs::rename(&tmp, inbox.join(name)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let file = loop {
        let done = inbox.join("done").join(name);
        let failed = inbox.join("failed").join(name);
        if done.exists() {
            break done;
        }
        if failed.exists() {
            break failed;
        }
        assert!(
            Instant::now() < deadline,
            "{name} was never taken from the drop folder"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };
    let key = case_triage::email::inbound::ledger_key(raw);
    let row = app
        .db(move |c| db::mail_in::by_key(c, &key))
        .await
        .expect("a ledger row for every mail taken");
    Became {
        outcome: row.outcome.to_string(),
        request_id: row.request_id,
        file,
    }
}

fn request(conn: &mut DbConnection, id: &str) -> Result<db::models::CaseRequestRow, db::DbError> {
    Ok(db::requests::find_by_ids(conn, &[id.to_string()])?.remove(0))
}

async fn request_of(
    app: &TestApp,
    id: &str,
) -> (db::models::CaseRequestRow, db::models::PersonalDataRow) {
    let id = id.to_string();
    app.db(move |c| {
        let r = request(c, &id)?;
        let p = db::requests::personal_data(c, &id)?.unwrap();
        Ok((r, p))
    })
    .await
}

async fn outbox_of(app: &TestApp, request_id: &str) -> Vec<db::outbox::OutboxRow> {
    let id = request_id.to_string();
    app.db(move |c| {
        Ok(db::outbox::list(c, None, 1000)?
            .into_iter()
            .filter(|r| r.request_id.as_deref() == Some(id.as_str()))
            .collect())
    })
    .await
}

/// The acknowledgments the app wrote for a request.
async fn acknowledgments(app: &TestApp, request_id: &str) -> Vec<db::outbox::OutboxRow> {
    outbox_of(app, request_id)
        .await
        .into_iter()
        .filter(|m| m.kind.as_str() == "acknowledgment")
        .collect()
}

async fn audit_actions(app: &TestApp, request_id: &str) -> Vec<(String, String)> {
    let id = request_id.to_string();
    app.db(move |c| {
        use case_triage::db::schema::audit_events as a;
        Ok(a::table
            .filter(a::request_id.eq(id))
            .select((a::action, a::detail))
            .load(c)?)
    })
    .await
}

async fn requests(app: &TestApp) -> i64 {
    app.request_count().await
}

async fn new_mail_becomes_a_request_in_its_language_with_its_files(backend: Backend) {
    let Some(app) = app(backend, |s| {
        s.mail_in.organization_domains = vec!["partner.example.org".into()];
    })
    .await
    else {
        return;
    };

    // Persian in windows-1256, its subject an RFC 2047 word: decoded, filed, answered in Dari.
    let fa = deliver(&app, "fa.eml", &corpus("persian_windows_1256.eml", &[])).await;
    assert_eq!(fa.outcome, "new_request");
    assert!(fa.file.ends_with("done/fa.eml"));
    let (row, personal) = request_of(&app, fa.request_id.as_deref().unwrap()).await;
    assert_eq!(row.source.as_str(), "email");
    assert_eq!(row.category.as_str(), "other");
    assert_eq!(row.language.as_str(), "fa-AF");
    let description = personal.description.clone().unwrap();
    assert!(
        description.contains("درخواست کمک برای ویزای خاص مهاجرت"),
        "{description}"
    );
    assert!(description.contains("محمد کريمي"), "{description}");
    assert_eq!(
        personal.submitter_email.as_deref(),
        Some("m.karimi@example.af")
    );
    assert_eq!(personal.applicant_full_name, "محمد کریمی");
    assert_eq!(personal.applicant_phone.as_deref(), Some("+93700123456"));
    let acks = acknowledgments(&app, &row.id).await;
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].recipient, "m.karimi@example.af");
    assert!(
        acks[0].body_html.contains("dir=\"rtl\""),
        "answered in Dari"
    );
    assert!(!acks[0].subject.contains("کریمی"), "no name in the subject");

    // ISO-8859-6, quoted-printable.
    let ar = deliver(&app, "ar.eml", &corpus("arabic_iso_8859_6.eml", &[])).await;
    let (_, personal) = request_of(&app, ar.request_id.as_deref().unwrap()).await;
    assert!(personal
        .description
        .unwrap()
        .contains("أحتاج إلى مساعدة عاجلة"));

    // HTML only: its text, none of its markup or script.
    let html = deliver(&app, "html.eml", &corpus("html_only_script.eml", &[])).await;
    let (_, personal) = request_of(&app, html.request_id.as_deref().unwrap()).await;
    let text = personal.description.unwrap();
    assert!(
        text.contains("We are five people waiting at Torkham."),
        "{text}"
    );
    assert!(text.contains("+92 300 1234567"));
    for bad in [
        "<script",
        "alert(",
        "onclick",
        "<p",
        "tracker.example",
        "color: red",
    ] {
        assert!(!text.contains(bad), "{bad} in {text}");
    }

    // Nested multipart from a partner's domain: an organization, its file kept and listed.
    let nested = deliver(&app, "nested.eml", &corpus("nested_attachment.eml", &[])).await;
    let id = nested.request_id.clone().unwrap();
    let (row, personal) = request_of(&app, &id).await;
    assert_eq!(row.submitter_kind.as_str(), "organization");
    assert!(personal
        .description
        .unwrap()
        .contains("COM case 2021-445566"));
    let files = {
        let id = id.clone();
        app.db(move |c| db::mail_in::attachments_of(c, &id)).await
    };
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].filename, "tazkira.pdf");
    assert_eq!(
        files[0].content_type, "application/pdf",
        "sniffed, not the claimed octet-stream"
    );
    assert!(files[0].refused.is_none());
    let stored = {
        let (rid, fid) = (id.clone(), files[0].id.clone());
        app.db(move |c| Ok(db::mail_in::attachment(c, &rid, &fid)?.unwrap()))
            .await
    };
    assert!(stored.data.unwrap().starts_with(b"%PDF-1.4"));

    // Staff who may work the case see the file and download it, never inline; audited.
    let staff = app.staff("caseworker", &[&row.queue_slug]).await;
    let page = staff
        .get(&app, &format!("/admin/requests/{}", row.reference))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("tazkira.pdf"), "{page}");
    let link = format!(
        "/admin/requests/{}/attachments/{}",
        row.reference, files[0].id
    );
    assert!(page.contains(&link));
    let download = staff.get(&app, &link).await;
    assert_eq!(download.status(), 200);
    let h = download.headers().clone();
    assert!(h["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-type"], "application/pdf");
    assert!(download.bytes().await.unwrap().starts_with(b"%PDF-1.4"));
    assert!(audit_actions(&app, &id)
        .await
        .iter()
        .any(|(a, _)| a == "attachment_downloaded"));
    // Someone outside the queue cannot.
    let other = app.staff("caseworker", &["siv"]).await;
    if row.queue_slug != "siv" {
        assert_eq!(other.get(&app, &link).await.status(), 404);
    }

    // The purge empties the files of a request it anonymizes, and the mail as it arrived.
    let dir = app.dir.path().to_path_buf();
    let reference = row.reference.clone();
    let (purged, data) = app
        .db_conn(move |c| {
            use case_triage::db::schema::case_requests as r;
            let long_ago = chrono::Utc::now().naive_utc() - chrono::Duration::days(400);
            diesel::update(r::table.filter(r::reference.eq(&reference)))
                .set((
                    r::status.eq("resolved"),
                    r::is_open.eq(false),
                    r::closed_at.eq(Some(long_ago)),
                ))
                .execute(&mut **c)?;
            let now = chrono::Utc::now().naive_utc();
            let purged = case_triage::app::purge::run(
                c,
                &dir,
                now + chrono::Duration::days(1),
                db::purge::Trigger::Cli,
                now,
            )?
            .unwrap();
            let data = db::mail_in::attachments_of(c, &id)?;
            Ok((purged, data))
        })
        .await;
    assert_eq!(purged.counts.attachments, 1);
    assert_eq!(data[0].filename, "[removed]");
    assert_eq!(link_status(&app, &staff, &link).await, 404);
    assert!(
        std::fs::read_dir(app.dir.path().join("inbox/done"))
            .unwrap()
            .next()
            .is_none(),
        "taken mail older than the cutoff is removed from the drop folder"
    );
}

async fn link_status(app: &TestApp, staff: &crate::helpers::StaffClient, link: &str) -> u16 {
    staff.get(app, link).await.status().as_u16()
}

/// Files a request by the API with `email` as the applicant's address; (id, reference).
async fn filed_with_email(app: &TestApp, email: &str) -> (String, String) {
    let mut body = crate::helpers::valid_request();
    body["applicant"]["email"] = serde_json::json!(email);
    let resp = app.post_json("/api/v1/requests", &body).await;
    assert_eq!(resp.status(), 201);
    let json: serde_json::Value = resp.json().await.unwrap();
    let reference = json["reference"].as_str().unwrap().to_string();
    let r = reference.clone();
    let id = app
        .db(move |c| Ok(db::requests::find_by_reference(c, &r)?.unwrap().id))
        .await;
    (id, reference)
}

/// The Message-ID (without <>) of the acknowledgment the app sent for a request.
async fn acknowledgment_id(app: &TestApp, request_id: &str) -> String {
    let ack = acknowledgments(app, request_id)
        .await
        .into_iter()
        .next()
        .expect("an acknowledgment");
    format!("{}@taskforce.example", ack.id)
}

async fn messages_of(app: &TestApp, request_id: &str) -> Vec<(String, String)> {
    let id = request_id.to_string();
    app.db(move |c| {
        use case_triage::db::schema::case_messages as m;
        Ok(m::table
            .filter(m::request_id.eq(id))
            .select((m::direction, m::body))
            .load(c)?)
    })
    .await
}

async fn replies_thread_onto_their_case_and_strangers_do_not(backend: Backend) {
    let Some(app) = app(backend, |_| {}).await else {
        return;
    };
    let requester = "family.noori@example.org";
    let (id, reference) = filed_with_email(&app, requester).await;
    let ours = acknowledgment_id(&app, &id).await;
    let before = requests(&app).await;
    let fill = [
        ("{OUR_ID}", ours.as_str()),
        ("{REFERENCE}", reference.as_str()),
        ("{REQUESTER}", requester),
    ];

    // A reply naming our Message-ID: the requester's words on the case, not our quote.
    let reply = deliver(&app, "reply.eml", &corpus("reply_in_reply_to.eml", &fill)).await;
    assert_eq!(reply.outcome, "threaded");
    assert_eq!(reply.request_id.as_deref(), Some(id.as_str()));
    let messages = messages_of(&app, &id).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].0, "incoming");
    assert!(messages[0].1.contains("2022-987654"));
    assert!(
        !messages[0].1.contains("Please send us"),
        "the quote is left out"
    );

    // Only the reference in the subject, from the case's own requester: threaded too.
    let own = deliver(
        &app,
        "own.eml",
        &corpus("subject_reference_requester.eml", &fill),
    )
    .await;
    assert_eq!(own.outcome, "threaded");
    assert_eq!(own.request_id.as_deref(), Some(id.as_str()));
    assert_eq!(messages_of(&app, &id).await.len(), 2);

    // The same reference from a stranger: a new request, marked, nothing added to the case.
    let stranger = deliver(
        &app,
        "stranger.eml",
        &corpus("subject_reference_stranger.eml", &fill),
    )
    .await;
    assert_eq!(stranger.outcome, "mentions");
    let new_id = stranger.request_id.unwrap();
    assert_ne!(new_id, id);
    assert_eq!(messages_of(&app, &id).await.len(), 2);
    assert!(audit_actions(&app, &new_id)
        .await
        .iter()
        .any(|(a, d)| a == "mail_mentions" && d.contains(&reference)));
    // Its acknowledgment tells the stranger nothing of the other case.
    let ack = acknowledgments(&app, &new_id).await.remove(0);
    assert_eq!(ack.recipient, "stranger@elsewhere.example");
    assert!(!ack.body_text.contains(&reference));
    assert!(!ack.subject.contains(&reference));
    assert_eq!(requests(&app).await, before + 1);

    // A reply to the case's reply token.
    let token = {
        let id = id.clone();
        let now = chrono::Utc::now().naive_utc();
        app.db_conn(move |c| db::messages::reply_token(c, &id, now))
            .await
    };
    let token_mail = format!(
        "From: {requester}\r\nTo: taskforce+{token}@taskforce.example\r\nSubject: more\r\nMessage-ID: <tok-1@example.org>\r\n\r\nOne more document follows.\r\n"
    );
    let by_token = deliver(&app, "token.eml", token_mail.as_bytes()).await;
    assert_eq!(by_token.outcome, "threaded");
    assert_eq!(by_token.request_id.as_deref(), Some(id.as_str()));
    let answers = messages_of(&app, &id).await.len();

    // A caseworker answering the queue's notice by mail is not the requester answering.
    let notice = outbox_of(&app, &id)
        .await
        .into_iter()
        .find(|m| m.kind.as_str() == "new_request")
        .expect("the queue's notice");
    let staff_reply = format!(
        "From: {to}\r\nSubject: Re: new request\r\nMessage-ID: <staff-re-1@taskforce.example.org>\r\nIn-Reply-To: <{id}@taskforce.example>\r\n\r\nI will take it.\r\n",
        to = notice.recipient,
        id = notice.id
    );
    let noted = deliver(&app, "staff.eml", staff_reply.as_bytes()).await;
    assert_eq!(noted.outcome, "automatic");
    assert_eq!(noted.request_id.as_deref(), Some(id.as_str()));
    assert_eq!(
        messages_of(&app, &id).await.len(),
        answers,
        "not in the conversation"
    );
    assert!(audit_actions(&app, &id)
        .await
        .iter()
        .any(|(a, _)| a == "mail_staff_reply"));
}

async fn automatic_mail_is_never_answered_and_bounces_are_matched(backend: Backend) {
    let Some(app) = app(backend, |_| {}).await else {
        return;
    };
    let requester = "gone.user@example.org";
    let (id, reference) = filed_with_email(&app, requester).await;
    let ours = acknowledgment_id(&app, &id).await;
    let fill = [
        ("{OUR_ID}", ours.as_str()),
        ("{REFERENCE}", reference.as_str()),
        ("{REQUESTER}", requester),
    ];
    let mails_before = outbox_of(&app, &id).await.len();
    let before = requests(&app).await;

    // An out-of-office answer: noted on the case, not taken as the requester's reply.
    let ooo = deliver(&app, "ooo.eml", &corpus("out_of_office.eml", &fill)).await;
    assert_eq!(ooo.outcome, "out_of_office");
    assert_eq!(ooo.request_id.as_deref(), Some(id.as_str()));
    assert!(messages_of(&app, &id).await.is_empty());
    assert!(audit_actions(&app, &id)
        .await
        .iter()
        .any(|(a, d)| a == "mail_automatic" && d.contains("out-of-office")));
    assert_eq!(
        outbox_of(&app, &id).await.len(),
        mails_before,
        "no notice, no answer"
    );

    // A delivery-status report: on the mail it reports and on the case; never a request.
    let bounce = deliver(&app, "bounce.eml", &corpus("bounce_dsn.eml", &fill)).await;
    assert_eq!(bounce.outcome, "bounce");
    assert_eq!(requests(&app).await, before);
    assert!(audit_actions(&app, &id)
        .await
        .iter()
        .any(|(a, d)| a == "mail_bounced"
            && d.contains("g***@example.org")
            && d.contains("5.1.1")));
    let bounces = {
        let ack = ours.split('@').next().unwrap().to_string();
        app.db(move |c| db::mail_in::bounces_of(c, &[ack])).await
    };
    assert_eq!(bounces.len(), 1);
    let admin = app.staff("admin", &[]).await;
    let outbox = admin.get(&app, "/admin/outbox").await.text().await.unwrap();
    assert!(
        outbox.contains("could not be delivered to g***@example.org"),
        "{outbox}"
    );
    assert!(!outbox.contains("gone.user@"), "the address is masked");

    // A mailing list: filed for staff, never acknowledged.
    let list = deliver(&app, "list.eml", &corpus("mailing_list.eml", &[])).await;
    assert_eq!(list.outcome, "automatic");
    let list_id = list.request_id.unwrap();
    assert!(acknowledgments(&app, &list_id).await.is_empty());
}

async fn mail_that_cannot_be_read_is_kept_for_staff(backend: Backend) {
    let Some(app) = app(backend, |_| {}).await else {
        return;
    };
    let before = requests(&app).await;
    let big = deliver(&app, "big.eml", &corpus("over_size_limit.eml", &[])).await;
    assert_eq!(big.outcome, "unreadable");
    assert!(big.file.ends_with("failed/big.eml"));
    let reason = std::fs::read_to_string(big.file.with_extension("eml.reason.txt")).unwrap();
    assert!(reason.contains("over the limit"), "{reason}");
    let broken = deliver(&app, "broken.eml", &corpus("broken_boundary.eml", &[])).await;
    assert_eq!(broken.outcome, "unreadable");
    let garbage = deliver(&app, "garbage.eml", b"\x00\x01 not a mail at all").await;
    assert_eq!(garbage.outcome, "unreadable");
    assert_eq!(requests(&app).await, before, "nothing half-done");

    // Staff see each with its reason, and turn one into a request or discard it.
    let lead = app.staff("admin", &[]).await;
    let page = lead
        .get(&app, "/admin/mail/unreadable")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("over the limit"), "{page}");
    assert!(page.contains("boundary never appears"), "{page}");
    let list = app.db(|c| db::mail_in::unreadable(c, true)).await;
    assert_eq!(list.len(), 3);
    let broken_id = list
        .iter()
        .find(|m| m.reason.contains("boundary"))
        .unwrap()
        .id
        .clone();
    let converted = lead
        .post(
            &app,
            "/admin/mail/unreadable",
            &format!("/admin/mail/unreadable/{broken_id}"),
            &[("action", "convert")],
        )
        .await;
    assert_eq!(converted.status(), 200);
    assert_eq!(requests(&app).await, before + 1);
    let key = case_triage::email::inbound::ledger_key(&corpus("broken_boundary.eml", &[]));
    let row = app
        .db(move |c| Ok(db::mail_in::by_key(c, &key)?.unwrap()))
        .await;
    assert_eq!(row.outcome.as_str(), "new_request");
    let (_, personal) = request_of(&app, row.request_id.as_deref().unwrap()).await;
    assert!(personal
        .description
        .unwrap()
        .contains("My message got cut by my phone."));
    assert_eq!(
        personal.submitter_email.as_deref(),
        Some("broken@example.org")
    );

    let garbage_id = app
        .db(|c| db::mail_in::unreadable(c, true))
        .await
        .into_iter()
        .find(|m| !m.reason.contains("boundary") && !m.reason.contains("over the limit"))
        .unwrap()
        .id;
    let discarded = lead
        .post(
            &app,
            "/admin/mail/unreadable",
            &format!("/admin/mail/unreadable/{garbage_id}"),
            &[("action", "discard")],
        )
        .await;
    assert_eq!(discarded.status(), 200);
    let waiting = app.db(|c| db::mail_in::unreadable(c, true)).await;
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    let audited = app
        .db(|c| {
            use case_triage::db::schema::audit_events as a;
            Ok(a::table
                .filter(a::action.eq("mail_unreadable_resolved"))
                .count()
                .get_result::<i64>(c)?)
        })
        .await;
    assert_eq!(audited, 2);
    // A caseworker may not see raw mail.
    let worker = app.staff("caseworker", &["triage"]).await;
    assert_eq!(
        worker.get(&app, "/admin/mail/unreadable").await.status(),
        403
    );
}

async fn the_same_mail_twice_is_taken_once_and_acknowledgments_are_limited(backend: Backend) {
    let Some(app) = app(backend, |s| s.mail_in.acks_per_hour = 2).await else {
        return;
    };
    let before = requests(&app).await;
    let raw = corpus("nested_attachment.eml", &[]);
    let first = deliver(&app, "first.eml", &raw).await;
    let again = deliver(&app, "again.eml", &raw).await;
    assert_eq!(first.outcome, "new_request");
    assert_eq!(
        again.outcome, "new_request",
        "the ledger row is the first one"
    );
    assert!(again.file.ends_with("done/again.eml"));
    assert_eq!(requests(&app).await, before + 1);

    // Three mails from one sender in an hour: two acknowledgments.
    let mut acks = 0;
    for i in 0..3 {
        let mail = format!(
            "From: Frequent Sender <frequent@example.org>\r\nSubject: note {i}\r\nMessage-ID: <frequent-{i}@example.org>\r\n\r\nAnother note.\r\n"
        );
        let got = deliver(&app, &format!("f{i}.eml"), mail.as_bytes()).await;
        acks += acknowledgments(&app, got.request_id.as_deref().unwrap())
            .await
            .len();
    }
    assert_eq!(acks, 2);
}

async fn the_pipe_command_exits_75_when_the_database_is_down(backend: Backend) {
    let Some(app) = app(backend, |_| {}).await else {
        return;
    };
    let run = |vars: std::collections::HashMap<String, String>, raw: &[u8]| {
        use std::io::Write;
        let mut child = crate::process::command(&vars)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .arg("mail-in")
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(raw).unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let mail = b"From: Piped Sender <piped@example.org>\r\nSubject: by pipe\r\nMessage-ID: <piped-1@example.org>\r\n\r\nSent through the mail server.\r\n";
    let before = requests(&app).await;
    let vars = crate::process::env_for_app(&app);
    let (code, out) = actix_web::rt::task::spawn_blocking({
        let vars = vars.clone();
        move || run(vars, mail)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("new_request"), "{out}");
    assert_eq!(requests(&app).await, before + 1);
    // Once more: already taken, still 0, nothing new.
    let (code, out) = actix_web::rt::task::spawn_blocking({
        let vars = vars.clone();
        move || run(vars, mail)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("duplicate"), "{out}");
    assert_eq!(requests(&app).await, before + 1);

    // The database stopped: 75, so that the mail server keeps the mail and tries again.
    let mut down = vars.clone();
    let url = match backend {
        // Nothing listens on port 1: what a stopped server looks like to a client.
        Backend::Postgres => "postgres://postgres@127.0.0.1:1/stopped".to_string(),
        Backend::Sqlite => format!("sqlite://{}/no-such-folder/x/db.sqlite", "/proc/1"),
    };
    down.insert("DATABASE_URL".into(), url);
    down.insert("DB_POOL_TIMEOUT_SECS".into(), "2".into());
    let (code, out) = actix_web::rt::task::spawn_blocking(move || run(down, mail))
        .await
        .unwrap();
    assert_eq!(code, Some(75), "{out}");
    assert!(out.contains("try again later"), "{out}");
    assert!(
        !out.contains("Piped Sender") && !out.contains("Sent through"),
        "no mail in the output: {out}"
    );
}

async fn a_rule_on_the_sender_domain_routes_mail(backend: Backend) {
    let Some(app) = app(backend, |s| {
        s.mail_in.agency_domains = vec!["state.example.gov".into()]
    })
    .await
    else {
        return;
    };
    let lead = app.staff("admin", &[]).await;
    let rule = |domain: &'static str| {
        let (lead, app) = (&lead, &app);
        async move {
            let fields = [
                ("position", "1"),
                ("name", "Agency mail"),
                ("source", "email"),
                ("sender_domain", domain),
                ("queue", "siv"),
                ("enabled", "yes"),
            ];
            lead.post(app, "/admin/rules", "/admin/rules", &fields)
                .await
        }
    };
    let bad = rule("not a domain").await;
    assert_eq!(bad.status(), 422);
    assert!(bad
        .text()
        .await
        .unwrap()
        .contains("sender domain: give a domain"));
    let saved = rule("state.example.gov").await;
    assert_eq!(saved.status(), 200);
    let from_agency = deliver(
        &app,
        "agency.eml",
        b"From: Consular Officer <officer@kabul.state.example.gov>\r\nSubject: Referral\r\nMessage-ID: <agency-1@kabul.state.example.gov>\r\n\r\nPlease see the attached referral.\r\n",
    )
    .await;
    let (row, _) = request_of(&app, from_agency.request_id.as_deref().unwrap()).await;
    assert_eq!(row.queue_slug, "siv");
    let other = deliver(
        &app,
        "other.eml",
        b"From: Someone <someone@example.org>\r\nSubject: Help\r\nMessage-ID: <other-1@example.org>\r\n\r\nPlease help.\r\n",
    )
    .await;
    let (row, _) = request_of(&app, other.request_id.as_deref().unwrap()).await;
    assert_eq!(row.queue_slug, "triage");
}
