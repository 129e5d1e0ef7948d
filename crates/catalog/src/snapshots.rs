//! Tenant snapshots (`ALTER SYSTEM CREATE SNAPSHOT`): a consistent cut of a tenant kept for later clones.
//! The catalog keeps one row per snapshot; its pages live in `<data-dir>/snapshots/<id>/`.

use rusqlite::{params, OptionalExtension, Row};

use crate::schema::next_id;
use crate::time::now_timestamp;
use crate::{Catalog, CatalogError, Result};

/// Life-cycle of a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotStatus {
    /// Its pages are being copied.
    Creating,
    /// Whole and usable by a clone.
    Normal,
    /// Being removed.
    Deleting,
    /// Its creation failed; it holds nothing usable.
    Failed,
}

impl SnapshotStatus {
    /// The name OceanBase's view shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "CREATING",
            Self::Normal => "NORMAL",
            Self::Deleting => "DELETING",
            Self::Failed => "FAILED",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "CREATING" => Self::Creating,
            "NORMAL" => Self::Normal,
            "DELETING" => Self::Deleting,
            _ => Self::Failed,
        }
    }
}

/// One tenant snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotEntry {
    /// Cluster-unique id; also its directory's name.
    pub snapshot_id: i64,
    /// The tenant it is a cut of.
    pub tenant_id: i64,
    /// Its name, unique within the tenant.
    pub name: String,
    /// Where it is in its life.
    pub status: SnapshotStatus,
    /// The cut's position (microseconds since the epoch, times 1000, as an OceanBase SCN).
    pub snapshot_scn: Option<i64>,
    /// `MANUAL` (CREATE SNAPSHOT) or `AUTO` (made by a clone).
    pub snapshot_type: String,
    /// The job that made it, for snapshots made by a clone.
    pub owner_job_id: Option<i64>,
    /// When it was made.
    pub create_time: String,
}

impl SnapshotEntry {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        let status: String = r.get(3)?;
        Ok(Self {
            snapshot_id: r.get(0)?,
            tenant_id: r.get(1)?,
            name: r.get(2)?,
            status: SnapshotStatus::parse(&status),
            snapshot_scn: r.get(4)?,
            snapshot_type: r.get(5)?,
            owner_job_id: r.get(6)?,
            create_time: r.get(7)?,
        })
    }
}

const COLUMNS: &str =
    "snapshot_id, tenant_id, name, status, snapshot_scn, snapshot_type, owner_job_id, create_time";

impl Catalog {
    /// Records a new snapshot of a tenant, CREATING. `name` `None` names it after its id.
    pub fn create_snapshot_entry(
        &self,
        tenant_id: i64,
        name: Option<&str>,
        snapshot_type: &str,
        owner_job_id: Option<i64>,
    ) -> Result<SnapshotEntry> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let id = next_id(&tx, "snapshot")?;
        let name = match name {
            Some(n) => n.to_string(),
            None if owner_job_id.is_some() => format!("_inner_snapshot${id}"),
            None => format!("snapshot_{id}"),
        };
        let exists: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM tenant_snapshots WHERE tenant_id = ?1 AND name = ?2)",
            params![tenant_id, name],
            |r| r.get(0),
        )?;
        if exists {
            return Err(CatalogError::SnapshotExists(name));
        }
        tx.execute(
            &format!("INSERT INTO tenant_snapshots ({COLUMNS}) VALUES (?1, ?2, ?3, 'CREATING', NULL, ?4, ?5, ?6)"),
            params![id, tenant_id, name, snapshot_type, owner_job_id, now_timestamp()],
        )?;
        tx.commit()?;
        drop(conn);
        self.snapshot_by_id(id)?
            .ok_or_else(|| CatalogError::SnapshotNotExist(id.to_string()))
    }

    /// Moves a snapshot to `status`, recording its cut's SCN if given.
    pub fn set_snapshot_status(
        &self,
        snapshot_id: i64,
        status: SnapshotStatus,
        scn: Option<i64>,
    ) -> Result<()> {
        let conn = self.conn.lock();
        conn.execute(
            "UPDATE tenant_snapshots SET status = ?2, snapshot_scn = COALESCE(?3, snapshot_scn) WHERE snapshot_id = ?1",
            params![snapshot_id, status.as_str(), scn],
        )?;
        Ok(())
    }

    /// The snapshot of that id.
    pub fn snapshot_by_id(&self, snapshot_id: i64) -> Result<Option<SnapshotEntry>> {
        let conn = self.conn.lock();
        Ok(conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM tenant_snapshots WHERE snapshot_id = ?1"),
                [snapshot_id],
                SnapshotEntry::from_row,
            )
            .optional()?)
    }

    /// The tenant's snapshot of that name.
    pub fn snapshot(&self, tenant_id: i64, name: &str) -> Result<Option<SnapshotEntry>> {
        let conn = self.conn.lock();
        Ok(conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM tenant_snapshots WHERE tenant_id = ?1 AND name = ?2"
                ),
                params![tenant_id, name],
                SnapshotEntry::from_row,
            )
            .optional()?)
    }

    /// Every snapshot, or one tenant's, by id.
    pub fn snapshots(&self, tenant_id: Option<i64>) -> Result<Vec<SnapshotEntry>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM tenant_snapshots WHERE ?1 IS NULL OR tenant_id = ?1 ORDER BY snapshot_id"
        ))?;
        let rows = stmt.query_map([tenant_id], SnapshotEntry::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Removes a snapshot: its row, then its files.
    pub fn drop_snapshot_entry(&self, snapshot_id: i64) -> Result<()> {
        {
            let conn = self.conn.lock();
            conn.execute(
                "DELETE FROM tenant_snapshots WHERE snapshot_id = ?1",
                [snapshot_id],
            )?;
        }
        self.storage.drop_snapshot(snapshot_id)?;
        Ok(())
    }

    /// At start-up: a snapshot a crash interrupted is FAILED and its files go; files no row owns go too.
    pub(crate) fn recover_snapshots(&self) -> Result<()> {
        let known = self.snapshots(None)?;
        for s in &known {
            if s.status == SnapshotStatus::Creating && s.owner_job_id.is_none() {
                self.set_snapshot_status(s.snapshot_id, SnapshotStatus::Failed, None)?;
                self.storage.drop_snapshot(s.snapshot_id)?;
            }
        }
        for id in self.storage.snapshot_ids_on_disk()? {
            if !known.iter().any(|s| s.snapshot_id == id) {
                self.storage.drop_snapshot(id)?;
            }
        }
        Ok(())
    }
}
