//! `BACKUP CLEANUP` jobs: removing backup sets and the chunks no complete set uses any more.
//!
//! Two flavours, named as OceanBase's delete-job views name them:
//! - `DELETE OBSOLETE BACKUP`, driven by a tenant's delete policy: it removes every incomplete set (a backup
//!   that was canceled or failed), sets a deletion left half done, and complete sets older than the recovery
//!   window, always keeping the newest complete set. One starts right after a backup of a tenant with a policy
//!   is canceled or fails (from the backup's undo), when a policy is added, at start-up and periodically.
//! - `DELETE BACKUP SET`, from `ALTER SYSTEM DELETE BACKUPSET n`: the named sets.
//!
//! The work: wait until no backup writes to the destination (see [`crate::gate`]), choose the sets and mark
//! them `DELETING` in the catalog, remove each set's manifest and directory, then mark and sweep chunks (keep what any
//! complete manifest at the destination names, delete the rest) in batches of [`gc::SWEEP_BATCH`], checking
//! for cancellation between batches. The sets become `DELETED` in the same step as the job's success. A
//! canceled cleanup leaves its sets `DELETING`; the next obsolete cleanup of the tenant finishes them. Nothing
//! needs undoing: a removed manifest or chunk was garbage, or was asked to go.

use std::collections::BTreeSet;
use std::sync::{Arc, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tenantry_backup::{gc, BackupError, BackupStore};
use tenantry_catalog::{Catalog, CatalogError};
use tenantry_jobs::{
    now_micros, JobContext, JobError, JobFilter, JobKind, JobRecord, JobRegistry, JobState, NewJob,
    RegistryError,
};
use tokio::runtime::Handle;

use crate::backup::{BackupPayload, BACKUP, CLUSTER_LEVEL};
use crate::gate::destination_gate;
use tenantry_jobs::ob_codes;

/// The job type name of cleanups, as SHOW JOBS shows it.
pub const BACKUP_CLEANUP: &str = "BACKUP CLEANUP";
/// The delete-job TYPE of policy-driven cleanups.
pub const DELETE_OBSOLETE_BACKUP: &str = "DELETE OBSOLETE BACKUP";
/// The delete-job TYPE of `ALTER SYSTEM DELETE BACKUPSET`.
pub const DELETE_BACKUP_SET: &str = "DELETE BACKUP SET";

/// How often policies are looked at for sets to clean (OceanBase: hourly).
pub const CLEANUP_PERIOD: Duration = Duration::from_secs(3600);

/// What a cleanup job does.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CleanupPayload {
    /// The tenant.
    pub tenant_id: i64,
    /// Its name.
    pub tenant_name: String,
    /// The destination the sets are at.
    pub dest: String,
    /// [`DELETE_OBSOLETE_BACKUP`] or [`DELETE_BACKUP_SET`].
    pub cleanup_type: String,
    /// The sets `DELETE BACKUPSET` named.
    #[serde(default)]
    pub set_ids: Vec<i64>,
    /// The policy's recovery window when the job was made (obsolete cleanups).
    #[serde(default)]
    pub recovery_window: String,
    /// The backup job whose cancel or failure started this cleanup.
    #[serde(default)]
    pub trigger_job_id: Option<i64>,
}

impl CleanupPayload {
    /// The PARAMETER column of the delete-job views: the sets, or the recovery window.
    pub fn parameter(&self) -> String {
        if self.cleanup_type == DELETE_BACKUP_SET {
            let ids: Vec<String> = self.set_ids.iter().map(|s| s.to_string()).collect();
            ids.join(",")
        } else {
            self.recovery_window.clone()
        }
    }
}

/// Why a cleanup job could not be started.
#[derive(Debug, thiserror::Error)]
pub enum CleanupError {
    /// The catalog failed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The job registry failed.
    #[error(transparent)]
    Jobs(#[from] RegistryError),
    /// The destination failed.
    #[error(transparent)]
    Backup(#[from] BackupError),
}

/// The cleanup kind.
pub struct BackupCleanup {
    catalog: Arc<Catalog>,
    runtime: Handle,
    jobs: Weak<JobRegistry>,
}

impl BackupCleanup {
    /// A kind that reads policies and marks sets in `catalog`, drives destinations on `runtime`, and looks at
    /// backup jobs through `jobs` (held weakly: the registry holds this kind).
    pub fn new(catalog: Arc<Catalog>, runtime: Handle, jobs: Weak<JobRegistry>) -> Self {
        Self {
            catalog,
            runtime,
            jobs,
        }
    }
}

fn payload(job: &JobRecord) -> Result<CleanupPayload, JobError> {
    serde_json::from_value(job.payload.clone()).map_err(|e| JobError::Permanent {
        code: ob_codes::ERR_UNEXPECTED,
        message: format!("bad cleanup payload: {e}"),
    })
}

fn from_backup(e: BackupError) -> JobError {
    crate::destination::job_error(e, ob_codes::BACKUP_FAILED, "")
}

fn same_dest(a: &str, b: &str) -> bool {
    tenantry_backup::identity_of(a) == tenantry_backup::identity_of(b)
}

/// The tenant's backup jobs (one tenant's data, not cluster-level parents) at `dest`, with their payloads.
fn backup_jobs(
    registry: &JobRegistry,
    tenant_id: i64,
    dest: &str,
) -> Result<Vec<(JobRecord, BackupPayload)>, RegistryError> {
    Ok(registry
        .query(&JobFilter::default().of_type(BACKUP).of_tenant(tenant_id))?
        .into_iter()
        .filter_map(|j| {
            let p: BackupPayload = serde_json::from_value(j.payload.clone()).ok()?;
            (p.level != CLUSTER_LEVEL && same_dest(&p.dest, dest)).then_some((j, p))
        })
        .collect())
}

/// The sets an obsolete cleanup of `p`'s tenant removes now: incomplete ones, half-deleted ones, and complete
/// ones past the recovery window except the newest complete set. A backup still running is never touched
/// (the one that started this cleanup has stopped: its work ended before its undo began).
pub fn obsolete_sets(
    catalog: &Catalog,
    registry: &JobRegistry,
    store: &BackupStore,
    p: &CleanupPayload,
) -> Result<Vec<i64>, CleanupError> {
    let marks = catalog.backup_set_marks(p.tenant_id)?;
    let deleted = |set: i64| marks.get(&set).is_some_and(|m| m == "DELETED");
    let mut sets = BTreeSet::new();
    let mut running = BTreeSet::new();
    for (job, bp) in backup_jobs(registry, p.tenant_id, &p.dest)? {
        let stopped = matches!(job.state, JobState::Failed | JobState::Canceled)
            || p.trigger_job_id == Some(job.job_id);
        if stopped && !deleted(bp.set_id) {
            sets.insert(bp.set_id);
        } else if !job.state.is_terminal() {
            running.insert(bp.set_id);
        }
    }
    sets.extend(
        marks
            .iter()
            .filter(|(_, m)| m.as_str() == "DELETING")
            .map(|(s, _)| *s),
    );
    let window =
        tenantry_catalog::backup_policies::parse_recovery_window(&p.recovery_window).unwrap_or(0);
    if window > 0 {
        let complete = gc::complete_sets(store, Some(p.tenant_id))?;
        let newest = complete.iter().map(|s| s.completed_micros).max();
        let cutoff = now_micros() - (window as i64).saturating_mul(1_000_000);
        sets.extend(
            complete
                .iter()
                .filter(|s| s.completed_micros < cutoff && Some(s.completed_micros) != newest)
                .map(|s| s.set_id),
        );
    }
    Ok(sets.into_iter().filter(|s| !running.contains(s)).collect())
}

impl JobKind for BackupCleanup {
    fn run(&self, job: &JobRecord, ctx: &JobContext) -> Result<(), JobError> {
        let p = payload(job)?;
        let registry = self.jobs.upgrade().ok_or(JobError::Interrupted)?;
        let store = crate::destination::open(
            &self.catalog,
            crate::destination::Owner::Tenant(p.tenant_id),
            &p.dest,
            self.runtime.clone(),
        )
        .map_err(from_backup)?;
        let retry = |e: CatalogError| JobError::Retryable(e.to_string());
        ctx.set_phase("WAIT_BACKUP")?;
        ctx.set_progress(0.0, "waiting until no backup writes to the destination");
        let _sweeping = destination_gate()
            .enter_sweep(store.identity(), || ctx.is_interrupted())
            .ok_or(JobError::Interrupted)?;
        // Chosen only once no backup runs here: one that was running may have ended meanwhile.
        let targets = if p.cleanup_type == DELETE_BACKUP_SET {
            p.set_ids.clone()
        } else {
            obsolete_sets(&self.catalog, &registry, &store, &p).map_err(|e| match e {
                CleanupError::Backup(b) => from_backup(b),
                other => JobError::Retryable(other.to_string()),
            })?
        };
        drop(registry);
        ctx.set_detail("task_count", targets.len() as u64);
        ctx.set_detail("success_task_count", 0);
        ctx.set_detail("deleted_chunks", 0);
        if !ctx.still_owner() {
            return Err(JobError::Interrupted);
        }
        self.catalog
            .mark_backup_sets(p.tenant_id, &targets, "DELETING", job.job_id)
            .map_err(retry)?;
        ctx.set_phase("DELETE_SETS")?;
        for (i, set_id) in targets.iter().enumerate() {
            ctx.check()?;
            gc::remove_set(&store, p.tenant_id, *set_id).map_err(from_backup)?;
            ctx.set_progress(
                (i + 1) as f64 / targets.len() as f64 * 0.2,
                format!("removed {} of {} sets", i + 1, targets.len()),
            );
        }
        ctx.set_phase("SWEEP_CHUNKS")?;
        let keep = gc::referenced_chunks(&store, || ctx.check().map_err(|_| BackupError::Stopped))
            .map_err(from_backup)?;
        let deleted = gc::sweep_chunks(&store, &keep, |n| {
            ctx.set_detail("deleted_chunks", n);
            ctx.set_progress(0.5, format!("{n} unused chunks deleted"));
            ctx.check().map_err(|_| BackupError::Stopped)
        })
        .map_err(from_backup)?;
        ctx.set_detail("success_task_count", targets.len() as u64);
        ctx.finish(|| {
            self.catalog
                .mark_backup_sets(p.tenant_id, &targets, "DELETED", job.job_id)
                .map_err(retry)
        })?;
        tracing::info!(
            job_id = job.job_id,
            tenant_id = p.tenant_id,
            sets = ?targets,
            chunks = deleted,
            "backup cleanup done"
        );
        ctx.set_progress(
            1.0,
            format!("{} sets and {deleted} chunks removed", targets.len()),
        );
        Ok(())
    }

    /// Nothing to revert: what was removed was garbage or asked to go. Sets left `DELETING` are finished by
    /// the tenant's next obsolete cleanup.
    fn undo(&self, _job: &JobRecord, _ctx: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

fn cleanup_job(
    catalog: &Catalog,
    p: &CleanupPayload,
    statement: &str,
    description: String,
) -> Result<NewJob, CleanupError> {
    let owner = catalog
        .tenant_by_id(p.tenant_id)?
        .map(|t| t.compatibility_mode.admin_user().to_string())
        .unwrap_or_else(|| "root".into());
    Ok(NewJob {
        job_type: BACKUP_CLEANUP.to_string(),
        tenant_id: p.tenant_id,
        owner,
        owner_is_admin: true,
        description,
        statement: statement.to_string(),
        payload: serde_json::to_value(p).unwrap_or_default(),
        cancelable: true,
        parent_job_id: None,
    })
}

/// Creates a `DELETE BACKUP SET` job for `sets` of a tenant at `dest` (the caller checked them).
pub fn start_delete_sets(
    catalog: &Catalog,
    registry: &JobRegistry,
    tenant_id: i64,
    dest: &str,
    sets: Vec<i64>,
    statement: &str,
) -> Result<JobRecord, CleanupError> {
    let tenant_name = catalog
        .tenant_by_id(tenant_id)?
        .map(|t| t.tenant_name)
        .unwrap_or_default();
    let p = CleanupPayload {
        tenant_id,
        tenant_name,
        dest: dest.to_string(),
        cleanup_type: DELETE_BACKUP_SET.into(),
        set_ids: sets,
        recovery_window: String::new(),
        trigger_job_id: None,
    };
    let job = cleanup_job(catalog, &p, statement, statement.to_string())?;
    Ok(registry.create(job)?)
}

/// After a backup of a tenant with a delete policy was canceled or failed: creates the cleanup that removes
/// its incomplete set, once (the backup's undo may run again after a crash). `None` without a policy: the
/// set then stays, incomplete.
pub fn start_cleanup_after(
    catalog: &Catalog,
    registry: &JobRegistry,
    backup: &JobRecord,
    bp: &BackupPayload,
) -> Result<Option<JobRecord>, CleanupError> {
    let Some(policy) = catalog.delete_policy(bp.tenant_id)? else {
        return Ok(None);
    };
    // Once per backup, even if its undo runs again after the cleanup ended (the key guards the live one).
    let already = registry
        .query(
            &JobFilter::default()
                .of_type(BACKUP_CLEANUP)
                .of_tenant(bp.tenant_id),
        )?
        .into_iter()
        .any(|j| {
            serde_json::from_value::<CleanupPayload>(j.payload)
                .is_ok_and(|p| p.trigger_job_id == Some(backup.job_id))
        });
    if already {
        return Ok(None);
    }
    let p = CleanupPayload {
        tenant_id: bp.tenant_id,
        tenant_name: bp.tenant_name.clone(),
        dest: bp.dest.clone(),
        cleanup_type: DELETE_OBSOLETE_BACKUP.into(),
        set_ids: Vec::new(),
        recovery_window: policy.recovery_window,
        trigger_job_id: Some(backup.job_id),
    };
    let description = format!(
        "clean up backup set {} after backup job {} stopped",
        bp.set_id, backup.job_id
    );
    let job = cleanup_job(catalog, &p, "", description)?;
    match registry.create_exclusive(job, vec![crate::keys::cleanup_after(backup.job_id)]) {
        Ok(rec) => Ok(Some(rec)),
        Err(RegistryError::Conflict { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Creates an obsolete cleanup for a tenant with a policy and a destination, if it has sets to remove and no
/// obsolete cleanup is already under way. Blocking (it lists the destination).
pub fn start_obsolete_cleanup(
    catalog: &Catalog,
    registry: &JobRegistry,
    runtime: Handle,
    tenant_id: i64,
) -> Result<Option<JobRecord>, CleanupError> {
    let Some(policy) = catalog.delete_policy(tenant_id)? else {
        return Ok(None);
    };
    let dest = catalog.parameter("data_backup_dest", Some(tenant_id))?;
    if dest.is_empty() {
        return Ok(None);
    }
    let under_way = !registry
        .query(
            &JobFilter::default()
                .of_type(BACKUP_CLEANUP)
                .of_tenant(tenant_id)
                .unfinished(),
        )?
        .is_empty();
    if under_way {
        return Ok(None);
    }
    let tenant_name = catalog
        .tenant_by_id(tenant_id)?
        .map(|t| t.tenant_name)
        .unwrap_or_default();
    let p = CleanupPayload {
        tenant_id,
        tenant_name,
        dest: dest.clone(),
        cleanup_type: DELETE_OBSOLETE_BACKUP.into(),
        set_ids: Vec::new(),
        recovery_window: policy.recovery_window,
        trigger_job_id: None,
    };
    let store = crate::destination::open(
        catalog,
        crate::destination::Owner::Tenant(tenant_id),
        &dest,
        runtime,
    )?;
    if obsolete_sets(catalog, registry, &store, &p)?.is_empty() {
        return Ok(None);
    }
    let description = format!(
        "delete obsolete backup sets (recovery window {})",
        p.recovery_window
    );
    let job = cleanup_job(catalog, &p, "", description)?;
    // The check above spares the destination listing; the key makes two concurrent starts impossible.
    match registry.create_exclusive(job, vec![crate::keys::obsolete_cleanup(tenant_id)]) {
        Ok(rec) => Ok(Some(rec)),
        Err(RegistryError::Conflict { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Looks at every tenant's policy now and then every `period`, starting the cleanups that have work.
/// Abort the returned task to stop it.
pub fn spawn_periodic(
    catalog: Arc<Catalog>,
    registry: Arc<JobRegistry>,
    period: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let (catalog, registry) = (catalog.clone(), registry.clone());
            let runtime = Handle::current();
            let _ = tokio::task::spawn_blocking(move || {
                let policies = match catalog.delete_policies() {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!("backup cleanup: reading policies: {e}");
                        return;
                    }
                };
                for policy in policies {
                    if let Err(e) = start_obsolete_cleanup(
                        &catalog,
                        &registry,
                        runtime.clone(),
                        policy.tenant_id,
                    ) {
                        tracing::warn!(tenant_id = policy.tenant_id, "backup cleanup: {e}");
                    }
                }
            })
            .await;
            tokio::time::sleep(period).await;
        }
    })
}
