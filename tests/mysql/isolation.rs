//! The isolation suite: a hostile user of tenant t1 against tenant t2 (and the host), over the MySQL wire, the
//! PostgreSQL wire and the REST API. Every probe that once got through, and every one that might, goes here:
//! files, backup destinations, backups, jobs, views. Each probe asserts the exact refusal and that nothing
//! changed or appeared as a result (no row loaded, no file or directory made, no other tenant's object touched).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mysql_async::prelude::*;
use mysql_async::{Conn, Row};

use crate::common::{big_table, expect_error, final_status, set_rate, TestServer};
use crate::http_client::{Api, Auth};

/// Tenants t1 (the attacker's, 1001) and t2 (the victim, 1002), and in t1 a database `shop` with a one-column
/// table `lines`, a user `mallory` holding INSERT and SELECT on it, and a file of its own.
async fn two_tenants() -> TestServer {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    server.create_tenant("t2").await;
    let mut t1 = server.connect("root@t1").await;
    for sql in [
        "CREATE DATABASE shop",
        "CREATE TABLE shop.lines (line TEXT)",
        "CREATE USER mallory IDENTIFIED BY 'pw'",
        "GRANT SELECT, INSERT ON shop.* TO mallory",
    ] {
        t1.query_drop(sql).await.unwrap();
    }
    std::fs::write(server.tenant_dir("t1").join("mine.csv"), "mine\n").unwrap();
    std::fs::write(server.tenant_dir("t2").join("secret.csv"), "t2 secret\n").unwrap();
    server
}

async fn lines(c: &mut Conn) -> Vec<String> {
    c.query("SELECT line FROM shop.lines ORDER BY line")
        .await
        .unwrap()
}

/// Points `tenant`'s backups at `nodelocal://1/bk` and takes one backup; returns the job's id.
async fn backed_up(server: &TestServer, tenant: &str) -> i64 {
    let mut t = server.connect(&format!("root@{tenant}")).await;
    big_table(&mut t, "test", 2_000).await;
    t.query_drop("ALTER SYSTEM SET DATA_BACKUP_DEST = 'nodelocal://1/bk'")
        .await
        .unwrap();
    t.query_drop("ALTER SYSTEM BACKUP DATABASE").await.unwrap();
    let id: i64 = t
        .query_first("SELECT MAX(job_id) FROM [SHOW JOBS] WHERE job_type = 'BACKUP'")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(final_status(&mut t, id).await, "succeeded");
    id
}

/// Every path under `dir`, sorted (to show that nothing appeared or went).
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                todo.push(e.path());
            }
            out.push(e.path());
        }
    }
    out.sort();
    out
}

fn load(name: &str) -> String {
    format!("LOAD DATA INFILE '{name}' INTO TABLE shop.lines")
}

fn import(name: &str) -> String {
    format!("IMPORT INTO shop.lines CSV DATA ('{name}')")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_files_and_other_tenants_files_are_out_of_reach() {
    let server = two_tenants().await;
    let ext = server.external_dir();
    let data = server.data_dir().to_path_buf();
    // Links an operator (or anyone with a shell) might leave in t1's directory.
    std::os::unix::fs::symlink(ext.join("t2/secret.csv"), ext.join("t1/to_t2.csv")).unwrap();
    std::os::unix::fs::symlink("/etc", ext.join("t1/etc")).unwrap();
    std::os::unix::fs::symlink(ext.join("t2"), ext.join("t1/t2dir")).unwrap();

    // A user with INSERT but not FILE: the server reads no file for it, not even its tenant's own, and the
    // answer is the same whether the file exists or not (no existence probe).
    let mut mallory = server.connect_with("mallory@t1", "pw", Some("shop")).await;
    for name in ["/etc/shadow", "/etc/no-such-file", "mine.csv"] {
        let (code, state, msg) = expect_error(&mut mallory, &load(name)).await;
        assert_eq!(
            (code, state.as_str(), msg.as_str()),
            (
                1045,
                "28000",
                "Access denied for user 'mallory'@'127.0.0.1' (using password: YES)"
            ),
            "{name}"
        );
    }
    for name in ["file:///proc/self/environ", "nodelocal://1/mine.csv"] {
        let (code, _, msg) = expect_error(&mut mallory, &import(name)).await;
        assert_eq!(code, 1227, "{name}: {msg}");
        assert!(msg.contains("FILE"), "{msg}");
    }
    // LOCAL means the client's file, never the server's: the server asks the client for it, and this
    // client (mysql_async without a local-infile handler) refuses to send any and drops its connection;
    // nothing is loaded. (A client that did not enable local files gets 3948; see compat_drivers.rs.)
    for name in ["/etc/shadow", "mine.csv"] {
        let sql = format!("LOAD DATA LOCAL INFILE '{name}' INTO TABLE shop.lines");
        match mallory.query_drop(&sql).await {
            Err(mysql_async::Error::Driver(mysql_async::DriverError::LocalInfile(_))) => {}
            other => panic!("{name}: the client refuses to send a file, got {other:?}"),
        }
        mallory = server.connect_with("mallory@t1", "pw", Some("shop")).await;
        let n: Option<i64> = mallory
            .query_first("SELECT COUNT(*) FROM shop.lines")
            .await
            .unwrap();
        assert_eq!(n, Some(0), "{name}: nothing loaded");
    }
    let pg_mallory = server.pg("mallory@t1", "pw", Some("shop")).await;
    let e = pg_mallory
        .simple_query(&import("file:///proc/self/environ"))
        .await
        .unwrap_err();
    assert_eq!(e.code().unwrap().code(), "42501", "{e:?}");

    // t1's administrator holds FILE in its tenant, and is confined to extern/t1/.
    let mut root = server.connect_with("root@t1", "", Some("shop")).await;
    let outside = [
        "/etc/shadow".to_string(),
        "/etc/no-such-file".to_string(),
        "/proc/self/environ".to_string(),
        format!("{}/t2/secret.csv", ext.display()),
        format!("{}/t1/../t2/secret.csv", ext.display()),
        format!("{}/t1/./../t2/secret.csv", ext.display()),
        format!("{}//t1/.//..//t2/secret.csv", ext.display()),
        "../t2/secret.csv".to_string(),
        "to_t2.csv".to_string(),
        "etc/passwd".to_string(),
        "t2dir/secret.csv".to_string(),
        format!("{}/catalog.sqlite", data.display()),
        format!("{}/tenants/1002/db_1.sqlite", data.display()),
        "t2dir/../../t2/secret.csv".to_string(),
    ];
    for name in &outside {
        let (code, state, msg) = expect_error(&mut root, &load(name)).await;
        assert_eq!((code, state.as_str()), (1290, "HY000"), "{name}: {msg}");
        assert_eq!(
            msg,
            "The MySQL server is running with the --external-io-dir option so it cannot execute this statement"
        );
    }
    for name in outside
        .iter()
        .filter(|n| n.starts_with('/'))
        .map(|n| format!("file://{n}"))
        .chain([
            "nodelocal://1/../t2/secret.csv".to_string(),
            "nodelocal://self/t2dir/secret.csv".to_string(),
        ])
    {
        let (code, _, msg) = expect_error(&mut root, &import(&name)).await;
        assert_eq!(code, 1290, "{name}: {msg}");
        assert!(
            msg.starts_with("local file access to paths outside of external-io-dir is not allowed"),
            "{msg}"
        );
    }
    let pg_root = server.pg("root@t1", "", Some("shop")).await;
    for name in [
        "file:///etc/passwd".to_string(),
        format!("file://{}/t2/secret.csv", ext.display()),
        "nodelocal://1/../t2/secret.csv".to_string(),
    ] {
        let e = pg_root.simple_query(&import(&name)).await.unwrap_err();
        assert_eq!(e.code().unwrap().code(), "42501", "{name}: {e:?}");
    }
    // Nothing was loaded, and no job was made for any refused statement.
    assert!(lines(&mut root).await.is_empty());
    let jobs: Vec<i64> = root
        .query("SELECT job_id FROM [SHOW JOBS] WHERE job_type = 'IMPORT'")
        .await
        .unwrap();
    assert!(jobs.is_empty(), "{jobs:?}");

    // Its own files load, by every spelling of them.
    root.query_drop(load("mine.csv")).await.unwrap();
    root.query_drop(import("nodelocal://1/mine.csv"))
        .await
        .unwrap();
    root.query_drop(load(&format!("{}/t1/mine.csv", ext.display())))
        .await
        .unwrap();
    assert_eq!(lines(&mut root).await, ["mine", "mine", "mine"]);
    // With FILE granted, mallory too, inside t1's directory only.
    root.query_drop("GRANT FILE ON *.* TO mallory")
        .await
        .unwrap();
    mallory.query_drop(load("mine.csv")).await.unwrap();
    let (code, _, _) = expect_error(&mut mallory, &load("../t2/secret.csv")).await;
    assert_eq!(code, 1290);
    assert_eq!(lines(&mut root).await.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destinations_are_confined_owned_and_made_only_after_every_check() {
    let server = two_tenants().await;
    let ext = server.external_dir();
    let data = server.data_dir().to_path_buf();
    backed_up(&server, "t2").await;
    let t2_tree = tree(&ext.join("t2"));
    let data_tree = tree(&data.join("tenants"));
    let mut root = server.connect("root@t1").await;

    // Another tenant's destination, the host, the data directory: never, by any spelling.
    let marker = format!("tenantry_isolation_{}", std::process::id());
    // (the parameter's refusal is an invalid value, 4147; BACKUP INTO's the file access refusal, 1290)
    for (uri, set_code, into_code) in [
        (format!("file://{}/t2/bk", ext.display()), 4147, 1290),
        (format!("file://{}/t1/../t2/bk", ext.display()), 4147, 1290),
        (
            format!("file://{}/t1/./../t2/bk/.", ext.display()),
            4147,
            1290,
        ),
        (format!("file://{}//t2//bk//", ext.display()), 4147, 1290),
        ("nodelocal://1/../t2/bk".to_string(), 4147, 1290),
        (format!("file:///tmp/{marker}"), 4147, 1290),
        (format!("file:///tmp/{marker}/../../etc"), 4147, 1290),
        (
            format!("file://{}/tenants/1002", data.display()),
            4147,
            1290,
        ),
        (format!("file://{}", data.display()), 4147, 1290),
        // A query would make a second spelling of one place.
        (format!("file://{}/t1/bk?x=1", ext.display()), 1235, 1235),
    ] {
        let sql = format!("ALTER SYSTEM SET DATA_BACKUP_DEST = '{uri}'");
        let (code, _, msg) = expect_error(&mut root, &sql).await;
        assert_eq!(code, set_code, "{sql}: {msg}");
        let sql = format!("BACKUP INTO '{uri}'");
        let (code, _, msg) = expect_error(&mut root, &sql).await;
        assert_eq!(code, into_code, "{sql}: {msg}");
    }
    // sys cannot point t1 at t2's destination either: a tenant's destination lies in its own directory.
    let mut sys = server.connect("root@sys").await;
    let (code, _, msg) = expect_error(
        &mut sys,
        &format!(
            "ALTER SYSTEM SET DATA_BACKUP_DEST = 'file://{}/t2/bk' TENANT = t1",
            ext.display()
        ),
    )
    .await;
    assert_eq!(code, 4147, "{msg}");

    // Inside t1's directory: a copy of t2's destination is still t2's (its format file says so: -9081), and
    // a directory that holds anything without a format file is nobody's (-9080).
    copy_dir(&ext.join("t2/bk"), &ext.join("t1/copy"));
    std::fs::create_dir_all(ext.join("t1/data")).unwrap();
    std::fs::write(ext.join("t1/data/x.csv"), "x\n").unwrap();
    for (uri, want) in [("nodelocal://1/copy", 9081), ("nodelocal://1/data", 9080)] {
        for sql in [
            format!("ALTER SYSTEM SET DATA_BACKUP_DEST = '{uri}'"),
            format!("BACKUP INTO '{uri}'"),
        ] {
            let (code, _, msg) = expect_error(&mut root, &sql).await;
            assert_eq!(code, want, "{sql}: {msg}");
        }
    }
    for sql in [
        "SHOW BACKUPS IN 'nodelocal://1/copy'",
        "RESTORE DATABASE test FROM LATEST IN 'nodelocal://1/copy' WITH new_db_name = 'stolen'",
    ] {
        let (code, _, msg) = expect_error(&mut root, sql).await;
        assert_eq!(code, 9081, "{sql}: {msg}");
    }
    for sql in [
        format!("SHOW BACKUPS IN 'file://{}/t2/bk'", ext.display()),
        format!(
            "RESTORE DATABASE test FROM LATEST IN 'file://{}/t2/bk' WITH new_db_name = 'stolen'",
            ext.display()
        ),
    ] {
        let (code, _, msg) = expect_error(&mut root, &sql).await;
        assert_eq!(code, 1290, "{sql}: {msg}");
    }
    let pg = server.pg("root@t1", "", None).await;
    for sql in [
        format!("SHOW BACKUPS IN 'file://{}/t2/bk'", ext.display()),
        format!("BACKUP INTO 'file://{}/t2/bk'", ext.display()),
    ] {
        let e = pg.simple_query(&sql).await.unwrap_err();
        assert_eq!(e.code().unwrap().code(), "42501", "{sql}: {e:?}");
    }

    // A user who may not back up creates nothing by asking.
    let mut mallory = server.connect_with("mallory@t1", "pw", None).await;
    for sql in [
        format!("BACKUP INTO 'file:///tmp/{marker}_m'"),
        "BACKUP INTO 'nodelocal://1/made_by_mallory'".to_string(),
        "ALTER SYSTEM SET DATA_BACKUP_DEST = 'nodelocal://1/made_by_mallory'".to_string(),
    ] {
        let (code, _, msg) = expect_error(&mut mallory, &sql).await;
        assert_eq!(code, 1227, "{sql}: {msg}");
    }
    assert!(!Path::new(&format!("/tmp/{marker}")).exists());
    assert!(!Path::new(&format!("/tmp/{marker}_m")).exists());
    assert!(!ext.join("t1/made_by_mallory").exists());
    // None of it touched t2's destination or the tenants' files.
    assert_eq!(tree(&ext.join("t2")), t2_tree);
    assert_eq!(tree(&data.join("tenants")), data_tree);

    // A destination is its canonical path: other spellings of t1's own are the same destination.
    root.query_drop("ALTER SYSTEM SET DATA_BACKUP_DEST = 'nodelocal://1/bk'")
        .await
        .unwrap();
    let canonical = format!("file://{}/t1/bk", ext.canonicalize().unwrap().display());
    for spelling in [
        format!("file://{}/t1/./bk/", ext.display()),
        format!("file://{}/t1/x/../bk", ext.display()),
        "nodelocal://self//bk/.".to_string(),
    ] {
        std::fs::create_dir_all(ext.join("t1/x")).unwrap();
        root.query_drop(format!("ALTER SYSTEM SET DATA_BACKUP_DEST = '{spelling}'"))
            .await
            .unwrap();
        let row: Row = root
            .query_first("SHOW PARAMETERS LIKE 'data_backup_dest'")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            row.get::<String, _>("value").unwrap(),
            canonical,
            "{spelling}"
        );
    }
    // t2's set is whole after all of it.
    let mut t2 = server.connect("root@t2").await;
    let valid: Vec<(String, i64, i64, String)> =
        t2.query("ALTER SYSTEM VALIDATE BACKUPSET 1").await.unwrap();
    assert!(valid.iter().all(|r| r.3 == "VALID"), "{valid:?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_server_writes_is_for_its_own_user_only() {
    let server = two_tenants().await;
    backed_up(&server, "t2").await;
    let bk = server.external_dir().join("t2/bk");
    let mut checked = 0;
    for path in tree(&bk)
        .into_iter()
        .chain(tree(&server.data_dir().join("tenants")))
    {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{} is {:o}", path.display(), mode);
        checked += 1;
    }
    // The manifest (with the users' password verifiers), a chunk and the format file were among them.
    assert!(bk.join("tenant_1002/backup_set_1/manifest.json").exists());
    assert!(bk.join("format").exists());
    assert!(checked > 5, "{checked}");
    let catalog = std::fs::metadata(server.data_dir().join("catalog.sqlite")).unwrap();
    assert_eq!(catalog.permissions().mode() & 0o077, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_and_views_of_another_tenant_are_invisible_over_mysql_pg_and_rest() {
    let server = two_tenants().await;
    let victim = backed_up(&server, "t2").await;
    let mine = backed_up(&server, "t1").await;
    let mut root = server.connect("root@t1").await;
    let ids: Vec<i64> = root.query("SELECT job_id FROM [SHOW JOBS]").await.unwrap();
    assert!(ids.contains(&mine) && !ids.contains(&victim), "{ids:?}");
    for sql in [
        format!("SHOW JOB {victim}"),
        format!("CANCEL JOB {victim}"),
        format!("PAUSE JOB {victim}"),
        format!("RESUME JOB {victim}"),
    ] {
        let (code, _, msg) = expect_error(&mut root, &sql).await;
        assert_eq!(code, 4018, "{sql}: {msg}");
        assert_eq!(msg, format!("job with ID {victim} does not exist"));
    }
    // The views show t1's own backups only.
    for view in [
        "DBA_OB_BACKUP_JOB_HISTORY",
        "DBA_OB_BACKUP_SET_FILES",
        "DBA_OB_BACKUP_TASKS",
    ] {
        let paths: Vec<Option<String>> = root
            .query(format!("SELECT PATH FROM oceanbase.{view}"))
            .await
            .unwrap();
        assert!(
            paths.iter().flatten().all(|p| !p.contains("/t2/")),
            "{view}: {paths:?}"
        );
    }
    let jobs: Vec<i64> = root
        .query("SELECT JOB_ID FROM oceanbase.DBA_OB_BACKUP_JOB_HISTORY")
        .await
        .unwrap();
    assert!(!jobs.is_empty() && !jobs.contains(&victim), "{jobs:?}");
    let names: Vec<String> = root
        .query("SELECT TENANT_NAME FROM oceanbase.DBA_OB_TENANTS")
        .await
        .unwrap();
    assert_eq!(names, ["t1"]);
    let pg = server.pg("root@t1", "", None).await;
    for sql in [format!("SHOW JOB {victim}"), format!("CANCEL JOB {victim}")] {
        let e = pg.simple_query(&sql).await.unwrap_err();
        assert_eq!(e.code().unwrap().code(), "42704", "{sql}: {e:?}");
    }
    let api = Api::new(&server);
    let auth = Auth::Basic("root@t1".into(), String::new());
    let a = api.get(&format!("/api/jobs/{victim}"), &auth);
    assert_eq!(a.status, 404, "{}", a.text);
    let a = api.post(&format!("/api/jobs/{victim}/cancel"), &auth, None);
    assert_eq!(a.status, 404, "{}", a.text);
    for path in ["/api/jobs?tenant=t2", "/api/jobs?limit=1000"] {
        let a = api.get(path, &auth);
        assert!(!a.text.contains(&victim.to_string()), "{path}: {}", a.text);
    }
    // t2's job is untouched.
    let mut t2 = server.connect("root@t2").await;
    assert_eq!(final_status(&mut t2, victim).await, "succeeded");
}

/// Found 4: a manifest claiming 16,777,216 pages of 65,536 bytes once made restore reserve 1 TiB and abort the
/// server, at every start. Now the set is refused when named, and a restore that meets the crafted manifest
/// mid-way (the set was changed under it while the server was down) fails with a clear error; the server
/// lives, and lives again after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crafted_manifest_fails_its_restore_and_the_server_lives_through_restarts() {
    let mut server = two_tenants().await;
    {
        let mut t1 = server.connect("root@t1").await;
        big_table(&mut t1, "shop", 60_000).await;
    }
    backed_up(&server, "t1").await;
    let manifest = server
        .external_dir()
        .join("t1/bk/tenant_1001/backup_set_1/manifest.json");
    let good = std::fs::read(&manifest).unwrap();
    let mut crafted: serde_json::Value = serde_json::from_slice(&good).unwrap();
    for db in crafted["databases"].as_array_mut().unwrap() {
        db["page_size"] = 65536.into();
        db["page_count"] = 16_777_216.into();
        let first = db["chunks"][0].clone();
        db["chunks"] = serde_json::json!([first]);
        db["chunks"][0]["pages"] = 16_777_216.into();
    }
    let crafted = serde_json::to_vec(&crafted).unwrap();
    let uri = server.tenant_uri("t1", "bk");
    let mut sys = server.connect("root@sys").await;
    for (pool, unit) in [("rp1", "ru1"), ("rp2", "ru2")] {
        sys.query_drop(format!(
            "CREATE RESOURCE UNIT {unit} MAX_CPU 1, MEMORY_SIZE '2G'"
        ))
        .await
        .unwrap();
        sys.query_drop(format!(
            "CREATE RESOURCE POOL {pool} UNIT = '{unit}', UNIT_NUM = 1"
        ))
        .await
        .unwrap();
    }

    // Named directly, the crafted set is refused before any job exists.
    std::fs::write(&manifest, &crafted).unwrap();
    let (code, _, msg) = expect_error(
        &mut sys,
        &format!("ALTER SYSTEM RESTORE r0 FROM '{uri}' WITH 'pool_list=rp1'"),
    )
    .await;
    assert_eq!(code, 9068, "{msg}");
    assert!(msg.contains("not valid"), "{msg}");

    // A restore under way when the manifest is swapped.
    std::fs::write(&manifest, &good).unwrap();
    set_rate(&server, "256KB").await;
    sys.query_drop(format!(
        "ALTER SYSTEM RESTORE r1 FROM '{uri}' WITH 'pool_list=rp2'"
    ))
    .await
    .unwrap();
    let id: i64 = loop {
        let r: Option<(i64, String)> = sys
            .query_first("SELECT job_id, status FROM [SHOW JOBS] WHERE job_type = 'RESTORE'")
            .await
            .unwrap();
        if let Some((id, status)) = r {
            if status == "running" {
                break id;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    drop(sys);
    server.kill9();
    std::fs::write(&manifest, &crafted).unwrap();
    server.restart();
    let mut sys = server.connect("root@sys").await;
    assert_eq!(final_status(&mut sys, id).await, "failed");
    let error: String = sys
        .query_first(format!("SELECT error FROM [SHOW JOBS] WHERE job_id = {id}"))
        .await
        .unwrap()
        .unwrap();
    assert!(
        error.contains("manifest") && error.contains("not valid"),
        "{error}"
    );
    assert!(server.is_running());
    let tenants: Vec<String> = sys
        .query("SELECT TENANT_NAME FROM oceanbase.DBA_OB_TENANTS ORDER BY TENANT_ID")
        .await
        .unwrap();
    assert_eq!(
        tenants,
        ["sys", "t1", "t2"],
        "the half-restored tenant is gone"
    );
    drop(sys);
    // And it stays failed: a restart does not run it again.
    assert!(server.terminate());
    server.restart();
    let mut sys = server.connect("root@sys").await;
    assert_eq!(final_status(&mut sys, id).await, "failed");
    assert!(server.is_running());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_sessions_and_metrics_of_another_tenant_are_out_of_reach() {
    let server = two_tenants().await;
    let mut t2 = server.connect("root@t2").await;
    for sql in [
        "CREATE DATABASE vault",
        "CREATE TABLE vault.secret (v TEXT)",
        "INSERT INTO vault.secret VALUES ('the t2 secret')",
        "CREATE USER bob IDENTIFIED BY 'bobpw'",
    ] {
        t2.query_drop(sql).await.unwrap();
    }
    let t2_conn: u64 = t2
        .query_first("SELECT CONNECTION_ID()")
        .await
        .unwrap()
        .unwrap();
    let mut root = server.connect("root@t1").await;

    // t2's names do not exist in t1, by any spelling that reaches SQL.
    for (sql, want) in [
        ("SELECT v FROM vault.secret", 1146),
        ("SELECT v FROM `vault`.`secret`", 1146),
        ("SELECT * FROM vault.secret UNION ALL SELECT 1", 1146),
        ("USE vault", 1049),
        ("SHOW TABLES FROM vault", 1049),
    ] {
        let (code, _, msg) = expect_error(&mut root, sql).await;
        assert_eq!(code, want, "{sql}: {msg}");
        assert!(!msg.contains("the t2 secret"), "{msg}");
    }
    let schemas: Vec<String> = root
        .query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
        .await
        .unwrap();
    assert!(!schemas.iter().any(|s| s == "vault"), "{schemas:?}");
    // t2's users are not t1's: bob@t1 does not exist, and t1's root cannot log in to t2 with its password.
    let opts = server.opts("bob@t1", "bobpw", None);
    assert!(Conn::new(opts).await.is_err());

    // t2's sessions are invisible and untouchable from t1, over both wires.
    let list: Vec<Row> = root.query("SHOW PROCESSLIST").await.unwrap();
    let ids: Vec<u64> = list
        .iter()
        .map(|r| r.get::<u64, _>("Id").unwrap())
        .collect();
    assert!(!ids.contains(&t2_conn), "{ids:?}");
    for sql in [format!("KILL QUERY {t2_conn}"), format!("KILL {t2_conn}")] {
        let (code, _, msg) = expect_error(&mut root, &sql).await;
        assert_eq!(code, 1094, "{sql}: {msg}");
    }
    let pg = server.pg("root@t1", "", None).await;
    for f in ["pg_cancel_backend", "pg_terminate_backend"] {
        let rows = pg
            .simple_query(&format!("SELECT {f}({t2_conn})"))
            .await
            .unwrap();
        let value = rows.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        });
        assert_eq!(value.as_deref(), Some("f"), "{f}");
    }
    let v: String = t2
        .query_first("SELECT v FROM vault.secret")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v, "the t2 secret", "t2's session lives on");

    // REST: t1 sees its own tenant only; /metrics (unauthenticated, as CockroachDB's) names tenants but holds
    // no SQL text, data, paths or job descriptions.
    let api = Api::new(&server);
    let auth = Auth::Basic("root@t1".into(), String::new());
    let tenants = api.get("/api/tenants", &auth);
    let names: Vec<&str> = tenants
        .json
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["t1"]);
    backed_up(&server, "t2").await;
    let metrics = api.get("/metrics", &Auth::None);
    assert_eq!(metrics.status, 200);
    for secret in [
        "vault",
        "the t2 secret",
        "bob",
        "ALTER SYSTEM",
        &server.external_dir().display().to_string(),
    ] {
        assert!(!metrics.text.contains(secret), "/metrics shows {secret}");
    }
}

/// Two clusters sharing one external-IO directory (`--external-io-dir`) have tenants with the same ids; a
/// destination's format file names its cluster too, so neither takes the other's destinations for its own. sys
/// may still restore from any destination (moving a tenant between clusters).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_belongs_to_its_cluster_as_well_as_its_tenant() {
    let a = TestServer::start();
    a.create_tenant("t1").await;
    backed_up(&a, "t1").await;
    let shared = a.external_dir();
    let b = TestServer::start_with(&["--external-io-dir", shared.to_str().unwrap()]);
    b.create_tenant("t1").await;
    let mut b_t1 = b.connect("root@t1").await;
    let tenant_id: i64 = b_t1
        .query_first("SELECT TENANT_ID FROM oceanbase.DBA_OB_TENANTS")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tenant_id, 1001, "the same id as the other cluster's t1");
    for sql in [
        "ALTER SYSTEM SET DATA_BACKUP_DEST = 'nodelocal://1/bk'",
        "BACKUP INTO 'nodelocal://1/bk'",
        "SHOW BACKUPS IN 'nodelocal://1/bk'",
    ] {
        let (code, _, msg) = expect_error(&mut b_t1, sql).await;
        assert_eq!(code, 9081, "{sql}: {msg}");
    }
    // A destination of its own in the shared directory works.
    b_t1.query_drop("ALTER SYSTEM SET DATA_BACKUP_DEST = 'nodelocal://1/bk_b'")
        .await
        .unwrap();
    let mut b_sys = b.connect("root@sys").await;
    b_sys
        .query_drop("CREATE RESOURCE UNIT ru MAX_CPU 1, MEMORY_SIZE '2G'")
        .await
        .unwrap();
    b_sys
        .query_drop("CREATE RESOURCE POOL rp UNIT = 'ru', UNIT_NUM = 1")
        .await
        .unwrap();
    b_sys
        .query_drop("ALTER SYSTEM RESTORE moved FROM 'nodelocal://1/t1/bk' WITH 'pool_list=rp'")
        .await
        .unwrap();
    let id: i64 = b_sys
        .query_first("SELECT job_id FROM [SHOW JOBS] WHERE job_type = 'RESTORE'")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(final_status(&mut b_sys, id).await, "succeeded");
    let mut moved = b.connect("root@moved").await;
    let n: i64 = moved
        .query_first("SELECT COUNT(*) FROM test.big")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 2_000);
}

#[test]
fn the_server_refuses_an_external_io_dir_that_holds_its_data() {
    let dir = tempfile::tempdir().unwrap();
    for external in [dir.path().to_path_buf(), dir.path().join("tenants")] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenantry"))
            .arg("start")
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--external-io-dir")
            .arg(&external)
            .args([
                "--mysql-addr",
                "127.0.0.1:0",
                "--pg-addr",
                "127.0.0.1:0",
                "--http-addr",
                "127.0.0.1:0",
            ])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{}", external.display());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("external-IO directory"), "{stderr}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("ready"));
    }
}
