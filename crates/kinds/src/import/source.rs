//! Import sources: files read through `object_store` (so `file://` today and `s3://` later share one path),
//! decompressed by extension (`.gz`, `.zst`), with the compressed bytes read counted for progress and pacing.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures::StreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{GetResultPayload, ObjectStore, ObjectStoreExt};
use tokio::runtime::Handle;

/// Why a source cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The name is neither `file:///absolute/path` nor an absolute path.
    #[error("unsupported import source '{0}' (use file:///absolute/path or an absolute path)")]
    Unsupported(String),
    /// There is no such file.
    #[error("File '{0}' not found (Errcode: 2 - No such file or directory)")]
    NotFound(String),
    /// The file lies inside the server's data directory, which holds every tenant's data.
    #[error("The server cannot read '{0}': it is inside the server's data directory")]
    Forbidden(String),
    /// Reading failed.
    #[error("reading '{name}': {message}")]
    Io {
        /// The source as named.
        name: String,
        /// The cause.
        message: String,
    },
}

/// A source as the statement named it and where it lives.
#[derive(Debug, Clone)]
pub struct Source {
    /// The name as written in the statement (used in progress and errors).
    pub name: String,
    path: std::path::PathBuf,
}

/// How a source's bytes are compressed, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain text.
    None,
    /// `.gz`.
    Gzip,
    /// `.zst` / `.zstd`.
    Zstd,
}

impl Source {
    /// Parses `file:///abs/path` or `/abs/path`; anything else is refused.
    pub fn parse(name: &str) -> Result<Self, SourceError> {
        let path = if name.starts_with('/') {
            std::path::PathBuf::from(name)
        } else {
            let url =
                url::Url::parse(name).map_err(|_| SourceError::Unsupported(name.to_string()))?;
            if url.scheme() != "file" {
                return Err(SourceError::Unsupported(name.to_string()));
            }
            url.to_file_path()
                .map_err(|_| SourceError::Unsupported(name.to_string()))?
        };
        Ok(Self {
            name: name.to_string(),
            path,
        })
    }

    /// Refuses a source inside `dir` (the data directory), comparing resolved paths so `..` and links do not
    /// get around it.
    pub fn refuse_inside(&self, dir: &std::path::Path) -> Result<(), SourceError> {
        let resolved = self
            .path
            .canonicalize()
            .unwrap_or_else(|_| self.path.clone());
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        if resolved.starts_with(&dir) {
            return Err(SourceError::Forbidden(self.name.clone()));
        }
        Ok(())
    }

    /// The compression its name says.
    pub fn compression(&self) -> Compression {
        let lower = self.name.to_ascii_lowercase();
        if lower.ends_with(".gz") || lower.ends_with(".gzip") {
            Compression::Gzip
        } else if lower.ends_with(".zst") || lower.ends_with(".zstd") {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    fn locate(&self) -> Result<(Arc<dyn ObjectStore>, ObjectPath), SourceError> {
        let location = ObjectPath::from_absolute_path(&self.path)
            .map_err(|_| SourceError::Unsupported(self.name.clone()))?;
        Ok((Arc::new(LocalFileSystem::new()), location))
    }

    fn io(&self, e: impl std::fmt::Display) -> SourceError {
        SourceError::Io {
            name: self.name.clone(),
            message: e.to_string(),
        }
    }

    /// The source's size in bytes (as stored, compressed or not). Blocking.
    pub fn size(&self, runtime: &Handle) -> Result<u64, SourceError> {
        let (store, location) = self.locate()?;
        match runtime.block_on(store.head(&location)) {
            Ok(meta) => Ok(meta.size),
            Err(object_store::Error::NotFound { .. }) => {
                Err(SourceError::NotFound(self.name.clone()))
            }
            Err(e) => Err(self.io(e)),
        }
    }

    /// Opens the source for reading, decompressed; `read` counts the stored bytes consumed. Blocking.
    pub fn open(
        &self,
        runtime: &Handle,
        read: Arc<AtomicU64>,
    ) -> Result<Box<dyn Read + Send>, SourceError> {
        let (store, location) = self.locate()?;
        let got = match runtime.block_on(store.get(&location)) {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(SourceError::NotFound(self.name.clone()))
            }
            Err(e) => return Err(self.io(e)),
        };
        let raw: Box<dyn Read + Send> = match got.payload {
            // A local file is read directly: object_store's stream of it goes through a blocking task per 8 KiB.
            GetResultPayload::File(file, _) => Box::new(file),
            GetResultPayload::Stream(stream) => Box::new(StreamReader {
                stream,
                runtime: runtime.clone(),
                current: bytes::Bytes::new(),
            }),
        };
        let counted = Counted {
            inner: std::io::BufReader::with_capacity(256 * 1024, raw),
            read,
        };
        Ok(match self.compression() {
            Compression::None => Box::new(counted),
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(counted)),
            Compression::Zstd => {
                Box::new(zstd::stream::read::Decoder::new(counted).map_err(|e| self.io(e))?)
            }
        })
    }
}

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A blocking reader over an object_store byte stream (remote stores).
struct StreamReader {
    stream: futures::stream::BoxStream<'static, object_store::Result<bytes::Bytes>>,
    runtime: Handle,
    current: bytes::Bytes,
}

impl Read for StreamReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.runtime.block_on(self.stream.next()) {
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => return Err(std::io::Error::other(e.to_string())),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_compression() {
        assert!(Source::parse("s3://bucket/a.csv").is_err());
        assert!(Source::parse("a.csv").is_err());
        let s = Source::parse("file:///tmp/x/a.csv.gz").unwrap();
        assert_eq!(s.compression(), Compression::Gzip);
        assert_eq!(s.path, std::path::PathBuf::from("/tmp/x/a.csv.gz"));
        assert_eq!(
            Source::parse("/tmp/a.CSV.zst").unwrap().compression(),
            Compression::Zstd
        );
    }

    #[test]
    fn reads_plain_and_compressed_files() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let text = b"1,a\n2,b\n".repeat(1000);
        let plain = dir.path().join("a.csv");
        std::fs::write(&plain, &text).unwrap();
        let gz = dir.path().join("a.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, &text).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let zst = dir.path().join("a.csv.zst");
        std::fs::write(&zst, zstd::bulk::compress(&text, 3).unwrap()).unwrap();
        for p in [&plain, &gz, &zst] {
            let s = Source::parse(p.to_str().unwrap()).unwrap();
            let counter = Arc::new(AtomicU64::new(0));
            let mut out = Vec::new();
            s.open(rt.handle(), counter.clone())
                .unwrap()
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out, text);
            assert_eq!(
                counter.load(Ordering::Relaxed),
                s.size(rt.handle()).unwrap()
            );
        }
        let missing = Source::parse(dir.path().join("nope.csv").to_str().unwrap()).unwrap();
        assert!(matches!(
            missing.size(rt.handle()),
            Err(SourceError::NotFound(_))
        ));
        assert!(matches!(
            Source::parse(plain.to_str().unwrap())
                .unwrap()
                .refuse_inside(dir.path()),
            Err(SourceError::Forbidden(_))
        ));
    }
}
