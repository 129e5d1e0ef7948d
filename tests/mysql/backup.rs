//! Data backup of a tenant: destinations, ALTER SYSTEM BACKUP DATABASE, sets that restore, cancel mid-flight.

use std::time::Duration;

use mysql_async::prelude::*;
use mysql_async::Row;

use crate::common::{expect_error, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_a_tenant_and_restore_the_set() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let dest_dir = tempfile::tempdir().unwrap();
    let dest = format!("file://{}", dest_dir.path().display());
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
    t.query_drop("CREATE TABLE shop.big (id INTEGER PRIMARY KEY, v VARCHAR(40))")
        .await
        .unwrap();
    t.query_drop("INSERT INTO shop.big (id, v) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000) SELECT x, 'row-' || x FROM c").await.unwrap();
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
    let done: Row = t
        .query_first(format!("SHOW JOB WHEN COMPLETE {id}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        done.get::<String, _>("status").as_deref(),
        Some("succeeded")
    );
    let manifest_path = dest_dir
        .path()
        .join("tenant_1001/backup_set_1/manifest.json");
    let manifest: tenantry_backup::Manifest =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    let names: Vec<&str> = manifest.databases.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, vec!["shop", "test"]);
    assert!(manifest.catalog["users"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["name"] == "plain"));
    // The set restores to exactly the data at the cut.
    let rt = tokio::runtime::Handle::current();
    let store = tokio::task::spawn_blocking({
        let dest = dest.clone();
        move || tenantry_backup::BackupStore::open(&dest, rt).unwrap()
    })
    .await
    .unwrap();
    let restored = dest_dir.path().join("restored.sqlite");
    let image = manifest.databases[0].clone();
    let path = restored.clone();
    tokio::task::spawn_blocking(move || {
        tenantry_backup::restore_database(&image, &store, &path, |_| Ok(()))
    })
    .await
    .unwrap()
    .unwrap();
    let copy = rusqlite::Connection::open(&restored).unwrap();
    let (n, sum): (i64, i64) = copy
        .query_row("SELECT count(*), sum(id) FROM big", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((n, sum), (100_000, 5_000_050_000));

    // A throttled backup: a second one is refused while it runs, and CANCEL JOB leaves its set incomplete.
    let mut sys = server.connect("root@sys").await;
    sys.query_drop("ALTER SYSTEM SET bulk_io_max_rate = '256KB'")
        .await
        .unwrap();
    t.query_drop("ALTER SYSTEM BACKUP INCREMENTAL DATABASE")
        .await
        .unwrap();
    let (code, _, msg) = expect_error(&mut t, "ALTER SYSTEM BACKUP DATABASE").await;
    assert_eq!((code, msg.as_str()), (9036, "Backup is in progress"));
    let running: i64 = loop {
        let r: Option<i64> = t
            .query_first(
                "SELECT job_id FROM [SHOW JOBS] WHERE job_type = 'BACKUP' AND status = 'running'",
            )
            .await
            .unwrap();
        if let Some(r) = r {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    t.query_drop(format!("CANCEL JOB {running}")).await.unwrap();
    let done: Row = t
        .query_first(format!("SHOW JOB WHEN COMPLETE {running}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.get::<String, _>("status").as_deref(), Some("canceled"));
    assert!(
        !dest_dir
            .path()
            .join("tenant_1001/backup_set_2/manifest.json")
            .exists(),
        "a canceled set is incomplete"
    );
    sys.query_drop("ALTER SYSTEM SET bulk_io_max_rate = '0'")
        .await
        .unwrap();
}
