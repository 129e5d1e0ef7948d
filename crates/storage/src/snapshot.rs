//! Consistent page snapshots of a database, and writing page streams back into a database file.
//!
//! A snapshot is a read transaction in WAL mode: it sees one committed state while writers go on. Its raw pages
//! are read through SQLite's `sqlite_dbpage` table in bounded chunks, so the caller can stop (or pace itself)
//! between chunks. Backup, restore and clone are built on these two halves.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::error::StorageError;

/// A consistent, read-only view of one database's pages.
pub struct PageSnapshot {
    conn: Connection,
    page_size: u32,
    page_count: u32,
}

/// A run of consecutive pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageChunk {
    /// The first page's number (pages are numbered from 1).
    pub first_page: u32,
    /// The pages' bytes, `page_size` each.
    pub data: Vec<u8>,
}

impl PageSnapshot {
    /// Opens a snapshot of the database file at `path`: from now on it sees exactly the state committed now.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        crate::checkpoint::hand_checkpoints_to_server(&conn)?;
        conn.execute_batch("BEGIN")?;
        // The first read pins the snapshot: page count and every page read later come from the same state.
        let page_count: u32 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let page_size: u32 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok(Self {
            conn,
            page_size,
            page_count,
        })
    }

    /// Bytes per page.
    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    /// Pages in the snapshot.
    pub fn page_count(&self) -> u32 {
        self.page_count
    }

    /// The names of the tables in the snapshot (SQLite's own excepted).
    pub fn tables(&self) -> Result<Vec<String>, StorageError> {
        let mut stmt = self.conn.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Reads pages `first ..= first + count - 1` (clamped to the snapshot's size).
    pub fn read(&self, first: u32, count: u32) -> Result<PageChunk, StorageError> {
        let last = first
            .saturating_add(count.saturating_sub(1))
            .min(self.page_count);
        let mut data =
            Vec::with_capacity((last.saturating_sub(first) as usize + 1) * self.page_size as usize);
        // sqlite_dbpage answers only `pgno = ?` by lookup; a range would scan every page of the file per call
        // (quadratic over a backup), so each page is looked up on its own.
        let mut stmt = self
            .conn
            .prepare_cached("SELECT data FROM sqlite_dbpage WHERE pgno = ?1")?;
        for pgno in first..=last {
            let mut rows = stmt.query([pgno])?;
            if let Some(row) = rows.next()? {
                let page: &[u8] = row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
                data.extend_from_slice(page);
            }
        }
        Ok(PageChunk {
            first_page: first,
            data,
        })
    }
}

impl PageSnapshot {
    /// Copies every page into a new database file at `path`, `pages_per_chunk` at a time. `step` is told the
    /// bytes of each run and returns false to stop, in which case the partial file is removed. Returns whether
    /// the copy completed.
    pub fn copy_to(
        &self,
        path: &Path,
        pages_per_chunk: u32,
        mut step: impl FnMut(u64) -> bool,
    ) -> Result<bool, StorageError> {
        let mut writer = PageWriter::create(path, self.page_size)?;
        let mut first = 1;
        while first <= self.page_count {
            let result = self.read(first, pages_per_chunk.max(1)).and_then(|chunk| {
                writer.write(&chunk)?;
                Ok(chunk.data.len() as u64)
            });
            match result {
                Ok(bytes) if step(bytes) => {}
                Ok(_) => {
                    writer.abandon();
                    return Ok(false);
                }
                Err(e) => {
                    writer.abandon();
                    return Err(e);
                }
            }
            first = first.saturating_add(pages_per_chunk.max(1));
        }
        writer.finish()?;
        Ok(true)
    }
}

/// Writes a stream of pages into a new database file; the file appears under its final name only when whole.
pub struct PageWriter {
    file: File,
    tmp: PathBuf,
    path: PathBuf,
    page_size: u32,
}

impl PageWriter {
    /// Starts writing a database of `page_size`-byte pages to `path` (through `path.partial`).
    pub fn create(path: &Path, page_size: u32) -> Result<Self, StorageError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| StorageError::Io {
                op: "create directory",
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let tmp = crate::files::with_suffix(path, ".partial");
        let file = File::create(&tmp).map_err(|source| StorageError::Io {
            op: "create file",
            path: tmp.clone(),
            source,
        })?;
        Ok(Self {
            file,
            tmp,
            path: path.to_path_buf(),
            page_size,
        })
    }

    /// Writes a chunk of consecutive pages (chunks may come in any order).
    pub fn write(&mut self, chunk: &PageChunk) -> Result<(), StorageError> {
        let io = |source| StorageError::Io {
            op: "write pages",
            path: self.tmp.clone(),
            source,
        };
        let offset = u64::from(chunk.first_page.saturating_sub(1)) * u64::from(self.page_size);
        // One positioned write per chunk (no seek first).
        self.file.write_all_at(&chunk.data, offset).map_err(io)
    }

    /// Syncs the file and moves it to its final name.
    pub fn finish(self) -> Result<PathBuf, StorageError> {
        self.file.sync_all().map_err(|source| StorageError::Io {
            op: "sync",
            path: self.tmp.clone(),
            source,
        })?;
        std::fs::rename(&self.tmp, &self.path).map_err(|source| StorageError::Io {
            op: "rename",
            path: self.tmp.clone(),
            source,
        })?;
        Ok(self.path)
    }

    /// Removes the unfinished file: its name goes now, its space as soon as the kernel has released it.
    pub fn abandon(self) {
        let _ = std::fs::remove_file(&self.tmp);
        crate::copy::close_in_background(self.file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open_database;

    #[test]
    fn snapshot_is_consistent_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.sqlite");
        let conn = open_database(&src).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX tv ON t (v);",
        )
        .unwrap();
        for i in 0..5000 {
            conn.execute("INSERT INTO t (v) VALUES (?1)", [format!("value-{i}")])
                .unwrap();
        }
        let snap = PageSnapshot::open(&src).unwrap();
        // Writes after the snapshot opened are not in it.
        conn.execute("INSERT INTO t (v) VALUES ('later')", [])
            .unwrap();
        let dst = dir.path().join("copy.sqlite");
        let mut w = PageWriter::create(&dst, snap.page_size()).unwrap();
        let mut first = 1;
        while first <= snap.page_count() {
            let chunk = snap.read(first, 7).unwrap();
            assert!(!chunk.data.is_empty());
            w.write(&chunk).unwrap();
            first += 7;
        }
        w.finish().unwrap();
        let copy = Connection::open(&dst).unwrap();
        let n: i64 = copy
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 5000);
        let ok: String = copy
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    }
}
