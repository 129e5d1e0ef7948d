//! OceanBase's backup views over BACKUP jobs: `DBA_OB_BACKUP_JOBS` / `_JOB_HISTORY` (the tenant's),
//! `CDB_OB_BACKUP_JOBS` / `_JOB_HISTORY` (sys: every tenant, TENANT_ID first), `DBA_OB_BACKUP_TASKS`
//! (live byte counts) and `DBA_OB_BACKUP_SET_FILES`.

use tenantry_jobs::{JobRecord, JobState};
use tenantry_kinds::backup::{BackupPayload, BACKUP};

use super::{typed_jobs, Finished, TypedJob, ViewDef, Visibility};
use crate::error::Result;
use crate::exec::jobs::timestamp;
use crate::session::Session;
use crate::value::Value;
use tenantry_jobs::ob_codes;

/// OceanBase's name for a job state.
pub fn ob_status(state: JobState) -> &'static str {
    match state {
        JobState::Pending => "INIT",
        JobState::Running | JobState::PauseRequested | JobState::Paused => "DOING",
        JobState::CancelRequested | JobState::Reverting => "CANCELING",
        JobState::Succeeded => "COMPLETED",
        JobState::Failed => "FAILED",
        JobState::Canceled => "CANCELED",
    }
}

/// The backup job views' columns; the CDB views put TENANT_ID first.
macro_rules! backup_job_columns {
    ($($first:expr),*) => {
        &[
            $($first,)*
            ("JOB_ID", "BIGINT"),
            ("INCARNATION", "BIGINT"),
            ("BACKUP_SET_ID", "BIGINT"),
            ("INITIATOR_TENANT_ID", "BIGINT"),
            ("INITIATOR_JOB_ID", "BIGINT"),
            ("EXECUTOR_TENANT_ID", "VARCHAR(4096)"),
            ("PLUS_ARCHIVELOG", "VARCHAR(4096)"),
            ("BACKUP_TYPE", "VARCHAR(4096)"),
            ("JOB_LEVEL", "VARCHAR(4096)"),
            ("ENCRYPTION_MODE", "VARCHAR(4096)"),
            ("PASSWD", "VARCHAR(4096)"),
            ("START_TIMESTAMP", "TIMESTAMPTZ"),
            ("END_TIMESTAMP", "TIMESTAMPTZ"),
            ("STATUS", "VARCHAR(4096)"),
            ("RESULT", "BIGINT"),
            ("COMMENT", "VARCHAR(4096)"),
            ("DESCRIPTION", "VARCHAR(4096)"),
            ("PATH", "VARCHAR(4096)"),
        ]
    };
}

const JOB_COLUMNS: &[(&str, &str)] = backup_job_columns!();
const CDB_JOB_COLUMNS: &[(&str, &str)] = backup_job_columns!(("TENANT_ID", "BIGINT"));

pub(super) static VIEWS: [ViewDef; 6] = [
    ViewDef {
        schema: "oceanbase",
        name: "DBA_OB_BACKUP_JOBS",
        columns: JOB_COLUMNS,
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: dba_jobs,
    },
    ViewDef {
        schema: "oceanbase",
        name: "DBA_OB_BACKUP_JOB_HISTORY",
        columns: JOB_COLUMNS,
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: dba_history,
    },
    ViewDef {
        schema: "oceanbase",
        name: "CDB_OB_BACKUP_JOBS",
        columns: CDB_JOB_COLUMNS,
        visibility: Visibility::SysOnly,
        narrowed: None,
        rows: cdb_jobs,
    },
    ViewDef {
        schema: "oceanbase",
        name: "CDB_OB_BACKUP_JOB_HISTORY",
        columns: CDB_JOB_COLUMNS,
        visibility: Visibility::SysOnly,
        narrowed: None,
        rows: cdb_history,
    },
    ViewDef {
        schema: "oceanbase",
        name: "DBA_OB_BACKUP_TASKS",
        columns: &[
            ("TASK_ID", "BIGINT"),
            ("JOB_ID", "BIGINT"),
            ("INCARNATION", "BIGINT"),
            ("BACKUP_SET_ID", "BIGINT"),
            ("START_TIMESTAMP", "TIMESTAMPTZ"),
            ("END_TIMESTAMP", "TIMESTAMPTZ"),
            ("STATUS", "VARCHAR(4096)"),
            ("INPUT_BYTES", "BIGINT"),
            ("OUTPUT_BYTES", "BIGINT"),
            ("OUTPUT_RATE_BYTES", "DECIMAL(32,4)"),
            ("FILE_COUNT", "BIGINT"),
            ("RESULT", "BIGINT"),
            ("COMMENT", "VARCHAR(4096)"),
            ("PATH", "VARCHAR(4096)"),
            ("DATA_PROGRESS", "DECIMAL(26,2)"),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: tasks,
    },
    ViewDef {
        schema: "oceanbase",
        name: "DBA_OB_BACKUP_SET_FILES",
        columns: &[
            ("BACKUP_SET_ID", "BIGINT"),
            ("DEST_ID", "BIGINT"),
            ("INCARNATION", "BIGINT"),
            ("BACKUP_TYPE", "VARCHAR(64)"),
            ("START_TIMESTAMP", "TIMESTAMPTZ"),
            ("END_TIMESTAMP", "TIMESTAMPTZ"),
            ("STATUS", "VARCHAR(64)"),
            ("FILE_STATUS", "VARCHAR(64)"),
            ("PLUS_ARCHIVELOG", "VARCHAR(4096)"),
            ("INPUT_BYTES", "BIGINT"),
            ("OUTPUT_BYTES", "BIGINT"),
            ("FILE_COUNT", "BIGINT"),
            ("RESULT", "BIGINT"),
            ("COMMENT", "VARCHAR(4096)"),
            ("PATH", "VARCHAR(4096)"),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: set_files,
    },
];

type BackupJob = TypedJob<BackupPayload>;

/// Backup jobs of the session's tenant (or of every tenant).
fn backup_jobs(
    session: &Session,
    every_tenant: bool,
    finished: Finished,
) -> Result<Vec<BackupJob>> {
    let tenant = (!every_tenant).then_some(session.identity.tenant.tenant_id);
    typed_jobs(session, BACKUP, tenant, finished)
}

/// A job's RESULT: 0, -4072 for a cancel, or its error code.
pub(super) fn result_code(rec: &JobRecord) -> i64 {
    match rec.state {
        JobState::Succeeded => 0,
        JobState::Canceled => ob_codes::CANCELED,
        _ => rec.error_code.unwrap_or(0),
    }
}

fn job_row(j: &BackupJob, with_tenant: bool) -> Vec<Value> {
    let rec = &j.rec;
    let mut row = Vec::new();
    if with_tenant {
        row.push(Value::Int(rec.tenant_id));
    }
    row.extend([
        Value::Int(rec.job_id),
        Value::Int(1),
        Value::Int(j.payload.set_id),
        // A child of a sys-initiated backup was initiated by sys (tenant 1) and its cluster-level job.
        Value::Int(if rec.parent_job_id.is_some() {
            tenantry_catalog::SYS_TENANT_ID
        } else {
            rec.tenant_id
        }),
        Value::Int(rec.parent_job_id.unwrap_or(0)),
        Value::Text(if j.payload.tenants.is_empty() {
            rec.tenant_id.to_string()
        } else {
            let ids: Vec<String> = j.payload.tenants.iter().map(|t| t.to_string()).collect();
            ids.join(",")
        }),
        Value::from(if j.payload.plus_archivelog {
            "ON"
        } else {
            "OFF"
        }),
        Value::from(if j.payload.incremental { "INC" } else { "FULL" }),
        Value::from(j.payload.level.as_str()),
        Value::from("NONE"),
        Value::from(""),
        Value::Text(timestamp(rec.created)),
        Value::from(rec.finished.map(timestamp)),
        Value::from(ob_status(rec.state)),
        Value::Int(result_code(rec)),
        Value::Text(
            rec.error_message
                .clone()
                .filter(|_| rec.state == JobState::Failed)
                .unwrap_or_default(),
        ),
        Value::from(j.payload.description.as_str()),
        Value::from(tenantry_backup::display_uri(&j.payload.dest)),
    ]);
    row
}

fn rows(session: &Session, every_tenant: bool, finished: bool) -> Result<Vec<Vec<Value>>> {
    let which = if finished {
        Finished::Yes
    } else {
        Finished::No
    };
    Ok(backup_jobs(session, every_tenant, which)?
        .iter()
        .map(|j| job_row(j, every_tenant))
        .collect())
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

fn tasks(session: &Session) -> Result<Vec<Vec<Value>>> {
    Ok(backup_jobs(session, false, Finished::Any)?
        .iter()
        .map(|j| {
            let rec = &j.rec;
            vec![
                Value::Int(rec.job_id),
                Value::Int(rec.job_id),
                Value::Int(1),
                Value::Int(j.payload.set_id),
                Value::from(rec.started.map(timestamp)),
                Value::from(rec.finished.map(timestamp)),
                Value::from(ob_status(rec.state)),
                Value::Int(j.detail("input_bytes")),
                Value::Int(j.detail("output_bytes")),
                Value::Int(j.detail("output_rate_bytes")),
                Value::Int(j.detail("file_count")),
                Value::Int(result_code(rec)),
                Value::from(""),
                Value::from(tenantry_backup::display_uri(&j.payload.dest)),
                Value::Float((rec.fraction_completed * 100.0 * 100.0).round() / 100.0),
            ]
        })
        .collect())
}

fn set_files(session: &Session) -> Result<Vec<Vec<Value>>> {
    // Cleanup records what it removes (DELETING, then DELETED); that overrides the backup's own outcome.
    let marks = session
        .engine
        .catalog()
        .backup_set_marks(session.identity.tenant.tenant_id)?;
    Ok(backup_jobs(session, false, Finished::Any)?
        .iter()
        .filter(|j| j.payload.level != tenantry_kinds::backup::CLUSTER_LEVEL)
        .map(|j| {
            let rec = &j.rec;
            let (status, mut file_status) = match rec.state {
                JobState::Succeeded => ("SUCCESS", "AVAILABLE"),
                s if s.is_terminal() => ("FAILED", "INCOMPLETE"),
                JobState::CancelRequested | JobState::Reverting => ("FAILED", "INCOMPLETE"),
                _ => ("DOING", "COPYING"),
            };
            if let Some(mark) = marks.get(&j.payload.set_id) {
                file_status = if mark == "DELETED" {
                    "DELETED"
                } else {
                    "DELETING"
                };
            }
            vec![
                Value::Int(j.payload.set_id),
                Value::Int(1),
                Value::Int(1),
                Value::from(if j.payload.incremental { "INC" } else { "FULL" }),
                Value::Text(timestamp(rec.created)),
                Value::from(rec.finished.map(timestamp)),
                Value::from(status),
                Value::from(file_status),
                Value::from(if j.payload.plus_archivelog {
                    "ON"
                } else {
                    "OFF"
                }),
                Value::Int(j.detail("input_bytes")),
                Value::Int(j.detail("output_bytes")),
                Value::Int(j.detail("file_count")),
                Value::Int(result_code(rec)),
                Value::from(""),
                Value::from(tenantry_backup::display_under(
                    &j.payload.dest,
                    &tenantry_backup::set_dir(rec.tenant_id, j.payload.set_id),
                )),
            ]
        })
        .collect())
}
