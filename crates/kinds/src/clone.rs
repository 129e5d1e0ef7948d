//! `CLONE` jobs (`CREATE TENANT new FROM source ...`): a new tenant with every database, user and grant of the
//! source at one cut, walking OceanBase's CLONE_SYS_* statuses as its phases.
//!
//! A FORK clone takes its own cut (recorded as an inner snapshot of the source while it lasts) and streams the
//! source's pages into the new tenant's files; a RESTORE-type clone copies the files of an existing snapshot.
//! The new tenant stays CREATING (no logins) until the job's last step makes it NORMAL together with the job's
//! success. The undo removes the half-built tenant and its files, drops the pool the job created and deletes
//! the inner snapshot; it is idempotent, so it may run again after a crash.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tenantry_catalog::{Catalog, CompatibilityMode, SnapshotStatus, TenantImage, TenantStatus};
use tenantry_jobs::{JobContext, JobError, JobKind, JobRecord};

use crate::cut::take_cut;
use crate::tenant_snapshot::{snapshot_database_path, snapshot_image, PAGES_PER_COPY};
use crate::Throttle;
use tenantry_jobs::ob_codes;

/// The job type name of clones.
pub const CLONE: &str = "CLONE";

/// The statuses a clone walks, in order (a RESTORE-type clone skips the two snapshot steps).
pub const STEPS: [&str; 7] = [
    "CLONE_SYS_LOCK",
    "CLONE_SYS_CREATE_INNER_RESOURCE_POOL",
    "CLONE_SYS_CREATE_SNAPSHOT",
    "CLONE_SYS_WAIT_CREATE_SNAPSHOT",
    "CLONE_SYS_CREATE_TENANT",
    "CLONE_SYS_WAIT_TENANT_RESTORE_FINISH",
    "CLONE_SYS_RELEASE_RESOURCE",
];

/// What a clone job does.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClonePayload {
    /// The tenant cloned.
    pub source_tenant_id: i64,
    /// Its name.
    pub source_tenant_name: String,
    /// The new tenant's name.
    pub clone_tenant_name: String,
    /// The pool the job creates for it.
    pub pool_name: String,
    /// The unit config of that pool.
    pub unit_config: String,
    /// `FORK` (a cut taken now) or `RESTORE` (from an existing snapshot).
    pub clone_type: String,
    /// For a RESTORE-type clone: the snapshot used.
    #[serde(default)]
    pub snapshot_id: Option<i64>,
    /// Its name.
    #[serde(default)]
    pub snapshot_name: Option<String>,
}

/// The clone kind.
pub struct Clone {
    catalog: Arc<Catalog>,
}

fn permanent(code: i64, message: impl Into<String>) -> JobError {
    JobError::Permanent {
        code,
        message: message.into(),
    }
}

fn catalog_err(step: &str) -> impl Fn(tenantry_catalog::CatalogError) -> JobError + '_ {
    move |e| match e {
        tenantry_catalog::CatalogError::Sqlite(e) => JobError::Retryable(e.to_string()),
        other => permanent(ob_codes::ERR_CLONE_TENANT, format!("{step}: {other}")),
    }
}

fn payload(job: &JobRecord) -> Result<ClonePayload, JobError> {
    serde_json::from_value(job.payload.clone())
        .map_err(|e| permanent(ob_codes::ERR_UNEXPECTED, format!("bad clone payload: {e}")))
}

/// Where the pages of one database come from.
enum Source {
    /// A live cut of the source (FORK).
    Cut(Vec<crate::cut::CutDatabase>),
    /// A snapshot's files (RESTORE).
    Snapshot(i64),
}

impl Clone {
    /// A kind that builds tenants in `catalog`.
    pub fn new(catalog: Arc<Catalog>) -> Self {
        Self { catalog }
    }

    /// FORK: an inner snapshot of the source is recorded, then the cut is taken.
    fn fork_cut(
        &self,
        job: &JobRecord,
        p: &ClonePayload,
        ctx: &JobContext,
    ) -> Result<(Source, TenantImage, Vec<String>), JobError> {
        let step = STEPS[2];
        ctx.set_phase(step)?;
        let existing = self
            .catalog
            .snapshots(Some(p.source_tenant_id))
            .map_err(catalog_err(step))?
            .into_iter()
            .find(|s| s.owner_job_id == Some(job.job_id));
        let snapshot = match existing {
            Some(s) => s,
            None => self
                .catalog
                .create_snapshot_entry(p.source_tenant_id, None, "AUTO", Some(job.job_id))
                .map_err(catalog_err(step))?,
        };
        ctx.set_detail("snapshot_id", snapshot.snapshot_id);
        ctx.set_detail("snapshot_name", snapshot.name.clone());
        ctx.check()?;
        let step = STEPS[3];
        ctx.set_phase(step)?;
        let databases = self
            .catalog
            .databases(p.source_tenant_id)
            .map_err(catalog_err(step))?;
        let names = databases.iter().map(|d| d.name.clone()).collect();
        let (cut, cut_time) =
            take_cut(&self.catalog, p.source_tenant_id, databases, false, &|| {
                ctx.is_interrupted()
            })?;
        let image = self
            .catalog
            .tenant_image(p.source_tenant_id)
            .map_err(catalog_err(step))?;
        self.catalog
            .set_snapshot_status(
                snapshot.snapshot_id,
                SnapshotStatus::Normal,
                Some(cut_time * 1000),
            )
            .map_err(catalog_err(step))?;
        ctx.set_detail("restore_scn", cut_time * 1000);
        Ok((Source::Cut(cut), image, names))
    }

    /// RESTORE: the snapshot's recorded image and files.
    fn snapshot_source(
        &self,
        p: &ClonePayload,
        ctx: &JobContext,
    ) -> Result<(Source, TenantImage, Vec<String>), JobError> {
        let id = p.snapshot_id.ok_or_else(|| {
            permanent(
                ob_codes::TENANT_SNAPSHOT_NOT_EXIST,
                "the clone names no snapshot",
            )
        })?;
        let snapshot = self
            .catalog
            .snapshot_by_id(id)
            .map_err(catalog_err(STEPS[0]))?
            .filter(|s| s.status == SnapshotStatus::Normal)
            .ok_or_else(|| {
                permanent(
                    ob_codes::TENANT_SNAPSHOT_NOT_EXIST,
                    format!(
                        "Tenant snapshot '{}' does not exist",
                        p.snapshot_name.clone().unwrap_or_default()
                    ),
                )
            })?;
        ctx.set_detail("snapshot_id", snapshot.snapshot_id);
        ctx.set_detail("snapshot_name", snapshot.name.clone());
        if let Some(scn) = snapshot.snapshot_scn {
            ctx.set_detail("restore_scn", scn);
        }
        let image = snapshot_image(&self.catalog, id)?;
        let names = image.databases.clone();
        Ok((Source::Snapshot(id), image, names))
    }

    /// Copies every database into the new tenant's files, paced to `bulk_io_max_rate`.
    fn copy(
        &self,
        source: &Source,
        tenant_id: i64,
        dbs: &[tenantry_catalog::DatabaseEntry],
        ctx: &JobContext,
    ) -> Result<(), JobError> {
        let step = STEPS[5];
        let storage = self.catalog.storage();
        let total: u64 = match source {
            Source::Cut(cut) => cut
                .iter()
                .map(|d| u64::from(d.snapshot.page_count()) * u64::from(d.snapshot.page_size()))
                .sum(),
            Source::Snapshot(id) => dbs
                .iter()
                .filter_map(|d| {
                    std::fs::metadata(snapshot_database_path(&self.catalog, *id, &d.name)).ok()
                })
                .map(|m| m.len())
                .sum(),
        };
        ctx.set_detail("total_bytes", total);
        let throttle = Throttle::new(self.catalog.bulk_io_max_rate().unwrap_or(0));
        let mut done = 0u64;
        let mut step_fn = |n: u64| {
            done += n;
            ctx.set_detail("finish_bytes", done);
            ctx.set_progress(
                done as f64 / total.max(1) as f64 * 0.99,
                format!("{done} of {total} bytes copied"),
            );
            throttle.pace(done, || ctx.is_interrupted())
        };
        let io = |e: tenantry_storage::StorageError| {
            permanent(ob_codes::ERR_CLONE_TENANT, format!("{step}: {e}"))
        };
        for db in dbs {
            let dest = storage.database_path(tenant_id, db.database_id);
            // A new cut is taken on every run, so files left by an earlier run belong to another cut.
            storage
                .drop_database(tenant_id, db.database_id)
                .map_err(io)?;
            let completed = match source {
                Source::Cut(cut) => match cut.iter().find(|c| c.entry.name == db.name) {
                    Some(c) => c
                        .snapshot
                        .copy_to(&dest, PAGES_PER_COPY, &mut step_fn)
                        .map_err(io)?,
                    None => true,
                },
                Source::Snapshot(id) => tenantry_storage::copy_file(
                    &snapshot_database_path(&self.catalog, *id, &db.name),
                    &dest,
                    (PAGES_PER_COPY as usize) * 4096,
                    &mut step_fn,
                )
                .map_err(io)?,
            };
            if !completed {
                return Err(JobError::Interrupted);
            }
        }
        Ok(())
    }

    /// Deletes the inner snapshot a FORK clone made.
    fn drop_inner_snapshot(&self, job: &JobRecord, p: &ClonePayload) -> Result<(), JobError> {
        let snapshots = self
            .catalog
            .snapshots(Some(p.source_tenant_id))
            .map_err(|e| JobError::Retryable(e.to_string()))?;
        for s in snapshots
            .iter()
            .filter(|s| s.owner_job_id == Some(job.job_id))
        {
            self.catalog
                .drop_snapshot_entry(s.snapshot_id)
                .map_err(|e| JobError::Retryable(e.to_string()))?;
        }
        Ok(())
    }
}

impl JobKind for Clone {
    fn run(&self, job: &JobRecord, ctx: &JobContext) -> Result<(), JobError> {
        let p = payload(job)?;
        let span = tracing::info_span!(
            "clone",
            job_id = job.job_id,
            source = %p.source_tenant_name,
            clone = %p.clone_tenant_name
        );
        let _enter = span.enter();
        let step = STEPS[0];
        ctx.set_phase(step)?;
        let source_tenant = self
            .catalog
            .tenant_by_id(p.source_tenant_id)
            .map_err(catalog_err(step))?
            .filter(|t| t.status == TenantStatus::Normal)
            .ok_or_else(|| {
                permanent(
                    ob_codes::ERR_CLONE_TENANT,
                    format!(
                        "{step}: source tenant '{}' does not exist or is not NORMAL",
                        p.source_tenant_name
                    ),
                )
            })?;
        ctx.check()?;
        let step = STEPS[1];
        ctx.set_phase(step)?;
        let pool = self
            .catalog
            .create_job_pool(job.job_id, &p.pool_name, &p.unit_config)
            .map_err(catalog_err(step))?;
        ctx.set_detail("resource_pool_id", pool.resource_pool_id);
        ctx.check()?;
        let (source, image, names) = if p.clone_type == "FORK" {
            self.fork_cut(job, &p, ctx)?
        } else {
            self.snapshot_source(&p, ctx)?
        };
        ctx.check()?;
        let step = STEPS[4];
        ctx.set_phase(step)?;
        let mode = image
            .mode
            .as_deref()
            .and_then(CompatibilityMode::parse)
            .unwrap_or(source_tenant.compatibility_mode);
        let (tenant, dbs) = self
            .catalog
            .begin_tenant_build(job.job_id, &p.clone_tenant_name, mode, &p.pool_name, &names)
            .map_err(catalog_err(step))?;
        ctx.set_detail("clone_tenant_id", tenant.tenant_id);
        ctx.check()?;
        ctx.set_phase(STEPS[5])?;
        self.copy(&source, tenant.tenant_id, &dbs, ctx)?;
        // The cut's read transactions end here: the source's lock is released.
        drop(source);
        ctx.check()?;
        let step = STEPS[6];
        ctx.set_phase(step)?;
        self.drop_inner_snapshot(job, &p)?;
        ctx.finish(|| {
            self.catalog
                .complete_tenant_build(job.job_id, tenant.tenant_id, &image)
                .and_then(|()| self.catalog.release_job_pool(job.job_id, &p.pool_name))
                .map_err(catalog_err(step))
        })?;
        ctx.set_progress(1.0, "clone finished");
        Ok(())
    }

    /// Removes the half-built tenant (entries, then files), drops the pool the job created and deletes the
    /// inner snapshot. Each step touches only what this job owns.
    fn undo(&self, job: &JobRecord, _ctx: &JobContext) -> Result<(), JobError> {
        let p = payload(job)?;
        let retry = |e: tenantry_catalog::CatalogError| JobError::Retryable(e.to_string());
        self.catalog
            .abort_tenant_build(job.job_id, &p.clone_tenant_name)
            .map_err(retry)?;
        self.catalog
            .drop_job_pool(job.job_id, &p.pool_name)
            .map_err(retry)?;
        self.drop_inner_snapshot(job, &p)
    }
}
