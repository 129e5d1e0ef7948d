//! sysbench's OLTP workloads against Tenantry beside MariaDB, started by this bench on the same machine in the same run.
//!
//! `cargo bench --bench sysbench` (options after `--`: `--seconds S` per figure, `--tables N`, `--rows N`,
//! `--threads 1,8`, `--workloads oltp_point_select,...`). Needs Debian's `sysbench` and `mariadb-server`
//! (`.ci/run` installs both). Prints one line per workload and thread count: transactions/s and errors/s of
//! each server and our ratio, plus the time `sysbench prepare` took on each.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

/// A MariaDB server on a temporary data directory, for the side-by-side figures.
struct MariaDb {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Initialises and starts `mariadbd` with a 1 GB buffer pool (the anchor configuration).
fn start_mariadb() -> MariaDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let status = Command::new("mariadb-install-db")
        .arg(format!("--datadir={}", data.display()))
        .args(["--user=root", "--auth-root-authentication-method=normal"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("mariadb-install-db (apt-get install mariadb-server)");
    assert!(status.success(), "mariadb-install-db failed");
    let port = free_port();
    let child = Command::new("mariadbd")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--socket={}", dir.path().join("sock").display()))
        .arg(format!("--port={port}"))
        .arg(format!("--pid-file={}", dir.path().join("pid").display()))
        .args([
            "--user=root",
            "--bind-address=127.0.0.1",
            "--innodb-buffer-pool-size=1G",
            "--max-connections=200",
            "--skip-log-bin",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mariadbd");
    let server = MariaDb {
        child,
        port,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !sql(port, "root", "SELECT 1") {
        assert!(Instant::now() < deadline, "mariadbd did not start");
        std::thread::sleep(Duration::from_millis(200));
    }
    server
}

/// Runs one statement with the `mariadb` CLI; true on success.
fn sql(port: u16, user: &str, stmt: &str) -> bool {
    Command::new("mariadb")
        .args([
            "-h127.0.0.1",
            &format!("-P{port}"),
            &format!("-u{user}"),
            "-e",
            stmt,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// One server under test: where sysbench connects and as whom.
struct Target<'a> {
    name: &'a str,
    port: u16,
    user: &'a str,
}

/// What one `sysbench run` reported.
struct RunFigures {
    tps: f64,
    errors_per_s: f64,
}

struct Options {
    seconds: u64,
    tables: u32,
    rows: u32,
    threads: Vec<u32>,
    workloads: Vec<String>,
}

fn options() -> Options {
    let mut o = Options {
        seconds: 10,
        tables: 4,
        rows: 20_000,
        threads: vec![1, 8],
        workloads: [
            "oltp_point_select",
            "oltp_read_only",
            "oltp_read_write",
            "oltp_write_only",
        ]
        .map(String::from)
        .to_vec(),
    };
    let args: Vec<String> = std::env::args().collect();
    for pair in args.windows(2) {
        match pair[0].as_str() {
            "--seconds" => o.seconds = pair[1].parse().expect("--seconds N"),
            "--tables" => o.tables = pair[1].parse().expect("--tables N"),
            "--rows" => o.rows = pair[1].parse().expect("--rows N"),
            "--threads" => {
                o.threads = pair[1]
                    .split(',')
                    .map(|t| t.parse().expect("--threads 1,8"))
                    .collect()
            }
            "--workloads" => o.workloads = pair[1].split(',').map(String::from).collect(),
            _ => {}
        }
    }
    o
}

fn sysbench(t: &Target, o: &Options, workload: &str, threads: u32, cmd: &str) -> String {
    let out = Command::new("sysbench")
        .arg(workload)
        .arg("--db-driver=mysql")
        .arg("--mysql-host=127.0.0.1")
        .arg(format!("--mysql-port={}", t.port))
        .arg(format!("--mysql-user={}", t.user))
        .arg("--mysql-password=")
        .arg("--mysql-db=sbtest")
        .arg(format!("--tables={}", o.tables))
        .arg(format!("--table-size={}", o.rows))
        .arg(format!("--threads={threads}"))
        .arg(format!("--time={}", o.seconds))
        .arg("--report-interval=0")
        .arg(cmd)
        .stderr(Stdio::piped())
        .output()
        .expect("sysbench (apt-get install sysbench)");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        eprintln!("{}: sysbench {workload} {cmd} failed:\n{text}", t.name);
    }
    text
}

/// Reads "transactions: N (X per sec.)" and "ignored errors: N (X per sec.)" from sysbench's summary.
fn figures(text: &str) -> RunFigures {
    let per_sec = |label: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.split('(').nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    RunFigures {
        tps: per_sec("transactions:"),
        errors_per_s: per_sec("ignored errors:"),
    }
}

fn main() {
    let o = options();
    let ours = common::start();
    let theirs = start_mariadb();
    let targets = [
        Target {
            name: "mariadb",
            port: theirs.port,
            user: "root",
        },
        Target {
            name: "tenantry",
            port: ours.port,
            user: "root@sys",
        },
    ];
    for t in &targets {
        assert!(
            sql(t.port, t.user, "CREATE DATABASE sbtest"),
            "{}: CREATE DATABASE sbtest",
            t.name
        );
    }
    println!(
        "sysbench 1.0, {} tables x {} rows, {} s per figure",
        o.tables, o.rows, o.seconds
    );
    println!(
        "{:<20} {:>7} {:>12} {:>10} {:>12} {:>10} {:>7}",
        "workload", "threads", "mariadb tps", "err/s", "tenantry tps", "err/s", "ratio"
    );
    // The OLTP workloads share one schema: prepare it once (timed: the issue measured it), run each, clean up.
    let mut prepare = Vec::new();
    for t in &targets {
        let started = Instant::now();
        sysbench(t, &o, "oltp_read_write", 1, "prepare");
        prepare.push(started.elapsed().as_secs_f64());
    }
    for workload in &o.workloads {
        for &threads in &o.threads {
            let runs: Vec<RunFigures> = targets
                .iter()
                .map(|t| figures(&sysbench(t, &o, workload, threads, "run")))
                .collect();
            println!(
                "{:<20} {:>7} {:>12.0} {:>10.1} {:>12.0} {:>10.1} {:>7.2}",
                workload,
                threads,
                runs[0].tps,
                runs[0].errors_per_s,
                runs[1].tps,
                runs[1].errors_per_s,
                runs[1].tps / runs[0].tps
            );
        }
    }
    println!(
        "prepare ({} x {} rows): mariadb {:.2} s, tenantry {:.2} s",
        o.tables, o.rows, prepare[0], prepare[1]
    );
    for t in &targets {
        sysbench(t, &o, "oltp_read_write", 1, "cleanup");
    }
}
