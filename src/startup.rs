//! Builds the running application from `Settings`: database, migrations, seed data,
//! the outbox worker and the HTTP server. Tests build it exactly as `main` does, on port 0.

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use std::net::TcpListener;
use std::sync::Arc;
use tokio::task::JoinHandle;
use tracing_core::callsite::{Callsite, DefaultCallsite};
use tracing_subscriber::fmt::{format, FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::clock::Clock;
use crate::config::{DatabaseUrl, Settings};
use crate::db::{self, Manager, Pool};
use crate::email::transport::Transport;
use crate::email::{Shutdown, Waker, Worker};
use crate::inbox::imap::ImapWorker;
use crate::web::limits::{self, Limiters};
use crate::web::{middleware, routes, AppState, FORM_BODY_LIMIT};

pub struct Application {
    port: u16,
    server: Server,
    pool: Pool,
    mail: Waker,
    worker: JoinHandle<()>,
    /// The IMAP intake, when `IMAP_URL` is set; stopped with the outbox worker.
    imap: Option<JoinHandle<()>>,
    escalator: crate::app::escalation::Escalator,
    escalation: Waker,
    escalation_worker: JoinHandle<()>,
    clock: Clock,
    stop_worker: Shutdown,
    inbox: crate::inbox::drop_folder::Knock,
    shutdown_timeout: std::time::Duration,
}

/// Opens the database, creating the SQLite file's folder if needed, and brings the schema
/// and seed data up to date. With no staff account yet, prints a one-time setup link.
pub fn prepare_database(settings: &Settings) -> anyhow::Result<Pool> {
    let mut conn = migrated(settings)?;
    if let Some(link) = crate::app::staff::issue_setup_link(&mut conn, &settings.base_url)? {
        // Printed, not logged: the link is a one-time secret for whoever runs the server.
        println!(
            "No staff account exists yet. Create the first administrator (this link works once, until the next start):\n  {link}\nor run: case-triage admin create --email you@example.org --name \"Your Name\""
        );
    }
    drop(conn);
    Ok(pool_of(settings))
}

/// `prepare_database` for a command that serves nobody (the mail pipe): no setup link,
/// which would replace the one the server printed.
pub fn open_database(settings: &Settings) -> anyhow::Result<Pool> {
    drop(migrated(settings)?);
    Ok(pool_of(settings))
}

fn migrated(settings: &Settings) -> anyhow::Result<db::Conn> {
    if let DatabaseUrl::Sqlite(path) = &settings.database {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the data folder {}", dir.display()))?;
        }
    }
    let mut conn = Manager::new(settings.database.clone())
        .connect()
        .with_context(|| format!("cannot open the database {}", settings.database.redacted()))?;
    let ran = db::setup::migrate(&mut conn)?;
    if ran > 0 {
        tracing::info!(migrations = ran, "database migrated");
    }
    if db::setup::seed(&mut conn)? {
        tracing::info!("seeded default queues, routing rules and guidance");
    }
    Ok(conn)
}

fn pool_of(settings: &Settings) -> Pool {
    db::build_pool(
        &settings.database,
        settings.pool_size,
        settings.pool_timeout,
    )
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Clock::real()).await
    }

    /// `build` with the clock every timing decision reads (tests move it).
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let prepared = settings.clone();
        let pool = web::block(move || prepare_database(&prepared))
            .await
            .context("database preparation was interrupted")??;
        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let settings = Arc::new(settings);
        let transport = Transport::from_settings(&settings)?;
        let mail = Waker::new();
        let (stop_worker, stop) = Shutdown::new();
        let escalation = Waker::new();
        let state = AppState::new(
            pool.clone(),
            settings.clone(),
            mail.clone(),
            clock.clone(),
            escalation.clone(),
        );
        let worker = actix_web::rt::spawn(
            Worker::new(
                pool.clone(),
                transport,
                settings.clone(),
                mail.clone(),
                stop,
                state.intake.recent().clone(),
                Arc::new(crate::app::forecast::digest_outlook(&settings)),
            )
            .with_clock(clock.clone())
            .run(),
        );
        let inbox = crate::inbox::drop_folder::Knock::default();
        if !settings.mail_in.drop_poll.is_zero() {
            actix_web::rt::spawn(
                crate::inbox::drop_folder::DropFolder::new(
                    state.clone(),
                    crate::config::inbox_dir(&settings.data_dir),
                    settings.mail_in.drop_poll,
                    inbox.clone(),
                    stop_worker.subscribe(),
                )
                .run(),
            );
        }
        let escalator = crate::app::escalation::Escalator::new(state.clone());
        let escalation_worker = actix_web::rt::spawn(
            escalator
                .clone()
                .run(escalation.clone(), stop_worker.subscribe()),
        );
        let imap = settings.imap.clone().map(|imap| {
            actix_web::rt::spawn(
                ImapWorker::new(state.clone(), imap, stop_worker.subscribe()).run(),
            )
        });
        // One set of limiters for every worker, so a client's allowance is per process.
        let limiters = web::Data::new(Limiters::new(&settings.limits));
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(limits::limit_headers))
                .wrap(from_fn(middleware::security_headers))
                .wrap(Compress::default())
                .wrap(from_fn(middleware::log_requests))
                .app_data(web::Data::new(state.clone()))
                .app_data(limiters.clone())
                .app_data(web::PayloadConfig::new(FORM_BODY_LIMIT))
                .app_data(web::FormConfig::default().limit(FORM_BODY_LIMIT))
                .configure(routes)
        })
        .listen(listener)?
        // Database work waits for one of `pool_size` connections anyway; more blocking
        // threads than that only hold memory (a stack and an allocator arena each) while
        // they wait in line for one.
        .worker_max_blocking_threads(settings.pool_size as usize + 2)
        // Signals are handled in `run_until_stopped`, so the log says what happens.
        .disable_signals()
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        .run();
        tracing::info!(
            "listening on http://{}:{port} (database: {}; mail: {})",
            settings.bind.ip(),
            settings.database.redacted(),
            settings.mail.transport_redacted(&settings.data_dir),
        );
        if settings.base_url_from_bind {
            tracing::warn!(
                "BASE_URL is not set: links in mail will use the bind address {}; set BASE_URL \
                 to the address people reach the app at",
                settings.base_url.as_str().trim_end_matches('/'),
            );
        }
        Ok(Application {
            port,
            server,
            pool,
            mail,
            worker,
            imap,
            escalator,
            escalation,
            escalation_worker,
            clock,
            stop_worker,
            inbox,
            shutdown_timeout: settings.shutdown_timeout,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Makes the drop folder take what is in it now instead of at its next poll.
    pub fn knock_inbox(&self) {
        self.inbox.knock();
    }

    /// Wakes this instance's outbox worker.
    pub fn mail_waker(&self) -> &Waker {
        &self.mail
    }

    /// Runs this instance's escalation rounds on demand (tests, after moving the clock).
    pub fn escalator(&self) -> &crate::app::escalation::Escalator {
        &self.escalator
    }

    /// Wakes this instance's escalation worker.
    pub fn escalation_waker(&self) -> &Waker {
        &self.escalation
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Stops the server gracefully from outside (a test's restart), as a signal would.
    pub fn stop_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully: stop accepting
    /// connections, let requests in flight finish (up to `SHUTDOWN_TIMEOUT_SECS`), let the
    /// outbox worker finish the mail it is sending, and return.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let signals = actix_web::rt::spawn(stop_on_signal(self.server.handle()));
        let result = self.server.await;
        signals.abort();
        self.stop_worker.trigger();
        let _ = tokio::time::timeout(self.shutdown_timeout, self.escalation_worker).await;
        let workers = async {
            let _ = self.worker.await;
            if let Some(imap) = self.imap {
                let _ = imap.await;
            }
        };
        match tokio::time::timeout(self.shutdown_timeout, workers).await {
            Ok(_) => tracing::info!("shut down cleanly"),
            Err(_) => tracing::warn!(
                "shut down with a worker still busy; mail being sent goes again after its claim \
                 expires, mail being taken in is fetched again at the next start"
            ),
        }
        result
    }
}

/// Waits for SIGTERM or SIGINT and starts a graceful stop of the HTTP server.
async fn stop_on_signal(server: actix_web::dev::ServerHandle) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("cannot listen for shutdown signals");
        return;
    };
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!(
        signal = name,
        "shutting down: no new connections; finishing requests in flight"
    );
    server.stop(true).await;
}

/// Logs a panic with its location only: the default hook prints the panic message, and a
/// message can quote the data being handled, which may be personal.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(%location, "panic (its message is withheld: it may quote personal data)");
    }));
}

/// Starts the tracing subscriber with the `LOG` filter.
pub fn init_tracing(filter: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .event_format(ClientFaultsAsWarnings(
            tracing_subscriber::fmt::format().with_target(false),
        ))
        .try_init();
}

/// The log format, except for one event. actix-web logs a request it cannot parse (a header
/// with bytes no header may hold, a Content-Length that is not a number) at ERROR, though
/// it is the client's mistake and already answered `400`: an ERROR there pages someone for
/// nothing and hides our own errors. That event is written at WARN instead.
struct ClientFaultsAsWarnings<F>(F);

impl<S, N, F> FormatEvent<S, N> for ClientFaultsAsWarnings<F>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        writer: format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let Some(problem) = malformed_request(event) else {
            return self.0.format_event(ctx, writer, event);
        };
        let meta = MALFORMED_REQUEST_CALLSITE.metadata();
        let text = format!("malformed request from a client, answered 400: {problem}");
        let message = meta.fields().field("message").expect("declared below");
        let values = [(&message, Some(&text.as_str() as &dyn tracing::Value))];
        let values = meta.fields().value_set(&values);
        self.0
            .format_event(ctx, writer, &tracing::Event::new(meta, &values))
    }
}

/// What was wrong with the request, when `event` is actix-web's report of one it could not
/// parse (its text is only the kind of mistake, never the request's bytes).
fn malformed_request(event: &tracing::Event<'_>) -> Option<String> {
    let meta = event.metadata();
    if *meta.level() != tracing::Level::ERROR || !meta.target().starts_with("actix_http::h1") {
        return None;
    }
    struct Message(String);
    impl tracing::field::Visit for Message {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" {
                self.0 = format!("{value:?}");
            }
        }
    }
    let mut message = Message(String::new());
    event.record(&mut message);
    message
        .0
        .strip_prefix("stream error: request parse error: ")
        .map(str::to_string)
}

static MALFORMED_REQUEST_CALLSITE: DefaultCallsite = DefaultCallsite::new(&MALFORMED_REQUEST);
static MALFORMED_REQUEST: tracing::Metadata<'static> = tracing::Metadata::new(
    "malformed request",
    module_path!(),
    tracing::Level::WARN,
    Some(file!()),
    Some(line!()),
    Some(module_path!()),
    tracing_core::field::FieldSet::new(
        &["message"],
        tracing_core::identify_callsite!(&MALFORMED_REQUEST_CALLSITE),
    ),
    tracing_core::metadata::Kind::EVENT,
);
