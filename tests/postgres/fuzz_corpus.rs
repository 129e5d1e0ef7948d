//! The `pg_messages` fuzz target's checked-in corpus (fuzz/corpus/pg_messages/), replayed against the real
//! server binary over real sockets with the fuzz target's own client (fuzz/src/pg_wire.rs): every input ends
//! with the server answering and closing that connection, and the server goes on serving others.

use std::path::Path;

use mysql_async::prelude::*;

use crate::common::{simple_rows, TestServer};
use crate::pg_wire;

/// The fuzz target's login (fuzz/src/wire_server.rs): a tenant's administrator.
const LOGIN: &str = "root@fz";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_messages_corpus() {
    let server = TestServer::start();
    let mut sys = server.mysql("root@sys", "", None).await;
    for sql in [
        "CREATE RESOURCE UNIT unit_fz MAX_CPU 1, MEMORY_SIZE '2G'",
        "CREATE RESOURCE POOL pool_fz UNIT = 'unit_fz', UNIT_NUM = 1",
        "CREATE TENANT fz RESOURCE_POOL_LIST = ('pool_fz') SET ob_compatibility_mode = 'mysql'",
    ] {
        sys.query_drop(sql).await.unwrap();
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/pg_messages");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "{} is checked in", dir.display());
    for input in &inputs {
        let data = std::fs::read(input).expect("corpus file");
        let codes = pg_wire::replay(server.pg_port, LOGIN, "test", &data)
            .await
            .unwrap_or_else(|| panic!("{}: login refused", input.display()));
        let check = server.pg(LOGIN, "", None).await;
        assert_eq!(
            simple_rows(&check, "SELECT 1").await,
            vec![vec![Some("1".to_string())]],
            "{} (errors {codes:?})",
            input.display()
        );
    }
}

/// A session idle past `idle_session_timeout` is told why before the server closes it: PostgreSQL's FATAL
/// 57P05, which tokio-postgres reports as the connection's error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_gets_57p05_before_the_close() {
    let server = TestServer::start();
    let (client, conn) = tokio_postgres::connect(
        &server.conninfo("root@sys", "", None),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    let conn = tokio::spawn(conn);
    client
        .batch_execute("SET idle_session_timeout = '1s'")
        .await
        .unwrap();
    let ended = tokio::time::timeout(pg_wire::ANSWER_WITHIN, conn)
        .await
        .expect("the server closes an idle session")
        .unwrap();
    let e = ended.expect_err("the connection ends with the server's error");
    let db = e.as_db_error().unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!(db.code().code(), "57P05", "{db:?}");
    assert_eq!(db.severity(), "FATAL");
    assert_eq!(
        db.message(),
        "terminating connection due to idle-session timeout"
    );
}
