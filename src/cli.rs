//! Command-line interface (a fixed contract: see docs/architecture.md).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Tenantry: a multi-tenant SQL server with durable, cancelable long-running jobs.
#[derive(Parser, Debug)]
#[command(name = "tenantry", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start the server.
    Start(StartArgs),
    /// Print the version.
    Version,
}

/// Options of `tenantry start`.
#[derive(Args, Debug, Clone)]
pub struct StartArgs {
    /// Directory holding the catalog and every tenant's database files.
    #[arg(long, default_value = "./tenantry-data")]
    pub data_dir: PathBuf,
    /// Address of the MySQL protocol listener (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:2881")]
    pub mysql_addr: SocketAddr,
    /// Address of the PostgreSQL protocol listener (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:26257")]
    pub pg_addr: SocketAddr,
    /// Address of the HTTP listener: console, REST API, metrics (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub http_addr: SocketAddr,
    /// Password of root@sys, set on first start only (empty if not given, as in OceanBase).
    #[arg(long)]
    pub root_password: Option<String>,
}
