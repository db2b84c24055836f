use clap::Parser;

fn main() -> std::process::ExitCode {
    limit_allocator_arenas();
    match case_triage::cli::run(case_triage::cli::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("case-triage: {e:#}");
            match e.downcast_ref::<case_triage::cli::TempFail>() {
                // EX_TEMPFAIL: the mail server keeps the message and tries again later.
                Some(_) => std::process::ExitCode::from(75),
                None => std::process::ExitCode::FAILURE,
            }
        }
    }
}

/// glibc gives each thread that allocates under contention an arena of its own (up to eight
/// per core), and an arena keeps what was freed in it: with the HTTP workers, the blocking
/// threads and the committing thread, that alone was a third of the server's memory under
/// load. Two arenas, one per core of the small machine this is sized for, keep the server
/// under 50 MB at a million requests (four were 3-6 MB more for about 8 % more intakes per
/// second). `MALLOC_ARENA_MAX` in the environment still decides when it is set.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_allocator_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it runs first thing in main,
        // before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_allocator_arenas() {}
