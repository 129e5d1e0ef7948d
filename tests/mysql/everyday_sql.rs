//! The SQL that everyday applications, ORMs and admin tools send (issue 15's "missing" list): date
//! functions, casts, string aggregates, DUAL, ALTER TABLE forms, keys, RENAME / TRUNCATE, views, SHOW
//! statements, information_schema's key tables, session settings and Oracle-mode logins.

use mysql_async::prelude::*;
use mysql_async::{Conn, Row};

use crate::common::{expect_error, TestServer};

/// A tenant `t1` with database `app` selected.
async fn app(server: &TestServer) -> Conn {
    server.create_tenant("t1").await;
    let mut c = server.connect("root@t1").await;
    c.query_drop("CREATE DATABASE app").await.unwrap();
    c.query_drop("USE app").await.unwrap();
    c
}

/// The first row of `sql` as text, NULL as `None`.
async fn row(c: &mut Conn, sql: &str) -> Vec<Option<String>> {
    let r: Row = c
        .query_first(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_else(|| panic!("{sql}: no row"));
    (0..r.len())
        .map(|i| r.get::<Option<String>, _>(i).flatten())
        .collect()
}

fn some(v: &[&str]) -> Vec<Option<String>> {
    v.iter().map(|s| Some(s.to_string())).collect()
}

#[tokio::test]
async fn date_string_and_cast_functions() {
    let server = TestServer::start();
    let mut c = app(&server).await;
    assert_eq!(row(&mut c, "SELECT 1 FROM DUAL").await, some(&["1"]));
    assert_eq!(
        row(
            &mut c,
            "SELECT 'a' FROM DUAL WHERE 1 = 1 UNION SELECT 'b' FROM dual"
        )
        .await,
        some(&["a"])
    );

    // Standard SQL's typed literals are the casts they mean.
    assert_eq!(
        row(
            &mut c,
            "SELECT DATE '2026-01-31' + INTERVAL 1 DAY, TIME '12:30:00', \
             TIMESTAMP '2026-01-01 08:00:00' - INTERVAL 1 HOUR, DATE '2024-02-29' + INTERVAL 1 YEAR"
        )
        .await,
        some(&["2026-02-01", "12:30:00", "2026-01-01 07:00:00", "2025-02-28"])
    );

    // A derived table may name its columns (MySQL 8).
    assert_eq!(
        row(
            &mut c,
            "SELECT t.a + t.b FROM (SELECT 1, 2 UNION ALL SELECT 3, 4) AS t (a, b) ORDER BY 1 DESC LIMIT 1"
        )
        .await,
        some(&["7"])
    );

    // NOW(6) and CURRENT_TIMESTAMP(6): microseconds, in the form MySQL prints.
    let now = row(
        &mut c,
        "SELECT NOW(6), CURRENT_TIMESTAMP(6), NOW(), CURRENT_TIMESTAMP",
    )
    .await;
    for (i, digits) in [(0, 6), (1, 6), (2, 0), (3, 0)] {
        let v = now[i].clone().unwrap();
        assert_eq!(v.len(), 19 + if digits > 0 { digits + 1 } else { 0 }, "{v}");
        assert_eq!(&v[4..5], "-");
        if digits > 0 {
            assert_eq!(&v[19..20], ".", "{v}");
        }
    }

    assert_eq!(
        row(
            &mut c,
            "SELECT DATE_ADD('2024-01-31', INTERVAL 1 MONTH), DATE_SUB('2024-03-01 10:00:00', INTERVAL 2 HOUR), \
             '2024-01-01' + INTERVAL 1 DAY, '2024-01-01 00:00:00' - INTERVAL 30 SECOND, \
             DATE_ADD('2023-12-31', INTERVAL 1 YEAR), ADDDATE('2024-02-28', 2)"
        )
        .await,
        some(&[
            "2024-02-29",
            "2024-03-01 08:00:00",
            "2024-01-02",
            "2023-12-31 23:59:30",
            "2024-12-31",
            "2024-03-01"
        ])
    );
    assert_eq!(
        row(
            &mut c,
            "SELECT DATE_FORMAT('2024-03-05 14:07:09', '%Y-%m-%d %H:%i:%s %W %M %b %a %j %p %e %c %D'), \
             STR_TO_DATE('05/03/2024', '%d/%m/%Y'), STR_TO_DATE('2024-03-05 14:07:09', '%Y-%m-%d %H:%i:%s'), \
             STR_TO_DATE('not a date', '%Y-%m-%d') IS NULL"
        )
        .await,
        some(&[
            "2024-03-05 14:07:09 Tuesday March Mar Tue 065 PM 5 3 5th",
            "2024-03-05",
            "2024-03-05 14:07:09",
            "1"
        ])
    );
    assert_eq!(
        row(
            &mut c,
            "SELECT UNIX_TIMESTAMP('2024-01-01 00:00:00'), FROM_UNIXTIME(1704067200), \
             FROM_UNIXTIME(1704067200, '%Y/%m'), UNIX_TIMESTAMP(FROM_UNIXTIME(86400))"
        )
        .await,
        some(&["1704067200", "2024-01-01 00:00:00", "2024/01", "86400"])
    );

    assert_eq!(
        row(
            &mut c,
            "SELECT 'abc' REGEXP '^a', 'abc' RLIKE 'z', 'abc' NOT REGEXP 'b', 'ABC' REGEXP 'b', \
             CONCAT_WS(',', 'a', NULL, 'b'), CONCAT_WS(NULL, 'a') IS NULL, IFNULL(NULL, 2), IF(1 > 0, 'y', 'n')"
        )
        .await,
        some(&["1", "0", "0", "1", "a,b", "1", "2", "y"])
    );
    let (code, _, msg) = expect_error(&mut c, "SELECT 'a' REGEXP '('").await;
    assert_ne!(code, 0);
    assert!(msg.contains("regular expression"), "{msg}");

    c.query_drop("CREATE TABLE g (id INT PRIMARY KEY, k VARCHAR(5))")
        .await
        .unwrap();
    c.query_drop("INSERT INTO g VALUES (1, 'x'), (2, 'y'), (3, 'x'), (4, NULL)")
        .await
        .unwrap();
    assert_eq!(
        row(
            &mut c,
            "SELECT GROUP_CONCAT(k ORDER BY id SEPARATOR '|'), GROUP_CONCAT(DISTINCT k ORDER BY k DESC SEPARATOR ';'), \
             GROUP_CONCAT(DISTINCT k ORDER BY k), GROUP_CONCAT(id) FROM g"
        )
        .await,
        some(&["x|y|x", "y;x", "x,y", "1,2,3,4"])
    );
    let grouped: Vec<(String, String)> = c
        .query("SELECT k, GROUP_CONCAT(id ORDER BY id SEPARATOR '-') FROM g WHERE k IS NOT NULL GROUP BY k ORDER BY k")
        .await
        .unwrap();
    assert_eq!(
        grouped,
        vec![("x".into(), "1-3".into()), ("y".into(), "2".into())]
    );

    assert_eq!(
        row(
            &mut c,
            "SELECT CAST('12abc' AS SIGNED), CAST('7' AS UNSIGNED), CAST(12 AS CHAR), \
             CAST('3.14159' AS DECIMAL(5,2)), CAST('2024-01-02' AS DATETIME), CAST('2024-01-02 03:04:05' AS DATE), \
             CAST('2024-01-02 03:04:05' AS TIME), CAST('junk' AS DATETIME) IS NULL, CAST(2.5 AS SIGNED INTEGER) + 0"
        )
        .await,
        some(&[
            "12",
            "7",
            "12",
            "3.14",
            "2024-01-02 00:00:00",
            "2024-01-02",
            "03:04:05",
            "1",
            "3"
        ])
    );
}

#[tokio::test]
async fn tables_keys_and_alter_table_forms() {
    let server = TestServer::start();
    let mut c = app(&server).await;
    c.query_drop(
        "CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) NOT NULL, price DECIMAL(8,2), \
         UNIQUE KEY uk_name (name), KEY k_price (price))",
    )
    .await
    .unwrap();
    c.query_drop("INSERT INTO items (name, price) VALUES ('a', 1.5), ('b', 2)")
        .await
        .unwrap();

    // CREATE TABLE ... LIKE copies columns and indexes, not rows; ... AS SELECT copies rows.
    c.query_drop("CREATE TABLE items2 LIKE items")
        .await
        .unwrap();
    let idx: Vec<Row> = c.query("SHOW INDEX FROM items2").await.unwrap();
    let mut names: Vec<String> = idx
        .iter()
        .map(|r| r.get::<String, _>("Key_name").unwrap())
        .collect();
    names.sort();
    assert_eq!(names, vec!["PRIMARY", "k_price", "uk_name"]);
    assert_eq!(
        row(&mut c, "SELECT COUNT(*) FROM items2").await,
        some(&["0"])
    );
    c.query_drop("INSERT INTO items2 (name) VALUES ('z')")
        .await
        .unwrap();
    assert_eq!(
        expect_error(&mut c, "INSERT INTO items2 (name) VALUES ('Z')")
            .await
            .0,
        1062,
        "the unique key came along"
    );
    c.query_drop("CREATE TABLE cheap AS SELECT name, price FROM items WHERE price < 2")
        .await
        .unwrap();
    assert_eq!(row(&mut c, "SELECT name FROM cheap").await, some(&["a"]));

    // Columns.
    c.query_drop("ALTER TABLE items ADD COLUMN qty INT DEFAULT 5")
        .await
        .unwrap();
    assert_eq!(
        row(&mut c, "SELECT qty FROM items WHERE id = 1").await,
        some(&["5"])
    );
    c.query_drop("ALTER TABLE items MODIFY COLUMN qty BIGINT NOT NULL DEFAULT 0")
        .await
        .unwrap();
    c.query_drop("ALTER TABLE items CHANGE COLUMN qty quantity INT")
        .await
        .unwrap();
    c.query_drop("ALTER TABLE items RENAME COLUMN quantity TO amount")
        .await
        .unwrap();
    assert_eq!(
        row(&mut c, "SELECT amount FROM items WHERE id = 2").await,
        some(&["5"])
    );
    c.query_drop("ALTER TABLE items DROP COLUMN amount")
        .await
        .unwrap();
    assert_eq!(
        expect_error(&mut c, "SELECT amount FROM items").await.0,
        1054
    );
    // Indexes.
    c.query_drop("ALTER TABLE items ADD INDEX k_both (name, price)")
        .await
        .unwrap();
    c.query_drop("ALTER TABLE items DROP INDEX k_both")
        .await
        .unwrap();
    c.query_drop("CREATE INDEX k_name2 ON items (name)")
        .await
        .unwrap();
    c.query_drop("DROP INDEX k_name2 ON items").await.unwrap();

    // Primary keys.
    c.query_drop("CREATE TABLE nopk (a INT, b INT)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO nopk VALUES (1, 1), (2, 2)")
        .await
        .unwrap();
    c.query_drop("ALTER TABLE nopk ADD PRIMARY KEY (a)")
        .await
        .unwrap();
    assert_eq!(
        expect_error(&mut c, "INSERT INTO nopk VALUES (1, 3)")
            .await
            .0,
        1062
    );
    let described: Vec<Row> = c.query("DESCRIBE nopk").await.unwrap();
    assert_eq!(described[0].get::<String, _>("Key").unwrap(), "PRI");
    assert_eq!(described[0].get::<String, _>("Null").unwrap(), "NO");
    let (_, _, msg) = expect_error(&mut c, "ALTER TABLE nopk ADD PRIMARY KEY (b)").await;
    assert!(msg.contains("Multiple primary key"), "{msg}");
    c.query_drop("ALTER TABLE nopk DROP PRIMARY KEY")
        .await
        .unwrap();
    c.query_drop("INSERT INTO nopk VALUES (1, 3)")
        .await
        .unwrap();
    assert_eq!(row(&mut c, "SELECT COUNT(*) FROM nopk").await, some(&["3"]));

    // Foreign keys are enforced, named, and can be dropped and added.
    c.query_drop("CREATE TABLE parent (id INT PRIMARY KEY)")
        .await
        .unwrap();
    c.query_drop(
        "CREATE TABLE child (id INT PRIMARY KEY, pid INT, \
         CONSTRAINT fk_parent FOREIGN KEY (pid) REFERENCES parent (id) ON DELETE CASCADE)",
    )
    .await
    .unwrap();
    c.query_drop("INSERT INTO parent VALUES (1)").await.unwrap();
    c.query_drop("INSERT INTO child VALUES (1, 1)")
        .await
        .unwrap();
    let (code, state, _) = expect_error(&mut c, "INSERT INTO child VALUES (2, 99)").await;
    assert_eq!((code, state.as_str()), (1452, "23000"));
    c.query_drop("ALTER TABLE child DROP FOREIGN KEY fk_parent")
        .await
        .unwrap();
    c.query_drop("INSERT INTO child VALUES (2, 99)")
        .await
        .unwrap();
    let (_, _, msg) = expect_error(
        &mut c,
        "ALTER TABLE child ADD CONSTRAINT fk_again FOREIGN KEY (pid) REFERENCES parent (id)",
    )
    .await;
    assert!(!msg.is_empty(), "an orphan row stops the new key");
    c.query_drop("DELETE FROM child WHERE id = 2")
        .await
        .unwrap();
    c.query_drop(
        "ALTER TABLE child ADD CONSTRAINT fk_again FOREIGN KEY (pid) REFERENCES parent (id)",
    )
    .await
    .unwrap();
    assert_eq!(
        expect_error(&mut c, "INSERT INTO child VALUES (3, 98)")
            .await
            .0,
        1452
    );
    let (_, _, msg) = expect_error(&mut c, "ALTER TABLE child DROP FOREIGN KEY nope").await;
    assert!(msg.contains("Can't DROP 'nope'"), "{msg}");

    // RENAME TABLE keeps rows and indexes (which keep their names); TRUNCATE empties.
    c.query_drop("RENAME TABLE items TO goods").await.unwrap();
    assert_eq!(expect_error(&mut c, "SELECT * FROM items").await.0, 1146);
    assert_eq!(
        row(&mut c, "SELECT COUNT(*) FROM goods").await,
        some(&["2"])
    );
    c.query_drop("ALTER TABLE goods DROP INDEX k_price")
        .await
        .unwrap();
    assert_eq!(
        expect_error(&mut c, "INSERT INTO goods (name) VALUES ('A')")
            .await
            .0,
        1062
    );
    c.query_drop("ALTER TABLE goods RENAME TO wares")
        .await
        .unwrap();
    assert_eq!(
        expect_error(&mut c, "RENAME TABLE nope TO other").await.0,
        1146
    );
    c.query_drop("TRUNCATE TABLE wares").await.unwrap();
    assert_eq!(
        row(&mut c, "SELECT COUNT(*) FROM wares").await,
        some(&["0"])
    );

    // Views.
    c.query_drop("CREATE VIEW parents AS SELECT id FROM parent")
        .await
        .unwrap();
    assert_eq!(row(&mut c, "SELECT * FROM parents").await, some(&["1"]));
    c.query_drop("DROP VIEW parents").await.unwrap();
    assert_eq!(expect_error(&mut c, "SELECT * FROM parents").await.0, 1146);
}

#[tokio::test]
async fn show_statements_and_information_schema() {
    let server = TestServer::start();
    let mut c = app(&server).await;
    c.query_drop("CREATE TABLE parent (id INT AUTO_INCREMENT PRIMARY KEY, code VARCHAR(8), UNIQUE KEY uk_code (code))")
        .await
        .unwrap();
    c.query_drop(
        "CREATE TABLE child (id INT PRIMARY KEY, pid INT, note TEXT, KEY k_pid (pid), \
         CONSTRAINT fk_p FOREIGN KEY (pid) REFERENCES parent (id) ON DELETE CASCADE, \
         FOREIGN KEY (id) REFERENCES parent (id))",
    )
    .await
    .unwrap();
    c.query_drop("CREATE VIEW v AS SELECT id FROM parent")
        .await
        .unwrap();
    c.query_drop("INSERT INTO parent (code) VALUES ('a'), ('b')")
        .await
        .unwrap();

    let status: Vec<Row> = c.query("SHOW TABLE STATUS").await.unwrap();
    let names: Vec<String> = status
        .iter()
        .map(|r| r.get::<String, _>("Name").unwrap())
        .collect();
    assert_eq!(names, vec!["child", "parent", "v"]);
    let parent = &status[1];
    assert_eq!(parent.get::<i64, _>("Rows"), Some(2));
    assert_eq!(parent.get::<i64, _>("Auto_increment"), Some(3));
    assert_eq!(
        status[2].get::<String, _>("Comment").as_deref(),
        Some("VIEW")
    );
    let like: Vec<Row> = c.query("SHOW TABLE STATUS LIKE 'p%'").await.unwrap();
    assert_eq!(like.len(), 1);

    let create: (String, String) = c
        .query_first("SHOW CREATE TABLE child")
        .await
        .unwrap()
        .unwrap();
    assert!(
        create.1.contains(
            "CONSTRAINT `fk_p` FOREIGN KEY (`pid`) REFERENCES `parent` (`id`) ON DELETE CASCADE"
        ),
        "{}",
        create.1
    );
    assert!(
        create
            .1
            .contains("CONSTRAINT `child_ibfk_2` FOREIGN KEY (`id`) REFERENCES `parent` (`id`)"),
        "{}",
        create.1
    );

    let full: Vec<Row> = c.query("SHOW FULL COLUMNS FROM child").await.unwrap();
    assert_eq!(full.len(), 3);
    assert_eq!(full[0].columns_ref().len(), 9);
    assert_eq!(
        full[2].get::<Option<String>, _>("Collation").flatten(),
        Some("utf8mb4_general_ci".to_string())
    );
    let index: Vec<Row> = c.query("SHOW INDEX FROM child").await.unwrap();
    assert!(index
        .iter()
        .any(|r| r.get::<String, _>("Key_name").as_deref() == Some("k_pid")));

    // SHOW WARNINGS / SHOW ERRORS list the last statement's error, and a later statement clears it.
    let (code, _, message) = expect_error(&mut c, "SELECT nope FROM parent").await;
    let warnings: Vec<(String, i64, String)> = c.query("SHOW WARNINGS").await.unwrap();
    assert_eq!(
        warnings,
        vec![("Error".into(), i64::from(code), message.clone())]
    );
    let errors: Vec<(String, i64, String)> = c.query("SHOW ERRORS").await.unwrap();
    assert_eq!(errors.len(), 1);
    c.query_drop("SELECT 1").await.unwrap();
    let warnings: Vec<Row> = c.query("SHOW WARNINGS").await.unwrap();
    assert!(warnings.is_empty());

    let constraints: Vec<(String, String, String)> = c
        .query(
            "SELECT TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE FROM information_schema.TABLE_CONSTRAINTS \
             WHERE TABLE_SCHEMA = 'app' ORDER BY TABLE_NAME, CONSTRAINT_NAME",
        )
        .await
        .unwrap();
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        constraints,
        vec![
            s("child", "PRIMARY", "PRIMARY KEY"),
            s("child", "child_ibfk_2", "FOREIGN KEY"),
            s("child", "fk_p", "FOREIGN KEY"),
            s("parent", "PRIMARY", "PRIMARY KEY"),
            s("parent", "uk_code", "UNIQUE"),
        ]
    );
    let usage: Vec<(String, String, Option<String>, Option<String>)> = c
        .query(
            "SELECT CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME \
             FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = 'child' \
             ORDER BY CONSTRAINT_NAME",
        )
        .await
        .unwrap();
    assert_eq!(
        usage,
        vec![
            ("PRIMARY".into(), "id".into(), None, None),
            (
                "child_ibfk_2".into(),
                "id".into(),
                Some("parent".into()),
                Some("id".into())
            ),
            (
                "fk_p".into(),
                "pid".into(),
                Some("parent".into()),
                Some("id".into())
            ),
        ]
    );
    let referential: Vec<(String, String, String, String)> = c
        .query(
            "SELECT CONSTRAINT_NAME, DELETE_RULE, TABLE_NAME, REFERENCED_TABLE_NAME \
             FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'app' ORDER BY 1",
        )
        .await
        .unwrap();
    assert_eq!(
        referential,
        vec![
            (
                "child_ibfk_2".into(),
                "RESTRICT".into(),
                "child".into(),
                "parent".into()
            ),
            (
                "fk_p".into(),
                "CASCADE".into(),
                "child".into(),
                "parent".into()
            ),
        ]
    );
    let stats: Vec<(String, String, i64, i64, String)> = c
        .query(
            "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = 'app' ORDER BY TABLE_NAME, INDEX_NAME",
        )
        .await
        .unwrap();
    assert_eq!(
        stats,
        vec![
            ("child".into(), "PRIMARY".into(), 0, 1, "id".into()),
            ("child".into(), "k_pid".into(), 1, 1, "pid".into()),
            ("parent".into(), "PRIMARY".into(), 0, 1, "id".into()),
            ("parent".into(), "uk_code".into(), 0, 1, "code".into()),
        ]
    );
    let views: Vec<(String, String)> = c
        .query("SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'app'")
        .await
        .unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].0, "v");
    assert!(views[0].1.contains("SELECT"), "{}", views[0].1);
    let routines: Vec<Row> = c
        .query("SELECT ROUTINE_NAME FROM information_schema.ROUTINES")
        .await
        .unwrap();
    assert!(routines.is_empty());
}

#[tokio::test]
async fn session_settings_are_accepted_and_foreign_key_checks_honoured() {
    let server = TestServer::start();
    let mut c = app(&server).await;
    for sql in [
        "SET NAMES utf8mb4",
        "SET NAMES utf8mb4 COLLATE utf8mb4_general_ci",
        "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        "SET UNIQUE_CHECKS = 0",
        "SET SQL_MODE = 'STRICT_TRANS_TABLES,NO_ZERO_DATE'",
        "SET TIME_ZONE = '+00:00'",
        "LOCK TABLES x WRITE",
        "UNLOCK TABLES",
    ] {
        c.query_drop(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    assert_eq!(
        row(&mut c, "SELECT @@unique_checks, @@sql_mode, @@time_zone").await,
        some(&["0", "STRICT_TRANS_TABLES,NO_ZERO_DATE", "+00:00"])
    );
    c.query_drop("CREATE TABLE parent (id INT PRIMARY KEY)")
        .await
        .unwrap();
    c.query_drop("CREATE TABLE child (id INT PRIMARY KEY, pid INT, FOREIGN KEY (pid) REFERENCES parent (id))")
        .await
        .unwrap();
    assert_eq!(
        expect_error(&mut c, "INSERT INTO child VALUES (1, 7)")
            .await
            .0,
        1452
    );
    // mysqldump's reload order: children may come before their parents.
    c.query_drop("SET FOREIGN_KEY_CHECKS = 0").await.unwrap();
    c.query_drop("INSERT INTO child VALUES (1, 7)")
        .await
        .unwrap();
    c.query_drop("CREATE DATABASE other").await.unwrap();
    c.query_drop("USE other").await.unwrap();
    c.query_drop("CREATE TABLE p (id INT PRIMARY KEY)")
        .await
        .unwrap();
    c.query_drop("CREATE TABLE ch (pid INT REFERENCES p (id))")
        .await
        .unwrap();
    c.query_drop("INSERT INTO ch VALUES (5)").await.unwrap();
    c.query_drop("SET FOREIGN_KEY_CHECKS = 1").await.unwrap();
    assert_eq!(
        row(&mut c, "SELECT @@foreign_key_checks").await,
        some(&["1"])
    );
    assert_eq!(
        expect_error(&mut c, "INSERT INTO ch VALUES (6)").await.0,
        1452
    );
    assert_eq!(
        expect_error(&mut c, "SET FOREIGN_KEY_CHECKS = 'maybe'")
            .await
            .0,
        1231
    );
}

#[tokio::test]
async fn oracle_mode_logins_have_sys_dual_and_a_schema() {
    let server = TestServer::start();
    let mut sys = server.connect("root@sys").await;
    for sql in [
        "CREATE RESOURCE UNIT u_ora MAX_CPU 1, MEMORY_SIZE '2G'",
        "CREATE RESOURCE POOL p_ora UNIT = 'u_ora', UNIT_NUM = 1",
        "CREATE TENANT ora RESOURCE_POOL_LIST = ('p_ora') SET ob_compatibility_mode = 'oracle'",
    ] {
        sys.query_drop(sql).await.unwrap();
    }
    for login in ["SYS@ora", "sys@ora"] {
        let mut c = server.connect(login).await;
        assert_eq!(row(&mut c, "SELECT 1 FROM DUAL").await, some(&["1"]));
        c.query_drop("CREATE TABLE IF NOT EXISTS t (a INT)")
            .await
            .unwrap();
        assert_eq!(
            row(&mut c, "SELECT DATABASE()").await,
            some(&["test"]),
            "{login} starts in a schema"
        );
    }
}

#[tokio::test]
async fn multi_statement_queries_return_one_result_each() {
    let server = TestServer::start();
    let mut c = app(&server).await;
    // mysql_async negotiates CLIENT_MULTI_STATEMENTS.
    let mut results = c
        .query_iter("CREATE TABLE m (a INT); INSERT INTO m VALUES (1), (2); SELECT a FROM m ORDER BY a; SELECT 'x;y'")
        .await
        .unwrap();
    let mut sets: Vec<Vec<String>> = Vec::new();
    while !results.is_empty() {
        let rows: Vec<Row> = results.collect().await.unwrap();
        sets.push(
            rows.iter()
                .map(|r| r.get::<String, _>(0).unwrap())
                .collect(),
        );
    }
    drop(results);
    assert_eq!(
        sets,
        vec![
            Vec::<String>::new(),
            Vec::new(),
            vec!["1".to_string(), "2".to_string()],
            vec!["x;y".to_string()]
        ]
    );
    // The first error ends the sequence: the statement after it does not run.
    let e = c
        .query_drop("INSERT INTO m VALUES (3); SELECT nope FROM m; INSERT INTO m VALUES (4)")
        .await
        .unwrap_err();
    assert_eq!(crate::common::server_error(e).0, 1054);
    assert_eq!(
        row(&mut c, "SELECT GROUP_CONCAT(a ORDER BY a) FROM m").await,
        some(&["1,2,3"])
    );
}

#[tokio::test]
async fn integer_columns_go_out_as_their_declared_types() {
    use mysql_async::consts::ColumnType as T;
    let server = TestServer::start();
    let mut c = app(&server).await;
    c.query_drop(
        "CREATE TABLE w (t TINYINT, s SMALLINT, m MEDIUMINT, i INT, b BIGINT, u INT UNSIGNED, wide INT)",
    )
    .await
    .unwrap();
    // SQLite keeps any integer in any column: one too big for INT goes out as BIGINT rather than cut.
    c.query_drop("INSERT INTO w VALUES (-7, 300, 70000, -2000000000, 9000000000, 4000000000, 5)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO w (wide) VALUES (9000000000)")
        .await
        .unwrap();
    let sql = "SELECT t, s, m, i, b, u FROM w WHERE wide = 5";
    let expected = [
        T::MYSQL_TYPE_TINY,
        T::MYSQL_TYPE_SHORT,
        T::MYSQL_TYPE_INT24,
        T::MYSQL_TYPE_LONG,
        T::MYSQL_TYPE_LONGLONG,
        T::MYSQL_TYPE_LONG,
    ];
    let values = (
        -7i64,
        300i64,
        70000i64,
        -2_000_000_000i64,
        9_000_000_000i64,
        4_000_000_000u64,
    );
    // Text protocol, then binary (prepared) protocol.
    let text = c.query_iter(sql).await.unwrap();
    let types: Vec<T> = text.columns_ref().iter().map(|c| c.column_type()).collect();
    drop(text);
    assert_eq!(types, expected);
    let got: Option<(i64, i64, i64, i64, i64, u64)> = c.query_first(sql).await.unwrap();
    assert_eq!(got, Some(values));
    let stmt = c.prep(sql).await.unwrap();
    let bin = c.exec_iter(&stmt, ()).await.unwrap();
    let types: Vec<T> = bin.columns_ref().iter().map(|c| c.column_type()).collect();
    drop(bin);
    assert_eq!(types, expected);
    let got: Option<(i64, i64, i64, i64, i64, u64)> = c.exec_first(&stmt, ()).await.unwrap();
    assert_eq!(got, Some(values));
    let wide = c
        .query_iter("SELECT wide FROM w ORDER BY wide")
        .await
        .unwrap();
    assert_eq!(wide.columns_ref()[0].column_type(), T::MYSQL_TYPE_LONGLONG);
}

/// MySQL's temporary tables: a session's own, found before the database's table of the same name, seen by
/// no other session, gone when the session ends; CREATE TEMPORARY TABLE needs CREATE on the database and
/// does not commit an open transaction; DROP TEMPORARY TABLE touches only temporary tables.
#[tokio::test]
async fn temporary_tables_are_the_sessions_own() {
    let server = TestServer::start();
    let mut c = app(&server).await;
    c.query_drop("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))")
        .await
        .unwrap();
    c.query_drop("INSERT INTO t VALUES (1, 'base')")
        .await
        .unwrap();
    c.query_drop("CREATE TEMPORARY TABLE t (id INT PRIMARY KEY, v VARCHAR(10), KEY kv (v))")
        .await
        .unwrap();
    c.query_drop("INSERT INTO t VALUES (2, 'temp'), (3, 'x')")
        .await
        .unwrap();
    c.query_drop("UPDATE t SET v = 'y' WHERE id = 3")
        .await
        .unwrap();
    let ids: Vec<i64> = c.query("SELECT id FROM app.t ORDER BY id").await.unwrap();
    assert_eq!(ids, [2, 3], "the temporary table shadows the database's");
    let v: Option<String> = c
        .exec_first("SELECT v FROM t WHERE id = ?", (3,))
        .await
        .unwrap();
    assert_eq!(v.as_deref(), Some("y"), "prepared statements see it too");
    let tables: Vec<String> = c.query("SHOW TABLES").await.unwrap();
    assert_eq!(
        tables,
        ["t"],
        "SHOW TABLES lists the database's tables only"
    );

    // Another session sees the database's table.
    let mut other = server.connect_with("root@t1", "", Some("app")).await;
    let ids: Vec<i64> = other.query("SELECT id FROM t").await.unwrap();
    assert_eq!(ids, [1]);

    // CREATE TEMPORARY TABLE ... AS SELECT inside a transaction does not commit it.
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("INSERT INTO t VALUES (4, 'tx')")
        .await
        .unwrap();
    c.query_drop("CREATE TEMPORARY TABLE copy AS SELECT id, v FROM t")
        .await
        .unwrap();
    let n: Option<i64> = c.query_first("SELECT count(*) FROM copy").await.unwrap();
    assert_eq!(n, Some(3));
    c.query_drop("ROLLBACK").await.unwrap();
    let ids: Vec<i64> = c.query("SELECT id FROM t ORDER BY id").await.unwrap();
    assert_eq!(ids, [2, 3], "the insert before it was rolled back");
    // Unlike MySQL, the rollback takes the temporary table created inside the transaction with it (SQLite's
    // temp schema is transactional); it is then simply not there.
    let (code, _, _) = expect_error(&mut c, "SELECT * FROM copy").await;
    assert_eq!(code, 1146);

    // What MySQL refuses for temporary tables, and DROP TEMPORARY of a table that is not one.
    let (code, _, _) = expect_error(
        &mut c,
        "CREATE TEMPORARY TABLE f (a INT, FOREIGN KEY (a) REFERENCES t (id))",
    )
    .await;
    assert_eq!(code, 1235);
    c.query_drop("DROP TEMPORARY TABLE t").await.unwrap();
    let (code, _, _) = expect_error(&mut c, "DROP TEMPORARY TABLE t").await;
    assert_eq!(code, 1051);
    c.query_drop("DROP TEMPORARY TABLE IF EXISTS t")
        .await
        .unwrap();
    let ids: Vec<i64> = c.query("SELECT id FROM t").await.unwrap();
    assert_eq!(
        ids,
        [1],
        "the database's table is untouched and found again"
    );

    // Gone with the session.
    c.query_drop("CREATE TEMPORARY TABLE scratch (a INT)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO scratch VALUES (1)")
        .await
        .unwrap();
    drop(c);
    let mut again = server.connect_with("root@t1", "", Some("app")).await;
    let (code, _, _) = expect_error(&mut again, "SELECT * FROM scratch").await;
    assert_eq!(code, 1146);

    // A user with CREATE on the database may make and use one without other grants; one without may not.
    again
        .query_drop("CREATE USER maker IDENTIFIED BY 'pw'; GRANT CREATE ON app.* TO maker; CREATE USER reader IDENTIFIED BY 'pw'; GRANT SELECT ON app.* TO reader")
        .await
        .unwrap();
    let mut maker = server.connect_with("maker@t1", "pw", Some("app")).await;
    maker
        .query_drop("CREATE TEMPORARY TABLE mine (a INT)")
        .await
        .unwrap();
    maker
        .query_drop("INSERT INTO mine VALUES (7)")
        .await
        .unwrap();
    let a: Option<i64> = maker.query_first("SELECT a FROM mine").await.unwrap();
    assert_eq!(a, Some(7));
    let (code, _, _) = expect_error(&mut maker, "SELECT * FROM t").await;
    assert_eq!(code, 1142, "its temporary table gives it nothing else");
    let mut reader = server.connect_with("reader@t1", "pw", Some("app")).await;
    let (code, _, _) = expect_error(&mut reader, "CREATE TEMPORARY TABLE nope (a INT)").await;
    assert!(code == 1044 || code == 1142, "{code}");
}

#[tokio::test]
async fn update_and_delete_with_order_by_limit_and_joins() {
    let server = TestServer::start();
    let mut c = app(&server).await;
    c.query_drop(
        "CREATE TABLE a (id INT PRIMARY KEY, v INT); CREATE TABLE b (id INT PRIMARY KEY, w INT);
         INSERT INTO a VALUES (1, 1), (2, 2), (3, 3), (4, 4); INSERT INTO b VALUES (1, 10), (2, 20), (4, 40)",
    )
    .await
    .unwrap();
    let affected = |c: &Conn| c.affected_rows();
    // Batched deletes and ordered updates on one table touch exactly the rows ORDER BY ... LIMIT picks.
    c.query_drop("DELETE FROM a WHERE v > 0 ORDER BY id DESC LIMIT 1")
        .await
        .unwrap();
    assert_eq!(affected(&c), 1);
    c.query_drop("UPDATE a SET v = v + 100 ORDER BY id LIMIT 2")
        .await
        .unwrap();
    assert_eq!(affected(&c), 2);
    // A prepared form with the limit as a parameter, as batch jobs write it.
    c.exec_drop("DELETE FROM a WHERE v > ? ORDER BY id LIMIT ?", (1000, 5))
        .await
        .unwrap();
    assert_eq!(affected(&c), 0);
    // Multiple-table UPDATE (inner joins, aliases) and DELETE (any join, both forms).
    c.query_drop("UPDATE a JOIN b ON a.id = b.id SET a.v = b.w WHERE b.w > 10")
        .await
        .unwrap();
    assert_eq!(affected(&c), 1);
    c.query_drop(
        "UPDATE a AS x INNER JOIN b AS y ON x.id = y.id SET x.v = y.w + x.v WHERE y.w = 10",
    )
    .await
    .unwrap();
    c.query_drop("DELETE a FROM a JOIN b ON a.id = b.id WHERE b.w = 20")
        .await
        .unwrap();
    assert_eq!(affected(&c), 1);
    c.query_drop("DELETE x FROM a AS x LEFT JOIN b ON x.id = b.id WHERE b.id IS NULL")
        .await
        .unwrap();
    assert_eq!(affected(&c), 1);
    c.query_drop("DELETE FROM b USING b JOIN a ON a.id = b.id WHERE a.v = 40")
        .await
        .unwrap();
    assert_eq!(affected(&c), 0);
    let rows: Vec<(i64, i64)> = c.query("SELECT id, v FROM a ORDER BY id").await.unwrap();
    assert_eq!(rows, [(1, 111)]);
    let rows: Vec<(i64, i64)> = c.query("SELECT id, w FROM b ORDER BY id").await.unwrap();
    assert_eq!(rows, [(1, 10), (2, 20), (4, 40)]);
    // What SQLite cannot do in one statement is refused, and changes nothing.
    for sql in [
        "UPDATE a LEFT JOIN b ON a.id = b.id SET a.v = 0",
        "DELETE a, b FROM a JOIN b ON a.id = b.id",
        "UPDATE a JOIN b ON a.id = b.id SET a.v = 1, b.w = 2",
        "UPDATE a JOIN b ON a.id = b.id SET a.v = 1 LIMIT 1",
    ] {
        let (code, state, _) = expect_error(&mut c, sql).await;
        assert_eq!((code, state.as_str()), (1235, "0A000"), "{sql}");
    }
    assert_eq!(row(&mut c, "SELECT v FROM a").await, some(&["111"]));
    // A user who may change app's tables but not read vault's cannot read them through a join.
    c.query_drop(
        "CREATE DATABASE vault; CREATE TABLE vault.s (id INT PRIMARY KEY, w INT); INSERT INTO vault.s VALUES (1, 7);
         CREATE USER clerk IDENTIFIED BY 'pw'; GRANT ALL ON app.* TO clerk",
    )
    .await
    .unwrap();
    let mut clerk = server.connect_with("clerk@t1", "pw", Some("app")).await;
    for sql in [
        "UPDATE a JOIN vault.s ON a.id = s.id SET a.v = s.w",
        "DELETE a FROM a JOIN vault.s ON a.id = s.id",
        "DELETE FROM a WHERE id IN (SELECT id FROM vault.s) ORDER BY id LIMIT 1",
    ] {
        let (code, _, _) = expect_error(&mut clerk, sql).await;
        assert_eq!(code, 1142, "{sql}");
    }
    assert_eq!(row(&mut c, "SELECT v FROM a").await, some(&["111"]));
    clerk
        .query_drop("UPDATE a SET v = 5 ORDER BY id LIMIT 1")
        .await
        .unwrap();
    assert_eq!(clerk.affected_rows(), 1);
    clerk
        .query_drop("UPDATE a JOIN b ON a.id = b.id SET a.v = b.w")
        .await
        .unwrap();
    assert_eq!(row(&mut c, "SELECT v FROM a").await, some(&["10"]));
    // The old comma form is a cross join that the WHERE narrows.
    c.query_drop("UPDATE a, b SET a.v = b.w + 1 WHERE a.id = b.id")
        .await
        .unwrap();
    assert_eq!(row(&mut c, "SELECT v FROM a").await, some(&["11"]));
}

/// A temporary table created inside a transaction that has not written yet survives the transaction's
/// first write (once, the restart for the writer turn rolled it back: its first INSERT was 1146).
#[tokio::test]
async fn temporary_tables_created_in_a_transaction_survive_its_writes() {
    let server = TestServer::start();
    let mut c = app(&server).await;
    c.query_drop("CREATE TABLE base (id INT PRIMARY KEY)")
        .await
        .unwrap();
    c.query_drop(
        "BEGIN; SELECT * FROM base; CREATE TEMPORARY TABLE x (a INT); INSERT INTO x VALUES (1); \
         INSERT INTO base VALUES (1); INSERT INTO x SELECT id + 1 FROM base",
    )
    .await
    .unwrap();
    let rows: Vec<i64> = c.query("SELECT a FROM x ORDER BY a").await.unwrap();
    assert_eq!(rows, [1, 2]);
    c.query_drop("COMMIT").await.unwrap();
    let rows: Vec<i64> = c.query("SELECT a FROM x ORDER BY a").await.unwrap();
    assert_eq!(rows, [1, 2]);
    let n: Option<i64> = c.query_first("SELECT count(*) FROM base").await.unwrap();
    assert_eq!(n, Some(1));
    // With autocommit off (how drivers run transactions) too.
    c.query_drop("SET autocommit = 0; SELECT * FROM base; CREATE TEMPORARY TABLE y (a INT); INSERT INTO y VALUES (7)")
        .await
        .unwrap();
    let rows: Vec<i64> = c.query("SELECT a FROM y").await.unwrap();
    assert_eq!(rows, [7]);
    c.query_drop("COMMIT").await.unwrap();
}

/// DESCRIBE, SHOW COLUMNS, SHOW CREATE TABLE and SHOW INDEX see the session's temporary table where it hides
/// a table of the same name, as queries do (they once described the hidden table).
#[tokio::test]
async fn show_statements_describe_the_temporary_table_that_hides_one() {
    let server = TestServer::start();
    let mut c = app(&server).await;
    c.query_drop("CREATE TABLE s (a INT, b INT); CREATE TEMPORARY TABLE s (z TEXT, KEY kz (z))")
        .await
        .unwrap();
    let fields: Vec<String> = c
        .query_map("DESCRIBE s", |r: Row| {
            r.get::<String, _>(0).unwrap_or_default()
        })
        .await
        .unwrap();
    assert_eq!(fields, ["z"]);
    let fields: Vec<String> = c
        .query_map("SHOW COLUMNS FROM s", |r: Row| {
            r.get::<String, _>(0).unwrap_or_default()
        })
        .await
        .unwrap();
    assert_eq!(fields, ["z"]);
    let created = row(&mut c, "SHOW CREATE TABLE s").await;
    assert_eq!(created[0].as_deref(), Some("s"));
    let text = created[1].clone().unwrap_or_default();
    assert!(text.starts_with("CREATE TEMPORARY TABLE `s`"), "{text}");
    let index = row(&mut c, "SHOW INDEX FROM s").await;
    assert_eq!(
        (index[0].as_deref(), index[2].as_deref()),
        (Some("s"), Some("kz"))
    );
    // Another session, and this one once it is dropped, see the database's table.
    let mut other = server.connect_with("root@t1", "", Some("app")).await;
    let fields: Vec<String> = other
        .query_map("DESCRIBE s", |r: Row| {
            r.get::<String, _>(0).unwrap_or_default()
        })
        .await
        .unwrap();
    assert_eq!(fields, ["a", "b"]);
    c.query_drop("DROP TEMPORARY TABLE s").await.unwrap();
    let fields: Vec<String> = c
        .query_map("DESCRIBE s", |r: Row| {
            r.get::<String, _>(0).unwrap_or_default()
        })
        .await
        .unwrap();
    assert_eq!(fields, ["a", "b"]);
}

/// TRIM's SQL forms (they once reached SQLite as they were written, a syntax error there): MySQL removes the
/// string as a whole, as often as it repeats at that end.
#[tokio::test]
async fn trim_forms() {
    let server = TestServer::start();
    let mut c = app(&server).await;
    assert_eq!(
        row(
            &mut c,
            "SELECT TRIM(BOTH 'x' FROM 'xxaxx'), TRIM(LEADING 'ab' FROM 'ababcab'), \
             TRIM(TRAILING 'ab' FROM 'ababcab'), CONCAT('[', TRIM('  a  '), ']'), TRIM('x' FROM 'xax'), \
             TRIM(LEADING '' FROM 'a'), TRIM(BOTH 'x' FROM NULL)"
        )
        .await,
        vec![
            Some("a".into()),
            Some("cab".into()),
            Some("ababc".into()),
            Some("[a]".into()),
            Some("a".into()),
            Some("a".into()),
            None
        ]
    );
    assert_eq!(
        row(&mut c, "SELECT CONCAT('[', TRIM(BOTH FROM '  b '), ']'), CONCAT('[', TRIM(LEADING FROM '  b '), ']')")
            .await,
        some(&["[b]", "[b ]"])
    );
}

/// EXTRACT (it once reached SQLite as written, a syntax error there), with MySQL's meanings: whole seconds,
/// the fraction alone as MICROSECOND, WEEK as WEEK(d, 0); typed literals keep the fraction they are written with.
#[tokio::test]
async fn extract_fields_and_typed_literals() {
    let server = TestServer::start();
    let mut c = app(&server).await;
    let ts = "'2024-05-06 07:08:09.123'";
    assert_eq!(
        row(
            &mut c,
            &format!(
                "SELECT EXTRACT(YEAR FROM {ts}), EXTRACT(MONTH FROM {ts}), EXTRACT(DAY FROM {ts}), \
                 EXTRACT(HOUR FROM {ts}), EXTRACT(MINUTE FROM {ts}), EXTRACT(SECOND FROM {ts}), \
                 EXTRACT(MICROSECOND FROM {ts}), EXTRACT(QUARTER FROM {ts}), EXTRACT(WEEK FROM {ts}), \
                 EXTRACT(YEAR FROM NULL)"
            )
        )
        .await,
        vec![
            Some("2024".into()),
            Some("5".into()),
            Some("6".into()),
            Some("7".into()),
            Some("8".into()),
            Some("9".into()),
            Some("123000".into()),
            Some("2".into()),
            Some("18".into()),
            None
        ]
    );
    c.query_drop("CREATE TABLE ev (at DATETIME); INSERT INTO ev VALUES ('2023-12-31 23:00:00'), ('2024-01-01 01:00:00')")
        .await
        .unwrap();
    let years: Vec<i64> = c
        .query("SELECT EXTRACT(YEAR FROM at) AS y FROM ev ORDER BY y")
        .await
        .unwrap();
    assert_eq!(years, [2023, 2024]);
    assert_eq!(
        row(
            &mut c,
            "SELECT TIMESTAMP '2024-05-06 01:02:03', TIMESTAMP '2024-05-06 01:02:03.5'"
        )
        .await,
        some(&["2024-05-06 01:02:03", "2024-05-06 01:02:03.5"])
    );
    // A cast to fewer fraction digits rounds, as MySQL 8 does, across a year's end too.
    assert_eq!(
        row(
            &mut c,
            "SELECT CAST('2024-12-31 23:59:59.6' AS DATETIME), CAST('2024-05-06 01:02:03.25' AS DATETIME(1)), \
             CAST('01:02:03.5' AS TIME)"
        )
        .await,
        some(&["2025-01-01 00:00:00", "2024-05-06 01:02:03.3", "01:02:04"])
    );
}

/// The status flags of a result's end: NO_INDEX_USED after a query that scanned a table whole, not after one
/// that used an index (or read no table); AUTOCOMMIT and IN_TRANS as the session stands.
#[tokio::test]
async fn result_status_flags_tell_a_full_scan() {
    use mysql_async::consts::StatusFlags;
    let server = TestServer::start();
    let mut c = app(&server).await;
    c.query_drop(
        "CREATE TABLE a (id INT PRIMARY KEY, o TEXT); INSERT INTO a VALUES (1, 'x'), (2, 'y')",
    )
    .await
    .unwrap();
    let status = |c: &Conn| {
        c.last_ok_packet()
            .map(|ok| ok.status_flags())
            .unwrap_or_else(StatusFlags::empty)
    };
    let _: Vec<Row> = c.query("SELECT * FROM a WHERE o = 'z'").await.unwrap();
    let s = status(&c);
    assert!(
        s.contains(StatusFlags::SERVER_STATUS_NO_INDEX_USED),
        "{s:?}"
    );
    assert!(s.contains(StatusFlags::SERVER_STATUS_AUTOCOMMIT), "{s:?}");
    let _: Vec<Row> = c.query("SELECT * FROM a WHERE id = 1").await.unwrap();
    assert!(!status(&c).contains(StatusFlags::SERVER_STATUS_NO_INDEX_USED));
    let _: Vec<Row> = c.query("SELECT 1").await.unwrap();
    assert!(!status(&c).contains(StatusFlags::SERVER_STATUS_NO_INDEX_USED));
    c.query_drop("BEGIN").await.unwrap();
    let _: Vec<Row> = c.query("SELECT * FROM a").await.unwrap();
    let s = status(&c);
    assert!(s.contains(StatusFlags::SERVER_STATUS_IN_TRANS), "{s:?}");
    assert!(
        s.contains(StatusFlags::SERVER_STATUS_NO_INDEX_USED),
        "{s:?}"
    );
    c.query_drop("ROLLBACK").await.unwrap();
}

/// A column added by one connection's ALTER TABLE (a schema change job, on a connection of its own) is there
/// for the next statement of every connection, including a VALUES list that needs it: SQLite compiled against
/// the schema it last read and failed with `table t has 2 columns but 3 values were supplied`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_after_add_column_see_the_new_column_on_every_connection() {
    let server = TestServer::start();
    let mut a = app(&server).await;
    let mut b = server.connect("root@t1").await;
    b.query_drop("USE app").await.unwrap();
    a.query_drop("CREATE TABLE t (id INT PRIMARY KEY, x INT)")
        .await
        .unwrap();
    b.query_drop("INSERT INTO t VALUES (1, 1)").await.unwrap();
    a.query_drop("ALTER TABLE t ADD COLUMN y INT")
        .await
        .unwrap();
    a.query_drop("INSERT INTO t VALUES (2, 2, 2)")
        .await
        .unwrap();
    b.query_drop("INSERT INTO t VALUES (3, 3, 3)")
        .await
        .unwrap();
    let pg = server.pg("root@t1", "", Some("app")).await;
    a.query_drop("ALTER TABLE t ADD COLUMN z INT")
        .await
        .unwrap();
    pg.batch_execute("INSERT INTO t VALUES (4, 4, 4, 4)")
        .await
        .unwrap();
    let n: i64 = b
        .query_first("SELECT COUNT(*) FROM t")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 4);
}
