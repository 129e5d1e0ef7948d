//! A point select's server-side cost: `Session::execute` of `SELECT c FROM sbtest1 WHERE id = ?` (what a
//! MySQL COM_STMT_EXECUTE or a pgwire Bind/Execute runs, without the wire), as the tenant's administrator and
//! as a user holding only SELECT, beside the same statement run in-process with rusqlite on the same file.
//!
//! `cargo bench -p tenantry-sql --bench point_select` (`-- --iterations N`, `--threads T`). Under
//! `valgrind --tool=callgrind` a fixed `--iterations` gives repeatable instruction counts per statement.

use std::sync::Arc;
use std::time::Instant;

use tenantry_catalog::Catalog;
use tenantry_jobs::{JobRegistry, RegistryConfig};
use tenantry_sql::{Engine, Session, Value};

const ROWS: i64 = 10_000;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn session(engine: &Arc<Engine>, login: &str) -> Session {
    let id = engine
        .authenticate(login, "127.0.0.1", false, |_| true)
        .expect("login");
    Session::open(
        engine.clone(),
        id,
        engine.sessions().next_id(),
        "127.0.0.1:40000",
        "mysql",
        tokio_util::sync::CancellationToken::new(),
    )
    .expect("session")
}

/// Microseconds per point select over `iterations` statements on each of `threads` sessions at once.
/// Never inlined, so that `valgrind --tool=callgrind --toggle-collect='*through_session*'` counts only it.
#[inline(never)]
fn through_session(engine: &Arc<Engine>, login: &str, iterations: usize, threads: usize) -> f64 {
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let engine = engine.clone();
            s.spawn(move || {
                let mut session = session(&engine, login);
                session.use_database("bench").expect("use");
                for i in 0..iterations {
                    let id = ((i * 7919 + t * 31) as i64 % ROWS) + 1;
                    session
                        .execute("SELECT c FROM sbtest1 WHERE id = ?", &[Value::Int(id)])
                        .expect("select");
                }
            });
        }
    });
    start.elapsed().as_secs_f64() * 1e6 / (iterations * threads) as f64
}

/// The same statements with rusqlite on the database file, one connection per thread.
fn direct(path: &std::path::Path, iterations: usize, threads: usize) -> f64 {
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                let conn = rusqlite::Connection::open(path).expect("open");
                let mut stmt = conn
                    .prepare("SELECT c FROM sbtest1 WHERE id = ?1")
                    .expect("prepare");
                for i in 0..iterations {
                    let id = ((i * 7919 + t * 31) as i64 % ROWS) + 1;
                    let _: String = stmt.query_row([id], |r| r.get(0)).expect("row");
                }
            });
        }
    });
    start.elapsed().as_secs_f64() * 1e6 / (iterations * threads) as f64
}

fn main() {
    let iterations = arg("--iterations", 20_000);
    let threads = arg("--threads", 1);
    tenantry_sql::install_memory_accounting();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let _enter = rt.enter();
    let dir = tempfile::tempdir().expect("tempdir");
    let catalog = Arc::new(Catalog::open(dir.path(), None).expect("catalog"));
    let jobs = JobRegistry::open(
        &dir.path().join("catalog.sqlite"),
        RegistryConfig::default(),
        rt.handle().clone(),
    )
    .expect("jobs");
    let engine = Engine::new(catalog.clone(), jobs.clone());
    jobs.start().expect("start jobs");

    let mut root = session(&engine, "root@sys");
    for sql in [
        "CREATE DATABASE bench",
        "USE bench",
        "CREATE TABLE sbtest1 (id INT AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL DEFAULT 0, \
         c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '')",
        "CREATE USER reader IDENTIFIED BY 'pw'",
        "GRANT SELECT ON bench.* TO reader",
    ] {
        root.execute(sql, &[]).expect(sql);
    }
    root.execute("BEGIN", &[]).expect("begin");
    for id in 1..=ROWS {
        root.execute(
            "INSERT INTO sbtest1 (id, k, c, pad) VALUES (?, ?, ?, ?)",
            &[
                Value::Int(id),
                Value::Int(id * 3 % ROWS),
                Value::from(format!("{id:0>119}")),
                Value::from("pad"),
            ],
        )
        .expect("insert");
    }
    root.execute("COMMIT", &[]).expect("commit");
    let db = catalog
        .database(1, "bench")
        .expect("catalog")
        .expect("bench exists");
    let path = catalog.storage().database_path(1, db.database_id);
    drop(root);

    // Warm caches (pages, prepared statements) before measuring.
    through_session(&engine, "root@sys", 1000.min(iterations), 1);
    let admin = through_session(&engine, "root@sys", iterations, threads);
    let reader = through_session(&engine, "reader@sys", iterations, threads);
    let rusqlite = direct(&path, iterations, threads);
    println!("point select, {iterations} statements per thread, {threads} thread(s), µs per statement (wall / statements)");
    println!(
        "{:<40}{:>10.2} µs",
        "Session::execute as root (admin)", admin
    );
    println!(
        "{:<40}{:>10.2} µs",
        "Session::execute as a SELECT-only user", reader
    );
    println!(
        "{:<40}{:>10.2} µs",
        "rusqlite in-process (anchor)", rusqlite
    );
    println!(
        "{:<40}{:>10.2} µs   (bar: ≤ 15 µs)",
        "server-side overhead (admin − anchor)",
        admin - rusqlite
    );
}
