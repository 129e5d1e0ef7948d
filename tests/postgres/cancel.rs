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
