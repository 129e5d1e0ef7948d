//! Expression rewriting: session values become literals, MySQL literal forms become SQLite's.

use super::functions::call;
use std::ops::ControlFlow;

use sqlparser::ast::{
    visit_expressions_mut, Assignment, AssignmentTarget, BinaryOperator, DoUpdate, Expr, Function,
    FunctionArguments, Ident, Insert, ObjectName, ObjectNamePart, OnConflict, OnConflictAction,
    OnInsert, SelectItem, SetExpr, SqliteOnConflict, Statement, Value as AstValue, Values,
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
    /// Whether names follow PostgreSQL's rules rather than MySQL's: result columns named as PostgreSQL
    /// names them (`count`, `?column?`), and unqualified pg_catalog tables found first. True for sessions
    /// of the PostgreSQL wire.
    fn postgres_names(&self) -> bool {
        false
    }
    /// Whether the session holds a temporary table `table` of database `db` (MySQL's CREATE TEMPORARY
    /// TABLE), which a name finds before the database's own table.
    fn temp_table(&self, _db: &str, _table: &str) -> bool {
        false
    }
}

/// Rewrites the statement's expressions in place. Returns, on the PostgreSQL wire, the declared type of
/// each result column that SQLite cannot type but PostgreSQL would (a comparison is `boolean`), by position.
pub fn rewrite(stmt: &mut Statement, ctx: &dyn SessionContext) -> Result<Vec<Option<String>>> {
    // MySQL names a string literal's column by its content: `SELECT 'a'` has a column `a`; PostgreSQL
    // names an expression's column by its function (`count`) or `?column?`.
    let postgres = ctx.postgres_names();
    let result_types = if postgres {
        super::result_types::result_types(stmt)
    } else {
        Vec::new()
    };
    let original_names = top_level_projection(stmt).map(|items| {
        items
            .iter()
            .map(|i| match i {
                SelectItem::UnnamedExpr(e) if postgres => {
                    super::pg_names::column_name(e).unwrap_or_else(|| i.to_string())
                }
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
                    // Moved, not cloned: a deep expression is recursed over as few times as possible.
                    let expr = std::mem::replace(expr, Expr::value(AstValue::Null));
                    *item = SelectItem::ExprWithAlias {
                        expr,
                        alias: Ident::with_quote('`', name),
                    };
                }
            }
        }
    }
    Ok(result_types)
}

/// PostgreSQL's `regclass` (sqlparser names it, or leaves it a custom type).
fn is_regclass(data_type: &sqlparser::ast::DataType) -> bool {
    match data_type {
        sqlparser::ast::DataType::Regclass => true,
        sqlparser::ast::DataType::Custom(name, _) => {
            name.to_string().eq_ignore_ascii_case("regclass")
        }
        _ => false,
    }
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
        // `'t'::regclass` (the PostgreSQL front end writes it as a CAST): the oid pg_class shows for the
        // table, NULL for one outside the tenant's databases (pg_catalog's own are not listed).
        Expr::Cast {
            expr: inner,
            data_type,
            ..
        } if is_regclass(data_type) => {
            if let Expr::Value(v) = inner.as_ref() {
                if let AstValue::SingleQuotedString(name) = &v.value {
                    let oid = crate::views::regclass_oid(ctx.current_db(), name);
                    *expr = literal(oid.map_or(Value::Null, Value::Int));
                }
            }
        }
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
        Expr::Extract { field, expr: x, .. } => {
            let x = std::mem::replace(x.as_mut(), Expr::value(AstValue::Null));
            *expr = super::extract::extract(field, x, ctx.postgres_names())?;
        }
        // `TRIM([BOTH | LEADING | TRAILING] [what FROM] s)`: SQLite has only its functions. PostgreSQL's
        // `what` is a set of characters, as in SQLite's trim; MySQL's a string removed as a whole.
        Expr::Trim {
            expr: inner,
            trim_where,
            trim_what,
            trim_characters,
        } => {
            use sqlparser::ast::TrimWhereField as W;
            let s = std::mem::replace(inner.as_mut(), Expr::value(AstValue::Null));
            let what = match (trim_what.take(), trim_characters.take()) {
                (Some(w), _) => Some(*w),
                (None, Some(mut chars)) if chars.len() == 1 => chars.pop(),
                (None, Some(_)) => {
                    return Err(SqlError::Unsupported(
                        "TRIM of several character lists".into(),
                    ))
                }
                (None, None) => None,
            };
            let (sqlite, mode) = match trim_where {
                Some(W::Leading) => ("ltrim", 1),
                Some(W::Trailing) => ("rtrim", 2),
                Some(W::Both) | None => ("trim", 0),
            };
            *expr = match what {
                Some(w) if !ctx.postgres_names() => super::functions::call(
                    "tenantry_trim",
                    vec![s, w, Expr::value(AstValue::Number(mode.to_string(), false))],
                ),
                Some(w) => super::functions::call(sqlite, vec![s, w]),
                None => super::functions::call(sqlite, vec![s]),
            };
            // The call's arguments were visited as the TRIM's parts already.
        }
        Expr::Value(v) => {
            if let AstValue::DoubleQuotedString(s) = &v.value {
                v.value = AstValue::SingleQuotedString(s.clone());
            }
        }
        Expr::BinaryOp {
            left,
            op: op @ (BinaryOperator::Plus | BinaryOperator::Minus),
            right,
        } if matches!(right.as_ref(), Expr::Interval(_))
            || (matches!(left.as_ref(), Expr::Interval(_)) && *op == BinaryOperator::Plus) =>
        {
            // `ts ± interval '...'`: SQLite's date modifiers on the point in time.
            let negative = *op == BinaryOperator::Minus;
            // Moved out, never copied: either side may be as deep as the limits allow.
            let take = |e: &mut Expr| std::mem::replace(e, Expr::value(AstValue::Null));
            let (point, interval) = if matches!(right.as_ref(), Expr::Interval(_)) {
                (take(left), take(right))
            } else {
                (take(right), take(left))
            };
            let Expr::Interval(interval) = interval else {
                return Ok(());
            };
            let mut args = vec![point];
            args.extend(
                interval_modifiers(&interval, negative)?
                    .into_iter()
                    .map(|m| literal(Value::from(m))),
            );
            *expr = call("datetime", args);
        }
        Expr::BinaryOp { left, op, right } => {
            // PostgreSQL's regular expression operators: SQLite's REGEXP (our `regexp` function).
            let (negated, insensitive) = match op {
                BinaryOperator::PGRegexMatch => (false, false),
                BinaryOperator::PGRegexIMatch => (false, true),
                BinaryOperator::PGRegexNotMatch => (true, false),
                BinaryOperator::PGRegexNotIMatch => (true, true),
                _ => return Ok(()),
            };
            let subject = std::mem::replace(left.as_mut(), Expr::value(AstValue::Null));
            let mut pattern = std::mem::replace(right.as_mut(), Expr::value(AstValue::Null));
            // The one `regexp` function is case-insensitive (MySQL's default collation); PostgreSQL's `~` is
            // case-sensitive, so its flag is set in the pattern either way.
            {
                let flag = if insensitive { "(?i)" } else { "(?-i)" };
                pattern = Expr::BinaryOp {
                    left: Box::new(literal(Value::from(flag))),
                    op: BinaryOperator::StringConcat,
                    right: Box::new(Expr::Nested(Box::new(pattern))),
                };
            }
            *expr = Expr::RLike {
                negated,
                expr: Box::new(subject),
                pattern: Box::new(pattern),
                regexp: true,
            };
        }
        // ILIKE: both sides folded to lower case, then LIKE.
        Expr::ILike {
            negated,
            any: false,
            expr: subject,
            pattern,
            escape_char,
        } => {
            let lower = |e: &mut Box<Expr>| {
                let inner = std::mem::replace(e.as_mut(), Expr::value(AstValue::Null));
                Box::new(call("lower", vec![inner]))
            };
            *expr = Expr::Like {
                negated: *negated,
                any: false,
                expr: lower(subject),
                pattern: lower(pattern),
                escape_char: escape_char.clone(),
            };
        }
        // PostgreSQL's default collation (`COLLATE pg_catalog.default`, psql writes it) is SQLite's default;
        // "C" and "POSIX" compare bytes, SQLite's BINARY.
        Expr::Collate {
            expr: inner,
            collation,
        } => {
            let name = collation.to_string().to_ascii_lowercase();
            let name = name.rsplit('.').next().unwrap_or("").trim_matches('"');
            match name {
                "default" => {
                    *expr = std::mem::replace(inner.as_mut(), Expr::value(AstValue::Null));
                }
                "c" | "posix" => *collation = ObjectName::from(vec![Ident::new("BINARY")]),
                _ => {}
            }
        }
        // `x = ANY(array)`: membership in a PostgreSQL array (text `{a,b}`); `= ANY(subquery)` is IN.
        Expr::AnyOp {
            left,
            compare_op: BinaryOperator::Eq,
            right,
            ..
        } => {
            let subject = std::mem::replace(left.as_mut(), Expr::value(AstValue::Null));
            let array = std::mem::replace(right.as_mut(), Expr::value(AstValue::Null));
            *expr = match strip_nested(array) {
                Expr::Subquery(q) => Expr::InSubquery {
                    expr: Box::new(subject),
                    subquery: q,
                    negated: false,
                },
                array => call("pg_array_has", vec![array, subject]),
            };
        }
        // `array[i]`: an element of a PostgreSQL array (1-based).
        Expr::CompoundFieldAccess { root, access_chain } if access_chain.len() == 1 => {
            if let sqlparser::ast::AccessExpr::Subscript(sqlparser::ast::Subscript::Index {
                index,
            }) = &mut access_chain[0]
            {
                let array = std::mem::replace(root.as_mut(), Expr::value(AstValue::Null));
                let index = std::mem::replace(index, Expr::value(AstValue::Null));
                *expr = call("pg_array_get", vec![array, index]);
            }
        }
        Expr::Function(f) if is_array_constructor(f) => {
            // `ARRAY(SELECT ...)`: the subquery's values as one PostgreSQL array.
            if let FunctionArguments::Subquery(q) = &f.args {
                *expr = parse_expr(&format!(
                    "(WITH `array$`(`v`) AS ({q}) SELECT coalesce(array_agg(`v`), '{{}}') FROM `array$`)"
                ))?;
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
            } else if let Some(v) = current_setting(f, ctx)? {
                *expr = literal(v);
            }
        }
        _ => {}
    }
    Ok(())
}

/// PostgreSQL's `current_setting('name' [, missing_ok])`: the session's setting as text, or NULL for an
/// unknown one when missing_ok is true. `None` for any other call.
fn current_setting(
    f: &sqlparser::ast::Function,
    ctx: &dyn SessionContext,
) -> Result<Option<Value>> {
    let [ObjectNamePart::Identifier(fname)] = f.name.0.as_slice() else {
        return Ok(None);
    };
    if !fname.value.eq_ignore_ascii_case("current_setting") {
        return Ok(None);
    }
    let FunctionArguments::List(list) = &f.args else {
        return Ok(None);
    };
    let literal_arg = |i: usize| match list.args.get(i) {
        Some(sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(
            Expr::Value(v),
        ))) => Some(&v.value),
        _ => None,
    };
    let name = match literal_arg(0) {
        Some(AstValue::SingleQuotedString(s)) if list.args.len() <= 2 => s.to_ascii_lowercase(),
        // A name bound as a parameter: SQLite's `current_setting`, which knows the defaults only.
        _ => return Ok(None),
    };
    let missing_ok = matches!(literal_arg(1), Some(AstValue::Boolean(true)));
    match ctx.system_variable(&name) {
        Ok(Value::Null) => Ok(Some(Value::Null)),
        Ok(v) => Ok(Some(Value::from(v.to_text().unwrap_or_default()))),
        Err(SqlError::UnknownVariable(_)) if missing_ok => Ok(Some(Value::Null)),
        Err(e) => Err(e),
    }
}

/// SQLite date modifiers (`'-1 months'`, `'+2 days'`, `'-90.5 seconds'`) adding an interval literal
/// (`interval '1 day 2 hours'`, `INTERVAL 1 MINUTE`) to a point in time, or subtracting it.
fn interval_modifiers(iv: &sqlparser::ast::Interval, negative: bool) -> Result<Vec<String>> {
    let value = match iv.value.as_ref() {
        Expr::Value(v) => match &v.value {
            AstValue::SingleQuotedString(s) | AstValue::DoubleQuotedString(s) => s.clone(),
            AstValue::Number(n, _) => n.clone(),
            _ => String::new(),
        },
        Expr::UnaryOp {
            op: sqlparser::ast::UnaryOperator::Minus,
            expr,
        } => format!("-{expr}"),
        _ => String::new(),
    };
    let text = match &iv.leading_field {
        Some(field) => format!("{value} {field}"),
        None => value,
    };
    let parsed = crate::fit::parse_interval(&text)
        .ok_or_else(|| SqlError::Unsupported(format!("the interval {iv}")))?;
    let sign = if negative { -1 } else { 1 };
    let mut mods = Vec::new();
    if parsed.months != 0 {
        mods.push(format!("{:+} months", sign * parsed.months as i64));
    }
    if parsed.days != 0 {
        mods.push(format!("{:+} days", sign * parsed.days as i64));
    }
    if parsed.microseconds != 0 || mods.is_empty() {
        let micros = sign * parsed.microseconds;
        mods.push(format!(
            "{}{}.{:06} seconds",
            if micros < 0 { "-" } else { "+" },
            micros.abs() / 1_000_000,
            micros.abs() % 1_000_000
        ));
    }
    Ok(mods)
}

fn strip_nested(e: Expr) -> Expr {
    match e {
        Expr::Nested(inner) => strip_nested(*inner),
        e => e,
    }
}

fn is_array_constructor(f: &Function) -> bool {
    matches!(f.name.0.as_slice(), [ObjectNamePart::Identifier(n)] if n.value.eq_ignore_ascii_case("ARRAY"))
        && matches!(f.args, FunctionArguments::Subquery(_))
}

/// Parses one expression written for SQLite by the translator itself.
fn parse_expr(sql: &str) -> Result<Expr> {
    match crate::parser::parse_tenant_sql(&format!("SELECT {sql}"))? {
        Statement::Query(q) => match *q.body {
            SetExpr::Select(mut s) if s.projection.len() == 1 => match s.projection.remove(0) {
                SelectItem::UnnamedExpr(e) => Ok(e),
                other => Err(SqlError::Internal(format!("{sql} parsed as {other}"))),
            },
            other => Err(SqlError::Internal(format!("{sql} parsed as {other}"))),
        },
        other => Err(SqlError::Internal(format!("{sql} parsed as {other}"))),
    }
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
    // PostgreSQL's own `ON CONFLICT ...` (which SQLite shares) stays as written.
    if let Some(OnInsert::DuplicateKeyUpdate(assignments)) = insert
        .on
        .take_if(|on| matches!(on, OnInsert::DuplicateKeyUpdate(_)))
    {
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
