//! The job registry: durable job records, the state machine of CockroachDB's jobs (which OceanBase's views
//! also show), a runner with a concurrency limit, prompt cancellation, progress, restart recovery and retention.
//!
//! It knows nothing of SQL, tenants' data or backups: a job is a type name, an owner, a JSON payload and a
//! [`JobKind`] that knows how to do the work and how to undo it. The rules of who may see and control a job
//! ([`auth`]) and of what each request does in each state ([`rules`]) live here, so every front end applies
//! the same ones.

pub mod auth;
mod context;
mod error;
mod filter;
mod kind;
mod metrics;
pub mod ob_codes;
mod record;
mod registry;
pub mod rules;
mod state;
mod store;

pub use auth::{may_control, may_view, JobAccessor, JobPrivilege, Scope, System};
pub use context::JobContext;
pub use error::{JobError, RegistryError};
pub use filter::{JobFilter, Order};
pub use kind::JobKind;
pub use metrics::{Histogram, MetricsSnapshot, CANCEL_LATENCY_BUCKETS, DURATION_BUCKETS};
pub use record::{now_micros, JobEvent, JobProgress, JobRecord, NewJob};
pub use registry::{JobRegistry, RegistryConfig};
pub use rules::JobAction;
pub use state::JobState;
pub use store::{Changes, Claim, Creation, Decision, JobStore, ProgressWrite, SqliteStore};

impl From<NewJob> for Creation {
    fn from(job: NewJob) -> Self {
        Self {
            job,
            keys: Vec::new(),
        }
    }
}
