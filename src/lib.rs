//! case-triage: logs every resettlement request once, derives its category, attaches the
//! standard guidance, routes it to a task-force queue and keeps an audit trail.
//!
//! Layers, each using only those below it:
//! `cli` / `startup` -> `web`, `inbox` -> `app` (the use cases) -> `email` -> `db` -> `domain` (+ `config`).

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod email;
pub mod i18n;
pub mod inbox;
pub mod metrics;
pub mod startup;
pub mod web;
