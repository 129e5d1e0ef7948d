//! CockroachDB's job statements over the PostgreSQL wire, and jobs shared with the MySQL front end.

use std::time::Duration;

use mysql_async::prelude::*;

use crate::common::{big_table, running_job, simple_rows, sqlstate, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_started_over_pg_is_canceled_over_mysql() {
    let server = TestServer::start();
    let admin = server.pg("root@sys", "", None).await;
    big_table(&admin, 200_000).await;
    admin
        .batch_execute("ALTER SYSTEM SET bulk_io_max_rate = '1MB'")
        .await
        .unwrap();

    let client = server.pg("root@sys", "", None).await;
    let waiting =
        tokio::spawn(async move { client.simple_query("CREATE INDEX ib ON big (b)").await });
    let id = running_job(&admin, "CREATE INDEX ib ON big (b)").await;

    // SHOW JOBS over the extended protocol: CockroachDB's columns, typed.
    let rows = admin.query("SHOW JOBS", &[]).await.unwrap();
    let row = rows
        .iter()
        .find(|r| r.get::<_, i64>("job_id") == id)
        .expect("the job is listed");
    let names: Vec<&str> = row.columns().iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        [
            "job_id",
            "job_type",
            "description",
            "user_name",
            "status",
            "running_status",
            "created",
            "started",
            "finished",
            "modified",
            "fraction_completed",
            "error",
            "coordinator_id"
        ]
    );
    assert_eq!(row.get::<_, String>("job_type"), "SCHEMA CHANGE");
    assert_eq!(row.get::<_, String>("status"), "running");

    // The MySQL front end sees the same job and cancels it.
    let mut my = server.mysql("root@sys", "", Some("test")).await;
    my.query_drop(format!("CANCEL JOB {id}")).await.unwrap();
    let r = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sqlstate(&r.unwrap_err()), "57014");
    let status = simple_rows(
        &admin,
        &format!("SELECT status FROM [SHOW JOBS] WHERE job_id = {id}"),
    )
    .await;
    assert_eq!(status, vec![vec![Some("canceled".to_string())]]);

    // SHOW JOB WHEN COMPLETE over the extended protocol: described without waiting, answered once terminal.
    let row = admin
        .query_one(&format!("SHOW JOB WHEN COMPLETE {id}"), &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>("status"), "canceled");

    // Job errors carry SQLSTATEs.
    let e = admin
        .simple_query(&format!("CANCEL JOB {id}"))
        .await
        .map(|_| ());
    assert!(e.is_ok(), "canceling a canceled job is a no-op");
    let e = admin.simple_query("PAUSE JOB 12345").await.unwrap_err();
    assert_eq!(sqlstate(&e), "42704");
}
