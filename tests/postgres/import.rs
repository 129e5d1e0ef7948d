//! CockroachDB's IMPORT INTO ... CSV DATA over the PostgreSQL protocol: waiting and DETACHED, CANCEL JOB mid-import,
//! bad rows and missing files with their SQLSTATEs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::{simple_rows, sqlstate, TestServer};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn lines(ids: std::ops::RangeInclusive<i64>) -> String {
    ids.map(|i| format!("{i},name {i},{}.5\n", i % 10))
        .collect()
}

async fn count(c: &tokio_postgres::Client) -> i64 {
    simple_rows(c, "SELECT COUNT(*) FROM customers").await[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap()
}

const TABLE: &str = "CREATE TABLE customers (id INT PRIMARY KEY, name TEXT, score FLOAT); CREATE INDEX by_name ON customers (name)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_into_waits_and_returns_cockroachs_row() {
    let server = TestServer::start();
    let files = server.external_dir();
    let c = server.pg("root@sys", "", Some("test")).await;
    c.batch_execute(TABLE).await.unwrap();
    let a = write(
        &files,
        "a.csv",
        &format!("id,name,score\n{}", lines(1..=300)),
    );
    let b = write(&files, "b.csv", "id,name,score\n301,,\n302,x,1\n");
    let sql = format!(
        "IMPORT INTO customers (id, name, score) CSV DATA ('file://{}', 'file://{}') WITH skip = '1', nullif = ''",
        a.display(),
        b.display()
    );
    // Extended protocol: the result is described before it runs.
    let rows = c.query(sql.as_str(), &[]).await.unwrap();
    assert_eq!(rows.len(), 1);
    let names: Vec<&str> = rows[0].columns().iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        [
            "job_id",
            "status",
            "fraction_completed",
            "rows",
            "index_entries",
            "bytes"
        ]
    );
    assert_eq!(rows[0].get::<_, String>("status"), "succeeded");
    assert_eq!(rows[0].get::<_, i64>("rows"), 302);
    assert_eq!(rows[0].get::<_, i64>("index_entries"), 302);
    let size = std::fs::metadata(&a).unwrap().len() + std::fs::metadata(&b).unwrap().len();
    assert_eq!(rows[0].get::<_, i64>("bytes"), size as i64);
    assert_eq!(count(&c).await, 302);
    let nulls = simple_rows(
        &c,
        "SELECT COUNT(*) FROM customers WHERE name IS NULL AND score IS NULL",
    )
    .await;
    assert_eq!(nulls[0][0].as_deref(), Some("1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detached_import_can_be_canceled_and_leaves_the_table_as_it_was() {
    let server = TestServer::start();
    let files = server.external_dir();
    let c = server.pg("root@sys", "", Some("test")).await;
    c.batch_execute(TABLE).await.unwrap();
    c.batch_execute("INSERT INTO customers VALUES (0, 'kept', 1)")
        .await
        .unwrap();
    let big = write(&files, "big.csv", &lines(1..=200_000));
    c.batch_execute("SET CLUSTER SETTING bulk_io_max_rate = '1MB'")
        .await
        .unwrap();
    let rows = simple_rows(
        &c,
        &format!(
            "IMPORT INTO customers CSV DATA ('file://{}') WITH DETACHED",
            big.display()
        ),
    )
    .await;
    let id: i64 = rows[0][0].as_deref().unwrap().parse().unwrap();
    // Live progress shows in SHOW JOBS while it loads.
    let mut progressed = false;
    for _ in 0..500 {
        let r = simple_rows(
            &c,
            &format!("SELECT status, fraction_completed, running_status FROM [SHOW JOBS] WHERE job_id = {id}"),
        )
        .await;
        let fraction: f64 = r[0][1].as_deref().unwrap().parse().unwrap();
        if r[0][0].as_deref() == Some("running") && fraction > 0.0 {
            assert!(r[0][2].as_deref().unwrap().contains("rows"), "{r:?}");
            progressed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(progressed, "the import never showed progress");
    assert_eq!(count(&c).await, 1);

    c.batch_execute(&format!("CANCEL JOB {id}")).await.unwrap();
    simple_rows(&c, &format!("SHOW JOB WHEN COMPLETE {id}")).await;
    let r = simple_rows(
        &c,
        &format!("SELECT status FROM [SHOW JOBS] WHERE job_id = {id}"),
    )
    .await;
    assert_eq!(r[0][0].as_deref(), Some("canceled"), "{r:?}");
    let ids: Vec<i64> = c
        .query("SELECT id FROM customers", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, vec![0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_rows_and_missing_files_get_their_sqlstates() {
    let server = TestServer::start();
    let files = server.external_dir();
    let c = server.pg("root@sys", "", Some("test")).await;
    c.batch_execute(TABLE).await.unwrap();
    let bad = write(
        &files,
        "bad.csv",
        &format!("{}4,d,not-a-number\n", lines(1..=3)),
    );
    let e = c
        .batch_execute(&format!(
            "IMPORT INTO customers CSV DATA ('file://{}')",
            bad.display()
        ))
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "22P02");
    let msg = e.as_db_error().unwrap().message().to_string();
    assert!(
        msg.contains("bad.csv") && msg.contains("line 4") && msg.contains("column 3 (score)"),
        "{msg}"
    );
    let e = c
        .batch_execute(&format!(
            "IMPORT INTO customers CSV DATA ('file://{}/missing.csv')",
            &files.display()
        ))
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "58P01");
    let e = c
        .batch_execute("IMPORT INTO customers CSV DATA ('s3://bucket/a.csv')")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "0A000");
    assert_eq!(count(&c).await, 0);
}
