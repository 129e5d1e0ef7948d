//! Sinkless ("core") changefeeds: `EXPERIMENTAL CHANGEFEED FOR t` / `CREATE CHANGEFEED FOR t` without INTO. No
//! job: the statement's own thread reads the log and its client gets `table, key, value` rows until it goes
//! away, the statement is canceled, or `end_time` passes (CockroachDB's rules). While it runs it is registered
//! here, so the database's other feeds neither remove its tables' triggers nor trim the log past it.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use rusqlite::Connection;
use tenantry_catalog::Catalog;
use tenantry_jobs::{JobError, JobRegistry};

use super::encode::{Encoder, Event, Spacing};
use super::options::FeedOptions;
use super::{
    capture, capture_guard, now_nanos, release, start_capture, ChangefeedPayload, Hlc, BATCH,
};
use crate::schema_change::{connect_database, retryable};

/// A running sinkless feed, as the other feeds see it.
struct Registration {
    id: u64,
    payload: ChangefeedPayload,
    seq: Arc<AtomicI64>,
}

static LIVE: parking_lot::Mutex<Vec<Registration>> = parking_lot::Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The running sinkless feeds of a database, with the log position each has read.
pub(super) fn live(tenant_id: i64, database_id: i64) -> Vec<(ChangefeedPayload, i64)> {
    LIVE.lock()
        .iter()
        .filter(|r| r.payload.tenant_id == tenant_id && r.payload.database_id == database_id)
        .map(|r| (r.payload.clone(), r.seq.load(Ordering::SeqCst)))
        .collect()
}

/// One row for the client: the table (NULL for a resolved message), the key (NULL for one), the value.
pub type Row = (Option<String>, Option<String>, Option<String>);

/// A sinkless feed's reader.
pub struct Sinkless {
    id: u64,
    conn: Connection,
    payload: ChangefeedPayload,
    encoder: Encoder,
    seq: Arc<AtomicI64>,
    hlc: Hlc,
    end_time: Option<Hlc>,
    resolved_every: Option<std::time::Duration>,
    last_resolved: std::time::Instant,
}

impl Sinkless {
    /// Starts capturing `tables` and registers the feed. Blocking.
    pub fn start(
        catalog: &Catalog,
        tenant_id: i64,
        database: &str,
        database_id: i64,
        tables: Vec<String>,
        options: &FeedOptions,
    ) -> Result<Self, JobError> {
        let conn = connect_database(catalog, tenant_id, database, database_id)?;
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let guard = capture_guard();
        let start = start_capture(catalog, tenant_id, database, database_id, &tables)?;
        let payload = ChangefeedPayload {
            tenant_id,
            database: database.to_string(),
            database_id,
            tables,
            sink: String::new(),
            options: Vec::new(),
            start_seq: start,
            start_wall: now_nanos(),
        };
        let seq = Arc::new(AtomicI64::new(start));
        LIVE.lock().push(Registration {
            id,
            payload: payload.clone(),
            seq: seq.clone(),
        });
        drop(guard);
        Ok(Self {
            id,
            conn,
            payload,
            encoder: Encoder::new(options, Spacing::Jsonb),
            seq,
            hlc: Hlc::now(),
            end_time: options.end_time,
            resolved_every: options.resolved,
            last_resolved: std::time::Instant::now(),
        })
    }

    fn row(
        &self,
        table: &str,
        key: &str,
        after: Option<&str>,
        before: Option<&str>,
        ts: Hlc,
        columns: &[String],
    ) -> Result<Row, JobError> {
        let event = Event {
            table,
            key,
            after,
            before,
            ts,
        };
        let value = self
            .encoder
            .value(&event, columns)
            .map_err(|e| JobError::Retryable(e.to_string()))?;
        let key = self
            .encoder
            .key(&event)
            .map_err(|e| JobError::Retryable(e.to_string()))?;
        Ok((Some(table.to_string()), Some(key), value))
    }

    /// Sends every row of the tables as of one snapshot to `emit` (in runs), and goes on from that snapshot's
    /// log position.
    pub fn scan<E: From<JobError>>(
        &mut self,
        mut emit: impl FnMut(Vec<Row>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.conn.execute_batch("BEGIN").map_err(retryable)?;
        let scanned = (|| -> Result<i64, E> {
            let db = self.payload.database.clone();
            let at = capture::last_seq(&self.conn, &db).map_err(retryable)?;
            self.hlc = self.hlc.next(now_nanos());
            for table in self.payload.tables.clone() {
                let shape = capture::shape(&self.conn, &db, &table)
                    .map_err(retryable)?
                    .ok_or_else(|| JobError::Retryable(format!("table \"{table}\" was dropped")))?;
                let sql = capture::scan_sql(&db, &table, &shape);
                let mut stmt = self.conn.prepare(&sql).map_err(retryable)?;
                let mut rows = stmt.query([]).map_err(retryable)?;
                let mut run = Vec::new();
                while let Some(r) = rows.next().map_err(retryable)? {
                    let key: String = r.get(0).map_err(retryable)?;
                    let after: String = r.get(1).map_err(retryable)?;
                    run.push(self.row(
                        &table,
                        &key,
                        Some(&after),
                        None,
                        self.hlc,
                        &shape.columns,
                    )?);
                    if run.len() == 256 {
                        emit(std::mem::take(&mut run))?;
                    }
                }
                if !run.is_empty() {
                    emit(run)?;
                }
            }
            Ok(at)
        })();
        let _ = self.conn.execute_batch("COMMIT");
        self.seq.store(scanned?, Ordering::SeqCst);
        Ok(())
    }

    /// The changes after the feed's position (at most one batch), and whether `end_time` has passed (the feed
    /// is then over). A resolved row comes when the feed is caught up and `resolved` is due.
    pub fn read_changes(&mut self) -> Result<(Vec<Row>, bool), JobError> {
        let db = self.payload.database.clone();
        let changes = capture::read_after(&self.conn, &db, self.seq.load(Ordering::SeqCst), BATCH)
            .map_err(retryable)?;
        let mut out = Vec::with_capacity(changes.len());
        for c in &changes {
            if self.payload.tables.contains(&c.table) {
                let ts = self.hlc.next(c.written_ms.saturating_mul(1_000_000));
                if self.end_time.is_some_and(|end| ts > end) {
                    return Ok((out, true));
                }
                out.push(self.row(
                    &c.table,
                    &c.key,
                    c.after.as_deref(),
                    c.before.as_deref(),
                    ts,
                    &[],
                )?);
                self.hlc = ts;
            }
            self.seq.store(c.seq, Ordering::SeqCst);
        }
        if changes.is_empty() {
            if self.end_time.is_some_and(|end| Hlc::now() > end) {
                return Ok((out, true));
            }
            if let Some(every) = self.resolved_every {
                if self.last_resolved.elapsed() >= every {
                    self.hlc = self.hlc.next(now_nanos());
                    out.push((None, None, Some(self.encoder.resolved(self.hlc))));
                    self.last_resolved = std::time::Instant::now();
                }
            }
        }
        Ok((out, false))
    }

    /// Ends the feed: unregisters it and lets go of what only it held. Blocking.
    pub fn finish(self, catalog: &Catalog, jobs: &JobRegistry) {
        LIVE.lock().retain(|r| r.id != self.id);
        if let Err(e) = release(catalog, jobs, &self.payload, 0) {
            tracing::warn!(database = %self.payload.database, "ending a sinkless changefeed: {e}");
        }
    }
}
