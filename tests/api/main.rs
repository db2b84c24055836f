//! The integration suite: one binary, the app driven over HTTP as clients use it.

mod helpers;
mod process;
mod smtp;

mod admin;
mod audit;
mod cli;
mod crash;
mod duplicates;
mod health;
mod intake_api;
mod intake_form;
mod logs;
mod mail;
mod purge;
