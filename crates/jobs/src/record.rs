//! Job records as stored and read.

use crate::JobState;

/// Microseconds since the Unix epoch, now.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// What a new job is.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Its type, e.g. `SCHEMA CHANGE`, `BACKUP`; selects the [`crate::JobKind`].
    pub job_type: String,
    /// The tenant it belongs to.
    pub tenant_id: i64,
    /// The user that created it.
    pub owner: String,
    /// Whether the owner is an administrator (admins' jobs are controlled only by admins).
    pub owner_is_admin: bool,
    /// A one-line description.
    pub description: String,
    /// The statement that created it.
    pub statement: String,
    /// What the kind needs to know to do (and undo) the work.
    pub payload: serde_json::Value,
    /// Whether CANCEL may stop it.
    pub cancelable: bool,
    /// The job that spawned this one, if any.
    pub parent_job_id: Option<i64>,
}

/// A job's control row: small, read by every listing.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    /// 64-bit id, unique for the cluster's life.
    pub job_id: i64,
    /// Its type.
    pub job_type: String,
    /// Its tenant.
    pub tenant_id: i64,
    /// Its owner.
    pub owner: String,
    /// Whether the owner is an administrator.
    pub owner_is_admin: bool,
    /// Description.
    pub description: String,
    /// Statement.
    pub statement: String,
    /// State.
    pub state: JobState,
    /// Kind-specific phase name (e.g. `CLONE_SYS_CREATE_TENANT`).
    pub phase: String,
    /// 0.0 ..= 1.0.
    pub fraction_completed: f64,
    /// A human-readable status of the work.
    pub running_status: String,
    /// Whether CANCEL may stop it.
    pub cancelable: bool,
    /// Creation time (µs since the epoch).
    pub created: i64,
    /// When it first ran.
    pub started: Option<i64>,
    /// Last change.
    pub modified: i64,
    /// When it ended.
    pub finished: Option<i64>,
    /// The error code of a failure (or of a cancel: -4072).
    pub error_code: Option<i64>,
    /// The error message of a failure.
    pub error_message: Option<String>,
    /// A trace id for logs.
    pub trace_id: String,
    /// The parent job.
    pub parent_job_id: Option<i64>,
    /// The kind's payload.
    pub payload: serde_json::Value,
    /// The state a paused job returns to on RESUME (running or reverting).
    pub paused_from: Option<JobState>,
    /// The state a reverting job ends in (canceled or failed).
    pub revert_to: Option<JobState>,
    /// Fencing epoch: bumped whenever a run is abandoned or adopted, so late writes of an old run fail.
    pub epoch: i64,
}

/// A job's progress details, kept apart from the control row so that listings never read them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobProgress {
    /// The last checkpoint the work recorded, for resuming after a restart.
    pub checkpoint: Option<serde_json::Value>,
    /// Figures such as bytes or rows done and total.
    pub details: serde_json::Map<String, serde_json::Value>,
    /// When they were last written.
    pub updated: i64,
}

impl JobProgress {
    /// A whole-number figure (`rows_done`, `bytes_total`, ...), 0 if the work has not reported it.
    pub fn figure(&self, key: &str) -> i64 {
        self.details.get(key).and_then(|v| v.as_i64()).unwrap_or(0)
    }
}

/// One entry of a job's history: its state, phase and progress at a moment. An entry is written at every
/// state or phase change, and progress is sampled every few seconds while it moves.
#[derive(Debug, Clone, PartialEq)]
pub struct JobEvent {
    /// When (µs since the epoch).
    pub at: i64,
    /// The state then.
    pub state: JobState,
    /// The phase then.
    pub phase: String,
    /// The fraction done then.
    pub fraction_completed: f64,
    /// The running status then.
    pub running_status: String,
}
