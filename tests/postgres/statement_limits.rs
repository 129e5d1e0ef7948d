//! Deep statements end in PostgreSQL's 54001 (stack depth limit exceeded), never in a crash, over the
//! simple and the extended protocol; long flat ones run.

use crate::common::{simple_rows, sqlstate, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_statements_are_refused_and_the_connection_keeps_working() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    let deep = [
        format!("SELECT 1{}", "+1".repeat(100_000)),
        format!("SELECT {}1{}", "(".repeat(100_000), ")".repeat(100_000)),
        format!("SELECT {}1{}", "(SELECT ".repeat(5000), ")".repeat(5000)),
        format!("SELECT 1{}", " UNION SELECT 1".repeat(50_000)),
        format!("SELECT 1 WHERE true{}", " AND true".repeat(100_000)),
    ];
    for sql in &deep {
        let e = c.simple_query(sql).await.expect_err("refused");
        assert_eq!(sqlstate(&e), "54001", "{:.40}: {e}", sql);
        assert_eq!(
            simple_rows(&c, "SELECT 1").await,
            vec![vec![Some("1".to_string())]]
        );
        // The extended protocol parses the same way.
        let e = c.prepare(sql).await.expect_err("refused");
        assert_eq!(sqlstate(&e), "54001", "{:.40}: {e}", sql);
    }
    assert_eq!(
        simple_rows(&c, &format!("SELECT 1{}", "+1".repeat(900))).await,
        vec![vec![Some("901".to_string())]]
    );
    let list = (0..100_000)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(
        simple_rows(&c, &format!("SELECT 99999 IN ({list})")).await,
        vec![vec![Some("1".to_string())]]
    );
    let other = server.pg("root@sys", "", None).await;
    assert_eq!(
        simple_rows(&other, "SELECT 2").await,
        vec![vec![Some("2".to_string())]]
    );
}
