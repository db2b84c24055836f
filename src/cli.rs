//! The command line: `serve` (the default) and `migrate`.

use clap::{Parser, Subcommand};

use crate::config::Settings;
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
    }
}
