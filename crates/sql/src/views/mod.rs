//! System views (`oceanbase.DBA_OB_*`, ...): tables in an in-memory schema of the session's connection,
//! filled from the catalog right before a statement reads them, with rows filtered by who is asking.
//! Because they are real tables for that statement, any SELECT works on them (joins, WHERE, ORDER BY).

mod backup;
mod backup_cleanup;
mod clone;
mod information_schema;
pub(crate) mod jobs;
mod pg_catalog;
mod resources;
mod restore;
mod tenants;

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Result, SqlError};
use crate::login::Identity;
use crate::session::Session;
use crate::translate::{quote, Equality};
use crate::value::{ResultSet, Value};

/// Who may see a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Every tenant (rows are filtered to the tenant's own).
    AllTenants,
    /// The sys tenant only.
    SysOnly,
}

/// A view's rows that may meet what a statement requires of them (at least every row that does).
pub type NarrowedRows = fn(&Session, &[Equality]) -> Result<Vec<Vec<Value>>>;

/// One system view.
pub struct ViewDef {
    /// Its schema.
    pub schema: &'static str,
    /// Its name, upper case as OceanBase spells it.
    pub name: &'static str,
    /// Columns in order, with their SQLite types.
    pub columns: &'static [(&'static str, &'static str)],
    /// Who sees it.
    pub visibility: Visibility,
    /// Its rows for this session.
    pub rows: fn(&Session) -> Result<Vec<Vec<Value>>>,
    /// Its rows for this session, narrowed by what the statement's WHERE requires of them (at least every
    /// row that meets the equalities), for views too long to fill whole.
    pub narrowed: Option<NarrowedRows>,
}

/// Every system view.
fn all() -> impl Iterator<Item = &'static ViewDef> {
    tenants::VIEWS
        .iter()
        .chain(resources::VIEWS.iter())
        .chain(jobs::VIEWS.iter())
        .chain(information_schema::VIEWS.iter())
        .chain(pg_catalog::VIEWS.iter())
        .chain(backup::VIEWS.iter())
        .chain(restore::VIEWS.iter())
        .chain(clone::VIEWS.iter())
        .chain(backup_cleanup::VIEWS.iter())
}

/// A job of one type with its kind's payload and its progress figures, for the views over that type.
pub(crate) struct TypedJob<P> {
    /// The control row.
    pub rec: tenantry_jobs::JobRecord,
    /// The kind's payload.
    pub payload: P,
    /// Its progress figures.
    pub progress: tenantry_jobs::JobProgress,
}

impl<P> TypedJob<P> {
    /// A progress figure, 0 if not reported yet.
    pub fn detail(&self, key: &str) -> i64 {
        self.progress.figure(key)
    }
}

/// Which jobs a view over one job type shows: those still going, those over, or all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finished {
    /// Unfinished jobs (the `*_JOBS` / `*_PROGRESS` views).
    No,
    /// Finished jobs (the `*_HISTORY` views).
    Yes,
    /// Every job.
    Any,
}

/// Every job of `job_type` (of one tenant, or of all if `tenant` is None) whose payload parses, by id, with
/// its progress figures: one filtered read from the registry.
pub(crate) fn typed_jobs<P: serde::de::DeserializeOwned>(
    session: &Session,
    job_type: &str,
    tenant: Option<i64>,
    finished: Finished,
) -> Result<Vec<TypedJob<P>>> {
    let mut filter = tenantry_jobs::JobFilter::default()
        .of_type(job_type)
        .ordered(tenantry_jobs::Order::OldestFirst);
    filter.tenant_id = tenant;
    let states: Vec<tenantry_jobs::JobState> = tenantry_jobs::JobState::ALL
        .into_iter()
        .filter(|s| match finished {
            Finished::No => !s.is_terminal(),
            Finished::Yes => s.is_terminal(),
            Finished::Any => true,
        })
        .collect();
    if finished != Finished::Any {
        filter.states = states;
    }
    let mut out = Vec::new();
    for (rec, progress) in session.engine.jobs().query_with_progress(&filter)? {
        session.check_interrupted()?;
        // Read in place: a listing would otherwise copy every job's payload to read it.
        let Ok(payload) = P::deserialize(&rec.payload) else {
            continue;
        };
        out.push(TypedJob {
            rec,
            payload,
            progress,
        });
    }
    out.sort_by_key(|j| j.rec.job_id);
    Ok(out)
}

fn visible(view: &ViewDef, identity: &Identity) -> bool {
    match view.visibility {
        Visibility::AllTenants => true,
        Visibility::SysOnly => identity.tenant.is_sys(),
    }
}

/// Whether `name` is one of PostgreSQL's catalog tables we serve (`pg_type`, `pg_class`, ...), which an
/// unqualified name finds first on the PostgreSQL wire (pg_catalog is searched before the search_path).
pub fn is_pg_catalog_table(name: &str) -> bool {
    pg_catalog::VIEWS
        .iter()
        .any(|v| v.name.eq_ignore_ascii_case(name))
}

/// `'name'::regclass`: the oid pg_class gives table or view `name` (`t`, `public.t`, `db.t`, `db.public.t`, quoted
/// parts allowed) of database `current` (or the one it names); `None` for pg_catalog's tables and for a name that
/// is not one.
pub fn regclass_oid(current: Option<&str>, name: &str) -> Option<i64> {
    let parts: Vec<&str> = name
        .split('.')
        .map(|p| p.trim().trim_matches('"'))
        .collect();
    let (db, table) = match parts.as_slice() {
        [t] => (current?, *t),
        [s, _]
            if s.eq_ignore_ascii_case("pg_catalog")
                || s.eq_ignore_ascii_case("information_schema") =>
        {
            return None
        }
        [s, t] if s.eq_ignore_ascii_case("public") => (current?, *t),
        [d, t] | [d, _, t] => (*d, *t),
        _ => return None,
    };
    (!table.is_empty()).then(|| pg_catalog::table_oid(db, table))
}

/// The view of that name, if it exists and the session may see it.
pub fn find(schema: &str, name: &str, identity: &Identity) -> Option<&'static ViewDef> {
    all().find(|v| {
        v.schema.eq_ignore_ascii_case(schema)
            && v.name.eq_ignore_ascii_case(name)
            && visible(v, identity)
    })
}

/// The names of the views of a schema the session may see.
pub fn list(schema: &str, identity: &Identity) -> Vec<&'static str> {
    let mut names: Vec<&str> = all()
        .filter(|v| v.schema.eq_ignore_ascii_case(schema) && visible(v, identity))
        .map(|v| v.name)
        .collect();
    names.sort_unstable();
    names
}

/// DESCRIBE of a view.
pub fn describe(schema: &str, name: &str, identity: &Identity) -> Result<ResultSet> {
    let view = find(schema, name, identity).ok_or_else(|| SqlError::NoSuchTable {
        db: schema.to_string(),
        table: name.to_string(),
    })?;
    let mut rs =
        ResultSet::with_text_columns(&["Field", "Type", "Null", "Key", "Default", "Extra"]);
    for (col, ty) in view.columns {
        rs.rows.push(vec![
            Value::from(*col),
            Value::from(ty.to_ascii_lowercase()),
            Value::from("YES"),
            Value::from(""),
            Value::Null,
            Value::from(""),
        ]);
    }
    Ok(rs)
}

/// Fills the views a statement reads, so it sees their rows as of now (those `equalities` allow, where a
/// view can narrow them).
pub fn materialize(
    session: &Session,
    tables: &BTreeSet<(String, String)>,
    equalities: &BTreeMap<(String, String), Vec<Equality>>,
) -> Result<()> {
    for key @ (schema, name) in tables {
        session.check_interrupted()?;
        let view = find(schema, name, &session.identity).ok_or_else(|| SqlError::NoSuchTable {
            db: schema.clone(),
            table: name.clone(),
        })?;
        let rows = match (view.narrowed, equalities.get(key)) {
            (Some(narrowed), Some(eqs)) => narrowed(session, eqs)?,
            _ => (view.rows)(session)?,
        };
        let conn = session.conn.conn();
        let target = format!("{}.{}", quote(view.schema), quote(view.name));
        let cols: Vec<String> = view
            .columns
            .iter()
            .map(|(c, t)| format!("{} {t}", quote(c)))
            .collect();
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {target} ({}); DELETE FROM {target};",
            cols.join(", ")
        ))?;
        // One savepoint for the view's rows rather than a commit per row (inside a transaction, it nests).
        conn.execute_batch("SAVEPOINT fill_view")?;
        let filled = fill(session, conn, &target, view.columns.len(), rows);
        let end = match filled {
            Ok(()) => "RELEASE fill_view",
            Err(_) => "ROLLBACK TO fill_view; RELEASE fill_view",
        };
        conn.execute_batch(end)?;
        filled?;
    }
    Ok(())
}

/// Inserts a view's rows into its table.
fn fill(
    session: &Session,
    conn: &rusqlite::Connection,
    target: &str,
    width: usize,
    rows: Vec<Vec<Value>>,
) -> Result<()> {
    let placeholders = vec!["?"; width].join(", ");
    let mut insert =
        conn.prepare_cached(&format!("INSERT INTO {target} VALUES ({placeholders})"))?;
    for row in rows {
        session.check_interrupted()?;
        insert.execute(rusqlite::params_from_iter(
            row.iter().map(crate::sqlite::results::to_sql),
        ))?;
    }
    Ok(())
}
