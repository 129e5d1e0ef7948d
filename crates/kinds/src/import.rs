//! `IMPORT` jobs: CSV files into a table, all or nothing.
//!
//! The rows are loaded into a staging file of the job's own (`<tenant dir>/import_<job id>.staging`, a plain
//! SQLite file with `synchronous = OFF` and untyped columns), never into the live table: a reader thread parses
//! and converts the CSV (so a bad value is reported with its file, line and column) while the job's thread
//! inserts the rows in big transactions. Each staging commit also records how far the load got, in the same
//! file, so a pause or a crash resumes from the last commit. At the end one short write transaction copies the
//! staged rows into the table (`INSERT INTO t SELECT ... FROM staging`), and it commits in the same step as the
//! job's success ([`JobContext::finish`]). Until then readers and writers of the table see it as it was; a
//! cancel or a failure deletes the staging file, which costs milliseconds whatever was loaded. The price is the
//! final copy, which holds the database's write lock for a time proportional to the rows imported (about a
//! second per million narrow rows), and the rows being written twice.

mod rows;
mod source;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use tenantry_catalog::Catalog;
use tenantry_jobs::ob_codes;
use tenantry_jobs::{JobContext, JobError, JobKind, JobRecord};
use tokio::runtime::Handle;

pub use rows::{BadRow, ColumnType, Converter, CsvFormat, ImportColumn, Problem};
pub use source::{Compression, Source, SourceError};

use crate::schema_change::{begin_write, connect_database, quote, retryable};
use crate::Throttle;

/// The job type name of imports.
pub const IMPORT: &str = "IMPORT";

/// Rows per batch handed from the reader to the inserter: the unit between cancellation checks.
const BATCH_ROWS: usize = 2048;
/// Rows per staging transaction; each commit is also the point a pause or a crash resumes from.
const COMMIT_ROWS: u64 = 50_000;
/// The most bytes one record may take. A record is held whole while it is converted, so without a bound a
/// file without line ends (or a client's LOAD DATA LOCAL data) would make it grow until memory ran out;
/// MySQL's default `max_allowed_packet` bounds a row the same way.
pub const MAX_RECORD_BYTES: u64 = 64 << 20;
/// Progress handler period of the final copy, in SQLite VM steps.
const STEPS_PER_CHECK: i32 = 10_000;

/// What an import job does.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImportPayload {
    /// The tenant.
    pub tenant_id: i64,
    /// The database (its name is the schema name the statements use).
    pub database: String,
    /// The database's catalog id when the job was created.
    pub database_id: i64,
    /// The table.
    pub table: String,
    /// The columns the CSV's fields go into, in field order.
    pub columns: Vec<ImportColumn>,
    /// The sources as named (`file://`, `nodelocal://`, or paths), inside the tenant's external-IO directory.
    /// For `LOAD DATA LOCAL INFILE`, the one file as the client named it.
    pub sources: Vec<String>,
    /// How the files are written.
    pub format: CsvFormat,
    /// `LOAD DATA LOCAL INFILE`: the file (in the tenant's directory, see [`local_file_path`]) the client's bytes
    /// were written to; the job reads it instead of `sources` and removes it when it ends.
    #[serde(default)]
    pub local_file: Option<String>,
}

/// The prefix of the files `LOAD DATA LOCAL INFILE` writes the client's bytes to, in the tenant's directory.
pub const LOCAL_FILE_PREFIX: &str = "local_";

/// Where a `LOAD DATA LOCAL INFILE` file named `name` (`local_<token>.load`) lives.
pub fn local_file_path(catalog: &Catalog, tenant_id: i64, name: &str) -> PathBuf {
    catalog.storage().tenant_dir(tenant_id).join(name)
}

/// A fresh name for a `LOAD DATA LOCAL INFILE` file.
pub fn new_local_file_name() -> String {
    use std::fmt::Write;
    let mut name = String::from(LOCAL_FILE_PREFIX);
    for b in rand::random::<[u8; 16]>() {
        let _ = write!(name, "{b:02x}");
    }
    name.push_str(".load");
    name
}

/// The import kind.
pub struct Import {
    catalog: Arc<Catalog>,
    runtime: Handle,
}

/// Where an import job stages its rows.
pub fn staging_path(catalog: &Catalog, tenant_id: i64, job_id: i64) -> PathBuf {
    catalog
        .storage()
        .tenant_dir(tenant_id)
        .join(format!("import_{job_id}.staging"))
}

fn remove_staging(path: &Path) -> std::io::Result<()> {
    for suffix in ["", "-journal"] {
        match std::fs::remove_file(tenantry_storage::with_suffix(path, suffix)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Removes staging files whose job is over or gone (left by a crash between an import's commit and the removal
/// of its staging file). Run at start-up, after the registry recovered its jobs.
pub fn remove_orphaned_staging(catalog: &Catalog, jobs: &tenantry_jobs::JobRegistry) {
    let Ok(tenants) = catalog.storage().tenant_ids_on_disk() else {
        return;
    };
    // The LOAD DATA LOCAL files that unfinished imports still read (`None`: unknown, so none is removed).
    let local_in_use: Option<Vec<String>> = jobs
        .query(
            &tenantry_jobs::JobFilter::default()
                .of_type(IMPORT)
                .unfinished(),
        )
        .ok()
        .map(|live| {
            live.iter()
                .filter_map(|j| j.payload.get("local_file")?.as_str().map(str::to_string))
                .collect()
        });
    for tenant_id in tenants {
        let Ok(entries) = std::fs::read_dir(catalog.storage().tenant_dir(tenant_id)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            // LOAD DATA LOCAL files: kept only while a job that reads them has not ended.
            if let Some(local) = name.to_str().filter(|n| n.starts_with(LOCAL_FILE_PREFIX)) {
                let orphan = local_in_use
                    .as_ref()
                    .is_some_and(|in_use| !in_use.iter().any(|f| f == local));
                if orphan {
                    tracing::info!(file = local, "removing an orphaned LOAD DATA LOCAL file");
                    let _ = std::fs::remove_file(entry.path());
                }
                continue;
            }
            let Some(job_id) = name
                .to_str()
                .and_then(|n| n.strip_prefix("import_"))
                .and_then(|n| n.split('.').next())
                .and_then(|n| n.parse::<i64>().ok())
            else {
                continue;
            };
            let live = matches!(jobs.get(job_id), Ok(Some(j)) if !j.state.is_terminal());
            if !live {
                tracing::info!(job_id, "removing an orphaned import staging file");
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

impl Import {
    /// A kind that finds databases through `catalog` and reads sources on `runtime`.
    pub fn new(catalog: Arc<Catalog>, runtime: Handle) -> Self {
        Self { catalog, runtime }
    }
}

fn payload(job: &JobRecord) -> Result<ImportPayload, JobError> {
    serde_json::from_value(job.payload.clone()).map_err(|e| JobError::Permanent {
        code: ob_codes::ERR_UNEXPECTED,
        message: format!("bad import payload: {e}"),
    })
}

fn source_error(e: SourceError) -> JobError {
    let code = match e {
        SourceError::NotFound(_) => -29,
        _ => -1105,
    };
    JobError::Permanent {
        code,
        message: e.to_string(),
    }
}

/// How far the load got, kept in the staging file and committed with the rows.
#[derive(Debug, Clone, Copy, Default)]
struct LoadState {
    /// The file being read.
    file: usize,
    /// Data records of that file already staged.
    records: u64,
    /// Rows staged in all.
    rows: u64,
    /// Every file is staged.
    loaded: bool,
}

/// The staging file: the rows (untyped columns `c0..`, plus the file and line they came from) and the state.
struct Staging {
    conn: Connection,
}

impl Staging {
    fn open(path: &Path, columns: usize) -> rusqlite::Result<Self> {
        let conn = Connection::open(path)?;
        // Durability across a process kill is what matters (a hot journal rolls back on the next open); the
        // staged rows can always be loaded again, so nothing is synced.
        conn.execute_batch(
            "PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE; PRAGMA cache_size = -65536;",
        )?;
        let cols: Vec<String> = (0..columns).map(|i| format!("c{i}")).collect();
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS rows ({}, file, line);
             CREATE TABLE IF NOT EXISTS state (id INTEGER PRIMARY KEY, file, records, rows, loaded);
             INSERT OR IGNORE INTO state VALUES (1, 0, 0, 0, 0);",
            cols.join(", ")
        ))?;
        Ok(Self { conn })
    }

    fn state(&self) -> rusqlite::Result<LoadState> {
        self.conn.query_row(
            "SELECT file, records, rows, loaded FROM state WHERE id = 1",
            [],
            |r| {
                Ok(LoadState {
                    file: r.get::<_, i64>(0)? as usize,
                    records: r.get::<_, i64>(1)? as u64,
                    rows: r.get::<_, i64>(2)? as u64,
                    loaded: r.get(3)?,
                })
            },
        )
    }

    fn save(&self, s: &LoadState) -> rusqlite::Result<()> {
        self.conn.execute(
            "UPDATE state SET file = ?1, records = ?2, rows = ?3, loaded = ?4 WHERE id = 1",
            rusqlite::params![s.file as i64, s.records as i64, s.rows as i64, s.loaded],
        )?;
        Ok(())
    }
}

/// Fails the read once the record being read has taken more than [`MAX_RECORD_BYTES`] (plus what the CSV
/// reader buffers ahead), before it can grow further.
struct RecordBound<R> {
    inner: R,
    /// Bytes handed to the CSV reader so far.
    read: u64,
    /// Where the current record began (set by the reading loop after each record).
    record_start: Arc<AtomicU64>,
}

/// What the CSV reader buffers ahead of the record it parses (its buffer is 256 KiB).
const CSV_READ_AHEAD: u64 = 512 * 1024;

impl<R: std::io::Read> std::io::Read for RecordBound<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        let in_record = self
            .read
            .saturating_sub(self.record_start.load(Ordering::Relaxed));
        if in_record > MAX_RECORD_BYTES + CSV_READ_AHEAD {
            return Err(std::io::Error::other(format!(
                "a record is longer than {} MiB",
                MAX_RECORD_BYTES >> 20
            )));
        }
        Ok(n)
    }
}

/// What the reader thread hands the inserter.
enum Msg {
    /// Converted rows of one file.
    Batch {
        file: usize,
        /// Values, `columns` per row.
        values: Vec<rusqlite::types::Value>,
        /// The line each row starts on.
        lines: Vec<u64>,
        /// Data records of the file consumed after this batch.
        records: u64,
        /// Stored bytes of the file read so far.
        file_bytes: u64,
    },
    /// A file is done.
    FileDone(usize),
    /// The load cannot go on.
    Failed(JobError),
}

/// Everything the reader thread needs.
struct ReadPlan {
    sources: Vec<Source>,
    format: CsvFormat,
    columns: Vec<ImportColumn>,
    start: LoadState,
    rate: u64,
    ctx: JobContext,
    runtime: Handle,
}

impl ReadPlan {
    /// Reads, converts and sends every remaining record; stops quietly when the inserter is gone or the job
    /// is interrupted.
    fn run(self, tx: SyncSender<Msg>) {
        let throttle = Throttle::new(self.rate);
        let mut run_bytes_before = 0u64;
        let ncols = self.columns.len();
        for (i, src) in self.sources.iter().enumerate().skip(self.start.file) {
            let counter = Arc::new(AtomicU64::new(0));
            let input = match src.open(&self.runtime, counter.clone()) {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.send(Msg::Failed(source_error(e)));
                    return;
                }
            };
            // Where the record being read began, in the bytes the CSV reader consumes.
            let record_start = Arc::new(AtomicU64::new(0));
            let mut reader = self.format.reader(RecordBound {
                inner: input,
                read: 0,
                record_start: record_start.clone(),
            });
            let already = if i == self.start.file {
                self.start.records
            } else {
                0
            };
            let mut to_skip = self.format.skip + already;
            let mut records = already;
            let conv = rows::Converter {
                format: &self.format,
                columns: &self.columns,
                file: &src.name,
            };
            let mut record = csv::ByteRecord::new();
            let new_batch = || {
                (
                    Vec::with_capacity(BATCH_ROWS * ncols),
                    Vec::with_capacity(BATCH_ROWS),
                )
            };
            let (mut values, mut lines) = new_batch();
            loop {
                match reader.read_byte_record(&mut record) {
                    Ok(true) => record_start.store(reader.position().byte(), Ordering::Relaxed),
                    Ok(false) => break,
                    Err(e) => {
                        // An I/O error has no position: it is in the record that began where the last one ended.
                        let line = e
                            .position()
                            .map_or_else(|| reader.position().line(), |p| p.line());
                        let problem = match e.kind() {
                            csv::ErrorKind::Utf8 { .. } => Problem::NotUtf8,
                            _ => Problem::Malformed(e.to_string()),
                        };
                        let bad = BadRow {
                            file: src.name.clone(),
                            line,
                            column: 1,
                            name: None,
                            problem,
                        };
                        let _ = tx.send(Msg::Failed(bad_row(bad)));
                        return;
                    }
                }
                if to_skip > 0 {
                    to_skip -= 1;
                    continue;
                }
                if let Err(bad) = conv.convert(&record, &mut values) {
                    let _ = tx.send(Msg::Failed(bad_row(bad)));
                    return;
                }
                lines.push(record.position().map_or(0, |p| p.line()));
                records += 1;
                if lines.len() >= BATCH_ROWS {
                    let file_bytes = counter.load(Ordering::Relaxed);
                    let (fresh_values, fresh_lines) = new_batch();
                    let v = std::mem::replace(&mut values, fresh_values);
                    let l = std::mem::replace(&mut lines, fresh_lines);
                    let msg = Msg::Batch {
                        file: i,
                        values: v,
                        lines: l,
                        records,
                        file_bytes,
                    };
                    if tx.send(msg).is_err()
                        || !throttle
                            .pace(run_bytes_before + file_bytes, || self.ctx.is_interrupted())
                    {
                        return;
                    }
                }
            }
            let file_bytes = counter.load(Ordering::Relaxed);
            run_bytes_before += file_bytes;
            let last = Msg::Batch {
                file: i,
                values,
                lines,
                records,
                file_bytes,
            };
            if tx.send(last).is_err() || tx.send(Msg::FileDone(i)).is_err() {
                return;
            }
        }
    }
}

fn bad_row(bad: BadRow) -> JobError {
    JobError::Permanent {
        code: -bad.problem.mysql_code(),
        message: bad.to_string(),
    }
}

/// Live progress figures: bytes, rows, speed, ETA.
struct Progress<'a> {
    ctx: &'a JobContext,
    sizes: Vec<u64>,
    total: u64,
    started: Instant,
    start_bytes: u64,
    last_report: Instant,
}

impl Progress<'_> {
    fn done_before(&self, file: usize) -> u64 {
        self.sizes[..file.min(self.sizes.len())].iter().sum()
    }

    fn report(&mut self, bytes_done: u64, rows: u64, force: bool) {
        if !force && self.last_report.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.last_report = Instant::now();
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let speed = bytes_done.saturating_sub(self.start_bytes) as f64 / secs;
        let left = self.total.saturating_sub(bytes_done);
        let eta = if speed > 0.0 {
            (left as f64 / speed).ceil() as i64
        } else {
            -1
        };
        let ctx = self.ctx;
        ctx.set_detail("bytes_done", bytes_done);
        ctx.set_detail("bytes_total", self.total);
        ctx.set_detail("rows_done", rows);
        ctx.set_detail("speed_bytes_per_sec", speed.round() as i64);
        ctx.set_detail("eta_seconds", eta);
        let fraction = bytes_done as f64 / self.total.max(1) as f64 * 0.9;
        let mb = |b: f64| b / 1_048_576.0;
        let eta_text = if eta >= 0 {
            format!("{eta}s")
        } else {
            "unknown".into()
        };
        ctx.set_progress(
            fraction,
            format!(
                "loading: {rows} rows, {:.1} of {:.1} MB, {:.1} MB/s, ETA {eta_text}",
                mb(bytes_done as f64),
                mb(self.total as f64),
                mb(speed)
            ),
        );
    }
}

impl Import {
    /// Loads every remaining record into the staging file.
    fn load(
        &self,
        p: &ImportPayload,
        sources: Vec<Source>,
        staging: &Staging,
        state: &mut LoadState,
        progress: &mut Progress,
        ctx: &JobContext,
    ) -> Result<(), JobError> {
        let plan = ReadPlan {
            sources,
            format: p.format.clone(),
            columns: p.columns.clone(),
            start: *state,
            rate: self.catalog.bulk_io_max_rate().unwrap_or(0),
            ctx: ctx.clone(),
            runtime: self.runtime.clone(),
        };
        let (tx, rx) = sync_channel(4);
        let reader = std::thread::Builder::new()
            .name(format!("import-{}", ctx.job_id()))
            .spawn(move || plan.run(tx))
            .map_err(|e| JobError::Retryable(e.to_string()))?;
        let result = self.insert_batches(p, staging, state, progress, ctx, &rx);
        // The reader stops at its next send (the channel is closed) or its next pacing slice (token).
        drop(rx);
        let _ = reader.join();
        result
    }

    fn insert_batches(
        &self,
        p: &ImportPayload,
        staging: &Staging,
        state: &mut LoadState,
        progress: &mut Progress,
        ctx: &JobContext,
        rx: &Receiver<Msg>,
    ) -> Result<(), JobError> {
        let conn = &staging.conn;
        let ncols = p.columns.len();
        let placeholders = vec!["?"; ncols + 2].join(", ");
        conn.execute_batch("BEGIN").map_err(retryable)?;
        let mut stmt = conn
            .prepare(&format!("INSERT INTO rows VALUES ({placeholders})"))
            .map_err(retryable)?;
        let mut since_commit = 0u64;
        let commit = |state: &LoadState| -> Result<(), JobError> {
            staging.save(state).map_err(retryable)?;
            conn.execute_batch("COMMIT; BEGIN").map_err(retryable)
        };
        loop {
            let msg = match rx.recv_timeout(Duration::from_millis(10)) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => {
                    if ctx.is_interrupted() {
                        break;
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            match msg {
                Msg::Batch {
                    file,
                    values,
                    lines,
                    records,
                    file_bytes,
                } => {
                    let file_id = file as i64;
                    for (row, line) in values.chunks_exact(ncols.max(1)).zip(&lines) {
                        for (i, v) in row.iter().enumerate() {
                            stmt.raw_bind_parameter(i + 1, v).map_err(retryable)?;
                        }
                        stmt.raw_bind_parameter(ncols + 1, file_id)
                            .map_err(retryable)?;
                        stmt.raw_bind_parameter(ncols + 2, *line as i64)
                            .map_err(retryable)?;
                        stmt.raw_execute().map_err(retryable)?;
                    }
                    state.file = file;
                    state.records = records;
                    state.rows += lines.len() as u64;
                    since_commit += lines.len() as u64;
                    let done = progress.done_before(file) + file_bytes;
                    progress.report(done, state.rows, false);
                    if since_commit >= COMMIT_ROWS {
                        commit(state)?;
                        since_commit = 0;
                    }
                }
                Msg::FileDone(file) => {
                    state.file = file + 1;
                    state.records = 0;
                }
                Msg::Failed(e) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    return Err(e);
                }
            }
            if ctx.is_interrupted() {
                break;
            }
        }
        drop(stmt);
        if ctx.is_interrupted() {
            // Keep what was staged so that a resumed job continues from here (a cancel deletes it all anyway).
            commit(state)?;
            let _ = conn.execute_batch("COMMIT");
            return Err(JobError::Interrupted);
        }
        if state.file < p.sources.len() {
            // The reader ended without finishing (it could not start a thread's work): try again.
            let _ = conn.execute_batch("COMMIT");
            return Err(JobError::Retryable("import reader stopped early".into()));
        }
        state.loaded = true;
        staging.save(state).map_err(retryable)?;
        conn.execute_batch("COMMIT").map_err(retryable)?;
        let total = progress.total;
        progress.report(total, state.rows, true);
        Ok(())
    }

    /// Copies the staged rows into the table in one write transaction that commits with the job's success.
    fn commit_into_table(
        &self,
        p: &ImportPayload,
        staging_path: &Path,
        rows: u64,
        ctx: &JobContext,
    ) -> Result<(), JobError> {
        let conn = connect_database(&self.catalog, p.tenant_id, &p.database, p.database_id)?;
        conn.execute(
            "ATTACH DATABASE ?1 AS import_staging",
            [staging_path.to_string_lossy()],
        )
        .map_err(retryable)?;
        ctx.set_progress(0.9, format!("committing {rows} rows"));
        begin_write(&conn, ctx)?;
        let locked = Instant::now();
        {
            let ctx = ctx.clone();
            let mut steps: u64 = 0;
            // About this many VM steps per row copied (read, affinity, checks, insert, index entries).
            let estimate = (rows.max(1) * 12 * (p.columns.len() as u64 + 2)) as f64;
            let mut last = Instant::now();
            conn.progress_handler(
                STEPS_PER_CHECK,
                Some(move || {
                    steps += STEPS_PER_CHECK as u64;
                    if last.elapsed() >= Duration::from_millis(200) {
                        last = Instant::now();
                        let f = (steps as f64 / estimate).min(0.99);
                        ctx.set_progress(0.9 + 0.1 * f, format!("committing {rows} rows"));
                    }
                    ctx.is_interrupted()
                }),
            );
        }
        let target: Vec<String> = p.columns.iter().map(|c| quote(&c.name)).collect();
        let staged: Vec<String> = (0..p.columns.len()).map(|i| format!("c{i}")).collect();
        let sql = format!(
            "INSERT INTO {}.{} ({}) SELECT {} FROM import_staging.rows ORDER BY rowid",
            quote(&p.database),
            quote(&p.table),
            target.join(", "),
            staged.join(", ")
        );
        let copied = conn.execute(&sql, []);
        conn.progress_handler(0, None::<fn() -> bool>);
        let result = match copied {
            Ok(_) => ctx.finish(|| conn.execute_batch("COMMIT").map_err(retryable)),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(if ctx.is_interrupted() {
                    JobError::Interrupted
                } else {
                    copy_error(&conn, p, e)
                })
            }
        };
        if result.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        let _ = conn.execute_batch("DETACH DATABASE import_staging");
        if result.is_ok() {
            tracing::info!(
                job_id = ctx.job_id(),
                rows,
                write_lock_ms = locked.elapsed().as_millis() as u64,
                "import committed"
            );
        }
        result
    }
}

/// A failed copy into the table: a constraint the staged rows break (duplicate key, NOT NULL, foreign key),
/// with the file and line of the first offending row where it can be found.
fn copy_error(conn: &Connection, p: &ImportPayload, e: rusqlite::Error) -> JobError {
    let (code, message) = match &e {
        rusqlite::Error::SqliteFailure(f, msg)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            let msg = msg.clone().unwrap_or_else(|| f.to_string());
            let code = match f.extended_code {
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => 1062,
                rusqlite::ffi::SQLITE_CONSTRAINT_NOTNULL => 1048,
                rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => 1452,
                rusqlite::ffi::SQLITE_CONSTRAINT_CHECK if msg.contains("type_check$") => 1366,
                rusqlite::ffi::SQLITE_CONSTRAINT_CHECK => 3819,
                _ => 1105,
            };
            let place = if code == 1062 {
                duplicate_place(conn, p, &msg)
            } else {
                None
            };
            (
                code,
                match place {
                    Some(place) => format!("{place}: {msg}"),
                    None => format!("{}: {msg}", p.sources.join(", ")),
                },
            )
        }
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy => {
            return retryable(e)
        }
        _ => (1105, e.to_string()),
    };
    JobError::Permanent {
        code: -code,
        message,
    }
}

/// For `UNIQUE constraint failed: t.a, t.b`: the file and line of the first staged row whose key is already
/// in the table, or else that repeats an earlier staged row's key.
fn duplicate_place(conn: &Connection, p: &ImportPayload, msg: &str) -> Option<String> {
    let list = msg.split_once("failed: ")?.1;
    let mut staged = Vec::new();
    for qualified in list.split(", ") {
        let column = qualified.rsplit('.').next()?;
        let i = p
            .columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(column))?;
        staged.push((quote(&p.columns[i].name), format!("c{i}")));
    }
    let in_table = format!(
        "SELECT file, line FROM import_staging.rows s WHERE EXISTS (SELECT 1 FROM {}.{} x WHERE {}) ORDER BY rowid LIMIT 1",
        quote(&p.database),
        quote(&p.table),
        staged
            .iter()
            .map(|(t, s)| format!("x.{t} = s.{s}"))
            .collect::<Vec<_>>()
            .join(" AND ")
    );
    let keys = staged
        .iter()
        .map(|(_, s)| s.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let repeated = format!(
        "SELECT file, line FROM (SELECT file, line, rowid AS r, row_number() OVER (PARTITION BY {keys} ORDER BY rowid) AS n FROM import_staging.rows) WHERE n = 2 ORDER BY r LIMIT 1"
    );
    for sql in [in_table, repeated] {
        let found: Option<(i64, i64)> = conn
            .query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)))
            .ok();
        if let Some((file, line)) = found {
            let name = p.sources.get(file as usize)?;
            return Some(format!("file '{name}', line {line}"));
        }
    }
    None
}

impl JobKind for Import {
    fn run(&self, job: &JobRecord, ctx: &JobContext) -> Result<(), JobError> {
        let p = payload(job)?;
        // Resolved again now (the statement checked them too): the tenant's confinement is the job's as well.
        let tenant = self
            .catalog
            .tenant_by_id(p.tenant_id)
            .map_err(|e| JobError::Retryable(e.to_string()))?
            .ok_or_else(|| JobError::Permanent {
                code: ob_codes::TENANT_NOT_EXIST,
                message: format!("tenant {} no longer exists", p.tenant_id),
            })?;
        let external = self.catalog.storage().external();
        let sources = match &p.local_file {
            // The client's bytes, written by the server into the tenant's directory.
            Some(file) => vec![Source::local(
                local_file_path(&self.catalog, p.tenant_id, file),
                p.sources.first().map_or(file.as_str(), |s| s.as_str()),
            )],
            None => p
                .sources
                .iter()
                .map(|s| Source::resolve(external, tenant.external_scope(), s))
                .collect::<Result<Vec<_>, _>>()
                .map_err(source_error)?,
        };
        let mut sizes = Vec::with_capacity(sources.len());
        for s in &sources {
            sizes.push(s.size(&self.runtime).map_err(source_error)?);
        }
        let total: u64 = sizes.iter().sum();
        let path = staging_path(&self.catalog, p.tenant_id, job.job_id);
        let staging = Staging::open(&path, p.columns.len()).map_err(retryable)?;
        let mut state = staging.state().map_err(retryable)?;
        let mut progress = Progress {
            ctx,
            start_bytes: 0,
            total,
            started: Instant::now(),
            last_report: Instant::now(),
            sizes,
        };
        progress.start_bytes = progress.done_before(state.file);
        if !state.loaded {
            let _ = ctx.set_phase("LOADING");
            progress.report(progress.start_bytes, state.rows, true);
            self.load(&p, sources, &staging, &mut state, &mut progress, ctx)?;
        }
        drop(staging);
        ctx.check()?;
        let _ = ctx.set_phase("COMMITTING");
        self.commit_into_table(&p, &path, state.rows, ctx)?;
        ctx.set_detail("rows_done", state.rows);
        ctx.set_detail("bytes_done", total);
        ctx.set_progress(1.0, format!("done: {} rows", state.rows));
        if let Err(e) = remove_staging(&path) {
            tracing::warn!(job_id = job.job_id, "removing the staging file: {e}");
        }
        remove_local_file(&self.catalog, &p);
        Ok(())
    }

    /// The table was never written (the copy commits with the job's success), so undo only deletes the staging
    /// file (and a `LOAD DATA LOCAL` file): milliseconds, whatever was loaded.
    fn undo(&self, job: &JobRecord, _ctx: &JobContext) -> Result<(), JobError> {
        let p = payload(job)?;
        remove_staging(&staging_path(&self.catalog, p.tenant_id, job.job_id))
            .map_err(|e| JobError::Retryable(e.to_string()))?;
        remove_local_file(&self.catalog, &p);
        Ok(())
    }
}

/// Removes the file a `LOAD DATA LOCAL INFILE` job read, if it had one (a missing one is fine).
fn remove_local_file(catalog: &Catalog, p: &ImportPayload) {
    if let Some(file) = &p.local_file {
        match std::fs::remove_file(local_file_path(catalog, p.tenant_id, file)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(file, "removing a LOAD DATA LOCAL file: {e}"),
        }
    }
}
