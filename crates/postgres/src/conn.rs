//! Per-connection state and the handler set pgwire is given for one connection.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use parking_lot::Mutex;
use pgwire::api::PgWireServerHandlers;
use tenantry_sql::{Engine, Session, SqlError};
use tokio_util::sync::CancellationToken;

use crate::auth::Startup;
use crate::copy::{ActiveCopy, Copier};
use crate::query::{ExtendedHandler, SimpleHandler};
use crate::server::{CancelKeys, Canceller};

/// State of one PostgreSQL connection.
pub(crate) struct ConnState {
    pub(crate) engine: Arc<Engine>,
    pub(crate) peer: String,
    /// Session id, also the process id the client is told (for cancel requests and pg_cancel_backend).
    pub(crate) id: u32,
    /// The secret key of cancel requests.
    pub(crate) secret: i32,
    /// Cancelled by KILL (or shutdown): the connection closes.
    pub(crate) killed: CancellationToken,
    /// Cancelled once the connection has a session (it logged in).
    pub(crate) logged_in: CancellationToken,
    pub(crate) keys: Arc<CancelKeys>,
    /// The COPY FROM STDIN the client is feeding, if one runs.
    pub(crate) copy: Mutex<Option<ActiveCopy>>,
    /// `--require-tls`: a startup that did not negotiate TLS is refused.
    pub(crate) require_tls: bool,
    /// Set when the startup came over TLS: the idle-timeout FATAL written past pgwire, on the raw socket, must
    /// not go into a TLS session.
    pub(crate) secure: AtomicBool,
    session: Mutex<Option<Arc<Mutex<Session>>>>,
}

impl ConnState {
    pub(crate) fn new(
        engine: Arc<Engine>,
        peer: String,
        keys: Arc<CancelKeys>,
        require_tls: bool,
    ) -> Arc<Self> {
        let id = engine.sessions().next_id();
        Arc::new(Self {
            engine,
            peer,
            id,
            secret: rand::random::<i32>(),
            killed: CancellationToken::new(),
            logged_in: CancellationToken::new(),
            keys,
            copy: Mutex::new(None),
            require_tls,
            secure: AtomicBool::new(false),
            session: Mutex::new(None),
        })
    }

    /// The pid sent in BackendKeyData.
    pub(crate) fn pid(&self) -> i32 {
        // Session ids count up from 1 and would need 2^31 connections to overflow.
        i32::try_from(self.id).unwrap_or(i32::MAX)
    }

    pub(crate) fn set_session(&self, session: Session) {
        *self.session.lock() = Some(Arc::new(Mutex::new(session)));
        self.keys.insert(self.pid(), self.secret);
        self.logged_in.cancel();
    }

    pub(crate) fn session(&self) -> Result<Arc<Mutex<Session>>, SqlError> {
        self.session
            .lock()
            .clone()
            .ok_or_else(|| SqlError::Internal("no session".into()))
    }

    /// Forgets the session when the connection ends; a statement still running is interrupted
    /// (a disconnect cancels it, as PostgreSQL does).
    pub(crate) fn close(&self) {
        self.keys.remove(self.pid());
        if let Some(s) = self.engine.sessions().get(self.id) {
            s.interrupt_statement();
        }
        // A COPY the client stopped feeding ends without its CopyDone: it is rolled back.
        self.copy.lock().take();
        self.session.lock().take();
    }
}

/// The handlers of one connection.
pub(crate) struct Handlers {
    startup: Arc<Startup>,
    simple: Arc<SimpleHandler>,
    extended: Arc<ExtendedHandler>,
    copy: Arc<Copier>,
    cancel: Arc<Canceller>,
}

impl Handlers {
    pub(crate) fn new(state: Arc<ConnState>) -> Self {
        Self {
            startup: Arc::new(Startup::new(state.clone())),
            simple: Arc::new(SimpleHandler {
                state: state.clone(),
            }),
            extended: Arc::new(ExtendedHandler::new(state.clone())),
            copy: Arc::new(Copier {
                state: state.clone(),
            }),
            cancel: Arc::new(Canceller {
                engine: state.engine.clone(),
                keys: state.keys.clone(),
            }),
        }
    }
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl pgwire::api::query::SimpleQueryHandler> {
        self.simple.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl pgwire::api::query::ExtendedQueryHandler> {
        self.extended.clone()
    }

    fn startup_handler(&self) -> Arc<impl pgwire::api::auth::StartupHandler> {
        self.startup.clone()
    }

    fn copy_handler(&self) -> Arc<impl pgwire::api::copy::CopyHandler> {
        self.copy.clone()
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        self.cancel.clone()
    }
}
