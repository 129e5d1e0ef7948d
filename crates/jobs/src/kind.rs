//! What a kind of job implements.

use crate::{JobContext, JobError, JobRecord};

/// A kind of job: how to do its work and how to undo it.
///
/// Both halves run on a blocking thread. `run` must call [`JobContext::check`] between bounded units of work
/// (so a cancel stops it within one unit), report progress, and may resume from [`JobContext::checkpoint`].
/// `undo` must be idempotent: it may run again after a crash, after a partial earlier undo, or after the work
/// had in fact completed.
pub trait JobKind: Send + Sync + 'static {
    /// Does the work.
    fn run(&self, job: &JobRecord, ctx: &JobContext) -> Result<(), JobError>;
    /// Undoes whatever the work did, leaving everything as before the job.
    fn undo(&self, job: &JobRecord, ctx: &JobContext) -> Result<(), JobError>;
    /// Whether the work runs until it is stopped (a changefeed) rather than to an end: such jobs take no slot
    /// of the registry's concurrency limit, which would otherwise fill up with them.
    fn continuous(&self) -> bool {
        false
    }
}
