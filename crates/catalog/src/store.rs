use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use rusqlite::Connection;
use tenantry_storage::Storage;

use crate::tenants::{CompatibilityMode, SYS_TENANT_ID};
use crate::{schema, Result};

/// The sys catalog. One connection, serialised by a mutex: catalog operations are short, and one
/// writer keeps every multi-row change a single SQLite transaction.
///
/// The job registry writes the same file through its own connection, so every transaction that may write
/// starts IMMEDIATE: a deferred one that read first would fail at once (SQLITE_BUSY_SNAPSHOT) when the other
/// connection committed in between, instead of waiting for the lock.
pub struct Catalog {
    pub(crate) conn: Mutex<Connection>,
    pub(crate) storage: Storage,
    /// Counts the commits of this connection (see [`Catalog::version`]).
    version: Arc<AtomicU64>,
}

impl Catalog {
    /// Opens (creating on first start) the catalog under `data_dir`, with the database files beside it.
    ///
    /// On first start the sys tenant, its `root` user (with `root_password`, empty if none), the
    /// `sys_unit_config` unit and the `sys_pool` pool are created. Whatever a crash left half-made —
    /// database files the catalog does not know — is removed.
    pub fn open(data_dir: &Path, root_password: Option<&str>) -> Result<Self> {
        Self::open_with_external(data_dir, root_password, None)
    }

    /// [`Catalog::open`] with the external-IO directory `external` (`<data_dir>/extern` if none).
    pub fn open_with_external(
        data_dir: &Path,
        root_password: Option<&str>,
        external: Option<&Path>,
    ) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(|source| tenantry_storage::StorageError::Io {
            op: "create directory",
            path: data_dir.to_path_buf(),
            source,
        })?;
        let storage = Storage::open_with_external(data_dir, external)?;
        let mut conn = Connection::open(data_dir.join("catalog.sqlite"))?;
        tenantry_storage::configure_connection(&conn, "main")?;
        // The catalog is small and rarely written; a full fsync per change costs nothing noticeable.
        conn.execute_batch("PRAGMA synchronous = FULL;")?;
        schema::migrate(&mut conn)?;
        let version = Arc::new(AtomicU64::new(1));
        let counter = version.clone();
        // Every change to the catalog commits through this connection (the job registry's connection writes
        // only its own tables): counting commits tells readers that cached what they read when to read again.
        conn.commit_hook(Some(move || {
            counter.fetch_add(1, Ordering::AcqRel);
            false
        }));
        let catalog = Self {
            conn: Mutex::new(conn),
            storage,
            version,
        };
        catalog.bootstrap(root_password.unwrap_or(""))?;
        catalog.remove_orphan_files()?;
        catalog.recover_snapshots()?;
        Ok(catalog)
    }

    /// The cluster's identity: 32 hex digits made when the catalog was first opened (see the `cluster` table).
    pub fn cluster_id(&self) -> Result<String> {
        Ok(self
            .conn
            .lock()
            .query_row("SELECT cluster_id FROM cluster WHERE id = 1", [], |r| {
                r.get(0)
            })?)
    }

    /// A number that grows whenever a change to the catalog commits (a database made or dropped, a grant
    /// revoked, ...). Lets sessions keep what they read from the catalog (attached databases, grants) and read
    /// it again only once the number moved, instead of taking the catalog's lock for every statement.
    ///
    /// Read it *before* reading what it guards: a commit bumps it while still holding the catalog's lock, so
    /// a reader that saw the old number either read the old state (and will see the number move) or waited
    /// for the commit.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// The storage layout the catalog's databases live in.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    fn bootstrap(&self, root_password: &str) -> Result<()> {
        if self.tenant_by_id(SYS_TENANT_ID)?.is_some() {
            return Ok(());
        }
        tracing::info!("first start: creating the sys tenant and root@sys");
        self.create_tenant_with_id(
            Some(SYS_TENANT_ID),
            "sys",
            CompatibilityMode::Mysql,
            None,
            root_password,
        )?;
        Ok(())
    }

    /// Removes tenant directories and database files that no catalog entry owns: the leftovers of a
    /// crash between creating files and committing the catalog, or between a drop's commit and its file removal.
    fn remove_orphan_files(&self) -> Result<()> {
        let known: std::collections::HashSet<i64> =
            self.tenants()?.iter().map(|t| t.tenant_id).collect();
        for tenant_id in self.storage.tenant_ids_on_disk()? {
            if !known.contains(&tenant_id) {
                tracing::warn!(
                    tenant_id,
                    "removing files of a tenant the catalog does not know"
                );
                self.storage.drop_tenant(tenant_id)?;
                continue;
            }
            let dbs: std::collections::HashSet<i64> = self
                .databases(tenant_id)?
                .iter()
                .map(|d| d.database_id)
                .collect();
            for db_id in self.storage.database_ids_on_disk(tenant_id)? {
                if !dbs.contains(&db_id) {
                    tracing::warn!(
                        tenant_id,
                        db_id,
                        "removing a database file the catalog does not know"
                    );
                    self.storage.drop_database(tenant_id, db_id)?;
                }
            }
        }
        Ok(())
    }
}
