//! `SCHEMA CHANGE` jobs: CREATE INDEX, ALTER TABLE, DROP TABLE / INDEX.
//!
//! The work runs the statements in one write transaction on its own connection. SQLite's progress handler
//! is the unit boundary: every few thousand VM steps it checks the job's cancellation token (returning true
//! aborts the statement, and SQLite rolls the whole transaction back), reports an estimate of rows done, and
//! paces the work to `bulk_io_max_rate`. So a cancel leaves the table exactly as it was, and costs a rollback.
//! Nothing commits unless the run still owns the job (fencing). Undo reverts a change that did commit before a
//! cancel was noticed, and is idempotent.

use std::sync::Arc;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use tenantry_catalog::Catalog;
use tenantry_jobs::{JobContext, JobError, JobKind, JobRecord};

use crate::Throttle;

/// One step of a schema change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Step {
    /// `CREATE [UNIQUE] INDEX`; `index` is the SQLite index name.
    CreateIndex {
        /// SQLite index name.
        index: String,
        /// The statement.
        sql: String,
    },
    /// `ALTER TABLE ... ADD COLUMN`.
    AddColumn {
        /// The column.
        column: String,
        /// The statement.
        sql: String,
    },
    /// Anything else (drops, renames): not reverted by undo, so jobs with such steps are not cancelable.
    Exec {
        /// The statement.
        sql: String,
    },
}

/// What a schema change job does.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SchemaChangePayload {
    /// The tenant.
    pub tenant_id: i64,
    /// The database (its name is the schema name the statements use).
    pub database: String,
    /// The database's catalog id when the job was created (a database dropped and re-created is not the same).
    pub database_id: i64,
    /// The table the change is about.
    pub table: String,
    /// The steps, run in order in one transaction.
    pub steps: Vec<Step>,
}

impl SchemaChangePayload {
    /// Whether undo can revert every step (so the job may be canceled).
    pub fn cancelable(&self) -> bool {
        self.steps.iter().all(|s| !matches!(s, Step::Exec { .. }))
    }
}

/// Progress handler period, in SQLite VM steps (a few microseconds of work).
const STEPS_PER_CHECK: i32 = 4000;
/// A rough count of VM steps per row for index builds and table rewrites, for the rows-done estimate.
const STEPS_PER_ROW: f64 = 12.0;

/// The schema change kind.
pub struct SchemaChange {
    catalog: Arc<Catalog>,
}

impl SchemaChange {
    /// A kind that finds database files through `catalog`.
    pub fn new(catalog: Arc<Catalog>) -> Self {
        Self { catalog }
    }

    fn connect(&self, p: &SchemaChangePayload) -> Result<Connection, JobError> {
        let entry = self
            .catalog
            .database(p.tenant_id, &p.database)
            .map_err(|e| JobError::Retryable(e.to_string()))?
            .filter(|d| d.database_id == p.database_id)
            .ok_or_else(|| JobError::Permanent {
                code: -5154,
                message: format!("database '{}' no longer exists", p.database),
            })?;
        let path = self
            .catalog
            .storage()
            .database_path(p.tenant_id, entry.database_id);
        let conn = Connection::open_in_memory().map_err(retryable)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(retryable)?;
        conn.execute(
            &format!("ATTACH DATABASE ?1 AS {}", quote(&p.database)),
            [path.to_string_lossy()],
        )
        .map_err(retryable)?;
        tenantry_storage::configure_connection(&conn, &p.database)
            .map_err(|e| JobError::Retryable(e.to_string()))?;
        Ok(conn)
    }
}

fn retryable(e: rusqlite::Error) -> JobError {
    JobError::Retryable(e.to_string())
}

fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn payload(job: &JobRecord) -> Result<SchemaChangePayload, JobError> {
    serde_json::from_value(job.payload.clone()).map_err(|e| JobError::Permanent {
        code: -4016,
        message: format!("bad schema change payload: {e}"),
    })
}

fn index_exists(conn: &Connection, db: &str, index: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        &format!(
            "SELECT EXISTS(SELECT 1 FROM {}.sqlite_master WHERE type = 'index' AND name = ?1)",
            quote(db)
        ),
        [index],
        |r| r.get(0),
    )
}

fn column_exists(conn: &Connection, db: &str, table: &str, column: &str) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare(&format!(
        "PRAGMA {}.table_info({})",
        quote(db),
        quote(table)
    ))?;
    let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
    for n in names {
        if n?.eq_ignore_ascii_case(column) {
            return Ok(true);
        }
    }
    Ok(false)
}

impl JobKind for SchemaChange {
    fn run(&self, job: &JobRecord, ctx: &JobContext) -> Result<(), JobError> {
        let p = payload(job)?;
        let conn = self.connect(&p)?;
        ctx.check()?;
        let (db, table) = (p.database.as_str(), p.table.as_str());
        let total_rows: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM {}.{}", quote(db), quote(table)),
                [],
                |r| r.get(0),
            )
            .unwrap_or(0);
        let page_bytes: i64 = conn
            .query_row(&format!("SELECT page_count * page_size FROM pragma_page_count({0}), pragma_page_size({0})", format_args!("'{}'", db.replace('\'', "''"))), [], |r| r.get(0))
            .unwrap_or(0);
        let bytes_per_row = if total_rows > 0 {
            (page_bytes / total_rows).max(1)
        } else {
            1
        };
        ctx.set_detail("rows_total", total_rows);
        ctx.set_progress(0.0, format!("starting: {total_rows} rows"));
        let rate = self.catalog.bulk_io_max_rate().unwrap_or(0);
        begin_write(&conn, ctx)?;
        // The progress handler is the unit boundary of the work: it stops it, reports it and paces it.
        {
            let ctx = ctx.clone();
            let throttle = Throttle::new(rate);
            let mut steps: u64 = 0;
            let total = total_rows.max(1) as f64;
            let mut last_report = std::time::Instant::now();
            conn.progress_handler(
                STEPS_PER_CHECK,
                Some(move || {
                    steps += STEPS_PER_CHECK as u64;
                    let rows = (steps as f64 / STEPS_PER_ROW).min(total);
                    if last_report.elapsed() >= std::time::Duration::from_millis(200) {
                        last_report = std::time::Instant::now();
                        ctx.set_detail("rows_done", rows as i64);
                        ctx.set_progress(
                            (rows / total).min(0.99),
                            format!("about {} of {} rows", rows as i64, total as i64),
                        );
                    }
                    let bytes = (rows as u64).saturating_mul(bytes_per_row as u64);
                    !throttle.pace(bytes, || ctx.is_interrupted())
                }),
            );
        }
        let result = (|| -> Result<(), JobError> {
            for step in &p.steps {
                let sql = match step {
                    Step::CreateIndex { index, sql } => {
                        if index_exists(&conn, db, index).map_err(retryable)? {
                            continue;
                        }
                        sql
                    }
                    Step::AddColumn { column, sql } => {
                        if column_exists(&conn, db, table, column).map_err(retryable)? {
                            continue;
                        }
                        sql
                    }
                    Step::Exec { sql } => sql,
                };
                conn.execute_batch(sql)
                    .map_err(|e| map_step_error(e, ctx))?;
            }
            if !ctx.still_owner() {
                return Err(JobError::Interrupted);
            }
            Ok(())
        })();
        conn.progress_handler(0, None::<fn() -> bool>);
        match result {
            Ok(()) => {
                conn.execute_batch("COMMIT").map_err(retryable)?;
                ctx.set_detail("rows_done", total_rows);
                ctx.set_progress(1.0, format!("done: {total_rows} rows"));
                Ok(())
            }
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn undo(&self, job: &JobRecord, ctx: &JobContext) -> Result<(), JobError> {
        let p = payload(job)?;
        let conn = match self.connect(&p) {
            Ok(c) => c,
            // The database is gone, and with it whatever the job did.
            Err(JobError::Permanent { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        let (db, table) = (p.database.as_str(), p.table.as_str());
        // Usually the work's transaction rolled back and there is nothing to revert: find out without taking
        // the write lock, so a cancel never waits behind other writers for nothing.
        let mut pending = false;
        for step in &p.steps {
            pending |= match step {
                Step::CreateIndex { index, .. } => {
                    index_exists(&conn, db, index).map_err(retryable)?
                }
                Step::AddColumn { column, .. } => {
                    column_exists(&conn, db, table, column).map_err(retryable)?
                }
                Step::Exec { .. } => false,
            };
        }
        if !pending {
            return Ok(());
        }
        begin_write(&conn, ctx)?;
        let result = (|| -> rusqlite::Result<()> {
            for step in p.steps.iter().rev() {
                match step {
                    Step::CreateIndex { index, .. } => {
                        conn.execute_batch(&format!(
                            "DROP INDEX IF EXISTS {}.{}",
                            quote(db),
                            quote(index)
                        ))?;
                    }
                    Step::AddColumn { column, .. } => {
                        if column_exists(&conn, db, table, column)? {
                            conn.execute_batch(&format!(
                                "ALTER TABLE {}.{} DROP COLUMN {}",
                                quote(db),
                                quote(table),
                                quote(column)
                            ))?;
                        }
                    }
                    Step::Exec { .. } => {}
                }
            }
            Ok(())
        })();
        match result {
            Ok(()) => conn.execute_batch("COMMIT").map_err(retryable),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(retryable(e))
            }
        }
    }
}

/// Takes the database's write lock, waiting as long as another writer holds it but stopping at once on a cancel
/// (SQLite's own busy wait would not notice one).
fn begin_write(conn: &Connection, ctx: &JobContext) -> Result<(), JobError> {
    conn.busy_timeout(std::time::Duration::from_millis(20))
        .map_err(retryable)?;
    let mut waited = false;
    loop {
        match conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => break,
            Err(rusqlite::Error::SqliteFailure(f, _))
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                if !waited {
                    ctx.set_progress(0.0, "waiting for the table's write lock");
                    waited = true;
                }
                ctx.check()?;
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(e) => return Err(retryable(e)),
        }
    }
    // Statements inside the transaction never wait for locks again; keep a normal timeout for safety.
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(retryable)?;
    Ok(())
}

/// An interrupted statement is the cancel (or pause) taking effect; anything else fails the job.
fn map_step_error(e: rusqlite::Error, ctx: &JobContext) -> JobError {
    if ctx.is_interrupted() {
        return JobError::Interrupted;
    }
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy => {
            retryable(e)
        }
        _ => JobError::Permanent {
            code: -4016,
            message: e.to_string(),
        },
    }
}
