//! The integration suite: one binary, the app driven over HTTP as clients use it.

mod helpers;
mod smtp;

mod abuse;
mod admin;
mod cli;
mod duplicates;
mod health;
mod hostile;
mod intake_api;
mod intake_form;
mod mail;
