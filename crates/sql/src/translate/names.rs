//! Qualifying table names with their database.

use std::collections::HashSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    visit_relations_mut, Ident, ObjectName, ObjectNamePart, Query, SetExpr, Statement, TableAlias,
    TableFactor, Visit, VisitMut, Visitor, VisitorMut,
};

use super::SessionContext;
use crate::error::{Result, SqlError};

/// Qualifies every table reference with its database (`t` → `db.t`) and returns the (db, table) pairs.
/// CTE names are left alone. Database names are lower case, as the catalog keeps them.
pub fn qualify(stmt: &mut Statement, ctx: &dyn SessionContext) -> Result<Vec<(String, String)>> {
    let current_db = ctx.current_db();
    let pg_catalog_first = ctx.postgres_names();
    drop_dual(stmt);
    wrap_table_functions(stmt)?;
    // After the wrap: the table-valued functions it joins in must stay as they are, to see the tables
    // before them.
    super::set_functions::join_laterally(stmt)?;
    name_derived_columns(stmt)?;
    let ctes = cte_names(stmt);
    let mut relations = Vec::new();
    let flow = visit_relations_mut(stmt, |name| {
        let parts = match parts(name) {
            Ok(p) => p,
            Err(e) => return ControlFlow::Break(e),
        };
        if parts.last().is_some_and(|t| is_engine_internal(t)) {
            return ControlFlow::Break(SqlError::Unsupported(format!("access to '{name}'")));
        }
        match parts.as_slice() {
            [table] if ctes.contains(&table.to_ascii_lowercase()) => {}
            [table] | [_, table] if is_table_function(&parts, table) => {
                *name = ObjectName::from(vec![Ident::new(table.to_ascii_lowercase())]);
            }
            // PostgreSQL finds pg_catalog's tables before any of the search_path (psycopg's `FROM pg_type`).
            [table] if pg_catalog_first && crate::views::is_pg_catalog_table(table) => {
                let table = table.to_ascii_lowercase();
                relations.push(("pg_catalog".to_string(), table.clone()));
                *name = qualified("pg_catalog", &table);
            }
            // PostgreSQL's `public.t` is the current database's `t`, and `db.public.t` is db's (CockroachDB's
            // three-part names).
            [table] | [_, table]
                if parts.len() == 1
                    || (pg_catalog_first && parts[0].eq_ignore_ascii_case("public")) =>
            {
                match current_db {
                    Some(db) => {
                        let (db, table) = temp_or(ctx, db, table);
                        relations.push((db.clone(), table.clone()));
                        *name = qualified(&db, &table);
                    }
                    None => return ControlFlow::Break(SqlError::NoDatabaseSelected),
                }
            }
            [db, table] | [db, _, table]
                if parts.len() == 2
                    || (pg_catalog_first && parts[1].eq_ignore_ascii_case("public")) =>
            {
                let (db, table) = temp_or(ctx, &db.to_ascii_lowercase(), table);
                relations.push((db.clone(), table.clone()));
                *name = qualified(&db, &table);
            }
            _ => return ControlFlow::Break(SqlError::Unsupported(format!("the name '{name}'"))),
        }
        ControlFlow::Continue(())
    });
    match flow {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(relations),
    }
}

/// The SQLite schema that holds a session's temporary tables.
pub const TEMP_SCHEMA: &str = "temp";

/// The name in [`TEMP_SCHEMA`] of the session's temporary table `table` of database `db` (a table name cannot
/// hold a `.`, so it never meets a real one).
pub fn temp_name(db: &str, table: &str) -> String {
    format!("{db}.{table}")
}

/// The database and table a name in [`TEMP_SCHEMA`] stands for, if it is a temporary table's.
pub fn temp_origin(schema: &str, name: &str) -> Option<(String, String)> {
    if schema != TEMP_SCHEMA {
        return None;
    }
    name.split_once('.')
        .map(|(db, table)| (db.to_string(), table.to_string()))
}

/// `db.table`, or where the session's temporary table of that name lives if it has one.
fn temp_or(ctx: &dyn SessionContext, db: &str, table: &str) -> (String, String) {
    if ctx.temp_table(db, table) {
        (TEMP_SCHEMA.to_string(), temp_name(db, table))
    } else {
        (db.to_string(), table.to_string())
    }
}

/// Table-valued functions: SQLite's (`generate_series` from rusqlite's module, `json_each`, `json_tree`) and
/// PostgreSQL's `unnest` over our array text. Called, not qualified, also when PostgreSQL clients write
/// `pg_catalog.generate_series`. A tenant table of such a name must be qualified.
const TABLE_FUNCTIONS: [&str; 4] = ["generate_series", "unnest", "json_each", "json_tree"];

fn is_table_function(parts: &[String], table: &str) -> bool {
    let schema_ok = match parts {
        [_] => true,
        [schema, _] => schema.eq_ignore_ascii_case("pg_catalog"),
        _ => false,
    };
    schema_ok
        && TABLE_FUNCTIONS
            .iter()
            .any(|f| f.eq_ignore_ascii_case(table))
}

/// PostgreSQL names a set-returning function's column after its alias (`FROM generate_series(1, 3) AS s`
/// then reads `s`, `unnest(a) s(n)` reads `s.n`) or the function; SQLite's `generate_series` and
/// `json_each` have a column `value`. Such a call becomes `(SELECT value AS s FROM generate_series(1, 3)) AS s`;
/// `unnest(a)` reads the array through `json_each(pg_array_json(a))`.
fn wrap_table_functions(stmt: &mut Statement) -> Result<()> {
    struct Wrap(Option<SqlError>);
    impl VisitorMut for Wrap {
        type Break = ();
        // After the factor's children: the subquery it becomes calls the function again, and visiting
        // that replacement would wrap it again, for ever (one `FROM generate_series(...)` took all memory).
        fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            let TableFactor::Table {
                name,
                alias,
                args: Some(args),
                ..
            } = factor
            else {
                return ControlFlow::Continue(());
            };
            let Ok(parts) = parts(name) else {
                return ControlFlow::Continue(());
            };
            let Some(function) = parts.last().map(|f| f.to_ascii_lowercase()) else {
                return ControlFlow::Continue(());
            };
            if !is_table_function(&parts, &function)
                || !matches!(function.as_str(), "generate_series" | "unnest")
            {
                return ControlFlow::Continue(());
            }
            let table = alias
                .as_ref()
                .map(|a| a.name.clone())
                .unwrap_or_else(|| Ident::new(function.clone()));
            let column = alias
                .as_ref()
                .and_then(|a| a.columns.first())
                .map(|c| c.name.clone())
                .unwrap_or_else(|| table.clone());
            let call_args: Vec<String> = args.args.iter().map(|a| a.to_string()).collect();
            let source = if function == "unnest" {
                format!("json_each(pg_array_json({}))", call_args.join(", "))
            } else {
                format!("generate_series({})", call_args.join(", "))
            };
            let sql = format!("SELECT value AS {column} FROM {source}");
            match crate::parser::parse_tenant_sql(&sql) {
                Ok(Statement::Query(subquery)) => {
                    let alias = TableAlias {
                        explicit: true,
                        name: table,
                        columns: Vec::new(),
                        at: None,
                    };
                    *factor = TableFactor::Derived {
                        lateral: false,
                        subquery,
                        alias: Some(alias),
                        sample: None,
                    };
                }
                Ok(_) => {}
                Err(e) => {
                    self.0 = Some(e.into());
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut w = Wrap(None);
    let _ = VisitMut::visit(stmt, &mut w);
    match w.0 {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// SQLite's raw-page and pragma tables: reading or writing them would bypass everything above SQLite
/// (`sqlite_dbpage` can even overwrite pages), so no statement may name them.
fn is_engine_internal(table: &str) -> bool {
    let t = table.to_ascii_lowercase();
    t == "sqlite_dbpage"
        || t == "dbstat"
        || t.starts_with("pragma_")
        || t.starts_with("sqlite_stat")
}

/// The (db, table) of an already qualified name.
pub fn pair(name: &ObjectName) -> Result<(String, String)> {
    match parts(name)?.as_slice() {
        [db, table] => Ok((db.clone(), table.clone())),
        _ => Err(SqlError::Internal(format!("unqualified name {name}"))),
    }
}

/// Resolves a name that may or may not name its database.
pub fn resolve(name: &ObjectName, current_db: Option<&str>) -> Result<(String, String)> {
    match parts(name)?.as_slice() {
        [table] => current_db
            .map(|db| (db.to_string(), table.clone()))
            .ok_or(SqlError::NoDatabaseSelected),
        [db, table] => Ok((db.to_ascii_lowercase(), table.clone())),
        _ => Err(SqlError::Unsupported(format!("the name '{name}'"))),
    }
}

/// `` `db`.`t` ``.
pub fn qualified(db: &str, table: &str) -> ObjectName {
    ObjectName::from(vec![
        Ident::with_quote('`', db),
        Ident::with_quote('`', table),
    ])
}

/// A name quoted for SQLite with back-quotes.
pub fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn parts(name: &ObjectName) -> Result<Vec<String>> {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => Ok(i.value.clone()),
            ObjectNamePart::Function(_) => Err(SqlError::Unsupported(format!("the name '{name}'"))),
        })
        .collect()
}

/// `SELECT 1 FROM DUAL`: MySQL's (and Oracle's) table of one row is no table at all in SQLite.
fn drop_dual(stmt: &mut Statement) {
    struct Dual;
    impl VisitorMut for Dual {
        type Break = ();
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            strip(&mut query.body);
            ControlFlow::Continue(())
        }
    }
    fn strip(body: &mut SetExpr) {
        match body {
            SetExpr::Select(select) => {
                let is_dual = match select.from.as_slice() {
                    [t] if t.joins.is_empty() => matches!(
                        &t.relation,
                        TableFactor::Table { name, alias: None, args: None, .. }
                            if matches!(name.0.as_slice(), [ObjectNamePart::Identifier(i)]
                                if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("dual"))
                    ),
                    _ => false,
                };
                if is_dual {
                    select.from.clear();
                }
            }
            SetExpr::SetOperation { left, right, .. } => {
                strip(left);
                strip(right);
            }
            _ => {}
        }
    }
    let _ = stmt.visit(&mut Dual);
}

/// `(subquery) AS t(a, b)` — a derived table naming its columns (MySQL 8, PostgreSQL; SQLAlchemy's
/// multi-row INSERT reads `FROM (VALUES ...) AS imp_sen(p0, p1, ...)`) — which SQLite cannot say, as
/// `(WITH t(a, b) AS (subquery) SELECT * FROM t) AS t`: a CTE may name its columns.
fn name_derived_columns(stmt: &mut Statement) -> Result<()> {
    struct Name(Option<SqlError>);
    impl VisitorMut for Name {
        type Break = ();
        fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            let TableFactor::Derived {
                subquery,
                alias: Some(alias),
                ..
            } = factor
            else {
                return ControlFlow::Continue(());
            };
            if alias.columns.is_empty() {
                return ControlFlow::Continue(());
            }
            let name = alias.name.clone();
            let template = format!("WITH {name} AS (SELECT 1) SELECT * FROM {name}");
            let mut wrapper = match crate::parser::parse_tenant_sql(&template) {
                Ok(Statement::Query(q)) => q,
                Ok(other) => {
                    self.0 = Some(SqlError::Internal(format!("{template} parsed as {other}")));
                    return ControlFlow::Break(());
                }
                Err(e) => {
                    self.0 = Some(e.into());
                    return ControlFlow::Break(());
                }
            };
            let Some(cte) = wrapper.with.as_mut().and_then(|w| w.cte_tables.first_mut()) else {
                return ControlFlow::Continue(());
            };
            cte.alias.columns = std::mem::take(&mut alias.columns);
            // Moved, not cloned: the subquery may be deep.
            std::mem::swap(&mut cte.query, subquery);
            *subquery = wrapper;
            ControlFlow::Continue(())
        }
    }
    let mut n = Name(None);
    let _ = VisitMut::visit(stmt, &mut n);
    match n.0 {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn cte_names(stmt: &Statement) -> HashSet<String> {
    struct Ctes(HashSet<String>);
    impl Visitor for Ctes {
        type Break = ();
        fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
            if let Some(with) = &query.with {
                for cte in &with.cte_tables {
                    self.0.insert(cte.alias.name.value.to_ascii_lowercase());
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut v = Ctes(HashSet::new());
    let _ = stmt.visit(&mut v);
    v.0
}
