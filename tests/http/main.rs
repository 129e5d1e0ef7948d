//! End-to-end tests of the HTTP front end: the real server binary, its REST API, `/metrics`, the
//! `tenantry jobs` command and the console in a real browser (Chromium driven by playwright-core).

#[path = "../mysql/common/mod.rs"]
mod common;

mod client;
mod console;
mod job_rules;
mod jobs_cli;
mod limits;
mod rest;
mod tls;
