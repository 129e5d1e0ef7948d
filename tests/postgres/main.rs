//! End-to-end tests of the PostgreSQL surface: the real server binary, real sockets, tokio-postgres and psql.

mod cancel;
mod common;
mod drivers;
mod import;
mod jobs;
mod limits;
mod login;
mod property;
mod psql_smoke;
mod queries;
mod restore;
mod robustness;
mod settings;
mod statement_limits;
