/// Errors of the backup store.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The destination URI is not one the store supports.
    #[error("unsupported backup destination '{0}' (use file:///absolute/path)")]
    BadDestination(String),
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
    /// Reading or writing database pages failed.
    #[error(transparent)]
    Storage(#[from] tenantry_storage::StorageError),
    /// The caller asked to stop (cancel, pause).
    #[error("stopped")]
    Stopped,
}
