//! `SCHEMA CHANGE` jobs: CREATE INDEX, ALTER TABLE, DROP TABLE / INDEX.
//!
//! The work runs the statements in one write transaction on its own connection. SQLite's progress handler
//! is the unit boundary: every few thousand VM steps it checks the job's cancellation token (returning true
//! aborts the statement, and SQLite rolls the whole transaction back), reports an estimate of rows done, and
//! paces the work to `bulk_io_max_rate`. So a cancel leaves the table exactly as it was, and costs a rollback.
//! Nothing commits unless the run still owns the job (fencing). Undo reverts a change that did commit before a
//! cancel was noticed, and is idempotent.

use std::sync::Arc;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use sqlparser::ast::{
    ColumnOption, ColumnOptionDef, CreateTable, Ident, ObjectName, Statement, TableConstraint,
};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;
use tenantry_catalog::Catalog;
use tenantry_jobs::{JobContext, JobError, JobKind, JobRecord};

use crate::Throttle;
use tenantry_jobs::ob_codes;

/// The name prefix of the CHECK constraints that keep numeric columns numeric: `type_check$<column>` allows
/// only `typeof(c) IN ('integer'[, 'real'], 'null')` (tables are made so by the SQL layer's CREATE TABLE).
pub const TYPE_CHECK_PREFIX: &str = "type_check$";

/// The name prefix of the CHECK constraints that keep date, time, UUID and JSON columns readable:
/// `typed_check$<kind>$<column>`, where kind is `date`, `datetime`, `time`, `uuid` or `json`.
pub const TYPED_CHECK_PREFIX: &str = "typed_check$";

/// One step of a schema change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Step {
    /// `CREATE [UNIQUE] INDEX`; `index` is the SQLite index name.
    CreateIndex {
        /// SQLite index name.
        index: String,
        /// The statement.
        sql: String,
    },
    /// `ALTER TABLE ... ADD COLUMN`.
    AddColumn {
        /// The column.
        column: String,
        /// The statement.
        sql: String,
    },
    /// `MODIFY` / `CHANGE COLUMN`: the table is rebuilt with the column's new definition, copying rows in
    /// bounded chunks (rows done / total are exact). All in the job's one transaction, so a cancel rolls it back.
    Rebuild {
        /// The column as it is named now.
        column: String,
        /// Its name after the change (the same for MODIFY).
        new_name: String,
        /// Its new definition in SQLite's words, e.g. `` `c` VARCHAR(20) COLLATE NOCASE ``.
        column_sql: String,
    },
    /// A change of the table's keys (`ALTER TABLE ... ADD / DROP PRIMARY KEY | FOREIGN KEY`): the table is
    /// rebuilt, as for `Rebuild`, with its definition changed and every column kept.
    Reshape {
        /// The change.
        change: TableChange,
    },
    /// Anything else (drops, renames): not reverted by undo, so jobs with such steps are not cancelable.
    Exec {
        /// The statement.
        sql: String,
    },
}

/// A change of a table's keys that SQLite can only make by rebuilding the table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TableChange {
    /// `ADD PRIMARY KEY (columns)`: the columns become NOT NULL, as in MySQL.
    AddPrimaryKey {
        /// The key's columns.
        columns: Vec<String>,
    },
    /// `DROP PRIMARY KEY`.
    DropPrimaryKey,
    /// `ADD [CONSTRAINT name] FOREIGN KEY ...`, in SQLite's words (`CONSTRAINT n FOREIGN KEY (a) REFERENCES t (b)`).
    AddForeignKey {
        /// The constraint's text.
        sql: String,
    },
    /// `DROP FOREIGN KEY name`.
    DropForeignKey {
        /// The constraint's name (`<table>_ibfk_<n>` names the n-th unnamed one).
        name: String,
    },
}

/// What a schema change job does.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SchemaChangePayload {
    /// The tenant.
    pub tenant_id: i64,
    /// The database (its name is the schema name the statements use).
    pub database: String,
    /// The database's catalog id when the job was created (a database dropped and re-created is not the same).
    pub database_id: i64,
    /// The table the change is about.
    pub table: String,
    /// The steps, run in order in one transaction.
    pub steps: Vec<Step>,
}

impl SchemaChangePayload {
    /// Whether undo can revert every step (so the job may be canceled).
    pub fn cancelable(&self) -> bool {
        self.steps.iter().all(|s| !matches!(s, Step::Exec { .. }))
    }
}

/// Rows copied per chunk of a rebuild: the unit between cancellation checks.
const REBUILD_CHUNK: i64 = 5000;

/// Progress handler period, in SQLite VM steps (a few microseconds of work).
const STEPS_PER_CHECK: i32 = 4000;
/// A rough count of VM steps per row for index builds and table rewrites, for the rows-done estimate.
const STEPS_PER_ROW: f64 = 12.0;

/// The schema change kind.
pub struct SchemaChange {
    catalog: Arc<Catalog>,
}

impl SchemaChange {
    /// A kind that finds database files through `catalog`.
    pub fn new(catalog: Arc<Catalog>) -> Self {
        Self { catalog }
    }

    fn connect(&self, p: &SchemaChangePayload) -> Result<Connection, JobError> {
        connect_database(&self.catalog, p.tenant_id, &p.database, p.database_id)
    }
}

/// A connection with the database `database` (catalog id `database_id`) of a tenant attached under its name;
/// fails permanently if the database was dropped (or dropped and created again) since the job was created.
pub(crate) fn connect_database(
    catalog: &Catalog,
    tenant_id: i64,
    database: &str,
    database_id: i64,
) -> Result<Connection, JobError> {
    let entry = catalog
        .database(tenant_id, database)
        .map_err(|e| JobError::Retryable(e.to_string()))?
        .filter(|d| d.database_id == database_id)
        .ok_or_else(|| JobError::Permanent {
            code: ob_codes::ERR_BAD_DATABASE,
            message: format!("database '{database}' no longer exists"),
        })?;
    let path = catalog
        .storage()
        .database_path(tenant_id, entry.database_id);
    let conn = Connection::open_in_memory().map_err(retryable)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(retryable)?;
    conn.execute(
        &format!("ATTACH DATABASE ?1 AS {}", quote(database)),
        [path.to_string_lossy()],
    )
    .map_err(retryable)?;
    tenantry_storage::configure_tenant_connection(&conn, database)
        .map_err(|e| JobError::Retryable(e.to_string()))?;
    Ok(conn)
}

pub(crate) fn retryable(e: rusqlite::Error) -> JobError {
    JobError::Retryable(e.to_string())
}

pub(crate) fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn payload(job: &JobRecord) -> Result<SchemaChangePayload, JobError> {
    serde_json::from_value(job.payload.clone()).map_err(|e| JobError::Permanent {
        code: ob_codes::ERR_UNEXPECTED,
        message: format!("bad schema change payload: {e}"),
    })
}

fn index_exists(conn: &Connection, db: &str, index: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        &format!(
            "SELECT EXISTS(SELECT 1 FROM {}.sqlite_master WHERE type = 'index' AND name = ?1)",
            quote(db)
        ),
        [index],
        |r| r.get(0),
    )
}

fn column_exists(conn: &Connection, db: &str, table: &str, column: &str) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare(&format!(
        "PRAGMA {}.table_info({})",
        quote(db),
        quote(table)
    ))?;
    let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
    for n in names {
        if n?.eq_ignore_ascii_case(column) {
            return Ok(true);
        }
    }
    Ok(false)
}

impl JobKind for SchemaChange {
    fn run(&self, job: &JobRecord, ctx: &JobContext) -> Result<(), JobError> {
        let p = payload(job)?;
        let conn = self.connect(&p)?;
        ctx.check()?;
        let (db, table) = (p.database.as_str(), p.table.as_str());
        let total_rows: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM {}.{}", quote(db), quote(table)),
                [],
                |r| r.get(0),
            )
            .unwrap_or(0);
        let page_bytes: i64 = conn
            .query_row(&format!("SELECT page_count * page_size FROM pragma_page_count({0}), pragma_page_size({0})", format_args!("'{}'", db.replace('\'', "''"))), [], |r| r.get(0))
            .unwrap_or(0);
        let bytes_per_row = if total_rows > 0 {
            (page_bytes / total_rows).max(1)
        } else {
            1
        };
        ctx.set_detail("rows_total", total_rows);
        ctx.set_progress(0.0, format!("starting: {total_rows} rows"));
        let rate = self.catalog.bulk_io_max_rate().unwrap_or(0);
        let has_rebuild = p
            .steps
            .iter()
            .any(|s| matches!(s, Step::Rebuild { .. } | Step::Reshape { .. }));
        if has_rebuild {
            // SQLite's procedure for rebuilding a table: with foreign keys on, dropping the old table would
            // delete (or cascade into) referencing rows; the references are checked before the commit instead.
            conn.execute_batch("PRAGMA foreign_keys = OFF; PRAGMA legacy_alter_table = ON;")
                .map_err(retryable)?;
        }
        begin_write(&conn, ctx)?;
        // A changefeed's capture triggers name the table's columns (SQLite refuses to drop a column a trigger
        // uses) and go with the table when it is rebuilt: they are taken off for the change and made again
        // for the new shape in the same transaction, so no write goes uncaptured.
        let captured =
            crate::changefeed::capture::captured_since(&conn, db, table).map_err(retryable)?;
        if captured.is_some() {
            crate::changefeed::capture::remove(&conn, db, table).map_err(retryable)?;
        }
        let result = (|| -> Result<(), JobError> {
            for step in &p.steps {
                if let Step::Rebuild {
                    column,
                    new_name,
                    column_sql,
                } = step
                {
                    // Chunks are the units here: the handler only has to stop a chunk that is under way.
                    let token = ctx.token();
                    conn.progress_handler(STEPS_PER_CHECK, Some(move || token.is_cancelled()));
                    rebuild(
                        &conn,
                        ctx,
                        &p,
                        column,
                        new_name,
                        column_sql,
                        rate,
                        bytes_per_row,
                    )?;
                    continue;
                }
                if let Step::Reshape { change } = step {
                    let token = ctx.token();
                    conn.progress_handler(STEPS_PER_CHECK, Some(move || token.is_cancelled()));
                    let edit = |ct: &mut CreateTable| reshape(ct, change, table);
                    rebuild_with(&conn, ctx, &p, &edit, None, rate, bytes_per_row)?;
                    continue;
                }
                install_estimating_handler(&conn, ctx, total_rows, rate, bytes_per_row);
                let sql = match step {
                    Step::CreateIndex { index, sql } => {
                        if index_exists(&conn, db, index).map_err(retryable)? {
                            continue;
                        }
                        sql
                    }
                    Step::AddColumn { column, sql } => {
                        if column_exists(&conn, db, table, column).map_err(retryable)? {
                            continue;
                        }
                        sql
                    }
                    Step::Exec { sql } => sql,
                    Step::Rebuild { .. } | Step::Reshape { .. } => continue,
                };
                // A drop validated before the job started may already have been applied by an earlier run that
                // committed just before a crash.
                let sql = idempotent_drop(sql);
                conn.execute_batch(&sql)
                    .map_err(|e| map_step_error(e, ctx))?;
            }
            if let Some(since) = captured {
                // False when the change dropped the table: its feeds fail on their own.
                crate::changefeed::capture::install(&conn, db, table, Some(since))
                    .map_err(retryable)?;
            }
            Ok(())
        })();
        conn.progress_handler(0, None::<fn() -> bool>);
        let committed = result.and_then(|()| {
            if has_rebuild {
                foreign_keys_hold(&conn, db)?;
            }
            // The commit and the job's success are one step: a cancel lands before it (and this rolls back)
            // or finds the job succeeded.
            ctx.finish(|| conn.execute_batch("COMMIT").map_err(retryable))
        });
        match committed {
            Ok(()) => {
                ctx.set_detail("rows_done", total_rows);
                ctx.set_progress(1.0, format!("done: {total_rows} rows"));
                Ok(())
            }
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// The work commits in the same step as the job's success ([`JobContext::finish`]), so a job that reverts
    /// never committed: its transaction rolled back (or died with the process), and there is nothing to undo.
    fn undo(&self, _job: &JobRecord, _ctx: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

/// `DROP TABLE x` as `DROP TABLE IF EXISTS x` (likewise for indexes and views).
fn idempotent_drop(sql: &str) -> String {
    for kind in ["DROP TABLE ", "DROP INDEX ", "DROP VIEW "] {
        if let Some(rest) = sql.strip_prefix(kind) {
            if !rest.starts_with("IF EXISTS") {
                return format!("{kind}IF EXISTS {rest}");
            }
        }
    }
    sql.to_string()
}

/// Fails the job if the rebuilt table broke a foreign key (checked before the commit, as SQLite advises).
fn foreign_keys_hold(conn: &Connection, db: &str) -> Result<(), JobError> {
    let violations: i64 = conn
        .query_row(
            &format!(
                "SELECT count(*) FROM pragma_foreign_key_check(NULL, '{}')",
                db.replace('\'', "''")
            ),
            [],
            |r| r.get(0),
        )
        .map_err(retryable)?;
    if violations > 0 {
        return Err(JobError::Permanent {
            code: ob_codes::FOREIGN_KEY_BROKEN,
            message: format!("the change would break {violations} foreign key reference(s)"),
        });
    }
    Ok(())
}

/// The progress handler of index builds and other single statements: it stops the statement on a cancel,
/// estimates rows done from VM steps, and paces the work to the rate.
fn install_estimating_handler(
    conn: &Connection,
    ctx: &JobContext,
    total_rows: i64,
    rate: u64,
    bytes_per_row: i64,
) {
    // The progress handler is the unit boundary of the work: it stops it, reports it and paces it.
    {
        let ctx = ctx.clone();
        let throttle = Throttle::new(rate);
        let mut steps: u64 = 0;
        let total = total_rows.max(1) as f64;
        let mut last_report = std::time::Instant::now();
        conn.progress_handler(
            STEPS_PER_CHECK,
            Some(move || {
                steps += STEPS_PER_CHECK as u64;
                let rows = (steps as f64 / STEPS_PER_ROW).min(total);
                if last_report.elapsed() >= std::time::Duration::from_millis(200) {
                    last_report = std::time::Instant::now();
                    ctx.set_detail("rows_done", rows as i64);
                    ctx.set_progress(
                        (rows / total).min(0.99),
                        format!("about {} of {} rows", rows as i64, total as i64),
                    );
                }
                let bytes = (rows as u64).saturating_mul(bytes_per_row as u64);
                !throttle.pace(bytes, || ctx.is_interrupted())
            }),
        );
    }
}

/// Rebuilds the table with one column's definition changed, inside the caller's write transaction.
#[allow(clippy::too_many_arguments)]
fn rebuild(
    conn: &Connection,
    ctx: &JobContext,
    p: &SchemaChangePayload,
    column: &str,
    new_name: &str,
    column_sql: &str,
    rate: u64,
    bytes_per_row: i64,
) -> Result<(), JobError> {
    let new_column =
        match Parser::parse_sql(&SQLiteDialect {}, &format!("CREATE TABLE x ({column_sql})"))
            .map_err(|e| permanent(e.to_string()))?
            .pop()
        {
            Some(Statement::CreateTable(mut c)) if !c.columns.is_empty() => c.columns.remove(0),
            _ => return Err(permanent(format!("bad column definition {column_sql}"))),
        };
    let table = p.table.as_str();
    let edit = |ct: &mut CreateTable| -> Result<(), JobError> {
        let position = ct
            .columns
            .iter()
            .position(|c| c.name.value.eq_ignore_ascii_case(column))
            .ok_or_else(|| permanent(format!("Unknown column '{column}' in '{table}'")))?;
        ct.columns[position] = new_column.clone();
        Ok(())
    };
    rebuild_with(
        conn,
        ctx,
        p,
        &edit,
        Some((column, new_name)),
        rate,
        bytes_per_row,
    )
}

fn permanent(message: String) -> JobError {
    JobError::Permanent {
        code: ob_codes::ERR_UNEXPECTED,
        message,
    }
}

/// MySQL's refusal of a key change, with its error number in the message.
fn refused(code: u16, message: String) -> JobError {
    permanent(format!("{code}: {message}"))
}

/// A table constraint in SQLite's words, parsed.
fn parse_constraint(sql: &str) -> Result<TableConstraint, JobError> {
    match Parser::parse_sql(&SQLiteDialect {}, &format!("CREATE TABLE x (a INT, {sql})"))
        .map_err(|e| permanent(e.to_string()))?
        .pop()
    {
        Some(Statement::CreateTable(mut c)) if !c.constraints.is_empty() => {
            Ok(c.constraints.remove(0))
        }
        _ => Err(permanent(format!("bad constraint {sql}"))),
    }
}

/// Applies a key change to a table's definition.
fn reshape(ct: &mut CreateTable, change: &TableChange, table: &str) -> Result<(), JobError> {
    let is_pk = |o: &ColumnOption| matches!(o, ColumnOption::PrimaryKey(_));
    let has_pk = ct
        .constraints
        .iter()
        .any(|c| matches!(c, TableConstraint::PrimaryKey(_)))
        || ct
            .columns
            .iter()
            .any(|c| c.options.iter().any(|o| is_pk(&o.option)));
    match change {
        TableChange::AddPrimaryKey { columns } => {
            if has_pk {
                return Err(refused(1068, "Multiple primary key defined".into()));
            }
            for name in columns {
                let col = ct
                    .columns
                    .iter_mut()
                    .find(|c| c.name.value.eq_ignore_ascii_case(name))
                    .ok_or_else(|| {
                        refused(1072, format!("Key column '{name}' doesn't exist in table"))
                    })?;
                if !col
                    .options
                    .iter()
                    .any(|o| o.option == ColumnOption::NotNull)
                {
                    col.options.insert(
                        0,
                        ColumnOptionDef {
                            name: None,
                            option: ColumnOption::NotNull,
                        },
                    );
                }
            }
            let list = columns
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(", ");
            ct.constraints
                .insert(0, parse_constraint(&format!("PRIMARY KEY ({list})"))?);
        }
        TableChange::DropPrimaryKey => {
            if !has_pk {
                return Err(refused(
                    1091,
                    "Can't DROP 'PRIMARY'; check that column/key exists".into(),
                ));
            }
            if ct.columns.iter().any(|c| {
                c.options.iter().any(|o| is_pk(&o.option))
                    && c.options.iter().any(|o| {
                        matches!(&o.option, ColumnOption::DialectSpecific(t) if t.iter().any(|t| t.to_string().eq_ignore_ascii_case("AUTOINCREMENT")))
                    })
            }) {
                return Err(refused(
                    1075,
                    "Incorrect table definition; there can be only one auto column and it must be defined as a key".into(),
                ));
            }
            ct.constraints
                .retain(|c| !matches!(c, TableConstraint::PrimaryKey(_)));
            for c in &mut ct.columns {
                c.options.retain(|o| !is_pk(&o.option));
            }
        }
        TableChange::AddForeignKey { sql } => ct.constraints.push(parse_constraint(sql)?),
        TableChange::DropForeignKey { name } => {
            let mut n = ct
                .columns
                .iter()
                .flat_map(|c| &c.options)
                .filter(|o| matches!(o.option, ColumnOption::ForeignKey(_)))
                .count();
            let before = ct.constraints.len();
            ct.constraints.retain(|c| match c {
                TableConstraint::ForeignKey(fk) => {
                    n += 1;
                    let own = fk
                        .name
                        .as_ref()
                        .map_or_else(|| format!("{table}_ibfk_{n}"), |i| i.value.clone());
                    !own.eq_ignore_ascii_case(name)
                }
                _ => true,
            });
            if ct.constraints.len() == before {
                return Err(refused(
                    1091,
                    format!("Can't DROP '{name}'; check that column/key exists"),
                ));
            }
        }
    }
    Ok(())
}

/// Rebuilds the table with its definition changed by `edit` (columns keep their names but for `renamed`),
/// copying rows in bounded chunks, inside the caller's write transaction.
#[allow(clippy::too_many_arguments)]
fn rebuild_with(
    conn: &Connection,
    ctx: &JobContext,
    p: &SchemaChangePayload,
    edit: &dyn Fn(&mut CreateTable) -> Result<(), JobError>,
    renamed: Option<(&str, &str)>,
    rate: u64,
    bytes_per_row: i64,
) -> Result<(), JobError> {
    let (db, table) = (p.database.as_str(), p.table.as_str());
    let step_err = |e: rusqlite::Error| map_step_error(e, ctx);
    let old_sql: String = conn
        .query_row(
            &format!(
                "SELECT sql FROM {}.sqlite_master WHERE type = 'table' AND name = ?1",
                quote(db)
            ),
            [table],
            |r| r.get(0),
        )
        .map_err(step_err)?;
    let mut ct = match Parser::parse_sql(&SQLiteDialect {}, &old_sql)
        .map_err(|e| permanent(e.to_string()))?
        .pop()
    {
        Some(Statement::CreateTable(ct)) => ct,
        _ => {
            return Err(permanent(format!(
                "cannot read the definition of table {table}"
            )))
        }
    };
    let old_names: Vec<String> = ct.columns.iter().map(|c| c.name.value.clone()).collect();
    edit(&mut ct)?;
    let scratch = format!("{table}$rebuild");
    ct.name = ObjectName::from(vec![
        Ident::with_quote('`', db),
        Ident::with_quote('`', &scratch),
    ]);
    ct.if_not_exists = false;
    let new_names: Vec<String> = ct.columns.iter().map(|c| c.name.value.clone()).collect();
    let list = |names: &[String]| {
        names
            .iter()
            .map(|n| quote(n))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (source, target) = (
        format!("{}.{}", quote(db), quote(table)),
        format!("{}.{}", quote(db), quote(&scratch)),
    );

    conn.execute_batch(&format!("DROP TABLE IF EXISTS {target}"))
        .map_err(step_err)?;
    conn.execute_batch(&ct.to_string()).map_err(step_err)?;
    let (lo, hi): (Option<i64>, Option<i64>) = conn
        .query_row(
            &format!("SELECT min(rowid), max(rowid) FROM {source}"),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(step_err)?;
    let total: i64 = conn
        .query_row(&format!("SELECT count(*) FROM {source}"), [], |r| r.get(0))
        .map_err(step_err)?;
    ctx.set_detail("rows_total", total);
    let throttle = Throttle::new(rate);
    let insert = format!(
        "INSERT INTO {target} ({}) SELECT {} FROM {source} WHERE rowid BETWEEN ?1 AND ?2",
        list(&new_names),
        list(&old_names)
    );
    let mut done: i64 = 0;
    if let (Some(lo), Some(hi)) = (lo, hi) {
        let mut start = lo;
        while start <= hi {
            ctx.check()?;
            let end = start.saturating_add(REBUILD_CHUNK - 1);
            done += conn.execute(&insert, [start, end]).map_err(step_err)? as i64;
            ctx.set_detail("rows_done", done);
            ctx.set_progress(
                done as f64 / total.max(1) as f64 * 0.99,
                format!("copied {done} of {total} rows"),
            );
            if !throttle.pace((done as u64).saturating_mul(bytes_per_row as u64), || {
                ctx.is_interrupted()
            }) {
                return Err(JobError::Interrupted);
            }
            start = end.saturating_add(1);
        }
    }
    let indexes: Vec<String> = {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT sql FROM {}.sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL",
                quote(db)
            ))
            .map_err(step_err)?;
        let rows = stmt
            .query_map([table], |r| r.get::<_, String>(0))
            .map_err(step_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(step_err)?
    };
    let has_sequence: bool = conn
        .query_row(
            &format!(
                "SELECT EXISTS(SELECT 1 FROM {}.sqlite_master WHERE name = 'sqlite_sequence')",
                quote(db)
            ),
            [],
            |r| r.get(0),
        )
        .map_err(step_err)?;
    if has_sequence {
        // Keep AUTO_INCREMENT counting from where it was, not from the highest id left.
        conn.execute(
            &format!(
                "UPDATE {0}.sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM {0}.sqlite_sequence WHERE name = ?1), 0)) WHERE name = ?2",
                quote(db)
            ),
            [table, scratch.as_str()],
        )
        .map_err(step_err)?;
    }
    conn.execute_batch(&format!("DROP TABLE {source}"))
        .map_err(step_err)?;
    conn.execute_batch(&format!("ALTER TABLE {target} RENAME TO {}", quote(table)))
        .map_err(step_err)?;
    for sql in indexes {
        let (old, new) = renamed.unwrap_or(("", ""));
        let sql = qualify_index_sql(&sql, db, old, new);
        conn.execute_batch(&sql).map_err(step_err)?;
    }
    Ok(())
}

/// Index text as SQLite keeps it (`CREATE INDEX `t$i` ON `t` (...)`), qualified with the schema and with a
/// renamed column renamed.
fn qualify_index_sql(sql: &str, db: &str, old_column: &str, new_column: &str) -> String {
    let (head, tail) = sql.split_once(" ON ").unwrap_or((sql, ""));
    let head = match head.find("INDEX ") {
        Some(i) if !head.contains(&format!("{}.", quote(db))) => {
            format!("{}INDEX {}.{}", &head[..i], quote(db), &head[i + 6..])
        }
        _ => head.to_string(),
    };
    let tail = if old_column.eq_ignore_ascii_case(new_column) {
        tail.to_string()
    } else {
        tail.replace(&quote(old_column), &quote(new_column))
    };
    format!("{head} ON {tail}")
}

/// Takes the database's write lock, waiting as long as another writer holds it but stopping at once on a cancel
/// (SQLite's own busy wait would not notice one).
pub(crate) fn begin_write(conn: &Connection, ctx: &JobContext) -> Result<(), JobError> {
    conn.busy_timeout(std::time::Duration::from_millis(20))
        .map_err(retryable)?;
    let mut waited = false;
    loop {
        match conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => break,
            Err(rusqlite::Error::SqliteFailure(f, _))
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                if !waited {
                    ctx.set_progress(0.0, "waiting for the table's write lock");
                    waited = true;
                }
                ctx.check()?;
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(e) => return Err(retryable(e)),
        }
    }
    // Statements inside the transaction never wait for locks again; keep a normal timeout for safety.
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(retryable)?;
    Ok(())
}

/// An interrupted statement is the cancel (or pause) taking effect; anything else fails the job.
fn map_step_error(e: rusqlite::Error, ctx: &JobContext) -> JobError {
    if ctx.is_interrupted() {
        return JobError::Interrupted;
    }
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy => {
            retryable(e)
        }
        _ => JobError::Permanent {
            code: ob_codes::ERR_UNEXPECTED,
            message: e.to_string(),
        },
    }
}
