//! `tenantry jobs`: the table of jobs in the terminal, through the REST API.

use std::process::Command;

use mysql_async::prelude::*;

use crate::common::TestServer;

fn tenantry_jobs(server: &TestServer, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tenantry"))
        .arg("jobs")
        .args(["--http-addr", &format!("127.0.0.1:{}", server.http_port)])
        .args(args)
        .output()
        .expect("run tenantry jobs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenantry_jobs_prints_the_table() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    server.create_tenant("t2").await;
    let mut c = server.connect("root@t1").await;
    c.query_drop("CREATE TABLE test.s (a INT)").await.unwrap();
    c.query_drop("CREATE INDEX by_a ON test.s (a)")
        .await
        .unwrap();
    let id: i64 = c
        .query_first("SELECT job_id FROM [SHOW JOBS]")
        .await
        .unwrap()
        .unwrap();

    let (ok, out, err) = tenantry_jobs(&server, &[]);
    assert!(ok, "{err}");
    let header = out.lines().next().unwrap();
    for col in [
        "JOB ID", "TYPE", "TENANT", "OWNER", "STATE", "PROGRESS", "SPEED", "ETA",
    ] {
        assert!(header.contains(col), "{out}");
    }
    let row = out
        .lines()
        .find(|l| l.starts_with(&id.to_string()))
        .unwrap_or_else(|| panic!("job {id} listed: {out}"));
    for part in ["SCHEMA CHANGE", "t1", "root", "succeeded", "100.0%", "by_a"] {
        assert!(row.contains(part), "{part} in {row}");
    }

    // --tenant filters; another tenant's administrator sees nothing of t1.
    let (ok, out, _) = tenantry_jobs(&server, &["--tenant", "t2"]);
    assert!(ok);
    assert_eq!(out.trim(), "no jobs");
    let (ok, out, _) = tenantry_jobs(&server, &["--user", "root@t2"]);
    assert!(ok);
    assert_eq!(out.trim(), "no jobs");
    let (ok, out, _) = tenantry_jobs(&server, &["--user", "root@t1", "--tenant", "t1"]);
    assert!(ok);
    assert!(out.contains(&id.to_string()), "{out}");

    // Errors are the API's, with a failing exit status.
    let (ok, _, err) = tenantry_jobs(&server, &["--user", "root@t1", "--password", "wrong"]);
    assert!(!ok);
    assert!(
        err.contains("Access denied") && err.contains("unauthorized"),
        "{err}"
    );
    let (ok, _, err) = tenantry_jobs(&server, &["--state", "bogus"]);
    assert!(!ok);
    assert!(err.contains("bad_request"), "{err}");
    let (ok, _, err) = Command::new(env!("CARGO_BIN_EXE_tenantry"))
        .args(["jobs", "--http-addr", "127.0.0.1:1"])
        .output()
        .map(|o| {
            (
                o.status.success(),
                (),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .unwrap();
    assert!(!ok);
    assert!(err.contains("cannot reach the server"), "{err}");
}
