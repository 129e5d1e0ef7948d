//! Errors of the jobs layer.

/// How a job's work (or undo) ended, when it did not succeed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobError {
    /// The work stopped because its cancellation token fired (cancel, pause, shutdown, or it was fenced).
    #[error("job interrupted")]
    Interrupted,
    /// A transient failure: the work (or undo) is tried again after a back-off.
    #[error("{0}")]
    Retryable(String),
    /// The work ended without doing its job because what it stood for was canceled (say, a cluster backup
    /// whose tenants' backups were all canceled): the job reverts and ends canceled (-4072) with this message.
    #[error("{message}")]
    Canceled {
        /// Why, e.g. `backup of tenant 1002 ended canceled`.
        message: String,
    },
    /// A permanent failure: the job reverts and ends failed with this error.
    #[error("{message}")]
    Permanent {
        /// An error code to show (e.g. an OceanBase code, negative).
        code: i64,
        /// The message (truncated to 1024 characters when stored).
        message: String,
    },
}

/// Errors of registry operations (requests from users, storage failures).
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No job with that id (or none the caller may see).
    #[error("job with ID {0} does not exist")]
    NotFound(i64),
    /// A request that the job's state does not allow.
    #[error("job {id}: job with state {state} cannot be requested to be {verb}")]
    WrongState {
        /// The job.
        id: i64,
        /// Its state.
        state: crate::JobState,
        /// "canceled" or "paused".
        verb: &'static str,
    },
    /// RESUME of a job that is not paused.
    #[error("job {id}: job with state {state} cannot be resumed")]
    NotResumable {
        /// The job.
        id: i64,
        /// Its state.
        state: crate::JobState,
    },
    /// CANCEL of a job whose type cannot be canceled.
    #[error("job {0}: not cancelable")]
    NotCancelable(i64),
    /// A user that may not control (or view) the job.
    #[error("user {user} does not have privileges for job {id}")]
    NoPrivileges {
        /// The user.
        user: String,
        /// The job.
        id: i64,
    },
    /// A non-administrator asking to control a job an administrator owns.
    #[error("only admins can control jobs owned by other admins")]
    AdminOwned,
    /// A job that must be the only live one under a key (say, one backup per tenant) while another holds it.
    #[error("job {holder} holds {key}")]
    Conflict {
        /// The key.
        key: String,
        /// The live job holding it.
        holder: i64,
    },
    /// The caller's privileges could not be read.
    #[error("job privileges: {0}")]
    Accessor(String),
    /// Waiting was interrupted.
    #[error("waiting for job {0} was interrupted")]
    WaitInterrupted(i64),
    /// The job store failed.
    #[error("job store: {0}")]
    Store(#[from] rusqlite::Error),
    /// A thread of the store could not start.
    #[error("job store thread: {0}")]
    Thread(#[source] std::io::Error),
    /// A payload that is not JSON.
    #[error("job payload: {0}")]
    Payload(#[from] serde_json::Error),
}
