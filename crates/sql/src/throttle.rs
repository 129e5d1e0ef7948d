//! Failed-login throttling per (login, client address), as MySQL's connection_control plugin does it: after a
//! few failures in a row every further attempt waits, twice as long each time, before its password is even
//! looked at. Concurrent attempts each reserve their own turn, so opening many connections at once buys an
//! attacker nothing. The wait is asynchronous (the front ends sleep on the reactor), so throttled logins hold no
//! thread. A successful login clears the record.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Failures in a row that cost nothing (typing mistakes).
const FREE_FAILURES: u32 = 3;
/// The wait after the first failure beyond the free ones; it doubles with every further failure.
const FIRST_DELAY: Duration = Duration::from_millis(250);
/// The longest wait.
const MAX_DELAY: Duration = Duration::from_secs(30);
/// A record with no failure for this long is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// Records kept at most (unknown login names count too); beyond it the stalest go first.
const MAX_RECORDS: usize = 65_536;

/// Consecutive failures of one login from one address.
struct Failures {
    count: u32,
    /// The next attempt may not be checked before this.
    not_before: Instant,
    last_failure: Instant,
}

/// The throttle of every login.
#[derive(Default)]
pub(crate) struct LoginThrottle {
    records: Mutex<HashMap<(String, String), Failures>>,
    /// Attempts that had to wait (MySQL's `Connection_control_delay_generated`).
    delayed: AtomicU64,
}

fn delay(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(FREE_FAILURES).min(16);
    FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
}

impl LoginThrottle {
    /// How long this attempt must wait before its credentials are checked; reserves its turn.
    pub(crate) fn reserve(&self, login: &str, peer: &str) -> Duration {
        let mut records = self.records.lock();
        let key = (login.to_ascii_lowercase(), peer.to_string());
        let now = Instant::now();
        let Some(f) = records.get_mut(&key) else {
            return Duration::ZERO;
        };
        if now.duration_since(f.last_failure) > FORGET_AFTER {
            records.remove(&key);
            return Duration::ZERO;
        }
        if f.count < FREE_FAILURES {
            return Duration::ZERO;
        }
        let turn = f.not_before.max(now);
        f.not_before = turn + delay(f.count);
        let wait = turn - now;
        if !wait.is_zero() {
            self.delayed.fetch_add(1, Ordering::Relaxed);
        }
        wait
    }

    /// Records a failed attempt.
    pub(crate) fn failed(&self, login: &str, peer: &str) {
        let mut records = self.records.lock();
        let now = Instant::now();
        if records.len() >= MAX_RECORDS {
            records.retain(|_, f| now.duration_since(f.last_failure) <= FORGET_AFTER);
            if records.len() >= MAX_RECORDS {
                // Still full of fresh records (a spray of names): drop the stalest half.
                let mut ages: Vec<Instant> = records.values().map(|f| f.last_failure).collect();
                ages.sort_unstable();
                let cut = ages[ages.len() / 2];
                records.retain(|_, f| f.last_failure > cut);
            }
        }
        let f = records
            .entry((login.to_ascii_lowercase(), peer.to_string()))
            .or_insert(Failures {
                count: 0,
                not_before: now,
                last_failure: now,
            });
        f.count = f.count.saturating_add(1);
        f.last_failure = now;
        if f.count >= FREE_FAILURES {
            f.not_before = f.not_before.max(now + delay(f.count));
        }
    }

    /// Clears the record of a login that succeeded.
    pub(crate) fn succeeded(&self, login: &str, peer: &str) {
        self.records
            .lock()
            .remove(&(login.to_ascii_lowercase(), peer.to_string()));
    }

    /// How many attempts had to wait since the server started.
    pub(crate) fn delayed(&self) -> u64 {
        self.delayed.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_after_the_free_failures_and_double() {
        let t = LoginThrottle::default();
        for _ in 0..FREE_FAILURES - 1 {
            t.failed("mallory@t1", "10.0.0.1");
            assert_eq!(t.reserve("mallory@t1", "10.0.0.1"), Duration::ZERO);
        }
        t.failed("mallory@t1", "10.0.0.1");
        // Two attempts at once: the second waits a turn longer than the first.
        let first = t.reserve("mallory@t1", "10.0.0.1");
        let second = t.reserve("mallory@t1", "10.0.0.1");
        assert!(first > Duration::ZERO && first <= FIRST_DELAY);
        assert!(second > first);
        // Another address, another login: not affected.
        assert_eq!(t.reserve("mallory@t1", "10.0.0.2"), Duration::ZERO);
        assert_eq!(t.reserve("alice@t1", "10.0.0.1"), Duration::ZERO);
        // A success clears the record.
        t.succeeded("MALLORY@t1", "10.0.0.1");
        assert_eq!(t.reserve("mallory@t1", "10.0.0.1"), Duration::ZERO);
        assert_eq!(t.delayed(), 2);
    }

    #[test]
    fn delays_double_up_to_the_cap() {
        assert_eq!(delay(FREE_FAILURES), FIRST_DELAY);
        assert_eq!(delay(FREE_FAILURES + 1), FIRST_DELAY * 2);
        assert_eq!(delay(1000), MAX_DELAY);
    }
}
