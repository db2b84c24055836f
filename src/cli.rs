//! The command line: `serve` (the default), `migrate`, `admin create`,
//! `outbox list|retry` for staff to see and retry mail, the retention `purge`, and
//! `recount` to check or rebuild the dashboard's counts.

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::app::{self, outbox::Retry};
use crate::config::Settings;
use crate::db::{self, outbox::OutboxStatus};
use crate::domain::Actor;
use crate::email;
use crate::startup::{self, Application};

#[derive(Debug, Parser)]
#[command(
    name = "case-triage",
    version,
    about = "Refugee resettlement request triage"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app (the default).
    Serve,
    /// Apply database migrations and seed defaults, then exit.
    Migrate,
    /// Manage staff accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// See mail waiting, sent or dead in the outbox, and retry dead mail.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Anonymize the personal data of requests closed more than N days ago (names become
    /// "[removed]", other personal fields are emptied; category, queue and dates stay).
    Purge {
        /// Days since closing; default `PURGE_AFTER_DAYS`, else 365.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=36_500))]
        closed_before_days: Option<u32>,
    },
    /// Count every request afresh and compare with the counts the dashboard and queue
    /// totals read; with --fix, replace them with the fresh count.
    Recount {
        #[arg(long)]
        fix: bool,
    },
    /// Fill the database with made-up requests (for load tests and demonstrations only:
    /// never on a database that holds real requests).
    DemoData {
        /// How many requests.
        #[arg(long, default_value_t = 10_000)]
        count: u64,
        /// The same seed makes the same people, categories and statuses.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Take in one mail (RFC 5322) from standard input, for a mail server's pipe transport:
    /// exit 0 once it is stored (also as mail that could not be read), 75 (EX_TEMPFAIL)
    /// when it could not be stored, so that the mail server keeps it and tries again.
    MailIn,
    /// The raw database baseline of `bench/run.sh`: the rows of one intake inserted
    /// directly, one transaction each, from several threads at once.
    #[command(hide = true)]
    BenchRaw {
        /// Concurrent writers, each with its own connection.
        #[arg(long, default_value_t = 8)]
        connections: usize,
        /// How long to run, in seconds.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List mail, newest first (recipients masked).
    List {
        /// Only mail with this status.
        #[arg(long, value_parser = ["pending", "sent", "dead"])]
        status: Option<String>,
        /// At most this many rows.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Make a dead mail due again with a fresh set of attempts.
    Retry {
        /// The mail's id, as `outbox list` shows it.
        #[arg(required_unless_present = "all_dead", conflicts_with = "all_dead")]
        id: Option<String>,
        /// Retry every dead mail.
        #[arg(long)]
        all_dead: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a staff account. The password is read from the terminal (or standard
    /// input when it is not a terminal), never from the command line.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Administrator")]
        name: String,
        /// admin, lead, caseworker or viewer
        #[arg(long, default_value = "admin")]
        role: String,
        /// Queues a caseworker works (repeatable), by short name.
        #[arg(long = "queue")]
        queues: Vec<String>,
    },
}

/// Runs the command; the error is printed by `main` as one line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    startup::init_tracing(&settings.log);
    startup::install_panic_hook();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(async move {
            let app = Application::build(settings).await?;
            app.run_until_stopped().await?;
            Ok(())
        }),
        Command::Migrate => {
            startup::prepare_database(&settings)?;
            println!("database {} is up to date", settings.database.redacted());
            Ok(())
        }
        Command::Admin {
            command:
                AdminCommand::Create {
                    email,
                    name,
                    role,
                    queues,
                },
        } => create_staff(&settings, &email, &name, &role, &queues),
        Command::Outbox { command } => outbox(&settings, command),
        Command::Purge { closed_before_days } => purge(&settings, closed_before_days),
        Command::Recount { fix } => recount(&settings, fix),
        Command::DemoData { count, seed } => demo_data(&settings, count, seed),
        Command::MailIn => mail_in(settings),
        Command::BenchRaw {
            connections,
            seconds,
        } => {
            startup::prepare_database(&settings)?;
            let r = app::demo::raw_intakes(
                &settings.database,
                connections,
                std::time::Duration::from_secs(seconds),
            )?;
            println!(
                "raw {} connections: {} intakes in {:.1}s = {:.0}/s, p50 {:.2} ms, p99 {:.2} ms",
                connections,
                r.done,
                r.seconds,
                r.done as f64 / r.seconds,
                r.p50_ms,
                r.p99_ms
            );
            Ok(())
        }
    }
}

/// Reads a password: from the terminal without echo (twice), or one line of stdin.
fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (at least 12 characters): ")?;
        let second = rpassword::prompt_password("Password again: ")?;
        anyhow::ensure!(first == second, "the two passwords are not the same");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

fn create_staff(
    settings: &Settings,
    email: &str,
    name: &str,
    role: &str,
    queues: &[String],
) -> anyhow::Result<()> {
    use crate::app::users::{self, NewUser};
    let role: crate::domain::staff::Role = role
        .parse()
        .map_err(|e| anyhow::anyhow!("invalid --role: {e}"))?;
    let password = read_password()?;
    crate::app::staff::check_new_password(&password, &password)
        .map_err(|m| anyhow::anyhow!("{m}"))?;
    let pool = startup::prepare_database(settings)?;
    let mut conn = pool.get()?;
    let new = NewUser {
        email: email.to_string(),
        name: name.to_string(),
        role,
        password_hash: String::new(),
        queues: queues.to_vec(),
    };
    let now = chrono::Utc::now().naive_utc();
    let user = users::create_from_cli(&mut conn, new, &password, now)?;
    println!("created {} account for {}", role.as_str(), user.email);
    Ok(())
}

fn demo_data(settings: &Settings, count: u64, seed: u64) -> anyhow::Result<()> {
    use std::io::Write;
    drop(startup::prepare_database(settings)?);
    // One connection of its own: nothing else is writing meanwhile.
    let mut conn = db::Manager::new(settings.database.clone())
        .connect()
        .context("cannot open the database")?;
    let started = std::time::Instant::now();
    let now = chrono::Utc::now().naive_utc();
    let c = app::demo::fill(&mut conn, count, seed, now, |done| {
        let secs = started.elapsed().as_secs_f64().max(0.001);
        eprint!(
            "\r{done}/{count} requests ({:.0}%), {:.0} per second   ",
            done as f64 * 100.0 / count.max(1) as f64,
            done as f64 / secs
        );
        let _ = std::io::stderr().flush();
    })?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!();
    println!(
        "wrote {} made-up requests in {secs:.1}s ({:.0} per second): {} closed, {} from repeat applicants, {} audit events, {} duplicate keys",
        c.requests,
        c.requests as f64 / secs.max(0.001),
        c.closed,
        c.repeat_applicants,
        c.audit_events,
        c.dedup_keys
    );
    Ok(())
}

/// Nothing was stored; the caller should offer the same input again later.
#[derive(Debug, thiserror::Error)]
#[error("{0}; the mail was not stored, try again later")]
pub struct TempFail(pub String);

fn mail_in(settings: Settings) -> anyhow::Result<()> {
    use std::io::Read;
    let mut raw = Vec::new();
    std::io::stdin()
        .read_to_end(&mut raw)
        .map_err(|e| TempFail(format!("cannot read the mail on standard input: {e}")))?;
    let settings = std::sync::Arc::new(settings);
    actix_web::rt::System::new().block_on(async move {
        let prepared = settings.clone();
        let pool = actix_web::web::block(move || startup::open_database(&prepared))
            .await
            .map_err(|e| TempFail(e.to_string()))?
            .map_err(|e| TempFail(format!("{e:#}")))?;
        // The server's escalation worker pages for an urgent mail at its next round.
        let state = app::AppState::new(
            pool,
            settings,
            email::Waker::new(),
            crate::clock::Clock::real(),
            email::Waker::new(),
        );
        let taken = app::mail_in::take(&state, raw, app::mail_in::Origin::Pipe)
            .await
            .map_err(|e| TempFail(format!("{:#}", anyhow::Error::from(e))))?;
        println!("taken in as mail {}: {}", taken.ledger_id, taken.outcome);
        Ok(())
    })
}

fn purge(settings: &Settings, days: Option<u32>) -> anyhow::Result<()> {
    let days = days
        .or(settings.purge_after_days)
        .unwrap_or(crate::config::DEFAULT_PURGE_AFTER_DAYS);
    let pool = startup::prepare_database(settings)?;
    let mut conn = pool.get().context("cannot open the database")?;
    let now = chrono::Utc::now().naive_utc();
    let cutoff = now - chrono::Duration::days(days.into());
    let purged = crate::app::purge::run(
        &mut conn,
        &settings.data_dir,
        cutoff,
        db::purge::Trigger::Cli,
        now,
    )?
    .context("the purge did not run")?;
    let c = purged.counts;
    println!(
        "anonymized {} request(s) closed more than {days} days ago ({} notes, {} duplicate keys, {} mails)",
        c.requests, c.notes, c.dedup_keys, c.mails
    );
    let dir = crate::config::mail_dir(&settings.data_dir);
    println!(
        "removed {} mail file(s) of anonymized requests from {}",
        purged.files_removed,
        dir.display()
    );
    if purged.files_failed > 0 {
        anyhow::bail!(
            "{} mail file(s) in {} could not be removed (see the log); remove them by hand",
            purged.files_failed,
            dir.display()
        );
    }
    if purged.on_postgres {
        println!(
            "PostgreSQL keeps old row versions in its files until they are reused: VACUUM has run; \
             to rewrite the files now, run `VACUUM FULL request_personal_data, case_notes, outbox, dedup_keys;` \
             in a quiet hour (it locks those tables). Backups and WAL archives keep their own copies."
        );
    }
    Ok(())
}

fn recount(settings: &Settings, fix: bool) -> anyhow::Result<()> {
    let pool = startup::prepare_database(settings)?;
    let mut conn = pool.get().context("cannot open the database")?;
    if fix {
        let fresh = app::counts::rebuild(&mut conn)?;
        println!(
            "rebuilt the counts: {} states, {} hourly counts",
            fresh.states.len(),
            fresh.hours.len()
        );
        return Ok(());
    }
    let app::counts::Checked { differ, fresh } = app::counts::check(&mut conn)?;
    anyhow::ensure!(
        differ == 0,
        "{differ} count(s) differ from a fresh count; `recount --fix` replaces them"
    );
    println!(
        "the counts match a fresh count ({} states, {} hourly counts)",
        fresh.states.len(),
        fresh.hours.len()
    );
    Ok(())
}

fn outbox(settings: &Settings, command: OutboxCommand) -> anyhow::Result<()> {
    let pool = startup::prepare_database(settings)?;
    let mut conn = pool.get().context("cannot open the database")?;
    let now = chrono::Utc::now().naive_utc();
    match command {
        OutboxCommand::List { status, limit } => {
            let status = status
                .map(|s| s.parse::<OutboxStatus>())
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let (c, rows) = app::outbox::listing(&mut conn, status, limit)?;
            println!(
                "{:<36}  {:<14}  {:<28}  {:<7}  {:>8}  {:<19}  last error",
                "id", "kind", "recipient", "status", "attempts", "next attempt (UTC)"
            );
            for row in rows {
                let next = if row.status == OutboxStatus::Pending {
                    row.next_attempt_at.format("%Y-%m-%d %H:%M:%S").to_string()
                } else {
                    "-".to_string()
                };
                println!(
                    "{:<36}  {:<14}  {:<28}  {:<7}  {:>8}  {:<19}  {}",
                    row.id,
                    row.kind,
                    email::recipient_label(&row),
                    row.status,
                    row.attempts,
                    next,
                    row.last_error.as_deref().unwrap_or("-"),
                );
            }
            println!("pending {}, sent {}, dead {}", c.pending, c.sent, c.dead);
            Ok(())
        }
        OutboxCommand::Retry { all_dead: true, .. } => {
            let n = app::outbox::requeue(&mut conn, &Actor::Cli, Retry::AllDead, now)?;
            println!("{n} dead mail(s) queued again");
            Ok(())
        }
        OutboxCommand::Retry { id, .. } => {
            let id = id.unwrap_or_default();
            if app::outbox::requeue(&mut conn, &Actor::Cli, Retry::One(id.clone()), now)? > 0 {
                println!("mail {id} queued again");
                Ok(())
            } else {
                anyhow::bail!("no unsent mail with id {id}")
            }
        }
    }
}
