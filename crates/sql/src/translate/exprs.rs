//! Expression rewriting: session values become literals, MySQL literal forms become SQLite's.

use std::ops::ControlFlow;

use sqlparser::ast::{
    visit_expressions_mut, Assignment, AssignmentTarget, DoUpdate, Expr, FunctionArguments, Ident,
    Insert, ObjectNamePart, OnConflict, OnConflictAction, OnInsert, SelectItem, SetExpr,
    SqliteOnConflict, Statement, Value as AstValue, Values,
};

use crate::error::{Result, SqlError};
use crate::value::Value;

/// What the translator needs to know about the session.
pub trait SessionContext {
    /// The current database, if one is selected.
    fn current_db(&self) -> Option<&str>;
    /// The value of a system variable (`@@name`, `@@session.name`, `@@global.name`).
    fn system_variable(&self, name: &str) -> Result<Value>;
    /// The value of a user variable (`@name`); unset ones are NULL.
    fn user_variable(&self, name: &str) -> Value;
    /// The value of a session function called without arguments (`DATABASE()`, `USER()`, ...), if it is one.
    fn session_function(&self, name: &str) -> Option<Value>;
}

/// Rewrites the statement's expressions in place.
pub fn rewrite(stmt: &mut Statement, ctx: &dyn SessionContext) -> Result<()> {
    // MySQL names a string literal's column by its content: `SELECT 'a'` has a column `a`.
    let original_names = top_level_projection(stmt).map(|items| {
        items
            .iter()
            .map(|i| match i {
                SelectItem::UnnamedExpr(Expr::Value(v)) => match &v.value {
                    AstValue::SingleQuotedString(s) | AstValue::DoubleQuotedString(s) => s.clone(),
                    _ => i.to_string(),
                },
                _ => i.to_string(),
            })
            .collect::<Vec<_>>()
    });
    let flow = visit_expressions_mut(stmt, |expr| match rewrite_expr(expr, ctx) {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => ControlFlow::Break(e),
    });
    if let ControlFlow::Break(e) = flow {
        return Err(e);
    }
    // A substituted value keeps the name it was written with: `SELECT @@version` returns a column `@@version`.
    if let (Some(names), Some(items)) = (original_names, top_level_projection_mut(stmt)) {
        for (item, name) in items.iter_mut().zip(names) {
            if let SelectItem::UnnamedExpr(expr) = item {
                if expr.to_string() != name {
                    *item = SelectItem::ExprWithAlias {
                        expr: expr.clone(),
                        alias: Ident::with_quote('`', name),
                    };
                }
            }
        }
    }
    Ok(())
}

fn top_level_projection(stmt: &Statement) -> Option<&Vec<SelectItem>> {
    match stmt {
        Statement::Query(q) => match q.body.as_ref() {
            SetExpr::Select(s) => Some(&s.projection),
            _ => None,
        },
        _ => None,
    }
}

fn top_level_projection_mut(stmt: &mut Statement) -> Option<&mut Vec<SelectItem>> {
    match stmt {
        Statement::Query(q) => match q.body.as_mut() {
            SetExpr::Select(s) => Some(&mut s.projection),
            _ => None,
        },
        _ => None,
    }
}

fn rewrite_expr(expr: &mut Expr, ctx: &dyn SessionContext) -> Result<()> {
    super::functions::rewrite(expr)?;
    match expr {
        Expr::Identifier(ident) if ident.quote_style.is_none() => {
            // SQL's niladic functions, written without parentheses (`SELECT current_user`).
            const NILADIC: [&str; 5] = [
                "CURRENT_USER",
                "SESSION_USER",
                "CURRENT_ROLE",
                "CURRENT_CATALOG",
                "CURRENT_SCHEMA",
            ];
            let upper = ident.value.to_ascii_uppercase();
            if NILADIC.contains(&upper.as_str()) {
                if let Some(v) = ctx.session_function(&upper) {
                    *expr = literal(v);
                }
                return Ok(());
            }
            if let Some(var) = ident.value.strip_prefix("@@") {
                *expr = literal(ctx.system_variable(&var.to_ascii_lowercase())?);
            } else if let Some(var) = ident.value.strip_prefix('@') {
                *expr = literal(ctx.user_variable(&var.to_ascii_lowercase()));
            }
        }
        Expr::CompoundIdentifier(parts) if parts.len() == 2 && parts[0].value.starts_with("@@") => {
            *expr = literal(ctx.system_variable(&parts[1].value.to_ascii_lowercase())?);
        }
        // Character set introducers: `_binary'..'` is bytes, `_utf8mb4'..'` and the like are the string.
        Expr::Prefixed { prefix, value } => {
            let binary = prefix.value.eq_ignore_ascii_case("_binary");
            let mut inner = std::mem::replace(value.as_mut(), Expr::value(AstValue::Null));
            if binary {
                if let Expr::Value(v) = &inner {
                    if let AstValue::SingleQuotedString(s) | AstValue::DoubleQuotedString(s) =
                        &v.value
                    {
                        inner = literal(Value::Blob(s.as_bytes().to_vec()));
                    }
                }
            }
            rewrite_expr(&mut inner, ctx)?;
            *expr = inner;
        }
        Expr::Value(v) => {
            if let AstValue::DoubleQuotedString(s) = &v.value {
                v.value = AstValue::SingleQuotedString(s.clone());
            }
        }
        Expr::Function(f) => {
            // PostgreSQL clients qualify built-in functions (`pg_catalog.version()`); SQLite knows no
            // qualified functions, and there is only one of each.
            if f.name.0.len() == 2
                && matches!(&f.name.0[0], ObjectNamePart::Identifier(s) if s.value.eq_ignore_ascii_case("pg_catalog"))
            {
                f.name.0.remove(0);
            }
            let no_args = match &f.args {
                FunctionArguments::None => true,
                FunctionArguments::List(l) => l.args.is_empty(),
                FunctionArguments::Subquery(_) => false,
            };
            if let ([ObjectNamePart::Identifier(name)], true) = (f.name.0.as_slice(), no_args) {
                if let Some(v) = ctx.session_function(&name.value.to_ascii_uppercase()) {
                    *expr = literal(v);
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// A SQL literal for a value.
pub fn literal(v: Value) -> Expr {
    let v = match v {
        Value::Null => AstValue::Null,
        Value::Int(i) => AstValue::Number(i.to_string(), false),
        Value::Float(f) => AstValue::Number(format!("{f:?}"), false),
        Value::Text(s) => AstValue::SingleQuotedString(s),
        Value::Blob(b) => {
            AstValue::HexStringLiteral(b.iter().map(|x| format!("{x:02X}")).collect())
        }
    };
    Expr::value(v)
}

/// MySQL's INSERT forms in SQLite's words: IGNORE, REPLACE, `SET a = 1`, `ON DUPLICATE KEY UPDATE`.
pub fn mysql_insert_to_sqlite(insert: &mut Insert) -> Result<()> {
    if insert.ignore {
        insert.ignore = false;
        insert.or = Some(SqliteOnConflict::Ignore);
    }
    if insert.replace_into {
        insert.replace_into = false;
        insert.or = Some(SqliteOnConflict::Replace);
    }
    insert.priority = None;
    if insert.insert_alias.is_some() {
        return Err(SqlError::Unsupported("INSERT ... AS alias".into()));
    }
    if !insert.assignments.is_empty() {
        let mut columns = Vec::new();
        let mut row = Vec::new();
        for a in std::mem::take(&mut insert.assignments) {
            match a.target {
                AssignmentTarget::ColumnName(name) => columns.push(name),
                AssignmentTarget::Tuple(_) => {
                    return Err(SqlError::Unsupported(
                        "tuple assignment in INSERT ... SET".into(),
                    ))
                }
            }
            row.push(a.value);
        }
        insert.columns = columns;
        insert.source = Some(Box::new(sqlparser::ast::Query {
            body: Box::new(SetExpr::Values(Values {
                explicit_row: false,
                value_keyword: false,
                rows: vec![sqlparser::ast::Parens::with_empty_span(row)],
            })),
            ..empty_query()?
        }));
    }
    if let Some(OnInsert::DuplicateKeyUpdate(assignments)) = insert.on.take() {
        let assignments = assignments
            .into_iter()
            .map(|mut a: Assignment| {
                let _ = visit_expressions_mut(&mut a.value, |e| {
                    values_to_excluded(e);
                    ControlFlow::<()>::Continue(())
                });
                a
            })
            .collect();
        insert.on = Some(OnInsert::OnConflict(OnConflict {
            conflict_target: None,
            action: OnConflictAction::DoUpdate(DoUpdate {
                assignments,
                selection: None,
            }),
        }));
    }
    Ok(())
}

/// `VALUES(col)` in ON DUPLICATE KEY UPDATE means the row that was to be inserted: SQLite's `excluded.col`.
fn values_to_excluded(e: &mut Expr) {
    if let Expr::Function(f) = e {
        let is_values = matches!(f.name.0.as_slice(), [ObjectNamePart::Identifier(n)] if n.value.eq_ignore_ascii_case("VALUES"));
        if let (true, FunctionArguments::List(list)) = (is_values, &f.args) {
            if let [sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(
                Expr::Identifier(col),
            ))] = list.args.as_slice()
            {
                *e = Expr::CompoundIdentifier(vec![Ident::new("excluded"), col.clone()]);
            }
        }
    }
}

fn empty_query() -> Result<sqlparser::ast::Query> {
    // Parsing a trivial query is the stable way to get every field of `Query` defaulted.
    match crate::parser::parse_tenant_sql("SELECT 1")? {
        Statement::Query(q) => Ok(*q),
        other => Err(SqlError::Internal(format!("SELECT 1 parsed as {other}"))),
    }
}
