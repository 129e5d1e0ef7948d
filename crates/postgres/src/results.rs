//! Turning the SQL layer's outputs and errors into pgwire responses.

use std::sync::Arc;

use futures::stream;
use pgwire::api::results::{DataRowEncoder, FieldFormat, FieldInfo, QueryResponse, Response, Tag};
use pgwire::api::Type;
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;
use tenantry_sql::{ColumnKind, Output, ResultSet, SqlError, Value};

/// PostgreSQL's text for a canceled statement.
const CANCELED: &str = "canceling statement due to user request";

/// The PostgreSQL type a column is sent as. `binary_safe`: the client may ask for binary values (extended
/// protocol), so only types whose binary form we encode are used; dates and decimals then go as text.
pub(crate) fn pg_type(kind: ColumnKind, binary_safe: bool) -> Type {
    match kind {
        ColumnKind::Int | ColumnKind::UInt => Type::INT8,
        ColumnKind::Bool => Type::BOOL,
        ColumnKind::Float => Type::FLOAT8,
        ColumnKind::Blob => Type::BYTEA,
        ColumnKind::Decimal(_) if !binary_safe => Type::NUMERIC,
        ColumnKind::Date => Type::DATE,
        // Times are stored in UTC (the server's time zone), so they are timestamptz, as CockroachDB shows jobs'.
        ColumnKind::DateTime | ColumnKind::Timestamp => Type::TIMESTAMPTZ,
        _ => Type::TEXT,
    }
}

/// An error response with the error's PostgreSQL SQLSTATE.
pub(crate) fn error_info(e: &SqlError) -> ErrorInfo {
    let w = e.wire();
    let message = if w.pg_state == "57014" && matches!(e, SqlError::Interrupted) {
        CANCELED.to_string()
    } else {
        w.message
    };
    ErrorInfo::new("ERROR".to_string(), w.pg_state.to_string(), message)
}

/// The same, as an error value.
pub(crate) fn user_error(e: &SqlError) -> PgWireError {
    PgWireError::UserError(Box::new(error_info(e)))
}

/// The command tag of a statement that returned no rows.
pub(crate) fn tag(sql: &str, affected: u64) -> Tag {
    let verb = sql
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_end_matches(';')
        .to_ascii_uppercase();
    let rows = usize::try_from(affected).unwrap_or(usize::MAX);
    match verb.as_str() {
        "INSERT" | "REPLACE" => Tag::new("INSERT").with_oid(0).with_rows(rows),
        "UPDATE" | "DELETE" => Tag::new(&verb).with_rows(rows),
        // DDL tags name the object, as PostgreSQL's do (`CREATE TABLE`, `DROP INDEX`).
        "CREATE" | "DROP" | "ALTER" => {
            let object = sql
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .trim_end_matches(';')
                .to_ascii_uppercase();
            Tag::new(&format!("{verb} {object}"))
        }
        "" => Tag::new("OK"),
        _ => Tag::new(&verb),
    }
}

/// Field descriptions of a result set.
pub(crate) fn fields(
    rs: &ResultSet,
    formats: &dyn Fn(usize) -> FieldFormat,
    binary_safe: bool,
) -> Vec<FieldInfo> {
    rs.columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            FieldInfo::new(
                c.name.clone(),
                None,
                None,
                pg_type(c.kind, binary_safe),
                formats(i),
            )
        })
        .collect()
}

/// A query response over rows already computed, encoded to the given fields.
pub(crate) fn rows_response(
    fields: Vec<FieldInfo>,
    rows: Vec<Vec<Value>>,
) -> PgWireResult<Response> {
    let schema = Arc::new(fields);
    let mut encoded: Vec<PgWireResult<DataRow>> = Vec::with_capacity(rows.len());
    for row in rows {
        let mut enc = DataRowEncoder::new(schema.clone());
        for (value, field) in row.iter().zip(schema.iter()) {
            encode(&mut enc, value, field.datatype())?;
        }
        encoded.push(Ok(enc.take_row()));
    }
    Ok(Response::Query(QueryResponse::new(
        schema,
        stream::iter(encoded),
    )))
}

/// A one-row, one-column boolean result.
pub(crate) fn bool_response(field: FieldInfo, value: bool) -> PgWireResult<Response> {
    let schema = Arc::new(vec![field]);
    let mut enc = DataRowEncoder::new(schema.clone());
    enc.encode_field(&value)?;
    let row = enc.take_row();
    Ok(Response::Query(QueryResponse::new(
        schema,
        stream::iter(vec![Ok(row)]),
    )))
}

/// A simple-protocol response (text values) for an output.
pub(crate) fn response(sql: &str, output: Output) -> PgWireResult<Response> {
    match output {
        Output::Done { affected, .. } => Ok(Response::Execution(tag(sql, affected))),
        Output::Rows(rs) => {
            let f = fields(&rs, &|_| FieldFormat::Text, false);
            rows_response(f, rs.rows)
        }
    }
}

/// Encodes one value as the field's type; values SQLite typed otherwise are converted or sent as text.
fn encode(enc: &mut DataRowEncoder, value: &Value, ty: &Type) -> PgWireResult<()> {
    if *ty == Type::INT8 {
        let v: Option<i64> = match value {
            Value::Null => None,
            Value::Int(i) => Some(*i),
            Value::Float(f) => Some(*f as i64),
            Value::Text(s) => Some(s.trim().parse().map_err(|_| conversion(s, "bigint"))?),
            Value::Blob(_) => return Err(conversion("blob", "bigint")),
        };
        enc.encode_field(&v)
    } else if *ty == Type::FLOAT8 {
        let v: Option<f64> = match value {
            Value::Null => None,
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Text(s) => Some(
                s.trim()
                    .parse()
                    .map_err(|_| conversion(s, "double precision"))?,
            ),
            Value::Blob(_) => return Err(conversion("blob", "double precision")),
        };
        enc.encode_field(&v)
    } else if *ty == Type::TIMESTAMPTZ {
        let v = match value.to_text() {
            None => None,
            Some(s) => {
                Some(parse_utc(&s).ok_or_else(|| conversion(&s, "timestamp with time zone"))?)
            }
        };
        enc.encode_field(&v)
    } else if *ty == Type::DATE {
        let v = match value.to_text() {
            None => None,
            Some(s) => Some(
                chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                    .map_err(|_| conversion(&s, "date"))?,
            ),
        };
        enc.encode_field(&v)
    } else if *ty == Type::BOOL {
        let v: Option<bool> = match value {
            Value::Null => None,
            Value::Int(i) => Some(*i != 0),
            Value::Float(f) => Some(*f != 0.0),
            Value::Text(s) => Some(matches!(s.trim(), "1" | "t" | "true" | "TRUE")),
            Value::Blob(b) => Some(!b.is_empty()),
        };
        enc.encode_field(&v)
    } else if *ty == Type::BYTEA {
        let v: Option<Vec<u8>> = match value {
            Value::Null => None,
            Value::Blob(b) => Some(b.clone()),
            other => other.to_text().map(String::into_bytes),
        };
        enc.encode_field(&v)
    } else {
        enc.encode_field(&value.to_text())
    }
}

/// A stored time (`YYYY-MM-DD HH:MM:SS[.ffffff]`, UTC, or just a date) as a UTC timestamp.
fn parse_utc(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let s = s.trim();
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .map(|n| n.and_utc())
}

fn conversion(value: &str, ty: &str) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        "22P02".to_string(),
        format!("invalid input syntax for type {ty}: \"{value}\""),
    )))
}
