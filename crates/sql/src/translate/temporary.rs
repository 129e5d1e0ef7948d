//! MySQL's temporary tables: a session's own tables, kept in SQLite's per-connection `temp` schema (a session
//! has its own connection, so nobody else sees them and they go when it ends) under the name `db.table`, which
//! no real table can have. A name finds the session's temporary table before the database's table of that name
//! (`names::qualify`).

use sqlparser::ast::{CreateTable, ObjectName, TableConstraint};

use super::ddl;
use super::names::{pair, qualified, resolve, temp_name, temp_origin, TEMP_SCHEMA};
use super::SessionContext;
use crate::error::{Result, SqlError};

/// `CREATE TEMPORARY TABLE`: its SQLite statements, and the database and name of the table it creates.
pub(super) fn create(
    mut ct: CreateTable,
    current_db: Option<&str>,
) -> Result<(Vec<String>, String, String)> {
    let (schema, name) = pair(&ct.name)?;
    // Qualified already: to the database, or (one of that name exists) to the session's temporary table.
    let (db, table) = temp_origin(&schema, &name).unwrap_or((schema, name));
    let has_foreign_key = ct
        .constraints
        .iter()
        .any(|c| matches!(c, TableConstraint::ForeignKey(_)))
        || ct
            .columns
            .iter()
            .flat_map(|c| &c.options)
            .any(|o| matches!(o.option, sqlparser::ast::ColumnOption::ForeignKey(_)));
    if has_foreign_key {
        // InnoDB refuses them too: a temporary table outlives nothing it could reference safely.
        return Err(SqlError::Unsupported(
            "FOREIGN KEY on a temporary table".into(),
        ));
    }
    if ct.like.is_some() || ct.clone.is_some() {
        return Err(SqlError::Unsupported(
            "CREATE TEMPORARY TABLE ... LIKE".into(),
        ));
    }
    // A table created in SQLite's temp schema is a temporary table; the rest is an ordinary CREATE TABLE.
    ct.temporary = false;
    ct.name = qualified(TEMP_SCHEMA, &temp_name(&db, &table));
    let plan = ddl::translate(sqlparser::ast::Statement::CreateTable(ct), current_db)?;
    Ok((plan.sql, db, table))
}

/// A table as (database, name).
type TableName = (String, String);

/// Whether a DROP TABLE names one of the session's temporary tables.
pub(super) fn any_temp(names: &[ObjectName], ctx: &dyn SessionContext) -> bool {
    names.iter().any(|n| temp_target(n, ctx).is_some())
}

/// The temporary table a DROP TABLE name stands for (DROP's names are not qualified beforehand).
fn temp_target(name: &ObjectName, ctx: &dyn SessionContext) -> Option<TableName> {
    let (db, table) = resolve(name, ctx.current_db()).ok()?;
    temp_origin(&db, &table).or_else(|| ctx.temp_table(&db, &table).then_some((db, table)))
}

/// `DROP [TEMPORARY] TABLE` of temporary tables: its statements and the tables it drops. With TEMPORARY a name
/// that is no temporary table is `Unknown table` (1051) unless IF EXISTS, as in MySQL; without it, temporary and
/// other tables in one DROP are not supported.
pub(super) fn drop(
    names: &[ObjectName],
    if_exists: bool,
    temporary: bool,
    ctx: &dyn SessionContext,
) -> Result<(Vec<String>, Vec<TableName>)> {
    let mut sql = Vec::new();
    let mut dropped = Vec::new();
    for n in names {
        match temp_target(n, ctx) {
            Some((db, table)) => {
                sql.push(format!(
                    "DROP TABLE {}.{}",
                    super::quote(TEMP_SCHEMA),
                    super::quote(&temp_name(&db, &table))
                ));
                dropped.push((db, table));
            }
            None if !temporary => {
                return Err(SqlError::Unsupported(
                    "DROP TABLE of temporary and other tables in one statement".into(),
                ))
            }
            None if if_exists => {}
            None => {
                let (db, table) = resolve(n, ctx.current_db())?;
                return Err(SqlError::UnknownTable { db, table });
            }
        }
    }
    Ok((sql, dropped))
}
