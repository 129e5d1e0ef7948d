use rusqlite::{params, OptionalExtension, Row};

use crate::password::PasswordHash;
use crate::privileges::{GrantLevel, Privilege};
use crate::schema::next_id;
use crate::time::now_timestamp;
use crate::{Catalog, CatalogError, Result};

/// The sys tenant's id, as in OceanBase.
pub const SYS_TENANT_ID: i64 = 1;

/// Database every tenant starts with, as OceanBase's MySQL-mode tenants do.
pub const DEFAULT_DATABASE: &str = "test";

/// The SQL mode a tenant was created in; it decides the administrator's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompatibilityMode {
    /// MySQL mode: administrator `root`.
    Mysql,
    /// Oracle mode: administrator `SYS`.
    Oracle,
}

impl CompatibilityMode {
    /// Parses `mysql` / `oracle` in any case.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "mysql" => Some(Self::Mysql),
            "oracle" => Some(Self::Oracle),
            _ => None,
        }
    }

    /// The name OceanBase's views show (`MYSQL` / `ORACLE`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mysql => "MYSQL",
            Self::Oracle => "ORACLE",
        }
    }

    /// The built-in administrator of a tenant in this mode.
    pub fn admin_user(self) -> &'static str {
        match self {
            Self::Mysql => "root",
            Self::Oracle => "SYS",
        }
    }
}

/// Life-cycle states of a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantStatus {
    /// Serving queries.
    Normal,
    /// Being built by a job (restore, clone): serves no query until it is whole.
    Creating,
}

impl TenantStatus {
    /// The name OceanBase's views show.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "NORMAL",
            Self::Creating => "CREATING",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "CREATING" => Self::Creating,
            _ => Self::Normal,
        }
    }
}

/// A tenant as the catalog records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    /// 1 for sys; user tenants from 1001 up.
    pub tenant_id: i64,
    /// Unique, case-insensitive.
    pub tenant_name: String,
    /// MySQL or Oracle mode.
    pub compatibility_mode: CompatibilityMode,
    /// Whether it serves queries.
    pub status: TenantStatus,
    /// OceanBase's PRIMARY_ZONE (informational here).
    pub primary_zone: String,
    /// OceanBase's LOCALITY (informational here).
    pub locality: String,
    /// When it was created.
    pub create_time: String,
    /// When it last changed.
    pub modify_time: String,
}

impl Tenant {
    /// Whether this is the sys tenant.
    pub fn is_sys(&self) -> bool {
        self.tenant_id == SYS_TENANT_ID
    }

    /// The part of the external-IO directory the tenant may use: all of it for sys, its own subtree otherwise.
    pub fn external_scope(&self) -> tenantry_storage::ExternalScope<'_> {
        if self.is_sys() {
            tenantry_storage::ExternalScope::All
        } else {
            tenantry_storage::ExternalScope::Tenant(&self.tenant_name)
        }
    }

    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        let mode: String = r.get(2)?;
        let status: String = r.get(3)?;
        Ok(Self {
            tenant_id: r.get(0)?,
            tenant_name: r.get(1)?,
            compatibility_mode: CompatibilityMode::parse(&mode).unwrap_or(CompatibilityMode::Mysql),
            status: TenantStatus::parse(&status),
            primary_zone: r.get(4)?,
            locality: r.get(5)?,
            create_time: r.get(6)?,
            modify_time: r.get(7)?,
        })
    }
}

const TENANT_COLUMNS: &str = "tenant_id, tenant_name, compatibility_mode, status, primary_zone, locality, create_time, modify_time";

impl Catalog {
    /// Every tenant, sys first.
    pub fn tenants(&self) -> Result<Vec<Tenant>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare(&format!(
            "SELECT {TENANT_COLUMNS} FROM tenants ORDER BY tenant_id"
        ))?;
        let rows = stmt.query_map([], Tenant::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The tenant of that name (case-insensitive), if any.
    pub fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>> {
        let conn = self.conn.lock();
        Ok(conn
            .query_row(
                &format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE tenant_name = ?1"),
                [name],
                Tenant::from_row,
            )
            .optional()?)
    }

    /// The tenant of that id, if any.
    pub fn tenant_by_id(&self, id: i64) -> Result<Option<Tenant>> {
        let conn = self.conn.lock();
        Ok(conn
            .query_row(
                &format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE tenant_id = ?1"),
                [id],
                Tenant::from_row,
            )
            .optional()?)
    }

    /// Creates a user tenant bound to `pool`, with its administrator (empty password) and its default database.
    pub fn create_tenant(&self, name: &str, mode: CompatibilityMode, pool: &str) -> Result<Tenant> {
        self.create_tenant_with_id(None, name, mode, Some(pool), "")
    }

    pub(crate) fn create_tenant_with_id(
        &self,
        id: Option<i64>,
        name: &str,
        mode: CompatibilityMode,
        pool: Option<&str>,
        admin_password: &str,
    ) -> Result<Tenant> {
        if !tenantry_storage::is_valid_name(name) {
            return Err(CatalogError::InvalidName(name.to_string()));
        }
        let hash = PasswordHash::new(admin_password);
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM tenants WHERE tenant_name = ?1)",
            [name],
            |r| r.get(0),
        )?;
        if exists {
            return Err(CatalogError::TenantExists(name.to_string()));
        }
        let now = now_timestamp();
        let tenant_id = match id {
            Some(id) => id,
            None => next_id(&tx, "tenant")?,
        };
        tx.execute(
            &format!("INSERT INTO tenants ({TENANT_COLUMNS}) VALUES (?1, ?2, ?3, 'NORMAL', 'RANDOM', 'FULL{{1}}@zone1', ?4, ?4)"),
            params![tenant_id, name, mode.as_str(), now],
        )?;
        match pool {
            Some(pool) => bind_pool(&tx, pool, tenant_id, &now)?,
            None => create_sys_resources(&tx, tenant_id, &now)?,
        }
        let admin = mode.admin_user();
        tx.execute(
            "INSERT INTO users (tenant_id, user_name, host, native_hash, scram_verifier, is_admin, create_time) \
             VALUES (?1, ?2, '%', ?3, ?4, 1, ?5)",
            params![tenant_id, admin, hash.native, hash.scram, now],
        )?;
        tx.execute(
            "INSERT INTO grants VALUES (?1, ?2, ?3, ?4)",
            params![
                tenant_id,
                admin,
                GrantLevel::Global.key(),
                Privilege::All.as_str()
            ],
        )?;
        let db_id = next_id(&tx, "database")?;
        tx.execute(
            "INSERT INTO databases VALUES (?1, ?2, ?3, ?4)",
            params![db_id, tenant_id, DEFAULT_DATABASE, now],
        )?;
        // Files are made before the commit: a crash in between leaves only files, which start-up removes.
        self.storage.create_database(tenant_id, db_id)?;
        let tenant = tx.query_row(
            &format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE tenant_id = ?1"),
            [tenant_id],
            Tenant::from_row,
        )?;
        tx.commit()?;
        Ok(tenant)
    }

    /// The next backup set id of a tenant (1, 2, ...; never reused).
    pub fn next_backup_set_id(&self, tenant_id: i64) -> Result<i64> {
        let conn = self.conn.lock();
        Ok(crate::schema::next_value(
            &conn,
            &format!("backup_set_{tenant_id}"),
        )?)
    }

    /// Drops a user tenant: its users, grants, databases and parameters go, its pool is freed, then its files are removed.
    pub fn drop_tenant(&self, name: &str) -> Result<Tenant> {
        let tenant = {
            let mut conn = self.conn.lock();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let tenant = tx
                .query_row(
                    &format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE tenant_name = ?1"),
                    [name],
                    Tenant::from_row,
                )
                .optional()?
                .ok_or_else(|| CatalogError::TenantNotExist(name.to_string()))?;
            if tenant.is_sys() {
                return Err(CatalogError::SysTenant("drop sys tenant not allowed"));
            }
            if tenant.status == TenantStatus::Creating {
                return Err(CatalogError::TenantBuilding(tenant.tenant_name));
            }
            delete_tenant_rows(&tx, tenant.tenant_id)?;
            tx.commit()?;
            tenant
        };
        // After the commit: a crash before this line leaves an orphan directory that start-up removes.
        self.storage.drop_tenant(tenant.tenant_id)?;
        Ok(tenant)
    }
}

/// Removes a tenant's rows (users, grants, databases, parameters, snapshots) and frees its pool.
pub(crate) fn delete_tenant_rows(tx: &rusqlite::Transaction, id: i64) -> Result<()> {
    tx.execute("DELETE FROM grants WHERE tenant_id = ?1", [id])?;
    tx.execute("DELETE FROM users WHERE tenant_id = ?1", [id])?;
    tx.execute("DELETE FROM role_members WHERE tenant_id = ?1", [id])?;
    tx.execute("DELETE FROM databases WHERE tenant_id = ?1", [id])?;
    tx.execute("DELETE FROM parameters WHERE tenant_id = ?1", [id])?;
    tx.execute("DELETE FROM tenant_snapshots WHERE tenant_id = ?1", [id])?;
    tx.execute(
        "UPDATE resource_pools SET tenant_id = NULL, modify_time = ?2 WHERE tenant_id = ?1",
        params![id, now_timestamp()],
    )?;
    tx.execute("DELETE FROM tenants WHERE tenant_id = ?1", [id])?;
    Ok(())
}

pub(crate) fn bind_pool(
    tx: &rusqlite::Transaction,
    pool: &str,
    tenant_id: i64,
    now: &str,
) -> Result<()> {
    let owner: Option<Option<i64>> = tx
        .query_row(
            "SELECT tenant_id FROM resource_pools WHERE name = ?1",
            [pool],
            |r| r.get(0),
        )
        .optional()?;
    match owner {
        None => Err(CatalogError::PoolNotExist(pool.to_string())),
        Some(Some(_)) => Err(CatalogError::PoolInUse(pool.to_string())),
        Some(None) => {
            tx.execute(
                "UPDATE resource_pools SET tenant_id = ?1, modify_time = ?2 WHERE name = ?3",
                params![tenant_id, now, pool],
            )?;
            Ok(())
        }
    }
}

/// The sys tenant's own unit config and pool, as OceanBase ships them.
fn create_sys_resources(tx: &rusqlite::Transaction, tenant_id: i64, now: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO resource_units VALUES (1, 'sys_unit_config', 1, 1, 2147483648, 5368709120, 10000, 10000, 1, ?1, ?1)",
        [now],
    )?;
    tx.execute(
        "INSERT INTO resource_pools (resource_pool_id, name, unit_count, unit_config_id, zone_list, replica_type, tenant_id, create_time, modify_time) VALUES (1, 'sys_pool', 1, 1, 'zone1', 'FULL', ?1, ?2, ?2)",
        params![tenant_id, now],
    )?;
    Ok(())
}
