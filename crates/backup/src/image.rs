//! Database images: a database's pages as a list of chunks, written from a snapshot and read back into a file.

use serde::{Deserialize, Serialize};
use tenantry_storage::PageSnapshot;

use crate::{BackupError, BackupStore, KnownChunks};

/// One chunk of a database image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkEntry {
    /// BLAKE3 of the raw pages.
    pub hash: String,
    /// The first page's number.
    pub first_page: u32,
    /// How many pages.
    pub pages: u32,
}

/// One database in a backup set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseImage {
    /// The database's name.
    pub name: String,
    /// Bytes per page.
    pub page_size: u32,
    /// Pages.
    pub page_count: u32,
    /// Its chunks in page order.
    pub chunks: Vec<ChunkEntry>,
    /// Its tables at the cut (for SHOW BACKUP).
    #[serde(default)]
    pub tables: Vec<String>,
}

/// What makes a backup set complete; written last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version.
    pub format: u32,
    /// The databases.
    pub databases: Vec<DatabaseImage>,
    /// Catalog entries (users, grants, ...) as the caller keeps them.
    pub catalog: serde_json::Value,
    /// The tenant backed up.
    #[serde(default)]
    pub tenant_id: i64,
    /// Its name then.
    #[serde(default)]
    pub tenant_name: String,
    /// The set's number.
    #[serde(default)]
    pub set_id: i64,
    /// When the cut was taken (microseconds since the epoch).
    #[serde(default)]
    pub cut_time_us: i64,
}

impl Manifest {
    /// The bytes a restore of the whole set writes.
    pub fn total_bytes(&self) -> u64 {
        self.databases
            .iter()
            .map(|d| u64::from(d.page_count) * u64::from(d.page_size))
            .sum()
    }
}

/// Writes a snapshot's pages as chunks of `pages_per_chunk` pages, hashing, compressing and storing them on
/// worker threads while this one reads pages (SQLite's connection is not shared). Chunks `known` lists are not
/// written again. `step` is called on this thread after each chunk is stored, with (bytes read, bytes stored),
/// and may stop the work by returning an error; at most a few chunks are in flight when it does.
pub fn backup_database_with(
    name: &str,
    snapshot: &PageSnapshot,
    store: &BackupStore,
    pages_per_chunk: u32,
    known: &KnownChunks,
    mut step: impl FnMut(u64, u64) -> Result<(), BackupError>,
) -> Result<DatabaseImage, BackupError> {
    let pages_per_chunk = pages_per_chunk.max(1);
    // One core is left to the reading thread and to the foreground (a backup must not starve writers).
    let workers = std::thread::available_parallelism().map_or(1, |n| (n.get() - 1).clamp(1, 8));
    let page_size = snapshot.page_size() as usize;
    let mut entries: Vec<Option<ChunkEntry>> = Vec::new();
    std::thread::scope(|scope| -> Result<(), BackupError> {
        let (work_tx, work_rx) = std::sync::mpsc::sync_channel::<(usize, u32, Vec<u8>)>(workers);
        let work_rx = std::sync::Arc::new(std::sync::Mutex::new(work_rx));
        let (done_tx, done_rx) =
            std::sync::mpsc::channel::<Result<(usize, ChunkEntry, u64, u64), BackupError>>();
        for _ in 0..workers {
            let (work_rx, done_tx) = (work_rx.clone(), done_tx.clone());
            scope.spawn(move || loop {
                let next = work_rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                let Ok((index, first_page, data)) = next else {
                    return;
                };
                let result = store.put_chunk_if_new(&data, known).map(|written| {
                    let entry = ChunkEntry {
                        hash: written.hash,
                        first_page,
                        pages: (data.len() / page_size) as u32,
                    };
                    (index, entry, data.len() as u64, written.stored_bytes)
                });
                if done_tx.send(result).is_err() {
                    return;
                }
            });
        }
        drop(done_tx);
        let mut settle = |entries: &mut Vec<Option<ChunkEntry>>,
                          r: Result<(usize, ChunkEntry, u64, u64), BackupError>|
         -> Result<(), BackupError> {
            let (index, entry, read, stored) = r?;
            entries[index] = Some(entry);
            step(read, stored)
        };
        let mut first = 1;
        let mut sent = 0;
        let mut received = 0;
        while first <= snapshot.page_count() {
            let chunk = snapshot.read(first, pages_per_chunk)?;
            entries.push(None);
            // A full queue means the workers are behind: settle what they finished first.
            let mut item = (sent, first, chunk.data);
            loop {
                match work_tx.try_send(item) {
                    Ok(()) => break,
                    Err(std::sync::mpsc::TrySendError::Full(back)) => {
                        item = back;
                        let r = done_rx
                            .recv()
                            .map_err(|_| BackupError::Destination("chunk workers ended".into()))?;
                        received += 1;
                        settle(&mut entries, r)?;
                    }
                    Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                        return Err(BackupError::Destination("chunk workers ended".into()))
                    }
                }
            }
            sent += 1;
            while let Ok(r) = done_rx.try_recv() {
                received += 1;
                settle(&mut entries, r)?;
            }
            first = first.saturating_add(pages_per_chunk);
        }
        drop(work_tx);
        while received < sent {
            let r = done_rx
                .recv()
                .map_err(|_| BackupError::Destination("chunk workers ended".into()))?;
            received += 1;
            settle(&mut entries, r)?;
        }
        Ok(())
    })?;
    Ok(DatabaseImage {
        name: name.to_string(),
        page_size: snapshot.page_size(),
        page_count: snapshot.page_count(),
        chunks: entries.into_iter().flatten().collect(),
        tables: snapshot.tables()?,
    })
}

/// Writes a snapshot's pages as chunks of `pages_per_chunk` pages. `step` is called after each chunk with
/// (bytes read, bytes stored) and may stop the work by returning an error.
pub fn backup_database(
    name: &str,
    snapshot: &PageSnapshot,
    store: &BackupStore,
    pages_per_chunk: u32,
    mut step: impl FnMut(u64, u64) -> Result<(), BackupError>,
) -> Result<DatabaseImage, BackupError> {
    let pages_per_chunk = pages_per_chunk.max(1);
    let mut chunks = Vec::new();
    let mut first = 1;
    while first <= snapshot.page_count() {
        let chunk = snapshot.read(first, pages_per_chunk)?;
        let pages = (chunk.data.len() / snapshot.page_size() as usize) as u32;
        let written = store.put_chunk(&chunk.data)?;
        chunks.push(ChunkEntry {
            hash: written.hash,
            first_page: first,
            pages,
        });
        step(chunk.data.len() as u64, written.stored_bytes)?;
        first += pages_per_chunk;
    }
    Ok(DatabaseImage {
        name: name.to_string(),
        page_size: snapshot.page_size(),
        page_count: snapshot.page_count(),
        chunks,
        tables: snapshot.tables()?,
    })
}
