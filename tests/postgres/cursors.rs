//! PostgreSQL's SQL cursors over the wire: DECLARE / FETCH / MOVE / CLOSE with PostgreSQL's tags,
//! motions, transaction rules, errors and pg_cursors; a cursor reads only what its user may read.

use tokio_postgres::SimpleQueryMessage;

use crate::common::{simple_rows, sqlstate, TestServer};

/// The first column of each row of a simple query, and its command tag's row count.
async fn fetch(c: &tokio_postgres::Client, sql: &str) -> (Vec<String>, u64) {
    let messages = c
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut values = Vec::new();
    let mut tag = None;
    for m in messages {
        match m {
            SimpleQueryMessage::Row(r) => values.push(r.get(0).unwrap_or_default().to_string()),
            SimpleQueryMessage::CommandComplete(n) => tag = Some(n),
            _ => {}
        }
    }
    (values, tag.expect("a command tag"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declare_fetch_move_close_follow_postgres() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    c.batch_execute(
        "CREATE TABLE t (id INT PRIMARY KEY, v TEXT);
         INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e')",
    )
    .await
    .unwrap();
    // Without HOLD a cursor needs a transaction.
    let e = c
        .simple_query("DECLARE c CURSOR FOR SELECT v FROM t")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "25P01", "{e}");

    c.batch_execute("BEGIN").await.unwrap();
    let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    c.batch_execute("DECLARE C SCROLL CURSOR FOR SELECT v FROM t ORDER BY id")
        .await
        .unwrap();
    // Unquoted names fold to lower case; the tag counts the rows.
    assert_eq!(fetch(&c, "FETCH 2 FROM c").await, (v(&["a", "b"]), 2));
    assert_eq!(fetch(&c, "FETCH NEXT IN C").await, (v(&["c"]), 1));
    assert_eq!(fetch(&c, "MOVE BACKWARD 2 FROM c").await, (v(&[]), 2));
    assert_eq!(fetch(&c, "FETCH PRIOR FROM c").await, (v(&[]), 0));
    assert_eq!(fetch(&c, "FETCH c").await, (v(&["a"]), 1));
    assert_eq!(
        fetch(&c, "FETCH ALL FROM c").await,
        (v(&["b", "c", "d", "e"]), 4)
    );
    assert_eq!(
        fetch(&c, "FETCH BACKWARD 2 FROM c").await,
        (v(&["e", "d"]), 2)
    );
    assert_eq!(fetch(&c, "FETCH RELATIVE 0 FROM c").await, (v(&["d"]), 1));
    assert_eq!(fetch(&c, "FETCH ABSOLUTE -5 FROM c").await, (v(&["a"]), 1));
    assert_eq!(fetch(&c, "FETCH LAST FROM c").await, (v(&["e"]), 1));
    assert_eq!(fetch(&c, "MOVE ABSOLUTE 0 IN c").await, (v(&[]), 0));
    assert_eq!(fetch(&c, "FETCH FORWARD 10 FROM c").await.1, 5);
    let e = c
        .simple_query("DECLARE c CURSOR FOR SELECT 1")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42P03", "{e}");
    // The snapshot is the query's as declared: a row inserted after it is not in it.
    c.batch_execute(
        "DECLARE n NO SCROLL CURSOR FOR SELECT id FROM t ORDER BY id; INSERT INTO t VALUES (6, 'f')",
    )
    .await
    .unwrap();
    assert_eq!(fetch(&c, "FETCH ALL FROM n").await.1, 5);
    let e = c.simple_query("FETCH PRIOR FROM n").await.unwrap_err();
    assert_eq!(sqlstate(&e), "55000", "{e}");
    assert_eq!(
        simple_rows(
            &c,
            "SELECT name, is_holdable, is_scrollable FROM pg_cursors ORDER BY name"
        )
        .await,
        vec![
            vec![Some("c".into()), Some("f".into()), Some("t".into())],
            vec![Some("n".into()), Some("f".into()), Some("f".into())]
        ]
    );
    let tags = c.simple_query("CLOSE n").await.unwrap();
    assert!(matches!(
        tags.last(),
        Some(SimpleQueryMessage::CommandComplete(0))
    ));
    let e = c.simple_query("FETCH 1 FROM n").await.unwrap_err();
    assert_eq!(sqlstate(&e), "34000", "{e}");
    // WITH HOLD survives the commit; the others close with the transaction.
    c.batch_execute(
        "DECLARE h CURSOR WITH HOLD FOR SELECT v FROM t WHERE id > 4 ORDER BY id; COMMIT",
    )
    .await
    .unwrap();
    assert_eq!(fetch(&c, "FETCH ALL FROM h").await, (v(&["e", "f"]), 2));
    let e = c.simple_query("FETCH 1 FROM c").await.unwrap_err();
    assert_eq!(sqlstate(&e), "34000", "{e}");
    // A rollback takes back the WITH HOLD cursors its transaction declared, and only those.
    c.batch_execute("BEGIN; DECLARE r CURSOR WITH HOLD FOR SELECT 1; ROLLBACK")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT name FROM pg_catalog.pg_cursors").await,
        vec![vec![Some("h".into())]]
    );
    c.batch_execute("CLOSE ALL").await.unwrap();
    assert!(simple_rows(&c, "SELECT name FROM pg_cursors")
        .await
        .is_empty());
    // Bad statements are syntax errors, a DECLARE of anything but a query is refused.
    for bad in ["FETCH FROM", "DECLARE d CURSOR FOR", "CLOSE"] {
        let e = c.simple_query(bad).await.unwrap_err();
        assert_eq!(sqlstate(&e), "42601", "{bad}: {e}");
    }
    let e = c
        .simple_query("DECLARE d CURSOR WITH HOLD FOR SELECT nope FROM t")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42703", "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_reads_only_what_its_user_may_read() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let root = server.pg("root@t1", "", None).await;
    root.batch_execute(
        "CREATE DATABASE shop; CREATE TABLE shop.secret (v TEXT); INSERT INTO shop.secret VALUES ('s');
         CREATE DATABASE open; CREATE TABLE open.items (v TEXT); INSERT INTO open.items VALUES ('i');
         CREATE USER clerk WITH PASSWORD 'pw'; GRANT ALL ON DATABASE open TO clerk",
    )
    .await
    .unwrap();
    let clerk = server.pg("clerk@t1", "pw", Some("open")).await;
    for sql in [
        "DECLARE c CURSOR WITH HOLD FOR SELECT v FROM shop.secret",
        "DECLARE c CURSOR WITH HOLD FOR SELECT i.v FROM items i JOIN shop.secret s ON true",
    ] {
        let e = clerk.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&e), "42501", "{sql}: {e}");
    }
    clerk
        .batch_execute("DECLARE c CURSOR WITH HOLD FOR SELECT v FROM items")
        .await
        .unwrap();
    assert_eq!(
        fetch(&clerk, "FETCH ALL FROM c").await.0,
        vec!["i".to_string()]
    );
    // Another session sees neither the cursor nor its rows.
    let other = server.pg("clerk@t1", "pw", Some("open")).await;
    let e = other.simple_query("FETCH ALL FROM c").await.unwrap_err();
    assert_eq!(sqlstate(&e), "34000", "{e}");
    assert!(simple_rows(&other, "SELECT name FROM pg_cursors")
        .await
        .is_empty());
}

/// A DECLARE reads its query whole: a cancel stops it like any statement (57014), and leaves no cursor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canceled_declare_leaves_no_cursor() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    let token = c.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        token.cancel_query(tokio_postgres::NoTls).await
    });
    let endless = "DECLARE big CURSOR WITH HOLD FOR \
                   WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT x FROM r";
    let e = tokio::time::timeout(std::time::Duration::from_secs(20), c.simple_query(endless))
        .await
        .expect("the DECLARE stops")
        .unwrap_err();
    assert_eq!(sqlstate(&e), "57014", "{e}");
    canceller.await.unwrap().unwrap();
    assert!(simple_rows(&c, "SELECT name FROM pg_cursors")
        .await
        .is_empty());
    let e = c.simple_query("FETCH 1 FROM big").await.unwrap_err();
    assert_eq!(sqlstate(&e), "34000", "{e}");
    // The name is free again.
    c.batch_execute("DECLARE big CURSOR WITH HOLD FOR SELECT 1")
        .await
        .unwrap();
    assert_eq!(
        fetch(&c, "FETCH ALL FROM big").await.0,
        vec!["1".to_string()]
    );
}
