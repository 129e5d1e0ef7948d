//! Database images: a database's pages as a list of chunks, written from a snapshot and read back into a file.

use serde::{Deserialize, Serialize};
use tenantry_storage::{ChangeMark, PageChanges, PageSnapshot};

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
    /// Where the database's page change record stood at the cut, for a later incremental backup.
    #[serde(default)]
    pub change_mark: Option<ImageChangeMark>,
}

/// A [`ChangeMark`] as a manifest keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageChangeMark {
    /// The change record's lineage.
    pub lineage: u64,
    /// The first epoch after the cut.
    pub epoch: u32,
}

impl From<ChangeMark> for ImageChangeMark {
    fn from(m: ChangeMark) -> Self {
        Self {
            lineage: m.lineage,
            epoch: m.epoch,
        }
    }
}

impl From<ImageChangeMark> for ChangeMark {
    fn from(m: ImageChangeMark) -> Self {
        Self {
            lineage: m.lineage,
            epoch: m.epoch,
        }
    }
}

/// What one database's image is made from.
pub struct ImageSource<'a> {
    /// The database's name.
    pub name: &'a str,
    /// Its pages at the cut.
    pub snapshot: &'a PageSnapshot,
    /// Its page change record at the cut, if it has one.
    pub changes: Option<&'a PageChanges>,
    /// The same database in the set this backup is incremental to: a chunk whose pages have not changed since is
    /// named again without being read.
    pub base: Option<&'a DatabaseImage>,
}

/// What one chunk of a backup cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkDone {
    /// Bytes read from the database.
    pub read: u64,
    /// Bytes written to the destination.
    pub stored: u64,
    /// Bytes not read because the base set's chunk still holds them.
    pub reused: u64,
}

/// The base image's chunks that the current pages still equal, by first page.
fn reusable_chunks<'a>(
    source: &ImageSource<'a>,
    known: &KnownChunks,
) -> std::collections::HashMap<u32, &'a ChunkEntry> {
    let (Some(base), Some(changes)) = (source.base, source.changes) else {
        return Default::default();
    };
    let Some(mark) = base.change_mark else {
        return Default::default();
    };
    if base.page_size != source.snapshot.page_size() {
        return Default::default();
    }
    base.chunks
        .iter()
        .filter(|c| {
            changes.changed_since(mark.into(), c.first_page, c.pages) == Some(false)
                && known.contains(&c.hash)
        })
        .map(|c| (c.first_page, c))
        .collect()
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

/// The largest manifest read (about 100 bytes per chunk: some ten million chunks).
pub const MAX_MANIFEST_BYTES: u64 = 1 << 30;
/// The most pages one chunk may hold (backups write 64-page chunks; this leaves room for other sizes).
pub const MAX_CHUNK_PAGES: u32 = 1024;
/// The most raw bytes one chunk may hold, which is what a restore allocates per chunk.
pub const MAX_CHUNK_BYTES: u64 = 16 << 20;

impl DatabaseImage {
    /// Checks everything a restore sizes or names from the image against what a real image can be: a valid
    /// name, a SQLite page size, chunks that tile pages 1..=page_count exactly, each of a bounded size and named
    /// by a BLAKE3 hash. Nothing from a manifest may size an allocation, a file or a path before this passed.
    pub fn validate(&self) -> Result<(), String> {
        let name = &self.name;
        if !tenantry_storage::is_valid_name(name) {
            return Err(format!("database name '{name}' is not a valid name"));
        }
        if !(512..=65536).contains(&self.page_size) || !self.page_size.is_power_of_two() {
            return Err(format!(
                "database '{name}': page size {} is not a SQLite page size",
                self.page_size
            ));
        }
        let mut next: u64 = 1;
        for (i, c) in self.chunks.iter().enumerate() {
            if c.hash.len() != 64
                || !c
                    .hash
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            {
                return Err(format!("database '{name}': chunk {i} has no valid hash"));
            }
            if u64::from(c.first_page) != next {
                return Err(format!(
                    "database '{name}': chunk {i} starts at page {}, not {next}",
                    c.first_page
                ));
            }
            let bytes = u64::from(c.pages) * u64::from(self.page_size);
            if c.pages == 0 || c.pages > MAX_CHUNK_PAGES || bytes > MAX_CHUNK_BYTES {
                return Err(format!(
                    "database '{name}': chunk {i} claims {} pages of {} bytes",
                    c.pages, self.page_size
                ));
            }
            next += u64::from(c.pages);
        }
        if next - 1 != u64::from(self.page_count) {
            return Err(format!(
                "database '{name}': its chunks hold {} pages, it claims {}",
                next - 1,
                self.page_count
            ));
        }
        Ok(())
    }

    /// The bytes its file takes once restored.
    pub fn file_bytes(&self) -> u64 {
        u64::from(self.page_count) * u64::from(self.page_size)
    }
}

impl Manifest {
    /// Parses a manifest's bytes and validates it ([`Manifest::validate`]): the only way a manifest read from a
    /// destination is used.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let manifest: Manifest = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Checks the manifest's format and every database image ([`DatabaseImage::validate`]); database names
    /// must be unique (case-insensitively, as databases are).
    pub fn validate(&self) -> Result<(), String> {
        if self.format != 1 {
            return Err(format!("unknown manifest format {}", self.format));
        }
        let mut seen = std::collections::HashSet::new();
        for d in &self.databases {
            d.validate()?;
            if !seen.insert(d.name.to_ascii_lowercase()) {
                return Err(format!("database '{}' appears twice", d.name));
            }
        }
        Ok(())
    }

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
/// written again, and chunks of pages unchanged since the base image are not even read. `step` is called on this
/// thread after each chunk with what it cost, and may stop the work by returning an error; at most a few chunks
/// are in flight when it does.
pub fn backup_database_with(
    source: ImageSource<'_>,
    store: &BackupStore,
    pages_per_chunk: u32,
    known: &KnownChunks,
    mut step: impl FnMut(ChunkDone) -> Result<(), BackupError>,
) -> Result<DatabaseImage, BackupError> {
    let pages_per_chunk = pages_per_chunk.max(1);
    let snapshot = source.snapshot;
    let reusable = reusable_chunks(&source, known);
    let _reader_priority = crate::priority::BackgroundGuard::lower_if_reversible();
    // One worker per core, each at a lower CPU priority: idle cores go to the backup, busy ones to queries.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 8));
    let page_size = snapshot.page_size() as usize;
    let mut entries: Vec<Option<ChunkEntry>> = Vec::new();
    std::thread::scope(|scope| -> Result<(), BackupError> {
        let (work_tx, work_rx) = std::sync::mpsc::sync_channel::<(usize, u32, Vec<u8>)>(workers);
        let work_rx = std::sync::Arc::new(std::sync::Mutex::new(work_rx));
        let (done_tx, done_rx) =
            std::sync::mpsc::channel::<Result<(usize, ChunkEntry, u64, u64), BackupError>>();
        for _ in 0..workers {
            let (work_rx, done_tx) = (work_rx.clone(), done_tx.clone());
            scope.spawn(move || {
                crate::priority::run_in_background();
                let mut compressor = match BackupStore::chunk_compressor() {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = done_tx.send(Err(e));
                        return;
                    }
                };
                loop {
                    let next = work_rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok((index, first_page, data)) = next else {
                        return;
                    };
                    let result =
                        store
                            .put_chunk_if_new(&data, known, &mut compressor)
                            .map(|written| {
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
                }
            });
        }
        drop(done_tx);
        let step = &mut step;
        let mut first = 1;
        let mut sent = 0;
        let mut received = 0;
        while first <= snapshot.page_count() {
            let pages = pages_per_chunk.min(snapshot.page_count() - first + 1);
            if let Some(entry) = reusable.get(&first).filter(|c| c.pages == pages) {
                entries.push(Some((*entry).clone()));
                step(ChunkDone {
                    reused: u64::from(pages) * page_size as u64,
                    ..ChunkDone::default()
                })?;
                first = first.saturating_add(pages_per_chunk);
                continue;
            }
            let chunk = snapshot.read(first, pages_per_chunk)?;
            entries.push(None);
            // A full queue means the workers are behind: settle what they finished first.
            let mut item = (entries.len() - 1, first, chunk.data);
            loop {
                match work_tx.try_send(item) {
                    Ok(()) => break,
                    Err(std::sync::mpsc::TrySendError::Full(back)) => {
                        item = back;
                        let r = done_rx
                            .recv()
                            .map_err(|_| BackupError::Destination("chunk workers ended".into()))?;
                        received += 1;
                        settle(&mut entries, r, step)?;
                    }
                    Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                        return Err(BackupError::Destination("chunk workers ended".into()))
                    }
                }
            }
            sent += 1;
            while let Ok(r) = done_rx.try_recv() {
                received += 1;
                settle(&mut entries, r, step)?;
            }
            first = first.saturating_add(pages_per_chunk);
        }
        drop(work_tx);
        while received < sent {
            let r = done_rx
                .recv()
                .map_err(|_| BackupError::Destination("chunk workers ended".into()))?;
            received += 1;
            settle(&mut entries, r, step)?;
        }
        Ok(())
    })?;
    Ok(DatabaseImage {
        name: source.name.to_string(),
        page_size: snapshot.page_size(),
        page_count: snapshot.page_count(),
        chunks: entries.into_iter().flatten().collect(),
        tables: snapshot.tables()?,
        change_mark: source.changes.map(|c| c.mark().into()),
    })
}

/// Records a worker's finished chunk in its place and reports it.
fn settle(
    entries: &mut [Option<ChunkEntry>],
    finished: Result<(usize, ChunkEntry, u64, u64), BackupError>,
    step: &mut impl FnMut(ChunkDone) -> Result<(), BackupError>,
) -> Result<(), BackupError> {
    let (index, entry, read, stored) = finished?;
    entries[index] = Some(entry);
    step(ChunkDone {
        read,
        stored,
        reused: 0,
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
        change_mark: None,
    })
}
