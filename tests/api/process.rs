//! The server binary as a separate process, the way an operator runs it: started with an
//! environment of our choosing, its whole stdout and stderr captured in a file, and stopped
//! with a real signal (SIGKILL for a crash, SIGTERM for a shutdown).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::TestEnv;
use case_triage::config::DatabaseUrl;

pub struct Server {
    child: Child,
    pub address: String,
    log: PathBuf,
}

/// The environment that points the binary at a test instance's data folder and database,
/// on a free loopback port, with no digest.
pub fn env_for(env: &TestEnv) -> HashMap<String, String> {
    let url = match &env.settings.database {
        DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
        DatabaseUrl::Postgres(s) => {
            use secrecy::ExposeSecret;
            s.expose_secret().to_string()
        }
    };
    [
        ("BIND", "127.0.0.1:0".to_string()),
        ("DATA_DIR", env.dir.path().display().to_string()),
        ("DATABASE_URL", url),
        ("DIGEST_HOUR", "off".to_string()),
        ("OUTBOX_POLL_SECS", "1".to_string()),
        ("OUTBOX_RETRY_BASE_SECS", "1".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The environment of an instance the suite started in-process, for running a command
/// of the binary against its database.
pub fn env_for_app(app: &crate::helpers::TestApp) -> HashMap<String, String> {
    [
        ("DATA_DIR", app.dir.path().display().to_string()),
        ("DATABASE_URL", app.database_url()),
        ("DIGEST_HOUR", "off".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The server binary: `CASE_TRIAGE_BIN` when set (CI points it at the release build, as
/// deployed), else the one this test run built.
pub fn server_binary() -> PathBuf {
    std::env::var_os("CASE_TRIAGE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_case-triage")))
}

/// The binary with exactly `vars` as its environment (nothing from the operator's shell).
pub fn command(vars: &HashMap<String, String>) -> Command {
    let mut cmd = Command::new(server_binary());
    cmd.env_clear().envs(vars);
    cmd
}

impl Server {
    /// Starts the server and waits until it says where it listens. Everything it writes to
    /// stdout and stderr goes to `log`.
    pub fn start(vars: &HashMap<String, String>, log: &Path) -> Server {
        let out = std::fs::File::create(log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = command(vars)
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .expect("start the server binary");
        let mut server = Server {
            child,
            address: String::new(),
            log: log.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = server.log();
            if let Some(at) = text.find("listening on http://") {
                let rest = &text[at + "listening on ".len()..];
                let end = rest.find([' ', '\n']).unwrap_or(rest.len());
                server.address = rest[..end].to_string();
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("the server exited at start-up ({status}):\n{text}");
            }
            assert!(
                Instant::now() < deadline,
                "the server did not start listening:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Everything the process wrote so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// A crash: SIGKILL, no chance to clean up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// What a process manager does to stop a service: SIGTERM.
    pub fn terminate(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits for the process to exit on its own.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit within {timeout:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill();
        }
    }
}
