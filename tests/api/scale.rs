//! Several app instances on one PostgreSQL database, as separate server processes behind
//! nginx (the example config in deploy/): every request stored once, every mail sent
//! once, one digest a day, a session made on one instance valid on the others.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::process::{server_binary, Server};
use std::time::Duration;

use crate::helpers::{postgres_admin_url, test_env, valid_request, Backend};
use crate::smtp::SmtpSink;
use serde_json::json;

fn start_instance(shared: &[(&str, String)], data_dir: &Path) -> Server {
    let mut vars: HashMap<String, String> = shared
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    vars.insert("BIND".into(), "127.0.0.1:0".into());
    vars.insert("DATA_DIR".into(), data_dir.display().to_string());
    vars.insert("LOG".into(), "info".into());
    Server::start(&vars, &data_dir.join("server.log"))
}

fn port_of(server: &Server) -> u16 {
    server.address.rsplit(':').next().unwrap().parse().unwrap()
}

fn nginx_available() -> bool {
    let found = Path::new("/usr/sbin/nginx").exists();
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but nginx is missing (apt-get install nginx-light)");
        }
        eprintln!("SKIPPED nginx part of the scale-out test: /usr/sbin/nginx is missing");
    }
    found
}

/// Runs nginx in the foreground with deploy/nginx-case-triage.conf, its upstream pointed at
/// the instances and its listen port at `port`.
fn start_nginx(dir: &Path, port: u16, instances: &[u16]) -> Child {
    let site = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/nginx-case-triage.conf"
    ))
    .unwrap();
    let mut out = String::new();
    let mut upstream_done = false;
    for line in site.lines() {
        if line.trim_start().starts_with("server 127.0.0.1:") {
            if !upstream_done {
                for p in instances {
                    out.push_str(&format!(
                        "    server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;\n"
                    ));
                }
                upstream_done = true;
            }
            continue;
        }
        let line = line
            .replace("listen 8080;", &format!("listen 127.0.0.1:{port};"))
            .replace(
                "/var/log/nginx/case-triage.log",
                &dir.join("access.log").display().to_string(),
            );
        out.push_str(&line);
        out.push('\n');
    }
    std::fs::write(dir.join("site.conf"), out).unwrap();
    let d = dir.display();
    std::fs::write(
        dir.join("nginx.conf"),
        format!(
            "daemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n\
             client_body_temp_path {d}/body;\nproxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fcgi;\nuwsgi_temp_path {d}/uwsgi;\nscgi_temp_path {d}/scgi;\n\
             include {d}/site.conf;\n}}\n"
        ),
    )
    .unwrap();
    let test = Command::new("/usr/sbin/nginx")
        .args(["-t", "-c"])
        .arg(dir.join("nginx.conf"))
        .output()
        .unwrap();
    assert!(
        test.status.success(),
        "the example nginx config is valid: {}",
        String::from_utf8_lossy(&test.stderr)
    );
    Command::new("/usr/sbin/nginx")
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// nginx, stopped when dropped (also when a check fails) the way its own `-s quit` does,
/// so the master takes its workers with it.
struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-QUIT", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

async fn wait_ok(client: &reqwest::Client, url: &str) {
    for _ in 0..100 {
        if client
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never answered 200");
}

#[actix_web::test]
async fn three_instances_on_one_database_behave_as_one() {
    if postgres_admin_url().is_none() {
        return;
    }
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let env = test_env(Backend::Postgres).unwrap();
    let db_url = {
        use secrecy::ExposeSecret;
        match &env.settings.database {
            case_triage::config::DatabaseUrl::Postgres(s) => s.expose_secret().to_string(),
            _ => unreachable!(),
        }
    };
    let shared = vec![
        ("DATABASE_URL", db_url.clone()),
        ("SMTP_URL", sink.url()),
        ("OUTBOX_POLL_SECS", "1".to_string()),
        ("OUTBOX_RETRY_BASE_SECS", "1".to_string()),
        // The digest hour has passed on any day, so every instance tries to send it now.
        ("DIGEST_HOUR", "0".to_string()),
        ("DIGEST_TO", "lead@taskforce.example".to_string()),
        ("RATE_LIMIT_PER_MINUTE", "0".to_string()),
        ("TRUSTED_PROXIES", "127.0.0.1".to_string()),
    ];
    // All three start at once: migrations and seeding must cope.
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let instances: Vec<Server> = std::thread::scope(|s| {
        let handles: Vec<_> = dirs
            .iter()
            .map(|d| {
                let shared = &shared;
                s.spawn(move || start_instance(shared, d.path()))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ports: Vec<u16> = instances.iter().map(port_of).collect();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    for p in &ports {
        wait_ok(&client, &format!("http://127.0.0.1:{p}/readyz")).await;
    }

    // A lead account, made with the CLI against the shared database.
    let mut create = Command::new(server_binary())
        .env("DATABASE_URL", &db_url)
        .env("DATA_DIR", dirs[0].path())
        .args([
            "admin",
            "create",
            "--email",
            "lead@taskforce.example",
            "--name",
            "Lead",
            "--role",
            "lead",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    create
        .stdin
        .take()
        .unwrap()
        .write_all(b"shared across instances\n")
        .unwrap();
    assert!(create.wait().unwrap().success());

    // Intakes spread across the instances, concurrently.
    const N: usize = 30;
    let mut tasks = Vec::new();
    for i in 0..N {
        let port = ports[i % 3];
        let client = client.clone();
        tasks.push(actix_web::rt::spawn(async move {
            let mut body = valid_request();
            body["applicant"]["full_name"] = json!(crate::helpers::distinct_name());
            body["applicant"]["phone"] = json!(format!("+93 79{:07}", i));
            body["applicant"]["email"] = json!(format!("family{i}@example.org"));
            let resp = client
                .post(format!("http://127.0.0.1:{port}/api/v1/requests"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 201);
            resp.json::<serde_json::Value>().await.unwrap()["reference"]
                .as_str()
                .unwrap()
                .to_string()
        }));
    }
    let mut references = Vec::new();
    for t in tasks {
        references.push(t.await.unwrap());
    }
    assert_eq!(references.iter().collect::<HashSet<_>>().len(), N);

    // Log in on the first instance; the same session works on the others.
    let page = client
        .get(format!("http://127.0.0.1:{}/admin/login", ports[0]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::helpers::csrf_of(&page);
    let resp = client
        .post(format!("http://127.0.0.1:{}/admin/login", ports[0]))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "lead@taskforce.example"),
            ("password", "shared across instances"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.url().path(), "/admin");
    let queue = client
        .get(format!("http://127.0.0.1:{}/admin/queues/triage", ports[1]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        queue.status(),
        200,
        "the session made on instance 1 works on instance 2"
    );
    let queue = queue.text().await.unwrap();
    assert!(
        queue.contains(&format!("<strong id=\"case-total\">{N}</strong>")),
        "every request stored once"
    );
    // Refer three cases out, from the third instance (each mails its requester).
    for reference in &references[..3] {
        let base = format!("http://127.0.0.1:{}/admin/requests/{reference}", ports[2]);
        let page = client
            .get(&base)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = crate::helpers::csrf_of(&page);
        let resp = client
            .post(format!("{base}/actions"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("action", "status"),
                ("status", "referred_out"),
                ("referral_partner", "UNHCR"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }

    // Every mail exactly once: acknowledgments, queue notices, referrals, one digest.
    let expected = N + N + 3 + 1;
    let mails = sink.wait_for(expected, Duration::from_secs(90)).await;
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    let mails = if sink.messages().len() > mails.len() {
        sink.messages()
    } else {
        mails
    };
    // The same mail twice has the same recipient, subject and text (which names the request).
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    for m in &mails {
        *seen
            .entry((m.rcpt_to.clone(), m.subject.clone(), m.text.clone()))
            .or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "mail sent more than once: {twice:?}");
    assert_eq!(mails.len(), expected);
    let digests = mails
        .iter()
        .filter(|m| m.rcpt_to == "lead@taskforce.example")
        .count();
    assert_eq!(digests, 1, "one digest a day for all instances");

    // The example nginx config in front of them.
    if nginx_available() {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let nginx = Nginx(start_nginx(dir.path(), port, &ports));
        let front = format!("http://127.0.0.1:{port}");
        wait_ok(&client, &format!("{front}/healthz")).await;
        for _ in 0..6 {
            let resp = client
                .post(format!("{front}/api/v1/requests"))
                .json(&{
                    let mut b = valid_request();
                    b["applicant"]["full_name"] = json!(crate::helpers::distinct_name());
                    b
                })
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 201, "intake through nginx");
        }
        let dash = client.get(format!("{front}/admin")).send().await.unwrap();
        assert_eq!(
            dash.status(),
            200,
            "the staff session works through nginx too"
        );
        let metrics = client
            .get(format!("{front}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            metrics.contains("case_triage_queue_open_requests"),
            "{metrics}"
        );
        drop(nginx);
    }
    drop(instances);
    drop(env);
}
