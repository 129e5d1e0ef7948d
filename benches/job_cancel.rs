//! Cancel latency of schema change jobs: CANCEL JOB issued → the job reads `canceled` with its undo done,
//! over 20 CREATE INDEX jobs on a multi-million-row table, beside the time the same CREATE INDEX takes to finish.
//!
//! `cargo bench --bench job_cancel` (`-- --rows N --runs N` to change the size).

mod common;

use std::time::{Duration, Instant};

use mysql_async::prelude::*;

fn main() {
    let rows = common::arg("--rows", 2_000_000);
    let runs = common::arg("--runs", 20) as usize;
    let server = common::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = common::connect(server.port, "test").await;
        c.query_drop("CREATE TABLE big (id INTEGER PRIMARY KEY, a INT, b VARCHAR(40))").await.unwrap();
        c.query_drop(format!(
            "INSERT INTO big (id, a, b) WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < {rows}) SELECT x, (x * 7919) % 100003, 'row-' || x FROM s"
        ))
        .await
        .unwrap();

        let t = Instant::now();
        c.query_drop("CREATE INDEX ib ON big (b)").await.unwrap();
        let full = t.elapsed();
        c.query_drop("DROP INDEX ib ON big").await.unwrap();

        let mut latencies = Vec::new();
        for _ in 0..runs {
            let mut client = common::connect(server.port, "test").await;
            let stmt = tokio::spawn(async move { client.query_drop("CREATE INDEX ib ON big (b)").await });
            let id: i64 = loop {
                let running: Option<i64> = c
                    .query_first("SELECT job_id FROM [SHOW JOBS] WHERE status = 'running' AND description = 'CREATE INDEX ib ON big (b)'")
                    .await
                    .unwrap();
                if let Some(id) = running {
                    break id;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            };
            // Let the build get well into the table.
            tokio::time::sleep(full / 3).await;
            let t = Instant::now();
            c.query_drop(format!("CANCEL JOB {id}")).await.unwrap();
            let state: Option<mysql_async::Row> = c.query_first(format!("SHOW JOB WHEN COMPLETE {id}")).await.unwrap();
            let took = t.elapsed();
            let state: String = state.unwrap().get("status").unwrap();
            assert_eq!(state, "canceled", "the job was canceled, not finished");
            latencies.push(took.as_secs_f64() * 1000.0);
            assert!(stmt.await.unwrap().is_err());
        }
        latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!("Schema change cancel latency ({rows} rows, {runs} CREATE INDEX jobs, {} cores)", std::thread::available_parallelism().map_or(1, |n| n.get()));
        println!("{:<44} {:>10}", "CREATE INDEX to completion", format!("{:.0} ms", full.as_secs_f64() * 1000.0));
        println!("{:<44} {:>10}", "cancel → canceled, undo done: p50", format!("{:.1} ms", common::percentile(&latencies, 50.0)));
        println!("{:<44} {:>10}", "cancel → canceled, undo done: p99", format!("{:.1} ms", common::percentile(&latencies, 99.0)));
        println!("{:<44} {:>10}", "cancel → canceled, undo done: max", format!("{:.1} ms", latencies.last().copied().unwrap_or(f64::NAN)));
        println!("bar: p99 ≤ 100 ms");
    });
}
