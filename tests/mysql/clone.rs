//! Tenant snapshots and clones: CREATE TENANT ... FROM, ALTER SYSTEM CANCEL CLONE (seeds 001 and 003),
//! the clone views, data equality and a clone under a steady writer on the source.

use std::time::Duration;

use mysql_async::prelude::*;
use mysql_async::{Conn, Row};

use crate::common::{big_table, expect_error, set_rate, TestServer};

const NOT_CLONING: &str = "The new tenant has completed the cloning operation, or this is not the name of a cloning tenant. Cancel cloning not allowed";

/// Every table of every database of a tenant, as (db.table, digest of its rows in key order).
pub async fn tenant_digest(c: &mut Conn) -> Vec<(String, String)> {
    let dbs: Vec<String> = c.query("SHOW DATABASES").await.unwrap();
    let mut out = Vec::new();
    for db in dbs {
        if db.eq_ignore_ascii_case("information_schema") || db.eq_ignore_ascii_case("oceanbase") {
            continue;
        }
        let tables: Vec<String> = c.query(format!("SHOW TABLES FROM {db}")).await.unwrap();
        for t in tables {
            let rows: Vec<Row> = c
                .query(format!("SELECT * FROM {db}.{t} ORDER BY 1"))
                .await
                .unwrap();
            let mut hasher = blake3::Hasher::new();
            for r in &rows {
                hasher.update(format!("{:?}", r.clone().unwrap()).as_bytes());
            }
            out.push((
                format!("{db}.{t}"),
                format!("{} rows {}", rows.len(), hasher.finalize().to_hex()),
            ));
        }
    }
    out.sort();
    out
}

/// A tenant `name` with unit config `unit` in place, two databases, a user with a grant, and a big table.
async fn source_tenant(server: &TestServer, name: &str, rows: i64) {
    server.create_tenant(name).await;
    let mut t = server.connect(&format!("root@{name}")).await;
    t.query_drop("CREATE DATABASE shop").await.unwrap();
    t.query_drop("CREATE TABLE shop.items (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(20), KEY by_name (name))")
        .await
        .unwrap();
    t.query_drop("INSERT INTO shop.items (name) VALUES ('apple'), ('pear'), ('plum')")
        .await
        .unwrap();
    t.query_drop("CREATE USER clerk IDENTIFIED BY 'secret'")
        .await
        .unwrap();
    // Through a role (MySQL 8's form): its membership must come along with the users.
    t.query_drop("CREATE ROLE 'shop_read'; GRANT SELECT ON shop.* TO 'shop_read'; GRANT 'shop_read' TO clerk")
        .await
        .unwrap();
    big_table(&mut t, "test", rows).await;
}

/// root@sys, with unit config `unit` created for the clone's pool.
async fn sys_with_unit(server: &TestServer, unit: &str) -> Conn {
    let mut sys = server.connect("root@sys").await;
    sys.query_drop(format!(
        "CREATE RESOURCE UNIT {unit} MAX_CPU 1, MEMORY_SIZE '2G'"
    ))
    .await
    .unwrap();
    sys
}

async fn clone_progress(sys: &mut Conn, clone: &str) -> Option<Row> {
    sys.exec_first(
        "SELECT * FROM oceanbase.DBA_OB_CLONE_PROGRESS WHERE CLONE_TENANT_NAME = ?",
        (clone,),
    )
    .await
    .unwrap()
}

/// Waits until the clone of `clone` shows `status` in DBA_OB_CLONE_PROGRESS and returns that row.
async fn wait_for_status(sys: &mut Conn, clone: &str, status: &str) -> Row {
    for _ in 0..2000 {
        if let Some(row) = clone_progress(sys, clone).await {
            if row.get::<String, _>("STATUS").as_deref() == Some(status) {
                return row;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the clone of {clone} never showed {status}");
}

fn spawn_clone(
    server: &TestServer,
    sql: String,
) -> tokio::task::JoinHandle<Result<(), mysql_async::Error>> {
    let opts = server.opts("root@sys", "", None);
    tokio::spawn(async move {
        let mut c = Conn::new(opts).await?;
        c.query_drop(sql).await
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_001_cancel_a_fork_clone_mid_copy_then_clone_again() {
    let server = TestServer::start();
    source_tenant(&server, "mysql001", 40_000).await;
    let mut sys = sys_with_unit(&server, "unit001").await;
    set_rate(&server, "256KB").await;
    let statement = "CREATE TENANT clone_mysql001 FROM mysql001 WITH RESOURCE_POOL = clone_mysql001_resource_pool, UNIT = unit001";
    let create = spawn_clone(&server, statement.to_string());

    let row = wait_for_status(
        &mut sys,
        "clone_mysql001",
        "CLONE_SYS_WAIT_TENANT_RESTORE_FINISH",
    )
    .await;
    let columns: Vec<String> = row
        .columns_ref()
        .iter()
        .map(|c| c.name_str().to_string())
        .collect();
    assert_eq!(
        columns,
        [
            "CLONE_JOB_ID",
            "TRACE_ID",
            "SOURCE_TENANT_ID",
            "SOURCE_TENANT_NAME",
            "CLONE_TENANT_ID",
            "CLONE_TENANT_NAME",
            "TENANT_SNAPSHOT_ID",
            "TENANT_SNAPSHOT_NAME",
            "RESOURCE_POOL_ID",
            "RESOURCE_POOL_NAME",
            "UNIT_CONFIG_NAME",
            "RESTORE_SCN",
            "STATUS",
            "CLONE_JOB_TYPE",
            "CLONE_START_TIME",
            "CLONE_FINISHED_TIME",
            "RET_CODE",
            "ERROR_MESSAGE"
        ]
    );
    assert_eq!(row.get::<i64, _>("SOURCE_TENANT_ID"), Some(1001));
    assert_eq!(
        row.get::<String, _>("SOURCE_TENANT_NAME").unwrap(),
        "mysql001"
    );
    assert_eq!(
        row.get::<String, _>("RESOURCE_POOL_NAME").unwrap(),
        "clone_mysql001_resource_pool"
    );
    assert_eq!(row.get::<String, _>("UNIT_CONFIG_NAME").unwrap(), "unit001");
    assert_eq!(row.get::<String, _>("CLONE_JOB_TYPE").unwrap(), "FORK");
    assert!(row
        .get::<String, _>("TENANT_SNAPSHOT_NAME")
        .unwrap()
        .starts_with("_inner_snapshot$"));
    assert!(row.get::<i64, _>("RESOURCE_POOL_ID").unwrap() > 1000);
    let clone_id: i64 = row.get("CLONE_TENANT_ID").unwrap();
    assert!(
        clone_id > 1001,
        "the tenant exists while being built: {clone_id}"
    );
    assert_eq!(row.get::<Option<i64>, _>("RET_CODE").unwrap(), None);
    // The half-built tenant serves no login, and the source keeps serving reads and writes.
    assert!(Conn::new(server.opts("root@clone_mysql001", "", None))
        .await
        .is_err());
    let mut src = server.connect("root@mysql001").await;
    src.query_drop("INSERT INTO shop.items (name) VALUES ('during-clone')")
        .await
        .unwrap();
    // The clone is a job in SHOW JOBS too.
    let job_id: i64 = row.get("CLONE_JOB_ID").unwrap();
    let job_type: String = sys
        .exec_first(
            "SELECT job_type FROM [SHOW JOBS] WHERE job_id = ?",
            (job_id,),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job_type, "CLONE");

    sys.query_drop("ALTER SYSTEM CANCEL CLONE clone_mysql001")
        .await
        .unwrap();
    assert!(
        clone_progress(&mut sys, "clone_mysql001").await.is_none(),
        "Empty set"
    );
    let history: Row = sys
        .query_first("SELECT * FROM oceanbase.DBA_OB_CLONE_HISTORY WHERE CLONE_TENANT_NAME = 'clone_mysql001'")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        history.get::<String, _>("STATUS").unwrap(),
        "CLONE_SYS_CANCELED"
    );
    assert_eq!(history.get::<i64, _>("RET_CODE"), Some(-4072));
    assert_eq!(
        history.get::<String, _>("ERROR_MESSAGE").unwrap(),
        "clone job has been canceled in CLONE_SYS_WAIT_TENANT_RESTORE_FINISH status"
    );
    assert_eq!(history.get::<i64, _>("CLONE_TENANT_ID"), Some(clone_id));
    assert_ne!(
        history.get::<String, _>("RESTORE_SCN").unwrap(),
        u64::MAX.to_string()
    );
    assert!(history
        .get::<Option<String>, _>("CLONE_FINISHED_TIME")
        .unwrap()
        .is_some());
    // The waiting CREATE TENANT failed with -9110 carrying the job's message.
    let err = create
        .await
        .unwrap()
        .expect_err("the canceled clone fails its statement");
    let (code, _, message) = crate::common::server_error(err);
    assert_eq!(code, 9110);
    assert_eq!(
        message,
        "clone job has been canceled in CLONE_SYS_WAIT_TENANT_RESTORE_FINISH status"
    );
    // Everything the job acquired is released.
    let tenants: Vec<String> = sys
        .query("SELECT TENANT_NAME FROM oceanbase.DBA_OB_TENANTS")
        .await
        .unwrap();
    assert!(
        !tenants.iter().any(|t| t == "clone_mysql001"),
        "{tenants:?}"
    );
    let pools: Vec<String> = sys
        .query("SELECT NAME FROM oceanbase.DBA_OB_RESOURCE_POOLS")
        .await
        .unwrap();
    assert!(
        !pools.iter().any(|p| p == "clone_mysql001_resource_pool"),
        "{pools:?}"
    );
    let snapshots: Vec<String> = sys
        .query("SELECT SNAPSHOT_NAME FROM oceanbase.DBA_OB_TENANT_SNAPSHOTS")
        .await
        .unwrap();
    assert!(
        snapshots.is_empty(),
        "the fork's inner snapshot is deleted: {snapshots:?}"
    );
    assert!(!server
        .data_dir()
        .join(format!("tenants/{clone_id}"))
        .exists());
    // Canceling again: the name is not cloning any more.
    let (code, state, message) =
        expect_error(&mut sys, "ALTER SYSTEM CANCEL CLONE clone_mysql001").await;
    assert_eq!(
        (code, state.as_str(), message.as_str()),
        (4179, "HY000", NOT_CLONING)
    );

    // The same statement, same names, now succeeds; the clone equals the source.
    set_rate(&server, "0").await;
    sys.query_drop(statement).await.unwrap();
    let history: Row = sys
        .query_first("SELECT * FROM oceanbase.DBA_OB_CLONE_HISTORY WHERE CLONE_TENANT_NAME = 'clone_mysql001' AND RET_CODE = 0")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        history.get::<String, _>("STATUS").unwrap(),
        "CLONE_SYS_SUCCESS"
    );
    let mut clone = server.connect("root@clone_mysql001").await;
    assert_eq!(
        tenant_digest(&mut clone).await,
        tenant_digest(&mut src).await
    );
    let mut clerk = server
        .connect_with("clerk@clone_mysql001", "secret", None)
        .await;
    let n: i64 = clerk
        .query_first("SELECT COUNT(*) FROM shop.items")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 4);
    let (code, _, _) = expect_error(&mut clerk, "SELECT COUNT(*) FROM test.big").await;
    assert_eq!(code, 1142, "grants are cloned as they were");
    // The clone is independent of its source.
    clone.query_drop("DELETE FROM shop.items").await.unwrap();
    let n: i64 = src
        .query_first("SELECT COUNT(*) FROM shop.items")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 4);
    let (code, _, message) =
        expect_error(&mut sys, "ALTER SYSTEM CANCEL CLONE clone_mysql001").await;
    assert_eq!((code, message.as_str()), (4179, NOT_CLONING));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_003_cancel_while_waiting_for_the_snapshot() {
    let server = TestServer::start();
    source_tenant(&server, "mysql", 100).await;
    let mut sys = sys_with_unit(&server, "S1_unit_config").await;
    // An open write transaction on the source holds the cut back: the clone waits for its snapshot.
    let mut writer = server.connect_with("root@mysql", "", Some("test")).await;
    writer.query_drop("BEGIN").await.unwrap();
    writer
        .query_drop("INSERT INTO test.big (id, a, b) VALUES (-1, 0, 'open')")
        .await
        .unwrap();
    let create = spawn_clone(
        &server,
        "CREATE TENANT clone_tnt FROM mysql WITH RESOURCE_POOL clone_tnt_pool, UNIT S1_unit_config"
            .into(),
    );
    let row = wait_for_status(&mut sys, "clone_tnt", "CLONE_SYS_WAIT_CREATE_SNAPSHOT").await;
    assert_eq!(row.get::<i64, _>("CLONE_TENANT_ID"), Some(0));
    assert_eq!(
        row.get::<String, _>("RESTORE_SCN").unwrap(),
        "18446744073709551615"
    );

    sys.query_drop("ALTER SYSTEM CANCEL CLONE clone_tnt")
        .await
        .unwrap();
    let history: Row = sys
        .query_first("SELECT * FROM oceanbase.DBA_OB_CLONE_HISTORY")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        history.get::<String, _>("STATUS").unwrap(),
        "CLONE_SYS_CANCELED"
    );
    assert_eq!(history.get::<i64, _>("CLONE_TENANT_ID"), Some(0));
    assert_eq!(
        history.get::<String, _>("RESTORE_SCN").unwrap(),
        "18446744073709551615"
    );
    assert_eq!(history.get::<String, _>("CLONE_JOB_TYPE").unwrap(), "FORK");
    assert_eq!(
        history.get::<String, _>("RESOURCE_POOL_NAME").unwrap(),
        "clone_tnt_pool"
    );
    assert_eq!(
        history.get::<String, _>("UNIT_CONFIG_NAME").unwrap(),
        "S1_unit_config"
    );
    assert_eq!(history.get::<i64, _>("RET_CODE"), Some(-4072));
    assert!(history
        .get::<String, _>("ERROR_MESSAGE")
        .unwrap()
        .starts_with("clone job has been canceled"));
    assert!(create.await.unwrap().is_err());
    // The writer was never disturbed and the pool is gone.
    writer.query_drop("COMMIT").await.unwrap();
    let pools: i64 = sys
        .query_first(
            "SELECT COUNT(*) FROM oceanbase.DBA_OB_RESOURCE_POOLS WHERE NAME = 'clone_tnt_pool'",
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pools, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clone_statements_are_for_root_at_sys_and_checked_first() {
    let server = TestServer::start();
    source_tenant(&server, "src", 10).await;
    let mut sys = sys_with_unit(&server, "u1").await;
    let mut tenant_root = server.connect("root@src").await;
    for sql in [
        "CREATE TENANT c1 FROM src WITH RESOURCE_POOL = p1, UNIT = u1",
        "ALTER SYSTEM CANCEL CLONE c1",
    ] {
        let (code, state, _) = expect_error(&mut tenant_root, sql).await;
        assert_eq!((code, state.as_str()), (1227, "42000"), "{sql}");
    }
    sys.query_drop("CREATE USER ops IDENTIFIED BY 'pw'")
        .await
        .unwrap();
    let mut ops = server.connect_with("ops@sys", "pw", None).await;
    let (code, _, _) = expect_error(&mut ops, "ALTER SYSTEM CANCEL CLONE c1").await;
    assert_eq!(code, 1227);
    let (code, _, _) = expect_error(
        &mut ops,
        "CREATE TENANT c1 FROM src WITH RESOURCE_POOL = p1, UNIT = u1",
    )
    .await;
    assert_eq!(code, 1227);
    // Checks before any job starts, with OceanBase's errors.
    let cases = [
        (
            "CREATE TENANT c1 FROM nosuch WITH RESOURCE_POOL = p1, UNIT = u1",
            5157,
        ),
        (
            "CREATE TENANT c1 FROM src WITH RESOURCE_POOL = p1, UNIT = nosuch",
            4648,
        ),
        (
            "CREATE TENANT src FROM src WITH RESOURCE_POOL = p1, UNIT = u1",
            5156,
        ),
        (
            "CREATE TENANT c1 FROM src WITH RESOURCE_POOL = pool_src, UNIT = u1",
            4651,
        ),
        (
            "CREATE TENANT c1 FROM sys WITH RESOURCE_POOL = p1, UNIT = u1",
            4179,
        ),
        (
            "CREATE TENANT c1 FROM src USING SNAPSHOT nosuch WITH RESOURCE_POOL = p1, UNIT = u1",
            9106,
        ),
        (
            "CREATE TENANT IF NOT EXISTS c1 FROM src WITH RESOURCE_POOL = p1, UNIT = u1",
            1235,
        ),
        ("ALTER SYSTEM CANCEL CLONE nosuch", 4179),
    ];
    for (sql, want) in cases {
        let (code, _, msg) = expect_error(&mut sys, sql).await;
        assert_eq!(code, want, "{sql}: {msg}");
    }
    let jobs: i64 = sys
        .query_first("SELECT COUNT(*) FROM [SHOW JOBS] WHERE job_type = 'CLONE'")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(jobs, 0, "refused statements start no job");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_and_a_clone_from_one() {
    let server = TestServer::start();
    source_tenant(&server, "src", 2_000).await;
    let mut sys = sys_with_unit(&server, "u1").await;
    let mut src = server.connect("root@src").await;
    // A tenant administrator snapshots its own tenant; sys names the tenant.
    src.query_drop("ALTER SYSTEM CREATE SNAPSHOT before_change")
        .await
        .unwrap();
    let before = tenant_digest(&mut src).await;
    let (code, _, _) =
        expect_error(&mut src, "ALTER SYSTEM CREATE SNAPSHOT x FOR TENANT src").await;
    assert_eq!(code, 1235);
    let (code, _, _) = expect_error(&mut src, "ALTER SYSTEM CREATE SNAPSHOT before_change").await;
    assert_eq!(code, 9104);
    sys.query_drop("ALTER SYSTEM CREATE SNAPSHOT spare FOR TENANT src")
        .await
        .unwrap();
    let rows: Vec<(String, String, String)> = src
        .query("SELECT SNAPSHOT_NAME, STATUS, TYPE FROM oceanbase.DBA_OB_TENANT_SNAPSHOTS ORDER BY SNAPSHOT_ID")
        .await
        .unwrap();
    assert_eq!(
        rows,
        [
            ("before_change".into(), "NORMAL".into(), "MANUAL".into()),
            ("spare".into(), "NORMAL".into(), "MANUAL".into())
        ]
    );
    src.query_drop("DELETE FROM test.big WHERE id % 2 = 0")
        .await
        .unwrap();
    src.query_drop("DROP DATABASE shop").await.unwrap();
    sys.query_drop(
        "CREATE TENANT c1 FROM src USING SNAPSHOT before_change WITH RESOURCE_POOL = p1, UNIT = u1",
    )
    .await
    .unwrap();
    let job_type: String = sys
        .query_first("SELECT CLONE_JOB_TYPE FROM oceanbase.DBA_OB_CLONE_HISTORY WHERE CLONE_TENANT_NAME = 'c1'")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job_type, "RESTORE");
    let mut c1 = server.connect("root@c1").await;
    assert_eq!(
        tenant_digest(&mut c1).await,
        before,
        "the clone is the tenant as of the snapshot"
    );
    sys.query_drop("ALTER SYSTEM DROP SNAPSHOT spare FOR TENANT src")
        .await
        .unwrap();
    let (code, _, _) =
        expect_error(&mut sys, "ALTER SYSTEM DROP SNAPSHOT spare FOR TENANT src").await;
    assert_eq!(code, 9106);
    let n: i64 = sys
        .query_first(
            "SELECT COUNT(*) FROM oceanbase.CDB_OB_TENANT_SNAPSHOTS WHERE TENANT_ID = 1001",
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clone_under_a_steady_writer_finishes_consistent() {
    let server = TestServer::start();
    source_tenant(&server, "busy", 20_000).await;
    let mut src = server.connect("root@busy").await;
    src.query_drop("CREATE TABLE test.ledger (id INT PRIMARY KEY AUTO_INCREMENT, amount INT)")
        .await
        .unwrap();
    src.query_drop("CREATE TABLE test.audit (id INT PRIMARY KEY AUTO_INCREMENT, amount INT)")
        .await
        .unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let writer = {
        let stop = stop.clone();
        let opts = server.opts("root@busy", "", Some("test"));
        tokio::spawn(async move {
            let mut c = Conn::new(opts).await.unwrap();
            let mut n = 0;
            while !stop.is_cancelled() {
                // Each transaction writes both tables: a consistent cut has as many rows in one as in the other.
                c.query_drop("BEGIN").await.unwrap();
                c.query_drop("INSERT INTO test.ledger (amount) VALUES (10)")
                    .await
                    .unwrap();
                c.query_drop("INSERT INTO test.audit (amount) VALUES (10)")
                    .await
                    .unwrap();
                c.query_drop("COMMIT").await.unwrap();
                n += 1;
            }
            n
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut sys = sys_with_unit(&server, "u1").await;
    sys.query_drop("CREATE TENANT c1 FROM busy WITH RESOURCE_POOL = p1, UNIT = u1")
        .await
        .unwrap();
    stop.cancel();
    let written = writer.await.unwrap();
    let mut c1 = server.connect("root@c1").await;
    let (ledger, audit): (i64, i64) = c1
        .query_first("SELECT (SELECT COUNT(*) FROM test.ledger), (SELECT COUNT(*) FROM test.audit)")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ledger, audit, "the clone is one consistent cut");
    assert!(ledger > 0 && ledger <= written, "{ledger} of {written}");
    let big: i64 = c1
        .query_first("SELECT COUNT(*) FROM test.big")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(big, 20_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clone_killed_mid_copy_resumes_after_restart() {
    let mut server = TestServer::start();
    source_tenant(&server, "src", 40_000).await;
    let mut sys = sys_with_unit(&server, "u1").await;
    set_rate(&server, "256KB").await;
    let _create = spawn_clone(
        &server,
        "CREATE TENANT c1 FROM src WITH RESOURCE_POOL = p1, UNIT = u1".into(),
    );
    wait_for_status(&mut sys, "c1", "CLONE_SYS_WAIT_TENANT_RESTORE_FINISH").await;
    drop(sys);
    server.kill9();
    server.restart();
    let mut sys = server.connect("root@sys").await;
    // Still CREATING after the restart: no logins until the clone is whole.
    assert!(Conn::new(server.opts("root@c1", "", None)).await.is_err());
    set_rate(&server, "0").await;
    let mut status = String::new();
    for _ in 0..3000 {
        let s: Option<String> = sys
            .query_first(
                "SELECT STATUS FROM oceanbase.DBA_OB_CLONE_HISTORY WHERE CLONE_TENANT_NAME = 'c1'",
            )
            .await
            .unwrap();
        if let Some(s) = s {
            status = s;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(status, "CLONE_SYS_SUCCESS");
    let mut c1 = server.connect("root@c1").await;
    let mut src = server.connect("root@src").await;
    assert_eq!(tenant_digest(&mut c1).await, tenant_digest(&mut src).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_job_on_a_clone_is_the_same_cancel() {
    let server = TestServer::start();
    source_tenant(&server, "src", 40_000).await;
    let mut sys = sys_with_unit(&server, "u1").await;
    set_rate(&server, "256KB").await;
    let create = spawn_clone(
        &server,
        "CREATE TENANT c1 FROM src WITH RESOURCE_POOL = p1, UNIT = u1".into(),
    );
    let row = wait_for_status(&mut sys, "c1", "CLONE_SYS_WAIT_TENANT_RESTORE_FINISH").await;
    let job_id: i64 = row.get("CLONE_JOB_ID").unwrap();
    sys.query_drop(format!("CANCEL JOB {job_id}"))
        .await
        .unwrap();
    assert_eq!(
        crate::common::final_status(&mut sys, job_id).await,
        "canceled"
    );
    let (status, message): (String, String) = sys
        .query_first("SELECT STATUS, ERROR_MESSAGE FROM oceanbase.DBA_OB_CLONE_HISTORY")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, "CLONE_SYS_CANCELED");
    assert_eq!(
        message,
        "clone job has been canceled in CLONE_SYS_WAIT_TENANT_RESTORE_FINISH status"
    );
    assert!(create.await.unwrap().is_err());
    let left: i64 = sys
        .query_first("SELECT (SELECT COUNT(*) FROM oceanbase.DBA_OB_TENANTS WHERE TENANT_NAME = 'c1') + (SELECT COUNT(*) FROM oceanbase.DBA_OB_RESOURCE_POOLS WHERE NAME = 'p1')")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(left, 0, "the tenant and the pool are gone");
}
