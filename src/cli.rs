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
    /// Show jobs (a table with progress bars) through the server's REST API.
    Jobs(JobsArgs),
    /// Make TLS certificates.
    #[command(subcommand)]
    Cert(CertCommand),
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
    /// The only directory `file://` / `nodelocal://` locations and server-side `LOAD DATA INFILE` may read or
    /// write; user tenants are confined to `DIR/<tenant>/`, sys may use all of it [default: <data-dir>/extern].
    #[arg(long, value_name = "DIR")]
    pub external_io_dir: Option<PathBuf>,
    /// The server's TLS certificate chain (PEM), offered on all three listeners; needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Refuse logins that do not use TLS (MySQL's require_secure_transport); needs --tls-cert.
    #[arg(long)]
    pub require_tls: bool,
}

/// `tenantry cert ...`.
#[derive(Subcommand, Debug)]
pub enum CertCommand {
    /// Write a CA (ca.crt, ca.key) and a server certificate it signs (server.crt, server.key) into a directory,
    /// as `cockroach cert create-ca` and `create-node` do. Clients trust ca.crt; the server takes
    /// `--tls-cert DIR/server.crt --tls-key DIR/server.key`.
    Create(CertArgs),
}

/// Options of `tenantry cert create`.
#[derive(Args, Debug, Clone)]
pub struct CertArgs {
    /// Directory to write the certificates and keys into (created if missing; existing files are not replaced).
    #[arg(long, default_value = "./certs")]
    pub dir: PathBuf,
    /// Host names and IP addresses the server certificate is valid for (repeat or separate with commas).
    #[arg(long = "host", value_delimiter = ',', default_values_t = ["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()])]
    pub hosts: Vec<String>,
}

/// Options of `tenantry jobs`.
#[derive(Args, Debug, Clone)]
pub struct JobsArgs {
    /// Keep the table on screen, refreshed every second, until interrupted.
    #[arg(long)]
    pub watch: bool,
    /// Only this tenant's jobs (root@sys sees every tenant's; others only their own).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Only jobs of this type (e.g. BACKUP).
    #[arg(long = "type")]
    pub job_type: Option<String>,
    /// Only jobs in these states (comma-separated; `active` means every unfinished state).
    #[arg(long)]
    pub state: Option<String>,
    /// At most this many jobs, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Address of the server's HTTP listener.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub http_addr: String,
    /// Login, `user@tenant`.
    #[arg(long, short = 'u', default_value = "root@sys")]
    pub user: String,
    /// Password (empty if not given).
    #[arg(long, short = 'p', default_value = "")]
    pub password: String,
}
