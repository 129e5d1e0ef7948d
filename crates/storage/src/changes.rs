//! Which pages of a database changed since a point in time, so that an incremental backup reads only those.
//!
//! SQLite writes every change into the WAL first and into the database file only when a checkpoint copies
//! frames over. The server runs every checkpoint of a tenant database itself ([`crate::checkpoint`]) and,
//! before each one, records the page numbers of the frames it is about to copy. A backup's cut records the WAL's
//! pages too and starts a new *epoch*; each page remembers the last epoch it was seen changed in. A page whose
//! epoch is older than a cut's has not changed since that cut.
//!
//! The record is a journal beside the file (`db_<id>.sqlite-pages`), appended and synced before the frames it
//! names can reach the database file. Each journal has a random *lineage*: whenever the record cannot be trusted
//! (journal missing or torn, the WAL restarted by someone else), a new lineage starts, and marks of the old one
//! answer "unknown" — the backup then reads every page, as a full backup does.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::StorageError;
use crate::wal::{scan_wal, WalGeneration};

const MAGIC: &[u8; 8] = b"TNTPAGES";
const FORMAT: u32 = 1;
const KIND_PAGES: u8 = 1;
const KIND_EPOCH: u8 = 2;
const KIND_WAL: u8 = 3;
const KIND_ALL: u8 = 4;

/// A point in a database's change record: "pages changed after this are marked `epoch` or later".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeMark {
    /// The record's lineage.
    pub lineage: u64,
    /// The first epoch after the point.
    pub epoch: u32,
}

/// A copy of a database's change record, taken at a cut.
#[derive(Debug, Clone)]
pub struct PageChanges {
    epochs: Vec<u32>,
    /// Where this cut's record ends: the mark a later cut compares against.
    mark: ChangeMark,
}

impl PageChanges {
    /// The mark of the cut this copy was taken at.
    pub fn mark(&self) -> ChangeMark {
        self.mark
    }

    /// Whether any of pages `first ..= first + count - 1` changed after `since`; `None` if the record cannot
    /// tell (another lineage: the record was restarted since).
    pub fn changed_since(&self, since: ChangeMark, first: u32, count: u32) -> Option<bool> {
        if since.lineage != self.mark.lineage {
            return None;
        }
        let start = first as usize;
        let end = (first as usize).saturating_add(count as usize);
        Some(
            self.epochs
                .get(start.min(self.epochs.len())..end.min(self.epochs.len()))
                .is_some_and(|run| run.iter().any(|e| *e >= since.epoch)),
        )
    }
}

/// What is known of the WAL generation last scanned.
#[derive(Debug, Clone, Copy)]
struct WalSeen {
    generation: WalGeneration,
    /// Frames of it already recorded (in memory only: after a restart every frame is read again).
    committed_frames: u64,
    /// A checkpoint of ours copied all of it, so SQLite may restart the log without losing a change to us.
    complete: bool,
}

/// One database's record, in memory and in its journal.
struct Record {
    journal_path: PathBuf,
    /// Where rewrites of the journal are made before they replace it (see [`crate::Storage::scratch_dir`]).
    scratch: PathBuf,
    journal: File,
    journal_len: u64,
    lineage: u64,
    epoch: u32,
    /// Per page (index = page number), the last epoch it was seen changed in; 0 = not since the lineage began.
    epochs: Vec<u32>,
    wal: Option<WalSeen>,
}

/// A database's record, loaded on first use.
type Slot = Arc<Mutex<Option<Record>>>;

/// One record per database file in the process: the checkpointer and cuts share it.
fn registry() -> &'static Mutex<HashMap<PathBuf, Slot>> {
    static RECORDS: OnceLock<Mutex<HashMap<PathBuf, Slot>>> = OnceLock::new();
    RECORDS.get_or_init(Default::default)
}

/// The one in-process record of database file `db` (loaded on first use).
fn record_of(db: &Path) -> Slot {
    let mut map = registry().lock().unwrap_or_else(|p| p.into_inner());
    map.entry(db.to_path_buf()).or_default().clone()
}

/// Forgets a database's record (its files are being removed).
pub(crate) fn forget(db: &Path) {
    registry()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(db);
}

/// Forgets the records of every database below `dir` (a tenant's directory being removed).
pub(crate) fn forget_under(dir: &Path) {
    registry()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|db, _| !db.starts_with(dir));
}

/// The journal beside a database file.
pub(crate) fn journal_path(db: &Path) -> PathBuf {
    crate::files::with_suffix(db, "-pages")
}

/// Records the pages of `db`'s WAL. The caller must hold something that keeps SQLite from restarting the
/// log meanwhile (a read transaction or the write lock), and must call this before any checkpoint copies
/// frames into the file. Returns the generation scanned, for [`note_checkpointed`].
pub(crate) fn record_wal(db: &Path, scratch: &Path) -> Result<Option<WalGeneration>, StorageError> {
    let record = record_of(db);
    let mut guard = record.lock().unwrap_or_else(|p| p.into_inner());
    let rec = loaded(&mut guard, db, scratch)?;
    let generation = rec.record_wal(db)?;
    rec.sync()?;
    Ok(generation)
}

/// Loads `db`'s record, making its journal if it has none (a database just created).
pub(crate) fn start_record(db: &Path, scratch: &Path) -> Result<(), StorageError> {
    let record = record_of(db);
    let mut guard = record.lock().unwrap_or_else(|p| p.into_inner());
    loaded(&mut guard, db, scratch).map(|_| ())
}

/// Notes that a checkpoint of ours copied every frame of `generation` into the file.
pub(crate) fn note_checkpointed(
    db: &Path,
    scratch: &Path,
    generation: WalGeneration,
) -> Result<(), StorageError> {
    let record = record_of(db);
    let mut guard = record.lock().unwrap_or_else(|p| p.into_inner());
    let rec = loaded(&mut guard, db, scratch)?;
    if let Some(seen) = rec.wal.as_mut().filter(|s| s.generation == generation) {
        seen.complete = true;
        // Not synced: if it is lost, the next scan distrusts the restart and starts a new lineage, which is safe.
        rec.append(KIND_WAL, &wal_payload(generation, true))?;
    }
    Ok(())
}

/// Records the WAL's pages and starts a new epoch; call with the database's write lock held, just before a
/// read snapshot of the cut opens. Returns the record as of the cut. `scratch` is the data directory's
/// [`crate::Storage::scratch_dir`].
pub fn mark_cut(db: &Path, scratch: &Path) -> Result<PageChanges, StorageError> {
    let record = record_of(db);
    let mut guard = record.lock().unwrap_or_else(|p| p.into_inner());
    let rec = loaded(&mut guard, db, scratch)?;
    rec.record_wal(db)?;
    rec.epoch = rec.epoch.saturating_add(1);
    rec.append(KIND_EPOCH, &rec.epoch.to_le_bytes())?;
    rec.sync()?;
    Ok(PageChanges {
        epochs: rec.epochs.clone(),
        mark: ChangeMark {
            lineage: rec.lineage,
            epoch: rec.epoch,
        },
    })
}

fn loaded<'a>(
    slot: &'a mut Option<Record>,
    db: &Path,
    scratch: &Path,
) -> Result<&'a mut Record, StorageError> {
    let rec = match slot.take() {
        Some(rec) => rec,
        None => Record::load(db, scratch)?,
    };
    Ok(slot.insert(rec))
}

impl Record {
    /// Loads the journal, or starts a new lineage if there is none or it cannot be read whole.
    fn load(db: &Path, scratch: &Path) -> Result<Self, StorageError> {
        let journal_path = journal_path(db);
        let bytes = match std::fs::read(&journal_path) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(source) => {
                return Err(StorageError::Io {
                    op: "read change journal",
                    path: journal_path,
                    source,
                })
            }
        };
        match bytes.as_deref().and_then(replay) {
            Some(mut state) => {
                let journal =
                    OpenOptions::new()
                        .write(true)
                        .open(&journal_path)
                        .map_err(|source| StorageError::Io {
                            op: "open change journal",
                            path: journal_path.clone(),
                            source,
                        })?;
                // A torn last record is cut off so appends continue after the last whole one.
                journal
                    .set_len(state.valid_len)
                    .map_err(|source| StorageError::Io {
                        op: "truncate change journal",
                        path: journal_path.clone(),
                        source,
                    })?;
                let mut rec = Self {
                    journal_path,
                    scratch: scratch.to_path_buf(),
                    journal,
                    journal_len: state.valid_len,
                    lineage: state.lineage,
                    epoch: state.epoch,
                    epochs: std::mem::take(&mut state.epochs),
                    wal: state.wal,
                };
                rec.seek_end()?;
                Ok(rec)
            }
            None => Self::start_lineage(db, journal_path, scratch.to_path_buf()),
        }
    }

    /// Starts a new lineage: every earlier mark becomes unknown.
    fn start_lineage(
        db: &Path,
        journal_path: PathBuf,
        scratch: PathBuf,
    ) -> Result<Self, StorageError> {
        if !db.exists() {
            return Err(StorageError::Io {
                op: "open database",
                path: db.to_path_buf(),
                source: std::io::Error::from(ErrorKind::NotFound),
            });
        }
        let lineage = RandomState::new().build_hasher().finish();
        let header = journal_header(lineage);
        let journal = replace_journal(&journal_path, &scratch, &header)?;
        let mut rec = Self {
            journal_path,
            scratch,
            journal,
            journal_len: header.len() as u64,
            lineage,
            epoch: 1,
            epochs: Vec::new(),
            wal: None,
        };
        rec.seek_end()?;
        Ok(rec)
    }

    fn seek_end(&mut self) -> Result<(), StorageError> {
        use std::io::{Seek, SeekFrom};
        self.journal
            .seek(SeekFrom::Start(self.journal_len))
            .map(|_| ())
            .map_err(|source| StorageError::Io {
                op: "seek change journal",
                path: self.journal_path.clone(),
                source,
            })
    }

    /// Scans the WAL and records its new pages at the current epoch (not synced).
    fn record_wal(&mut self, db: &Path) -> Result<Option<WalGeneration>, StorageError> {
        let from = match self.wal {
            Some(seen) => seen.committed_frames,
            None => 0,
        };
        let mut scan = scan_wal(db, from)?;
        if let (Some(s), Some(seen)) = (&scan, self.wal) {
            if s.generation != seen.generation {
                let trusted = seen.complete && seen.generation.is_followed_by(s.generation);
                if !trusted {
                    tracing::warn!(db = %db.display(), "WAL restarted without our checkpoint; page change record starts over");
                    *self =
                        Self::start_lineage(db, self.journal_path.clone(), self.scratch.clone())?;
                }
                // A new generation is read from its first frame.
                scan = scan_wal(db, 0)?;
            }
        }
        let Some(scan) = scan else {
            if self.wal.is_some() {
                // The log we saw is gone: whoever removed it may have copied changes we never read.
                tracing::warn!(db = %db.display(), "WAL removed behind our back; page change record starts over");
                *self = Self::start_lineage(db, self.journal_path.clone(), self.scratch.clone())?;
            }
            return Ok(None);
        };
        if !scan.pages.is_empty() {
            let mut payload = Vec::with_capacity(4 + scan.pages.len() * 4);
            payload.extend_from_slice(&self.epoch.to_le_bytes());
            for page in &scan.pages {
                payload.extend_from_slice(&page.to_le_bytes());
                set_epoch(&mut self.epochs, *page, self.epoch);
            }
            self.append(KIND_PAGES, &payload)?;
        }
        let same = self.wal.is_some_and(|s| s.generation == scan.generation);
        // Copied whole stays true only while no commit was added since (frames after the last commit are a
        // transaction in flight or rolled back, and SQLite writes over them).
        let complete = same
            && self
                .wal
                .is_some_and(|s| s.complete && s.committed_frames == scan.committed_frames);
        if !same {
            self.append(KIND_WAL, &wal_payload(scan.generation, false))?;
        }
        self.wal = Some(WalSeen {
            generation: scan.generation,
            committed_frames: scan.committed_frames,
            complete,
        });
        self.compact_if_large()?;
        Ok(Some(scan.generation))
    }

    /// Appends one record: length, kind, payload, and 8 bytes of BLAKE3 over kind and payload.
    fn append(&mut self, kind: u8, payload: &[u8]) -> Result<(), StorageError> {
        let mut bytes = Vec::with_capacity(payload.len() + 13);
        push_record(&mut bytes, kind, payload);
        self.journal
            .write_all(&bytes)
            .map_err(|source| StorageError::Io {
                op: "append to change journal",
                path: self.journal_path.clone(),
                source,
            })?;
        self.journal_len += bytes.len() as u64;
        Ok(())
    }

    fn sync(&self) -> Result<(), StorageError> {
        self.journal.sync_data().map_err(|source| StorageError::Io {
            op: "sync change journal",
            path: self.journal_path.clone(),
            source,
        })
    }

    /// Rewrites the journal as one record of every page's epoch once appends have made it much larger than that.
    fn compact_if_large(&mut self) -> Result<(), StorageError> {
        let whole = 64 * 1024 + 8 * self.epochs.len() as u64;
        if self.journal_len <= whole {
            return Ok(());
        }
        let mut bytes = journal_header(self.lineage);
        let mut all = Vec::with_capacity(4 + 4 * self.epochs.len());
        all.extend_from_slice(&self.epoch.to_le_bytes());
        for e in &self.epochs {
            all.extend_from_slice(&e.to_le_bytes());
        }
        push_record(&mut bytes, KIND_ALL, &all);
        if let Some(seen) = self.wal {
            push_record(
                &mut bytes,
                KIND_WAL,
                &wal_payload(seen.generation, seen.complete),
            );
        }
        self.journal = replace_journal(&self.journal_path, &self.scratch, &bytes)?;
        self.journal_len = bytes.len() as u64;
        self.seek_end()
    }
}

/// Notes that `page` changed in `epoch`.
fn set_epoch(epochs: &mut Vec<u32>, page: u32, epoch: u32) {
    let i = page as usize;
    if epochs.len() <= i {
        epochs.resize(i + 1, 0);
    }
    epochs[i] = epoch;
}

/// A journal's first bytes: magic, format and lineage.
fn journal_header(lineage: u64) -> Vec<u8> {
    let mut header = Vec::with_capacity(20);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT.to_le_bytes());
    header.extend_from_slice(&lineage.to_le_bytes());
    header
}

/// A WAL-generation record's payload.
fn wal_payload(generation: WalGeneration, complete: bool) -> Vec<u8> {
    let mut payload = Vec::with_capacity(9);
    payload.extend_from_slice(&generation.salt1.to_le_bytes());
    payload.extend_from_slice(&generation.salt2.to_le_bytes());
    payload.push(u8::from(complete));
    payload
}

/// Replaces a journal with `bytes` (written and synced in the scratch directory, then renamed over it, so the
/// journal's directory only ever holds a whole journal) and opens it for appends.
fn replace_journal(
    journal_path: &Path,
    scratch: &Path,
    bytes: &[u8],
) -> Result<File, StorageError> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = scratch.join(format!("pages-{}-{n}.new", std::process::id()));
    let io = |op: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| StorageError::Io { op, path, source }
    };
    {
        let mut f = File::create(&tmp).map_err(io("create change journal", &tmp))?;
        f.write_all(bytes)
            .map_err(io("write change journal", &tmp))?;
        f.sync_all().map_err(io("sync change journal", &tmp))?;
    }
    std::fs::rename(&tmp, journal_path).map_err(io("rename change journal", &tmp))?;
    OpenOptions::new()
        .write(true)
        .open(journal_path)
        .map_err(io("open change journal", journal_path))
}

/// Appends one record: length, kind, payload, and 8 bytes of BLAKE3 over kind and payload.
fn push_record(out: &mut Vec<u8>, kind: u8, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.push(kind);
    out.extend_from_slice(payload);
    out.extend_from_slice(&checksum(kind, payload));
}

fn checksum(kind: u8, payload: &[u8]) -> [u8; 8] {
    let mut h = blake3::Hasher::new();
    h.update(&[kind]);
    h.update(payload);
    let mut out = [0u8; 8];
    out.copy_from_slice(&h.finalize().as_bytes()[..8]);
    out
}

/// A journal read back.
struct Replayed {
    lineage: u64,
    epoch: u32,
    epochs: Vec<u32>,
    wal: Option<WalSeen>,
    valid_len: u64,
}

/// Reads a journal; `None` if its header is not ours. Stops at the first torn or unreadable record.
fn replay(bytes: &[u8]) -> Option<Replayed> {
    let mut r = bytes;
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic).ok()?;
    if &magic != MAGIC || u32_at(r, 0)? != FORMAT {
        return None;
    }
    let lineage = u64::from_le_bytes(r.get(4..12)?.try_into().ok()?);
    let mut state = Replayed {
        lineage,
        epoch: 1,
        epochs: Vec::new(),
        wal: None,
        valid_len: 20,
    };
    let mut at = 20usize;
    while let Some(len) = u32_at(bytes, at) {
        let len = len as usize;
        let Some(kind) = bytes.get(at + 4).copied() else {
            break;
        };
        let Some(payload) = bytes.get(at + 5..at + 5 + len) else {
            break;
        };
        let Some(sum) = bytes.get(at + 5 + len..at + 13 + len) else {
            break;
        };
        if sum != checksum(kind, payload) {
            break;
        }
        match kind {
            KIND_PAGES => {
                let epoch = u32_at(payload, 0)?;
                for i in (4..payload.len()).step_by(4) {
                    set_epoch(&mut state.epochs, u32_at(payload, i)?, epoch);
                }
            }
            KIND_EPOCH => state.epoch = u32_at(payload, 0)?,
            KIND_WAL => {
                state.wal = Some(WalSeen {
                    generation: WalGeneration {
                        salt1: u32_at(payload, 0)?,
                        salt2: u32_at(payload, 4)?,
                    },
                    committed_frames: 0,
                    complete: payload.get(8) == Some(&1),
                })
            }
            KIND_ALL => {
                state.epoch = u32_at(payload, 0)?;
                state.epochs = (4..payload.len())
                    .step_by(4)
                    .map(|i| u32_at(payload, i))
                    .collect::<Option<_>>()?;
            }
            _ => break,
        }
        at += 13 + len;
        state.valid_len = at as u64;
    }
    Some(state)
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::checkpoint_database;
    use crate::open_database;

    fn write(conn: &rusqlite::Connection, from: i64, to: i64) {
        for i in from..to {
            conn.execute(
                "INSERT OR REPLACE INTO t (id, v) VALUES (?1, ?2)",
                rusqlite::params![i, "x".repeat(900)],
            )
            .unwrap();
        }
    }

    fn pages_of(db: &Path) -> Vec<Vec<u8>> {
        let snap = crate::PageSnapshot::open(db).unwrap();
        let size = snap.page_size() as usize;
        let all = snap.read(1, snap.page_count()).unwrap().data;
        all.chunks(size).map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn a_cut_sees_only_pages_changed_since_the_last_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db_1.sqlite");
        let conn = open_database(&db).unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            .unwrap();
        write(&conn, 0, 4000);
        checkpoint_database(&db, dir.path()).unwrap();
        let first = mark_cut(&db, dir.path()).unwrap();
        let before = pages_of(&db);
        // Changes in one range of rows, checkpointed twice (the WAL restarts in between) and left in the WAL;
        // new rows grow the file.
        write(&conn, 100, 140);
        checkpoint_database(&db, dir.path()).unwrap();
        write(&conn, 140, 160);
        checkpoint_database(&db, dir.path()).unwrap();
        write(&conn, 4000, 4100);
        let second = mark_cut(&db, dir.path()).unwrap();
        assert_eq!(second.mark().lineage, first.mark().lineage);
        let after = pages_of(&db);
        let changed: Vec<u32> = (1..=after.len() as u32)
            .filter(|p| second.changed_since(first.mark(), *p, 1) == Some(true))
            .collect();
        for (i, page) in after.iter().enumerate() {
            let pgno = i as u32 + 1;
            if before.get(i) != Some(page) {
                assert!(
                    changed.contains(&pgno),
                    "page {pgno} differs but is not listed"
                );
            }
        }
        assert!(
            changed.len() < after.len() / 5,
            "{} of {} pages",
            changed.len(),
            after.len()
        );
        assert_eq!(
            second.changed_since(second.mark(), 1, after.len() as u32),
            Some(false)
        );

        // The record survives a restart of the process (reloaded from the journal); the frames still in the WAL
        // are read again then, so they count as changed once more.
        checkpoint_database(&db, dir.path()).unwrap();
        forget(&db);
        let third = mark_cut(&db, dir.path()).unwrap();
        assert_eq!(third.mark().lineage, first.mark().lineage);
        let again: Vec<u32> = (1..=after.len() as u32)
            .filter(|p| third.changed_since(first.mark(), *p, 1) == Some(true))
            .collect();
        assert_eq!(again, changed);
        let since_second = (1..=after.len() as u32)
            .filter(|p| third.changed_since(second.mark(), *p, 1) == Some(true))
            .count();
        assert!(since_second < changed.len());
    }

    #[test]
    fn a_restart_of_the_wal_by_someone_else_makes_marks_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db_2.sqlite");
        let conn = open_database(&db).unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            .unwrap();
        write(&conn, 0, 100);
        let first = mark_cut(&db, dir.path()).unwrap();
        write(&conn, 100, 200);
        // A checkpoint nobody recorded, then a writer restarts the log.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        write(&conn, 200, 210);
        let second = mark_cut(&db, dir.path()).unwrap();
        assert_ne!(second.mark().lineage, first.mark().lineage);
        assert_eq!(second.changed_since(first.mark(), 1, 1), None);
    }

    #[test]
    fn a_compacted_journal_keeps_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db_4.sqlite");
        let conn = open_database(&db).unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            .unwrap();
        write(&conn, 0, 3000);
        let first = mark_cut(&db, dir.path()).unwrap();
        // Rewriting every row many times appends far more page records than the compacted form holds.
        for _ in 0..80 {
            conn.execute("UPDATE t SET v = v || 'x'", []).unwrap();
            checkpoint_database(&db, dir.path()).unwrap();
        }
        let second = mark_cut(&db, dir.path()).unwrap();
        write(&conn, 10, 20);
        let third = mark_cut(&db, dir.path()).unwrap();
        let len = std::fs::metadata(journal_path(&db)).unwrap().len();
        // Over 200 KB of page records were appended; compaction keeps the file near 64 KB plus 4 bytes a page.
        assert!(len < 100 * 1024, "journal of {len} bytes");
        forget(&db);
        let reloaded = mark_cut(&db, dir.path()).unwrap();
        assert_eq!(reloaded.mark().lineage, first.mark().lineage);
        let pages: u32 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        for p in 1..=pages {
            assert_eq!(
                reloaded.changed_since(second.mark(), p, 1),
                third
                    .changed_since(second.mark(), p, 1)
                    .map(|c| c || reloaded.changed_since(third.mark(), p, 1) == Some(true)),
                "page {p}"
            );
        }
        assert_eq!(
            reloaded.changed_since(first.mark(), 2, pages - 1),
            Some(true)
        );
    }

    #[test]
    fn a_wal_removed_behind_our_back_makes_marks_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db_5.sqlite");
        let conn = open_database(&db).unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            .unwrap();
        write(&conn, 0, 50);
        let first = mark_cut(&db, dir.path()).unwrap();
        drop(conn);
        for suffix in ["-wal", "-shm"] {
            std::fs::remove_file(crate::with_suffix(&db, suffix)).unwrap();
        }
        let second = mark_cut(&db, dir.path()).unwrap();
        assert_ne!(second.mark().lineage, first.mark().lineage);
        assert_eq!(second.changed_since(first.mark(), 1, 1), None);
    }

    #[test]
    fn a_torn_journal_tail_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db_3.sqlite");
        let conn = open_database(&db).unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            .unwrap();
        let first = mark_cut(&db, dir.path()).unwrap();
        write(&conn, 0, 50);
        let second = mark_cut(&db, dir.path()).unwrap();
        forget(&db);
        let mut f = OpenOptions::new()
            .append(true)
            .open(journal_path(&db))
            .unwrap();
        f.write_all(&[9, 0, 0, 0, KIND_PAGES, 1, 2]).unwrap();
        drop(f);
        let third = mark_cut(&db, dir.path()).unwrap();
        assert_eq!(third.mark().lineage, first.mark().lineage);
        assert_eq!(third.changed_since(first.mark(), 1, 5), Some(true));
        assert_eq!(third.mark().epoch, second.mark().epoch + 1);
    }
}
