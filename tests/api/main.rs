//! The integration suite: one binary, the app driven over HTTP as clients use it.

mod a11y;
mod helpers;
mod smtp;

mod admin;
mod cli;
mod duplicates;
mod health;
mod intake_api;
mod intake_form;
mod languages;
mod mail;
