//! Malformed protocol input closes only the connection that sent it.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{simple_rows, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_closes_only_its_connection() {
    let server = TestServer::start();
    let good = server.pg("root@sys", "", None).await;
    for garbage in [
        // A startup packet claiming a huge length.
        vec![0x7f, 0xff, 0xff, 0xff, 0, 3, 0, 0],
        // A length shorter than its own header.
        vec![0, 0, 0, 2],
        // Random bytes.
        (0..64u8).map(|i| i.wrapping_mul(37)).collect(),
    ] {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", server.pg_port))
            .await
            .unwrap();
        let _ = s.write_all(&garbage).await;
        let mut buf = [0u8; 256];
        // The server answers with an error or closes; either way the read ends.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(3), s.read(&mut buf)).await;
    }
    assert_eq!(
        simple_rows(&good, "SELECT 1").await,
        vec![vec![Some("1".to_string())]]
    );
    let again = server.pg("root@sys", "", None).await;
    assert_eq!(
        simple_rows(&again, "SELECT 2").await,
        vec![vec![Some("2".to_string())]]
    );
}

/// A frontend message whose fields do not fit its length (the class the `pg_messages` fuzz target found
/// with a Parse missing its parameter-type count, which panicked the connection's task inside pgwire's
/// decoder): every cut of a valid Parse, Bind, Describe, Execute and Close, sent with a length that matches
/// the cut, is answered with FATAL 08P01 (`invalid message format`, as PostgreSQL answers) and the
/// connection closes; the server and its other sessions go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_truncated_extended_query_message_is_refused_with_08p01() {
    use crate::pg_wire::{login, read_message, sqlstate};

    let server = TestServer::start();
    let good = server.pg("root@sys", "", None).await;
    let mut bind = b"\0s1\0".to_vec();
    bind.extend_from_slice(&[
        0, 1, 0, 0, 0, 2, 0, 0, 0, 1, b'7', 0xff, 0xff, 0xff, 0xff, 0, 0,
    ]);
    let messages: [(u8, Vec<u8>); 5] = [
        (
            b'P',
            b"s1\0SELECT $1, $2\0\0\x02\0\0\0\x17\0\0\0\x19".to_vec(),
        ),
        (b'B', bind),
        (b'D', b"Ss1\0".to_vec()),
        (b'E', b"\0\0\0\0\0".to_vec()),
        (b'C', b"Ps1\0".to_vec()),
    ];
    let mut tried = 0;
    for (kind, body) in &messages {
        for cut in 0..body.len() {
            let mut s = login(server.pg_port, "root@sys", "test")
                .await
                .unwrap()
                .expect("logged in");
            let mut frame = vec![*kind];
            frame.extend_from_slice(&(cut as u32 + 4).to_be_bytes());
            frame.extend_from_slice(&body[..cut]);
            frame.extend_from_slice(b"S\0\0\0\x04");
            s.write_all(&frame).await.unwrap();
            let mut codes = Vec::new();
            let end = tokio::time::timeout(std::time::Duration::from_secs(10), async {
                while let Some((t, b)) = read_message(&mut s).await.ok().flatten() {
                    if t == b'E' {
                        codes.push(sqlstate(&b).unwrap_or_default());
                    }
                }
            })
            .await;
            assert!(
                end.is_ok(),
                "'{}' cut at {cut}: the server did not close",
                *kind as char
            );
            assert_eq!(codes, ["08P01"], "'{}' cut at {cut}", *kind as char);
            tried += 1;
        }
    }
    assert!(tried > 40, "{tried}");
    assert_eq!(
        simple_rows(&good, "SELECT 1").await,
        vec![vec![Some("1".to_string())]]
    );
}
