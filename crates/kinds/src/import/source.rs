//! Import sources: files read through `object_store` (so `file://` today and `s3://` later share one path),
//! decompressed by extension (`.gz`, `.zst`), with the compressed bytes read counted for progress and pacing.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures::StreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{GetResultPayload, ObjectStore, ObjectStoreExt};
use tenantry_storage::{ExternalDir, ExternalPathError, ExternalScope};
use tokio::runtime::Handle;

/// Why a source cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The name is not a form of location the server reads.
    #[error("unsupported import source '{0}' (use file:///path or nodelocal://1/path inside the external-IO directory)")]
    Unsupported(String),
    /// There is no such file.
    #[error("File '{0}' not found (Errcode: 2 - No such file or directory)")]
    NotFound(String),
    /// The file lies outside the tenant's part of the external-IO directory.
    #[error("local file access to paths outside of external-io-dir is not allowed: {0}")]
    Outside(String),
    /// Reading failed.
    #[error("reading '{name}': {message}")]
    Io {
        /// The source as named.
        name: String,
        /// The cause.
        message: String,
    },
}

impl From<ExternalPathError> for SourceError {
    fn from(e: ExternalPathError) -> Self {
        match e {
            ExternalPathError::Unsupported(name) => Self::Unsupported(name),
            ExternalPathError::Outside(name) => Self::Outside(name),
            ExternalPathError::Io { name, source }
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Self::NotFound(name)
            }
            ExternalPathError::Io { name, source } => Self::Io {
                name,
                message: source.to_string(),
            },
        }
    }
}

/// A source as the statement named it and where it lives.
#[derive(Debug, Clone)]
pub struct Source {
    /// The name as written in the statement (used in progress and errors).
    pub name: String,
    path: std::path::PathBuf,
    /// Where it must lie, checked again when it is opened; `None` for a file the server wrote itself (the
    /// client's bytes of a `LOAD DATA LOCAL INFILE`, in the tenant's directory).
    confined: Option<Confinement>,
}

/// The part of the external-IO directory a source must lie in.
#[derive(Debug, Clone)]
struct Confinement {
    external: ExternalDir,
    /// The tenant whose part it is (`None`: sys, all of it).
    tenant: Option<String>,
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
    /// Resolves a source inside `scope`'s part of the external-IO directory (see [`ExternalDir::resolve`]).
    /// Blocking.
    pub fn resolve(
        external: &ExternalDir,
        scope: ExternalScope<'_>,
        name: &str,
    ) -> Result<Self, SourceError> {
        let path = external.resolve(scope, name)?;
        Ok(Self {
            name: name.to_string(),
            path,
            confined: Some(Confinement {
                external: external.clone(),
                tenant: match scope {
                    ExternalScope::All => None,
                    ExternalScope::Tenant(t) => Some(t.to_string()),
                },
            }),
        })
    }

    /// A file the server wrote itself at `path` (a `LOAD DATA LOCAL INFILE`'s bytes), shown as `name`.
    pub fn local(path: std::path::PathBuf, name: &str) -> Self {
        Self {
            name: name.to_string(),
            path,
            confined: None,
        }
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
            // Where its descriptor really points is checked first: a link swapped in since the path was resolved
            // must not lead outside.
            GetResultPayload::File(file, _) => {
                if let Some(c) = &self.confined {
                    let scope = match &c.tenant {
                        None => ExternalScope::All,
                        Some(t) => ExternalScope::Tenant(t),
                    };
                    c.external.check_opened(scope, &file, &self.name)?;
                }
                Box::new(file)
            }
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

    /// A data directory with its external-IO directory, and tenant t1's part of it.
    fn external() -> (tempfile::TempDir, ExternalDir, std::path::PathBuf) {
        let data = tempfile::tempdir().unwrap();
        let ext = ExternalDir::open(&data.path().join("extern"), data.path()).unwrap();
        let t1 = ext.root().join("t1");
        std::fs::create_dir_all(&t1).unwrap();
        (data, ext, t1)
    }

    #[test]
    fn names_and_compression() {
        let (_d, ext, t1) = external();
        let scope = ExternalScope::Tenant("t1");
        assert!(matches!(
            Source::resolve(&ext, scope, "s3://bucket/a.csv"),
            Err(SourceError::Unsupported(_))
        ));
        assert!(matches!(
            Source::resolve(&ext, scope, "/etc/passwd"),
            Err(SourceError::Outside(_))
        ));
        let s = Source::resolve(&ext, scope, "nodelocal://1/x/a.csv.gz").unwrap();
        assert_eq!(s.compression(), Compression::Gzip);
        assert_eq!(s.path, t1.join("x/a.csv.gz"));
        assert_eq!(
            Source::resolve(&ext, scope, "a.CSV.zst")
                .unwrap()
                .compression(),
            Compression::Zstd
        );
    }

    #[test]
    fn reads_plain_and_compressed_files() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (_d, ext, dir) = external();
        let scope = ExternalScope::Tenant("t1");
        let text = b"1,a\n2,b\n".repeat(1000);
        let plain = dir.join("a.csv");
        std::fs::write(&plain, &text).unwrap();
        let gz = dir.join("a.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, &text).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let zst = dir.join("a.csv.zst");
        std::fs::write(&zst, zstd::bulk::compress(&text, 3).unwrap()).unwrap();
        for p in [&plain, &gz, &zst] {
            let s = Source::resolve(&ext, scope, p.to_str().unwrap()).unwrap();
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
        let missing = Source::resolve(&ext, scope, "nope.csv").unwrap();
        assert!(matches!(
            missing.size(rt.handle()),
            Err(SourceError::NotFound(_))
        ));
    }

    #[test]
    fn a_link_swapped_in_after_resolving_is_not_followed_out() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (_d, ext, dir) = external();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.csv"), "1,s\n").unwrap();
        std::fs::write(dir.join("a.csv"), "1,a\n").unwrap();
        let s = Source::resolve(&ext, ExternalScope::Tenant("t1"), "a.csv").unwrap();
        std::fs::remove_file(dir.join("a.csv")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.csv"), dir.join("a.csv")).unwrap();
        assert!(matches!(
            s.open(rt.handle(), Arc::new(AtomicU64::new(0))),
            Err(SourceError::Outside(_))
        ));
    }
}
