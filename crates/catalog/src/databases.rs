use rusqlite::{params, OptionalExtension, Row};

use crate::schema::next_id;
use crate::time::now_timestamp;
use crate::{Catalog, CatalogError, Result};

/// One database of a tenant: a name and the id its file is named by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseEntry {
    /// Cluster-unique id; the file is `db_<id>.sqlite`.
    pub database_id: i64,
    /// The tenant it belongs to.
    pub tenant_id: i64,
    /// Its name (case-insensitive, stored lower case as OceanBase does by default).
    pub name: String,
    /// When it was created.
    pub create_time: String,
}

impl DatabaseEntry {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(Self {
            database_id: r.get(0)?,
            tenant_id: r.get(1)?,
            name: r.get(2)?,
            create_time: r.get(3)?,
        })
    }
}

impl Catalog {
    /// A tenant's databases, by name.
    pub fn databases(&self, tenant_id: i64) -> Result<Vec<DatabaseEntry>> {
        let conn = self.conn.lock();
        let mut stmt =
            conn.prepare("SELECT * FROM databases WHERE tenant_id = ?1 ORDER BY name")?;
        let rows = stmt.query_map([tenant_id], DatabaseEntry::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The tenant's database of that name, if any.
    pub fn database(&self, tenant_id: i64, name: &str) -> Result<Option<DatabaseEntry>> {
        let conn = self.conn.lock();
        Ok(conn
            .query_row(
                "SELECT * FROM databases WHERE tenant_id = ?1 AND name = ?2",
                params![tenant_id, name],
                DatabaseEntry::from_row,
            )
            .optional()?)
    }

    /// Creates a database and its file, atomically: the entry commits only once the file exists.
    pub fn create_database(&self, tenant_id: i64, name: &str) -> Result<DatabaseEntry> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let entry = insert_entry(&tx, tenant_id, name)?;
        self.storage.create_database(tenant_id, entry.database_id)?;
        tx.commit()?;
        Ok(entry)
    }

    /// Makes a database of a finished file (a restore's staged copy): the file is moved to the new database's
    /// path and the entry committed, in that order, so a crash in between leaves a file start-up removes.
    pub fn adopt_database(
        &self,
        tenant_id: i64,
        name: &str,
        file: &std::path::Path,
    ) -> Result<DatabaseEntry> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let entry = insert_entry(&tx, tenant_id, name)?;
        let path = self.storage.database_path(tenant_id, entry.database_id);
        std::fs::rename(file, &path).map_err(|source| tenantry_storage::StorageError::Io {
            op: "rename",
            path: file.to_path_buf(),
            source,
        })?;
        if let Err(e) = tx.commit() {
            let _ = std::fs::rename(&path, file);
            return Err(e.into());
        }
        Ok(entry)
    }

    /// Drops a database: the entry and its grants go in one transaction, then the file is removed.
    pub fn drop_database(&self, tenant_id: i64, name: &str) -> Result<DatabaseEntry> {
        let entry = {
            let mut conn = self.conn.lock();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let entry = tx
                .query_row(
                    "SELECT * FROM databases WHERE tenant_id = ?1 AND name = ?2",
                    params![tenant_id, name],
                    DatabaseEntry::from_row,
                )
                .optional()?
                .ok_or_else(|| CatalogError::DatabaseNotExist(name.to_string()))?;
            tx.execute(
                "DELETE FROM databases WHERE database_id = ?1",
                [entry.database_id],
            )?;
            tx.execute(
                "DELETE FROM grants WHERE tenant_id = ?1 AND db = ?2",
                params![tenant_id, entry.name],
            )?;
            tx.commit()?;
            entry
        };
        self.storage
            .drop_database(entry.tenant_id, entry.database_id)?;
        Ok(entry)
    }
}

/// Inserts the entry of a new database (a valid name not used in the tenant) inside the caller's transaction.
fn insert_entry(tx: &rusqlite::Transaction, tenant_id: i64, name: &str) -> Result<DatabaseEntry> {
    if !tenantry_storage::is_valid_name(name) {
        return Err(CatalogError::InvalidName(name.to_string()));
    }
    let name = name.to_ascii_lowercase();
    let exists: bool = tx.query_row(
        "SELECT EXISTS(SELECT 1 FROM databases WHERE tenant_id = ?1 AND name = ?2)",
        params![tenant_id, name],
        |r| r.get(0),
    )?;
    if exists {
        return Err(CatalogError::DatabaseExists(name));
    }
    let id = next_id(tx, "database")?;
    let now = now_timestamp();
    tx.execute(
        "INSERT INTO databases VALUES (?1, ?2, ?3, ?4)",
        params![id, tenant_id, name, now],
    )?;
    Ok(DatabaseEntry {
        database_id: id,
        tenant_id,
        name,
        create_time: now,
    })
}
