//! The HTTP front end: the jobs console (static assets embedded in the binary), the REST API over the same
//! job code as the SQL statements, and `/metrics` in Prometheus's text format.
//!
//! Like the wire front ends it knows nothing of SQLite: every call goes to a `tenantry_sql::Session`
//! (opened for a login, protocol `http`) on a blocking thread.

mod api;
mod auth;
mod console;
mod error;
mod metrics;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use tenantry_sql::Engine;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

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
        .with_state(state)
}

/// Serves HTTP on `listener` until `shutdown` fires.
pub async fn serve(listener: TcpListener, engine: Arc<Engine>, shutdown: CancellationToken) {
    let logins = Arc::new(auth::Logins::default());
    tokio::spawn(auth::expire_idle_logins(logins.clone(), shutdown.clone()));
    let app = router(AppState { engine, logins });
    let result = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await;
    if let Err(e) = result {
        tracing::error!("http server: {e}");
    }
}
