//! The writer queue: a tenant's sessions take turns to write, first come first served.
//!
//! SQLite has one writer per database, and a transaction that has read cannot start writing once
//! another connection committed after its snapshot (SQLITE_BUSY_SNAPSHOT; in WAL mode SQLite does not
//! even wait for the lock then, it fails at once). InnoDB clients expect concurrent read-then-write
//! transactions (sysbench's oltp_read_write, every ORM's unit of work) to wait for each other, not fail
//! with 1205. So a session's first write in a transaction waits here for its turn, bounded by
//! `innodb_lock_wait_timeout` and interruptible by KILL QUERY or a cancel; with the turn it restarts its
//! transaction as a write transaction (nothing was written yet, so nothing is lost), and keeps the turn
//! until the transaction ends. A write outside a transaction takes the turn for that statement only.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::error::{Result, SqlError};
use crate::processlist::StopFlag;

/// How often a waiting writer looks at its stop flag.
const STOP_CHECK: Duration = Duration::from_millis(20);

#[derive(Default)]
struct State {
    /// The waiting sessions, oldest first.
    waiting: VecDeque<u32>,
    /// The session whose turn it is.
    holder: Option<u32>,
}

/// One tenant's queue of writers.
#[derive(Default)]
pub struct WriterQueue {
    state: Mutex<State>,
    changed: Condvar,
}

/// A session's turn to write; the next waiter's turn begins when it is dropped.
pub struct WriterTurn {
    queue: Arc<WriterQueue>,
    session: u32,
}

impl WriterQueue {
    /// Waits for `session`'s turn: fails with 1205 after `timeout`, with 1317 once `stop` is set.
    pub fn acquire(
        self: &Arc<Self>,
        session: u32,
        timeout: Duration,
        stop: &StopFlag,
    ) -> Result<WriterTurn> {
        let deadline = Instant::now() + timeout;
        let mut state = self.state.lock();
        state.waiting.push_back(session);
        loop {
            if state.holder.is_none() && state.waiting.front() == Some(&session) {
                state.waiting.pop_front();
                state.holder = Some(session);
                return Ok(WriterTurn {
                    queue: self.clone(),
                    session,
                });
            }
            let now = Instant::now();
            let failure = if stop.is_set() {
                Some(SqlError::Interrupted)
            } else if now >= deadline {
                Some(SqlError::LockWaitTimeout)
            } else {
                None
            };
            if let Some(e) = failure {
                state.waiting.retain(|s| *s != session);
                // The one behind may be first now.
                self.changed.notify_all();
                return Err(e);
            }
            let wait = STOP_CHECK.min(deadline - now);
            self.changed.wait_for(&mut state, wait);
        }
    }
}

impl Drop for WriterTurn {
    fn drop(&mut self) {
        let mut state = self.queue.state.lock();
        if state.holder == Some(self.session) {
            state.holder = None;
        }
        self.queue.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_go_in_arrival_order_and_waits_end() {
        let q = Arc::new(WriterQueue::default());
        let stop = StopFlag::default();
        let first = q.acquire(1, Duration::from_secs(5), &stop).unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut threads = Vec::new();
        for id in 2..=4u32 {
            let (queue, order) = (q.clone(), order.clone());
            threads.push(std::thread::spawn(move || {
                let stop = StopFlag::default();
                let _turn = queue.acquire(id, Duration::from_secs(5), &stop).unwrap();
                order.lock().push(id);
            }));
            // Each waiter is queued before the next one arrives.
            while q.state.lock().waiting.len() < (id - 1) as usize {
                std::thread::yield_now();
            }
        }
        drop(first);
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*order.lock(), vec![2, 3, 4]);

        // A wait is bounded, and a waiter that gives up leaves the queue.
        let held = q.acquire(5, Duration::from_secs(5), &stop).unwrap();
        assert!(matches!(
            q.acquire(6, Duration::from_millis(30), &stop),
            Err(SqlError::LockWaitTimeout)
        ));
        assert!(q.state.lock().waiting.is_empty());
        drop(held);
        assert!(q.acquire(7, Duration::from_millis(30), &stop).is_ok());
    }
}
