//! `RESTORE` jobs: a complete backup set written back into database files.
//!
//! Three targets share the work: a new tenant (OceanBase's `ALTER SYSTEM RESTORE`), a new database of an
//! existing tenant, or one table into an existing database (CockroachDB's `RESTORE DATABASE` / `RESTORE TABLE`).
//! Every chunk is verified against its hash as it is read. Nothing restored is visible before the job
//! succeeds: a new tenant stays CREATING (it serves no login), and databases and tables are staged in files
//! of their own and adopted in the job's final step. The undo removes whatever was made, so a canceled or
//! failed restore leaves nothing behind and the names (and the pool) can be used again.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tenantry_backup::{restore_database, BackupError, BackupStore, DatabaseImage, Manifest};
use tenantry_catalog::{Catalog, CompatibilityMode, TenantImage};
use tenantry_jobs::{JobContext, JobError, JobKind, JobRecord};
use tokio::runtime::Handle;

use crate::Throttle;
use tenantry_jobs::ob_codes;

/// The job type name of restores.
pub const RESTORE: &str = "RESTORE";

/// What a restore writes into.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RestoreTarget {
    /// A new tenant bound to `pool`.
    Tenant {
        /// The new tenant's name.
        name: String,
        /// The pool it is bound to.
        pool: String,
    },
    /// A new database `new_name` of an existing tenant, from the set's `database`.
    Database {
        /// The tenant restored into.
        tenant_id: i64,
        /// The database in the set.
        database: String,
        /// Its name once restored.
        new_name: String,
    },
    /// One table of the set into an existing database of the same name.
    Table {
        /// The tenant restored into.
        tenant_id: i64,
        /// The database (in the set and in the tenant).
        database: String,
        /// The table.
        table: String,
    },
}

/// What a restore job does.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RestorePayload {
    /// Where the restored data goes.
    pub target: RestoreTarget,
    /// The destination URI holding the set.
    pub dest: String,
    /// The tenant the set is a backup of.
    pub source_tenant_id: i64,
    /// Its name when it was backed up.
    pub source_tenant_name: String,
    /// The set restored.
    pub set_id: i64,
    /// The set's cut (microseconds since the epoch).
    pub cut_time_us: i64,
    /// Bytes the restore writes.
    pub total_bytes: u64,
    /// UNTIL TIME as given.
    #[serde(default)]
    pub until: Option<String>,
    /// DESCRIPTION.
    #[serde(default)]
    pub description: String,
}

/// The restore kind.
pub struct Restore {
    catalog: Arc<Catalog>,
    runtime: Handle,
}

impl Restore {
    /// A kind that builds tenants and databases in `catalog` and reads destinations on `runtime`.
    pub fn new(catalog: Arc<Catalog>, runtime: Handle) -> Self {
        Self { catalog, runtime }
    }

    fn staging_path(&self, tenant_id: i64, job_id: i64) -> PathBuf {
        self.catalog
            .storage()
            .tenant_dir(tenant_id)
            .join(format!("restore_{job_id}.staging"))
    }

    /// Writes the image's pages into `path` (skipped if a finished file is there from an earlier run),
    /// reporting bytes done and pacing to `bulk_io_max_rate`.
    fn restore_file(
        &self,
        image: &DatabaseImage,
        store: &BackupStore,
        path: &std::path::Path,
        progress: &mut Progress,
        ctx: &JobContext,
    ) -> Result<(), JobError> {
        let bytes = u64::from(image.page_count) * u64::from(image.page_size);
        if path.exists() {
            progress.add(bytes, ctx);
            return Ok(());
        }
        let mut stopped_at = None;
        let result = restore_database(image, store, path, |n| {
            if ctx.is_interrupted() {
                stopped_at = Some(std::time::Instant::now());
                return Err(BackupError::Stopped);
            }
            progress.add(n, ctx);
            if progress
                .throttle
                .pace(progress.done, || ctx.is_interrupted())
            {
                Ok(())
            } else {
                stopped_at = Some(std::time::Instant::now());
                Err(BackupError::Stopped)
            }
        });
        if let Some(at) = stopped_at {
            // A stop's cost (the chunks in flight, removing the partial file) is part of cancel latency.
            tracing::debug!(
                elapsed_ms = at.elapsed().as_secs_f64() * 1e3,
                "restore stopped, partial file removed"
            );
        }
        result.map_err(|e| from_backup(e, &progress.set_name))
    }

    fn run_tenant(
        &self,
        job: &JobRecord,
        p: &RestorePayload,
        manifest: &Manifest,
        store: &BackupStore,
        ctx: &JobContext,
    ) -> Result<(), JobError> {
        let RestoreTarget::Tenant { name, pool } = &p.target else {
            return Err(permanent(ob_codes::ERR_UNEXPECTED, "not a tenant restore"));
        };
        ctx.set_phase("CREATE_TENANT")?;
        let image: TenantImage = serde_json::from_value(manifest.catalog.clone()).map_err(|e| {
            permanent(
                ob_codes::BACKUP_SET_INVALID,
                format!("backup set {}: catalog: {e}", p.set_id),
            )
        })?;
        let mode = image
            .mode
            .as_deref()
            .and_then(CompatibilityMode::parse)
            .unwrap_or(CompatibilityMode::Mysql);
        let names: Vec<String> = manifest.databases.iter().map(|d| d.name.clone()).collect();
        let (tenant, dbs) = self
            .catalog
            .begin_tenant_build(job.job_id, name, mode, pool, &names)
            .map_err(catalog_err)?;
        ctx.set_detail("restore_tenant_id", tenant.tenant_id);
        ctx.set_phase("RESTORE_DATA")?;
        let mut progress = Progress::new(p, &self.catalog);
        for image in &manifest.databases {
            let Some(entry) = dbs
                .iter()
                .find(|d| d.name.eq_ignore_ascii_case(&image.name))
            else {
                continue;
            };
            let path = self
                .catalog
                .storage()
                .database_path(tenant.tenant_id, entry.database_id);
            self.restore_file(image, store, &path, &mut progress, ctx)?;
        }
        ctx.set_phase("POST_CHECK")?;
        for entry in &dbs {
            let path = self
                .catalog
                .storage()
                .database_path(tenant.tenant_id, entry.database_id);
            check_database(&path)?;
        }
        ctx.finish(|| {
            self.catalog
                .complete_tenant_build(job.job_id, tenant.tenant_id, &image)
                .map_err(catalog_err)
        })
    }

    fn run_database(
        &self,
        job: &JobRecord,
        p: &RestorePayload,
        manifest: &Manifest,
        store: &BackupStore,
        ctx: &JobContext,
    ) -> Result<(), JobError> {
        let (tenant_id, database) = match &p.target {
            RestoreTarget::Database {
                tenant_id,
                database,
                ..
            }
            | RestoreTarget::Table {
                tenant_id,
                database,
                ..
            } => (*tenant_id, database),
            RestoreTarget::Tenant { .. } => {
                return Err(permanent(
                    ob_codes::ERR_UNEXPECTED,
                    "not a database restore",
                ))
            }
        };
        let image = manifest
            .databases
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(database))
            .ok_or_else(|| {
                permanent(
                    ob_codes::ENTRY_NOT_EXIST,
                    format!("backup set {} has no database '{database}'", p.set_id),
                )
            })?;
        ctx.set_phase("RESTORE_DATA")?;
        let staged = self.staging_path(tenant_id, job.job_id);
        let mut progress = Progress::new(p, &self.catalog);
        self.restore_file(image, store, &staged, &mut progress, ctx)?;
        check_database(&staged)?;
        ctx.set_phase("ADOPT")?;
        match &p.target {
            RestoreTarget::Database { new_name, .. } => ctx.finish(|| {
                self.catalog
                    .adopt_database(tenant_id, new_name, &staged)
                    .map(|_| ())
                    .map_err(catalog_err)
            }),
            RestoreTarget::Table { table, .. } => {
                let entry = self
                    .catalog
                    .database(tenant_id, database)
                    .map_err(catalog_err)?
                    .ok_or_else(|| {
                        permanent(
                            ob_codes::ERR_BAD_DATABASE,
                            format!("Unknown database '{database}'"),
                        )
                    })?;
                let path = self
                    .catalog
                    .storage()
                    .database_path(tenant_id, entry.database_id);
                let result = ctx.finish(|| copy_table(&staged, &path, table));
                if result.is_ok() {
                    let _ = std::fs::remove_file(&staged);
                }
                result
            }
            RestoreTarget::Tenant { .. } => Err(permanent(
                ob_codes::ERR_UNEXPECTED,
                "not a database restore",
            )),
        }
    }
}

/// Bytes done and the figures the views show.
struct Progress {
    done: u64,
    total: u64,
    throttle: Throttle,
    set_name: String,
}

impl Progress {
    fn new(p: &RestorePayload, catalog: &Catalog) -> Self {
        Self {
            done: 0,
            total: p.total_bytes,
            throttle: Throttle::new(catalog.bulk_io_max_rate().unwrap_or(0)),
            set_name: format!("backup set {} of tenant {}", p.set_id, p.source_tenant_name),
        }
    }

    fn add(&mut self, bytes: u64, ctx: &JobContext) {
        self.done += bytes;
        ctx.set_detail("finish_bytes", self.done);
        ctx.set_detail("total_bytes", self.total);
        ctx.set_progress(
            self.done as f64 / self.total.max(1) as f64 * 0.99,
            format!("{} of {} bytes restored", self.done, self.total),
        );
    }
}

fn permanent(code: i64, message: impl Into<String>) -> JobError {
    JobError::Permanent {
        code,
        message: message.into(),
    }
}

fn catalog_err(e: tenantry_catalog::CatalogError) -> JobError {
    use tenantry_catalog::CatalogError as C;
    match e {
        C::Sqlite(e) => JobError::Retryable(e.to_string()),
        other => permanent(ob_codes::ERR_UNEXPECTED, other.to_string()),
    }
}

/// Stops are interruptions; a missing or corrupted chunk or an unreadable destination fails the job with a
/// message naming the set and the chunk.
fn from_backup(e: BackupError, set: &str) -> JobError {
    crate::destination::job_error(e, ob_codes::BACKUP_SET_INVALID, set)
}

/// Opens a restored file and reads its schema: a file that is not a database fails the restore.
fn check_database(path: &std::path::Path) -> Result<(), JobError> {
    let conn = tenantry_storage::open_database(path).map_err(|e| {
        permanent(
            ob_codes::BACKUP_SET_INVALID,
            format!("restored database {}: {e}", path.display()),
        )
    })?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| {
        permanent(
            ob_codes::BACKUP_SET_INVALID,
            format!("restored database {}: {e}", path.display()),
        )
    })?;
    Ok(())
}

/// Copies one table (its schema, indexes, rows and AUTO_INCREMENT position) from a staged database into the
/// target database, in one transaction. The table must not exist in the target.
fn copy_table(
    staged: &std::path::Path,
    target: &std::path::Path,
    table: &str,
) -> Result<(), JobError> {
    let err = |e: rusqlite::Error| {
        permanent(
            ob_codes::ERR_UNEXPECTED,
            format!("restoring table '{table}': {e}"),
        )
    };
    let conn = tenantry_storage::open_database(target).map_err(|e| {
        permanent(
            ob_codes::ERR_UNEXPECTED,
            format!("restoring table '{table}': {e}"),
        )
    })?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(err)?;
    conn.execute("ATTACH ?1 AS staged", [staged.to_string_lossy()])
        .map_err(err)?;
    let result = (|| -> Result<(), JobError> {
        conn.execute_batch("BEGIN IMMEDIATE").map_err(err)?;
        let exists: bool = conn
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE)",
                [table],
                |r| r.get(0),
            )
            .map_err(err)?;
        if exists {
            return Err(permanent(1050, format!("Table '{table}' already exists")));
        }
        let mut stmt = conn
            .prepare(
                "SELECT type, name, sql FROM staged.sqlite_master \
                 WHERE tbl_name = ?1 COLLATE NOCASE AND sql IS NOT NULL ORDER BY type = 'index'",
            )
            .map_err(err)?;
        let objects: Vec<(String, String, String)> = stmt
            .query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(err)?
            .collect::<rusqlite::Result<_>>()
            .map_err(err)?;
        drop(stmt);
        let Some((_, real_name, _)) = objects.iter().find(|(t, _, _)| t == "table") else {
            return Err(permanent(
                ob_codes::ENTRY_NOT_EXIST,
                format!("the backup set has no table '{table}'"),
            ));
        };
        let real_name = real_name.clone();
        for (_, _, sql) in objects.iter().filter(|(t, _, _)| t == "table") {
            conn.execute_batch(sql).map_err(err)?;
        }
        let quoted = real_name.replace('"', "\"\"");
        conn.execute_batch(&format!(
            "INSERT INTO main.\"{quoted}\" SELECT * FROM staged.\"{quoted}\""
        ))
        .map_err(err)?;
        for (_, _, sql) in objects.iter().filter(|(t, _, _)| t != "table") {
            conn.execute_batch(sql).map_err(err)?;
        }
        let has_sequence: bool = conn
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM staged.sqlite_master WHERE name = 'sqlite_sequence')",
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        if has_sequence {
            conn.execute(
                "INSERT INTO main.sqlite_sequence SELECT * FROM staged.sqlite_sequence WHERE name = ?1",
                [&real_name],
            )
            .map_err(err)?;
        }
        conn.execute_batch("COMMIT").map_err(err)
    })();
    if result.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    let _ = conn.execute_batch("DETACH staged");
    result
}

fn payload(job: &JobRecord) -> Result<RestorePayload, JobError> {
    serde_json::from_value(job.payload.clone()).map_err(|e| {
        permanent(
            ob_codes::ERR_UNEXPECTED,
            format!("bad restore payload: {e}"),
        )
    })
}

impl JobKind for Restore {
    fn run(&self, job: &JobRecord, ctx: &JobContext) -> Result<(), JobError> {
        let p = payload(job)?;
        let span = tracing::info_span!("restore", job_id = job.job_id, set_id = p.set_id);
        let _enter = span.enter();
        // A new tenant is restored by sys, from any destination; a database or table into a tenant only from
        // a destination that tenant owns.
        let owner = match &p.target {
            RestoreTarget::Tenant { .. } => crate::destination::Owner::Sys,
            RestoreTarget::Database { tenant_id, .. } | RestoreTarget::Table { tenant_id, .. } => {
                crate::destination::Owner::Tenant(*tenant_id)
            }
        };
        let store = crate::destination::open(&self.catalog, owner, &p.dest, self.runtime.clone())
            .map_err(|e| from_backup(e, &tenantry_backup::display_uri(&p.dest)))?;
        let manifest = store
            .manifest(p.source_tenant_id, p.set_id)
            .map_err(|e| from_backup(e, &format!("backup set {}", p.set_id)))?
            .ok_or_else(|| {
                permanent(
                    ob_codes::BACKUP_SET_INVALID,
                    format!(
                        "backup set {} of tenant {} is incomplete (it has no manifest)",
                        p.set_id, p.source_tenant_name
                    ),
                )
            })?;
        match &p.target {
            RestoreTarget::Tenant { .. } => self.run_tenant(job, &p, &manifest, &store, ctx),
            _ => self.run_database(job, &p, &manifest, &store, ctx),
        }?;
        ctx.set_progress(1.0, "restored");
        Ok(())
    }

    /// Removes the tenant the job was building (entries, files, pool binding) or the staged file.
    fn undo(&self, job: &JobRecord, _ctx: &JobContext) -> Result<(), JobError> {
        let p = payload(job)?;
        let started = std::time::Instant::now();
        let _span = tracing::info_span!("restore_undo", job_id = job.job_id).entered();
        match &p.target {
            RestoreTarget::Tenant { name, .. } => {
                self.catalog
                    .abort_tenant_build(job.job_id, name)
                    .map_err(|e| JobError::Retryable(e.to_string()))?;
            }
            RestoreTarget::Database { tenant_id, .. } | RestoreTarget::Table { tenant_id, .. } => {
                let staged = self.staging_path(*tenant_id, job.job_id);
                for path in [staged.clone(), staged.with_extension("staging.partial")] {
                    match std::fs::remove_file(&path) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(JobError::Retryable(e.to_string())),
                    }
                }
            }
        }
        tracing::debug!(
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            "restore undone"
        );
        Ok(())
    }
}
