//! The backup sets a destination holds: `tenant_<id>/backup_set_<n>/`, with `set_info.json` written when the
//! backup starts and `manifest.json` written last. A set with the first and not the second is incomplete.

use serde::{Deserialize, Serialize};

use crate::image::MAX_MANIFEST_BYTES;
use crate::{BackupError, BackupStore, Manifest};

/// What a backup writes when it starts, so that a set is known (as incomplete) before it is whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetInfo {
    /// The tenant backed up.
    pub tenant_id: i64,
    /// Its name then.
    pub tenant_name: String,
    /// The set's number within the tenant.
    pub set_id: i64,
    /// When the backup started (microseconds since the epoch).
    pub start_time_us: i64,
}

/// Where a set's objects live.
pub fn set_dir(tenant_id: i64, set_id: i64) -> String {
    format!("tenant_{tenant_id}/backup_set_{set_id}")
}

/// One set found in a destination.
#[derive(Debug, Clone, PartialEq)]
pub struct SetListing {
    /// Its directory, e.g. `tenant_1001/backup_set_3`.
    pub path: String,
    /// The tenant.
    pub tenant_id: i64,
    /// The set's number.
    pub set_id: i64,
    /// Its manifest, if the set is complete.
    pub manifest: Option<Manifest>,
}

impl SetListing {
    /// Whether the set is complete (has its manifest) and so restorable.
    pub fn is_complete(&self) -> bool {
        self.manifest.is_some()
    }
}

fn number_after(segment: &str, prefix: &str) -> Option<i64> {
    segment.strip_prefix(prefix)?.parse().ok()
}

impl BackupStore {
    /// Every set in the destination, ordered by tenant and set number; complete ones carry their manifest.
    pub fn list_sets(&self) -> Result<Vec<SetListing>, BackupError> {
        let mut sets = Vec::new();
        for tenant_dir in self.list_dirs(None)? {
            let Some(tenant_id) = number_after(&tenant_dir, "tenant_") else {
                continue;
            };
            for set in self.list_dirs(Some(&tenant_dir))? {
                let Some(set_id) = set
                    .rsplit('/')
                    .next()
                    .and_then(|s| number_after(s, "backup_set_"))
                else {
                    continue;
                };
                let manifest = self.manifest(tenant_id, set_id)?;
                sets.push(SetListing {
                    path: set_dir(tenant_id, set_id),
                    tenant_id,
                    set_id,
                    manifest,
                });
            }
        }
        sets.sort_by_key(|s| (s.tenant_id, s.set_id));
        Ok(sets)
    }

    /// A set's manifest, `None` if the set is incomplete or unknown. A manifest is read only up to
    /// [`MAX_MANIFEST_BYTES`] and returned only once [`Manifest::validate`] passed, so nothing it claims is used
    /// before it was checked.
    pub fn manifest(&self, tenant_id: i64, set_id: i64) -> Result<Option<Manifest>, BackupError> {
        let path = format!("{}/manifest.json", set_dir(tenant_id, set_id));
        let Some(bytes) = self.get_object_bounded(&path, MAX_MANIFEST_BYTES)? else {
            return Ok(None);
        };
        Manifest::parse(&bytes)
            .map(Some)
            .map_err(|reason| BackupError::BadManifest { path, reason })
    }

    /// The newest complete set of a tenant numbered below `before`, the base of an incremental backup.
    pub fn latest_manifest(
        &self,
        tenant_id: i64,
        before: i64,
    ) -> Result<Option<Manifest>, BackupError> {
        let mut ids: Vec<i64> = self
            .list_dirs(Some(&format!("tenant_{tenant_id}")))?
            .iter()
            .filter_map(|d| {
                d.rsplit('/')
                    .next()
                    .and_then(|s| number_after(s, "backup_set_"))
            })
            .filter(|id| *id < before)
            .collect();
        ids.sort_unstable_by(|a, b| b.cmp(a));
        for id in ids {
            if let Some(m) = self.manifest(tenant_id, id)? {
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    /// Records that a set has started.
    pub fn put_set_info(&self, info: &SetInfo) -> Result<(), BackupError> {
        self.put_object(
            &format!("{}/set_info.json", set_dir(info.tenant_id, info.set_id)),
            serde_json::to_vec(info)?,
        )
    }
}
