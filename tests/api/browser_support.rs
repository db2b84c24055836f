//! A real headless Chromium for the browser tests, driven through chromedriver (WebDriver).
//!
//! Each test gets its own chromedriver on a free loopback port and a fresh browser profile;
//! one browser runs at a time, so the suite's other tests keep the machine's cores. Dropping
//! the [`Browser`] kills chromedriver and every browser process it started, even when the test
//! panics. Screenshots land in `<target dir>/browser-artifacts/<test>/`.

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, MutexGuard};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long a page may take to show what a test waits for. Generous: the suite's other
/// tests share the cores, and a wait ends as soon as the page is there.
const WAIT: Duration = Duration::from_secs(30);

/// One browser at a time across the whole test binary.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// A logged-out, fresh headless Chromium.
pub struct Browser {
    pub client: Client,
    artifacts: PathBuf,
    shots: usize,
    // Dropped in this order: the driver (and its browsers), then the lock.
    _driver: Driver,
    _turn: MutexGuard<'static, ()>,
}

/// Starts a browser for `test` (a folder name for its screenshots), or `None` with a
/// `SKIPPED` line when Chromium is not installed. In CI a missing browser is a failure.
pub async fn open(test: &str) -> Option<Browser> {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if !missing.is_empty() {
        let why = format!(
            "{} not found (apt-get install chromium chromium-driver)",
            missing.join(" and ")
        );
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but the browser tests cannot run: {why}");
        }
        eprintln!("SKIPPED browser tests: {why}");
        return None;
    }

    let turn = ONE_AT_A_TIME.lock().await;
    let artifacts = artifacts_root().join(test);
    let _ = std::fs::remove_dir_all(&artifacts);
    std::fs::create_dir_all(&artifacts).expect("create the screenshot folder");

    let (driver, client) = start_session(&artifacts).await;
    Some(Browser {
        client,
        artifacts,
        shots: 0,
        _driver: driver,
        _turn: turn,
    })
}

/// A chromedriver and a Chromium session in it. Chromium starting on cores the rest of the
/// suite keeps busy can miss chromedriver's start-up deadline: a second try gets a fresh
/// driver and profile, and a second failure shows the end of chromedriver's log.
async fn start_session(artifacts: &Path) -> (Driver, Client) {
    let mut failure = String::new();
    for _ in 0..2 {
        let driver = Driver::start(artifacts).await;
        let profile = driver.profile.path().to_str().expect("UTF-8 temp path");
        let mut caps = fantoccini::wd::Capabilities::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--disable-dev-shm-usage",
                    "--window-size=1280,1600",
                    format!("--user-data-dir={profile}"),
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&driver.url)
            .await
        {
            Ok(client) => return (driver, client),
            Err(e) => failure = e.to_string(),
        }
    }
    let log = std::fs::read_to_string(artifacts.join("chromedriver.log")).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(20).collect();
    panic!(
        "chromedriver did not start a Chromium session twice: {failure}\nchromedriver.log ends:\n{}",
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
}

/// `<target dir>/browser-artifacts`: next to the test binary, so `CARGO_TARGET_DIR` is
/// honoured (the binary is `<target dir>/<profile>/deps/api-…`).
fn artifacts_root() -> PathBuf {
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("browser-artifacts")
}

impl Browser {
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The element `css` selects, once the page shows it.
    pub async fn find(&self, css: &str) -> Element {
        self.find_by(Locator::Css(css)).await
    }

    /// The element `locator` finds (a link text, an XPath…), once the page shows it.
    pub async fn find_by(&self, locator: Locator<'_>) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(locator)
            .await
            .unwrap_or_else(|e| panic!("the page never showed {locator:?}: {e}"))
    }

    /// The path of the page the browser shows.
    pub async fn path(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .unwrap_or_else(|e| panic!("current URL: {e}"));
        url.path().to_string()
    }

    /// The visible text of `css`.
    pub async fn text(&self, css: &str) -> String {
        let el = self.find(css).await;
        el.text()
            .await
            .unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    /// The current value of the input `css`.
    pub async fn value(&self, css: &str) -> String {
        let el = self.find(css).await;
        el.prop("value")
            .await
            .unwrap_or_else(|e| panic!("value of {css}: {e}"))
            .unwrap_or_default()
    }

    pub async fn is_selected(&self, css: &str) -> bool {
        let el = self.find(css).await;
        el.is_selected()
            .await
            .unwrap_or_else(|e| panic!("is {css} selected: {e}"))
    }

    /// Logs in on the staff login page at `login_url`, as a person would.
    pub async fn log_in(&self, login_url: String, email: &str, password: &str) {
        self.goto(&login_url).await;
        self.type_into("#email", email).await;
        self.type_into("#password", password).await;
        self.click_through("button[type=submit]").await;
    }

    /// Types `text` into the field `css` with the keyboard.
    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.click()
            .await
            .unwrap_or_else(|e| panic!("focus {css}: {e}"));
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Puts `text` into the field `css` at once, as a paste does: typing thousands of
    /// letters key by key only makes the test slow.
    pub async fn paste_into(&self, css: &str, text: &str) {
        self.find(css).await;
        self.client
            .execute(
                "document.querySelector(arguments[0]).value = arguments[1]",
                vec![css.into(), text.into()],
            )
            .await
            .unwrap_or_else(|e| panic!("paste into {css}: {e}"));
    }

    /// Resizes the window so the page is `width` CSS pixels wide.
    pub async fn set_viewport_width(&self, width: u32) {
        self.client
            .set_window_size(width, 1600)
            .await
            .unwrap_or_else(|e| panic!("resize the window: {e}"));
        let inner = self.script_number("return window.innerWidth").await;
        assert_eq!(inner, f64::from(width), "the page is {width} px wide");
    }

    /// Scrolls so that `css` is at the top of the window (for a screenshot of a part of a
    /// long page).
    pub async fn scroll_to(&self, css: &str) {
        self.find(css).await;
        self.client
            .execute(
                "document.querySelector(arguments[0]).scrollIntoView()",
                vec![serde_json::json!(css)],
            )
            .await
            .unwrap_or_else(|e| panic!("scroll to {css}: {e}"));
    }

    /// How wide the page's content is: wider than the window means a sideways scroll.
    pub async fn content_width(&self) -> f64 {
        self.script_number("return document.documentElement.scrollWidth")
            .await
    }

    async fn script_number(&self, script: &str) -> f64 {
        let value = self
            .client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("run {script:?}: {e}"));
        value
            .as_f64()
            .unwrap_or_else(|| panic!("{script:?} answered {value}"))
    }

    /// Clicks `css` (a radio button, a checkbox, a button) where it is on the page.
    pub async fn click(&self, css: &str) {
        let el = self.find(css).await;
        el.click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Picks the option labelled `label` in the select `css`.
    pub async fn select(&self, css: &str, label: &str) {
        let el = self.find(css).await;
        el.select_by_label(label)
            .await
            .unwrap_or_else(|e| panic!("choose {label:?} in {css}: {e}"));
    }

    /// Clicks `css` (a submit button or a link) and waits until the next page has loaded.
    pub async fn click_through(&self, css: &str) {
        let old_page = self
            .client
            .find(Locator::Css("html"))
            .await
            .unwrap_or_else(|e| panic!("the current page: {e}"));
        self.click(css).await;
        self.wait_until(&format!("a new page after clicking {css}"), || async {
            match old_page.tag_name().await {
                Ok(_) => Ok(false),
                Err(e) if e.is_stale_element_reference() || e.is_no_such_element() => Ok(true),
                Err(e) => Err(e),
            }
        })
        .await;
        self.wait_until("the page to finish loading", || async {
            let state = self
                .client
                .execute("return document.readyState", vec![])
                .await?;
            Ok(state == "complete")
        })
        .await;
    }

    /// Polls `ready` until it holds; panics after [`WAIT`] with the last error seen.
    ///
    /// While one document is torn down and the next one loads, chromedriver answers a
    /// command with whatever state it met (a JavaScript error, no such window, "target frame
    /// detached", …): an error is a reason to ask again, not an answer.
    async fn wait_until<F, Fut>(&self, what: &str, mut ready: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<bool, CmdError>>,
    {
        let deadline = Instant::now() + WAIT;
        let mut last_error = None;
        loop {
            match ready().await {
                Ok(true) => return,
                Ok(false) => {}
                Err(e) => last_error = Some(e),
            }
            if Instant::now() >= deadline {
                match last_error {
                    Some(e) => panic!("waited too long for {what}; last answer: {e}"),
                    None => panic!("waited too long for {what}"),
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves what the window shows as `NN-step.png` in the test's artifact folder.
    pub async fn screenshot(&mut self, step: &str) {
        self.shots += 1;
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot {step}: {e}"));
        let path = self.artifacts.join(format!("{:02}-{step}.png", self.shots));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Ends the session cleanly (Chromium quits); the drop then stops chromedriver.
    pub async fn close(self) {
        let Browser {
            client,
            _driver,
            _turn,
            ..
        } = self;
        let _ = client.close().await;
    }
}

/// A chromedriver process in its own process group, with the browser profile it hands out.
struct Driver {
    child: Child,
    url: String,
    profile: tempfile::TempDir,
}

impl Driver {
    async fn start(artifacts: &Path) -> Driver {
        // A free port can be taken between asking and binding: try a few.
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free loopback port")
                .port();
            let log = std::fs::File::create(artifacts.join("chromedriver.log"))
                .expect("chromedriver log file");
            let child = std::os::unix::process::CommandExt::process_group(
                Command::new(CHROMEDRIVER)
                    .arg(format!("--port={port}"))
                    .stdin(Stdio::null())
                    .stdout(log.try_clone().expect("log handle"))
                    .stderr(log),
                0,
            )
            .spawn()
            .unwrap_or_else(|e| panic!("start {CHROMEDRIVER}: {e}"));
            let mut driver = Driver {
                child,
                url: format!("http://127.0.0.1:{port}"),
                profile: tempfile::tempdir().expect("browser profile folder"),
            };
            if driver.answers().await {
                return driver;
            }
        }
        panic!("chromedriver did not answer on a loopback port (see chromedriver.log)");
    }

    /// Waits until chromedriver reports it is ready; false if it exited first.
    async fn answers(&mut self) -> bool {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return false;
            }
            if let Ok(resp) = http.get(format!("{}/status", self.url)).send().await {
                if let Ok(status) = resp.json::<serde_json::Value>().await {
                    if status["value"]["ready"] == true {
                        return true;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver leads its own process group; the browsers it started are in it.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
