//! PostgreSQL's SQL forms that clients send, over tokio-postgres: regular expressions, ILIKE and the
//! session housekeeping statements.

use crate::common::{simple_rows, TestServer};

/// Rows of a simple query as text, NULL as empty.
async fn q(c: &tokio_postgres::Client, sql: &str) -> Vec<Vec<String>> {
    texts(simple_rows(c, sql).await)
}

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
    assert_eq!(
        q(&c, "SELECT w FROM words WHERE w ~ '^[a-c]' ORDER BY w").await,
        vec![vec!["banana"], vec!["cherry"]]
    );
    assert_eq!(
        q(&c, "SELECT w FROM words WHERE w ~* '^a' ORDER BY w").await,
        vec![vec!["Apple"]]
    );
    assert_eq!(
        q(&c, "SELECT w FROM words WHERE w !~ 'an' ORDER BY w").await,
        vec![vec!["Apple"], vec!["cherry"]]
    );
    assert_eq!(
        q(&c, "SELECT w FROM words WHERE w !~* 'A' ORDER BY w").await,
        vec![vec!["cherry"]]
    );
    assert_eq!(
        q(&c, "SELECT w FROM words WHERE w ILIKE 'APP%' ORDER BY w").await,
        vec![vec!["Apple"]]
    );
    assert_eq!(
        q(&c, "SELECT w FROM words WHERE w OPERATOR(pg_catalog.~) '^(cherry)$' COLLATE pg_catalog.default")
            .await,
        vec![vec!["cherry"]]
    );
    // A malformed pattern is an error, not a panic, and the session goes on.
    assert!(c.simple_query("SELECT 'a' ~ '('").await.is_err());
    assert_eq!(q(&c, "SELECT 1").await, vec![vec!["1"]]);
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

/// What ORMs and hand-written PostgreSQL send beyond the basics: string_agg (with its ORDER BY), upserts
/// with ON CONFLICT, RETURNING, and interval arithmetic, also inside `[SHOW JOBS]` filters.
#[tokio::test]
async fn string_agg_upserts_returning_and_intervals() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    c.batch_execute(
        "CREATE TABLE kv (k INT PRIMARY KEY, v TEXT); \
         INSERT INTO kv VALUES (2, 'b'), (1, 'a'), (3, 'c')",
    )
    .await
    .unwrap();
    assert_eq!(
        q(&c, "SELECT string_agg(v, ',' ORDER BY k) FROM kv").await,
        [["a,b,c"]]
    );
    assert_eq!(
        q(
            &c,
            "SELECT string_agg(v, '-' ORDER BY k DESC) FROM kv WHERE k > 1"
        )
        .await,
        [["c-b"]]
    );
    let rows = c
        .query("SELECT string_agg(v, $1) FROM kv WHERE k < 3", &[&"|"])
        .await
        .unwrap();
    let agg: String = rows[0].get(0);
    assert!(agg == "a|b" || agg == "b|a", "{agg}");

    assert_eq!(
        q(&c, "INSERT INTO kv VALUES (4, 'd') RETURNING k, v").await,
        [["4", "d"]]
    );
    assert_eq!(
        q(
            &c,
            "INSERT INTO kv VALUES (4, 'x') ON CONFLICT (k) DO NOTHING"
        )
        .await,
        Vec::<Vec<String>>::new()
    );
    assert_eq!(
        q(&c, "INSERT INTO kv VALUES (4, 'x') ON CONFLICT (k) DO UPDATE SET v = excluded.v RETURNING v")
            .await,
        [["x"]]
    );
    assert_eq!(
        q(&c, "UPDATE kv SET v = upper(v) WHERE k = 1 RETURNING v").await,
        [["A"]]
    );
    assert_eq!(
        q(&c, "DELETE FROM kv WHERE k = 4 RETURNING k").await,
        [["4"]]
    );
    assert_eq!(
        q(&c, "SELECT count(*) FROM kv").await,
        [["3"]],
        "only the rows written above"
    );

    assert_eq!(
        q(&c, "SELECT CASE WHEN now() - INTERVAL '1 hour' < now() AND now() + '2 days'::interval > now() \
           THEN 'yes' END")
        .await,
        [["yes"]]
    );
    assert_eq!(
        q(
            &c,
            "SELECT CAST(DATE '2026-01-31' + INTERVAL '1 day' AS DATE), \
           CAST(DATE '2026-01-31' + INTERVAL '1 month' AS DATE)"
        )
        .await,
        [["2026-02-01", "2026-02-28"]]
    );
    // ARRAY[...] constructors, = ANY over them, JSON builders, derived tables naming their columns.
    assert_eq!(
        q(
            &c,
            "SELECT k FROM kv WHERE v = ANY (ARRAY['A', 'c']) ORDER BY k"
        )
        .await,
        [["1"], ["3"]]
    );
    assert_eq!(
        q(
            &c,
            "SELECT ARRAY[1, 2], array_to_string(ARRAY['x', 'y'], '-')"
        )
        .await,
        [["{1,2}", "x-y"]]
    );
    assert_eq!(
        q(
            &c,
            "SELECT json_build_object('k', 1, 'v', 'a'), json_build_array(1, 'b')"
        )
        .await,
        [[r#"{"k":1,"v":"a"}"#, r#"[1,"b"]"#]]
    );
    assert_eq!(
        q(
            &c,
            "SELECT s.n + s.m FROM (VALUES (1, 2), (3, 4)) AS s(n, m) ORDER BY 1"
        )
        .await,
        [["3"], ["7"]]
    );
    assert_eq!(
        q(
            &c,
            "SELECT to_regtype('int4'), to_regtype('hstore') IS NULL"
        )
        .await,
        [["23", "t"]]
    );
    // regclass casts name pg_class's rows, as psql, SQLAlchemy and hand-written catalog queries use them.
    assert_eq!(
        q(
            &c,
            "SELECT relname FROM pg_catalog.pg_class WHERE oid = 'kv'::regclass"
        )
        .await,
        [["kv"]]
    );
    assert_eq!(
        q(&c, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.kv'::regclass AND attnum > 0").await,
        [["2"]]
    );
    assert_eq!(
        q(
            &c,
            "SELECT count(*) FROM pg_class WHERE oid = CAST('nope' AS REGCLASS)"
        )
        .await,
        [["0"]]
    );
    c.batch_execute("CREATE INDEX kv_v ON kv (v)")
        .await
        .unwrap();
    let recent = q(
        &c,
        "SELECT job_type FROM [SHOW JOBS] WHERE created > now() - INTERVAL '1 day' \
         AND job_type = 'SCHEMA CHANGE'",
    )
    .await;
    assert_eq!(recent, [["SCHEMA CHANGE"]]);
    let old = q(
        &c,
        "SELECT job_id FROM [SHOW JOBS] WHERE created < now() - INTERVAL '1 day'",
    )
    .await;
    assert!(old.is_empty(), "{old:?}");
}

/// Result columns without an alias are named as PostgreSQL names them (its FigureColname): a column by
/// itself, a function call by the function, CASE `case`, EXISTS `exists`, anything else `?column?`, over
/// both protocols. Aliases and plain columns keep their names.
#[tokio::test]
async fn unaliased_columns_are_named_as_postgres_names_them() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    c.batch_execute("CREATE TABLE t (a INT, b TEXT); INSERT INTO t VALUES (1, 'x')")
        .await
        .unwrap();
    let sql = "SELECT a, t.b, count(*), MAX(a), now(), 1 + 1, 'lit', \
               CASE WHEN a = 1 THEN 'one' END, EXISTS (SELECT 1), upper(b) AS shout, (length(b)) \
               FROM t GROUP BY a, b";
    let want = [
        "a", "b", "count", "max", "now", "?column?", "?column?", "case", "exists", "shout",
        "length",
    ];
    let prepared = c.prepare(sql).await.unwrap();
    let names: Vec<&str> = prepared.columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, want);
    let messages = c.simple_query(sql).await.unwrap();
    let row = messages
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        })
        .expect("a row");
    let names: Vec<&str> = row.columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, want);
    assert_eq!(row.get("count"), Some("1"));
}

/// Comparisons, logic and predicates in a select list are PostgreSQL booleans (`t` / `f`, type bool), over
/// both protocols, as drivers expect (`row.get::<bool>`, psycopg's True/False); a wildcard beside them leaves
/// them as SQLite's 1 / 0 typed as numbers. The MySQL wire keeps MySQL's 1 / 0.
#[tokio::test]
async fn predicates_in_the_select_list_are_booleans() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    c.batch_execute("CREATE TABLE w (a INT); INSERT INTO w VALUES (1), (2)")
        .await
        .unwrap();
    let sql = "SELECT a > 1, a IN (1), a IS NULL, EXISTS (SELECT 1 FROM w), NOT (a = 1), a BETWEEN 0 AND 1 \
               FROM w ORDER BY a";
    assert_eq!(
        texts(simple_rows(&c, sql).await),
        [
            ["f", "t", "f", "t", "f", "t"],
            ["t", "f", "f", "t", "t", "f"]
        ]
    );
    let rows = c.query(sql, &[]).await.unwrap();
    let first: Vec<bool> = (0..6).map(|i| rows[0].get(i)).collect();
    assert_eq!(first, [false, true, false, true, false, true]);
    let mut my = server.mysql("root@sys", "", Some("test")).await;
    let v: Option<i64> = mysql_async::prelude::Queryable::query_first(&mut my, "SELECT 2 > 1")
        .await
        .unwrap();
    assert_eq!(v, Some(1));
}

#[tokio::test]
async fn quoted_identifiers_are_names_and_backslashes_in_standard_strings_are_themselves() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    // Reserved words, mixed case and an embedded quote, as ORMs and psycopg's sql.Identifier quote them.
    c.batch_execute(
        r#"CREATE TABLE "Order" ("Id" INT PRIMARY KEY, "user" TEXT, "select" INT, "a""b" TEXT);
           INSERT INTO "Order" ("Id", "user", "select", "a""b") VALUES (1, 'ann', 7, 'q'), (2, 'bob', 8, 'r')"#,
    )
    .await
    .unwrap();
    assert_eq!(
        q(
            &c,
            r#"SELECT "Id", "user", "a""b" FROM "Order" WHERE "select" = 7"#
        )
        .await,
        vec![vec!["1", "ann", "q"]]
    );
    let rows = c
        .query(
            r#"SELECT "user" AS "Who", "Id" FROM public."Order" WHERE "Id" = $1"#,
            &[&2i64],
        )
        .await
        .unwrap();
    let names: Vec<&str> = rows[0].columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["Who", "Id"]);
    assert_eq!(rows[0].get::<_, String>(0), "bob");
    // standard_conforming_strings is on: a backslash in '...' is a backslash; E'...' reads escapes.
    assert_eq!(
        q(&c, r"SELECT 'C:\dir\', length('a\nb'), E'x\ty', 'it''s'").await,
        vec![vec![r"C:\dir\", "4", "x\ty", "it's"]]
    );
    c.batch_execute(r#"INSERT INTO "Order" VALUES (3, 'c:\temp\new', 9, '\\')"#)
        .await
        .unwrap();
    assert_eq!(
        q(&c, r#"SELECT "user", "a""b" FROM "Order" WHERE "Id" = 3"#).await,
        vec![vec![r"c:\temp\new", r"\\"]]
    );
    // A quoted name that does not exist is an unknown column, not a string constant.
    let err = c
        .simple_query(r#"SELECT "nope" FROM "Order""#)
        .await
        .unwrap_err();
    assert_eq!(
        err.as_db_error().map(|e| e.code().code()),
        Some("42703"),
        "{err}"
    );
}

#[tokio::test]
async fn set_returning_functions_in_the_select_list_run_side_by_side() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    // Arrays of different lengths run side by side, as PostgreSQL 10+ runs them: the longest sets the rows.
    assert_eq!(
        q(
            &c,
            "SELECT unnest(a) AS e, unnest(b), generate_subscripts(a, 1) AS i \
             FROM (SELECT '{x,y,z}' AS a, '{p}' AS b) t"
        )
        .await,
        vec![vec!["x", "p", "1"], vec!["y", "", "2"], vec!["z", "", "3"]]
    );
    c.batch_execute(
        "CREATE TABLE s (id INT PRIMARY KEY, k INT, j INT); CREATE INDEX s_kj ON s (j, k);
         INSERT INTO s VALUES (1, 0, 0), (2, 0, 0)",
    )
    .await
    .unwrap();
    // Each input row gives its own rows; the call's arguments see that row.
    assert_eq!(
        q(&c, "SELECT id, generate_series(1, id) FROM s ORDER BY 1, 2").await,
        vec![vec!["1", "1"], vec!["2", "1"], vec!["2", "2"]]
    );
    // pg_index's int2vector, as SQLAlchemy's inspector and psql read an index's columns.
    assert_eq!(
        q(
            &c,
            "SELECT unnest(i.indkey) AS attnum, generate_subscripts(i.indkey, 1) AS ord \
             FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid \
             WHERE c.relname = 's_kj' ORDER BY ord"
        )
        .await,
        vec![vec!["3", "1"], vec!["2", "2"]]
    );
    // The dimension may be a parameter (SQLAlchemy binds it); it stays in place among the others.
    let rows = c
        .query(
            "SELECT $1::text AS tag, generate_subscripts(i.indkey, $2::int8) AS ord \
             FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid \
             WHERE c.relname = $3::text ORDER BY ord",
            &[&"t", &1i64, &"s_kj"],
        )
        .await
        .unwrap();
    let got: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(got, [("t".into(), "1".into()), ("t".into(), "2".into())]);
    // Unnamed, the column is named after the function; an empty or NULL array gives no rows.
    let rows = c.simple_query("SELECT unnest('{}'), 1").await.unwrap();
    assert!(!rows
        .iter()
        .any(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(_))));
    let rows = c
        .query("SELECT unnest(ARRAY['a', 'b'])", &[])
        .await
        .unwrap();
    assert_eq!(rows[0].columns()[0].name(), "unnest");
    assert_eq!(rows.len(), 2);
    // PostgreSQL evaluates them after grouping: refused here rather than answered differently.
    let e = c
        .simple_query("SELECT count(*), unnest(a) FROM (SELECT '{1}' AS a) t GROUP BY a")
        .await
        .unwrap_err();
    assert_eq!(e.as_db_error().map(|e| e.code().code()), Some("0A000"));
    // Functions whose type does not depend on their arguments are described so at Parse time.
    let stmt = c
        .prepare("SELECT count(*), bool_and(id > 1), length('ab') FROM s")
        .await
        .unwrap();
    let types: Vec<_> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
    use tokio_postgres::types::Type;
    assert_eq!(types, [Type::INT8, Type::BOOL, Type::INT8]);
    assert_eq!(
        q(
            &c,
            "SELECT bool_and(x), bool_or(x), every(x) FROM (SELECT 1 AS x UNION ALL SELECT 0) t"
        )
        .await,
        vec![vec!["f", "t", "f"]]
    );
}

#[tokio::test]
async fn aggregates_arrays_and_settings_are_typed_as_postgres_types_them() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    c.batch_execute(
        "CREATE TABLE p (id INT PRIMARY KEY, name TEXT);
         CREATE TABLE k (id INT PRIMARY KEY, pid INT REFERENCES p (id) ON DELETE CASCADE, flag BOOLEAN);
         INSERT INTO p VALUES (1, 'a'), (2, 'b'); INSERT INTO k VALUES (10, 2, true), (11, 1, false)",
    )
    .await
    .unwrap();
    // array_agg is an array of its values' type (booleans and integers; text for the rest), a derived table's
    // column has the type of what it selects, and min() of a column is the column's type: all described at
    // Parse time, as SQLAlchemy's inspector needs them.
    let row = c
        .query_one(
            "SELECT array_agg(id ORDER BY id), array_agg(CAST(pid AS TEXT) ORDER BY id), \
             array_agg(flag ORDER BY id) FROM k",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Vec<i64>>(0), [10, 11]);
    assert_eq!(row.get::<_, Vec<String>>(1), ["2", "1"]);
    assert_eq!(row.get::<_, Vec<bool>>(2), [true, false]);
    let row = c
        .query_one(
            "SELECT d.ids, min(d.n) AS low FROM (SELECT array_agg(CAST(id AS BIGINT)) AS ids, \
             min(id) AS n FROM k) d GROUP BY d.ids",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Vec<i64>>(0).len(), 2);
    let row = c
        .query_one(
            "SELECT min(d.n), max(d.n) FROM (SELECT id AS n FROM k) d",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (10, 11));
    assert_eq!(
        q(&c, "SELECT array_agg(flag ORDER BY id) FROM k").await,
        vec![vec!["{t,f}"]]
    );
    // Foreign keys are in pg_constraint, with PostgreSQL's definition text.
    assert_eq!(
        q(
            &c,
            "SELECT contype, conkey, confkey, pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE contype = 'f' AND conrelid = 'k'::regclass"
        )
        .await,
        vec![vec![
            "f",
            "{2}",
            "{1}",
            "FOREIGN KEY (pid) REFERENCES p(id) ON DELETE CASCADE"
        ]]
    );
    // The column's ON DELETE CASCADE acts (it was once dropped from the table's definition).
    c.batch_execute("DELETE FROM p WHERE id = 2").await.unwrap();
    assert_eq!(q(&c, "SELECT id FROM k").await, vec![vec!["11"]]);
    // current_setting: the session's value for a literal name, the default for a bound one.
    c.batch_execute("SET application_name = 'typed'")
        .await
        .unwrap();
    assert_eq!(
        q(
            &c,
            "SELECT current_setting('application_name'), current_setting('nope', true) IS NULL"
        )
        .await,
        vec![vec!["typed", "t"]]
    );
    let row = c
        .query_one(
            "SELECT current_setting($1::text)",
            &[&"default_table_access_method"],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "heap");
    let e = c
        .simple_query("SELECT current_setting('nope')")
        .await
        .unwrap_err();
    assert_eq!(e.as_db_error().map(|e| e.code().code()), Some("42704"));
}

#[tokio::test]
async fn update_from_and_delete_using_join_other_tables() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    c.batch_execute(
        "CREATE TABLE a (id INT PRIMARY KEY, v INT); CREATE TABLE b (id INT PRIMARY KEY, w INT);
         INSERT INTO a VALUES (1, 1), (2, 2), (3, 3); INSERT INTO b VALUES (1, 10), (2, 20)",
    )
    .await
    .unwrap();
    let n = c
        .execute(
            "UPDATE a SET v = b.w FROM b WHERE a.id = b.id AND b.w = $1",
            &[&10i64],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let n = c
        .execute("DELETE FROM a USING b WHERE a.id = b.id AND b.w = 20", &[])
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        q(&c, "SELECT id, v FROM a ORDER BY id").await,
        vec![vec!["1", "10"], vec!["3", "3"]]
    );
}

#[tokio::test]
async fn trim_forms_and_pgjdbc_record_fields() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    // PostgreSQL's TRIM removes any of the characters given; btrim is the same.
    assert_eq!(
        q(&c, "SELECT trim(both '\"' from '\"q\"'), trim(leading 'ab' from 'bacab'), btrim('xxy', 'x'), rtrim('a  ')").await,
        vec![vec!["q", "cab", "y", "a"]]
    );
    c.batch_execute("CREATE TABLE k (a INT, b INT, c INT, PRIMARY KEY (c, a))")
        .await
        .unwrap();
    // pgjdbc's getPrimaryKeys: `(information_schema._pg_expandarray(indkey)).n` and `(result.KEYS).x`.
    assert_eq!(
        q(
            &c,
            "SELECT result.COLUMN_NAME, result.KEY_SEQ FROM (SELECT a.attname AS COLUMN_NAME, \
             (information_schema._pg_expandarray(i.indkey)).n AS KEY_SEQ, \
             information_schema._pg_expandarray(i.indkey) AS KEYS, a.attnum AS A_ATTNUM \
             FROM pg_catalog.pg_class ct JOIN pg_catalog.pg_attribute a ON (ct.oid = a.attrelid) \
             JOIN pg_catalog.pg_index i ON (a.attrelid = i.indrelid) WHERE ct.relname = 'k' AND i.indisprimary) result \
             WHERE result.A_ATTNUM = (result.KEYS).x ORDER BY result.KEY_SEQ"
        )
        .await,
        vec![vec!["c", "1"], vec!["a", "2"]]
    );
    // A field of anything else is not there to read.
    let e = c
        .simple_query("SELECT (t.a).y FROM (SELECT 1 AS a) t")
        .await
        .unwrap_err();
    assert_eq!(e.as_db_error().map(|e| e.code().code()), Some("0A000"));
}

#[tokio::test]
async fn extract_date_part_and_timestamp_casts() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    // PostgreSQL's meanings: SECOND with its fraction, DOW from Sunday = 0, ISODOW Monday = 1, WEEK the ISO week.
    assert_eq!(
        q(
            &c,
            "SELECT extract(year from timestamp '2024-05-06 01:02:03.5'), \
             extract(second from timestamp '2024-05-06 01:02:03.5'), extract(dow from date '2024-05-05'), \
             extract(isodow from date '2024-05-05'), extract(doy from date '2024-02-01'), \
             extract(week from date '2024-05-06'), date_part('month', timestamp '2024-05-06'), \
             extract(quarter from date '2024-12-01'), extract(century from date '2024-01-01')"
        )
        .await,
        vec![vec!["2024", "3.5", "0", "7", "32", "19", "5", "4", "21"]]
    );
    // CAST AS timestamp is a timestamp (it was once SQLite's numeric CAST: 2024).
    assert_eq!(
        q(
            &c,
            "SELECT CAST('2024-05-06 01:02:03.25' AS timestamp), CAST('2024-05-06 01:02:03.7' AS timestamp(0))"
        )
        .await,
        vec![vec!["2024-05-06 01:02:03.25", "2024-05-06 01:02:04"]]
    );
    let e = c
        .simple_query("SELECT extract(timezone from now())")
        .await
        .unwrap_err();
    assert_eq!(e.as_db_error().map(|e| e.code().code()), Some("0A000"));
}
