//! Property test over the MySQL wire: a few thousand generated statements (fixed seed) each end in a result
//! or a server error, the connection is never dropped, and the server stays up.

use mysql_async::prelude::*;

use crate::common::TestServer;
use crate::sqlgen::SqlGen;

#[tokio::test]
async fn generated_statements_get_a_result_or_an_error() {
    let server = TestServer::start();
    let mut c = server.connect_with("root@sys", "", Some("test")).await;
    c.query_drop("CREATE TABLE g (id INT PRIMARY KEY, v VARCHAR(20), n INT)")
        .await
        .unwrap();
    c.query_drop("CREATE TABLE keep (v VARCHAR(10))")
        .await
        .unwrap();
    c.query_drop("INSERT INTO keep VALUES ('kept')")
        .await
        .unwrap();
    let mut generator = SqlGen::new(0x5eed_0001);
    let (mut ok, mut refused) = (0, 0);
    for _ in 0..2000 {
        let sql = generator.next_statement();
        match c.query_drop(&sql).await {
            Ok(()) => ok += 1,
            Err(mysql_async::Error::Server(_)) => refused += 1,
            Err(e) => panic!("{:.200}: the connection broke: {e}", sql),
        }
    }
    assert!(ok > 250 && refused > 250, "{ok} ran, {refused} refused");
    let _ = c.query_drop("ROLLBACK").await;
    let kept: Option<String> = c.query_first("SELECT v FROM keep").await.unwrap();
    assert_eq!(kept.as_deref(), Some("kept"));
    let mut fresh = server.connect("root@sys").await;
    let one: Option<i64> = fresh.query_first("SELECT 1").await.unwrap();
    assert_eq!(one, Some(1));
}
