//! The exclusive keys jobs hold while they live ([`tenantry_jobs::JobRegistry::create_exclusive`]): a second
//! job under a key a live job holds is refused in the transaction that would create it, so two concurrent
//! statements can never both start. Keys name what must not be done twice at once.

/// One backup of a tenant's data at a time (its own, or a child of a sys-initiated backup).
pub fn backup(tenant_id: i64) -> String {
    format!("backup/tenant/{tenant_id}")
}

/// One obsolete-set cleanup of a tenant at a time.
pub fn obsolete_cleanup(tenant_id: i64) -> String {
    format!("backup-cleanup/tenant/{tenant_id}")
}

/// One cleanup after a given backup stopped.
pub fn cleanup_after(backup_job_id: i64) -> String {
    format!("backup-cleanup/after/{backup_job_id}")
}

/// One job at a time making a tenant of this name (a restore or a clone).
pub fn tenant_name(name: &str) -> String {
    format!("tenant-name/{}", name.to_ascii_lowercase())
}

/// One job at a time making a resource pool of this name (a clone).
pub fn pool_name(name: &str) -> String {
    format!("pool-name/{}", name.to_ascii_lowercase())
}

/// One clone at a time from a source tenant.
pub fn clone_source(tenant_id: i64) -> String {
    format!("clone-source/{tenant_id}")
}
