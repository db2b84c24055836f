//! Shared test helpers: start the app on port 0 with a fresh database (an SQLite file in a
//! temporary folder, or a new PostgreSQL database), and talk to it like a client.

use case_triage::app::escalation::Escalator;
use case_triage::clock::Clock;
use case_triage::config::{DatabaseUrl, Settings};
use case_triage::db::{self, DbConnection, Pool};
use case_triage::email::Waker;
use case_triage::startup::Application;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use secrecy::SecretString;
use std::sync::Once;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub address: String,
    #[allow(dead_code)]
    pub backend: Backend,
    /// Follows redirects and keeps cookies, like a browser.
    pub client: reqwest::Client,
    /// Does not follow redirects, to check them.
    pub raw: reqwest::Client,
    pub pool: Pool,
    /// What the instance was started with.
    #[allow(dead_code)]
    pub settings: Settings,
    /// Wakes the instance's outbox worker.
    #[allow(dead_code)]
    pub mail: Waker,
    #[allow(dead_code)]
    pub dir: tempfile::TempDir,
    /// The instance's clock, shared with its siblings: tests move it instead of sleeping.
    #[allow(dead_code)]
    pub clock: Clock,
    /// Runs one escalation round on this instance.
    #[allow(dead_code)]
    pub escalator: Escalator,
    /// Stops this instance's server and workers, as SIGTERM would.
    #[allow(dead_code)]
    pub stopper: actix_web::dev::ServerHandle,
    pg: Option<PgDatabase>,
}

/// A database created for one test, dropped with it.
pub struct PgDatabase {
    pub admin_url: String,
    pub name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        // Dropping is best effort; a leftover test database is harmless.
        let _ = std::thread::spawn(move || {
            if let Ok(mut c) = PgConnection::establish(&admin) {
                let _ =
                    c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        })
        .join();
    }
}

static TRACING: Once = Once::new();

/// `TEST_LOG=1` shows the app's log while tests run.
fn init_tracing() {
    TRACING.call_once(|| {
        if std::env::var("TEST_LOG").is_ok() {
            case_triage::startup::init_tracing("info");
        }
    });
}

/// The PostgreSQL server tests use, or `None` (with a message) when it is not configured.
/// In CI a missing PostgreSQL is a failure, not a skip.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but TEST_DATABASE_URL is not set: the PostgreSQL run cannot be skipped in CI")
        }
        _ => {
            eprintln!(
                "SKIPPED PostgreSQL run: set TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres to run it"
            );
            None
        }
    }
}

/// Creates an empty database on the test server and returns its URL.
fn create_pg_database(admin_url: &str) -> (String, String) {
    let name = format!("ct_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::establish(admin_url)
        .unwrap_or_else(|e| panic!("cannot reach the PostgreSQL test server: {e}"));
    admin
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .expect("create test database");
    let mut url = url::Url::parse(admin_url).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&name);
    (url.to_string(), name)
}

/// What a test instance runs on: its settings and the folder and database it owns.
pub struct TestEnv {
    pub settings: Settings,
    pub dir: tempfile::TempDir,
    pub pg: Option<PgDatabase>,
}

/// Settings for a test instance on `backend`: port 0, a temporary data folder, a fresh
/// database. `None` when the backend is not available outside CI.
pub fn test_env(backend: Backend) -> Option<TestEnv> {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings::for_dir(dir.path());
    let mut pg = None;
    if backend == Backend::Postgres {
        let admin_url = postgres_admin_url()?;
        let (url, name) = create_pg_database(&admin_url);
        settings.database = DatabaseUrl::Postgres(SecretString::from(url));
        pg = Some(PgDatabase { admin_url, name });
    }
    settings.pool_size = 4;
    // Tests wait for mail: look often, retry soon.
    settings.mail.poll = std::time::Duration::from_secs(1);
    settings.mail.retry_base = std::time::Duration::from_secs(1);
    // No digest unless a test asks for one, so tests count exactly the mail they cause.
    settings.mail.digest_hour = None;
    settings.mail_in.drop_poll = std::time::Duration::from_millis(300);
    Some(TestEnv { settings, dir, pg })
}

/// `test_env` off the async runtime (creating a PostgreSQL database blocks).
pub async fn prepare_env(backend: Backend) -> Option<TestEnv> {
    actix_web::rt::task::spawn_blocking(move || test_env(backend))
        .await
        .expect("settings")
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// Starts an instance with settings the test adjusts (an SMTP server, retry policy…).
pub async fn spawn_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    init_tracing();
    let TestEnv {
        mut settings,
        dir,
        pg,
    } = prepare_env(backend).await?;
    configure(&mut settings);
    Some(start(backend, settings, dir, pg, Clock::real()).await)
}

async fn start(
    backend: Backend,
    settings: Settings,
    dir: tempfile::TempDir,
    pg: Option<PgDatabase>,
    clock: Clock,
) -> TestApp {
    let app = Application::build_with_clock(settings.clone(), clock.clone())
        .await
        .expect("app starts");
    let port = app.port();
    let pool = app.pool().clone();
    let mail = app.mail_waker().clone();
    let escalator = app.escalator().clone();
    let stopper = app.stop_handle();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        backend,
        client: reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap(),
        raw: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        pool,
        settings,
        mail,
        dir,
        clock,
        escalator,
        stopper,
        pg,
    }
}

impl TestApp {
    /// A second instance on the same database, as in a deployment with several.
    #[allow(dead_code)]
    pub async fn spawn_sibling(&self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = self.settings.clone();
        settings.data_dir = dir.path().to_path_buf();
        start(self.backend, settings, dir, None, self.clock.clone()).await
    }

    /// `DATABASE_URL` of the app's database, for running the binary against it.
    #[allow(dead_code)]
    pub fn database_url(&self) -> String {
        match &self.settings.database {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(s) => {
                use secrecy::ExposeSecret;
                s.expose_secret().to_string()
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.raw
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Posts the public form as a browser does and follows the redirect.
    pub async fn post_form(&self, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url("/requests"))
            .form(fields)
            .send()
            .await
            .expect("form sent")
    }

    /// Runs a closure on a database connection of the app's own pool.
    pub async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, db::DbError> + Send + 'static,
    ) -> T {
        db::run(&self.pool, move |conn| f(conn))
            .await
            .expect("database query")
    }

    /// `db` for work that opens its own transactions (`db::write_transaction`), which needs
    /// the pooled connection itself.
    pub async fn db_conn<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut db::Conn) -> Result<T, db::DbError> + Send + 'static,
    ) -> T {
        db::run(&self.pool, f).await.expect("database query")
    }

    pub async fn request_count(&self) -> i64 {
        self.db(db::requests::count).await
    }

    /// Kills the app's database: the PostgreSQL database is dropped under it.
    pub fn drop_database(&self) {
        let pg = self
            .pg
            .as_ref()
            .expect("only PostgreSQL databases can be dropped");
        let mut admin = PgConnection::establish(&pg.admin_url).unwrap();
        admin
            .batch_execute(&format!("DROP DATABASE \"{}\" WITH (FORCE)", pg.name))
            .unwrap();
    }
}

/// A valid API request body; tests change what they need.
pub fn valid_request() -> serde_json::Value {
    serde_json::json!({
        "submitter": {"kind": "self"},
        "applicant": {
            "full_name": "Ahmad Karimi",
            "date_of_birth": "1990-05-01",
            "phone": "+93 700 123 456",
            "location": "pakistan",
            "household_size": 4
        },
        "siv": {"status": "none"},
        "referral": {"program": "none"},
        "claimed_programs": [],
        "us_tie": "none",
        "urgent": {"danger": false, "medical": false},
        "description": "We need to know what to do next.",
        "consent": true
    })
}

/// A made-up two-part name no other test person shares.
pub fn distinct_name() -> String {
    let word = |n: usize| -> String {
        let mut w: String = (0..n)
            .map(|_| (b'a' + (rand::random::<u8>() % 26)) as char)
            .collect();
        w[..1].make_ascii_uppercase();
        w
    };
    format!("{} {}", word(7), word(9))
}

/// A valid form submission; tests change what they need.
pub fn valid_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("submitter_kind", "self"),
        ("applicant_full_name", "Ahmad Karimi"),
        ("applicant_date_of_birth", "1990-05-01"),
        ("applicant_phone", "+93 700 123 456"),
        ("applicant_location", "pakistan"),
        ("applicant_household_size", "4"),
        ("siv_status", "in_process"),
        ("siv_case_number", "ISB-2021-555"),
        ("referral_program", "none"),
        ("us_tie", "none"),
        ("description", "We are waiting for the interview."),
        ("consent", "yes"),
    ]
}

/// Replaces or adds one form field.
pub fn with_field(
    mut form: Vec<(&'static str, &'static str)>,
    name: &'static str,
    value: &'static str,
) -> Vec<(&'static str, &'static str)> {
    form.retain(|(k, _)| *k != name);
    form.push((name, value));
    form
}

/// A reference number as the confirmation page and API print it.
pub fn find_reference(text: &str) -> Option<String> {
    let start = text.find("TF-")?;
    let candidate: String = text[start..].chars().take(12).collect();
    case_triage::domain::CaseReference::parse(&candidate).map(|r| r.to_string())
}

/// Declares a test that runs once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                use $crate::helpers::{spawn_app, Backend, TestApp};

                async fn run($app: TestApp) $body

                #[actix_web::test]
                async fn sqlite() {
                    run(spawn_app(Backend::Sqlite).await.expect("sqlite app")).await
                }

                #[actix_web::test]
                async fn postgres() {
                    if let Some(app) = spawn_app(Backend::Postgres).await {
                        run(app).await
                    }
                }
            }
        )*
    };
}

/// Runs `async fn name(backend: Backend)` once on SQLite and once on PostgreSQL (for tests
/// that start the app themselves, e.g. with an SMTP server).
#[macro_export]
macro_rules! for_each_backend {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }

                #[actix_web::test]
                async fn postgres() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            }
        )*
    };
}

/// A logged-in staff member's browser.
pub struct StaffClient {
    pub client: reqwest::Client,
    pub id: String,
}

impl TestApp {
    /// Creates a staff account directly in the database.
    pub async fn create_staff(&self, role: &str, queues: &[&str]) -> (String, String, String) {
        let email = format!(
            "{role}-{}@taskforce.example",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let password = "correct horse battery".to_string();
        let role_parsed: case_triage::domain::staff::Role = role.parse().unwrap();
        let queues: Vec<String> = queues.iter().map(|q| q.to_string()).collect();
        let (e, p) = (email.clone(), password.clone());
        let id = self
            .db(move |conn| {
                let hash = case_triage::web::admin::auth::hash_password(&p).unwrap();
                let now = chrono::Utc::now().naive_utc();
                let user = case_triage::web::admin::auth::create_user(
                    conn,
                    &e,
                    &format!("Staff {role_parsed:?}"),
                    role_parsed,
                    hash,
                    now,
                )
                .map_err(|e| db::DbError::Corrupt(e.to_string()))?;
                db::staff::set_memberships(conn, &user.id, &queues)?;
                Ok(user.id)
            })
            .await;
        (id, email, password)
    }

    /// Logs in through the login form and returns the cookie-holding client.
    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        self.login_with(&client, email, password).await
    }

    pub async fn login_with(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        let page = client
            .get(self.url("/admin/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = csrf_of(&page);
        client
            .post(self.url("/admin/login"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", email),
                ("password", password),
            ])
            .send()
            .await
            .unwrap()
    }

    /// A new staff member of `role`, logged in.
    pub async fn staff(&self, role: &str, queues: &[&str]) -> StaffClient {
        self.staff_with_login(role, queues).await.0
    }

    /// `staff`, with the email address and password it logged in with.
    pub async fn staff_with_login(
        &self,
        role: &str,
        queues: &[&str],
    ) -> (StaffClient, String, String) {
        let (id, email, password) = self.create_staff(role, queues).await;
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let resp = self.login_with(&client, &email, &password).await;
        assert_eq!(resp.status(), 200, "login as {role}");
        assert!(resp.url().path().starts_with("/admin"));
        (StaffClient { client, id }, email, password)
    }

    /// Submits a request about a new, distinct person through the API and returns its
    /// reference (so duplicate detection leaves it in its own queue).
    pub async fn submit(&self, changes: serde_json::Value) -> String {
        let mut body = valid_request();
        body["applicant"]["full_name"] = serde_json::json!(distinct_name());
        body["applicant"]["phone"] =
            serde_json::json!(format!("+93 7{:08}", rand::random::<u32>() % 100_000_000));
        body["applicant"]["date_of_birth"] = serde_json::json!(format!(
            "{}-0{}-1{}",
            1950 + rand::random::<u32>() % 50,
            1 + rand::random::<u32>() % 9,
            rand::random::<u32>() % 10
        ));
        for (k, v) in changes.as_object().unwrap() {
            match k.as_str() {
                "location" | "household_size" | "full_name" | "email" => {
                    body["applicant"][k] = v.clone()
                }
                _ => body[k] = v.clone(),
            }
        }
        let resp = self.post_json("/api/v1/requests", &body).await;
        assert_eq!(resp.status(), 201);
        let created: serde_json::Value = resp.json().await.unwrap();
        created["reference"].as_str().unwrap().to_string()
    }
}

impl StaffClient {
    pub async fn get(&self, app: &TestApp, path: &str) -> reqwest::Response {
        self.client.get(app.url(path)).send().await.unwrap()
    }

    /// Posts a form found on `page_path`, with its CSRF token added.
    pub async fn post(
        &self,
        app: &TestApp,
        page_path: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let page = self.get(app, page_path).await.text().await.unwrap();
        let csrf = csrf_of(&page);
        let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        self.client
            .post(app.url(action))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Runs one action on a case page.
    pub async fn act(
        &self,
        app: &TestApp,
        reference: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let page = format!("/admin/requests/{reference}");
        self.post(app, &page, &format!("{page}/actions"), fields)
            .await
    }
}

/// The CSRF token in a page's forms.
pub fn csrf_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a CSRF field on the page");
    let rest = &page[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// Every possible duplicate of a request as staff see it (the API shows a partner only its
/// own), in the shape of `GET /api/v1/requests/{reference}/duplicates`.
pub fn duplicate_candidates(
    conn: &mut DbConnection,
    reference: &str,
) -> Result<serde_json::Value, db::DbError> {
    let row = db::requests::find_by_reference(conn, reference)?.expect("a stored request");
    let candidates: Vec<serde_json::Value> = db::duplicates::candidates_of(conn, &row.id)?
        .into_iter()
        .map(|c| {
            serde_json::json!({
                "reference": c.reference,
                "score": f64::from(c.score_per_mille) / 1000.0,
                "reasons": c.reasons,
                "status": c.status,
            })
        })
        .collect();
    Ok(serde_json::json!({"reference": reference, "candidates": candidates}))
}
