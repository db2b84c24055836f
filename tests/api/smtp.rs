//! A real SMTP server for the suite: aiosmtpd on a loopback port, delivering into a maildir
//! the tests read back. It can be stopped and started again on the same port, to play a
//! mail server that is down.

use mailparse::MailHeaderMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The system Python, which has `python3-aiosmtpd` (not a pyenv or venv one on PATH).
const PYTHON: &str = "/usr/bin/python3";

/// Whether the sink can run here; outside CI a missing aiosmtpd skips the SMTP tests with a
/// message, in CI it fails them.
fn available() -> bool {
    static AVAILABLE: OnceLock<Result<(), String>> = OnceLock::new();
    let result = AVAILABLE.get_or_init(|| {
        match Command::new(PYTHON)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
        {
            Ok(s) if s.success() => Ok(()),
            Ok(_) => Err(format!(
                "{PYTHON} cannot import aiosmtpd (apt-get install python3-aiosmtpd)"
            )),
            Err(e) => Err(format!("{PYTHON} cannot run: {e}")),
        }
    });
    match result {
        Ok(()) => true,
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but the SMTP sink cannot start: {why}")
        }
        Err(why) => {
            eprintln!("SKIPPED SMTP tests: {why}");
            false
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope recipient (what the app told the server), from aiosmtpd's `X-RcptTo`.
    pub rcpt_to: String,
    pub to: String,
    pub from: String,
    pub subject: String,
    pub message_id: String,
    pub text: String,
    pub html: String,
    /// The whole message as stored, for "never anywhere" checks.
    pub raw: String,
}

pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl SmtpSink {
    /// A running sink on a free port; `None` when it cannot run here (outside CI).
    pub fn start() -> Option<Self> {
        let mut sink = Self::down()?;
        sink.up();
        Some(sink)
    }

    /// A sink that is not running yet: its port is chosen, nothing listens there.
    pub fn down() -> Option<Self> {
        if !available() {
            return None;
        }
        Some(SmtpSink {
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
            child: None,
        })
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("maildir")
    }

    /// Starts the server and waits until it accepts connections.
    pub fn up(&mut self) {
        assert!(self.child.is_none(), "the sink is already up");
        let child = Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.maildir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not start listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        let Ok(entries) = std::fs::read_dir(self.maildir().join("new")) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .map(|p| parse(&std::fs::read(p).expect("read message")))
            .collect()
    }

    /// Waits until `n` mails have arrived, then a moment more to catch any
    /// extra copy, and returns them all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.messages().len();
            if got >= n {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} mails within {timeout:?}, got {got}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
        self.messages()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn parse(raw: &[u8]) -> Received {
    let mail = mailparse::parse_mail(raw).expect("a parsable message");
    let header = |name: &str| mail.headers.get_first_value(name).unwrap_or_default();
    let part = |mime: &str| {
        mail.subparts
            .iter()
            .find(|p| p.ctype.mimetype == mime)
            .map(|p| p.get_body().expect("decodable body"))
            .unwrap_or_default()
    };
    Received {
        rcpt_to: header("X-RcptTo"),
        to: header("To"),
        from: header("From"),
        subject: header("Subject"),
        message_id: header("Message-ID"),
        text: part("text/plain"),
        html: part("text/html"),
        raw: String::from_utf8_lossy(raw).into_owned(),
    }
}
