//! Every open session, for SHOW PROCESSLIST and KILL.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rusqlite::InterruptHandle;
use tokio_util::sync::CancellationToken;

use crate::error::{Result, SqlError};

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

/// Why the running statement was told to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// KILL QUERY, a cancel request, KILL or a disconnect.
    Canceled,
    /// Its time limit (`max_execution_time`, `statement_timeout`) passed.
    TimedOut,
}

/// The stop request of a session's running statement, read by every loop that runs it.
///
/// SQLite's own interrupt flag is cleared whenever no statement is running on the connection, so an interrupt
/// that arrives between two SQLite statements of one client statement (or before the first) would be lost.
/// This flag is not: it is set under the session's statement lock, lives until the statement ends, and the
/// connection's progress handler and the server's own loops check it.
#[derive(Debug, Default)]
pub struct StopFlag(AtomicU8);

impl StopFlag {
    const RUNNING: u8 = 0;
    const CANCELED: u8 = 1;
    const TIMED_OUT: u8 = 2;

    /// Why the statement must stop, if it must.
    pub fn reason(&self) -> Option<StopReason> {
        match self.0.load(Ordering::Acquire) {
            Self::CANCELED => Some(StopReason::Canceled),
            Self::TIMED_OUT => Some(StopReason::TimedOut),
            _ => None,
        }
    }

    /// Whether the statement must stop.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire) != Self::RUNNING
    }

    /// Records a stop request; the first reason wins.
    fn set(&self, reason: StopReason) {
        let v = match reason {
            StopReason::Canceled => Self::CANCELED,
            StopReason::TimedOut => Self::TIMED_OUT,
        };
        let _ = self
            .0
            .compare_exchange(Self::RUNNING, v, Ordering::AcqRel, Ordering::Acquire);
    }

    fn clear(&self) {
        self.0.store(Self::RUNNING, Ordering::Release);
    }
}

/// The running statement's state, changed only under one lock so that a stop request and a statement's
/// start or end can never interleave.
struct Statement {
    activity: Activity,
    /// Counts statements; a timer set for one statement must not stop the next.
    seq: u64,
    /// Cancelled with the stop flag: the waits of a statement (for a job, a lock) watch it.
    cancel: CancellationToken,
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
    statement: Mutex<Statement>,
    stop: Arc<StopFlag>,
    interrupt: Mutex<Option<InterruptHandle>>,
    killed: CancellationToken,
    /// Milliseconds the session may stay idle before it is closed (`wait_timeout`); 0: for ever.
    idle_timeout_ms: AtomicU64,
    /// Set when the server closed the session for idling, so its front end can tell the client why.
    closed_idle: AtomicBool,
}

impl SessionHandle {
    /// What the session is doing now.
    pub fn activity(&self) -> Activity {
        self.statement.lock().activity.clone()
    }

    /// The stop flag of this session's statements (the connection's progress handler checks it).
    pub fn stop_flag(&self) -> Arc<StopFlag> {
        self.stop.clone()
    }

    /// Marks a statement as running: from now on a stop request reaches it. Returns its sequence number and
    /// the token its waits watch.
    pub fn start_statement(&self, sql: &str, db: Option<String>) -> (u64, CancellationToken) {
        let mut st = self.statement.lock();
        self.stop.clear();
        st.seq += 1;
        st.cancel = CancellationToken::new();
        st.activity = Activity {
            db,
            command: "Query",
            info: Some(shown_info(sql)),
            since: Instant::now(),
        };
        (st.seq, st.cancel.clone())
    }

    /// Marks the session idle.
    pub fn end_statement(&self, db: Option<String>) {
        let mut st = self.statement.lock();
        self.stop.clear();
        st.activity = Activity {
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
        self.stop_statement(None, StopReason::Canceled);
    }

    /// Stops statement `seq` (or whichever runs, if None) for `reason`; false if it is not running.
    pub fn stop_statement(&self, seq: Option<u64>, reason: StopReason) -> bool {
        let st = self.statement.lock();
        if st.activity.command != "Query" || seq.is_some_and(|s| s != st.seq) {
            return false;
        }
        // Under the statement lock: the statement cannot end (and a new one start) before all three are done.
        self.stop.set(reason);
        st.cancel.cancel();
        if let Some(h) = self.interrupt.lock().as_ref() {
            h.interrupt();
        }
        true
    }

    /// Sets how long the session may stay idle before the server closes it (zero: for ever).
    pub fn set_idle_timeout(&self, timeout: Duration) {
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        self.idle_timeout_ms.store(ms, Ordering::Relaxed);
    }

    /// Whether the session has been idle for longer than its idle timeout.
    fn idle_too_long(&self) -> bool {
        let ms = self.idle_timeout_ms.load(Ordering::Relaxed);
        let st = self.statement.lock();
        ms > 0
            && st.activity.command == "Sleep"
            && st.activity.since.elapsed() >= Duration::from_millis(ms)
    }

    /// Whether the server closed this session because it idled past its timeout (its front end then sends
    /// MySQL's 4031 / PostgreSQL's 57P05 before closing the connection, as those servers do).
    pub fn closed_for_idleness(&self) -> bool {
        self.closed_idle.load(Ordering::Acquire)
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

/// The registry of open sessions, and the caps on how many may be open.
pub struct SessionRegistry {
    next_id: AtomicU32,
    sessions: Mutex<BTreeMap<u32, Arc<SessionHandle>>>,
    /// `max_connections`.
    max_sessions: AtomicUsize,
    /// `max_tenant_connections` (0: none).
    max_tenant_sessions: AtomicUsize,
    /// Wire connections accepted and not yet closed, logged in or not.
    sockets: Arc<AtomicUsize>,
}

impl Default for SessionRegistry {
    fn default() -> Self {
        let default = |name: &str| {
            tenantry_catalog::parameters::find(name)
                .and_then(|p| p.default.parse().ok())
                .unwrap_or(0)
        };
        Self {
            next_id: AtomicU32::new(0),
            sessions: Mutex::new(BTreeMap::new()),
            max_sessions: AtomicUsize::new(default("max_connections")),
            max_tenant_sessions: AtomicUsize::new(default("max_tenant_connections")),
            sockets: Arc::new(AtomicUsize::new(0)),
        }
    }
}

/// An accepted wire connection, counted as open until dropped.
pub struct SocketPermit(Arc<AtomicUsize>);

impl Drop for SocketPermit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl SessionRegistry {
    /// A fresh connection id (ids start at 1 and are never reused while the server runs).
    pub fn next_id(&self) -> u32 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Sets the caps: at most `max` sessions (a cluster administrator may open one more), at most
    /// `per_tenant` of one tenant (0: no such cap).
    pub fn set_caps(&self, max: usize, per_tenant: usize) {
        self.max_sessions.store(max, Ordering::Relaxed);
        self.max_tenant_sessions
            .store(per_tenant, Ordering::Relaxed);
    }

    /// The cap on open sessions (`max_connections`).
    pub fn max_sessions(&self) -> usize {
        self.max_sessions.load(Ordering::Relaxed)
    }

    /// Counts an accepted wire connection, or refuses it (None) when twice `max_connections` are open
    /// already: logins in progress and cancel requests need room beyond the logged-in sessions, but
    /// unauthenticated connections must not pile up without bound (each holds descriptors and memory).
    pub fn admit_socket(&self) -> Option<SocketPermit> {
        let cap = self.max_sessions().saturating_mul(2).saturating_add(1);
        let open = self.sockets.fetch_add(1, Ordering::AcqRel);
        let permit = SocketPermit(self.sockets.clone());
        (open < cap).then_some(permit)
    }

    /// Registers a session, unless that would exceed `max_connections` (a cluster administrator, `admin`, may
    /// open one more, as MySQL keeps one for SUPER) or the tenant's share, `max_tenant_connections` (which
    /// binds every user but a cluster administrator). `killed` is cancelled when the session is killed, which
    /// its front end watches to close the connection; `stop` is the flag its connection checks.
    pub fn register(
        &self,
        who: SessionInfo,
        killed: CancellationToken,
        stop: Arc<StopFlag>,
        admin: bool,
    ) -> Result<Arc<SessionHandle>> {
        // Counted and inserted under one lock, so concurrent logins cannot both take the last place.
        let mut sessions = self.sessions.lock();
        if sessions.len() >= self.max_sessions().saturating_add(usize::from(admin)) {
            return Err(SqlError::TooManyConnections);
        }
        let per_tenant = self.max_tenant_sessions.load(Ordering::Relaxed);
        if per_tenant > 0
            && !admin
            && sessions
                .values()
                .filter(|s| s.tenant_id == who.tenant_id)
                .count()
                >= per_tenant
        {
            return Err(SqlError::TooManyConnections);
        }
        let id = who.id;
        let handle = Arc::new(SessionHandle {
            id,
            tenant_id: who.tenant_id,
            tenant_name: who.tenant_name,
            user: who.user,
            host: who.host,
            protocol: who.protocol,
            connected_at: Instant::now(),
            statement: Mutex::new(Statement {
                activity: Activity {
                    db: None,
                    command: "Sleep",
                    info: None,
                    since: Instant::now(),
                },
                seq: 0,
                cancel: CancellationToken::new(),
            }),
            stop,
            interrupt: Mutex::new(None),
            killed,
            idle_timeout_ms: AtomicU64::new(0),
            closed_idle: AtomicBool::new(false),
        });
        sessions.insert(id, handle.clone());
        Ok(handle)
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

    /// Closes every session idle for longer than its `wait_timeout`, as MySQL does.
    pub(crate) fn close_idle(&self) {
        for s in self.all() {
            if s.idle_too_long() && !s.killed.is_cancelled() {
                tracing::info!(session = s.id, tenant = %s.tenant_name, user = %s.user, "closing a session idle for longer than its wait_timeout");
                // Before the kill: the front end reads it once it sees the kill.
                s.closed_idle.store(true, Ordering::Release);
                s.kill();
            }
        }
    }

    /// How many sessions are open, per protocol and tenant.
    pub fn count(&self) -> usize {
        self.sessions.lock().len()
    }
}

/// The first 4,096 characters of `sql`, as SHOW PROCESSLIST's Info shows it. Every statement starts with
/// this, so the usual short text is copied whole instead of character by character (a sixth of a cached
/// point select's instructions went to the per-character copy; docs/benchmarks.md).
fn shown_info(sql: &str) -> String {
    const MAX_CHARS: usize = 4096;
    // A text of at most MAX_CHARS bytes has at most MAX_CHARS characters.
    if sql.len() <= MAX_CHARS {
        return sql.to_string();
    }
    match sql.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => sql[..end].to_string(),
        None => sql.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::shown_info;

    #[test]
    fn info_keeps_the_first_4096_characters() {
        assert_eq!(shown_info("SELECT 1"), "SELECT 1");
        let exact = "é".repeat(4096);
        assert_eq!(shown_info(&exact), exact);
        // Multi-byte characters: the cut counts characters, not bytes, and falls on a boundary.
        let long = format!("SELECT '{}'", "é".repeat(5000));
        let shown = shown_info(&long);
        assert_eq!(shown.chars().count(), 4096);
        assert!(long.starts_with(&shown));
    }
}
