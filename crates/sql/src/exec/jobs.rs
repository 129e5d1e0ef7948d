//! Job statements and who may see or control which job.
//!
//! root@sys sees and controls every job; a tenant's administrator every job of its tenant; any user its own;
//! VIEWJOB / CONTROLJOB let a user view / control the other non-admin jobs of its tenant. Another tenant's job
//! does not exist, whatever its id.

use tenantry_catalog::Privilege;
use tenantry_jobs::{JobRecord, JobState};

use crate::error::{Result, SqlError};
use crate::exec::{privileges, tenant_sql};
use crate::parser::{Command, JobAction, JobTarget};
use crate::session::Session;
use crate::value::{Column, ColumnKind, Output, ResultSet, Value};
use crate::views::jobs::{SHOW_JOBS_COLUMNS, SHOW_JOB_COLUMNS};

/// How long finished jobs stay in SHOW JOBS (they stay in SHOW JOB and crdb_internal.jobs until retention).
const SHOW_JOBS_WINDOW_MICROS: i64 = 12 * 3600 * 1_000_000;

/// Microseconds since the epoch as `YYYY-MM-DD HH:MM:SS.ffffff` (UTC).
pub fn timestamp(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
        .unwrap_or_default()
}

/// CockroachDB's bulk statements: with DETACHED the job id comes back at once; without, the statement waits
/// for its job and returns `job_id, status, fraction_completed, bytes` (`bytes` from the job's `bytes_detail`
/// progress figure), or the job's cancel or failure as an error.
pub fn detached_or_wait(
    session: &Session,
    job_id: i64,
    detached: bool,
    bytes_detail: &str,
    canceled_message: &str,
) -> Result<Output> {
    if detached {
        let mut rs = ResultSet {
            columns: vec![Column::new("job_id", ColumnKind::Int)],
            rows: Vec::new(),
        };
        rs.rows.push(vec![Value::Int(job_id)]);
        return Ok(Output::Rows(rs));
    }
    let done = session.engine.jobs().wait(job_id, &session.interrupt)?;
    let progress = session.engine.jobs().progress(job_id)?.unwrap_or_default();
    match done.state {
        JobState::Succeeded => {
            let bytes = progress
                .details
                .get(bytes_detail)
                .and_then(|v| v.as_i64())
                .unwrap_or(0);
            Ok(Output::Rows(ResultSet {
                columns: vec![
                    Column::new("job_id", ColumnKind::Int),
                    Column::new("status", ColumnKind::Text),
                    Column::new("fraction_completed", ColumnKind::Float),
                    Column::new("bytes", ColumnKind::Int),
                ],
                rows: vec![vec![
                    Value::Int(job_id),
                    Value::from("succeeded"),
                    Value::Float(1.0),
                    Value::Int(bytes),
                ]],
            }))
        }
        JobState::Canceled => Err(SqlError::JobCanceled {
            job_id,
            message: canceled_message.into(),
        }),
        _ => Err(SqlError::JobFailed {
            job_id,
            message: done.error_message.unwrap_or_default(),
        }),
    }
}

fn error_text(rec: &JobRecord) -> String {
    match rec.state {
        JobState::Failed | JobState::Reverting if rec.revert_to != Some(JobState::Canceled) => {
            rec.error_message.clone().unwrap_or_default()
        }
        _ => String::new(),
    }
}

/// A SHOW JOBS row.
pub fn short_row(rec: &JobRecord) -> Vec<Value> {
    vec![
        Value::Int(rec.job_id),
        Value::from(rec.job_type.as_str()),
        Value::from(rec.description.as_str()),
        Value::from(rec.owner.as_str()),
        Value::from(rec.state.as_str()),
        Value::from(rec.running_status.as_str()),
        Value::Text(timestamp(rec.created)),
        Value::from(rec.started.map(timestamp)),
        Value::from(rec.finished.map(timestamp)),
        Value::Text(timestamp(rec.modified)),
        Value::Float(rec.fraction_completed),
        Value::Text(error_text(rec)),
        Value::Int(1),
    ]
}

/// A SHOW JOB row.
pub fn long_row(rec: &JobRecord) -> Vec<Value> {
    let mut row = short_row(rec);
    row.insert(3, Value::from(rec.statement.as_str()));
    row.push(Value::from(rec.trace_id.as_str()));
    let errors = rec
        .error_message
        .clone()
        .filter(|_| rec.error_code.is_some() && rec.state != JobState::Canceled);
    row.push(Value::Text(
        errors
            .map(|e| format!("{{\"{}\"}}", e.replace('"', "\\\"")))
            .unwrap_or_else(|| "{}".into()),
    ));
    row
}

/// A result with the columns of a job view (their kinds follow from the declared types).
fn result(columns: &[(&str, &str)], rows: Vec<Vec<Value>>) -> ResultSet {
    ResultSet {
        columns: columns
            .iter()
            .map(|(n, ty)| Column::new(*n, crate::sqlite::results::declared_kind(ty)))
            .collect(),
        rows,
    }
}

/// The job if it exists for this session (another tenant's job does not).
pub(crate) fn lookup(session: &Session, id: i64) -> Result<JobRecord> {
    let rec = session
        .engine
        .jobs()
        .get(id)?
        .ok_or(SqlError::JobNotFound(id))?;
    if session.identity.is_cluster_admin() || rec.tenant_id == session.identity.tenant.tenant_id {
        Ok(rec)
    } else {
        Err(SqlError::JobNotFound(id))
    }
}

pub(crate) fn no_privileges(session: &Session, id: i64) -> SqlError {
    SqlError::JobPrivilege(format!(
        "user {} does not have privileges for job {id}",
        session.identity.user.name
    ))
}

fn is_admin(session: &Session) -> bool {
    session.identity.is_cluster_admin() || session.identity.is_tenant_admin()
}

/// Whether the session may see the job (which it found with [`lookup`]).
pub fn may_view(session: &Session, rec: &JobRecord) -> Result<bool> {
    if session.identity.is_cluster_admin() {
        return Ok(true);
    }
    if rec.tenant_id != session.identity.tenant.tenant_id {
        return Ok(false);
    }
    if is_admin(session) || rec.owner == session.identity.user.name {
        return Ok(true);
    }
    Ok(!rec.owner_is_admin
        && (privileges::has(session, None, Privilege::ViewJob)?
            || privileges::has(session, None, Privilege::ControlJob)?))
}

fn check_control(session: &Session, rec: &JobRecord) -> Result<()> {
    if is_admin(session) || rec.owner == session.identity.user.name {
        return Ok(());
    }
    if rec.owner_is_admin {
        return Err(SqlError::JobPrivilege(
            "only admins can control jobs owned by other admins".into(),
        ));
    }
    if privileges::has(session, None, Privilege::ControlJob)? {
        return Ok(());
    }
    Err(no_privileges(session, rec.job_id))
}

/// Every job the session may see, newest first; `recent` keeps unfinished ones and those finished in the last 12 h.
pub fn visible_jobs(session: &Session, recent: bool) -> Result<Vec<JobRecord>> {
    let cutoff = tenantry_jobs::now_micros() - SHOW_JOBS_WINDOW_MICROS;
    let mut out = Vec::new();
    for rec in session.engine.jobs().list()? {
        session.check_interrupted()?;
        if recent && rec.finished.is_some_and(|f| f < cutoff) {
            continue;
        }
        if may_view(session, &rec)? {
            out.push(rec);
        }
    }
    Ok(out)
}

/// Job ids from the first column of a query's rows.
fn ids_from_query(session: &mut Session, query: &str) -> Result<Vec<i64>> {
    let stmt = crate::parser::parse_tenant_sql(query)?;
    if !matches!(stmt, sqlparser::ast::Statement::Query(_)) {
        return Err(SqlError::Unsupported(
            "a job list from anything but a SELECT".into(),
        ));
    }
    let Output::Rows(rs) = tenant_sql::run(session, stmt, &[])? else {
        return Err(SqlError::Unsupported(
            "a job list from a statement that returns no rows".into(),
        ));
    };
    rs.rows
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .filter(|v| *v != Value::Null)
        .map(|v| match v {
            Value::Int(i) => Ok(i),
            other => other
                .to_text()
                .and_then(|t| t.trim().parse().ok())
                .ok_or_else(|| {
                    SqlError::JobState(format!(
                        "{} is not a job id",
                        other.to_text().unwrap_or_default()
                    ))
                }),
        })
        .collect()
}

/// Runs a job statement.
pub fn run(session: &mut Session, cmd: Command) -> Result<Output> {
    match cmd {
        Command::ShowJobs {
            when_complete,
            target,
        } => {
            let Some(target) = target else {
                let rows = visible_jobs(session, true)?.iter().map(short_row).collect();
                return Ok(Output::Rows(result(SHOW_JOBS_COLUMNS, rows)));
            };
            let ids = match target {
                JobTarget::Id(id) => vec![id],
                JobTarget::Select(q) => ids_from_query(session, &q)?,
                JobTarget::AllOfType(_) => {
                    return Err(SqlError::Unsupported("SHOW ALL ... JOBS".into()))
                }
            };
            let mut rows = Vec::new();
            for id in ids {
                let mut rec = lookup(session, id)?;
                if !may_view(session, &rec)? {
                    return Err(no_privileges(session, id));
                }
                if when_complete {
                    rec = session.engine.jobs().wait(id, &session.interrupt)?;
                }
                rows.push(long_row(&rec));
            }
            Ok(Output::Rows(result(SHOW_JOB_COLUMNS, rows)))
        }
        Command::ControlJobs { action, target } => {
            let records = match target {
                JobTarget::Id(id) => vec![lookup(session, id)?],
                JobTarget::Select(q) => {
                    let ids = ids_from_query(session, &q)?;
                    ids.into_iter()
                        .map(|id| lookup(session, id))
                        .collect::<Result<Vec<_>>>()?
                }
                JobTarget::AllOfType(job_type) => {
                    let wanted: &[JobState] = match action {
                        JobAction::Cancel => &JobState::CANCELABLE_FROM,
                        JobAction::Pause => &JobState::PAUSABLE_FROM,
                        JobAction::Resume => &[JobState::Paused],
                    };
                    let mut out = Vec::new();
                    for rec in visible_jobs(session, false)? {
                        if rec.job_type.eq_ignore_ascii_case(&job_type)
                            && wanted.contains(&rec.state)
                            && check_control(session, &rec).is_ok()
                            && (action != JobAction::Cancel || rec.cancelable)
                        {
                            out.push(rec);
                        }
                    }
                    out
                }
            };
            // Check every job before touching any: a statement that fails changes nothing.
            for rec in &records {
                check_control(session, rec)?;
                precheck(action, rec)?;
            }
            let registry = session.engine.jobs().clone();
            for rec in &records {
                match action {
                    JobAction::Cancel => registry.request_cancel(rec.job_id)?,
                    JobAction::Pause => registry.request_pause(rec.job_id)?,
                    JobAction::Resume => registry.resume(rec.job_id)?,
                };
            }
            Ok(Output::affected(records.len() as u64))
        }
        other => Err(SqlError::Internal(format!(
            "not a job statement: {other:?}"
        ))),
    }
}

/// The registry's own checks, done up front for every job of a statement.
fn precheck(action: JobAction, rec: &JobRecord) -> Result<()> {
    let id = rec.job_id;
    let state = rec.state;
    let ok = match action {
        JobAction::Cancel => {
            if matches!(state, JobState::CancelRequested | JobState::Canceled) {
                return Ok(());
            }
            if !rec.cancelable {
                return Err(SqlError::JobState(format!("job {id}: not cancelable")));
            }
            JobState::CANCELABLE_FROM.contains(&state)
        }
        JobAction::Pause => {
            matches!(state, JobState::PauseRequested | JobState::Paused)
                || JobState::PAUSABLE_FROM.contains(&state)
        }
        JobAction::Resume => {
            if matches!(
                state,
                JobState::Running | JobState::Pending | JobState::Paused
            ) {
                return Ok(());
            }
            return Err(SqlError::JobState(format!(
                "job {id}: job with state {state} cannot be resumed"
            )));
        }
    };
    if ok {
        Ok(())
    } else {
        let verb = if action == JobAction::Cancel {
            "canceled"
        } else {
            "paused"
        };
        Err(SqlError::JobState(format!(
            "job {id}: job with state {state} cannot be requested to be {verb}"
        )))
    }
}
