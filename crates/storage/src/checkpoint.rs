//! The server's own checkpoints of tenant databases. SQLite's automatic checkpoints are turned off on every
//! connection to a tenant database ([`hand_checkpoints_to_server`]) so that no frame reaches a database file
//! before [`crate::changes`] has recorded its page: this module is the only place that copies the WAL.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use crate::changes;
use crate::error::StorageError;
use crate::files::Storage;
use crate::wal::wal_path;

/// How often the checkpointer looks for WALs that grew.
const TICK: Duration = Duration::from_millis(200);

/// Turns off SQLite's own checkpoints on a connection to tenant databases (automatic ones after commits and the
/// one on close); the server's checkpointer does them instead.
pub fn hand_checkpoints_to_server(conn: &Connection) -> Result<(), StorageError> {
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    Ok(())
}

fn open_existing(db: &Path) -> Result<Connection, StorageError> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_millis(100))?;
    hand_checkpoints_to_server(&conn)?;
    Ok(conn)
}

/// Copies what it can of a database's WAL into its file (never waiting for readers or writers), after recording
/// the pages of the frames it copies. Returns whether the whole log was copied. `scratch` is the data
/// directory's [`Storage::scratch_dir`].
pub fn checkpoint_database(db: &Path, scratch: &Path) -> Result<bool, StorageError> {
    // An open read transaction keeps SQLite from restarting the log, and from copying frames written after it
    // began, while the pages are recorded and copied.
    let reader = open_existing(db)?;
    reader.execute_batch("BEGIN")?;
    reader.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
    let generation = changes::record_wal(db, scratch)?;
    let copier = open_existing(db)?;
    let (log, copied): (i64, i64) =
        copier.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(1)?, r.get(2)?))
        })?;
    reader.execute_batch("ROLLBACK")?;
    let complete = log >= 0 && log == copied;
    if let (true, Some(generation)) = (complete, generation) {
        changes::note_checkpointed(db, scratch, generation)?;
    }
    Ok(complete)
}

/// The background thread that checkpoints tenant databases whose WAL changed; stops when dropped.
pub struct Checkpointer {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing every database below `storage`.
    pub fn spawn(storage: Storage) -> Result<Self, StorageError> {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("checkpointer".into())
                .spawn(move || {
                    let mut seen: HashMap<PathBuf, SystemTime> = HashMap::new();
                    while !stop.load(Ordering::Relaxed) {
                        checkpoint_changed(&storage, &mut seen);
                        std::thread::sleep(TICK);
                    }
                })
                .map_err(|source| StorageError::Io {
                    op: "start checkpointer",
                    path: PathBuf::new(),
                    source,
                })?
        };
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One pass: checkpoints every database whose WAL was written since the last pass.
fn checkpoint_changed(storage: &Storage, seen: &mut HashMap<PathBuf, SystemTime>) {
    let Ok(tenants) = storage.tenant_ids_on_disk() else {
        return;
    };
    let mut present = HashSet::new();
    for tenant in tenants {
        let Ok(ids) = storage.database_ids_on_disk(tenant) else {
            continue;
        };
        for id in ids {
            let db = storage.database_path(tenant, id);
            let Ok(modified) = std::fs::metadata(wal_path(&db)).and_then(|m| m.modified()) else {
                continue;
            };
            present.insert(db.clone());
            if seen.get(&db) == Some(&modified) {
                continue;
            }
            // A partial copy (a reader holds frames back) is tried again next pass.
            match checkpoint_database(&db, storage.scratch_dir()) {
                Ok(true) => {
                    seen.insert(db, modified);
                }
                Ok(false) => {}
                Err(e) => tracing::debug!(db = %db.display(), error = %e, "checkpoint deferred"),
            }
        }
    }
    seen.retain(|db, _| present.contains(db));
}
