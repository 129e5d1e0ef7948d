//! Reading which pages a SQLite write-ahead log holds, from its frame headers (the format is SQLite's documented
//! WAL file format: a 32-byte header, then frames of a 24-byte header and one page).

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::StorageError;

const HEADER_BYTES: u64 = 32;
const FRAME_HEADER_BYTES: u64 = 24;

/// One generation of a WAL: SQLite gives the log new salts each time it starts writing it from the beginning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WalGeneration {
    pub salt1: u32,
    pub salt2: u32,
}

impl WalGeneration {
    /// Whether `next` is the generation SQLite starts right after this one (salt-1 grows by one per restart).
    pub fn is_followed_by(self, next: WalGeneration) -> bool {
        next.salt1 == self.salt1.wrapping_add(1)
    }
}

/// What a scan of a WAL found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WalScan {
    pub generation: WalGeneration,
    /// Page numbers of the frames read (frames after the last commit included: they may be a transaction
    /// being written, and listing a page too many is harmless).
    pub pages: Vec<u32>,
    /// Frames up to and including the last commit frame; those never change within a generation.
    pub committed_frames: u64,
}

/// The WAL file beside a database file.
pub(crate) fn wal_path(db: &Path) -> PathBuf {
    crate::files::with_suffix(db, "-wal")
}

/// Scans the frames of `db`'s WAL from frame `from + 1` on. `None` if there is no WAL (or only an empty or
/// unwritten one). Page numbers above `max_page` are dropped: a frame being written while it is read may show a
/// torn header, and no real page lies beyond the file's pages plus one per frame.
pub(crate) fn scan_wal(db: &Path, from: u64) -> Result<Option<WalScan>, StorageError> {
    let path = wal_path(db);
    let io = |source| StorageError::Io {
        op: "read WAL",
        path: path.clone(),
        source,
    };
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let len = file.metadata().map_err(io)?.len();
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut header = [0u8; HEADER_BYTES as usize];
    match reader.read_exact(&mut header) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(io(e)),
    }
    let magic = be(&header[0..4]);
    if magic & !1 != 0x377f_0682 {
        return Ok(None);
    }
    let page_size = u64::from(be(&header[8..12]));
    let generation = WalGeneration {
        salt1: be(&header[16..20]),
        salt2: be(&header[20..24]),
    };
    let frame_bytes = FRAME_HEADER_BYTES + page_size;
    let frames_in_file = len.saturating_sub(HEADER_BYTES) / frame_bytes.max(1);
    let db_pages = std::fs::metadata(db).map_or(0, |m| m.len()) / page_size.max(1);
    let max_page = db_pages.saturating_add(frames_in_file);
    let mut pages = Vec::new();
    let mut committed_frames = from;
    let mut frame = [0u8; FRAME_HEADER_BYTES as usize];
    for index in from..frames_in_file {
        reader
            .seek(SeekFrom::Start(HEADER_BYTES + index * frame_bytes))
            .map_err(io)?;
        match reader.read_exact(&mut frame) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(io(e)),
        }
        // A frame of an earlier generation marks the end of this one.
        if be(&frame[8..12]) != generation.salt1 || be(&frame[12..16]) != generation.salt2 {
            break;
        }
        let page = be(&frame[0..4]);
        if page > 0 && u64::from(page) <= max_page {
            pages.push(page);
        }
        if be(&frame[4..8]) != 0 {
            committed_frames = index + 1;
        }
    }
    Ok(Some(WalScan {
        generation,
        pages,
        committed_frames,
    }))
}

fn be(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn lists_the_pages_a_transaction_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.sqlite");
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;")
            .unwrap();
        assert_eq!(scan_wal(&db, 0).unwrap().map(|s| s.pages.len()), None);
        conn.execute_batch("CREATE TABLE t (v TEXT)").unwrap();
        let first = scan_wal(&db, 0).unwrap().unwrap();
        assert!(first.pages.contains(&1) && first.pages.contains(&2));
        assert_eq!(first.committed_frames, first.pages.len() as u64);
        conn.execute("INSERT INTO t VALUES (?1)", ["x".repeat(10_000)])
            .unwrap();
        let more = scan_wal(&db, first.committed_frames).unwrap().unwrap();
        assert_eq!(more.generation, first.generation);
        assert!(more.pages.len() >= 3, "overflow pages: {:?}", more.pages);
        assert!(more.pages.iter().all(|p| *p <= 10));
    }
}
