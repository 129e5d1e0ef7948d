//! PostgreSQL's SQL forms that clients send, over tokio-postgres: regular expressions, ILIKE and the
//! session housekeeping statements.

use crate::common::{simple_rows, TestServer};

fn texts(rows: Vec<Vec<Option<String>>>) -> Vec<Vec<String>> {
    rows.into_iter()
        .map(|r| r.into_iter().map(|v| v.unwrap_or_default()).collect())
        .collect()
}

#[tokio::test]
async fn regular_expressions_and_ilike() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    c.batch_execute(
        "CREATE TABLE words (w VARCHAR(20)); INSERT INTO words VALUES ('Apple'), ('banana'), ('cherry')",
    )
    .await
    .unwrap();
    let q = |sql: &'static str| {
        let c = &c;
        async move { texts(simple_rows(c, sql).await) }
    };
    assert_eq!(
        q("SELECT w FROM words WHERE w ~ '^[a-c]' ORDER BY w").await,
        vec![vec!["banana"], vec!["cherry"]]
    );
    assert_eq!(
        q("SELECT w FROM words WHERE w ~* '^a' ORDER BY w").await,
        vec![vec!["Apple"]]
    );
    assert_eq!(
        q("SELECT w FROM words WHERE w !~ 'an' ORDER BY w").await,
        vec![vec!["Apple"], vec!["cherry"]]
    );
    assert_eq!(
        q("SELECT w FROM words WHERE w !~* 'A' ORDER BY w").await,
        vec![vec!["cherry"]]
    );
    assert_eq!(
        q("SELECT w FROM words WHERE w ILIKE 'APP%' ORDER BY w").await,
        vec![vec!["Apple"]]
    );
    assert_eq!(
        q("SELECT w FROM words WHERE w OPERATOR(pg_catalog.~) '^(cherry)$' COLLATE pg_catalog.default")
            .await,
        vec![vec!["cherry"]]
    );
    // A malformed pattern is an error, not a panic, and the session goes on.
    assert!(c.simple_query("SELECT 'a' ~ '('").await.is_err());
    assert_eq!(q("SELECT 1").await, vec![vec!["1"]]);
}

#[tokio::test]
async fn housekeeping_statements_answer_with_postgres_tags() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    let tag = |sql: &'static str| {
        let c = &c;
        async move {
            c.simple_query(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .into_iter()
                .find_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::CommandComplete(n) => Some(n),
                    _ => None,
                })
        }
    };
    // tokio-postgres reports the rows figure of a tag (0 for tags without one): the statements succeed.
    for sql in [
        "DISCARD ALL",
        "DEALLOCATE ALL",
        "DEALLOCATE PREPARE s1",
        "VACUUM",
        "VACUUM ANALYZE t",
        "BEGIN ISOLATION LEVEL SERIALIZABLE",
        "END",
        "BEGIN TRANSACTION",
        "ABORT",
    ] {
        assert_eq!(tag(sql).await, Some(0), "{sql}");
    }
    c.batch_execute("CREATE TABLE t (a INT); BEGIN; INSERT INTO t VALUES (1); END")
        .await
        .unwrap();
    assert_eq!(
        texts(simple_rows(&c, "SELECT a FROM t").await),
        vec![vec!["1"]]
    );
    let e = c.simple_query("DISCARD NOTHING").await.unwrap_err();
    assert_eq!(crate::common::sqlstate(&e), "42601");
}
