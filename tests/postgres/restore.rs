//! CockroachDB's backup and restore statements over the PostgreSQL wire: BACKUP INTO, SHOW BACKUPS IN,
//! RESTORE DATABASE ... WITH new_db_name, DETACHED, and CANCEL JOB on a restore.

use crate::common::{simple_rows, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_into_and_restore_a_database() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let uri = format!("file://{}/t1/bk", server.external_dir().display());
    let c = server.pg("root@t1", "", None).await;
    c.batch_execute("CREATE TABLE accounts (id INT PRIMARY KEY, balance INT)")
        .await
        .unwrap();
    c.batch_execute("INSERT INTO accounts VALUES (1, 100), (2, 250)")
        .await
        .unwrap();
    let out = simple_rows(&c, &format!("BACKUP INTO '{uri}'")).await;
    assert_eq!(out[0][1].as_deref(), Some("succeeded"));
    let paths = simple_rows(&c, &format!("SHOW BACKUPS IN '{uri}'")).await;
    assert_eq!(paths, [[Some("/tenant_1001/backup_set_1".to_string())]]);
    c.batch_execute("UPDATE accounts SET balance = 0")
        .await
        .unwrap();

    let out = simple_rows(
        &c,
        &format!("RESTORE DATABASE test FROM LATEST IN '{uri}' WITH new_db_name = 'test_restored'"),
    )
    .await;
    assert_eq!(out[0][1].as_deref(), Some("succeeded"));
    let rows = c
        .query(
            "SELECT balance FROM test_restored.accounts ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    let balances: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(balances, [100, 250]);

    // DETACHED returns the job id; the job is a RESTORE in SHOW JOBS.
    let out = simple_rows(
        &c,
        &format!(
            "RESTORE DATABASE test FROM LATEST IN '{uri}' WITH new_db_name = 'again', DETACHED"
        ),
    )
    .await;
    let id: i64 = out[0][0].as_deref().unwrap().parse().unwrap();
    let done = simple_rows(&c, &format!("SHOW JOB WHEN COMPLETE {id}")).await;
    assert!(done[0].iter().any(|v| v.as_deref() == Some("RESTORE")));
    assert!(done[0].iter().any(|v| v.as_deref() == Some("succeeded")));
    let err = c
        .simple_query(&format!("RESTORE DATABASE test FROM LATEST IN '{uri}'"))
        .await
        .unwrap_err();
    assert_eq!(
        err.code().map(|s| s.code()),
        Some("42P04"),
        "the database exists"
    );
}

/// Seed 004's description form, CockroachDB 2.x's `RESTORE db.* FROM 'uri'` (every table of db: the
/// database, from the latest set at uri), and `RESTORE [TABLE] db.t FROM 'uri'`; the job's description is
/// the statement as written, as SHOW JOBS shows it in the seed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cockroach_2x_restore_forms_restore_from_the_latest_set() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let uri = format!("file://{}/t1/bk", server.external_dir().display());
    let c = server.pg("root@t1", "", None).await;
    c.batch_execute(
        "CREATE DATABASE db; CREATE TABLE db.tbl (id INT PRIMARY KEY, v TEXT); \
         INSERT INTO db.tbl VALUES (1, 'a'), (2, 'b'); CREATE TABLE db.other (id INT PRIMARY KEY)",
    )
    .await
    .unwrap();
    let out = simple_rows(&c, &format!("BACKUP INTO '{uri}'")).await;
    assert_eq!(out[0][1].as_deref(), Some("succeeded"));
    c.batch_execute("DROP DATABASE db").await.unwrap();

    let statement = format!("RESTORE db.* FROM '{uri}'");
    let out = simple_rows(&c, &statement).await;
    assert_eq!(out[0][1].as_deref(), Some("succeeded"));
    assert_eq!(
        simple_rows(&c, "SELECT v FROM db.tbl ORDER BY id").await,
        [[Some("a".to_string())], [Some("b".to_string())]]
    );
    let jobs = simple_rows(
        &c,
        "SELECT job_type, description FROM [SHOW JOBS] WHERE job_type = 'RESTORE'",
    )
    .await;
    assert_eq!(
        jobs,
        [[Some("RESTORE".to_string()), Some(statement.clone())]]
    );
    // The database is back, so restoring it again is refused (nothing is overwritten).
    let e = c.simple_query(&statement).await.unwrap_err();
    assert_eq!(e.code().map(|s| s.code()), Some("42P04"), "{e}");

    for form in [
        "RESTORE TABLE db.tbl FROM '{uri}'",
        "RESTORE db.tbl FROM '{uri}'",
    ] {
        c.batch_execute("DROP TABLE db.tbl").await.unwrap();
        let out = simple_rows(&c, &form.replace("{uri}", &uri)).await;
        assert_eq!(out[0][1].as_deref(), Some("succeeded"), "{form}");
        assert_eq!(
            simple_rows(&c, "SELECT count(*) FROM db.tbl").await,
            [[Some("2".to_string())]],
            "{form}"
        );
    }
    // A missing table or an unknown form is an error, not a guess.
    let e = c
        .simple_query(&format!("RESTORE db.nope FROM '{uri}'"))
        .await
        .unwrap_err();
    assert!(e.code().is_some(), "{e}");
    let e = c
        .simple_query(&format!("RESTORE db.* FROM '{uri}' IN"))
        .await
        .unwrap_err();
    assert_eq!(e.code().map(|s| s.code()), Some("42601"), "{e}");
}
