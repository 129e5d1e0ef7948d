//! sysbench's OLTP workloads against Tenantry beside MariaDB, started by this bench on the same machine in the same run.
//!
//! `cargo bench --bench sysbench` (options after `--`: `--seconds S` per figure, `--tables N`, `--rows N`,
//! `--threads 1,8`, `--workloads oltp_point_select,...`). Needs Debian's `sysbench` and `mariadb-server`
//! (`.ci/run` installs both). Prints one line per workload and thread count: transactions/s and errors/s of
//! each server and our ratio, plus the time `sysbench prepare` took on each.

use std::process::{Command, Stdio};
use std::time::Instant;

mod common;

use common::mariadb::{sql, start_mariadb};

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
    let theirs = start_mariadb(200);
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
