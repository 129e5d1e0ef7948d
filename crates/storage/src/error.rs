use std::path::PathBuf;

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A filesystem operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// SQLite refused an operation on a database file.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A database or tenant name that cannot be used as part of a path.
    #[error("invalid name '{0}'")]
    InvalidName(String),
    /// An external-IO directory the server refuses to use.
    #[error("external-IO directory {path}: {reason}")]
    ExternalDir {
        /// The directory.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
}
