//! Mail taken in from an IMAP mailbox, against a real Dovecot: each mail becomes one
//! request, is flagged `\Seen` only once it is stored, and is never taken in twice — not
//! when delivered twice, not after a crash in the middle of a poll, not by two instances.

use std::future::Future;
use std::time::{Duration, Instant};

use case_triage::db;

use crate::helpers::{prepare_env, spawn_app_with, Backend, TestApp};
use crate::imap_server::{Dovecot, PASSWORD};
use crate::process::{env_for, Server};

/// A mail as an applicant's client sends it; `n` makes its sender and text its own.
fn mail(n: usize, message_id: &str) -> Vec<u8> {
    format!(
        "From: Applicant {n} <applicant{n}@example.org>\r\n\
         To: Task force <taskforce@example.org>\r\n\
         Subject: Help for my family, letter {n}\r\n\
         Message-ID: <{message_id}>\r\n\
         Date: Fri, 04 Dec 2026 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         My family of {n} crossed at Torkham last week and needs help. We have no referral.\r\n"
    )
    .into_bytes()
}

fn mails(count: usize, tag: &str) -> Vec<Vec<u8>> {
    (1..=count)
        .map(|n| mail(n, &format!("{tag}-{n}@mail.example.org")))
        .collect()
}

/// Waits until `check` holds, failing with `what` after `limit`.
async fn wait_until<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until every mail of `folder` is flagged `\Seen`, and answers how many there are.
async fn wait_all_seen(dovecot: &Dovecot, folder: &str, expected: usize, limit: Duration) {
    wait_until("every mail is flagged \\Seen", limit, || async {
        let (all, unseen) = dovecot.uids(folder).await;
        all.len() == expected && unseen.is_empty()
    })
    .await;
}

async fn spawn_on(backend: Backend, dovecot: &Dovecot, folder: &str) -> Option<TestApp> {
    spawn_app_with(backend, |s| dovecot.configure(s, folder)).await
}

async fn a_mail_becomes_a_request_and_is_flagged_seen(backend: Backend) {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let Some(app) = spawn_on(backend, &dovecot, "INBOX").await else {
        return;
    };
    dovecot.deliver("INBOX", &mails(1, "first")).await;

    wait_all_seen(&dovecot, "INBOX", 1, Duration::from_secs(30)).await;
    assert_eq!(app.request_count().await, 1, "the mail became one request");
}

async fn the_same_mail_delivered_twice_is_taken_in_once(backend: Backend) {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let Some(app) = spawn_on(backend, &dovecot, "INBOX").await else {
        return;
    };
    let once = mail(1, "twice@mail.example.org");
    dovecot.deliver("INBOX", std::slice::from_ref(&once)).await;
    wait_all_seen(&dovecot, "INBOX", 1, Duration::from_secs(30)).await;
    // The sender's server retries: the same message, a second UID.
    dovecot.deliver("INBOX", &[once]).await;

    wait_all_seen(&dovecot, "INBOX", 2, Duration::from_secs(30)).await;
    assert_eq!(app.request_count().await, 1, "one mail, one request");
}

/// An instance is killed while it takes a mailbox of 50 in; the next one takes the rest.
async fn a_crash_mid_poll_loses_nothing_and_imports_nothing_twice(backend: Backend) {
    const MAILS: usize = 50;
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let Some(env) = prepare_env(backend).await else {
        return;
    };
    let mut vars = env_for(&env);
    vars.extend(dovecot.env());
    dovecot.deliver("INBOX", &mails(MAILS, "crash")).await;
    let pool = db::build_pool(&env.settings.database, 2, Duration::from_secs(10));
    let count = || async {
        db::run(&pool, |c| db::requests::count(c))
            .await
            .unwrap_or(0)
    };

    let log = env.dir.path().join("first.log");
    let mut first = Server::start(&vars, &log);
    // Looked at often: a release build takes the 50 in a fraction of a second.
    let deadline = Instant::now() + Duration::from_secs(60);
    while count().await == 0 {
        assert!(
            Instant::now() < deadline,
            "the first instance took nothing in"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    first.kill();
    let at_kill = count().await;
    assert!(
        (at_kill as usize) < MAILS,
        "the kill came after the whole mailbox was taken in; nothing was interrupted"
    );

    let mut second = Server::start(&vars, &env.dir.path().join("second.log"));
    wait_all_seen(&dovecot, "INBOX", MAILS, Duration::from_secs(120)).await;
    assert_eq!(count().await, MAILS as i64, "every mail once, none twice");

    for text in [first.log(), second.log()] {
        for private in ["applicant1@example.org", "Help for my family", PASSWORD] {
            assert!(
                !text.contains(private),
                "the log shows {private:?}:\n{text}"
            );
        }
    }
    second.kill();
}

async fn two_instances_take_each_mail_once(backend: Backend) {
    const MAILS: usize = 30;
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let Some(app) = spawn_on(backend, &dovecot, "INBOX").await else {
        return;
    };
    let _sibling = app.spawn_sibling().await;
    dovecot.deliver("INBOX", &mails(MAILS, "pair")).await;

    wait_all_seen(&dovecot, "INBOX", MAILS, Duration::from_secs(60)).await;
    wait_until(
        "every mail is a request",
        Duration::from_secs(30),
        || async { app.request_count().await >= MAILS as i64 },
    )
    .await;
    // Both instances had every mail in hand; give the slower one time to store a second copy.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(app.request_count().await, MAILS as i64);
}

/// The mailbox is made anew (a server migration): UIDs start over under a new UIDVALIDITY;
/// mail taken before stays taken, mail new to the app comes in.
async fn a_new_uidvalidity_starts_over_without_importing_twice(backend: Backend) {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    dovecot.deliver("Intake", &mails(2, "validity")).await;
    let Some(app) = spawn_on(backend, &dovecot, "Intake").await else {
        return;
    };
    wait_all_seen(&dovecot, "Intake", 2, Duration::from_secs(30)).await;

    dovecot.recreate("Intake").await;
    dovecot.deliver("Intake", &mails(3, "validity")).await;

    wait_all_seen(&dovecot, "Intake", 3, Duration::from_secs(30)).await;
    assert_eq!(app.request_count().await, 3, "the third mail only is new");
}

/// With `IMAP_MOVE_TO`, stored mail leaves the watched folder.
async fn stored_mail_is_moved_when_asked(backend: Backend) {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    dovecot.deliver("Done", &[]).await;
    let Some(app) = spawn_app_with(backend, |s| {
        dovecot.configure(s, "INBOX");
        s.imap.as_mut().unwrap().move_to = Some("Done".into());
    })
    .await
    else {
        return;
    };
    dovecot.deliver("INBOX", &mails(3, "moved")).await;

    wait_until("the mail is moved", Duration::from_secs(30), || async {
        dovecot.uids("INBOX").await.0.is_empty() && dovecot.uids("Done").await.0.len() == 3
    })
    .await;
    assert_eq!(app.request_count().await, 3);
}

/// 500 mails waiting when the app starts: how fast they become requests.
async fn a_mailbox_of_500_is_taken_in(backend: Backend) {
    const MAILS: usize = 500;
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    dovecot.deliver("INBOX", &mails(MAILS, "rate")).await;
    let Some(app) = spawn_on(backend, &dovecot, "INBOX").await else {
        return;
    };
    let started = Instant::now();
    wait_until("500 requests", Duration::from_secs(600), || async {
        app.request_count().await >= MAILS as i64
    })
    .await;
    let took = started.elapsed();
    wait_all_seen(&dovecot, "INBOX", MAILS, Duration::from_secs(30)).await;
    assert_eq!(app.request_count().await, MAILS as i64);
    println!(
        "IMAP mail in ({backend:?}): {MAILS} mails in {:.1} s, {:.0} mails/s",
        took.as_secs_f64(),
        MAILS as f64 / took.as_secs_f64()
    );
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::*;

            #[actix_web::test]
            async fn sqlite() {
                super::$name(Backend::Sqlite).await
            }

            #[actix_web::test]
            async fn postgres() {
                super::$name(Backend::Postgres).await
            }
        }
    )*};
}

on_both_backends!(
    a_mail_becomes_a_request_and_is_flagged_seen,
    the_same_mail_delivered_twice_is_taken_in_once,
    a_crash_mid_poll_loses_nothing_and_imports_nothing_twice,
    two_instances_take_each_mail_once,
    a_new_uidvalidity_starts_over_without_importing_twice,
    stored_mail_is_moved_when_asked,
    a_mailbox_of_500_is_taken_in,
);
