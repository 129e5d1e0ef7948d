//! Cached statements over the extended protocol (issue 17): a statement parsed once and executed many times
//! runs from the session's cache, yet a REVOKE or a schema change between two executes counts at once.

use crate::common::{sqlstate, TestServer};

#[tokio::test]
async fn prepared_statement_sees_revoke_and_schema_changes() {
    let server = TestServer::start();
    let root = server.pg("root@sys", "", None).await;
    for sql in [
        "CREATE TABLE t (id INT PRIMARY KEY, v TEXT)",
        "INSERT INTO t VALUES (1, 'a'), (2, 'b')",
        "CREATE USER alice IDENTIFIED BY 'secret'",
        "GRANT SELECT ON test.* TO alice",
    ] {
        root.batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let alice = server.pg("alice@sys", "secret", None).await;
    let select = alice
        .prepare("SELECT v FROM t WHERE id = $1")
        .await
        .unwrap();
    for _ in 0..3 {
        let rows = alice.query(&select, &[&1i64]).await.unwrap();
        assert_eq!(rows[0].get::<_, String>(0), "a");
    }

    // The table made again with other rows: the next execute reads the new table.
    root.batch_execute("DROP TABLE t").await.unwrap();
    let e = alice
        .query(&select, &[&1i64])
        .await
        .expect_err("the table is gone");
    assert_eq!(sqlstate(&e), "42P01");
    root.batch_execute("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)")
        .await
        .unwrap();
    root.batch_execute("INSERT INTO t VALUES (1, 'new')")
        .await
        .unwrap();
    let rows = alice.query(&select, &[&1i64]).await.unwrap();
    assert_eq!(rows[0].get::<_, String>(0), "new");

    root.batch_execute("REVOKE SELECT ON test.* FROM alice")
        .await
        .unwrap();
    let e = alice
        .query(&select, &[&1i64])
        .await
        .expect_err("SELECT was revoked");
    assert_eq!(sqlstate(&e), "42501");
    root.batch_execute("GRANT SELECT ON test.* TO alice")
        .await
        .unwrap();
    let rows = alice.query(&select, &[&1i64]).await.unwrap();
    assert_eq!(rows[0].get::<_, String>(0), "new");
}
