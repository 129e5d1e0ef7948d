//! Job statements. Who may see or control which job, and what each request does in each state, are the jobs
//! layer's rules (`tenantry_jobs::auth`, `tenantry_jobs::rules`); a session is their accessor.

use tenantry_catalog::Privilege;
use tenantry_jobs::{
    JobAccessor, JobFilter, JobPrivilege, JobRecord, JobState, RegistryError, Scope,
};

use crate::error::{Result, SqlError};
use crate::exec::{privileges, tenant_sql};
use crate::parser::{Command, JobTarget};
use crate::session::Session;
use crate::value::{Column, ColumnKind, Output, ResultSet, Value};
use crate::views::jobs::{SHOW_JOBS_COLUMNS, SHOW_JOB_COLUMNS};

/// How long finished jobs stay in SHOW JOBS (they stay in SHOW JOB and crdb_internal.jobs until retention).
const SHOW_JOBS_WINDOW_MICROS: i64 = 12 * 3600 * 1_000_000;

/// Microseconds since the epoch as `YYYY-MM-DD HH:MM:SS.ffffff` (UTC).
pub use tenantry_catalog::micros_timestamp as timestamp;

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
            let bytes = progress.figure(bytes_detail);
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

impl JobAccessor for Session {
    fn user_name(&self) -> &str {
        &self.identity.user.name
    }
    fn tenant_id(&self) -> i64 {
        self.identity.tenant.tenant_id
    }
    fn is_cluster_admin(&self) -> bool {
        self.identity.is_cluster_admin()
    }
    fn is_tenant_admin(&self) -> bool {
        self.identity.is_tenant_admin()
    }
    fn has_privilege(&self, privilege: JobPrivilege) -> std::result::Result<bool, RegistryError> {
        let p = match privilege {
            JobPrivilege::ViewJob => Privilege::ViewJob,
            JobPrivilege::ControlJob => Privilege::ControlJob,
        };
        privileges::has(self, None, p).map_err(|e| RegistryError::Accessor(e.to_string()))
    }
}

/// The job if it exists for this session (another tenant's job does not).
pub(crate) fn lookup(session: &Session, id: i64) -> Result<JobRecord> {
    let rec = session
        .engine
        .jobs()
        .get(id)?
        .ok_or(SqlError::JobNotFound(id))?;
    if tenantry_jobs::auth::may_know(session, &rec) {
        Ok(rec)
    } else {
        Err(SqlError::JobNotFound(id))
    }
}

/// The privilege error for a job the session may not see.
pub(crate) fn no_privileges(session: &Session, id: i64) -> SqlError {
    tenantry_jobs::auth::no_privileges(session, id).into()
}

/// Whether the session may see the job (which it found with [`lookup`]).
pub fn may_view(session: &Session, rec: &JobRecord) -> Result<bool> {
    Ok(tenantry_jobs::may_view(session, rec)?)
}

/// The jobs the session may see, as a filter to narrow further.
pub fn visible(session: &Session) -> Result<JobFilter> {
    Ok(JobFilter::scoped(Scope::of(session)?))
}

/// The jobs the session may see, newest first; `recent` keeps unfinished ones and those finished in the last 12 h
/// (SHOW JOBS's window).
pub fn listing(session: &Session, recent: bool) -> Result<JobFilter> {
    let mut filter = visible(session)?;
    if recent {
        filter.finished_since = Some(tenantry_jobs::now_micros() - SHOW_JOBS_WINDOW_MICROS);
    }
    Ok(filter)
}

/// Every job of [`listing`].
pub fn visible_jobs(session: &Session, recent: bool) -> Result<Vec<JobRecord>> {
    Ok(session.engine.jobs().query(&listing(session, recent)?)?)
}

/// Job ids from the first column of a query's rows.
fn ids_from_query(session: &mut Session, query: &str) -> Result<Vec<i64>> {
    let stmt = crate::parser::parse_tenant_sql(query)?;
    if !matches!(stmt, sqlparser::ast::Statement::Query(_)) {
        return Err(SqlError::Unsupported(
            "a job list from anything but a SELECT".into(),
        ));
    }
    // The ids are the server's to use, never a result for the client: nothing streams.
    session.row_sink = None;
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
            let ids = match target {
                JobTarget::Id(id) => vec![id],
                JobTarget::Select(q) => ids_from_query(session, &q)?,
                JobTarget::AllOfType(job_type) => {
                    // The jobs of that type the session may control whose state lets the action move them.
                    let filter = JobFilter::scoped(Scope::controllable(&*session)?)
                        .of_type(&job_type)
                        .unfinished();
                    session
                        .engine
                        .jobs()
                        .query(&filter)?
                        .into_iter()
                        .filter(|rec| {
                            matches!(
                                tenantry_jobs::rules::outcome(action, rec),
                                Ok(tenantry_jobs::rules::Outcome::Move { .. })
                            )
                        })
                        .map(|rec| rec.job_id)
                        .collect()
                }
            };
            // One call decides and applies every job in one store transaction: a statement that fails
            // changes nothing.
            let registry = session.engine.jobs().clone();
            let done = registry.control(action, &ids, &*session)?;
            Ok(Output::affected(done.len() as u64))
        }
        other => Err(SqlError::Internal(format!(
            "not a job statement: {other:?}"
        ))),
    }
}
