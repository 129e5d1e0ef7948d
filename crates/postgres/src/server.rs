//! The accept loop and cancel requests.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use pgwire::api::cancel::CancelHandler;
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::startup::SecretKey;
use tenantry_net::Tls;
use tenantry_sql::{Engine, SqlError};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::conn::{ConnState, Handlers};
use crate::frames::{fatal_message, CheckedFrames};

/// The secret key of every logged-in connection, by process id (= session id), so that a cancel request
/// (which arrives on a fresh connection) can be checked before it interrupts anything.
#[derive(Default)]
pub(crate) struct CancelKeys {
    keys: Mutex<HashMap<i32, i32>>,
}

impl CancelKeys {
    pub(crate) fn insert(&self, pid: i32, secret: i32) {
        self.keys.lock().insert(pid, secret);
    }

    pub(crate) fn remove(&self, pid: i32) {
        self.keys.lock().remove(&pid);
    }
}

/// Interrupts the statement of the session named by a cancel request whose secret key matches.
pub(crate) struct Canceller {
    pub(crate) engine: Arc<Engine>,
    pub(crate) keys: Arc<CancelKeys>,
}

#[async_trait]
impl CancelHandler for Canceller {
    async fn on_cancel_request(&self, request: CancelRequest) {
        let expected = self.keys.keys.lock().get(&request.pid).copied();
        let Some(secret) = expected else {
            return;
        };
        if !request.secret_key.eq_value(&SecretKey::I32(secret)) {
            tracing::info!(
                pid = request.pid,
                "pg cancel request with a wrong secret key"
            );
            return;
        }
        if let Some(handle) = u32::try_from(request.pid)
            .ok()
            .and_then(|id| self.engine.sessions().get(id))
        {
            handle.interrupt_statement();
        }
    }
}

/// Serves PostgreSQL connections on `listener` (answering SSLRequest with a TLS upgrade when `tls` has a
/// certificate) until `shutdown` is cancelled; then closes every connection.
pub async fn serve(
    listener: TcpListener,
    engine: Arc<Engine>,
    tls: Tls,
    shutdown: CancellationToken,
) {
    let connections = tokio_util::task::TaskTracker::new();
    let keys = Arc::new(CancelKeys::default());
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!("pg accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let Some(permit) = engine.sessions().admit_socket() else {
            tracing::warn!(%peer, "pg connection refused: too many connections");
            tokio::spawn(refuse(stream));
            continue;
        };
        let watch = tenantry_net::PeerWatch::new(&stream)
            .map_err(|e| tracing::warn!(%peer, "cannot watch the connection: {e}"))
            .ok();
        let state = ConnState::new(
            engine.clone(),
            peer.ip().to_string(),
            keys.clone(),
            tls.required(),
        );
        let acceptor = tls.acceptor().cloned();
        let handlers = Arc::new(Handlers::new(state.clone()));
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let _permit = permit;
            let killed = state.killed.clone();
            // Nobody reads the socket while a statement runs: the watch notices a client that went away then.
            // Only after login: a cancel request's connection closes right after sending it.
            let logged_in = state.logged_in.clone();
            let gone = async {
                logged_in.cancelled().await;
                match &watch {
                    Some(w) => w.closed().await,
                    None => std::future::pending().await,
                }
            };
            // Whether the kill was for idling is read while the session is still registered.
            let killed_idle = async {
                killed.cancelled().await;
                state
                    .engine
                    .sessions()
                    .get(state.id)
                    .is_some_and(|s| s.closed_for_idleness())
            };
            tokio::select! {
                r = process_checked_socket(stream, acceptor, handlers) => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, "pg connection ended: {e}");
                    }
                }
                idle = killed_idle => {
                    tracing::debug!(%peer, idle, "pg connection killed");
                    // PostgreSQL ends an idle session with FATAL 57P05 before it closes the connection. The
                    // message goes out on the raw socket: over TLS (whose state went with pgwire's future) the
                    // client only sees the close.
                    let plain = !state.secure.load(std::sync::atomic::Ordering::Relaxed);
                    if let (true, true, Some(w)) = (idle, plain, &watch) {
                        w.send_last(&fatal_message(SqlError::IdleTimeout.wire().pg_state, IDLE_TIMEOUT))
                            .await;
                    }
                }
                _ = gone => tracing::debug!(%peer, "pg client went away"),
                _ = shutdown.cancelled() => {}
            }
            state.close();
        });
    }
    connections.close();
    connections.wait().await;
}

/// PostgreSQL's text for a session closed by `idle_session_timeout`.
const IDLE_TIMEOUT: &str = "terminating connection due to idle-session timeout";

/// How long a client may take to log in (PostgreSQL's authentication_timeout is 60 s).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// pgwire's connection loop (`pgwire::tokio::process_socket`) over a socket whose frontend messages are
/// checked before pgwire decodes them ([`CheckedFrames`]): TLS negotiation, then each message to its
/// handler, errors answered and FATAL ones ending the session.
async fn process_checked_socket(
    stream: tokio::net::TcpStream,
    acceptor: Option<pgwire::tokio::TlsAcceptor>,
    handlers: Arc<Handlers>,
) -> std::io::Result<()> {
    use futures::StreamExt;
    use pgwire::api::{ClientInfo, ErrorHandler, PgWireConnectionState, PgWireServerHandlers};
    use pgwire::messages::PgWireFrontendMessage;
    use pgwire::tokio::server::{process_error, process_message};
    use tokio_util::codec::{Framed, FramedParts};

    let startup_timeout = tokio::time::sleep(STARTUP_TIMEOUT);
    tokio::pin!(startup_timeout);
    let negotiated = tokio::select! {
        _ = &mut startup_timeout => return Ok(()),
        s = pgwire::tokio::server::negotiate_tls(stream, acceptor) => s?,
    };
    // A direct TLS connection without a certificate to offer.
    let Some(socket) = negotiated else {
        return Ok(());
    };
    // The same codec and state over the checked stream; bytes pgwire already read are checked first.
    let parts = socket.into_parts();
    let startup_done = !matches!(
        parts.codec.client_info.state(),
        PgWireConnectionState::AwaitingSslRequest | PgWireConnectionState::AwaitingStartup
    );
    let io = CheckedFrames::new(parts.io, parts.read_buf, startup_done);
    let mut checked = FramedParts::new(io, parts.codec);
    checked.write_buf = parts.write_buf;
    let mut socket = Framed::from_parts(checked);

    let startup_handler = handlers.startup_handler();
    let simple_query_handler = handlers.simple_query_handler();
    let extended_query_handler = handlers.extended_query_handler();
    let copy_handler = handlers.copy_handler();
    let cancel_handler = handlers.cancel_handler();
    let error_handler = handlers.error_handler();
    loop {
        let msg = if matches!(
            socket.state(),
            PgWireConnectionState::AwaitingStartup
                | PgWireConnectionState::AuthenticationInProgress
        ) {
            tokio::select! {
                _ = &mut startup_timeout => None,
                msg = socket.next() => msg,
            }
        } else {
            socket.next().await
        };
        let Some(Ok(msg)) = msg else {
            break;
        };
        // Terminate: the client is leaving (some wait for the server to close first).
        if matches!(msg, PgWireFrontendMessage::Terminate(_)) {
            break;
        }
        let is_extended_query = match socket.state() {
            PgWireConnectionState::CopyInProgress(is_extended_query) => is_extended_query,
            _ => msg.is_extended_query(),
        };
        let is_cancel_request = matches!(msg, PgWireFrontendMessage::CancelRequest(_));
        if let Err(mut e) = process_message(
            msg,
            &mut socket,
            startup_handler.clone(),
            simple_query_handler.clone(),
            extended_query_handler.clone(),
            copy_handler.clone(),
            cancel_handler.clone(),
        )
        .await
        {
            error_handler.on_error(&socket, &mut e);
            let is_fatal = e.is_fatal();
            process_error(&mut socket, e, is_extended_query).await?;
            if is_fatal {
                break;
            }
        }
        if is_cancel_request {
            break;
        }
    }
    Ok(())
}

/// Answers a connection the server has no room for as PostgreSQL does: the startup message is read (an
/// SSLRequest is declined first) and answered with FATAL 53300, then the connection closes.
async fn refuse(mut stream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    /// SSLRequest and GSSENCRequest codes: answered `N`, then the real startup message follows.
    const ENCRYPTION_REQUESTS: [u32; 2] = [80_877_103, 80_877_104];
    /// Startup messages are small; anything larger is not one.
    const MAX_STARTUP: usize = 10_000;
    let exchange = async {
        loop {
            let mut head = [0u8; 8];
            stream.read_exact(&mut head).await?;
            let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
            let code = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
            if !(8..=MAX_STARTUP).contains(&len) {
                return Ok(());
            }
            let mut rest = vec![0u8; len - 8];
            stream.read_exact(&mut rest).await?;
            if ENCRYPTION_REQUESTS.contains(&code) {
                stream.write_all(b"N").await?;
                continue;
            }
            let message = fatal_message(
                SqlError::TooManyConnections.wire().pg_state,
                "sorry, too many clients already",
            );
            stream.write_all(&message).await?;
            return Ok::<(), std::io::Error>(());
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), exchange).await;
}
