//! No personal data in logs: the real binary at `LOG=debug`, its whole stdout and stderr
//! captured, takes requests through the form and the API (valid and invalid) while staff
//! read, note and export them; then the log is searched for every personal datum sent.
//! And a client's malformed request is logged as the client's fault (WARN), not as ours.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use crate::helpers::{csrf_of, find_reference, prepare_env, test_env, Backend};
use crate::process::{command, env_for, Server};

const NAME: &str = "Zarghuna Logcheckzai";
const ARABIC_NAME: &str = "زرغونه لاگ‌چکزی";
const SUBMITTER: &str = "Habibullah Sponsorlog";
const DOB: &str = "1987-03-14";
const PHONE: &str = "+93 701 234 567";
const PHONE_DIGITS: &str = "93701234567";
const WHATSAPP: &str = "+93 788 765 432";
const WHATSAPP_DIGITS: &str = "93788765432";
const EMAIL: &str = "zarghuna.logcheck@example.org";
const SUBMITTER_EMAIL: &str = "sponsor.logcheck@example.net";
const CASE_NUMBER: &str = "KBL-2019-77731";
const CASE_DIGITS: &str = "KBL201977731";
const DESCRIPTION: &str = "Hiding with my sister near Peshawar bazaar";
const NOTE: &str = "Spoke to her cousin Wazhma on the phone";

async fn no_personal_data_reaches_the_log(backend: Backend) {
    let Some(env) = prepare_env(backend).await else {
        return;
    };
    let mut vars = env_for(&env);
    vars.insert("LOG".into(), "debug".into());
    let logs = tempfile::tempdir().unwrap();

    // A lead account, made the way an operator does it.
    let lead_email = "lead-logcheck@taskforce.example";
    let password = "a long enough password";
    let mut create = command(&vars)
        .args(["admin", "create", "--email", lead_email, "--name", "Lead"])
        .args(["--role", "lead"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(create.stdin.take().unwrap(), "{password}").unwrap();
    let created = create.wait_with_output().unwrap();
    assert!(created.status.success(), "{created:?}");

    let mut server = Server::start(&vars, &logs.path().join("server.log"));
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();

    // The public form: once with a mistake (shown again, not stored), once right.
    let form = |email: &'static str| {
        vec![
            ("submitter_kind", "sponsor"),
            ("submitter_name", SUBMITTER),
            ("submitter_email", SUBMITTER_EMAIL),
            ("applicant_full_name", ARABIC_NAME),
            ("applicant_date_of_birth", DOB),
            ("applicant_phone", PHONE),
            ("applicant_whatsapp", WHATSAPP),
            ("applicant_email", email),
            ("applicant_location", "pakistan"),
            ("applicant_household_size", "3"),
            ("siv_status", "in_process"),
            ("siv_case_number", CASE_NUMBER),
            ("referral_program", "none"),
            ("us_tie", "none"),
            ("description", DESCRIPTION),
            ("consent", "yes"),
        ]
    };
    let page = browser.get(server.url("/")).send().await.unwrap();
    let page = page.text().await.unwrap();
    let csrf = if page.contains("name=\"csrf\"") {
        csrf_of(&page)
    } else {
        String::new()
    };
    let post_form = |fields: Vec<(&'static str, &'static str)>| {
        let mut fields = fields;
        if !csrf.is_empty() {
            fields.push(("csrf", csrf.as_str()));
        }
        browser.post(server.url("/requests")).form(&fields).send()
    };
    let bad = post_form(form("zarghuna.logcheck@")).await.unwrap();
    assert_eq!(bad.status(), 422);
    let good = post_form(form(EMAIL)).await.unwrap();
    assert_eq!(good.status(), 200);
    let form_reference = find_reference(&good.text().await.unwrap()).expect("a reference");

    // The API: a valid request and two broken ones that echo nothing back into the log.
    let api = reqwest::Client::new();
    let body = serde_json::json!({
        "submitter": {"kind": "self"},
        "applicant": {"full_name": NAME, "date_of_birth": DOB, "phone": PHONE,
                      "whatsapp": WHATSAPP, "email": EMAIL, "location": "pakistan"},
        "siv": {"status": "in_process", "case_number": CASE_NUMBER},
        "referral": {"program": "none"},
        "claimed_programs": [],
        "us_tie": "none",
        "urgent": {"danger": true, "medical": false},
        "description": DESCRIPTION,
        "consent": true
    });
    let resp = api
        .post(server.url("/api/v1/requests"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let mut wrong_type = body.clone();
    wrong_type["applicant"]["household_size"] = serde_json::json!(NAME);
    let mut bad_email = body.clone();
    bad_email["applicant"]["email"] = serde_json::json!(format!("{NAME} {EMAIL}"));
    for broken in [wrong_type, bad_email] {
        let resp = api
            .post(server.url("/api/v1/requests"))
            .json(&broken)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_client_error(), "{}", resp.status());
    }
    let not_json = api
        .post(server.url("/api/v1/requests"))
        .header("content-type", "application/json")
        .body(format!("{{\"applicant\": {{\"full_name\": \"{NAME}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);

    // Staff: log in, open the case, add a note, export everything.
    let staff = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login = staff.get(server.url("/admin/login")).send().await.unwrap();
    let csrf = csrf_of(&login.text().await.unwrap());
    let resp = staff
        .post(server.url("/admin/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", lead_email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let case_path = format!("/admin/requests/{form_reference}");
    let case = staff.get(server.url(&case_path)).send().await.unwrap();
    assert_eq!(case.status(), 200);
    let case = case.text().await.unwrap();
    assert!(case.contains(ARABIC_NAME), "the lead sees the name");
    let resp = staff
        .post(server.url(&format!("{case_path}/actions")))
        .form(&[
            ("csrf", csrf_of(&case).as_str()),
            ("action", "note"),
            ("body", NOTE),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let csv = staff
        .get(server.url("/admin/export.csv?status=all"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains(NAME) && csv.contains(NOTE),
        "the export has it all"
    );
    let audit = staff.get(server.url("/admin/audit")).send().await.unwrap();
    assert_eq!(audit.status(), 200);

    // Let the outbox write its mail, then stop the way an operator does.
    actix_web::rt::time::sleep(Duration::from_secs(2)).await;
    server.terminate();
    assert!(server.wait(Duration::from_secs(60)).success());
    let log = format!(
        "{}\n{}\n{}",
        server.log(),
        String::from_utf8_lossy(&created.stdout),
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(log.contains("DEBUG"), "the log ran at debug level:\n{log}");
    let arabic_given = ARABIC_NAME.split(' ').next().unwrap();
    let leaks: Vec<&str> = [
        NAME,
        "Logcheckzai",
        ARABIC_NAME,
        arabic_given,
        SUBMITTER,
        "Sponsorlog",
        DOB,
        "14/03/1987",
        PHONE,
        PHONE_DIGITS,
        WHATSAPP,
        WHATSAPP_DIGITS,
        EMAIL,
        "zarghuna.logcheck",
        SUBMITTER_EMAIL,
        CASE_NUMBER,
        CASE_DIGITS,
        DESCRIPTION,
        "Peshawar bazaar",
        NOTE,
        "Wazhma",
    ]
    .into_iter()
    .filter(|datum| log.contains(datum))
    .collect();
    assert!(
        leaks.is_empty(),
        "personal data in the log: {leaks:?}\n--- log ---\n{log}"
    );
}

#[actix_web::test]
async fn sqlite() {
    no_personal_data_reaches_the_log(Backend::Sqlite).await
}

#[actix_web::test]
async fn postgres() {
    no_personal_data_reaches_the_log(Backend::Postgres).await
}

/// A client that sends a request no server could parse gets `400`, and the log says so at
/// WARN: it is the client's mistake, not an error of ours for someone to be woken for.
#[actix_web::test]
async fn a_malformed_request_is_a_warning_not_an_error() {
    use std::io::Read;
    // The database plays no part: SQLite only.
    let env = actix_web::rt::task::spawn_blocking(|| test_env(Backend::Sqlite))
        .await
        .unwrap()
        .expect("sqlite settings");
    let logs = tempfile::tempdir().unwrap();
    let mut server = Server::start(&env_for(&env), &logs.path().join("server.log"));
    let address = server.address.trim_start_matches("http://").to_string();
    let malformed: [&[u8]; 5] = [
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Name: \x01\x02\r\n\r\n",
        b"POST /requests HTTP/1.1\r\nHost: x\r\nContent-Length: twelve\r\n\r\n",
        b"POST /requests HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        b"GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
        b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    ];
    let answers = actix_web::rt::task::spawn_blocking(move || {
        malformed
            .iter()
            .map(|request| {
                let mut tcp = std::net::TcpStream::connect(&address).unwrap();
                tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                tcp.write_all(request).unwrap();
                let mut answer = Vec::new();
                let _ = tcp.read_to_end(&mut answer);
                String::from_utf8_lossy(&answer)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for answer in &answers {
        assert_eq!(answer, "HTTP/1.1 400 Bad Request");
    }
    server.terminate();
    assert!(server.wait(Duration::from_secs(60)).success());

    let log = server.log();
    let warnings = log
        .lines()
        .filter(|l| l.contains(" WARN ") && l.contains("malformed request from a client"))
        .count();
    assert_eq!(
        warnings,
        answers.len(),
        "one warning per malformed request:\n{log}"
    );
    assert!(!log.contains("ERROR"), "no ERROR line:\n{log}");
}
