/// Errors of the backup store.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The destination URI is not one the store supports.
    #[error(
        "unsupported backup destination '{0}' (use file:///absolute/path or s3://bucket/path?...)"
    )]
    BadDestination(String),
    /// An `s3://` URI that cannot be used (its text never holds the secret).
    #[error(transparent)]
    S3Uri(#[from] crate::S3UriError),
    /// The destination failed (missing, not writable, gone).
    #[error("backup destination: {0}")]
    Destination(String),
    /// A chunk's bytes do not match its hash.
    #[error("chunk {0} is corrupted (its content does not match its BLAKE3 hash)")]
    CorruptChunk(String),
    /// A chunk a manifest names is not in the destination.
    #[error("chunk {0} is missing from the destination")]
    MissingChunk(String),
    /// A set has no manifest: it is incomplete.
    #[error("backup set {0} is incomplete (it has no manifest)")]
    Incomplete(String),
    /// A manifest that does not parse.
    #[error("manifest: {0}")]
    Manifest(#[from] serde_json::Error),
    /// A manifest that parses but cannot describe a real backup (see `Manifest::validate`).
    #[error("manifest {path} is not valid: {reason}")]
    BadManifest {
        /// Its path under the destination.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// An object larger than anything the server writes under that name (not read).
    #[error("{path} is {size} bytes, more than the {max} such a file can be")]
    TooLarge {
        /// Its path under the destination.
        path: String,
        /// Its size.
        size: u64,
        /// The most it may be.
        max: u64,
    },
    /// A location outside what the tenant may use, or not a location at all.
    #[error(transparent)]
    Location(#[from] tenantry_storage::ExternalPathError),
    /// A destination without a format file that is not empty: nobody's destination (OceanBase's -9080).
    #[error(
        "format file does not exist under the destination {0}, and the destination is not empty"
    )]
    NotFormatted(String),
    /// A destination another tenant formatted (OceanBase's -9081).
    #[error("format file does not match: the destination {0} belongs to another tenant")]
    FormatMismatch(String),
    /// A format file that does not parse.
    #[error("format file of {0} is not valid")]
    BadFormatFile(String),
    /// Not enough free space for what a restore would write.
    #[error("a restore needs {needed} bytes, and {path} has {available} free")]
    NoSpace {
        /// What the restore writes.
        needed: u64,
        /// What is free.
        available: u64,
        /// Where.
        path: String,
    },
    /// Reading or writing database pages failed.
    #[error(transparent)]
    Storage(#[from] tenantry_storage::StorageError),
    /// The caller asked to stop (cancel, pause).
    #[error("stopped")]
    Stopped,
}
