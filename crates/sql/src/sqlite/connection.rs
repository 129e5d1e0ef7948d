//! A session's SQLite connection: an in-memory main schema, with each of the tenant's databases attached
//! under its own name, and in-memory schemas for the system views.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::{Connection, InterruptHandle};
use tenantry_catalog::Catalog;

use super::pg_functions::SharedPgObjects;
use crate::error::{Result, SqlError};
use crate::processlist::StopFlag;
use crate::translate::SYSTEM_SCHEMAS;

/// SQLite virtual-machine steps between two looks at the stop flag: a few microseconds of work, so a stop
/// is noticed at once, while the look itself (one atomic load) costs nothing measurable.
const STEPS_PER_STOP_CHECK: i32 = 1000;

/// A session's SQLite connection and which database file each attached schema is.
pub struct TenantConnection {
    conn: Connection,
    tenant_id: i64,
    /// Attached schema → (its database id, the catalog version at which that was last confirmed).
    attached: HashMap<String, (i64, u64)>,
    /// What the `pg_catalog` views last showed, for the functions that look objects up by oid.
    pg_objects: SharedPgObjects,
    /// For sessions of users other than the tenant's administrator: the authorizer that confines their
    /// statements to the tables the privilege check approved.
    authorizer: Option<super::authorizer::Authorizer>,
}

impl TenantConnection {
    /// Opens a connection for a tenant's session; every statement it runs stops once `stop` is set. With
    /// `restricted`, statements run under [`TenantConnection::restrict`] touch only what their plan approved.
    pub fn open(tenant_id: i64, stop: Arc<StopFlag>, restricted: bool) -> Result<Self> {
        let conn = Connection::open_in_memory()?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // SQLite's interrupt is lost if it arrives while no SQLite statement runs (between the steps of one
        // client statement); the progress handler makes every statement see a stop request whenever it came.
        conn.progress_handler(STEPS_PER_STOP_CHECK, Some(move || stop.is_set()));
        super::functions::register(&conn)?;
        // MySQL's foreign_key_checks is on by default; attaching keeps whatever the session set since.
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
        let pg_objects = SharedPgObjects::default();
        super::pg_functions::register(&conn, &pg_objects)?;
        rusqlite::vtab::series::load_module(&conn)?;
        for schema in SYSTEM_SCHEMAS {
            conn.execute(&format!("ATTACH DATABASE ':memory:' AS {schema}"), [])?;
        }
        conn.set_prepared_statement_cache_capacity(64);
        let authorizer = restricted.then(|| super::authorizer::Authorizer::install(&conn));
        Ok(Self {
            conn,
            tenant_id,
            attached: HashMap::new(),
            pg_objects,
            authorizer,
        })
    }

    /// Hands the functions over `pg_catalog` the objects its views now show.
    pub fn set_pg_objects(&self, objects: super::pg_functions::PgObjects) {
        *self.pg_objects.lock().unwrap_or_else(|e| e.into_inner()) = objects;
    }

    /// Confines what statements compiled until the guard drops may touch to `plan`'s tables, if this
    /// connection is restricted (`None` otherwise).
    pub fn restrict(
        &self,
        plan: &crate::translate::Plan,
    ) -> Option<super::authorizer::AuthorizerGuard<'_>> {
        self.authorizer.as_ref().map(|a| a.restrict(plan))
    }

    /// The connection.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// A handle that interrupts whatever statement this connection runs.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        self.conn.get_interrupt_handle()
    }

    /// Whether a transaction is open.
    pub fn in_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }

    /// Makes sure schema `db` is this tenant's current database of that name, attaching (or re-attaching,
    /// if it was dropped and created again) as needed.
    ///
    /// While the catalog has not changed since the last check this takes no lock at all (one atomic load):
    /// every statement calls it for each database it names.
    pub fn ensure_attached(&mut self, catalog: &Catalog, db: &str) -> Result<()> {
        // Read before the lookup: a change committed meanwhile leaves a newer version for the next statement.
        let version = catalog.version();
        if let Some((_, checked)) = self.attached.get_mut(db) {
            if *checked == version {
                return Ok(());
            }
        }
        let entry = catalog
            .database(self.tenant_id, db)?
            .ok_or_else(|| SqlError::UnknownDatabase(db.to_string()))?;
        match self.attached.get_mut(db) {
            Some((id, checked)) if *id == entry.database_id => {
                *checked = version;
                return Ok(());
            }
            Some(_) => self.detach(db)?,
            None => {}
        }
        if self.in_transaction() {
            return Err(SqlError::Unsupported(format!(
                "opening database '{db}' inside a transaction that did not use it before"
            )));
        }
        let path = catalog
            .storage()
            .database_path(self.tenant_id, entry.database_id);
        self.conn.execute(
            &format!("ATTACH DATABASE ?1 AS {}", crate::translate::quote(db)),
            [path.to_string_lossy()],
        )?;
        // Configuring the schema turns foreign keys on for the whole connection; keep the session's choice
        // (`SET FOREIGN_KEY_CHECKS = 0` before mysqldump's `USE db` must hold for that database too).
        let foreign_keys: bool = self
            .conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
        tenantry_storage::configure_tenant_connection(&self.conn, db)?;
        if !foreign_keys {
            self.conn.execute_batch("PRAGMA foreign_keys = OFF")?;
        }
        self.attached
            .insert(db.to_string(), (entry.database_id, version));
        Ok(())
    }

    /// Whether database `db` is attached.
    pub fn is_attached(&self, db: &str) -> bool {
        self.attached.contains_key(db)
    }

    /// Detaches a database (after it was dropped, or to re-attach a new file of the same name).
    pub fn detach(&mut self, db: &str) -> Result<()> {
        if self.attached.remove(db).is_some() {
            self.conn.execute(
                &format!("DETACH DATABASE {}", crate::translate::quote(db)),
                [],
            )?;
        }
        Ok(())
    }

    /// Whether `table` exists in attached schema `db` (tables and views).
    pub fn table_exists(&self, db: &str, table: &str) -> Result<bool> {
        let sql = format!(
            "SELECT EXISTS(SELECT 1 FROM {}.sqlite_master WHERE type IN ('table', 'view') AND name = ?1 COLLATE NOCASE)",
            crate::translate::quote(db)
        );
        Ok(self.conn.query_row(&sql, [table], |r| r.get(0))?)
    }
}
