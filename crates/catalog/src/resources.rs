use rusqlite::{params, OptionalExtension, Row};

use crate::schema::next_id;
use crate::time::now_timestamp;
use crate::{Catalog, CatalogError, Result};

/// A resource unit config (`CREATE RESOURCE UNIT`).
#[derive(Debug, Clone, PartialEq)]
pub struct UnitConfig {
    /// Its id.
    pub unit_config_id: i64,
    /// Its unique name.
    pub name: String,
    /// MAX_CPU.
    pub max_cpu: f64,
    /// MIN_CPU (defaults to MAX_CPU).
    pub min_cpu: f64,
    /// MEMORY_SIZE in bytes.
    pub memory_size: i64,
    /// LOG_DISK_SIZE in bytes (defaults to three times the memory).
    pub log_disk_size: i64,
    /// MAX_IOPS.
    pub max_iops: i64,
    /// MIN_IOPS.
    pub min_iops: i64,
    /// IOPS_WEIGHT.
    pub iops_weight: i64,
    /// When it was created.
    pub create_time: String,
    /// When it last changed.
    pub modify_time: String,
}

/// The options of `CREATE RESOURCE UNIT`; missing ones take OceanBase's defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewUnitConfig {
    /// MAX_CPU (required).
    pub max_cpu: Option<f64>,
    /// MIN_CPU.
    pub min_cpu: Option<f64>,
    /// MEMORY_SIZE in bytes (required).
    pub memory_size: Option<i64>,
    /// LOG_DISK_SIZE in bytes.
    pub log_disk_size: Option<i64>,
    /// MAX_IOPS.
    pub max_iops: Option<i64>,
    /// MIN_IOPS.
    pub min_iops: Option<i64>,
    /// IOPS_WEIGHT.
    pub iops_weight: Option<i64>,
}

/// A resource pool (`CREATE RESOURCE POOL`); it serves at most one tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourcePool {
    /// Its id.
    pub resource_pool_id: i64,
    /// Its unique name.
    pub name: String,
    /// UNIT_NUM.
    pub unit_count: i64,
    /// The unit config it is made of.
    pub unit_config_id: i64,
    /// ZONE_LIST, `;`-separated.
    pub zone_list: String,
    /// Always FULL here.
    pub replica_type: String,
    /// The tenant it serves, if any.
    pub tenant_id: Option<i64>,
    /// When it was created.
    pub create_time: String,
    /// When it last changed.
    pub modify_time: String,
}

const MIN_MEMORY: i64 = 1 << 30;

impl UnitConfig {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(Self {
            unit_config_id: r.get(0)?,
            name: r.get(1)?,
            max_cpu: r.get(2)?,
            min_cpu: r.get(3)?,
            memory_size: r.get(4)?,
            log_disk_size: r.get(5)?,
            max_iops: r.get(6)?,
            min_iops: r.get(7)?,
            iops_weight: r.get(8)?,
            create_time: r.get(9)?,
            modify_time: r.get(10)?,
        })
    }
}

impl ResourcePool {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(Self {
            resource_pool_id: r.get(0)?,
            name: r.get(1)?,
            unit_count: r.get(2)?,
            unit_config_id: r.get(3)?,
            zone_list: r.get(4)?,
            replica_type: r.get(5)?,
            tenant_id: r.get(6)?,
            create_time: r.get(7)?,
            modify_time: r.get(8)?,
        })
    }
}

impl Catalog {
    /// Every unit config, by id.
    pub fn unit_configs(&self) -> Result<Vec<UnitConfig>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare("SELECT * FROM resource_units ORDER BY unit_config_id")?;
        let rows = stmt.query_map([], UnitConfig::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The unit config of that name, if any.
    pub fn unit_config(&self, name: &str) -> Result<Option<UnitConfig>> {
        let conn = self.conn.lock();
        Ok(conn
            .query_row(
                "SELECT * FROM resource_units WHERE name = ?1",
                [name],
                UnitConfig::from_row,
            )
            .optional()?)
    }

    /// Creates a unit config; MAX_CPU and MEMORY_SIZE are required, the rest default as in OceanBase.
    pub fn create_unit_config(&self, name: &str, spec: &NewUnitConfig) -> Result<UnitConfig> {
        if !tenantry_storage::is_valid_name(name) {
            return Err(CatalogError::InvalidName(name.to_string()));
        }
        let max_cpu = spec
            .max_cpu
            .ok_or_else(|| CatalogError::InvalidArgument("MAX_CPU must be specified".into()))?;
        let memory_size = spec
            .memory_size
            .ok_or_else(|| CatalogError::InvalidArgument("MEMORY_SIZE must be specified".into()))?;
        if max_cpu <= 0.0 {
            return Err(CatalogError::InvalidArgument(
                "MAX_CPU must be greater than 0".into(),
            ));
        }
        let min_cpu = spec.min_cpu.unwrap_or(max_cpu);
        if min_cpu <= 0.0 || min_cpu > max_cpu {
            return Err(CatalogError::InvalidArgument(
                "MIN_CPU must be greater than 0 and at most MAX_CPU".into(),
            ));
        }
        if memory_size < MIN_MEMORY {
            return Err(CatalogError::InvalidArgument(
                "MEMORY_SIZE must be at least 1G".into(),
            ));
        }
        let log_disk_size = spec.log_disk_size.unwrap_or(memory_size * 3);
        let max_iops = spec.max_iops.unwrap_or(i64::MAX);
        let min_iops = spec
            .min_iops
            .unwrap_or(max_iops.min(10000 * max_cpu as i64).max(1));
        if min_iops > max_iops || min_iops <= 0 {
            return Err(CatalogError::InvalidArgument(
                "MIN_IOPS must be greater than 0 and at most MAX_IOPS".into(),
            ));
        }
        let iops_weight = spec.iops_weight.unwrap_or(max_cpu.ceil() as i64);
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM resource_units WHERE name = ?1)",
            [name],
            |r| r.get(0),
        )?;
        if exists {
            return Err(CatalogError::UnitExists(name.to_string()));
        }
        let id = next_id(&tx, "unit")?;
        let now = now_timestamp();
        tx.execute(
            "INSERT INTO resource_units VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
            params![
                id,
                name,
                max_cpu,
                min_cpu,
                memory_size,
                log_disk_size,
                max_iops,
                min_iops,
                iops_weight,
                now
            ],
        )?;
        let unit = tx.query_row(
            "SELECT * FROM resource_units WHERE unit_config_id = ?1",
            [id],
            UnitConfig::from_row,
        )?;
        tx.commit()?;
        Ok(unit)
    }

    /// Drops a unit config that no pool uses.
    pub fn drop_unit_config(&self, name: &str) -> Result<()> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let id: i64 = tx
            .query_row(
                "SELECT unit_config_id FROM resource_units WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| CatalogError::UnitNotExist(name.to_string()))?;
        let used: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM resource_pools WHERE unit_config_id = ?1)",
            [id],
            |r| r.get(0),
        )?;
        if used {
            return Err(CatalogError::UnitInUse(name.to_string()));
        }
        tx.execute("DELETE FROM resource_units WHERE unit_config_id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    /// Every resource pool, by id.
    pub fn resource_pools(&self) -> Result<Vec<ResourcePool>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare("SELECT * FROM resource_pools ORDER BY resource_pool_id")?;
        let rows = stmt.query_map([], ResourcePool::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The pool of that name, if any.
    pub fn resource_pool(&self, name: &str) -> Result<Option<ResourcePool>> {
        let conn = self.conn.lock();
        Ok(conn
            .query_row(
                "SELECT * FROM resource_pools WHERE name = ?1",
                [name],
                ResourcePool::from_row,
            )
            .optional()?)
    }

    /// Creates a pool of `unit_num` units of config `unit`.
    pub fn create_resource_pool(
        &self,
        name: &str,
        unit: &str,
        unit_num: i64,
        zone_list: &[String],
    ) -> Result<ResourcePool> {
        if !tenantry_storage::is_valid_name(name) {
            return Err(CatalogError::InvalidName(name.to_string()));
        }
        if unit_num < 1 {
            return Err(CatalogError::InvalidArgument(
                "UNIT_NUM must be at least 1".into(),
            ));
        }
        let zones = if zone_list.is_empty() {
            "zone1".to_string()
        } else {
            zone_list.join(";")
        };
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM resource_pools WHERE name = ?1)",
            [name],
            |r| r.get(0),
        )?;
        if exists {
            return Err(CatalogError::PoolExists(name.to_string()));
        }
        let unit_id: i64 = tx
            .query_row(
                "SELECT unit_config_id FROM resource_units WHERE name = ?1",
                [unit],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| CatalogError::UnitNotExist(unit.to_string()))?;
        let id = next_id(&tx, "pool")?;
        let now = now_timestamp();
        tx.execute(
            "INSERT INTO resource_pools (resource_pool_id, name, unit_count, unit_config_id, zone_list, replica_type, tenant_id, create_time, modify_time) VALUES (?1, ?2, ?3, ?4, ?5, 'FULL', NULL, ?6, ?6)",
            params![id, name, unit_num, unit_id, zones, now],
        )?;
        let pool = tx.query_row(
            "SELECT * FROM resource_pools WHERE resource_pool_id = ?1",
            [id],
            ResourcePool::from_row,
        )?;
        tx.commit()?;
        Ok(pool)
    }

    /// Drops a pool that serves no tenant.
    pub fn drop_resource_pool(&self, name: &str) -> Result<()> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let owner: Option<i64> = tx
            .query_row(
                "SELECT tenant_id FROM resource_pools WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| CatalogError::PoolNotExist(name.to_string()))?;
        if owner.is_some() {
            return Err(CatalogError::PoolInUse(name.to_string()));
        }
        tx.execute("DELETE FROM resource_pools WHERE name = ?1", [name])?;
        tx.commit()?;
        Ok(())
    }
}
