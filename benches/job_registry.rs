//! The job registry under a long history: 100,000 finished jobs of mixed types and tenants (finished over
//! the 14 days of the default retention) and 50 running ones, then p50 / p99 of what users run against it:
//! SHOW JOBS, SHOW JOBS narrowed to a tenant (its administrator's) and to a type, `[SHOW JOBS]` filtered by
//! user, CANCEL JOBS (SELECT ...) of 50 jobs, the REST API's active jobs and a 100-row console page, a
//! non-admin's DBA_OB_BACKUP_JOB_HISTORY, a job's creation; last, how long a cancel waits while retention
//! deletes all 100,000.
//!
//! `cargo bench --bench job_registry` (`-- --jobs N --runs N` to change the size).
//!
//! The history is written straight into the job tables of a running server (the rows a real history
//! leaves: control row, progress row, three history entries, ids increasing with creation time as the
//! registry's clock-based ids do), and the running jobs are rows in state `running` with no work behind them
//! (a CANCEL moves them to reverting and their undo, which has nothing to do, ends them canceled): what is
//! measured is the registry's reads and writes, not the work of 50 jobs. Each CANCEL JOBS run starts once the
//! previous run's 50 undos are over; how long those take is printed apart.

mod common;

use std::time::{Duration, Instant};

use base64::Engine as _;
use mysql_async::prelude::*;
use rand::{Rng, SeedableRng};
use rusqlite::params;

const DAY_US: i64 = 86_400_000_000;
const TYPES: [&str; 6] = [
    "SCHEMA CHANGE",
    "BACKUP",
    "IMPORT",
    "RESTORE",
    "BACKUP CLEANUP",
    "CLONE",
];

/// The columns the bench writes (the registry's schema, see crates/jobs/src/store.rs).
const INSERT_JOB: &str = "INSERT INTO jobs (job_id, job_type, tenant_id, owner, owner_is_admin, description, statement, state, \
    phase, fraction_completed, running_status, cancelable, created, started, modified, finished, error_code, error_message, \
    trace_id, parent_job_id, payload, paused_from, revert_to, epoch) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, '', ?8, '', 1, ?9, ?10, ?11, ?12, ?13, ?14, '', NULL, ?15, NULL, ?16, 0)";

/// Writes `n` jobs straight into the registry's tables in one transaction. `running` jobs have no work
/// behind them; the others finished at a random time in the last 14 days.
fn fill(
    path: &std::path::Path,
    n: usize,
    tenants: &[i64],
    first_id: i64,
    running_for: Option<(&str, i64)>,
) -> Vec<i64> {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    let tx = conn.transaction().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(first_id as u64);
    let now = tenantry_jobs::now_micros();
    // When each job finished (running ones: not yet) and was created; ids then follow creation, as the
    // registry's do (they are taken from the clock), so a time window is a run of neighbouring rows.
    let times: Vec<(Option<i64>, i64)> = (0..n)
        .map(|_| {
            let finished = running_for
                .is_none()
                .then(|| now - rng.gen_range(60_000_000..14 * DAY_US));
            let created = finished.unwrap_or(now) - rng.gen_range(1_000_000..3_600_000_000i64);
            (finished, created)
        })
        .collect();
    let mut by_creation: Vec<usize> = (0..n).collect();
    by_creation.sort_by_key(|&i| times[i].1);
    let mut rank = vec![0i64; n];
    for (r, &i) in by_creation.iter().enumerate() {
        rank[i] = r as i64;
    }
    let mut ids = Vec::with_capacity(n);
    {
        let mut job = tx.prepare(INSERT_JOB).unwrap();
        let mut progress = tx
            .prepare("INSERT INTO job_progress (job_id, checkpoint, details, updated) VALUES (?1, NULL, ?2, ?3)")
            .unwrap();
        let mut event = tx
            .prepare("INSERT INTO job_events VALUES (?1, ?2, ?3, '', ?4, '')")
            .unwrap();
        for i in 0..n {
            let id = first_id + rank[i];
            let (finished, created) = times[i];
            let (owner, tenant, state) = match running_for {
                Some((owner, tenant)) => (owner.to_string(), tenant, "running"),
                None => {
                    let tenant = tenants[i % tenants.len()];
                    let owner = if i % 10 == 0 { "maxroach" } else { "root" };
                    let state = match i % 50 {
                        0..=2 => "failed",
                        3..=4 => "canceled",
                        _ => "succeeded",
                    };
                    (owner.to_string(), tenant, state)
                }
            };
            let end = finished.unwrap_or(now);
            let job_type = if running_for.is_some() {
                "SCHEMA CHANGE"
            } else {
                TYPES[(i / tenants.len()) % TYPES.len()]
            };
            let payload = if job_type == "BACKUP" {
                serde_json::to_string(&tenantry_kinds::backup::BackupPayload {
                    tenant_id: tenant,
                    tenant_name: format!("t{tenant}"),
                    dest: "file:///backups".into(),
                    set_id: i as i64,
                    incremental: i % 3 == 0,
                    plus_archivelog: false,
                    description: String::new(),
                    databases: Vec::new(),
                    level: "USER_TENANT".into(),
                    tenants: Vec::new(),
                })
                .unwrap()
            } else {
                "{}".into()
            };
            let (code, message) = match state {
                "failed" => (Some(-4016), Some("it failed")),
                "canceled" => (Some(-4072), Some("Operation canceled")),
                _ => (None, None),
            };
            job.execute(params![
                id,
                job_type,
                tenant,
                owner,
                owner == "root",
                format!("{job_type} number {i}"),
                state,
                if state == "succeeded" { 1.0 } else { 0.4 },
                created,
                created + 1000,
                end,
                finished,
                code,
                message,
                payload,
                (state == "canceled").then_some("canceled"),
            ])
            .unwrap();
            progress
                .execute(params![
                    id,
                    r#"{"input_bytes":1048576,"output_bytes":524288,"file_count":4}"#,
                    end
                ])
                .unwrap();
            for (at, s) in [
                (created, "pending"),
                (created + 1000, "running"),
                (end, state),
            ] {
                event.execute(params![id, at, s, 0.0]).unwrap();
            }
            ids.push(id);
        }
    }
    tx.commit().unwrap();
    ids
}

/// p50 and p99 of sorted samples (ms).
fn p50_p99(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (
        common::percentile(&samples, 50.0),
        common::percentile(&samples, 99.0),
    )
}

/// p50 / p99 (ms) of a query run `runs` times, reading every row.
async fn time_query(c: &mut mysql_async::Conn, sql: &str, runs: usize) -> (f64, f64) {
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let r: Vec<mysql_async::Row> = c.query(sql).await.unwrap();
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(r);
    }
    p50_p99(samples)
}

/// p50 / p99 (ms) of a GET as root@sys, reading the whole body.
fn time_get(http: &str, path: &str, runs: usize) -> (f64, f64) {
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("root@sys:")
    );
    let agent = ureq::agent();
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let r = agent
            .get(&format!("{http}{path}"))
            .set("Authorization", &auth)
            .call()
            .unwrap();
        assert_eq!(r.status(), 200);
        std::hint::black_box(r.into_string().unwrap());
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    p50_p99(samples)
}

fn report(what: &str, (p50, p99): (f64, f64), bar: f64) {
    println!(
        "{what:<62} {:>8} {:>8}   bar p99 ≤ {bar} ms{}",
        format!("{p50:.2}"),
        format!("{p99:.2}"),
        if p99 <= bar { "" } else { "  MISSED" }
    );
}

fn main() {
    let jobs = common::arg("--jobs", 100_000) as usize;
    let runs = common::arg("--runs", 100) as usize;
    let server = common::start();
    let catalog = server.dir.path().join("catalog.sqlite");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut sys = common::connect(server.port, "test").await;
        for i in 1..=10 {
            sys.query_drop(format!("CREATE RESOURCE UNIT u{i} MAX_CPU 1, MEMORY_SIZE '2G'")).await.unwrap();
            sys.query_drop(format!("CREATE RESOURCE POOL p{i} UNIT = 'u{i}', UNIT_NUM = 1")).await.unwrap();
            sys.query_drop(format!("CREATE TENANT t{i} RESOURCE_POOL_LIST = ('p{i}') SET ob_compatibility_mode = 'mysql'")).await.unwrap();
        }
        let tenants: Vec<i64> = sys.query("SELECT TENANT_ID FROM oceanbase.DBA_OB_TENANTS ORDER BY TENANT_ID").await.unwrap();
        let t1: i64 = sys.query_first("SELECT TENANT_ID FROM oceanbase.DBA_OB_TENANTS WHERE TENANT_NAME = 't1'").await.unwrap().unwrap();
        let mut t1_root = common::connect_as(server.port, "root@t1", "").await;
        t1_root.query_drop("CREATE USER maxroach IDENTIFIED BY 'roach'").await.unwrap();
        let mut roach = common::connect_as(server.port, "maxroach@t1", "roach").await;

        let t = Instant::now();
        let base = tenantry_jobs::now_micros() * 1000 - 10_000_000_000_000;
        fill(&catalog, jobs, &tenants, base, None);
        let running = fill(&catalog, 50, &tenants, base + jobs as i64, Some(("root", t1)));
        println!(
            "Job registry at scale: {jobs} finished jobs ({} types, {} tenants, finished over 14 days) and {} running, written in {:.1} s; {runs} runs each, {} cores",
            TYPES.len(),
            tenants.len(),
            running.len(),
            t.elapsed().as_secs_f64(),
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        let window: i64 = sys.query_first("SELECT COUNT(*) FROM [SHOW JOBS]").await.unwrap().unwrap();
        println!("{:<62} {:>8} {:>8}", format!("(SHOW JOBS's 12-hour window holds {window} jobs)"), "p50 ms", "p99 ms");
        report("SHOW JOBS (root@sys)", time_query(&mut sys, "SHOW JOBS", runs).await, 20.0);
        report("SHOW JOBS of one tenant (its administrator)", time_query(&mut t1_root, "SHOW JOBS", runs).await, 20.0);
        report(
            "SELECT * FROM [SHOW JOBS] WHERE job_type = 'BACKUP'",
            time_query(&mut sys, "SELECT * FROM [SHOW JOBS] WHERE job_type = 'BACKUP'", runs).await,
            20.0,
        );
        report(
            "SELECT job_id FROM [SHOW JOBS] WHERE user_name = 'maxroach'",
            time_query(&mut sys, "SELECT job_id FROM [SHOW JOBS] WHERE user_name = 'maxroach'", runs).await,
            20.0,
        );
        report(
            "SELECT * FROM oceanbase.DBA_OB_BACKUP_JOB_HISTORY (maxroach@t1)",
            time_query(&mut roach, "SELECT * FROM oceanbase.DBA_OB_BACKUP_JOB_HISTORY", runs).await,
            20.0,
        );
        let http = format!("http://127.0.0.1:{}", server.http_port);
        let (h, r) = (http.clone(), runs);
        let active = tokio::task::spawn_blocking(move || time_get(&h, "/api/jobs?state=active", r)).await.unwrap();
        report("GET /api/jobs?state=active", active, 20.0);
        let (h, r) = (http.clone(), runs);
        let page = tokio::task::spawn_blocking(move || time_get(&h, "/api/jobs?limit=100&offset=5000", r)).await.unwrap();
        report("GET /api/jobs?limit=100&offset=5000 (a console page)", page, 20.0);

        // CANCEL JOBS of 50 running jobs: fresh ones each run. Each run starts once the previous run's 50 undos
        // are over (their writes are not the statement's), and how long those took is printed apart.
        let mut next = base + jobs as i64 + 1000;
        let mut samples = Vec::new();
        let mut settled = Vec::new();
        let canceled_sql = "SELECT COUNT(*) FROM [SHOW JOBS] WHERE user_name = 'maxroach' AND status = 'canceled'";
        let already: i64 = sys.query_first(canceled_sql).await.unwrap().unwrap();
        for run in 0..runs.min(50) {
            fill(&catalog, 50, &tenants, next, Some(("maxroach", t1)));
            next += 1000;
            let t = Instant::now();
            sys.query_drop("CANCEL JOBS (SELECT job_id FROM [SHOW JOBS] WHERE user_name = 'maxroach' AND status = 'running')").await.unwrap();
            samples.push(t.elapsed().as_secs_f64() * 1000.0);
            let n: i64 = sys.query_first("SELECT COUNT(*) FROM [SHOW JOBS] WHERE user_name = 'maxroach' AND status = 'running'").await.unwrap().unwrap();
            assert_eq!(n, 0);
            loop {
                let canceled: i64 = sys.query_first(canceled_sql).await.unwrap().unwrap();
                if canceled == already + 50 * (run as i64 + 1) {
                    break;
                }
                assert!(t.elapsed() < Duration::from_secs(60), "the undos of run {run} never ended");
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            settled.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        report("CANCEL JOBS (SELECT ...) of 50 running jobs", p50_p99(samples), 20.0);
        let (p50, p99) = p50_p99(settled);
        println!("{:<62} {p50:>8.2} {p99:>8.2}   (no bar)", "  ... until all 50 read canceled, undo done");

        // A job's creation: the registry's own call on the same file, beside the server.
        let registry = tenantry_jobs::JobRegistry::open(
            &catalog,
            tenantry_jobs::RegistryConfig::default(),
            tokio::runtime::Handle::current(),
        )
        .unwrap();
        let created = {
            let registry = registry.clone();
            tokio::task::spawn_blocking(move || {
                let mut samples = Vec::with_capacity(runs);
                for _ in 0..runs {
                    let t = Instant::now();
                    registry
                        .create(tenantry_jobs::NewJob {
                            job_type: "BENCH".into(),
                            tenant_id: 1,
                            owner: "root".into(),
                            owner_is_admin: true,
                            description: "a new job".into(),
                            statement: String::new(),
                            payload: serde_json::json!({}),
                            cancelable: true,
                            parent_job_id: None,
                        })
                        .unwrap();
                    samples.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                p50_p99(samples)
            })
            .await
            .unwrap()
        };
        report("a job's creation (JobRegistry::create, durable)", created, 5.0);
        drop(registry);

        // Retention deletes every finished job while a client cancels one job after another, each once the
        // previous one's undo is over (so that what a cancel waits for is retention, not the undos of the
        // cancels before it queueing at the same writer).
        let victims = fill(&catalog, 2000, &tenants, next, Some(("root", t1)));
        let mut canceler = common::connect(server.port, "test").await;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let cancels = {
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut lat = Vec::new();
                for id in victims {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let t = Instant::now();
                    canceler.query_drop(format!("CANCEL JOB {id}")).await.unwrap();
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    loop {
                        let status: Option<String> = canceler
                            .query_first(format!("SELECT status FROM crdb_internal.jobs WHERE job_id = {id}"))
                            .await
                            .unwrap();
                        if status.as_deref() == Some("canceled") {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
                lat
            })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        let t = Instant::now();
        sys.query_drop("ALTER SYSTEM SET jobs_retention = '1s'").await.unwrap();
        let deleting = t.elapsed();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut lat = cancels.await.unwrap();
        let left: i64 = sys.query_first("SELECT COUNT(*) FROM crdb_internal.jobs WHERE status = 'succeeded'").await.unwrap().unwrap();
        assert_eq!(left, 0, "retention removed the history");
        lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "retention deleting {jobs} expired jobs took {:.0} ms; {} cancels meanwhile: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (bar: never blocked > 10 ms)",
            deleting.as_secs_f64() * 1000.0,
            lat.len(),
            common::percentile(&lat, 50.0),
            common::percentile(&lat, 99.0),
            lat.last().copied().unwrap_or(f64::NAN),
        );
    });
}
