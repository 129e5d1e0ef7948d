//! Parameters (OceanBase's `ALTER SYSTEM SET`, CockroachDB's `SET CLUSTER SETTING`): their definitions,
//! value checks and storage. Cluster parameters are stored under tenant id 0.

use std::time::Duration;

use rusqlite::{params, OptionalExtension};

use crate::time::now_timestamp;
use crate::{Catalog, CatalogError, Result};

/// Whether a parameter is set once for the cluster or per tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One value for the whole cluster; only root@sys sets it.
    Cluster,
    /// One value per tenant; a tenant's admin sets its own, root@sys any tenant's.
    Tenant,
}

impl Scope {
    /// The name SHOW PARAMETERS shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cluster => "CLUSTER",
            Self::Tenant => "TENANT",
        }
    }
}

/// The definition of one parameter.
#[derive(Debug)]
pub struct ParameterDef {
    /// Lower-case name.
    pub name: &'static str,
    /// Cluster or tenant.
    pub scope: Scope,
    /// OceanBase's data type name (CAPACITY, TIME, STRING, INT).
    pub data_type: &'static str,
    /// The value when none was set.
    pub default: &'static str,
    /// One-line description.
    pub info: &'static str,
    /// OceanBase's section name.
    pub section: &'static str,
    /// Checks a value, returning it normalised for storage.
    pub check: fn(&str) -> std::result::Result<String, String>,
}

/// Every parameter the server knows.
pub static PARAMETERS: &[ParameterDef] = &[
    ParameterDef {
        name: "bulk_io_max_rate",
        scope: Scope::Cluster,
        data_type: "CAPACITY",
        default: "0",
        info: "the most bytes per second one bulk job (backup, restore, clone, import) reads or writes; 0 means unlimited",
        section: "OBSERVER",
        check: check_capacity,
    },
    ParameterDef {
        name: "jobs_retention",
        scope: Scope::Cluster,
        data_type: "TIME",
        default: "14d",
        info: "how long finished jobs stay visible (SHOW JOBS, the job views) before they are removed",
        section: "ROOT_SERVICE",
        check: check_duration,
    },
    ParameterDef {
        name: "job_max_concurrency",
        scope: Scope::Cluster,
        data_type: "INT",
        default: "8",
        info: "how many jobs may run their work at once; more wait as pending",
        section: "ROOT_SERVICE",
        check: check_concurrency,
    },
    ParameterDef {
        name: "max_connections",
        scope: Scope::Cluster,
        data_type: "INT",
        default: "1000",
        info: "the most sessions the server holds at once (every tenant, both wires and console logins); root@sys may open one more",
        section: "OBSERVER",
        check: check_connection_count,
    },
    ParameterDef {
        name: "max_tenant_connections",
        scope: Scope::Cluster,
        data_type: "INT",
        default: "250",
        info: "the most sessions one tenant holds at once, so that no tenant can take every connection; 0 means only max_connections applies",
        section: "OBSERVER",
        check: check_tenant_connection_count,
    },
    ParameterDef {
        name: "ob_sql_work_area_percentage",
        scope: Scope::Tenant,
        data_type: "INT",
        default: "5",
        info: "the share of the tenant's memory (its units' MEMORY_SIZE) its running statements may use together; a statement beyond it fails with 4013",
        section: "TENANT",
        check: check_percentage,
    },
    ParameterDef {
        name: "data_backup_dest",
        scope: Scope::Tenant,
        data_type: "STRING",
        default: "",
        info: "where the tenant's data backups go: file:///path or nodelocal://1/path inside the tenant's part of the external-IO directory, or s3://bucket/path?host=...&access_id=...&access_key=... (empty: none)",
        section: "OBSERVER",
        check: check_backup_dest,
    },
];

fn check_backup_dest(v: &str) -> std::result::Result<String, String> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    // Only the form is checked here; where it leads (links, `..`, the tenant's confinement) is the SQL layer's
    // check against the external-IO directory, which also stores the canonical URI.
    // An `s3://` URI's parameters and credentials are checked where it is parsed (the backup store).
    match v.strip_prefix("file://") {
        Some(path) if path.starts_with('/') => Ok(v.to_string()),
        _ if v.starts_with("nodelocal://") => Ok(v.to_string()),
        _ if v.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("s3://")) => Ok(v.to_string()),
        _ => Err("expected file:///path, nodelocal://1/path or s3://bucket/path?...".into()),
    }
}

fn check_duration(v: &str) -> std::result::Result<String, String> {
    parse_duration(v).map(|_| v.trim().to_string())
}

fn check_concurrency(v: &str) -> std::result::Result<String, String> {
    match v.trim().parse::<u32>() {
        Ok(n) if (1..=1024).contains(&n) => Ok(n.to_string()),
        _ => Err("expected an integer from 1 to 1024".into()),
    }
}

fn check_percentage(v: &str) -> std::result::Result<String, String> {
    match v.trim().parse::<u32>() {
        Ok(n) if (1..=100).contains(&n) => Ok(n.to_string()),
        _ => Err("expected an integer from 1 to 100".into()),
    }
}

fn check_connection_count(v: &str) -> std::result::Result<String, String> {
    match v.trim().parse::<u32>() {
        Ok(n) if (1..=100_000).contains(&n) => Ok(n.to_string()),
        _ => Err("expected an integer from 1 to 100000".into()),
    }
}

fn check_tenant_connection_count(v: &str) -> std::result::Result<String, String> {
    match v.trim().parse::<u32>() {
        Ok(n) if n <= 100_000 => Ok(n.to_string()),
        _ => Err("expected an integer from 0 to 100000".into()),
    }
}

/// The definition of a parameter by name, in any case.
pub fn find(name: &str) -> Option<&'static ParameterDef> {
    PARAMETERS
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
}

fn check_capacity(v: &str) -> std::result::Result<String, String> {
    parse_capacity(v).map(|_| v.trim().to_string())
}

/// Parses a capacity such as `0`, `512`, `64K`, `4MB`, `1G` (units of 1024) into bytes.
pub fn parse_capacity(v: &str) -> std::result::Result<u64, String> {
    let s = v.trim();
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if digits_end == 0 {
        return Err("expected a number of bytes, optionally followed by K, M, G or T".into());
    }
    let number: u64 = s[..digits_end]
        .parse()
        .map_err(|_| "number too large".to_string())?;
    let unit = s[digits_end..].trim().to_ascii_uppercase();
    let factor: u64 = match unit.as_str() {
        "" | "B" => 1,
        "K" | "KB" => 1 << 10,
        "M" | "MB" => 1 << 20,
        "G" | "GB" => 1 << 30,
        "T" | "TB" => 1 << 40,
        _ => return Err(format!("unknown unit '{unit}'; use K, M, G or T")),
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| "value too large".to_string())
}

/// Parses a duration such as `14d`, `12h`, `30m`, `10s`, `250ms`.
pub fn parse_duration(v: &str) -> std::result::Result<Duration, String> {
    let s = v.trim().to_ascii_lowercase();
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if digits_end == 0 {
        return Err("expected a number followed by ms, s, m, h or d".into());
    }
    let n: u64 = s[..digits_end]
        .parse()
        .map_err(|_| "number too large".to_string())?;
    let secs = |k: u64| {
        n.checked_mul(k)
            .map(Duration::from_secs)
            .ok_or_else(|| "value too large".to_string())
    };
    match s[digits_end..].trim() {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => secs(1),
        "m" => secs(60),
        "h" => secs(3600),
        "d" => secs(86400),
        other => Err(format!("unknown unit '{other}'; use ms, s, m, h or d")),
    }
}

impl Catalog {
    /// Sets a parameter. `tenant` names the tenant for a tenant parameter; a cluster parameter takes none.
    pub fn set_parameter(&self, name: &str, value: &str, tenant: Option<i64>) -> Result<()> {
        let def = find(name).ok_or_else(|| CatalogError::UnknownParameter(name.to_string()))?;
        let scope_id = match (def.scope, tenant) {
            (Scope::Cluster, None) => 0,
            (Scope::Cluster, Some(_)) => {
                return Err(CatalogError::ParameterScope(format!(
                    "{} is a cluster parameter and cannot be set for a tenant",
                    def.name
                )))
            }
            (Scope::Tenant, Some(t)) => t,
            (Scope::Tenant, None) => {
                return Err(CatalogError::ParameterScope(format!(
                    "{} is a tenant parameter: name the tenant",
                    def.name
                )))
            }
        };
        let value = (def.check)(value).map_err(|reason| CatalogError::InvalidParameterValue {
            name: def.name.to_string(),
            value: value.to_string(),
            reason,
        })?;
        let conn = self.conn.lock();
        conn.execute(
            "INSERT INTO parameters VALUES (?1, ?2, ?3, ?4) ON CONFLICT (tenant_id, name) DO UPDATE SET value = excluded.value, modify_time = excluded.modify_time",
            params![scope_id, def.name, value, now_timestamp()],
        )?;
        Ok(())
    }

    /// The value in force: the one set for the cluster (or the tenant), else the default.
    pub fn parameter(&self, name: &str, tenant: Option<i64>) -> Result<String> {
        let def = find(name).ok_or_else(|| CatalogError::UnknownParameter(name.to_string()))?;
        let scope_id = match def.scope {
            Scope::Cluster => 0,
            Scope::Tenant => tenant.unwrap_or(0),
        };
        let conn = self.conn.lock();
        let value: Option<String> = conn
            .query_row(
                "SELECT value FROM parameters WHERE tenant_id = ?1 AND name = ?2",
                params![scope_id, def.name],
                |r| r.get(0),
            )
            .optional()?;
        Ok(value.unwrap_or_else(|| def.default.to_string()))
    }

    /// `bulk_io_max_rate` in bytes per second; 0 means unlimited.
    pub fn bulk_io_max_rate(&self) -> Result<u64> {
        let v = self.parameter("bulk_io_max_rate", None)?;
        Ok(parse_capacity(&v).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacities() {
        assert_eq!(parse_capacity("0"), Ok(0));
        assert_eq!(parse_capacity("4MB"), Ok(4 << 20));
        assert_eq!(parse_capacity("4m"), Ok(4 << 20));
        assert_eq!(parse_capacity(" 512K "), Ok(512 << 10));
        assert_eq!(parse_capacity("1G"), Ok(1 << 30));
        assert!(parse_capacity("abc").is_err());
        assert!(parse_capacity("4XB").is_err());
        assert!(parse_capacity("-1").is_err());
        assert!(parse_capacity("99999999999999999999").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("14d"), Ok(Duration::from_secs(14 * 86400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("1y").is_err());
    }
}
