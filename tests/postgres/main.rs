//! End-to-end tests of the PostgreSQL surface: the real server binary, real sockets, tokio-postgres and psql.

mod accounts;
mod backup_s3;
mod cancel;
mod catalog;
mod common;
mod copy;
mod cursors;
mod drivers;
mod fuzz_corpus;
mod import;
mod jobs;
mod limits;
mod login;
mod pg_sql;
#[path = "../../fuzz/src/pg_wire.rs"]
mod pg_wire;
mod pgbench;
mod property;
mod psql_smoke;
mod queries;
mod restore;
mod robustness;
#[path = "../s3_server.rs"]
mod s3_server;
mod settings;
mod statement_cache;
mod statement_limits;
mod tls;
