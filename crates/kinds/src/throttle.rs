//! `bulk_io_max_rate`: bulk work sleeps as needed so that its bytes per second stay under the cap.

use std::time::{Duration, Instant};

/// Paces one job's bulk I/O to at most `rate` bytes per second (0 = unlimited).
pub struct Throttle {
    rate: u64,
    started: Instant,
}

impl Throttle {
    /// A throttle starting now.
    pub fn new(rate: u64) -> Self {
        Self {
            rate,
            started: Instant::now(),
        }
    }

    /// How long to wait, after `bytes` in total since the start, to be back under the cap.
    pub fn delay_for(&self, bytes: u64) -> Duration {
        if self.rate == 0 {
            return Duration::ZERO;
        }
        let due = Duration::from_secs_f64(bytes as f64 / self.rate as f64);
        due.saturating_sub(self.started.elapsed())
    }

    /// Sleeps until `bytes` are within the cap, in slices of at most 10 ms so that `interrupted` is noticed.
    /// Returns false if interrupted.
    pub fn pace(&self, bytes: u64, interrupted: impl Fn() -> bool) -> bool {
        loop {
            if interrupted() {
                return false;
            }
            let wait = self.delay_for(bytes);
            if wait.is_zero() {
                return true;
            }
            std::thread::sleep(wait.min(Duration::from_millis(10)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paces_to_the_rate() {
        let t = Throttle::new(1000);
        assert!(t.delay_for(2000) > Duration::from_millis(1900));
        assert_eq!(Throttle::new(0).delay_for(u64::MAX), Duration::ZERO);
        assert!(!t.pace(10_000, || true));
    }
}
