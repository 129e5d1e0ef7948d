//! The destination and its chunk store.

use std::sync::Arc;

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tokio::runtime::Handle;

use tenantry_storage::{ExternalDir, ExternalPathError, ExternalScope};

use crate::{BackupError, Location, S3Location};

/// `mkdir -p`, owner-only for what it creates.
fn create_private_dir(path: &std::path::Path) -> Result<(), BackupError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(dest_err)
}

/// Decodes a stored chunk that must hold `raw_len` bytes hashing (BLAKE3) to `hash`, into `raw` (cleared and
/// reused). The entry gives the size, so the frame decodes in one call into one buffer of exactly that size; a
/// stored chunk larger than zstd's bound for it, one that decodes to anything else, or one whose bytes do not
/// hash right is corrupt. A `raw_len` over [`crate::MAX_CHUNK_BYTES`] is refused before anything is allocated.
pub fn decode_chunk_into(
    decompressor: &mut zstd::bulk::Decompressor<'static>,
    stored: &[u8],
    raw_len: usize,
    hash: &str,
    raw: &mut Vec<u8>,
) -> Result<(), BackupError> {
    let corrupt = || BackupError::CorruptChunk(hash.to_string());
    if raw_len as u64 > crate::MAX_CHUNK_BYTES || stored.len() as u64 > max_stored_len(raw_len) {
        return Err(corrupt());
    }
    raw.clear();
    raw.reserve(raw_len);
    decompressor
        .decompress_to_buffer(stored, raw)
        .map_err(|_| corrupt())?;
    if raw.len() != raw_len || blake3::hash(raw).to_hex().as_str() != hash {
        return Err(corrupt());
    }
    Ok(())
}

/// The most a chunk of `raw_len` bytes can take once compressed (zstd's bound); a stored chunk larger than
/// this cannot be one.
pub(crate) fn max_stored_len(raw_len: usize) -> u64 {
    zstd::zstd_safe::compress_bound(raw_len) as u64
}

/// What writing one chunk did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkWrite {
    /// BLAKE3 of the raw bytes, hex.
    pub hash: String,
    /// Bytes written to the destination (0 if it already held the chunk).
    pub stored_bytes: u64,
}

/// A backup destination. Its methods block (they drive `object_store`'s futures on `runtime`): call them from
/// blocking threads, never from async code.
#[derive(Clone)]
pub struct BackupStore {
    pub(crate) store: Arc<dyn ObjectStore>,
    pub(crate) runtime: Handle,
    /// The URI as shown (no secrets; for `file://` the canonical URI).
    uri: String,
    /// The URI as stored (credentials included for `s3://`).
    stored: String,
    /// See [`BackupStore::identity`].
    identity: String,
    /// See [`BackupStore::part_size`].
    part_size: usize,
    /// Whether the destination is a local directory (`file://`).
    local: bool,
}

/// Parts of multipart uploads: above S3's 5 MiB minimum, small enough that a stop is seen within one part.
const DEFAULT_PART_SIZE: usize = 8 << 20;

impl std::fmt::Debug for BackupStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The shown URI only: the stored one holds credentials.
        write!(f, "BackupStore({})", self.uri)
    }
}

fn dest_err(e: impl std::fmt::Display) -> BackupError {
    BackupError::Destination(e.to_string())
}

impl BackupStore {
    /// Opens an existing destination: `file:///absolute/path` or `s3://bucket/path?...` (either dialect's
    /// spelling). Nothing is created; callers that confine destinations use [`BackupStore::open_confined`].
    pub fn open(uri: &str, runtime: Handle) -> Result<Self, BackupError> {
        if crate::is_s3_uri(uri) {
            let s3 = S3Location::parse(uri, crate::UriForm::Cockroach)?;
            return Self::open_s3(&s3, runtime);
        }
        let url = url::Url::parse(uri).map_err(|_| BackupError::BadDestination(uri.to_string()))?;
        if url.scheme() != "file" {
            return Err(BackupError::BadDestination(uri.to_string()));
        }
        let path = url
            .to_file_path()
            .map_err(|_| BackupError::BadDestination(uri.to_string()))?;
        Self::open_dir(&path, uri.to_string(), runtime)
    }

    /// Opens a destination, creating its directory (owner-only) if missing.
    pub fn create(uri: &str, runtime: Handle) -> Result<Self, BackupError> {
        let url = url::Url::parse(uri).map_err(|_| BackupError::BadDestination(uri.to_string()))?;
        let path = url
            .to_file_path()
            .map_err(|_| BackupError::BadDestination(uri.to_string()))?;
        create_private_dir(&path)?;
        Self::open(uri, runtime)
    }

    /// Opens a destination that must lie in `scope`'s part of the external-IO directory (`file://`,
    /// `nodelocal://` or a path, resolved through links, `..` and `.`). With `create`, a missing directory is
    /// made; callers ask for that only once every other check has passed. The store's [`BackupStore::uri`] is
    /// the canonical `file://` URI, which is the destination's identity.
    ///
    /// An `s3://` URI is not a file and is not confined: it is parsed and opened as it is; `create` does not apply (the bucket must exist).
    pub fn open_confined(
        external: &ExternalDir,
        scope: ExternalScope<'_>,
        uri: &str,
        create: bool,
        runtime: Handle,
    ) -> Result<Self, BackupError> {
        if crate::is_s3_uri(uri) {
            let s3 = S3Location::parse(uri, crate::UriForm::Cockroach)?;
            return Self::open_s3(&s3, runtime);
        }
        let path = external.resolve(scope, uri)?;
        if create {
            create_private_dir(&path)?;
            // Made now, so resolved again: nothing may have been swapped in on the way.
            if external.resolve(scope, uri)? != path {
                return Err(ExternalPathError::Outside(uri.to_string()).into());
            }
        } else if !path.is_dir() {
            return Err(BackupError::Destination(format!(
                "'{uri}' does not exist or is not a directory"
            )));
        }
        Self::open_dir(&path, tenantry_storage::file_uri(&path), runtime)
    }

    fn open_dir(path: &std::path::Path, uri: String, runtime: Handle) -> Result<Self, BackupError> {
        // Empty directories go with their last object, so a removed set leaves no trace on disk.
        let store: Arc<dyn ObjectStore> = Arc::new(
            LocalFileSystem::new_with_prefix(path)
                .map_err(dest_err)?
                .with_automatic_cleanup(true),
        );
        Ok(Self {
            store,
            runtime,
            stored: uri.clone(),
            identity: uri.clone(),
            part_size: DEFAULT_PART_SIZE,
            uri,
            local: true,
        })
    }

    /// Opens a destination at `location`: a local directory the caller already confined (it must exist), or a
    /// bucket and prefix of an S3-compatible store (nothing is sent until the store is used).
    pub fn open_location(location: &Location, runtime: Handle) -> Result<Self, BackupError> {
        match location {
            Location::Local(path) => {
                if !path.is_dir() {
                    return Err(BackupError::Destination(format!(
                        "'{}' does not exist or is not a directory",
                        path.display()
                    )));
                }
                Self::open_dir(path, tenantry_storage::file_uri(path), runtime)
            }
            Location::S3(s3) => Self::open_s3(s3, runtime),
        }
    }

    /// Opens a bucket and prefix of an S3-compatible store. Requests time out (30 s each, 5 s to connect)
    /// and are retried with back-off for at most a minute, so a destination that stopped answering fails
    /// the job instead of holding it.
    pub fn open_s3(s3: &S3Location, runtime: Handle) -> Result<Self, BackupError> {
        let store = crate::s3::build(s3)?;
        Ok(Self {
            store,
            runtime,
            uri: s3.display(),
            stored: s3.stored(),
            identity: s3.identity(),
            part_size: DEFAULT_PART_SIZE,
            local: false,
        })
    }

    /// The destination's URI as people may see it: for `s3://`, without its secrets (see
    /// [`crate::display_uri`]).
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The destination's URI as it is stored (the parameter, a job's payload): credentials included for
    /// `s3://`. Never show it.
    pub fn stored_uri(&self) -> &str {
        &self.stored
    }

    /// The destination's identity: its canonical `file://` URI, or an S3 location's bucket, prefix and endpoint
    /// (whoever's credentials reach it). Two stores with one identity are one destination.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Whether the destination is a local directory.
    pub fn is_local(&self) -> bool {
        self.local
    }

    /// Checks that the destination takes writes (a probe object is written and removed).
    pub fn check_writable(&self) -> Result<(), BackupError> {
        let probe = ObjectPath::from("tenantry_probe");
        self.runtime.block_on(async {
            self.store
                .put(&probe, PutPayload::from_static(b"ok"))
                .await
                .map_err(dest_err)?;
            self.store.delete(&probe).await.map_err(dest_err)
        })
    }

    fn chunk_path(hash: &str) -> ObjectPath {
        ObjectPath::from(format!("chunks/{}/{hash}", &hash[..2.min(hash.len())]))
    }

    /// Stores a chunk unless the destination already holds it.
    pub fn put_chunk(&self, raw: &[u8]) -> Result<ChunkWrite, BackupError> {
        let hash = blake3::hash(raw).to_hex().to_string();
        let path = Self::chunk_path(&hash);
        let exists = self.runtime.block_on(self.store.head(&path)).is_ok();
        if exists {
            return Ok(ChunkWrite {
                hash,
                stored_bytes: 0,
            });
        }
        let compressed = zstd::bulk::compress(raw, 3).map_err(dest_err)?;
        let stored_bytes = compressed.len() as u64;
        self.runtime
            .block_on(
                self.store
                    .put(&path, PutPayload::from(Bytes::from(compressed))),
            )
            .map_err(dest_err)?;
        Ok(ChunkWrite { hash, stored_bytes })
    }

    /// Reads a chunk's stored (compressed, unverified) bytes; a stored chunk larger than `max_stored` bytes
    /// is corrupt (and is not read).
    pub(crate) fn get_stored_chunk(
        &self,
        hash: &str,
        max_stored: u64,
    ) -> Result<Bytes, BackupError> {
        let path = Self::chunk_path(hash);
        self.block_on_inline(async {
            match self.store.get(&path).await {
                Ok(r) if r.meta.size > max_stored => {
                    Err(BackupError::CorruptChunk(hash.to_string()))
                }
                Ok(r) => r.bytes().await.map_err(dest_err),
                Err(object_store::Error::NotFound { .. }) => {
                    Err(BackupError::MissingChunk(hash.to_string()))
                }
                Err(e) => Err(dest_err(e)),
            }
        })
    }

    /// Drives a future of the store on this thread. The local store does its file I/O inline when no runtime is
    /// current, and through two `spawn_blocking` hops when one is: backup and restore worker threads take the
    /// short way (which also keeps the I/O on the worker, at its priority).
    fn block_on_inline<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        if self.local && tokio::runtime::Handle::try_current().is_err() {
            futures::executor::block_on(work)
        } else {
            self.runtime.block_on(work)
        }
    }

    /// Reads a chunk that must hold `raw_len` bytes and verifies it against its hash. Nothing is allocated
    /// beyond what `raw_len` (checked by the manifest's validation) allows.
    pub fn get_chunk(&self, hash: &str, raw_len: usize) -> Result<Vec<u8>, BackupError> {
        let corrupt = || BackupError::CorruptChunk(hash.to_string());
        let stored = self.get_stored_chunk(hash, max_stored_len(raw_len))?;
        let raw = zstd::bulk::decompress(&stored, raw_len).map_err(|_| corrupt())?;
        if raw.len() != raw_len || blake3::hash(&raw).to_hex().as_str() != hash {
            return Err(BackupError::CorruptChunk(hash.to_string()));
        }
        Ok(raw)
    }

    /// Writes an object (a manifest) at `path`.
    pub fn put_object(&self, path: &str, bytes: Vec<u8>) -> Result<(), BackupError> {
        self.put_object_with(path, bytes, &|| false)
    }

    /// Writes an object at `path`; on a remote store one larger than [`BackupStore::part_size`] goes up as a
    /// multipart upload, a part at a time, with `stop` asked before each part. A stop ([`BackupError::Stopped`])
    /// or a failure aborts the upload, so the store keeps no parts of it (S3 bills parts of uploads never
    /// completed nor aborted) and no object appears.
    pub fn put_object_with(
        &self,
        path: &str,
        bytes: Vec<u8>,
        stop: &dyn Fn() -> bool,
    ) -> Result<(), BackupError> {
        let location = ObjectPath::from(path);
        let bytes = Bytes::from(bytes);
        if self.local || bytes.len() <= self.part_size {
            return self
                .runtime
                .block_on(self.store.put(&location, PutPayload::from(bytes)))
                .map(|_| ())
                .map_err(dest_err);
        }
        self.runtime.block_on(async {
            let mut upload = self
                .store
                .put_multipart(&location)
                .await
                .map_err(dest_err)?;
            let mut sent = 0;
            let result = async {
                while sent < bytes.len() {
                    if stop() {
                        return Err(BackupError::Stopped);
                    }
                    let end = (sent + self.part_size).min(bytes.len());
                    upload
                        .put_part(PutPayload::from(bytes.slice(sent..end)))
                        .await
                        .map_err(dest_err)?;
                    sent = end;
                }
                if stop() {
                    return Err(BackupError::Stopped);
                }
                upload.complete().await.map(|_| ()).map_err(dest_err)
            }
            .await;
            if result.is_err() {
                if let Err(e) = upload.abort().await {
                    tracing::warn!(path, "aborting a multipart upload failed: {e}");
                }
            }
            result
        })
    }

    /// The size of one part of a multipart upload, and the size above which an object goes up in parts.
    pub fn part_size(&self) -> usize {
        self.part_size
    }

    /// Sets [`BackupStore::part_size`]; S3 refuses parts under 5 MiB (but the last).
    pub fn with_part_size(mut self, bytes: usize) -> Self {
        self.part_size = bytes.max(1);
        self
    }

    /// Reads an object, `None` if it is not there; one larger than `max` bytes is refused before it is read.
    pub fn get_object_bounded(&self, path: &str, max: u64) -> Result<Option<Vec<u8>>, BackupError> {
        self.runtime.block_on(async {
            match self.store.get(&ObjectPath::from(path)).await {
                Ok(r) if r.meta.size > max => Err(BackupError::TooLarge {
                    path: path.to_string(),
                    size: r.meta.size,
                    max,
                }),
                Ok(r) => Ok(Some(r.bytes().await.map_err(dest_err)?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(dest_err(e)),
            }
        })
    }
}

/// One object under a destination, as listing finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Its path under the destination.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was last written (µs since the Unix epoch).
    pub modified_micros: i64,
}

/// Listing and deleting, for backup cleanup.
impl BackupStore {
    /// Every object under `prefix` (whole path segments; `None`: the whole destination), in no particular order.
    pub fn list(&self, prefix: Option<&str>) -> Result<Vec<StoredObject>, BackupError> {
        use futures::TryStreamExt;
        let prefix = prefix.map(ObjectPath::from);
        self.runtime.block_on(async {
            self.store
                .list(prefix.as_ref())
                .map_ok(|m| StoredObject {
                    path: m.location.to_string(),
                    size: m.size,
                    modified_micros: m.last_modified.timestamp_micros(),
                })
                .try_collect()
                .await
                .map_err(dest_err)
        })
    }

    /// The directories right under `prefix` (`None`: the destination's top level), e.g. `tenant_1001`.
    pub fn list_dirs(&self, prefix: Option<&str>) -> Result<Vec<String>, BackupError> {
        let prefix = prefix.map(ObjectPath::from);
        let listed = self
            .runtime
            .block_on(self.store.list_with_delimiter(prefix.as_ref()))
            .map_err(dest_err)?;
        Ok(listed
            .common_prefixes
            .iter()
            .map(|p| p.to_string())
            .collect())
    }

    /// The hashes of every chunk the destination holds.
    pub fn list_chunks(&self) -> Result<Vec<String>, BackupError> {
        Ok(self
            .list(Some("chunks"))?
            .into_iter()
            .filter_map(|o| o.path.rsplit('/').next().map(str::to_string))
            // object_store's local store may leave `<name>#<n>` staging files of interrupted writes.
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .collect())
    }

    /// Deletes an object; one that is already gone is not an error.
    pub fn delete_object(&self, path: &str) -> Result<(), BackupError> {
        match self
            .runtime
            .block_on(self.store.delete(&ObjectPath::from(path)))
        {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(dest_err(e)),
        }
    }

    /// Deletes a chunk; one that is already gone is not an error.
    pub fn delete_chunk(&self, hash: &str) -> Result<(), BackupError> {
        self.delete_object(Self::chunk_path(hash).as_ref())
    }
}

/// The chunks a destination holds, listed once at the start of a backup so that no chunk costs an existence
/// check. Backups only add chunks and a sweep never runs beside a backup (the caller keeps them apart), so the
/// set stays true for the backup's life.
#[derive(Debug, Default)]
pub struct KnownChunks(std::sync::Mutex<std::collections::HashSet<String>>);

impl KnownChunks {
    /// Whether the destination holds `hash`.
    pub fn contains(&self, hash: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(hash)
    }

    /// Records that the destination holds `hash`; false if it was known already.
    pub fn insert(&self, hash: String) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(hash)
    }
}

/// zstd's level for chunks: its fastest regular level. Page images compress about as well at 1 as at 3, and
/// compression is most of a full backup's CPU.
pub const CHUNK_ZSTD_LEVEL: i32 = 1;

impl BackupStore {
    /// Lists the destination's chunks once.
    pub fn known_chunks(&self) -> Result<KnownChunks, BackupError> {
        Ok(KnownChunks(std::sync::Mutex::new(
            self.list_chunks()?.into_iter().collect(),
        )))
    }

    /// A zstd compressor for chunks; one per thread, reused for every chunk it compresses (a fresh context per
    /// chunk costs as much as a good part of compressing it).
    pub fn chunk_compressor() -> Result<zstd::bulk::Compressor<'static>, BackupError> {
        zstd::bulk::Compressor::new(CHUNK_ZSTD_LEVEL).map_err(dest_err)
    }

    /// Stores a chunk unless `known` says the destination holds it; returns what was written.
    pub fn put_chunk_if_new(
        &self,
        raw: &[u8],
        known: &KnownChunks,
        compressor: &mut zstd::bulk::Compressor<'static>,
    ) -> Result<ChunkWrite, BackupError> {
        let hash = blake3::hash(raw).to_hex().to_string();
        if known.contains(&hash) {
            return Ok(ChunkWrite {
                hash,
                stored_bytes: 0,
            });
        }
        let compressed = compressor.compress(raw).map_err(dest_err)?;
        let stored_bytes = compressed.len() as u64;
        self.block_on_inline(self.store.put(
            &Self::chunk_path(&hash),
            PutPayload::from(Bytes::from(compressed)),
        ))
        .map_err(dest_err)?;
        known.insert(hash.clone());
        Ok(ChunkWrite { hash, stored_bytes })
    }
}
