//! Deep statements end in PostgreSQL's 54001 (stack depth limit exceeded), never in a crash, over the
//! simple and the extended protocol; long flat ones run.

use tokio_postgres::types::Type;

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
        vec![vec![Some("t".to_string())]]
    );
    let other = server.pg("root@sys", "", None).await;
    assert_eq!(
        simple_rows(&other, "SELECT 2").await,
        vec![vec![Some("2".to_string())]]
    );
}

/// A JSON document as the client wrote it, sent as a jsonb parameter without being parsed on the way (a
/// 100,000-deep serde_json value would overflow the test's own stack).
#[derive(Debug)]
struct RawJsonb(String);

impl tokio_postgres::types::ToSql for RawJsonb {
    fn to_sql(
        &self,
        _ty: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        // jsonb's binary form: a version byte, then the text.
        out.extend_from_slice(&[1]);
        out.extend_from_slice(self.0.as_bytes());
        Ok(tokio_postgres::types::IsNull::No)
    }

    tokio_postgres::types::accepts!(JSONB);
    tokio_postgres::types::to_sql_checked!();
}

/// JSON nested deeper than any stack: as a jsonb parameter it is refused with PostgreSQL's own answer to
/// it (54001), in a literal or a JSON function it is an error or a value, never a crash; documents as deep as
/// the engine's JSON functions take are stored and read back through both protocols.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_json_is_refused_or_read_never_a_crash() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    c.batch_execute("CREATE TABLE docs (id INT PRIMARY KEY, j JSONB)")
        .await
        .unwrap();
    let nested = |d: usize| format!("{}{}", "[".repeat(d), "]".repeat(d));
    let deep = nested(100_000);
    let insert = c
        .prepare("INSERT INTO docs (id, j) VALUES ($1, $2)")
        .await
        .unwrap();
    let e = c
        .execute(&insert, &[&1i64, &RawJsonb(deep.clone())])
        .await
        .expect_err("refused");
    assert_eq!(sqlstate(&e), "54001", "{e}");
    // Literals and JSON functions over them: an error with a SQLSTATE or a result.
    for sql in [
        format!("SELECT json_valid('{deep}')"),
        format!("SELECT '{deep}' -> 0"),
        format!("SELECT '{deep}' ->> 0"),
        format!("SELECT '{deep}'::jsonb"),
        format!("SELECT json_array_length('{deep}')"),
        format!("INSERT INTO docs (id, j) VALUES (2, '{deep}')"),
    ] {
        if let Err(e) = c.simple_query(&sql).await {
            assert!(e.code().is_some(), "{:.40}: {e}", sql);
        }
    }
    assert_eq!(
        simple_rows(&c, "SELECT count(*) FROM docs").await,
        vec![vec![Some("0".to_string())]]
    );
    // Nearly as deep as the engine's JSON functions read (1,000 levels): stored from a parameter and from a literal, read back in
    // binary (extended protocol) and in text (simple protocol).
    let doc = nested(900);
    c.execute(&insert, &[&3i64, &RawJsonb(doc.clone())])
        .await
        .unwrap();
    c.simple_query(&format!("INSERT INTO docs (id, j) VALUES (4, '{doc}')"))
        .await
        .unwrap();
    let rows = c
        .query("SELECT j::text FROM docs ORDER BY id", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    let rows = simple_rows(&c, "SELECT id, j FROM docs ORDER BY id").await;
    assert_eq!(
        rows,
        vec![
            vec![Some("3".to_string()), Some(doc.clone())],
            vec![Some("4".to_string()), Some(doc.clone())],
        ]
    );
    let inner = simple_rows(&c, "SELECT json_array_length(j) FROM docs WHERE id = 3").await;
    assert_eq!(inner, vec![vec![Some("1".to_string())]]);
    let other = server.pg("root@sys", "", None).await;
    assert_eq!(
        simple_rows(&other, "SELECT 2").await,
        vec![vec![Some("2".to_string())]]
    );
}

/// A `$n` past the protocol's 65,535 parameters is refused with PostgreSQL's 42P02 (undefined parameter)
/// on both protocols and on every statement path (SQL, COPY, backend calls), instead of its number sizing
/// the statement's parameter lists (`$4000000000` asked for tens of gigabytes and killed the server; found
/// by the `pg_dialect` fuzz target). The highest legal number still prepares, and a cast types its
/// parameter as PostgreSQL infers it (tokio-postgres binds an i64 only to an int8 parameter).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parameter_number_past_the_protocol_limit_is_refused() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    c.batch_execute("CREATE TABLE p (a INT)").await.unwrap();
    let refused = [
        "SELECT $4000000000".to_string(),
        "SELECT $65536".to_string(),
        format!("SELECT $1 + ${}", "9".repeat(40)),
        "COPY p FROM STDIN $4000000000".to_string(),
        "SELECT pg_cancel_backend($4000000000)".to_string(),
    ];
    for sql in &refused {
        let e = c.prepare(sql).await.expect_err("refused");
        assert_eq!(sqlstate(&e), "42P02", "{sql}: {e}");
        let e = c.simple_query(sql).await.expect_err("refused");
        assert_eq!(sqlstate(&e), "42P02", "{sql}: {e}");
        assert_eq!(
            simple_rows(&c, "SELECT 1").await,
            vec![vec![Some("1".to_string())]]
        );
    }
    let top = c.prepare("SELECT $65535::text").await.unwrap();
    assert_eq!(top.params().len(), 65_535);
    let two = c.prepare("SELECT $2::int8 + $1::int8").await.unwrap();
    assert_eq!(two.params().len(), 2);
    assert_eq!(two.params(), [Type::INT8, Type::INT8]);
    let row = c.query_one(&two, &[&40i64, &2i64]).await.unwrap();
    // The result's type is not inferred from the casts (they are dropped); its value is the sum.
    assert_eq!(row.get::<_, String>(0), "42");
}

/// Deep expressions just under the limit inside what the PostgreSQL wire types, rewrites or keeps
/// (aggregates typed by their argument, set-returning functions, cursors) run like any other: the server
/// copies no deep tree on the way (a copy once overflowed a thread's stack and aborted the server).
#[tokio::test]
async fn deep_expressions_in_typed_calls_set_functions_and_cursors_run() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    let deep = format!("1{}", "+1".repeat(900));
    for sql in [
        format!("SELECT min({deep}), max({deep}), coalesce({deep}, 0)"),
        format!("SELECT array_agg({deep})"),
        format!("SELECT unnest(ARRAY[{deep}])"),
        format!("SELECT generate_series(1, {deep})"),
        format!("SELECT count(*) WHERE {deep} > 0"),
    ] {
        let rows = simple_rows(&c, &sql).await;
        assert!(!rows.is_empty(), "{:.40}", sql);
        c.prepare(&sql)
            .await
            .unwrap_or_else(|e| panic!("{:.40}: {e}", sql));
    }
    c.batch_execute(&format!(
        "DECLARE deep CURSOR WITH HOLD FOR SELECT {deep} AS n"
    ))
    .await
    .unwrap();
    assert_eq!(
        simple_rows(&c, "FETCH ALL FROM deep").await,
        vec![vec![Some("901".to_string())]]
    );
    c.prepare(&format!(
        "DECLARE deeper CURSOR WITH HOLD FOR SELECT {deep}"
    ))
    .await
    .unwrap();
}
