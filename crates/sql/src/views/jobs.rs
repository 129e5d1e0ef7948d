//! `crdb_internal.jobs` (every job the session may see, SHOW JOB's columns) and `crdb_internal.show_jobs`
//! (what `[SHOW JOBS]` reads: SHOW JOBS's columns and rows).

use super::{ViewDef, Visibility};
use crate::error::Result;
use crate::exec::jobs::{long_row, short_row, visible_jobs};
use crate::session::Session;
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

pub(super) static VIEWS: [ViewDef; 2] = [
    ViewDef {
        schema: "crdb_internal",
        name: "jobs",
        columns: SHOW_JOB_COLUMNS,
        visibility: Visibility::AllTenants,
        rows: all_jobs,
    },
    ViewDef {
        schema: "crdb_internal",
        name: "show_jobs",
        columns: SHOW_JOBS_COLUMNS,
        visibility: Visibility::AllTenants,
        rows: recent_jobs,
    },
];
fn all_jobs(session: &Session) -> Result<Vec<Vec<Value>>> {
    Ok(visible_jobs(session, false)?.iter().map(long_row).collect())
}

fn recent_jobs(session: &Session) -> Result<Vec<Vec<Value>>> {
    Ok(visible_jobs(session, true)?.iter().map(short_row).collect())
}
