//! Where job rows live. [`JobStore`] is what the registry needs of a store; [`SqliteStore`] keeps the rows in
//! the sys catalog's SQLite file: a small control row per job, progress details and history apart, and the
//! exclusive keys of live jobs. Every state change is a compare-and-set inside one transaction, so a later
//! store shared by several nodes can serve the same registry without touching the job kinds.

use std::path::Path;

use parking_lot::Mutex;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use crate::filter::{JobFilter, Order};
use crate::record::now_micros;
use crate::{JobEvent, JobProgress, JobRecord, JobState, NewJob, RegistryError, Scope};

/// Progress samples closer together than this are not recorded in a job's history (state and phase
/// changes always are): a long job keeps a readable history without a row per second.
const SAMPLE_GAP_MICROS: i64 = 5_000_000;

/// The longest error message kept, as CockroachDB does.
const MAX_ERROR_LEN: usize = 1024;

/// Changes applied together with a state transition.
#[derive(Debug, Default, Clone)]
pub struct Changes {
    /// An error code and message to record.
    pub error: Option<(i64, String)>,
    /// Set `finished` to now.
    pub finished: bool,
    /// Set `started` to now unless it is set.
    pub started: bool,
    /// A new fraction completed.
    pub fraction: Option<f64>,
    /// A new `paused_from` (`Some(None)` clears it).
    pub paused_from: Option<Option<JobState>>,
    /// A new `revert_to` (`Some(None)` clears it).
    pub revert_to: Option<Option<JobState>>,
}

/// A job to create, with the keys no other live job may hold meanwhile.
#[derive(Debug, Clone)]
pub struct Creation {
    /// The job.
    pub job: NewJob,
    /// Its exclusive keys (e.g. `BACKUP/tenant/1002`): refused while a live job holds any of them.
    pub keys: Vec<String>,
}

/// What a decision over a set of jobs does to one of them: nothing, or a move with changes.
pub type Decision = Option<(JobState, Changes)>;

/// A job's claim: which node runs it, under which epoch, until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// The node.
    pub node: i64,
    /// The epoch the run writes under (every write of an older epoch fails).
    pub epoch: i64,
    /// When the claim lapses unless renewed (µs since the epoch).
    pub lease_expires: i64,
}

/// What the registry needs of a job store. Every method is one atomic step.
pub trait JobStore: Send + Sync {
    /// Creates jobs in one transaction. With `family`, the first is the parent of the others. Refused with
    /// [`RegistryError::Conflict`] (creating nothing) if a live job holds one of the keys.
    fn create(&self, jobs: Vec<Creation>, family: bool) -> Result<Vec<JobRecord>, RegistryError>;
    /// One job.
    fn get(&self, id: i64) -> Result<Option<JobRecord>, RegistryError>;
    /// The jobs a filter selects, in its order and page.
    fn query(&self, filter: &JobFilter) -> Result<Vec<JobRecord>, RegistryError>;
    /// The same with each job's progress, in one query.
    fn query_with_progress(
        &self,
        filter: &JobFilter,
    ) -> Result<Vec<(JobRecord, JobProgress)>, RegistryError>;
    /// How many jobs a filter selects (ignoring its page), by type and state.
    fn count(&self, filter: &JobFilter) -> Result<Vec<(String, JobState, u64)>, RegistryError>;
    /// The distinct tenants of the jobs a filter selects.
    fn tenants(&self, filter: &JobFilter) -> Result<Vec<i64>, RegistryError>;
    /// Moves a job from one of `from` to `to` with `changes`, atomically. `None` if it was in another state.
    fn transition(
        &self,
        id: i64,
        from: &[JobState],
        to: JobState,
        changes: Changes,
    ) -> Result<Option<JobRecord>, RegistryError>;
    /// Reads every job of `ids` and applies `decide` to each inside one transaction: if any decision fails,
    /// nothing changes. Returns each job as it was and, if it moved, as it is now. An id that does not
    /// exist fails with [`RegistryError::NotFound`].
    fn update_many(
        &self,
        ids: &[i64],
        decide: &mut dyn FnMut(&JobRecord) -> Result<Decision, RegistryError>,
    ) -> Result<Vec<(JobRecord, Option<JobRecord>)>, RegistryError>;
    /// Claims a job for a run on `node` until `lease_expires`: bumps its epoch (fencing off every earlier run)
    /// and returns the claim.
    fn claim(&self, id: i64, node: i64, lease_expires: i64) -> Result<Claim, RegistryError>;
    /// Bumps a job's epoch without a new claim: the run it had is abandoned.
    fn fence(&self, id: i64) -> Result<(), RegistryError>;
    /// Extends a claim if it still holds; false when fenced.
    fn renew(&self, id: i64, epoch: i64, lease_expires: i64) -> Result<bool, RegistryError>;
    /// The job's current claim, if it has one.
    fn claim_of(&self, id: i64) -> Result<Option<Claim>, RegistryError>;
    /// Writes progress if `epoch` is still the job's; false when fenced.
    fn write_progress(
        &self,
        id: i64,
        epoch: i64,
        progress: &ProgressWrite<'_>,
    ) -> Result<bool, RegistryError>;
    /// Sets a job's phase if `epoch` is still the job's; false when fenced.
    fn write_phase(&self, id: i64, epoch: i64, phase: &str) -> Result<bool, RegistryError>;
    /// Moves a running job to succeeded if `epoch` is still the job's (the end of [`crate::JobContext::finish`]).
    fn succeed(&self, id: i64, epoch: i64) -> Result<Option<JobRecord>, RegistryError>;
    /// A job's history, oldest first.
    fn events(&self, id: i64) -> Result<Vec<JobEvent>, RegistryError>;
    /// A job's progress details.
    fn progress(&self, id: i64) -> Result<Option<JobProgress>, RegistryError>;
    /// Removes up to `batch` jobs that finished before `cutoff`; returns how many.
    fn delete_finished_before(&self, cutoff: i64, batch: usize) -> Result<usize, RegistryError>;
}

/// Progress to write.
pub struct ProgressWrite<'a> {
    /// Fraction done.
    pub fraction: f64,
    /// Status line.
    pub running_status: &'a str,
    /// Figures.
    pub details: &'a serde_json::Map<String, serde_json::Value>,
    /// A checkpoint, if one was recorded.
    pub checkpoint: Option<&'a serde_json::Value>,
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
CREATE TABLE IF NOT EXISTS job_locks (
    lock_key TEXT PRIMARY KEY,
    job_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS job_locks_by_job ON job_locks (job_id);
"#;

/// Columns added after the first release, with their definitions (added to older files at open).
const ADDED_COLUMNS: &[(&str, &str)] = &[("claim_node", "INTEGER"), ("lease_expires", "INTEGER")];

/// The indexes every filter is served by (created after the columns they name exist).
const INDEXES: &str = r#"
CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs (created, job_id);
CREATE INDEX IF NOT EXISTS jobs_by_tenant ON jobs (tenant_id, created, job_id);
CREATE INDEX IF NOT EXISTS jobs_by_type ON jobs (job_type, created, job_id);
CREATE INDEX IF NOT EXISTS jobs_by_tenant_type ON jobs (tenant_id, job_type, created, job_id);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (owner, created, job_id);
CREATE INDEX IF NOT EXISTS jobs_by_parent ON jobs (parent_job_id) WHERE parent_job_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_by_finished ON jobs (finished);
"#;

/// How many jobs there are per tenant, type, state and owner, kept by triggers in the transaction of every
/// change to `jobs` (whoever writes the row), so that the counts a listing shows around its page cost the
/// number of groups, not the number of jobs. Created and filled from `jobs` when missing.
const COUNTS: &str = r#"
CREATE TABLE job_counts (
    tenant_id INTEGER NOT NULL,
    job_type TEXT NOT NULL,
    state TEXT NOT NULL,
    owner TEXT NOT NULL,
    owner_is_admin INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, job_type, state, owner, owner_is_admin)
) WITHOUT ROWID;
INSERT INTO job_counts
    SELECT tenant_id, job_type, state, owner, owner_is_admin, count(*) FROM jobs
    GROUP BY tenant_id, job_type, state, owner, owner_is_admin;
CREATE TRIGGER job_counts_insert AFTER INSERT ON jobs BEGIN
    INSERT INTO job_counts VALUES (new.tenant_id, new.job_type, new.state, new.owner, new.owner_is_admin, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER job_counts_delete AFTER DELETE ON jobs BEGIN
    UPDATE job_counts SET n = n - 1 WHERE tenant_id = old.tenant_id AND job_type = old.job_type
        AND state = old.state AND owner = old.owner AND owner_is_admin = old.owner_is_admin;
END;
CREATE TRIGGER job_counts_update AFTER UPDATE OF tenant_id, job_type, state, owner, owner_is_admin ON jobs BEGIN
    UPDATE job_counts SET n = n - 1 WHERE tenant_id = old.tenant_id AND job_type = old.job_type
        AND state = old.state AND owner = old.owner AND owner_is_admin = old.owner_is_admin;
    INSERT INTO job_counts VALUES (new.tenant_id, new.job_type, new.state, new.owner, new.owner_is_admin, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
END;
"#;

const COLUMNS: &str = "job_id, job_type, tenant_id, owner, owner_is_admin, description, statement, state, phase, \
    fraction_completed, running_status, cancelable, created, started, modified, finished, error_code, error_message, \
    trace_id, parent_job_id, payload, paused_from, revert_to, epoch";

/// The same columns qualified by the `jobs` table (for joins).
fn qualified_columns() -> String {
    COLUMNS
        .split(',')
        .map(|c| format!("jobs.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
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

/// Progress columns 24..27 of a joined row.
fn progress_at(r: &Row, base: usize) -> rusqlite::Result<JobProgress> {
    let checkpoint: Option<String> = r.get(base)?;
    let details: Option<String> = r.get(base + 1)?;
    Ok(JobProgress {
        checkpoint: checkpoint.and_then(|c| serde_json::from_str(&c).ok()),
        details: details
            .and_then(|d| serde_json::from_str(&d).ok())
            .unwrap_or_default(),
        updated: r.get::<_, Option<i64>>(base + 2)?.unwrap_or(0),
    })
}

/// A filter as a WHERE clause with its parameters.
///
/// SHOW JOBS's window (unfinished jobs and those finished lately) is a small part of a long history, so when a
/// filter has one it is what the query walks (`jobs_by_finished`, both arms of its OR) and the other indexed
/// columns are written `+jobs.col`, which keeps SQLite from walking their indexes, or the creation order's,
/// across the whole history instead.
fn where_clause(f: &JobFilter) -> (String, Vec<SqlValue>) {
    let window = f.finished_since.is_some();
    let col = |name: &str| {
        if window {
            format!("+jobs.{name}")
        } else {
            format!("jobs.{name}")
        }
    };
    let mut terms: Vec<String> = Vec::new();
    let mut args: Vec<SqlValue> = Vec::new();
    let arg = |args: &mut Vec<SqlValue>, v: SqlValue| {
        args.push(v);
        format!("?{}", args.len())
    };
    match &f.scope {
        Scope::All => {}
        Scope::Tenant(t) => {
            let p = arg(&mut args, (*t).into());
            terms.push(format!("{} = {p}", col("tenant_id")));
        }
        Scope::Owner {
            tenant_id,
            user,
            non_admin,
        } => {
            let t = arg(&mut args, (*tenant_id).into());
            let u = arg(&mut args, user.clone().into());
            if *non_admin {
                terms.push(format!(
                    "{} = {t} AND ({} = {u} OR jobs.owner_is_admin = 0)",
                    col("tenant_id"),
                    col("owner")
                ));
            } else {
                terms.push(format!(
                    "{} = {t} AND {} = {u}",
                    col("tenant_id"),
                    col("owner")
                ));
            }
        }
    }
    if let Some(ids) = &f.ids {
        let list: Vec<String> = ids.iter().map(|id| arg(&mut args, (*id).into())).collect();
        if list.is_empty() {
            terms.push("0".into());
        } else {
            terms.push(format!("jobs.job_id IN ({})", list.join(", ")));
        }
    }
    if let Some(t) = f.tenant_id {
        let p = arg(&mut args, t.into());
        terms.push(format!("{} = {p}", col("tenant_id")));
    }
    if let Some(t) = &f.job_type {
        let p = arg(&mut args, t.to_ascii_uppercase().into());
        terms.push(format!("{} = {p}", col("job_type")));
    }
    if !f.states.is_empty() {
        let list: Vec<String> = f
            .states
            .iter()
            .map(|s| arg(&mut args, s.as_str().to_string().into()))
            .collect();
        terms.push(format!("{} IN ({})", col("state"), list.join(", ")));
    }
    if let Some(o) = &f.owner {
        let p = arg(&mut args, o.clone().into());
        terms.push(format!("{} = {p}", col("owner")));
    }
    if let Some(c) = f.created_from {
        let p = arg(&mut args, c.into());
        terms.push(format!("{} >= {p}", col("created")));
    }
    if let Some(c) = f.created_before {
        let p = arg(&mut args, c.into());
        terms.push(format!("{} < {p}", col("created")));
    }
    if let Some(c) = f.finished_since {
        let p = arg(&mut args, c.into());
        terms.push(format!("(jobs.finished IS NULL OR jobs.finished >= {p})"));
    }
    if let Some(p) = f.parent_job_id {
        let p = arg(&mut args, p.into());
        terms.push(format!("jobs.parent_job_id = {p}"));
    }
    for w in &f.words {
        let escaped = w
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let p = arg(&mut args, format!("%{escaped}%").into());
        terms.push(format!(
            "(CAST(jobs.job_id AS TEXT) LIKE {p} ESCAPE '\\' OR lower(jobs.job_type) LIKE {p} ESCAPE '\\' \
             OR lower(jobs.owner) LIKE {p} ESCAPE '\\' OR lower(jobs.description) LIKE {p} ESCAPE '\\')"
        ));
    }
    let clause = if terms.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", terms.join(" AND "))
    };
    (clause, args)
}

/// Whether `job_counts` answers a count over the filter: it names only the columns that table groups by
/// (which it names as `jobs` does, so [`where_clause`] serves both).
fn by_counts(f: &JobFilter) -> bool {
    f.ids.is_none()
        && f.created_from.is_none()
        && f.created_before.is_none()
        && f.finished_since.is_none()
        && f.parent_job_id.is_none()
        && f.words.is_empty()
}

/// Whether the rows of a filter are put in order after they are read rather than by SQLite: a whole window
/// (no page) is a few thousand rows, which SQLite would sort as whole records, payload and statement included.
fn sorted_after_reading(f: &JobFilter) -> bool {
    f.finished_since.is_some() && f.limit.is_none() && f.offset == 0
}

/// Puts records read without an ORDER BY in the filter's order (by creation, then id).
fn sort_records<T>(f: &JobFilter, rows: &mut [T], rec: impl Fn(&T) -> &JobRecord) {
    if sorted_after_reading(f) {
        rows.sort_unstable_by_key(|r| (rec(r).created, rec(r).job_id));
        if f.order == Order::NewestFirst {
            rows.reverse();
        }
    }
}

fn order_and_page(f: &JobFilter) -> String {
    if sorted_after_reading(f) {
        return String::new();
    }
    // In a window the few rows are sorted, rather than the whole history walked in creation order.
    let created = if f.finished_since.is_some() {
        "+jobs.created"
    } else {
        "jobs.created"
    };
    let order = match f.order {
        Order::NewestFirst => format!(" ORDER BY {created} DESC, jobs.job_id DESC"),
        Order::OldestFirst => format!(" ORDER BY {created}, jobs.job_id"),
    };
    match f.limit {
        Some(limit) => format!("{order} LIMIT {limit} OFFSET {}", f.offset),
        None if f.offset > 0 => format!("{order} LIMIT -1 OFFSET {}", f.offset),
        None => order,
    }
}

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

fn get_on(conn: &Connection, id: i64) -> rusqlite::Result<Option<JobRecord>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM jobs WHERE job_id = ?1"))?
        .query_row([id], record)
        .optional()
}

/// Applies a state move and its changes to a row read in the same transaction.
fn apply(
    conn: &Connection,
    id: i64,
    to: JobState,
    changes: &Changes,
) -> rusqlite::Result<JobRecord> {
    let now = now_micros();
    conn.execute(
        "UPDATE jobs SET state = ?2, modified = ?3 WHERE job_id = ?1",
        params![id, to.as_str(), now],
    )?;
    if let Some((code, message)) = &changes.error {
        let message: String = message.chars().take(MAX_ERROR_LEN).collect();
        conn.execute(
            "UPDATE jobs SET error_code = ?2, error_message = ?3 WHERE job_id = ?1",
            params![id, code, message],
        )?;
    }
    if changes.finished {
        conn.execute(
            "UPDATE jobs SET finished = ?2 WHERE job_id = ?1",
            params![id, now],
        )?;
    }
    if changes.started {
        conn.execute(
            "UPDATE jobs SET started = coalesce(started, ?2) WHERE job_id = ?1",
            params![id, now],
        )?;
    }
    if let Some(f) = changes.fraction {
        conn.execute(
            "UPDATE jobs SET fraction_completed = ?2 WHERE job_id = ?1",
            params![id, f],
        )?;
    }
    if let Some(p) = changes.paused_from {
        conn.execute(
            "UPDATE jobs SET paused_from = ?2 WHERE job_id = ?1",
            params![id, p.map(JobState::as_str)],
        )?;
    }
    if let Some(r) = changes.revert_to {
        conn.execute(
            "UPDATE jobs SET revert_to = ?2 WHERE job_id = ?1",
            params![id, r.map(JobState::as_str)],
        )?;
    }
    if to.is_terminal() {
        // A job that is over holds no key: the next backup of its tenant (say) may start.
        conn.execute("DELETE FROM job_locks WHERE job_id = ?1", [id])?;
        conn.execute(
            "UPDATE jobs SET claim_node = NULL, lease_expires = NULL WHERE job_id = ?1",
            [id],
        )?;
    }
    record_event(conn, id, now, None)?;
    get_on(conn, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)
}

/// The SQLite job store: one connection writes (transactions start IMMEDIATE: the catalog writes the same
/// file through another connection, and a deferred transaction that read first could not upgrade to a
/// write after its commit), another reads, so listings never wait for a write and writes never wait for a
/// listing (WAL mode).
pub struct SqliteStore {
    writer: Mutex<Writer>,
    reader: Mutex<Connection>,
    /// Folds the log into the file after retention's batches, so that their pages are not folded by
    /// the commit that happens to cross the log's size limit next (a cancel's, say) while it holds the writer.
    checkpointer: Mutex<Connection>,
    /// Folds the log into the file in the background, for the same reason, whatever wrote it.
    _checkpoints: Checkpoints,
}

/// How often the background checkpoint runs.
const CHECKPOINT_TICK: std::time::Duration = std::time::Duration::from_millis(100);

/// A thread that copies the log into the file every [`CHECKPOINT_TICK`] without waiting for or blocking
/// anyone (a passive checkpoint), instead of the writer doing it inside a commit; stops when dropped.
struct Checkpoints {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpoints {
    fn spawn(conn: Connection) -> Result<Self, RegistryError> {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("job-store-checkpoints".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(CHECKPOINT_TICK);
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::warn!(error = %e, "job store checkpoint failed");
                    }
                }
            })
            .map_err(RegistryError::Thread)?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Writer {
    conn: Connection,
    last_id: i64,
}

impl Writer {
    /// A new id: the time in nanoseconds-like units, strictly increasing (CockroachDB's ids look alike).
    fn next_id(&mut self) -> i64 {
        let candidate = now_micros().saturating_mul(1000);
        self.last_id = candidate.max(self.last_id + 1);
        self.last_id
    }

    fn immediate(&mut self) -> rusqlite::Result<rusqlite::Transaction<'_>> {
        self.conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
    }
}

fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens the job tables in the SQLite file at `path`, creating (or upgrading) them if needed.
    pub fn open(path: &Path) -> Result<Self, RegistryError> {
        let mut conn = connect(path)?;
        // A cancel is acknowledged only once it is on disk; the log is copied into the file by
        // [`Checkpoints`], not by whichever commit crosses its size limit.
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 0;")?;
        conn.execute_batch(SCHEMA)?;
        let existing: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('jobs')")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for (name, ty) in ADDED_COLUMNS {
            if !existing.iter().any(|c| c == name) {
                conn.execute_batch(&format!("ALTER TABLE jobs ADD COLUMN {name} {ty}"))?;
            }
        }
        conn.execute_batch(INDEXES)?;
        let counted: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'job_counts'",
            [],
            |r| r.get(0),
        )?;
        if !counted {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.execute_batch(COUNTS)?;
            tx.commit()?;
        }
        let last_id = conn.query_row("SELECT coalesce(max(job_id), 0) FROM jobs", [], |r| {
            r.get(0)
        })?;
        let reader = connect(path)?;
        // Listings read the file through the OS page cache without a system call per page (a private copy of
        // the pages is dropped at every write of another connection, and jobs write progress all the time),
        // and keep up to 32 MiB of pages while a listing runs: SHOW JOBS's window is spread over the history.
        reader.execute_batch(
            "PRAGMA query_only = 1; PRAGMA mmap_size = 268435456; PRAGMA cache_size = -32768;",
        )?;
        Ok(Self {
            writer: Mutex::new(Writer { conn, last_id }),
            reader: Mutex::new(reader),
            checkpointer: Mutex::new(connect(path)?),
            _checkpoints: Checkpoints::spawn(connect(path)?)?,
        })
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, RegistryError> {
        Ok(f(&self.reader.lock())?)
    }
}

impl JobStore for SqliteStore {
    fn create(&self, jobs: Vec<Creation>, family: bool) -> Result<Vec<JobRecord>, RegistryError> {
        let mut w = self.writer.lock();
        let ids: Vec<i64> = jobs.iter().map(|_| w.next_id()).collect();
        let tx = w.immediate()?;
        for c in &jobs {
            for key in &c.keys {
                let holder: Option<i64> = tx
                    .query_row(
                        "SELECT job_id FROM job_locks WHERE lock_key = ?1",
                        [key],
                        |r| r.get(0),
                    )
                    .optional()?;
                if let Some(holder) = holder {
                    return Err(RegistryError::Conflict {
                        key: key.clone(),
                        holder,
                    });
                }
            }
        }
        let now = now_micros();
        let mut out = Vec::with_capacity(jobs.len());
        for (i, (c, id)) in jobs.iter().zip(&ids).enumerate() {
            let new = &c.job;
            let parent = if family && i > 0 {
                Some(ids[0])
            } else {
                new.parent_job_id
            };
            let trace_id = format!("YB{:012X}-{:016X}-0-0", *id as u64 >> 20, *id as u64);
            tx.execute(
                &format!("INSERT INTO jobs ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', '', 0, '', ?8, ?9, NULL, ?9, NULL, NULL, NULL, ?10, ?11, ?12, NULL, NULL, 0)"),
                params![id, new.job_type, new.tenant_id, new.owner, new.owner_is_admin, new.description, new.statement, new.cancelable, now, trace_id, parent, new.payload.to_string()],
            )?;
            tx.execute(
                "INSERT INTO job_progress (job_id, updated) VALUES (?1, ?2)",
                params![id, now],
            )?;
            for key in &c.keys {
                // A key named twice within the same request is held once, by the first job naming it.
                tx.execute(
                    "INSERT OR IGNORE INTO job_locks (lock_key, job_id) VALUES (?1, ?2)",
                    params![key, id],
                )?;
            }
            record_event(&tx, *id, now, None)?;
            out.push(get_on(&tx, *id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?);
        }
        tx.commit()?;
        Ok(out)
    }

    fn get(&self, id: i64) -> Result<Option<JobRecord>, RegistryError> {
        self.read(|c| get_on(c, id))
    }

    fn query(&self, filter: &JobFilter) -> Result<Vec<JobRecord>, RegistryError> {
        let (clause, args) = where_clause(filter);
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs{clause}{}",
            order_and_page(filter)
        );
        let mut rows: Vec<JobRecord> = self.read(|c| {
            c.prepare_cached(&sql)?
                .query_map(params_from_iter(args), record)?
                .collect()
        })?;
        sort_records(filter, &mut rows, |r| r);
        Ok(rows)
    }

    fn query_with_progress(
        &self,
        filter: &JobFilter,
    ) -> Result<Vec<(JobRecord, JobProgress)>, RegistryError> {
        let (clause, args) = where_clause(filter);
        let sql = format!(
            "SELECT {}, p.checkpoint, p.details, p.updated FROM jobs LEFT JOIN job_progress p ON p.job_id = jobs.job_id{}{}",
            qualified_columns(),
            clause,
            order_and_page(filter)
        );
        let mut rows: Vec<(JobRecord, JobProgress)> = self.read(|c| {
            c.prepare_cached(&sql)?
                .query_map(params_from_iter(args), |r| {
                    Ok((record(r)?, progress_at(r, 24)?))
                })?
                .collect()
        })?;
        sort_records(filter, &mut rows, |(r, _)| r);
        Ok(rows)
    }

    fn count(&self, filter: &JobFilter) -> Result<Vec<(String, JobState, u64)>, RegistryError> {
        let (clause, args) = where_clause(filter);
        let sql = if by_counts(filter) {
            format!(
                "SELECT job_type, state, sum(n) FROM job_counts AS jobs{clause} GROUP BY job_type, state HAVING sum(n) > 0"
            )
        } else {
            format!("SELECT job_type, state, count(*) FROM jobs{clause} GROUP BY job_type, state")
        };
        self.read(|c| {
            c.prepare_cached(&sql)?
                .query_map(params_from_iter(args), |r| {
                    let state: String = r.get(1)?;
                    Ok((
                        r.get(0)?,
                        JobState::parse(&state).unwrap_or(JobState::Failed),
                        r.get::<_, i64>(2)? as u64,
                    ))
                })?
                .collect()
        })
    }

    fn tenants(&self, filter: &JobFilter) -> Result<Vec<i64>, RegistryError> {
        let (clause, args) = where_clause(filter);
        let sql = if by_counts(filter) {
            let and = if clause.is_empty() { " WHERE" } else { " AND" };
            format!("SELECT DISTINCT tenant_id FROM job_counts AS jobs{clause}{and} n > 0 ORDER BY tenant_id")
        } else {
            format!("SELECT DISTINCT tenant_id FROM jobs{clause} ORDER BY tenant_id")
        };
        self.read(|c| {
            c.prepare_cached(&sql)?
                .query_map(params_from_iter(args), |r| r.get(0))?
                .collect()
        })
    }

    fn transition(
        &self,
        id: i64,
        from: &[JobState],
        to: JobState,
        changes: Changes,
    ) -> Result<Option<JobRecord>, RegistryError> {
        let mut w = self.writer.lock();
        let tx = w.immediate()?;
        let Some(current) = get_on(&tx, id)? else {
            return Ok(None);
        };
        if !from.contains(&current.state) {
            return Ok(None);
        }
        let rec = apply(&tx, id, to, &changes)?;
        tx.commit()?;
        Ok(Some(rec))
    }

    fn update_many(
        &self,
        ids: &[i64],
        decide: &mut dyn FnMut(&JobRecord) -> Result<Decision, RegistryError>,
    ) -> Result<Vec<(JobRecord, Option<JobRecord>)>, RegistryError> {
        let mut w = self.writer.lock();
        let tx = w.immediate()?;
        let mut decided = Vec::with_capacity(ids.len());
        for &id in ids {
            let rec = get_on(&tx, id)?.ok_or(RegistryError::NotFound(id))?;
            let d = decide(&rec)?;
            decided.push((rec, d));
        }
        let mut out = Vec::with_capacity(decided.len());
        for (rec, d) in decided {
            let after = match d {
                Some((to, changes)) => Some(apply(&tx, rec.job_id, to, &changes)?),
                None => None,
            };
            out.push((rec, after));
        }
        tx.commit()?;
        Ok(out)
    }

    fn claim(&self, id: i64, node: i64, lease_expires: i64) -> Result<Claim, RegistryError> {
        let w = self.writer.lock();
        let epoch = w.conn.query_row(
            "UPDATE jobs SET epoch = epoch + 1, claim_node = ?2, lease_expires = ?3 WHERE job_id = ?1 RETURNING epoch",
            params![id, node, lease_expires],
            |r| r.get(0),
        )?;
        Ok(Claim {
            node,
            epoch,
            lease_expires,
        })
    }

    fn fence(&self, id: i64) -> Result<(), RegistryError> {
        let w = self.writer.lock();
        w.conn.execute(
            "UPDATE jobs SET epoch = epoch + 1, claim_node = NULL, lease_expires = NULL WHERE job_id = ?1",
            [id],
        )?;
        Ok(())
    }

    fn renew(&self, id: i64, epoch: i64, lease_expires: i64) -> Result<bool, RegistryError> {
        let w = self.writer.lock();
        let n = w.conn.execute(
            "UPDATE jobs SET lease_expires = ?3 WHERE job_id = ?1 AND epoch = ?2",
            params![id, epoch, lease_expires],
        )?;
        Ok(n > 0)
    }

    fn claim_of(&self, id: i64) -> Result<Option<Claim>, RegistryError> {
        self.read(|c| {
            c.query_row(
                "SELECT claim_node, epoch, lease_expires FROM jobs WHERE job_id = ?1",
                [id],
                |r| {
                    let node: Option<i64> = r.get(0)?;
                    let epoch: i64 = r.get(1)?;
                    let lease: Option<i64> = r.get(2)?;
                    Ok(node.map(|node| Claim {
                        node,
                        epoch,
                        lease_expires: lease.unwrap_or(0),
                    }))
                },
            )
            .optional()
            .map(Option::flatten)
        })
    }

    fn write_progress(
        &self,
        id: i64,
        epoch: i64,
        p: &ProgressWrite<'_>,
    ) -> Result<bool, RegistryError> {
        let mut w = self.writer.lock();
        let tx = w.immediate()?;
        let now = now_micros();
        let n = tx.execute(
            "UPDATE jobs SET fraction_completed = ?3, running_status = ?4, modified = ?5 WHERE job_id = ?1 AND epoch = ?2",
            params![id, epoch, p.fraction, p.running_status, now],
        )?;
        if n == 0 {
            return Ok(false);
        }
        tx.execute(
            "UPDATE job_progress SET details = ?2, checkpoint = coalesce(?3, checkpoint), updated = ?4 WHERE job_id = ?1",
            params![id, serde_json::Value::Object(p.details.clone()).to_string(), p.checkpoint.map(|c| c.to_string()), now],
        )?;
        record_event(&tx, id, now, Some(SAMPLE_GAP_MICROS))?;
        tx.commit()?;
        Ok(true)
    }

    fn write_phase(&self, id: i64, epoch: i64, phase: &str) -> Result<bool, RegistryError> {
        let mut w = self.writer.lock();
        let tx = w.immediate()?;
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

    fn succeed(&self, id: i64, epoch: i64) -> Result<Option<JobRecord>, RegistryError> {
        let mut w = self.writer.lock();
        let tx = w.immediate()?;
        match get_on(&tx, id)? {
            Some(rec) if rec.epoch == epoch && rec.state == JobState::Running => {}
            _ => return Ok(None),
        }
        let changes = Changes {
            finished: true,
            fraction: Some(1.0),
            ..Default::default()
        };
        let rec = apply(&tx, id, JobState::Succeeded, &changes)?;
        tx.commit()?;
        Ok(Some(rec))
    }

    fn events(&self, id: i64) -> Result<Vec<JobEvent>, RegistryError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
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
        })
    }

    fn progress(&self, id: i64) -> Result<Option<JobProgress>, RegistryError> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT checkpoint, details, updated FROM job_progress WHERE job_id = ?1",
            )?
            .query_row([id], |r| progress_at(r, 0))
            .optional()
        })
    }

    fn delete_finished_before(&self, cutoff: i64, batch: usize) -> Result<usize, RegistryError> {
        let mut w = self.writer.lock();
        let tx = w.immediate()?;
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS expired (job_id INTEGER PRIMARY KEY); DELETE FROM temp.expired;",
        )?;
        let n = tx
            .prepare_cached(
                "INSERT INTO temp.expired SELECT job_id FROM jobs WHERE finished IS NOT NULL AND finished < ?1 LIMIT ?2",
            )?
            .execute(params![cutoff, batch as i64])?;
        for sql in [
            "DELETE FROM job_progress WHERE job_id IN temp.expired",
            "DELETE FROM job_events WHERE job_id IN temp.expired",
            "DELETE FROM jobs WHERE job_id IN temp.expired",
        ] {
            tx.prepare_cached(sql)?.execute([])?;
        }
        tx.commit()?;
        // Straight to a request waiting for the writer (a cancel, say), not back to the next batch.
        parking_lot::MutexGuard::unlock_fair(w);
        if n > 0 {
            // Passive: it copies what no reader still needs and never waits for or blocks the writer.
            self.checkpointer
                .lock()
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        }
        Ok(n)
    }
}
