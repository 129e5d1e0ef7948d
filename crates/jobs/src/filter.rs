//! Which jobs a query wants: the store turns a [`JobFilter`] into one indexed query, so that listings never
//! load every job to filter them in memory.

use crate::{JobState, Scope};

/// The order of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Newest first (by creation, then id): what every listing shows.
    #[default]
    NewestFirst,
    /// Oldest first: the order work is started and recovered in.
    OldestFirst,
}

/// A query over jobs; every field left at its default matches everything.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only jobs the caller may see.
    pub scope: Scope,
    /// Only these ids.
    pub ids: Option<Vec<i64>>,
    /// Only this tenant's jobs.
    pub tenant_id: Option<i64>,
    /// Only jobs of this type (job types are upper case; the match ignores case).
    pub job_type: Option<String>,
    /// Only jobs in one of these states (all if empty).
    pub states: Vec<JobState>,
    /// Only jobs this user owns.
    pub owner: Option<String>,
    /// Only jobs created at or after this time (µs since the epoch).
    pub created_from: Option<i64>,
    /// Only jobs created before this time.
    pub created_before: Option<i64>,
    /// Only unfinished jobs and jobs finished at or after this time (SHOW JOBS's window).
    pub finished_since: Option<i64>,
    /// Only the children of this job.
    pub parent_job_id: Option<i64>,
    /// Only jobs whose id, type, owner or description contains every one of these words (ignoring case).
    pub words: Vec<String>,
    /// The order.
    pub order: Order,
    /// At most this many jobs.
    pub limit: Option<usize>,
    /// Skipping this many first.
    pub offset: usize,
}

impl JobFilter {
    /// Every job within `scope`.
    pub fn scoped(scope: Scope) -> Self {
        Self {
            scope,
            ..Default::default()
        }
    }

    /// Only jobs of this type.
    pub fn of_type(mut self, job_type: &str) -> Self {
        self.job_type = Some(job_type.to_string());
        self
    }

    /// Only this tenant's jobs.
    pub fn of_tenant(mut self, tenant_id: i64) -> Self {
        self.tenant_id = Some(tenant_id);
        self
    }

    /// Only jobs in these states.
    pub fn in_states(mut self, states: &[JobState]) -> Self {
        self.states = states.to_vec();
        self
    }

    /// Only unfinished jobs.
    pub fn unfinished(self) -> Self {
        let live: Vec<JobState> = JobState::ALL
            .into_iter()
            .filter(|s| !s.is_terminal())
            .collect();
        self.in_states(&live)
    }

    /// Only the children of `parent`.
    pub fn children_of(mut self, parent: i64) -> Self {
        self.parent_job_id = Some(parent);
        self
    }

    /// In this order.
    pub fn ordered(mut self, order: Order) -> Self {
        self.order = order;
        self
    }

    /// The same filter without its paging (for counts over every match).
    pub fn unpaged(&self) -> Self {
        Self {
            limit: None,
            offset: 0,
            ..self.clone()
        }
    }
}
