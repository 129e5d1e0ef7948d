//! Backup cleanup's catalog entries: a tenant's delete policy (`ALTER SYSTEM ADD DELETE BACKUP POLICY`) and
//! the file status of backup sets that cleanup is removing or has removed (`DELETING`, `DELETED`).

use std::collections::HashMap;

use rusqlite::OptionalExtension;

use crate::{Catalog, Result};

/// A tenant's delete backup policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletePolicy {
    /// The tenant.
    pub tenant_id: i64,
    /// The policy's name (always `default`, as OceanBase requires).
    pub policy_name: String,
    /// The recovery window as written, e.g. `7d` (`0`: sets never expire).
    pub recovery_window: String,
    /// When it was added.
    pub create_time: String,
}

impl DeletePolicy {
    /// The recovery window in seconds; `None` if sets never expire.
    pub fn window_secs(&self) -> Option<u64> {
        parse_recovery_window(&self.recovery_window).filter(|s| *s > 0)
    }
}

/// Parses a recovery window: `0`, or a positive number with a unit `s`, `m`, `h` or `d` (`7d`, `12h`, `1s`).
pub fn parse_recovery_window(text: &str) -> Option<u64> {
    let t = text.trim().to_ascii_lowercase();
    if t == "0" {
        return Some(0);
    }
    let unit = t.chars().last()?;
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86400,
        _ => return None,
    };
    let n: u64 = t[..t.len() - 1].parse().ok()?;
    if n == 0 {
        return Some(0);
    }
    n.checked_mul(scale)
}

fn policy(r: &rusqlite::Row) -> rusqlite::Result<DeletePolicy> {
    Ok(DeletePolicy {
        tenant_id: r.get(0)?,
        policy_name: r.get(1)?,
        recovery_window: r.get(2)?,
        create_time: r.get(3)?,
    })
}

impl Catalog {
    /// Adds a tenant's delete policy; false if the tenant already has one (nothing changes).
    pub fn add_delete_policy(
        &self,
        tenant_id: i64,
        policy_name: &str,
        recovery_window: &str,
    ) -> Result<bool> {
        let conn = self.conn.lock();
        let n = conn.execute(
            "INSERT OR IGNORE INTO backup_delete_policies VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![
                tenant_id,
                policy_name,
                recovery_window,
                crate::now_timestamp()
            ],
        )?;
        Ok(n == 1)
    }

    /// Drops a tenant's delete policy; false if it had none.
    pub fn drop_delete_policy(&self, tenant_id: i64) -> Result<bool> {
        let conn = self.conn.lock();
        let n = conn.execute(
            "DELETE FROM backup_delete_policies WHERE tenant_id = ?1",
            [tenant_id],
        )?;
        Ok(n == 1)
    }

    /// A tenant's delete policy, if it has one.
    pub fn delete_policy(&self, tenant_id: i64) -> Result<Option<DeletePolicy>> {
        let conn = self.conn.lock();
        Ok(conn
            .query_row(
                "SELECT tenant_id, policy_name, recovery_window, create_time FROM backup_delete_policies WHERE tenant_id = ?1",
                [tenant_id],
                policy,
            )
            .optional()?)
    }

    /// Every tenant's delete policy.
    pub fn delete_policies(&self) -> Result<Vec<DeletePolicy>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare(
            "SELECT tenant_id, policy_name, recovery_window, create_time FROM backup_delete_policies ORDER BY tenant_id",
        )?;
        let rows = stmt.query_map([], policy)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records the file status (`DELETING`, `DELETED`) of backup sets of a tenant, as job `job_id` changed it.
    pub fn mark_backup_sets(
        &self,
        tenant_id: i64,
        set_ids: &[i64],
        file_status: &str,
        job_id: i64,
    ) -> Result<()> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let now = crate::now_timestamp();
        for set_id in set_ids {
            tx.execute(
                "INSERT INTO backup_set_deletions VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (tenant_id, set_id) DO UPDATE SET file_status = ?3, job_id = ?4, modify_time = ?5",
                rusqlite::params![tenant_id, set_id, file_status, job_id, now],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The file status cleanup gave each of a tenant's sets it touched (set id → `DELETING` / `DELETED`).
    pub fn backup_set_marks(&self, tenant_id: i64) -> Result<HashMap<i64, String>> {
        let conn = self.conn.lock();
        let mut stmt = conn
            .prepare("SELECT set_id, file_status FROM backup_set_deletions WHERE tenant_id = ?1")?;
        let rows = stmt.query_map([tenant_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_windows() {
        assert_eq!(parse_recovery_window("7d"), Some(7 * 86400));
        assert_eq!(parse_recovery_window("1s"), Some(1));
        assert_eq!(parse_recovery_window("12H"), Some(12 * 3600));
        assert_eq!(parse_recovery_window("0"), Some(0));
        assert_eq!(parse_recovery_window("0d"), Some(0));
        for bad in ["", "d", "7", "7y", "-1d", "1.5d", "99999999999999999999d"] {
            assert_eq!(parse_recovery_window(bad), None, "{bad}");
        }
    }

    #[test]
    fn policies_and_marks() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(dir.path(), None).unwrap();
        assert!(catalog.add_delete_policy(1, "default", "7d").unwrap());
        assert!(!catalog.add_delete_policy(1, "default", "1d").unwrap());
        let p = catalog.delete_policy(1).unwrap().unwrap();
        assert_eq!(
            (p.recovery_window.as_str(), p.window_secs()),
            ("7d", Some(604800))
        );
        assert_eq!(catalog.delete_policies().unwrap().len(), 1);
        assert!(catalog.drop_delete_policy(1).unwrap());
        assert!(!catalog.drop_delete_policy(1).unwrap());
        assert!(catalog.delete_policy(1).unwrap().is_none());
        catalog.mark_backup_sets(1, &[2, 3], "DELETING", 9).unwrap();
        catalog.mark_backup_sets(1, &[2], "DELETED", 10).unwrap();
        let marks = catalog.backup_set_marks(1).unwrap();
        assert_eq!(marks.get(&2).map(String::as_str), Some("DELETED"));
        assert_eq!(marks.get(&3).map(String::as_str), Some("DELETING"));
    }
}
