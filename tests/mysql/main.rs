//! End-to-end tests of the MySQL surface: the real server binary, real sockets, real clients.

mod backup;
mod backup_cleanup;
mod backup_s3;
mod changefeeds;
mod cli_smoke;
mod clone;
mod cluster;
mod common;
mod compat_drivers;
mod durability;
mod everyday_sql;
mod fuzz_corpus;
#[path = "../http/client.rs"]
mod http_client;
mod import;
mod isolation;
mod jobs;
mod limits;
#[path = "../../fuzz/src/mysql_wire.rs"]
mod mysql_wire;
mod privileges;
mod processes;
mod property;
mod restore;
mod robustness;
#[path = "../s3_server.rs"]
mod s3_server;
mod sqlgen;
mod statement_cache;
mod statement_limits;
mod tenant_sql;
mod tls;
#[path = "../webhook_receiver.rs"]
mod webhook_receiver;
mod writers;
