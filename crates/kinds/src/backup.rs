//! `BACKUP` jobs: a consistent cut of every database of a tenant, plus its catalog entries, into a backup set.
//!
//! The cut: the work takes every database's write lock for a moment, opens a read snapshot of each, and lets the
//! writers go; the snapshots then stream their pages in bounded chunks (the units between cancellation checks),
//! paced to `bulk_io_max_rate`. Chunks the destination already holds are not written again. The manifest, which
//! makes the set complete, is written in the same step as the job's success ([`JobContext::finish`]), so a
//! canceled or failed backup never leaves a complete-looking set. Nothing needs undoing: chunks without a
//! manifest are garbage for the cleanup job (`crate::backup_cleanup`), which the undo starts if the tenant has
//! a delete policy.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tenantry_backup::{
    backup_database_with, BackupError, ChunkDone, ImageSource, Manifest, SetInfo,
};
use tenantry_catalog::Catalog;
use tenantry_jobs::{JobContext, JobError, JobKind, JobRecord, JobState};
use tokio::runtime::Handle;

use crate::cut::take_cut;
use crate::interruptible::run_interruptibly;
use crate::Throttle;
use tenantry_jobs::ob_codes;

/// The job type name of backups.
pub const BACKUP: &str = "BACKUP";

/// Pages per chunk (256 KiB at SQLite's default 4 KiB pages): the unit of work, dedup and verification.
const PAGES_PER_CHUNK: u32 = 64;

/// What a backup job does.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BackupPayload {
    /// The tenant.
    pub tenant_id: i64,
    /// Its name.
    pub tenant_name: String,
    /// The destination URI.
    pub dest: String,
    /// The set's number within the tenant.
    pub set_id: i64,
    /// INCREMENTAL was asked for (every set stores only chunks the destination lacks either way).
    pub incremental: bool,
    /// PLUS ARCHIVELOG was asked for.
    pub plus_archivelog: bool,
    /// DESCRIPTION.
    pub description: String,
    /// Only these databases (CockroachDB's `BACKUP DATABASE d INTO ...`); all of the tenant's if empty.
    #[serde(default)]
    pub databases: Vec<String>,
    /// `USER_TENANT` (one tenant's data) or `CLUSTER` (a sys-initiated backup whose children do the work).
    #[serde(default = "user_tenant")]
    pub level: String,
    /// For a CLUSTER job: the tenants its children back up.
    #[serde(default)]
    pub tenants: Vec<i64>,
}

fn user_tenant() -> String {
    "USER_TENANT".into()
}

/// The level of a sys-initiated backup that has one child job per tenant.
pub const CLUSTER_LEVEL: &str = "CLUSTER";

impl BackupPayload {
    /// Where the set's manifest goes.
    pub fn manifest_path(&self) -> String {
        format!(
            "{}/manifest.json",
            tenantry_backup::set_dir(self.tenant_id, self.set_id)
        )
    }
}

/// The backup kind.
pub struct Backup {
    catalog: Arc<Catalog>,
    runtime: Handle,
    jobs: std::sync::Weak<tenantry_jobs::JobRegistry>,
}

impl Backup {
    /// A kind that finds databases through `catalog`, drives destinations on `runtime`, and follows the children
    /// of cluster-level backups through `jobs` (held weakly: the registry holds this kind).
    pub fn new(
        catalog: Arc<Catalog>,
        runtime: Handle,
        jobs: std::sync::Weak<tenantry_jobs::JobRegistry>,
    ) -> Self {
        Self {
            catalog,
            runtime,
            jobs,
        }
    }

    fn registry(&self) -> Result<Arc<tenantry_jobs::JobRegistry>, JobError> {
        self.jobs.upgrade().ok_or(JobError::Interrupted)
    }

    /// A cluster-level backup waits for its children; its result is theirs: succeeded if they all
    /// succeeded, failed (with the first failure) if one failed, else canceled (-4072) if one was canceled.
    fn run_cluster(&self, job: &JobRecord, ctx: &JobContext) -> Result<(), JobError> {
        let registry = self.registry()?;
        let children = registry
            .children(job.job_id)
            .map_err(|e| JobError::Retryable(e.to_string()))?;
        let token = ctx.token();
        let (mut first_failure, mut first_cancel) = (None, None);
        for (i, child) in children.iter().enumerate() {
            let done = registry
                .wait(child.job_id, &token)
                .map_err(|_| JobError::Interrupted)?;
            ctx.set_progress(
                (i + 1) as f64 / children.len().max(1) as f64,
                format!("{} of {} tenants done", i + 1, children.len()),
            );
            let message = format!("backup of tenant {} ended {}", child.tenant_id, done.state);
            match done.state {
                JobState::Succeeded => {}
                JobState::Canceled => {
                    first_cancel.get_or_insert(message);
                }
                _ => {
                    first_failure.get_or_insert((
                        done.error_code.unwrap_or(ob_codes::ERR_UNEXPECTED),
                        message,
                    ));
                }
            }
        }
        match (first_failure, first_cancel) {
            (Some((code, message)), _) => Err(JobError::Permanent { code, message }),
            (None, Some(message)) => Err(JobError::Canceled { message }),
            (None, None) => ctx.finish(|| Ok(())),
        }
    }
}

fn from_backup(e: BackupError) -> JobError {
    crate::destination::job_error(e, ob_codes::BACKUP_FAILED, "")
}

fn payload(job: &JobRecord) -> Result<BackupPayload, JobError> {
    serde_json::from_value(job.payload.clone()).map_err(|e| JobError::Permanent {
        code: ob_codes::ERR_UNEXPECTED,
        message: format!("bad backup payload: {e}"),
    })
}

impl JobKind for Backup {
    fn run(&self, job: &JobRecord, ctx: &JobContext) -> Result<(), JobError> {
        let p = payload(job)?;
        if p.level == CLUSTER_LEVEL {
            return self.run_cluster(job, ctx);
        }
        let store = crate::destination::open(
            &self.catalog,
            crate::destination::Owner::Tenant(p.tenant_id),
            &p.dest,
            self.runtime.clone(),
        )
        .map_err(from_backup)?;
        // Held until the work returns: no cleanup sweep may delete chunks this backup counts on. The canonical
        // URI is the destination's identity, so no other spelling of it gets past the gate.
        let _writing = crate::gate::destination_gate()
            .enter_backup(store.identity(), || ctx.is_interrupted())
            .ok_or(JobError::Interrupted)?;
        let mut databases = self
            .catalog
            .databases(p.tenant_id)
            .map_err(|e| JobError::Retryable(e.to_string()))?;
        if !p.databases.is_empty() {
            databases.retain(|d| p.databases.iter().any(|n| n.eq_ignore_ascii_case(&d.name)));
        }
        ctx.set_phase("BACKUP_DATA")?;
        store
            .put_set_info(&SetInfo {
                tenant_id: p.tenant_id,
                tenant_name: p.tenant_name.clone(),
                set_id: p.set_id,
                start_time_us: job.started.unwrap_or(job.created),
            })
            .map_err(from_backup)?;
        let (cut, cut_time_us) = take_cut(&self.catalog, p.tenant_id, databases, true, &|| {
            ctx.is_interrupted()
        })?;
        // An incremental backup reads only the pages changed since the newest complete set.
        // Listings have no cancellation point of their own: a cancel must not wait for one.
        let base = if p.incremental {
            let (store, tenant, set) = (store.clone(), p.tenant_id, p.set_id);
            run_interruptibly(ctx, move || store.latest_manifest(tenant, set))?
                .map_err(from_backup)?
        } else {
            None
        };
        let catalog = serde_json::to_value(
            self.catalog
                .tenant_image(p.tenant_id)
                .map_err(|e| JobError::Retryable(e.to_string()))?,
        )
        .map_err(|e| JobError::Retryable(e.to_string()))?;
        let total: u64 = cut
            .iter()
            .map(|d| u64::from(d.snapshot.page_count()) * u64::from(d.snapshot.page_size()))
            .sum();
        ctx.set_detail("bytes_total", total);
        let throttle = Throttle::new(self.catalog.bulk_io_max_rate().unwrap_or(0));
        let started = std::time::Instant::now();
        let (mut input, mut output, mut files, mut covered) = (0u64, 0u64, 0u64, 0u64);
        let mut images = Vec::new();
        // Listed once, under the gate (no sweep can remove what it lists until this backup ends).
        let known = {
            let store = store.clone();
            run_interruptibly(ctx, move || store.known_chunks())?.map_err(from_backup)?
        };
        for d in &cut {
            let source = ImageSource {
                name: &d.entry.name,
                snapshot: &d.snapshot,
                changes: d.changes.as_ref(),
                base: base
                    .as_ref()
                    .and_then(|m| m.databases.iter().find(|i| i.name == d.entry.name)),
            };
            let image = backup_database_with(
                source,
                &store,
                PAGES_PER_CHUNK,
                &known,
                |ChunkDone {
                     read,
                     stored,
                     reused,
                 }| {
                    if ctx.is_interrupted() {
                        return Err(BackupError::Stopped);
                    }
                    input += read;
                    covered += read + reused;
                    output += stored;
                    ctx.add_bytes_moved(read);
                    files += u64::from(stored > 0);
                    let rate = output as f64 / started.elapsed().as_secs_f64().max(0.001);
                    ctx.set_detail("input_bytes", input);
                    ctx.set_detail("output_bytes", output);
                    ctx.set_detail("file_count", files);
                    ctx.set_detail("output_rate_bytes", rate as u64);
                    ctx.set_progress(
                        covered as f64 / total.max(1) as f64 * 0.99,
                        format!("{covered} of {total} bytes done, {input} read"),
                    );
                    if throttle.pace(input, || ctx.is_interrupted()) {
                        Ok(())
                    } else {
                        Err(BackupError::Stopped)
                    }
                },
            )
            .map_err(from_backup)?;
            images.push(image);
        }
        let manifest = Manifest {
            format: 1,
            databases: images,
            catalog,
            tenant_id: p.tenant_id,
            tenant_name: p.tenant_name.clone(),
            set_id: p.set_id,
            cut_time_us,
        };
        let bytes = serde_json::to_vec(&manifest).map_err(|e| JobError::Permanent {
            code: ob_codes::ERR_UNEXPECTED,
            message: e.to_string(),
        })?;
        ctx.set_phase("BACKUP_COMPLETE_SET")?;
        ctx.finish(|| {
            store
                .put_object(&p.manifest_path(), bytes)
                .map_err(from_backup)
        })?;
        ctx.set_progress(1.0, format!("{input} bytes read, {output} bytes stored"));
        Ok(())
    }

    /// A set without a manifest is incomplete by definition, and chunks may be shared with complete sets:
    /// removing an incomplete set's own chunks is the cleanup job's work, not the undo's. With a delete policy
    /// the undo starts that cleanup (once, however often it runs); without one the set stays, incomplete.
    /// A cluster-level backup cancels its children (the cancel cascades) and ends once they have.
    fn undo(&self, job: &JobRecord, ctx: &JobContext) -> Result<(), JobError> {
        let p = payload(job)?;
        let registry = self.registry()?;
        if p.level != CLUSTER_LEVEL {
            crate::backup_cleanup::start_cleanup_after(&self.catalog, &registry, job, &p)
                .map_err(|e| JobError::Retryable(e.to_string()))?;
            return Ok(());
        }
        let children = registry
            .children(job.job_id)
            .map_err(|e| JobError::Retryable(e.to_string()))?;
        for child in &children {
            // A child that is over (or already being canceled) refuses or ignores the request: fine.
            let _ = registry.request_cancel(child.job_id);
        }
        for child in &children {
            registry
                .wait(child.job_id, &ctx.token())
                .map_err(|_| JobError::Interrupted)?;
        }
        Ok(())
    }
}
