//! Reading SQLite rows into typed result sets.

use rusqlite::types::ValueRef;
use rusqlite::Statement;

use tokio_util::sync::CancellationToken;

use crate::error::{Result, SqlError};
use crate::stream::{RowBatch, RowSink, BATCH_BYTES, STREAM_AFTER};
use crate::value::{Column, ColumnKind, ResultSet, Value};

/// What [`read`] did with a query's rows.
pub enum Read {
    /// Read them all: a result to send.
    All(ResultSet),
    /// Sent them to the sink as they came (there were more than [`STREAM_AFTER`] bytes); how many.
    Streamed(u64),
}

/// Runs a prepared query with parameters and reads its rows, typing each column from its declared type
/// where it has one and from its values otherwise; with a sink, a result past [`STREAM_AFTER`] bytes goes to it in
/// batches (columns typed from the rows read until then) instead of into memory.
pub fn read(
    stmt: &mut Statement,
    params: &[Value],
    row_limit: Option<usize>,
    sink: Option<(&RowSink, &CancellationToken)>,
    result_types: &[Option<String>],
) -> Result<Read> {
    // The statement's own declared types, and the plan's where SQLite has none (PostgreSQL's booleans).
    let described_typed = |stmt: &Statement| {
        let (names, mut decls) = described(stmt);
        for (decl, hint) in decls.iter_mut().zip(result_types) {
            if decl.as_deref().is_none_or(str::is_empty) {
                decl.clone_from(hint);
            }
        }
        (names, decls)
    };
    let mut out: Vec<Vec<Value>> = Vec::new();
    {
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter().map(to_sql)))?;
        // The rows read so far count against the statement's memory budget, charged in steps of this much.
        const CHARGE_STEP: i64 = 256 * 1024;
        let mut uncharged = 0i64;
        let mut held = 0i64;
        while let Some(row) = rows.next()? {
            // The row's own statement says how many columns it has: a cached statement that another
            // connection's schema change made SQLite compile again (on this first step) may have more or
            // fewer columns than it had when it came out of the cache.
            let values = row_values(row)?;
            let bytes = values.iter().map(held_bytes).sum::<i64>();
            uncharged += bytes;
            held += bytes;
            if uncharged >= CHARGE_STEP {
                if !crate::memory::charge_held(uncharged) {
                    return Err(SqlError::OutOfMemory);
                }
                uncharged = 0;
            }
            out.push(values);
            if row_limit.is_some_and(|l| out.len() >= l) {
                break;
            }
            if let (Some((sink, stop)), true) = (sink, held >= STREAM_AFTER) {
                // The statement has stepped: it describes the columns it ran with.
                let (names, decls) = described_typed(row.as_ref());
                let columns = type_columns(names, &decls, &mut out);
                let mut sent = out.len() as u64;
                sink.send(RowBatch::Columns(columns.clone()), stop)?;
                sink.send(RowBatch::Rows(std::mem::take(&mut out)), stop)?;
                // From here on rows are held only until their batch is sent: they are not charged.
                let mut batch = Vec::new();
                let mut batch_bytes = 0i64;
                let limit_reached = |sent: u64| row_limit.is_some_and(|l| sent >= l as u64);
                while !limit_reached(sent) {
                    let Some(row) = rows.next()? else { break };
                    let mut values = row_values(row)?;
                    batch_bytes += values.iter().map(held_bytes).sum::<i64>();
                    for (v, c) in values.iter_mut().zip(&columns) {
                        if let ColumnKind::Decimal(scale) = c.kind {
                            *v = format_decimal(v, scale);
                        }
                    }
                    batch.push(values);
                    sent += 1;
                    if batch_bytes >= BATCH_BYTES {
                        sink.send(RowBatch::Rows(std::mem::take(&mut batch)), stop)?;
                        batch_bytes = 0;
                    }
                }
                if !batch.is_empty() {
                    sink.send(RowBatch::Rows(batch), stop)?;
                }
                return Ok(Read::Streamed(sent));
            }
        }
    }
    // Read after stepping, for the same reason: before its first step a statement still describes the
    // columns it was compiled with, not those of the schema it ran against.
    let (names, decls) = described_typed(stmt);
    let columns = type_columns(names, &decls, &mut out);
    Ok(Read::All(ResultSet { columns, rows: out }))
}

/// A statement's column names and declared types.
fn described(stmt: &Statement) -> (Vec<String>, Vec<Option<String>>) {
    let names = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let decls = stmt
        .columns()
        .iter()
        .map(|c| c.decl_type().map(str::to_string))
        .collect();
    (names, decls)
}

/// One row's values, as many as its statement has columns.
fn row_values(row: &rusqlite::Row) -> Result<Vec<Value>> {
    let width = row.as_ref().column_count();
    let mut values = Vec::with_capacity(width);
    for i in 0..width {
        values.push(from_ref(row.get_ref(i)?));
    }
    Ok(values)
}

/// The columns of a result typed from their declared types and the values in `rows` (decimal values are
/// formatted to their column's scale on the way).
fn type_columns(
    names: Vec<String>,
    decls: &[Option<String>],
    rows: &mut [Vec<Value>],
) -> Vec<Column> {
    let mut columns = Vec::with_capacity(names.len());
    for (i, name) in names.into_iter().enumerate() {
        let kind = column_kind(decls[i].as_deref(), rows.iter().map(|r| &r[i]));
        if let ColumnKind::Decimal(scale) = kind {
            for row in rows.iter_mut() {
                row[i] = format_decimal(&row[i], scale);
            }
        }
        let int_bytes = match kind {
            ColumnKind::Int | ColumnKind::UInt => decls[i].as_deref().and_then(declared_int_bytes),
            _ => None,
        };
        columns.push(Column {
            name,
            kind,
            int_bytes,
        });
    }
    columns
}

/// About how much memory a value of a result holds.
fn held_bytes(v: &Value) -> i64 {
    let heap = match v {
        Value::Text(s) => s.len(),
        Value::Blob(b) => b.len(),
        _ => 0,
    };
    (std::mem::size_of::<Value>() + heap) as i64
}

/// A parameter for rusqlite.
pub fn to_sql(v: &Value) -> rusqlite::types::Value {
    match v {
        Value::Null => rusqlite::types::Value::Null,
        Value::Int(i) => rusqlite::types::Value::Integer(*i),
        Value::Float(f) => rusqlite::types::Value::Real(*f),
        Value::Text(s) => rusqlite::types::Value::Text(s.clone()),
        Value::Blob(b) => rusqlite::types::Value::Blob(b.clone()),
    }
}

/// A value from SQLite.
pub fn from_ref(v: ValueRef) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Float(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// The kind a declared type promises (SQLite's affinity rules, plus MySQL's and PostgreSQL's names).
pub fn declared_kind(decl: &str) -> ColumnKind {
    let upper = decl.trim().to_ascii_uppercase();
    if let Some(element) = upper.strip_suffix("[]") {
        return ColumnKind::Array(if element.starts_with("BOOL") {
            crate::value::ArrayOf::Bool
        } else if element.contains("INT") {
            crate::value::ArrayOf::Int
        } else {
            crate::value::ArrayOf::Text
        });
    }
    if upper.starts_with("DECIMAL") || upper.starts_with("NUMERIC") {
        let scale = upper
            .split_once(',')
            .and_then(|(_, s)| s.trim_end_matches(')').trim().parse().ok())
            .unwrap_or(0);
        return ColumnKind::Decimal(scale);
    }
    // A point in time: MySQL's DATETIME (the server runs in UTC) and PostgreSQL's timestamptz.
    if upper.starts_with("DATETIME")
        || upper.starts_with("TIMESTAMPTZ")
        || (upper.starts_with("TIMESTAMP") && upper.contains(" WITH TIME ZONE"))
    {
        return ColumnKind::DateTime;
    }
    if upper.starts_with("TIMESTAMP") {
        return ColumnKind::Timestamp;
    }
    if upper == "DATE" {
        return ColumnKind::Date;
    }
    if upper.starts_with("TIME") {
        return ColumnKind::Time;
    }
    // Before the INT test below: "INTERVAL" contains it.
    if upper.starts_with("INTERVAL") {
        return ColumnKind::Interval;
    }
    if upper == "UUID" {
        return ColumnKind::Uuid;
    }
    if upper.starts_with("JSON") {
        return ColumnKind::Json;
    }
    if upper == "BYTEA" {
        return ColumnKind::Blob;
    }
    if upper.starts_with("BOOL") {
        return ColumnKind::Bool;
    }
    if upper.contains("INT") || upper.starts_with("BIT") {
        return if upper.contains("UNSIGNED") {
            ColumnKind::UInt
        } else {
            ColumnKind::Int
        };
    }
    if upper.contains("CHAR")
        || upper.contains("CLOB")
        || upper.contains("TEXT")
        || upper.starts_with("YEAR")
    {
        return ColumnKind::Text;
    }
    if upper.contains("BLOB") || upper.contains("BINARY") {
        return ColumnKind::Blob;
    }
    if upper.contains("REAL") || upper.contains("FLOA") || upper.contains("DOUB") {
        return ColumnKind::Float;
    }
    ColumnKind::Text
}

/// The size in bytes of a narrower-than-64-bit integer type as MySQL declares it (`INT`, `SMALLINT UNSIGNED`,
/// `TINYINT(1)` ...). `INTEGER` is SQLite's 64-bit rowid type and counts as BIGINT.
pub fn declared_int_bytes(decl: &str) -> Option<u8> {
    let upper = decl.trim().to_ascii_uppercase();
    let base = upper
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or("");
    match base {
        "TINYINT" | "INT1" => Some(1),
        "SMALLINT" | "INT2" => Some(2),
        "MEDIUMINT" | "INT3" => Some(3),
        "INT" | "INT4" => Some(4),
        _ => None,
    }
}

fn column_kind<'a>(decl: Option<&str>, values: impl Iterator<Item = &'a Value>) -> ColumnKind {
    let declared = decl.filter(|d| !d.is_empty()).map(declared_kind);
    let (mut ints, mut floats, mut texts, mut blobs) = (false, false, false, false);
    for v in values {
        match v {
            Value::Null => {}
            Value::Int(_) => ints = true,
            Value::Float(_) => floats = true,
            Value::Text(_) => texts = true,
            Value::Blob(_) => blobs = true,
        }
    }
    // SQLite stores whatever it is given: a declared type holds only if the values agree with it.
    match declared {
        Some(k @ (ColumnKind::Int | ColumnKind::UInt)) if !floats && !texts && !blobs => k,
        Some(ColumnKind::Bool) if !floats && !texts && !blobs => ColumnKind::Bool,
        Some(ColumnKind::Float) if !texts && !blobs => ColumnKind::Float,
        Some(ColumnKind::Decimal(s)) if !texts && !blobs => ColumnKind::Decimal(s),
        Some(
            k @ (ColumnKind::Date
            | ColumnKind::DateTime
            | ColumnKind::Timestamp
            | ColumnKind::Time
            | ColumnKind::Uuid
            | ColumnKind::Json
            | ColumnKind::Interval
            | ColumnKind::Array(_)),
        ) if !ints && !floats && !blobs => k,
        Some(ColumnKind::Blob) if !ints && !floats => ColumnKind::Blob,
        Some(ColumnKind::Text) if !blobs => ColumnKind::Text,
        _ if blobs => ColumnKind::Blob,
        _ if texts => ColumnKind::Text,
        _ if floats => ColumnKind::Float,
        _ if ints => ColumnKind::Int,
        Some(k) => k,
        None => ColumnKind::Null,
    }
}

fn format_decimal(v: &Value, scale: u8) -> Value {
    let scale = scale as usize;
    match v {
        Value::Int(i) if scale == 0 => Value::Text(i.to_string()),
        Value::Int(i) => Value::Text(format!("{i}.{}", "0".repeat(scale))),
        Value::Float(f) => Value::Text(format!("{f:.scale$}")),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_hold_only_when_values_agree() {
        let ints = [Value::Int(1), Value::Null];
        assert_eq!(column_kind(Some("INT"), ints.iter()), ColumnKind::Int);
        let mixed = [Value::Int(1), Value::Text("x".into())];
        assert_eq!(column_kind(Some("INT"), mixed.iter()), ColumnKind::Text);
        assert_eq!(
            column_kind(None, [Value::Float(1.5)].iter()),
            ColumnKind::Float
        );
        assert_eq!(column_kind(None, [Value::Null].iter()), ColumnKind::Null);
        assert_eq!(declared_kind("DECIMAL(10,2)"), ColumnKind::Decimal(2));
        assert_eq!(declared_kind("BIGINT UNSIGNED"), ColumnKind::UInt);
        assert_eq!(declared_kind("TIMESTAMP(6)"), ColumnKind::Timestamp);
        assert_eq!(declared_kind("DATETIME"), ColumnKind::DateTime);
        assert_eq!(declared_kind("TIME"), ColumnKind::Time);
        assert_eq!(declared_kind("TINYTEXT"), ColumnKind::Text);
        assert_eq!(declared_kind("VARBINARY(16)"), ColumnKind::Blob);
        assert_eq!(
            format_decimal(&Value::Float(10.5), 2),
            Value::Text("10.50".into())
        );
    }
}
