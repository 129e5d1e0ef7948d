//! Opening a backup destination from a job: the destination is resolved again inside the external-IO directory
//! (the statement that made the job checked it too, but the job may run much later, after a restart), and a
//! tenant's job must find the destination formatted as that tenant's.

use tenantry_backup::{BackupError, BackupStore};
use tenantry_catalog::Catalog;
use tenantry_jobs::ob_codes;
use tenantry_jobs::JobError;
use tokio::runtime::Handle;

/// Whose destination a job opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A user tenant's (by id): confined to its part of the external-IO directory, and it must own the
    /// destination.
    Tenant(i64),
    /// The sys tenant reading any destination (ALTER SYSTEM RESTORE).
    Sys,
}

/// Opens `uri` for `owner` (see the module). Blocking.
pub fn open(
    catalog: &Catalog,
    owner: Owner,
    uri: &str,
    runtime: Handle,
) -> Result<BackupStore, BackupError> {
    let external = catalog.storage().external();
    match owner {
        Owner::Sys => BackupStore::open_confined(
            external,
            tenantry_storage::ExternalScope::All,
            uri,
            false,
            runtime,
        ),
        Owner::Tenant(tenant_id) => {
            let tenant = catalog
                .tenant_by_id(tenant_id)
                .map_err(|e| BackupError::Destination(e.to_string()))?
                .ok_or_else(|| {
                    BackupError::Destination(format!("tenant {tenant_id} does not exist"))
                })?;
            let store =
                BackupStore::open_confined(external, tenant.external_scope(), uri, false, runtime)?;
            let cluster_id = catalog
                .cluster_id()
                .map_err(|e| BackupError::Destination(e.to_string()))?;
            store.check_owner(tenantry_backup::DestOwner {
                cluster_id: &cluster_id,
                tenant_id,
                tenant_name: &tenant.tenant_name,
            })?;
            Ok(store)
        }
    }
}

/// The job error for a destination error: a stop is an interruption, anything else fails the job with
/// OceanBase's code for it (`default_code` for plain destination failures).
pub fn job_error(e: BackupError, default_code: i64, context: &str) -> JobError {
    let code = match &e {
        BackupError::Stopped => return JobError::Interrupted,
        BackupError::NotFormatted(_) => ob_codes::BACKUP_DEST_NOT_FORMATTED,
        BackupError::FormatMismatch(_) => ob_codes::BACKUP_FORMAT_MISMATCH,
        _ => default_code,
    };
    JobError::Permanent {
        code,
        message: if context.is_empty() {
            e.to_string()
        } else {
            format!("{context}: {e}")
        },
    }
}
