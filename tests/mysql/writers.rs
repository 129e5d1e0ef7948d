//! Concurrent writers queue for their turn instead of failing (no 1205 where InnoDB would wait), and
//! sysbench's OLTP workloads run unmodified with no error.

use std::process::Command;
use std::time::Duration;

use mysql_async::prelude::*;

use crate::common::{server_error, TestServer};

async fn counter_table(server: &TestServer) {
    server.create_tenant("t1").await;
    let mut c = server.connect("root@t1").await;
    c.query_drop("CREATE DATABASE app").await.unwrap();
    c.query_drop("CREATE TABLE app.counter (id INT PRIMARY KEY, n INT)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO app.counter VALUES (1, 0)")
        .await
        .unwrap();
}

/// Two transactions that read and then write: the second waits for the first to commit, then its
/// write applies to the committed row (as InnoDB's UPDATE does), and nothing fails.
#[tokio::test]
async fn a_read_then_write_transaction_waits_for_the_writer() {
    let server = TestServer::start();
    counter_table(&server).await;
    let mut a = server.connect_with("root@t1", "", Some("app")).await;
    let mut b = server.connect_with("root@t1", "", Some("app")).await;
    a.query_drop("BEGIN").await.unwrap();
    let _: Option<i64> = a
        .query_first("SELECT n FROM counter WHERE id = 1")
        .await
        .unwrap();
    b.query_drop("BEGIN").await.unwrap();
    let _: Option<i64> = b
        .query_first("SELECT n FROM counter WHERE id = 1")
        .await
        .unwrap();
    a.query_drop("UPDATE counter SET n = n + 1 WHERE id = 1")
        .await
        .unwrap();
    // b's write must wait for a's transaction; it may not fail.
    let waiting = tokio::spawn(async move {
        b.query_drop("UPDATE counter SET n = n + 10 WHERE id = 1")
            .await
            .map(|()| b)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiting.is_finished(), "b waits while a holds the write");
    a.query_drop("COMMIT").await.unwrap();
    let mut b = waiting
        .await
        .unwrap()
        .expect("b's update after a committed");
    b.query_drop("COMMIT").await.unwrap();
    let n: Option<i64> = a
        .query_first("SELECT n FROM counter WHERE id = 1")
        .await
        .unwrap();
    assert_eq!(n, Some(11), "both updates applied");
}

/// The wait is bounded by innodb_lock_wait_timeout (1205) and KILL QUERY ends it (1317); either way the
/// waiting session can go on.
#[tokio::test]
async fn the_wait_is_bounded_and_kill_query_ends_it() {
    let server = TestServer::start();
    counter_table(&server).await;
    let mut a = server.connect_with("root@t1", "", Some("app")).await;
    let mut b = server.connect_with("root@t1", "", Some("app")).await;
    let mut admin = server.connect("root@t1").await;
    a.query_drop("BEGIN").await.unwrap();
    a.query_drop("UPDATE counter SET n = 1 WHERE id = 1")
        .await
        .unwrap();

    b.query_drop("SET innodb_lock_wait_timeout = 1")
        .await
        .unwrap();
    let err = b
        .query_drop("UPDATE counter SET n = 2 WHERE id = 1")
        .await
        .expect_err("a holds the write");
    assert_eq!(server_error(err).0, 1205);

    b.query_drop("SET innodb_lock_wait_timeout = 50")
        .await
        .unwrap();
    let b_id = b.id();
    let waiting = tokio::spawn(async move {
        let r = b.query_drop("UPDATE counter SET n = 3 WHERE id = 1").await;
        (r, b)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    admin
        .query_drop(format!("KILL QUERY {b_id}"))
        .await
        .unwrap();
    let (r, mut b) = waiting.await.unwrap();
    assert_eq!(server_error(r.expect_err("killed while waiting")).0, 1317);

    a.query_drop("COMMIT").await.unwrap();
    b.query_drop("UPDATE counter SET n = 4 WHERE id = 1")
        .await
        .unwrap();
    let n: Option<i64> = a
        .query_first("SELECT n FROM counter WHERE id = 1")
        .await
        .unwrap();
    assert_eq!(n, Some(4));
}

/// Installs Debian's sysbench if it is missing (`.ci/run` installs it up front).
fn ensure_sysbench() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if Command::new("sysbench").arg("--version").output().is_err() {
            let ok = Command::new("sh")
                .args(["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sysbench"])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "sysbench is missing and could not be installed with apt-get");
        }
    });
}

fn sysbench(port: u16, workload: &str, threads: u32, command: &str) -> String {
    let out = Command::new("sysbench")
        .arg(workload)
        .args([
            "--db-driver=mysql",
            "--mysql-host=127.0.0.1",
            &format!("--mysql-port={port}"),
            "--mysql-user=root@t1",
            "--mysql-password=",
            "--mysql-db=sbtest",
            "--tables=2",
            "--table-size=1000",
            &format!("--threads={threads}"),
            "--time=2",
            // Every error fails the run: none may be retried away.
            "--mysql-ignore-errors=none",
            command,
        ])
        .output()
        .expect("run sysbench");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "sysbench {workload} {command}:\n{text}"
    );
    text
}

#[tokio::test]
async fn sysbench_oltp_workloads_run_without_errors() {
    ensure_sysbench();
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let mut c = server.connect("root@t1").await;
    c.query_drop("CREATE DATABASE sbtest").await.unwrap();
    let port = server.mysql_port;
    sysbench(port, "oltp_read_write", 1, "prepare");
    // Every OLTP workload at the thread counts.
    let runs = [
        "oltp_point_select",
        "oltp_read_only",
        "oltp_read_write",
        "oltp_write_only",
    ]
    .into_iter()
    .flat_map(|w| [1, 4, 8].map(|t| (w, t)));
    for (workload, threads) in runs {
        let text = sysbench(port, workload, threads, "run");
        assert!(
            text.contains("ignored errors:                      0 "),
            "{workload} at {threads} threads:\n{text}"
        );
        assert!(
            !text.contains("FATAL"),
            "{workload} at {threads} threads:\n{text}"
        );
        let rows: Option<i64> = c
            .query_first("SELECT COUNT(*) FROM sbtest.sbtest1")
            .await
            .unwrap();
        assert_eq!(rows, Some(1000), "{workload} keeps the table's size");
    }
    sysbench(port, "oltp_read_write", 1, "cleanup");
    let tables: Vec<String> = c.query("SHOW TABLES FROM sbtest").await.unwrap();
    assert!(tables.is_empty(), "{tables:?}");
}
