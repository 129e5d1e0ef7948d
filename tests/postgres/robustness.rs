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
