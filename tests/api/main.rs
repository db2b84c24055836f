//! The integration suite: one binary, the app driven over HTTP as clients use it.

mod helpers;
mod smtp;

mod cli;
mod health;
mod intake_api;
mod intake_form;
mod mail;
