//! OceanBase's backup cleanup views: `DBA_OB_BACKUP_DELETE_JOBS` / `_JOB_HISTORY` over `BACKUP CLEANUP` jobs
//! (`CDB_` variants for sys, TENANT_ID first), and `DBA_OB_BACKUP_DELETE_POLICY` / `CDB_OB_BACKUP_DELETE_POLICY`.

use tenantry_kinds::backup_cleanup::{CleanupPayload, BACKUP_CLEANUP};

use super::backup::{ob_status, result_code};
use super::{typed_jobs, Finished, ViewDef, Visibility};
use crate::error::Result;
use crate::exec::jobs::timestamp;
use crate::session::Session;
use crate::value::Value;

/// The delete job views' columns; the CDB views put TENANT_ID first.
macro_rules! delete_job_columns {
    ($($first:expr),*) => {
        &[
            $($first,)*
            ("JOB_ID", "BIGINT"),
            ("INCARNATION", "BIGINT"),
            ("INITIATOR_TENANT_ID", "BIGINT"),
            ("INITIATOR_JOB_ID", "BIGINT"),
            ("EXECUTOR_TENANT_ID", "VARCHAR(4096)"),
            ("TYPE", "VARCHAR(4096)"),
            ("PARAMETER", "VARCHAR(4096)"),
            ("JOB_LEVEL", "VARCHAR(4096)"),
            ("START_TIMESTAMP", "TIMESTAMPTZ"),
            ("END_TIMESTAMP", "TIMESTAMPTZ"),
            ("STATUS", "VARCHAR(4096)"),
            ("TASK_COUNT", "BIGINT"),
            ("SUCCESS_TASK_COUNT", "BIGINT"),
            ("RESULT", "BIGINT"),
            ("COMMENT", "VARCHAR(4096)"),
        ]
    };
}

const JOB_COLUMNS: &[(&str, &str)] = delete_job_columns!();
const CDB_JOB_COLUMNS: &[(&str, &str)] = delete_job_columns!(("TENANT_ID", "BIGINT"));

pub(super) static VIEWS: [ViewDef; 6] = [
    ViewDef {
        schema: "oceanbase",
        name: "DBA_OB_BACKUP_DELETE_JOBS",
        columns: JOB_COLUMNS,
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: dba_jobs,
    },
    ViewDef {
        schema: "oceanbase",
        name: "DBA_OB_BACKUP_DELETE_JOB_HISTORY",
        columns: JOB_COLUMNS,
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: dba_history,
    },
    ViewDef {
        schema: "oceanbase",
        name: "CDB_OB_BACKUP_DELETE_JOBS",
        columns: CDB_JOB_COLUMNS,
        visibility: Visibility::SysOnly,
        narrowed: None,
        rows: cdb_jobs,
    },
    ViewDef {
        schema: "oceanbase",
        name: "CDB_OB_BACKUP_DELETE_JOB_HISTORY",
        columns: CDB_JOB_COLUMNS,
        visibility: Visibility::SysOnly,
        narrowed: None,
        rows: cdb_history,
    },
    ViewDef {
        schema: "oceanbase",
        name: "DBA_OB_BACKUP_DELETE_POLICY",
        columns: &[
            ("POLICY_NAME", "VARCHAR(4096)"),
            ("RECOVERY_WINDOW", "VARCHAR(4096)"),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: dba_policy,
    },
    ViewDef {
        schema: "oceanbase",
        name: "CDB_OB_BACKUP_DELETE_POLICY",
        columns: &[
            ("TENANT_ID", "BIGINT"),
            ("POLICY_NAME", "VARCHAR(4096)"),
            ("RECOVERY_WINDOW", "VARCHAR(4096)"),
        ],
        visibility: Visibility::SysOnly,
        narrowed: None,
        rows: cdb_policy,
    },
];

fn rows(session: &Session, every_tenant: bool, finished: bool) -> Result<Vec<Vec<Value>>> {
    let tenant = (!every_tenant).then_some(session.identity.tenant.tenant_id);
    let mut out = Vec::new();
    let which = if finished {
        Finished::Yes
    } else {
        Finished::No
    };
    for job in typed_jobs::<CleanupPayload>(session, BACKUP_CLEANUP, tenant, which)? {
        let (rec, p) = (&job.rec, &job.payload);
        let detail = |key: &str| job.detail(key);
        let mut row = Vec::new();
        if every_tenant {
            row.push(Value::Int(rec.tenant_id));
        }
        row.extend([
            Value::Int(rec.job_id),
            Value::Int(1),
            Value::Int(rec.tenant_id),
            Value::Int(0),
            Value::Text(rec.tenant_id.to_string()),
            Value::from(p.cleanup_type.as_str()),
            Value::Text(p.parameter()),
            Value::from("USER_TENANT"),
            Value::Text(timestamp(rec.created)),
            Value::from(rec.finished.map(timestamp)),
            Value::from(ob_status(rec.state)),
            Value::Int(detail("task_count")),
            Value::Int(detail("success_task_count")),
            Value::Int(result_code(rec)),
            Value::Text(
                rec.error_message
                    .clone()
                    .filter(|_| rec.state == tenantry_jobs::JobState::Failed)
                    .unwrap_or_default(),
            ),
        ]);
        out.push(row);
    }
    Ok(out)
}

fn dba_jobs(session: &Session) -> Result<Vec<Vec<Value>>> {
    rows(session, false, false)
}

fn dba_history(session: &Session) -> Result<Vec<Vec<Value>>> {
    rows(session, false, true)
}

fn cdb_jobs(session: &Session) -> Result<Vec<Vec<Value>>> {
    rows(session, true, false)
}

fn cdb_history(session: &Session) -> Result<Vec<Vec<Value>>> {
    rows(session, true, true)
}

fn dba_policy(session: &Session) -> Result<Vec<Vec<Value>>> {
    Ok(session
        .engine
        .catalog()
        .delete_policy(session.identity.tenant.tenant_id)?
        .into_iter()
        .map(|p| vec![Value::Text(p.policy_name), Value::Text(p.recovery_window)])
        .collect())
}

fn cdb_policy(session: &Session) -> Result<Vec<Vec<Value>>> {
    Ok(session
        .engine
        .catalog()
        .delete_policies()?
        .into_iter()
        .map(|p| {
            vec![
                Value::Int(p.tenant_id),
                Value::Text(p.policy_name),
                Value::Text(p.recovery_window),
            ]
        })
        .collect())
}
