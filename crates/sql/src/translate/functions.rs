//! MySQL's function and operator forms that SQLite spells differently or not at all: `DATE_ADD` / `DATE_SUB` /
//! `± INTERVAL`, `NOW(6)` and `CURRENT_TIMESTAMP(6)`, `GROUP_CONCAT ... SEPARATOR`, `RLIKE`, MySQL's CAST
//! targets. The functions they become are registered on every connection (`sqlite/functions.rs`, `sqlite/dates.rs`).

use sqlparser::ast::{
    BinaryOperator, CastKind, DataType, DuplicateTreatment, ExactNumberInfo, Expr, Function,
    FunctionArg, FunctionArgExpr, FunctionArgumentClause, FunctionArgumentList, FunctionArguments,
    Ident, Interval, ObjectName, ObjectNamePart, TimezoneInfo, Value as AstValue,
};

use crate::error::{Result, SqlError};

/// Rewrites one expression (its children are already rewritten: the visitor runs after them).
pub(super) fn rewrite(expr: &mut Expr) -> Result<()> {
    match expr {
        Expr::BinaryOp { left, op, right }
            if matches!(op, BinaryOperator::Plus | BinaryOperator::Minus) =>
        {
            let minus = matches!(op, BinaryOperator::Minus);
            // `d + INTERVAL n unit`, `INTERVAL n unit + d`, `d - INTERVAL n unit`.
            // Moved out, never copied: either side may be as deep as the limits allow.
            let (value, interval) = if matches!(right.as_ref(), Expr::Interval(_)) {
                (take(left), take(right))
            } else if matches!(left.as_ref(), Expr::Interval(_)) && !minus {
                (take(right), take(left))
            } else {
                return Ok(());
            };
            let Expr::Interval(interval) = interval else {
                return Ok(());
            };
            *expr = date_add(value, interval, minus)?;
        }
        Expr::RLike { regexp, .. } => *regexp = true,
        // `DATE '2026-01-31'`, `TIME '12:00'`, `TIMESTAMP '...'` (standard SQL, MySQL and PostgreSQL):
        // the CAST they mean. Another type before a string only labels it.
        Expr::TypedString(typed) => {
            // A literal's own fraction digits are its precision (`TIMESTAMP '... 01:02:03.5'` keeps the .5).
            let digits = match &typed.value.value {
                AstValue::SingleQuotedString(s) | AstValue::DoubleQuotedString(s) => {
                    s.rsplit_once('.').map_or(0, |(_, f)| {
                        f.chars().take_while(char::is_ascii_digit).count()
                    }) as u64
                }
                _ => 0,
            };
            let precision = |p: &Option<u64>| Some(p.unwrap_or(digits).min(6));
            let value = Expr::Value(typed.value.clone());
            *expr = match &typed.data_type {
                DataType::Date => cast(value, &DataType::Date),
                DataType::Time(p, _) => {
                    cast(value, &DataType::Time(precision(p), TimezoneInfo::None))
                }
                DataType::Timestamp(p, _) | DataType::Datetime(p) => {
                    cast(value, &DataType::Datetime(precision(p)))
                }
                _ => value,
            };
        }
        Expr::Cast {
            kind: CastKind::Cast,
            expr: inner,
            data_type,
            format: None,
        } if rewrites_cast(data_type) => {
            *expr = cast(take(inner), data_type);
        }
        Expr::Function(f) => {
            if let Some(e) = function(f)? {
                *expr = e;
            }
        }
        _ => {}
    }
    Ok(())
}

fn take(e: &mut Expr) -> Expr {
    std::mem::replace(e, Expr::value(AstValue::Null))
}

/// A call of `name` with `args`.
pub(super) fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
                .collect(),
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

fn string(s: &str) -> Expr {
    Expr::value(AstValue::SingleQuotedString(s.to_string()))
}

fn number(n: i64) -> Expr {
    Expr::value(AstValue::Number(n.to_string(), false))
}

/// `tenantry_date_add(value, amount, 'UNIT', ±1)`.
fn date_add(value: Expr, interval: Interval, minus: bool) -> Result<Expr> {
    if interval.last_field.is_some() || interval.fractional_seconds_precision.is_some() {
        return Err(SqlError::Unsupported(format!("INTERVAL {interval}")));
    }
    let unit = interval
        .leading_field
        .as_ref()
        .map(|u| u.to_string())
        .ok_or_else(|| SqlError::Unsupported(format!("INTERVAL {interval} without a unit")))?;
    Ok(call(
        "tenantry_date_add",
        vec![
            value,
            *interval.value,
            string(&unit),
            number(if minus { -1 } else { 1 }),
        ],
    ))
}

/// The unnamed argument expressions of a call, moved out of it (check their shape with [`plain_args`]).
pub(super) fn take_args(f: &mut Function) -> Vec<Expr> {
    match &mut f.args {
        FunctionArguments::List(l) => std::mem::take(&mut l.args)
            .into_iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The unnamed argument expressions of a call, if that is all it has.
fn plain_args(f: &Function) -> Option<Vec<&Expr>> {
    match &f.args {
        FunctionArguments::List(l) => l
            .args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        FunctionArguments::None => Some(Vec::new()),
        FunctionArguments::Subquery(_) => None,
    }
}

fn function(f: &mut Function) -> Result<Option<Expr>> {
    let [ObjectNamePart::Identifier(name)] = f.name.0.as_slice() else {
        return Ok(None);
    };
    let upper = name.value.to_ascii_uppercase();
    match upper.as_str() {
        "DATE_ADD" | "DATE_SUB" | "ADDDATE" | "SUBDATE" => {
            let minus = upper.contains("SUB");
            let shape = match plain_args(f).as_deref() {
                Some([_, Expr::Interval(_)]) => 1,
                Some([_, _]) if upper.ends_with("DATE") => 2,
                Some(_) => return Err(SqlError::Unsupported(format!("{f}"))),
                None => return Ok(None),
            };
            // Moved out of the call, never copied (an argument may be as deep as the limits allow).
            let mut args = take_args(f).into_iter();
            let (Some(value), Some(second)) = (args.next(), args.next()) else {
                return Ok(None);
            };
            match (shape, second) {
                (1, Expr::Interval(i)) => Ok(Some(date_add(value, i, minus)?)),
                // ADDDATE(d, n) / SUBDATE(d, n): n days.
                (_, days) => Ok(Some(call(
                    "tenantry_date_add",
                    vec![
                        value,
                        days,
                        string("DAY"),
                        number(if minus { -1 } else { 1 }),
                    ],
                ))),
            }
        }
        // SQLite's CURRENT_TIMESTAMP / CURRENT_TIME are keywords without arguments; with a precision
        // they are our functions.
        "CURRENT_TIMESTAMP" | "LOCALTIMESTAMP" | "LOCALTIME" | "CURRENT_TIME" if matches!(&f.args, FunctionArguments::List(l) if !l.args.is_empty()) =>
        {
            if plain_args(f).is_none() {
                return Ok(None);
            }
            let target = if upper == "CURRENT_TIME" {
                "curtime"
            } else {
                "now"
            };
            Ok(Some(call(target, take_args(f))))
        }
        // PostgreSQL's JSON builders (SQLAlchemy's reflection queries use them) are SQLite's under other names.
        "JSON_BUILD_OBJECT" | "JSONB_BUILD_OBJECT" | "JSON_BUILD_ARRAY" | "JSONB_BUILD_ARRAY"
        | "JSON_AGG" | "JSONB_AGG" | "JSON_OBJECT_AGG" | "JSONB_OBJECT_AGG" => {
            let sqlite = match upper.trim_start_matches("JSONB").trim_start_matches("JSON") {
                "_BUILD_OBJECT" => "json_object",
                "_BUILD_ARRAY" => "json_array",
                "_AGG" => "json_group_array",
                _ => "json_group_object",
            };
            f.name = ObjectName::from(vec![Ident::new(sqlite)]);
            Ok(None)
        }
        // `(expr).x`, written `pg_field((expr), 'x')` by the PostgreSQL front end: the only record read so is
        // pgjdbc's `_pg_expandarray` row, whose `x` its set-returning rewrite made the value itself.
        "PG_FIELD" => {
            let is_x = plain_args(f).is_some_and(|args| {
                matches!(args.as_slice(), [_, Expr::Value(v)]
                    if matches!(&v.value, AstValue::SingleQuotedString(s) if s == "x"))
            });
            if !is_x {
                return Err(SqlError::Unsupported(format!(
                    "field access on a value that is not a record: {f}"
                )));
            }
            // Moved out, not copied: the value may be as deep as the limits allow.
            Ok(take_args(f).into_iter().next())
        }
        // PostgreSQL's date_part('field', x): EXTRACT of that field.
        "DATE_PART" => {
            let field = match plain_args(f).as_deref() {
                Some([Expr::Value(v), _]) => match &v.value {
                    AstValue::SingleQuotedString(s) => s.clone(),
                    _ => return Err(SqlError::Unsupported(format!("{f}"))),
                },
                _ => return Err(SqlError::Unsupported(format!("{f}"))),
            };
            let x = take_args(f)
                .pop()
                .unwrap_or_else(|| Expr::value(AstValue::Null));
            Ok(Some(super::extract::date_part(&field, x)?))
        }
        // PostgreSQL's btrim(s [, characters]) is SQLite's trim.
        "BTRIM" => {
            f.name = ObjectName::from(vec![Ident::new("trim")]);
            Ok(None)
        }
        // PostgreSQL's boolean aggregates: booleans are 0 and 1 here, and NULLs are skipped alike.
        "BOOL_AND" | "EVERY" | "BOOL_OR" => {
            let sqlite = if upper == "BOOL_OR" { "max" } else { "min" };
            f.name = ObjectName::from(vec![Ident::new(sqlite)]);
            Ok(None)
        }
        "GROUP_CONCAT" => {
            let FunctionArguments::List(list) = &mut f.args else {
                return Ok(None);
            };
            let separator = list
                .clauses
                .iter()
                .position(|c| matches!(c, FunctionArgumentClause::Separator(_)));
            let Some(at) = separator else {
                return Ok(None);
            };
            let FunctionArgumentClause::Separator(sep) = list.clauses.remove(at) else {
                return Ok(None);
            };
            if list.args.len() != 1 {
                return Err(SqlError::Unsupported(
                    "GROUP_CONCAT of several expressions".into(),
                ));
            }
            list.args
                .push(FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::value(
                    sep.value,
                ))));
            if matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct)) {
                // SQLite's DISTINCT aggregates take one argument: ours keeps the distinct values itself.
                list.duplicate_treatment = None;
                f.name = ObjectName::from(vec![Ident::new("tenantry_group_concat_distinct")]);
            }
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// Whether `cast` has a form for the target (the others SQLite understands as they are: CHAR, BLOB ...).
fn rewrites_cast(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Signed
            | DataType::SignedInteger
            | DataType::Unsigned
            | DataType::UnsignedInteger
            | DataType::Decimal(_)
            | DataType::Numeric(_)
            | DataType::Dec(_)
            | DataType::Date
            | DataType::Datetime(_)
            | DataType::Timestamp(_, _)
            | DataType::Time(_, _)
            | DataType::Binary(_)
    )
}

/// MySQL's CAST targets in SQLite's terms: integers (SQLite's CAST AS SIGNED would be NUMERIC), decimals
/// rounded to their scale, dates and times through our functions (NULL for what is not one, as MySQL).
fn cast(inner: Expr, data_type: &DataType) -> Expr {
    let precision = |p: &Option<u64>| number(p.unwrap_or(0).min(6) as i64);
    let sqlite_cast = |inner: Expr, data_type: DataType| Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(inner),
        data_type,
        format: None,
    };
    match data_type {
        DataType::Decimal(info) | DataType::Numeric(info) | DataType::Dec(info) => {
            let scale = match info {
                ExactNumberInfo::PrecisionAndScale(_, s) => *s,
                _ => 0,
            };
            call(
                "round",
                vec![sqlite_cast(inner, DataType::Real), number(scale)],
            )
        }
        DataType::Date => call("tenantry_cast_date", vec![inner]),
        DataType::Datetime(p) => call("tenantry_cast_datetime", vec![inner, precision(p)]),
        // PostgreSQL's timestamp keeps microseconds unless told fewer (MySQL has no CAST AS TIMESTAMP).
        DataType::Timestamp(p, _) => call(
            "tenantry_cast_datetime",
            vec![inner, number(p.unwrap_or(6).min(6) as i64)],
        ),
        DataType::Time(p, _) => call("tenantry_cast_time", vec![inner, precision(p)]),
        DataType::Binary(_) => sqlite_cast(inner, DataType::Blob(None)),
        _ => call("tenantry_cast_signed", vec![inner]),
    }
}
