//! A real IMAP server for the suite: Debian's Dovecot, started by each test on a loopback
//! port with its own configuration, one user with a plain password and a maildir in a
//! temporary folder. Tests deliver mail by APPEND and read flags back over IMAP.

use async_imap::Session;
use case_triage::config::{ImapSettings, ImapUrl, Settings};
use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

const DOVECOT: &str = "/usr/sbin/dovecot";
pub const USER: &str = "triage";
pub const PASSWORD: &str = "imap-test-password";

/// Whether Dovecot can run here; outside CI a missing one skips the IMAP tests with a
/// message, in CI it fails them.
fn available() -> bool {
    if Path::new(DOVECOT).exists() {
        return true;
    }
    let why = format!("{DOVECOT} is missing (apt-get install dovecot-imapd)");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but the IMAP tests cannot run: {why}");
    }
    eprintln!("SKIPPED IMAP tests: {why}");
    false
}

pub struct Dovecot {
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

/// Who Dovecot's own processes and the mail user run as. Dovecot refuses mail access as
/// root, so as root the package's `dovecot`/`dovenull` users serve and own the mail;
/// anyone else runs all of it as themselves.
struct Users {
    internal: String,
    login: String,
    uid: u32,
    gid: u32,
}

fn id(args: &[&str]) -> String {
    let out = Command::new("id").args(args).output().expect("run id");
    assert!(out.status.success(), "id {args:?} failed");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn users() -> Users {
    let number = |args: &[&str]| id(args).parse::<u32>().expect("a numeric id");
    if number(&["-u"]) == 0 {
        Users {
            internal: "dovecot".into(),
            login: "dovenull".into(),
            uid: number(&["-u", "dovecot"]),
            gid: number(&["-g", "dovecot"]),
        }
    } else {
        let me = id(&["-un"]);
        Users {
            internal: me.clone(),
            login: me,
            uid: number(&["-u"]),
            gid: number(&["-g"]),
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Dovecot {
    /// A running server with an empty INBOX; `None` when Dovecot is not installed (outside CI).
    pub fn start() -> Option<Self> {
        if !available() {
            return None;
        }
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        // Dovecot's own users must reach the sockets and the mail below this folder.
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
        let users = users();
        let mail = root.join("mail");
        for sub in ["run", "state", "mail"] {
            std::fs::create_dir(root.join(sub)).unwrap();
        }
        std::os::unix::fs::chown(&mail, Some(users.uid), Some(users.gid)).unwrap();
        std::fs::write(
            root.join("users"),
            format!(
                "{USER}:{{PLAIN}}{PASSWORD}:{}:{}::{}\n",
                users.uid,
                users.gid,
                mail.join(USER).display()
            ),
        )
        .unwrap();
        let port = free_port();
        let root_s = root.display();
        std::fs::write(
            root.join("dovecot.conf"),
            format!(
                "protocols = imap
listen = 127.0.0.1
base_dir = {root_s}/run
state_dir = {root_s}/state
instance_name = case-triage-test-{port}
log_path = {root_s}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root_s}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root_s}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
",
                internal = users.internal,
                login = users.login,
            ),
        )
        .unwrap();
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(root.join("dovecot.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dovecot");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "dovecot did not start listening: {}",
                std::fs::read_to_string(root.join("dovecot.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Dovecot {
            port,
            child,
            _dir: dir,
        })
    }

    /// `IMAP_URL` of the test user's mailbox `folder`.
    pub fn url(&self, folder: &str) -> String {
        format!("imap://{USER}@127.0.0.1:{}/{folder}", self.port)
    }

    /// The environment that points the binary at the test user's INBOX.
    pub fn env(&self) -> HashMap<String, String> {
        [
            ("IMAP_URL", self.url("INBOX")),
            ("IMAP_PASSWORD", PASSWORD.to_string()),
            ("IMAP_POLL_SECS", "1".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Points an instance at the test user's `folder`, looking every second.
    pub fn configure(&self, settings: &mut Settings, folder: &str) {
        settings.imap = Some(ImapSettings {
            url: ImapUrl::parse(&self.url(folder)).expect("a valid IMAP_URL"),
            password: PASSWORD.to_string().into(),
            poll: Duration::from_secs(1),
            move_to: None,
        });
    }

    /// A session of the test user, as a mail client has it.
    pub async fn client(&self) -> Session<TcpStream> {
        let tcp = TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect to dovecot");
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.expect("greeting");
        client
            .login(USER, PASSWORD)
            .await
            .map_err(|(e, _)| e)
            .expect("login")
    }

    /// Delivers the mails into `folder` (created if missing), in order.
    pub async fn deliver(&self, folder: &str, mails: &[Vec<u8>]) {
        let mut session = self.client().await;
        if folder != "INBOX" {
            let _ = session.create(folder).await;
        }
        for mail in mails {
            session
                .append(folder, None, None, mail)
                .await
                .expect("append");
        }
        session.logout().await.expect("logout");
    }

    /// The UIDs of `folder`, all and those without `\Seen`.
    pub async fn uids(&self, folder: &str) -> (Vec<u32>, Vec<u32>) {
        let mut session = self.client().await;
        session.examine(folder).await.expect("examine");
        let sorted = |set: std::collections::HashSet<u32>| {
            let mut v: Vec<u32> = set.into_iter().collect();
            v.sort_unstable();
            v
        };
        let all = sorted(session.uid_search("ALL").await.expect("search"));
        let unseen = sorted(session.uid_search("UNSEEN").await.expect("search"));
        let _ = session.logout().await;
        (all, unseen)
    }

    /// Deletes `folder` and makes it again: a new UIDVALIDITY, as after a server migration.
    pub async fn recreate(&self, folder: &str) {
        let mut session = self.client().await;
        session.delete(folder).await.expect("delete folder");
        session.create(folder).await.expect("create folder");
        let _ = session.logout().await;
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its children; a SIGKILL would leave them behind.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
