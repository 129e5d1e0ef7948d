//! Translation of tenant SQL (MySQL flavour, parsed by sqlparser) into SQLite statements.
//!
//! Every table name is qualified with its database (each database is an attached SQLite schema),
//! session values (`@@vars`, `@vars`, `DATABASE()`, ...) become literals, MySQL-only syntax becomes
//! SQLite's, and the tables touched are listed with the privilege each needs.

mod ddl;
mod dml_forms;
mod exprs;
mod extract;
mod functions;
mod names;
mod params;
mod pg_names;
mod result_types;
mod set_functions;
mod temporary;
mod view_equalities;

use std::collections::{BTreeMap, BTreeSet};

use sqlparser::ast::{FromTable, Statement, TableFactor, TableObject};
use tenantry_catalog::Privilege;

pub use ddl::{
    auto_increment_type, mysql_index_name, sqlite_index_name, Dependent, TYPED_CHECK_PREFIX,
    TYPE_CHECK_PREFIX,
};
pub use exprs::SessionContext;
pub use names::{quote, temp_name, temp_origin, TEMP_SCHEMA};
pub use params::{parameter_hints, ParamHint};
pub use view_equalities::Equality;

use crate::error::{Result, SqlError};

/// Schemas that hold system views instead of tenant tables.
pub const SYSTEM_SCHEMAS: [&str; 4] = [
    "oceanbase",
    "information_schema",
    "crdb_internal",
    "pg_catalog",
];

/// The system schemas SHOW DATABASES lists (CockroachDB's crdb_internal is not a MySQL database).
pub const LISTED_SYSTEM_SCHEMAS: [&str; 2] = ["information_schema", "oceanbase"];

/// Whether `db` names a system schema.
pub fn is_system_schema(db: &str) -> bool {
    SYSTEM_SCHEMAS.iter().any(|s| s.eq_ignore_ascii_case(db))
}

/// One table a statement touches and the privilege it needs there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Access {
    /// The database.
    pub db: String,
    /// The table (`None` for database-level privileges; CREATE TABLE names the table it creates, as MySQL's 1142 does).
    pub table: Option<String>,
    /// The privilege needed.
    pub privilege: Privilege,
}

/// What kind of statement a plan runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanKind {
    /// Returns rows.
    Query,
    /// Changes rows; `insert_into` names the target of an INSERT (for its generated id).
    Dml {
        /// The table an INSERT writes to.
        insert_into: Option<(String, String)>,
    },
    /// Changes the schema: runs after an implicit commit, all statements in one savepoint.
    Ddl,
}

/// A translated statement, ready for the session's SQLite connection.
#[derive(Debug, Clone)]
pub struct Plan {
    /// SQLite statements, in order.
    pub sql: Vec<String>,
    /// The tables touched, with the privilege each needs.
    pub access: BTreeSet<Access>,
    /// System views the statement reads, as (schema, view).
    pub system_tables: BTreeSet<(String, String)>,
    /// What the statement's WHERE requires of the rows it reads from some of those views.
    pub view_equalities: BTreeMap<(String, String), Vec<Equality>>,
    /// Every database schema the statement refers to.
    pub schemas: BTreeSet<String>,
    /// Query, DML or DDL.
    pub kind: PlanKind,
    /// A schema change that runs as a job: (database, table, steps).
    pub schema_change: Option<(String, String, Vec<tenantry_kinds::schema_change::Step>)>,
    /// Schema changes whose statements are made when they run, from the schema then (after `sql`).
    pub dependent: Vec<Dependent>,
    /// The session's temporary tables the statement creates or drops.
    pub temp_table: Option<TempTableChange>,
    /// Declared types for result columns SQLite cannot type, by position (PostgreSQL's booleans).
    pub result_types: Vec<Option<String>>,
    /// A query that describes the types of result columns typed by an argument (see
    /// `result_types::type_probe`); PostgreSQL wire only.
    pub type_probe: Option<TypeProbe>,
}

/// A query SQLite can describe in place of one whose result columns it cannot type: each of its columns
/// is the argument that types the original column at that position.
#[derive(Debug, Clone)]
pub struct TypeProbe {
    /// The query (only prepared, never run).
    pub sql: String,
    /// For each result column, how the probe's column at that position types it (`None`: it does not).
    pub uses: Vec<Option<ProbeUse>>,
    /// The result types with what the probe told, once it was prepared (a plan lives no longer than the
    /// schema it was made under).
    pub resolved: std::sync::OnceLock<Vec<Option<String>>>,
}

/// How a probe's column types the original column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeUse {
    /// The same type (`min(x)`: x's).
    Same,
    /// An array of it (`array_agg(x)`).
    ArrayOf,
}

/// A change to the session's temporary tables, each named by (database, table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TempTableChange {
    /// CREATE TEMPORARY TABLE.
    Create(String, String),
    /// DROP [TEMPORARY] TABLE of temporary tables.
    Drop(Vec<(String, String)>),
}

/// Translates one parsed tenant statement as a session whose current database is `db` would, with every
/// variable NULL and without opening any database: for tools and fuzzing (`fuzz/`).
pub fn translate_detached(stmt: Statement, db: Option<&str>) -> Result<Vec<String>> {
    plan(stmt, &Detached(db)).map(|p| p.sql)
}

/// A session context with only a current database.
struct Detached<'a>(Option<&'a str>);

impl SessionContext for Detached<'_> {
    fn current_db(&self) -> Option<&str> {
        self.0
    }
    fn system_variable(&self, _: &str) -> Result<crate::value::Value> {
        Ok(crate::value::Value::Null)
    }
    fn user_variable(&self, _: &str) -> crate::value::Value {
        crate::value::Value::Null
    }
    fn session_function(&self, _: &str) -> Option<crate::value::Value> {
        None
    }
}

/// Translates one tenant statement.
pub fn plan(mut stmt: Statement, ctx: &dyn SessionContext) -> Result<Plan> {
    let relations = names::qualify(&mut stmt, ctx)?;
    let mut access = BTreeSet::new();
    let mut system_tables = BTreeSet::new();
    let mut schemas = BTreeSet::new();
    for (db, table) in &relations {
        if is_system_schema(db) {
            system_tables.insert((db.clone(), table.clone()));
        } else if db != names::TEMP_SCHEMA {
            schemas.insert(db.clone());
        }
    }
    // Read before the rewrite, which may turn literals into expressions.
    let view_equalities = view_equalities::equalities(&stmt, &relations, &system_tables);
    let result_types = exprs::rewrite(&mut stmt, ctx)?;
    let type_probe = if ctx.postgres_names() {
        result_types::type_probe(&mut stmt, &result_types)
    } else {
        None
    };
    // SELECT on every table the statement names but those it writes or changes.
    let read_all = |access: &mut BTreeSet<Access>, except: &[(String, String)]| {
        for (db, table) in &relations {
            let excepted = except
                .iter()
                .any(|(d, t)| d == db && t.eq_ignore_ascii_case(table));
            if !excepted && !is_system_schema(db) {
                access.insert(Access {
                    db: db.clone(),
                    table: Some(table.clone()),
                    privilege: Privilege::Select,
                });
            }
        }
    };
    let mut schema_change = None;
    let mut dependent = Vec::new();
    let mut temp_table = None;
    let (sql, kind) = match stmt {
        Statement::CreateTable(ct) if ct.temporary => {
            let (sql, db, table) = temporary::create(ct, ctx.current_db())?;
            // MySQL's CREATE TEMPORARY TABLES privilege is the database's CREATE here.
            access.insert(Access {
                db: db.clone(),
                table: None,
                privilege: Privilege::Create,
            });
            // What AS SELECT reads; the name being created is no read.
            read_all(&mut access, &[(db.clone(), table.clone())]);
            schemas.insert(db.clone());
            temp_table = Some(TempTableChange::Create(db, table));
            (sql, PlanKind::Ddl)
        }
        Statement::Drop {
            object_type: sqlparser::ast::ObjectType::Table,
            if_exists,
            names,
            temporary,
            ..
        } if temporary || temporary::any_temp(&names, ctx) => {
            let (sql, dropped) = temporary::drop(&names, if_exists, temporary, ctx)?;
            temp_table = Some(TempTableChange::Drop(dropped));
            (sql, PlanKind::Ddl)
        }
        Statement::Query(mut query) => {
            // Row locks are implicit: a SQLite write transaction locks the whole database.
            query.locks.clear();
            read_all(&mut access, &[]);
            (vec![query.to_string()], PlanKind::Query)
        }
        Statement::Explain { .. } => {
            read_all(&mut access, &[]);
            let text = stmt.to_string();
            let rest = text
                .split_once(' ')
                .map(|(_, r)| r.to_string())
                .unwrap_or_default();
            (vec![format!("EXPLAIN QUERY PLAN {rest}")], PlanKind::Query)
        }
        Statement::Insert(mut insert) => {
            let target = match &insert.table {
                TableObject::TableName(name) => names::pair(name)?,
                TableObject::TableFunction(_) | TableObject::TableQuery(_) => {
                    return Err(SqlError::Unsupported("INSERT INTO a table function".into()))
                }
            };
            deny_system_write(&target)?;
            read_all(&mut access, std::slice::from_ref(&target));
            let privilege = if insert.replace_into {
                access.insert(Access {
                    db: target.0.clone(),
                    table: Some(target.1.clone()),
                    privilege: Privilege::Delete,
                });
                Privilege::Insert
            } else {
                Privilege::Insert
            };
            access.insert(Access {
                db: target.0.clone(),
                table: Some(target.1.clone()),
                privilege,
            });
            exprs::mysql_insert_to_sqlite(&mut insert)?;
            // With RETURNING the statement yields rows (SQLite has RETURNING since 3.35).
            let kind = if insert.returning.is_some() {
                PlanKind::Query
            } else {
                PlanKind::Dml {
                    insert_into: Some(target),
                }
            };
            (vec![Statement::Insert(insert).to_string()], kind)
        }
        Statement::Update(update) => {
            let rewritten = dml_forms::update(&update)?;
            let target = match (&rewritten, &update.table.relation) {
                (Some((_, target)), _) => target.clone(),
                (None, TableFactor::Table { name, .. }) => names::pair(name)?,
                _ => return Err(SqlError::Unsupported("UPDATE of a derived table".into())),
            };
            deny_system_write(&target)?;
            read_all(&mut access, std::slice::from_ref(&target));
            access.insert(Access {
                db: target.0,
                table: Some(target.1),
                privilege: Privilege::Update,
            });
            let kind = if update.returning.is_some() {
                PlanKind::Query
            } else {
                PlanKind::Dml { insert_into: None }
            };
            let sql = match rewritten {
                Some((sql, _)) => sql,
                None => Statement::Update(update).to_string(),
            };
            (vec![sql], kind)
        }
        Statement::Delete(delete) => {
            let rewritten = dml_forms::delete(&delete)?;
            let target = match &rewritten {
                Some((_, target)) => target.clone(),
                None => {
                    let from = match &delete.from {
                        FromTable::WithFromKeyword(f) | FromTable::WithoutKeyword(f) => f,
                    };
                    match from.first().map(|t| &t.relation) {
                        Some(TableFactor::Table { name, .. }) => names::pair(name)?,
                        _ => {
                            return Err(SqlError::Unsupported("DELETE from a derived table".into()))
                        }
                    }
                }
            };
            deny_system_write(&target)?;
            read_all(&mut access, std::slice::from_ref(&target));
            access.insert(Access {
                db: target.0,
                table: Some(target.1),
                privilege: Privilege::Delete,
            });
            let kind = if delete.returning.is_some() {
                PlanKind::Query
            } else {
                PlanKind::Dml { insert_into: None }
            };
            let sql = match rewritten {
                Some((sql, _)) => sql,
                None => Statement::Delete(delete).to_string(),
            };
            (vec![sql], kind)
        }
        other => {
            let ddl = ddl::translate(other, ctx.current_db())?;
            for (db, _) in &ddl.tables {
                deny_system_write(&(db.clone(), String::new()))?;
                if db != names::TEMP_SCHEMA {
                    schemas.insert(db.clone());
                }
            }
            access.extend(ddl.access);
            // What the statement reads besides the tables it changes (an AS SELECT's, a foreign key's
            // target): changing a table is the DDL privilege's business, not SELECT's.
            read_all(&mut access, &ddl.tables);
            if let (Some(steps), Some((db, table))) = (ddl.steps, ddl.tables.first()) {
                schema_change = Some((db.clone(), table.clone(), steps));
            }
            dependent = ddl.dependent;
            (ddl.sql, PlanKind::Ddl)
        }
    };
    Ok(Plan {
        sql,
        access,
        system_tables,
        view_equalities,
        schemas,
        kind,
        schema_change,
        dependent,
        temp_table,
        result_types,
        type_probe,
    })
}

fn deny_system_write((db, _): &(String, String)) -> Result<()> {
    if is_system_schema(db) {
        Err(SqlError::NeedPrivilege("SUPER"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod linear_tests {
    //! Parsing and translating one statement costs work linear in its length: counted (the parser's own
    //! steps and the bytes allocated), never timed, for 1,000 and 16,000 rows or terms.

    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    use super::{plan, SessionContext};
    use crate::error::Result;
    use crate::value::Value;

    /// Counts the bytes this thread allocates (other test threads count their own).
    struct Counting;

    thread_local! {
        static ALLOCATED: Cell<u64> = const { Cell::new(0) };
    }

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let _ = ALLOCATED.try_with(|a| a.set(a.get() + layout.size() as u64));
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let _ = ALLOCATED.try_with(|a| a.set(a.get() + new_size as u64));
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static COUNTING: Counting = Counting;

    struct Ctx;

    impl SessionContext for Ctx {
        fn current_db(&self) -> Option<&str> {
            Some("shop")
        }
        fn system_variable(&self, _: &str) -> Result<Value> {
            Ok(Value::Int(1))
        }
        fn user_variable(&self, _: &str) -> Value {
            Value::Null
        }
        fn session_function(&self, _: &str) -> Option<Value> {
            None
        }
    }

    /// (parser steps, bytes allocated) to parse and translate `sql`.
    fn work(sql: &str) -> (u64, u64) {
        let steps = crate::parser::work::steps();
        let bytes = ALLOCATED.with(Cell::get);
        let parsed = crate::parser::parse(sql).expect("parses");
        let crate::parser::Parsed::Tenant(stmt) = parsed else {
            panic!("tenant SQL expected")
        };
        let p = plan(*stmt, &Ctx).expect("translates");
        assert_eq!(p.sql.len(), 1);
        drop(p);
        (
            crate::parser::work::steps() - steps,
            ALLOCATED.with(Cell::get) - bytes,
        )
    }

    fn check_linear(what: &str, build: impl Fn(usize) -> String) {
        let (small, large) = (build(1000), build(16_000));
        let ratio_len = large.len() as f64 / small.len() as f64;
        let (s_steps, s_bytes) = work(&small);
        let (l_steps, l_bytes) = work(&large);
        let step_ratio = l_steps as f64 / s_steps as f64;
        let byte_ratio = l_bytes as f64 / s_bytes as f64;
        // Linear work grows like the text (16×); quadratic work would grow 256×. Allow a margin for
        // vectors that double as they grow.
        assert!(
            step_ratio < ratio_len * 1.5,
            "{what}: parser steps grew {step_ratio:.1}× for {ratio_len:.1}× the text"
        );
        assert!(
            byte_ratio < ratio_len * 2.0,
            "{what}: allocation grew {byte_ratio:.1}× for {ratio_len:.1}× the text"
        );
    }

    #[test]
    fn multi_row_insert_is_linear() {
        check_linear("INSERT ... VALUES", |n| {
            let rows: Vec<String> = (0..n)
                .map(|i| format!("({i}, 'name {i}', {i}.5, NULL, -{i})"))
                .collect();
            format!(
                "INSERT INTO items (id, name, price, note, k) VALUES {}",
                rows.join(", ")
            )
        });
    }

    #[test]
    fn in_list_is_linear() {
        check_linear("IN list", |n| {
            let values: Vec<String> = (0..n).map(|i| i.to_string()).collect();
            format!("SELECT id FROM items WHERE id IN ({})", values.join(","))
        });
    }

    #[test]
    fn select_list_and_short_chains_are_linear() {
        check_linear("select list", |n| {
            let items: Vec<String> = (0..n).map(|i| format!("a + {i} * b AS c{i}")).collect();
            format!(
                "SELECT {} FROM items WHERE a = 1 OR b = 2",
                items.join(", ")
            )
        });
    }
}
