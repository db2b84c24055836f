//! Accessibility of the public pages as a browser sees them: axe-core (WCAG 2.1 A/AA and
//! best practices) in headless Chromium on the form, the form with errors, the
//! confirmation and the status page with its answer form, in English and Dari, plus a
//! keyboard-only walk to the error summary.
//! Needs Debian's `chromium` and `npm ci` in tests/a11y (`.ci/run` does both).

use std::path::Path;
use std::process::Command;

use crate::helpers::{spawn_app, Backend};

fn skip_or_fail(what: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("accessibility check cannot run in CI: {what}");
    }
    println!("SKIPPED accessibility check: {what}");
}

#[actix_web::test]
async fn the_public_pages_have_no_axe_violations_in_english_and_dari() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/a11y");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return skip_or_fail(&format!("{chromium} is missing (apt-get install chromium)"));
    }
    if !dir.join("node_modules/axe-core").exists()
        || !dir.join("node_modules/puppeteer-core").exists()
    {
        return skip_or_fail("run `npm ci` in tests/a11y");
    }
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let base = app.url("");
    let output = actix_web::rt::task::spawn_blocking(move || {
        Command::new("node")
            .arg("axe.mjs")
            .arg(base)
            .current_dir(dir)
            .env("CHROMIUM", chromium)
            .output()
    })
    .await
    .unwrap();
    let output = match output {
        Ok(o) => o,
        Err(e) => return skip_or_fail(&format!("node cannot be started: {e}")),
    };
    let report = String::from_utf8_lossy(&output.stdout);
    println!("{report}{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "axe found problems:\n{report}");
    assert_eq!(
        report.matches(", 0 violations").count(),
        10,
        "ten pages checked"
    );
}
