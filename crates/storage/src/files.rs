use std::fs;
use std::path::{Path, PathBuf};

use crate::error::StorageError;
use crate::open::open_database;

/// The on-disk layout of all tenant databases below a data directory.
#[derive(Debug, Clone)]
pub struct Storage {
    root: PathBuf,
    snapshots: PathBuf,
    scratch: PathBuf,
    external: crate::ExternalDir,
}

/// Names of databases, tenants, users, pools and units: letters, digits, `_` and `$`, not starting with a digit
/// or `$`, at most 128 characters. Keeping names to this set means they are always safe inside paths.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    name.len() <= 128 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

impl Storage {
    /// Storage rooted at `data_dir` (created if missing), with the external-IO directory `<data_dir>/extern`.
    pub fn open(data_dir: &Path) -> Result<Self, StorageError> {
        Self::open_with_external(data_dir, None)
    }

    /// Storage rooted at `data_dir`, with the external-IO directory `external` (`<data_dir>/extern` if none).
    pub fn open_with_external(
        data_dir: &Path,
        external: Option<&Path>,
    ) -> Result<Self, StorageError> {
        let root = data_dir.join("tenants");
        fs::create_dir_all(&root).map_err(|source| StorageError::Io {
            op: "create directory",
            path: root.clone(),
            source,
        })?;
        let snapshots = data_dir.join("snapshots");
        fs::create_dir_all(&snapshots).map_err(|source| StorageError::Io {
            op: "create directory",
            path: snapshots.clone(),
            source,
        })?;
        // Files are written here whole and then renamed into place, so a tenant's directory never shows a
        // half-made one (the change journals' rewrites). What a crash left here is of no use: removed.
        let scratch = data_dir.join("tmp");
        remove_dir(&scratch)?;
        fs::create_dir_all(&scratch).map_err(|source| StorageError::Io {
            op: "create directory",
            path: scratch.clone(),
            source,
        })?;
        let external = match external {
            Some(dir) => crate::ExternalDir::open(dir, data_dir)?,
            None => crate::ExternalDir::open(&data_dir.join("extern"), data_dir)?,
        };
        Ok(Self {
            root,
            snapshots,
            scratch,
            external,
        })
    }

    /// The data directory's scratch directory (`<data_dir>/tmp`, on the same file system as the tenants'
    /// files): a file is written and synced there, then renamed over the one it replaces.
    pub fn scratch_dir(&self) -> &Path {
        &self.scratch
    }

    /// The external-IO directory: where `file://` locations and `LOAD DATA INFILE` paths may lie.
    pub fn external(&self) -> &crate::ExternalDir {
        &self.external
    }

    /// Directory holding a tenant snapshot's database files (`<database name>.sqlite`).
    pub fn snapshot_dir(&self, snapshot_id: i64) -> PathBuf {
        self.snapshots.join(snapshot_id.to_string())
    }

    /// Removes a snapshot's directory; a missing one is fine.
    pub fn drop_snapshot(&self, snapshot_id: i64) -> Result<(), StorageError> {
        remove_dir(&self.snapshot_dir(snapshot_id))
    }

    /// Snapshot ids that have a directory on disk.
    pub fn snapshot_ids_on_disk(&self) -> Result<Vec<i64>, StorageError> {
        numbered_dirs(&self.snapshots)
    }

    /// Directory holding every database file of a tenant.
    pub fn tenant_dir(&self, tenant_id: i64) -> PathBuf {
        self.root.join(tenant_id.to_string())
    }

    /// Path of the SQLite file of database `db_id` in tenant `tenant_id`.
    pub fn database_path(&self, tenant_id: i64, db_id: i64) -> PathBuf {
        self.tenant_dir(tenant_id)
            .join(format!("db_{db_id}.sqlite"))
    }

    /// Creates an empty database file in WAL mode (and the tenant directory if needed).
    pub fn create_database(&self, tenant_id: i64, db_id: i64) -> Result<PathBuf, StorageError> {
        let dir = self.tenant_dir(tenant_id);
        fs::create_dir_all(&dir).map_err(|source| StorageError::Io {
            op: "create directory",
            path: dir.clone(),
            source,
        })?;
        let path = self.database_path(tenant_id, db_id);
        // A leftover from a crash between file creation and catalog commit is stale by definition.
        remove_database_files(&path)?;
        let conn = open_database(&path)?;
        // Writing the schema cookie materialises the file header so the file is a valid database at once.
        conn.execute_batch("PRAGMA user_version = 1;")?;
        // Its page change journal is made with it, not later by the checkpointer's first pass: a new
        // database's directory entries are all there once it exists.
        crate::changes::start_record(&path, &self.scratch)?;
        Ok(path)
    }

    /// Removes a database file and its WAL and shared-memory companions; missing files are fine.
    pub fn drop_database(&self, tenant_id: i64, db_id: i64) -> Result<(), StorageError> {
        remove_database_files(&self.database_path(tenant_id, db_id))
    }

    /// Removes a tenant's whole directory; a missing directory is fine.
    pub fn drop_tenant(&self, tenant_id: i64) -> Result<(), StorageError> {
        let dir = self.tenant_dir(tenant_id);
        crate::changes::forget_under(&dir);
        remove_dir(&dir)
    }

    /// Tenant ids that have a directory on disk (used at start-up to remove what the catalog no longer knows).
    pub fn tenant_ids_on_disk(&self) -> Result<Vec<i64>, StorageError> {
        numbered_dirs(&self.root)
    }

    /// Database ids that have a file on disk for a tenant.
    pub fn database_ids_on_disk(&self, tenant_id: i64) -> Result<Vec<i64>, StorageError> {
        let dir = self.tenant_dir(tenant_id);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(StorageError::Io {
                    op: "read directory",
                    path: dir,
                    source,
                })
            }
        };
        Ok(entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name();
                let name = name.to_str()?;
                name.strip_prefix("db_")?
                    .strip_suffix(".sqlite")?
                    .parse()
                    .ok()
            })
            .collect())
    }
}

fn remove_dir(dir: &Path) -> Result<(), StorageError> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StorageError::Io {
            op: "remove directory",
            path: dir.to_path_buf(),
            source,
        }),
    }
}

/// The entries of `dir` whose names are numbers (tenant or snapshot ids).
fn numbered_dirs(dir: &Path) -> Result<Vec<i64>, StorageError> {
    let entries = fs::read_dir(dir).map_err(|source| StorageError::Io {
        op: "read directory",
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
        .collect())
}

/// The bytes an unprivileged writer may still use on the file system that holds `dir` (statvfs's `f_bavail`).
// The fields' types differ between platforms (u32 on some 32-bit ones), hence the conversions.
#[allow(clippy::useless_conversion)]
pub fn available_space(dir: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes())?;
    // SAFETY: `statvfs` is plain old data, for which all zeroes is a valid value.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` a valid place for the result, both alive for the call.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(u64::from(st.f_bavail).saturating_mul(u64::from(st.f_frsize)))
}

/// `path` with `suffix` appended to its file name (`db.sqlite` → `db.sqlite-wal`), as SQLite names companions.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

fn remove_database_files(path: &Path) -> Result<(), StorageError> {
    crate::changes::forget(path);
    for suffix in ["", "-wal", "-shm", "-pages"] {
        let p = with_suffix(path, suffix);
        match fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(StorageError::Io {
                    op: "remove file",
                    path: p,
                    source,
                })
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_path_safe() {
        assert!(is_valid_name("mysql_tenant"));
        assert!(is_valid_name("t$1"));
        assert!(!is_valid_name("../etc"));
        assert!(!is_valid_name("a/b"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("1abc"));
        assert!(!is_valid_name(&"a".repeat(129)));
    }

    #[test]
    fn create_and_drop_database_files() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        let path = storage.create_database(1001, 7).unwrap();
        assert!(path.exists());
        let conn = open_database(&path).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        drop(conn);
        assert_eq!(storage.database_ids_on_disk(1001).unwrap(), vec![7]);
        storage.drop_database(1001, 7).unwrap();
        assert!(!path.exists());
        storage.drop_tenant(1001).unwrap();
        assert!(storage.tenant_ids_on_disk().unwrap().is_empty());
    }
}
