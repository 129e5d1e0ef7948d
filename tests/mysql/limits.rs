//! Hostile clients meet limits (issue 14): a client that goes away stops its statement, connection caps,
//! packet sizes, statement time and memory, idle sessions and login throttling.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use mysql_async::Row;

use crate::common::TestServer;

const ENDLESS: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c";

/// Whether session `id` shows a running statement in SHOW FULL PROCESSLIST (None: the session is gone).
async fn running(admin: &mut mysql_async::Conn, id: i64) -> Option<bool> {
    let rows: Vec<Row> = admin.query("SHOW FULL PROCESSLIST").await.unwrap();
    rows.iter()
        .find(|r| r.get::<i64, _>("Id") == Some(id))
        .map(|r| r.get::<String, _>("Command").as_deref() == Some("Query"))
}

/// Installs Debian's mariadb-client if the `mariadb` command is missing (`.ci/run` installs it up front).
fn ensure_mariadb() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if Command::new("mariadb").arg("--version").output().is_err() {
            let ok = Command::new("sh")
                .args(["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-client"])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "the mariadb client is missing and could not be installed");
        }
    });
}

/// A `mariadb` client killed (SIGKILL) in the middle of an endless query: the server notices the closed socket
/// and stops the statement, instead of running it until the end of time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_stops_its_statement() {
    ensure_mariadb();
    let server = TestServer::start();
    let mut admin = server.connect("root@sys").await;
    let before: Vec<Row> = admin.query("SHOW FULL PROCESSLIST").await.unwrap();
    let mut client = Command::new("mariadb")
        .args([
            "-h127.0.0.1",
            &format!("-P{}", server.mysql_port),
            "-uroot@sys",
            "-e",
            ENDLESS,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the mariadb client runs");
    // The client's session is the one that was not there before.
    let id = loop {
        let rows: Vec<Row> = admin.query("SHOW FULL PROCESSLIST").await.unwrap();
        let new = rows.iter().find(|r| {
            let id = r.get::<i64, _>("Id");
            r.get::<String, _>("Command").as_deref() == Some("Query")
                && r.get::<String, _>("Info")
                    .is_some_and(|i| i.starts_with("WITH RECURSIVE"))
                && !before.iter().any(|b| b.get::<i64, _>("Id") == id)
        });
        if let Some(r) = new {
            break r.get::<i64, _>("Id").unwrap();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    client.kill().unwrap();
    client.wait().unwrap();
    let gone_at = Instant::now();
    while running(&mut admin, id).await == Some(true) {
        assert!(
            gone_at.elapsed() < Duration::from_secs(20),
            "the statement of a client that went away still runs"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    eprintln!(
        "statement stopped {:?} after the client died",
        gone_at.elapsed()
    );
    // The server is fine.
    let one: Option<i64> = admin.query_first("SELECT 1").await.unwrap();
    assert_eq!(one, Some(1));
}
