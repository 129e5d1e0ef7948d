//! `crdb_internal.jobs` (every job the session may see, SHOW JOB's columns) and `crdb_internal.show_jobs`
//! (what `[SHOW JOBS]` reads: SHOW JOBS's columns and rows), and `crdb_internal.show_changefeed_jobs`
//! (`[SHOW CHANGEFEED JOBS]`).

use tenantry_jobs::{JobFilter, JobRecord, JobState};

use super::{ViewDef, Visibility};
use crate::error::Result;
use crate::exec::jobs::{listing, long_row, short_row, visible_jobs};
use crate::session::Session;
use crate::translate::Equality;
use crate::value::Value;

/// SHOW JOB's columns (CockroachDB's order) with their SQLite types; SHOW JOBS has all but three of them.
pub(crate) const SHOW_JOB_COLUMNS: &[(&str, &str)] = &[
    ("job_id", "INTEGER"),
    ("job_type", "TEXT"),
    ("description", "TEXT"),
    ("statement", "TEXT"),
    ("user_name", "TEXT"),
    ("status", "TEXT"),
    ("running_status", "TEXT"),
    ("created", "TIMESTAMPTZ"),
    ("started", "TIMESTAMPTZ"),
    ("finished", "TIMESTAMPTZ"),
    ("modified", "TIMESTAMPTZ"),
    ("fraction_completed", "DOUBLE"),
    ("error", "TEXT"),
    ("coordinator_id", "INTEGER"),
    ("trace_id", "TEXT"),
    ("execution_errors", "TEXT"),
];

/// SHOW JOBS's columns: SHOW JOB's without `statement`, `trace_id` and `execution_errors`.
pub(crate) const SHOW_JOBS_COLUMNS: &[(&str, &str)] = &[
    ("job_id", "INTEGER"),
    ("job_type", "TEXT"),
    ("description", "TEXT"),
    ("user_name", "TEXT"),
    ("status", "TEXT"),
    ("running_status", "TEXT"),
    ("created", "TIMESTAMPTZ"),
    ("started", "TIMESTAMPTZ"),
    ("finished", "TIMESTAMPTZ"),
    ("modified", "TIMESTAMPTZ"),
    ("fraction_completed", "DOUBLE"),
    ("error", "TEXT"),
    ("coordinator_id", "INTEGER"),
];

pub(super) static VIEWS: [ViewDef; 3] = [
    ViewDef {
        schema: "crdb_internal",
        name: "jobs",
        columns: SHOW_JOB_COLUMNS,
        visibility: Visibility::AllTenants,
        narrowed: Some(all_jobs_where),
        rows: all_jobs,
    },
    ViewDef {
        schema: "crdb_internal",
        name: "show_jobs",
        columns: SHOW_JOBS_COLUMNS,
        visibility: Visibility::AllTenants,
        narrowed: Some(recent_jobs_where),
        rows: recent_jobs,
    },
    ViewDef {
        schema: "crdb_internal",
        name: "show_changefeed_jobs",
        columns: crate::exec::changefeed::SHOW_CHANGEFEED_JOBS_COLUMNS,
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: changefeed_jobs,
    },
];

/// What `[SHOW CHANGEFEED JOBS]` reads.
fn changefeed_jobs(session: &Session) -> Result<Vec<Vec<Value>>> {
    crate::exec::changefeed::rows(session, None)
}

fn all_jobs(session: &Session) -> Result<Vec<Vec<Value>>> {
    Ok(visible_jobs(session, false)?.iter().map(long_row).collect())
}

fn recent_jobs(session: &Session) -> Result<Vec<Vec<Value>>> {
    Ok(visible_jobs(session, true)?.iter().map(short_row).collect())
}

fn all_jobs_where(session: &Session, eqs: &[Equality]) -> Result<Vec<Vec<Value>>> {
    Ok(narrowed(session, false, eqs)?
        .iter()
        .map(long_row)
        .collect())
}

fn recent_jobs_where(session: &Session, eqs: &[Equality]) -> Result<Vec<Vec<Value>>> {
    Ok(narrowed(session, true, eqs)?
        .iter()
        .map(short_row)
        .collect())
}

/// The jobs of the listing that may meet the equalities: those on the columns the registry filters by
/// narrow its query (the job type matches ignoring case; SQLite then compares exactly).
fn narrowed(session: &Session, recent: bool, eqs: &[Equality]) -> Result<Vec<JobRecord>> {
    let mut filter: JobFilter = listing(session, recent)?;
    for (column, value) in eqs {
        match (column.as_str(), value) {
            ("job_id", Value::Int(id)) => filter.ids = Some(vec![*id]),
            ("job_type", Value::Text(t)) => filter.job_type = Some(t.clone()),
            ("user_name", Value::Text(u)) => filter.owner = Some(u.clone()),
            ("status", Value::Text(s)) => {
                if let Some(state) = JobState::parse(s) {
                    filter.states = vec![state];
                }
            }
            _ => {}
        }
    }
    Ok(session.engine.jobs().query(&filter)?)
}
