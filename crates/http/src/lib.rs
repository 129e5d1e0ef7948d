//! The HTTP front end: the jobs console (static assets embedded in the binary), the REST API over the same
//! job code as the SQL statements, and `/metrics` in Prometheus's text format.
//!
//! Like the wire front ends it knows nothing of SQLite: every call goes to a `tenantry_sql::Session`
//! (opened for a login, protocol `http`) on a blocking thread.

mod api;
mod auth;
mod console;
mod error;
mod guard;
mod metrics;

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tenantry_net::{Stream, Tls};
use tenantry_sql::{Engine, SqlError};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// How long a client may take to send a request's headers; it also closes a kept-alive connection that
/// sends nothing for this long (a client trickling bytes cannot hold a connection for ever).
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP connections served at once; more are closed as they come.
const MAX_HTTP_CONNECTIONS: usize = 1024;
/// The first byte of a TLS handshake record: how an HTTPS client is told from a plain one on the same port.
const TLS_HANDSHAKE: u8 = 0x16;

pub use error::ApiError;

/// What every request handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub engine: Arc<Engine>,
    pub logins: Arc<auth::Logins>,
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(console::index))
        .route("/assets/{file}", get(console::asset))
        .route("/metrics", get(metrics::metrics))
        .route("/api/openapi.json", get(console::openapi))
        .route("/api/login", post(auth::login))
        .route("/api/logout", post(auth::logout))
        .route("/api/me", get(auth::me))
        .route("/api/tenants", get(api::tenants))
        .route("/api/jobs", get(api::list_jobs))
        .route("/api/jobs/{id}", get(api::job_detail))
        .route("/api/jobs/{id}/{action}", post(api::control_job))
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn(guard::same_origin))
        .layer(axum::middleware::from_fn(guard::deadline))
        .with_state(state)
}

/// Serves HTTP on `listener` until `shutdown` fires; with a certificate in `tls`, HTTPS on the same port
/// (plain HTTP too unless `tls` requires TLS, when every plain request gets 403 `tls_required`).
pub async fn serve(
    listener: TcpListener,
    engine: Arc<Engine>,
    tls: Tls,
    shutdown: CancellationToken,
) {
    let logins = Arc::new(auth::Logins::default());
    tokio::spawn(auth::expire_idle_logins(logins.clone(), shutdown.clone()));
    let app = router(AppState { engine, logins });
    // axum's own `serve` sets no header timeout (hyper needs a timer for one), so connections are served
    // here, with hyper's HTTP/1 server, a timer and a cap on how many are open.
    let slots = Arc::new(Semaphore::new(MAX_HTTP_CONNECTIONS));
    let connections = tokio_util::task::TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("http accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "http connection refused: too many connections");
            continue;
        };
        let service = app.clone().map_request(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            },
        );
        let shutdown = shutdown.clone();
        let tls = tls.clone();
        connections.spawn(async move {
            let _slot = slot;
            let Some(stream) = open(stream, &tls).await else {
                return;
            };
            let result = if tls.required() && !stream.is_tls() {
                // Every request on a plain connection gets the same refusal, and the connection closes.
                let refuse = tower::service_fn(
                    |_request: axum::extract::Request<hyper::body::Incoming>| async {
                        let mut response =
                            ApiError::from(SqlError::InsecureTransport).into_response();
                        response.headers_mut().insert(
                            hyper::header::CONNECTION,
                            hyper::header::HeaderValue::from_static("close"),
                        );
                        Ok::<_, std::convert::Infallible>(response)
                    },
                );
                serve_connection(stream, refuse, false, &shutdown).await
            } else {
                serve_connection(stream, service, true, &shutdown).await
            };
            if let Err(e) = result {
                tracing::debug!(%peer, "http connection ended: {e}");
            }
        });
    }
    connections.close();
    connections.wait().await;
}

/// The connection as it will be served: TLS when the server has a certificate and the client starts a TLS
/// handshake, plain otherwise. `None` when the client sent nothing in time or the handshake failed.
async fn open(stream: TcpStream, tls: &Tls) -> Option<Stream> {
    let Some(acceptor) = tls.acceptor() else {
        return Some(Stream::Plain(stream));
    };
    let mut first = [0u8; 1];
    let peeked = tokio::time::timeout(HEADER_TIMEOUT, stream.peek(&mut first)).await;
    let mut stream = Stream::Plain(stream);
    if matches!(peeked, Ok(Ok(1))) && first[0] == TLS_HANDSHAKE {
        match tokio::time::timeout(HEADER_TIMEOUT, stream.start_tls(acceptor)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::debug!("https handshake failed: {e}");
                return None;
            }
            Err(_) => return None,
        }
    }
    Some(stream)
}

/// Serves one connection with hyper's HTTP/1 server (header timeout, keep-alive as given) until it ends or
/// the server shuts down (then gracefully).
async fn serve_connection<S>(
    stream: Stream,
    service: S,
    keep_alive: bool,
    shutdown: &CancellationToken,
) -> Result<(), hyper::Error>
where
    S: tower::Service<
            axum::extract::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(keep_alive);
    let mut conn =
        pin!(builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
    tokio::select! {
        r = conn.as_mut() => r,
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    }
}
