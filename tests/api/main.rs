//! The integration suite: one binary, the app driven over HTTP as clients use it.

mod browser_support;
mod helpers;
mod smtp;

mod abuse;
mod admin;
mod browser;
mod cli;
mod duplicates;
mod health;
mod hostile;
mod intake_api;
mod intake_form;
mod mail;
mod scale;
