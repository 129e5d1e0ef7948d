//! A consistent cut of a tenant: every database's writers wait a moment while read snapshots of all of them
//! open together, then go on. Backup and clone stream their pages from the cut.

use rusqlite::Connection;
use tenantry_catalog::{Catalog, DatabaseEntry};
use tenantry_jobs::JobError;
use tenantry_storage::{mark_cut, open_database, PageChanges, PageSnapshot};

/// One database of a cut.
pub struct CutDatabase {
    /// The database as the catalog records it.
    pub entry: DatabaseEntry,
    /// Its pages as of the cut.
    pub snapshot: PageSnapshot,
    /// Which pages changed since earlier cuts (`None` if not asked for, or if the record could not be read: then
    /// nothing is known).
    pub changes: Option<PageChanges>,
}

/// Takes a cut of `databases` of a tenant. Waits (stopping with [`JobError::Interrupted`] once `interrupted`
/// says so) while another writer holds a lock. With `mark_changes` (backups) each database's page change record
/// starts a new epoch at the cut. Returns the cut and its time (microseconds since the epoch).
pub fn take_cut(
    catalog: &Catalog,
    tenant_id: i64,
    databases: Vec<DatabaseEntry>,
    mark_changes: bool,
    interrupted: &dyn Fn() -> bool,
) -> Result<(Vec<CutDatabase>, i64), JobError> {
    let retry = |e: tenantry_storage::StorageError| JobError::Retryable(e.to_string());
    let mut locks = Vec::new();
    for d in databases {
        let path = catalog.storage().database_path(tenant_id, d.database_id);
        let conn = open_database(&path).map_err(retry)?;
        lock_writes(&conn, interrupted)?;
        locks.push((d, path, conn));
    }
    let cut_time = tenantry_jobs::now_micros();
    let mut cut = Vec::new();
    for (entry, path, _) in &locks {
        // Writers are held, so the record ends exactly where the snapshot begins.
        let changes = match mark_changes
            .then(|| mark_cut(path, catalog.storage().scratch_dir()))
            .transpose()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(db = %path.display(), error = %e, "page change record unavailable; an incremental backup will read every page");
                None
            }
        };
        let snapshot = PageSnapshot::open(path).map_err(retry)?;
        cut.push(CutDatabase {
            entry: entry.clone(),
            snapshot,
            changes,
        });
    }
    for (_, _, conn) in &locks {
        let _ = conn.execute_batch("ROLLBACK");
    }
    Ok((cut, cut_time))
}

/// Takes a database's write lock, stopping on a cancel while another writer holds it.
fn lock_writes(conn: &Connection, interrupted: &dyn Fn() -> bool) -> Result<(), JobError> {
    conn.busy_timeout(std::time::Duration::from_millis(20))
        .map_err(|e| JobError::Retryable(e.to_string()))?;
    loop {
        match conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => return Ok(()),
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::DatabaseBusy =>
            {
                if interrupted() {
                    return Err(JobError::Interrupted);
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            Err(e) => return Err(JobError::Retryable(e.to_string())),
        }
    }
}
