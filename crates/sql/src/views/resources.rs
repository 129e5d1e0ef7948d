//! `DBA_OB_RESOURCE_POOLS` and `DBA_OB_UNIT_CONFIGS` (sys tenant only).

use super::{ViewDef, Visibility};
use crate::error::Result;
use crate::session::Session;
use crate::value::Value;

pub(super) static VIEWS: [ViewDef; 2] = [
    ViewDef {
        schema: "oceanbase",
        name: "DBA_OB_RESOURCE_POOLS",
        columns: &[
            ("RESOURCE_POOL_ID", "BIGINT"),
            ("NAME", "VARCHAR(128)"),
            ("TENANT_ID", "BIGINT"),
            ("CREATE_TIME", "TIMESTAMPTZ"),
            ("MODIFY_TIME", "TIMESTAMPTZ"),
            ("UNIT_COUNT", "BIGINT"),
            ("UNIT_CONFIG_ID", "BIGINT"),
            ("ZONE_LIST", "VARCHAR(8192)"),
            ("REPLICA_TYPE", "VARCHAR(4)"),
        ],
        visibility: Visibility::SysOnly,
        narrowed: None,
        rows: pools,
    },
    ViewDef {
        schema: "oceanbase",
        name: "DBA_OB_UNIT_CONFIGS",
        columns: &[
            ("UNIT_CONFIG_ID", "BIGINT"),
            ("NAME", "VARCHAR(128)"),
            ("CREATE_TIME", "TIMESTAMPTZ"),
            ("MODIFY_TIME", "TIMESTAMPTZ"),
            ("MAX_CPU", "DOUBLE"),
            ("MIN_CPU", "DOUBLE"),
            ("MEMORY_SIZE", "BIGINT"),
            ("LOG_DISK_SIZE", "BIGINT"),
            ("DATA_DISK_SIZE", "BIGINT"),
            ("MAX_IOPS", "BIGINT"),
            ("MIN_IOPS", "BIGINT"),
            ("IOPS_WEIGHT", "BIGINT"),
            ("MAX_NET_BANDWIDTH", "BIGINT"),
            ("NET_BANDWIDTH_WEIGHT", "BIGINT"),
        ],
        visibility: Visibility::SysOnly,
        narrowed: None,
        rows: units,
    },
];

fn pools(session: &Session) -> Result<Vec<Vec<Value>>> {
    Ok(session
        .engine
        .catalog()
        .resource_pools()?
        .into_iter()
        .map(|p| {
            vec![
                Value::Int(p.resource_pool_id),
                Value::Text(p.name),
                Value::from(p.tenant_id),
                Value::Text(p.create_time),
                Value::Text(p.modify_time),
                Value::Int(p.unit_count),
                Value::Int(p.unit_config_id),
                Value::Text(p.zone_list),
                Value::Text(p.replica_type),
            ]
        })
        .collect())
}

fn units(session: &Session) -> Result<Vec<Vec<Value>>> {
    Ok(session
        .engine
        .catalog()
        .unit_configs()?
        .into_iter()
        .map(|u| {
            vec![
                Value::Int(u.unit_config_id),
                Value::Text(u.name),
                Value::Text(u.create_time),
                Value::Text(u.modify_time),
                Value::Float(u.max_cpu),
                Value::Float(u.min_cpu),
                Value::Int(u.memory_size),
                Value::Int(u.log_disk_size),
                Value::Null,
                Value::Int(u.max_iops),
                Value::Int(u.min_iops),
                Value::Int(u.iops_weight),
                Value::Int(i64::MAX),
                Value::Int(u.iops_weight),
            ]
        })
        .collect())
}
