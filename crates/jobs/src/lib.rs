//! The job registry: durable job records, the state machine of CockroachDB's jobs (which OceanBase's views
//! also show), a runner with a concurrency limit, prompt cancellation, progress, restart recovery and retention.
//!
//! It knows nothing of SQL, tenants' data or backups: a job is a type name, an owner, a JSON payload and a
//! [`JobKind`] that knows how to do the work and how to undo it.

mod context;
mod error;
mod kind;
mod metrics;
mod record;
mod registry;
mod state;
mod store;

pub use context::JobContext;
pub use error::{JobError, RegistryError};
pub use kind::JobKind;
pub use metrics::{Histogram, MetricsSnapshot, CANCEL_LATENCY_BUCKETS};
pub use record::{now_micros, JobEvent, JobProgress, JobRecord, NewJob};
pub use registry::{JobRegistry, RegistryConfig};
pub use state::JobState;
