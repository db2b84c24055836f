//! The binary as an operator runs it: start-up, configuration errors, `migrate`.

use crate::helpers::{test_env, Backend};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_case-triage"));
    for var in [
        "BIND",
        "DATA_DIR",
        "DATABASE_URL",
        "BASE_URL",
        "LOG",
        "DB_POOL_SIZE",
        "SMTP_URL",
        "MAIL_FROM",
        "DIGEST_TO",
        "DIGEST_HOUR",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

#[test]
fn a_bad_setting_stops_start_up_with_one_line_naming_it() {
    let out = binary().env("BIND", "everywhere").output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("BIND") && stderr.contains("host:port"),
        "{stderr}"
    );

    let out = binary()
        .env("DATABASE_URL", "mysql://app:s3cret@db/triage")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "password leaked: {stderr}");
}

#[test]
fn a_fresh_start_creates_the_sqlite_file_and_says_where_it_listens() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = binary()
        .env("BIND", "127.0.0.1:0")
        .env("DATA_DIR", &data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("listening on") || line.contains("BASE_URL") {
                let _ = tx.send(line);
            }
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(30));
    // Without BASE_URL, mail links can only use the bind address, and the log says so.
    let base_url = rx.recv_timeout(Duration::from_secs(10));
    let _ = child.kill();
    let _ = child.wait();
    let line = line.expect("a 'listening on' log line");
    let base_url = base_url.expect("a line about BASE_URL");
    assert!(
        base_url.contains("WARN")
            && base_url.contains("links in mail will use the bind address http://127.0.0.1:"),
        "{base_url}"
    );
    assert!(line.contains("http://127.0.0.1:"), "{line}");
    assert!(
        line.contains("sqlite://") && line.contains("case-triage.db"),
        "{line}"
    );
    assert!(data.join("case-triage.db").exists());
}

#[test]
fn migrate_runs_on_both_backends_and_twice_is_harmless() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(env) = test_env(backend) else {
            continue;
        };
        let url = match &env.settings.database {
            case_triage::config::DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            case_triage::config::DatabaseUrl::Postgres(s) => {
                use secrecy::ExposeSecret;
                s.expose_secret().to_string()
            }
        };
        for _ in 0..2 {
            let out = binary()
                .env("DATA_DIR", env.dir.path())
                .env("DATABASE_URL", &url)
                .arg("migrate")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{backend:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(String::from_utf8_lossy(&out.stdout).contains("is up to date"));
        }
    }
}
