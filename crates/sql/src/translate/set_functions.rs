//! PostgreSQL's set-returning functions in a select list (`SELECT unnest(i.indkey) AS attnum,
//! generate_subscripts(i.indkey, 1) AS ord FROM pg_index i`, as SQLAlchemy's inspector and psql write them).
//!
//! SQLite has no such functions, but its table-valued functions in FROM see the columns of the tables
//! before them, which is what PostgreSQL's select-list call means: one output row per element, for each
//! input row. So the calls become columns of one table-valued function joined last into the FROM. For
//! arrays that is `json_each(pg_zip_json(a, b, ...))`: PostgreSQL runs several calls side by side, as many
//! rows as the longest array has elements, and `pg_zip_json` builds exactly those rows once per input row
//! (element i of each array, then its subscript or NULL past that array's end), so the cost stays linear in
//! the elements. `unnest(a)` reads a row's element of a, `generate_subscripts(a, 1)` its subscript.
//! `generate_series(a, b[, s])` reads SQLite's `generate_series`, alone in its list. Calls in a grouped
//! select (which PostgreSQL evaluates after grouping), generate_series beside other calls, and arrays holding
//! a parameter (which would move the parameter among the others) are refused or left alone rather than
//! answered differently.

use std::ops::ControlFlow;

use sqlparser::ast::helpers::attached_token::AttachedToken;
use sqlparser::ast::{
    visit_expressions, BinaryOperator, CaseWhen, Expr, FunctionArg, FunctionArgExpr,
    FunctionArguments, GroupByExpr, Ident, ObjectNamePart, Query, SelectItem, SetExpr, Statement,
    Value as AstValue, VisitMut, VisitorMut,
};

use crate::error::{Result, SqlError};

/// The alias of the table-valued function a select's calls become.
const SOURCE: &str = "tenantry_set";

/// Rewrites every select whose list calls a set-returning function (see the module's doc).
pub(super) fn join_laterally(stmt: &mut Statement) -> Result<()> {
    struct Lateral(Option<SqlError>);
    impl VisitorMut for Lateral {
        type Break = ();
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            match rewrite_body(&mut query.body) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    self.0 = Some(e);
                    ControlFlow::Break(())
                }
            }
        }
    }
    let mut v = Lateral(None);
    let _ = stmt.visit(&mut v);
    v.0.map_or(Ok(()), Err)
}

/// Which set-returning function a select-list call is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unnest,
    Subscripts,
    Series,
}

/// A set-returning call of a select list, its arguments taken out of it (moved, never copied: a
/// statement's tree may be as deep as the limits allow) and the arrays printed as SQL.
enum Call {
    /// `unnest(array)`.
    Unnest(String),
    /// `generate_subscripts(array, dim)`.
    Subscripts(String, Box<Expr>),
    /// `generate_series(args)`.
    Series(Vec<String>),
}

fn rewrite_body(body: &mut SetExpr) -> Result<()> {
    let select = match body {
        SetExpr::Select(select) => select,
        SetExpr::SetOperation { left, right, .. } => {
            rewrite_body(left)?;
            return rewrite_body(right);
        }
        _ => return Ok(()),
    };
    for item in select.projection.iter_mut() {
        expandarray_as_set_call(item);
    }
    // The select list's calls, by item.
    let kinds: Vec<(usize, String, Kind)> = select
        .projection
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let expr = match item {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
                _ => return None,
            };
            set_call(expr).map(|(name, kind)| (i, name, kind))
        })
        .collect();
    if kinds.is_empty() {
        return Ok(());
    }
    let grouped = match &select.group_by {
        GroupByExpr::All(_) => true,
        GroupByExpr::Expressions(e, _) => !e.is_empty(),
    };
    if grouped || select.having.is_some() {
        return Err(SqlError::Unsupported(
            "set-returning functions in the select list of a grouped query".into(),
        ));
    }
    let series = kinds.iter().filter(|(_, _, k)| *k == Kind::Series).count();
    if series > 0 && kinds.len() > 1 {
        return Err(SqlError::Unsupported(
            "generate_series beside other set-returning functions in one select list".into(),
        ));
    }
    let calls: Vec<(usize, String, Call)> = kinds
        .into_iter()
        .filter_map(|(i, name, kind)| {
            let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) =
                select.projection.get_mut(i)?
            else {
                return None;
            };
            let mut args = take_arguments(e).into_iter();
            let mut next = || args.next().unwrap_or_else(|| Expr::value(AstValue::Null));
            let call = match kind {
                Kind::Unnest => Call::Unnest(next().to_string()),
                Kind::Subscripts => {
                    let array = next().to_string();
                    Call::Subscripts(array, Box::new(next()))
                }
                Kind::Series => Call::Series(args.map(|a| a.to_string()).collect()),
            };
            Some((i, name, call))
        })
        .collect();
    // The distinct arrays, in order of first use: each is one slot of the zipped rows.
    let mut arrays: Vec<String> = Vec::new();
    let mut slots = Vec::with_capacity(calls.len());
    for (_, _, call) in &calls {
        let slot = match call {
            Call::Unnest(text) | Call::Subscripts(text, _) => {
                Some(arrays.iter().position(|a| a == text).unwrap_or_else(|| {
                    arrays.push(text.clone());
                    arrays.len() - 1
                }))
            }
            Call::Series(_) => None,
        };
        slots.push(slot);
    }
    // Each zipped row holds the arrays' elements, then their subscripts.
    let mut from = format!("json_each(pg_zip_json({}))", arrays.join(", "));
    let mut replacements = Vec::new();
    for ((item, name, call), slot) in calls.into_iter().zip(slots) {
        let column = match call {
            Call::Series(args) => {
                from = format!("generate_series({})", args.join(", "));
                field("value")
            }
            Call::Unnest(_) => position(slot.unwrap_or(0)),
            // Arrays here have one dimension: subscripts of dimension 1 are 1-based, others NULL. The dimension
            // stays where it was written (SQLAlchemy binds it as a parameter).
            Call::Subscripts(_, dim) => Expr::Case {
                case_token: AttachedToken::empty(),
                end_token: AttachedToken::empty(),
                operand: None,
                conditions: vec![CaseWhen {
                    condition: Expr::BinaryOp {
                        left: Box::new(Expr::Nested(dim)),
                        op: BinaryOperator::Eq,
                        right: Box::new(number(1)),
                    },
                    result: position(arrays.len() + slot.unwrap_or(0)),
                }],
                else_result: None,
            },
        };
        replacements.push((item, name, column));
    }
    for (i, name, column) in replacements {
        let item = &mut select.projection[i];
        *item = match std::mem::replace(item, SelectItem::UnnamedExpr(number(0))) {
            SelectItem::ExprWithAlias { alias, .. } => SelectItem::ExprWithAlias {
                expr: column,
                alias,
            },
            // PostgreSQL names an unaliased call's column after the function.
            _ => SelectItem::ExprWithAlias {
                expr: column,
                alias: Ident::new(name),
            },
        };
    }
    let sql = format!("SELECT 1 FROM {from} AS {SOURCE}");
    let Ok(Statement::Query(q)) = crate::parser::parse_tenant_sql(&sql) else {
        return Err(SqlError::Internal(format!("set function source: {sql}")));
    };
    let SetExpr::Select(parsed) = *q.body else {
        return Err(SqlError::Internal(format!("set function source: {sql}")));
    };
    select.from.extend(parsed.from);
    Ok(())
}

/// A set-returning call's function name and kind, judged without copying anything.
fn set_call(expr: &Expr) -> Option<(String, Kind)> {
    let Expr::Function(f) = expr else {
        return None;
    };
    let parts: Vec<&str> = f
        .name
        .0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => Some(i.value.as_str()),
            ObjectNamePart::Function(_) => None,
        })
        .collect::<Option<_>>()?;
    let name = match parts.as_slice() {
        [n] => n.to_ascii_lowercase(),
        [schema, n] if schema.eq_ignore_ascii_case("pg_catalog") => n.to_ascii_lowercase(),
        _ => return None,
    };
    let kind = match name.as_str() {
        "unnest" => Kind::Unnest,
        "generate_subscripts" => Kind::Subscripts,
        "generate_series" => Kind::Series,
        _ => return None,
    };
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    if f.over.is_some() || f.filter.is_some() || !list.clauses.is_empty() {
        return None;
    }
    let args: Vec<&Expr> = list
        .args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect::<Option<_>>()?;
    // What moves into FROM must hold no placeholder: parameters bind in the order they are written.
    let fits = match (kind, args.as_slice()) {
        (Kind::Unnest, [array]) | (Kind::Subscripts, [array, _]) => !has_placeholder(array),
        (Kind::Series, [_, _] | [_, _, _]) => !args.iter().any(|a| has_placeholder(a)),
        _ => false,
    };
    fits.then_some((name, kind))
}

/// pgjdbc's `(information_schema._pg_expandarray(a)).n` / `.x` (written `pg_field((pg_expandarray(a)), 'n')` by
/// the PostgreSQL front end) and a bare `pg_expandarray(a)` (a record whose `x` is all pgjdbc reads of it) as the
/// calls they amount to: `generate_subscripts(a, 1)` and `unnest(a)`, named after the field.
fn expandarray_as_set_call(item: &mut SelectItem) {
    let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = item else {
        return;
    };
    let named = |e: &Expr, n: &str| {
        matches!(e, Expr::Function(f) if matches!(f.name.0.as_slice(),
            [ObjectNamePart::Identifier(i)] if i.value.eq_ignore_ascii_case(n)))
    };
    let (field, mut call) = if named(e, "pg_field") {
        let mut args = take_arguments(e);
        let field = match args.get(1) {
            Some(Expr::Value(v)) => match &v.value {
                AstValue::SingleQuotedString(f) => f.clone(),
                _ => return,
            },
            _ => return,
        };
        let mut inner = args.swap_remove(0);
        while let Expr::Nested(n) = inner {
            inner = *n;
        }
        if !named(&inner, "pg_expandarray") || !matches!(field.as_str(), "x" | "n") {
            // Not pgjdbc's record: the call goes back as it was, for the translator to refuse.
            *e = super::functions::call(
                "pg_field",
                vec![inner, Expr::value(AstValue::SingleQuotedString(field))],
            );
            return;
        }
        (field, inner)
    } else if named(e, "pg_expandarray") {
        (
            "x".to_string(),
            std::mem::replace(e, Expr::value(AstValue::Null)),
        )
    } else {
        return;
    };
    let array = take_arguments(&mut call)
        .into_iter()
        .next()
        .unwrap_or_else(|| Expr::value(AstValue::Null));
    let replacement = if field == "n" {
        super::functions::call("generate_subscripts", vec![array, number(1)])
    } else {
        super::functions::call("unnest", vec![array])
    };
    *item = match std::mem::replace(item, SelectItem::UnnamedExpr(number(0))) {
        SelectItem::ExprWithAlias { alias, .. } => SelectItem::ExprWithAlias {
            expr: replacement,
            alias,
        },
        _ => SelectItem::ExprWithAlias {
            expr: replacement,
            alias: Ident::new(field),
        },
    };
}

/// The arguments of a call, moved out of it (the call is left without them).
fn take_arguments(e: &mut Expr) -> Vec<Expr> {
    match e {
        Expr::Function(f) => super::functions::take_args(f),
        _ => Vec::new(),
    }
}

/// A column of the source.
fn field(name: &str) -> Expr {
    Expr::CompoundIdentifier(vec![Ident::new(SOURCE), Ident::new(name)])
}

/// Entry `i` of a zipped row.
fn position(i: usize) -> Expr {
    super::functions::call(
        "json_extract",
        vec![
            field("value"),
            Expr::value(AstValue::SingleQuotedString(format!("$[{i}]"))),
        ],
    )
}

fn number(n: i64) -> Expr {
    Expr::value(AstValue::Number(n.to_string(), false))
}

/// Whether a `?` parameter appears in `expr`.
fn has_placeholder(expr: &Expr) -> bool {
    visit_expressions(expr, |e| match e {
        Expr::Value(v) if matches!(v.value, AstValue::Placeholder(_)) => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}
