//! Figures the job records do not hold, kept in memory since the process started: how long a cancel takes
//! to take effect, and how many bytes bulk work moved. Everything else (jobs by state, durations) is read
//! from the records themselves.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use parking_lot::Mutex;

/// Upper bounds (seconds) of the cancel-latency buckets: a cancel is expected to land within a second.
pub const CANCEL_LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A cumulative histogram in Prometheus's sense: counts per upper bound, a total count and a sum.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Upper bounds, ascending (the implicit `+Inf` bucket is `count`).
    pub bounds: Vec<f64>,
    /// How many observations were at most each bound.
    pub cumulative: Vec<u64>,
    /// How many observations in all.
    pub count: u64,
    /// Their sum.
    pub sum: f64,
}

impl Histogram {
    /// An empty histogram with these upper bounds.
    pub fn new(bounds: &[f64]) -> Self {
        Self {
            bounds: bounds.to_vec(),
            cumulative: vec![0; bounds.len()],
            count: 0,
            sum: 0.0,
        }
    }

    /// Adds one observation.
    pub fn observe(&mut self, value: f64) {
        for (bound, n) in self.bounds.iter().zip(self.cumulative.iter_mut()) {
            if value <= *bound {
                *n += 1;
            }
        }
        self.count += 1;
        self.sum += value;
    }
}

/// The registry's in-memory figures.
pub(crate) struct Metrics {
    cancel_requested: Mutex<HashMap<i64, Instant>>,
    cancel_latency: Mutex<Histogram>,
    bytes_moved: Mutex<BTreeMap<String, u64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            cancel_requested: Mutex::new(HashMap::new()),
            cancel_latency: Mutex::new(Histogram::new(&CANCEL_LATENCY_BUCKETS)),
            bytes_moved: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Metrics {
    /// A cancel request that arrived at `at` was accepted for `id` (the first one counts).
    pub(crate) fn cancel_requested(&self, id: i64, at: Instant) {
        self.cancel_requested.lock().entry(id).or_insert(at);
    }

    /// The job reached `canceled` (or ended otherwise, which only forgets the request).
    pub(crate) fn job_ended(&self, id: i64, canceled: bool) {
        let since = self.cancel_requested.lock().remove(&id);
        if let (true, Some(since)) = (canceled, since) {
            self.cancel_latency
                .lock()
                .observe(since.elapsed().as_secs_f64());
        }
    }

    pub(crate) fn add_bytes(&self, job_type: &str, n: u64) {
        *self
            .bytes_moved
            .lock()
            .entry(job_type.to_string())
            .or_default() += n;
    }

    pub(crate) fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            cancel_latency: self.cancel_latency.lock().clone(),
            bytes_moved: self.bytes_moved.lock().clone(),
        }
    }
}

/// The registry's in-memory figures at one moment.
#[derive(Debug, Clone)]
pub struct MetricsSnapshot {
    /// Seconds from an accepted cancel request to the job reading `canceled` (work stopped, undo done).
    pub cancel_latency: Histogram,
    /// Bytes moved by bulk work, per job type, since the process started.
    pub bytes_moved: BTreeMap<String, u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let mut h = Histogram::new(&[0.1, 1.0]);
        h.observe(0.05);
        h.observe(0.5);
        h.observe(3.0);
        assert_eq!(h.cumulative, vec![1, 2]);
        assert_eq!(h.count, 3);
        assert!((h.sum - 3.55).abs() < 1e-9);
    }

    #[test]
    fn cancel_latency_counts_only_canceled_jobs() {
        let m = Metrics::default();
        m.cancel_requested(1, Instant::now());
        m.cancel_requested(2, Instant::now());
        m.job_ended(1, true);
        m.job_ended(2, false);
        m.job_ended(3, true);
        assert_eq!(m.snapshot().cancel_latency.count, 1);
    }
}
