//! The integration suite: one binary, the app driven over HTTP as clients use it.

mod a11y;
mod browser_support;
mod helpers;
mod process;
mod smtp;

mod abuse;
mod admin;
mod audit;
mod browser;
mod cli;
mod correspondence;
mod counts;
mod crash;
mod dates;
mod demo_data;
mod docs;
mod duplicates;
mod escalation;
mod forecast;
mod health;
mod hostile;
mod html;
mod intake_api;
mod intake_form;
mod languages;
mod logs;
mod mail;
mod mail_in;
mod partners;
mod purge;
mod scale;
mod search;
mod site;
mod status;
mod webhooks;
