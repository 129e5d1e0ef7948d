//! `DBA_OB_TENANTS`.

use super::{ViewDef, Visibility};
use crate::error::Result;
use crate::session::Session;
use crate::value::Value;

pub(super) static VIEWS: [ViewDef; 1] = [ViewDef {
    schema: "oceanbase",
    name: "DBA_OB_TENANTS",
    columns: &[
        ("TENANT_ID", "BIGINT"),
        ("TENANT_NAME", "VARCHAR(128)"),
        ("TENANT_TYPE", "VARCHAR(4)"),
        ("CREATE_TIME", "TIMESTAMPTZ"),
        ("MODIFY_TIME", "TIMESTAMPTZ"),
        ("PRIMARY_ZONE", "VARCHAR(128)"),
        ("LOCALITY", "VARCHAR(4096)"),
        ("PREVIOUS_LOCALITY", "VARCHAR(4096)"),
        ("COMPATIBILITY_MODE", "VARCHAR(6)"),
        ("STATUS", "VARCHAR(64)"),
        ("IN_RECYCLEBIN", "VARCHAR(3)"),
        ("LOCKED", "VARCHAR(3)"),
        ("TENANT_ROLE", "VARCHAR(100)"),
        ("SWITCHOVER_STATUS", "VARCHAR(100)"),
        ("SWITCHOVER_EPOCH", "BIGINT"),
        ("SYNC_SCN", "BIGINT"),
        ("REPLAYABLE_SCN", "BIGINT"),
        ("READABLE_SCN", "BIGINT"),
        ("RECOVERY_UNTIL_SCN", "BIGINT"),
        ("LOG_MODE", "VARCHAR(100)"),
        ("ARBITRATION_SERVICE_STATUS", "VARCHAR(64)"),
        ("UNIT_NUM", "BIGINT"),
        ("COMPATIBLE", "VARCHAR(64)"),
        ("MAX_LS_ID", "BIGINT"),
        ("RESTORE_DATA_MODE", "VARCHAR(128)"),
    ],
    visibility: Visibility::AllTenants,
    narrowed: None,
    rows: tenants,
}];

fn tenants(session: &Session) -> Result<Vec<Vec<Value>>> {
    let catalog = session.engine.catalog();
    let pools = catalog.resource_pools()?;
    let mut rows = Vec::new();
    for t in catalog.tenants()? {
        // A user tenant sees only itself.
        if !session.identity.tenant.is_sys() && t.tenant_id != session.identity.tenant.tenant_id {
            continue;
        }
        let unit_num = pools
            .iter()
            .find(|p| p.tenant_id == Some(t.tenant_id))
            .map_or(0, |p| p.unit_count);
        rows.push(vec![
            Value::Int(t.tenant_id),
            Value::from(t.tenant_name.as_str()),
            Value::from(if t.is_sys() { "SYS" } else { "USER" }),
            Value::from(t.create_time.as_str()),
            Value::from(t.modify_time.as_str()),
            Value::from(t.primary_zone.as_str()),
            Value::from(t.locality.as_str()),
            Value::Null,
            Value::from(t.compatibility_mode.as_str()),
            Value::from(t.status.as_str()),
            Value::from("NO"),
            Value::from("NO"),
            Value::from("PRIMARY"),
            Value::from("NORMAL"),
            Value::Int(0),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::from("NOARCHIVELOG"),
            Value::from("DISABLED"),
            Value::Int(unit_num),
            Value::from("4.3.5.0"),
            Value::Int(1),
            Value::from("NORMAL"),
        ]);
    }
    Ok(rows)
}
