//! The backup store: a destination (through `object_store`, so that `file://` and `s3://` share one code path)
//! holding content-addressed chunks of database pages and the manifests that describe backup sets.
//!
//! Layout under a destination:
//! - `chunks/<first two hex digits>/<BLAKE3 hex of the raw bytes>`: zstd-compressed page runs. A chunk the
//!   destination already holds is never written again, so an incremental backup costs what changed.
//! - `format`: who the destination belongs to (see `format.rs`), written when a tenant first uses it.
//! - `tenant_<id>/backup_set_<n>/set_info.json`: written when the backup starts.
//! - `tenant_<id>/backup_set_<n>/manifest.json`: written last; a set without one is incomplete and never restorable.
//!
//! Every chunk read is verified against its hash; a mismatch names the set's chunk. Nothing read from a
//! destination sizes an allocation, a file or a path before it is checked: manifests are bounded in size and
//! validated as a whole when read, chunks are bounded by the size their manifest entry allows.

mod error;
mod format;
pub mod gc;
mod image;
mod location;
mod priority;
mod restore;
mod s3;
mod secret;
mod sets;
mod store;

pub use error::BackupError;
pub use format::{DestFormat, DestOwner, FORMAT_FILE};
pub use image::{
    backup_database, backup_database_with, ChunkDone, ChunkEntry, DatabaseImage, ImageChangeMark,
    ImageSource, Manifest, MAX_CHUNK_BYTES, MAX_CHUNK_PAGES, MAX_MANIFEST_BYTES,
};
pub use location::{
    display_under, display_uri, identity_of, is_s3_uri, Location, S3Location, S3UriError, Secret,
    UriForm, REDACTED,
};
pub use restore::restore_database;
pub use s3::install_tls_provider;
pub use secret::{SecretKey, SECRET_KEY_FILE};
pub use sets::{set_dir, SetInfo, SetListing};
pub use store::{
    decode_chunk_into, BackupStore, ChunkWrite, KnownChunks, StoredObject, CHUNK_ZSTD_LEVEL,
};
