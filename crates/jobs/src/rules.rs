//! The one table of what CANCEL, PAUSE and RESUME do to a job in each state (CockroachDB's rules, from its
//! `pkg/jobs/update.go`): a no-op, a move to a new state, or a refusal with its exact text. Every front end
//! reaches it through [`crate::JobRegistry::control`]; nothing else decides whether a request is allowed.

use crate::{JobRecord, JobState, RegistryError};

/// A request a user makes of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobAction {
    /// CANCEL JOB: stop the work and undo it.
    Cancel,
    /// PAUSE JOB: stop the work (or the undo) until RESUME.
    Pause,
    /// RESUME JOB: continue a paused job.
    Resume,
}

impl JobAction {
    /// The statement's verb, upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cancel => "CANCEL",
            Self::Pause => "PAUSE",
            Self::Resume => "RESUME",
        }
    }
}

/// Why a request is refused; [`Refusal::error`] gives the exact error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `job with state S cannot be requested to be canceled|paused`, naming the job's state.
    WrongState,
    /// The same text naming `reverting`: a job paused while reverting is still undoing, and CANCEL does not
    /// apply to an undo.
    StillReverting,
    /// `job with state S cannot be resumed`.
    NotResumable,
}

impl Refusal {
    /// The error for `rec`.
    pub fn error(self, action: JobAction, rec: &JobRecord) -> RegistryError {
        let id = rec.job_id;
        let verb = if action == JobAction::Cancel {
            "canceled"
        } else {
            "paused"
        };
        match self {
            Self::WrongState => RegistryError::WrongState {
                id,
                state: rec.state,
                verb,
            },
            Self::StillReverting => RegistryError::WrongState {
                id,
                state: JobState::Reverting,
                verb,
            },
            Self::NotResumable => RegistryError::NotResumable {
                id,
                state: rec.state,
            },
        }
    }
}

/// What a request does to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The job already is where the request would take it: nothing changes, and the request succeeds.
    NoOp,
    /// The job moves: to `live` when its work (or undo) runs in this process and is signalled to stop, to
    /// `idle` when nothing runs for it.
    Move {
        /// The new state while a run is live.
        live: JobState,
        /// The new state when no run is live.
        idle: JobState,
    },
    /// The request fails and nothing changes.
    Refuse(Refusal),
}

/// One row of the table: `action` on a job in `state` (and, for paused and pause-requested jobs, whether it
/// was reverting when paused) has `outcome`.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The request.
    pub action: JobAction,
    /// The job's state.
    pub state: JobState,
    /// Only for paused and pause-requested jobs: whether the pause stopped an undo (false elsewhere).
    pub reverting: bool,
    /// What happens.
    pub outcome: Outcome,
}

const fn rule(action: JobAction, state: JobState, reverting: bool, outcome: Outcome) -> Rule {
    Rule {
        action,
        state,
        reverting,
        outcome,
    }
}

const fn to(live: JobState, idle: JobState) -> Outcome {
    Outcome::Move { live, idle }
}

use JobAction::{Cancel, Pause, Resume};
use JobState::{
    CancelRequested, Canceled, Failed, PauseRequested, Paused, Pending, Reverting, Running,
    Succeeded,
};
use Outcome::{NoOp, Refuse};
use Refusal::{NotResumable, StillReverting, WrongState};

/// Every (action, state) pair, once; paused and pause-requested states twice (paused from the work, paused
/// from the undo). A cancel moves a job whose work is live to cancel-requested (the work stops, then the undo
/// runs); with nothing live it starts reverting at once.
pub const TRANSITIONS: &[Rule] = &[
    rule(Cancel, Pending, false, to(Reverting, Reverting)),
    rule(Cancel, Running, false, to(CancelRequested, Reverting)),
    rule(
        Cancel,
        PauseRequested,
        false,
        to(CancelRequested, Reverting),
    ),
    rule(Cancel, PauseRequested, true, Refuse(StillReverting)),
    rule(Cancel, Paused, false, to(Reverting, Reverting)),
    rule(Cancel, Paused, true, Refuse(StillReverting)),
    rule(Cancel, CancelRequested, false, NoOp),
    rule(Cancel, Reverting, false, Refuse(WrongState)),
    rule(Cancel, Succeeded, false, Refuse(WrongState)),
    rule(Cancel, Failed, false, Refuse(WrongState)),
    rule(Cancel, Canceled, false, NoOp),
    rule(Pause, Pending, false, to(Paused, Paused)),
    rule(Pause, Running, false, to(PauseRequested, Paused)),
    rule(Pause, PauseRequested, false, NoOp),
    rule(Pause, PauseRequested, true, NoOp),
    rule(Pause, Paused, false, NoOp),
    rule(Pause, Paused, true, NoOp),
    rule(Pause, CancelRequested, false, Refuse(WrongState)),
    rule(Pause, Reverting, false, to(PauseRequested, Paused)),
    rule(Pause, Succeeded, false, Refuse(WrongState)),
    rule(Pause, Failed, false, Refuse(WrongState)),
    rule(Pause, Canceled, false, Refuse(WrongState)),
    rule(Resume, Pending, false, NoOp),
    rule(Resume, Running, false, NoOp),
    rule(Resume, PauseRequested, false, Refuse(NotResumable)),
    rule(Resume, PauseRequested, true, Refuse(NotResumable)),
    rule(Resume, Paused, false, to(Pending, Pending)),
    rule(Resume, Paused, true, to(Reverting, Reverting)),
    rule(Resume, CancelRequested, false, Refuse(NotResumable)),
    rule(Resume, Reverting, false, Refuse(NotResumable)),
    rule(Resume, Succeeded, false, Refuse(NotResumable)),
    rule(Resume, Failed, false, Refuse(NotResumable)),
    rule(Resume, Canceled, false, Refuse(NotResumable)),
];

/// Whether a paused or pause-requested job was stopped while reverting (false for other states).
pub fn paused_while_reverting(rec: &JobRecord) -> bool {
    matches!(rec.state, PauseRequested | Paused) && rec.paused_from == Some(Reverting)
}

/// What `action` does to `rec`, by [`TRANSITIONS`]. CANCEL of a job whose type cannot be canceled is refused
/// (unless it is a no-op), before the table is asked.
pub fn outcome(action: JobAction, rec: &JobRecord) -> Result<Outcome, RegistryError> {
    let reverting = paused_while_reverting(rec);
    let found = TRANSITIONS
        .iter()
        .find(|r| r.action == action && r.state == rec.state && r.reverting == reverting)
        .map(|r| r.outcome)
        // The table covers every pair; a missing row would be a bug, and refusing is the safe answer.
        .unwrap_or(Refuse(WrongState));
    if action == Cancel && !rec.cancelable && found != NoOp {
        return Err(RegistryError::NotCancelable(rec.job_id));
    }
    Ok(found)
}

/// The actions the job's state allows now (ignoring who asks): what a console offers as buttons.
pub fn allowed_actions(rec: &JobRecord) -> Vec<JobAction> {
    [Cancel, Pause, Resume]
        .into_iter()
        .filter(|a| matches!(outcome(*a, rec), Ok(Outcome::Move { .. })))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_covers_every_pair_once() {
        for action in [Cancel, Pause, Resume] {
            for state in JobState::ALL {
                let variants: &[bool] = if matches!(state, Paused | PauseRequested) {
                    &[false, true]
                } else {
                    &[false]
                };
                for &reverting in variants {
                    let n = TRANSITIONS
                        .iter()
                        .filter(|r| {
                            r.action == action && r.state == state && r.reverting == reverting
                        })
                        .count();
                    assert_eq!(n, 1, "{action:?} on {state} (reverting: {reverting})");
                }
            }
        }
        assert_eq!(TRANSITIONS.len(), 3 * 9 + 3 * 2);
    }

    #[test]
    fn moves_never_land_in_a_terminal_state() {
        for r in TRANSITIONS {
            if let Outcome::Move { live, idle } = r.outcome {
                assert!(!live.is_terminal() && !idle.is_terminal(), "{r:?}");
            }
        }
    }
}
