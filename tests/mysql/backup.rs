//! Data backup of a tenant: destinations, ALTER SYSTEM BACKUP DATABASE, sets that restore, cancel mid-flight.

use std::time::Duration;

use mysql_async::prelude::*;
use mysql_async::Row;

use crate::common::{big_table, expect_error, final_status, TestServer};

/// The manifest of backup set `set` of tenant 1001 under a destination directory.
fn read_manifest(dest: &std::path::Path, set: i64) -> tenantry_backup::Manifest {
    let path = dest.join(format!("tenant_1001/backup_set_{set}/manifest.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Restores one database image from a destination into a new file, as a restore will.
async fn restore_image(dest: &str, image: tenantry_backup::DatabaseImage, path: &std::path::Path) {
    let (dest, path, rt) = (
        dest.to_string(),
        path.to_path_buf(),
        tokio::runtime::Handle::current(),
    );
    tokio::task::spawn_blocking(move || {
        let store = tenantry_backup::BackupStore::open(&dest, rt).unwrap();
        tenantry_backup::restore_database(&image, &store, &path, |_| Ok(()))
    })
    .await
    .unwrap()
    .unwrap();
}

/// Waits until the tenant's backup job is running and returns its id.
async fn running_backup(c: &mut mysql_async::Conn) -> i64 {
    loop {
        let r: Option<i64> = c
            .query_first(
                "SELECT job_id FROM [SHOW JOBS] WHERE job_type = 'BACKUP' AND status = 'running'",
            )
            .await
            .unwrap();
        if let Some(r) = r {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_a_tenant_and_restore_the_set() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let dest_dir = server.external_dir().join("t1/bk");
    let dest = format!("file://{}", dest_dir.as_path().display());
    let mut t = server.connect("root@t1").await;
    let (code, state, msg) = expect_error(&mut t, "ALTER SYSTEM BACKUP DATABASE").await;
    assert_eq!(
        (code, state.as_str(), msg.as_str()),
        (
            9040,
            "HY000",
            "backup can not start, because backup dest is not set."
        )
    );
    assert_eq!(
        expect_error(
            &mut t,
            "ALTER SYSTEM SET DATA_BACKUP_DEST = 'file:///proc/not/here'"
        )
        .await
        .0,
        4147
    );
    assert_eq!(
        expect_error(
            &mut t,
            "ALTER SYSTEM SET DATA_BACKUP_DEST = 'relative/path'"
        )
        .await
        .0,
        4147
    );
    t.query_drop("CREATE DATABASE shop").await.unwrap();
    big_table(&mut t, "shop", 100000).await;
    t.query_drop(format!("ALTER SYSTEM SET DATA_BACKUP_DEST = '{dest}'"))
        .await
        .unwrap();
    t.query_drop("CREATE USER plain IDENTIFIED BY 'pw'")
        .await
        .unwrap();
    let mut plain = server.connect_with("plain@t1", "pw", None).await;
    assert_eq!(
        expect_error(&mut plain, "ALTER SYSTEM BACKUP DATABASE")
            .await
            .0,
        1227
    );

    t.query_drop("ALTER SYSTEM BACKUP DATABASE DESCRIPTION 'first'")
        .await
        .unwrap();
    let id: i64 = t
        .query_first("SELECT job_id FROM [SHOW JOBS] WHERE job_type = 'BACKUP'")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(final_status(&mut t, id).await, "succeeded");
    let manifest = read_manifest(dest_dir.as_path(), 1);
    let names: Vec<&str> = manifest.databases.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, vec!["shop", "test"]);
    assert!(manifest.catalog["users"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["name"] == "plain"));
    // The set restores to exactly the data at the cut.
    let restored = dest_dir.as_path().join("restored.sqlite");
    restore_image(&dest, manifest.databases[0].clone(), &restored).await;
    let copy = rusqlite::Connection::open(&restored).unwrap();
    let (n, sum): (i64, i64) = copy
        .query_row("SELECT count(*), sum(id) FROM big", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((n, sum), (100_000, 5_000_050_000));

    // A throttled backup: a second one is refused while it runs, and CANCEL JOB leaves its set incomplete.
    // (A full one: an incremental of unchanged data reads nothing and would be done at once.)
    let mut sys = server.connect("root@sys").await;
    sys.query_drop("ALTER SYSTEM SET bulk_io_max_rate = '256KB'")
        .await
        .unwrap();
    t.query_drop("ALTER SYSTEM BACKUP DATABASE").await.unwrap();
    let (code, _, msg) = expect_error(&mut t, "ALTER SYSTEM BACKUP DATABASE").await;
    assert_eq!((code, msg.as_str()), (9036, "Backup is in progress"));
    let running: i64 = running_backup(&mut t).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    t.query_drop(format!("CANCEL JOB {running}")).await.unwrap();
    assert_eq!(final_status(&mut t, running).await, "canceled");
    assert!(
        !dest_dir
            .as_path()
            .join("tenant_1001/backup_set_2/manifest.json")
            .exists(),
        "a canceled set is incomplete"
    );
    sys.query_drop("ALTER SYSTEM SET bulk_io_max_rate = '0'")
        .await
        .unwrap();
}

async fn start_backups(server: &TestServer, tenants: &[(&str, &str)]) {
    for (login, _) in tenants {
        let mut t = server.connect(login).await;
        t.query_drop("ALTER SYSTEM BACKUP DATABASE").await.unwrap();
    }
}

async fn backup_statuses(server: &TestServer) -> Vec<(i64, String, i64)> {
    let mut sys = server.connect("root@sys").await;
    let mut rows: Vec<(i64, String, i64)> = sys
        .query("SELECT TENANT_ID, STATUS, RESULT FROM oceanbase.CDB_OB_BACKUP_JOBS UNION ALL SELECT TENANT_ID, STATUS, RESULT FROM oceanbase.CDB_OB_BACKUP_JOB_HISTORY")
        .await
        .unwrap();
    rows.sort();
    rows
}

async fn wait_until_settled(server: &TestServer) {
    let mut sys = server.connect("root@sys").await;
    for _ in 0..500 {
        let n: Option<i64> = sys
            .query_first(
                "SELECT COUNT(*) FROM oceanbase.CDB_OB_BACKUP_JOBS WHERE STATUS = 'CANCELING'",
            )
            .await
            .unwrap();
        if n == Some(0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_backup_as_the_seeds_describe() {
    let server = TestServer::start();
    let mut sys = server.connect("root@sys").await;
    sys.query_drop("CREATE RESOURCE UNIT u1 MAX_CPU 1, MEMORY_SIZE '2G'")
        .await
        .unwrap();
    for (t, mode) in [("mysql_tenant", "mysql"), ("oracle_tenant", "oracle")] {
        sys.query_drop(format!(
            "CREATE RESOURCE POOL pool_{t} UNIT = 'u1', UNIT_NUM = 1"
        ))
        .await
        .unwrap();
        sys.query_drop(format!("CREATE TENANT {t} RESOURCE_POOL_LIST = ('pool_{t}') SET ob_compatibility_mode = '{mode}'")).await.unwrap();
    }
    let dest_dir = server.external_dir();
    let tenants = [
        ("root@mysql_tenant", "mysql_tenant"),
        ("SYS@oracle_tenant", "oracle_tenant"),
    ];
    for (login, name) in tenants {
        let mut t = server.connect(login).await;
        big_table(&mut t, "test", 100000).await;
        // sys may set a tenant's destination.
        sys.query_drop(format!(
            "ALTER SYSTEM SET DATA_BACKUP_DEST = 'file://{}/{name}' TENANT = {name}",
            dest_dir.as_path().display()
        ))
        .await
        .unwrap();
    }
    sys.query_drop("ALTER SYSTEM SET bulk_io_max_rate = '128KB'")
        .await
        .unwrap();

    // Seed 000 / 002: the sys tenant stops the backups of every tenant.
    start_backups(&server, &tenants).await;
    sys.query_drop("ALTER SYSTEM CANCEL BACKUP;").await.unwrap();
    wait_until_settled(&server).await;
    assert_eq!(
        backup_statuses(&server).await,
        vec![
            (1001, "CANCELED".into(), -4072),
            (1002, "CANCELED".into(), -4072)
        ]
    );

    // The sys tenant stops one tenant's backup; the other keeps running.
    start_backups(&server, &tenants).await;
    sys.query_drop("ALTER SYSTEM CANCEL BACKUP TENANT = mysql_tenant;")
        .await
        .unwrap();
    wait_until_settled(&server).await;
    let s = backup_statuses(&server).await;
    assert!(
        s.contains(&(1001, "CANCELED".into(), -4072))
            && s.iter()
                .filter(|r| r.0 == 1001 && r.1 == "CANCELED")
                .count()
                == 2,
        "{s:?}"
    );
    assert!(s.contains(&(1002, "DOING".into(), 0)), "{s:?}");

    // A tenant stops its own backup; naming a tenant from a user tenant is refused.
    let mut oracle = server.connect("SYS@oracle_tenant").await;
    let (code, state, msg) = expect_error(
        &mut oracle,
        "ALTER SYSTEM CANCEL BACKUP TENANT = oracle_tenant",
    )
    .await;
    assert_eq!(
        (code, state.as_str(), msg.as_str()),
        (1235, "0A000", "Not supported feature or function")
    );
    oracle
        .query_drop("ALTER SYSTEM CANCEL BACKUP;")
        .await
        .unwrap();
    wait_until_settled(&server).await;
    let history: Vec<(String, i64, Option<String>)> = oracle
        .query("SELECT STATUS, RESULT, END_TIMESTAMP FROM oceanbase.DBA_OB_BACKUP_JOB_HISTORY")
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
    assert!(
        history
            .iter()
            .all(|(s, r, end)| s == "CANCELED" && *r == -4072 && end.is_some()),
        "{history:?}"
    );
    let files: Vec<(String, String)> = oracle
        .query("SELECT STATUS, FILE_STATUS FROM oceanbase.DBA_OB_BACKUP_SET_FILES")
        .await
        .unwrap();
    assert!(
        files
            .iter()
            .all(|f| f == &("FAILED".to_string(), "INCOMPLETE".to_string())),
        "{files:?}"
    );
    // Nothing running is not an error; other users may not cancel.
    oracle
        .query_drop("ALTER SYSTEM CANCEL BACKUP")
        .await
        .unwrap();
    oracle
        .query_drop("CREATE USER someone IDENTIFIED BY 'pw'")
        .await
        .unwrap();
    let mut someone = server
        .connect_with("someone@oracle_tenant", "pw", None)
        .await;
    assert_eq!(
        expect_error(&mut someone, "ALTER SYSTEM CANCEL BACKUP")
            .await
            .0,
        1227
    );
    // A user tenant sees only its own backup jobs.
    let mine: Vec<i64> = oracle
        .query("SELECT BACKUP_SET_ID FROM oceanbase.DBA_OB_BACKUP_JOB_HISTORY ORDER BY 1")
        .await
        .unwrap();
    assert_eq!(mine, vec![1, 2]);
    assert_eq!(
        expect_error(&mut oracle, "SELECT * FROM oceanbase.CDB_OB_BACKUP_JOBS")
            .await
            .0,
        1146
    );
    sys.query_drop("ALTER SYSTEM SET bulk_io_max_rate = '0'")
        .await
        .unwrap();
}

#[tokio::test]
async fn cockroach_backup_into() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let dest_dir = server.external_dir().join("t1/bk");
    let uri = format!("file://{}", dest_dir.as_path().display());
    let mut t = server.connect("root@t1").await;
    t.query_drop("CREATE DATABASE shop").await.unwrap();
    t.query_drop("CREATE TABLE shop.items (id INT PRIMARY KEY)")
        .await
        .unwrap();
    // Waiting form: the job's result comes back as a row.
    let row: Row = t
        .query_first(format!("BACKUP INTO '{uri}'"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<String, _>("status").as_deref(), Some("succeeded"));
    let manifest = read_manifest(dest_dir.as_path(), 1);
    assert_eq!(manifest.databases.len(), 2);
    // DETACHED returns the job id at once; one database only.
    let id: Option<i64> = t
        .query_first(format!("BACKUP DATABASE shop INTO '{uri}' WITH DETACHED"))
        .await
        .unwrap();
    let id = id.unwrap();
    let done: Row = t
        .query_first(format!("SHOW JOB WHEN COMPLETE {id}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.get::<String, _>("job_type").as_deref(), Some("BACKUP"));
    assert_eq!(
        done.get::<String, _>("status").as_deref(),
        Some("succeeded")
    );
    let manifest = read_manifest(dest_dir.as_path(), 2);
    let names: Vec<&str> = manifest.databases.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, vec!["shop"]);
    assert_eq!(
        expect_error(&mut t, &format!("BACKUP DATABASE nope INTO '{uri}'"))
            .await
            .0,
        1049
    );
    // Destinations are file:// and nodelocal:// locations inside the external-IO directory, or s3:// with
    // credentials (tests/mysql/backup_s3.rs); other schemes are refused.
    let (code, _, msg) = expect_error(&mut t, "BACKUP INTO 'gs://bucket/x'").await;
    assert_eq!(code, 1235, "{msg}");
    assert!(msg.contains("gs://bucket/x"), "{msg}");
    let (code, _, msg) = expect_error(&mut t, "BACKUP INTO 's3://bucket/x'").await;
    assert_eq!(
        (code, msg.as_str()),
        (
            1210,
            "AUTH is set to 'specified', but AWS_ACCESS_KEY_ID is not set"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_backups_from_sys_have_one_child_per_tenant() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    server.create_tenant("t2").await;
    server.create_tenant("nodest").await;
    let dest_dir = server.external_dir();
    let mut sys = server.connect("root@sys").await;
    for t in ["t1", "t2"] {
        let mut c = server.connect(&format!("root@{t}")).await;
        big_table(&mut c, "test", 50000).await;
        sys.query_drop(format!(
            "ALTER SYSTEM SET DATA_BACKUP_DEST = 'file://{}/{t}' TENANT = {t}",
            dest_dir.as_path().display()
        ))
        .await
        .unwrap();
    }
    assert_eq!(
        expect_error(&mut sys, "ALTER SYSTEM BACKUP TENANT = t1, nodest")
            .await
            .0,
        9040
    );
    assert_eq!(
        expect_error(&mut sys, "ALTER SYSTEM BACKUP TENANT = nosuch")
            .await
            .0,
        5157
    );
    sys.query_drop("ALTER SYSTEM BACKUP TENANT = t1, t2")
        .await
        .unwrap();
    // It may already have finished: look in both views.
    let parent: i64 = sys
        .query_first("SELECT JOB_ID FROM oceanbase.CDB_OB_BACKUP_JOBS WHERE JOB_LEVEL = 'CLUSTER' UNION ALL SELECT JOB_ID FROM oceanbase.CDB_OB_BACKUP_JOB_HISTORY WHERE JOB_LEVEL = 'CLUSTER'")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(final_status(&mut sys, parent).await, "succeeded");
    let rows: Vec<(i64, i64, i64, i64, String, String, String)> = sys
        .query("SELECT TENANT_ID, BACKUP_SET_ID, INITIATOR_TENANT_ID, INITIATOR_JOB_ID, EXECUTOR_TENANT_ID, JOB_LEVEL, STATUS FROM oceanbase.CDB_OB_BACKUP_JOB_HISTORY ORDER BY TENANT_ID")
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![
            (
                1,
                0,
                1,
                0,
                "1001,1002".into(),
                "CLUSTER".into(),
                "COMPLETED".into()
            ),
            (
                1001,
                1,
                1,
                parent,
                "1001".into(),
                "USER_TENANT".into(),
                "COMPLETED".into()
            ),
            (
                1002,
                1,
                1,
                parent,
                "1002".into(),
                "USER_TENANT".into(),
                "COMPLETED".into()
            ),
        ]
    );
    // Every eligible tenant when no list is given; canceling the cluster-level job cascades to its children.
    sys.query_drop("ALTER SYSTEM SET bulk_io_max_rate = '128KB'")
        .await
        .unwrap();
    sys.query_drop("ALTER SYSTEM BACKUP DATABASE")
        .await
        .unwrap();
    let parent: i64 = sys
        .query_first("SELECT JOB_ID FROM oceanbase.CDB_OB_BACKUP_JOBS WHERE JOB_LEVEL = 'CLUSTER'")
        .await
        .unwrap()
        .unwrap();
    sys.query_drop(format!("CANCEL JOB {parent}"))
        .await
        .unwrap();
    assert_eq!(final_status(&mut sys, parent).await, "canceled");
    let children: Vec<(i64, String, i64)> = sys
        .query(format!("SELECT TENANT_ID, STATUS, RESULT FROM oceanbase.CDB_OB_BACKUP_JOB_HISTORY WHERE INITIATOR_JOB_ID = {parent} ORDER BY TENANT_ID"))
        .await
        .unwrap();
    assert_eq!(
        children,
        vec![
            (1001, "CANCELED".into(), -4072),
            (1002, "CANCELED".into(), -4072)
        ]
    );
    sys.query_drop("ALTER SYSTEM SET bulk_io_max_rate = '0'")
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_a_steady_writer_finishes_and_is_consistent() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let dest_dir = server.external_dir().join("t1/bk");
    let mut t = server.connect("root@t1").await;
    big_table(&mut t, "test", 50000).await;
    t.query_drop(format!(
        "ALTER SYSTEM SET DATA_BACKUP_DEST = 'file://{}'",
        dest_dir.as_path().display()
    ))
    .await
    .unwrap();
    let mut sys = server.connect("root@sys").await;
    sys.query_drop("ALTER SYSTEM SET bulk_io_max_rate = '1MB'")
        .await
        .unwrap();
    // A writer that keeps inserting for the whole backup.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut w = server.connect("root@t1").await;
    let writer = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut n = 0i64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                w.exec_drop("INSERT INTO test.big (b) VALUES (?)", ("during",))
                    .await
                    .unwrap();
                n += 1;
            }
            n
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    t.query_drop("ALTER SYSTEM BACKUP DATABASE").await.unwrap();
    let id: i64 = t
        .query_first("SELECT job_id FROM [SHOW JOBS] WHERE job_type = 'BACKUP'")
        .await
        .unwrap()
        .unwrap();
    let done: Row = t
        .query_first(format!("SHOW JOB WHEN COMPLETE {id}"))
        .await
        .unwrap()
        .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.await.unwrap();
    assert_eq!(
        done.get::<String, _>("status").as_deref(),
        Some("succeeded"),
        "the backup finishes under a steady writer"
    );
    assert!(
        written > 10,
        "the writer kept going during the backup ({written} rows)"
    );
    sys.query_drop("ALTER SYSTEM SET bulk_io_max_rate = '0'")
        .await
        .unwrap();
    // The set holds one consistent state: a whole prefix of the writer's rows, and a sound file.
    let manifest = read_manifest(dest_dir.as_path(), 1);
    let image = manifest
        .databases
        .iter()
        .find(|d| d.name == "test")
        .unwrap()
        .clone();
    let dest = format!("file://{}", dest_dir.as_path().display());
    let restored = dest_dir.as_path().join("restored.sqlite");
    restore_image(&dest, image, &restored).await;
    let copy = rusqlite::Connection::open(&restored).unwrap();
    let ok: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let (n, max): (i64, i64) = copy
        .query_row("SELECT count(*), max(id) FROM big", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(n, max, "no gaps: exactly the rows committed at the cut");
    assert!(n >= 50_000 && n <= 50_000 + written, "{n}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_backup_resumes_and_completes() {
    let mut server = TestServer::start();
    server.create_tenant("t1").await;
    let dest_dir = server.external_dir().join("t1/bk");
    let mut t = server.connect("root@t1").await;
    big_table(&mut t, "test", 50000).await;
    t.query_drop(format!(
        "ALTER SYSTEM SET DATA_BACKUP_DEST = 'file://{}'",
        dest_dir.as_path().display()
    ))
    .await
    .unwrap();
    let mut sys = server.connect("root@sys").await;
    sys.query_drop("ALTER SYSTEM SET bulk_io_max_rate = '512KB'")
        .await
        .unwrap();
    t.query_drop("ALTER SYSTEM BACKUP DATABASE").await.unwrap();
    let id: i64 = running_backup(&mut t).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill9();
    assert!(
        !dest_dir
            .as_path()
            .join("tenant_1001/backup_set_1/manifest.json")
            .exists(),
        "not complete before the crash"
    );
    server.restart();
    let mut t = server.connect("root@t1").await;
    assert_eq!(final_status(&mut t, id).await, "succeeded");
    assert!(dest_dir
        .as_path()
        .join("tenant_1001/backup_set_1/manifest.json")
        .exists());
    let mut sys = server.connect("root@sys").await;
    sys.query_drop("ALTER SYSTEM SET bulk_io_max_rate = '0'")
        .await
        .unwrap();
}

#[tokio::test]
async fn validate_backupset_finds_flipped_bytes() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let dest_dir = server.external_dir().join("t1/bk");
    let mut t = server.connect("root@t1").await;
    big_table(&mut t, "test", 20000).await;
    t.query_drop(format!(
        "ALTER SYSTEM SET DATA_BACKUP_DEST = 'file://{}'",
        dest_dir.as_path().display()
    ))
    .await
    .unwrap();
    let row: Row = t
        .query_first(format!(
            "BACKUP INTO 'file://{}'",
            dest_dir.as_path().display()
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<String, _>("status").as_deref(), Some("succeeded"));
    let ok: Vec<(String, i64, i64, String)> =
        t.query("ALTER SYSTEM VALIDATE BACKUPSET 1").await.unwrap();
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].3, "VALID");
    let (code, _, msg) = expect_error(&mut t, "ALTER SYSTEM VALIDATE BACKUPSET 7").await;
    assert_eq!(code, 9068);
    assert!(msg.contains("backup set 7"), "{msg}");
    // Flip one byte in one stored chunk: validation names the set and the chunk.
    let manifest = read_manifest(dest_dir.as_path(), 1);
    let victim = manifest.databases[0].chunks[1].hash.clone();
    let path = dest_dir
        .as_path()
        .join("chunks")
        .join(&victim[..2])
        .join(&victim);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    let (code, _, msg) = expect_error(&mut t, "ALTER SYSTEM VALIDATE BACKUPSET 1").await;
    assert_eq!(code, 9068);
    assert!(
        msg.contains("backup set 1") && msg.contains(&victim),
        "{msg}"
    );
}

/// Backs up the connected tenant (full or incremental), waits, and returns the set's INPUT_BYTES.
async fn backup_and_read_input(t: &mut mysql_async::Conn, sql: &str) -> i64 {
    t.query_drop(sql).await.unwrap();
    let id: i64 = t
        .query_first("SELECT MAX(job_id) FROM [SHOW JOBS] WHERE job_type = 'BACKUP'")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(final_status(t, id).await, "succeeded");
    t.query_first(
        "SELECT INPUT_BYTES FROM oceanbase.DBA_OB_BACKUP_SET_FILES ORDER BY BACKUP_SET_ID DESC LIMIT 1",
    )
    .await
    .unwrap()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_backup_reads_only_the_pages_that_changed() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let dest_dir = server.external_dir().join("t1/bk");
    let dest = format!("file://{}", dest_dir.as_path().display());
    let mut t = server.connect("root@t1").await;
    t.query_drop(format!("ALTER SYSTEM SET DATA_BACKUP_DEST = '{dest}'"))
        .await
        .unwrap();
    // About 84 chunks; the changes below touch three or four of them.
    big_table(&mut t, "test", 1_000_000).await;
    let full = backup_and_read_input(&mut t, "ALTER SYSTEM BACKUP DATABASE").await;

    // Two ranges change: one is copied into the file by the server's checkpoints before the next backup (the
    // WAL restarts after it), the other is still in the WAL at the cut.
    t.query_drop("UPDATE test.big SET a = a + 1, b = 'changed' WHERE id <= 500")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    t.query_drop("UPDATE test.big SET a = a + 2 WHERE id BETWEEN 60000 AND 60300")
        .await
        .unwrap();
    t.query_drop("INSERT INTO test.big (id, a, b) VALUES (2000000, 7, 'new')")
        .await
        .unwrap();
    let expected: (i64, i64, i64) = t
        .query_first("SELECT count(*), sum(a), sum(length(b)) FROM test.big")
        .await
        .unwrap()
        .unwrap();
    let incremental =
        backup_and_read_input(&mut t, "ALTER SYSTEM BACKUP INCREMENTAL DATABASE").await;
    assert!(incremental > 0, "the changed pages are read");
    assert!(
        incremental * 10 < full,
        "incremental read {incremental} bytes, full {full}"
    );
    // Nothing changed since: the next incremental reads nothing.
    let unchanged = backup_and_read_input(&mut t, "ALTER SYSTEM BACKUP INCREMENTAL DATABASE").await;
    assert!(unchanged < incremental, "{unchanged} vs {incremental}");

    // The incremental set restores to exactly the data at its cut.
    for set in [2, 3] {
        let manifest = read_manifest(dest_dir.as_path(), set);
        let image = manifest
            .databases
            .iter()
            .find(|d| d.name == "test")
            .unwrap()
            .clone();
        assert!(image.change_mark.is_some());
        let restored = dest_dir.as_path().join(format!("restored_{set}.sqlite"));
        restore_image(&dest, image, &restored).await;
        let copy = rusqlite::Connection::open(&restored).unwrap();
        let got: (i64, i64, i64) = copy
            .query_row(
                "SELECT count(*), sum(a), sum(length(b)) FROM big",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(got, expected, "set {set}");
        let ok: String = copy
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_backups_of_one_tenant_start_exactly_one_job() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let dest = server.external_dir().join("t1/bk");
    let mut t = server.connect("root@t1").await;
    big_table(&mut t, "test", 50_000).await;
    t.query_drop(format!(
        "ALTER SYSTEM SET DATA_BACKUP_DEST = 'file://{}'",
        dest.display()
    ))
    .await
    .unwrap();
    let mut sys = server.connect("root@sys").await;
    // Slow enough that the winner is still running while the others ask.
    sys.query_drop("ALTER SYSTEM SET bulk_io_max_rate = '128KB'")
        .await
        .unwrap();
    // Several rounds: a lost race shows up in one of them even when the others happen to serialize.
    for round in 0..5 {
        let mut conns = Vec::new();
        for _ in 0..20 {
            conns.push(server.connect("root@t1").await);
        }
        let mut sys_conns = Vec::new();
        for _ in 0..5 {
            sys_conns.push(server.connect("root@sys").await);
        }
        // Twenty tenant administrators, and root@sys naming the tenant too, all at once.
        let mut tasks = Vec::new();
        for (i, mut c) in conns.into_iter().enumerate() {
            tasks.push(tokio::spawn(async move {
                let sql = if i % 4 == 3 {
                    "ALTER SYSTEM BACKUP DATABASE"
                } else {
                    "ALTER SYSTEM BACKUP DATABASE DESCRIPTION 'concurrent'"
                };
                c.query_drop(sql).await.map_err(crate::common::server_error)
            }));
        }
        for mut s in sys_conns {
            tasks.push(tokio::spawn(async move {
                s.query_drop("ALTER SYSTEM BACKUP TENANT = t1")
                    .await
                    .map_err(crate::common::server_error)
            }));
        }
        let mut ok = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(()) => ok += 1,
                Err((code, _, msg)) => {
                    assert_eq!((code, msg.as_str()), (9036, "Backup is in progress"))
                }
            }
        }
        assert_eq!(ok, 1, "exactly one backup started in round {round}");
        let live: i64 = t
            .query_first("SELECT COUNT(*) FROM oceanbase.DBA_OB_BACKUP_JOBS")
            .await
            .unwrap()
            .unwrap();
        let done: i64 = t
            .query_first("SELECT COUNT(*) FROM oceanbase.DBA_OB_BACKUP_JOB_HISTORY")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(live + done, round + 1, "one more backup job of the tenant");
        sys.query_drop("ALTER SYSTEM CANCEL BACKUP").await.unwrap();
        for _ in 0..500 {
            let live: i64 = t
                .query_first("SELECT COUNT(*) FROM oceanbase.DBA_OB_BACKUP_JOBS")
                .await
                .unwrap()
                .unwrap();
            if live == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    sys.query_drop("ALTER SYSTEM SET bulk_io_max_rate = '0'")
        .await
        .unwrap();
}
