//! Job kinds: the work (and its undo) behind each type of job. Each kind implements
//! [`tenantry_jobs::JobKind`]; the SQL layer creates jobs with a kind's payload.

pub mod backup;
pub mod backup_cleanup;
pub mod changefeed;
pub mod clone;
mod cut;
pub mod destination;
pub mod gate;
pub mod import;
mod interruptible;
pub mod keys;
pub mod restore;
pub mod schema_change;
pub mod tenant_snapshot;
mod throttle;

pub use throttle::Throttle;

/// The job type name of schema changes, as SHOW JOBS shows it.
pub const SCHEMA_CHANGE: &str = "SCHEMA CHANGE";
