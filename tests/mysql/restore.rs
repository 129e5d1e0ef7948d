//! Restore: ALTER SYSTEM RESTORE into a new tenant (full and incremental sets, UNTIL TIME), the restore views,
//! CANCEL RESTORE leaving nothing behind, refused corrupted and incomplete sets, a restart mid-restore, and
//! CockroachDB's SHOW BACKUPS / RESTORE DATABASE / RESTORE TABLE.

use std::time::Duration;

use mysql_async::prelude::*;
use mysql_async::{Conn, Row};

use crate::clone::tenant_digest;
use crate::common::{big_table, expect_error, final_status, set_rate, TestServer};

/// Points tenant `t`'s backups at a new directory in its part of the external-IO directory and returns
/// (dir, uri).
async fn destination(server: &TestServer, tenant: &str) -> (std::path::PathBuf, String) {
    let dir = server.external_dir().join(tenant).join("bk");
    let uri = format!("file://{}", dir.display());
    let mut sys = server.connect("root@sys").await;
    sys.query_drop(format!(
        "ALTER SYSTEM SET DATA_BACKUP_DEST = '{uri}' TENANT = {tenant}"
    ))
    .await
    .unwrap();
    (dir, uri)
}

/// Backs up the connected tenant and waits; returns the set's END_TIMESTAMP.
async fn backup(t: &mut Conn, incremental: bool) -> String {
    let sql = if incremental {
        "ALTER SYSTEM BACKUP INCREMENTAL DATABASE"
    } else {
        "ALTER SYSTEM BACKUP DATABASE"
    };
    t.query_drop(sql).await.unwrap();
    let id: i64 = t
        .query_first("SELECT MAX(job_id) FROM [SHOW JOBS] WHERE job_type = 'BACKUP'")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(final_status(t, id).await, "succeeded");
    t.query_first("SELECT END_TIMESTAMP FROM oceanbase.DBA_OB_BACKUP_SET_FILES ORDER BY BACKUP_SET_ID DESC LIMIT 1")
        .await
        .unwrap()
        .unwrap()
}

async fn new_pool(sys: &mut Conn, pool: &str) {
    sys.query_drop("CREATE RESOURCE UNIT IF NOT EXISTS ru MAX_CPU 1, MEMORY_SIZE '2G'")
        .await
        .unwrap();
    sys.query_drop(format!(
        "CREATE RESOURCE POOL {pool} UNIT = 'ru', UNIT_NUM = 1"
    ))
    .await
    .unwrap();
}

/// Waits for the newest restore of `tenant` to reach the history and returns its row.
async fn restore_history(sys: &mut Conn, tenant: &str) -> Row {
    for _ in 0..3000 {
        let row: Option<Row> = sys
            .exec_first(
                "SELECT * FROM oceanbase.DBA_OB_RESTORE_HISTORY WHERE RESTORE_TENANT_NAME = ? \
                 AND JOB_ID = (SELECT MAX(job_id) FROM [SHOW JOBS] WHERE job_type = 'RESTORE')",
                (tenant,),
            )
            .await
            .unwrap();
        if let Some(row) = row {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the restore of {tenant} never finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_and_incremental_sets_restore_exactly_to_their_cuts() {
    let server = TestServer::start();
    server.create_tenant("src").await;
    let (_dir, uri) = destination(&server, "src").await;
    let mut t = server.connect("root@src").await;
    big_table(&mut t, "test", 5_000).await;
    t.query_drop("CREATE DATABASE shop").await.unwrap();
    t.query_drop("CREATE TABLE shop.items (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(20), UNIQUE KEY u_name (name))")
        .await
        .unwrap();
    t.query_drop("INSERT INTO shop.items (name) VALUES ('a'), ('b')")
        .await
        .unwrap();
    t.query_drop("CREATE USER clerk IDENTIFIED BY 'pw'")
        .await
        .unwrap();
    // Through a role (MySQL 8's form): its membership must come along with the users.
    t.query_drop("CREATE ROLE 'shop_read'; GRANT SELECT ON shop.* TO 'shop_read'; GRANT 'shop_read' TO clerk")
        .await
        .unwrap();
    let mut cuts = Vec::new();
    let digest = tenant_digest(&mut t).await;
    cuts.push((backup(&mut t, false).await, digest));
    t.query_drop("UPDATE test.big SET a = a + 1 WHERE id % 7 = 0")
        .await
        .unwrap();
    t.query_drop("INSERT INTO shop.items (name) VALUES ('c')")
        .await
        .unwrap();
    let digest = tenant_digest(&mut t).await;
    cuts.push((backup(&mut t, true).await, digest));
    t.query_drop("DELETE FROM test.big WHERE id > 4000")
        .await
        .unwrap();
    t.query_drop("CREATE TABLE shop.extra (k INT PRIMARY KEY)")
        .await
        .unwrap();
    t.query_drop("INSERT INTO shop.extra VALUES (1), (2)")
        .await
        .unwrap();
    let digest = tenant_digest(&mut t).await;
    cuts.push((backup(&mut t, true).await, digest));
    t.query_drop("DELETE FROM shop.items").await.unwrap();

    let mut sys = server.connect("root@sys").await;
    for (i, (until, digest)) in cuts.iter().enumerate() {
        let name = format!("r{i}");
        new_pool(&mut sys, &format!("rp{i}")).await;
        sys.query_drop(format!(
            "ALTER SYSTEM RESTORE {name} FROM '{uri}' UNTIL TIME = '{until}' WITH 'pool_list=rp{i}' DESCRIPTION 'cut {i}'"
        ))
        .await
        .unwrap();
        let row = restore_history(&mut sys, &name).await;
        assert_eq!(
            row.get::<String, _>("STATUS").unwrap(),
            "SUCCESS",
            "{row:?}"
        );
        assert_eq!(row.get::<String, _>("BACKUP_TENANT_NAME").unwrap(), "src");
        assert_eq!(
            row.get::<String, _>("DESCRIPTION").unwrap(),
            format!("cut {i}")
        );
        assert_eq!(
            row.get::<i64, _>("FINISH_BYTES"),
            row.get::<i64, _>("TOTAL_BYTES")
        );
        assert!(row
            .get::<String, _>("BACKUP_SET_LIST")
            .unwrap()
            .ends_with(&format!("backup_set_{}", i + 1)));
        let mut r = server.connect(&format!("root@{name}")).await;
        assert_eq!(&tenant_digest(&mut r).await, digest, "restore of cut {i}");
        // Users and grants come back too.
        let mut clerk = server
            .connect_with(&format!("clerk@{name}"), "pw", None)
            .await;
        let (code, _, _) = expect_error(&mut clerk, "DELETE FROM shop.items").await;
        assert_eq!(code, 1142);
        // Role memberships too: clerk reads shop through its role.
        let n: Option<i64> = clerk
            .query_first("SELECT COUNT(*) FROM shop.items")
            .await
            .unwrap();
        assert!(n.is_some_and(|n| n > 0));
    }
    // Without UNTIL: the newest set; it shows in SHOW JOBS as RESTORE.
    new_pool(&mut sys, "rp_latest").await;
    sys.query_drop(format!(
        "ALTER SYSTEM RESTORE latest FROM '{uri}' WITH 'pool_list=rp_latest'"
    ))
    .await
    .unwrap();
    restore_history(&mut sys, "latest").await;
    let mut r = server.connect("root@latest").await;
    assert_eq!(tenant_digest(&mut r).await, cuts[2].1);
    let n: i64 = sys
        .query_first(
            "SELECT COUNT(*) FROM [SHOW JOBS] WHERE job_type = 'RESTORE' AND status = 'succeeded'",
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 4);
    // Statement checks.
    new_pool(&mut sys, "rp_free").await;
    let cases = [
        (format!("ALTER SYSTEM RESTORE latest FROM '{uri}' WITH 'pool_list=rp_x'"), 5156),
        (format!("ALTER SYSTEM RESTORE other FROM '{uri}' WITH 'pool_list=nosuch'"), 4650),
        (format!("ALTER SYSTEM RESTORE other FROM '{uri}' WITH 'pool_list=rp0'"), 4626),
        (format!("ALTER SYSTEM RESTORE other FROM '{uri}' UNTIL TIME = '2001-01-01 00:00:00' WITH 'pool_list=rp_free'"), 9068),
    ];
    for (sql, want) in cases {
        let (code, _, msg) = expect_error(&mut sys, &sql).await;
        assert_eq!(code, want, "{sql}: {msg}");
    }
    let (code, _, _) = expect_error(
        &mut t,
        &format!("ALTER SYSTEM RESTORE x FROM '{uri}' WITH 'pool_list=rp_x'"),
    )
    .await;
    assert_eq!(code, 1227, "only root@sys restores tenants");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_restore_mid_flight_leaves_nothing_behind() {
    let server = TestServer::start();
    server.create_tenant("src").await;
    let (_dir, uri) = destination(&server, "src").await;
    let mut t = server.connect("root@src").await;
    big_table(&mut t, "test", 40_000).await;
    backup(&mut t, false).await;
    let mut sys = server.connect("root@sys").await;
    new_pool(&mut sys, "rp").await;
    set_rate(&server, "256KB").await;
    sys.query_drop(format!(
        "ALTER SYSTEM RESTORE r1 FROM '{uri}' WITH 'pool_list=rp'"
    ))
    .await
    .unwrap();
    // Live progress: FINISH_BYTES moves while the tenant is being written; the tenant serves nothing meanwhile.
    let mut seen = None;
    for _ in 0..1000 {
        let row: Option<(String, i64, i64, i64)> = sys
            .query_first("SELECT STATUS, TOTAL_BYTES, FINISH_BYTES, RESTORE_TENANT_ID FROM oceanbase.DBA_OB_RESTORE_PROGRESS")
            .await
            .unwrap();
        if let Some((status, total, done, id)) = row {
            if status == "RESTORE_DATA" && done > 0 {
                assert!(done < total);
                seen = Some(id);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let tenant_id = seen.expect("the restore reported progress");
    assert!(Conn::new(server.opts("root@r1", "", None)).await.is_err());
    let (code, _, _) = expect_error(&mut sys, "DROP TENANT r1").await;
    assert_eq!(
        code, 4179,
        "a restoring tenant is removed by canceling its restore"
    );

    sys.query_drop("ALTER SYSTEM CANCEL RESTORE r1")
        .await
        .unwrap();
    let row = restore_history(&mut sys, "r1").await;
    assert_eq!(row.get::<String, _>("STATUS").unwrap(), "FAILED");
    assert!(!server
        .data_dir()
        .join(format!("tenants/{tenant_id}"))
        .exists());
    let n: i64 = sys
        .query_first("SELECT COUNT(*) FROM oceanbase.DBA_OB_TENANTS WHERE TENANT_NAME = 'r1'")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 0);
    let (code, _, _) = expect_error(&mut sys, "ALTER SYSTEM CANCEL RESTORE r1").await;
    assert_eq!(code, 5157);
    let (code, _, msg) = expect_error(&mut sys, "ALTER SYSTEM CANCEL RESTORE src").await;
    assert_eq!(
        (code, msg.as_str()),
        (4179, "Cancel tenant not in restore is not allowed")
    );
    // The name and the pool can be used again.
    set_rate(&server, "0").await;
    sys.query_drop(format!(
        "ALTER SYSTEM RESTORE r1 FROM '{uri}' WITH 'pool_list=rp'"
    ))
    .await
    .unwrap();
    let row = restore_history(&mut sys, "r1").await;
    assert_eq!(row.get::<String, _>("STATUS").unwrap(), "SUCCESS");
    let mut r1 = server.connect("root@r1").await;
    let n: i64 = r1
        .query_first("SELECT COUNT(*) FROM test.big")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 40_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_and_incomplete_sets_are_refused() {
    let server = TestServer::start();
    server.create_tenant("src").await;
    let (dir, uri) = destination(&server, "src").await;
    let mut t = server.connect("root@src").await;
    big_table(&mut t, "test", 2_000).await;
    backup(&mut t, false).await;
    let manifest: tenantry_backup::Manifest = serde_json::from_slice(
        &std::fs::read(dir.join("tenant_1001/backup_set_1/manifest.json")).unwrap(),
    )
    .unwrap();
    let hash = manifest.databases[0].chunks.last().unwrap().hash.clone();
    let chunk = dir.join(format!("chunks/{}/{hash}", &hash[..2]));
    let mut bytes = std::fs::read(&chunk).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5a;
    std::fs::write(&chunk, bytes).unwrap();

    let mut sys = server.connect("root@sys").await;
    new_pool(&mut sys, "rp").await;
    sys.query_drop(format!(
        "ALTER SYSTEM RESTORE r1 FROM '{uri}' WITH 'pool_list=rp'"
    ))
    .await
    .unwrap();
    let row = restore_history(&mut sys, "r1").await;
    assert_eq!(row.get::<String, _>("STATUS").unwrap(), "FAILED");
    let comment: String = row.get("COMMENT").unwrap();
    assert!(
        comment.contains("backup set 1") && comment.contains(&hash),
        "{comment}"
    );
    let n: i64 = sys
        .query_first("SELECT COUNT(*) FROM oceanbase.DBA_OB_TENANTS WHERE TENANT_NAME = 'r1'")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 0, "a failed restore cleans up like a cancel");

    // A set without its manifest is never restored.
    std::fs::remove_file(dir.join("tenant_1001/backup_set_1/manifest.json")).unwrap();
    let (code, _, msg) = expect_error(
        &mut sys,
        &format!("ALTER SYSTEM RESTORE r1 FROM '{uri}' WITH 'pool_list=rp'"),
    )
    .await;
    assert_eq!(code, 9068);
    assert!(msg.contains("backup set 1 is incomplete"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_killed_mid_way_resumes_after_restart() {
    let mut server = TestServer::start();
    server.create_tenant("src").await;
    let (_dir, uri) = destination(&server, "src").await;
    let mut t = server.connect("root@src").await;
    big_table(&mut t, "test", 40_000).await;
    backup(&mut t, false).await;
    let before = tenant_digest(&mut t).await;
    drop(t);
    let mut sys = server.connect("root@sys").await;
    new_pool(&mut sys, "rp").await;
    set_rate(&server, "256KB").await;
    sys.query_drop(format!(
        "ALTER SYSTEM RESTORE r1 FROM '{uri}' WITH 'pool_list=rp'"
    ))
    .await
    .unwrap();
    loop {
        let done: Option<i64> = sys
            .query_first("SELECT FINISH_BYTES FROM oceanbase.DBA_OB_RESTORE_PROGRESS")
            .await
            .unwrap();
        if done.unwrap_or(0) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(sys);
    server.kill9();
    server.restart();
    assert!(
        Conn::new(server.opts("root@r1", "", None)).await.is_err(),
        "half-restored tenants serve nothing"
    );
    set_rate(&server, "0").await;
    let mut sys = server.connect("root@sys").await;
    let row = restore_history(&mut sys, "r1").await;
    assert_eq!(row.get::<String, _>("STATUS").unwrap(), "SUCCESS");
    let mut r1 = server.connect("root@r1").await;
    assert_eq!(tenant_digest(&mut r1).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cockroach_restore_of_a_database_and_a_table() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    server.create_tenant("t2").await;
    let uri = server.tenant_uri("t1", "bk");
    let mut t = server.connect("root@t1").await;
    t.query_drop("CREATE DATABASE shop").await.unwrap();
    t.query_drop("CREATE TABLE shop.items (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(20), KEY by_name (name))")
        .await
        .unwrap();
    t.query_drop("INSERT INTO shop.items (name) VALUES ('a'), ('b'), ('c')")
        .await
        .unwrap();
    let out: Vec<Row> = t.query(format!("BACKUP INTO '{uri}'")).await.unwrap();
    assert_eq!(out[0].get::<String, _>("status").unwrap(), "succeeded");
    let paths: Vec<String> = t.query(format!("SHOW BACKUPS IN '{uri}'")).await.unwrap();
    assert_eq!(paths, ["/tenant_1001/backup_set_1"]);
    let rows: Vec<Row> = t
        .query(format!("SHOW BACKUP LATEST IN '{uri}'"))
        .await
        .unwrap();
    let objects: Vec<(Option<String>, String, String)> = rows
        .into_iter()
        .map(|r| {
            (
                r.get("database_name").unwrap(),
                r.get("object_name").unwrap(),
                r.get("object_type").unwrap(),
            )
        })
        .collect();
    assert!(
        objects.contains(&(Some("shop".into()), "items".into(), "table".into())),
        "{objects:?}"
    );

    t.query_drop("DELETE FROM shop.items WHERE id = 2")
        .await
        .unwrap();
    t.query_drop(format!(
        "RESTORE DATABASE shop FROM LATEST IN '{uri}' WITH new_db_name = 'shop_copy'"
    ))
    .await
    .unwrap();
    let names: Vec<String> = t
        .query("SELECT name FROM shop_copy.items ORDER BY id")
        .await
        .unwrap();
    assert_eq!(names, ["a", "b", "c"]);
    let (code, _, _) = expect_error(
        &mut t,
        &format!("RESTORE DATABASE shop FROM LATEST IN '{uri}'"),
    )
    .await;
    assert_eq!(code, 1007, "the database exists");
    t.query_drop("DROP TABLE shop.items").await.unwrap();
    t.query_drop(format!("RESTORE TABLE shop.items FROM LATEST IN '{uri}'"))
        .await
        .unwrap();
    let names: Vec<String> = t
        .query("SELECT name FROM shop.items WHERE name >= 'b' ORDER BY name")
        .await
        .unwrap();
    assert_eq!(names, ["b", "c"]);
    t.query_drop("INSERT INTO shop.items (name) VALUES ('d')")
        .await
        .unwrap();
    let id: i64 = t
        .query_first("SELECT id FROM shop.items WHERE name = 'd'")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(id, 4, "AUTO_INCREMENT continues after the restored rows");
    let detached: Vec<i64> = t
        .query(format!(
            "RESTORE DATABASE shop FROM LATEST IN '{uri}' WITH new_db_name = 'shop3', DETACHED"
        ))
        .await
        .unwrap();
    assert_eq!(final_status(&mut t, detached[0]).await, "succeeded");
    // Another tenant cannot read t1's sets, even knowing where they are: they lie outside its part of the
    // external-IO directory.
    let mut t2 = server.connect("root@t2").await;
    for sql in [
        format!("SHOW BACKUPS IN '{uri}'"),
        format!("RESTORE DATABASE shop FROM LATEST IN '{uri}'"),
    ] {
        let (code, _, msg) = expect_error(&mut t2, &sql).await;
        assert_eq!(code, 1290, "{sql}: {msg}");
        assert!(
            msg.starts_with("local file access to paths outside of external-io-dir"),
            "{msg}"
        );
    }
}
