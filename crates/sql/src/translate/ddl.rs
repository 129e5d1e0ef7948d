//! Schema statements: MySQL's CREATE TABLE / INDEX, ALTER TABLE, DROP, TRUNCATE in SQLite's words.
//!
//! MySQL index names are per table, SQLite's per schema, so index `i` of table `t` is stored as `t$i`.
//! Text columns get `COLLATE NOCASE`: MySQL's default collation compares case-insensitively.

use sqlparser::ast::{
    AlterTableOperation, ColumnDef, ColumnOption, ColumnOptionDef, CreateIndex, CreateTable,
    DataType, Expr, Ident, IndexColumn, ObjectType, RenameTableNameKind, Statement,
    TableConstraint, Value as AstValue,
};
use sqlparser::tokenizer::Token;
use tenantry_catalog::Privilege;

use tenantry_kinds::schema_change::{Step, TableChange};

use super::names::{pair, quote, resolve};
use super::Access;
use crate::error::{Result, SqlError};

/// The SQLite statements of a schema change and what it needs.
pub struct DdlPlan {
    /// Statements, run in one savepoint.
    pub sql: Vec<String>,
    /// Privileges needed.
    pub access: Vec<Access>,
    /// Tables written, as (db, table).
    pub tables: Vec<(String, String)>,
    /// For schema changes that run as jobs: the steps, in order (the same statements as `sql`).
    pub steps: Option<Vec<Step>>,
    /// Changes whose statements depend on the schema when they run (made then, by the executor).
    pub dependent: Vec<Dependent>,
}

/// A schema statement whose SQLite statements depend on the schema as it is when it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dependent {
    /// `RENAME TABLE` / `ALTER TABLE ... RENAME TO`: the table, and its indexes (named `table$index`).
    RenameTable {
        /// The database (MySQL could move a table to another one; SQLite cannot).
        db: String,
        /// The name now.
        from: String,
        /// The new name.
        to: String,
    },
    /// `CREATE TABLE t LIKE s`: the source's columns, keys and indexes, not its foreign keys (as MySQL).
    CreateLike {
        /// The new table's database.
        db: String,
        /// The new table.
        table: String,
        /// The source table's database.
        source_db: String,
        /// The source table.
        source: String,
        /// IF NOT EXISTS.
        if_not_exists: bool,
    },
}

impl DdlPlan {
    fn dependent(
        dependent: Vec<Dependent>,
        access: Vec<Access>,
        tables: Vec<(String, String)>,
    ) -> Self {
        DdlPlan {
            sql: Vec::new(),
            access,
            tables,
            steps: None,
            dependent,
        }
    }
}

/// The SQLite name of index `index` of `table`.
pub fn sqlite_index_name(table: &str, index: &str) -> String {
    format!("{table}${index}")
}

/// The MySQL type of an AUTO_INCREMENT column, kept as `` `col` INTEGER /*type*/ `` in the table's schema text.
pub fn auto_increment_type(table_sql: &str, column: &str) -> Option<String> {
    let marker = format!("{} INTEGER /*", quote(column));
    let start = table_sql.find(&marker)? + marker.len();
    let len = table_sql[start..].find("*/")?;
    Some(table_sql[start..start + len].to_string())
}

/// The MySQL name of a SQLite index (the part after `table$`, or the whole name).
pub fn mysql_index_name(sqlite_name: &str) -> &str {
    sqlite_name
        .split_once('$')
        .map_or(sqlite_name, |(_, name)| name)
}

pub(super) fn translate(stmt: Statement, current_db: Option<&str>) -> Result<DdlPlan> {
    match stmt {
        Statement::CreateTable(ct) => create_table(ct),
        Statement::CreateIndex(ci) => create_index(ci),
        Statement::AlterTable(at) => {
            let (db, table) = pair(&at.name)?;
            if let [AlterTableOperation::RenameTable { table_name }] = at.operations.as_slice() {
                let (RenameTableNameKind::As(to) | RenameTableNameKind::To(to)) = table_name;
                return rename_tables(vec![((db, table), resolve(to, Some(&pair(&at.name)?.0))?)]);
            }
            let mut steps = Vec::new();
            let mut access = vec![access(&db, Some(&table), Privilege::Alter)];
            for op in at.operations {
                alter_operation(&db, &table, op, &mut steps, &mut access)?;
            }
            Ok(DdlPlan {
                sql: steps.iter().map(|st| step_sql(&db, &table, st)).collect(),
                steps: Some(steps),
                access,
                tables: vec![(db, table)],
                dependent: Vec::new(),
            })
        }
        Statement::Drop {
            object_type,
            if_exists,
            names,
            table,
            ..
        } => drop(object_type, if_exists, &names, table.as_ref(), current_db),
        Statement::RenameTable(renames) => {
            let mut pairs = Vec::new();
            for r in &renames {
                let from = resolve(&r.old_name, current_db)?;
                // `RENAME TABLE a TO b` keeps a's database unless b names one.
                let to = resolve(&r.new_name, Some(&from.0))?;
                pairs.push((from, to));
            }
            rename_tables(pairs)
        }
        Statement::Truncate(t) => {
            let mut plan = DdlPlan::dependent(Vec::new(), Vec::new(), Vec::new());
            for target in &t.table_names {
                let (db, table) = resolve(&target.name, current_db)?;
                plan.sql
                    .push(format!("DELETE FROM {}.{}", quote(&db), quote(&table)));
                plan.access.push(access(&db, Some(&table), Privilege::Drop));
                plan.tables.push((db, table));
            }
            Ok(plan)
        }
        Statement::CreateView(v) => {
            let (db, name) = pair(&v.name)?;
            let sql = format!(
                "CREATE VIEW {}{}.{} AS {}",
                if v.if_not_exists {
                    "IF NOT EXISTS "
                } else {
                    ""
                },
                quote(&db),
                quote(&name),
                v.query
            );
            Ok(DdlPlan {
                sql: vec![sql],
                access: vec![access(&db, Some(&name), Privilege::Create)],
                tables: vec![(db, name)],
                steps: None,
                dependent: Vec::new(),
            })
        }
        other => Err(SqlError::Unsupported(format!(
            "'{}'",
            other.to_string().chars().take(60).collect::<String>()
        ))),
    }
}

/// RENAME TABLE: MySQL's privileges (ALTER and DROP on the old name, CREATE and INSERT on the new one).
fn rename_tables(pairs: Vec<((String, String), (String, String))>) -> Result<DdlPlan> {
    let mut plan = DdlPlan::dependent(Vec::new(), Vec::new(), Vec::new());
    for ((db, from), (to_db, to)) in pairs {
        if db != to_db {
            return Err(SqlError::Unsupported(
                "RENAME TABLE to another database".into(),
            ));
        }
        plan.access.push(access(&db, Some(&from), Privilege::Alter));
        plan.access.push(access(&db, Some(&from), Privilege::Drop));
        plan.access.push(access(&db, Some(&to), Privilege::Create));
        plan.access.push(access(&db, Some(&to), Privilege::Insert));
        plan.tables.push((db.clone(), from.clone()));
        plan.dependent.push(Dependent::RenameTable { db, from, to });
    }
    Ok(plan)
}

fn access(db: &str, table: Option<&str>, privilege: Privilege) -> Access {
    Access {
        db: db.to_string(),
        table: table.map(str::to_string),
        privilege,
    }
}

fn create_table(ct: CreateTable) -> Result<DdlPlan> {
    let (db, table) = pair(&ct.name)?;
    if ct.temporary {
        return Err(SqlError::Unsupported("CREATE TEMPORARY TABLE".into()));
    }
    if let Some(like) = &ct.like {
        let name = match like {
            sqlparser::ast::CreateTableLikeKind::Parenthesized(l)
            | sqlparser::ast::CreateTableLikeKind::Plain(l) => &l.name,
        };
        let (source_db, source) = resolve(name, Some(&db))?;
        return Ok(DdlPlan::dependent(
            vec![Dependent::CreateLike {
                db: db.clone(),
                table: table.clone(),
                source_db: source_db.clone(),
                source: source.clone(),
                if_not_exists: ct.if_not_exists,
            }],
            vec![
                access(&db, Some(&table), Privilege::Create),
                access(&source_db, Some(&source), Privilege::Select),
            ],
            vec![(db, table), (source_db, source)],
        ));
    }
    let if_not_exists = if ct.if_not_exists {
        "IF NOT EXISTS "
    } else {
        ""
    };
    let head = format!(
        "CREATE TABLE {if_not_exists}{}.{}",
        quote(&db),
        quote(&table)
    );
    let plan_access = vec![access(&db, Some(&table), Privilege::Create)];
    if let Some(query) = ct.query {
        return Ok(DdlPlan {
            sql: vec![format!("{head} AS {query}")],
            access: plan_access,
            tables: vec![(db, table)],
            steps: None,
            dependent: Vec::new(),
        });
    }
    if ct.like.is_some() || ct.clone.is_some() {
        return Err(SqlError::Unsupported("CREATE TABLE ... LIKE".into()));
    }
    let mut table_pk: Option<Vec<String>> = None;
    let mut defs = Vec::new();
    // Column-level REFERENCES come first in MySQL's numbering of unnamed foreign keys.
    let mut foreign_keys = ct
        .columns
        .iter()
        .flat_map(|c| &c.options)
        .filter(|o| matches!(o.option, ColumnOption::ForeignKey(_)))
        .count();
    let mut indexes = Vec::new();
    for c in &ct.constraints {
        match c {
            TableConstraint::PrimaryKey(pk) => {
                table_pk = Some(index_column_names(&pk.columns)?);
            }
            TableConstraint::Unique(u) => {
                let cols = index_columns(&u.columns)?;
                let name = u
                    .index_name
                    .as_ref()
                    .or(u.name.as_ref())
                    .map(|i| i.value.clone())
                    .unwrap_or_else(|| first_column(&u.columns));
                indexes.push(index_sql(&db, &table, &name, true, false, &cols));
            }
            TableConstraint::Index(i) => {
                let cols = index_columns(&i.columns)?;
                let name = i
                    .name
                    .as_ref()
                    .map(|i| i.value.clone())
                    .unwrap_or_else(|| first_column(&i.columns));
                indexes.push(index_sql(&db, &table, &name, false, false, &cols));
            }
            TableConstraint::ForeignKey(fk) => {
                let mut s = String::new();
                // An unnamed foreign key gets MySQL's name for it, so ALTER TABLE ... DROP FOREIGN KEY can name it.
                foreign_keys += 1;
                let name = fk.name.as_ref().map_or_else(
                    || format!("{table}_ibfk_{foreign_keys}"),
                    |n| n.value.clone(),
                );
                s.push_str(&foreign_key_sql(&db, fk, Some(name))?);
                defs.push(s);
            }
            TableConstraint::Check(chk) => {
                let mut s = String::new();
                if let Some(n) = &chk.name {
                    s.push_str(&format!("CONSTRAINT {} ", quote(&n.value)));
                }
                s.push_str(&format!("CHECK ({})", chk.expr));
                defs.push(s);
            }
            other => return Err(SqlError::Unsupported(format!("table constraint '{other}'"))),
        }
    }
    let mut column_defs = Vec::new();
    let mut auto_increment_pk = false;
    for col in &ct.columns {
        let rendered = column(col, table_pk.as_deref())?;
        if rendered.auto_increment {
            let is_sole_pk = rendered.primary_key
                || table_pk.as_deref() == Some(std::slice::from_ref(&col.name.value));
            if !is_sole_pk || auto_increment_pk {
                return Err(SqlError::WrongTableDefinition(
                    "there can be only one auto column and it must be defined as a key".into(),
                ));
            }
            auto_increment_pk = true;
        }
        if rendered.unique {
            indexes.push(index_sql(
                &db,
                &table,
                &col.name.value,
                true,
                false,
                &quote(&col.name.value),
            ));
        }
        column_defs.push(rendered.sql);
    }
    if let (Some(pk), false) = (&table_pk, auto_increment_pk) {
        let cols: Vec<String> = pk.iter().map(|c| quote(c)).collect();
        column_defs.push(format!("PRIMARY KEY ({})", cols.join(", ")));
    }
    column_defs.extend(defs);
    let mut sql = vec![format!("{head} (\n  {}\n)", column_defs.join(",\n  "))];
    if ct.if_not_exists {
        // Index statements must not fail when the table was already there.
        indexes = indexes
            .into_iter()
            .map(|s| s.replacen("INDEX ", "INDEX IF NOT EXISTS ", 1))
            .collect();
    }
    sql.extend(indexes);
    Ok(DdlPlan {
        sql,
        access: plan_access,
        tables: vec![(db, table)],
        steps: None,
        dependent: Vec::new(),
    })
}

struct RenderedColumn {
    sql: String,
    auto_increment: bool,
    primary_key: bool,
    unique: bool,
}

/// One column definition in SQLite's words.
fn column(col: &ColumnDef, table_pk: Option<&[String]>) -> Result<RenderedColumn> {
    let mut not_null = false;
    let mut default = None;
    let mut primary_key = false;
    let mut unique = false;
    let mut auto_increment = false;
    let mut binary = false;
    let mut extra = Vec::new();
    for opt in &col.options {
        match &opt.option {
            ColumnOption::Null => {}
            ColumnOption::NotNull => not_null = true,
            ColumnOption::Default(e) => default = Some(default_sql(e)),
            ColumnOption::PrimaryKey(_) => primary_key = true,
            ColumnOption::Unique(_) => unique = true,
            ColumnOption::DialectSpecific(tokens) => {
                let is_auto = tokens.iter().any(|t| matches!(t, Token::Word(w) if w.value.eq_ignore_ascii_case("AUTO_INCREMENT") || w.value.eq_ignore_ascii_case("AUTOINCREMENT")));
                if is_auto {
                    auto_increment = true;
                } else {
                    return Err(SqlError::Unsupported(format!(
                        "column option '{}'",
                        tokens.iter().map(|t| t.to_string()).collect::<String>()
                    )));
                }
            }
            ColumnOption::Check(chk) => extra.push(format!("CHECK ({})", chk.expr)),
            ColumnOption::ForeignKey(fk) => {
                let foreign = fk
                    .foreign_table
                    .0
                    .last()
                    .map(|p| p.to_string())
                    .unwrap_or_default();
                // Without columns the reference is to the table's primary key, as SQLite reads it too.
                let mut reference = format!("REFERENCES {}", quote(foreign.trim_matches('`')));
                if !fk.referred_columns.is_empty() {
                    reference.push_str(&format!(" ({})", idents(&fk.referred_columns)));
                }
                // The actions are the column's too: dropping them would turn a CASCADE into a refusal.
                if let Some(a) = &fk.on_delete {
                    reference.push_str(&format!(" ON DELETE {a}"));
                }
                if let Some(a) = &fk.on_update {
                    reference.push_str(&format!(" ON UPDATE {a}"));
                }
                extra.push(reference);
            }
            ColumnOption::Collation(name) => {
                binary = name.to_string().to_ascii_lowercase().ends_with("_bin");
            }
            // Every column is UTF-8; comments and ON UPDATE have nowhere to go in SQLite.
            ColumnOption::CharacterSet(_)
            | ColumnOption::Comment(_)
            | ColumnOption::OnUpdate(_) => {}
            other => return Err(SqlError::Unsupported(format!("column option '{other}'"))),
        }
    }
    // PostgreSQL's SERIAL / BIGSERIAL (and MySQL's SERIAL) are auto-incrementing integer keys.
    let serial = matches!(
        col.data_type.to_string().to_ascii_uppercase().as_str(),
        "SERIAL" | "BIGSERIAL" | "SMALLSERIAL"
    );
    if serial {
        auto_increment = true;
        primary_key |= table_pk.is_none();
    }
    let in_table_pk =
        table_pk.is_some_and(|pk| pk.iter().any(|c| c.eq_ignore_ascii_case(&col.name.value)));
    let mut sql = quote(&col.name.value);
    if auto_increment {
        // Only `INTEGER PRIMARY KEY` is SQLite's rowid and auto-increments; the MySQL type is kept in a
        // comment, which SQLite preserves in the schema text (see `auto_increment_type`).
        let (ty, _) = sqlite_type(&col.data_type);
        sql.push_str(&format!(
            " INTEGER /*{}*/ NOT NULL PRIMARY KEY AUTOINCREMENT",
            ty.to_ascii_lowercase().replace("*/", "")
        ));
    } else {
        let (ty, is_text) = sqlite_type(&col.data_type);
        sql.push(' ');
        sql.push_str(&ty);
        // MySQL primary key columns are NOT NULL; SQLite's (but for INTEGER PRIMARY KEY) are not by default.
        if not_null || primary_key || in_table_pk {
            sql.push_str(" NOT NULL");
        }
        if primary_key {
            sql.push_str(" PRIMARY KEY");
        }
        if is_text {
            sql.push_str(if binary {
                " COLLATE BINARY"
            } else {
                " COLLATE NOCASE"
            });
        }
        sql.push_str(&type_check(&col.name.value, &ty));
    }
    if let Some(mut d) = default {
        // `DEFAULT now()` on a date or time column means today / the time now, as PostgreSQL casts it.
        if d == "CURRENT_TIMESTAMP" {
            match crate::sqlite::results::declared_kind(&sqlite_type(&col.data_type).0) {
                crate::value::ColumnKind::Date => d = "CURRENT_DATE".into(),
                crate::value::ColumnKind::Time => d = "CURRENT_TIME".into(),
                _ => {}
            }
        }
        sql.push_str(" DEFAULT ");
        sql.push_str(&d);
    }
    for e in extra {
        sql.push(' ');
        sql.push_str(&e);
    }
    Ok(RenderedColumn {
        sql,
        auto_increment,
        primary_key,
        unique,
    })
}

/// The names of the CHECK constraints this module writes (kept with the table definitions the job kinds edit,
/// since changefeed capture reads them too).
pub use tenantry_kinds::schema_change::{TYPED_CHECK_PREFIX, TYPE_CHECK_PREFIX};

/// MySQL (strict, OceanBase's default) refuses `'abc'` for a number; SQLite would store the text. SQLite applies
/// the column's affinity before CHECK constraints run, so `'42'` still becomes 42 and only what is not a
/// number is refused (reported as MySQL's 1366).
///
/// Date, timestamp, UUID and JSON columns only take values their readers can parse (every front end sends
/// them typed, and a value that does not parse would make every later read of the column fail): dates in
/// the forms SQLite's date functions read (`YYYY-MM-DD[ HH:MM[:SS[.f]]][offset]`, real calendar days),
/// UUIDs with their hyphens, valid JSON. TIME columns are not checked: MySQL's TIME also holds durations
/// (`-27:00:01`). Values bound as parameters are stored in one canonical form (`fit`).
fn type_check(column: &str, declared: &str) -> String {
    use crate::value::ColumnKind as K;
    let c = quote(column);
    let kind = crate::sqlite::results::declared_kind(declared);
    let allowed = match kind {
        K::Int | K::UInt | K::Bool => "'integer'",
        K::Float | K::Decimal(_) => "'integer', 'real'",
        _ => {
            let date_glob = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]";
            let (name, condition) = match kind {
                K::Date => ("date", format!("typeof({c}) = 'text' AND date({c}) = {c}")),
                K::DateTime | K::Timestamp => (
                    "datetime",
                    format!(
                        "typeof({c}) = 'text' AND {c} GLOB '{date_glob}*' AND datetime({c}) IS NOT NULL \
                         AND date({c}) = substr({c}, 1, 10)"
                    ),
                ),
                K::Uuid => {
                    let hex = |n: usize| "[0-9a-fA-F]".repeat(n);
                    (
                        "uuid",
                        format!(
                            "typeof({c}) = 'text' AND {c} GLOB '{}-{}-{}-{}-{}'",
                            hex(8),
                            hex(4),
                            hex(4),
                            hex(4),
                            hex(12)
                        ),
                    )
                }
                K::Json => ("json", format!("json_valid({c})")),
                _ => return String::new(),
            };
            return format!(
                // coalesce: SQLite lets a row pass a CHECK that is NULL, and `date('junk')` is NULL.
                " CONSTRAINT {} CHECK ({c} IS NULL OR coalesce({condition}, 0))",
                quote(&format!("{TYPED_CHECK_PREFIX}{name}${column}"))
            );
        }
    };
    format!(
        " CONSTRAINT {} CHECK (typeof({c}) IN ({allowed}, 'null'))",
        quote(&format!("{TYPE_CHECK_PREFIX}{column}"))
    )
}

/// A declared type SQLite accepts, and whether it is a text type.
fn sqlite_type(dt: &DataType) -> (String, bool) {
    let text = dt.to_string();
    let upper = text.to_ascii_uppercase();
    if upper.starts_with("ENUM") || upper.starts_with("SET(") || upper.starts_with("SET (") {
        return ("VARCHAR(255)".into(), true);
    }
    let is_text = ["CHAR", "TEXT", "CLOB", "STRING"]
        .iter()
        .any(|k| upper.contains(k))
        && !upper.contains("BINARY");
    let Some(open) = text.find('(') else {
        return (text, is_text);
    };
    let Some(close) = text[open..].find(')').map(|i| open + i) else {
        return (text, is_text);
    };
    let base = text[..open].trim();
    let args = &text[open..=close];
    let suffix = text[close + 1..].trim();
    let base_upper = base.to_ascii_uppercase();
    let integer = [
        "TINYINT",
        "SMALLINT",
        "MEDIUMINT",
        "INT",
        "INTEGER",
        "BIGINT",
    ]
    .contains(&base_upper.as_str());
    // SQLite's type names put every word before the parenthesis; MySQL's integer display widths mean nothing.
    let ty = match (integer, suffix.is_empty()) {
        (true, true) => base.to_string(),
        (true, false) => format!("{base} {suffix}"),
        (false, true) => text.clone(),
        (false, false) => format!("{base} {suffix}{args}"),
    };
    (ty, is_text)
}

fn default_sql(e: &Expr) -> String {
    match e {
        Expr::Value(v) => match &v.value {
            AstValue::DoubleQuotedString(s) => format!("'{}'", s.replace('\'', "''")),
            _ => e.to_string(),
        },
        Expr::Function(f) => {
            let name = f.name.to_string().to_ascii_uppercase();
            if matches!(
                name.as_str(),
                "NOW" | "CURRENT_TIMESTAMP" | "LOCALTIME" | "LOCALTIMESTAMP"
            ) {
                "CURRENT_TIMESTAMP".into()
            } else {
                format!("({e})")
            }
        }
        Expr::UnaryOp { .. } => format!("({e})"),
        _ => format!("({e})"),
    }
}

/// A foreign key in SQLite's words (`[CONSTRAINT n] FOREIGN KEY (a) REFERENCES t (b) [ON ...]`); the
/// referenced table must be in the same database (SQLite's foreign keys stay within one schema).
fn foreign_key_sql(
    db: &str,
    fk: &sqlparser::ast::ForeignKeyConstraint,
    name: Option<String>,
) -> Result<String> {
    let (foreign_db, foreign) =
        pair(&fk.foreign_table).or_else(|_| resolve(&fk.foreign_table, Some(db)))?;
    if foreign_db != db {
        return Err(SqlError::Unsupported(
            "a foreign key to a table of another database".into(),
        ));
    }
    let mut s = String::new();
    if let Some(n) = name {
        s.push_str(&format!("CONSTRAINT {} ", quote(&n)));
    }
    s.push_str(&format!(
        "FOREIGN KEY ({}) REFERENCES {} ({})",
        idents(&fk.columns),
        quote(&foreign),
        idents(&fk.referred_columns)
    ));
    if let Some(a) = &fk.on_delete {
        s.push_str(&format!(" ON DELETE {a}"));
    }
    if let Some(a) = &fk.on_update {
        s.push_str(&format!(" ON UPDATE {a}"));
    }
    Ok(s)
}

fn idents(list: &[sqlparser::ast::Ident]) -> String {
    list.iter()
        .map(|i| quote(&i.value))
        .collect::<Vec<_>>()
        .join(", ")
}

fn first_column(cols: &[IndexColumn]) -> String {
    cols.first()
        .and_then(|c| column_name(&c.column.expr))
        .unwrap_or_else(|| "idx".into())
}

/// The column an index part names; MySQL's prefix lengths (`name(10)`) parse as calls and are dropped.
fn column_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(i.value.clone()),
        Expr::Function(f) => f
            .name
            .0
            .last()
            .map(|p| p.to_string().trim_matches('`').to_string()),
        _ => None,
    }
}

fn index_column_names(cols: &[IndexColumn]) -> Result<Vec<String>> {
    cols.iter()
        .map(|c| {
            column_name(&c.column.expr)
                .ok_or_else(|| SqlError::Unsupported(format!("key part '{}'", c.column.expr)))
        })
        .collect()
}

fn index_columns(cols: &[IndexColumn]) -> Result<String> {
    let mut parts = Vec::new();
    for c in cols {
        let name = column_name(&c.column.expr)
            .ok_or_else(|| SqlError::Unsupported(format!("key part '{}'", c.column.expr)))?;
        let dir = match c.column.options.sort {
            Some(sqlparser::ast::OrderBySort::Desc) => " DESC",
            Some(sqlparser::ast::OrderBySort::Asc) => " ASC",
            _ => "",
        };
        parts.push(format!("{}{dir}", quote(&name)));
    }
    Ok(parts.join(", "))
}

fn index_sql(
    db: &str,
    table: &str,
    name: &str,
    unique: bool,
    if_not_exists: bool,
    cols: &str,
) -> String {
    format!(
        "CREATE {}INDEX {}{}.{} ON {} ({cols})",
        if unique { "UNIQUE " } else { "" },
        if if_not_exists { "IF NOT EXISTS " } else { "" },
        quote(db),
        quote(&sqlite_index_name(table, name)),
        quote(table)
    )
}

fn create_index(ci: CreateIndex) -> Result<DdlPlan> {
    let (db, table) = pair(&ci.table_name)?;
    let name = ci
        .name
        .as_ref()
        .and_then(|n| {
            n.0.last()
                .map(|p| p.to_string().trim_matches('`').to_string())
        })
        .unwrap_or_else(|| first_column(&ci.columns));
    let cols = index_columns(&ci.columns)?;
    let sql = index_sql(&db, &table, &name, ci.unique, ci.if_not_exists, &cols);
    Ok(DdlPlan {
        steps: Some(vec![Step::CreateIndex {
            index: sqlite_index_name(&table, &name),
            sql: sql.clone(),
        }]),
        sql: vec![sql],
        access: vec![access(&db, Some(&table), Privilege::Index)],
        tables: vec![(db, table)],
        dependent: Vec::new(),
    })
}

/// The statement of a step; for a rebuild, a query that only compiles if the column exists (the statements
/// are prepared, not run, to validate a schema change before its job starts).
fn step_sql(db: &str, table: &str, step: &Step) -> String {
    match step {
        Step::CreateIndex { sql, .. } | Step::AddColumn { sql, .. } | Step::Exec { sql } => {
            sql.clone()
        }
        Step::Rebuild { column, .. } => format!(
            "SELECT {} FROM {}.{} LIMIT 0",
            quote(column),
            quote(db),
            quote(table)
        ),
        // The table must exist; the change itself is checked by the job, against the table's definition.
        Step::Reshape { .. } => format!("SELECT 1 FROM {}.{} LIMIT 0", quote(db), quote(table)),
    }
}

/// `MODIFY` / `CHANGE COLUMN`: a rebuild with the column's new definition (positions are not kept: SQLite
/// tables keep their column order).
fn modify_column(
    db: &str,
    table: &str,
    old_name: Ident,
    new_name: Ident,
    data_type: DataType,
    options: Vec<ColumnOption>,
    steps: &mut Vec<Step>,
) -> Result<()> {
    let def = ColumnDef {
        name: new_name.clone(),
        data_type,
        options: options
            .into_iter()
            .map(|option| ColumnOptionDef { name: None, option })
            .collect(),
    };
    let rendered = column(&def, None)?;
    if rendered.primary_key || rendered.auto_increment {
        return Err(SqlError::Unsupported(
            "MODIFY COLUMN ... PRIMARY KEY / AUTO_INCREMENT".into(),
        ));
    }
    steps.push(Step::Rebuild {
        column: old_name.value,
        new_name: new_name.value.clone(),
        column_sql: rendered.sql,
    });
    if rendered.unique {
        steps.push(create_index_step(
            db,
            table,
            &new_name.value,
            true,
            &quote(&new_name.value),
        ));
    }
    Ok(())
}

fn create_index_step(db: &str, table: &str, name: &str, unique: bool, cols: &str) -> Step {
    Step::CreateIndex {
        index: sqlite_index_name(table, name),
        sql: index_sql(db, table, name, unique, false, cols),
    }
}

fn alter_operation(
    db: &str,
    table: &str,
    op: AlterTableOperation,
    steps: &mut Vec<Step>,
    acc: &mut Vec<Access>,
) -> Result<()> {
    let target = format!("{}.{}", quote(db), quote(table));
    match op {
        AlterTableOperation::AddColumn { column_def, .. } => {
            let rendered = column(&column_def, None)?;
            if rendered.primary_key || rendered.auto_increment {
                return Err(SqlError::Unsupported("ADD COLUMN ... PRIMARY KEY".into()));
            }
            steps.push(Step::AddColumn {
                column: column_def.name.value.clone(),
                sql: format!("ALTER TABLE {target} ADD COLUMN {}", rendered.sql),
            });
            if rendered.unique {
                let name = &column_def.name.value;
                steps.push(create_index_step(db, table, name, true, &quote(name)));
            }
        }
        AlterTableOperation::DropColumn { column_names, .. } => {
            for c in column_names {
                steps.push(Step::Exec {
                    sql: format!("ALTER TABLE {target} DROP COLUMN {}", quote(&c.value)),
                });
            }
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => steps.push(Step::Exec {
            sql: format!(
                "ALTER TABLE {target} RENAME COLUMN {} TO {}",
                quote(&old_column_name.value),
                quote(&new_column_name.value)
            ),
        }),
        AlterTableOperation::AddConstraint { constraint, .. } => match constraint {
            TableConstraint::Index(i) => {
                let name = i
                    .name
                    .as_ref()
                    .map(|n| n.value.clone())
                    .unwrap_or_else(|| first_column(&i.columns));
                acc.push(access(db, Some(table), Privilege::Index));
                steps.push(create_index_step(
                    db,
                    table,
                    &name,
                    false,
                    &index_columns(&i.columns)?,
                ));
            }
            TableConstraint::Unique(u) => {
                let name = u
                    .index_name
                    .as_ref()
                    .or(u.name.as_ref())
                    .map(|n| n.value.clone())
                    .unwrap_or_else(|| first_column(&u.columns));
                acc.push(access(db, Some(table), Privilege::Index));
                steps.push(create_index_step(
                    db,
                    table,
                    &name,
                    true,
                    &index_columns(&u.columns)?,
                ));
            }
            TableConstraint::PrimaryKey(pk) => steps.push(Step::Reshape {
                change: TableChange::AddPrimaryKey {
                    columns: index_column_names(&pk.columns)?,
                },
            }),
            TableConstraint::ForeignKey(fk) => {
                steps.push(Step::Reshape {
                    change: TableChange::AddForeignKey {
                        sql: foreign_key_sql(db, &fk, fk.name.as_ref().map(|n| n.value.clone()))?,
                    },
                });
            }
            other => return Err(SqlError::Unsupported(format!("ALTER TABLE ADD {other}"))),
        },
        AlterTableOperation::DropPrimaryKey { .. } => steps.push(Step::Reshape {
            change: TableChange::DropPrimaryKey,
        }),
        AlterTableOperation::DropForeignKey { name, .. }
        | AlterTableOperation::DropConstraint { name, .. } => steps.push(Step::Reshape {
            change: TableChange::DropForeignKey { name: name.value },
        }),
        AlterTableOperation::ModifyColumn {
            col_name,
            data_type,
            options,
            ..
        } => modify_column(
            db,
            table,
            col_name.clone(),
            col_name,
            data_type,
            options,
            steps,
        )?,
        AlterTableOperation::ChangeColumn {
            old_name,
            new_name,
            data_type,
            options,
            ..
        } => modify_column(db, table, old_name, new_name, data_type, options, steps)?,
        AlterTableOperation::DropIndex { name } => {
            acc.push(access(db, Some(table), Privilege::Index));
            steps.push(Step::Exec {
                sql: format!(
                    "DROP INDEX {}.{}",
                    quote(db),
                    quote(&sqlite_index_name(table, &name.value))
                ),
            });
        }
        other => {
            return Err(SqlError::Unsupported(format!(
                "ALTER TABLE {}",
                other.to_string().chars().take(60).collect::<String>()
            )))
        }
    }
    Ok(())
}

fn drop(
    object_type: ObjectType,
    if_exists: bool,
    names: &[sqlparser::ast::ObjectName],
    on_table: Option<&sqlparser::ast::ObjectName>,
    current_db: Option<&str>,
) -> Result<DdlPlan> {
    let if_exists_sql = if if_exists { "IF EXISTS " } else { "" };
    let mut plan = DdlPlan::dependent(Vec::new(), Vec::new(), Vec::new());
    match object_type {
        ObjectType::Table | ObjectType::View => {
            let kind = if object_type == ObjectType::Table {
                "TABLE"
            } else {
                "VIEW"
            };
            for name in names {
                let (db, table) = resolve(name, current_db)?;
                plan.sql.push(format!(
                    "DROP {kind} {if_exists_sql}{}.{}",
                    quote(&db),
                    quote(&table)
                ));
                plan.access.push(access(&db, Some(&table), Privilege::Drop));
                plan.tables.push((db, table));
            }
        }
        ObjectType::Index => {
            let on_table = on_table
                .ok_or_else(|| SqlError::Unsupported("DROP INDEX without ON table".into()))?;
            let (db, table) = resolve(on_table, current_db)?;
            for name in names {
                let index = name
                    .0
                    .last()
                    .map(|p| p.to_string().trim_matches('`').to_string())
                    .unwrap_or_default();
                plan.sql.push(format!(
                    "DROP INDEX {if_exists_sql}{}.{}",
                    quote(&db),
                    quote(&sqlite_index_name(&table, &index))
                ));
            }
            plan.access
                .push(access(&db, Some(&table), Privilege::Index));
            plan.tables.push((db, table));
        }
        other => return Err(SqlError::Unsupported(format!("DROP {other}"))),
    }
    // Drops cannot be reverted: they run as schema change jobs that are not cancelable.
    plan.steps = Some(
        plan.sql
            .iter()
            .map(|sql| Step::Exec { sql: sql.clone() })
            .collect(),
    );
    Ok(plan)
}
