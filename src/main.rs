use clap::Parser;

fn main() -> std::process::ExitCode {
    match case_triage::cli::run(case_triage::cli::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("case-triage: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
