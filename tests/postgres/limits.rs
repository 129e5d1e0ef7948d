//! Hostile clients meet limits (issue 14) on the PostgreSQL wire: a client that goes away stops its
//! statement, connection caps, statement time and memory, idle sessions and login throttling.

use std::time::{Duration, Instant};

use tokio_postgres::NoTls;

use crate::common::{simple_rows, TestServer};

const ENDLESS: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c";

/// Whether session `pid` is running a statement (None: the session is gone).
async fn running(admin: &tokio_postgres::Client, pid: &str) -> Option<bool> {
    let rows = admin.query("SHOW SESSIONS", &[]).await.unwrap();
    rows.iter()
        .find(|r| r.get::<_, String>("session_id") == pid)
        .map(|r| !r.get::<_, String>("active_queries").is_empty())
}

/// A client whose connection drops in the middle of an endless query: the server notices the closed socket
/// and stops the statement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_stops_its_statement() {
    let server = TestServer::start();
    let admin = server.pg("root@sys", "", None).await;
    let (victim, conn) = tokio_postgres::connect(&server.conninfo("root@sys", "", None), NoTls)
        .await
        .unwrap();
    // The connection's task owns the socket: aborting it drops the socket as a dying client would.
    let conn_task = tokio::spawn(async move {
        let _ = conn.await;
    });
    let pid = simple_rows(&victim, "SELECT CONNECTION_ID()").await[0][0]
        .clone()
        .unwrap();
    let query = tokio::spawn(async move { victim.simple_query(ENDLESS).await.map(|_| ()) });
    while running(&admin, &pid).await != Some(true) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    conn_task.abort();
    let _ = conn_task.await;
    let gone_at = Instant::now();
    while running(&admin, &pid).await == Some(true) {
        assert!(
            gone_at.elapsed() < Duration::from_secs(20),
            "the statement of a client that went away still runs"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    eprintln!(
        "statement stopped {:?} after the client went away",
        gone_at.elapsed()
    );
    assert!(query.await.unwrap().is_err());
    assert_eq!(
        simple_rows(&admin, "SELECT 1").await,
        vec![vec![Some("1".to_string())]]
    );
}
