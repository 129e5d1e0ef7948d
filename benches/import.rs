//! Import figures beside their anchor, in one run: a CSV of `--rows` rows (default 1,000,000) imported with
//! `LOAD DATA INFILE` vs `sqlite3 db ".import --csv a.csv items"` into the same schema (the table's SQLite
//! definition as the server created it: same columns, constraints and key), and cancel latency mid-import
//! (CANCEL JOB → canceled, undo done).
//!
//! `cargo bench --bench import` (`-- --rows 200000` for a quicker run). Needs the sqlite3 shell on the PATH:
//! `apt-get install -y sqlite3`.

mod common;

use std::time::{Duration, Instant};

use mysql_async::prelude::*;

fn main() {
    let rows = common::arg("--rows", 1_000_000);
    if std::process::Command::new("sqlite3")
        .arg("-version")
        .output()
        .is_err()
    {
        eprintln!("the sqlite3 shell is needed for the anchor: apt-get install -y sqlite3");
        std::process::exit(2);
    }
    let server = common::start();
    let files = server.external_dir();
    let csv = files.join("items.csv");
    common::write_items_csv(&csv, rows);
    let csv_bytes = std::fs::metadata(&csv).unwrap().len();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = common::connect(server.port, "test").await;
        c.query_drop(format!("CREATE TABLE items {}", common::ITEMS_TABLE))
            .await
            .unwrap();
        let load = format!(
            "LOAD DATA INFILE '{}' INTO TABLE items FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"'",
            csv.display()
        );
        let t = Instant::now();
        c.query_drop(&load).await.unwrap();
        let ours = t.elapsed();
        assert_eq!(c.affected_rows(), rows);

        // The anchor: the same table definition, as SQLite holds it, in a fresh file.
        let schema: String = {
            let catalog =
                rusqlite::Connection::open(server.dir.path().join("catalog.sqlite")).unwrap();
            let id: i64 = catalog
                .query_row(
                    "SELECT database_id FROM databases WHERE tenant_id = 1 AND name = 'test'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            let db = rusqlite::Connection::open(
                server.dir.path().join(format!("tenants/1/db_{id}.sqlite")),
            )
            .unwrap();
            db.query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'items'",
                [],
                |r| r.get(0),
            )
            .unwrap()
        };
        let anchor_db = files.join("anchor.sqlite");
        let status = std::process::Command::new("sqlite3")
            .arg(&anchor_db)
            .arg(&schema)
            .status()
            .unwrap();
        assert!(status.success());
        let t = Instant::now();
        let out = std::process::Command::new("sqlite3")
            .arg(&anchor_db)
            .arg(format!(".import --csv {} items", csv.display()))
            .output()
            .unwrap();
        let anchor = t.elapsed();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let anchor_rows: i64 = rusqlite::Connection::open(&anchor_db)
            .unwrap()
            .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
            .unwrap();
        assert_eq!(anchor_rows as u64, rows);

        // A writer of another table of the same database during an import: its longest wait is the final
        // copy, the one moment the import holds the database's write lock.
        c.query_drop(format!("CREATE TABLE items3 {}", common::ITEMS_TABLE))
            .await
            .unwrap();
        c.query_drop("CREATE TABLE w (id INTEGER PRIMARY KEY, v INT)")
            .await
            .unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let stop = stop.clone();
            let mut w = common::connect(server.port, "test").await;
            tokio::spawn(async move {
                let (mut longest, mut n) = (Duration::ZERO, 0u64);
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let t = Instant::now();
                    w.query_drop("INSERT INTO w (v) VALUES (1)").await.unwrap();
                    longest = longest.max(t.elapsed());
                    n += 1;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                (longest, n)
            })
        };
        let t = Instant::now();
        c.query_drop(format!(
            "IMPORT INTO items3 CSV DATA ('file://{}')",
            csv.display()
        ))
        .await
        .unwrap();
        let with_writer = t.elapsed();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let (longest_wait, writes) = writer.await.unwrap();

        // Cancel mid-import: a detached import into an empty copy of the table, canceled at a random moment
        // of its load.
        c.query_drop(format!("CREATE TABLE items2 {}", common::ITEMS_TABLE))
            .await
            .unwrap();
        let mut latencies = Vec::new();
        for i in 0..10u64 {
            let r: mysql_async::Row = c
                .query_first(format!(
                    "IMPORT INTO items2 CSV DATA ('file://{}') WITH DETACHED",
                    csv.display()
                ))
                .await
                .unwrap()
                .unwrap();
            let id: i64 = r.get("job_id").unwrap();
            loop {
                let s: Option<String> = c
                    .query_first(format!("SELECT status FROM [SHOW JOBS] WHERE job_id = {id}"))
                    .await
                    .unwrap();
                if s.as_deref() == Some("running") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            tokio::time::sleep(Duration::from_millis(50 + 40 * i)).await;
            let t = Instant::now();
            c.query_drop(format!("CANCEL JOB {id}")).await.unwrap();
            let row: mysql_async::Row = c
                .query_first(format!("SHOW JOB WHEN COMPLETE {id}"))
                .await
                .unwrap()
                .unwrap();
            let took = t.elapsed();
            if row.get::<String, _>("status").as_deref() == Some("canceled") {
                latencies.push(took.as_secs_f64() * 1000.0);
            }
        }
        let left: i64 = c
            .query_first("SELECT COUNT(*) FROM items2")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(left, 0, "a canceled import left rows behind");
        latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());

        let mrows = |d: Duration| rows as f64 / d.as_secs_f64() / 1e6;
        println!(
            "Import of {rows} rows ({:.0} MB CSV, {} cores)",
            csv_bytes as f64 / 1e6,
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        println!("{:<40} {:>12} {:>12}", "", "tenantry", "anchor");
        println!(
            "{:<40} {:>9.0} ms {:>9.0} ms   (sqlite3 .import --csv; bar: no slower)",
            "CSV into an empty table",
            ours.as_secs_f64() * 1000.0,
            anchor.as_secs_f64() * 1000.0
        );
        println!(
            "{:<40} {:>6.2} Mrow/s {:>6.2} Mrow/s",
            "throughput",
            mrows(ours),
            mrows(anchor)
        );
        println!(
            "{:<40} {:>9.0} ms {:>12}   ({writes} single-row inserts into another table meanwhile)",
            "the same import beside a writer",
            with_writer.as_secs_f64() * 1000.0,
            ""
        );
        println!(
            "{:<40} {:>9.0} ms {:>12}   (the final copy holds the write lock)",
            "  the writer's longest insert",
            longest_wait.as_secs_f64() * 1000.0,
            ""
        );
        println!(
            "{:<40} {:>9.1} ms {:>12}   ({} cancels; bar p99 ≤ 100 ms)",
            "cancel → canceled: p50",
            common::percentile(&latencies, 50.0),
            "",
            latencies.len()
        );
        println!(
            "{:<40} {:>9.1} ms",
            "cancel → canceled: p99",
            common::percentile(&latencies, 99.0)
        );
    });
}
