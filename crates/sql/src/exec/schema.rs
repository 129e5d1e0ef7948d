//! Databases and schema introspection: CREATE / DROP DATABASE, USE, SHOW DATABASES / TABLES / COLUMNS /
//! CREATE TABLE / INDEX.

use tenantry_catalog::{CatalogError, Privilege};

use crate::error::{Result, SqlError};
use crate::exec::{filter, privileges};
use crate::parser::{Command, TableRef};
use crate::session::Session;
use crate::translate::{
    auto_increment_type, is_system_schema, mysql_index_name, quote, LISTED_SYSTEM_SCHEMAS,
};
use crate::value::{Column, ColumnKind, Output, ResultSet, Value};
use crate::views;

/// Runs a schema statement.
pub fn run(session: &mut Session, cmd: Command) -> Result<Output> {
    match cmd {
        Command::CreateDatabase {
            name,
            if_not_exists,
        } => {
            let name = name.to_ascii_lowercase();
            privileges::check_db(session, &name, Privilege::Create)?;
            if is_system_schema(&name) {
                return if if_not_exists {
                    Ok(Output::ok())
                } else {
                    Err(SqlError::DatabaseExists(name))
                };
            }
            session.commit_if_open()?;
            match session
                .engine
                .catalog()
                .create_database(session.identity.tenant.tenant_id, &name)
            {
                Ok(_) => Ok(Output::affected(1)),
                Err(CatalogError::DatabaseExists(_)) if if_not_exists => Ok(Output::ok()),
                Err(CatalogError::DatabaseExists(n)) => Err(SqlError::DatabaseExists(n)),
                Err(e) => Err(e.into()),
            }
        }
        Command::DropDatabase { name, if_exists } => {
            let name = name.to_ascii_lowercase();
            if is_system_schema(&name) {
                return Err(SqlError::DbAccessDenied {
                    user: session.identity.user.name.clone(),
                    db: name,
                });
            }
            privileges::check_db(session, &name, Privilege::Drop)?;
            session.commit_if_open()?;
            session.conn.detach(&name)?;
            match session
                .engine
                .catalog()
                .drop_database(session.identity.tenant.tenant_id, &name)
            {
                Ok(_) => {
                    if session.db.as_deref() == Some(name.as_str()) {
                        session.db = None;
                    }
                    Ok(Output::ok())
                }
                Err(CatalogError::DatabaseNotExist(_)) if if_exists => Ok(Output::ok()),
                Err(CatalogError::DatabaseNotExist(n)) => Err(SqlError::DropMissingDatabase(n)),
                Err(e) => Err(e.into()),
            }
        }
        Command::Use(db) => {
            use_database(session, &db)?;
            Ok(Output::ok())
        }
        Command::ShowDatabases(f) => {
            let mut rs = ResultSet::with_text_columns(&["Database"]);
            let mut names: Vec<String> = LISTED_SYSTEM_SCHEMAS
                .iter()
                .map(|s| s.to_string())
                .collect();
            for d in session
                .engine
                .catalog()
                .databases(session.identity.tenant.tenant_id)?
            {
                if privileges::has_any(session, &d.name)? {
                    names.push(d.name);
                }
            }
            names.sort();
            rs.rows = names.into_iter().map(|n| vec![Value::Text(n)]).collect();
            Ok(Output::Rows(filter::apply(session, rs, &f)?))
        }
        Command::ShowTables {
            full,
            db,
            filter: f,
        } => {
            let db = resolve_db(session, db)?;
            let mut cols = vec![format!("Tables_in_{db}")];
            if full {
                cols.push("Table_type".into());
            }
            let col_refs: Vec<&str> = cols.iter().map(String::as_str).collect();
            let mut rs = ResultSet::with_text_columns(&col_refs);
            for (name, kind) in list_tables(session, &db)? {
                let mut row = vec![Value::Text(name)];
                if full {
                    row.push(Value::Text(kind));
                }
                rs.rows.push(row);
            }
            Ok(Output::Rows(filter::apply(session, rs, &f)?))
        }
        Command::ShowColumns {
            full,
            table,
            filter: f,
        } => {
            let (db, table) = resolve_table(session, table)?;
            let mut rs = if is_system_schema(&db) {
                views::describe(&db, &table, &session.identity)?
            } else {
                describe_table(session, &db, &table)?
            };
            if full {
                rs = full_columns(rs);
            }
            Ok(Output::Rows(filter::apply(session, rs, &f)?))
        }
        Command::ShowTableStatus { db, filter: f } => {
            let db = resolve_db(session, db)?;
            let rs = table_status(session, &db)?;
            Ok(Output::Rows(filter::apply(session, rs, &f)?))
        }
        Command::TableKeys(table) => {
            // The table must exist and be the user's to change, as MySQL checks; nothing else happens.
            let (db, table) = resolve_table(session, table)?;
            if is_system_schema(&db) {
                return Err(SqlError::NeedPrivilege("SUPER"));
            }
            privileges::check(
                session,
                &std::iter::once(crate::translate::Access {
                    db,
                    table: Some(table),
                    privilege: tenantry_catalog::Privilege::Alter,
                })
                .collect(),
            )?;
            Ok(Output::ok())
        }
        Command::ShowCreateTable(table) => {
            let (db, table) = resolve_table(session, table)?;
            if is_system_schema(&db) {
                return Err(SqlError::Unsupported(
                    "SHOW CREATE TABLE of a system view".into(),
                ));
            }
            Ok(Output::Rows(show_create_table(session, &db, &table)?))
        }
        Command::ShowCreateDatabase(db) => {
            let db = db.to_ascii_lowercase();
            if !is_system_schema(&db) {
                session
                    .engine
                    .catalog()
                    .database(session.identity.tenant.tenant_id, &db)?
                    .ok_or_else(|| SqlError::UnknownDatabase(db.clone()))?;
            }
            let mut rs = ResultSet::with_text_columns(&["Database", "Create Database"]);
            rs.rows.push(vec![
                Value::from(db.as_str()),
                Value::Text(format!(
                    "CREATE DATABASE `{db}` /*!40100 DEFAULT CHARACTER SET utf8mb4 */"
                )),
            ]);
            Ok(Output::Rows(rs))
        }
        Command::ShowIndex(table) => {
            let (db, table) = resolve_table(session, table)?;
            if is_system_schema(&db) {
                return Ok(Output::Rows(index_result(&table, Vec::new())));
            }
            let indexes = indexes(session, &db, &table)?;
            Ok(Output::Rows(index_result(
                &shown_name(&db, &table).0,
                indexes,
            )))
        }
        other => Err(SqlError::Internal(format!(
            "not a schema statement: {other:?}"
        ))),
    }
}

/// The tables and views of a database (attached, or a system schema), with MySQL's table types, by name.
pub(crate) fn list_tables(session: &Session, db: &str) -> Result<Vec<(String, String)>> {
    if is_system_schema(db) {
        return Ok(views::list(db, &session.identity)
            .into_iter()
            .map(|v| (v.to_string(), "SYSTEM VIEW".to_string()))
            .collect());
    }
    let sql = format!(
        "SELECT name, CASE type WHEN 'view' THEN 'VIEW' ELSE 'BASE TABLE' END FROM {}.sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        quote(db)
    );
    let mut stmt = session.conn.conn().prepare(&sql)?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
    let tables: Vec<(String, String)> = rows.collect::<rusqlite::Result<_>>()?;
    // A user whose grants in this database are on some of its tables only sees those, as MySQL lists them.
    Ok(match privileges::visible_tables(session, db)? {
        None => tables,
        Some(visible) => tables
            .into_iter()
            .filter(|(name, _)| visible.contains(&name.to_ascii_lowercase()))
            .collect(),
    })
}

/// `USE db`: the database must exist and the user must hold some privilege on it.
pub fn use_database(session: &mut Session, db: &str) -> Result<()> {
    let db = open_db(session, db.to_ascii_lowercase())?;
    session.db = Some(db);
    Ok(())
}

/// The named database (or the current one), checked to exist and to be one the user holds some privilege on,
/// and attached.
/// The stored name of table `table` of `db` (names match ignoring case, as MySQL's do on this server), or
/// 1146 / 42P01. The server's own reserved `sqlite_` tables are never a user's table.
pub(crate) fn stored_table_name(session: &Session, db: &str, table: &str) -> Result<String> {
    let missing = || SqlError::NoSuchTable {
        db: db.to_string(),
        table: table.to_string(),
    };
    let name: String = session
        .conn
        .conn()
        .query_row(
            &format!(
                "SELECT name FROM {}.sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
                quote(db)
            ),
            [table],
            |r| r.get(0),
        )
        .map_err(|_| missing())?;
    if name.to_ascii_lowercase().starts_with("sqlite_") {
        return Err(missing());
    }
    Ok(name)
}

/// The catalog id of the session's tenant's database `db` (1049 if it is gone).
pub(crate) fn database_id(session: &Session, db: &str) -> Result<i64> {
    Ok(session
        .engine
        .catalog()
        .database(session.identity.tenant.tenant_id, db)?
        .ok_or_else(|| SqlError::UnknownDatabase(db.to_string()))?
        .database_id)
}

pub(crate) fn resolve_db(session: &mut Session, db: Option<String>) -> Result<String> {
    let db = match db {
        Some(d) => d.to_ascii_lowercase(),
        None => session.db.clone().ok_or(SqlError::NoDatabaseSelected)?,
    };
    open_db(session, db)
}

/// Checks that the user holds some privilege on `db` (1044) and that it exists (1049), and attaches it.
/// The privilege comes first: a database the user may not use is neither attached nor told apart from a
/// missing one, as MySQL does.
fn open_db(session: &mut Session, db: String) -> Result<String> {
    if !is_system_schema(&db) {
        if !privileges::has_any(session, &db)? {
            return Err(SqlError::DbAccessDenied {
                user: session.identity.user.name.clone(),
                db,
            });
        }
        session.attach(&db)?;
    }
    Ok(db)
}

/// Fails with 1146 unless table `table` of database `db` exists (attaching the database).
pub(crate) fn require_table(session: &mut Session, db: &str, table: &str) -> Result<()> {
    open_db(session, db.to_ascii_lowercase())?;
    if session.conn.table_exists(db, table)? {
        Ok(())
    } else {
        Err(SqlError::NoSuchTable {
            db: db.to_string(),
            table: table.to_string(),
        })
    }
}

/// Resolves a table named in a SHOW statement and checks that it exists. The session's temporary table of
/// that name hides the database's, as it does for queries: then it is named as SQLite holds it (schema
/// `temp`, see `translate::temp_name`), which [`shown_name`] turns back.
fn resolve_table(session: &mut Session, t: TableRef) -> Result<(String, String)> {
    let db = resolve_db(session, t.db)?;
    if session
        .temp_tables
        .iter()
        .any(|(d, n)| *d == db && n.eq_ignore_ascii_case(&t.table))
    {
        return Ok((
            crate::translate::TEMP_SCHEMA.to_string(),
            crate::translate::temp_name(&db, &t.table),
        ));
    }
    let exists = if is_system_schema(&db) {
        views::find(&db, &t.table, &session.identity).is_some()
    } else {
        session.conn.table_exists(&db, &t.table)?
    };
    if !exists {
        return Err(SqlError::NoSuchTable { db, table: t.table });
    }
    Ok((db, t.table))
}

/// A table's column as SQLite declares it.
pub(crate) struct ColumnInfo {
    /// Its name.
    pub name: String,
    /// Its declared type (the MySQL type for AUTO_INCREMENT columns).
    pub decl: String,
    /// NOT NULL.
    pub not_null: bool,
    /// The default expression's text.
    pub default: Option<String>,
    /// Its place in the primary key (1-based), 0 if not in it.
    pub pk: i64,
}

/// A table's columns, in order.
pub(crate) fn table_columns(session: &Session, db: &str, table: &str) -> Result<Vec<ColumnInfo>> {
    columns(session, db, table)
}

/// A table's indexes (the primary key first, MySQL names).
pub(crate) fn table_indexes(session: &Session, db: &str, table: &str) -> Result<Vec<IndexInfo>> {
    indexes(session, db, table)
}

fn columns(session: &Session, db: &str, table: &str) -> Result<Vec<ColumnInfo>> {
    let sql = format!("PRAGMA {}.table_xinfo({})", quote(db), quote(table));
    let mut stmt = session.conn.conn().prepare(&sql)?;
    let rows = stmt.query_map([], |r| {
        Ok(ColumnInfo {
            name: r.get(1)?,
            decl: r.get(2)?,
            not_null: r.get(3)?,
            default: r.get(4)?,
            pk: r.get(5)?,
        })
    })?;
    let mut cols: Vec<ColumnInfo> = rows.collect::<rusqlite::Result<_>>()?;
    let table_sql = table_sql(session, db, table)?;
    for c in &mut cols {
        if let Some(ty) = auto_increment_type(&table_sql, &c.name) {
            c.decl = ty;
        }
    }
    Ok(cols)
}

/// The SQLite statements of a schema change that depends on the schema as it is now (see `Dependent`).
pub(crate) fn dependent_sql(
    session: &Session,
    d: &crate::translate::Dependent,
) -> Result<Vec<String>> {
    use crate::translate::{sqlite_index_name, Dependent};
    use sqlparser::ast::{ColumnOption, Ident, ObjectName, Statement, TableConstraint};
    let parse = |sql: &str| {
        sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::SQLiteDialect {}, sql)
            .map_err(|e| SqlError::Internal(format!("stored schema does not parse: {e}")))
            .map(|mut v| v.pop())
    };
    let name = |db: &str, n: &str| {
        ObjectName::from(vec![Ident::with_quote('`', db), Ident::with_quote('`', n)])
    };
    // The table's indexes re-created for `target` (`target$index`), as statements.
    let copy_indexes = |db: &str,
                        source: &str,
                        target: &str,
                        if_not_exists: bool|
     -> Result<Vec<String>> {
        let sql = format!(
            "SELECT name, sql FROM {}.sqlite_master WHERE type = 'index' AND tbl_name = ?1 COLLATE NOCASE AND sql IS NOT NULL",
            quote(db)
        );
        let mut stmt = session.conn.conn().prepare(&sql)?;
        let found: Vec<(String, String)> = stmt
            .query_map([source], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::new();
        for (index, text) in found {
            if let Some(Statement::CreateIndex(mut ci)) = parse(&text)? {
                ci.name = Some(name(
                    db,
                    &sqlite_index_name(target, mysql_index_name(&index)),
                ));
                ci.table_name = ObjectName::from(vec![Ident::with_quote('`', target)]);
                ci.if_not_exists = if_not_exists;
                out.push(Statement::CreateIndex(ci).to_string());
            }
        }
        Ok(out)
    };
    match d {
        Dependent::RenameTable { db, from, to } => {
            if !session.conn.table_exists(db, from)? {
                return Err(SqlError::NoSuchTable {
                    db: db.clone(),
                    table: from.clone(),
                });
            }
            let mut out = vec![format!(
                "ALTER TABLE {}.{} RENAME TO {}",
                quote(db),
                quote(from),
                quote(to)
            )];
            let indexes = copy_indexes(db, from, to, false)?;
            let sql = format!(
                "SELECT name FROM {}.sqlite_master WHERE type = 'index' AND tbl_name = ?1 COLLATE NOCASE AND sql IS NOT NULL",
                quote(db)
            );
            let mut stmt = session.conn.conn().prepare(&sql)?;
            let old: Vec<String> = stmt
                .query_map([from.as_str()], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for index in old {
                out.push(format!("DROP INDEX {}.{}", quote(db), quote(&index)));
            }
            out.extend(indexes);
            Ok(out)
        }
        Dependent::CreateLike {
            db,
            table,
            source_db,
            source,
            if_not_exists,
        } => {
            if !session.conn.table_exists(source_db, source)? {
                return Err(SqlError::NoSuchTable {
                    db: source_db.clone(),
                    table: source.clone(),
                });
            }
            if source_db != db {
                return Err(SqlError::Unsupported(
                    "CREATE TABLE ... LIKE a table of another database".into(),
                ));
            }
            let text = table_sql(session, source_db, source)?;
            let Some(Statement::CreateTable(mut ct)) = parse(&text)? else {
                return Err(SqlError::Unsupported("CREATE TABLE ... LIKE a view".into()));
            };
            ct.name = name(db, table);
            ct.if_not_exists = *if_not_exists;
            // MySQL's LIKE copies columns, keys and indexes but not foreign keys.
            ct.constraints
                .retain(|c| !matches!(c, TableConstraint::ForeignKey(_)));
            for c in &mut ct.columns {
                c.options
                    .retain(|o| !matches!(o.option, ColumnOption::ForeignKey(_)));
            }
            let mut out = vec![Statement::CreateTable(ct).to_string()];
            out.extend(copy_indexes(db, source, table, *if_not_exists)?);
            Ok(out)
        }
    }
}

/// The SELECT of a view, as its CREATE VIEW text holds it.
pub(crate) fn view_sql(session: &Session, db: &str, view: &str) -> Result<String> {
    let sql = table_sql(session, db, view)?;
    let upper = sql.to_ascii_uppercase();
    Ok(upper
        .find(" AS ")
        .map_or(sql.clone(), |i| sql[i + 4..].trim().to_string()))
}

fn table_sql(session: &Session, db: &str, table: &str) -> Result<String> {
    let sql = format!(
        "SELECT coalesce(sql, '') FROM {}.sqlite_master WHERE name = ?1 COLLATE NOCASE AND type IN ('table', 'view')",
        quote(db)
    );
    let mut stmt = session.conn.conn().prepare(&sql)?;
    let mut rows = stmt.query([table])?;
    Ok(match rows.next()? {
        Some(r) => r.get(0)?,
        None => String::new(),
    })
}

/// One index of a table, with its MySQL name (`PRIMARY` for the primary key).
pub(crate) struct IndexInfo {
    pub(crate) name: String,
    pub(crate) unique: bool,
    pub(crate) primary: bool,
    pub(crate) columns: Vec<String>,
}

/// One foreign key of a table, as its CREATE TABLE text declares it.
pub(crate) struct ForeignKeyInfo {
    /// The constraint's name (`<table>_ibfk_<n>` for one declared without, MySQL's name for it).
    pub(crate) name: String,
    pub(crate) columns: Vec<String>,
    pub(crate) ref_table: String,
    pub(crate) ref_columns: Vec<String>,
    /// `RESTRICT`, `CASCADE`, `SET NULL`, `NO ACTION` ...; `None` when the table does not say (MySQL then
    /// shows RESTRICT, PostgreSQL NO ACTION).
    pub(crate) on_delete: Option<String>,
    pub(crate) on_update: Option<String>,
}

impl ForeignKeyInfo {
    /// The ON DELETE rule as MySQL shows it.
    pub(crate) fn mysql_on_delete(&self) -> &str {
        self.on_delete.as_deref().unwrap_or("RESTRICT")
    }

    /// The ON UPDATE rule as MySQL shows it.
    pub(crate) fn mysql_on_update(&self) -> &str {
        self.on_update.as_deref().unwrap_or("RESTRICT")
    }
}

/// A table's foreign keys, read from its schema text with the SQL parser (SQLite's pragmas do not give
/// constraint names).
pub(crate) fn foreign_keys(
    session: &Session,
    db: &str,
    table: &str,
) -> Result<Vec<ForeignKeyInfo>> {
    use sqlparser::ast::{ColumnOption, Statement, TableConstraint};
    let sql = table_sql(session, db, table)?;
    let Ok(mut parsed) =
        sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::SQLiteDialect {}, &sql)
    else {
        return Ok(Vec::new());
    };
    let Some(Statement::CreateTable(ct)) = parsed.pop() else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for col in &ct.columns {
        for opt in &col.options {
            if let ColumnOption::ForeignKey(fk) = &opt.option {
                let mut fk = fk.clone();
                fk.columns = vec![col.name.clone()];
                found.push(fk);
            }
        }
    }
    for c in ct.constraints {
        if let TableConstraint::ForeignKey(fk) = c {
            found.push(fk);
        }
    }
    let action = |a: &Option<sqlparser::ast::ReferentialAction>| a.as_ref().map(|a| a.to_string());
    let names = |list: &[sqlparser::ast::Ident]| list.iter().map(|i| i.value.clone()).collect();
    Ok(found
        .into_iter()
        .enumerate()
        .map(|(i, fk)| ForeignKeyInfo {
            name: fk
                .name
                .as_ref()
                .map_or_else(|| format!("{table}_ibfk_{}", i + 1), |n| n.value.clone()),
            columns: names(&fk.columns),
            ref_table: fk
                .foreign_table
                .0
                .last()
                .and_then(|p| p.as_ident())
                .map(|i| i.value.clone())
                .unwrap_or_default(),
            ref_columns: names(&fk.referred_columns),
            on_delete: action(&fk.on_delete),
            on_update: action(&fk.on_update),
        })
        .collect())
}

/// A table's indexes with MySQL names; the rowid primary key (which has no index of its own) included.
pub(crate) fn indexes(session: &Session, db: &str, table: &str) -> Result<Vec<IndexInfo>> {
    let conn = session.conn.conn();
    let mut out = Vec::new();
    let cols = columns(session, db, table)?;
    let mut pk: Vec<(i64, String)> = cols
        .iter()
        .filter(|c| c.pk > 0)
        .map(|c| (c.pk, c.name.clone()))
        .collect();
    pk.sort();
    let list_sql = format!("PRAGMA {}.index_list({})", quote(db), quote(table));
    let mut stmt = conn.prepare(&list_sql)?;
    let list: Vec<(String, bool, String)> = stmt
        .query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let has_pk_index = list.iter().any(|(_, _, origin)| origin == "pk");
    if !pk.is_empty() && !has_pk_index {
        out.push(IndexInfo {
            name: "PRIMARY".into(),
            unique: true,
            primary: true,
            columns: pk.into_iter().map(|(_, n)| n).collect(),
        });
    }
    for (name, unique, origin) in list.into_iter().rev() {
        let info_sql = format!("PRAGMA {}.index_info({})", quote(db), quote(&name));
        let mut stmt = conn.prepare(&info_sql)?;
        let columns: Vec<String> = stmt
            .query_map([], |r| r.get::<_, Option<String>>(2))?
            .filter_map(|c| c.ok().flatten())
            .collect();
        let primary = origin == "pk";
        out.push(IndexInfo {
            name: if primary {
                "PRIMARY".into()
            } else {
                mysql_index_name(&name).to_string()
            },
            unique,
            primary,
            columns,
        });
    }
    out.sort_by_key(|i| (!i.primary, !i.unique));
    Ok(out)
}

fn is_auto_increment(session: &Session, db: &str, table: &str) -> Result<bool> {
    Ok(table_sql(session, db, table)?.contains("AUTOINCREMENT"))
}

/// MySQL's spelling of a declared type: lower case, INTEGER as int.
fn mysql_type(decl: &str) -> String {
    let lower = decl.to_ascii_lowercase();
    match lower.as_str() {
        "integer" => "int".into(),
        "" => "text".into(),
        _ => lower,
    }
}

pub(crate) fn describe_table(session: &Session, db: &str, table: &str) -> Result<ResultSet> {
    let mut rs =
        ResultSet::with_text_columns(&["Field", "Type", "Null", "Key", "Default", "Extra"]);
    let auto = is_auto_increment(session, db, table)?;
    let idx = indexes(session, db, table)?;
    for c in columns(session, db, table)? {
        let key = if idx.iter().any(|i| i.primary && i.columns.contains(&c.name)) {
            "PRI"
        } else if idx
            .iter()
            .any(|i| i.unique && i.columns.len() == 1 && i.columns[0] == c.name)
        {
            "UNI"
        } else if idx.iter().any(|i| i.columns.first() == Some(&c.name)) {
            "MUL"
        } else {
            ""
        };
        let extra = if auto && c.pk == 1 {
            "auto_increment"
        } else {
            ""
        };
        let null = if c.not_null || c.pk > 0 { "NO" } else { "YES" };
        rs.rows.push(vec![
            Value::Text(c.name),
            Value::Text(mysql_type(&c.decl)),
            Value::from(null),
            Value::from(key),
            Value::from(c.default.map(|d| unquote_default(&d))),
            Value::from(extra),
        ]);
    }
    Ok(rs)
}

/// SHOW FULL COLUMNS: DESCRIBE's columns with Collation after Type, and Privileges and Comment at the end.
fn full_columns(rs: ResultSet) -> ResultSet {
    let mut out = ResultSet::with_text_columns(&[
        "Field",
        "Type",
        "Collation",
        "Null",
        "Key",
        "Default",
        "Extra",
        "Privileges",
        "Comment",
    ]);
    for mut row in rs.rows {
        let ty = row.get(1).and_then(Value::to_text).unwrap_or_default();
        let textual = ["char", "text", "enum", "set"]
            .iter()
            .any(|k| ty.contains(k));
        row.insert(
            2,
            if textual {
                Value::from("utf8mb4_general_ci")
            } else {
                Value::Null
            },
        );
        row.push(Value::from("select,insert,update,references"));
        row.push(Value::from(""));
        out.rows.push(row);
    }
    out
}

/// SHOW TABLE STATUS: one row per table and view, with row counts and SQLite's sizes where cheap to know.
fn table_status(session: &Session, db: &str) -> Result<ResultSet> {
    let text = |n: &str| Column::new(n, ColumnKind::Text);
    let int = |n: &str| Column::new(n, ColumnKind::Int);
    let columns = vec![
        text("Name"),
        text("Engine"),
        int("Version"),
        text("Row_format"),
        int("Rows"),
        int("Avg_row_length"),
        int("Data_length"),
        int("Max_data_length"),
        int("Index_length"),
        int("Data_free"),
        int("Auto_increment"),
        text("Create_time"),
        text("Update_time"),
        text("Check_time"),
        text("Collation"),
        int("Checksum"),
        text("Create_options"),
        text("Comment"),
    ];
    let mut rows = Vec::new();
    for (name, kind) in list_tables(session, db)? {
        session.check_interrupted()?;
        if kind == "VIEW" {
            let mut row = vec![Value::Text(name)];
            row.extend(std::iter::repeat_n(Value::Null, 16));
            row.push(Value::from("VIEW"));
            rows.push(row);
            continue;
        }
        let count: i64 = session.conn.conn().query_row(
            &format!("SELECT count(*) FROM {}.{}", quote(db), quote(&name)),
            [],
            |r| r.get(0),
        )?;
        let next_id = if is_auto_increment(session, db, &name)? {
            let sql = format!(
                "SELECT coalesce((SELECT seq FROM {}.sqlite_sequence WHERE name = ?1), 0) + 1",
                quote(db)
            );
            Value::Int(
                session
                    .conn
                    .conn()
                    .query_row(&sql, [name.as_str()], |r| r.get(0))
                    .unwrap_or(1),
            )
        } else {
            Value::Null
        };
        rows.push(vec![
            Value::Text(name),
            Value::from("SQLite"),
            Value::Int(10),
            Value::from("Dynamic"),
            Value::Int(count),
            Value::Int(0),
            Value::Int(0),
            Value::Int(0),
            Value::Int(0),
            Value::Int(0),
            next_id,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::from("utf8mb4_general_ci"),
            Value::Null,
            Value::from(""),
            Value::from(""),
        ]);
    }
    Ok(ResultSet { columns, rows })
}

fn unquote_default(d: &str) -> String {
    d.strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .map(|s| s.replace("''", "'"))
        .unwrap_or_else(|| d.to_string())
}

/// The name a table resolved by [`resolve_table`] is shown by, and whether it is a temporary table.
fn shown_name(db: &str, table: &str) -> (String, bool) {
    match crate::translate::temp_origin(db, table) {
        Some((_, t)) => (t, true),
        None => (table.to_string(), false),
    }
}

fn show_create_table(session: &Session, db: &str, table: &str) -> Result<ResultSet> {
    let sql = table_sql(session, db, table)?;
    if sql
        .trim_start()
        .to_ascii_uppercase()
        .starts_with("CREATE VIEW")
    {
        let mut rs = ResultSet::with_text_columns(&["View", "Create View"]);
        rs.rows.push(vec![Value::from(table), Value::Text(sql)]);
        return Ok(rs);
    }
    let auto = is_auto_increment(session, db, table)?;
    let mut lines = Vec::new();
    for c in columns(session, db, table)? {
        let mut line = format!("  `{}` {}", c.name, mysql_type(&c.decl));
        if c.not_null || c.pk > 0 {
            line.push_str(" NOT NULL");
        }
        match &c.default {
            Some(d) => line.push_str(&format!(" DEFAULT {d}")),
            None if !(c.not_null || c.pk > 0) => line.push_str(" DEFAULT NULL"),
            None => {}
        }
        if auto && c.pk == 1 {
            line.push_str(" AUTO_INCREMENT");
        }
        lines.push(line);
    }
    for i in indexes(session, db, table)? {
        let cols = i
            .columns
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ");
        lines.push(if i.primary {
            format!("  PRIMARY KEY ({cols})")
        } else if i.unique {
            format!("  UNIQUE KEY `{}` ({cols})", i.name)
        } else {
            format!("  KEY `{}` ({cols})", i.name)
        });
    }
    let list = |cols: &[String]| cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
    for fk in foreign_keys(session, db, table)? {
        let mut line = format!(
            "  CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
            quote(&fk.name),
            list(&fk.columns),
            quote(&fk.ref_table),
            list(&fk.ref_columns)
        );
        // RESTRICT is the default MySQL leaves unsaid.
        if fk.mysql_on_delete() != "RESTRICT" {
            line.push_str(&format!(" ON DELETE {}", fk.mysql_on_delete()));
        }
        if fk.mysql_on_update() != "RESTRICT" {
            line.push_str(&format!(" ON UPDATE {}", fk.mysql_on_update()));
        }
        lines.push(line);
    }
    // Table checks live only in SQLite's own text; show them from there.
    for line in sql.lines().map(str::trim) {
        if (line.starts_with("CONSTRAINT") || line.starts_with("CHECK"))
            && !line.contains("FOREIGN KEY")
        {
            lines.push(format!("  {}", line.trim_end_matches(',')));
        }
    }
    let (shown, temporary) = shown_name(db, table);
    let text = format!(
        "CREATE {}TABLE `{shown}` (\n{}\n) DEFAULT CHARSET = utf8mb4",
        if temporary { "TEMPORARY " } else { "" },
        lines.join(",\n")
    );
    let mut rs = ResultSet::with_text_columns(&["Table", "Create Table"]);
    rs.rows.push(vec![Value::from(shown), Value::Text(text)]);
    Ok(rs)
}

fn index_result(table: &str, indexes: Vec<IndexInfo>) -> ResultSet {
    let text = |n: &str| Column::new(n, ColumnKind::Text);
    let int = |n: &str| Column::new(n, ColumnKind::Int);
    let columns = vec![
        text("Table"),
        int("Non_unique"),
        text("Key_name"),
        int("Seq_in_index"),
        text("Column_name"),
        text("Collation"),
        int("Cardinality"),
        int("Sub_part"),
        text("Packed"),
        text("Null"),
        text("Index_type"),
        text("Comment"),
        text("Index_comment"),
        text("Visible"),
        text("Expression"),
    ];
    let mut rows = Vec::new();
    for i in indexes {
        for (seq, col) in i.columns.iter().enumerate() {
            rows.push(vec![
                Value::from(table),
                Value::Int(!i.unique as i64),
                Value::from(i.name.as_str()),
                Value::Int(seq as i64 + 1),
                Value::from(col.as_str()),
                Value::from("A"),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::from(""),
                Value::from("BTREE"),
                Value::from(""),
                Value::from(""),
                Value::from("YES"),
                Value::Null,
            ]);
        }
    }
    ResultSet { columns, rows }
}
