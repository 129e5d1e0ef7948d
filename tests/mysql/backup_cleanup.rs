//! Backup cleanup: delete policies, the cleanup that follows a canceled backup, expiry, DELETE BACKUPSET,
//! CANCEL DELETE BACKUP; and cancel of a backup whose destination vanishes.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use mysql_async::prelude::*;
use mysql_async::Conn;

use crate::common::{big_table, expect_error, final_status, set_rate, TestServer};

/// The chunk files a destination holds (their hashes).
fn chunk_files(dest: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Ok(dirs) = std::fs::read_dir(dest.join("chunks")) else {
        return out;
    };
    for dir in dirs {
        for f in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            out.insert(f.unwrap().file_name().to_string_lossy().into_owned());
        }
    }
    out
}

fn manifest_path(dest: &Path, set: i64) -> std::path::PathBuf {
    dest.join(format!("tenant_1001/backup_set_{set}/manifest.json"))
}

/// The chunks a complete set's manifest names.
fn manifest_chunks(dest: &Path, set: i64) -> BTreeSet<String> {
    let m: tenantry_backup::Manifest =
        serde_json::from_slice(&std::fs::read(manifest_path(dest, set)).unwrap()).unwrap();
    m.databases
        .into_iter()
        .flat_map(|d| d.chunks.into_iter().map(|c| c.hash))
        .collect()
}

/// Runs a backup to completion and returns its job id.
async fn complete_backup(t: &mut Conn) -> i64 {
    t.query_drop("ALTER SYSTEM BACKUP DATABASE").await.unwrap();
    let id = newest_job(t, "BACKUP").await;
    assert_eq!(final_status(t, id).await, "succeeded");
    id
}

/// The newest job of a type the session sees.
async fn newest_job(t: &mut Conn, job_type: &str) -> i64 {
    t.query_first(format!(
        "SELECT max(job_id) FROM crdb_internal.jobs WHERE job_type = '{job_type}'"
    ))
    .await
    .unwrap()
    .unwrap()
}

/// Starts a throttled backup and returns its id once it is running and has written something.
async fn running_backup(server: &TestServer, t: &mut Conn, rate: &str) -> i64 {
    set_rate(server, rate).await;
    t.query_drop("ALTER SYSTEM BACKUP DATABASE").await.unwrap();
    loop {
        let id: Option<i64> = t
            .query_first(
                "SELECT job_id FROM [SHOW JOBS] WHERE job_type = 'BACKUP' AND status = 'running'",
            )
            .await
            .unwrap();
        if let Some(id) = id {
            tokio::time::sleep(Duration::from_millis(700)).await;
            return id;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits for the newest cleanup job to end; returns its id.
async fn cleanup_done(t: &mut Conn) -> i64 {
    for _ in 0..500 {
        let id: Option<i64> = t
            .query_first(
                "SELECT max(job_id) FROM crdb_internal.jobs WHERE job_type = 'BACKUP CLEANUP'",
            )
            .await
            .unwrap();
        if let Some(id) = id {
            assert_eq!(final_status(t, id).await, "succeeded");
            return id;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no cleanup job started");
}

async fn set_files(t: &mut Conn) -> Vec<(i64, String, String)> {
    t.query("SELECT BACKUP_SET_ID, STATUS, FILE_STATUS FROM oceanbase.DBA_OB_BACKUP_SET_FILES ORDER BY 1")
        .await
        .unwrap()
}

/// A tenant t1 (1001) with a 100,000-row table and a destination; returns its admin connection.
async fn tenant_with_dest(server: &TestServer, dest: &Path) -> Conn {
    server.create_tenant("t1").await;
    let mut t = server.connect("root@t1").await;
    big_table(&mut t, "test", 100_000).await;
    t.query_drop(format!(
        "ALTER SYSTEM SET DATA_BACKUP_DEST = 'file://{}'",
        dest.display()
    ))
    .await
    .unwrap();
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_policy_a_canceled_backup_is_cleaned_up() {
    let server = TestServer::start();
    let dest_dir = server.external_dir().join("t1/bk");
    let dest = dest_dir.as_path();
    let mut t = tenant_with_dest(&server, dest).await;
    t.query_drop("ALTER SYSTEM ADD DELETE BACKUP POLICY 'default'")
        .await
        .unwrap();
    let policy: Vec<(String, String)> = t
        .query("SELECT POLICY_NAME, RECOVERY_WINDOW FROM oceanbase.DBA_OB_BACKUP_DELETE_POLICY")
        .await
        .unwrap();
    assert_eq!(policy, vec![("default".into(), "0".into())]);
    complete_backup(&mut t).await;
    let set1 = manifest_chunks(dest, 1);
    assert_eq!(chunk_files(dest), set1);

    // Every page changes, so the next backup writes chunks no complete set uses.
    t.query_drop("UPDATE test.big SET b = 'changed-' || id")
        .await
        .unwrap();
    let id = running_backup(&server, &mut t, "256KB").await;
    let during = chunk_files(dest);
    assert!(
        during.len() > set1.len(),
        "the canceled backup wrote chunks of its own"
    );
    t.query_drop("ALTER SYSTEM CANCEL BACKUP").await.unwrap();
    assert_eq!(final_status(&mut t, id).await, "canceled");
    set_rate(&server, "0").await;

    // The policy's cleanup starts right after the cancel and removes exactly the incomplete set's chunks.
    let cleanup = cleanup_done(&mut t).await;
    assert_eq!(
        chunk_files(dest),
        set1,
        "what set 1 uses stays, the rest is gone"
    );
    assert!(!dest.join("tenant_1001/backup_set_2").exists());
    assert_eq!(
        set_files(&mut t).await,
        vec![
            (1, "SUCCESS".into(), "AVAILABLE".into()),
            (2, "FAILED".into(), "DELETED".into())
        ]
    );
    let history: Vec<(i64, String, String, String, i64, i64, i64)> = t
        .query("SELECT JOB_ID, TYPE, JOB_LEVEL, STATUS, TASK_COUNT, SUCCESS_TASK_COUNT, RESULT FROM oceanbase.DBA_OB_BACKUP_DELETE_JOB_HISTORY")
        .await
        .unwrap();
    assert_eq!(
        history,
        vec![(
            cleanup,
            "DELETE OBSOLETE BACKUP".into(),
            "USER_TENANT".into(),
            "COMPLETED".into(),
            1,
            1,
            0
        )]
    );
    let shown: String = t
        .query_first(format!(
            "SELECT job_type FROM [SHOW JOBS] WHERE job_id = {cleanup}"
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shown, "BACKUP CLEANUP");
    // The complete set is untouched and whole.
    let ok: Vec<(String, i64, i64, String)> =
        t.query("ALTER SYSTEM VALIDATE BACKUPSET 1").await.unwrap();
    assert!(ok.iter().all(|r| r.3 == "VALID"), "{ok:?}");
    // sys sees the job and the policy in the CDB views.
    let mut sys = server.connect("root@sys").await;
    let n: i64 = sys
        .query_first("SELECT count(*) FROM oceanbase.CDB_OB_BACKUP_DELETE_JOB_HISTORY WHERE TENANT_ID = 1001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 1);
    let p: Vec<(i64, String)> = sys
        .query("SELECT TENANT_ID, POLICY_NAME FROM oceanbase.CDB_OB_BACKUP_DELETE_POLICY")
        .await
        .unwrap();
    assert_eq!(p, vec![(1001, "default".into())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_policy_an_incomplete_set_stays_until_one_is_added() {
    let server = TestServer::start();
    let dest_dir = server.external_dir().join("t1/bk");
    let dest = dest_dir.as_path();
    let mut t = tenant_with_dest(&server, dest).await;
    complete_backup(&mut t).await;
    t.query_drop("UPDATE test.big SET b = 'changed-' || id")
        .await
        .unwrap();
    let id = running_backup(&server, &mut t, "256KB").await;
    t.query_drop(format!("CANCEL JOB {id}")).await.unwrap();
    assert_eq!(final_status(&mut t, id).await, "canceled");
    set_rate(&server, "0").await;
    let after_cancel = chunk_files(dest);
    assert!(after_cancel.len() > manifest_chunks(dest, 1).len());
    // Nothing cleans it: no cleanup job, the chunks stay, the set is INCOMPLETE and cannot be restored.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cleanups: i64 = t
        .query_first("SELECT count(*) FROM crdb_internal.jobs WHERE job_type = 'BACKUP CLEANUP'")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cleanups, 0);
    assert_eq!(chunk_files(dest), after_cancel);
    assert_eq!(
        set_files(&mut t).await,
        vec![
            (1, "SUCCESS".into(), "AVAILABLE".into()),
            (2, "FAILED".into(), "INCOMPLETE".into())
        ]
    );
    let (code, _, msg) = expect_error(&mut t, "ALTER SYSTEM VALIDATE BACKUPSET 2").await;
    assert_eq!(code, 9068);
    assert!(msg.contains("incomplete"), "{msg}");
    let (code, _, msg) =
        expect_error(&mut t, "ALTER SYSTEM DROP DELETE BACKUP POLICY 'default'").await;
    assert_eq!((code, msg.as_str()), (4018, "Entry not exist"));

    // Adding a policy cleans the incomplete set at once.
    t.query_drop("ALTER SYSTEM ADD DELETE BACKUP POLICY = 'default' RECOVERY_WINDOW = '7d'")
        .await
        .unwrap();
    cleanup_done(&mut t).await;
    assert_eq!(chunk_files(dest), manifest_chunks(dest, 1));
    assert_eq!(
        set_files(&mut t).await[1],
        (2, "FAILED".into(), "DELETED".into())
    );
    t.query_drop("ALTER SYSTEM DROP DELETE BACKUP POLICY 'default'")
        .await
        .unwrap();
    let none: Option<String> = t
        .query_first("SELECT POLICY_NAME FROM oceanbase.DBA_OB_BACKUP_DELETE_POLICY")
        .await
        .unwrap();
    assert_eq!(none, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_statements_scope_and_errors() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let mut sys = server.connect("root@sys").await;
    let mut t = server.connect("root@t1").await;
    // sys names exactly one user tenant; a user tenant names none.
    sys.query_drop(
        "ALTER SYSTEM ADD DELETE BACKUP POLICY 'default' RECOVERY_WINDOW '1d' TENANT = t1",
    )
    .await
    .unwrap();
    assert_eq!(
        expect_error(&mut sys, "ALTER SYSTEM ADD DELETE BACKUP POLICY 'default'")
            .await
            .0,
        1235
    );
    assert_eq!(
        expect_error(
            &mut sys,
            "ALTER SYSTEM ADD DELETE BACKUP POLICY 'default' TENANT = nosuch"
        )
        .await
        .0,
        5157
    );
    let (code, state, msg) = expect_error(
        &mut t,
        "ALTER SYSTEM DROP DELETE BACKUP POLICY 'default' TENANT = t1",
    )
    .await;
    assert_eq!(
        (code, state.as_str(), msg.as_str()),
        (1235, "0A000", "Not supported feature or function")
    );
    let (code, _, msg) =
        expect_error(&mut t, "ALTER SYSTEM ADD DELETE BACKUP POLICY 'default'").await;
    assert_eq!(code, 4179, "{msg}");
    assert_eq!(
        expect_error(&mut t, "ALTER SYSTEM ADD DELETE BACKUP POLICY 'mine'")
            .await
            .0,
        1235
    );
    assert_eq!(
        expect_error(
            &mut t,
            "ALTER SYSTEM ADD DELETE BACKUP POLICY 'default' RECOVERY_WINDOW '7 years'"
        )
        .await
        .0,
        1210
    );
    let window: String = t
        .query_first("SELECT RECOVERY_WINDOW FROM oceanbase.DBA_OB_BACKUP_DELETE_POLICY")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(window, "1d", "failed statements changed nothing");
    t.query_drop("CREATE USER plain IDENTIFIED BY 'pw'")
        .await
        .unwrap();
    let mut plain = server.connect_with("plain@t1", "pw", None).await;
    for sql in [
        "ALTER SYSTEM DROP DELETE BACKUP POLICY 'default'",
        "ALTER SYSTEM DELETE BACKUPSET 1",
        "ALTER SYSTEM CANCEL DELETE BACKUP",
    ] {
        assert_eq!(expect_error(&mut plain, sql).await.0, 1227, "{sql}");
    }
    assert_eq!(
        expect_error(
            &mut t,
            "SELECT * FROM oceanbase.CDB_OB_BACKUP_DELETE_POLICY"
        )
        .await
        .0,
        1146
    );
    sys.query_drop("ALTER SYSTEM DROP DELETE BACKUP POLICY 'default' TENANT t1")
        .await
        .unwrap();
    // Nothing to cancel is not an error, from sys or from the tenant.
    sys.query_drop("ALTER SYSTEM CANCEL DELETE BACKUP")
        .await
        .unwrap();
    t.query_drop("ALTER SYSTEM CANCEL DELETE BACKUP")
        .await
        .unwrap();
    assert_eq!(
        expect_error(&mut t, "ALTER SYSTEM CANCEL DELETE BACKUP TENANT = t1")
            .await
            .0,
        1235
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_backupset_and_cancel_delete_backup() {
    let server = TestServer::start();
    let dest_dir = server.external_dir().join("t1/bk");
    let dest = dest_dir.as_path();
    let mut t = tenant_with_dest(&server, dest).await;
    complete_backup(&mut t).await;
    t.query_drop("UPDATE test.big SET b = 'changed-' || id")
        .await
        .unwrap();
    complete_backup(&mut t).await;
    let (code, _, msg) = expect_error(&mut t, "ALTER SYSTEM DELETE BACKUPSET 9").await;
    assert_eq!((code, msg.as_str()), (4018, "Entry not exist"));

    // A set whose backup is running cannot be deleted; a cleanup waits while a backup writes to the destination,
    // and CANCEL DELETE BACKUP stops it there, before it removed anything.
    let running = running_backup(&server, &mut t, "256KB").await;
    let (code, state, msg) = expect_error(&mut t, "ALTER SYSTEM DELETE BACKUPSET 3").await;
    assert_eq!(
        (code, state.as_str(), msg.as_str()),
        (9045, "HY000", "delete backup set do not allow")
    );
    t.query_drop("ALTER SYSTEM DELETE BACKUPSET 1")
        .await
        .unwrap();
    let cleanup = newest_job(&mut t, "BACKUP CLEANUP").await;
    // The job starts (INIT, then DOING) and stays DOING, waiting for the backup.
    let mut waiting: Vec<(String, String, String)> = Vec::new();
    for _ in 0..500 {
        waiting = t
            .query("SELECT TYPE, PARAMETER, STATUS FROM oceanbase.DBA_OB_BACKUP_DELETE_JOBS")
            .await
            .unwrap();
        if waiting.iter().all(|w| w.2 != "INIT") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        waiting,
        vec![("DELETE BACKUP SET".into(), "1".into(), "DOING".into())]
    );
    t.query_drop("ALTER SYSTEM CANCEL DELETE BACKUP")
        .await
        .unwrap();
    assert_eq!(final_status(&mut t, cleanup).await, "canceled");
    let (status, result): (String, i64) = t
        .query_first(format!("SELECT STATUS, RESULT FROM oceanbase.DBA_OB_BACKUP_DELETE_JOB_HISTORY WHERE JOB_ID = {cleanup}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((status.as_str(), result), ("CANCELED", -4072));
    assert!(
        manifest_path(dest, 1).exists(),
        "a canceled delete removed nothing"
    );
    t.query_drop(format!("CANCEL JOB {running}")).await.unwrap();
    assert_eq!(final_status(&mut t, running).await, "canceled");
    set_rate(&server, "0").await;

    // Now it runs: set 1's manifest and the chunks only it used go; set 2 stays whole.
    t.query_drop("ALTER SYSTEM DELETE BACKUPSET 1")
        .await
        .unwrap();
    let cleanup = cleanup_done(&mut t).await;
    assert!(!manifest_path(dest, 1).exists());
    assert_eq!(chunk_files(dest), manifest_chunks(dest, 2));
    assert_eq!(
        set_files(&mut t).await,
        vec![
            (1, "SUCCESS".into(), "DELETED".into()),
            (2, "SUCCESS".into(), "AVAILABLE".into()),
            (3, "FAILED".into(), "INCOMPLETE".into())
        ]
    );
    let (ty, param, tasks): (String, String, i64) = t
        .query_first(format!("SELECT TYPE, PARAMETER, SUCCESS_TASK_COUNT FROM oceanbase.DBA_OB_BACKUP_DELETE_JOB_HISTORY WHERE JOB_ID = {cleanup}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ty.as_str(), param.as_str(), tasks),
        ("DELETE BACKUP SET", "1", 1)
    );
    let ok: Vec<(String, i64, i64, String)> =
        t.query("ALTER SYSTEM VALIDATE BACKUPSET 2").await.unwrap();
    assert!(ok.iter().all(|r| r.3 == "VALID"));
    assert_eq!(
        expect_error(&mut t, "ALTER SYSTEM DELETE BACKUPSET 1")
            .await
            .0,
        4018,
        "a deleted set is gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_removes_old_sets_but_keeps_the_newest_complete_one() {
    let server = TestServer::start();
    let dest_dir = server.external_dir().join("t1/bk");
    let dest = dest_dir.as_path();
    let mut t = tenant_with_dest(&server, dest).await;
    complete_backup(&mut t).await;
    t.query_drop("UPDATE test.big SET b = 'changed-' || id")
        .await
        .unwrap();
    complete_backup(&mut t).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Both sets are older than the window; the newest complete one is kept all the same.
    t.query_drop("ALTER SYSTEM ADD DELETE BACKUP POLICY 'default' RECOVERY_WINDOW '1s'")
        .await
        .unwrap();
    cleanup_done(&mut t).await;
    assert!(!manifest_path(dest, 1).exists());
    assert!(manifest_path(dest, 2).exists());
    assert_eq!(chunk_files(dest), manifest_chunks(dest, 2));
    assert_eq!(
        set_files(&mut t).await,
        vec![
            (1, "SUCCESS".into(), "DELETED".into()),
            (2, "SUCCESS".into(), "AVAILABLE".into())
        ]
    );
    // With only one complete set left, the next look finds nothing to remove.
    let before = newest_job(&mut t, "BACKUP CLEANUP").await;
    t.query_drop("ALTER SYSTEM DROP DELETE BACKUP POLICY 'default'")
        .await
        .unwrap();
    t.query_drop("ALTER SYSTEM ADD DELETE BACKUP POLICY 'default' RECOVERY_WINDOW '1s'")
        .await
        .unwrap();
    assert_eq!(newest_job(&mut t, "BACKUP CLEANUP").await, before);
    assert!(manifest_path(dest, 2).exists());
}

/// Point 5 of the backup issue: cancel works when the destination vanishes mid-backup (here: its directory is
/// replaced by a plain file, which makes every write fail even for root).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_works_when_the_destination_vanishes() {
    let server = TestServer::start();
    let dest = server.external_dir().join("t1/dest");
    std::fs::create_dir_all(&dest).unwrap();
    let mut t = tenant_with_dest(&server, &dest).await;
    let vanish = |dest: &Path| {
        std::fs::rename(dest, dest.with_extension("gone")).unwrap();
        std::fs::write(dest, b"not a directory").unwrap();
    };
    let restore = |dest: &Path| {
        std::fs::remove_file(dest).unwrap();
        std::fs::rename(dest.with_extension("gone"), dest).unwrap();
    };

    // Canceled right after the destination went: the job ends (canceled, or failed if the write failed first).
    let id = running_backup(&server, &mut t, "256KB").await;
    vanish(&dest);
    t.query_drop("ALTER SYSTEM CANCEL BACKUP").await.unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), final_status(&mut t, id))
        .await
        .expect("the job ends");
    assert!(status == "canceled" || status == "failed", "{status}");
    restore(&dest);

    // Gone before any cancel: the backup fails by itself, saying why.
    let id = running_backup(&server, &mut t, "256KB").await;
    vanish(&dest);
    let status = tokio::time::timeout(Duration::from_secs(30), final_status(&mut t, id))
        .await
        .expect("the job ends");
    assert_eq!(status, "failed");
    let (status, result, comment): (String, i64, String) = t
        .query_first(format!("SELECT STATUS, RESULT, COMMENT FROM oceanbase.DBA_OB_BACKUP_JOB_HISTORY WHERE JOB_ID = {id}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, "FAILED");
    assert!(result < 0);
    assert!(comment.contains("backup destination"), "{comment}");
    // A cancel of the ended job is refused cleanly, and the server goes on serving.
    t.query_drop("ALTER SYSTEM CANCEL BACKUP").await.unwrap();
    restore(&dest);
    set_rate(&server, "0").await;
    complete_backup(&mut t).await;
}
