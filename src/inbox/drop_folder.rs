//! The drop folder: every `*.eml` file placed in `$DATA_DIR/inbox/` is taken in, then
//! moved to `inbox/done/` once stored, or to `inbox/failed/` beside a reason file when it
//! could not be read (it is also kept in the database for staff). A file is moved only
//! after its commit: a crash leaves it in place, to be taken again, and the ledger answers
//! "already taken" for one that was committed just before.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

use crate::app::mail_in::{self, Origin, Outcome};
use crate::app::AppState;

/// Wakes the drop folder for a round now instead of at the next poll.
#[derive(Debug, Clone, Default)]
pub struct Knock(Arc<Notify>);

impl Knock {
    pub fn knock(&self) {
        self.0.notify_one();
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub taken: usize,
    /// Left in place for the next round (the database could not be reached).
    pub left: usize,
}

pub struct DropFolder {
    app: AppState,
    dir: PathBuf,
    poll: Duration,
    knock: Knock,
    stop: watch::Receiver<bool>,
}

impl DropFolder {
    pub fn new(
        app: AppState,
        dir: PathBuf,
        poll: Duration,
        knock: Knock,
        stop: watch::Receiver<bool>,
    ) -> Self {
        DropFolder {
            app,
            dir,
            poll,
            knock,
            stop,
        }
    }

    /// Takes what is in the folder every `poll`, or when knocked, until told to stop.
    pub async fn run(self) {
        for sub in ["", "done", "failed"] {
            if let Err(e) = std::fs::create_dir_all(self.dir.join(sub)) {
                tracing::warn!(error = %e, folder = %self.dir.display(), "cannot create the mail drop folder");
                return;
            }
        }
        loop {
            if *self.stop.borrow() {
                break;
            }
            let round = take_folder(&self.app, &self.dir).await;
            if round.taken + round.left > 0 {
                tracing::info!(taken = round.taken, left = round.left, "drop folder round");
            }
            let mut stop = self.stop.clone();
            tokio::select! {
                _ = self.knock.0.notified() => {}
                _ = stop.changed() => {}
                _ = tokio::time::sleep(self.poll) => {}
            }
        }
    }
}

/// A file changed this recently may still be being written; it waits for the next round.
const SETTLE: Duration = Duration::from_millis(500);

/// The `*.eml` files waiting in `dir`, oldest name first.
fn waiting(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("eml")))
        .filter(|p| {
            std::fs::metadata(p).is_ok_and(|m| {
                m.is_file()
                    && m.modified()
                        .is_ok_and(|t| t.elapsed().is_ok_and(|age| age >= SETTLE))
            })
        })
        .collect();
    files.sort();
    files
}

/// One round over the folder. Stops at the first mail the database could not take: the
/// rest waits for the next round, in order.
pub async fn take_folder(app: &AppState, dir: &Path) -> Round {
    let mut round = Round::default();
    let files = waiting(dir);
    for (i, path) in files.iter().enumerate() {
        let raw = match tokio::fs::read(path).await {
            Ok(raw) => raw,
            // Taken and moved by another instance meanwhile, or not readable yet.
            Err(_) => continue,
        };
        match mail_in::take(app, raw, Origin::DropFolder).await {
            Ok(taken) => {
                round.taken += 1;
                file_away(dir, path, &taken);
            }
            Err(e) => {
                tracing::warn!(
                    error = %format!("{:#}", anyhow::Error::from(e)),
                    "mail in the drop folder could not be taken in; trying again later"
                );
                round.left = files.len() - i;
                break;
            }
        }
    }
    round
}

/// Moves a taken mail to `done/`, or an unreadable one to `failed/` with a reason file
/// naming its ledger row (the reason itself is on the staff page).
fn file_away(dir: &Path, path: &Path, taken: &mail_in::Taken) {
    let (ledger_id, outcome) = (taken.ledger_id.as_str(), taken.outcome);
    let name = path.file_name().unwrap_or_default();
    let target_dir = dir.join(if outcome == Outcome::Unreadable {
        "failed"
    } else {
        "done"
    });
    let mut target = target_dir.join(name);
    if target.exists() {
        target = target_dir.join(format!("{ledger_id}-{}", name.to_string_lossy()));
    }
    match std::fs::rename(path, &target) {
        Ok(()) => {}
        // Another instance moved it first.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            tracing::warn!(error = %e, ledger_id, "cannot move a taken mail out of the drop folder");
            return;
        }
    }
    if outcome == Outcome::Unreadable {
        let reason = target.with_extension("eml.reason.txt");
        let text = format!(
            "This mail could not be read: {}.\nIt is kept in the database as unreadable mail \
             {ledger_id}; staff can retry it, turn it into a request or discard it on \
             /admin/mail/unreadable.\n",
            taken.reason.as_deref().unwrap_or("no reason recorded")
        );
        if let Err(e) = std::fs::write(reason, text) {
            tracing::warn!(error = %e, ledger_id, "cannot write the reason file of an unreadable mail");
        }
    }
}
