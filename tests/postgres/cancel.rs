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
