//! Typed settings, read from environment variables once at start-up and passed in.
//! Every variable has a default that runs out of the box; a bad value stops start-up with
//! one line naming the variable and what it expects.

use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::domain::dedup::{DedupPolicy, DEFAULT_THRESHOLD};
use crate::domain::fields::ContactEmail;
use crate::domain::Language;

/// A setting that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid {var}={value:?}: expected {expected}")]
pub struct ConfigError {
    pub var: &'static str,
    pub value: String,
    pub expected: &'static str,
}

/// Which database to use, chosen by the scheme of `DATABASE_URL`.
#[derive(Clone)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(SecretString),
}

impl DatabaseUrl {
    /// `postgres://…` / `postgresql://…` or `sqlite://path` / `sqlite:path` / a plain path.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            url::Url::parse(raw).map_err(|_| "a postgres://user@host:port/database URL")?;
            return Ok(DatabaseUrl::Postgres(SecretString::from(raw.to_string())));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        if path.is_empty() || path.contains("://") {
            return Err("postgres://user@host/db, or sqlite://path/to/file.db");
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgres",
        }
    }

    /// The URL with any password removed, for logs.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(secret) => match url::Url::parse(secret.expose_secret()) {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("***"));
                    }
                    u.set_query(None);
                    u.to_string()
                }
                Err(_) => "postgres://***".to_string(),
            },
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// How the dashboard forecasts (docs/product/forecast.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForecastSettings {
    /// The weight of the latest day in the smoothed daily rates (0 < α ≤ 1).
    pub alpha: f64,
    /// The staffing table's target: clear the backlog within this many days.
    pub target_days: u32,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// `BIND`: address to listen on.
    pub bind: SocketAddr,
    /// `DATA_DIR`: where the default SQLite file and mail files live.
    pub data_dir: PathBuf,
    /// `DATABASE_URL`.
    pub database: DatabaseUrl,
    /// `BASE_URL`: how the app is reached from outside, for links in mails.
    pub base_url: url::Url,
    /// `BASE_URL` was not set, so `base_url` is the bind address.
    pub base_url_from_bind: bool,
    /// `LOG`: tracing filter.
    pub log: String,
    /// `DB_POOL_SIZE`: connections per app instance.
    pub pool_size: u32,
    /// `DB_POOL_TIMEOUT_SECS`: how long a request waits for a connection.
    pub pool_timeout: Duration,
    /// `COOKIE_SECURE`: mark session cookies Secure (default: when BASE_URL is https).
    pub cookie_secure: bool,
    /// `SESSION_HOURS`: how long a staff login lasts.
    pub session_hours: u32,
    /// `SLA_URGENT_HOURS`, `SLA_HIGH_HOURS`, `SLA_NORMAL_HOURS`: how long an open request
    /// of each priority may wait before the dashboard lists it as a breach.
    pub sla_hours: [u32; 3],
    /// `FORECAST_ALPHA` and `FORECAST_TARGET_DAYS`: the dashboard forecast's smoothing and
    /// the days within which the staffing table aims to clear a backlog.
    pub forecast: ForecastSettings,
    /// `DEDUP_THRESHOLD` and `DEDUP_ROUTE_TO_ORIGINAL`: when a request is flagged as a
    /// possible duplicate, and whether it then follows the earlier request's queue.
    pub dedup: DedupPolicy,
    /// Mail delivery: transport, sender, digest and outbox retry policy.
    pub mail: MailSettings,
    /// Per-client-IP rate limits and which proxies may name the client.
    pub limits: RateLimits,
    /// `SHUTDOWN_TIMEOUT_SECS`: on SIGTERM/SIGINT, how long requests in flight and the mail
    /// being sent get to finish.
    pub shutdown_timeout: Duration,
    /// `PURGE_AFTER_DAYS`: when set, a daily job anonymizes requests closed longer ago than
    /// this; also the default of `purge --closed-before-days`.
    pub purge_after_days: Option<u32>,
    /// `API_ANONYMOUS`: whether the JSON API takes submissions without a partner's token
    /// (default true); when false, submitting needs `Authorization: Bearer`. Reading a
    /// request always needs a token.
    pub api_anonymous: bool,
    /// `REPLY_TO`: where a requester's reply to a message from the task force goes; each
    /// case's mail carries it with the case's token as a sub-address (`taskforce+TOKEN@…`).
    /// `None`: no Reply-To, and the mail says to answer on the status page.
    pub reply_to: Option<ContactEmail>,
    /// `REPLY_REOPENS`: whether an answer moves a case "Awaiting information" to
    /// "In progress" (default true).
    pub reply_reopens: bool,
    /// `IMAP_URL` and the rest: the mailbox mail is taken in from; `None`: no IMAP.
    pub imap: Option<ImapSettings>,
    /// Mail taken in: limits, who counts as an organization, the answer language.
    pub mail_in: MailInSettings,
    /// Paging urgent requests until someone acknowledges, and SLA warnings.
    pub escalation: EscalationSettings,
}

/// How mail to the task-force mailbox is taken in (`docs/operating/mail-in.md`).
#[derive(Debug, Clone)]
pub struct MailInSettings {
    /// `MAIL_MAX_BYTES`: the largest mail taken in (default 25 MiB); a larger one is kept,
    /// cut at this size, as mail that could not be read.
    pub max_bytes: usize,
    /// `MAIL_MAX_FILE_BYTES`: the largest attachment kept (default 10 MiB); a larger one is
    /// listed on the case as not kept.
    pub max_file_bytes: usize,
    /// `MAIL_ORGANIZATION_DOMAINS` and `MAIL_AGENCY_DOMAINS`: comma-separated sender domains
    /// whose mail is filed as from an organization or an agency office.
    pub organization_domains: Vec<String>,
    pub agency_domains: Vec<String>,
    /// `MAIL_ARABIC_SCRIPT_LANGUAGE`: the language (`fa-AF` or `ps`) of the acknowledgment
    /// for mail written in Arabic script (default Dari).
    pub arabic_script_language: Language,
    /// `MAIL_ACKS_PER_HOUR`: acknowledgments at most per sender per hour (default 3).
    pub acks_per_hour: u32,
    /// `MAIL_DROP_POLL_SECS`: how often the drop folder `$DATA_DIR/inbox` is looked at
    /// (default 5; 0 turns the drop folder off).
    pub drop_poll: Duration,
}

impl MailInSettings {
    pub fn limits(&self) -> crate::email::inbound::Limits {
        crate::email::inbound::Limits {
            mail_bytes: self.max_bytes,
            file_bytes: self.max_file_bytes,
        }
    }
}

/// The drop folder of incoming mail: `*.eml` files placed here are taken in.
pub fn inbox_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("inbox")
}

fn mail_in_settings<'a>(
    get: &impl Fn(&str) -> Option<&'a str>,
) -> Result<MailInSettings, ConfigError> {
    let bad = |var: &'static str, value: &str, expected: &'static str| ConfigError {
        var,
        value: value.to_string(),
        expected,
    };
    let mib = |var: &'static str, default: u32| {
        parse_number(get(var), default, 1..=1024)
            .map(|n| n as usize * 1024 * 1024)
            .map_err(|v| bad(var, &v, "a size in MiB from 1 to 1024"))
    };
    let domains = |var: &str| -> Vec<String> {
        get(var)
            .unwrap_or_default()
            .split(',')
            .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .collect()
    };
    let arabic_script_language = match get("MAIL_ARABIC_SCRIPT_LANGUAGE") {
        None => Language::FaAf,
        Some(raw) => match raw.parse::<Language>() {
            Ok(l) if l != Language::En => l,
            _ => return Err(bad("MAIL_ARABIC_SCRIPT_LANGUAGE", raw, "fa-AF or ps")),
        },
    };
    Ok(MailInSettings {
        max_bytes: mib("MAIL_MAX_BYTES", 25)?,
        max_file_bytes: mib("MAIL_MAX_FILE_BYTES", 10)?,
        organization_domains: domains("MAIL_ORGANIZATION_DOMAINS"),
        agency_domains: domains("MAIL_AGENCY_DOMAINS"),
        arabic_script_language,
        acks_per_hour: parse_number(get("MAIL_ACKS_PER_HOUR"), 3, 0..=1000)
            .map_err(|v| bad("MAIL_ACKS_PER_HOUR", &v, "a number from 0 to 1000"))?,
        drop_poll: Duration::from_secs(
            parse_number(get("MAIL_DROP_POLL_SECS"), 5, 0..=3600)
                .map_err(|v| {
                    bad(
                        "MAIL_DROP_POLL_SECS",
                        &v,
                        "a number of seconds from 0 to 3600",
                    )
                })?
                .into(),
        ),
    })
}

/// The task-force mailbox the app takes mail in from over IMAP.
#[derive(Clone, Debug)]
pub struct ImapSettings {
    /// `IMAP_URL`.
    pub url: ImapUrl,
    /// `IMAP_PASSWORD`.
    pub password: SecretString,
    /// `IMAP_POLL_SECS`: how often the mailbox is looked at when the server has no IDLE,
    /// and the longest an IDLE waits before looking anyway.
    pub poll: Duration,
    /// `IMAP_MOVE_TO`: a folder each mail is moved to once it is stored; `None` flags it
    /// `\Seen` and leaves it where it is.
    pub move_to: Option<String>,
}

impl ImapSettings {
    pub const DEFAULT_POLL_SECS: u32 = 60;
}

/// `imaps://user@host[:993][/MAILBOX]`, or `imap://` to a loopback host.
#[derive(Clone, PartialEq, Eq)]
pub struct ImapUrl {
    /// TLS from the first byte (`imaps://`); plain only to loopback.
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub user: String,
    /// The folder watched, from the URL's path; `INBOX` when it has none.
    pub mailbox: String,
}

impl ImapUrl {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        const EXPECTED: &str = "imaps://user@host:993/INBOX, with the password in IMAP_PASSWORD";
        let url = url::Url::parse(raw).map_err(|_| EXPECTED)?;
        let tls = match url.scheme() {
            "imaps" => true,
            "imap" => false,
            _ => return Err(EXPECTED),
        };
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or(EXPECTED)?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        if url.password().is_some() || url.username().is_empty() {
            return Err(EXPECTED);
        }
        if !tls && !is_loopback(&host) {
            return Err(
                "imaps://: plain imap:// sends the password unencrypted, so it is \
                 allowed only to a loopback host (127.0.0.1, ::1 or localhost)",
            );
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let mut mailbox = decode(url.path().trim_start_matches('/'));
        // The inbox's name is case-insensitive (RFC 3501, 5.1): one spelling, so the stored
        // progress does not depend on how the URL wrote it.
        if mailbox.is_empty() || mailbox.eq_ignore_ascii_case("inbox") {
            mailbox = "inbox".to_ascii_uppercase();
        }
        Ok(ImapUrl {
            tls,
            port: url.port().unwrap_or(if tls { 993 } else { 143 }),
            host,
            user: decode(url.username()),
            mailbox,
        })
    }

    /// Where mail comes from, without the user, for logs.
    pub fn redacted(&self) -> String {
        let scheme = if self.tls { "imaps" } else { "imap" };
        format!(
            "{scheme}://***@{}:{}/{}",
            self.host, self.port, self.mailbox
        )
    }

    /// What names this mailbox in the stored progress: another account, server or folder
    /// starts from its first mail.
    pub fn account(&self) -> String {
        format!("{}:{}/{}/{}", self.host, self.port, self.user, self.mailbox)
    }
}

impl fmt::Debug for ImapUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// How urgent requests are escalated and cases warned of their SLA target
/// (docs/operating/escalation.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationSettings {
    /// `ESCALATION_REPEATS`: how many times a queue's chain runs again from the top before
    /// the leads are notified (default 0: once through, then the leads).
    pub repeats: u32,
    /// `TASK_FORCE_UTC_OFFSET`: the offset from UTC of the task force's local time, which
    /// duty schedules are written in (default +05:00, Pakistan; no daylight saving).
    pub utc_offset: chrono::FixedOffset,
    /// `PAGE_LINK_HOURS`: how long the "I take this case" link of a page works.
    pub link_hours: u32,
    /// `SLA_WARNING_HOURS`: how long before its SLA target a case is warned.
    pub sla_warning_hours: u32,
    /// `ESCALATION_POLL_SECS`: how often the escalation worker looks for due pages and
    /// warnings when nothing wakes it.
    pub poll: Duration,
}

/// How many requests one client address may send; `0` per minute turns a limit off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// `RATE_LIMIT_PER_MINUTE`: public form posts and JSON API calls per client IP.
    pub per_minute: u32,
    /// `LOGIN_RATE_LIMIT_PER_MINUTE`: staff login attempts per client IP.
    pub login_per_minute: u32,
    /// `TRUSTED_PROXIES`: peers whose `X-Forwarded-For` names the client; from anyone
    /// else the header is ignored and the peer address is the client.
    pub trusted_proxies: Vec<IpAddr>,
}

impl RateLimits {
    // Generous: many applicants reach the form through one carrier-grade NAT address.
    pub const DEFAULT_PER_MINUTE: u32 = 600;
    pub const DEFAULT_LOGIN_PER_MINUTE: u32 = 10;

    /// No limits: for tests that send many requests from one address.
    pub fn off() -> Self {
        RateLimits {
            per_minute: 0,
            login_per_minute: 0,
            trusted_proxies: Vec::new(),
        }
    }
}

/// The retention `purge` applies when neither the flag nor `PURGE_AFTER_DAYS` says.
pub const DEFAULT_PURGE_AFTER_DAYS: u32 = 365;

/// How mail leaves the app, and how the outbox retries it.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `SMTP_URL`: `smtp://`, `smtps://` or `smtp://…?tls=required`; `None` writes `.eml`
    /// files into `{DATA_DIR}/mail/`. Secret: it may hold a password.
    pub smtp_url: Option<SecretString>,
    /// `MAIL_FROM`: the sender of every mail.
    pub from: lettre::message::Mailbox,
    /// `DIGEST_TO`: the task-force lead's address for the daily digest.
    pub digest_to: ContactEmail,
    /// `DIGEST_HOUR`: the hour (UTC, 0-23) from which the day's digest is sent; `off`
    /// sends none.
    pub digest_hour: Option<u32>,
    /// `OUTBOX_MAX_ATTEMPTS`: attempts before a mail is dead-lettered.
    pub max_attempts: u32,
    /// `OUTBOX_RETRY_BASE_SECS`: the first retry delay; it doubles with every attempt.
    pub retry_base: Duration,
    /// `OUTBOX_POLL_SECS`: how often the worker looks for due mail when nobody wakes it.
    pub poll: Duration,
    /// `OUTBOX_CLAIM_SECS`: how long a worker's claim on mail holds. Mail claimed by an
    /// instance that crashed waits this long before another worker takes it; it must be
    /// longer than a batch can take with every SMTP step timing out.
    pub claim: Duration,
}

impl MailSettings {
    /// Where the mail goes, without any password, for the start-up log.
    pub fn transport_redacted(&self, data_dir: &Path) -> String {
        match &self.smtp_url {
            None => format!("files in {}", mail_dir(data_dir).display()),
            Some(url) => match url::Url::parse(url.expose_secret()) {
                Ok(u) => format!(
                    "{}://{}:{}",
                    u.scheme(),
                    u.host_str().unwrap_or(""),
                    u.port().map(|p| p.to_string()).unwrap_or_default()
                ),
                Err(_) => "smtp://***".to_string(),
            },
        }
    }
}

/// Where mail is written when no SMTP server is configured.
pub fn mail_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("mail")
}

pub const DEFAULT_MAIL_FROM: &str = "Task force <no-reply@taskforce.example>";
pub const DEFAULT_DIGEST_TO: &str = "lead@taskforce.example";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./data";
pub const SQLITE_FILE: &str = "case-triage.db";

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Reads settings from the given variables (the process environment in production,
    /// a map in tests).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let bad = |var: &'static str, value: &str, expected: &'static str| ConfigError {
            var,
            value: value.to_string(),
            expected,
        };

        let bind_raw = get("BIND").unwrap_or(DEFAULT_BIND);
        let bind: SocketAddr = bind_raw
            .parse()
            .map_err(|_| bad("BIND", bind_raw, "host:port such as 127.0.0.1:8080"))?;

        let data_dir = PathBuf::from(get("DATA_DIR").unwrap_or(DEFAULT_DATA_DIR));

        let database = match get("DATABASE_URL") {
            None => DatabaseUrl::Sqlite(data_dir.join(SQLITE_FILE)),
            Some(raw) => DatabaseUrl::parse(raw).map_err(|expected| ConfigError {
                var: "DATABASE_URL",
                // Never echo a URL that may hold a password.
                value: "<hidden>".to_string(),
                expected,
            })?,
        };

        let base_default = format!("http://{bind}");
        let base_raw = get("BASE_URL").unwrap_or(&base_default);
        let base_url = url::Url::parse(base_raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                bad(
                    "BASE_URL",
                    base_raw,
                    "an http(s) URL such as https://triage.example.org",
                )
            })?;

        let log = get("LOG").unwrap_or("info").to_string();
        tracing_subscriber::EnvFilter::try_new(&log).map_err(|_| {
            bad(
                "LOG",
                &log,
                "a tracing filter such as info or case_triage=debug",
            )
        })?;

        let pool_size = parse_number(get("DB_POOL_SIZE"), 8, 1..=256)
            .map_err(|v| bad("DB_POOL_SIZE", &v, "a number of connections from 1 to 256"))?;
        let pool_timeout = parse_number(get("DB_POOL_TIMEOUT_SECS"), 10, 1..=300).map_err(|v| {
            bad(
                "DB_POOL_TIMEOUT_SECS",
                &v,
                "a number of seconds from 1 to 300",
            )
        })?;

        let cookie_secure = match get("COOKIE_SECURE") {
            None => base_url.scheme() == "https",
            Some("true" | "1" | "yes") => true,
            Some("false" | "0" | "no") => false,
            Some(other) => return Err(bad("COOKIE_SECURE", other, "true or false")),
        };
        let session_hours = parse_number(get("SESSION_HOURS"), 12, 1..=720)
            .map_err(|v| bad("SESSION_HOURS", &v, "a number of hours from 1 to 720"))?;
        let mut sla_hours = [24, 72, 336];
        for (i, var) in ["SLA_URGENT_HOURS", "SLA_HIGH_HOURS", "SLA_NORMAL_HOURS"]
            .into_iter()
            .enumerate()
        {
            sla_hours[i] = parse_number(get(var), sla_hours[i], 1..=8760)
                .map_err(|v| bad(var, &v, "a number of hours from 1 to 8760"))?;
        }
        let forecast = ForecastSettings {
            alpha: match get("FORECAST_ALPHA") {
                None => 0.25,
                Some(raw) => raw
                    .parse::<f64>()
                    .ok()
                    .filter(|a| *a > 0.0 && *a <= 1.0)
                    .ok_or_else(|| bad("FORECAST_ALPHA", raw, "a number above 0, at most 1"))?,
            },
            target_days: parse_number(get("FORECAST_TARGET_DAYS"), 14, 1..=365)
                .map_err(|v| bad("FORECAST_TARGET_DAYS", &v, "a number of days from 1 to 365"))?,
        };
        let threshold = match get("DEDUP_THRESHOLD") {
            None => DEFAULT_THRESHOLD,
            Some(raw) => raw
                .parse::<f64>()
                .ok()
                .filter(|t| *t > 0.0 && *t <= 1.0)
                .ok_or_else(|| {
                    bad(
                        "DEDUP_THRESHOLD",
                        raw,
                        "a score above 0 and at most 1, such as 0.8",
                    )
                })?,
        };
        let route_to_original = match get("DEDUP_ROUTE_TO_ORIGINAL") {
            None => true,
            Some(raw) => parse_bool(raw)
                .ok_or_else(|| bad("DEDUP_ROUTE_TO_ORIGINAL", raw, "true or false"))?,
        };
        let mail = mail_settings(&get)?;
        let mail_in = mail_in_settings(&get)?;
        let limits = rate_limits(&get)?;
        let shutdown_timeout =
            parse_number(get("SHUTDOWN_TIMEOUT_SECS"), 30, 1..=3_600).map_err(|v| {
                bad(
                    "SHUTDOWN_TIMEOUT_SECS",
                    &v,
                    "a number of seconds from 1 to 3600",
                )
            })?;
        let purge_after_days = get("PURGE_AFTER_DAYS")
            .map(|raw| {
                parse_number(Some(raw), 0, 1..=36_500)
                    .map_err(|v| bad("PURGE_AFTER_DAYS", &v, "a number of days from 1 to 36500"))
            })
            .transpose()?;

        let api_anonymous = match get("API_ANONYMOUS") {
            None => true,
            Some(raw) => {
                parse_bool(raw).ok_or_else(|| bad("API_ANONYMOUS", raw, "true or false"))?
            }
        };

        let reply_to = get("REPLY_TO")
            .map(|raw| {
                ContactEmail::parse(raw)
                    .map_err(|_| bad("REPLY_TO", raw, "an address such as taskforce@example.org"))
            })
            .transpose()?;
        let reply_reopens = match get("REPLY_REOPENS") {
            None => true,
            Some(raw) => {
                parse_bool(raw).ok_or_else(|| bad("REPLY_REOPENS", raw, "true or false"))?
            }
        };

        let imap = imap_settings(&get)?;
        let escalation = escalation_settings(&get)?;

        Ok(Settings {
            bind,
            data_dir,
            database,
            base_url,
            base_url_from_bind: get("BASE_URL").is_none(),
            log,
            pool_size,
            pool_timeout: Duration::from_secs(pool_timeout.into()),
            cookie_secure,
            session_hours,
            sla_hours,
            forecast,
            dedup: DedupPolicy {
                threshold,
                route_to_original,
            },
            mail,
            limits,
            shutdown_timeout: Duration::from_secs(shutdown_timeout.into()),
            purge_after_days,
            api_anonymous,
            reply_to,
            reply_reopens,
            mail_in,
            imap,
            escalation,
        })
    }

    /// Settings for a throw-away instance: port 0, everything under `dir`, and no rate
    /// limits (a test client sends everything from one address).
    pub fn for_dir(dir: &Path) -> Self {
        let mut vars = HashMap::new();
        vars.insert("BIND".to_string(), "127.0.0.1:0".to_string());
        vars.insert("DATA_DIR".to_string(), dir.display().to_string());
        let mut settings = Self::from_vars(&vars).expect("defaults are valid");
        settings.limits = RateLimits::off();
        settings
    }
}

fn imap_settings<'a>(
    get: &impl Fn(&str) -> Option<&'a str>,
) -> Result<Option<ImapSettings>, ConfigError> {
    let Some(raw) = get("IMAP_URL") else {
        return Ok(None);
    };
    let url = ImapUrl::parse(raw).map_err(|expected| ConfigError {
        var: "IMAP_URL",
        // The user part may be a person's address.
        value: "<hidden>".to_string(),
        expected,
    })?;
    let password = get("IMAP_PASSWORD")
        .map(|p| SecretString::from(p.to_string()))
        .ok_or(ConfigError {
            var: "IMAP_PASSWORD",
            value: String::new(),
            expected: "the password of the IMAP_URL account",
        })?;
    let poll = parse_number(
        get("IMAP_POLL_SECS"),
        ImapSettings::DEFAULT_POLL_SECS,
        1..=1_740,
    )
    .map_err(|v| ConfigError {
        var: "IMAP_POLL_SECS",
        value: v,
        expected: "a number of seconds from 1 to 1740 (29 minutes)",
    })?;
    Ok(Some(ImapSettings {
        url,
        password,
        poll: Duration::from_secs(poll.into()),
        move_to: get("IMAP_MOVE_TO").map(str::to_string),
    }))
}

fn parse_bool(raw: &str) -> Option<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn mail_settings<'a>(get: &impl Fn(&str) -> Option<&'a str>) -> Result<MailSettings, ConfigError> {
    let bad = |var: &'static str, value: &str, expected: &'static str| ConfigError {
        var,
        value: value.to_string(),
        expected,
    };
    let smtp_url = get("SMTP_URL")
        .map(|raw| {
            parse_smtp_url(raw)
                .map(|()| SecretString::from(raw.to_string()))
                .map_err(|expected| ConfigError {
                    var: "SMTP_URL",
                    // Never echo a URL that may hold a password.
                    value: "<hidden>".to_string(),
                    expected,
                })
        })
        .transpose()?;
    let from_raw = get("MAIL_FROM").unwrap_or(DEFAULT_MAIL_FROM);
    let from = from_raw
        .parse::<lettre::message::Mailbox>()
        .ok()
        .filter(|_| !from_raw.contains(['\r', '\n']))
        .ok_or_else(|| {
            bad(
                "MAIL_FROM",
                from_raw,
                "an address such as no-reply@example.org or Name <no-reply@example.org>",
            )
        })?;
    let digest_raw = get("DIGEST_TO").unwrap_or(DEFAULT_DIGEST_TO);
    let digest_to = ContactEmail::parse(digest_raw).map_err(|_| {
        bad(
            "DIGEST_TO",
            digest_raw,
            "one address such as lead@example.org",
        )
    })?;
    let digest_hour = match get("DIGEST_HOUR") {
        Some("off") => None,
        raw => Some(parse_number(raw, 6, 0..=23).map_err(|v| {
            bad(
                "DIGEST_HOUR",
                &v,
                "an hour of the day (UTC) from 0 to 23, or off",
            )
        })?),
    };
    let max_attempts = parse_number(get("OUTBOX_MAX_ATTEMPTS"), 8, 1..=100).map_err(|v| {
        bad(
            "OUTBOX_MAX_ATTEMPTS",
            &v,
            "a number of attempts from 1 to 100",
        )
    })?;
    let retry_base = parse_number(get("OUTBOX_RETRY_BASE_SECS"), 30, 1..=86_400).map_err(|v| {
        bad(
            "OUTBOX_RETRY_BASE_SECS",
            &v,
            "a number of seconds from 1 to 86400",
        )
    })?;
    let poll = parse_number(get("OUTBOX_POLL_SECS"), 5, 1..=3_600)
        .map_err(|v| bad("OUTBOX_POLL_SECS", &v, "a number of seconds from 1 to 3600"))?;
    let claim = parse_number(get("OUTBOX_CLAIM_SECS"), 900, 5..=86_400).map_err(|v| {
        bad(
            "OUTBOX_CLAIM_SECS",
            &v,
            "a number of seconds from 5 to 86400",
        )
    })?;
    Ok(MailSettings {
        smtp_url,
        from,
        digest_to,
        digest_hour,
        max_attempts,
        retry_base: Duration::from_secs(retry_base.into()),
        poll: Duration::from_secs(poll.into()),
        claim: Duration::from_secs(claim.into()),
    })
}

fn escalation_settings<'a>(
    get: &impl Fn(&str) -> Option<&'a str>,
) -> Result<EscalationSettings, ConfigError> {
    let bad = |var: &'static str, value: &str, expected: &'static str| ConfigError {
        var,
        value: value.to_string(),
        expected,
    };
    let repeats = parse_number(get("ESCALATION_REPEATS"), 0, 0..=20)
        .map_err(|v| bad("ESCALATION_REPEATS", &v, "a number of repeats from 0 to 20"))?;
    let offset_raw = get("TASK_FORCE_UTC_OFFSET").unwrap_or("+05:00");
    let utc_offset = crate::domain::escalation::parse_utc_offset(offset_raw).ok_or_else(|| {
        bad(
            "TASK_FORCE_UTC_OFFSET",
            offset_raw,
            "an offset from UTC such as +05:00, +04:30 or -03:00 (not a zone name)",
        )
    })?;
    let link_hours = parse_number(get("PAGE_LINK_HOURS"), 24, 1..=720)
        .map_err(|v| bad("PAGE_LINK_HOURS", &v, "a number of hours from 1 to 720"))?;
    let sla_warning_hours = parse_number(get("SLA_WARNING_HOURS"), 4, 1..=720)
        .map_err(|v| bad("SLA_WARNING_HOURS", &v, "a number of hours from 1 to 720"))?;
    let poll = parse_number(get("ESCALATION_POLL_SECS"), 30, 1..=3_600).map_err(|v| {
        bad(
            "ESCALATION_POLL_SECS",
            &v,
            "a number of seconds from 1 to 3600",
        )
    })?;
    Ok(EscalationSettings {
        repeats,
        utc_offset,
        link_hours,
        sla_warning_hours,
        poll: Duration::from_secs(poll.into()),
    })
}

fn rate_limits<'a>(get: &impl Fn(&str) -> Option<&'a str>) -> Result<RateLimits, ConfigError> {
    let per_minute = parse_number(
        get("RATE_LIMIT_PER_MINUTE"),
        RateLimits::DEFAULT_PER_MINUTE,
        0..=1_000_000,
    )
    .map_err(|v| ConfigError {
        var: "RATE_LIMIT_PER_MINUTE",
        value: v,
        expected: "a number of requests per minute per client address, 0 for no limit",
    })?;
    let login_per_minute = parse_number(
        get("LOGIN_RATE_LIMIT_PER_MINUTE"),
        RateLimits::DEFAULT_LOGIN_PER_MINUTE,
        0..=1_000_000,
    )
    .map_err(|v| ConfigError {
        var: "LOGIN_RATE_LIMIT_PER_MINUTE",
        value: v,
        expected: "a number of login attempts per minute per client address, 0 for no limit",
    })?;
    let trusted_proxies = match get("TRUSTED_PROXIES") {
        None => Vec::new(),
        Some(raw) => raw
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<IpAddr>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ConfigError {
                var: "TRUSTED_PROXIES",
                value: raw.to_string(),
                expected: "comma-separated IP addresses such as 10.0.0.2,10.0.0.3",
            })?,
    };
    Ok(RateLimits {
        per_minute,
        login_per_minute,
        trusted_proxies,
    })
}

/// The forms lettre's `from_url` understands: `smtp://host:port`, `smtps://…`,
/// `smtp://…?tls=required|opportunistic`.
fn parse_smtp_url(raw: &str) -> Result<(), &'static str> {
    const EXPECTED: &str =
        "smtp://host:port, smtps://user:pass@host:465 or smtp://host:587?tls=required";
    let url = url::Url::parse(raw).map_err(|_| EXPECTED)?;
    let tls = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    let known = matches!(
        (url.scheme(), tls.as_deref()),
        ("smtp", None | Some("required" | "opportunistic")) | ("smtps", None)
    );
    if !known || url.host_str().is_none_or(str::is_empty) {
        return Err(EXPECTED);
    }
    Ok(())
}

fn parse_number(
    raw: Option<&str>,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, String> {
    match raw {
        None => Ok(default),
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| s.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_run_out_of_the_box() {
        let s = Settings::from_vars(&HashMap::new()).unwrap();
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database.redacted(), "sqlite://./data/case-triage.db");
        assert_eq!(s.base_url.as_str(), "http://127.0.0.1:8080/");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = Settings::from_vars(&vars(&[("BIND", "nowhere")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid BIND=\"nowhere\": expected host:port such as 127.0.0.1:8080"
        );
        let err = Settings::from_vars(&vars(&[("DB_POOL_SIZE", "0")])).unwrap_err();
        assert_eq!(err.var, "DB_POOL_SIZE");
        let err =
            Settings::from_vars(&vars(&[("DATABASE_URL", "mysql://u:secret@h/db")])).unwrap_err();
        assert!(!err.to_string().contains("secret"));
    }

    #[test]
    fn duplicate_detection_is_configurable() {
        let s = Settings::from_vars(&HashMap::new()).unwrap();
        assert_eq!(s.dedup, DedupPolicy::default());
        let s = Settings::from_vars(&vars(&[
            ("DEDUP_THRESHOLD", "0.9"),
            ("DEDUP_ROUTE_TO_ORIGINAL", "false"),
        ]))
        .unwrap();
        assert_eq!(s.dedup.threshold, 0.9);
        assert!(!s.dedup.route_to_original);
        for (var, value) in [
            ("DEDUP_THRESHOLD", "1.5"),
            ("DEDUP_THRESHOLD", "high"),
            ("DEDUP_THRESHOLD", "0"),
            ("DEDUP_ROUTE_TO_ORIGINAL", "maybe"),
        ] {
            let err = Settings::from_vars(&vars(&[(var, value)])).unwrap_err();
            assert_eq!(err.var, var);
            assert!(err.to_string().starts_with(&format!("invalid {var}=")));
        }
    }

    #[test]
    fn mail_settings_default_and_name_bad_values() {
        let s = Settings::from_vars(&HashMap::new()).unwrap();
        assert!(s.mail.smtp_url.is_none());
        assert_eq!(
            s.mail.from.to_string(),
            "Task force <no-reply@taskforce.example>"
        );
        assert_eq!(s.mail.digest_to.as_str(), "lead@taskforce.example");
        assert_eq!(s.mail.digest_hour, Some(6));
        let off = Settings::from_vars(&vars(&[("DIGEST_HOUR", "off")])).unwrap();
        assert_eq!(off.mail.digest_hour, None);
        assert_eq!(s.mail.max_attempts, 8);
        assert_eq!(s.mail.retry_base, Duration::from_secs(30));
        assert_eq!(s.mail.poll, Duration::from_secs(5));
        assert_eq!(s.mail.claim, Duration::from_secs(900));
        for (var, value) in [
            ("DIGEST_HOUR", "24"),
            ("OUTBOX_MAX_ATTEMPTS", "0"),
            ("OUTBOX_RETRY_BASE_SECS", "soon"),
            ("OUTBOX_POLL_SECS", "0"),
            ("OUTBOX_CLAIM_SECS", "1"),
            ("MAIL_FROM", "not an address"),
            ("DIGEST_TO", "lead"),
            ("SMTP_URL", "http://mail.example"),
            ("SMTP_URL", "smtp://mail.example?tls=sometimes"),
        ] {
            let err = Settings::from_vars(&vars(&[(var, value)])).unwrap_err();
            assert_eq!(err.var, var, "{value}");
        }
    }

    #[test]
    fn shutdown_and_retention_settings() {
        let s = Settings::from_vars(&HashMap::new()).unwrap();
        assert_eq!(s.shutdown_timeout, Duration::from_secs(30));
        assert_eq!(s.purge_after_days, None);
        let s = Settings::from_vars(&vars(&[
            ("SHUTDOWN_TIMEOUT_SECS", "5"),
            ("PURGE_AFTER_DAYS", "90"),
        ]))
        .unwrap();
        assert_eq!(s.shutdown_timeout, Duration::from_secs(5));
        assert_eq!(s.purge_after_days, Some(90));
        for (var, value) in [
            ("SHUTDOWN_TIMEOUT_SECS", "0"),
            ("PURGE_AFTER_DAYS", "0"),
            ("PURGE_AFTER_DAYS", "a year"),
        ] {
            let err = Settings::from_vars(&vars(&[(var, value)])).unwrap_err();
            assert_eq!(err.var, var);
        }
    }

    #[test]
    fn smtp_passwords_never_reach_logs() {
        let err = Settings::from_vars(&vars(&[("SMTP_URL", "ftp://u:hunter2@mail.example")]))
            .unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
        let s = Settings::from_vars(&vars(&[("SMTP_URL", "smtps://u:hunter2@mail.example:465")]))
            .unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
        let shown = s.mail.transport_redacted(&s.data_dir);
        assert_eq!(shown, "smtps://mail.example:465");
    }

    #[test]
    fn rate_limits_default_generous_and_name_bad_values() {
        let s = Settings::from_vars(&HashMap::new()).unwrap();
        assert_eq!(s.limits.per_minute, 600);
        assert_eq!(s.limits.login_per_minute, 10);
        assert!(s.limits.trusted_proxies.is_empty());
        let s = Settings::from_vars(&vars(&[
            ("RATE_LIMIT_PER_MINUTE", "0"),
            ("TRUSTED_PROXIES", "10.0.0.2, ::1"),
        ]))
        .unwrap();
        assert_eq!(s.limits.per_minute, 0);
        assert_eq!(s.limits.trusted_proxies.len(), 2);
        for (var, value) in [
            ("RATE_LIMIT_PER_MINUTE", "-1"),
            ("RATE_LIMIT_PER_MINUTE", "many"),
            ("LOGIN_RATE_LIMIT_PER_MINUTE", "1.5"),
            ("TRUSTED_PROXIES", "10.0.0.0/8"),
            ("TRUSTED_PROXIES", "proxy.internal"),
        ] {
            let err = Settings::from_vars(&vars(&[(var, value)])).unwrap_err();
            assert_eq!(err.var, var, "{value}");
            assert!(!err.to_string().contains('\n'));
        }
    }

    #[test]
    fn escalation_settings_default_and_name_bad_values() {
        let s = Settings::from_vars(&HashMap::new()).unwrap();
        assert_eq!(s.escalation.repeats, 0);
        assert_eq!(s.escalation.utc_offset.local_minus_utc(), 5 * 3600);
        assert_eq!(s.escalation.link_hours, 24);
        assert_eq!(s.escalation.sla_warning_hours, 4);
        let s = Settings::from_vars(&vars(&[("TASK_FORCE_UTC_OFFSET", "+04:30")])).unwrap();
        assert_eq!(s.escalation.utc_offset.local_minus_utc(), 16_200);
        for (var, value) in [
            ("ESCALATION_REPEATS", "-1"),
            ("TASK_FORCE_UTC_OFFSET", "Asia/Karachi"),
            ("PAGE_LINK_HOURS", "0"),
            ("SLA_WARNING_HOURS", "soon"),
            ("ESCALATION_POLL_SECS", "0"),
        ] {
            let err = Settings::from_vars(&vars(&[(var, value)])).unwrap_err();
            assert_eq!(err.var, var, "{value}");
        }
    }

    #[test]
    fn postgres_passwords_never_reach_logs() {
        let url = DatabaseUrl::parse("postgres://app:hunter2@db:5432/triage").unwrap();
        assert_eq!(url.redacted(), "postgres://app:***@db:5432/triage");
        assert!(!format!("{url:?}").contains("hunter2"));
    }

    #[test]
    fn imap_takes_tls_or_loopback_and_never_shows_the_account() {
        let s = Settings::from_vars(&vars(&[
            (
                "IMAP_URL",
                "imaps://intake-desk%40example.org@imap.example.org/Intake",
            ),
            ("IMAP_PASSWORD", "hunter2"),
        ]))
        .unwrap();
        let imap = s.imap.expect("IMAP is on");
        assert_eq!(imap.url.user, "intake-desk@example.org");
        assert_eq!((imap.url.port, imap.url.mailbox.as_str()), (993, "Intake"));
        assert_eq!(imap.poll, Duration::from_secs(60));
        let shown = format!(
            "{:?}",
            Settings::from_vars(&vars(&[
                (
                    "IMAP_URL",
                    "imaps://intake-desk%40example.org@imap.example.org/Intake"
                ),
                ("IMAP_PASSWORD", "hunter2"),
            ]))
            .unwrap()
        );
        assert!(
            !shown.contains("hunter2") && !shown.contains("intake-desk"),
            "{shown}"
        );
        assert!(Settings::from_vars(&HashMap::new()).unwrap().imap.is_none());

        let local = ImapUrl::parse("imap://task@127.0.0.1:1143").unwrap();
        assert_eq!((local.tls, local.mailbox.as_str()), (false, "INBOX"));
        let spelled = ImapUrl::parse("imap://task@[::1]:1143/Inbox").unwrap();
        assert_eq!(
            (spelled.host.as_str(), spelled.mailbox.as_str()),
            ("::1", "INBOX")
        );
        for (url, password) in [
            ("imap://task@imap.example.org/INBOX", "p"),
            ("imaps://task:inline@imap.example.org/INBOX", "p"),
            ("imaps://imap.example.org/INBOX", "p"),
            ("https://task@imap.example.org/", "p"),
            ("imaps://task@imap.example.org/INBOX", ""),
        ] {
            let err = Settings::from_vars(&vars(&[("IMAP_URL", url), ("IMAP_PASSWORD", password)]))
                .unwrap_err();
            assert!(err.var.starts_with("IMAP_"), "{url}: {err}");
            assert!(!err.to_string().contains("task"), "{err}");
        }
        let err = Settings::from_vars(&vars(&[
            ("IMAP_URL", "imap://task@imap.example.org/INBOX"),
            ("IMAP_PASSWORD", "p"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("loopback"), "{err}");
    }
}
