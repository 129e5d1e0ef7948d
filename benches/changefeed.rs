//! Changefeeds, with their anchors measured in the same run (issue 20's benchmark):
//! - commit → webhook receipt latency, p50 / p99, for rows committed at about `--rate` rows/s (default 1,000) for
//!   `--seconds` (default 5), to an HTTPS receiver on 127.0.0.1 (bar: p99 ≤ 100 ms; CockroachDB's default webhook
//!   flush is seconds);
//! - the initial scan of `--rows` rows (default 1,000,000) to a file sink beside `sqlite3 -json` of the same table
//!   into a file (bar ≤ 1.5×);
//! - writer throughput on a watched table beside an unwatched one, single-row autocommit inserts (bar ≥ 0.85×);
//! - sustained feed throughput (rows/s delivered to a file sink while a writer inserts as fast as it can);
//! - cancel latency with a hung webhook endpoint, p50 / p99 of `--cancels` (default 10) cancels.
//!
//! `cargo bench --bench changefeed` (`-- --rows 100000 --seconds 2` for a quicker run).

mod common;
#[path = "../tests/webhook_receiver.rs"]
mod webhook_receiver;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use webhook_receiver::{Mode, Receiver};

fn certs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenantry"))
        .args(["cert", "create", "--dir"])
        .arg(dir.path())
        .args(["--host", "localhost,127.0.0.1"])
        .output()
        .expect("tenantry cert create");
    assert!(out.status.success());
    dir
}

async fn wait_job(c: &mut mysql_async::Conn, id: i64, want: &str) {
    loop {
        let s: Option<String> = c
            .query_first(format!(
                "SELECT status FROM crdb_internal.jobs WHERE job_id = {id}"
            ))
            .await
            .expect("job status");
        if s.as_deref() == Some(want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Rows per second of `n` single-row INSERTs into `table`, as text statements (each compiled anew, triggers
/// included) and then as one prepared statement (compiled once), ids from `from`.
async fn inserts(c: &mut mysql_async::Conn, table: &str, n: u64) -> (f64, f64) {
    let started = Instant::now();
    for i in 0..n {
        c.query_drop(format!("INSERT INTO {table} VALUES ({i}, 'row {i}', {i})"))
            .await
            .expect("insert");
    }
    let text = n as f64 / started.elapsed().as_secs_f64();
    let stmt = c
        .prep(format!("INSERT INTO {table} VALUES (?, ?, ?)"))
        .await
        .expect("prepare");
    let started = Instant::now();
    for i in n..2 * n {
        c.exec_drop(&stmt, (i, format!("row {i}"), i))
            .await
            .expect("insert");
    }
    (text, n as f64 / started.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() {
    let rate = common::arg("--rate", 1000);
    let seconds = common::arg("--seconds", 5);
    let rows = common::arg("--rows", 1_000_000);
    let cancels = common::arg("--cancels", 10);
    let server = common::start();
    let certs = certs();
    let rx = Receiver::start(certs.path()).await;
    let mut my = common::connect(server.port, "test").await;
    let table = "(id INT PRIMARY KEY, name VARCHAR(40), n INT)";

    // 1. Commit → webhook receipt.
    my.query_drop(format!("CREATE TABLE lat {table}"))
        .await
        .expect("create");
    let id: i64 = my
        .query_first(format!(
            "CREATE CHANGEFEED FOR lat INTO '{}'",
            rx.uri(certs.path())
        ))
        .await
        .expect("feed")
        .expect("job id");
    let total = rate * seconds;
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let mut committed: HashMap<i64, Instant> = HashMap::new();
    let start = Instant::now();
    for i in 0..total as i64 {
        let due = start + period * i as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
        my.query_drop(format!("INSERT INTO lat VALUES ({i}, 'x', {i})"))
            .await
            .expect("insert");
        committed.insert(i, Instant::now());
    }
    let achieved = total as f64 / start.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(60);
    while rx.messages().len() < total as usize && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if rx.messages().len() < total as usize {
        let (bodies, refused) = {
            let seen = rx.seen.lock();
            (seen.bodies.len(), seen.refused)
        };
        let row: Option<(String, String, String)> = my
            .query_first(format!("SELECT status, running_status, error FROM crdb_internal.show_changefeed_jobs WHERE job_id = {id}"))
            .await
            .expect("feed status");
        eprintln!("webhook: {bodies} bodies, {refused} refused; feed {row:?}");
    }
    let mut latencies: Vec<f64> = {
        let seen = rx.seen.lock();
        seen.bodies
            .iter()
            .zip(&seen.arrived)
            .flat_map(|(body, at)| {
                let v: serde_json::Value = serde_json::from_str(body).expect("json");
                v["payload"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|m| {
                        let key = m["key"][0].as_i64()?;
                        let c = committed.get(&key)?;
                        Some(at.saturating_duration_since(*c).as_secs_f64() * 1e3)
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    latencies.sort_by(|a, b| a.total_cmp(b));
    my.query_drop(format!("CANCEL JOB {id}"))
        .await
        .expect("cancel");
    println!("commit -> webhook receipt, {total} rows at {achieved:.0} rows/s (target {rate}), one message per request (CockroachDB's default config)");
    println!(
        "  delivered {} of {total}; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms   (bar: p99 <= 100 ms; CockroachDB's default flush: seconds)",
        latencies.len(),
        common::percentile(&latencies, 50.0),
        common::percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(0.0)
    );

    // 2. Initial scan to files beside sqlite3 -json.
    my.query_drop(format!("CREATE TABLE scan {table}"))
        .await
        .expect("create");
    my.query_drop(format!(
        "INSERT INTO scan WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) SELECT x, 'row ' || x, x % 1000 FROM c"
    ))
    .await
    .expect("fill");
    let db_file = server.dir.path().join("tenants/1/db_1.sqlite");
    let out = server.dir.path().join("scan.json");
    let started = Instant::now();
    let status = std::process::Command::new("sqlite3")
        .arg("-json")
        .arg(&db_file)
        .arg("SELECT * FROM scan")
        .stdout(std::fs::File::create(&out).expect("out"))
        .status()
        .expect("sqlite3");
    assert!(status.success());
    let anchor = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let id: i64 = my
        .query_first(
            "CREATE CHANGEFEED FOR scan INTO 'nodelocal://1/scan' WITH initial_scan = 'only'",
        )
        .await
        .expect("feed")
        .expect("job id");
    wait_job(&mut my, id, "succeeded").await;
    let ours = started.elapsed().as_secs_f64();
    let mut bytes = 0;
    let mut lines = 0;
    let mut stack = vec![server.external_dir().join("scan")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).expect("dir").flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                let text = std::fs::read_to_string(e.path()).expect("file");
                bytes += text.len();
                lines += text.lines().count();
            }
        }
    }
    assert_eq!(lines as u64, rows);
    println!("initial scan of {rows} rows (3 columns)");
    println!(
        "  sqlite3 -json of the table     {anchor:>7.2} s  ({:.1} MB)",
        std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0) as f64 / 1e6
    );
    println!(
        "  CHANGEFEED initial_scan='only' {ours:>7.2} s  ({:.1} MB of ndjson)  {:.2}x   (bar <= 1.5x)",
        bytes as f64 / 1e6,
        ours / anchor
    );

    // 3. Writers on a watched table beside an unwatched one: with the feed paused (the capture triggers alone)
    // and running (the feed's reading, encoding and file writes share the machine).
    let n = common::arg("--inserts", 5_000);
    my.query_drop(format!("CREATE TABLE plain {table}"))
        .await
        .expect("create");
    my.query_drop(format!("CREATE TABLE watched {table}"))
        .await
        .expect("create");
    my.query_drop(format!("CREATE TABLE paused {table}"))
        .await
        .expect("create");
    let unwatched = inserts(&mut my, "plain", n).await;
    let held: i64 = my
        .query_first("CREATE CHANGEFEED FOR paused INTO 'nodelocal://1/paused'")
        .await
        .expect("feed")
        .expect("job id");
    my.query_drop(format!("PAUSE JOB {held}"))
        .await
        .expect("pause");
    wait_job(&mut my, held, "paused").await;
    let captured_only = inserts(&mut my, "paused", n).await;
    my.query_drop(format!("CANCEL JOB {held}"))
        .await
        .expect("cancel");
    let id: i64 = my
        .query_first("CREATE CHANGEFEED FOR watched INTO 'nodelocal://1/watched'")
        .await
        .expect("feed")
        .expect("job id");
    let watched = inserts(&mut my, "watched", n).await;
    println!("single-row autocommit INSERTs, one client, {n} each as text statements / as one prepared statement");
    println!(
        "  unwatched table                 {:>8.0} / {:>8.0} rows/s",
        unwatched.0, unwatched.1
    );
    println!(
        "  watched table, feed paused      {:>8.0} / {:>8.0} rows/s  {:.2}x / {:.2}x   (the capture triggers alone)",
        captured_only.0,
        captured_only.1,
        captured_only.0 / unwatched.0,
        captured_only.1 / unwatched.1
    );
    println!(
        "  watched table, feed running     {:>8.0} / {:>8.0} rows/s  {:.2}x / {:.2}x   (bar >= 0.85x)",
        watched.0,
        watched.1,
        watched.0 / unwatched.0,
        watched.1 / unwatched.1
    );

    my.query_drop(format!("CANCEL JOB {id}"))
        .await
        .expect("cancel");

    // 4. Sustained feed throughput: rows committed in one big statement, delivered to files.
    let burst = rows.min(200_000);
    my.query_drop(format!("CREATE TABLE burst {table}"))
        .await
        .expect("create");
    let id: i64 = my
        .query_first("CREATE CHANGEFEED FOR burst INTO 'nodelocal://1/burst' WITH min_checkpoint_frequency = '100ms'")
        .await
        .expect("feed")
        .expect("job id");
    let started = Instant::now();
    my.query_drop(format!(
        "INSERT INTO burst WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {burst}) SELECT x, 'row ' || x, x FROM c"
    ))
    .await
    .expect("burst");
    let dir = server.external_dir().join("burst");
    let count = || {
        let mut lines = 0;
        let mut stack = vec![dir.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
                if e.path().is_dir() {
                    stack.push(e.path());
                } else if e.path().extension().is_some_and(|x| x == "ndjson") {
                    lines += std::fs::read_to_string(e.path())
                        .map(|t| t.lines().count())
                        .unwrap_or(0);
                }
            }
        }
        lines as u64
    };
    while count() < burst {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed().as_secs_f64();
    println!(
        "sustained feed: {burst} rows committed in one statement, in files {took:.2} s later ({:.0} rows/s)",
        burst as f64 / took
    );
    my.query_drop(format!("CANCEL JOB {id}"))
        .await
        .expect("cancel");

    // 5. Cancel with a hung endpoint.
    rx.set_mode(Mode::Hang);
    my.query_drop(format!("CREATE TABLE hung {table}"))
        .await
        .expect("create");
    let mut took = Vec::new();
    for i in 0..cancels as i64 {
        let id: i64 = my
            .query_first(format!(
                "CREATE CHANGEFEED FOR hung INTO '{}' WITH webhook_client_timeout = '60s'",
                rx.uri(certs.path())
            ))
            .await
            .expect("feed")
            .expect("job id");
        let refused = rx.seen.lock().refused;
        my.query_drop(format!("INSERT INTO hung VALUES ({i}, 'h', {i})"))
            .await
            .expect("insert");
        while rx.seen.lock().refused == refused {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let asked = Instant::now();
        my.query_drop(format!("CANCEL JOB {id}"))
            .await
            .expect("cancel");
        wait_job(&mut my, id, "canceled").await;
        took.push(asked.elapsed().as_secs_f64() * 1e3);
    }
    took.sort_by(|a, b| a.total_cmp(b));
    println!(
        "cancel with the webhook endpoint hung (request timeout 60 s), {cancels} feeds: p50 {:.1} ms, p99 {:.1} ms   (bar: p99 <= 100 ms)",
        common::percentile(&took, 50.0),
        common::percentile(&took, 99.0)
    );
}
