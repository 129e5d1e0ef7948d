//! PostgreSQL types on the wire: which type a column or parameter is described as, decoding the
//! parameters a driver binds (text or binary) into values, and encoding stored values as the described
//! type (text or binary). Stored values reach here in the SQL layer's canonical forms (`tenantry_sql::fit`),
//! so encoding them cannot fail for values written through a typed column.

use bytes::BytesMut;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use pgwire::api::results::{DataRowEncoder, FieldFormat};
use pgwire::api::Type;
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::types::format::FormatOptions;
use pgwire::types::ToSqlText;
use postgres_types::{FromSql, IsNull, ToSql};
use tenantry_sql::{fit, ArrayOf, ColumnKind, SqlError, Value};

/// The PostgreSQL type a column of this kind is described as.
pub(crate) fn pg_type(kind: ColumnKind) -> Type {
    match kind {
        ColumnKind::Int | ColumnKind::UInt => Type::INT8,
        ColumnKind::Bool => Type::BOOL,
        ColumnKind::Float => Type::FLOAT8,
        ColumnKind::Blob => Type::BYTEA,
        ColumnKind::Decimal(_) => Type::NUMERIC,
        ColumnKind::Date => Type::DATE,
        // Points in time are stored in UTC (the server's time zone), so they are timestamptz, as
        // CockroachDB shows jobs' times.
        ColumnKind::DateTime => Type::TIMESTAMPTZ,
        ColumnKind::Timestamp => Type::TIMESTAMP,
        ColumnKind::Time => Type::TIME,
        ColumnKind::Uuid => Type::UUID,
        // CockroachDB's JSON is JSONB too.
        ColumnKind::Json => Type::JSONB,
        ColumnKind::Interval => Type::INTERVAL,
        ColumnKind::Array(ArrayOf::Text) => Type::TEXT_ARRAY,
        ColumnKind::Array(ArrayOf::Bool) => Type::BOOL_ARRAY,
        ColumnKind::Array(ArrayOf::Int) => Type::INT8_ARRAY,
        ColumnKind::Text | ColumnKind::Null => Type::TEXT,
    }
}

/// The type a cast names (`int8`, `pg_catalog.timestamptz`, `double precision`), as `$1::int8` declares
/// its parameter; `None` for an array or a type we do not know (the parameter stays text).
pub(crate) fn cast_type(name: &str) -> Option<Type> {
    let name = name.trim();
    let name = name
        .strip_prefix("pg_catalog.")
        .or_else(|| name.strip_prefix("PG_CATALOG."))
        .unwrap_or(name);
    if name.ends_with(']') {
        return None;
    }
    let (oid, _) = tenantry_sql::pg_types::of_declared(name);
    u32::try_from(oid).ok().and_then(Type::from_oid)
}

/// The kind a parameter of a declared type is fitted to when nothing better (its column) is known.
pub(crate) fn kind_of(ty: &Type) -> Option<ColumnKind> {
    Some(match *ty {
        Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => ColumnKind::Int,
        Type::FLOAT4 | Type::FLOAT8 => ColumnKind::Float,
        Type::BOOL => ColumnKind::Bool,
        Type::NUMERIC => ColumnKind::Decimal(0),
        Type::DATE => ColumnKind::Date,
        Type::TIMESTAMPTZ => ColumnKind::DateTime,
        Type::TIMESTAMP => ColumnKind::Timestamp,
        Type::TIME | Type::TIMETZ => ColumnKind::Time,
        Type::UUID => ColumnKind::Uuid,
        Type::JSON | Type::JSONB => ColumnKind::Json,
        Type::INTERVAL => ColumnKind::Interval,
        Type::BYTEA => ColumnKind::Blob,
        _ => return None,
    })
}

/// A bound parameter as the driver sent it, decoded by its declared type. Text-format values stay text
/// (the column's `fit` reads them), but `bytea`'s hex form, which is decoded to bytes.
pub(crate) fn decode_param(raw: &[u8], binary: bool, ty: &Type) -> Result<Value, SqlError> {
    if !binary {
        if *ty == Type::BYTEA {
            return Ok(Value::Blob(decode_bytea_text(raw)));
        }
        return Ok(match std::str::from_utf8(raw) {
            Ok(s) => Value::Text(s.to_string()),
            Err(_) => Value::Blob(raw.to_vec()),
        });
    }
    let bad = || SqlError::InvalidInput {
        type_name: type_label(ty),
        value: format!("binary value of {} bytes", raw.len()),
    };
    let text = |s: String| Ok(Value::Text(s));
    match *ty {
        Type::INT2 => Ok(Value::Int(
            i16::from_sql(ty, raw).map_err(|_| bad())?.into(),
        )),
        Type::INT4 => Ok(Value::Int(
            i32::from_sql(ty, raw).map_err(|_| bad())?.into(),
        )),
        Type::INT8 => Ok(Value::Int(i64::from_sql(ty, raw).map_err(|_| bad())?)),
        Type::OID => Ok(Value::Int(
            u32::from_sql(ty, raw).map_err(|_| bad())?.into(),
        )),
        Type::FLOAT4 => Ok(Value::Float(
            f32::from_sql(ty, raw).map_err(|_| bad())?.into(),
        )),
        Type::FLOAT8 => Ok(Value::Float(f64::from_sql(ty, raw).map_err(|_| bad())?)),
        Type::BOOL => Ok(Value::Int(i64::from(
            bool::from_sql(ty, raw).map_err(|_| bad())?,
        ))),
        Type::NUMERIC => text(
            rust_decimal::Decimal::from_sql(ty, raw)
                .map_err(|_| bad())?
                .to_string(),
        ),
        Type::DATE => text(
            NaiveDate::from_sql(ty, raw)
                .map_err(|_| bad())?
                .format("%Y-%m-%d")
                .to_string(),
        ),
        Type::TIME => text(tenantry_sql::format_time(
            &NaiveTime::from_sql(ty, raw).map_err(|_| bad())?,
        )),
        Type::TIMESTAMP => text(tenantry_sql::format_datetime(
            &NaiveDateTime::from_sql(ty, raw).map_err(|_| bad())?,
        )),
        Type::TIMESTAMPTZ => text(tenantry_sql::format_datetime(
            &chrono::DateTime::<chrono::Utc>::from_sql(ty, raw)
                .map_err(|_| bad())?
                .naive_utc(),
        )),
        Type::INTERVAL => text(
            <pg_interval::Interval as FromSql>::from_sql(ty, raw)
                .map_err(|_| bad())?
                .to_postgres(),
        ),
        Type::UUID => {
            let b: [u8; 16] = raw.try_into().map_err(|_| bad())?;
            text(format_uuid(&b))
        }
        // jsonb's binary form is a version byte (1) and the text.
        Type::JSONB => match raw.split_first() {
            Some((1, rest)) => text(String::from_utf8(rest.to_vec()).map_err(|_| bad())?),
            _ => Err(bad()),
        },
        Type::BYTEA => Ok(Value::Blob(raw.to_vec())),
        // text, varchar, bpchar, name, json, unknown: UTF-8 text in both formats.
        _ => match String::from_utf8(raw.to_vec()) {
            Ok(s) => text(s),
            Err(_) => Ok(Value::Blob(raw.to_vec())),
        },
    }
}

fn type_label(ty: &Type) -> &'static str {
    match kind_of(ty) {
        Some(k) => tenantry_sql::type_name(k),
        None => "text",
    }
}

fn format_uuid(b: &[u8; 16]) -> String {
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// `bytea`'s text input: `\x` and hex digits, or the escape form (`\\`, `\nnn` octal).
fn decode_bytea_text(raw: &[u8]) -> Vec<u8> {
    if let Some(hex) = raw.strip_prefix(b"\\x") {
        let digits: Vec<u8> = hex
            .iter()
            .copied()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let decoded: Option<Vec<u8>> = digits
            .chunks(2)
            .map(|pair| {
                std::str::from_utf8(pair)
                    .ok()
                    .and_then(|p| u8::from_str_radix(p, 16).ok())
            })
            .collect();
        if let (Some(bytes), true) = (decoded, digits.len().is_multiple_of(2)) {
            return bytes;
        }
        return raw.to_vec();
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' {
            if raw.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
                continue;
            }
            let octal = raw
                .get(i + 1..i + 4)
                .and_then(|o| std::str::from_utf8(o).ok())
                .and_then(|o| u8::from_str_radix(o, 8).ok());
            if let Some(b) = octal {
                out.push(b);
                i += 4;
                continue;
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

/// Bytes already in the wire form of the field's type: text, and the binary form.
#[derive(Debug)]
struct Raw<'a> {
    text: &'a str,
    binary: Option<Vec<u8>>,
}

impl ToSql for Raw<'_> {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.binary.as_deref().unwrap_or(self.text.as_bytes()));
        Ok(IsNull::No)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    postgres_types::to_sql_checked!();
}

impl ToSqlText for Raw<'_> {
    fn to_sql_text(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
        _format_options: &FormatOptions,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.text.as_bytes());
        Ok(IsNull::No)
    }
}

/// Encodes one value as the field's type. A value that cannot be read as that type (only possible for
/// values written before their column checked them) goes out as its stored text in text format; in binary
/// format it is an error, since the client was promised that type.
pub(crate) fn encode(
    enc: &mut DataRowEncoder,
    value: &Value,
    ty: &Type,
    format: FieldFormat,
) -> PgWireResult<()> {
    if *value == Value::Null {
        return enc.encode_field(&None::<i64>);
    }
    match encode_typed(enc, value, ty) {
        Some(result) => result,
        None if format == FieldFormat::Text => {
            let text = value.to_text().unwrap_or_default();
            enc.encode_field(&Raw {
                text: &text,
                binary: None,
            })
        }
        None => Err(conversion(
            &value.to_text().unwrap_or_default(),
            type_label(ty),
        )),
    }
}

/// The canonical text of a stored value read as `kind`, if it is one.
fn canonical(kind: ColumnKind, value: &Value) -> Option<String> {
    match fit(kind, value.clone()) {
        Ok(Value::Text(s)) => Some(s),
        _ => None,
    }
}

/// A date-time or time as PostgreSQL prints it: a fraction without its trailing zeros.
fn pg_text(canonical: &str) -> &str {
    match canonical.rsplit_once('.') {
        Some((_, f)) if f.chars().all(|c| c.is_ascii_digit()) => {
            canonical.trim_end_matches('0').trim_end_matches('.')
        }
        _ => canonical,
    }
}

fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").ok()
}

/// `None`: the value is not of the field's type.
fn encode_typed(enc: &mut DataRowEncoder, value: &Value, ty: &Type) -> Option<PgWireResult<()>> {
    Some(match *ty {
        Type::INT8 => {
            let v: i64 = match value {
                Value::Int(i) => *i,
                Value::Float(f) if f.is_finite() => *f as i64,
                Value::Text(s) => s.trim().parse().ok()?,
                _ => return None,
            };
            enc.encode_field(&v)
        }
        Type::FLOAT8 => {
            let v: f64 = match value {
                Value::Int(i) => *i as f64,
                Value::Float(f) => *f,
                Value::Text(s) => s.trim().parse().ok()?,
                _ => return None,
            };
            enc.encode_field(&v)
        }
        Type::BOOL => {
            let v = match fit(ColumnKind::Bool, value.clone()).ok()? {
                Value::Int(i) => i != 0,
                _ => return None,
            };
            enc.encode_field(&v)
        }
        Type::BYTEA => {
            let v: Vec<u8> = match value {
                Value::Blob(b) => b.clone(),
                other => other.to_text()?.into_bytes(),
            };
            enc.encode_field(&v)
        }
        Type::NUMERIC => {
            let text = match value {
                Value::Float(f) => tenantry_sql::format_float(*f),
                other => other.to_text()?,
            };
            let d = rust_decimal::Decimal::from_str_exact(text.trim())
                .or_else(|_| rust_decimal::Decimal::from_scientific(text.trim()))
                .ok()?;
            enc.encode_field(&d)
        }
        // Dates and times go out in text exactly as PostgreSQL prints them (ISO, fractions without
        // trailing zeros, `+00` for UTC), in binary as chrono encodes them.
        Type::TIMESTAMPTZ => {
            let text = canonical(ColumnKind::DateTime, value)?;
            let t = parse_naive(&text)?.and_utc();
            enc.encode_field(&Raw {
                text: &format!("{}+00", pg_text(&text)),
                binary: Some(binary_of(&t, ty)?),
            })
        }
        Type::TIMESTAMP => {
            let text = canonical(ColumnKind::Timestamp, value)?;
            let t = parse_naive(&text)?;
            enc.encode_field(&Raw {
                text: pg_text(&text),
                binary: Some(binary_of(&t, ty)?),
            })
        }
        Type::DATE => {
            let text = canonical(ColumnKind::Date, value)?;
            let d = NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok()?;
            enc.encode_field(&Raw {
                text: &text,
                binary: Some(binary_of(&d, ty)?),
            })
        }
        Type::TIME => {
            let text = canonical(ColumnKind::Time, value)?;
            let t = NaiveTime::parse_from_str(&text, "%H:%M:%S%.f").ok()?;
            enc.encode_field(&Raw {
                text: pg_text(&text),
                binary: Some(binary_of(&t, ty)?),
            })
        }
        Type::INTERVAL => {
            let i = tenantry_sql::parse_interval(&canonical(ColumnKind::Interval, value)?)?;
            enc.encode_field(&i)
        }
        Type::UUID => {
            let text = canonical(ColumnKind::Uuid, value)?;
            let hex: String = text.chars().filter(|c| *c != '-').collect();
            let binary: Vec<u8> = (0..16)
                .map(|i| u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16))
                .collect::<Result<_, _>>()
                .ok()?;
            enc.encode_field(&Raw {
                text: &text,
                binary: Some(binary),
            })
        }
        Type::JSONB => {
            let text = canonical(ColumnKind::Json, value)?;
            let mut binary = Vec::with_capacity(text.len() + 1);
            binary.push(1);
            binary.extend_from_slice(text.as_bytes());
            enc.encode_field(&Raw {
                text: &text,
                binary: Some(binary),
            })
        }
        // Arrays go out as PostgreSQL's text form (booleans as t / f), in binary as its array format
        // (postgres-types').
        Type::TEXT_ARRAY | Type::BOOL_ARRAY | Type::INT8_ARRAY => {
            let text = canonical(ColumnKind::Array(ArrayOf::Text), value)?;
            let items = tenantry_sql::pg_types::parse_array(&text)?;
            if *ty == Type::TEXT_ARRAY {
                return Some(enc.encode_field(&Raw {
                    text: &text,
                    binary: Some(binary_of(&items, ty)?),
                }));
            }
            if *ty == Type::BOOL_ARRAY {
                let bools = items
                    .iter()
                    .map(|i| match i {
                        None => Some(None),
                        // PostgreSQL's boolean input, as a bool column reads it.
                        Some(s) => match fit(ColumnKind::Bool, Value::from(s.as_str())).ok()? {
                            Value::Int(b) => Some(Some(b != 0)),
                            _ => None,
                        },
                    })
                    .collect::<Option<Vec<Option<bool>>>>()?;
                let text = tenantry_sql::pg_types::format_array(
                    bools.iter().map(|b| b.map(|b| if b { "t" } else { "f" })),
                );
                return Some(enc.encode_field(&Raw {
                    text: &text,
                    binary: Some(binary_of(&bools, ty)?),
                }));
            }
            let ints = items
                .iter()
                .map(|i| match i.as_deref() {
                    None => Some(None),
                    Some(s) => s.trim().parse::<i64>().ok().map(Some),
                })
                .collect::<Option<Vec<Option<i64>>>>()?;
            enc.encode_field(&Raw {
                text: &text,
                binary: Some(binary_of(&ints, ty)?),
            })
        }
        _ => enc.encode_field(&value.to_text()),
    })
}

/// A value's binary wire form.
fn binary_of<T: ToSql>(v: &T, ty: &Type) -> Option<Vec<u8>> {
    let mut buf = BytesMut::new();
    v.to_sql(ty, &mut buf).ok()?;
    Some(buf.to_vec())
}

pub(crate) fn conversion(value: &str, ty: &str) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        "22P02".to_string(),
        format!("invalid input syntax for type {ty}: \"{value}\""),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytea_text_forms() {
        assert_eq!(decode_bytea_text(b"\\x01ff"), vec![1, 255]);
        assert_eq!(decode_bytea_text(b"a\\\\b\\001"), b"a\\b\x01".to_vec());
        assert_eq!(decode_bytea_text(b"plain"), b"plain".to_vec());
    }

    #[test]
    fn binary_parameters_decode_to_canonical_forms() {
        let ts = chrono::NaiveDate::from_ymd_opt(2024, 1, 2)
            .unwrap()
            .and_hms_micro_opt(3, 4, 5, 120_000)
            .unwrap();
        let mut buf = BytesMut::new();
        ts.to_sql(&Type::TIMESTAMP, &mut buf).unwrap();
        assert_eq!(
            decode_param(&buf, true, &Type::TIMESTAMP).unwrap(),
            Value::Text("2024-01-02 03:04:05.120000".into())
        );
        let mut buf = BytesMut::new();
        ts.date().to_sql(&Type::DATE, &mut buf).unwrap();
        assert_eq!(
            decode_param(&buf, true, &Type::DATE).unwrap(),
            Value::Text("2024-01-02".into())
        );
        let mut buf = BytesMut::new();
        rust_decimal::Decimal::new(1_234_567_891, 2)
            .to_sql(&Type::NUMERIC, &mut buf)
            .unwrap();
        assert_eq!(
            decode_param(&buf, true, &Type::NUMERIC).unwrap(),
            Value::Text("12345678.91".into())
        );
        let uuid = [
            0xa0u8, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38,
            0x0a, 0x11,
        ];
        assert_eq!(
            decode_param(&uuid, true, &Type::UUID).unwrap(),
            Value::Text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".into())
        );
        assert_eq!(
            decode_param(b"\x01{\"a\":1}", true, &Type::JSONB).unwrap(),
            Value::Text("{\"a\":1}".into())
        );
        assert!(decode_param(&[1, 2, 3], true, &Type::INT8).is_err());
    }
}
