//! Bad input never panics, hangs or kills the server, and never changes anything.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use mysql_async::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::common::TestServer;

const FRAGMENTS: &[&str] = &[
    "SELECT",
    "INSERT",
    "INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "DELETE",
    "FROM",
    "WHERE",
    "CREATE",
    "DROP",
    "TABLE",
    "DATABASE",
    "TENANT",
    "ALTER",
    "SYSTEM",
    "RESOURCE",
    "POOL",
    "UNIT",
    "USER",
    "GRANT",
    "REVOKE",
    "ON",
    "TO",
    "SHOW",
    "KILL",
    "USE",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "t",
    "test.t",
    "*",
    "(",
    ")",
    ",",
    ";",
    "'",
    "\"",
    "`",
    "=",
    "@@",
    "@",
    "1",
    "-1",
    "1e999",
    "NULL",
    "''",
    "'x'",
    "\\",
    "/*",
    "*/",
    "--",
    "#",
    "\n",
    "é",
    "🦀",
    "\0",
    "JOIN",
    "GROUP BY",
    "ORDER BY",
    "LIMIT",
    "WITH",
    "RECURSIVE",
    "INDEX",
    "KEY",
    "PRIMARY",
    "AUTO_INCREMENT",
];

#[tokio::test]
async fn generated_garbage_statements() {
    let server = TestServer::start();
    let mut c = server.connect_with("root@sys", "", Some("test")).await;
    c.query_drop("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))")
        .await
        .unwrap();
    c.query_drop("INSERT INTO t VALUES (1, 'keep')")
        .await
        .unwrap();
    let mut rng = StdRng::seed_from_u64(0x007e_4a47);
    let mut errors = 0;
    for _ in 0..1500 {
        let n = rng.gen_range(1..12);
        let mut sql = String::new();
        for _ in 0..n {
            if rng.gen_bool(0.1) {
                let len = rng.gen_range(1..8);
                sql.extend((0..len).map(|_| rng.gen_range(' '..='~')));
            } else {
                sql.push_str(FRAGMENTS[rng.gen_range(0..FRAGMENTS.len())]);
            }
            sql.push(' ');
        }
        // Valid DROP/DELETE/UPDATE/KILL would only show that valid SQL works (and KILL could end this very
        // session); skip them so the check below means something.
        let upper = sql.to_ascii_uppercase();
        if ["DROP", "DELETE", "UPDATE", "KILL", "TRUNCATE"]
            .iter()
            .any(|k| upper.contains(k))
        {
            continue;
        }
        match c.query_drop(&sql).await {
            Ok(()) => {}
            Err(mysql_async::Error::Server(_)) => errors += 1,
            Err(e) => panic!("statement {sql:?} broke the connection: {e}"),
        }
    }
    assert!(errors > 1000, "most garbage is refused ({errors})");
    let v: Option<String> = c.query_first("SELECT v FROM t WHERE id = 1").await.unwrap();
    assert_eq!(v.as_deref(), Some("keep"));
}

#[tokio::test]
async fn pathological_statements() {
    let server = TestServer::start();
    let mut c = server.connect_with("root@sys", "", Some("test")).await;
    let nested = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
    let huge = format!("SELECT '{}'", "x".repeat(8 << 20));
    let long_list = format!(
        "SELECT 1 IN ({})",
        (0..20000)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    for sql in [
        "SELECT 'unterminated",
        "SELECT `unterminated",
        "/* unterminated comment",
        "",
        ";;;",
        nested.as_str(),
        "CREATE TABLE x (a INT AUTO_INCREMENT, b INT AUTO_INCREMENT, PRIMARY KEY (a))",
        "INSERT INTO nowhere VALUES (1)",
        "SHOW GIBBERISH",
        "ALTER SYSTEM FROBNICATE",
        "KILL 99999",
        "SET @@global.nope = 1",
    ] {
        let r = c.query_drop(sql).await;
        assert!(
            matches!(r, Err(mysql_async::Error::Server(_))),
            "{:.60}: {r:?}",
            sql
        );
    }
    let found: Option<i64> = c.query_first(long_list.as_str()).await.unwrap();
    assert_eq!(found, Some(1));
    let r: Option<String> = c.query_first(huge.as_str()).await.unwrap();
    assert_eq!(r.map(|s| s.len()), Some(8 << 20));
    let one: Option<i64> = c.query_first("SELECT 1").await.unwrap();
    assert_eq!(one, Some(1));
}

#[tokio::test]
async fn raw_bytes_on_the_socket_close_only_that_connection() {
    let server = TestServer::start();
    let mut rng = StdRng::seed_from_u64(7);
    for round in 0..40 {
        let mut s = TcpStream::connect(("127.0.0.1", server.mysql_port)).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut greeting = [0u8; 256];
        let _ = s.read(&mut greeting);
        let len = rng.gen_range(1..2000);
        let mut junk: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        if round % 2 == 0 {
            // A well-formed packet header announcing more than is sent.
            junk.splice(0..0, [0xff, 0xff, 0x00, 0x01]);
        }
        let _ = s.write_all(&junk);
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink);
    }
    // Out-of-order commands after a real login: executing a statement that was never prepared.
    let mut c = server.connect("root@sys").await;
    let one: Option<i64> = c.query_first("SELECT 1").await.unwrap();
    assert_eq!(one, Some(1));
    let mut fresh = server.connect("root@sys").await;
    let two: Option<i64> = fresh.query_first("SELECT 2").await.unwrap();
    assert_eq!(two, Some(2));
}
