//! Seed 004 driven through the real `psql` client: SHOW JOBS, CANCEL JOB with a real id, and CANCEL JOBS with
//! the nested SELECT over `[SHOW JOBS]` for a user maxroach who owns running jobs (one started over MySQL).

use std::process::Command;
use std::time::Duration;

use mysql_async::prelude::*;

use crate::common::{big_table, running_job, simple_rows, sqlstate, TestServer};

/// Installs Debian's postgresql-client if `psql` is missing, so the test command works on a fresh machine.
pub(crate) fn ensure_client() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let present = Command::new("psql").arg("--version").output().is_ok();
        if !present {
            let ok = Command::new("sh")
                .args(["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client"])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "psql is missing and could not be installed with apt-get");
        }
    });
}

/// Runs one statement with psql as root@sys (no password) and returns its output; fails on error.
fn psql(server: &TestServer, sql: &str) -> String {
    ensure_client();
    let out = Command::new("psql")
        .arg(format!(
            "postgresql://root%40sys@127.0.0.1:{}/test",
            server.pg_port
        ))
        .args(["-X", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .env_remove("PGPASSWORD")
        .output()
        .expect("run psql");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "psql -c {sql:?} failed: {}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

async fn status(c: &tokio_postgres::Client, id: i64) -> String {
    let rows = simple_rows(c, &format!("SHOW JOB {id}")).await;
    let row = c.query_one(&format!("SHOW JOB {id}"), &[]).await.unwrap();
    assert_eq!(rows.len(), 1);
    row.get("status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_004_through_psql() {
    let server = TestServer::start();
    let root = server.pg("root@sys", "", None).await;
    big_table(&root, 200_000).await;
    root.batch_execute(
        "CREATE USER maxroach IDENTIFIED BY 'pw'; GRANT ALL ON test.* TO maxroach; \
         ALTER SYSTEM SET bulk_io_max_rate = '1MB'",
    )
    .await
    .unwrap();

    // maxroach starts one schema change over PostgreSQL and one over MySQL; root starts one.
    let m1 = server.pg("maxroach@sys", "pw", None).await;
    let j1 = tokio::spawn(async move { m1.simple_query("CREATE INDEX m_a ON big (a)").await });
    let mut m2 = server.mysql("maxroach@sys", "pw", Some("test")).await;
    let j2 = tokio::spawn(async move { m2.query_drop("CREATE INDEX m_b ON big (b)").await });
    let r1 = server.pg("root@sys", "", None).await;
    let j3 = tokio::spawn(async move { r1.simple_query("CREATE INDEX r_ab ON big (a, b)").await });
    let m_a = running_job(&root, "CREATE INDEX m_a ON big (a)").await;
    let m_b = running_job(&root, "CREATE INDEX m_b ON big (b)").await;
    let r_ab = running_job(&root, "CREATE INDEX r_ab ON big (a, b)").await;

    // > SHOW JOBS;
    let shown = psql(&server, "SHOW JOBS;");
    let header = shown.lines().next().unwrap_or_default();
    for col in ["job_id", "job_type", "description", "user_name", "status"] {
        assert!(header.contains(col), "{header}");
    }
    for id in [m_a, m_b, r_ab] {
        assert!(shown.contains(&id.to_string()), "{shown}");
    }
    assert!(
        shown.contains("maxroach") && shown.contains("SCHEMA CHANGE"),
        "{shown}"
    );

    // > CANCEL JOB 27536791415282; (the job started over MySQL)
    // psql prints the command tag, CockroachDB's `CANCEL JOBS n`.
    let tag = psql(&server, &format!("CANCEL JOB {m_b};"));
    assert_eq!(tag.trim(), "CANCEL JOBS 1");
    let r = tokio::time::timeout(Duration::from_secs(10), j2)
        .await
        .unwrap()
        .unwrap();
    assert!(r.is_err(), "the MySQL client's CREATE INDEX was canceled");
    assert_eq!(status(&root, m_b).await, "canceled");

    // > CANCEL JOBS (SELECT job_id FROM [SHOW JOBS] WHERE user_name = 'maxroach');
    let tag = psql(
        &server,
        "CANCEL JOBS (SELECT job_id FROM [SHOW JOBS]\n      WHERE user_name = 'maxroach');",
    );
    // Both of maxroach's jobs: m_a is canceled now, m_b already was (a request that finds the job where it
    // would take it succeeds and changes nothing).
    assert_eq!(tag.trim(), "CANCEL JOBS 2");
    let r = tokio::time::timeout(Duration::from_secs(10), j1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sqlstate(&r.unwrap_err()), "57014");
    assert_eq!(status(&root, m_a).await, "canceled");
    assert_eq!(
        status(&root, r_ab).await,
        "running",
        "other users' jobs keep running"
    );
    psql(&server, &format!("CANCEL JOB {r_ab}"));
    let r = tokio::time::timeout(Duration::from_secs(10), j3)
        .await
        .unwrap()
        .unwrap();
    assert!(r.is_err());
}

/// A temporary table over psql: PostgreSQL's `CREATE TEMP TABLE` spelling, the tags PostgreSQL answers
/// (`CREATE TABLE`, not `CREATE TEMP`), and a table that lasts only as long as its session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_tables_through_psql() {
    let server = TestServer::start();
    let out = psql(
        &server,
        "CREATE TEMP TABLE y (a int); INSERT INTO y VALUES (1); SELECT a FROM y; DROP TABLE y; \
         CREATE TEMPORARY TABLE z (b int);",
    );
    let lines: Vec<&str> = out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        lines,
        [
            "CREATE TABLE",
            "INSERT 0 1",
            "a",
            "---",
            "1",
            "(1 row)",
            "DROP TABLE",
            "CREATE TABLE"
        ]
    );
    // z went with psql's session.
    let c = server.pg("root@sys", "", None).await;
    let e = c.simple_query("SELECT * FROM z").await.unwrap_err();
    assert_eq!(sqlstate(&e), "42P01", "{e}");
}
