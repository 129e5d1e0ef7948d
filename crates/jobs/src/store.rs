//! Job rows in SQLite (the sys catalog's file): a small control row per job, progress details apart.
//! Every state change is a compare-and-set inside one transaction.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::record::now_micros;
use crate::{JobEvent, JobProgress, JobRecord, JobState, NewJob};

/// Progress samples closer together than this are not recorded in a job's history (state and phase
/// changes always are): a long job keeps a readable history without a row per second.
const SAMPLE_GAP_MICROS: i64 = 5_000_000;

/// Appends the job's current state, phase and progress to its history, unless `min_gap` is set and the
/// last entry is more recent than that.
fn record_event(
    conn: &Connection,
    id: i64,
    now: i64,
    min_gap: Option<i64>,
) -> rusqlite::Result<()> {
    match min_gap {
        None => conn.execute(
            "INSERT INTO job_events SELECT job_id, ?2, state, phase, fraction_completed, running_status FROM jobs WHERE job_id = ?1",
            params![id, now],
        )?,
        Some(gap) => conn.execute(
            "INSERT INTO job_events SELECT job_id, ?2, state, phase, fraction_completed, running_status FROM jobs WHERE job_id = ?1 \
             AND NOT EXISTS (SELECT 1 FROM job_events WHERE job_id = ?1 AND at > ?2 - ?3)",
            params![id, now, gap],
        )?,
    };
    Ok(())
}

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS jobs (
    job_id INTEGER PRIMARY KEY,
    job_type TEXT NOT NULL,
    tenant_id INTEGER NOT NULL,
    owner TEXT NOT NULL,
    owner_is_admin INTEGER NOT NULL,
    description TEXT NOT NULL,
    statement TEXT NOT NULL,
    state TEXT NOT NULL,
    phase TEXT NOT NULL DEFAULT '',
    fraction_completed REAL NOT NULL DEFAULT 0,
    running_status TEXT NOT NULL DEFAULT '',
    cancelable INTEGER NOT NULL,
    created INTEGER NOT NULL,
    started INTEGER,
    modified INTEGER NOT NULL,
    finished INTEGER,
    error_code INTEGER,
    error_message TEXT,
    trace_id TEXT NOT NULL,
    parent_job_id INTEGER,
    payload TEXT NOT NULL,
    paused_from TEXT,
    revert_to TEXT,
    epoch INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, created);
CREATE TABLE IF NOT EXISTS job_events (
    job_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    state TEXT NOT NULL,
    phase TEXT NOT NULL,
    fraction_completed REAL NOT NULL,
    running_status TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS job_events_by_job ON job_events (job_id, at);
CREATE TABLE IF NOT EXISTS job_progress (
    job_id INTEGER PRIMARY KEY,
    checkpoint TEXT,
    details TEXT NOT NULL DEFAULT '{}',
    updated INTEGER NOT NULL
);
"#;

const COLUMNS: &str = "job_id, job_type, tenant_id, owner, owner_is_admin, description, statement, state, phase, \
    fraction_completed, running_status, cancelable, created, started, modified, finished, error_code, error_message, \
    trace_id, parent_job_id, payload, paused_from, revert_to, epoch";

/// The longest error message kept, as CockroachDB does.
const MAX_ERROR_LEN: usize = 1024;

/// Access to the job tables. Transactions start IMMEDIATE: the catalog writes the same file through another
/// connection, and a deferred transaction that read first could not upgrade to a write after its commit.
pub struct Store {
    conn: Connection,
    last_id: i64,
}

/// Changes applied together with a state transition.
#[derive(Default)]
pub struct Changes {
    pub error: Option<(i64, String)>,
    pub finished: bool,
    pub started: bool,
    pub fraction: Option<f64>,
    pub paused_from: Option<Option<JobState>>,
    pub revert_to: Option<Option<JobState>>,
}

fn record(r: &Row) -> rusqlite::Result<JobRecord> {
    let state: String = r.get(7)?;
    let payload: String = r.get(20)?;
    let paused_from: Option<String> = r.get(21)?;
    let revert_to: Option<String> = r.get(22)?;
    Ok(JobRecord {
        job_id: r.get(0)?,
        job_type: r.get(1)?,
        tenant_id: r.get(2)?,
        owner: r.get(3)?,
        owner_is_admin: r.get(4)?,
        description: r.get(5)?,
        statement: r.get(6)?,
        state: JobState::parse(&state).unwrap_or(JobState::Failed),
        phase: r.get(8)?,
        fraction_completed: r.get(9)?,
        running_status: r.get(10)?,
        cancelable: r.get(11)?,
        created: r.get(12)?,
        started: r.get(13)?,
        modified: r.get(14)?,
        finished: r.get(15)?,
        error_code: r.get(16)?,
        error_message: r.get(17)?,
        trace_id: r.get(18)?,
        parent_job_id: r.get(19)?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        paused_from: paused_from.as_deref().and_then(JobState::parse),
        revert_to: revert_to.as_deref().and_then(JobState::parse),
        epoch: r.get(23)?,
    })
}

impl Store {
    /// Opens the job tables in the SQLite file at `path`, creating them if needed.
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
        // A cancel is acknowledged only once it is on disk.
        conn.execute_batch("PRAGMA synchronous = FULL;")?;
        conn.execute_batch(SCHEMA)?;
        let last_id = conn.query_row("SELECT coalesce(max(job_id), 0) FROM jobs", [], |r| {
            r.get(0)
        })?;
        Ok(Self { conn, last_id })
    }

    /// A new id: the time in nanoseconds-like units, strictly increasing (CockroachDB's ids look alike).
    fn next_id(&mut self) -> i64 {
        let candidate = now_micros().saturating_mul(1000);
        self.last_id = candidate.max(self.last_id + 1);
        self.last_id
    }

    /// Inserts a pending job.
    pub fn create(&mut self, new: &NewJob) -> rusqlite::Result<JobRecord> {
        let id = self.next_id();
        let now = now_micros();
        let trace_id = format!("YB{:012X}-{:016X}-0-0", id as u64 >> 20, id as u64);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            &format!("INSERT INTO jobs ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', '', 0, '', ?8, ?9, NULL, ?9, NULL, NULL, NULL, ?10, ?11, ?12, NULL, NULL, 0)"),
            params![id, new.job_type, new.tenant_id, new.owner, new.owner_is_admin, new.description, new.statement, new.cancelable, now, trace_id, new.parent_job_id, new.payload.to_string()],
        )?;
        tx.execute(
            "INSERT INTO job_progress (job_id, updated) VALUES (?1, ?2)",
            params![id, now],
        )?;
        record_event(&tx, id, now, None)?;
        let rec = tx.query_row(
            &format!("SELECT {COLUMNS} FROM jobs WHERE job_id = ?1"),
            [id],
            record,
        )?;
        tx.commit()?;
        Ok(rec)
    }

    /// One job.
    pub fn get(&self, id: i64) -> rusqlite::Result<Option<JobRecord>> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM jobs WHERE job_id = ?1"),
                [id],
                record,
            )
            .optional()
    }

    /// Every job, newest first.
    pub fn list(&self) -> rusqlite::Result<Vec<JobRecord>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM jobs ORDER BY created DESC, job_id DESC"
        ))?;
        let rows = stmt.query_map([], record)?;
        rows.collect()
    }

    /// Jobs in any of these states, oldest first.
    pub fn in_states(&self, states: &[JobState]) -> rusqlite::Result<Vec<JobRecord>> {
        let list = states
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(",");
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM jobs WHERE state IN ({list}) ORDER BY created, job_id"
        ))?;
        let rows = stmt.query_map([], record)?;
        rows.collect()
    }

    /// Moves a job from one of `from` to `to` with `changes`, atomically. `None` if it was in another state.
    pub fn transition(
        &mut self,
        id: i64,
        from: &[JobState],
        to: JobState,
        changes: Changes,
    ) -> rusqlite::Result<Option<JobRecord>> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let Some(current) = tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM jobs WHERE job_id = ?1"),
                [id],
                record,
            )
            .optional()?
        else {
            return Ok(None);
        };
        if !from.contains(&current.state) {
            return Ok(None);
        }
        let now = now_micros();
        tx.execute(
            "UPDATE jobs SET state = ?2, modified = ?3 WHERE job_id = ?1",
            params![id, to.as_str(), now],
        )?;
        if let Some((code, message)) = &changes.error {
            let message: String = message.chars().take(MAX_ERROR_LEN).collect();
            tx.execute(
                "UPDATE jobs SET error_code = ?2, error_message = ?3 WHERE job_id = ?1",
                params![id, code, message],
            )?;
        }
        if changes.finished {
            tx.execute(
                "UPDATE jobs SET finished = ?2 WHERE job_id = ?1",
                params![id, now],
            )?;
        }
        if changes.started {
            tx.execute(
                "UPDATE jobs SET started = coalesce(started, ?2) WHERE job_id = ?1",
                params![id, now],
            )?;
        }
        if let Some(f) = changes.fraction {
            tx.execute(
                "UPDATE jobs SET fraction_completed = ?2 WHERE job_id = ?1",
                params![id, f],
            )?;
        }
        if let Some(p) = changes.paused_from {
            tx.execute(
                "UPDATE jobs SET paused_from = ?2 WHERE job_id = ?1",
                params![id, p.map(JobState::as_str)],
            )?;
        }
        if let Some(r) = changes.revert_to {
            tx.execute(
                "UPDATE jobs SET revert_to = ?2 WHERE job_id = ?1",
                params![id, r.map(JobState::as_str)],
            )?;
        }
        record_event(&tx, id, now, None)?;
        let rec = tx.query_row(
            &format!("SELECT {COLUMNS} FROM jobs WHERE job_id = ?1"),
            [id],
            record,
        )?;
        tx.commit()?;
        Ok(Some(rec))
    }

    /// Bumps a job's epoch, fencing off every write of runs started before; returns the new epoch.
    pub fn bump_epoch(&mut self, id: i64) -> rusqlite::Result<i64> {
        self.conn.query_row(
            "UPDATE jobs SET epoch = epoch + 1 WHERE job_id = ?1 RETURNING epoch",
            [id],
            |r| r.get(0),
        )
    }

    /// Writes progress if `epoch` is still the job's; false when fenced.
    pub fn write_progress(
        &mut self,
        id: i64,
        epoch: i64,
        fraction: f64,
        running_status: &str,
        details: &serde_json::Map<String, serde_json::Value>,
        checkpoint: Option<&serde_json::Value>,
    ) -> rusqlite::Result<bool> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let now = now_micros();
        let n = tx.execute(
            "UPDATE jobs SET fraction_completed = ?3, running_status = ?4, modified = ?5 WHERE job_id = ?1 AND epoch = ?2",
            params![id, epoch, fraction, running_status, now],
        )?;
        if n == 0 {
            return Ok(false);
        }
        tx.execute(
            "UPDATE job_progress SET details = ?2, checkpoint = coalesce(?3, checkpoint), updated = ?4 WHERE job_id = ?1",
            params![id, serde_json::Value::Object(details.clone()).to_string(), checkpoint.map(|c| c.to_string()), now],
        )?;
        record_event(&tx, id, now, Some(SAMPLE_GAP_MICROS))?;
        tx.commit()?;
        Ok(true)
    }

    /// Sets a job's phase if `epoch` is still the job's; false when fenced.
    pub fn write_phase(&mut self, id: i64, epoch: i64, phase: &str) -> rusqlite::Result<bool> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let now = now_micros();
        let n = tx.execute(
            "UPDATE jobs SET phase = ?3, modified = ?4 WHERE job_id = ?1 AND epoch = ?2",
            params![id, epoch, phase, now],
        )?;
        if n > 0 {
            record_event(&tx, id, now, None)?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    /// A job's history, oldest first.
    pub fn events(&self, id: i64) -> rusqlite::Result<Vec<JobEvent>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, state, phase, fraction_completed, running_status FROM job_events WHERE job_id = ?1 ORDER BY at, rowid",
        )?;
        let rows = stmt.query_map([id], |r| {
            let state: String = r.get(1)?;
            Ok(JobEvent {
                at: r.get(0)?,
                state: JobState::parse(&state).unwrap_or(JobState::Failed),
                phase: r.get(2)?,
                fraction_completed: r.get(3)?,
                running_status: r.get(4)?,
            })
        })?;
        rows.collect()
    }

    /// Whether `epoch` is still the job's.
    pub fn epoch_is(&self, id: i64, epoch: i64) -> rusqlite::Result<bool> {
        let current: Option<i64> = self
            .conn
            .query_row("SELECT epoch FROM jobs WHERE job_id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(current == Some(epoch))
    }

    /// A job's progress details.
    pub fn progress(&self, id: i64) -> rusqlite::Result<Option<JobProgress>> {
        self.conn
            .query_row(
                "SELECT checkpoint, details, updated FROM job_progress WHERE job_id = ?1",
                [id],
                |r| {
                    let checkpoint: Option<String> = r.get(0)?;
                    let details: String = r.get(1)?;
                    Ok(JobProgress {
                        checkpoint: checkpoint.and_then(|c| serde_json::from_str(&c).ok()),
                        details: serde_json::from_str(&details).unwrap_or_default(),
                        updated: r.get(2)?,
                    })
                },
            )
            .optional()
    }

    /// Removes jobs that finished before `cutoff`; returns how many.
    pub fn delete_finished_before(&mut self, cutoff: i64) -> rusqlite::Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "DELETE FROM job_progress WHERE job_id IN (SELECT job_id FROM jobs WHERE finished IS NOT NULL AND finished < ?1)",
            [cutoff],
        )?;
        tx.execute(
            "DELETE FROM job_events WHERE job_id IN (SELECT job_id FROM jobs WHERE finished IS NOT NULL AND finished < ?1)",
            [cutoff],
        )?;
        let n = tx.execute(
            "DELETE FROM jobs WHERE finished IS NOT NULL AND finished < ?1",
            [cutoff],
        )?;
        tx.commit()?;
        Ok(n)
    }
}
