//! S3-compatible destinations over the PostgreSQL wire (CockroachDB's surface): `BACKUP INTO 's3://...'` with
//! CockroachDB's parameters and validation errors, SHOW BACKUPS IN, RESTORE ... FROM LATEST IN, a cancel in
//! the middle of a backup leaving no open multipart upload, and `redacted` wherever the URI is shown.

use crate::common::{big_table, simple_rows, sqlstate, TestServer};
use crate::s3_server::{S3Server, SECRET_KEY};

fn assert_no_secret(what: &str, rows: &[Vec<Option<String>>]) {
    let text = format!("{rows:?}");
    assert!(
        !text.contains(SECRET_KEY) && !text.contains("Sup3r"),
        "{what} shows the secret: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_into_s3_and_restore_from_latest() {
    let s3 = S3Server::start(&["crdb"]);
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let c = server.pg("root@t1", "", None).await;
    c.batch_execute(
        "CREATE TABLE accounts (id INT PRIMARY KEY, balance INT); \
         INSERT INTO accounts VALUES (1, 100), (2, 250)",
    )
    .await
    .unwrap();

    // CockroachDB's validation errors, 22023, the secret never quoted.
    let endpoint = s3.endpoint();
    for (uri, words) in [
        (
            format!("s3://crdb/x?AWS_ACCESS_KEY_ID=k&AWS_ENDPOINT={endpoint}"),
            "AUTH is set to 'specified', but AWS_SECRET_ACCESS_KEY is not set",
        ),
        (
            "s3://crdb/x?AWS_ACCESS_KEY_ID=k&AWS_SECRET_ACCESS_KEY=Sup3rX&AWS_COLOUR=red"
                .to_string(),
            "unknown S3 query parameters: AWS_COLOUR",
        ),
        (
            "s3:///x?AWS_ACCESS_KEY_ID=k&AWS_SECRET_ACCESS_KEY=Sup3rX".to_string(),
            "empty host component; s3 URI must specify a target bucket",
        ),
    ] {
        let err = c
            .simple_query(&format!("BACKUP INTO '{uri}'"))
            .await
            .unwrap_err();
        assert_eq!(sqlstate(&err), "22023", "{uri}: {err:?}");
        let msg = err.as_db_error().unwrap().message().to_string();
        assert!(msg.contains(words), "{uri}: {msg}");
        assert!(!msg.contains("Sup3r"), "{msg}");
    }

    let uri = s3.crdb_uri("crdb", "cluster/t1");
    let out = simple_rows(&c, &format!("BACKUP INTO '{uri}'")).await;
    assert_eq!(out[0][1].as_deref(), Some("succeeded"), "{out:?}");
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
    assert_eq!(out[0][1].as_deref(), Some("succeeded"), "{out:?}");
    let rows = c
        .query(
            "SELECT balance FROM test_restored.accounts ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    let balances: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(balances, [100, 250]);

    // SHOW JOBS shows the URI as CockroachDB does: the key id, and the secret as `redacted`.
    let jobs = simple_rows(&c, "SELECT description FROM [SHOW JOBS]").await;
    assert!(
        jobs.iter().flatten().flatten().any(|d| d.starts_with("BACKUP INTO 's3://crdb/cluster/t1?AWS_ACCESS_KEY_ID=tenantry-test-key&AWS_SECRET_ACCESS_KEY=redacted")),
        "{jobs:?}"
    );
    assert_no_secret("SHOW JOBS", &simple_rows(&c, "SHOW JOBS").await);
    assert_no_secret(
        "crdb_internal.jobs",
        &simple_rows(&c, "SELECT * FROM crdb_internal.jobs").await,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canceled_backup_to_s3_leaves_no_upload_open() {
    let s3 = S3Server::start(&["crdb"]);
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let c = server.pg("root@t1", "", None).await;
    big_table(&c, 100_000).await;
    let mut sys = server.mysql("root@sys", "", None).await;
    mysql_async::prelude::Queryable::query_drop(
        &mut sys,
        "ALTER SYSTEM SET bulk_io_max_rate = '1MB'",
    )
    .await
    .unwrap();
    let uri = s3.crdb_uri("crdb", "slow");
    let out = simple_rows(&c, &format!("BACKUP INTO '{uri}' WITH DETACHED")).await;
    let id: i64 = out[0][0].as_deref().unwrap().parse().unwrap();
    // Wait until chunks are reaching the bucket, then cancel.
    loop {
        if s3.objects("crdb", "slow/chunks").len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    c.batch_execute(&format!("CANCEL JOB {id}")).await.unwrap();
    let done = simple_rows(&c, &format!("SHOW JOB WHEN COMPLETE {id}")).await;
    assert!(
        done[0].iter().any(|v| v.as_deref() == Some("canceled")),
        "{done:?}"
    );
    assert!(s3.open_uploads().is_empty(), "{:?}", s3.open_uploads());
    let objects = s3.objects("crdb", "slow");
    assert!(
        !objects.iter().any(|o| o.ends_with("manifest.json")),
        "a canceled backup leaves no complete set: {objects:?}"
    );
    assert_no_secret("SHOW JOB", &done);
}
