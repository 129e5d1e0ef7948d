//! OceanBase's clone and snapshot views: `DBA_OB_CLONE_PROGRESS` / `DBA_OB_CLONE_HISTORY` over CLONE jobs
//! (sys only, the reference's columns in its order) and `DBA_OB_TENANT_SNAPSHOTS` / `CDB_OB_TENANT_SNAPSHOTS`.

use tenantry_jobs::JobState;
use tenantry_kinds::clone::{ClonePayload, CLONE};

use super::{typed_jobs, Finished, TypedJob, ViewDef, Visibility};
use crate::error::Result;
use crate::exec::clone::clone_error_message;
use crate::exec::jobs::timestamp;
use crate::session::Session;
use crate::value::Value;
use tenantry_jobs::ob_codes;

const CLONE_COLUMNS: &[(&str, &str)] = &[
    ("CLONE_JOB_ID", "BIGINT"),
    ("TRACE_ID", "VARCHAR(64)"),
    ("SOURCE_TENANT_ID", "BIGINT"),
    ("SOURCE_TENANT_NAME", "VARCHAR(128)"),
    ("CLONE_TENANT_ID", "BIGINT"),
    ("CLONE_TENANT_NAME", "VARCHAR(128)"),
    ("TENANT_SNAPSHOT_ID", "BIGINT"),
    ("TENANT_SNAPSHOT_NAME", "VARCHAR(128)"),
    ("RESOURCE_POOL_ID", "BIGINT"),
    ("RESOURCE_POOL_NAME", "VARCHAR(128)"),
    ("UNIT_CONFIG_NAME", "VARCHAR(128)"),
    // Text: OceanBase shows an unset SCN as 18446744073709551615, which no signed 64-bit integer holds.
    ("RESTORE_SCN", "TEXT"),
    ("STATUS", "VARCHAR(64)"),
    ("CLONE_JOB_TYPE", "VARCHAR(16)"),
    ("CLONE_START_TIME", "VARCHAR(32)"),
    ("CLONE_FINISHED_TIME", "VARCHAR(32)"),
    ("RET_CODE", "BIGINT"),
    ("ERROR_MESSAGE", "VARCHAR(512)"),
];

const SNAPSHOT_COLUMNS: &[(&str, &str)] = &[
    ("SNAPSHOT_ID", "BIGINT"),
    ("SNAPSHOT_NAME", "VARCHAR(128)"),
    ("STATUS", "VARCHAR(32)"),
    ("SNAPSHOT_SCN", "BIGINT"),
    ("CLOG_START_SCN", "BIGINT"),
    ("TYPE", "VARCHAR(16)"),
    ("CREATE_TIME", "VARCHAR(32)"),
    ("DATA_VERSION", "VARCHAR(32)"),
    ("OWNER_JOB_ID", "BIGINT"),
];

const CDB_SNAPSHOT_COLUMNS: &[(&str, &str)] = &[
    ("TENANT_ID", "BIGINT"),
    ("SNAPSHOT_ID", "BIGINT"),
    ("SNAPSHOT_NAME", "VARCHAR(128)"),
    ("STATUS", "VARCHAR(32)"),
    ("SNAPSHOT_SCN", "BIGINT"),
    ("CLOG_START_SCN", "BIGINT"),
    ("TYPE", "VARCHAR(16)"),
    ("CREATE_TIME", "VARCHAR(32)"),
    ("DATA_VERSION", "VARCHAR(32)"),
    ("OWNER_JOB_ID", "BIGINT"),
];

pub(super) static VIEWS: [ViewDef; 4] = [
    ViewDef {
        schema: "oceanbase",
        name: "DBA_OB_CLONE_PROGRESS",
        columns: CLONE_COLUMNS,
        visibility: Visibility::SysOnly,
        narrowed: None,
        rows: progress,
    },
    ViewDef {
        schema: "oceanbase",
        name: "DBA_OB_CLONE_HISTORY",
        columns: CLONE_COLUMNS,
        visibility: Visibility::SysOnly,
        narrowed: None,
        rows: history,
    },
    ViewDef {
        schema: "oceanbase",
        name: "DBA_OB_TENANT_SNAPSHOTS",
        columns: SNAPSHOT_COLUMNS,
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: dba_snapshots,
    },
    ViewDef {
        schema: "oceanbase",
        name: "CDB_OB_TENANT_SNAPSHOTS",
        columns: CDB_SNAPSHOT_COLUMNS,
        visibility: Visibility::SysOnly,
        narrowed: None,
        rows: cdb_snapshots,
    },
];

/// The status a clone shows: its current step while it runs, CANCELING while it is undone (a failed step
/// shows `<step>_FAIL`), CLONE_SYS_SUCCESS or CLONE_SYS_CANCELED once over.
fn clone_status(rec: &tenantry_jobs::JobRecord) -> String {
    match rec.state {
        JobState::Succeeded => "CLONE_SYS_SUCCESS".into(),
        JobState::Canceled | JobState::Failed => "CLONE_SYS_CANCELED".into(),
        JobState::Reverting if rec.revert_to == Some(JobState::Failed) => {
            format!("{}_FAIL", rec.phase)
        }
        JobState::CancelRequested | JobState::Reverting => "CLONE_SYS_CANCELING".into(),
        _ if rec.phase.is_empty() => "CLONE_SYS_LOCK".into(),
        _ => rec.phase.clone(),
    }
}

fn row(j: &TypedJob<ClonePayload>) -> Vec<Value> {
    let rec = &j.rec;
    let p = &j.payload;
    let text = |key: &str| {
        j.progress
            .details
            .get(key)
            .and_then(|v| v.as_str())
            .map(|s| Value::Text(s.to_string()))
            .unwrap_or(Value::Null)
    };
    let snapshot_id = j
        .progress
        .details
        .get("snapshot_id")
        .and_then(|v| v.as_i64())
        .or(p.snapshot_id)
        .unwrap_or(0);
    let snapshot_name = match text("snapshot_name") {
        Value::Null => Value::from(p.snapshot_name.clone()),
        v => v,
    };
    let restore_scn = j
        .progress
        .details
        .get("restore_scn")
        .and_then(|v| v.as_i64())
        .map(|v| v.to_string())
        .unwrap_or_else(|| u64::MAX.to_string());
    let (ret_code, message) = match rec.state {
        JobState::Succeeded => (Value::Int(0), Value::Null),
        JobState::Canceled => (
            Value::Int(ob_codes::CANCELED),
            Value::Text(clone_error_message(rec)),
        ),
        JobState::Failed => (
            Value::Int(rec.error_code.unwrap_or(ob_codes::ERR_CLONE_TENANT)),
            Value::Text(clone_error_message(rec)),
        ),
        _ => (Value::Null, Value::Null),
    };
    vec![
        Value::Int(rec.job_id),
        Value::Text(rec.trace_id.clone()),
        Value::Int(p.source_tenant_id),
        Value::from(p.source_tenant_name.as_str()),
        Value::Int(j.detail("clone_tenant_id")),
        Value::from(p.clone_tenant_name.as_str()),
        Value::Int(snapshot_id),
        snapshot_name,
        Value::Int(j.detail("resource_pool_id")),
        Value::from(p.pool_name.as_str()),
        Value::from(p.unit_config.as_str()),
        Value::Text(restore_scn),
        Value::Text(clone_status(rec)),
        Value::from(p.clone_type.as_str()),
        Value::Text(timestamp(rec.created)),
        Value::from(rec.finished.map(timestamp)),
        ret_code,
        message,
    ]
}

fn rows(session: &Session, finished: bool) -> Result<Vec<Vec<Value>>> {
    let which = if finished {
        Finished::Yes
    } else {
        Finished::No
    };
    Ok(typed_jobs::<ClonePayload>(session, CLONE, None, which)?
        .iter()
        .map(row)
        .collect())
}

fn progress(session: &Session) -> Result<Vec<Vec<Value>>> {
    rows(session, false)
}

fn history(session: &Session) -> Result<Vec<Vec<Value>>> {
    rows(session, true)
}

fn snapshot_rows(session: &Session, with_tenant: bool) -> Result<Vec<Vec<Value>>> {
    let tenant = &session.identity.tenant;
    // sys administers every tenant's snapshots; a tenant sees its own.
    let scope = if tenant.is_sys() {
        None
    } else {
        Some(tenant.tenant_id)
    };
    Ok(session
        .engine
        .catalog()
        .snapshots(scope)?
        .into_iter()
        .map(|s| {
            let mut row = Vec::new();
            if with_tenant {
                row.push(Value::Int(s.tenant_id));
            }
            row.extend([
                Value::Int(s.snapshot_id),
                Value::Text(s.name),
                Value::from(s.status.as_str()),
                Value::from(s.snapshot_scn),
                Value::from(s.snapshot_scn),
                Value::Text(s.snapshot_type),
                Value::Text(s.create_time),
                Value::from("4.3.0.0"),
                Value::from(s.owner_job_id),
            ]);
            row
        })
        .collect())
}

fn dba_snapshots(session: &Session) -> Result<Vec<Vec<Value>>> {
    snapshot_rows(session, false)
}

fn cdb_snapshots(session: &Session) -> Result<Vec<Vec<Value>>> {
    snapshot_rows(session, true)
}
