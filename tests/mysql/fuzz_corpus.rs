//! The `mysql_packets` fuzz target's checked-in corpus (fuzz/corpus/mysql_packets/), replayed against the real
//! server binary over real sockets with the fuzz target's own client (fuzz/src/mysql_wire.rs): every input
//! ends with the server answering and closing that connection, and the server goes on serving others.

use std::path::Path;

use mysql_async::prelude::*;

use crate::common::TestServer;
use crate::mysql_wire;

/// The fuzz target's login (fuzz/src/wire_server.rs): a tenant's administrator.
const LOGIN: &str = "root@fz";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_packets_corpus() {
    let server = TestServer::start();
    server.create_tenant("fz").await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/mysql_packets");
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "{} is checked in", dir.display());
    let mut answered = 0;
    for input in &inputs {
        let data = std::fs::read(input).expect("corpus file");
        let codes = mysql_wire::replay(server.mysql_port, LOGIN, "test", &data).await;
        let codes = codes.unwrap_or_else(|| panic!("{}: login refused", input.display()));
        answered += 1;
        // A connection ending in a crash shows as the server gone, checked after every input.
        let mut check = server.connect(LOGIN).await;
        let one: Option<i64> = check.query_first("SELECT 1").await.unwrap();
        assert_eq!(one, Some(1), "{} (errors {codes:?})", input.display());
        check.disconnect().await.unwrap();
    }
    assert_eq!(answered, inputs.len());
}

/// A session idle past its `wait_timeout` is told why before the server closes it: MySQL 8's error 4031
/// (ER_CLIENT_INTERACTION_TIMEOUT, HY000), sent unasked with sequence number 0, then the end of the stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_gets_4031_before_the_close() {
    let server = TestServer::start();
    let mut s = mysql_wire::login(server.mysql_port, "root@sys", "test")
        .await
        .unwrap()
        .expect("login");
    mysql_wire::write_packet(&mut s, 0, b"\x03SET wait_timeout = 1")
        .await
        .unwrap();
    let (_, ok) = mysql_wire::read_packet(&mut s).await.unwrap().expect("OK");
    assert_eq!(ok.as_slice().first(), Some(&0), "{ok:?}");
    let (seq, err) =
        tokio::time::timeout(mysql_wire::ANSWER_WITHIN, mysql_wire::read_packet(&mut s))
            .await
            .expect("the server closes an idle session")
            .unwrap()
            .expect("an error packet before the close");
    assert_eq!((seq, mysql_wire::error_code(&err)), (0, Some(4031)));
    let text = String::from_utf8_lossy(&err[3..]);
    assert!(
        text.starts_with("#HY000The client was disconnected by the server because of inactivity."),
        "{text}"
    );
    assert!(mysql_wire::read_packet(&mut s).await.unwrap().is_none());
}
