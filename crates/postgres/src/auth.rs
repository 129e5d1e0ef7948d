//! Startup: `user@tenant` logins, SCRAM-SHA-256 against the stored verifier, no challenge for users
//! without a password (libpq refuses to send an empty one), and the database that selects the session's
//! current database.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::Sink;
use pgwire::api::auth::driver::AuthOutcome;
use pgwire::api::auth::mechanism::AuthMechanismFactory;
use pgwire::api::auth::sasl::scram::{ScramAuth, ScramSecret};
use pgwire::api::auth::sasl::SaslMechanisms;
use pgwire::api::auth::{
    AuthDriver, AuthSource, DefaultServerParameterProvider, LoginInfo, Password, StartupHandler,
};
use pgwire::api::{ClientInfo, PidSecretKeyGenerator, METADATA_DATABASE, METADATA_USER};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::startup::SecretKey;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use tenantry_catalog::password::ScramVerifier;
use tenantry_sql::{Engine, LoginName, Session, SqlError};

use crate::conn::ConnState;

/// The database a session starts in when the client names none.
const DEFAULT_DATABASE: &str = "test";

/// Startup parameters that are session settings (the others, `user`, `database`, `options`, are not).
const STARTUP_SETTINGS: &[&str] = &[
    "application_name",
    "client_encoding",
    "datestyle",
    "timezone",
    "extra_float_digits",
    "search_path",
    "intervalstyle",
    "statement_timeout",
    "default_transaction_isolation",
];

/// The server version reported at startup (CockroachDB reports a PostgreSQL 13 surface too).
const PG_SERVER_VERSION: &str = "13.0.0";

/// The startup handler of one connection.
pub(crate) struct Startup {
    state: Arc<ConnState>,
    driver: AuthDriver<DefaultServerParameterProvider>,
    sasl: SaslMechanisms,
}

/// Hands out the connection's own session id as pid, so cancel requests and pg_cancel_backend find it.
struct SessionPid {
    pid: i32,
    secret: i32,
}

impl PidSecretKeyGenerator for SessionPid {
    fn generate(&self, _client: &dyn ClientInfo) -> (i32, SecretKey) {
        (self.pid, SecretKey::I32(self.secret))
    }
}

impl Startup {
    pub(crate) fn new(state: Arc<ConnState>) -> Self {
        let mut params = DefaultServerParameterProvider::default();
        params.server_version = PG_SERVER_VERSION.to_string();
        params.is_superuser = false;
        let driver = AuthDriver::new(params).with_pid_secret_key_generator(Arc::new(SessionPid {
            pid: state.pid(),
            secret: state.secret,
        }));
        let scram = ScramAuth::new(Arc::new(Verifiers {
            engine: state.engine.clone(),
        }));
        Self {
            driver,
            sasl: SaslMechanisms::new(vec![Arc::new(scram)]),
            state,
        }
    }

    /// Opens the session of an authenticated login (`verified`: the SCRAM proof checked out; otherwise
    /// the user must have no password) and enters the requested database.
    async fn open_session<C: ClientInfo>(&self, client: &C, verified: bool) -> PgWireResult<()> {
        let login = client
            .metadata()
            .get(METADATA_USER)
            .cloned()
            .unwrap_or_default();
        let database = database_for(&login, client.metadata().get(METADATA_DATABASE));
        // Session settings given at startup (pgjdbc sends extra_float_digits, DateStyle, TimeZone,
        // application_name) are the session's, as if SET.
        let settings: Vec<(String, String)> = client
            .metadata()
            .iter()
            .filter(|(k, _)| STARTUP_SETTINGS.contains(&k.to_ascii_lowercase().as_str()))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        let engine = self.state.engine.clone();
        let (peer, id, killed) = (
            self.state.peer.clone(),
            self.state.id,
            self.state.killed.clone(),
        );
        let opened = tokio::task::spawn_blocking(move || {
            // The SCRAM exchange proved the password; without one, only a user with no password gets in.
            let identity = engine.authenticate(&login, &peer, verified, |user| {
                verified || user.scram_verifier.is_empty()
            })?;
            let mut session = Session::open(engine, identity, id, &peer, "pg", killed)?;
            match &database {
                Some(db) => session.use_database(db)?,
                // Nothing asked: `test` if the user may enter it; otherwise no current database, as a
                // CockroachDB user with no grant on defaultdb still connects.
                None => {
                    if let Err(e) = session.use_database(DEFAULT_DATABASE) {
                        tracing::debug!(session = id, "no default database: {e}");
                    }
                }
            }
            for (name, value) in settings {
                let sql = format!("SET {name} = '{}'", value.replace('\'', "''"));
                if let Err(e) = session.execute(&sql, &[]) {
                    tracing::debug!(%name, "startup setting ignored: {e}");
                }
            }
            Ok::<_, SqlError>(session)
        })
        .await
        .unwrap_or_else(|e| Err(SqlError::Internal(e.to_string())));
        match opened {
            Ok(session) => {
                tracing::info!(session = id, tenant = %session.identity().tenant.tenant_name, user = %session.identity().user.name, "pg login");
                self.state.set_session(session);
                Ok(())
            }
            Err(e) => {
                tracing::info!(session = id, peer = %self.state.peer, "pg login refused: {e}");
                Err(fatal(&e))
            }
        }
    }
}

/// The database the client asked for, `None` when it gave none (the session then enters `test` if it may).
/// psql sends the user name as the database when none is given, so a database equal to the login or its
/// user part means "none".
fn database_for(login: &str, asked: Option<&String>) -> Option<String> {
    let user = LoginName::parse(login).user;
    match asked {
        Some(db) if !db.is_empty() && db != login && *db != user => Some(db.clone()),
        _ => None,
    }
}

/// A login-time error: FATAL with the error's PostgreSQL SQLSTATE.
fn fatal(e: &SqlError) -> PgWireError {
    let w = e.wire();
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".to_string(),
        w.pg_state.to_string(),
        w.message,
    )))
}

/// CockroachDB's refusal of a plain connection to a secure node, with the SQLSTATE of PostgreSQL's pg_hba
/// refusal (28000) where only `hostssl` lines would match.
const TLS_REQUIRED_MESSAGE: &str = "node is running secure mode, SSL connection required";

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                self.state
                    .secure
                    .store(client.is_secure(), std::sync::atomic::Ordering::Relaxed);
                if self.state.require_tls && !client.is_secure() {
                    tracing::info!(peer = %self.state.peer, "pg login refused: no TLS");
                    return Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                        "FATAL".to_string(),
                        SqlError::InsecureTransport.wire().pg_state.to_string(),
                        TLS_REQUIRED_MESSAGE.to_string(),
                    ))));
                }
                pgwire::api::auth::protocol_negotiation(client, startup).await?;
                pgwire::api::auth::save_startup_parameters_to_metadata(client, startup);
                let login = client
                    .metadata()
                    .get(METADATA_USER)
                    .cloned()
                    .unwrap_or_default();
                self.state
                    .engine
                    .throttle_login(&login, &self.state.peer)
                    .await;
                let engine = self.state.engine.clone();
                let trust =
                    tokio::task::spawn_blocking(move || engine.login_has_no_password(&login))
                        .await
                        .unwrap_or(false);
                if trust {
                    self.open_session(client, false).await?;
                    return self.driver.complete_authentication(client, None).await;
                }
                match self
                    .driver
                    .begin_authentication(client, self.sasl.create())
                    .await?
                {
                    AuthOutcome::InProgress => Ok(()),
                    AuthOutcome::Authenticated { final_message, .. } => {
                        self.open_session(client, true).await?;
                        self.driver
                            .complete_authentication(client, final_message)
                            .await
                    }
                }
            }
            PgWireFrontendMessage::PasswordMessageFamily(message) => {
                let outcome = self
                    .driver
                    .advance_authentication(client, message)
                    .await
                    .map_err(|e| match e {
                        // Report a failed proof with the same error (and text) as every other refused login.
                        PgWireError::InvalidPassword(_) => {
                            let user = client
                                .metadata()
                                .get(METADATA_USER)
                                .cloned()
                                .unwrap_or_default();
                            self.state.engine.login_failed(&user, &self.state.peer);
                            fatal(&SqlError::AccessDenied {
                                user,
                                host: self.state.peer.clone(),
                                using_password: true,
                            })
                        }
                        other => other,
                    })?;
                match outcome {
                    AuthOutcome::InProgress => Ok(()),
                    AuthOutcome::Authenticated { final_message, .. } => {
                        self.open_session(client, true).await?;
                        self.driver
                            .complete_authentication(client, final_message)
                            .await
                    }
                }
            }
            _ => Ok(()),
        }
    }
}

/// Stored SCRAM verifiers, looked up by login.
struct Verifiers {
    engine: Arc<Engine>,
}

impl Debug for Verifiers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Verifiers")
    }
}

#[async_trait]
impl AuthSource for Verifiers {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        // Only SCRAM is offered, and it asks for the verifier below; passwords are never stored.
        Err(PgWireError::InvalidPassword(
            login.user().unwrap_or_default().to_string(),
        ))
    }

    async fn get_scram_secret(&self, login: &LoginInfo) -> PgWireResult<(ScramSecret, Option<()>)> {
        let engine = self.engine.clone();
        let name = login.user().unwrap_or_default().to_string();
        let stored = tokio::task::spawn_blocking(move || {
            let login = LoginName::parse(&name);
            let tenant = engine.catalog().tenant_by_name(&login.tenant).ok()??;
            let user = engine
                .catalog()
                .user(tenant.tenant_id, &login.user)
                .ok()??;
            // A role does not log in: it gets the unknown user's random verifier.
            if !user.can_login {
                return None;
            }
            ScramVerifier::parse(&user.scram_verifier)
        })
        .await
        .ok()
        .flatten();
        // An unknown user gets a random verifier: the exchange runs to the end and fails like a wrong
        // password, so logins cannot be probed.
        let v = stored.unwrap_or_else(|| ScramVerifier {
            iterations: 4096,
            salt: rand::random::<[u8; 16]>().to_vec(),
            stored_key: rand::random::<[u8; 32]>().to_vec(),
            server_key: rand::random::<[u8; 32]>().to_vec(),
        });
        Ok((
            ScramSecret::Verifier {
                salt: v.salt,
                iterations: v.iterations as usize,
                stored_key: v.stored_key,
                server_key: v.server_key,
            },
            None,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::database_for;

    #[test]
    fn the_user_name_as_database_means_none() {
        let db =
            |asked: Option<&str>| database_for("maxroach@t1", asked.map(str::to_string).as_ref());
        assert_eq!(db(None), None);
        assert_eq!(db(Some("")), None);
        assert_eq!(db(Some("maxroach@t1")), None);
        assert_eq!(db(Some("maxroach")), None);
        assert_eq!(db(Some("shop")).as_deref(), Some("shop"));
    }
}
