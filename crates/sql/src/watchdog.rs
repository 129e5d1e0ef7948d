//! One thread that stops statements whose time is up (`max_execution_time`, `statement_timeout`) and closes
//! sessions idle for longer than their `wait_timeout`.
//!
//! A timed-out statement is stopped exactly as KILL QUERY stops one (the session's stop flag, its token and
//! SQLite's interrupt), so a time limit reaches every loop a cancel reaches; only the error differs.

use std::collections::BTreeSet;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::engine::Engine;
use crate::processlist::StopReason;

/// How often idle sessions are looked for: `wait_timeout` counts in seconds.
const IDLE_SWEEP: Duration = Duration::from_secs(1);

/// A statement's deadline: when, which session, which of its statements.
pub(crate) type Deadline = (Instant, u32, u64);

/// The deadlines of running statements, earliest first.
#[derive(Default)]
pub(crate) struct Watchdog {
    deadlines: Mutex<BTreeSet<Deadline>>,
    wake: Condvar,
}

impl Watchdog {
    /// Stops statement `seq` of session `session` at `at`, unless it is disarmed first.
    pub(crate) fn arm(&self, at: Instant, session: u32, seq: u64) -> Deadline {
        let deadline = (at, session, seq);
        let mut deadlines = self.deadlines.lock();
        let earliest = deadlines.first().is_none_or(|first| deadline < *first);
        deadlines.insert(deadline);
        if earliest {
            // The thread sleeps until the earliest deadline it knew of: it must look again.
            self.wake.notify_one();
        }
        deadline
    }

    /// Forgets a deadline (its statement ended).
    pub(crate) fn disarm(&self, deadline: Deadline) {
        self.deadlines.lock().remove(&deadline);
    }

    /// Takes the deadlines that have passed, or waits until the next one (or `until`).
    fn next_expired(&self, until: Instant) -> Vec<Deadline> {
        let mut deadlines = self.deadlines.lock();
        let now = Instant::now();
        let expired: Vec<Deadline> = deadlines
            .iter()
            .take_while(|(at, _, _)| *at <= now)
            .copied()
            .collect();
        if expired.is_empty() {
            let wake_at = deadlines
                .first()
                .map_or(until, |(at, _, _)| (*at).min(until));
            self.wake.wait_until(&mut deadlines, wake_at);
        } else {
            for d in &expired {
                deadlines.remove(d);
            }
        }
        expired
    }
}

/// Starts the engine's watchdog thread; it ends once the engine is gone.
pub(crate) fn start(engine: &Arc<Engine>) {
    let watchdog = engine.watchdog().clone();
    let engine: Weak<Engine> = Arc::downgrade(engine);
    let spawned = std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || run(&watchdog, &engine));
    if let Err(e) = spawned {
        tracing::error!("cannot start the statement watchdog: {e}");
    }
}

fn run(watchdog: &Watchdog, engine: &Weak<Engine>) {
    let mut next_sweep = Instant::now() + IDLE_SWEEP;
    loop {
        let expired = watchdog.next_expired(next_sweep);
        let Some(engine) = engine.upgrade() else {
            return;
        };
        for (_, session, seq) in expired {
            if let Some(handle) = engine.sessions().get(session) {
                if handle.stop_statement(Some(seq), StopReason::TimedOut) {
                    tracing::info!(session, "statement stopped: its time limit passed");
                }
            }
        }
        if Instant::now() >= next_sweep {
            engine.sessions().close_idle();
            next_sweep = Instant::now() + IDLE_SWEEP;
        }
    }
}
