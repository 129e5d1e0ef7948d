//! Running translated tenant SQL on the session's SQLite connection.

use sqlparser::ast::Statement;

use crate::error::{Result, SqlError};
use crate::exec::{privileges, variables};
use crate::session::{Prepared, Session};
use crate::sqlite::results::{read, to_sql, Read};
use crate::translate::{self, quote, Plan, PlanKind, SessionContext};
use crate::value::{Output, Value};
use crate::views;

/// The PostgreSQL version the PostgreSQL wire reports (startup's server_version is 13.0.0).
const PG_VERSION: &str = "13.0";

/// The session as the translator sees it.
struct Ctx<'a>(&'a Session);

impl SessionContext for Ctx<'_> {
    fn current_db(&self) -> Option<&str> {
        self.0.db.as_deref()
    }

    fn system_variable(&self, name: &str) -> Result<Value> {
        variables::get(self.0, name)
    }

    fn user_variable(&self, name: &str) -> Value {
        self.0.user_vars.get(name).cloned().unwrap_or(Value::Null)
    }

    fn postgres_names(&self) -> bool {
        self.0.handle.protocol == "pg"
    }

    fn temp_table(&self, db: &str, table: &str) -> bool {
        self.0
            .temp_tables
            .contains(&(db.to_string(), table.to_string()))
    }

    fn session_function(&self, name: &str) -> Option<Value> {
        let id = &self.0.identity;
        if self.0.handle.protocol == "pg" {
            // PostgreSQL's answers: plain user names, a version string drivers parse (SQLAlchemy reads
            // `PostgreSQL 13.0` out of it), one schema per database.
            match name {
                "VERSION" => {
                    return Some(Value::from(format!(
                        "PostgreSQL {PG_VERSION} on Tenantry {}",
                        env!("CARGO_PKG_VERSION")
                    )))
                }
                "USER" | "SESSION_USER" | "CURRENT_USER" | "CURRENT_ROLE" => {
                    return Some(Value::from(id.user.name.clone()))
                }
                "PG_BACKEND_PID" => return Some(Value::Int(self.0.handle.id as i64)),
                _ => {}
            }
        }
        Some(match name {
            "CURRENT_DATABASE" | "CURRENT_CATALOG" => Value::from(self.0.db.clone()),
            "CURRENT_SCHEMA" => Value::from("public"),
            "DATABASE" | "SCHEMA" => Value::from(self.0.db.clone()),
            "USER" | "SESSION_USER" | "SYSTEM_USER" => {
                Value::from(format!("{}@{}", id.user.name, self.0.handle.host))
            }
            "CURRENT_USER" => Value::from(format!("{}@%", id.user.name)),
            "VERSION" => Value::from(crate::engine::SERVER_VERSION),
            "CONNECTION_ID" => Value::Int(self.0.handle.id as i64),
            "LAST_INSERT_ID" => Value::Int(self.0.last_insert_id as i64),
            _ => return None,
        })
    }
}

/// Translates a statement; true if the plan may be cached (it took in no session values).
fn translate(session: &Session, stmt: Statement) -> Result<(Plan, bool)> {
    let ctx = Ctx(session);
    let tracking = crate::plan_cache::Tracking::new(&ctx);
    let plan = translate::plan(stmt, &tracking)?;
    let cacheable = tracking.cacheable() && plan.kind != PlanKind::Ddl;
    Ok((plan, cacheable))
}

/// Readies everything a plan needs before each run: privileges, attached databases, system views.
fn ready(session: &mut Session, plan: &Plan) -> Result<()> {
    privileges::check(session, &plan.access)?;
    for db in &plan.schemas {
        if let Err(e) = session.attach(db) {
            return Err(match (e, &plan.kind) {
                // A table in a database that does not exist is a missing table, as MySQL reports it.
                (SqlError::UnknownDatabase(db), PlanKind::Query | PlanKind::Dml { .. }) => {
                    let table = plan
                        .access
                        .iter()
                        .find(|a| a.db == db)
                        .and_then(|a| a.table.clone())
                        .unwrap_or_default();
                    SqlError::NoSuchTable { db, table }
                }
                (e, _) => e,
            });
        }
    }
    if plan
        .system_tables
        .iter()
        .any(|(schema, _)| schema == "information_schema")
    {
        // information_schema describes every database the user may see: attach them (outside a transaction;
        // inside one, it shows those already attached).
        let tenant_id = session.identity.tenant.tenant_id;
        for d in session.engine.catalog().databases(tenant_id)? {
            session.check_interrupted()?;
            if privileges::has_any(session, &d.name)? && !session.conn.in_transaction() {
                session
                    .conn
                    .ensure_attached(session.engine.catalog(), &d.name)?;
            }
        }
    }
    if let Some(db) = session.db.clone() {
        // pg_catalog describes the current database (PostgreSQL's one database per session).
        let reads_pg_catalog = plan.system_tables.iter().any(|(s, _)| s == "pg_catalog");
        if reads_pg_catalog && !session.conn.in_transaction() {
            session
                .conn
                .ensure_attached(session.engine.catalog(), &db)?;
        }
    }
    views::materialize(session, &plan.system_tables, &plan.view_equalities)?;
    Ok(())
}

/// Translates `stmt` (the text `sql`, under plan epoch `epoch`), keeps the plan in the session's cache when
/// it may be, and readies it.
fn plan_statement(
    session: &mut Session,
    sql: &str,
    epoch: (u64, u64),
    stmt: Statement,
) -> Result<Plan> {
    let (plan, cacheable) = translate(session, stmt)?;
    if cacheable {
        let db = session.db.clone();
        session
            .plans
            .put(sql, db.as_deref(), epoch, std::sync::Arc::new(plan.clone()));
    }
    ready(session, &plan)?;
    Ok(plan)
}

/// Runs a tenant statement the server made itself (not kept in the session's cache).
pub fn run(session: &mut Session, stmt: Statement, params: &[Value]) -> Result<Output> {
    run_statement(session, None, stmt, params)
}

/// Runs a client's tenant statement, the text `sql` parsed, keeping its plan in the session's cache when it
/// may be; `epoch` is the engine's plan epoch, read before parsing.
pub fn run_text(
    session: &mut Session,
    sql: &str,
    epoch: (u64, u64),
    stmt: Statement,
    params: &[Value],
) -> Result<Output> {
    run_statement(session, Some((sql, epoch)), stmt, params)
}

fn run_statement(
    session: &mut Session,
    text: Option<(&str, (u64, u64))>,
    stmt: Statement,
    params: &[Value],
) -> Result<Output> {
    let (plan, cacheable) = translate(session, stmt)?;
    if plan.temp_table.is_some() {
        // Only this session's connection changes: no other session's plans are affected.
        ready(session, &plan)?;
        return run_ddl(session, plan, params);
    }
    if plan.kind == PlanKind::Ddl {
        ready(session, &plan)?;
        // Every session's cached plans are made again after a schema change (before and after it: a
        // statement planned while the change ran must not outlive it either).
        session.engine.schema_changed();
        let out = run_ddl(session, plan, params);
        session.engine.schema_changed();
        return out;
    }
    let plan = std::sync::Arc::new(plan);
    if let (true, Some((sql, epoch))) = (cacheable, text) {
        let db = session.db.clone();
        session.plans.put(sql, db.as_deref(), epoch, plan.clone());
    }
    run_plan(session, &plan, params)
}

/// Compiles a plan's statement (from the connection's statement cache).
///
/// SQLite compiles against the schema it last read, and notices a change another connection committed (a
/// schema change job's) only when a statement steps; a compile that fails on the old shape (`table t has 2
/// columns but 3 values were supplied` after an ADD COLUMN) never gets that far. So after a failed compile each
/// database the plan names is read once, which reloads a changed schema, and the compile is tried again.
fn prepare_fresh<'c>(
    conn: &'c rusqlite::Connection,
    sql: &str,
    plan: &Plan,
) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    match conn.prepare_cached(sql) {
        Ok(stmt) => Ok(stmt),
        Err(rusqlite::Error::SqliteFailure(f, _)) if f.code == rusqlite::ErrorCode::Unknown => {
            let dbs: std::collections::BTreeSet<&str> =
                plan.access.iter().map(|a| a.db.as_str()).collect();
            for db in dbs {
                let _ = conn.query_row(
                    &format!("SELECT count(*) FROM {}.sqlite_master", quote(db)),
                    [],
                    |_| Ok(()),
                );
            }
            conn.prepare_cached(sql)
        }
        Err(e) => Err(e),
    }
}

/// Runs a translated query or DML plan (from the session's cache or just made): privileges are checked
/// and databases attached on every run.
pub(crate) fn run_plan(session: &mut Session, plan: &Plan, params: &[Value]) -> Result<Output> {
    ready(session, plan)?;
    match &plan.kind {
        PlanKind::Query => {
            begin_if_needed(session)?;
            // A front end that streams gets a big result's rows as they are read (see stream.rs).
            let sink = session.row_sink.take();
            let stop = session.interrupt.clone();
            let guard = restrict_unless_admin(session, plan);
            let result = (|| {
                let mut stmt = prepare_fresh(session.conn.conn(), &plan.sql[0], plan)?;
                check_param_count(stmt.parameter_count(), params)?;
                // Counted per run: the cached statement's counter is reset as it is read.
                stmt.reset_status(rusqlite::StatementStatus::FullscanStep);
                let read = read(
                    &mut stmt,
                    params,
                    None,
                    sink.as_ref().map(|s| (s, &stop)),
                    result_types(session, plan),
                )?;
                let scanned = stmt.reset_status(rusqlite::StatementStatus::FullscanStep) > 0;
                Ok((read, scanned))
            })()
            .map_err(|e| refusal(session, &guard, e));
            drop(guard);
            let (result, scanned) = result?;
            session.full_scan = scanned;
            Ok(match result {
                Read::All(rs) => Output::Rows(rs),
                Read::Streamed(rows) => Output::Streamed { rows },
            })
        }
        PlanKind::Dml { ref insert_into } => {
            begin_if_needed(session)?;
            session.take_writer_turn()?;
            let conn = session.conn.conn();
            let affected = {
                let guard = restrict_unless_admin(session, plan);
                (|| {
                    let mut stmt = prepare_fresh(conn, &plan.sql[0], plan)?;
                    check_param_count(stmt.parameter_count(), params)?;
                    Ok(stmt.execute(rusqlite::params_from_iter(params.iter().map(to_sql)))?)
                })()
                .map_err(|e| refusal(session, &guard, e))?
            };
            let mut last_insert_id = 0;
            if let (Some((db, table)), true) = (insert_into.as_ref(), affected > 0) {
                if has_auto_increment(session, db, table)? {
                    let last = conn.last_insert_rowid();
                    // MySQL reports the first id a multi-row INSERT generated.
                    last_insert_id = (last - affected as i64 + 1).max(0) as u64;
                    session.last_insert_id = last_insert_id;
                }
            }
            Ok(Output::Done {
                affected: affected as u64,
                last_insert_id,
            })
        }
        PlanKind::Ddl => Err(SqlError::Internal("a schema change is never cached".into())),
    }
}

/// Runs a schema change plan (readied).
fn run_ddl(session: &mut Session, plan: Plan, params: &[Value]) -> Result<Output> {
    if !params.is_empty() {
        return Err(SqlError::Unsupported("parameters in DDL".into()));
    }
    if let Some(change) = &plan.temp_table {
        return change_temp_tables(session, &plan.sql, change);
    }
    session.commit_if_open()?;
    let drops = !plan.sql.is_empty() && plan.sql.iter().all(|s| s.starts_with("DROP"));
    let missing_for_drop = |e: SqlError| match e {
        SqlError::NoSuchTable { db, table } if drops => SqlError::UnknownTable { db, table },
        e => e,
    };
    match plan.schema_change {
        Some((db, table, steps)) => {
            // Preparing compiles each statement without running it: missing tables or columns and
            // duplicate names fail here, before any job exists. Reading the schema first makes SQLite
            // notice changes other connections (earlier jobs) made to it.
            session.conn.conn().query_row(
                &format!("SELECT count(*) FROM {}.sqlite_master", quote(&db)),
                [],
                |_| Ok(()),
            )?;
            for sql in &plan.sql {
                session
                    .conn
                    .conn()
                    .prepare(sql)
                    .map_err(|e| missing_for_drop(e.into()))?;
            }
            run_schema_change_job(session, db, table, steps)
        }
        None => {
            session.take_writer_turn()?;
            let mut sql = plan.sql.clone();
            for d in &plan.dependent {
                sql.extend(crate::exec::schema::dependent_sql(session, d)?);
            }
            run_atomically(session, &sql).map_err(missing_for_drop)?;
            Ok(Output::ok())
        }
    }
}

/// Runs a schema change as a `SCHEMA CHANGE` job and waits for it, as the issuing client does in CockroachDB.
/// KILL QUERY stops the waiting, not the job; CANCEL JOB from anywhere stops the job, and then this statement
/// fails naming it.
fn run_schema_change_job(
    session: &mut Session,
    db: String,
    table: String,
    steps: Vec<tenantry_kinds::schema_change::Step>,
) -> Result<Output> {
    let tenant_id = session.identity.tenant.tenant_id;
    let entry = session
        .engine
        .catalog()
        .database(tenant_id, &db)?
        .ok_or_else(|| SqlError::UnknownDatabase(db.clone()))?;
    let payload = tenantry_kinds::schema_change::SchemaChangePayload {
        tenant_id,
        database: db,
        database_id: entry.database_id,
        table,
        steps,
    };
    let cancelable = payload.cancelable();
    let job = session.engine.jobs().create(tenantry_jobs::NewJob {
        job_type: tenantry_kinds::SCHEMA_CHANGE.to_string(),
        tenant_id,
        owner: session.identity.user.name.clone(),
        owner_is_admin: session.identity.user.is_admin,
        description: session.statement_text.clone(),
        statement: session.statement_text.clone(),
        payload: serde_json::to_value(&payload).map_err(|e| SqlError::Internal(e.to_string()))?,
        cancelable,
        parent_job_id: None,
    })?;
    let done = session.engine.jobs().wait(job.job_id, &session.interrupt)?;
    match done.state {
        tenantry_jobs::JobState::Succeeded => Ok(Output::ok()),
        tenantry_jobs::JobState::Canceled => Err(SqlError::JobCanceled {
            job_id: job.job_id,
            message: "the schema change was rolled back; the table is as it was".into(),
        }),
        _ => Err(SqlError::JobFailed {
            job_id: job.job_id,
            message: done.error_message.unwrap_or_default(),
        }),
    }
}

/// For users other than the tenant's administrator, SQLite may only touch what the privilege check approved.
fn restrict_unless_admin<'a>(
    session: &'a Session,
    plan: &Plan,
) -> Option<crate::sqlite::authorizer::AuthorizerGuard<'a>> {
    session.conn.restrict(plan)
}

/// A statement's error, with a refusal of the authorizer answered as a missing privilege on the table.
fn refusal(
    session: &Session,
    guard: &Option<crate::sqlite::authorizer::AuthorizerGuard<'_>>,
    e: SqlError,
) -> SqlError {
    match guard {
        Some(g) => g.explain(e, &session.identity.user.name),
        None => e,
    }
}

/// Describes a statement (the text `sql`) for a client that prepares it; its plan is kept in the session's
/// cache, so that its executes run without translating it again.
pub fn describe(session: &mut Session, sql: &str, stmt: Statement) -> Result<Prepared> {
    let hints = translate::parameter_hints(&stmt);
    let epoch = session.engine.plan_epoch();
    let plan = plan_statement(session, sql, epoch, stmt)?;
    describe_plan(session, &plan, &hints)
}

/// Describes a query that is part of another statement (a cursor's): its plan is not cached under the
/// statement's text, which names the other statement.
pub(crate) fn describe_query(session: &mut Session, stmt: Statement) -> Result<Prepared> {
    let hints = translate::parameter_hints(&stmt);
    let plan = query_plan(session, stmt)?;
    describe_plan(session, &plan, &hints)
}

/// The readied plan of a query that is part of another statement (a cursor's), not cached.
fn query_plan(session: &mut Session, stmt: Statement) -> Result<Plan> {
    let (plan, _) = translate(session, stmt)?;
    if plan.kind != PlanKind::Query || plan.sql.len() != 1 {
        return Err(SqlError::Unsupported(
            "a cursor for anything but a query".into(),
        ));
    }
    ready(session, &plan)?;
    Ok(plan)
}

/// A result column of [`visit_query_rows`]: its name and its declared type, if it has one.
pub(crate) struct QueryColumn {
    /// Its name.
    pub name: String,
    /// Its declared type (the table's, or the plan's for an expression), if any.
    pub decl: Option<String>,
}

/// Runs query `stmt` with `params` as a client's query runs (privileges, the authorizer, the
/// transaction), handing each row to `visit` as it is read, and returns its columns. Stops between rows
/// once the statement is told to.
pub(crate) fn visit_query_rows(
    session: &mut Session,
    stmt: Statement,
    params: &[Value],
    visit: &mut dyn FnMut(&rusqlite::Row) -> Result<()>,
) -> Result<Vec<QueryColumn>> {
    let plan = query_plan(session, stmt)?;
    begin_if_needed(session)?;
    let hinted = result_types(session, &plan).to_vec();
    let guard = restrict_unless_admin(session, &plan);
    let result = (|| {
        let mut stmt = session.conn.conn().prepare(&plan.sql[0])?;
        check_param_count(stmt.parameter_count(), params)?;
        {
            let mut rows = stmt.query(rusqlite::params_from_iter(params.iter().map(to_sql)))?;
            let mut read = 0u64;
            while let Some(row) = rows.next()? {
                visit(row)?;
                read += 1;
                if read.is_multiple_of(1024) {
                    session.check_interrupted()?;
                }
            }
        }
        // Described after stepping: a statement describes the schema it ran against only once it has.
        Ok(stmt
            .columns()
            .iter()
            .enumerate()
            .map(|(i, c)| QueryColumn {
                name: c.name().to_string(),
                decl: c
                    .decl_type()
                    .filter(|d| !d.is_empty())
                    .map(str::to_string)
                    .or_else(|| hinted.get(i).cloned().flatten()),
            })
            .collect())
    })();
    result.map_err(|e| refusal(session, &guard, e))
}

/// The declared types a plan's result columns get where SQLite has none: the translator's, and where a type
/// probe tells more (an argument's declared type), the probe's. The probe is prepared once per plan; one that
/// does not compile tells nothing.
fn result_types<'a>(session: &Session, plan: &'a Plan) -> &'a [Option<String>] {
    let Some(probe) = &plan.type_probe else {
        return &plan.result_types;
    };
    probe.resolved.get_or_init(|| {
        let probed: Vec<Option<String>> = match session.conn.conn().prepare(&probe.sql) {
            Ok(stmt) => stmt
                .columns()
                .iter()
                .zip(&probe.uses)
                .map(|(c, used)| {
                    let decl = c.decl_type().filter(|d| !d.is_empty())?;
                    Some(match used.as_ref()? {
                        translate::ProbeUse::Same => decl.to_string(),
                        translate::ProbeUse::ArrayOf => format!("{decl}[]"),
                    })
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        (0..plan.result_types.len().max(probed.len()))
            .map(|i| {
                probed
                    .get(i)
                    .cloned()
                    .flatten()
                    .or_else(|| plan.result_types.get(i).cloned().flatten())
            })
            .collect()
    })
}

/// Describes a readied plan: its parameters (typed by `hints` where their position tells) and columns.
fn describe_plan(
    session: &mut Session,
    plan: &Plan,
    hints: &[Option<translate::ParamHint>],
) -> Result<Prepared> {
    if plan.kind == PlanKind::Ddl || plan.sql.len() != 1 {
        return Ok(Prepared {
            params: 0,
            columns: Vec::new(),
            kinds: Vec::new(),
            param_kinds: Vec::new(),
        });
    }
    let param_kinds = hints
        .iter()
        .map(|h| match h {
            Some(translate::ParamHint::Int) => Some(crate::value::ColumnKind::Int),
            Some(translate::ParamHint::Column(c)) => column_kind(session, plan, c),
            None => None,
        })
        .collect();
    // A statement compiled now uses the schema this connection last read, which another session's schema
    // change may have outdated (SQLite notices only when a statement starts reading): reading each database's
    // schema first makes the columns described those the statement's executes will return.
    for db in &plan.schemas {
        session.conn.conn().query_row(
            &format!("SELECT count(*) FROM {}.sqlite_master", quote(db)),
            [],
            |_| Ok(()),
        )?;
    }
    let hinted = result_types(session, plan);
    // Compiled afresh, not taken from the statement cache: a cached statement describes the columns of the
    // schema it was compiled under until it next runs.
    let stmt = session.conn.conn().prepare(&plan.sql[0])?;
    Ok(Prepared {
        params: stmt.parameter_count(),
        columns: stmt.column_names().iter().map(|s| s.to_string()).collect(),
        kinds: stmt
            .columns()
            .iter()
            .enumerate()
            .map(|(i, c)| {
                c.decl_type()
                    .filter(|d| !d.is_empty())
                    .or_else(|| hinted.get(i).and_then(|t| t.as_deref()))
                    .map_or(
                        crate::value::ColumnKind::Text,
                        crate::sqlite::results::declared_kind,
                    )
            })
            .collect(),
        param_kinds,
    })
}

/// The declared kind of a column named `column` in one of the plan's tables (the first that has it).
fn column_kind(session: &Session, plan: &Plan, column: &str) -> Option<crate::value::ColumnKind> {
    for a in &plan.access {
        let Some(table) = &a.table else { continue };
        let sql = "SELECT type FROM pragma_table_info(?1, ?2) WHERE name = ?3 COLLATE NOCASE";
        let decl: Option<String> = session
            .conn
            .conn()
            .query_row(sql, [table.as_str(), a.db.as_str(), column], |r| r.get(0))
            .ok();
        if let Some(decl) = decl.filter(|d| !d.is_empty()) {
            return Some(crate::sqlite::results::declared_kind(&decl));
        }
    }
    None
}

fn check_param_count(expected: usize, params: &[Value]) -> Result<()> {
    if expected == params.len() {
        Ok(())
    } else {
        Err(SqlError::OceanBase {
            code: -1210,
            message: format!(
                "Incorrect arguments to EXECUTE: expected {expected} parameters, got {}",
                params.len()
            ),
        })
    }
}

/// With autocommit off, the first statement opens a transaction that lasts until COMMIT or ROLLBACK.
fn begin_if_needed(session: &Session) -> Result<()> {
    if !session.autocommit && !session.conn.in_transaction() {
        session.conn.conn().execute_batch("BEGIN")?;
    }
    Ok(())
}

/// CREATE / DROP TEMPORARY TABLE: only the session's connection changes (its `temp` schema), so, as in MySQL,
/// an open transaction is not committed (outside one, no writer turn is taken); the session's plans, which
/// resolved names before the change, are made again.
fn change_temp_tables(
    session: &mut Session,
    sql: &[String],
    change: &translate::TempTableChange,
) -> Result<Output> {
    // Inside a transaction the writer turn comes first: taking it later restarts a transaction that has
    // only read (see `Session::take_writer_turn`), and the restart's rollback would take the temporary
    // table back with it (SQLite's temp schema is transactional).
    if session.conn.in_transaction() {
        session.take_writer_turn()?;
    }
    run_atomically(session, sql).map_err(|e| match (e, change) {
        (SqlError::TableExists(_), translate::TempTableChange::Create(_, table)) => {
            SqlError::TableExists(table.clone())
        }
        (e, _) => e,
    })?;
    match change {
        translate::TempTableChange::Create(db, table) => {
            session.temp_tables.insert((db.clone(), table.clone()));
        }
        translate::TempTableChange::Drop(tables) => {
            for t in tables {
                session.temp_tables.remove(t);
            }
        }
    }
    session.plans.clear();
    Ok(Output::ok())
}

/// Runs statements all-or-nothing.
pub fn run_atomically(session: &Session, statements: &[String]) -> Result<()> {
    let conn = session.conn.conn();
    conn.execute_batch("SAVEPOINT ddl")?;
    for sql in statements {
        if let Err(e) = conn.execute_batch(sql) {
            let _ = conn.execute_batch("ROLLBACK TO ddl; RELEASE ddl");
            return Err(e.into());
        }
    }
    conn.execute_batch("RELEASE ddl")?;
    Ok(())
}

fn has_auto_increment(session: &Session, db: &str, table: &str) -> Result<bool> {
    let sql = format!(
        "SELECT sql LIKE '%AUTOINCREMENT%' FROM {}.sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
        quote(db)
    );
    let mut stmt = session.conn.conn().prepare_cached(&sql)?;
    let mut rows = stmt.query([table])?;
    Ok(match rows.next()? {
        Some(r) => r.get::<_, Option<bool>>(0)?.unwrap_or(false),
        None => false,
    })
}
