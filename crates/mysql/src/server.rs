//! The accept loop.

use std::sync::Arc;
use std::time::Duration;

use tenantry_net::{Stream, Tls};
use tenantry_sql::{Engine, SqlError};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::Sha2Cache;
use crate::conn::{Connection, Listener};

/// How long a client may take to log in before its connection is closed.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves MySQL connections on `listener` (with TLS for clients that ask, when `tls` has a certificate) until
/// `shutdown` is cancelled; then closes every connection.
pub async fn serve(
    listener: TcpListener,
    engine: Arc<Engine>,
    tls: Tls,
    shutdown: CancellationToken,
) {
    let connections = tokio_util::task::TaskTracker::new();
    let shared = Arc::new(Listener {
        tls,
        sha2_cache: Arc::new(Sha2Cache::default()),
    });
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!("mysql accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let Some(permit) = engine.sessions().admit_socket() else {
            tracing::warn!(%peer, "mysql connection refused: too many connections");
            tokio::spawn(refuse(stream));
            continue;
        };
        let watch = tenantry_net::PeerWatch::new(&stream)
            .map_err(|e| tracing::warn!(%peer, "cannot watch the connection: {e}"))
            .ok();
        let engine = engine.clone();
        let engine_for_kill = engine.clone();
        let shutdown = shutdown.clone();
        let shared = shared.clone();
        connections.spawn(async move {
            let _permit = permit;
            let killed = CancellationToken::new();
            let logged_in = CancellationToken::new();
            let id = engine.sessions().next_id();
            let conn = Connection::new(
                Stream::Plain(stream),
                &shared,
                engine,
                id,
                peer.ip().to_string(),
                killed.clone(),
                logged_in.clone(),
            );
            let upgraded = conn.upgraded();
            let login_deadline = async {
                tokio::time::sleep(LOGIN_TIMEOUT).await;
                if logged_in.is_cancelled() {
                    std::future::pending::<()>().await;
                }
            };
            // Nobody reads the socket while a statement runs: the watch notices a client that went away then.
            let gone = async {
                logged_in.cancelled().await;
                match &watch {
                    Some(w) => w.closed().await,
                    None => std::future::pending().await,
                }
            };
            // Whether the kill was for idling is read while the session is still registered (the
            // connection's future, which owns it, is dropped when the select ends).
            let killed_idle = async {
                killed.cancelled().await;
                engine_for_kill
                    .sessions()
                    .get(id)
                    .is_some_and(|s| s.closed_for_idleness())
            };
            tokio::select! {
                r = conn.run() => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, "mysql connection ended: {e}");
                    }
                }
                idle = killed_idle => {
                    tracing::debug!(%peer, idle, "mysql connection killed");
                    // MySQL 8 tells an idle client why before it closes: 4031, as the packet that opens
                    // the next exchange (sequence 0). The connection waited for a command: nothing is
                    // half-written. Over TLS (whose state went with the connection's future) the client
                    // only sees the close: the raw socket must not carry plain bytes into the TLS session.
                    let plain = !upgraded.load(std::sync::atomic::Ordering::Relaxed);
                    if let (true, true, Some(w)) = (idle, plain, &watch) {
                        w.send_last(&error_packet(&SqlError::IdleTimeout)).await;
                    }
                }
                _ = login_deadline => tracing::debug!(%peer, "mysql login timed out"),
                _ = gone => tracing::debug!(%peer, "mysql client went away"),
                _ = shutdown.cancelled() => {}
            }
            // The client is gone: a statement it left running must not go on holding a thread and locks.
            if let Some(session) = engine_for_kill.sessions().get(id) {
                session.kill();
            }
        });
    }
    connections.close();
    connections.wait().await;
}

/// Answers a connection the server has no room for as MySQL does: an error packet (1040) in place of the
/// handshake, then the connection closes.
async fn refuse(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    let packet = error_packet(&SqlError::TooManyConnections);
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(&packet)).await;
}

/// An error packet the server sends unasked (sequence number 0), framed.
fn error_packet(e: &SqlError) -> Vec<u8> {
    let e = e.wire();
    let payload = crate::protocol::err(e.mysql_code, e.mysql_state, &e.message);
    let mut packet = (payload.len() as u32).to_le_bytes()[..3].to_vec();
    packet.push(0);
    packet.extend_from_slice(&payload);
    packet
}
