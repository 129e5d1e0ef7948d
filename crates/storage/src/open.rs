use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use crate::error::StorageError;

/// How long a writer waits for another writer's lock before reporting busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens (creating if needed) a tenant database file in WAL mode with the server's settings.
pub fn open_database(path: &Path) -> Result<Connection, StorageError> {
    let conn = Connection::open(path)?;
    configure_tenant_connection(&conn, "main")?;
    Ok(conn)
}

/// [`configure_connection`] for a tenant database: its checkpoints are left to the server's checkpointer, which
/// records the pages they change (see [`crate::changes`]).
pub fn configure_tenant_connection(conn: &Connection, schema: &str) -> Result<(), StorageError> {
    configure_connection(conn, schema)?;
    crate::checkpoint::hand_checkpoints_to_server(conn)
}

/// Applies the server's settings to schema `schema` of a connection (`main` or an attached name).
///
/// WAL lets readers go on while one writer commits. `synchronous = NORMAL` in WAL mode never loses a
/// committed transaction when the process dies (SIGKILL); only an OS crash or power loss can drop the
/// last commits, which is the durability the server promises (see docs/architecture.md).
pub fn configure_connection(conn: &Connection, schema: &str) -> Result<(), StorageError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let quoted = schema.replace('"', "\"\"");
    conn.query_row(
        &format!("PRAGMA \"{quoted}\".journal_mode = WAL"),
        [],
        |_| Ok(()),
    )?;
    conn.execute_batch(&format!(
        "PRAGMA \"{quoted}\".synchronous = NORMAL; PRAGMA foreign_keys = ON;"
    ))?;
    Ok(())
}
