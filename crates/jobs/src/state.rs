//! Job states (CockroachDB's; what requests do to each is in [`crate::rules`]).

/// The state of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobState {
    /// Created, waiting for a free runner slot.
    Pending,
    /// Its work is running.
    Running,
    /// PAUSE was requested; the work is stopping.
    PauseRequested,
    /// Stopped by PAUSE; RESUME continues it.
    Paused,
    /// CANCEL was requested; the work is stopping.
    CancelRequested,
    /// Its undo is running (after a cancel or a permanent failure).
    Reverting,
    /// Done.
    Succeeded,
    /// Failed; its undo has finished.
    Failed,
    /// Canceled; its work stopped and its undo has finished.
    Canceled,
}

impl JobState {
    /// Every state.
    pub const ALL: [JobState; 9] = [
        JobState::Pending,
        JobState::Running,
        JobState::PauseRequested,
        JobState::Paused,
        JobState::CancelRequested,
        JobState::Reverting,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Canceled,
    ];

    /// CockroachDB's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::PauseRequested => "pause-requested",
            Self::Paused => "paused",
            Self::CancelRequested => "cancel-requested",
            Self::Reverting => "reverting",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
        }
    }

    /// Parses CockroachDB's name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether the job is over.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Canceled)
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
