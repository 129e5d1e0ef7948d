//! Restore and clone figures beside their anchor, in one run, on one tenant of `--mb` megabytes (default 500):
//! restore of a full set into a new tenant and a FORK clone, each vs `cp` of the tenant's database files;
//! cancel latency mid-restore and mid-clone (the statement returns once the undo is done). Restore, clone and the anchor are each the
//! median of three runs (the anchor is `cp -r`); `cp -r` followed by `sync` of the copies is printed beside it for context
//! (restore and clone fsync what they write, `cp` does not). The file system is flushed (untimed) before each
//! figure, so that one figure's write-back does not land in the next.
//!
//! `TENANTRY_BENCH_LOG=/tmp/server.log RUST_LOG=info,tenantry_kinds=debug` keeps the server's log.
//!
//! `cargo bench --bench restore_clone` (`-- --mb 100` for a quicker run).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use mysql_async::{Conn, OptsBuilder};

async fn conn(port: u16, user: &str) -> Conn {
    let opts = OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some(user))
        .pass(Some(""))
        .prefer_socket(false);
    Conn::new(opts).await.expect("connect")
}

async fn restore_done(sys: &mut Conn, name: &str) -> String {
    loop {
        let s: Option<String> = sys
            .exec_first(
                "SELECT STATUS FROM oceanbase.DBA_OB_RESTORE_HISTORY WHERE RESTORE_TENANT_NAME = ? \
                 AND JOB_ID = (SELECT MAX(job_id) FROM [SHOW JOBS] WHERE job_type = 'RESTORE')",
                (name,),
            )
            .await
            .unwrap();
        if let Some(s) = s {
            return s;
        }
        // Each look is a query the 2-core server answers beside the restore: not too often.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Flushes the file system holding `path` (untimed: it only keeps one figure's write-back out of the next).
fn flush_file_system(path: &Path) {
    let _ = Command::new("sync").arg("-f").arg(path).status();
}

/// The anchor: `cp -r` of the tenant's directory, timed `CP_RUNS` times, and the same followed by `sync` of the
/// copied files (restore and clone fsync what they write; `cp` does not).
struct Anchor {
    cp: Vec<f64>,
    cp_sync: Vec<f64>,
}

const CP_RUNS: usize = 3;

fn cp_anchor(tenant_dir: &Path, scratch: &Path) -> Anchor {
    let mut anchor = Anchor {
        cp: Vec::new(),
        cp_sync: Vec::new(),
    };
    for _ in 0..CP_RUNS {
        let copy_dir = tempfile::tempdir_in(scratch).unwrap();
        let t0 = Instant::now();
        let status = Command::new("cp")
            .arg("-r")
            .arg(tenant_dir)
            .arg(copy_dir.path())
            .status()
            .expect("cp");
        assert!(status.success());
        anchor.cp.push(t0.elapsed().as_secs_f64() * 1000.0);
        let copied: Vec<_> =
            std::fs::read_dir(copy_dir.path().join(tenant_dir.file_name().unwrap()))
                .unwrap()
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .collect();
        let status = Command::new("sync").args(&copied).status().expect("sync");
        assert!(status.success());
        anchor.cp_sync.push(t0.elapsed().as_secs_f64() * 1000.0);
        drop(copy_dir);
        flush_file_system(scratch);
    }
    anchor.cp.sort_by(|a, b| a.partial_cmp(b).unwrap());
    anchor.cp_sync.sort_by(|a, b| a.partial_cmp(b).unwrap());
    anchor
}

fn main() {
    let mb = common::arg("--mb", 500);
    let runs = common::arg("--runs", 10);
    let server = common::start();
    let dest = server.external_dir().join("t1/bk");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut sys = conn(server.port, "root@sys").await;
        sys.query_drop("CREATE RESOURCE UNIT u1 MAX_CPU 1, MEMORY_SIZE '2G'").await.unwrap();
        sys.query_drop("CREATE RESOURCE POOL p1 UNIT = 'u1', UNIT_NUM = 1").await.unwrap();
        sys.query_drop("CREATE RESOURCE POOL rp UNIT = 'u1', UNIT_NUM = 1").await.unwrap();
        sys.query_drop("CREATE TENANT t1 RESOURCE_POOL_LIST = ('p1')").await.unwrap();
        let mut t = conn(server.port, "root@t1").await;
        let rows = mb * 1024;
        t.query_drop("CREATE TABLE test.big (id INTEGER PRIMARY KEY, v TEXT)").await.unwrap();
        t.query_drop(format!(
            "INSERT INTO test.big (id, v) WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < {rows}) SELECT x, hex(randomblob(500)) FROM s"
        ))
        .await
        .unwrap();
        t.query_drop(format!("ALTER SYSTEM SET DATA_BACKUP_DEST = 'file://{}'", dest.as_path().display()))
            .await
            .unwrap();
        t.query_drop("ALTER SYSTEM BACKUP DATABASE").await.unwrap();
        let id: i64 = t.query_first("SELECT job_id FROM [SHOW JOBS] WHERE job_type = 'BACKUP'").await.unwrap().unwrap();
        t.query_drop(format!("SHOW JOB WHEN COMPLETE {id}")).await.unwrap();

        let tenant_dir = server.dir.path().join("tenants/1001");
        let size: u64 = std::fs::read_dir(&tenant_dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum();
        // Write-back of the backup just taken would land in whatever runs first: start every figure from a
        // flushed file system.
        flush_file_system(server.dir.path());
        let anchor = cp_anchor(&tenant_dir, server.dir.path());

        // Restore and clone are timed as often as the anchor, for the same reason (this VM's 1 GB writes swing).
        let mut restore = Vec::new();
        let mut clone = Vec::new();
        for _ in 0..CP_RUNS {
            let t0 = Instant::now();
            sys.query_drop(format!("ALTER SYSTEM RESTORE r1 FROM 'file://{}' WITH 'pool_list=rp'", dest.as_path().display()))
                .await
                .unwrap();
            assert_eq!(restore_done(&mut sys, "r1").await, "SUCCESS");
            restore.push(t0.elapsed().as_secs_f64() * 1000.0);
            sys.query_drop("DROP TENANT r1").await.unwrap();
            flush_file_system(server.dir.path());

            let t0 = Instant::now();
            sys.query_drop("CREATE TENANT c1 FROM t1 WITH RESOURCE_POOL = cp1, UNIT = u1").await.unwrap();
            clone.push(t0.elapsed().as_secs_f64() * 1000.0);
            sys.query_drop("DROP TENANT c1").await.unwrap();
            sys.query_drop("DROP RESOURCE POOL cp1").await.unwrap();
            flush_file_system(server.dir.path());
        }
        restore.sort_by(|a, b| a.partial_cmp(b).unwrap());
        clone.sort_by(|a, b| a.partial_cmp(b).unwrap());

        let mut restore_cancel = Vec::new();
        for run in 0..runs {
            sys.query_drop(format!("ALTER SYSTEM RESTORE r2 FROM 'file://{}' WITH 'pool_list=rp'", dest.as_path().display()))
                .await
                .unwrap();
            // Mid-copy: the data phase has begun, and each run waits a little longer into it (the whole copy
            // may take well under a second, less than the once-a-second FINISH_BYTES refresh).
            loop {
                let s: Option<String> = sys
                    .query_first("SELECT STATUS FROM oceanbase.DBA_OB_RESTORE_PROGRESS WHERE RESTORE_TENANT_NAME = 'r2'")
                    .await
                    .unwrap();
                if s.as_deref() != Some("CREATE_TENANT") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            tokio::time::sleep(Duration::from_millis(10 + 20 * (run % 10))).await;
            let t0 = Instant::now();
            match sys.query_drop("ALTER SYSTEM CANCEL RESTORE r2").await {
                Ok(()) => restore_cancel.push(t0.elapsed().as_secs_f64() * 1000.0),
                // It finished before the cancel arrived: not a cancel to measure.
                Err(_) => {
                    restore_done(&mut sys, "r2").await;
                    sys.query_drop("DROP TENANT r2").await.unwrap();
                }
            }
        }
        restore_cancel.sort_by(|a, b| a.partial_cmp(b).unwrap());

        let mut clone_cancel = Vec::new();
        for _ in 0..runs {
            let opts = sys.opts().clone();
            let create = tokio::spawn(async move {
                let mut c = Conn::new(opts).await.unwrap();
                c.query_drop("CREATE TENANT c2 FROM t1 WITH RESOURCE_POOL = cp2, UNIT = u1").await
            });
            loop {
                let s: Option<String> = sys
                    .query_first("SELECT STATUS FROM oceanbase.DBA_OB_CLONE_PROGRESS")
                    .await
                    .unwrap();
                if s.as_deref() == Some("CLONE_SYS_WAIT_TENANT_RESTORE_FINISH") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            let t0 = Instant::now();
            if sys.query_drop("ALTER SYSTEM CANCEL CLONE c2").await.is_ok() {
                clone_cancel.push(t0.elapsed().as_secs_f64() * 1000.0);
            }
            let _ = create.await;
            let _ = sys.query_drop("DROP TENANT IF EXISTS c2").await;
            let _ = sys.query_drop("DROP RESOURCE POOL IF EXISTS cp2").await;
        }
        clone_cancel.sort_by(|a, b| a.partial_cmp(b).unwrap());

        println!("tenant of {} MB ({} rows)", size / 1_000_000, rows);
        let cp = percentile(&anchor.cp, 0.5);
        let cp_sync = percentile(&anchor.cp_sync, 0.5);
        let (restore_ms, clone_ms) = (percentile(&restore, 0.5), percentile(&clone, 0.5));
        let spread = |v: &[f64]| format!("median of {CP_RUNS}, {:.0}–{:.0} ms", v[0], v[v.len() - 1]);
        println!("{:<46} {:>10} {:>12}", "", "tenantry", "anchor");
        println!("{:<46} {:>7.0} ms {:>9.0} ms   (cp -r of the database files; bar ≤ 1.5x: {:.2}x)", "restore of a full set", restore_ms, cp, restore_ms / cp);
        println!("{:<46} {:>7.0} ms {:>9.0} ms   (cp -r of the database files; bar ≤ 1.5x: {:.2}x)", "clone (FORK)", clone_ms, cp, clone_ms / cp);
        println!("{:<46} {:>10} {:>9.0} ms   (cp -r, {})", "  anchor: cp -r", "", cp, spread(&anchor.cp));
        println!("{:<46} {:>10} {:>9.0} ms   (cp -r then sync of the copies, {}; context only)", "  anchor: cp -r + sync", "", cp_sync, spread(&anchor.cp_sync));
        println!("{:<46} {:>7.0} ms {:>12}   ({})", "  restore", restore_ms, "", spread(&restore));
        println!("{:<46} {:>7.0} ms {:>12}   ({})", "  clone", clone_ms, "", spread(&clone));
        println!("{:<46} {:>7.1} ms   ({} runs; bar p99 ≤ 100 ms)", "cancel mid-restore → undone: p50", percentile(&restore_cancel, 0.5), restore_cancel.len());
        println!("{:<46} {:>7.1} ms", "cancel mid-restore → undone: p99", percentile(&restore_cancel, 0.99));
        println!("{:<46} {:?}", "  each (ms, sorted)", restore_cancel.iter().map(|v| (v * 10.0).round() / 10.0).collect::<Vec<_>>());
        println!("{:<46} {:>7.1} ms   ({} runs)", "cancel mid-clone → undone: p50", percentile(&clone_cancel, 0.5), clone_cancel.len());
        println!("{:<46} {:>7.1} ms", "cancel mid-clone → undone: p99", percentile(&clone_cancel, 0.99));
    });
}
