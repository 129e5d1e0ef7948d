//! Simple and extended query protocols: result types, `$n` parameters, `::` casts, errors with SQLSTATEs,
//! transactions.

use crate::common::{simple_rows, sqlstate, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_and_extended_queries() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    c.batch_execute(
        "CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR(20), score DOUBLE, data BLOB); \
         INSERT INTO t VALUES (1, 'one', 1.5, X'0102'), (2, 'two', 2.5, NULL)",
    )
    .await
    .unwrap();

    // Extended protocol with $n parameters (typed by where they stand) and typed results.
    let rows = c
        .query(
            "SELECT id, name, score, data FROM t WHERE id >= $1 AND name <> $2 ORDER BY id",
            &[&1i64, &"zzz"],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].get::<_, i64>(0), 1);
    assert_eq!(rows[0].get::<_, String>(1), "one");
    assert_eq!(rows[0].get::<_, f64>(2), 1.5);
    assert_eq!(rows[0].get::<_, Option<Vec<u8>>>(3), Some(vec![1, 2]));
    assert_eq!(rows[1].get::<_, Option<Vec<u8>>>(3), None);

    // The same parameter twice, and a cast.
    let rows = c
        .query(
            "SELECT name FROM t WHERE id = $1::int8 OR score < $1 ORDER BY id",
            &[&2i64],
        )
        .await
        .unwrap();
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(names, ["one", "two"]);

    // Parameters the client types itself travel in binary and are decoded by their type.
    let stmt = c
        .prepare_typed(
            "SELECT name FROM t WHERE id = $1 AND score > $2",
            &[
                tokio_postgres::types::Type::INT8,
                tokio_postgres::types::Type::FLOAT8,
            ],
        )
        .await
        .unwrap();
    let rows = c.query(&stmt, &[&2i64, &1.0f64]).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, String>(0), "two");

    // Writes report their row counts.
    let n = c
        .execute("UPDATE t SET score = score + 1 WHERE id > $1", &[&0i64])
        .await
        .unwrap();
    assert_eq!(n, 2);
    let n = c
        .execute(
            "INSERT INTO t (id, name) VALUES ($1, $2)",
            &[&3i64, &"three"],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);

    // Simple protocol: several statements in one string, casts stripped.
    assert_eq!(
        simple_rows(&c, "SELECT COUNT(*) FROM t; SELECT 'x'::text AS x").await,
        vec![vec![Some("3".to_string())], vec![Some("x".to_string())]]
    );

    // Errors carry PostgreSQL SQLSTATEs and leave the connection usable.
    let e = c.simple_query("SELECT * FROM missing").await.unwrap_err();
    assert_eq!(sqlstate(&e), "42P01");
    let e = c.query("SELECT nope FROM t", &[]).await.unwrap_err();
    assert_eq!(sqlstate(&e), "42703");
    let e = c
        .execute("INSERT INTO t (id, name) VALUES ($1, $2)", &[&1i64, &"dup"])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "23505");
    let e = c.simple_query("SELEC 1").await.unwrap_err();
    assert_eq!(sqlstate(&e), "42601");

    // Transactions.
    c.batch_execute("BEGIN; DELETE FROM t; ROLLBACK")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT COUNT(*) FROM t").await,
        vec![vec![Some("3".to_string())]]
    );

    // Administrative statements work over the extended protocol too.
    let rows = c.query("SHOW DATABASES", &[]).await.unwrap();
    assert!(rows.iter().any(|r| r.get::<_, String>(0) == "test"));
}

#[tokio::test]
async fn booleans_are_bool() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    c.batch_execute("CREATE TABLE flags (id INT PRIMARY KEY, on_ BOOLEAN)")
        .await
        .unwrap();
    c.batch_execute("INSERT INTO flags VALUES (1, TRUE), (2, FALSE), (3, NULL)")
        .await
        .unwrap();
    let rows = c
        .query("SELECT on_ FROM flags ORDER BY id", &[])
        .await
        .unwrap();
    let got: Vec<Option<bool>> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(got, vec![Some(true), Some(false), None]);
}

#[tokio::test]
async fn times_are_timestamptz() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    c.batch_execute("CREATE TABLE ev (id INT PRIMARY KEY, at DATETIME)")
        .await
        .unwrap();
    c.batch_execute("INSERT INTO ev VALUES (1, '2024-01-02 03:04:05'), (2, NULL)")
        .await
        .unwrap();
    let rows = c.query("SELECT at FROM ev ORDER BY id", &[]).await.unwrap();
    let first: Option<std::time::SystemTime> = rows[0].get(0);
    let secs = first
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(secs, 1_704_164_645, "2024-01-02 03:04:05 UTC");
    assert_eq!(rows[1].get::<_, Option<std::time::SystemTime>>(0), None);
    // SHOW JOBS's times are timestamptz too, as in CockroachDB.
    c.batch_execute("CREATE INDEX ev_at ON ev (at)")
        .await
        .unwrap();
    let jobs = c
        .query("SELECT created, finished FROM [SHOW JOBS]", &[])
        .await
        .unwrap();
    let created: std::time::SystemTime = jobs[0].get(0);
    assert!(created.elapsed().unwrap() < std::time::Duration::from_secs(600));
}

#[tokio::test]
async fn untyped_parameters_take_their_type_from_where_they_stand() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    c.batch_execute(
        "CREATE TABLE p (id BIGINT PRIMARY KEY, name VARCHAR(20), score DOUBLE, ok BOOLEAN)",
    )
    .await
    .unwrap();
    // tokio-postgres binds by the types the server describes: no prepare_typed needed.
    for i in 1..=5i64 {
        c.execute(
            "INSERT INTO p (id, name, score, ok) VALUES ($1, $2, $3, $4)",
            &[&i, &format!("n{i}"), &(i as f64 / 2.0), &(i % 2 == 0)],
        )
        .await
        .unwrap();
    }
    let rows = c
        .query(
            "SELECT name, score FROM p WHERE id >= $1 AND ok = $2 ORDER BY id LIMIT $3",
            &[&2i64, &true, &5i64],
        )
        .await
        .unwrap();
    let got: Vec<(String, f64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(got, vec![("n2".to_string(), 1.0), ("n4".to_string(), 2.0)]);
    let by_name = c
        .query_one("SELECT id FROM p WHERE name = $1", &[&"n3"])
        .await
        .unwrap();
    assert_eq!(by_name.get::<_, i64>(0), 3);
}
