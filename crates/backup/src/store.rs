//! The destination and its chunk store.

use std::sync::Arc;

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tokio::runtime::Handle;

use crate::BackupError;

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
    store: Arc<dyn ObjectStore>,
    runtime: Handle,
    uri: String,
}

fn dest_err(e: impl std::fmt::Display) -> BackupError {
    BackupError::Destination(e.to_string())
}

impl BackupStore {
    /// Opens a destination: `file:///absolute/path` (created if missing).
    pub fn open(uri: &str, runtime: Handle) -> Result<Self, BackupError> {
        let url = url::Url::parse(uri).map_err(|_| BackupError::BadDestination(uri.to_string()))?;
        let store: Arc<dyn ObjectStore> = match url.scheme() {
            "file" => {
                let path = url
                    .to_file_path()
                    .map_err(|_| BackupError::BadDestination(uri.to_string()))?;
                std::fs::create_dir_all(&path).map_err(dest_err)?;
                Arc::new(LocalFileSystem::new_with_prefix(&path).map_err(dest_err)?)
            }
            _ => return Err(BackupError::BadDestination(uri.to_string())),
        };
        Ok(Self {
            store,
            runtime,
            uri: uri.to_string(),
        })
    }

    /// The destination's URI.
    pub fn uri(&self) -> &str {
        &self.uri
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

    /// Reads a chunk and verifies it against its hash.
    pub fn get_chunk(&self, hash: &str) -> Result<Vec<u8>, BackupError> {
        let path = Self::chunk_path(hash);
        let stored = self.runtime.block_on(async {
            match self.store.get(&path).await {
                Ok(r) => r.bytes().await.map_err(dest_err),
                Err(object_store::Error::NotFound { .. }) => {
                    Err(BackupError::MissingChunk(hash.to_string()))
                }
                Err(e) => Err(dest_err(e)),
            }
        })?;
        let raw = zstd::stream::decode_all(&stored[..])
            .map_err(|_| BackupError::CorruptChunk(hash.to_string()))?;
        if blake3::hash(&raw).to_hex().as_str() != hash {
            return Err(BackupError::CorruptChunk(hash.to_string()));
        }
        Ok(raw)
    }

    /// Runs one `object_store` call to completion on the store's runtime.
    pub(crate) fn block_on_store<T, F>(
        &self,
        call: impl FnOnce(std::sync::Arc<dyn ObjectStore>) -> F,
    ) -> Result<T, BackupError>
    where
        F: std::future::Future<Output = object_store::Result<T>>,
    {
        self.runtime
            .block_on(call(self.store.clone()))
            .map_err(dest_err)
    }

    /// Writes an object (a manifest) at `path`.
    pub fn put_object(&self, path: &str, bytes: Vec<u8>) -> Result<(), BackupError> {
        self.runtime
            .block_on(self.store.put(
                &ObjectPath::from(path),
                PutPayload::from(Bytes::from(bytes)),
            ))
            .map(|_| ())
            .map_err(dest_err)
    }

    /// Reads an object, `None` if it is not there.
    pub fn get_object(&self, path: &str) -> Result<Option<Vec<u8>>, BackupError> {
        self.runtime.block_on(async {
            match self.store.get(&ObjectPath::from(path)).await {
                Ok(r) => Ok(Some(r.bytes().await.map_err(dest_err)?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(dest_err(e)),
            }
        })
    }
}
