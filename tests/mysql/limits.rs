//! Hostile clients meet limits (issue 14): a client that goes away stops its statement, connection caps,
//! packet sizes, statement time and memory, idle sessions and login throttling.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use mysql_async::Row;

use crate::common::TestServer;

const ENDLESS: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c";

/// Whether session `id` shows a running statement in SHOW FULL PROCESSLIST (None: the session is gone).
async fn running(admin: &mut mysql_async::Conn, id: i64) -> Option<bool> {
    let rows: Vec<Row> = admin.query("SHOW FULL PROCESSLIST").await.unwrap();
    rows.iter()
        .find(|r| r.get::<i64, _>("Id") == Some(id))
        .map(|r| r.get::<String, _>("Command").as_deref() == Some("Query"))
}

/// Installs Debian's mariadb-client if the `mariadb` command is missing (`.ci/run` installs it up front).
fn ensure_mariadb() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if Command::new("mariadb").arg("--version").output().is_err() {
            let ok = Command::new("sh")
                .args(["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-client"])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "the mariadb client is missing and could not be installed");
        }
    });
}

/// A `mariadb` client killed (SIGKILL) in the middle of an endless query: the server notices the closed socket
/// and stops the statement, instead of running it until the end of time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_stops_its_statement() {
    ensure_mariadb();
    let server = TestServer::start();
    let mut admin = server.connect("root@sys").await;
    let before: Vec<Row> = admin.query("SHOW FULL PROCESSLIST").await.unwrap();
    let mut client = Command::new("mariadb")
        .args([
            "-h127.0.0.1",
            &format!("-P{}", server.mysql_port),
            "-uroot@sys",
            "-e",
            ENDLESS,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the mariadb client runs");
    // The client's session is the one that was not there before.
    let id = loop {
        let rows: Vec<Row> = admin.query("SHOW FULL PROCESSLIST").await.unwrap();
        let new = rows.iter().find(|r| {
            let id = r.get::<i64, _>("Id");
            r.get::<String, _>("Command").as_deref() == Some("Query")
                && r.get::<String, _>("Info")
                    .is_some_and(|i| i.starts_with("WITH RECURSIVE"))
                && !before.iter().any(|b| b.get::<i64, _>("Id") == id)
        });
        if let Some(r) = new {
            break r.get::<i64, _>("Id").unwrap();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    client.kill().unwrap();
    client.wait().unwrap();
    let gone_at = Instant::now();
    while running(&mut admin, id).await == Some(true) {
        assert!(
            gone_at.elapsed() < Duration::from_secs(20),
            "the statement of a client that went away still runs"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    eprintln!(
        "statement stopped {:?} after the client died",
        gone_at.elapsed()
    );
    // The server is fine.
    let one: Option<i64> = admin.query_first("SELECT 1").await.unwrap();
    assert_eq!(one, Some(1));
}

/// The connection error of a login that is refused.
async fn refused_login(server: &TestServer, login: &str) -> (u16, String) {
    match mysql_async::Conn::new(server.opts(login, "", None)).await {
        Ok(_) => panic!("{login} got in beyond the cap"),
        Err(mysql_async::Error::Server(e)) => (e.code, e.state),
        Err(e) => panic!("expected a server error for {login}, got {e:?}"),
    }
}

/// `max_tenant_connections` keeps one tenant from taking every connection, and `max_connections` caps the
/// server (root@sys keeps one more, as MySQL keeps one for SUPER); both refuse with 1040, and a closed
/// session frees its place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_caps_per_tenant_and_per_server() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    server.create_tenant("t2").await;
    let mut sys = server.connect("root@sys").await;
    sys.query_drop("ALTER SYSTEM SET max_tenant_connections = 2")
        .await
        .unwrap();
    let a = server.connect("root@t1").await;
    let b = server.connect("root@t1").await;
    assert_eq!(
        refused_login(&server, "root@t1").await,
        (1040, "08004".into())
    );
    // Another tenant is not affected by t1's connections.
    let c = server.connect("root@t2").await;

    // Four sessions are open (sys, a, b, c): with a cap of five, one more user gets in, then nobody but
    // root@sys, once.
    sys.query_drop("ALTER SYSTEM SET max_connections = 5")
        .await
        .unwrap();
    let max: Option<i64> = sys.query_first("SELECT @@max_connections").await.unwrap();
    assert_eq!(max, Some(5));
    let d = server.connect("root@t2").await;
    assert_eq!(refused_login(&server, "root@t2").await.0, 1040);
    let extra = server.connect("root@sys").await;
    assert_eq!(refused_login(&server, "root@sys").await.0, 1040);

    // Closing sessions frees their places (root@sys's extra one first, then d's).
    extra.disconnect().await.unwrap();
    d.disconnect().await.unwrap();
    let mut again = None;
    for _ in 0..200 {
        if let Ok(conn) = mysql_async::Conn::new(server.opts("root@t2", "", None)).await {
            again = Some(conn);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(again.is_some(), "a freed place can be taken again");
    drop((a, b, c));
}

/// Connections that never log in cannot pile up: beyond twice `max_connections` open sockets, a new one is
/// answered with 1040 in place of the handshake.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_connections_are_capped() {
    use tokio::io::AsyncReadExt;
    let server = TestServer::start();
    let mut sys = server.connect("root@sys").await;
    sys.query_drop("ALTER SYSTEM SET max_connections = 2")
        .await
        .unwrap();
    // sys's own socket is one of the five (2 x 2 + 1) the server takes; four more never log in.
    let mut first_bytes = Vec::new();
    let mut idle = Vec::new();
    for _ in 0..5 {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", server.mysql_port))
            .await
            .unwrap();
        let mut head = [0u8; 7];
        s.read_exact(&mut head).await.unwrap();
        first_bytes.push(head);
        idle.push(s);
    }
    // A handshake starts with protocol version 10; a refusal is an error packet with 1040.
    assert!(first_bytes[..4].iter().all(|h| h[4] == 10));
    let refused = first_bytes[4];
    assert_eq!(refused[4], 0xFF);
    assert_eq!(u16::from_le_bytes([refused[5], refused[6]]), 1040);
    // The logged-in session is unaffected.
    let one: Option<i64> = sys.query_first("SELECT 1").await.unwrap();
    assert_eq!(one, Some(1));
}

/// `max_execution_time` (milliseconds, SELECTs only, as in MySQL) stops a query that runs past it with 3024;
/// the connection goes on, and 0 lifts the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_execution_time_stops_a_long_select() {
    let server = TestServer::start();
    let mut c = server.connect("root@sys").await;
    c.query_drop("SET max_execution_time = 200").await.unwrap();
    let (code, state, msg) = crate::common::expect_error(&mut c, ENDLESS).await;
    assert_eq!((code, state.as_str()), (3024, "HY000"), "{msg}");
    assert_eq!(
        msg,
        "Query execution was interrupted, maximum statement execution time exceeded"
    );
    let one: Option<i64> = c.query_first("SELECT 1").await.unwrap();
    assert_eq!(one, Some(1));
    let (code, _, _) = crate::common::expect_error(&mut c, "SET max_execution_time = -1").await;
    assert_eq!(code, 1231);
    c.query_drop("SET max_execution_time = 0").await.unwrap();
    let limit: Option<i64> = c.query_first("SELECT @@max_execution_time").await.unwrap();
    assert_eq!(limit, Some(0));
}

/// A session idle for longer than its `wait_timeout` (seconds) is closed by the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_are_closed_after_wait_timeout() {
    let server = TestServer::start();
    let mut admin = server.connect("root@sys").await;
    let mut idle = server.connect("root@sys").await;
    let id = i64::from(idle.id());
    idle.query_drop("SET wait_timeout = 1").await.unwrap();
    let since = Instant::now();
    while running(&mut admin, id).await.is_some() {
        assert!(
            since.elapsed() < Duration::from_secs(20),
            "an idle session outlived its wait_timeout"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(idle.query_drop("SELECT 1").await.is_err());
    // The admin, idle for as long but under the default wait_timeout, is still there.
    let one: Option<i64> = admin.query_first("SELECT 1").await.unwrap();
    assert_eq!(one, Some(1));
}

/// Logins that had to wait after failed attempts, as MySQL's connection_control counts them.
async fn delayed_logins(admin: &mut mysql_async::Conn) -> i64 {
    let row: Row = admin
        .query_first("SHOW STATUS LIKE 'Connection_control_delay_generated'")
        .await
        .unwrap()
        .expect("the status variable is there");
    row.get::<String, _>("Value").unwrap().parse().unwrap()
}

/// After three failed logins in a row, every further attempt of that user from that address waits its turn
/// (longer each time) before its password is checked; the right password still gets in and clears the record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_throttled_per_user_and_address() {
    let server = TestServer::start();
    let mut admin = server.connect("root@sys").await;
    admin
        .query_drop("CREATE USER mallory IDENTIFIED BY 'right'")
        .await
        .unwrap();
    assert_eq!(delayed_logins(&mut admin).await, 0);
    for _ in 0..5 {
        match mysql_async::Conn::new(server.opts("mallory@sys", "wrong", None)).await {
            Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1045),
            other => panic!("a wrong password got {other:?}"),
        }
    }
    // The fourth and fifth attempts waited.
    assert_eq!(delayed_logins(&mut admin).await, 2);
    // Other users are not slowed down.
    let _other = server.connect("root@sys").await;
    assert_eq!(delayed_logins(&mut admin).await, 2);
    // The right password waits its turn too, gets in, and clears the record.
    let _mallory = server.connect_with("mallory@sys", "right", None).await;
    assert_eq!(delayed_logins(&mut admin).await, 3);
    assert!(
        mysql_async::Conn::new(server.opts("mallory@sys", "wrong", None))
            .await
            .is_err()
    );
    assert_eq!(delayed_logins(&mut admin).await, 3);
}

/// A statement that would allocate past its tenant's statement memory (the units' MEMORY_SIZE times
/// `ob_sql_work_area_percentage`, 5 % of 2 GB here) fails with OceanBase's 4013; the server and the session
/// go on, and smaller statements run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_memory_is_bounded_by_the_tenants_budget() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let mut root = server.connect("root@t1").await;
    root.query_drop("CREATE USER mallory IDENTIFIED BY 'pw'")
        .await
        .unwrap();
    let mut mallory = server.connect_with("mallory@t1", "pw", None).await;
    let (code, state, msg) =
        crate::common::expect_error(&mut mallory, "SELECT length(randomblob(999e6))").await;
    assert_eq!((code, state.as_str()), (4013, "HY000"), "{msg}");
    assert_eq!(msg, "No memory or reach tenant memory limit");
    let small: Option<i64> = mallory
        .query_first("SELECT length(randomblob(1000000))")
        .await
        .unwrap();
    assert_eq!(small, Some(1_000_000));
    // Many moderate allocations in one statement count together.
    let (code, _, msg) = crate::common::expect_error(
        &mut mallory,
        "SELECT length(group_concat(randomblob(1000000))) FROM \
         (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500) SELECT x FROM c)",
    )
    .await;
    assert_eq!(code, 4013, "{msg}");
    // The tenant's administrator may give its statements a larger share of the tenant's memory.
    root.query_drop("ALTER SYSTEM SET ob_sql_work_area_percentage = 20")
        .await
        .unwrap();
    let mut again = server.connect_with("mallory@t1", "pw", None).await;
    let mid: Option<i64> = again
        .query_first("SELECT length(randomblob(200000000))")
        .await
        .unwrap();
    assert_eq!(mid, Some(200_000_000));
}

/// A statement longer than `max_allowed_packet` (64 MB) sent by the `mariadb` client (told it may send one)
/// is refused with 1153 before the server reads it; the server goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_packet_over_max_allowed_packet_is_refused() {
    ensure_mariadb();
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.sql");
    let mut sql = String::from("SELECT LENGTH('");
    sql.push_str(&"a".repeat(65 << 20));
    sql.push_str("');\n");
    std::fs::write(&file, sql).unwrap();
    let out = Command::new("mariadb")
        .args([
            "-h127.0.0.1",
            &format!("-P{}", server.mysql_port),
            "-uroot@sys",
            "--max-allowed-packet=256M",
        ])
        .stdin(std::fs::File::open(&file).unwrap())
        .output()
        .expect("the mariadb client runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("ERROR 1153") && stderr.contains("max_allowed_packet"),
        "{stderr}"
    );
    let mut c = server.connect("root@sys").await;
    let max: Option<i64> = c.query_first("SELECT @@max_allowed_packet").await.unwrap();
    assert_eq!(max, Some(64 << 20));
}

/// The rows a statement has read for its result count against the same budget only while they are held: a
/// result larger than the tenant's statement memory is streamed to the client (see the slow-client test
/// below) instead of being held whole, so it arrives whole; the statement's own work still counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_larger_than_the_budget_streams_instead_of_being_held() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let mut c = server.connect("root@t1").await;
    // 150 rows of 1 MB: each row is small for SQLite, the whole result is over 5 % of 2 GB.
    let mut result = c
        .query_iter(
            "SELECT randomblob(1000000) FROM \
             (WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 150) SELECT x FROM n)",
        )
        .await
        .unwrap();
    let mut rows = 0;
    while let Some(row) = result.next().await.unwrap() {
        let blob: Vec<u8> = mysql_async::from_row(row);
        assert_eq!(blob.len(), 1_000_000);
        rows += 1;
    }
    drop(result);
    assert_eq!(rows, 150);
    // A statement whose own work is over the budget still fails.
    let (code, _, msg) = crate::common::expect_error(
        &mut c,
        "SELECT length(group_concat(randomblob(1000000))) FROM \
         (WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 150) SELECT x FROM n)",
    )
    .await;
    assert_eq!(code, 4013, "{msg}");
}

/// 200 MB of rows: 20,000 rows of an id and 10,000 bytes.
const BIG_RESULT: &str = "SELECT x, zeroblob(10000) FROM \
     (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) SELECT x FROM c)";

/// Reads a text-protocol result to its end (DEPRECATE_EOF: an OK packet with the EOF header): how many rows
/// and row bytes came and the first row's first value, or the error code that ended it.
async fn read_result(s: &mut tokio::net::TcpStream) -> Result<(u64, u64, String), u16> {
    use crate::mysql_wire::{error_code, read_packet};
    let (_, count) = read_packet(s).await.unwrap().expect("column count");
    if let Some(code) = error_code(&count) {
        return Err(code);
    }
    for _ in 0..usize::from(count[0]) {
        read_packet(s).await.unwrap().expect("column definition");
    }
    let (mut rows, mut bytes, mut first) = (0u64, 0u64, String::new());
    loop {
        let (_, p) = read_packet(s).await.unwrap().expect("a row or the end");
        if let Some(code) = error_code(&p) {
            return Err(code);
        }
        if p.as_slice().first() == Some(&0xFE) && p.len() < 9 {
            return Ok((rows, bytes, first));
        }
        if rows == 0 {
            // A short length-encoded string: one length byte.
            let len = usize::from(p[0]);
            first = String::from_utf8_lossy(&p[1..1 + len]).into_owned();
        }
        rows += 1;
        bytes += p.len() as u64;
    }
}

/// Sends a COM_QUERY.
async fn send_query(s: &mut tokio::net::TcpStream, sql: &str) {
    let mut query = vec![0x03];
    query.extend_from_slice(sql.as_bytes());
    crate::mysql_wire::write_packet(s, 0, &query).await.unwrap();
}

/// A client that sends a SELECT of 200 MB and does not read: the server streams the rows with backpressure
/// (bounded buffers, the statement waiting on the client's socket), so its memory stays within a few MB of
/// where it was, and the whole result still arrives once the client reads. Without streaming the server held
/// the result whole (and refused it past the tenant's statement memory, 16 MB for sys).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_result_to_a_client_that_does_not_read_holds_bounded_memory() {
    let server = TestServer::start();
    let mut admin = server.connect("root@sys").await;
    // Warm up the allocator and SQLite with a smaller streamed result first.
    let warm: Vec<(i64, Vec<u8>)> = admin
        .query(BIG_RESULT.replace("x < 20000", "x < 500"))
        .await
        .unwrap();
    assert_eq!(warm.len(), 500);
    let before = server.rss();
    let mut slow = crate::mysql_wire::login(server.mysql_port, "root@sys", "test")
        .await
        .unwrap()
        .expect("login");
    send_query(&mut slow, BIG_RESULT).await;
    // The statement runs until the socket's buffers are full, then waits for the client.
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
    // The server serves others meanwhile.
    let one: Option<i64> = admin.query_first("SELECT 1").await.unwrap();
    assert_eq!(one, Some(1));
    let (rows, bytes, _) = read_result(&mut slow).await.expect("the whole result");
    assert_eq!(rows, 20_000);
    assert!(bytes > 200_000_000, "{bytes} bytes");
    // The binary protocol streams as well (mysql_async reads a prepared statement's rows).
    let n: Vec<(i64, Vec<u8>)> = admin
        .exec(BIG_RESULT.replace("x < 20000", "x < ?"), (3000,))
        .await
        .unwrap();
    assert_eq!(n.len(), 3000);
    assert!(n
        .iter()
        .enumerate()
        .all(|(i, (x, b))| *x == i as i64 + 1 && b.len() == 10_000));
}

/// A statement waiting for a client that does not read stops at KILL QUERY and its statement timeout, as
/// one running in SQLite does: the session ends the result with the error and goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_waiting_on_a_slow_client_stops_at_kill_query() {
    let server = TestServer::start();
    let mut admin = server.connect("root@sys").await;
    let mut slow = crate::mysql_wire::login(server.mysql_port, "root@sys", "test")
        .await
        .unwrap()
        .expect("login");
    send_query(&mut slow, "SELECT CONNECTION_ID()").await;
    let (_, _, id) = read_result(&mut slow).await.unwrap();
    let id: i64 = id.parse().unwrap();
    send_query(&mut slow, BIG_RESULT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(running(&mut admin, id).await, Some(true));
    admin.query_drop(format!("KILL QUERY {id}")).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while running(&mut admin, id).await == Some(true) {
        assert!(Instant::now() < deadline, "KILL QUERY did not stop it");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // What was sent before the kill, then the error in place of the result's end.
    assert_eq!(read_result(&mut slow).await, Err(1317));
    send_query(&mut slow, "SELECT CONNECTION_ID()").await;
    let (_, _, again) = read_result(&mut slow).await.unwrap();
    assert_eq!(again, id.to_string(), "the session goes on");
}
