//! Statement memory budgets: what SQLite allocates while a tenant's statement runs is charged to the tenant,
//! and an allocation that would take the tenant's running statements over its budget fails, so the statement
//! fails with an out-of-memory error while the server (and every other tenant) goes on.
//!
//! SQLite has no per-connection memory limit (its soft and hard heap limits are for the whole process, which
//! would let one tenant's query fail everyone's), but it lets the process replace its allocator. The
//! replacement here forwards to SQLite's own and, on a thread that is running a statement (see
//! [`charge_to`]), counts each allocation's real size against the statement's tenant. When the statement ends,
//! what it still holds (pages cached by its connection, say) stops counting: the budget is for the working
//! memory of running statements (OceanBase's SQL work area), not for caches. The rows a statement has read
//! for its result are charged the same way ([`charge_held`]), so a huge result fails instead of filling memory.

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

use rusqlite::ffi;

/// The memory budget of one tenant's running statements, in bytes.
#[derive(Debug)]
pub struct MemoryBudget {
    used: AtomicI64,
    limit: AtomicI64,
}

impl MemoryBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: i64) -> Self {
        Self {
            used: AtomicI64::new(0),
            limit: AtomicI64::new(limit),
        }
    }

    /// Changes the limit (the tenant's unit or its work-area share changed).
    pub fn set_limit(&self, limit: i64) {
        self.limit.store(limit, Ordering::Relaxed);
    }

    /// The limit in bytes.
    pub fn limit(&self) -> i64 {
        self.limit.load(Ordering::Relaxed)
    }

    /// Takes `n` bytes if they fit.
    fn take(&self, n: i64) -> bool {
        let before = self.used.fetch_add(n, Ordering::AcqRel);
        if n > 0 && before.saturating_add(n) > self.limit() {
            self.used.fetch_sub(n, Ordering::AcqRel);
            return false;
        }
        true
    }

    fn give(&self, n: i64) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }
}

/// What the statement running on this thread has allocated, net, and against which budget.
struct Charge {
    budget: Arc<MemoryBudget>,
    net: Cell<i64>,
}

thread_local! {
    /// The charge of the statement running on this thread, if any. A raw pointer, so that the allocator (which
    /// must not allocate or panic) reads it with one load; [`Charging`] keeps it valid while it is set.
    static CURRENT: Cell<*const Charge> = const { Cell::new(ptr::null()) };
}

/// SQLite's own allocator, which ours forwards to.
struct Methods(ffi::sqlite3_mem_methods);

// SAFETY: the methods are plain function pointers and SQLite's (null) application data; SQLite's allocator is
// thread-safe, and the struct is written once, before any SQLite use, and only read afterwards.
unsafe impl Send for Methods {}
unsafe impl Sync for Methods {}

static DEFAULT: OnceLock<Methods> = OnceLock::new();
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Puts the charging allocator in front of SQLite's own. Must run before the process uses SQLite at all;
/// returns false (and nothing is charged) if SQLite was already in use.
pub fn install() -> bool {
    // SQLite's memory statistics (on by default) take one process-wide mutex around every allocation and
    // free, which serialises all sessions' statements on it; nothing here reads those statistics (budgets
    // are counted by the allocator below). SAFETY: SQLITE_CONFIG_MEMSTATUS takes one int; like every
    // sqlite3_config call it must come before SQLite is initialised, as this function must.
    unsafe {
        ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int);
    }
    let mut default = ffi::sqlite3_mem_methods {
        xMalloc: None,
        xFree: None,
        xRealloc: None,
        xSize: None,
        xRoundup: None,
        xInit: None,
        xShutdown: None,
        pAppData: ptr::null_mut(),
    };
    // SAFETY: SQLITE_CONFIG_GETMALLOC writes SQLite's current methods into the struct it is given.
    let rc = unsafe {
        ffi::sqlite3_config(
            ffi::SQLITE_CONFIG_GETMALLOC,
            &mut default as *mut ffi::sqlite3_mem_methods,
        )
    };
    if rc != ffi::SQLITE_OK
        || default.xMalloc.is_none()
        || default.xFree.is_none()
        || default.xRealloc.is_none()
        || default.xSize.is_none()
    {
        return false;
    }
    let ours = ffi::sqlite3_mem_methods {
        xMalloc: Some(charged_malloc),
        xFree: Some(charged_free),
        xRealloc: Some(charged_realloc),
        ..default
    };
    if DEFAULT.set(Methods(default)).is_err() {
        return INSTALLED.load(Ordering::Acquire);
    }
    // SAFETY: SQLITE_CONFIG_MALLOC copies the struct; it fails (SQLITE_MISUSE) once SQLite is initialised.
    let rc = unsafe {
        ffi::sqlite3_config(
            ffi::SQLITE_CONFIG_MALLOC,
            &ours as *const ffi::sqlite3_mem_methods,
        )
    };
    let ok = rc == ffi::SQLITE_OK;
    INSTALLED.store(ok, Ordering::Release);
    ok
}

/// Charges SQLite's allocations on this thread to `budget` until the returned guard is dropped.
pub(crate) fn charge_to(budget: &Arc<MemoryBudget>) -> Charging {
    let charge = Box::new(Charge {
        budget: budget.clone(),
        net: Cell::new(0),
    });
    let previous = CURRENT.with(|c| c.replace(&*charge as *const Charge));
    Charging { charge, previous }
}

/// Charges `bytes` the server itself holds for the statement running on this thread (the rows it has read
/// for its result); false if they do not fit in the budget. Without a running statement, nothing is charged.
pub(crate) fn charge_held(bytes: i64) -> bool {
    let charge = current();
    if charge.is_null() {
        return true;
    }
    // SAFETY: a non-null CURRENT points at the Charge its Charging guard keeps alive on this thread.
    let charge = unsafe { &*charge };
    if !charge.budget.take(bytes) {
        return false;
    }
    charge.net.set(charge.net.get() + bytes);
    true
}

/// Charging of one statement; dropping it ends the charge and hands back what the statement still holds.
pub(crate) struct Charging {
    charge: Box<Charge>,
    previous: *const Charge,
}

impl Drop for Charging {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
        self.charge.budget.give(self.charge.net.get());
    }
}

fn methods() -> Option<&'static ffi::sqlite3_mem_methods> {
    DEFAULT.get().map(|m| &m.0)
}

/// The size SQLite's allocator gives an allocation.
///
/// # Safety
/// `p` must be an allocation of SQLite's allocator (or null).
unsafe fn size_of(m: &ffi::sqlite3_mem_methods, p: *mut c_void) -> i64 {
    match (m.xSize, p.is_null()) {
        (Some(size), false) => i64::from(unsafe { size(p) }),
        _ => 0,
    }
}

fn current() -> *const Charge {
    CURRENT.with(Cell::get)
}

unsafe extern "C" fn charged_malloc(n: c_int) -> *mut c_void {
    let Some(m) = methods() else {
        return ptr::null_mut();
    };
    let Some(malloc) = m.xMalloc else {
        return ptr::null_mut();
    };
    let charge = current();
    if charge.is_null() {
        return unsafe { malloc(n) };
    }
    // SAFETY: a non-null CURRENT points at the Charge its Charging guard keeps alive on this thread.
    let charge = unsafe { &*charge };
    let asked = i64::from(n);
    if !charge.budget.take(asked) {
        return ptr::null_mut();
    }
    let p = unsafe { malloc(n) };
    if p.is_null() {
        charge.budget.give(asked);
        return p;
    }
    let real = unsafe { size_of(m, p) };
    charge.budget.give(asked - real);
    charge.net.set(charge.net.get() + real);
    p
}

unsafe extern "C" fn charged_free(p: *mut c_void) {
    let Some(m) = methods() else {
        return;
    };
    let charge = current();
    if !charge.is_null() && !p.is_null() {
        // SAFETY: as in charged_malloc; p is SQLite's allocation, about to be freed.
        let charge = unsafe { &*charge };
        let size = unsafe { size_of(m, p) };
        charge.budget.give(size);
        charge.net.set(charge.net.get() - size);
    }
    if let Some(free) = m.xFree {
        unsafe { free(p) }
    }
}

unsafe extern "C" fn charged_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    let Some(m) = methods() else {
        return ptr::null_mut();
    };
    let Some(realloc) = m.xRealloc else {
        return ptr::null_mut();
    };
    let charge = current();
    if charge.is_null() {
        return unsafe { realloc(p, n) };
    }
    // SAFETY: as in charged_malloc.
    let charge = unsafe { &*charge };
    let old = unsafe { size_of(m, p) };
    let growth = (i64::from(n) - old).max(0);
    if !charge.budget.take(growth) {
        return ptr::null_mut();
    }
    let q = unsafe { realloc(p, n) };
    if q.is_null() {
        // The old allocation is untouched.
        charge.budget.give(growth);
        return q;
    }
    let delta = unsafe { size_of(m, q) } - old;
    charge.budget.give(growth - delta);
    charge.net.set(charge.net.get() + delta);
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_refuses_what_does_not_fit_and_takes_back_what_is_given() {
        let b = MemoryBudget::new(100);
        assert!(b.take(60));
        assert!(!b.take(50));
        assert!(b.take(40));
        b.give(60);
        assert!(b.take(50));
        // Shrinking is always allowed.
        assert!(b.take(-10));
    }
}
