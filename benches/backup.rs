//! Backup figures beside their anchors, in one run, on one tenant database of `--mb` megabytes (default 500):
//! full backup vs `sqlite3 db ".backup copy"` of the same file; an incremental backup after 1 % of the pages changed;
//! cancel latency (CANCEL JOB → canceled); a writer's throughput during a backup vs without.
//!
//! `cargo bench --bench backup` (`-- --mb 100` for a quicker run).

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use mysql_async::{Conn, OptsBuilder};

async fn tenant_conn(port: u16) -> Conn {
    let opts = OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some("root@t1"))
        .pass(Some(""))
        .db_name(Some("test"))
        .prefer_socket(false);
    Conn::new(opts).await.expect("connect to t1")
}

async fn backup(c: &mut Conn, incremental: bool) -> (Duration, i64) {
    let t = Instant::now();
    c.query_drop(if incremental {
        "ALTER SYSTEM BACKUP INCREMENTAL DATABASE"
    } else {
        "ALTER SYSTEM BACKUP DATABASE"
    })
    .await
    .unwrap();
    let id: i64 = c.query_first("SELECT job_id FROM [SHOW JOBS] WHERE job_type = 'BACKUP' ORDER BY created DESC LIMIT 1").await.unwrap().unwrap();
    let row: mysql_async::Row = c
        .query_first(format!("SHOW JOB WHEN COMPLETE {id}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<String, _>("status").as_deref(), Some("succeeded"));
    (t.elapsed(), id)
}

async fn writer_rate(port: u16, secs: f64) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut c = tenant_conn(port).await;
    let task = {
        let (stop, done) = (stop.clone(), done.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                c.exec_drop("INSERT INTO w (v) VALUES (?)", ("writer",))
                    .await
                    .unwrap();
                done.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    task.await.unwrap();
    done.load(Ordering::Relaxed) as f64 / secs
}

fn main() {
    let mb = common::arg("--mb", 500);
    let server = common::start();
    let dest = server.external_dir().join("t1/bk");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut sys = common::connect(server.port, "oceanbase").await;
        sys.query_drop("CREATE RESOURCE UNIT u1 MAX_CPU 1, MEMORY_SIZE '2G'").await.unwrap();
        sys.query_drop("CREATE RESOURCE POOL p1 UNIT = 'u1', UNIT_NUM = 1").await.unwrap();
        sys.query_drop("CREATE TENANT t1 RESOURCE_POOL_LIST = ('p1')").await.unwrap();
        let mut c = tenant_conn(server.port).await;
        // Rows of ~1 KB of random text: compressible to about half, like real data more than zeros would be.
        let rows = mb * 1024;
        c.query_drop("CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT)").await.unwrap();
        c.query_drop("CREATE TABLE w (id INTEGER PRIMARY KEY, v TEXT)").await.unwrap();
        c.query_drop(format!(
            "INSERT INTO big (id, v) WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < {rows}) SELECT x, hex(randomblob(500)) FROM s"
        ))
        .await
        .unwrap();
        c.query_drop(format!("ALTER SYSTEM SET DATA_BACKUP_DEST = 'file://{}'", dest.as_path().display())).await.unwrap();
        let db_file = {
            let catalog = rusqlite::Connection::open(server.dir.path().join("catalog.sqlite")).unwrap();
            let id: i64 = catalog
                .query_row("SELECT database_id FROM databases WHERE tenant_id = 1001 AND name = 'test'", [], |r| r.get(0))
                .unwrap();
            server.dir.path().join("tenants/1001").join(format!("db_{id}.sqlite"))
        };
        // The server's checkpointer copies the WAL into the file in the background; start once it has.
        let size = loop {
            let before = std::fs::metadata(&db_file).unwrap().len();
            tokio::time::sleep(Duration::from_millis(500)).await;
            let after = std::fs::metadata(&db_file).unwrap().len();
            if after == before && after >= rows * 1000 {
                break after;
            }
        };

        let (full, _) = backup(&mut c, false).await;
        let copy = dest.as_path().join("anchor.sqlite");
        let t = Instant::now();
        let status = std::process::Command::new("sqlite3")
            .arg(&db_file)
            .arg(format!(".backup {}", copy.display()))
            .status()
            .expect("sqlite3 is installed");
        let anchor = t.elapsed();
        assert!(status.success());

        // 1 % of the pages: a contiguous 1 % of the rows.
        c.query_drop(format!("UPDATE big SET v = hex(randomblob(500)) WHERE id <= {}", rows / 100)).await.unwrap();
        let (incremental, _) = backup(&mut c, true).await;

        let mut latencies = Vec::new();
        for _ in 0..10 {
            c.query_drop("UPDATE big SET v = hex(randomblob(500)) WHERE id = 1").await.unwrap();
            c.query_drop("ALTER SYSTEM BACKUP DATABASE").await.unwrap();
            let id: i64 = loop {
                let r: Option<i64> = c
                    .query_first("SELECT job_id FROM [SHOW JOBS] WHERE job_type = 'BACKUP' AND status = 'running'")
                    .await
                    .unwrap();
                if let Some(r) = r {
                    break r;
                }
            };
            tokio::time::sleep(Duration::from_millis(20)).await;
            let t = Instant::now();
            c.query_drop(format!("CANCEL JOB {id}")).await.unwrap();
            let row: mysql_async::Row = c.query_first(format!("SHOW JOB WHEN COMPLETE {id}")).await.unwrap().unwrap();
            let took = t.elapsed();
            if row.get::<String, _>("status").as_deref() == Some("canceled") {
                latencies.push(took.as_secs_f64() * 1000.0);
            }
        }
        latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());

        let quiet = writer_rate(server.port, 3.0).await;
        let busy = {
            let mut b = tenant_conn(server.port).await;
            let backup_task = tokio::spawn(async move { backup(&mut b, false).await });
            let rate = writer_rate(server.port, full.as_secs_f64().clamp(1.0, 3.0)).await;
            backup_task.await.unwrap();
            rate
        };

        println!("Backup of one tenant database ({:.0} MB file, {} cores)", size as f64 / 1e6, std::thread::available_parallelism().map_or(1, |n| n.get()));
        println!("{:<46} {:>12} {:>12}", "", "tenantry", "anchor");
        println!("{:<46} {:>9.0} ms {:>9.0} ms   (sqlite3 .backup)", "full backup", full.as_secs_f64() * 1000.0, anchor.as_secs_f64() * 1000.0);
        println!("{:<46} {:>9.0} ms {:>9.0} ms   (the full backup; bar ≤ 10 %)", "incremental after 1 % of pages changed", incremental.as_secs_f64() * 1000.0, full.as_secs_f64() * 1000.0);
        println!("{:<46} {:>9.1} ms {:>12}   ({} cancels; bar p99 ≤ 100 ms)", "cancel → canceled: p50", common::percentile(&latencies, 50.0), "", latencies.len());
        println!("{:<46} {:>9.1} ms", "cancel → canceled: p99", common::percentile(&latencies, 99.0));
        println!("{:<46} {:>9.0} /s {:>9.0} /s   (writer alone; bar: drop ≤ 20 %)", "writer inserts during a backup", busy, quiet);
    });
}
