//! Every open session, for SHOW PROCESSLIST and KILL.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use rusqlite::InterruptHandle;
use tokio_util::sync::CancellationToken;

/// What a session is doing, as SHOW PROCESSLIST shows it.
#[derive(Debug, Clone)]
pub struct Activity {
    /// The current database.
    pub db: Option<String>,
    /// `Query` while a statement runs, else `Sleep`.
    pub command: &'static str,
    /// The running statement.
    pub info: Option<String>,
    /// Since when it is in this state.
    pub since: Instant,
}

/// The shared handle of one session: who it is, what it does, and how to stop it.
pub struct SessionHandle {
    /// Connection id.
    pub id: u32,
    /// Tenant id.
    pub tenant_id: i64,
    /// Tenant name.
    pub tenant_name: String,
    /// User name.
    pub user: String,
    /// Client address.
    pub host: String,
    /// `mysql` or `pg`.
    pub protocol: &'static str,
    /// When the session opened.
    pub connected_at: Instant,
    activity: Mutex<Activity>,
    interrupt: Mutex<Option<InterruptHandle>>,
    statement_cancel: Mutex<CancellationToken>,
    killed: CancellationToken,
}

impl SessionHandle {
    /// What the session is doing now.
    pub fn activity(&self) -> Activity {
        self.activity.lock().clone()
    }

    /// Marks a statement as running (it can be interrupted from now on).
    pub fn start_statement(&self, sql: &str, db: Option<String>) -> CancellationToken {
        let token = CancellationToken::new();
        *self.statement_cancel.lock() = token.clone();
        *self.activity.lock() = Activity {
            db,
            command: "Query",
            info: Some(sql.chars().take(4096).collect()),
            since: Instant::now(),
        };
        token
    }

    /// Marks the session idle.
    pub fn end_statement(&self, db: Option<String>) {
        *self.activity.lock() = Activity {
            db,
            command: "Sleep",
            info: None,
            since: Instant::now(),
        };
    }

    /// Sets the handle that interrupts the session's SQLite statements.
    pub fn set_interrupt(&self, handle: InterruptHandle) {
        *self.interrupt.lock() = Some(handle);
    }

    /// Interrupts the running statement, if any (KILL QUERY, a cancel request, a disconnect).
    pub fn interrupt_statement(&self) {
        let running = self.activity.lock().command == "Query";
        if running {
            self.statement_cancel.lock().cancel();
            if let Some(h) = self.interrupt.lock().as_ref() {
                h.interrupt();
            }
        }
    }

    /// Kills the session: interrupts its statement and tells its front end to close the connection.
    pub fn kill(&self) {
        self.interrupt_statement();
        self.killed.cancel();
    }

    /// Resolves once the session has been killed.
    pub fn killed(&self) -> CancellationToken {
        self.killed.clone()
    }
}

/// Who a new session is.
pub struct SessionInfo {
    /// Connection id (from [`SessionRegistry::next_id`]).
    pub id: u32,
    /// Tenant id.
    pub tenant_id: i64,
    /// Tenant name.
    pub tenant_name: String,
    /// User name.
    pub user: String,
    /// Client address.
    pub host: String,
    /// `mysql` or `pg`.
    pub protocol: &'static str,
}

/// The registry of open sessions.
#[derive(Default)]
pub struct SessionRegistry {
    next_id: AtomicU32,
    sessions: Mutex<BTreeMap<u32, Arc<SessionHandle>>>,
}

impl SessionRegistry {
    /// A fresh connection id (ids start at 1 and are never reused while the server runs).
    pub fn next_id(&self) -> u32 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Registers a session; `killed` is cancelled when it is killed, which its front end watches to close
    /// the connection.
    pub fn register(&self, who: SessionInfo, killed: CancellationToken) -> Arc<SessionHandle> {
        let id = who.id;
        let handle = Arc::new(SessionHandle {
            id,
            tenant_id: who.tenant_id,
            tenant_name: who.tenant_name,
            user: who.user,
            host: who.host,
            protocol: who.protocol,
            connected_at: Instant::now(),
            activity: Mutex::new(Activity {
                db: None,
                command: "Sleep",
                info: None,
                since: Instant::now(),
            }),
            interrupt: Mutex::new(None),
            statement_cancel: Mutex::new(CancellationToken::new()),
            killed,
        });
        self.sessions.lock().insert(id, handle.clone());
        handle
    }

    /// Removes a session.
    pub fn unregister(&self, id: u32) {
        self.sessions.lock().remove(&id);
    }

    /// The session of that id, if open.
    pub fn get(&self, id: u32) -> Option<Arc<SessionHandle>> {
        self.sessions.lock().get(&id).cloned()
    }

    /// Every open session, by id.
    pub fn all(&self) -> Vec<Arc<SessionHandle>> {
        self.sessions.lock().values().cloned().collect()
    }

    /// How many sessions are open, per protocol and tenant.
    pub fn count(&self) -> usize {
        self.sessions.lock().len()
    }
}
