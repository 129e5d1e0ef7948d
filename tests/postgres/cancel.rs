//! The wire-level CancelRequest interrupts the running SQLite statement.

use std::time::Duration;

use tokio_postgres::NoTls;

use crate::common::{simple_rows, sqlstate, TestServer};

const ENDLESS: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_request_interrupts_the_statement() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    let token = c.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        token.cancel_query(NoTls).await
    });
    let e = tokio::time::timeout(Duration::from_secs(20), c.simple_query(ENDLESS))
        .await
        .expect("the statement stops")
        .unwrap_err();
    assert_eq!(sqlstate(&e), "57014");
    canceller.await.unwrap().unwrap();
    // The connection goes on.
    assert_eq!(
        simple_rows(&c, "SELECT 1").await,
        vec![vec![Some("1".to_string())]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_cancel_backend_and_terminate() {
    let server = TestServer::start();
    let victim = server.pg("root@sys", "", None).await;
    let pid: i64 = simple_rows(&victim, "SELECT CONNECTION_ID()").await[0][0]
        .as_ref()
        .unwrap()
        .parse()
        .unwrap();
    let admin = server.pg("root@sys", "", None).await;
    let running = tokio::spawn(async move {
        let r = victim.simple_query(ENDLESS).await.map(|_| ());
        (victim, r)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let row = admin
        .query_one(&format!("SELECT pg_cancel_backend({pid})"), &[])
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));
    let (victim, r) = tokio::time::timeout(Duration::from_secs(20), running)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sqlstate(&r.unwrap_err()), "57014");

    // Terminating closes the connection; an unknown pid answers false.
    assert_eq!(
        simple_rows(&admin, &format!("SELECT pg_terminate_backend({pid})")).await,
        vec![vec![Some("t".to_string())]]
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(victim.simple_query("SELECT 1").await.is_err());
    assert_eq!(
        simple_rows(&admin, "SELECT pg_cancel_backend(999999)").await,
        vec![vec![Some("f".to_string())]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_sessions_cancel_query_and_cancel_session() {
    let server = TestServer::start();
    let victim = server.pg("root@sys", "", None).await;
    let admin = server.pg("root@sys", "", None).await;
    let pid = simple_rows(&victim, "SELECT CONNECTION_ID()").await[0][0]
        .clone()
        .unwrap();
    let running = tokio::spawn(async move {
        let r = victim.simple_query(ENDLESS).await;
        (victim, r)
    });
    // SHOW QUERIES lists the running statement under its query id.
    let mut query_id = None;
    for _ in 0..200 {
        let rows = admin.query("SHOW QUERIES", &[]).await.unwrap();
        if let Some(r) = rows
            .iter()
            .find(|r| r.get::<_, String>("session_id") == pid)
        {
            assert!(r.get::<_, String>("query").starts_with("WITH RECURSIVE"));
            query_id = Some(r.get::<_, String>("query_id"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let query_id = query_id.expect("the running query shows in SHOW QUERIES");
    let sessions = admin.query("SHOW SESSIONS", &[]).await.unwrap();
    assert!(sessions.len() >= 2);
    assert!(sessions
        .iter()
        .any(|r| r.get::<_, String>("session_id") == pid
            && r.get::<_, String>("user_name") == "root"));
    admin
        .batch_execute(&format!("CANCEL QUERY '{query_id}'"))
        .await
        .unwrap();
    let (victim, r) = tokio::time::timeout(Duration::from_secs(20), running)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sqlstate(&r.unwrap_err()), "57014");
    assert_eq!(
        simple_rows(&victim, "SELECT 1").await,
        vec![vec![Some("1".to_string())]]
    );
    // CANCEL SESSION closes the connection; an unknown id is an error.
    admin
        .batch_execute(&format!("CANCEL SESSION '{pid}'"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(victim.simple_query("SELECT 1").await.is_err());
    assert!(admin
        .batch_execute("CANCEL SESSION '999999'")
        .await
        .is_err());
}

/// Statements that run forever; the second fills a system view before SQLite starts, which widens the window
/// between being listed and running SQLite (where an interrupt used to be lost).
const ENDLESS_FORMS: [&str; 2] = [
    ENDLESS,
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
     SELECT COUNT(*) FROM c, oceanbase.DBA_OB_TENANTS",
];

/// A cancel sent the moment the statement is listed stops it, every time: the stop request cannot be lost
/// between the statement's start and its first SQLite step (issue 14, Found 6).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_query_right_after_listing_always_stops_it() {
    let server = TestServer::start();
    let victim = std::sync::Arc::new(server.pg("root@sys", "", None).await);
    let admin = server.pg("root@sys", "", None).await;
    let pid = simple_rows(&victim, "SELECT CONNECTION_ID()").await[0][0]
        .clone()
        .unwrap();
    for round in 0..40 {
        let sql = ENDLESS_FORMS[round % 2];
        let running = {
            let victim = victim.clone();
            tokio::spawn(async move { victim.simple_query(sql).await.map(|_| ()) })
        };
        let query_id = loop {
            let rows = admin.query("SHOW QUERIES", &[]).await.unwrap();
            if let Some(r) = rows
                .iter()
                .find(|r| r.get::<_, String>("session_id") == pid)
            {
                break r.get::<_, String>("query_id");
            }
        };
        admin
            .batch_execute(&format!("CANCEL QUERY '{query_id}'"))
            .await
            .unwrap();
        let r = tokio::time::timeout(Duration::from_secs(20), running)
            .await
            .unwrap_or_else(|_| panic!("round {round}: the canceled statement still runs"))
            .unwrap();
        assert_eq!(sqlstate(&r.unwrap_err()), "57014", "round {round}");
    }
    assert_eq!(
        simple_rows(&victim, "SELECT 1").await,
        vec![vec![Some("1".to_string())]]
    );
}
