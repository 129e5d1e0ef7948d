//! Starting the release server for benchmarks and connecting to it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use mysql_async::{Conn, OptsBuilder};

pub mod mariadb;

/// A running server on a temporary data directory.
pub struct Server {
    child: Child,
    /// The MySQL port.
    pub port: u16,
    /// The HTTP port (REST API, console, metrics).
    pub http_port: u16,
    /// The PostgreSQL port.
    pub pg_port: u16,
    /// The data directory.
    pub dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// The server's process id (to read its resident size).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The external-IO directory (`<data-dir>/extern`): where `file://` locations and `LOAD DATA INFILE` may
    /// be. `tenant`'s part of it is `extern/<tenant>/`.
    pub fn external_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("extern")
    }
}

/// Starts `tenantry start` on free ports and waits for `ready`.
pub fn start() -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenantry"))
        .args([
            "start",
            "--mysql-addr",
            "127.0.0.1:0",
            "--pg-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path())
        .stdout(Stdio::piped())
        // TENANTRY_BENCH_LOG=<file> keeps the server's log (RUST_LOG sets its level) to see where time goes.
        .stderr(match std::env::var_os("TENANTRY_BENCH_LOG") {
            Some(path) => Stdio::from(std::fs::File::create(path).expect("bench log")),
            None => Stdio::null(),
        })
        .spawn()
        .expect("start tenantry");
    let (mut port, mut http_port, mut pg_port) = (0, 0, 0);
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    for line in lines.by_ref() {
        let line = line.expect("stdout line");
        if let Some(a) = line.strip_prefix("listening mysql ") {
            port = a
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .expect("port");
        }
        if let Some(a) = line.strip_prefix("listening pg ") {
            pg_port = a
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .expect("port");
        }
        if let Some(a) = line.strip_prefix("listening http ") {
            http_port = a
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .expect("port");
        }
        if line == "ready" {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        port,
        http_port,
        pg_port,
        dir,
    }
}

/// Connects as root@sys to database `db`.
pub async fn connect(port: u16, db: &str) -> Conn {
    let opts = OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some("root@sys"))
        .pass(Some(""))
        .db_name(Some(db))
        .prefer_socket(false);
    Conn::new(opts).await.expect("connect")
}

/// Connects as `login` (e.g. `alice@t1`) with `password`.
pub async fn connect_as(port: u16, login: &str, password: &str) -> Conn {
    let opts = OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some(login))
        .pass(Some(password))
        .prefer_socket(false);
    Conn::new(opts).await.expect("connect")
}

/// The resident set size of process `pid` in bytes (Linux `/proc/PID/status` VmRSS).
pub fn rss_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// The value after `--name` on the bench's command line, or `default`.
pub fn arg(name: &str, default: u64) -> u64 {
    std::env::args()
        .skip_while(|a| a != name)
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The import benches' table: five columns, a primary key.
pub const ITEMS_TABLE: &str =
    "(id INT PRIMARY KEY, name VARCHAR(40), price DECIMAL(10,2), qty INT, created DATETIME)";

/// Writes `rows` rows for [`ITEMS_TABLE`] as CSV (a quoted field with a comma, a decimal, a datetime).
pub fn write_items_csv(path: &std::path::Path, rows: u64) {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).expect("csv"));
    for i in 1..=rows {
        writeln!(
            w,
            "{i},\"item {i}, size {}\",{}.{:02},{},2024-01-{:02} 10:00:00",
            i % 13,
            i % 1000,
            i % 100,
            i % 7,
            i % 28 + 1
        )
        .expect("write csv");
    }
}

/// The p-th percentile (0..=100) of sorted samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
