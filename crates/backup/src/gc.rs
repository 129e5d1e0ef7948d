//! Backup cleanup's side of the format: which sets a destination holds, which chunks its complete sets use,
//! and removing sets and unused chunks (mark and sweep).
//!
//! Chunks are shared by every set at a destination (an incremental set is a manifest naming mostly old chunks),
//! so a set never owns its chunks: removing a set removes its manifest, and a sweep then removes every chunk
//! that no remaining complete manifest names. A sweep must never run while a backup writes to the same
//! destination, because that backup's chunks are in no manifest yet; callers keep the two apart.

use std::collections::HashSet;

use crate::{BackupError, BackupStore};

/// Deletes between two calls of a sweep's step (the unit between cancellation checks).
pub const SWEEP_BATCH: usize = 256;

/// A complete backup set found at a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteSet {
    /// The tenant.
    pub tenant_id: i64,
    /// The set's number within the tenant.
    pub set_id: i64,
    /// When its manifest was written, i.e. when it became complete (µs since the Unix epoch).
    pub completed_micros: i64,
}

/// The directory of a set under a destination.
pub fn set_prefix(tenant_id: i64, set_id: i64) -> String {
    format!("tenant_{tenant_id}/backup_set_{set_id}")
}

/// The manifest of a set: present exactly when the set is complete.
pub fn manifest_path(tenant_id: i64, set_id: i64) -> String {
    format!("{}/manifest.json", set_prefix(tenant_id, set_id))
}

/// `tenant_<t>/backup_set_<n>/manifest.json` → (t, n).
fn parse_manifest_path(path: &str) -> Option<(i64, i64)> {
    let mut parts = path.split('/');
    let tenant = parts.next()?.strip_prefix("tenant_")?.parse().ok()?;
    let set = parts.next()?.strip_prefix("backup_set_")?.parse().ok()?;
    (parts.next()? == "manifest.json" && parts.next().is_none()).then_some((tenant, set))
}

/// The complete sets at a destination: of one tenant, or of every tenant (`None`), ordered by tenant and set.
pub fn complete_sets(
    store: &BackupStore,
    tenant_id: Option<i64>,
) -> Result<Vec<CompleteSet>, BackupError> {
    let tenant_dirs: Vec<String> = match tenant_id {
        Some(t) => vec![format!("tenant_{t}")],
        None => store
            .list_dirs(None)?
            .into_iter()
            .filter(|d| d.starts_with("tenant_"))
            .collect(),
    };
    let mut sets = Vec::new();
    for dir in tenant_dirs {
        for object in store.list(Some(&dir))? {
            if let Some((tenant_id, set_id)) = parse_manifest_path(&object.path) {
                sets.push(CompleteSet {
                    tenant_id,
                    set_id,
                    completed_micros: object.modified_micros,
                });
            }
        }
    }
    sets.sort_by_key(|s| (s.tenant_id, s.set_id));
    Ok(sets)
}

/// The mark: every chunk a complete manifest at the destination names (every tenant's). `step` runs between
/// manifests and may stop the work.
pub fn referenced_chunks(
    store: &BackupStore,
    mut step: impl FnMut() -> Result<(), BackupError>,
) -> Result<HashSet<String>, BackupError> {
    let mut used = HashSet::new();
    for set in complete_sets(store, None)? {
        step()?;
        // A manifest removed since the listing belongs to a set being deleted: its chunks need no keeping.
        let Some(manifest) = store.manifest(set.tenant_id, set.set_id)? else {
            continue;
        };
        for image in manifest.databases {
            used.extend(image.chunks.into_iter().map(|c| c.hash));
        }
    }
    Ok(used)
}

/// Removes a set: its manifest first (from then on the set is not restorable), then whatever else is under
/// its directory. Idempotent.
pub fn remove_set(store: &BackupStore, tenant_id: i64, set_id: i64) -> Result<(), BackupError> {
    store.delete_object(&manifest_path(tenant_id, set_id))?;
    for object in store.list(Some(&set_prefix(tenant_id, set_id)))? {
        store.delete_object(&object.path)?;
    }
    Ok(())
}

/// The sweep: deletes every chunk not in `keep`. `step` runs after every [`SWEEP_BATCH`] deletes (and once
/// before the first) with the number deleted so far, and may stop the work. Returns how many were deleted.
pub fn sweep_chunks(
    store: &BackupStore,
    keep: &HashSet<String>,
    mut step: impl FnMut(u64) -> Result<(), BackupError>,
) -> Result<u64, BackupError> {
    let garbage: Vec<String> = store
        .list_chunks()?
        .into_iter()
        .filter(|h| !keep.contains(h))
        .collect();
    let mut deleted = 0u64;
    for batch in garbage.chunks(SWEEP_BATCH) {
        step(deleted)?;
        for hash in batch {
            store.delete_chunk(hash)?;
            deleted += 1;
        }
    }
    step(deleted)?;
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ChunkEntry, DatabaseImage, Manifest};

    fn manifest(hashes: &[&str]) -> Vec<u8> {
        let m = Manifest {
            format: 1,
            databases: vec![DatabaseImage {
                name: "d".into(),
                page_size: 4096,
                page_count: hashes.len() as u32,
                chunks: hashes
                    .iter()
                    .enumerate()
                    .map(|(i, h)| ChunkEntry {
                        hash: h.to_string(),
                        first_page: i as u32 + 1,
                        pages: 1,
                    })
                    .collect(),
                tables: Vec::new(),
                change_mark: None,
            }],
            catalog: serde_json::json!({}),
            tenant_id: 1001,
            tenant_name: "t".into(),
            set_id: 1,
            cut_time_us: 0,
        };
        serde_json::to_vec(&m).unwrap()
    }

    #[test]
    fn paths() {
        assert_eq!(
            parse_manifest_path("tenant_1001/backup_set_3/manifest.json"),
            Some((1001, 3))
        );
        for bad in [
            "tenant_1001/backup_set_3",
            "tenant_x/backup_set_3/manifest.json",
            "tenant_1/backup_set_3/manifest.json/x",
            "chunks/ab/abcd",
        ] {
            assert_eq!(parse_manifest_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn mark_and_sweep_keeps_what_complete_sets_use() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = BackupStore::open(
            &format!("file://{}", dir.path().display()),
            rt.handle().clone(),
        )
        .unwrap();
        let shared = store.put_chunk(b"shared").unwrap().hash;
        let only_a = store.put_chunk(b"only in set 1").unwrap().hash;
        let orphan = store
            .put_chunk(b"written by an incomplete set")
            .unwrap()
            .hash;
        store
            .put_object(&manifest_path(1001, 1), manifest(&[&shared, &only_a]))
            .unwrap();
        store
            .put_object(&manifest_path(1002, 1), manifest(&[&shared]))
            .unwrap();
        let sets = complete_sets(&store, None).unwrap();
        assert_eq!(
            sets.iter()
                .map(|s| (s.tenant_id, s.set_id))
                .collect::<Vec<_>>(),
            vec![(1001, 1), (1002, 1)]
        );
        assert_eq!(complete_sets(&store, Some(1002)).unwrap().len(), 1);

        let keep = referenced_chunks(&store, || Ok(())).unwrap();
        assert_eq!(sweep_chunks(&store, &keep, |_| Ok(())).unwrap(), 1);
        assert!(matches!(
            store.get_chunk(&orphan, 28),
            Err(BackupError::MissingChunk(_))
        ));
        assert_eq!(store.get_chunk(&only_a, 13).unwrap(), b"only in set 1");

        // Removing set 1 of tenant 1001 frees its own chunk; the one tenant 1002's set uses stays.
        remove_set(&store, 1001, 1).unwrap();
        remove_set(&store, 1001, 1).unwrap();
        let keep = referenced_chunks(&store, || Ok(())).unwrap();
        assert_eq!(sweep_chunks(&store, &keep, |_| Ok(())).unwrap(), 1);
        assert!(store.get_chunk(&only_a, 13).is_err());
        assert_eq!(store.get_chunk(&shared, 6).unwrap(), b"shared");
        assert!(complete_sets(&store, Some(1001)).unwrap().is_empty());

        // A stopped sweep stops between batches.
        for i in 0..600u32 {
            store.put_chunk(&i.to_le_bytes()).unwrap();
        }
        let mut calls = 0;
        let stopped = sweep_chunks(&store, &keep, |_| {
            calls += 1;
            if calls == 2 {
                Err(BackupError::Stopped)
            } else {
                Ok(())
            }
        });
        assert!(matches!(stopped, Err(BackupError::Stopped)));
        assert_eq!(store.list_chunks().unwrap().len(), 1 + 600 - SWEEP_BATCH);
    }
}
