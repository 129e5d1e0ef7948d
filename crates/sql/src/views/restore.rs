//! OceanBase's restore views over RESTORE jobs that build a tenant (sys only): `DBA_OB_RESTORE_PROGRESS`
//! (running, with live FINISH_BYTES) and `DBA_OB_RESTORE_HISTORY` (finished).

use tenantry_kinds::restore::{RestorePayload, RestoreTarget, RESTORE};

use super::{typed_jobs, Finished, TypedJob, ViewDef, Visibility};
use crate::error::Result;
use crate::exec::jobs::timestamp;
use crate::exec::restore::restore_status;
use crate::session::Session;
use crate::value::Value;

macro_rules! restore_columns {
    ($($finish:expr),*) => {
        &[
            ("TENANT_ID", "BIGINT"),
            ("JOB_ID", "BIGINT"),
            ("RESTORE_TENANT_NAME", "VARCHAR(65536)"),
            ("RESTORE_TENANT_ID", "BIGINT"),
            ("BACKUP_TENANT_NAME", "VARCHAR(65536)"),
            ("BACKUP_TENANT_ID", "BIGINT"),
            ("BACKUP_CLUSTER_NAME", "VARCHAR(65536)"),
            ("BACKUP_DEST", "VARCHAR(65536)"),
            ("RESTORE_OPTION", "VARCHAR(65536)"),
            ("RESTORE_SCN", "BIGINT"),
            ("RESTORE_SCN_DISPLAY", "VARCHAR(65536)"),
            ("STATUS", "VARCHAR(65536)"),
            ("START_TIMESTAMP", "VARCHAR(65536)"),
            $($finish,)*
            ("BACKUP_SET_LIST", "VARCHAR(65536)"),
            ("BACKUP_PIECE_LIST", "VARCHAR(65536)"),
            ("TOTAL_BYTES", "BIGINT"),
            ("TOTAL_BYTES_DISPLAY", "VARCHAR(65536)"),
            ("FINISH_BYTES", "BIGINT"),
            ("FINISH_BYTES_DISPLAY", "VARCHAR(65536)"),
            ("DESCRIPTION", "VARCHAR(65536)"),
            ("COMMENT", "VARCHAR(65536)"),
        ]
    };
}

pub(super) static VIEWS: [ViewDef; 2] = [
    ViewDef {
        schema: "oceanbase",
        name: "DBA_OB_RESTORE_PROGRESS",
        columns: restore_columns!(),
        visibility: Visibility::SysOnly,
        narrowed: None,
        rows: progress,
    },
    ViewDef {
        schema: "oceanbase",
        name: "DBA_OB_RESTORE_HISTORY",
        columns: restore_columns!(("FINISH_TIMESTAMP", "VARCHAR(65536)")),
        visibility: Visibility::SysOnly,
        narrowed: None,
        rows: history,
    },
];

/// Bytes as OceanBase's *_DISPLAY columns show them.
fn display_bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.2}{}", UNITS[unit])
}

fn row(j: &TypedJob<RestorePayload>, finished: bool) -> Option<Vec<Value>> {
    let RestoreTarget::Tenant { name, pool } = &j.payload.target else {
        return None;
    };
    let rec = &j.rec;
    let restore_tenant_id = j.detail("restore_tenant_id");
    let total = j.payload.total_bytes as i64;
    let done = if rec.state == tenantry_jobs::JobState::Succeeded {
        total
    } else {
        j.detail("finish_bytes")
    };
    let scn = j.payload.cut_time_us * 1000;
    let mut row = vec![
        Value::Int(restore_tenant_id),
        Value::Int(rec.job_id),
        Value::from(name.as_str()),
        Value::Int(restore_tenant_id),
        Value::from(j.payload.source_tenant_name.as_str()),
        Value::Int(j.payload.source_tenant_id),
        Value::from("tenantry"),
        Value::from(tenantry_backup::display_uri(&j.payload.dest)),
        Value::Text(format!("pool_list={pool}")),
        Value::Int(scn),
        Value::Text(timestamp(j.payload.cut_time_us)),
        Value::Text(restore_status(rec)),
        Value::Text(timestamp(rec.created)),
    ];
    if finished {
        row.push(Value::from(rec.finished.map(timestamp)));
    }
    let comment = match rec.state {
        tenantry_jobs::JobState::Canceled => {
            "restore canceled by user; the tenant was dropped".to_string()
        }
        tenantry_jobs::JobState::Failed => rec.error_message.clone().unwrap_or_default(),
        _ => String::new(),
    };
    row.extend([
        Value::Text(tenantry_backup::display_under(
            &j.payload.dest,
            &tenantry_backup::set_dir(j.payload.source_tenant_id, j.payload.set_id),
        )),
        Value::from(""),
        Value::Int(total),
        Value::Text(display_bytes(total)),
        Value::Int(done),
        Value::Text(display_bytes(done)),
        Value::from(j.payload.description.as_str()),
        Value::Text(comment),
    ]);
    Some(row)
}

fn rows(session: &Session, finished: bool) -> Result<Vec<Vec<Value>>> {
    let which = if finished {
        Finished::Yes
    } else {
        Finished::No
    };
    Ok(typed_jobs::<RestorePayload>(session, RESTORE, None, which)?
        .iter()
        .filter_map(|j| row(j, finished))
        .collect())
}

fn progress(session: &Session) -> Result<Vec<Vec<Value>>> {
    rows(session, false)
}

fn history(session: &Session) -> Result<Vec<Vec<Value>>> {
    rows(session, true)
}
