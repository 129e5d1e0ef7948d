//! Waiting for a blocking call that has no cancellation point of its own (listing a destination, say) without
//! letting it hold a cancel back.

use std::time::Duration;

use tenantry_jobs::{JobContext, JobError};

/// How often the wait looks at the job's cancel.
const POLL: Duration = Duration::from_millis(2);

/// Runs `work` on its own thread and waits for it, returning [`JobError::Interrupted`] as soon as the job is
/// canceled or paused. The abandoned call finishes in the background; it must only read, or be harmless to
/// finish unobserved.
pub fn run_interruptibly<T: Send + 'static>(
    ctx: &JobContext,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, JobError> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("job-call".into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .map_err(|e| JobError::Retryable(e.to_string()))?;
    loop {
        match rx.recv_timeout(POLL) {
            Ok(value) => return Ok(value),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) if ctx.is_interrupted() => {
                return Err(JobError::Interrupted)
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(JobError::Retryable(
                    "a job's call ended without an answer".into(),
                ))
            }
        }
    }
}
