//! Figures kept in memory since the process started: job durations (observed once, when a job ends, so
//! the histogram only ever grows, whatever retention removes), how long a cancel takes to take effect,
//! and how many bytes bulk work moved. Job counts by type and state are read from the records.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use parking_lot::Mutex;

use crate::{JobRecord, JobState};

/// Upper bounds (seconds) of the cancel-latency buckets: a cancel is expected to land within a second.
pub const CANCEL_LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Upper bounds (seconds) of the job-duration buckets: from quick schema changes to day-long backups.
pub const DURATION_BUCKETS: [f64; 12] = [
    0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14400.0, 86400.0,
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
    durations: Mutex<BTreeMap<(String, JobState), Histogram>>,
    bytes_moved: Mutex<BTreeMap<String, u64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            cancel_requested: Mutex::new(HashMap::new()),
            cancel_latency: Mutex::new(Histogram::new(&CANCEL_LATENCY_BUCKETS)),
            durations: Mutex::new(BTreeMap::new()),
            bytes_moved: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Metrics {
    /// A cancel request that arrived at `at` was accepted for `id` (the first one counts).
    pub(crate) fn cancel_requested(&self, id: i64, at: Instant) {
        self.cancel_requested.lock().entry(id).or_insert(at);
    }

    /// A job reached a final state (called once per job, by the transition that ended it): its run time is
    /// observed, and if it was canceled on request, the time since the request.
    pub(crate) fn job_ended(&self, rec: &JobRecord) {
        let since = self.cancel_requested.lock().remove(&rec.job_id);
        if let (JobState::Canceled, Some(since)) = (rec.state, since) {
            self.cancel_latency
                .lock()
                .observe(since.elapsed().as_secs_f64());
        }
        let end = rec.finished.unwrap_or(rec.modified);
        let start = rec.started.unwrap_or(rec.created);
        self.durations
            .lock()
            .entry((rec.job_type.clone(), rec.state))
            .or_insert_with(|| Histogram::new(&DURATION_BUCKETS))
            .observe((end - start).max(0) as f64 / 1e6);
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
            durations: self
                .durations
                .lock()
                .iter()
                .map(|((t, s), h)| ((t.clone(), *s), h.clone()))
                .collect(),
            bytes_moved: self.bytes_moved.lock().clone(),
        }
    }
}

/// The registry's in-memory figures at one moment.
#[derive(Debug, Clone)]
pub struct MetricsSnapshot {
    /// Seconds from an accepted cancel request to the job reading `canceled` (work stopped, undo done).
    pub cancel_latency: Histogram,
    /// Run time (start to end, seconds) of the jobs that ended since the process started, by type and final
    /// state.
    pub durations: BTreeMap<(String, JobState), Histogram>,
    /// Bytes moved by bulk work, per job type, since the process started.
    pub bytes_moved: BTreeMap<String, u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(id: i64, state: JobState, started: i64, finished: i64) -> JobRecord {
        JobRecord {
            job_id: id,
            job_type: "T".into(),
            tenant_id: 1,
            owner: "root".into(),
            owner_is_admin: true,
            description: String::new(),
            statement: String::new(),
            state,
            phase: String::new(),
            fraction_completed: 1.0,
            running_status: String::new(),
            cancelable: true,
            created: started,
            started: Some(started),
            modified: finished,
            finished: Some(finished),
            error_code: None,
            error_message: None,
            trace_id: String::new(),
            parent_job_id: None,
            payload: serde_json::Value::Null,
            paused_from: None,
            revert_to: None,
            epoch: 0,
        }
    }

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
        m.job_ended(&ended(1, JobState::Canceled, 0, 1));
        m.job_ended(&ended(2, JobState::Failed, 0, 1));
        m.job_ended(&ended(3, JobState::Canceled, 0, 1));
        assert_eq!(m.snapshot().cancel_latency.count, 1);
    }

    #[test]
    fn durations_are_observed_once_per_ended_job() {
        let m = Metrics::default();
        m.job_ended(&ended(1, JobState::Succeeded, 0, 2_000_000));
        m.job_ended(&ended(2, JobState::Succeeded, 0, 200_000));
        let d = m.snapshot().durations;
        let h = &d[&("T".to_string(), JobState::Succeeded)];
        assert_eq!(h.count, 2);
        assert!((h.sum - 2.2).abs() < 1e-9);
        assert_eq!(h.cumulative[1], 1, "0.2 s is at most 0.5 s");
    }
}
