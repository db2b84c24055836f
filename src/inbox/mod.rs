//! The transports that bring mail to the task-force mailbox in: the drop folder (the
//! embedded default) and IMAP, each a background task beside the HTTP server, and the
//! MTA pipe (`case-triage mail-in`, in `cli.rs`). All of them hand each raw mail to
//! `app::mail_in::take` and let go of it only once that answered that it is stored.

pub mod drop_folder;
pub mod imap;
