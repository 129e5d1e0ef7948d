//! Statements of any depth or length end in a result or a clear error, never in a crash or a hang:
//! deep trees are refused before they are built (1436), long flat lists cost time linear in their
//! length, and SHOW filters are expressions over the SHOW's own rows, never SQL.

use mysql_async::prelude::*;

use crate::common::{expect_error, TestServer};

/// Statements that once overflowed a thread's stack (or would), each refused with MySQL's 1436.
fn deep_statements() -> Vec<(&'static str, String)> {
    vec![
        (
            "a 100,000-term sum",
            format!("SELECT 1{}", "+1".repeat(100_000)),
        ),
        (
            "a 100,000-term OR chain",
            format!("SELECT 1 FROM DUAL WHERE 0{}", " OR 0".repeat(100_000)),
        ),
        (
            "100,000 nested parentheses",
            format!("SELECT {}1{}", "(".repeat(100_000), ")".repeat(100_000)),
        ),
        (
            "5,000 nested subqueries",
            format!("SELECT {}1{}", "(SELECT ".repeat(5000), ")".repeat(5000)),
        ),
        (
            "a 50,000-term UNION",
            format!("SELECT 1{}", " UNION SELECT 1".repeat(50_000)),
        ),
        (
            "100,000 unary minus",
            format!("SELECT {}1", "- ".repeat(100_000)),
        ),
        (
            "a 100,000-deep CASE",
            format!(
                "SELECT {}1{}",
                "CASE WHEN 1 THEN ".repeat(100_000),
                " END".repeat(100_000)
            ),
        ),
        (
            "a 100,000-level JSON path of operators",
            format!("SELECT '{{}}'{}", " -> '$.a'".repeat(100_000)),
        ),
    ]
}

#[tokio::test]
async fn deep_statements_are_refused_and_the_connection_keeps_working() {
    let server = TestServer::start();
    let mut c = server.connect_with("root@sys", "", Some("test")).await;
    for (what, sql) in deep_statements() {
        let (code, state, message) = expect_error(&mut c, &sql).await;
        assert_eq!((code, state.as_str()), (1436, "HY000"), "{what}: {message}");
        assert!(
            message.starts_with("Thread stack overrun"),
            "{what}: {message}"
        );
        let one: Option<i64> = c.query_first("SELECT 1").await.unwrap();
        assert_eq!(one, Some(1), "the connection works after {what}");
    }
    // The same inside a prepared statement and a SHOW filter.
    let deep = format!("SELECT ?{}", "+1".repeat(100_000));
    let r = c.prep(deep.as_str()).await;
    assert!(
        matches!(&r, Err(mysql_async::Error::Server(e)) if e.code == 1436),
        "{:?}",
        r.map(|_| ())
    );
    let deep_show = format!("SHOW DATABASES WHERE 1{}", " AND 1".repeat(100_000));
    assert_eq!(expect_error(&mut c, &deep_show).await.0, 1436);
    // Depth below the limits still works, up to what SQLite itself takes.
    let sum: Option<i64> = c
        .query_first(format!("SELECT 1{}", "+1".repeat(900)))
        .await
        .unwrap();
    assert_eq!(sum, Some(901));
    let nested: Option<i64> = c
        .query_first(format!("SELECT {}7{}", "(".repeat(150), ")".repeat(150)))
        .await
        .unwrap();
    assert_eq!(nested, Some(7));
    let sub: Option<i64> = c
        .query_first(format!(
            "SELECT {}8{}",
            "(SELECT ".repeat(30),
            ")".repeat(30)
        ))
        .await
        .unwrap();
    assert_eq!(sub, Some(8));
    // SQLite's own limits go out as the same class of error.
    let (code, _, _) = expect_error(&mut c, &format!("SELECT 1{}", "+1".repeat(3000))).await;
    assert_eq!(code, 1436);
    // Another connection was never disturbed.
    let mut other = server.connect("root@sys").await;
    let two: Option<i64> = other.query_first("SELECT 2").await.unwrap();
    assert_eq!(two, Some(2));
}

#[tokio::test]
async fn long_flat_statements_run() {
    let server = TestServer::start();
    let mut c = server.connect_with("root@sys", "", Some("test")).await;
    // Once quadratic in the line's length (36 s for this list): one pass now.
    let list = (0..100_000)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let found: Option<i64> = c
        .query_first(format!("SELECT 99999 IN ({list})"))
        .await
        .unwrap();
    assert_eq!(found, Some(1));
    c.query_drop("CREATE TABLE rows16k (id INT PRIMARY KEY, v VARCHAR(20))")
        .await
        .unwrap();
    let values = (0..16_000)
        .map(|i| format!("({i}, 'v{i}')"))
        .collect::<Vec<_>>()
        .join(",");
    c.query_drop(format!("INSERT INTO rows16k VALUES {values}"))
        .await
        .unwrap();
    let n: Option<i64> = c.query_first("SELECT count(*) FROM rows16k").await.unwrap();
    assert_eq!(n, Some(16_000));
}

#[tokio::test]
async fn like_patterns_never_backtrack_exponentially() {
    let server = TestServer::start();
    let mut c = server.connect("root@sys").await;
    // 11-14 s with a backtracking matcher at 12 pairs; hours at 40. Here pattern × name steps at most.
    for pairs in [12, 40, 400] {
        let pattern = format!("{}!", "%_".repeat(pairs));
        let rows: Vec<mysql_async::Row> = c
            .query(format!("SHOW VARIABLES LIKE '{pattern}'"))
            .await
            .unwrap();
        assert!(rows.is_empty(), "{pairs} pairs");
        let rows: Vec<mysql_async::Row> = c
            .query(format!("SHOW PARAMETERS LIKE '{pattern}'"))
            .await
            .unwrap();
        assert!(rows.is_empty(), "{pairs} pairs");
    }
    let rows: Vec<(String, String)> = c.query("SHOW VARIABLES LIKE 'time\\_zone'").await.unwrap();
    assert_eq!(rows, vec![("time_zone".to_string(), "+00:00".to_string())]);
}

#[tokio::test]
async fn show_filters_are_expressions_over_the_shows_own_columns() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let mut admin = server.connect("root@t1").await;
    for sql in [
        "CREATE DATABASE shop",
        "CREATE TABLE shop.items (id INT PRIMARY KEY)",
        "CREATE TABLE shop.secret (v VARCHAR(20))",
        "INSERT INTO shop.secret VALUES ('hunter2')",
        "CREATE DATABASE open",
        "CREATE TABLE open.a (id INT)",
        "CREATE TABLE open.b (id INT)",
        "CREATE USER u IDENTIFIED BY 'pw'",
        "GRANT SELECT ON open.* TO u",
    ] {
        admin.query_drop(sql).await.unwrap();
    }
    let mut u = server.connect_with("u@t1", "pw", Some("open")).await;
    // Filters over the SHOW's columns work as in MySQL.
    let names: Vec<String> = u
        .query("SHOW TABLES WHERE Tables_in_open LIKE 'b%' OR Tables_in_open = 'zzz'")
        .await
        .unwrap();
    assert_eq!(names, vec!["b".to_string()]);
    let names: Vec<String> = u
        .query("SHOW TABLES WHERE NOT (Tables_in_open IN ('a')) AND Tables_in_open IS NOT NULL")
        .await
        .unwrap();
    assert_eq!(names, vec!["b".to_string()]);
    let rows: Vec<(String, String)> = u
        .query("SHOW VARIABLES WHERE Variable_name = 'TIME_ZONE'")
        .await
        .unwrap();
    assert_eq!(rows, vec![("time_zone".to_string(), "+00:00".to_string())]);
    let dbs: Vec<String> = u
        .query("SHOW DATABASES WHERE `Database` = 'open'")
        .await
        .unwrap();
    assert_eq!(dbs, vec!["open".to_string()]);
    // Injections: nothing past the expression runs, nothing but the SHOW's columns can be named.
    for sql in [
        "SHOW TABLES WHERE 0 UNION ALL SELECT v FROM shop.secret",
        "SHOW TABLES WHERE 1 UNION SELECT data FROM sqlite_dbpage",
        "SHOW DATABASES WHERE 0 UNION SELECT file FROM pragma_database_list",
        "SHOW TABLES WHERE (SELECT count(*) FROM shop.secret) > 0",
        "SHOW TABLES WHERE EXISTS (SELECT 1 FROM shop.secret)",
        "SHOW TABLES WHERE Tables_in_open IN (SELECT v FROM shop.secret)",
        "SHOW TABLES WHERE load_extension('x')",
        "SHOW TABLES WHERE v = 'hunter2'",
        "SHOW VARIABLES WHERE 1; DROP TABLE open.a",
        "SHOW TABLES WHERE 1) UNION SELECT (1",
    ] {
        let (code, _, message) = expect_error(&mut u, sql).await;
        // With CLIENT_MULTI_STATEMENTS (mysql_async asks for it) a `;` starts a statement of its own, which
        // the user's privileges refuse (1142); the filter itself still runs nothing.
        assert!(
            [1064, 1235, 1054, 1142].contains(&code),
            "{sql}: {code} {message}"
        );
        assert!(!message.contains("hunter2"), "{sql}: {message}");
    }
    let n: Option<i64> = admin
        .query_first("SELECT count(*) FROM open.a")
        .await
        .unwrap();
    assert_eq!(n, Some(0), "open.a still exists");
    // SHOW TABLES FROM a database the user has no privilege on: 1044 whether it exists or not, and
    // checked before anything is attached.
    for db in ["shop", "nosuchdb"] {
        let (code, _, message) = expect_error(&mut u, &format!("SHOW TABLES FROM {db}")).await;
        assert_eq!(code, 1044, "{db}: {message}");
    }
    let (code, _, _) = expect_error(&mut admin, "SHOW TABLES FROM nosuchdb").await;
    assert_eq!(code, 1049);
}

#[tokio::test]
async fn executable_comments_run_as_sql() {
    let server = TestServer::start();
    let mut c = server.connect_with("root@sys", "", Some("test")).await;
    c.query_drop("CREATE TABLE t (id INT PRIMARY KEY)")
        .await
        .unwrap();
    for sql in [
        "/*!40100 SET @@SQL_MODE='' */",
        "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */",
        "/*!40103 SET TIME_ZONE='+00:00' */",
        "/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */",
        "/*!40000 ALTER TABLE t DISABLE KEYS */",
        "/*!40000 ALTER TABLE `t` ENABLE KEYS */",
        "/*!40000 ALTER TABLE test.t ENABLE KEYS */;",
    ] {
        c.query_drop(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let row: Option<(Option<String>, i64)> = c
        .query_first("SELECT @OLD_CHARACTER_SET_CLIENT, @@unique_checks")
        .await
        .unwrap();
    assert_eq!(row, Some((Some("utf8mb4".to_string()), 0)));
    let old: Option<i64> = c.query_first("SELECT @OLD_UNIQUE_CHECKS").await.unwrap();
    assert_eq!(old, Some(1));
    // Inside a statement, and a newer version's comment stays a comment.
    let v: Option<i64> = c
        .query_first("SELECT 1 /*!50000 + 10 */ /*!99999 + 100 */ /*M!100000 + 1000 */")
        .await
        .unwrap();
    assert_eq!(v, Some(11));
    // A table that does not exist is still an error, as in MySQL.
    let (code, _, _) = expect_error(&mut c, "/*!40000 ALTER TABLE nope DISABLE KEYS */").await;
    assert_eq!(code, 1146);
}

/// JSON nested 100,000 deep in a literal, a parameter and a column, through JSON_EXTRACT, `->`, `->>`,
/// json_valid and json_array_length: a clear error (3141, naming the depth) or a value, never a crash; documents as
/// deep as the engine's JSON functions read are stored and read back.
#[tokio::test]
async fn deep_json_is_refused_or_read_never_a_crash() {
    let server = TestServer::start();
    let mut c = server.connect_with("root@sys", "", Some("test")).await;
    c.query_drop("CREATE TABLE docs (id INT PRIMARY KEY, j JSON)")
        .await
        .unwrap();
    let nested = |d: usize| format!("{}{}", "[".repeat(d), "]".repeat(d));
    let deep = nested(100_000);
    let valid: Option<i64> = c
        .query_first(format!("SELECT json_valid('{deep}')"))
        .await
        .unwrap();
    assert_eq!(valid, Some(0), "deeper than the engine takes");
    for sql in [
        format!("SELECT JSON_EXTRACT('{deep}', '$[0]')"),
        format!("SELECT '{deep}' -> '$[0]'"),
        format!("SELECT '{deep}' ->> '$[0]'"),
        format!("SELECT json_array_length('{deep}')"),
    ] {
        let (code, state, message) = expect_error(&mut c, &sql).await;
        assert_eq!(
            (code, state.as_str()),
            (3141, "22032"),
            "{:.40}: {message}",
            sql
        );
        assert!(message.contains("deeper than 1000"), "{message}");
    }
    // The same document as a parameter.
    let r: Result<Option<String>, _> = c
        .exec_first("SELECT JSON_EXTRACT(?, '$[0]')", (deep.clone(),))
        .await;
    assert_eq!(crate::common::server_error(r.unwrap_err()).0, 3141);
    // Into a JSON column, as a literal and as a parameter: refused as no JSON the column takes.
    let (code, _, message) =
        expect_error(&mut c, &format!("INSERT INTO docs VALUES (1, '{deep}')")).await;
    assert_eq!(code, 1366, "{message}");
    let r = c
        .exec_drop("INSERT INTO docs VALUES (1, ?)", (deep.clone(),))
        .await;
    assert_eq!(crate::common::server_error(r.unwrap_err()).0, 1366);
    // Nearly as deep as the engine reads: stored and read back.
    let doc = nested(900);
    c.exec_drop("INSERT INTO docs VALUES (2, ?)", (doc.clone(),))
        .await
        .unwrap();
    let back: Option<String> = c
        .query_first("SELECT j FROM docs WHERE id = 2")
        .await
        .unwrap();
    assert_eq!(back.as_deref(), Some(doc.as_str()));
    let inner: Option<String> = c
        .query_first("SELECT j ->> '$[0]' FROM docs WHERE id = 2")
        .await
        .unwrap();
    assert_eq!(inner, Some(nested(899)));
    let mut other = server.connect("root@sys").await;
    let two: Option<i64> = other.query_first("SELECT 2").await.unwrap();
    assert_eq!(two, Some(2));
}

/// Deep expressions just under the limit inside what the translator rewrites (date arithmetic, DATE_ADD,
/// ADDDATE, CURRENT_TIMESTAMP(p), EXTRACT, TRIM, multiple-table DML) run like any other: nothing copies a deep
/// tree on the way (DATE_ADD's copy of its interval once overflowed a thread's stack and aborted the server).
#[tokio::test]
async fn deep_expressions_inside_rewritten_forms_run() {
    let server = TestServer::start();
    let mut c = server.connect("root@sys").await;
    c.query_drop(
        "CREATE TABLE test.a (id INT PRIMARY KEY, v INT); INSERT INTO test.a VALUES (1, 1)",
    )
    .await
    .unwrap();
    // Deep enough to overflow a copy; shallow enough for SQLite's own limit of 1,000 levels once rewritten.
    let deep = format!("1{}", "+1".repeat(900));
    for sql in [
        format!("SELECT DATE_ADD('2024-01-01', INTERVAL {deep} DAY) IS NOT NULL"),
        format!("SELECT DATE_SUB({deep} + 20240000, INTERVAL 1 DAY) IS NULL OR 1"),
        format!("SELECT '2024-01-01' + INTERVAL {deep} SECOND IS NOT NULL"),
        format!("SELECT ADDDATE('2024-01-01', {deep}) IS NOT NULL"),
        format!("SELECT CURRENT_TIMESTAMP({deep} - 895) IS NOT NULL"),
        format!("SELECT EXTRACT(YEAR FROM DATE_ADD('2024-01-01', INTERVAL {deep} DAY))"),
        format!("SELECT TRIM(BOTH '1' FROM CONCAT({deep}))"),
        format!("UPDATE test.a SET v = {deep} ORDER BY id LIMIT 1"),
        format!(
            "DELETE FROM test.a WHERE v = 1{} ORDER BY id LIMIT 1",
            "+1".repeat(400)
        ),
    ] {
        c.query_drop(&sql)
            .await
            .unwrap_or_else(|e| panic!("{:.50}: {e}", sql));
    }
    let v: Option<i64> = c.query_first("SELECT v FROM test.a").await.unwrap();
    assert_eq!(v, Some(901));
}
