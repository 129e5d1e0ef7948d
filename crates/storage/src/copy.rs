//! Copying a finished database file (a snapshot's) into a new place in bounded steps.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use crate::error::StorageError;

/// Copies `src` to `dest` through `dest.partial`, `chunk_bytes` at a time. `step` is told each chunk's size
/// and returns false to stop, in which case the partial file is removed. Returns whether the copy completed.
pub fn copy_file(
    src: &Path,
    dest: &Path,
    chunk_bytes: usize,
    mut step: impl FnMut(u64) -> bool,
) -> Result<bool, StorageError> {
    let io = |op: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| StorageError::Io { op, path, source }
    };
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(io("create directory", dir))?;
    }
    let tmp = crate::files::with_suffix(dest, ".partial");
    let mut input = File::open(src).map_err(io("open", src))?;
    let mut output = File::create(&tmp).map_err(io("create file", &tmp))?;
    let mut buf = vec![0u8; chunk_bytes.max(4096)];
    let outcome = loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break Ok(true),
            Ok(n) => n,
            Err(e) => break Err(io("read", src)(e)),
        };
        if let Err(e) = output.write_all(&buf[..n]) {
            break Err(io("write", &tmp)(e));
        }
        if !step(n as u64) {
            break Ok(false);
        }
    };
    match outcome {
        Ok(true) => {
            output.sync_all().map_err(io("sync", &tmp))?;
            std::fs::rename(&tmp, dest).map_err(io("rename", &tmp))?;
            Ok(true)
        }
        other => {
            let _ = std::fs::remove_file(&tmp);
            close_in_background(output);
            other
        }
    }
}

/// Closes a file whose name was already removed, on a thread of its own. The kernel frees an unlinked file's
/// pages and blocks in its last close, which for a file of hundreds of megabytes takes 50–200 ms here; a
/// canceled job waits for its work to stop, so that must not happen on the work's thread. Nothing can reach the
/// file any more, and a crash before the close is cleaned up by the file system (an unlinked open file is an
/// orphan it frees at mount).
pub(crate) fn close_in_background(file: File) {
    // Without a thread the closure, and with it the file, is dropped here: closed inline, as before.
    let _ = std::thread::Builder::new()
        .name("close-unlinked".into())
        .spawn(move || drop(file));
}
