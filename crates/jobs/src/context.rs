//! What a running job's work sees: its cancellation signal, progress reporting, checkpoints and fencing.

use std::sync::Arc;

use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;

use crate::registry::Shared;
use crate::store::ProgressWrite;
use crate::JobError;

/// Progress reported by the work, flushed to the store by the runner at most once a second.
#[derive(Debug, Default, Clone)]
pub(crate) struct ProgressCell {
    pub fraction: f64,
    pub running_status: String,
    pub details: serde_json::Map<String, serde_json::Value>,
    pub checkpoint: Option<serde_json::Value>,
    pub dirty: bool,
}

/// The handle a [`crate::JobKind`] gets for one run (or undo) of a job. Clones share everything.
#[derive(Clone)]
pub struct JobContext {
    job_id: i64,
    epoch: i64,
    token: CancellationToken,
    shared: Arc<Shared>,
    pub(crate) progress: Arc<Mutex<ProgressCell>>,
    resume_from: Option<serde_json::Value>,
    job_type: String,
}

impl JobContext {
    pub(crate) fn new(
        job_id: i64,
        epoch: i64,
        token: CancellationToken,
        shared: Arc<Shared>,
        resume_from: Option<serde_json::Value>,
        job_type: String,
    ) -> Self {
        Self {
            job_id,
            epoch,
            token,
            shared,
            progress: Arc::new(Mutex::new(ProgressCell::default())),
            resume_from,
            job_type,
        }
    }

    /// Counts bytes the work moved (read, copied or written in bulk), for the server's metrics.
    pub fn add_bytes_moved(&self, n: u64) {
        self.shared.metrics.add_bytes(&self.job_type, n);
    }

    /// The job's id.
    pub fn job_id(&self) -> i64 {
        self.job_id
    }

    /// Whether the work must stop (cancel or pause requested, shutdown, or this run was abandoned).
    pub fn is_interrupted(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Returns [`JobError::Interrupted`] if the work must stop: call it between bounded units of work.
    pub fn check(&self) -> Result<(), JobError> {
        if self.token.is_cancelled() {
            Err(JobError::Interrupted)
        } else {
            Ok(())
        }
    }

    /// The cancellation token, for work that waits on I/O and can watch it directly.
    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    /// Reports progress: a fraction in 0..=1 and a status line. Cheap; written out at most once a second.
    pub fn set_progress(&self, fraction: f64, running_status: impl Into<String>) {
        let mut p = self.progress.lock();
        p.fraction = fraction.clamp(0.0, 1.0);
        p.running_status = running_status.into();
        p.dirty = true;
    }

    /// Sets one progress figure (e.g. `rows_done`, `bytes_total`).
    pub fn set_detail(&self, key: &str, value: impl Into<serde_json::Value>) {
        let mut p = self.progress.lock();
        p.details.insert(key.to_string(), value.into());
        p.dirty = true;
    }

    /// Records a checkpoint to resume from after a restart; written out with the progress.
    pub fn checkpoint(&self, value: serde_json::Value) {
        let mut p = self.progress.lock();
        p.checkpoint = Some(value);
        p.dirty = true;
    }

    /// The checkpoint of an earlier run of this job, if any.
    pub fn resume_from(&self) -> Option<&serde_json::Value> {
        self.resume_from.as_ref()
    }

    /// Sets the job's phase now (durably). Fails with [`JobError::Interrupted`] if this run was fenced off.
    pub fn set_phase(&self, phase: &str) -> Result<(), JobError> {
        let store = self.shared.store.as_ref();
        // Figures reported during the step just ended are written before the new phase, so a reader that sees the
        // phase also sees them (written after, a view read in between showed the phase with the figures missing).
        let pending = {
            let mut p = self.progress.lock();
            let dirty = std::mem::take(&mut p.dirty);
            dirty.then(|| p.clone())
        };
        if let Some(p) = pending {
            store
                .write_progress(
                    self.job_id,
                    self.epoch,
                    &ProgressWrite {
                        fraction: p.fraction,
                        running_status: &p.running_status,
                        details: &p.details,
                        checkpoint: p.checkpoint.as_ref(),
                    },
                )
                .map_err(|e| JobError::Retryable(e.to_string()))?;
        }
        match store.write_phase(self.job_id, self.epoch, phase) {
            Ok(true) => {}
            Ok(false) => return Err(JobError::Interrupted),
            Err(e) => return Err(JobError::Retryable(e.to_string())),
        }
        Ok(())
    }

    /// Commits the work and marks the job succeeded as one step, as far as requests can tell: `commit` runs
    /// only if this run still owns the job and it is still `running`, and the job becomes `succeeded` right
    /// after. Meanwhile the job is marked committing: requests for this job wait until the commit is over,
    /// and nothing else does (the registry's state lock is not held while `commit` runs, so other jobs'
    /// requests, progress and listings go on). A cancel or pause therefore lands either before the commit
    /// (the work rolls back; nothing to undo) or after the job succeeded (and is refused). Returns
    /// [`JobError::Interrupted`] if the job was not ours to finish, or the error of `commit`.
    pub fn finish(&self, commit: impl FnOnce() -> Result<(), JobError>) -> Result<(), JobError> {
        let shared = &self.shared;
        {
            let _state = shared.state.lock();
            let current = shared
                .store
                .get(self.job_id)
                .map_err(|e| JobError::Retryable(e.to_string()))?;
            match current {
                Some(rec)
                    if rec.epoch == self.epoch
                        && rec.state == crate::JobState::Running
                        && !self.token.is_cancelled() => {}
                _ => return Err(JobError::Interrupted),
            }
            shared.committing.lock().insert(self.job_id);
        }
        let committed = commit();
        let result = {
            let _state = shared.state.lock();
            let ended = match committed {
                Ok(()) => shared
                    .store
                    .succeed(self.job_id, self.epoch)
                    .map_err(|e| JobError::Retryable(e.to_string()))
                    .and_then(|r| r.ok_or(JobError::Interrupted)),
                Err(e) => Err(e),
            };
            shared.committing.lock().remove(&self.job_id);
            ended
        };
        shared.committed.notify_all();
        let rec = result?;
        shared.metrics.job_ended(&rec);
        Ok(())
    }

    /// Whether this run still owns the job. Work checks it, under its own write lock, before committing
    /// anything a later undo could not see coming: a run that was abandoned must not land late writes.
    pub fn still_owner(&self) -> bool {
        !self.token.is_cancelled()
            && self
                .shared
                .store
                .claim_of(self.job_id)
                .ok()
                .flatten()
                .is_some_and(|c| c.epoch == self.epoch)
    }
}
