//! Point-select and single-row-insert throughput through the MySQL protocol, beside the same statements run
//! directly on the same SQLite file. Prints both and their ratio (the server's overhead).
//!
//! `cargo bench --bench mysql_overhead` (add `-- --seconds 5` for longer runs).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use rand::Rng;

const ROWS: i64 = 20_000;

mod common;

async fn through_server(
    port: u16,
    clients: usize,
    secs: f64,
    insert: bool,
    next_id: Arc<AtomicU64>,
) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let done = done.clone();
        let next_id = next_id.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = common::connect(port, "test").await;
            let select = c.prep("SELECT v FROM kv WHERE id = ?").await.unwrap();
            let ins = c
                .prep("INSERT INTO kv (id, v) VALUES (?, ?)")
                .await
                .unwrap();
            while Instant::now() < deadline {
                if insert {
                    let id = next_id.fetch_add(1, Ordering::Relaxed) as i64;
                    c.exec_drop(&ins, (id, "payload-payload-payload"))
                        .await
                        .unwrap();
                } else {
                    let id = rand::thread_rng().gen_range(0..ROWS);
                    let _: Option<String> = c.exec_first(&select, (id,)).await.unwrap();
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / secs
}

fn direct(
    path: &std::path::Path,
    clients: usize,
    secs: f64,
    insert: bool,
    next_id: Arc<AtomicU64>,
) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (done, next_id, path) = (done.clone(), next_id.clone(), path.to_path_buf());
            std::thread::spawn(move || {
                let c = rusqlite::Connection::open(&path).unwrap();
                c.busy_timeout(Duration::from_secs(10)).unwrap();
                c.execute_batch("PRAGMA synchronous = NORMAL").unwrap();
                let mut select = c.prepare("SELECT v FROM kv WHERE id = ?").unwrap();
                let mut ins = c.prepare("INSERT INTO kv (id, v) VALUES (?, ?)").unwrap();
                while Instant::now() < deadline {
                    if insert {
                        let id = next_id.fetch_add(1, Ordering::Relaxed) as i64;
                        ins.execute(rusqlite::params![id, "payload-payload-payload"])
                            .unwrap();
                    } else {
                        let id = rand::thread_rng().gen_range(0..ROWS);
                        let _: Option<String> = select.query_row([id], |r| r.get(0)).ok();
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / secs
}

fn main() {
    let secs: f64 = std::env::args()
        .skip_while(|a| a != "--seconds")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let server = common::start();
    let db_file = {
        let catalog = rusqlite::Connection::open(server.dir.path().join("catalog.sqlite")).unwrap();
        let id: i64 = catalog
            .query_row(
                "SELECT database_id FROM databases WHERE tenant_id = 1 AND name = 'test'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        server
            .dir
            .path()
            .join("tenants/1")
            .join(format!("db_{id}.sqlite"))
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = common::connect(server.port, "test").await;
        c.query_drop("CREATE TABLE kv (id INT PRIMARY KEY, v VARCHAR(64))")
            .await
            .unwrap();
        let mut tx = c.start_transaction(Default::default()).await.unwrap();
        for chunk in (0..ROWS).collect::<Vec<_>>().chunks(1000) {
            let values: Vec<String> = chunk
                .iter()
                .map(|i| format!("({i}, 'value-{i}')"))
                .collect();
            tx.query_drop(format!("INSERT INTO kv VALUES {}", values.join(",")))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    });
    println!(
        "MySQL protocol overhead ({secs:.0} s per figure, {} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:<14} {:>7} {:>14} {:>14} {:>8}",
        "operation", "clients", "server op/s", "direct op/s", "ratio"
    );
    let next_id = Arc::new(AtomicU64::new(ROWS as u64));
    for insert in [false, true] {
        for clients in [1, 4, 16] {
            let served = rt.block_on(through_server(
                server.port,
                clients,
                secs,
                insert,
                next_id.clone(),
            ));
            let raw = direct(&db_file, clients, secs, insert, next_id.clone());
            println!(
                "{:<14} {:>7} {:>14.0} {:>14.0} {:>7.2}x",
                if insert { "insert" } else { "point select" },
                clients,
                served,
                raw,
                raw / served
            );
        }
    }
}
