//! Restoring a database image into a file. Fetching, decompressing and verifying chunks is most of the work and
//! needs no order, so worker threads do it a few chunks ahead while the calling thread writes the verified
//! chunks in page order and reports each one (which is where the caller stops or paces the work).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tenantry_storage::{PageChunk, PageWriter};

use crate::{BackupError, BackupStore, ChunkEntry, DatabaseImage};

/// Chunks each worker may have fetched ahead of the writer: enough to keep the writer fed, few enough that a
/// stop leaves little work behind.
const AHEAD_PER_WORKER: usize = 2;

/// Writes an image's pages into a new database file at `path`, verifying every chunk against its hash. `step`
/// is called on this thread after each chunk is written, with its size, and may stop the work by returning an
/// error; a stopped or failed restore leaves no file behind.
pub fn restore_database(
    image: &DatabaseImage,
    store: &BackupStore,
    path: &Path,
    step: impl FnMut(u64) -> Result<(), BackupError>,
) -> Result<(), BackupError> {
    // Decompressing and hashing are the work, so one worker per core (up to four); the writer mostly copies
    // into the page cache. On two cores a third worker measured slower.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4));
    restore_with_workers(image, store, path, workers, step)
}

/// [`restore_database`] with `workers` fetching threads.
pub(crate) fn restore_with_workers(
    image: &DatabaseImage,
    store: &BackupStore,
    path: &Path,
    workers: usize,
    step: impl FnMut(u64) -> Result<(), BackupError>,
) -> Result<(), BackupError> {
    // What the image claims is checked against what a real image can be, and its size against the space
    // really there, before anything is allocated or written.
    image
        .validate()
        .map_err(|reason| BackupError::BadManifest {
            path: format!("database '{}'", image.name),
            reason,
        })?;
    if let Some(dir) = path.parent() {
        let needed = image.file_bytes();
        match tenantry_storage::available_space(dir) {
            Ok(available) if available < needed => {
                return Err(BackupError::NoSpace {
                    needed,
                    available,
                    path: dir.display().to_string(),
                })
            }
            _ => {}
        }
    }
    let mut writer = PageWriter::create(path, image.page_size)?;
    match write_chunks(image, store, &mut writer, workers.max(1), step) {
        Ok(()) => {
            writer.finish()?;
            Ok(())
        }
        Err(e) => {
            writer.abandon();
            Err(e)
        }
    }
}

/// The raw size a chunk must decompress to.
fn raw_len(entry: &ChunkEntry, page_size: u32) -> usize {
    entry.pages as usize * page_size as usize
}

/// Fetches, decompresses and verifies one chunk.
fn read_chunk(
    store: &BackupStore,
    entry: &ChunkEntry,
    page_size: u32,
    decompressor: &mut zstd::bulk::Decompressor<'static>,
    mut raw: Vec<u8>,
) -> Result<Vec<u8>, BackupError> {
    let expected = raw_len(entry, page_size);
    let stored = store.get_stored_chunk(&entry.hash, crate::store::max_stored_len(expected))?;
    crate::decode_chunk_into(decompressor, &stored, expected, &entry.hash, &mut raw)?;
    Ok(raw)
}

type Fetched = (usize, Result<Vec<u8>, BackupError>);

fn write_chunks(
    image: &DatabaseImage,
    store: &BackupStore,
    writer: &mut PageWriter,
    workers: usize,
    mut step: impl FnMut(u64) -> Result<(), BackupError>,
) -> Result<(), BackupError> {
    let chunks = &image.chunks;
    let page_size = image.page_size;
    let ahead = workers * AHEAD_PER_WORKER;
    let stop = AtomicBool::new(false);
    // Written chunks' buffers go back to the workers, so a restore allocates a handful of buffers, not one per chunk.
    let spare: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
    let ended = || BackupError::Destination("chunk workers ended".into());
    std::thread::scope(|scope| {
        // Indices go out only as chunks are written, so at most `ahead` are queued or being fetched.
        let (work_tx, work_rx) = mpsc::sync_channel::<usize>(ahead);
        let work_rx = Arc::new(Mutex::new(work_rx));
        let (done_tx, done_rx) = mpsc::channel::<Fetched>();
        for _ in 0..workers.min(chunks.len()) {
            let (work_rx, done_tx, stop, spare) = (work_rx.clone(), done_tx.clone(), &stop, &spare);
            scope.spawn(move || {
                let mut decompressor = zstd::bulk::Decompressor::new().map_err(|e| e.to_string());
                loop {
                    let next = work_rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok(index) = next else {
                        return;
                    };
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let result = match &mut decompressor {
                        Ok(d) => {
                            let buf = spare.lock().unwrap_or_else(|p| p.into_inner()).pop();
                            // A chunk that never came back would leave the writer waiting for it forever.
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                read_chunk(
                                    store,
                                    &chunks[index],
                                    page_size,
                                    d,
                                    buf.unwrap_or_default(),
                                )
                            }))
                            .unwrap_or_else(|_| {
                                Err(BackupError::Destination(format!(
                                    "reading chunk {} failed unexpectedly",
                                    chunks[index].hash
                                )))
                            })
                        }
                        Err(e) => Err(BackupError::Destination(format!("zstd: {e}"))),
                    };
                    if done_tx.send((index, result)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let result = (|| {
            let mut sent = 0;
            while sent < chunks.len().min(ahead) {
                work_tx.send(sent).map_err(|_| ended())?;
                sent += 1;
            }
            // Chunks come back in any order; each is written when its turn comes.
            let mut fetched: BTreeMap<usize, Result<Vec<u8>, BackupError>> = BTreeMap::new();
            for (index, entry) in chunks.iter().enumerate() {
                let data = loop {
                    if let Some(r) = fetched.remove(&index) {
                        break r?;
                    }
                    let (i, r) = done_rx.recv().map_err(|_| ended())?;
                    fetched.insert(i, r);
                };
                let bytes = data.len() as u64;
                let chunk = PageChunk {
                    first_page: entry.first_page,
                    data,
                };
                writer.write(&chunk)?;
                spare
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(chunk.data);
                step(bytes)?;
                if sent < chunks.len() {
                    work_tx.send(sent).map_err(|_| ended())?;
                    sent += 1;
                }
            }
            Ok(())
        })();
        // The workers see the closed queue (or the flag) and end after at most the chunk they hold.
        stop.store(true, Ordering::Relaxed);
        drop(work_tx);
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenantry_storage::{open_database, PageSnapshot};

    struct Fixture {
        _rt: tokio::runtime::Runtime,
        dir: tempfile::TempDir,
        src: std::path::PathBuf,
        store: BackupStore,
        image: DatabaseImage,
    }

    /// A database of a few thousand rows backed up in chunks of 4 pages.
    fn fixture() -> Fixture {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.sqlite");
        let conn = open_database(&src).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX tv ON t (v)",
        )
        .unwrap();
        let tx = conn.unchecked_transaction().unwrap();
        for i in 0..20_000 {
            tx.execute(
                "INSERT INTO t (v) VALUES (?1)",
                [format!("row-{i:06}-{}", i * 7919 % 10007)],
            )
            .unwrap();
        }
        tx.commit().unwrap();
        let dest = format!("file://{}", dir.path().join("dest").display());
        let store = BackupStore::create(&dest, rt.handle().clone()).unwrap();
        let snap = PageSnapshot::open(&src).unwrap();
        let image = crate::backup_database("d", &snap, &store, 4, |_, _| Ok(())).unwrap();
        assert!(image.chunks.len() > 20, "{} chunks", image.chunks.len());
        Fixture {
            _rt: rt,
            dir,
            src,
            store,
            image,
        }
    }

    fn rows(path: &Path) -> Vec<(i64, String)> {
        let c = rusqlite::Connection::open(path).unwrap();
        let mut stmt = c.prepare("SELECT id, v FROM t ORDER BY id").unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        rows
    }

    fn leaves_nothing(path: &Path) {
        assert!(!path.exists());
        assert!(!tenantry_storage::with_suffix(path, ".partial").exists());
    }

    #[test]
    fn round_trip_equals_the_source_with_any_number_of_workers() {
        let f = fixture();
        let source = rows(&f.src);
        for workers in [1, 3] {
            let out = f.dir.path().join(format!("out{workers}.sqlite"));
            let mut steps = Vec::new();
            restore_with_workers(&f.image, &f.store, &out, workers, |n| {
                steps.push(n);
                Ok(())
            })
            .unwrap();
            assert_eq!(steps.len(), f.image.chunks.len());
            assert_eq!(
                steps.iter().sum::<u64>(),
                u64::from(f.image.page_count) * u64::from(f.image.page_size)
            );
            assert_eq!(rows(&out), source);
            let ok: String = rusqlite::Connection::open(&out)
                .unwrap()
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            assert_eq!(ok, "ok");
        }
    }

    #[test]
    fn a_corrupted_chunk_fails_naming_it_and_leaves_no_file() {
        let f = fixture();
        let victim = f.image.chunks[f.image.chunks.len() / 2].hash.clone();
        let stored = f
            .dir
            .path()
            .join("dest/chunks")
            .join(&victim[..2])
            .join(&victim);
        let mut bytes = std::fs::read(&stored).unwrap();
        let last = bytes.len() - 1;
        bytes[last / 2] ^= 0x40;
        std::fs::write(&stored, bytes).unwrap();
        let out = f.dir.path().join("out.sqlite");
        let mut written = 0;
        match restore_with_workers(&f.image, &f.store, &out, 2, |_| {
            written += 1;
            Ok(())
        }) {
            Err(BackupError::CorruptChunk(h)) => assert_eq!(h, victim),
            other => panic!("{other:?}"),
        }
        // The chunks before it were written in order; none after it.
        assert_eq!(written, f.image.chunks.len() / 2);
        leaves_nothing(&out);
    }

    #[test]
    fn a_missing_chunk_fails_naming_it_and_leaves_no_file() {
        let f = fixture();
        let victim = f.image.chunks[1].hash.clone();
        std::fs::remove_file(
            f.dir
                .path()
                .join("dest/chunks")
                .join(&victim[..2])
                .join(&victim),
        )
        .unwrap();
        let out = f.dir.path().join("out.sqlite");
        match restore_with_workers(&f.image, &f.store, &out, 2, |_| Ok(())) {
            Err(BackupError::MissingChunk(h)) => assert_eq!(h, victim),
            other => panic!("{other:?}"),
        }
        leaves_nothing(&out);
    }

    #[test]
    fn a_step_error_stops_it_within_the_chunk_and_leaves_no_file() {
        let f = fixture();
        let out = f.dir.path().join("out.sqlite");
        let mut calls = 0;
        let result = restore_with_workers(&f.image, &f.store, &out, 3, |_| {
            calls += 1;
            if calls == 5 {
                Err(BackupError::Stopped)
            } else {
                Ok(())
            }
        });
        assert!(matches!(result, Err(BackupError::Stopped)), "{result:?}");
        assert_eq!(calls, 5, "no chunk is written or reported after the stop");
        leaves_nothing(&out);
    }
}
