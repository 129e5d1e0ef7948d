//! Hostile clients meet limits (issue 14) on the PostgreSQL wire: a client that goes away stops its
//! statement, connection caps, statement time and memory, idle sessions and login throttling.

use std::time::{Duration, Instant};

use tokio_postgres::NoTls;

use crate::common::{simple_rows, TestServer};

const ENDLESS: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c";

/// Whether session `pid` is running a statement (None: the session is gone).
async fn running(admin: &tokio_postgres::Client, pid: &str) -> Option<bool> {
    let rows = admin.query("SHOW SESSIONS", &[]).await.unwrap();
    rows.iter()
        .find(|r| r.get::<_, String>("session_id") == pid)
        .map(|r| !r.get::<_, String>("active_queries").is_empty())
}

/// A client whose connection drops in the middle of an endless query: the server notices the closed socket
/// and stops the statement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_stops_its_statement() {
    let server = TestServer::start();
    let admin = server.pg("root@sys", "", None).await;
    let (victim, conn) = tokio_postgres::connect(&server.conninfo("root@sys", "", None), NoTls)
        .await
        .unwrap();
    // The connection's task owns the socket: aborting it drops the socket as a dying client would.
    let conn_task = tokio::spawn(async move {
        let _ = conn.await;
    });
    let pid = simple_rows(&victim, "SELECT CONNECTION_ID()").await[0][0]
        .clone()
        .unwrap();
    let query = tokio::spawn(async move { victim.simple_query(ENDLESS).await.map(|_| ()) });
    while running(&admin, &pid).await != Some(true) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    conn_task.abort();
    let _ = conn_task.await;
    let gone_at = Instant::now();
    while running(&admin, &pid).await == Some(true) {
        assert!(
            gone_at.elapsed() < Duration::from_secs(20),
            "the statement of a client that went away still runs"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    eprintln!(
        "statement stopped {:?} after the client went away",
        gone_at.elapsed()
    );
    assert!(query.await.unwrap().is_err());
    assert_eq!(
        simple_rows(&admin, "SELECT 1").await,
        vec![vec![Some("1".to_string())]]
    );
}

/// The per-tenant and per-server connection caps refuse PostgreSQL logins with 53300.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_caps_refuse_with_53300() {
    let server = TestServer::start();
    let mut sys = server.mysql("root@sys", "", None).await;
    use mysql_async::prelude::Queryable;
    sys.query_drop("CREATE RESOURCE UNIT u1 MAX_CPU 1, MEMORY_SIZE '2G'")
        .await
        .unwrap();
    sys.query_drop("CREATE RESOURCE POOL p1 UNIT = 'u1', UNIT_NUM = 1")
        .await
        .unwrap();
    sys.query_drop("CREATE TENANT t1 RESOURCE_POOL_LIST = ('p1')")
        .await
        .unwrap();
    sys.query_drop("ALTER SYSTEM SET max_tenant_connections = 1")
        .await
        .unwrap();
    let first = server.pg("root@t1", "", None).await;
    let e = server
        .try_pg("root@t1", "", None)
        .await
        .expect_err("a second t1 session is refused");
    assert_eq!(crate::common::sqlstate(&e), "53300");
    // Two sessions are open (sys over MySQL, t1 over pg): a cap of two leaves room only for root@sys.
    sys.query_drop("ALTER SYSTEM SET max_tenant_connections = 0")
        .await
        .unwrap();
    sys.query_drop("ALTER SYSTEM SET max_connections = 2")
        .await
        .unwrap();
    let e = server
        .try_pg("root@t1", "", None)
        .await
        .expect_err("a session beyond max_connections is refused");
    assert_eq!(crate::common::sqlstate(&e), "53300");
    let admin = server.pg("root@sys", "", None).await;
    assert_eq!(
        simple_rows(&admin, "SELECT 1").await,
        vec![vec![Some("1".to_string())]]
    );
    drop(first);
}

/// `statement_timeout` stops any statement that runs past it with 57014; the connection goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_stops_a_long_statement() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    c.batch_execute("SET statement_timeout = '200ms'")
        .await
        .unwrap();
    let e = c.simple_query(ENDLESS).await.unwrap_err();
    assert_eq!(crate::common::sqlstate(&e), "57014");
    assert_eq!(
        simple_rows(&c, "SELECT 1").await,
        vec![vec![Some("1".to_string())]]
    );
    assert!(c
        .batch_execute("SET statement_timeout = '5 fortnights'")
        .await
        .is_err());
    c.batch_execute("SET statement_timeout = 0").await.unwrap();
}

/// A session idle for longer than `idle_session_timeout` is closed by the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_are_closed_after_idle_session_timeout() {
    let server = TestServer::start();
    let admin = server.pg("root@sys", "", None).await;
    let idle = server.pg("root@sys", "", None).await;
    let pid = simple_rows(&idle, "SELECT CONNECTION_ID()").await[0][0]
        .clone()
        .unwrap();
    idle.batch_execute("SET idle_session_timeout = '1s'")
        .await
        .unwrap();
    let since = Instant::now();
    while running(&admin, &pid).await.is_some() {
        assert!(
            since.elapsed() < Duration::from_secs(20),
            "an idle session outlived its idle_session_timeout"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(idle.simple_query("SELECT 1").await.is_err());
}

/// Failed SCRAM logins are throttled like MySQL ones: after three in a row, the next attempts wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_throttled() {
    use mysql_async::prelude::Queryable;
    let server = TestServer::start();
    let mut admin = server.mysql("root@sys", "", None).await;
    admin
        .query_drop("CREATE USER mallory IDENTIFIED BY 'right'")
        .await
        .unwrap();
    admin
        .query_drop("GRANT SELECT ON test.* TO mallory")
        .await
        .unwrap();
    for _ in 0..4 {
        let e = server
            .try_pg("mallory@sys", "wrong", None)
            .await
            .expect_err("a wrong password is refused");
        assert_eq!(crate::common::sqlstate(&e), "28P01");
    }
    let row: mysql_async::Row = admin
        .query_first("SHOW STATUS LIKE 'Connection_control_delay_generated'")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<String, _>("Value").as_deref(), Some("1"));
    let ok = server.pg("mallory@sys", "right", None).await;
    assert_eq!(
        simple_rows(&ok, "SELECT 1").await,
        vec![vec![Some("1".to_string())]]
    );
}

/// A statement over its tenant's statement memory fails with 53200 (out of memory); the session goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_memory_is_bounded() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    let e = c
        .simple_query("SELECT length(randomblob(999e6))")
        .await
        .unwrap_err();
    assert_eq!(crate::common::sqlstate(&e), "53200");
    assert_eq!(
        simple_rows(&c, "SELECT length(randomblob(1000))").await,
        vec![vec![Some("1000".to_string())]]
    );
}

/// A statement longer than `max_allowed_packet` (64 MB) is refused on the PostgreSQL wire too (08P01) before
/// it is parsed; the connection goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_over_max_allowed_packet_is_refused() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    let big = format!("SELECT LENGTH('{}')", "a".repeat(65 << 20));
    match c.simple_query(&big).await {
        Ok(_) => panic!("a 65 MB statement ran"),
        Err(e) => assert_eq!(crate::common::sqlstate(&e), "08P01"),
    }
    assert_eq!(
        simple_rows(&c, "SELECT 1").await,
        vec![vec![Some("1".to_string())]]
    );
}

/// 200 MB of rows: 20,000 rows of an id and 10,000 bytes.
const BIG_RESULT: &str = "SELECT x, zeroblob(10000) FROM \
     (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) SELECT x FROM c)";

/// Sends a simple Query message.
async fn send_query(s: &mut tokio::net::TcpStream, sql: &str) {
    use tokio::io::AsyncWriteExt;
    let mut m = vec![b'Q'];
    m.extend_from_slice(&(u32::try_from(sql.len() + 5).unwrap()).to_be_bytes());
    m.extend_from_slice(sql.as_bytes());
    m.push(0);
    s.write_all(&m).await.unwrap();
}

/// Reads a simple query's answer up to ReadyForQuery: how many DataRows and bytes of them came, or the
/// SQLSTATE of the error that ended it.
async fn read_answer(s: &mut tokio::net::TcpStream) -> (u64, u64, Option<String>) {
    let (mut rows, mut bytes, mut error) = (0u64, 0u64, None);
    loop {
        match crate::pg_wire::read_message(s).await.unwrap() {
            Some((b'D', body)) => {
                rows += 1;
                bytes += body.len() as u64;
            }
            Some((b'E', body)) => error = crate::pg_wire::sqlstate(&body),
            Some((b'Z', _)) => return (rows, bytes, error),
            Some(_) => {}
            None => panic!("the server closed the connection"),
        }
    }
}

/// A client that sends a SELECT of 200 MB and does not read: rows stream with backpressure, the server's
/// memory stays within a few MB of where it was, and the whole result arrives once the client reads; a
/// statement waiting on such a client stops at a cancel as one running in SQLite does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_result_to_a_client_that_does_not_read_holds_bounded_memory() {
    let server = TestServer::start();
    let admin = server.pg("root@sys", "", None).await;
    let warm = admin
        .simple_query(&BIG_RESULT.replace("x < 20000", "x < 500"))
        .await
        .unwrap();
    assert_eq!(warm.len(), 502, "RowDescription, 500 rows, CommandComplete");
    let before = server.rss();
    let mut slow = crate::pg_wire::login(server.pg_port, "root@sys", "test")
        .await
        .unwrap()
        .expect("login");
    send_query(&mut slow, BIG_RESULT).await;
    let mut peak = 0;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        peak = peak.max(server.rss());
    }
    let grown = peak.saturating_sub(before);
    assert!(
        grown < 48 << 20,
        "the server grew by {} MB for a client that reads nothing",
        grown >> 20
    );
    assert_eq!(
        simple_rows(&admin, "SELECT 1").await,
        vec![vec![Some("1".to_string())]]
    );
    let (rows, bytes, error) = read_answer(&mut slow).await;
    assert_eq!((rows, error), (20_000, None));
    assert!(bytes > 200_000_000, "{bytes} bytes");
    // The extended protocol streams too.
    let big = admin
        .query(&format!("{BIG_RESULT} LIMIT $1"), &[&3000i64])
        .await
        .unwrap();
    assert_eq!(big.len(), 3000);
    assert!(big.iter().all(|r| r.len() == 2));

    // Stopped while it waits for the client: pg_cancel_backend, then the session goes on.
    send_query(&mut slow, BIG_RESULT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sessions = admin.query("SHOW SESSIONS", &[]).await.unwrap();
    let pid = sessions
        .iter()
        .find(|r| r.get::<_, String>("active_queries").contains("zeroblob"))
        .map(|r| r.get::<_, String>("session_id"))
        .expect("the slow session runs its statement");
    admin
        .simple_query(&format!("SELECT pg_cancel_backend({pid})"))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while running(&admin, &pid).await == Some(true) {
        assert!(Instant::now() < deadline, "the cancel did not stop it");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, _, error) = read_answer(&mut slow).await;
    assert_eq!(error.as_deref(), Some("57014"));
    send_query(&mut slow, "SELECT 7").await;
    let (rows, _, error) = read_answer(&mut slow).await;
    assert_eq!((rows, error), (1, None), "the session goes on");
}
