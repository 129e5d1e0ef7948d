//! Tenant snapshots (`ALTER SYSTEM CREATE SNAPSHOT`): a consistent cut of a tenant, copied page by page into
//! `<data-dir>/snapshots/<id>/<database>.sqlite` with the tenant's users and grants in `image.json`, taken
//! without stopping the tenant (its writers wait only for the moment the cut is taken). A clone `USING
//! SNAPSHOT` starts from these files later.

use std::path::PathBuf;

use tenantry_catalog::{Catalog, SnapshotEntry, SnapshotStatus, TenantImage};
use tenantry_jobs::JobError;

use crate::cut::take_cut;
use tenantry_jobs::ob_codes;

/// Pages copied between two checks for a stop (1 MiB at 4 KiB pages).
pub const PAGES_PER_COPY: u32 = 256;

/// Where a snapshot keeps one database.
pub fn snapshot_database_path(catalog: &Catalog, snapshot_id: i64, database: &str) -> PathBuf {
    catalog
        .storage()
        .snapshot_dir(snapshot_id)
        .join(format!("{database}.sqlite"))
}

/// The users and grants a snapshot recorded.
pub fn snapshot_image(catalog: &Catalog, snapshot_id: i64) -> Result<TenantImage, JobError> {
    let path = catalog
        .storage()
        .snapshot_dir(snapshot_id)
        .join("image.json");
    let bytes = std::fs::read(&path).map_err(|e| JobError::Permanent {
        code: ob_codes::TENANT_SNAPSHOT_NOT_EXIST,
        message: format!("tenant snapshot {snapshot_id}: {e}"),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| JobError::Permanent {
        code: ob_codes::TENANT_SNAPSHOT_NOT_EXIST,
        message: format!("tenant snapshot {snapshot_id}: {e}"),
    })
}

/// Takes a snapshot of a tenant named `name` (or one named after its id). `interrupted` stops it between
/// chunks; a stopped or failed snapshot leaves nothing behind.
pub fn create_snapshot(
    catalog: &Catalog,
    tenant_id: i64,
    name: Option<&str>,
    interrupted: &dyn Fn() -> bool,
) -> Result<SnapshotEntry, SnapshotError> {
    let entry = catalog.create_snapshot_entry(tenant_id, name, "MANUAL", None)?;
    let result = fill_snapshot(catalog, tenant_id, entry.snapshot_id, interrupted);
    match result {
        Ok(scn) => {
            catalog.set_snapshot_status(entry.snapshot_id, SnapshotStatus::Normal, Some(scn))?;
            Ok(catalog.snapshot_by_id(entry.snapshot_id)?.unwrap_or(entry))
        }
        Err(e) => {
            let _ = catalog.drop_snapshot_entry(entry.snapshot_id);
            Err(e)
        }
    }
}

fn fill_snapshot(
    catalog: &Catalog,
    tenant_id: i64,
    snapshot_id: i64,
    interrupted: &dyn Fn() -> bool,
) -> Result<i64, SnapshotError> {
    let databases = catalog.databases(tenant_id)?;
    let (cut, cut_time) =
        take_cut(catalog, tenant_id, databases, false, interrupted).map_err(SnapshotError::Job)?;
    let image = catalog.tenant_image(tenant_id)?;
    for db in &cut {
        let path = snapshot_database_path(catalog, snapshot_id, &db.entry.name);
        if !db
            .snapshot
            .copy_to(&path, PAGES_PER_COPY, |_| !interrupted())?
        {
            return Err(SnapshotError::Job(JobError::Interrupted));
        }
    }
    let image_path = catalog
        .storage()
        .snapshot_dir(snapshot_id)
        .join("image.json");
    let bytes = serde_json::to_vec(&image)
        .map_err(|e| SnapshotError::Job(JobError::Retryable(e.to_string())))?;
    std::fs::write(&image_path, bytes).map_err(|source| {
        SnapshotError::Storage(tenantry_storage::StorageError::Io {
            op: "write",
            path: image_path.clone(),
            source,
        })
    })?;
    Ok(cut_time * 1000)
}

/// Why a snapshot could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The catalog refused (a name in use, an unknown tenant).
    #[error(transparent)]
    Catalog(#[from] tenantry_catalog::CatalogError),
    /// Copying pages failed.
    #[error(transparent)]
    Storage(#[from] tenantry_storage::StorageError),
    /// Stopped or failed while taking the cut.
    #[error("{0}")]
    Job(JobError),
}
