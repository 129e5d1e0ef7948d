//! `CHANGEFEED` jobs: every committed change of the watched tables, delivered at least once, in commit order,
//! to a webhook or to files (CockroachDB's enterprise changefeeds; `changefeeds.md`).
//!
//! Changes are captured by triggers into each database's change log ([`capture`]), inside the writing
//! transactions. A feed reads the log in sequence order from its high-water mark, encodes the changes of its
//! tables ([`encode`]) and hands them to its sink ([`sink`]); once the sink has delivered them, the position is
//! checkpointed in the job's progress. A pause, a failed sink or a crash therefore resumes from the last
//! checkpoint and may send some changes again, never lose one. The log keeps rows until every unfinished feed on
//! the database has checkpointed past them (a paused feed holds them, up to [`MAX_PROTECT_AGE`]).

pub mod capture;
pub mod encode;
mod hlc;
pub mod options;
pub mod sink;
pub mod sinkless;

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use tenantry_catalog::Catalog;
use tenantry_jobs::{ob_codes, JobContext, JobError, JobFilter, JobKind, JobRecord, JobRegistry};
use tokio::runtime::Handle;

pub use hlc::{now_nanos, Hlc};
use options::{FeedOptions, InitialScan, OnError, RawOption, SchemaChangePolicy, SinkKind};

use crate::schema_change::{connect_database, quote, retryable};

/// The job type name of changefeeds.
pub const CHANGEFEED: &str = "CHANGEFEED";

/// How often an idle feed looks at the log again.
const POLL: Duration = Duration::from_millis(5);
/// Changes read from the log at a time: the unit between cancellation checks.
pub(crate) const BATCH: usize = 512;
/// The most a sink may buffer before the feed stops reading and delivers (backpressure).
const MAX_BUFFERED: usize = 64 << 20;
/// How often a feed trims the log behind every feed of its database.
const TRIM_PERIOD: Duration = Duration::from_secs(1);
/// Changes deleted per write transaction when the log is trimmed: the bound on how long a trim holds the
/// database's write lock (a feed paused for hours leaves millions behind it).
const TRIM_CHUNK: usize = 10_000;
/// Chunks one trim pass deletes at most (the rest waits for the next pass).
const TRIM_CHUNKS_PER_PASS: usize = 16;
/// How long changes are kept for a feed that does not advance (paused, or its sink down), as CockroachDB's
/// `changefeed.protect_timestamp.max_age`; past it the feed fails and its changes are let go.
pub const MAX_PROTECT_AGE: Duration = Duration::from_secs(4 * 24 * 3600);

/// What a changefeed job watches and where it delivers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChangefeedPayload {
    /// The tenant.
    pub tenant_id: i64,
    /// The database of the tables.
    pub database: String,
    /// Its catalog id when the feed was made.
    pub database_id: i64,
    /// The watched tables.
    pub tables: Vec<String>,
    /// The sink URI as written.
    pub sink: String,
    /// The options as written.
    pub options: Vec<RawOption>,
    /// The log position when the feed was made (its capture began then).
    pub start_seq: i64,
    /// The time it was made (nanoseconds), the initial high-water mark.
    pub start_wall: i64,
}

/// A feed's checkpoint: how far it has delivered.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Checkpoint {
    /// The last log position delivered.
    pub seq: i64,
    /// The high-water mark: the timestamp of the last change delivered (or resolved).
    pub high_water: String,
    /// Whether the initial scan is done.
    pub scanned: bool,
}

/// The checkpoint of a feed's progress record, if it has one.
pub fn checkpoint_of(progress: &tenantry_jobs::JobProgress) -> Option<Checkpoint> {
    serde_json::from_value(progress.checkpoint.clone()?).ok()
}

fn permanent(message: impl Into<String>) -> JobError {
    JobError::Permanent {
        code: ob_codes::ERR_UNEXPECTED,
        message: message.into(),
    }
}

/// The payload of a changefeed job.
pub fn payload(job: &JobRecord) -> Result<ChangefeedPayload, JobError> {
    serde_json::from_value(job.payload.clone())
        .map_err(|e| permanent(format!("bad changefeed payload: {e}")))
}

/// The changefeed kind.
pub struct Changefeed {
    catalog: Arc<Catalog>,
    runtime: Handle,
    jobs: Weak<JobRegistry>,
}

impl Changefeed {
    /// The kind, reading tenants' databases through `catalog`; `jobs` is the registry it runs in (to see the
    /// other feeds of a database, and to pause itself for `on_error = pause`).
    pub fn new(catalog: Arc<Catalog>, runtime: Handle, jobs: Weak<JobRegistry>) -> Self {
        Self {
            catalog,
            runtime,
            jobs,
        }
    }
}

impl JobKind for Changefeed {
    fn run(&self, job: &JobRecord, ctx: &JobContext) -> Result<(), JobError> {
        let p = payload(job)?;
        let sink_kind = SinkKind::of(Some(&p.sink)).map_err(permanent)?;
        let options = FeedOptions::parse(&p.options, sink_kind).map_err(permanent)?;
        let result = Feed::open(self, job, &p, &options, ctx).and_then(|mut feed| feed.run());
        match result {
            Err(JobError::Permanent { code, message }) if options.on_error == OnError::Pause => {
                // on_error = pause: the feed stops where it is, keeping its checkpoint, instead of failing.
                ctx.set_progress(0.0, format!("paused: {message}"));
                tracing::warn!(job_id = job.job_id, code, %message, "changefeed pausing on error");
                if let Some(jobs) = self.jobs.upgrade() {
                    let _ = jobs.request_pause(job.job_id);
                }
                Err(JobError::Interrupted)
            }
            other => other,
        }
    }

    fn continuous(&self) -> bool {
        true
    }

    fn undo(&self, job: &JobRecord, _ctx: &JobContext) -> Result<(), JobError> {
        // Nothing sent is taken back (CockroachDB's rule); what the feed held is let go.
        let p = payload(job)?;
        self.release(&p, job.job_id)
    }
}

impl Changefeed {
    fn registry(&self) -> Result<Arc<JobRegistry>, JobError> {
        self.jobs
            .upgrade()
            .ok_or_else(|| JobError::Retryable("the job registry is shutting down".into()))
    }

    fn release(&self, p: &ChangefeedPayload, job_id: i64) -> Result<(), JobError> {
        release(&self.catalog, &*self.registry()?, p, job_id)
    }

    fn other_feeds(
        &self,
        p: &ChangefeedPayload,
        except: i64,
    ) -> Result<Vec<(ChangefeedPayload, i64)>, JobError> {
        other_feeds(&*self.registry()?, p, except)
    }
}

/// Serializes starting and ending captures, so a feed ending while another starts on the same table cannot
/// remove the triggers the new one relies on (the new one's job must be visible before any release looks).
static CAPTURE_LOCK: parking_lot::Mutex<()> = parking_lot::Mutex::new(());

/// Holds [`CAPTURE_LOCK`] while a feed's capture is started and its job created.
pub fn capture_guard() -> parking_lot::MutexGuard<'static, ()> {
    CAPTURE_LOCK.lock()
}

/// Starts capturing `tables` of a database (the caller holds [`capture_guard`] until the feed's job exists):
/// installs their triggers in one write transaction and returns the log position from which the feed's
/// changes count. Blocking; waits for the database's writers.
pub fn start_capture(
    catalog: &Catalog,
    tenant_id: i64,
    database: &str,
    database_id: i64,
    tables: &[String],
) -> Result<i64, JobError> {
    let conn = connect_database(catalog, tenant_id, database, database_id)?;
    conn.execute_batch("BEGIN IMMEDIATE").map_err(retryable)?;
    let done = (|| -> rusqlite::Result<Result<i64, String>> {
        for table in tables {
            if !capture::is_captured(&conn, database, table)?
                && !capture::install(&conn, database, table, None)?
            {
                return Ok(Err(table.clone()));
            }
        }
        capture::ensure_log(&conn, database)?;
        Ok(Ok(capture::last_seq(&conn, database)?))
    })();
    let commit = matches!(done, Ok(Ok(_)));
    conn.execute_batch(if commit { "COMMIT" } else { "ROLLBACK" })
        .map_err(retryable)?;
    match done.map_err(retryable)? {
        Ok(seq) => Ok(seq),
        Err(table) => Err(permanent(format!("table \"{table}\" does not exist"))),
    }
}

/// The log position of `cursor` for `tables` of `db`, or CockroachDB's error text when the log does not hold
/// every change after it: a table whose capture began after the cursor (no feed watched it then), or changes
/// after it already trimmed.
fn cursor_position(
    conn: &Connection,
    db: &str,
    tables: &[String],
    cursor: Hlc,
) -> rusqlite::Result<Result<i64, String>> {
    let ms = cursor.wall.div_euclid(1_000_000);
    let refused = || {
        format!(
            "could not create changefeed: cursor {cursor} is older than the GC threshold (changes are kept only while a changefeed watches the table)"
        )
    };
    for table in tables {
        match capture::captured_since(conn, db, table)? {
            Some(since) if since <= ms => {}
            _ => return Ok(Err(refused())),
        }
    }
    Ok(capture::seq_at(conn, db, ms)?.map_err(|_| refused()))
}

/// Checks, before a feed with `cursor` is made, that the log holds every change of its tables after the cursor
/// (see [`cursor_position`]); the error is CockroachDB's text. Blocking.
pub fn check_cursor(
    catalog: &Catalog,
    tenant_id: i64,
    database: &str,
    database_id: i64,
    tables: &[String],
    cursor: Hlc,
) -> Result<(), JobError> {
    let conn = connect_database(catalog, tenant_id, database, database_id)?;
    match cursor_position(&conn, database, tables, cursor).map_err(retryable)? {
        Ok(_) => Ok(()),
        Err(message) => Err(permanent(message)),
    }
}

/// Removes capture triggers no unfinished feed needs: those a restored or cloned database brought with it
/// (its pages were copied whole, triggers included), and those of a feed whose job was never made (a crash
/// between the capture's start and the job's creation). Run at start-up, after the registry recovered its jobs;
/// a database it cannot open is left for the next start.
pub fn remove_unwatched_capture(catalog: &Catalog, jobs: &JobRegistry) {
    let Ok(live) = jobs.query(
        &JobFilter::default()
            .of_type(CHANGEFEED)
            .unfinished()
            .unpaged(),
    ) else {
        return;
    };
    let watched: std::collections::HashSet<(i64, String)> = live
        .iter()
        .filter_map(|j| serde_json::from_value::<ChangefeedPayload>(j.payload.clone()).ok())
        .flat_map(|p| p.tables.into_iter().map(move |t| (p.database_id, t)))
        .collect();
    let Ok(tenants) = catalog.tenants() else {
        return;
    };
    // A tenant a job is still building (restore, clone) is that job's: its files may not be there yet, and
    // opening one would create it.
    for tenant in tenants
        .into_iter()
        .filter(|t| t.status == tenantry_catalog::TenantStatus::Normal)
    {
        let Ok(databases) = catalog.databases(tenant.tenant_id) else {
            continue;
        };
        for db in databases {
            let path = catalog
                .storage()
                .database_path(tenant.tenant_id, db.database_id);
            if !path.is_file() {
                continue;
            }
            let Ok(conn) = connect_database(catalog, tenant.tenant_id, &db.name, db.database_id)
            else {
                continue;
            };
            let Ok(captured) = capture::captured_tables(&conn, &db.name) else {
                continue;
            };
            let stale: Vec<String> = captured
                .into_iter()
                .filter(|t| !watched.contains(&(db.database_id, t.clone())))
                .collect();
            if stale.is_empty() || conn.execute_batch("BEGIN IMMEDIATE").is_err() {
                continue;
            }
            let removed = stale
                .iter()
                .try_for_each(|t| capture::remove(&conn, &db.name, t));
            let _ = conn.execute_batch(if removed.is_ok() {
                "COMMIT"
            } else {
                "ROLLBACK"
            });
            tracing::info!(tenant_id = tenant.tenant_id, database = %db.name, tables = ?stale, "removed capture no changefeed needs");
        }
    }
}

/// The other unfinished feeds of `p`'s database: their payloads and the log position each has delivered.
fn other_feeds(
    jobs: &JobRegistry,
    p: &ChangefeedPayload,
    except: i64,
) -> Result<Vec<(ChangefeedPayload, i64)>, JobError> {
    let live = jobs
        .query_with_progress(
            &JobFilter::default()
                .of_type(CHANGEFEED)
                .of_tenant(p.tenant_id)
                .unfinished()
                .unpaged(),
        )
        .map_err(|e| JobError::Retryable(e.to_string()))?;
    Ok(live
        .into_iter()
        .filter(|(j, _)| j.job_id != except)
        // A feed being canceled or failed needs nothing any more: two feeds ending together must not each
        // keep the other's triggers.
        .filter(|(j, _)| {
            !matches!(
                j.state,
                tenantry_jobs::JobState::CancelRequested | tenantry_jobs::JobState::Reverting
            )
        })
        // A feed paused past the protection age holds nothing any more: it fails when resumed.
        .filter(|(j, _)| {
            !(j.state == tenantry_jobs::JobState::Paused
                && tenantry_jobs::now_micros() - j.modified > MAX_PROTECT_AGE.as_micros() as i64)
        })
        .filter_map(|(j, progress)| {
            let other: ChangefeedPayload = serde_json::from_value(j.payload).ok()?;
            (other.database_id == p.database_id).then(|| {
                let seq = checkpoint_of(&progress).map_or(other.start_seq, |c| c.seq);
                (other, seq)
            })
        })
        // Sinkless feeds have no job; they are registered while their statement runs.
        .chain(sinkless::live(p.tenant_id, p.database_id))
        .collect())
}

/// Lets go of what feed `job_id` (or a feed whose job could not be made, with id 0) held: the triggers of its
/// tables no other feed watches, and the log rows every remaining feed has passed. Idempotent.
pub fn release(
    catalog: &Catalog,
    jobs: &JobRegistry,
    p: &ChangefeedPayload,
    job_id: i64,
) -> Result<(), JobError> {
    let _guard = CAPTURE_LOCK.lock();
    let others = other_feeds(jobs, p, job_id)?;
    let conn = match connect_database(catalog, p.tenant_id, &p.database, p.database_id) {
        Ok(c) => c,
        // The database is gone, and its triggers and log with it.
        Err(JobError::Permanent { .. }) => return Ok(()),
        Err(e) => return Err(e),
    };
    conn.execute_batch("BEGIN IMMEDIATE").map_err(retryable)?;
    let done = (|| -> rusqlite::Result<()> {
        for table in &p.tables {
            if !others.iter().any(|(o, _)| o.tables.contains(table)) {
                capture::remove(&conn, &p.database, table)?;
            }
        }
        Ok(())
    })();
    let end = if done.is_ok() { "COMMIT" } else { "ROLLBACK" };
    conn.execute_batch(end).map_err(retryable)?;
    done.map_err(retryable)?;
    let upto = others.iter().map(|(_, s)| *s).min().unwrap_or(i64::MAX);
    if capture::last_seq(&conn, &p.database).map_err(retryable)? == 0 {
        return Ok(());
    }
    // In bounded transactions, so writers wait for none of them long.
    loop {
        conn.execute_batch("BEGIN IMMEDIATE").map_err(retryable)?;
        let trimmed = capture::trim(&conn, &p.database, upto, TRIM_CHUNK);
        let end = if trimmed.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        conn.execute_batch(end).map_err(retryable)?;
        if trimmed.map_err(retryable)? < TRIM_CHUNK {
            return Ok(());
        }
    }
}

/// One run of a feed.
struct Feed<'a> {
    kind: &'a Changefeed,
    job: &'a JobRecord,
    p: &'a ChangefeedPayload,
    options: &'a FeedOptions,
    ctx: &'a JobContext,
    conn: Connection,
    sink: Box<dyn sink::Sink>,
    encoder: encode::Encoder,
    /// Columns per table, in table order (CSV fields).
    columns: std::collections::HashMap<String, Vec<String>>,
    /// Delivered position and time.
    delivered_seq: i64,
    high_water: Hlc,
    scanned: bool,
    emitted_rows: u64,
    emitted_bytes: u64,
}

impl<'a> Feed<'a> {
    fn open(
        kind: &'a Changefeed,
        job: &'a JobRecord,
        p: &'a ChangefeedPayload,
        options: &'a FeedOptions,
        ctx: &'a JobContext,
    ) -> Result<Self, JobError> {
        let conn = connect_database(&kind.catalog, p.tenant_id, &p.database, p.database_id)?;
        let resumed = ctx
            .resume_from()
            .and_then(|v| serde_json::from_value::<Checkpoint>(v.clone()).ok());
        let (delivered_seq, high_water, scanned) = match resumed {
            Some(c) => (
                c.seq,
                Hlc::parse(&c.high_water).unwrap_or(Hlc::at(p.start_wall)),
                c.scanned,
            ),
            None => match options.cursor {
                Some(cursor) => {
                    let seq = cursor_position(&conn, &p.database, &p.tables, cursor)
                        .map_err(retryable)?
                        .map_err(permanent)?;
                    (seq, cursor, options.initial_scan == InitialScan::No)
                }
                None => (
                    p.start_seq,
                    Hlc::at(p.start_wall),
                    options.initial_scan == InitialScan::No,
                ),
            },
        };
        if let Some((first, _)) = capture::first_kept(&conn, &p.database).map_err(retryable)? {
            if first > delivered_seq.saturating_add(1) {
                return Err(permanent(
                    "the changes after the feed's high-water mark are no longer kept: it was paused longer than changefeed.protect_timestamp.max_age",
                ));
            }
        }
        // Webhook batches carry compact JSON (Go's encoder); files carry CockroachDB's JSONB print.
        let (sink, spacing): (Box<dyn sink::Sink>, _) =
            match SinkKind::of(Some(&p.sink)).map_err(permanent)? {
                SinkKind::Webhook => (
                    Box::new(
                        sink::Webhook::open(&p.sink, options, kind.runtime.clone())
                            .map_err(permanent)?,
                    ),
                    encode::Spacing::Compact,
                ),
                SinkKind::Files => {
                    let dir = files_dir(&kind.catalog, p.tenant_id, &p.sink).map_err(permanent)?;
                    (
                        Box::new(sink::Files::open(dir, options).map_err(JobError::Retryable)?),
                        encode::Spacing::Jsonb,
                    )
                }
                SinkKind::Sinkless => return Err(permanent("a sinkless changefeed has no job")),
            };
        Ok(Self {
            kind,
            job,
            p,
            options,
            ctx,
            conn,
            sink,
            encoder: encode::Encoder::new(options, spacing),
            columns: Default::default(),
            delivered_seq,
            high_water,
            scanned,
            emitted_rows: 0,
            emitted_bytes: 0,
        })
    }

    fn run(&mut self) -> Result<(), JobError> {
        if self.check_tables()? {
            self.scanned = false;
        }
        if !self.scanned {
            self.ctx.set_phase("INITIAL_SCAN")?;
            self.initial_scan()?;
            if self.options.initial_scan == InitialScan::Only {
                self.sink.flush(self.ctx)?;
                let p = self.p.clone();
                let id = self.job.job_id;
                return self.ctx.finish(|| self.kind.release(&p, id));
            }
        }
        self.ctx.set_phase("RUNNING")?;
        self.stream()
    }

    /// Looks at the watched tables after a schema change anywhere in the database: a dropped table ends the
    /// feed; a table whose columns changed (or whose capture is gone) follows `schema_change_policy`. Returns
    /// whether the tables must be sent again (`backfill`).
    fn check_tables(&mut self) -> Result<bool, JobError> {
        let mut backfill = false;
        for table in self.p.tables.clone() {
            let shape = capture::shape(&self.conn, &self.p.database, &table).map_err(retryable)?;
            let Some(shape) = shape else {
                return Err(permanent(format!("table \"{table}\" was dropped")));
            };
            let captured =
                capture::is_captured(&self.conn, &self.p.database, &table).map_err(retryable)?;
            if !captured {
                self.reinstall(&table)?;
            }
            let old = self.columns.insert(table.clone(), shape.columns.clone());
            let changed = !captured || old.is_some_and(|old| old != shape.columns);
            if changed {
                match self.options.schema_change_policy {
                    SchemaChangePolicy::Stop => {
                        return Err(permanent(format!(
                            "schema change occurred at {}: shut down due to schema change and schema_change_policy=\"stop\"",
                            self.high_water
                        )))
                    }
                    SchemaChangePolicy::Backfill => backfill = true,
                    SchemaChangePolicy::NoBackfill => {}
                }
            }
        }
        Ok(backfill)
    }

    fn reinstall(&self, table: &str) -> Result<(), JobError> {
        crate::schema_change::begin_write(&self.conn, self.ctx)?;
        let done = capture::install(&self.conn, &self.p.database, table, None);
        let end = if done.is_ok() { "COMMIT" } else { "ROLLBACK" };
        self.conn.execute_batch(end).map_err(retryable)?;
        done.map_err(retryable).map(|_| ())
    }

    /// Sends every row of the tables as they were at the feed's position (its creation, its cursor, or the
    /// point a backfill starts from), then lets the stream go on from that same position.
    ///
    /// The job may start after writes that followed CREATE CHANGEFEED (or resume a scan a crash interrupted),
    /// so the rows are read as of now and taken back to the feed's position through the log: a key changed
    /// since then is sent as its first change's before-image (or not at all, if it did not exist then). Every
    /// version after the position then comes from the log, in order.
    fn initial_scan(&mut self) -> Result<(), JobError> {
        self.conn.execute_batch("BEGIN").map_err(retryable)?;
        let scanned = self.scan_in_snapshot();
        let _ = self.conn.execute_batch("COMMIT");
        scanned?;
        self.sink.flush(self.ctx)?;
        self.scanned = true;
        self.save();
        Ok(())
    }

    fn scan_in_snapshot(&mut self) -> Result<(), JobError> {
        let db = self.p.database.clone();
        // The state at the feed's position of every key changed since: its first change's before-image.
        let mut changed: std::collections::HashMap<(String, String), Option<String>> =
            Default::default();
        let mut seq = self.delivered_seq;
        loop {
            self.ctx.check()?;
            let batch = capture::read_after(&self.conn, &db, seq, BATCH).map_err(retryable)?;
            let Some(last) = batch.last() else {
                break;
            };
            seq = last.seq;
            for c in batch {
                if self.p.tables.contains(&c.table) {
                    changed.entry((c.table, c.key)).or_insert(c.before);
                }
            }
        }
        for table in self.p.tables.clone() {
            let shape = capture::shape(&self.conn, &db, &table)
                .map_err(retryable)?
                .ok_or_else(|| permanent(format!("table \"{table}\" was dropped")))?;
            let sql = capture::scan_sql(&db, &table, &shape);
            let mut out = ScanOut {
                sink: self.sink.as_mut(),
                encoder: &self.encoder,
                ctx: self.ctx,
                ts: self.high_water,
                rows: &mut self.emitted_rows,
                bytes: &mut self.emitted_bytes,
            };
            let mut stmt = self.conn.prepare(&sql).map_err(retryable)?;
            let mut rows = stmt.query([]).map_err(retryable)?;
            let mut scanned_rows: Vec<(String, String)> = Vec::with_capacity(1024);
            loop {
                // Rows are read in runs, so the statement is not borrowed while they are sent.
                let row = rows.next().map_err(retryable)?;
                let Some(row) = row else {
                    break;
                };
                let text = |i| -> Result<&str, JobError> {
                    row.get_ref(i)
                        .and_then(|v| v.as_str().map_err(Into::into))
                        .map_err(retryable)
                };
                let (key, after) = (text(0)?, text(1)?);
                // No key changed since the position (the usual case): the row goes out as it is read.
                if changed.is_empty() {
                    out.emit(&table, key, after, &shape.columns)?;
                    continue;
                }
                scanned_rows.push((key.to_string(), after.to_string()));
                if scanned_rows.len() == 1024 {
                    out.send(&table, &mut scanned_rows, &mut changed, &shape.columns)?;
                }
            }
            out.send(&table, &mut scanned_rows, &mut changed, &shape.columns)?;
            // Keys deleted since the position: they are sent as they were then.
            let gone: Vec<(String, String)> = changed
                .iter()
                .filter(|((t, _), _)| *t == table)
                .filter_map(|((_, k), before)| Some((k.clone(), before.clone()?)))
                .collect();
            for (key, row) in gone {
                out.emit(&table, &key, &row, &shape.columns)?;
            }
        }
        Ok(())
    }

    /// Streams the log from the delivered position until the job stops (or `end_time`).
    fn stream(&mut self) -> Result<(), JobError> {
        let mut read_seq = self.delivered_seq;
        let mut read_hlc = self.high_water;
        let mut last_checkpoint = Instant::now();
        let mut last_resolved = Instant::now();
        let mut last_trim = Instant::now() - TRIM_PERIOD;
        let mut resolved_sent = self.high_water;
        let tables: std::collections::HashSet<&str> =
            self.p.tables.iter().map(String::as_str).collect();
        let mut schema_version = self.schema_version()?;
        // A column change waits to be backfilled until the changes before it are all read.
        let mut backfill_pending = false;
        loop {
            self.ctx.check()?;
            // A DDL statement anywhere in the database moves its schema version; only then are the watched
            // tables looked at again.
            let version = self.schema_version()?;
            if version != schema_version {
                schema_version = version;
                backfill_pending |= self.check_tables()?;
            }
            let changes = capture::read_after(&self.conn, &self.p.database, read_seq, BATCH)
                .map_err(retryable)?;
            let idle = changes.is_empty();
            let mut ended = false;
            for change in &changes {
                if !tables.contains(change.table.as_str()) {
                    read_seq = change.seq;
                    continue;
                }
                let ts = read_hlc.next(change.written_ms.saturating_mul(1_000_000));
                if self.options.end_time.is_some_and(|end| ts > end) {
                    ended = true;
                    break;
                }
                let event = encode::Event {
                    table: &change.table,
                    key: &change.key,
                    after: change.after.as_deref(),
                    before: change.before.as_deref(),
                    ts,
                };
                let columns = self.columns.get(&change.table).cloned().unwrap_or_default();
                if let Some(value) = self.encoder.value(&event, &columns).map_err(permanent)? {
                    self.emitted_bytes += value.len() as u64;
                    self.sink.emit(&change.table, value, ts);
                }
                self.emitted_rows += 1;
                read_seq = change.seq;
                read_hlc = ts;
                if self.sink.buffered_bytes() > MAX_BUFFERED {
                    self.deliver(read_seq, read_hlc)?;
                }
            }
            if ended
                || self
                    .options
                    .end_time
                    .is_some_and(|end| idle && Hlc::now() > end)
            {
                self.deliver(read_seq, read_hlc)?;
                let p = self.p.clone();
                let id = self.job.job_id;
                return self.ctx.finish(|| self.kind.release(&p, id));
            }
            let checkpoint_due = last_checkpoint.elapsed() >= self.options.min_checkpoint_frequency;
            if self.sink.wants_flush() || checkpoint_due {
                self.deliver(read_seq, read_hlc)?;
            }
            if checkpoint_due && (self.delivered_seq != read_seq || idle) {
                self.deliver(read_seq, read_hlc)?;
                if idle {
                    // Nothing is left unread: everything up to now is delivered.
                    read_hlc = read_hlc.next(now_nanos());
                    self.high_water = read_hlc;
                }
                self.save();
                last_checkpoint = Instant::now();
            }
            if let Some(every) = self.options.resolved {
                let period = every.max(self.options.min_checkpoint_frequency);
                if self.high_water > resolved_sent && last_resolved.elapsed() >= period {
                    self.sink.flush(self.ctx)?;
                    let message = self.encoder.resolved(self.high_water);
                    self.sink.resolved(message, self.high_water, self.ctx)?;
                    resolved_sent = self.high_water;
                    last_resolved = Instant::now();
                }
            }
            if last_trim.elapsed() >= TRIM_PERIOD {
                self.trim()?;
                last_trim = Instant::now();
            }
            if idle && backfill_pending {
                // The tables again in their new shape, as of now (everything before is delivered first).
                self.deliver(read_seq, read_hlc)?;
                read_hlc = read_hlc.next(now_nanos());
                self.high_water = read_hlc;
                self.initial_scan()?;
                backfill_pending = false;
                continue;
            }
            // Only a full batch means more is waiting: otherwise the feed is caught up and waits a poll period
            // (at a trickle of writes it would else spin on one change at a time, taking a core from them).
            if changes.len() < BATCH {
                std::thread::sleep(POLL);
            }
        }
    }

    /// Delivers what the sink holds; afterwards the feed's position is `seq` / `ts`.
    fn deliver(&mut self, seq: i64, ts: Hlc) -> Result<(), JobError> {
        self.sink.flush(self.ctx)?;
        self.delivered_seq = seq;
        self.high_water = self.high_water.max(ts);
        Ok(())
    }

    /// Records the delivered position as the job's checkpoint, with the figures SHOW CHANGEFEED JOBS shows.
    fn save(&self) {
        self.ctx.checkpoint(
            serde_json::to_value(Checkpoint {
                seq: self.delivered_seq,
                high_water: self.high_water.to_string(),
                scanned: self.scanned,
            })
            .unwrap_or_default(),
        );
        self.ctx.set_progress(
            0.0,
            format!("running: resolved={}", self.high_water.seconds_form()),
        );
        self.ctx
            .set_detail("high_water_timestamp", self.high_water.to_string());
        self.ctx.set_detail("emitted_rows", self.emitted_rows);
        self.ctx.set_detail("emitted_bytes", self.emitted_bytes);
        let lag_ms = (now_nanos() - self.high_water.wall).max(0) / 1_000_000;
        self.ctx.set_detail("lag_ms", lag_ms);
    }

    fn schema_version(&self) -> Result<i64, JobError> {
        self.conn
            .query_row(
                &format!("PRAGMA {}.schema_version", quote(&self.p.database)),
                [],
                |r| r.get(0),
            )
            .map_err(retryable)
    }

    /// Deletes the log rows every feed of the database has delivered (by their saved checkpoints).
    fn trim(&mut self) -> Result<(), JobError> {
        let others = self.kind.other_feeds(self.p, self.job.job_id)?;
        // Our own position counts only once saved: a crash resumes from the saved one.
        let mine = self.saved_seq().unwrap_or(self.p.start_seq);
        let upto = others.iter().map(|(_, s)| *s).fold(mine, i64::min);
        if capture::first_kept(&self.conn, &self.p.database)
            .map_err(retryable)?
            .is_none_or(|(first, _)| first > upto)
        {
            return Ok(());
        }
        // Opportunistic and in bounded transactions: if a writer holds the database, the rest waits for a
        // later pass; no writer waits long for one.
        self.conn.busy_timeout(Duration::ZERO).map_err(retryable)?;
        for _ in 0..TRIM_CHUNKS_PER_PASS {
            self.ctx.check()?;
            if self.conn.execute_batch("BEGIN IMMEDIATE").is_err() {
                break;
            }
            let trimmed = capture::trim(&self.conn, &self.p.database, upto, TRIM_CHUNK);
            let end = if trimmed.is_ok() {
                "COMMIT"
            } else {
                "ROLLBACK"
            };
            let _ = self.conn.execute_batch(end);
            if trimmed.map_err(retryable)? < TRIM_CHUNK {
                break;
            }
        }
        self.conn
            .busy_timeout(Duration::from_secs(10))
            .map_err(retryable)?;
        if let Ok(rows) = capture::log_rows(&self.conn, &self.p.database) {
            self.ctx.set_detail("log_rows", rows);
        }
        Ok(())
    }

    /// The position of this feed's saved checkpoint, as the registry stored it.
    fn saved_seq(&self) -> Option<i64> {
        let jobs = self.kind.jobs.upgrade()?;
        let progress = jobs.progress(self.job.job_id).ok().flatten()?;
        checkpoint_of(&progress).map(|c| c.seq)
    }
}

/// Where an initial scan's rows go: the feed's sink, encoder and counters, borrowed apart from its connection.
struct ScanOut<'s> {
    sink: &'s mut dyn sink::Sink,
    encoder: &'s encode::Encoder,
    ctx: &'s JobContext,
    ts: Hlc,
    rows: &'s mut u64,
    bytes: &'s mut u64,
}

impl ScanOut<'_> {
    fn emit(
        &mut self,
        table: &str,
        key: &str,
        row: &str,
        columns: &[String],
    ) -> Result<(), JobError> {
        let event = encode::Event {
            table,
            key,
            after: Some(row),
            before: None,
            ts: self.ts,
        };
        if let Some(value) = self.encoder.value(&event, columns).map_err(permanent)? {
            *self.bytes += value.len() as u64;
            self.sink.emit(table, value, self.ts);
        }
        *self.rows += 1;
        if self.rows.is_multiple_of(1024) {
            self.ctx.check()?;
            if self.sink.wants_flush() || self.sink.buffered_bytes() > MAX_BUFFERED {
                self.sink.flush(self.ctx)?;
            }
            self.ctx.set_detail("emitted_rows", *self.rows);
        }
        Ok(())
    }

    /// Sends scanned rows as they were at the feed's position (see [`Feed::initial_scan`]).
    fn send(
        &mut self,
        table: &str,
        rows: &mut Vec<(String, String)>,
        changed: &mut std::collections::HashMap<(String, String), Option<String>>,
        columns: &[String],
    ) -> Result<(), JobError> {
        for (key, row) in std::mem::take(rows) {
            match changed.remove(&(table.to_string(), key.clone())) {
                None => self.emit(table, &key, &row, columns)?,
                Some(Some(then)) => self.emit(table, &key, &then, columns)?,
                // Inserted after the position: the log sends it.
                Some(None) => {}
            }
        }
        Ok(())
    }
}

/// The directory a `file://` / `nodelocal://` sink writes to, inside the tenant's part of the external-IO
/// directory (resolved again whenever the feed runs, as backup destinations are).
pub fn files_dir(
    catalog: &Catalog,
    tenant_id: i64,
    uri: &str,
) -> Result<std::path::PathBuf, String> {
    let tenant = catalog
        .tenant_by_id(tenant_id)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("tenant {tenant_id} does not exist"))?;
    // The sink's own query parameters are not part of the path.
    let path = uri.split_once('?').map_or(uri, |(p, _)| p);
    catalog
        .storage()
        .external()
        .resolve(tenant.external_scope(), path)
        .map_err(|e| e.to_string())
}
