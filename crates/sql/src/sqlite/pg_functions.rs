//! PostgreSQL's functions that clients' catalog queries call (psql's `\d`, drivers' metadata), the
//! regular-expression function behind `~` / REGEXP, and PostgreSQL arrays kept as their text form.
//!
//! Functions that name catalog objects by oid (`pg_get_userbyid`, `pg_get_indexdef`, ...) read the
//! [`PgObjects`] the `pg_catalog` views were last filled from, so they agree with what those views show.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::Connection;

use crate::pg_types::{format_array, format_type, parse_array, parse_array_or_vector};

const DETERMINISTIC: FunctionFlags =
    FunctionFlags::SQLITE_UTF8.union(FunctionFlags::SQLITE_DETERMINISTIC);
const VOLATILE: FunctionFlags = FunctionFlags::SQLITE_UTF8;

/// Catalog objects by oid, as the `pg_catalog` views last showed them.
#[derive(Debug, Default, Clone)]
pub struct PgObjects {
    /// Role names.
    pub roles: HashMap<i64, String>,
    /// `CREATE INDEX ...` texts of indexes.
    pub index_defs: HashMap<i64, String>,
    /// The key columns of indexes, in order (`pg_get_indexdef(oid, n, pretty)` names the n-th).
    pub index_columns: HashMap<i64, Vec<String>>,
    /// `PRIMARY KEY (...)`-style texts of constraints.
    pub constraint_defs: HashMap<i64, String>,
}

/// The objects shared by a connection's functions and the views that fill them.
pub type SharedPgObjects = Arc<Mutex<PgObjects>>;

fn lookup(
    objects: &SharedPgObjects,
    f: impl FnOnce(&PgObjects) -> Option<String>,
) -> Option<String> {
    let guard = objects.lock().unwrap_or_else(|e| e.into_inner());
    f(&guard)
}

/// Registers the functions on `conn`.
pub fn register(conn: &Connection, objects: &SharedPgObjects) -> rusqlite::Result<()> {
    conn.create_aggregate_function("array_agg", 1, DETERMINISTIC, ArrayAgg)?;
    for args in [2, 3] {
        conn.create_scalar_function("array_to_string", args, DETERMINISTIC, |ctx| {
            let (Some(arr), Some(sep)) = (text_of(ctx, 0)?, text_of(ctx, 1)?) else {
                return Ok(None);
            };
            let null = if ctx.len() > 2 {
                text_of(ctx, 2)?
            } else {
                None
            };
            Ok(parse_array(&arr).map(|items| {
                items
                    .into_iter()
                    .filter_map(|i| i.or_else(|| null.clone()))
                    .collect::<Vec<_>>()
                    .join(&sep)
            }))
        })?;
    }
    for name in ["array_upper", "array_length"] {
        conn.create_scalar_function(name, 2, DETERMINISTIC, |ctx| {
            let dim: Option<i64> = ctx.get(1)?;
            Ok(text_of(ctx, 0)?
                .and_then(|a| parse_array(&a))
                .filter(|items| !items.is_empty() && dim == Some(1))
                .map(|items| items.len() as i64))
        })?;
    }
    conn.create_scalar_function("array_lower", 2, DETERMINISTIC, |ctx| {
        let dim: Option<i64> = ctx.get(1)?;
        Ok(text_of(ctx, 0)?
            .and_then(|a| parse_array(&a))
            .filter(|items| !items.is_empty() && dim == Some(1))
            .map(|_| 1i64))
    })?;
    conn.create_scalar_function("cardinality", 1, DETERMINISTIC, |ctx| {
        Ok(text_of(ctx, 0)?
            .and_then(|a| parse_array(&a))
            .map(|items| items.len() as i64))
    })?;
    conn.create_scalar_function("pg_array_has", 2, DETERMINISTIC, |ctx| {
        let (Some(arr), Some(x)) = (text_of(ctx, 0)?, text_of(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(parse_array(&arr).map(|items| items.iter().any(|i| i.as_deref() == Some(x.as_str()))))
    })?;
    conn.create_scalar_function("pg_array_get", 2, DETERMINISTIC, |ctx| {
        let index: Option<i64> = ctx.get(1)?;
        Ok(
            match (text_of(ctx, 0)?.and_then(|a| parse_array(&a)), index) {
                (Some(items), Some(i)) if i >= 1 => items.into_iter().nth(i as usize - 1).flatten(),
                _ => None,
            },
        )
    })?;
    // The array (or int2vector) as a JSON array of strings, for `unnest` (json_each over it).
    conn.create_scalar_function("pg_array_json", 1, DETERMINISTIC, |ctx| {
        Ok(text_of(ctx, 0)?
            .and_then(|a| parse_array_or_vector(&a))
            .map(|items| {
                serde_json::Value::Array(
                    items
                        .into_iter()
                        .map(|i| i.map_or(serde_json::Value::Null, serde_json::Value::String))
                        .collect(),
                )
                .to_string()
            }))
    })?;
    // The rows of set-returning calls over these arrays side by side (see translate/set_functions.rs): as
    // many as the longest has elements, each `[element of each array..., its subscript or NULL...]`.
    conn.create_scalar_function("pg_zip_json", -1, DETERMINISTIC, |ctx| {
        let mut arrays = Vec::with_capacity(ctx.len());
        for i in 0..ctx.len() {
            arrays.push(
                text_of(ctx, i)?
                    .and_then(|a| parse_array_or_vector(&a))
                    .unwrap_or_default(),
            );
        }
        let longest = arrays.iter().map(Vec::len).max().unwrap_or(0);
        let rows: Vec<serde_json::Value> = (0..longest)
            .map(|row| {
                let elements = arrays.iter().map(|a| match a.get(row) {
                    Some(Some(v)) => serde_json::Value::String(v.clone()),
                    _ => serde_json::Value::Null,
                });
                let subscripts = arrays.iter().map(|a| {
                    if row < a.len() {
                        serde_json::Value::from(row + 1)
                    } else {
                        serde_json::Value::Null
                    }
                });
                serde_json::Value::Array(elements.chain(subscripts).collect())
            })
            .collect();
        Ok(serde_json::Value::Array(rows).to_string())
    })?;
    // `current_setting(name [, missing_ok])` whose name is a parameter (the translator answers a literal
    // name with the session's value): PostgreSQL's default, since a connection function cannot see the
    // session's SETs.
    for args in [1, 2] {
        conn.create_scalar_function("current_setting", args, DETERMINISTIC, |ctx| {
            let name = text_of(ctx, 0)?.unwrap_or_default();
            let missing_ok = ctx.len() > 1 && ctx.get::<Option<bool>>(1)?.unwrap_or(false);
            match crate::exec::variables::pg_default(&name) {
                Some(v) => Ok(Some(v.to_string())),
                None if missing_ok => Ok(None),
                None => Err(rusqlite::Error::UserFunctionError(
                    format!("unrecognized configuration parameter \"{name}\"").into(),
                )),
            }
        })?;
    }
    conn.create_scalar_function("quote_ident", 1, DETERMINISTIC, |ctx| {
        Ok(text_of(ctx, 0)?.map(|name| crate::pg_types::quote_ident(&name)))
    })?;
    for args in [1, 2] {
        conn.create_scalar_function("format_type", args, DETERMINISTIC, |ctx| {
            let oid: Option<i64> = ctx.get(0)?;
            let typmod: Option<i64> = if ctx.len() > 1 { ctx.get(1)? } else { None };
            Ok(oid.and_then(|o| format_type(o, typmod)))
        })?;
    }
    let o = objects.clone();
    conn.create_scalar_function("pg_get_userbyid", 1, VOLATILE, move |ctx| {
        let oid: Option<i64> = ctx.get(0)?;
        Ok(oid.map(|oid| {
            lookup(&o, |p| p.roles.get(&oid).cloned())
                .unwrap_or_else(|| format!("unknown (OID={oid})"))
        }))
    })?;
    for args in [1, 3] {
        let o = objects.clone();
        conn.create_scalar_function("pg_get_indexdef", args, VOLATILE, move |ctx| {
            let oid: Option<i64> = ctx.get(0)?;
            // With a column number past 0, PostgreSQL answers that key column's name alone.
            let column: i64 = if ctx.len() > 1 {
                ctx.get::<Option<i64>>(1)?.unwrap_or(0)
            } else {
                0
            };
            Ok(oid.and_then(|oid| {
                lookup(&o, |p| match column {
                    n if n > 0 => p
                        .index_columns
                        .get(&oid)
                        .and_then(|c| c.get(n as usize - 1))
                        .map(|c| crate::pg_types::quote_ident(c)),
                    _ => p.index_defs.get(&oid).cloned(),
                })
            }))
        })?;
    }
    for args in [1, 2] {
        let o = objects.clone();
        conn.create_scalar_function("pg_get_constraintdef", args, VOLATILE, move |ctx| {
            let oid: Option<i64> = ctx.get(0)?;
            Ok(oid.and_then(|oid| lookup(&o, |p| p.constraint_defs.get(&oid).cloned())))
        })?;
    }
    // Expressions are kept as their text (pg_attrdef.adbin holds the default as written).
    for args in [2, 3] {
        conn.create_scalar_function("pg_get_expr", args, DETERMINISTIC, |ctx| text_of(ctx, 0))?;
    }
    // Every object a session can name is in its search path; nothing has comments.
    for (name, args) in [
        ("pg_table_is_visible", 1),
        ("pg_type_is_visible", 1),
        ("pg_function_is_visible", 1),
        ("pg_collation_is_visible", 1),
    ] {
        conn.create_scalar_function(name, args, DETERMINISTIC, |_| Ok(true))?;
    }
    for (name, args) in [
        ("obj_description", 1),
        ("obj_description", 2),
        ("col_description", 2),
        ("shobj_description", 2),
        ("pg_get_statisticsobjdef_columns", 1),
        // No sequences: an auto-increment column has none to name.
        ("pg_get_serial_sequence", 2),
    ] {
        conn.create_scalar_function(name, args, DETERMINISTIC, |_| Ok(None::<String>))?;
    }
    conn.create_scalar_function("pg_relation_is_publishable", 1, DETERMINISTIC, |_| {
        Ok(false)
    })?;
    conn.create_scalar_function("pg_encoding_to_char", 1, DETERMINISTIC, |_| Ok("UTF8"))?;
    // `ARRAY[a, b]` (the PostgreSQL front end writes it as `pg_array(a, b)`): the array's text form.
    conn.create_scalar_function("pg_array", -1, DETERMINISTIC, |ctx| {
        let items = (0..ctx.len())
            .map(|i| text_of(ctx, i))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(format_array(items.iter().map(Option::as_deref)))
    })?;
    conn.create_scalar_function("to_regtype", 1, DETERMINISTIC, |ctx| {
        Ok(text_of(ctx, 0)?.and_then(|n| crate::pg_types::regtype(&n)))
    })?;
    Ok(())
}

/// `array_agg(x)`: the values as a PostgreSQL array (NULL for no rows, as in PostgreSQL).
struct ArrayAgg;

impl Aggregate<Vec<Option<String>>, Option<String>> for ArrayAgg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Vec<Option<String>>> {
        Ok(Vec::new())
    }

    fn step(&self, ctx: &mut Context<'_>, acc: &mut Vec<Option<String>>) -> rusqlite::Result<()> {
        acc.push(text_of(ctx, 0)?);
        Ok(())
    }

    fn finalize(
        &self,
        _: &mut Context<'_>,
        acc: Option<Vec<Option<String>>>,
    ) -> rusqlite::Result<Option<String>> {
        Ok(acc.map(|items| format_array(items.iter().map(|i| i.as_deref()))))
    }
}

fn text_of(ctx: &Context, i: usize) -> rusqlite::Result<Option<String>> {
    Ok(match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(f) => Some(crate::value::format_float(f)),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    })
}
