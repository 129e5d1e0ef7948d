//! Who is calling: a console login (a session cookie) or HTTP basic authentication (the command line).
//!
//! Both check the same users and passwords as the wire protocols (`Engine::authenticate` against the stored
//! `mysql_native_password` hash), and both end in a real `Session` with protocol `http`, so privileges and
//! tenant isolation are exactly those of SQL. A console login keeps its session (it shows in SHOW
//! PROCESSLIST, and KILL ends it); a basic-authenticated request opens one for itself.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use parking_lot::Mutex;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use tenantry_catalog::password::verify_plain;
use tenantry_sql::{Engine, Session, SqlError};
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;
use crate::AppState;

/// The cookie that carries a console login's token.
const COOKIE_NAME: &str = "tenantry_session";
/// A console login unused for this long is closed (an open console polls every second).
const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Console logins one user (of one tenant) keeps at most; a further login closes that user's least recently
/// used one. Logins of other users are never touched: each is a session, so all of them together are bounded
/// by `max_connections` and `max_tenant_connections`, which refuse a login rather than evict anyone's.
const MAX_LOGINS_PER_USER: usize = 16;

/// One console login: its session, kept between requests.
pub(crate) struct Login {
    session: Mutex<Session>,
    last_used: Mutex<Instant>,
    killed: CancellationToken,
    /// Whose login it is: tenant id and user name.
    owner: (i64, String),
}

/// Every console login, by token.
#[derive(Default)]
pub(crate) struct Logins {
    by_token: Mutex<HashMap<String, Arc<Login>>>,
}

impl Logins {
    fn get(&self, token: &str) -> Option<Arc<Login>> {
        let login = self.by_token.lock().get(token)?.clone();
        if login.killed.is_cancelled() || login.last_used.lock().elapsed() > IDLE_TIMEOUT {
            // Killed from SQL (KILL <id>) or idle too long: the cookie no longer works; the sweeper
            // closes the session off the reactor.
            return None;
        }
        *login.last_used.lock() = Instant::now();
        Some(login)
    }

    /// Keeps a login; returns the same user's login it displaced, if any (the caller closes it).
    fn insert(&self, token: String, login: Arc<Login>) -> Option<Arc<Login>> {
        let mut map = self.by_token.lock();
        let mine: Vec<(&String, &Arc<Login>)> =
            map.iter().filter(|(_, l)| l.owner == login.owner).collect();
        let displaced = if mine.len() >= MAX_LOGINS_PER_USER {
            mine.into_iter()
                .min_by_key(|(_, l)| *l.last_used.lock())
                .map(|(t, _)| t.clone())
                .and_then(|t| map.remove(&t))
        } else {
            None
        };
        map.insert(token, login);
        displaced
    }

    fn remove(&self, token: &str) -> Option<Arc<Login>> {
        self.by_token.lock().remove(token)
    }

    fn expire(&self) {
        self.by_token.lock().retain(|_, l| {
            !l.killed.is_cancelled() && l.last_used.lock().elapsed() <= IDLE_TIMEOUT
        });
    }
}

/// Closes idle and killed console logins (dropping a login closes its session) until shutdown.
pub(crate) async fn expire_idle_logins(logins: Arc<Logins>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = shutdown.cancelled() => break,
        }
        let logins = logins.clone();
        // Dropping sessions closes SQLite connections: off the reactor.
        let _ = tokio::task::spawn_blocking(move || logins.expire()).await;
    }
}

/// An authenticated caller, with the session its requests run on.
pub(crate) enum Caller {
    /// A console login (cookie).
    Login(Arc<Login>),
    /// A request with HTTP basic credentials: a session of its own.
    Basic(Box<Session>),
}

impl Caller {
    /// Runs `f` on the caller's session on a blocking thread.
    pub(crate) async fn run<T: Send + 'static>(
        self,
        f: impl FnOnce(&mut Session) -> Result<T, SqlError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let out = tokio::task::spawn_blocking(move || match self {
            Caller::Login(login) => f(&mut login.session.lock()),
            Caller::Basic(mut session) => f(&mut session),
        })
        .await?;
        Ok(out?)
    }
}

fn peer(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE_NAME)
        .map(|(_, v)| v.to_string())
}

fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), ApiError>> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    Some(match decoded.as_deref().and_then(|d| d.split_once(':')) {
        Some((user, password)) => Ok((user.to_string(), password.to_string())),
        None => Err(ApiError::bad_request("malformed basic credentials")),
    })
}

/// Checks a login and password and opens a session for it (blocking).
fn open_session(
    engine: &Arc<Engine>,
    login: &str,
    password: &str,
    host: &str,
    killed: CancellationToken,
) -> Result<Session, SqlError> {
    let identity = engine.authenticate(login, host, !password.is_empty(), |user| {
        verify_plain(&user.native_hash, password)
    })?;
    let id = engine.sessions().next_id();
    Session::open(engine.clone(), identity, id, host, "http", killed)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(creds) = basic_credentials(&parts.headers) {
            let (user, password) = creds?;
            let engine = state.engine.clone();
            let host = peer(parts);
            engine.throttle_login(&user, &host).await;
            let session = tokio::task::spawn_blocking(move || {
                open_session(&engine, &user, &password, &host, CancellationToken::new())
            })
            .await??;
            return Ok(Caller::Basic(Box::new(session)));
        }
        if let Some(token) = cookie_token(&parts.headers) {
            if let Some(login) = state.logins.get(&token) {
                return Ok(Caller::Login(login));
            }
            return Err(ApiError::unauthorized(
                "your login has expired or was ended; log in again",
            ));
        }
        Err(ApiError::unauthorized(
            "log in first (POST /api/login) or send basic credentials",
        ))
    }
}

/// The body of `POST /api/login`.
#[derive(Deserialize)]
pub(crate) struct LoginRequest {
    /// `user@tenant` (a bare user means sys).
    user: String,
    /// The password (empty for none).
    #[serde(default)]
    password: String,
}

/// Who is logged in.
#[derive(Serialize)]
pub(crate) struct Me {
    user: String,
    tenant: String,
    tenant_id: i64,
    cluster_admin: bool,
    tenant_admin: bool,
    session_id: u32,
}

fn me_of(session: &Session) -> Me {
    let id = session.identity();
    Me {
        user: id.user.name.clone(),
        tenant: id.tenant.tenant_name.clone(),
        tenant_id: id.tenant.tenant_id,
        cluster_admin: id.is_cluster_admin(),
        tenant_admin: id.is_tenant_admin(),
        session_id: session.id(),
    }
}

/// `POST /api/login`: checks the credentials, opens a session and sets its cookie.
pub(crate) async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: LoginRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "expected a JSON body {{\"user\": \"root@sys\", \"password\": \"...\"}}: {e}"
        ))
    })?;
    let engine = state.engine.clone();
    let killed = CancellationToken::new();
    let host = addr.ip().to_string();
    engine.throttle_login(&req.user, &host).await;
    let logins = state.logins.clone();
    // Opening the session and storing it (which may close the user's least recently used login) block on SQLite.
    let (me, token) = tokio::task::spawn_blocking(move || -> Result<(Me, String), SqlError> {
        let session = open_session(&engine, &req.user, &req.password, &host, killed.clone())?;
        let me = me_of(&session);
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let owner = (
            session.identity().tenant.tenant_id,
            session.identity().user.name.clone(),
        );
        let displaced = logins.insert(
            token.clone(),
            Arc::new(Login {
                session: Mutex::new(session),
                last_used: Mutex::new(Instant::now()),
                killed,
                owner,
            }),
        );
        // Closing the displaced login's session closes its SQLite connection: this is a blocking thread.
        drop(displaced);
        Ok((me, token))
    })
    .await??;
    tracing::info!(user = %me.user, tenant = %me.tenant, session = me.session_id, "console login");
    let cookie = format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict");
    let mut response = Json(me).into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::internal(e.to_string()))?,
    );
    Ok(response)
}

/// `POST /api/logout`: ends the console login of the cookie, if any, and clears the cookie.
pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie_token(&headers) {
        if let Some(login) = state.logins.remove(&token) {
            // Closing the session closes its SQLite connection: off the reactor.
            let _ = tokio::task::spawn_blocking(move || drop(login)).await;
        }
    }
    let mut response = Json(serde_json::json!({ "ok": true })).into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_static("tenantry_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

/// `GET /api/me`: who the caller is.
pub(crate) async fn me(caller: Caller) -> Result<Json<Me>, ApiError> {
    Ok(Json(caller.run(|s| Ok(me_of(s))).await?))
}
