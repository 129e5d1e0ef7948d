//! Jobs over the MySQL protocol: SHOW / CANCEL / PAUSE / RESUME, privileges, isolation, schema changes as jobs,
//! recovery after SIGKILL.

use std::time::Duration;

use mysql_async::prelude::*;
use mysql_async::{Conn, Row};

use crate::common::{big_table, expect_error, set_rate, TestServer};

/// Waits until a job with this description shows as running in SHOW JOBS, and returns its id.
async fn running_job(c: &mut Conn, description: &str) -> i64 {
    for _ in 0..500 {
        let ids: Vec<i64> = c
            .exec(
                "SELECT job_id FROM [SHOW JOBS] WHERE description = ? AND status = 'running'",
                (description,),
            )
            .await
            .unwrap();
        if let Some(id) = ids.first() {
            return *id;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no running job for {description}");
}

async fn index_names(c: &mut Conn, table: &str) -> Vec<String> {
    c.query(format!("SHOW INDEX FROM {table}"))
        .await
        .unwrap()
        .into_iter()
        .map(|r: Row| r.get::<String, _>("Key_name").unwrap())
        .collect()
}

async fn status(c: &mut Conn, id: i64) -> String {
    let row: Row = c
        .query_first(format!("SHOW JOB {id}"))
        .await
        .unwrap()
        .unwrap();
    row.get("status").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_a_schema_change_mid_flight() {
    let server = TestServer::start();
    let mut admin = server.connect_with("root@sys", "", Some("test")).await;
    big_table(&mut admin, "test", 200_000).await;
    let before: Option<i64> = admin.query_first("SELECT COUNT(*) FROM big").await.unwrap();
    set_rate(&server, "1MB").await;

    let mut client = server.connect_with("root@sys", "", Some("test")).await;
    let waiting = tokio::spawn(async move {
        let r = client.query_drop("CREATE INDEX ib ON big (b)").await;
        (client, r)
    });
    let id = running_job(&mut admin, "CREATE INDEX ib ON big (b)").await;

    // SHOW JOBS: CockroachDB's columns in its order, with live progress.
    let row: Row = admin.query_first("SHOW JOBS").await.unwrap().unwrap();
    let names: Vec<String> = row
        .columns_ref()
        .iter()
        .map(|c| c.name_str().to_string())
        .collect();
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
    assert_eq!(
        row.get::<String, _>("job_type").as_deref(),
        Some("SCHEMA CHANGE")
    );
    assert_eq!(row.get::<String, _>("user_name").as_deref(), Some("root"));
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let fraction: Option<f64> = admin
        .query_first(format!(
            "SELECT fraction_completed FROM [SHOW JOBS] WHERE job_id = {id}"
        ))
        .await
        .unwrap();
    let fraction = fraction.unwrap();
    assert!(
        fraction > 0.0 && fraction < 1.0,
        "progress moves while it runs: {fraction}"
    );
    let detail: Row = admin
        .query_first(format!("SHOW JOB {id}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        detail.get::<String, _>("statement").as_deref(),
        Some("CREATE INDEX ib ON big (b)")
    );

    admin.query_drop(format!("CANCEL JOB {id}")).await.unwrap();
    let (mut client, r) = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("cancel is prompt")
        .unwrap();
    let (code, state, msg) =
        crate::common::server_error(r.expect_err("the waiting client sees the cancel"));
    assert_eq!((code, state.as_str()), (1317, "70100"));
    assert!(
        msg.contains(&id.to_string()),
        "the error names the job: {msg}"
    );
    assert_eq!(status(&mut admin, id).await, "canceled");
    assert!(
        !index_names(&mut admin, "big")
            .await
            .contains(&"ib".to_string()),
        "the table is exactly as before"
    );
    let after: Option<i64> = client
        .query_first("SELECT COUNT(*) FROM big")
        .await
        .unwrap();
    assert_eq!(after, before);
    // The same statement works afterwards.
    set_rate(&server, "0").await;
    client
        .query_drop("CREATE INDEX ib ON big (b)")
        .await
        .unwrap();
    assert!(index_names(&mut admin, "big")
        .await
        .contains(&"ib".to_string()));

    // Idempotent no-ops and CockroachDB's error texts.
    admin.query_drop(format!("CANCEL JOB {id}")).await.unwrap();
    let done: i64 = admin.query_first("SELECT job_id FROM [SHOW JOBS] WHERE status = 'succeeded' AND description = 'CREATE INDEX ib ON big (b)'").await.unwrap().unwrap();
    let (code, _, msg) = expect_error(&mut admin, &format!("CANCEL JOB {done}")).await;
    assert_eq!(code, 4179);
    assert_eq!(
        msg,
        format!("job {done}: job with state succeeded cannot be requested to be canceled")
    );
    let (_, _, msg) = expect_error(&mut admin, &format!("PAUSE JOB {done}")).await;
    assert_eq!(
        msg,
        format!("job {done}: job with state succeeded cannot be requested to be paused")
    );
    let (_, _, msg) = expect_error(&mut admin, &format!("RESUME JOB {done}")).await;
    assert_eq!(
        msg,
        format!("job {done}: job with state succeeded cannot be resumed")
    );
    let (code, _, msg) = expect_error(&mut admin, "CANCEL JOB 12345").await;
    assert_eq!(
        (code, msg.as_str()),
        (4018, "job with ID 12345 does not exist")
    );
    let finished: Vec<Row> = admin
        .query(format!("SHOW JOB WHEN COMPLETE {done}"))
        .await
        .unwrap();
    assert_eq!(
        finished[0].get::<String, _>("status").as_deref(),
        Some("succeeded")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_and_when_complete() {
    let server = TestServer::start();
    let mut admin = server.connect_with("root@sys", "", Some("test")).await;
    big_table(&mut admin, "test", 200_000).await;
    set_rate(&server, "1MB").await;
    let mut client = server.connect_with("root@sys", "", Some("test")).await;
    let waiting =
        tokio::spawn(async move { client.query_drop("ALTER TABLE big ADD INDEX ia (a)").await });
    let id = running_job(&mut admin, "ALTER TABLE big ADD INDEX ia (a)").await;
    admin.query_drop(format!("PAUSE JOB {id}")).await.unwrap();
    for _ in 0..200 {
        if status(&mut admin, id).await == "paused" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(status(&mut admin, id).await, "paused");
    admin.query_drop(format!("PAUSE JOB {id}")).await.unwrap();
    assert!(
        !waiting.is_finished(),
        "the issuing client waits while its job is paused"
    );
    set_rate(&server, "0").await;
    admin
        .query_drop("RESUME JOBS (SELECT job_id FROM [SHOW JOBS] WHERE status = 'paused')")
        .await
        .unwrap();
    let rows: Vec<Row> = admin
        .query(format!("SHOW JOBS WHEN COMPLETE (SELECT {id})"))
        .await
        .unwrap();
    assert_eq!(
        rows[0].get::<String, _>("status").as_deref(),
        Some("succeeded")
    );
    tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .unwrap()
        .unwrap()
        .expect("the statement completes after RESUME");
    assert!(index_names(&mut admin, "big")
        .await
        .contains(&"ia".to_string()));
    // A DROP runs as a job that cannot be canceled.
    admin.query_drop("DROP INDEX ia ON big").await.unwrap();
    let cancelable: Vec<(String, String)> = admin
        .query("SELECT description, status FROM [SHOW JOBS] WHERE description LIKE 'DROP%'")
        .await
        .unwrap();
    assert_eq!(
        cancelable,
        vec![("DROP INDEX ia ON big".to_string(), "succeeded".to_string())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_privileges_and_isolation() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    server.create_tenant("t2").await;
    let mut root = server.connect("root@t1").await;
    root.query_drop("CREATE DATABASE app").await.unwrap();
    big_table(&mut root, "app", 200_000).await;
    for u in ["maxroach", "other", "viewer", "controller"] {
        root.query_drop(format!("CREATE USER {u} IDENTIFIED BY 'pw'"))
            .await
            .unwrap();
        root.query_drop(format!("GRANT ALL ON app.* TO {u}"))
            .await
            .unwrap();
    }
    root.query_drop("GRANT VIEWJOB ON *.* TO viewer")
        .await
        .unwrap();
    root.query_drop("GRANT CONTROLJOB ON *.* TO controller")
        .await
        .unwrap();
    // Slow enough that no job can finish while the test looks at them (the three share one write lock).
    set_rate(&server, "128KB").await;

    // maxroach starts two schema changes; root starts one.
    let mut m1 = server.connect_with("maxroach@t1", "pw", Some("app")).await;
    let mut m2 = server.connect_with("maxroach@t1", "pw", Some("app")).await;
    let mut r1 = server.connect_with("root@t1", "", Some("app")).await;
    let j1 = tokio::spawn(async move { m1.query_drop("CREATE INDEX m_a ON big (a)").await });
    let j2 = tokio::spawn(async move { m2.query_drop("CREATE INDEX m_b ON big (b)").await });
    let j3 = tokio::spawn(async move { r1.query_drop("CREATE INDEX r_ab ON big (a, b)").await });
    let m_a = running_job(&mut root, "CREATE INDEX m_a ON big (a)").await;
    let m_b = running_job(&mut root, "CREATE INDEX m_b ON big (b)").await;
    let r_ab = running_job(&mut root, "CREATE INDEX r_ab ON big (a, b)").await;

    // A user sees its own jobs; VIEWJOB sees the other non-admin jobs; nobody outside the tenant sees any.
    let mut other = server.connect_with("other@t1", "pw", None).await;
    let seen: Vec<i64> = other.query("SELECT job_id FROM [SHOW JOBS]").await.unwrap();
    assert!(seen.is_empty(), "{seen:?}");
    let mut viewer = server.connect_with("viewer@t1", "pw", None).await;
    let mut seen: Vec<i64> = viewer
        .query("SELECT job_id FROM [SHOW JOBS] ORDER BY job_id")
        .await
        .unwrap();
    seen.sort();
    let mut expected = vec![m_a, m_b];
    expected.sort();
    assert_eq!(seen, expected, "VIEWJOB shows non-admin jobs only");
    let mut t2 = server.connect("root@t2").await;
    let none: Vec<i64> = t2.query("SELECT job_id FROM [SHOW JOBS]").await.unwrap();
    assert!(none.is_empty());
    for sql in [
        format!("SHOW JOB {m_a}"),
        format!("CANCEL JOB {m_a}"),
        format!("PAUSE JOB {r_ab}"),
    ] {
        let (code, _, msg) = expect_error(&mut t2, &sql).await;
        assert_eq!(code, 4018, "{sql}");
        assert!(msg.ends_with("does not exist"), "{msg}");
    }

    // Control: others' jobs need CONTROLJOB; admins' jobs need an admin.
    let (code, _, msg) = expect_error(&mut other, &format!("CANCEL JOB {m_a}")).await;
    assert_eq!(
        (code, msg),
        (
            1227,
            format!("user other does not have privileges for job {m_a}")
        )
    );
    let (_, _, msg) = expect_error(&mut viewer, &format!("PAUSE JOB {m_a}")).await;
    assert_eq!(
        msg,
        format!("user viewer does not have privileges for job {m_a}")
    );
    let mut controller = server.connect_with("controller@t1", "pw", None).await;
    let (_, _, msg) = expect_error(&mut controller, &format!("CANCEL JOB {r_ab}")).await;
    assert_eq!(msg, "only admins can control jobs owned by other admins");
    controller
        .query_drop(format!("PAUSE JOB {m_b}"))
        .await
        .unwrap();

    // Seed 004: cancel every job of maxroach with a nested SELECT, as root.
    root.query_drop(
        "CANCEL JOBS (SELECT job_id FROM [SHOW JOBS]\n      WHERE user_name = 'maxroach')",
    )
    .await
    .unwrap();
    for j in [j1, j2] {
        let r = tokio::time::timeout(Duration::from_secs(10), j)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(crate::common::server_error(r.unwrap_err()).0, 1317);
    }
    assert_eq!(status(&mut root, m_a).await, "canceled");
    assert_eq!(status(&mut root, m_b).await, "canceled");
    assert_eq!(
        status(&mut root, r_ab).await,
        "running",
        "other users' jobs keep running"
    );
    // root@sys controls every tenant's jobs.
    let mut sys = server.connect("root@sys").await;
    sys.query_drop("CANCEL ALL SCHEMA CHANGE JOBS")
        .await
        .unwrap();
    let r = tokio::time::timeout(Duration::from_secs(10), j3)
        .await
        .unwrap()
        .unwrap();
    assert!(r.is_err());
    assert_eq!(status(&mut root, r_ab).await, "canceled");
    let indexes = index_names(&mut root, "app.big").await;
    assert!(indexes.iter().all(|i| i == "PRIMARY"), "{indexes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_job_resumes_after_restart() {
    let mut server = TestServer::start();
    let mut c = server.connect_with("root@sys", "", Some("test")).await;
    big_table(&mut c, "test", 200_000).await;
    set_rate(&server, "1MB").await;
    let mut client = server.connect_with("root@sys", "", Some("test")).await;
    let _waiting =
        tokio::spawn(async move { client.query_drop("CREATE INDEX crash_b ON big (b)").await });
    let id = running_job(&mut c, "CREATE INDEX crash_b ON big (b)").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill9();
    server.restart();
    let mut c = server.connect_with("root@sys", "", Some("test")).await;
    c.query_drop("ALTER SYSTEM SET bulk_io_max_rate = '0'")
        .await
        .unwrap();
    let rows: Vec<Row> = c
        .query(format!("SHOW JOB WHEN COMPLETE {id}"))
        .await
        .unwrap();
    // It was still running when the server died: after the restart it ran again from the start of its
    // (rolled back) transaction and finished.
    assert_eq!(
        rows[0].get::<String, _>("status").as_deref(),
        Some("succeeded")
    );
    assert!(index_names(&mut c, "big")
        .await
        .contains(&"crash_b".to_string()));
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM big WHERE b LIKE 'row-1%'")
        .await
        .unwrap();
    assert_eq!(n, Some(111_111));
}

#[tokio::test]
async fn finished_jobs_expire_after_the_retention() {
    let server = TestServer::start();
    let mut c = server.connect_with("root@sys", "", Some("test")).await;
    c.query_drop("CREATE TABLE t (a INT)").await.unwrap();
    c.query_drop("CREATE INDEX ta ON t (a)").await.unwrap();
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM [SHOW JOBS]")
        .await
        .unwrap();
    assert_eq!(n, Some(1));
    let (code, _, _) = expect_error(&mut c, "ALTER SYSTEM SET jobs_retention = 'forever'").await;
    assert_eq!(code, 4147);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.query_drop("ALTER SYSTEM SET jobs_retention = '1s'")
        .await
        .unwrap();
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM crdb_internal.jobs")
        .await
        .unwrap();
    assert_eq!(n, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_rebuilds_report_rows_and_cancel_cleanly() {
    let server = TestServer::start();
    let mut admin = server.connect_with("root@sys", "", Some("test")).await;
    big_table(&mut admin, "test", 200_000).await;
    admin
        .query_drop("CREATE INDEX ka ON big (a)")
        .await
        .unwrap();
    let describe = |rows: Vec<Row>| -> Vec<(String, String)> {
        rows.into_iter()
            .map(|r| (r.get("Field").unwrap(), r.get("Type").unwrap()))
            .collect()
    };
    let before = describe(admin.query("DESCRIBE big").await.unwrap());
    set_rate(&server, "1MB").await;
    let mut client = server.connect_with("root@sys", "", Some("test")).await;
    let sql = "ALTER TABLE big MODIFY COLUMN a BIGINT NOT NULL DEFAULT 0";
    let waiting = tokio::spawn(async move { client.query_drop(sql).await });
    let id = running_job(&mut admin, sql).await;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let row: Row = admin
        .query_first(format!("SHOW JOB {id}"))
        .await
        .unwrap()
        .unwrap();
    let status: String = row.get("running_status").unwrap();
    assert!(
        status.starts_with("copied ") && status.ends_with(" of 200000 rows"),
        "{status}"
    );
    admin.query_drop(format!("CANCEL JOB {id}")).await.unwrap();
    let r = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(crate::common::server_error(r.unwrap_err()).0, 1317);
    assert_eq!(
        describe(admin.query("DESCRIBE big").await.unwrap()),
        before,
        "the table is exactly as before"
    );
    assert_eq!(index_names(&mut admin, "big").await, vec!["PRIMARY", "ka"]);
    let tables: Vec<String> = admin.query("SHOW TABLES").await.unwrap();
    assert_eq!(tables, vec!["big"], "no scratch table is left behind");

    set_rate(&server, "0").await;
    admin.query_drop(sql).await.unwrap();
    let after = describe(admin.query("DESCRIBE big").await.unwrap());
    assert_eq!(after[1], ("a".to_string(), "bigint".to_string()));
    let n: Option<i64> = admin
        .query_first("SELECT COUNT(*) FROM big WHERE a = 999")
        .await
        .unwrap();
    assert_eq!(n, Some(200));
    assert_eq!(index_names(&mut admin, "big").await, vec!["PRIMARY", "ka"]);
    let (code, _, _) = expect_error(&mut admin, "ALTER TABLE big MODIFY nope INT").await;
    assert_eq!(code, 1054);
}

#[tokio::test]
async fn rebuilds_keep_foreign_keys_and_job_lists_are_queries() {
    let server = TestServer::start();
    let mut c = server.connect_with("root@sys", "", Some("test")).await;
    c.query_drop("CREATE TABLE p (id INT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    c.query_drop("CREATE TABLE ch (id INT PRIMARY KEY, pid INT, FOREIGN KEY (pid) REFERENCES p (id) ON DELETE CASCADE)").await.unwrap();
    c.query_drop("INSERT INTO p VALUES (1, 10), (2, 20)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO ch VALUES (1, 1), (2, 2)")
        .await
        .unwrap();
    c.query_drop("ALTER TABLE p MODIFY v BIGINT").await.unwrap();
    let children: Option<i64> = c.query_first("SELECT COUNT(*) FROM ch").await.unwrap();
    assert_eq!(
        children,
        Some(2),
        "rebuilding the parent must not cascade into its children"
    );
    c.query_drop("DELETE FROM p WHERE id = 1").await.unwrap();
    let children: Option<i64> = c.query_first("SELECT COUNT(*) FROM ch").await.unwrap();
    assert_eq!(
        children,
        Some(1),
        "the foreign key still works after the rebuild"
    );
    // A job list comes from a SELECT only; anything else changes nothing.
    assert!(c.query_drop("SHOW JOBS (DELETE FROM ch)").await.is_err());
    assert!(c.query_drop("CANCEL JOBS (DELETE FROM ch)").await.is_err());
    let children: Option<i64> = c.query_first("SELECT COUNT(*) FROM ch").await.unwrap();
    assert_eq!(children, Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_work_logs_inside_a_span_naming_its_job_and_tenant() {
    let server = TestServer::start_logged();
    let csv = server.tenant_dir("sys").join("rows.csv");
    std::fs::write(&csv, "1,a\n2,b\n3,c\n").unwrap();
    let mut c = server.connect_with("root@sys", "", Some("test")).await;
    c.query_drop("CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(10))")
        .await
        .unwrap();
    c.query_drop(format!(
        "LOAD DATA INFILE '{}' INTO TABLE items FIELDS TERMINATED BY ','",
        csv.display()
    ))
    .await
    .unwrap();
    let id: i64 = c
        .query_first("SELECT job_id FROM [SHOW JOBS] WHERE job_type = 'IMPORT'")
        .await
        .unwrap()
        .unwrap();
    // The import logs its commit from inside its work: the line carries the job's span.
    let log = server.log();
    let line = log
        .lines()
        .find(|l| l.contains("import committed"))
        .unwrap_or_else(|| panic!("no commit line in the log:\n{log}"));
    assert!(
        line.contains(&format!("job{{job_id={id} job_type=IMPORT tenant_id=1}}")),
        "{line}"
    );
}

/// A job listing filtered by `col = literal` reads only the matching jobs from the registry; what it returns must
/// be what the same filter written so that it cannot be pushed down returns.
#[tokio::test]
async fn job_lists_narrowed_by_their_where_return_what_a_full_listing_would() {
    let server = TestServer::start();
    let mut c = server.connect_with("root@sys", "", Some("test")).await;
    c.query_drop("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    c.query_drop("CREATE INDEX t_v ON t (v)").await.unwrap();
    c.query_drop("ALTER TABLE t ADD COLUMN w INT")
        .await
        .unwrap();
    let ids: Vec<i64> = c
        .query("SELECT job_id FROM [SHOW JOBS] ORDER BY job_id")
        .await
        .unwrap();
    assert!(ids.len() >= 2, "{ids:?}");
    let id = ids[0];
    let pairs = [
        (
            "job_type = 'SCHEMA CHANGE'".to_string(),
            "CONCAT(job_type, '') = 'SCHEMA CHANGE'".to_string(),
        ),
        (
            "job_type = 'schema change'".into(),
            "CONCAT(job_type, '') = 'schema change'".into(),
        ),
        (
            "user_name = 'root'".into(),
            "CONCAT(user_name, '') = 'root'".into(),
        ),
        (
            "status = 'succeeded' AND (job_type = 'SCHEMA CHANGE')".into(),
            "CONCAT(status, '') = 'succeeded' AND CONCAT(job_type, '') = 'SCHEMA CHANGE'".into(),
        ),
        (
            "status = 'SUCCEEDED'".into(),
            "CONCAT(status, '') = 'SUCCEEDED'".into(),
        ),
        (format!("job_id = {id}"), format!("job_id + 0 = {id}")),
        (format!("{id} = j.job_id"), format!("j.job_id + 0 = {id}")),
        (
            "user_name = 'nobody' AND job_type = 'SCHEMA CHANGE'".into(),
            "CONCAT(user_name, '') = 'nobody'".into(),
        ),
    ];
    let mut matched = 0;
    for view in ["[SHOW JOBS]", "crdb_internal.jobs"] {
        for (narrow, full) in &pairs {
            let query =
                |w: &str| format!("SELECT j.job_id FROM {view} AS j WHERE {w} ORDER BY j.job_id");
            let narrowed: Vec<i64> = c.query(query(narrow)).await.unwrap();
            let every: Vec<i64> = c.query(query(full)).await.unwrap();
            assert_eq!(narrowed, every, "{view} WHERE {narrow}");
            matched += narrowed.len();
        }
    }
    assert!(
        matched >= 4 * ids.len(),
        "the positive filters matched jobs: {matched}"
    );
}
