//! Tenants built by a job (restore, clone): created CREATING and owned by the job, so that only that job may
//! complete them (NORMAL, with their users and grants) or remove them. A CREATING tenant serves no login.
//!
//! Every step is idempotent for its job, because a job may run a step again after a crash.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::databases::DatabaseEntry;
use crate::privileges::{GrantLevel, Privilege};
use crate::resources::ResourcePool;
use crate::schema::next_id;
use crate::tenants::{CompatibilityMode, Tenant, TenantStatus};
use crate::time::now_timestamp;
use crate::{Catalog, CatalogError, Result};

/// A tenant's catalog entries as a backup set or a snapshot carries them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TenantImage {
    /// Database names.
    pub databases: Vec<String>,
    /// Users with their verifiers and grants.
    pub users: Vec<UserImage>,
    /// `MYSQL` or `ORACLE` (older sets do not say: MySQL).
    #[serde(default)]
    pub mode: Option<String>,
}

/// One user in a [`TenantImage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserImage {
    /// Its name.
    pub name: String,
    /// `mysql_native_password` verifier.
    pub native_hash: String,
    /// SCRAM-SHA-256 verifier.
    pub scram_verifier: String,
    /// The tenant's built-in administrator.
    pub is_admin: bool,
    /// Its grants.
    pub grants: Vec<GrantImage>,
    /// Whether it logs in (false: a role). Images made before roles existed hold only users.
    #[serde(default = "logs_in")]
    pub can_login: bool,
    /// The roles it is a direct member of.
    #[serde(default)]
    pub member_of: Vec<String>,
}

fn logs_in() -> bool {
    true
}

/// One grant in a [`UserImage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantImage {
    /// `*` for every database, the database's name, or `db.table` for one table.
    pub level: String,
    /// The privilege's name.
    pub privilege: String,
}

impl Catalog {
    /// A tenant's databases, users and grants, as a backup or snapshot records them.
    pub fn tenant_image(&self, tenant_id: i64) -> Result<TenantImage> {
        let tenant = self
            .tenant_by_id(tenant_id)?
            .ok_or_else(|| CatalogError::TenantNotExist(tenant_id.to_string()))?;
        let databases = self
            .databases(tenant_id)?
            .into_iter()
            .map(|d| d.name)
            .collect();
        let mut users = Vec::new();
        let mut memberships = self.memberships(tenant_id)?;
        for u in self.users(tenant_id)? {
            let grants = self
                .grants(tenant_id, &u.name)?
                .into_iter()
                .map(|g| GrantImage {
                    level: g.level.key().to_string(),
                    privilege: g.privilege.as_str().to_string(),
                })
                .collect();
            let member_of = memberships.remove(&u.name).unwrap_or_default();
            users.push(UserImage {
                name: u.name,
                native_hash: u.native_hash,
                scram_verifier: u.scram_verifier,
                is_admin: u.is_admin,
                grants,
                can_login: u.can_login,
                member_of,
            });
        }
        Ok(TenantImage {
            databases,
            users,
            mode: Some(tenant.compatibility_mode.as_str().to_string()),
        })
    }

    /// Creates (or, for the same job, finds again) a CREATING tenant bound to `pool`, with an entry for each
    /// database of `databases` but no files: the job writes them. Returns the tenant and its databases.
    pub fn begin_tenant_build(
        &self,
        job_id: i64,
        name: &str,
        mode: CompatibilityMode,
        pool: &str,
        databases: &[String],
    ) -> Result<(Tenant, Vec<DatabaseEntry>)> {
        if !tenantry_storage::is_valid_name(name) {
            return Err(CatalogError::InvalidName(name.to_string()));
        }
        {
            let mut conn = self.conn.lock();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let existing: Option<Option<i64>> = tx
                .query_row(
                    "SELECT build_job_id FROM tenants WHERE tenant_name = ?1",
                    [name],
                    |r| r.get(0),
                )
                .optional()?;
            match existing {
                Some(Some(owner)) if owner == job_id => {}
                Some(_) => return Err(CatalogError::TenantExists(name.to_string())),
                None => {
                    let now = now_timestamp();
                    let tenant_id = next_id(&tx, "tenant")?;
                    tx.execute(
                        "INSERT INTO tenants (tenant_id, tenant_name, compatibility_mode, status, primary_zone, \
                         locality, create_time, modify_time, build_job_id) \
                         VALUES (?1, ?2, ?3, 'CREATING', 'RANDOM', 'FULL{1}@zone1', ?4, ?4, ?5)",
                        params![tenant_id, name, mode.as_str(), now, job_id],
                    )?;
                    crate::tenants::bind_pool(&tx, pool, tenant_id, &now)?;
                    for db in databases {
                        let db_id = next_id(&tx, "database")?;
                        tx.execute(
                            "INSERT INTO databases VALUES (?1, ?2, ?3, ?4)",
                            params![db_id, tenant_id, db.to_ascii_lowercase(), now],
                        )?;
                    }
                    tx.commit()?;
                }
            }
        }
        let tenant = self
            .tenant_by_name(name)?
            .ok_or_else(|| CatalogError::TenantNotExist(name.to_string()))?;
        let dbs = self.databases(tenant.tenant_id)?;
        Ok((tenant, dbs))
    }

    /// Makes a tenant the job built whole: its users and grants are written and it turns NORMAL, in one
    /// transaction. Doing it again once NORMAL is a no-op.
    pub fn complete_tenant_build(
        &self,
        job_id: i64,
        tenant_id: i64,
        image: &TenantImage,
    ) -> Result<()> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let row: Option<(String, Option<i64>)> = tx
            .query_row(
                "SELECT status, build_job_id FROM tenants WHERE tenant_id = ?1",
                [tenant_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match row {
            Some((status, _)) if status == TenantStatus::Normal.as_str() => return Ok(()),
            Some((_, Some(owner))) if owner == job_id => {}
            _ => return Err(CatalogError::TenantNotExist(tenant_id.to_string())),
        }
        let now = now_timestamp();
        tx.execute("DELETE FROM grants WHERE tenant_id = ?1", [tenant_id])?;
        tx.execute("DELETE FROM users WHERE tenant_id = ?1", [tenant_id])?;
        tx.execute("DELETE FROM role_members WHERE tenant_id = ?1", [tenant_id])?;
        for u in &image.users {
            tx.execute(
                "INSERT INTO users (tenant_id, user_name, host, native_hash, scram_verifier, is_admin, create_time, can_login) \
                 VALUES (?1, ?2, '%', ?3, ?4, ?5, ?6, ?7)",
                params![
                    tenant_id,
                    u.name,
                    u.native_hash,
                    u.scram_verifier,
                    u.is_admin,
                    now,
                    u.can_login
                ],
            )?;
            for role in &u.member_of {
                tx.execute(
                    "INSERT OR IGNORE INTO role_members VALUES (?1, ?2, ?3)",
                    params![tenant_id, role, u.name],
                )?;
            }
            for g in &u.grants {
                let Some(privilege) = Privilege::parse(&g.privilege) else {
                    continue;
                };
                let level = GrantLevel::from_key(g.level.clone());
                tx.execute(
                    "INSERT OR IGNORE INTO grants VALUES (?1, ?2, ?3, ?4)",
                    params![tenant_id, u.name, level.key(), privilege.as_str()],
                )?;
            }
        }
        tx.execute(
            "UPDATE tenants SET status = 'NORMAL', build_job_id = NULL, modify_time = ?2 WHERE tenant_id = ?1",
            params![tenant_id, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Removes what a job built: its CREATING tenant (entries, then files) and frees its pool. Returns whether
    /// there was anything to remove; a tenant the job does not own is never touched.
    pub fn abort_tenant_build(&self, job_id: i64, name: &str) -> Result<bool> {
        let tenant_id = {
            let mut conn = self.conn.lock();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let id: Option<i64> = tx
                .query_row(
                    "SELECT tenant_id FROM tenants WHERE tenant_name = ?1 AND build_job_id = ?2 AND status = 'CREATING'",
                    params![name, job_id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(id) = id else {
                return Ok(false);
            };
            crate::tenants::delete_tenant_rows(&tx, id)?;
            tx.commit()?;
            id
        };
        // After the commit, as for DROP TENANT: a crash before this leaves files that start-up removes.
        self.storage.drop_tenant(tenant_id)?;
        Ok(true)
    }

    /// Creates (or, for the same job, finds again) a pool of one unit of config `unit`, owned by the job.
    pub fn create_job_pool(&self, job_id: i64, name: &str, unit: &str) -> Result<ResourcePool> {
        if let Some(pool) = self.resource_pool(name)? {
            if self.pool_owner(name)? == Some(job_id) {
                return Ok(pool);
            }
            return Err(CatalogError::PoolExists(name.to_string()));
        }
        self.create_resource_pool(name, unit, 1, &[])?;
        let conn = self.conn.lock();
        conn.execute(
            "UPDATE resource_pools SET build_job_id = ?1 WHERE name = ?2",
            params![job_id, name],
        )?;
        drop(conn);
        self.resource_pool(name)?
            .ok_or_else(|| CatalogError::PoolNotExist(name.to_string()))
    }

    /// Drops a pool the job created, if it still exists and serves no tenant.
    pub fn drop_job_pool(&self, job_id: i64, name: &str) -> Result<bool> {
        let conn = self.conn.lock();
        let n = conn.execute(
            "DELETE FROM resource_pools WHERE name = ?1 AND build_job_id = ?2 AND tenant_id IS NULL",
            params![name, job_id],
        )?;
        Ok(n > 0)
    }

    /// Hands a pool the job created over for good: it is then an ordinary pool.
    pub fn release_job_pool(&self, job_id: i64, name: &str) -> Result<()> {
        let conn = self.conn.lock();
        conn.execute(
            "UPDATE resource_pools SET build_job_id = NULL WHERE name = ?1 AND build_job_id = ?2",
            params![name, job_id],
        )?;
        Ok(())
    }

    fn pool_owner(&self, name: &str) -> Result<Option<i64>> {
        let conn = self.conn.lock();
        Ok(conn
            .query_row(
                "SELECT build_job_id FROM resource_pools WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }
}
