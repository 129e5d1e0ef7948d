//! Tenant SQL in MySQL flavour on SQLite: DDL, DML, queries, prepared statements, transactions, SHOW.

use mysql_async::prelude::*;
use mysql_async::Row;

use crate::common::{expect_error, TestServer};

#[tokio::test]
async fn tables_rows_and_queries() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let mut c = server.connect("root@t1").await;
    assert_eq!(expect_error(&mut c, "CREATE TABLE x (a INT)").await.0, 1046);
    c.query_drop("CREATE DATABASE shop").await.unwrap();
    assert_eq!(expect_error(&mut c, "CREATE DATABASE shop").await.0, 1007);
    c.query_drop("CREATE DATABASE IF NOT EXISTS shop")
        .await
        .unwrap();
    assert_eq!(expect_error(&mut c, "USE nosuch").await.0, 1049);
    c.query_drop("USE shop").await.unwrap();
    c.query_drop(
        "CREATE TABLE customers (
            id BIGINT NOT NULL AUTO_INCREMENT,
            name VARCHAR(64) NOT NULL,
            email VARCHAR(128),
            PRIMARY KEY (id),
            UNIQUE KEY uk_email (email)
        ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4",
    )
    .await
    .unwrap();
    c.query_drop(
        "CREATE TABLE orders (
            id INT AUTO_INCREMENT PRIMARY KEY,
            customer_id BIGINT NOT NULL,
            amount DECIMAL(10,2) NOT NULL DEFAULT 0,
            status VARCHAR(16) DEFAULT 'new',
            INDEX idx_customer (customer_id)
        )",
    )
    .await
    .unwrap();
    assert_eq!(
        expect_error(&mut c, "CREATE TABLE orders (a INT)").await.0,
        1050
    );
    c.query_drop("INSERT INTO customers (name, email) VALUES ('Ann', 'ann@x.io'), ('Bob', 'bob@x.io'), (\"Cy\", NULL)")
        .await
        .unwrap();
    assert_eq!(
        c.last_insert_id(),
        Some(1),
        "the first generated id of a multi-row insert"
    );
    assert_eq!(c.affected_rows(), 3);
    let (code, state, _) = expect_error(
        &mut c,
        "INSERT INTO customers (name, email) VALUES ('Dup', 'ANN@x.io')",
    )
    .await;
    assert_eq!(
        (code, state.as_str()),
        (1062, "23000"),
        "unique keys compare case-insensitively, as MySQL's default collation does"
    );
    assert_eq!(
        expect_error(&mut c, "INSERT INTO customers (email) VALUES ('n@x.io')")
            .await
            .0,
        1048
    );
    assert_eq!(
        expect_error(&mut c, "SELECT nope FROM customers").await.0,
        1054
    );
    assert_eq!(expect_error(&mut c, "SELECT * FROM nope").await.0, 1146);
    assert_eq!(expect_error(&mut c, "SELECT * FROM shop.").await.0, 1064);
    c.query_drop(
        "INSERT INTO orders (customer_id, amount) VALUES (1, 10.5), (1, 20), (2, 7.25), (3, 1)",
    )
    .await
    .unwrap();
    c.query_drop("UPDATE orders SET status = 'paid' WHERE amount > 5")
        .await
        .unwrap();
    assert_eq!(c.affected_rows(), 3);
    c.query_drop("DELETE FROM orders WHERE customer_id = 3")
        .await
        .unwrap();
    assert_eq!(c.affected_rows(), 1);

    let totals: Vec<(String, i64, String)> = c
        .query(
            "SELECT c.name, COUNT(o.id) AS n, SUM(o.amount) AS total
             FROM customers c JOIN orders o ON o.customer_id = c.id
             WHERE c.id IN (SELECT customer_id FROM orders WHERE status = 'paid')
             GROUP BY c.name ORDER BY total DESC LIMIT 10",
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r: Row| {
            let total: f64 = r.get::<f64, _>("total").unwrap();
            (
                r.get("name").unwrap(),
                r.get("n").unwrap(),
                format!("{total:.2}"),
            )
        })
        .collect();
    assert_eq!(
        totals,
        vec![
            ("Ann".into(), 2, "30.50".into()),
            ("Bob".into(), 1, "7.25".into())
        ]
    );
    let amount: Option<String> = c
        .query_first("SELECT amount FROM orders WHERE id = 2")
        .await
        .unwrap();
    assert_eq!(amount.as_deref(), Some("20.00"), "DECIMAL keeps its scale");
    let paged: Vec<i64> = c
        .query("SELECT id FROM customers ORDER BY id LIMIT 1, 2")
        .await
        .unwrap();
    assert_eq!(paged, vec![2, 3]);

    // Schema changes and introspection.
    c.query_drop("ALTER TABLE customers ADD COLUMN city VARCHAR(32) DEFAULT 'Paris'")
        .await
        .unwrap();
    c.query_drop("CREATE INDEX idx_city ON customers (city)")
        .await
        .unwrap();
    let city: Option<String> = c
        .query_first("SELECT city FROM customers WHERE id = 1")
        .await
        .unwrap();
    assert_eq!(city.as_deref(), Some("Paris"));
    let tables: Vec<String> = c.query("SHOW TABLES").await.unwrap();
    assert_eq!(tables, vec!["customers".to_string(), "orders".to_string()]);
    let fields: Vec<(String, String, String, String)> = c
        .query("DESCRIBE customers")
        .await
        .unwrap()
        .into_iter()
        .map(|r: Row| {
            (
                r.get("Field").unwrap(),
                r.get("Type").unwrap(),
                r.get("Null").unwrap(),
                r.get("Key").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        fields[0],
        ("id".into(), "bigint".into(), "NO".into(), "PRI".into())
    );
    assert_eq!(
        fields[2],
        (
            "email".into(),
            "varchar(128)".into(),
            "YES".into(),
            "UNI".into()
        )
    );
    assert_eq!(fields[3].3, "MUL");
    let create: Option<(String, String)> = c.query_first("SHOW CREATE TABLE orders").await.unwrap();
    let create = create.unwrap().1;
    assert!(
        create.contains("`id` int NOT NULL AUTO_INCREMENT"),
        "{create}"
    );
    assert!(
        create.contains("KEY `idx_customer` (`customer_id`)"),
        "{create}"
    );
    let keys: Vec<String> = c
        .query("SHOW INDEX FROM customers")
        .await
        .unwrap()
        .into_iter()
        .map(|r: Row| r.get("Key_name").unwrap())
        .collect();
    assert_eq!(
        keys,
        vec!["PRIMARY", "uk_email", "idx_city"],
        "primary, then unique, then other keys, as MySQL lists them"
    );
    c.query_drop("DROP INDEX idx_city ON customers")
        .await
        .unwrap();
    assert_eq!(
        expect_error(&mut c, "DROP INDEX idx_city ON customers")
            .await
            .0,
        1091
    );
    c.query_drop("TRUNCATE TABLE orders").await.unwrap();
    let n: Option<i64> = c.query_first("SELECT COUNT(*) FROM orders").await.unwrap();
    assert_eq!(n, Some(0));
    c.query_drop("DROP TABLE orders").await.unwrap();
    assert_eq!(expect_error(&mut c, "DROP TABLE orders").await.0, 1051);
    c.query_drop("DROP TABLE IF EXISTS orders").await.unwrap();

    // Databases are separate files; queries may span them.
    c.query_drop("CREATE DATABASE other").await.unwrap();
    c.query_drop("CREATE TABLE other.notes (customer_id BIGINT, body TEXT)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO other.notes VALUES (1, 'vip')")
        .await
        .unwrap();
    let joined: Option<(String, String)> = c
        .query_first(
            "SELECT c.name, n.body FROM customers c JOIN other.notes n ON n.customer_id = c.id",
        )
        .await
        .unwrap();
    assert_eq!(joined, Some(("Ann".into(), "vip".into())));
    let dbs: Vec<String> = c.query("SHOW DATABASES").await.unwrap();
    assert_eq!(
        dbs,
        vec!["information_schema", "oceanbase", "other", "shop", "test"]
    );
    c.query_drop("DROP DATABASE other").await.unwrap();
    assert_eq!(
        expect_error(&mut c, "SELECT * FROM other.notes").await.0,
        1146
    );
    assert_eq!(expect_error(&mut c, "DROP DATABASE other").await.0, 1008);
    // A database created again under the same name starts empty.
    c.query_drop("CREATE DATABASE other").await.unwrap();
    assert_eq!(
        expect_error(&mut c, "SELECT * FROM other.notes").await.0,
        1146
    );
}

#[tokio::test]
async fn session_functions_and_variables() {
    let server = TestServer::start();
    let mut c = server.connect_with("root@sys", "", Some("test")).await;
    let row: Option<(String, String, String, i64)> = c
        .query_first("SELECT DATABASE(), USER(), VERSION(), CONNECTION_ID()")
        .await
        .unwrap();
    let (db, user, version, id) = row.unwrap();
    assert_eq!(db, "test");
    assert_eq!(user, "root@127.0.0.1");
    assert!(version.starts_with("5.7"), "{version}");
    assert_eq!(Some(id as u32), Some(c.id()));
    let r: Row = c
        .query_first("SELECT @@version_comment, @@max_allowed_packet, 'abc', 1 + 1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.columns_ref()[0].name_str(), "@@version_comment");
    assert_eq!(r.columns_ref()[2].name_str(), "abc");
    c.query_drop("SET NAMES utf8mb4").await.unwrap();
    c.query_drop("SET @a = 40, @b := @a + 2").await.unwrap();
    let b: Option<i64> = c.query_first("SELECT @b").await.unwrap();
    assert_eq!(b, Some(42));
    c.query_drop("SET SESSION sql_mode = 'ANSI_QUOTES'")
        .await
        .unwrap();
    let mode: Option<String> = c.query_first("SELECT @@session.sql_mode").await.unwrap();
    assert_eq!(mode.as_deref(), Some("ANSI_QUOTES"));
    assert_eq!(expect_error(&mut c, "SET no_such_var = 1").await.0, 1193);
    assert_eq!(expect_error(&mut c, "SELECT @@no_such_var").await.0, 1193);
    let vars: Vec<(String, String)> = c.query("SHOW VARIABLES LIKE 'auto%'").await.unwrap();
    assert!(
        vars.iter().any(|(n, v)| n == "autocommit" && v == "1"),
        "{vars:?}"
    );
    let n: Option<Option<String>> = c.query_first("SELECT CONCAT('a', NULL)").await.unwrap();
    assert_eq!(n, Some(None), "CONCAT with a NULL is NULL, as in MySQL");
    let s: Option<String> = c
        .query_first("SELECT IF(1 > 0, LEFT('hello', 2), 'no')")
        .await
        .unwrap();
    assert_eq!(s.as_deref(), Some("he"));
}

#[tokio::test]
async fn prepared_statements_and_transactions() {
    let server = TestServer::start();
    let mut c = server.connect_with("root@sys", "", Some("test")).await;
    c.query_drop(
        "CREATE TABLE kv (k VARCHAR(32) PRIMARY KEY, v INT, f DOUBLE, b BLOB, ts DATETIME)",
    )
    .await
    .unwrap();
    let stmt = c
        .prep("INSERT INTO kv (k, v, f, b, ts) VALUES (?, ?, ?, ?, ?)")
        .await
        .unwrap();
    for i in 0..5i64 {
        c.exec_drop(
            &stmt,
            (
                format!("key{i}"),
                i * 10,
                i as f64 / 2.0,
                vec![i as u8, 0xFF],
                "2024-01-02 03:04:05",
            ),
        )
        .await
        .unwrap();
    }
    c.exec_drop(
        &stmt,
        (
            "nullish",
            None::<i64>,
            None::<f64>,
            None::<Vec<u8>>,
            None::<String>,
        ),
    )
    .await
    .unwrap();
    type KvRow = (String, Option<i64>, Option<f64>, Option<Vec<u8>>);
    let rows: Vec<KvRow> = c
        .exec(
            "SELECT k, v, f, b FROM kv WHERE v >= ? OR v IS NULL ORDER BY k",
            (20,),
        )
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![
            ("key2".into(), Some(20), Some(1.0), Some(vec![2, 0xFF])),
            ("key3".into(), Some(30), Some(1.5), Some(vec![3, 0xFF])),
            ("key4".into(), Some(40), Some(2.0), Some(vec![4, 0xFF])),
            ("nullish".into(), None, None, None),
        ]
    );
    // A DATETIME column goes out as one: the binary protocol carries it as a date, not a string.
    let ts: Option<mysql_async::Value> = c
        .exec_first("SELECT ts FROM kv WHERE k = ?", ("key1",))
        .await
        .unwrap();
    assert_eq!(ts, Some(mysql_async::Value::Date(2024, 1, 2, 3, 4, 5, 0)));

    // BEGIN / ROLLBACK / COMMIT, seen from another session.
    let mut other = server.connect_with("root@sys", "", Some("test")).await;
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("INSERT INTO kv (k, v) VALUES ('tx', 1)")
        .await
        .unwrap();
    let seen: Option<i64> = other
        .query_first("SELECT COUNT(*) FROM kv WHERE k = 'tx'")
        .await
        .unwrap();
    assert_eq!(seen, Some(0), "uncommitted rows are invisible to others");
    c.query_drop("ROLLBACK").await.unwrap();
    let mine: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM kv WHERE k = 'tx'")
        .await
        .unwrap();
    assert_eq!(mine, Some(0));
    // autocommit = 0 keeps a transaction open until COMMIT.
    c.query_drop("SET autocommit = 0").await.unwrap();
    c.query_drop("INSERT INTO kv (k, v) VALUES ('ac', 1)")
        .await
        .unwrap();
    let seen: Option<i64> = other
        .query_first("SELECT COUNT(*) FROM kv WHERE k = 'ac'")
        .await
        .unwrap();
    assert_eq!(seen, Some(0));
    c.query_drop("COMMIT").await.unwrap();
    let seen: Option<i64> = other
        .query_first("SELECT COUNT(*) FROM kv WHERE k = 'ac'")
        .await
        .unwrap();
    assert_eq!(seen, Some(1));
    c.query_drop("SET autocommit = 1").await.unwrap();
    // mysql_async's own transaction API.
    let mut tx = c.start_transaction(Default::default()).await.unwrap();
    tx.query_drop("INSERT INTO kv (k, v) VALUES ('api', 1)")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let seen: Option<i64> = other
        .query_first("SELECT COUNT(*) FROM kv WHERE k = 'api'")
        .await
        .unwrap();
    assert_eq!(seen, Some(1));
    // Upserts in MySQL's words.
    c.query_drop(
        "INSERT INTO kv (k, v) VALUES ('api', 5) ON DUPLICATE KEY UPDATE v = v + VALUES(v)",
    )
    .await
    .unwrap();
    let v: Option<i64> = c
        .query_first("SELECT v FROM kv WHERE k = 'api'")
        .await
        .unwrap();
    assert_eq!(v, Some(6));
    c.query_drop("INSERT IGNORE INTO kv (k, v) VALUES ('api', 100)")
        .await
        .unwrap();
    c.query_drop("REPLACE INTO kv (k, v) VALUES ('ac', 9)")
        .await
        .unwrap();
    let v: Vec<(String, i64)> = c
        .query("SELECT k, v FROM kv WHERE k IN ('api', 'ac') ORDER BY k")
        .await
        .unwrap();
    assert_eq!(v, vec![("ac".into(), 9), ("api".into(), 6)]);
}

#[tokio::test]
async fn numeric_columns_refuse_what_is_not_a_number() {
    let server = TestServer::start();
    let mut c = server.connect_with("root@sys", "", Some("test")).await;
    c.query_drop(
        "CREATE TABLE n (i INT, d DECIMAL(10,2), f DOUBLE, s VARCHAR(5), dt DATETIME, b BOOLEAN)",
    )
    .await
    .unwrap();
    c.query_drop("INSERT INTO n VALUES ('42', '1.5', 2, 7, '2024-01-01 00:00:00', TRUE)")
        .await
        .unwrap();
    let row: Option<(i64, String, f64, String, String, i64)> = c
        .query_first("SELECT i, d, f, s, dt, b FROM n")
        .await
        .unwrap();
    assert_eq!(
        row,
        Some((
            42,
            "1.50".into(),
            2.0,
            "7".into(),
            "2024-01-01 00:00:00".into(),
            1
        ))
    );
    for sql in [
        "INSERT INTO n (i) VALUES ('abc')",
        "INSERT INTO n (d) VALUES ('1,5')",
        "UPDATE n SET f = 'nope'",
    ] {
        let (code, state, msg) = expect_error(&mut c, sql).await;
        assert_eq!((code, state.as_str()), (1366, "HY000"), "{sql}: {msg}");
    }
    c.query_drop("ALTER TABLE n ADD COLUMN k BIGINT DEFAULT 1")
        .await
        .unwrap();
    assert_eq!(
        expect_error(&mut c, "INSERT INTO n (k) VALUES ('z')")
            .await
            .0,
        1366
    );
    c.query_drop("ALTER TABLE n MODIFY s INT").await.unwrap();
    assert_eq!(
        expect_error(&mut c, "INSERT INTO n (s) VALUES ('seven')")
            .await
            .0,
        1366
    );
    let n: Option<i64> = c.query_first("SELECT COUNT(*) FROM n").await.unwrap();
    assert_eq!(n, Some(1), "refused rows changed nothing");
}

#[tokio::test]
async fn information_schema_describes_what_the_user_may_see() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let mut root = server.connect("root@t1").await;
    root.query_drop("CREATE DATABASE shop").await.unwrap();
    root.query_drop("CREATE DATABASE hidden").await.unwrap();
    root.query_drop("CREATE TABLE shop.items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64) NOT NULL DEFAULT 'x')").await.unwrap();
    root.query_drop("CREATE TABLE hidden.h (a INT)")
        .await
        .unwrap();
    root.query_drop("CREATE USER u IDENTIFIED BY 'pw'")
        .await
        .unwrap();
    root.query_drop("GRANT SELECT ON shop.* TO u")
        .await
        .unwrap();
    let mut u = server.connect_with("u@t1", "pw", None).await;
    let schemas: Vec<String> = u
        .query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY 1")
        .await
        .unwrap();
    assert_eq!(schemas, vec!["information_schema", "oceanbase", "shop"]);
    let tables: Vec<(String, String)> = u
        .query("SELECT table_schema, table_name FROM information_schema.tables")
        .await
        .unwrap();
    assert_eq!(tables, vec![("shop".to_string(), "items".to_string())]);
    let cols: Vec<(String, String, String, String)> = u
        .query("SELECT column_name, column_type, is_nullable, extra FROM information_schema.columns WHERE table_name = 'items' ORDER BY ordinal_position")
        .await
        .unwrap();
    assert_eq!(
        cols,
        vec![
            (
                "id".into(),
                "int".into(),
                "NO".into(),
                "auto_increment".into()
            ),
            ("name".into(), "varchar(64)".into(), "NO".into(), "".into()),
        ]
    );
    let mut other = server.connect("root@sys").await;
    let n: Option<i64> = other
        .query_first("SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'items'")
        .await
        .unwrap();
    assert_eq!(n, Some(0), "another tenant's tables do not appear");
}

#[tokio::test]
async fn serial_keys_and_returning() {
    let server = TestServer::start();
    let mut c = server.connect_with("root@sys", "", Some("test")).await;
    c.query_drop("CREATE TABLE s (id SERIAL, name VARCHAR(10))")
        .await
        .unwrap();
    let ids: Vec<(i64, String)> = c
        .query("INSERT INTO s (name) VALUES ('a'), ('b') RETURNING id, name")
        .await
        .unwrap();
    assert_eq!(ids, vec![(1, "a".to_string()), (2, "b".to_string())]);
    let updated: Vec<i64> = c
        .query("UPDATE s SET name = 'z' WHERE id = 2 RETURNING id")
        .await
        .unwrap();
    assert_eq!(updated, vec![2]);
    let deleted: Vec<String> = c
        .query("DELETE FROM s WHERE id = 1 RETURNING name")
        .await
        .unwrap();
    assert_eq!(deleted, vec!["a".to_string()]);
    let left: Vec<(i64, String)> = c.query("SELECT id, name FROM s").await.unwrap();
    assert_eq!(left, vec![(2, "z".to_string())]);
}
