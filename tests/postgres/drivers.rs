//! Real drivers end to end: psycopg 3 (Python), node-postgres, and tokio-postgres with typed values. The
//! tests install what they need when it is missing (as .ci/run does up front), so they always run.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{simple_rows, sqlstate, TestServer};

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/postgres/clients")
}

/// Installs psycopg 3 and SQLAlchemy 2 with pip when python3 cannot import them.
pub(crate) fn ensure_python() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let present = Command::new("python3")
            .args(["-c", "import psycopg, sqlalchemy"])
            .status()
            .is_ok_and(|s| s.success());
        if !present {
            let ok = Command::new("python3")
                .args(["-m", "pip", "install", "-q"])
                .args(PYTHON_PACKAGES)
                .status()
                .is_ok_and(|s| s.success());
            assert!(
                ok,
                "psycopg / sqlalchemy are missing and pip could not install them"
            );
        }
    });
}

/// The Python packages the driver tests use (the same pins as .ci/run).
const PYTHON_PACKAGES: &[&str] = &["psycopg[binary]==3.3.9", "SQLAlchemy>=2"];

/// Installs the locked node-postgres when it is missing.
fn ensure_node() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let dir = clients_dir().join("node");
        if !dir.join("node_modules/pg").exists() {
            let ok = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(
                ok,
                "npm ci in tests/postgres/clients/node failed (node and npm are needed)"
            );
        }
    });
}

/// Installs Java and Debian's pgjdbc when they are missing.
fn ensure_pgjdbc() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let present = Path::new(PGJDBC).exists()
            && Command::new("javac").arg("-version").output().is_ok();
        if !present {
            let ok = Command::new("sh")
                .args(["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpostgresql-jdbc-java default-jdk-headless"])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "pgjdbc / javac are missing and could not be installed with apt-get");
        }
    });
}

/// Debian's pgjdbc (libpostgresql-jdbc-java).
const PGJDBC: &str = "/usr/share/java/postgresql.jar";

/// A libpq URL for root@sys on the test server.
fn dsn(server: &TestServer) -> String {
    format!("postgresql://root%40sys@127.0.0.1:{}/test", server.pg_port)
}

/// Runs a program to the end and fails the test with its output if it fails.
fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg_parameters_of_every_type_round_trip() {
    ensure_python();
    let server = TestServer::start();
    let out = run(
        Command::new("python3")
            .arg(clients_dir().join("psycopg_types.py"))
            .env("PG_DSN", dsn(&server)),
        "psycopg_types.py",
    );
    assert!(out.contains("psycopg types ok"), "{out}");
    // Every other reader of the table reads it too (the report: tokio-postgres and psql got 22P02).
    let c = server.pg("root@sys", "", None).await;
    let rows = simple_rows(&c, "SELECT ts, tz, d, n FROM items ORDER BY id").await;
    assert_eq!(
        rows,
        vec![
            vec![
                Some("2024-01-02 03:04:05.123456".to_string()),
                Some("2024-01-02 03:04:05+00".to_string()),
                Some("2024-01-02".to_string()),
                Some("12345678.91".to_string())
            ];
            2
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_postgres_dates_and_text_parameters_are_stored_canonically() {
    ensure_node();
    let server = TestServer::start();
    let out = run(
        Command::new("node")
            .arg("types.test.mjs")
            .current_dir(clients_dir().join("node"))
            // A zone with an offset, so the Date goes out as local time with `+05:30`.
            .env("TZ", "Asia/Kolkata")
            .env("PG_DSN", dsn(&server)),
        "node types.test.mjs",
    );
    assert!(out.contains("node-postgres types ok"), "{out}");
    let c = server.pg("root@sys", "", None).await;
    let row = c
        .query_one("SELECT created, day FROM items", &[])
        .await
        .unwrap();
    let created: std::time::SystemTime = row.get(0);
    let secs = created
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(secs, 1_704_164_645, "2024-01-02 03:04:05 UTC");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_postgres_typed_values_round_trip_and_misfits_are_refused() {
    use chrono::{NaiveDate, TimeZone, Utc};
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    c.batch_execute(
        "CREATE TABLE ty (id INT PRIMARY KEY, d DATE, t TIME, ts TIMESTAMP, tz TIMESTAMPTZ, \
         n NUMERIC(10,2), u UUID, j JSONB, iv INTERVAL, b BYTEA)",
    )
    .await
    .unwrap();
    let d = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
    let t = chrono::NaiveTime::from_hms_micro_opt(3, 4, 5, 6).unwrap();
    let ts = d.and_time(t);
    let tz = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
    let n = rust_decimal::Decimal::new(1_234_567_891, 2);
    let u = uuid::Uuid::parse_str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap();
    let j = serde_json::json!({"k": [1, "two"]});
    let b = vec![0u8, 1, 2, 255];
    c.execute(
        "INSERT INTO ty (id, d, t, ts, tz, n, u, j, b) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[&1i64, &d, &t, &ts, &tz, &n, &u, &j, &b],
    )
    .await
    .unwrap();
    let row = c
        .query_one(
            "SELECT d, t, ts, tz, n, u, j, b FROM ty WHERE id = $1",
            &[&1i64],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, NaiveDate>(0), d);
    assert_eq!(row.get::<_, chrono::NaiveTime>(1), t);
    assert_eq!(row.get::<_, chrono::NaiveDateTime>(2), ts);
    assert_eq!(row.get::<_, chrono::DateTime<Utc>>(3), tz);
    assert_eq!(row.get::<_, rust_decimal::Decimal>(4), n);
    assert_eq!(row.get::<_, uuid::Uuid>(5), u);
    assert_eq!(row.get::<_, serde_json::Value>(6), j);
    assert_eq!(row.get::<_, Vec<u8>>(7), b);

    // Literals that do not fit a typed column are refused as well, and nothing is written.
    for (sql, state) in [
        ("INSERT INTO ty (id, ts) VALUES (2, 'garbage')", "22007"),
        ("INSERT INTO ty (id, d) VALUES (2, '2024-02-30')", "22007"),
        ("INSERT INTO ty (id, u) VALUES (2, 'nope')", "22P02"),
        ("INSERT INTO ty (id, j) VALUES (2, '{')", "22P02"),
        ("UPDATE ty SET tz = 'soon'", "22007"),
    ] {
        let e = c.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&e), state, "{sql}: {e}");
    }
    // A text parameter that is no time is refused the same way (22007), before anything is written.
    let stmt = c
        .prepare_typed(
            "INSERT INTO ty (id, ts) VALUES ($1, $2)",
            &[
                tokio_postgres::types::Type::INT4,
                tokio_postgres::types::Type::TEXT,
            ],
        )
        .await
        .unwrap();
    let e = c
        .execute(&stmt, &[&3i32, &"2024-01-02T03:04:05.000+00:00x"])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "22007", "{e}");
    assert_eq!(
        simple_rows(&c, "SELECT count(*) FROM ty").await,
        vec![vec![Some("1".to_string())]]
    );
    // Intervals in text, stored in PostgreSQL's output style.
    c.batch_execute("INSERT INTO ty (id, iv) VALUES (4, '1 day 2 hours')")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT iv FROM ty WHERE id = 4").await,
        vec![vec![Some("1 day 02:00:00".to_string())]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgjdbc_connects_sets_session_settings_and_runs_prepared_statements() {
    ensure_pgjdbc();
    let server = TestServer::start();
    let classes = tempfile::tempdir().unwrap();
    run(
        Command::new("javac")
            .arg("-d")
            .arg(classes.path())
            .arg(clients_dir().join("java/PgJdbc.java")),
        "javac PgJdbc.java",
    );
    let out = run(
        Command::new("java")
            .arg("-cp")
            .arg(format!("{PGJDBC}:{}", classes.path().display()))
            .arg("PgJdbc")
            .arg(format!(
                "jdbc:postgresql://127.0.0.1:{}/test",
                server.pg_port
            ))
            .arg("root@sys"),
        "java PgJdbc",
    );
    assert!(out.contains("pgjdbc ok"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_settings_set_show_and_parameter_status() {
    ensure_python();
    let server = TestServer::start();
    let out = run(
        Command::new("python3")
            .arg(clients_dir().join("psycopg_session.py"))
            .env("PG_DSN", dsn(&server)),
        "psycopg_session.py",
    );
    assert!(out.contains("psycopg session ok"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_functions_schema_qualified_and_savepoints() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    // SQLAlchemy's first statement, and the session functions it and others read.
    let rows = simple_rows(
        &c,
        "SELECT pg_catalog.version(), current_database(), current_schema(), current_user, session_user, \
         pg_catalog.coalesce(NULL, 'x')",
    )
    .await;
    let row = &rows[0];
    assert!(
        row[0]
            .as_deref()
            .unwrap_or("")
            .starts_with("PostgreSQL 13.0"),
        "{row:?}"
    );
    assert_eq!(
        row[1..].to_vec(),
        ["test", "public", "root", "root", "x"].map(|s| Some(s.to_string()))
    );
    // Savepoints: psycopg's nested transactions.
    c.batch_execute(
        "CREATE TABLE sp (id INT PRIMARY KEY); BEGIN; INSERT INTO sp VALUES (1); SAVEPOINT \"_pg3_1\"; \
         INSERT INTO sp VALUES (2); ROLLBACK TO SAVEPOINT \"_pg3_1\"; SAVEPOINT b; INSERT INTO sp VALUES (3); \
         RELEASE SAVEPOINT b; COMMIT",
    )
    .await
    .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT id FROM sp ORDER BY id").await,
        vec![vec![Some("1".to_string())], vec![Some("3".to_string())]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlalchemy_orm_on_psycopg_runs_unmodified() {
    ensure_python();
    let server = TestServer::start();
    let url = format!(
        "postgresql+psycopg://root%40sys@127.0.0.1:{}/test",
        server.pg_port
    );
    let out = run(
        Command::new("python3")
            .arg(clients_dir().join("../../clients/sqlalchemy_orm.py"))
            .env("DB_URL", url),
        "sqlalchemy_orm.py",
    );
    assert!(out.contains("sqlalchemy orm ok"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg_named_cursors_fetch_scroll_hold_and_close() {
    ensure_python();
    let server = TestServer::start();
    let out = run(
        Command::new("python3")
            .arg(clients_dir().join("psycopg_cursors.py"))
            .env("PG_DSN", dsn(&server)),
        "psycopg_cursors.py",
    );
    assert!(out.contains("psycopg cursors ok"), "{out}");
}
