//! A session's cache of translated statements, keyed by their text: a statement the session ran before (a
//! prepared statement's every execute, sysbench's and ORMs' repeated text) skips parsing and translation and
//! runs its SQLite statement from the connection's statement cache.
//!
//! What a plan depends on decides when it is made again:
//! - its text and the session's current database: the key and a check on hit;
//! - the session's values (user and system variables, `DATABASE()`, `CURRENT_USER`, ...), which translation
//!   writes into the SQL as literals: a plan that took any in is never cached ([`Tracking`]);
//! - the catalog (databases, grants) and the schema (DDL from any session): each plan records the engine's
//!   epoch (`Engine::plan_epoch`, two atomic loads) and is made again once it moved.
//!
//! Privileges are never cached with the plan: they are checked on every execute against the session's
//! grants, which are read again whenever the catalog changed (a REVOKE counts on the next execute).

use std::cell::Cell;
use std::num::NonZeroUsize;
use std::sync::Arc;

use crate::error::Result;
use crate::translate::{Plan, SessionContext};
use crate::value::Value;

/// How many translated statements a session keeps (least recently used ones go first).
const CAPACITY: usize = 256;

/// Statements longer than this are not cached: a bulk INSERT is rarely sent twice, and the cache would hold
/// its text and plan.
pub const MAX_CACHED_TEXT: usize = 16 << 10;

struct Entry {
    plan: Arc<Plan>,
    db: Option<String>,
    epoch: (u64, u64),
}

/// The cache of one session.
pub(crate) struct PlanCache {
    plans: lru::LruCache<String, Entry>,
}

impl Default for PlanCache {
    fn default() -> Self {
        Self {
            plans: lru::LruCache::new(NonZeroUsize::new(CAPACITY).unwrap_or(NonZeroUsize::MIN)),
        }
    }
}

impl PlanCache {
    /// The plan of `sql` made in database `db` under `epoch`, if the session has it.
    pub(crate) fn get(
        &mut self,
        sql: &str,
        db: Option<&str>,
        epoch: (u64, u64),
    ) -> Option<Arc<Plan>> {
        match self.plans.get(sql) {
            Some(e) if e.epoch == epoch && e.db.as_deref() == db => Some(e.plan.clone()),
            Some(_) => {
                self.plans.pop(sql);
                None
            }
            None => None,
        }
    }

    /// Keeps `plan` of `sql`, made in `db` under `epoch`.
    pub(crate) fn put(&mut self, sql: &str, db: Option<&str>, epoch: (u64, u64), plan: Arc<Plan>) {
        if sql.len() > MAX_CACHED_TEXT {
            return;
        }
        self.plans.put(
            sql.to_string(),
            Entry {
                plan,
                db: db.map(str::to_string),
                epoch,
            },
        );
    }

    /// Forgets every plan (the session was reset).
    pub(crate) fn clear(&mut self) {
        self.plans.clear();
    }
}

/// A session context that notes whether translation took in any session value: such a plan holds those
/// values as literals and must not be cached.
pub(crate) struct Tracking<'a> {
    inner: &'a dyn SessionContext,
    used_session_values: Cell<bool>,
}

impl<'a> Tracking<'a> {
    /// Wraps `inner`.
    pub(crate) fn new(inner: &'a dyn SessionContext) -> Self {
        Self {
            inner,
            used_session_values: Cell::new(false),
        }
    }

    /// Whether the plan made through this context may be cached.
    pub(crate) fn cacheable(&self) -> bool {
        !self.used_session_values.get()
    }
}

impl SessionContext for Tracking<'_> {
    fn current_db(&self) -> Option<&str> {
        // The current database is checked on every hit: not a reason to skip the cache.
        self.inner.current_db()
    }

    fn system_variable(&self, name: &str) -> Result<Value> {
        self.used_session_values.set(true);
        self.inner.system_variable(name)
    }

    fn user_variable(&self, name: &str) -> Value {
        self.used_session_values.set(true);
        self.inner.user_variable(name)
    }

    fn session_function(&self, name: &str) -> Option<Value> {
        let v = self.inner.session_function(name);
        if v.is_some() {
            self.used_session_values.set(true);
        }
        v
    }

    fn postgres_names(&self) -> bool {
        // Fixed for a session's life, and the cache is the session's.
        self.inner.postgres_names()
    }

    fn temp_table(&self, db: &str, table: &str) -> bool {
        // The session empties its cache whenever its temporary tables change.
        self.inner.temp_table(db, table)
    }
}
