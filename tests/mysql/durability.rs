//! A crash (SIGKILL) loses no committed row and leaves the catalog consistent.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mysql_async::prelude::*;

use crate::common::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_inserts_loses_nothing_committed() {
    let mut server = TestServer::start();
    server.create_tenant("t1").await;
    let mut c = server.connect("root@t1").await;
    c.query_drop("CREATE DATABASE d").await.unwrap();
    c.query_drop("CREATE TABLE d.log (id INT PRIMARY KEY, payload VARCHAR(100))")
        .await
        .unwrap();
    c.query_drop("CREATE USER w IDENTIFIED BY 'pw'")
        .await
        .unwrap();
    c.query_drop("GRANT SELECT, INSERT ON d.* TO w")
        .await
        .unwrap();

    // Two writers insert until the server dies; every insert that returned OK is recorded.
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..2i64 {
        let mut conn = server.connect("root@t1").await;
        let stop = stop.clone();
        writers.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let id = w * 1_000_000 + i;
                match conn
                    .exec_drop("INSERT INTO d.log VALUES (?, ?)", (id, format!("row {id}")))
                    .await
                {
                    Ok(()) => acked.push(id),
                    Err(_) => break,
                }
            }
            acked
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    server.kill9();
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    assert!(
        acked.len() > 50,
        "the writers made progress before the crash ({} rows)",
        acked.len()
    );

    server.restart();
    let mut c = server.connect_with("w@t1", "pw", Some("d")).await;
    let present: Vec<i64> = c.query("SELECT id FROM log").await.unwrap();
    let present: std::collections::HashSet<i64> = present.into_iter().collect();
    let missing: Vec<&i64> = acked.iter().filter(|id| !present.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged rows lost, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    // Users, grants and tenants survived too, and the tenant takes writes again.
    c.query_drop("INSERT INTO log VALUES (-1, 'after restart')")
        .await
        .unwrap();
    let mut sys = server.connect("root@sys").await;
    let tenants: Vec<String> = sys
        .query("SELECT TENANT_NAME FROM oceanbase.DBA_OB_TENANTS ORDER BY TENANT_ID")
        .await
        .unwrap();
    assert_eq!(tenants, vec!["sys", "t1"]);
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly() {
    let mut server = TestServer::start();
    let mut c = server.connect("root@sys").await;
    c.query_drop("CREATE TABLE test.t (x INT)").await.unwrap();
    c.query_drop("INSERT INTO test.t VALUES (7)").await.unwrap();
    assert!(server.terminate(), "SIGTERM ends the server with status 0");
    server.restart();
    let mut c = server.connect("root@sys").await;
    let x: Option<i64> = c.query_first("SELECT x FROM test.t").await.unwrap();
    assert_eq!(x, Some(7));
}
