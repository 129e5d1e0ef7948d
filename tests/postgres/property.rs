//! Property test over the PostgreSQL wire: the same generated statements as the MySQL wire's (fixed
//! seed), over the simple protocol; each ends in rows or an error with a SQLSTATE, the connection is
//! never dropped, and the server stays up.

#[path = "../mysql/sqlgen.rs"]
mod sqlgen;

use crate::common::{simple_rows, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_statements_get_a_result_or_an_error() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    c.batch_execute(
        "CREATE TABLE g (id INT PRIMARY KEY, v VARCHAR(20), n INT); \
         CREATE TABLE keep (v VARCHAR(10)); INSERT INTO keep VALUES ('kept')",
    )
    .await
    .unwrap();
    let mut generator = sqlgen::SqlGen::new(0x5eed_0002);
    let (mut ok, mut refused) = (0, 0);
    for _ in 0..2000 {
        // `?` is MySQL's placeholder; over this wire it is `$1`.
        let sql = generator.next_statement().replace('?', "$1");
        match c.simple_query(&sql).await {
            Ok(_) => ok += 1,
            Err(e) if e.code().is_some() => refused += 1,
            Err(e) => panic!("{:.200}: the connection broke: {e}", sql),
        }
        assert!(!c.is_closed(), "{:.200}: the connection closed", sql);
    }
    assert!(ok > 250 && refused > 250, "{ok} ran, {refused} refused");
    let _ = c.simple_query("ROLLBACK").await;
    assert_eq!(
        simple_rows(&c, "SELECT v FROM keep").await,
        vec![vec![Some("kept".to_string())]]
    );
    let fresh = server.pg("root@sys", "", None).await;
    assert_eq!(
        simple_rows(&fresh, "SELECT 1").await,
        vec![vec![Some("1".to_string())]]
    );
}
