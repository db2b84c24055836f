//! The command line: `serve` (the default), `migrate`, and `outbox list|retry` for staff
//! to see and retry mail until the admin pages exist.

use clap::{Parser, Subcommand};

use anyhow::Context;

use crate::config::Settings;
use crate::db::{self, outbox::OutboxStatus};
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
    /// See mail waiting, sent or dead in the outbox, and retry dead mail.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
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

/// Runs the command; the error is printed by `main` as one line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    startup::init_tracing(&settings.log);
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
        Command::Outbox { command } => outbox(&settings, command),
    }
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
            let rows = db::outbox::list(&mut conn, status, limit)?;
            println!(
                "{:<36}  {:<14}  {:<28}  {:<7}  {:>8}  {:<19}  last error",
                "id", "kind", "recipient", "status", "attempts", "next attempt (UTC)"
            );
            for row in rows {
                let next = if row.status == OutboxStatus::Pending.as_str() {
                    row.next_attempt_at.format("%Y-%m-%d %H:%M:%S").to_string()
                } else {
                    "-".to_string()
                };
                println!(
                    "{:<36}  {:<14}  {:<28}  {:<7}  {:>8}  {:<19}  {}",
                    row.id,
                    row.kind,
                    email::mask(&row.recipient),
                    row.status,
                    row.attempts,
                    next,
                    row.last_error.as_deref().unwrap_or("-"),
                );
            }
            let c = db::outbox::counts(&mut conn)?;
            println!("pending {}, sent {}, dead {}", c.pending, c.sent, c.dead);
            Ok(())
        }
        OutboxCommand::Retry { all_dead: true, .. } => {
            let n = db::outbox::retry_all_dead(&mut conn, now)?;
            println!("{n} dead mail(s) queued again");
            Ok(())
        }
        OutboxCommand::Retry { id, .. } => {
            let id = id.unwrap_or_default();
            if db::outbox::retry(&mut conn, &id, now)? {
                println!("mail {id} queued again");
                Ok(())
            } else {
                anyhow::bail!("no unsent mail with id {id}")
            }
        }
    }
}
