//! S3-compatible destinations over the MySQL wire (OceanBase's surface): `ALTER SYSTEM SET DATA_BACKUP_DEST =
//! 's3://...'` with OceanBase's parameters and validation errors, a backup into the bucket, a restore from it
//! into a new tenant, and the secret nowhere to be seen (views, SHOW JOBS, SHOW PROCESSLIST, SHOW PARAMETERS,
//! errors, the server's log).

use mysql_async::prelude::*;
use mysql_async::{Conn, Row};

use crate::clone::tenant_digest;
use crate::common::{big_table, expect_error, final_status, TestServer};
use crate::s3_server::{S3Server, ACCESS_KEY, SECRET_KEY};

/// Every text value of every row of `sql`, for looking for a secret in it.
async fn all_text(c: &mut Conn, sql: &str) -> String {
    let rows: Vec<Row> = c.query(sql).await.unwrap();
    let mut out = String::new();
    for r in rows {
        for i in 0..r.len() {
            if let Some(mysql_async::Value::Bytes(b)) = r.as_ref(i) {
                out.push_str(&String::from_utf8_lossy(b));
                out.push('\n');
            }
        }
    }
    out
}

fn assert_no_secret(what: &str, text: &str) {
    assert!(
        !text.contains(SECRET_KEY) && !text.contains("Sup3r"),
        "{what} shows the secret: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_to_s3_and_restore_from_it() {
    let s3 = S3Server::start(&["backups"]);
    let server = TestServer::start_logged();
    server.create_tenant("t1").await;
    let mut t = server.connect("root@t1").await;
    t.query_drop("CREATE DATABASE shop").await.unwrap();
    big_table(&mut t, "shop", 20_000).await;

    // OceanBase's validation: every refusal changes nothing and never quotes the secret.
    let endpoint = s3.endpoint();
    for (uri, code, words) in [
        (
            format!("s3://backups/t1?host={endpoint}&access_id={ACCESS_KEY}"),
            4147,
            "access_key is required",
        ),
        (
            format!("s3://backups/t1?host=s3.us-west-2.amazonaws.com&access_id={ACCESS_KEY}&access_key={SECRET_KEY}&s3_region=eu-west-1"),
            9117,
            "the specified s3_region does not match the endpoint",
        ),
        (
            format!("s3://backups/t1?host=ftp://x&access_id={ACCESS_KEY}&access_key={SECRET_KEY}"),
            9118,
            "object storage endpoint is invalid",
        ),
        (
            format!("s3://backups/t1?host={endpoint}&access_id={ACCESS_KEY}&access_key={SECRET_KEY}&colour=red"),
            4147,
            "unknown S3 query parameters: colour",
        ),
        (
            // A wrong secret: the server refuses the probe.
            format!("s3://backups/t1?host={endpoint}&access_id={ACCESS_KEY}&access_key=Sup3rWrong"),
            4147,
            "data_backup_dest",
        ),
        (
            // A bucket that does not exist.
            format!("s3://nobucket/t1?host={endpoint}&access_id={ACCESS_KEY}&access_key={SECRET_KEY}"),
            4147,
            "data_backup_dest",
        ),
    ] {
        let (got, _, msg) =
            expect_error(&mut t, &format!("ALTER SYSTEM SET DATA_BACKUP_DEST = '{uri}'")).await;
        assert_eq!(got, code, "{uri}: {msg}");
        assert!(msg.contains(words), "{uri}: {msg}");
        assert_no_secret("an error", &msg);
    }
    assert!(
        s3.objects("backups", "").is_empty(),
        "a refused destination wrote nothing"
    );

    let dest = s3.ob_uri("backups", "t1");
    t.query_drop(format!("ALTER SYSTEM SET DATA_BACKUP_DEST = '{dest}'"))
        .await
        .unwrap();
    let params = all_text(&mut t, "SHOW PARAMETERS LIKE 'data_backup_dest'").await;
    assert!(
        params.contains(&format!(
            "s3://backups/t1?host={}",
            endpoint.replace(':', "%3A").replace('/', "%2F")
        )),
        "{params}"
    );
    assert_no_secret("SHOW PARAMETERS", &params);
    assert!(s3
        .objects("backups", "t1")
        .contains(&"t1/format".to_string()));

    let digest = tenant_digest(&mut t).await;
    t.query_drop("ALTER SYSTEM BACKUP DATABASE").await.unwrap();
    let id: i64 = t
        .query_first("SELECT job_id FROM [SHOW JOBS] WHERE job_type = 'BACKUP'")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(final_status(&mut t, id).await, "succeeded");
    let objects = s3.objects("backups", "t1");
    assert!(
        objects.contains(&"t1/tenant_1001/backup_set_1/manifest.json".to_string()),
        "{objects:?}"
    );
    assert!(
        objects.iter().any(|o| o.starts_with("t1/chunks/")),
        "{objects:?}"
    );
    assert!(s3.open_uploads().is_empty(), "{:?}", s3.open_uploads());
    let jobs_view = all_text(&mut t, "SELECT * FROM oceanbase.DBA_OB_BACKUP_JOB_HISTORY").await;
    assert!(jobs_view.contains("s3://backups/t1?host="), "{jobs_view}");
    assert_no_secret("DBA_OB_BACKUP_JOB_HISTORY", &jobs_view);
    let sets = all_text(&mut t, "SELECT * FROM oceanbase.DBA_OB_BACKUP_SET_FILES").await;
    assert!(
        sets.contains("s3://backups/t1/tenant_1001/backup_set_1?host="),
        "{sets}"
    );
    assert_no_secret("DBA_OB_BACKUP_SET_FILES", &sets);

    // Restore into a new tenant, from sys, naming the destination with its credentials.
    let mut sys = server.connect("root@sys").await;
    sys.query_drop("CREATE RESOURCE UNIT ru MAX_CPU 1, MEMORY_SIZE '2G'")
        .await
        .unwrap();
    sys.query_drop("CREATE RESOURCE POOL rp UNIT = 'ru', UNIT_NUM = 1")
        .await
        .unwrap();
    sys.query_drop(format!(
        "ALTER SYSTEM RESTORE t2 FROM '{dest}' WITH 'pool_list=rp'"
    ))
    .await
    .unwrap();
    let restore: i64 = sys
        .query_first("SELECT MAX(job_id) FROM [SHOW JOBS] WHERE job_type = 'RESTORE'")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(final_status(&mut sys, restore).await, "succeeded");
    let mut t2 = server.connect("root@t2").await;
    assert_eq!(tenant_digest(&mut t2).await, digest);

    let history = all_text(&mut sys, "SELECT * FROM oceanbase.DBA_OB_RESTORE_HISTORY").await;
    assert!(history.contains("s3://backups/t1?host="), "{history}");
    assert_no_secret("DBA_OB_RESTORE_HISTORY", &history);
    let jobs = all_text(&mut sys, "SELECT * FROM crdb_internal.jobs").await;
    assert!(
        jobs.contains("ALTER SYSTEM RESTORE t2 FROM 's3://backups/t1?host="),
        "{jobs}"
    );
    assert_no_secret("crdb_internal.jobs", &jobs);
    assert_no_secret("SHOW JOBS", &all_text(&mut sys, "SHOW JOBS").await);
    assert_no_secret("the server's log", &server.log());
}
