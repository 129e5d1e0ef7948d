//! How fast a running statement stops: KILL QUERY (MySQL) and the wire-level cancel request (PostgreSQL), each
//! sent the moment the statement shows as running, until the client has its error; a client that disconnects
//! (its connection dropped mid-statement) until the statement is gone from SHOW SESSIONS; and a statement
//! timeout of 100 ms until the client has its error. Bar for the disconnect: ≤ 100 ms.
//!
//! `cargo bench --bench statement_stop` (`-- --runs N`).

mod common;

use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use tokio_postgres::NoTls;

const ENDLESS: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c";

/// Whether session `id` is running a statement, as SHOW PROCESSLIST says (None: gone).
async fn running(admin: &mut mysql_async::Conn, id: i64) -> Option<bool> {
    let rows: Vec<mysql_async::Row> = admin.query("SHOW FULL PROCESSLIST").await.unwrap();
    rows.iter()
        .find(|r| r.get::<i64, _>("Id") == Some(id))
        .map(|r| r.get::<String, _>("Command").as_deref() == Some("Query"))
}

fn report(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{name:<34} {:>4} runs   p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms",
        ms.len(),
        common::percentile(&ms, 50.0),
        common::percentile(&ms, 99.0),
        ms.last().copied().unwrap_or(f64::NAN)
    );
}

fn main() {
    let runs = common::arg("--runs", 30) as usize;
    let server = common::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut admin = common::connect(server.port, "test").await;
        let pg = format!("host=127.0.0.1 port={} user=root@sys", server.pg_port);

        // KILL QUERY from the moment the statement is listed until the client has its 1317.
        let mut kill = Vec::new();
        let mut victim = common::connect(server.port, "test").await;
        let id = i64::from(victim.id());
        for _ in 0..runs {
            let stmt = tokio::spawn(async move {
                let r = victim.query_drop(ENDLESS).await;
                (victim, r, Instant::now())
            });
            while running(&mut admin, id).await != Some(true) {}
            let t = Instant::now();
            admin.query_drop(format!("KILL QUERY {id}")).await.unwrap();
            let (v, r, done) = stmt.await.unwrap();
            assert!(r.is_err());
            kill.push(done.duration_since(t).as_secs_f64() * 1000.0);
            victim = v;
        }
        report("KILL QUERY (mysql)", kill);

        // The PostgreSQL cancel request, the same way.
        let mut cancel = Vec::new();
        let (client, conn) = tokio_postgres::connect(&pg, NoTls).await.unwrap();
        tokio::spawn(conn);
        let client = std::sync::Arc::new(client);
        let pid: i64 = client
            .simple_query("SELECT CONNECTION_ID()")
            .await
            .unwrap()
            .iter()
            .find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(|s| s.parse().unwrap()),
                _ => None,
            })
            .unwrap();
        for _ in 0..runs {
            let c = client.clone();
            let stmt = tokio::spawn(async move {
                let r = c.simple_query(ENDLESS).await.map(|_| ());
                (r, Instant::now())
            });
            while running(&mut admin, pid).await != Some(true) {}
            let t = Instant::now();
            client.cancel_token().cancel_query(NoTls).await.unwrap();
            let (r, done) = stmt.await.unwrap();
            assert!(r.is_err());
            cancel.push(done.duration_since(t).as_secs_f64() * 1000.0);
        }
        report("cancel request (pg)", cancel);

        // A client whose connection drops mid-statement, until the statement is gone.
        let mut gone = Vec::new();
        for _ in 0..runs {
            let (client, conn) = tokio_postgres::connect(&pg, NoTls).await.unwrap();
            let conn = tokio::spawn(conn);
            let pid: i64 = client
                .simple_query("SELECT CONNECTION_ID()")
                .await
                .unwrap()
                .iter()
                .find_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => {
                        r.get(0).map(|s| s.parse().unwrap())
                    }
                    _ => None,
                })
                .unwrap();
            let stmt = tokio::spawn(async move { client.simple_query(ENDLESS).await.map(|_| ()) });
            while running(&mut admin, pid).await != Some(true) {}
            conn.abort();
            let _ = conn.await;
            let t = Instant::now();
            while running(&mut admin, pid).await == Some(true) {}
            gone.push(t.elapsed().as_secs_f64() * 1000.0);
            let _ = stmt.await;
        }
        report("disconnect -> statement gone (pg)", gone);

        // max_execution_time = 100 ms: how late the error comes.
        let mut late = Vec::new();
        let mut c = common::connect(server.port, "test").await;
        c.query_drop("SET max_execution_time = 100").await.unwrap();
        for _ in 0..runs {
            let t = Instant::now();
            assert!(c.query_drop(ENDLESS).await.is_err());
            late.push((t.elapsed() - Duration::from_millis(100)).as_secs_f64() * 1000.0);
        }
        report("max_execution_time 100 ms, late by", late);
    });
}
