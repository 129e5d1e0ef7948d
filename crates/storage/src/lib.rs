//! Storage: where tenant databases live on disk and how their SQLite files are opened.
//!
//! Each database of a tenant is one SQLite file in WAL mode under `<data-dir>/tenants/<tenant_id>/`.
//! Files are named by the database's catalog id, not its name, so that a dropped and re-created
//! database never aliases the old file in a session that still has it attached.

mod changes;
mod checkpoint;
mod copy;
mod error;
mod external;
mod files;
mod open;
mod snapshot;
mod wal;

pub use changes::{mark_cut, ChangeMark, PageChanges};
pub use checkpoint::{checkpoint_database, hand_checkpoints_to_server, Checkpointer};
pub use copy::copy_file;
pub use error::StorageError;
pub use external::{file_uri, ExternalDir, ExternalPathError, ExternalScope};
pub use files::{available_space, is_valid_name, with_suffix, Storage};
pub use open::{configure_connection, configure_tenant_connection, open_database};
pub use snapshot::{PageChunk, PageSnapshot, PageWriter};
