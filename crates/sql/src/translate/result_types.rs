//! The types PostgreSQL gives result columns that SQLite cannot type (an expression has no declared type
//! there), worked out from the statement as PostgreSQL would before running it, since clients type their
//! results by what Parse describes: comparisons and predicates are `boolean` (their 1/0 then go out as
//! `t`/`f`), `count(*)` is `int8`, `array_agg` a text array, a cast its type, `min(x)` x's type, and a
//! derived table's column the type of what it selects. What is left to SQLite is a plain column, which it
//! types by its declaration.

use std::collections::HashMap;

use super::{ProbeUse, TypeProbe};
use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectNamePart, Query, Select,
    SelectItem, SetExpr, Statement, TableFactor, Value as AstValue,
};

/// The declared type of each result column of a query that PostgreSQL types but SQLite cannot, by
/// position. Empty when a wildcard makes positions unknown.
pub(super) fn result_types(stmt: &Statement) -> Vec<Option<String>> {
    match stmt {
        Statement::Query(q) => query_types(q).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The types of a query's columns by position, `None` when a wildcard hides them.
fn query_types(q: &Query) -> Option<Vec<Option<String>>> {
    match q.body.as_ref() {
        SetExpr::Select(s) => select_types(s),
        SetExpr::Query(inner) => query_types(inner),
        _ => None,
    }
}

fn select_types(select: &Select) -> Option<Vec<Option<String>>> {
    let scope = derived_columns(select);
    select
        .projection
        .iter()
        .map(|item| match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                Some(expr_type(e, &scope))
            }
            _ => None,
        })
        .collect()
}

/// The typed columns of the derived tables in a select's FROM, by (alias, column), lower case.
type Scope = HashMap<(String, String), String>;

fn derived_columns(select: &Select) -> Scope {
    let mut scope = Scope::new();
    let factors = select
        .from
        .iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)));
    for factor in factors {
        let TableFactor::Derived {
            subquery,
            alias: Some(alias),
            ..
        } = factor
        else {
            continue;
        };
        let SetExpr::Select(inner) = subquery.body.as_ref() else {
            continue;
        };
        let Some(types) = select_types(inner) else {
            continue;
        };
        for (item, ty) in inner.projection.iter().zip(types) {
            let name = match item {
                SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
                SelectItem::UnnamedExpr(Expr::Identifier(i)) => i.value.clone(),
                SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => match parts.last() {
                    Some(i) => i.value.clone(),
                    None => continue,
                },
                _ => continue,
            };
            if let Some(ty) = ty {
                scope.insert(
                    (
                        alias.name.value.to_ascii_lowercase(),
                        name.to_ascii_lowercase(),
                    ),
                    ty,
                );
            }
        }
    }
    scope
}

/// The type of an expression, if PostgreSQL's is known without SQLite's declared types.
fn expr_type(e: &Expr, scope: &Scope) -> Option<String> {
    if is_boolean(e) {
        return Some("BOOLEAN".to_string());
    }
    match e {
        Expr::Nested(inner) => expr_type(inner, scope),
        Expr::Value(v) if matches!(v.value, AstValue::Boolean(_)) => Some("BOOLEAN".to_string()),
        Expr::Cast { data_type, .. } => Some(data_type.to_string().to_ascii_uppercase()),
        Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [table, column] => scope
                .get(&(
                    table.value.to_ascii_lowercase(),
                    column.value.to_ascii_lowercase(),
                ))
                .cloned(),
            _ => None,
        },
        Expr::Case {
            conditions,
            else_result,
            ..
        } => conditions
            .iter()
            .map(|c| &c.result)
            .chain(else_result.as_deref())
            .find_map(|r| expr_type(r, scope)),
        // An array of the aggregated values' type (booleans and integers; text for the rest).
        Expr::Function(f) if is_named(f, "array_agg") => {
            let element = first_argument_of(f).and_then(|a| expr_type(a, scope));
            let kind = element.map(|t| crate::sqlite::results::declared_kind(&t));
            Some(
                match kind {
                    Some(crate::value::ColumnKind::Bool) => "BOOLEAN[]",
                    Some(crate::value::ColumnKind::Int | crate::value::ColumnKind::UInt) => {
                        "BIGINT[]"
                    }
                    _ => "TEXT[]",
                }
                .to_string(),
            )
        }
        Expr::Function(_) => function_type(e)
            .map(str::to_string)
            .or_else(|| first_argument(e).and_then(|a| expr_type(a, scope))),
        _ => None,
    }
}

/// A call's function name in lower case; a `pg_catalog.` qualifier is allowed.
fn function_name(f: &sqlparser::ast::Function) -> Option<String> {
    match f.name.0.as_slice() {
        [ObjectNamePart::Identifier(n)] => Some(n.value.to_ascii_lowercase()),
        [ObjectNamePart::Identifier(s), ObjectNamePart::Identifier(n)]
            if s.value.eq_ignore_ascii_case("pg_catalog") =>
        {
            Some(n.value.to_ascii_lowercase())
        }
        _ => None,
    }
}

/// Whether a call is of function `name` (lower case).
fn is_named(f: &sqlparser::ast::Function, name: &str) -> bool {
    function_name(f).as_deref() == Some(name)
}

/// A call's first argument, whatever the function.
fn first_argument_of(f: &sqlparser::ast::Function) -> Option<&Expr> {
    match &f.args {
        FunctionArguments::List(list) => match list.args.first() {
            Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(a))) => Some(a),
            _ => None,
        },
        _ => None,
    }
}

/// The first argument of a call of a function typed by it (`min(x)`: x).
fn first_argument(e: &Expr) -> Option<&Expr> {
    let Expr::Function(f) = e else { return None };
    let name = function_name(f)?;
    if !ARGUMENT_TYPED.contains(&name.as_str()) {
        return None;
    }
    first_argument_of(f)
}

/// The type of a call of a function whose result type does not depend on its arguments (`count` is
/// `int8`), as PostgreSQL describes it before running: clients type the result by what Parse describes.
fn function_type(e: &Expr) -> Option<&'static str> {
    let Expr::Function(f) = e else {
        return None;
    };
    let name = function_name(f)?;
    match name.as_str() {
        "count" | "length" | "char_length" | "character_length" | "octet_length" | "row_number"
        | "rank" | "dense_rank" | "ntile" | "strpos" => Some("BIGINT"),
        "bool_and" | "bool_or" | "every" => Some("BOOLEAN"),
        "json_agg" | "jsonb_agg" | "json_object_agg" | "jsonb_object_agg" | "json_build_object"
        | "jsonb_build_object" | "json_build_array" | "jsonb_build_array" => Some("JSON"),
        _ => None,
    }
}

/// Functions whose result has their first argument's type (`min(x)` is x's type).
const ARGUMENT_TYPED: [&str; 8] = [
    "min", "max", "coalesce", "ifnull", "nullif", "greatest", "least", "abs",
];

/// For a query whose untyped result columns include calls typed by their first argument (`min(a.n)`,
/// `array_agg(a.n)`), a query that SQLite can describe in their place: the same query with those arguments
/// as the columns at their positions, so that each argument's declared type, which SQLite knows for a
/// column, types the call. The statement is changed only while the probe is printed: arguments are moved
/// out of their calls and back, never copied (a statement's tree may be as deep as the limits allow).
pub(super) fn type_probe(
    stmt: &mut Statement,
    result_types: &[Option<String>],
) -> Option<TypeProbe> {
    let Statement::Query(q) = stmt else {
        return None;
    };
    let SetExpr::Select(select) = q.body.as_mut() else {
        return None;
    };
    let uses: Vec<Option<ProbeUse>> = select
        .projection
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = item
            else {
                return None;
            };
            let Expr::Function(f) = e else { return None };
            match result_types.get(i).cloned().flatten().as_deref() {
                // An array of text is what an array_agg of something untyped is described as: the probe
                // may tell more.
                Some("TEXT[]") if is_named(f, "array_agg") => {
                    first_argument_of(f).map(|_| ProbeUse::ArrayOf)
                }
                None if first_argument(e).is_some() => Some(ProbeUse::Same),
                _ => None,
            }
        })
        .collect();
    if uses.iter().all(Option::is_none) {
        return None;
    }
    // Each used call is parked with a NULL in its first argument's slot while the argument stands in its
    // place; after printing, the argument goes back into its call and the call into its place.
    let mut parked: Vec<(usize, Expr)> = Vec::new();
    for (i, (item, used)) in select.projection.iter_mut().zip(&uses).enumerate() {
        if used.is_none() {
            continue;
        }
        let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = item else {
            continue;
        };
        let mut call = std::mem::replace(e, Expr::value(AstValue::Null));
        if let Some(a) = first_argument_mut(&mut call) {
            *e = std::mem::replace(a, Expr::value(AstValue::Null));
        }
        parked.push((i, call));
    }
    let sql = q.to_string();
    let SetExpr::Select(select) = q.body.as_mut() else {
        return None;
    };
    for (i, mut call) in parked {
        if let Some(SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) =
            select.projection.get_mut(i)
        {
            if let Some(a) = first_argument_mut(&mut call) {
                *a = std::mem::replace(e, Expr::value(AstValue::Null));
            }
            *e = call;
        }
    }
    Some(TypeProbe {
        sql,
        uses,
        resolved: Default::default(),
    })
}

/// The first argument of a call, to move it out and back.
fn first_argument_mut(e: &mut Expr) -> Option<&mut Expr> {
    let Expr::Function(f) = e else { return None };
    match &mut f.args {
        FunctionArguments::List(list) => match list.args.first_mut() {
            Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(a))) => Some(a),
            _ => None,
        },
        _ => None,
    }
}

/// Whether an expression is boolean-valued in PostgreSQL.
fn is_boolean(e: &Expr) -> bool {
    use sqlparser::ast::{BinaryOperator as B, UnaryOperator};
    match e {
        Expr::Nested(inner) => is_boolean(inner),
        Expr::BinaryOp { op, .. } => matches!(
            op,
            B::Eq
                | B::NotEq
                | B::Lt
                | B::LtEq
                | B::Gt
                | B::GtEq
                | B::And
                | B::Or
                | B::Xor
                | B::PGRegexMatch
                | B::PGRegexIMatch
                | B::PGRegexNotMatch
                | B::PGRegexNotIMatch
        ),
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            ..
        } => true,
        Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsNotTrue(_)
        | Expr::IsFalse(_)
        | Expr::IsNotFalse(_)
        | Expr::IsDistinctFrom(..)
        | Expr::IsNotDistinctFrom(..)
        | Expr::InList { .. }
        | Expr::InSubquery { .. }
        | Expr::Between { .. }
        | Expr::Like { .. }
        | Expr::ILike { .. }
        | Expr::SimilarTo { .. }
        | Expr::RLike { .. }
        | Expr::Exists { .. }
        | Expr::AnyOp { .. }
        | Expr::AllOp { .. } => true,
        _ => false,
    }
}
