//! Resource units, resource pools and tenants (root@sys only).

use tenantry_catalog::{CatalogError, CompatibilityMode};

use crate::error::{Result, SqlError};
use crate::parser::Command;
use crate::session::Session;
use crate::value::Output;

/// Runs a cluster statement.
pub fn run(session: &mut Session, cmd: Command) -> Result<Output> {
    session.require_cluster_admin()?;
    let catalog = session.engine.catalog();
    match cmd {
        Command::CreateResourceUnit {
            name,
            spec,
            if_not_exists,
        } => match catalog.create_unit_config(&name, &spec) {
            Err(CatalogError::UnitExists(_)) if if_not_exists => Ok(Output::ok()),
            r => r.map(|_| Output::ok()).map_err(Into::into),
        },
        Command::DropResourceUnit { name, if_exists } => match catalog.drop_unit_config(&name) {
            Err(CatalogError::UnitNotExist(_)) if if_exists => Ok(Output::ok()),
            r => r.map(|_| Output::ok()).map_err(Into::into),
        },
        Command::CreateResourcePool {
            name,
            unit,
            unit_num,
            zone_list,
            if_not_exists,
        } => match catalog.create_resource_pool(&name, &unit, unit_num, &zone_list) {
            Err(CatalogError::PoolExists(_)) if if_not_exists => Ok(Output::ok()),
            r => r.map(|_| Output::ok()).map_err(Into::into),
        },
        Command::DropResourcePool { name, if_exists } => match catalog.drop_resource_pool(&name) {
            Err(CatalogError::PoolNotExist(_)) if if_exists => Ok(Output::ok()),
            r => r.map(|_| Output::ok()).map_err(Into::into),
        },
        Command::CreateTenant {
            name,
            pools,
            mode,
            if_not_exists,
        } => {
            let mode =
                CompatibilityMode::parse(&mode).ok_or_else(|| SqlError::WrongVariableValue {
                    name: "ob_compatibility_mode".into(),
                    value: mode.clone(),
                })?;
            let pool = match pools.as_slice() {
                [pool] => pool,
                [] => {
                    return Err(SqlError::Catalog(CatalogError::InvalidArgument(
                        "resource pool list is empty".into(),
                    )))
                }
                _ => {
                    return Err(SqlError::Unsupported(
                        "a tenant with more than one resource pool".into(),
                    ))
                }
            };
            match catalog.create_tenant(&name, mode, pool) {
                Err(CatalogError::TenantExists(_)) if if_not_exists => Ok(Output::ok()),
                Ok(t) => {
                    tracing::info!(tenant = %t.tenant_name, tenant_id = t.tenant_id, "tenant created");
                    Ok(Output::ok())
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::DropTenant { name, if_exists } => {
            let tenant = match catalog.tenant_by_name(&name)? {
                Some(t) => t,
                None if if_exists => return Ok(Output::ok()),
                None => return Err(CatalogError::TenantNotExist(name).into()),
            };
            if tenant.is_sys() {
                return Err(CatalogError::SysTenant("drop sys tenant not allowed").into());
            }
            // Sessions go first so that no statement writes into files about to be removed.
            session.engine.kill_tenant_sessions(tenant.tenant_id);
            catalog.drop_tenant(&name)?;
            tracing::info!(tenant = %name, "tenant dropped");
            Ok(Output::ok())
        }
        other => Err(SqlError::Internal(format!(
            "not a cluster statement: {other:?}"
        ))),
    }
}
