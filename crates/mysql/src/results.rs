//! The SQL layer's result columns and values as MySQL column definitions and rows, in the text
//! protocol (COM_QUERY) and the binary protocol (COM_STMT_EXECUTE).

use mysql_common::constants::{ColumnFlags, ColumnType};
use mysql_common::proto::MySerialize;
use mysql_common::Value as MyValue;
use tenantry_sql::{Column, ColumnKind, ResultSet, Value};

use crate::protocol::{put_lenenc_bytes, ColumnDef, BINARY_CHARSET, TEXT_NULL, UTF8MB4_GENERAL_CI};

/// MySQL's "not a fixed number of decimals", for doubles and text computed by expressions.
const NOT_FIXED_DEC: u8 = 31;

/// The definition a result column of `kind` goes out with, before its values are known (prepare).
pub fn column_def(name: &str, kind: ColumnKind) -> ColumnDef {
    let def = |column_type, flags, charset, length, decimals| ColumnDef {
        name: name.to_string(),
        column_type,
        flags,
        charset,
        length,
        decimals,
    };
    let numeric = ColumnFlags::BINARY_FLAG | ColumnFlags::NUM_FLAG;
    match kind {
        ColumnKind::Int => def(
            ColumnType::MYSQL_TYPE_LONGLONG,
            numeric,
            BINARY_CHARSET,
            20,
            0,
        ),
        ColumnKind::UInt => def(
            ColumnType::MYSQL_TYPE_LONGLONG,
            numeric | ColumnFlags::UNSIGNED_FLAG,
            BINARY_CHARSET,
            20,
            0,
        ),
        ColumnKind::Bool => def(
            ColumnType::MYSQL_TYPE_LONGLONG,
            numeric,
            BINARY_CHARSET,
            1,
            0,
        ),
        ColumnKind::Float => def(
            ColumnType::MYSQL_TYPE_DOUBLE,
            numeric,
            BINARY_CHARSET,
            22,
            NOT_FIXED_DEC,
        ),
        ColumnKind::Decimal(scale) => def(
            ColumnType::MYSQL_TYPE_NEWDECIMAL,
            numeric,
            BINARY_CHARSET,
            // MySQL's display length of DECIMAL(65, scale): digits, sign and point.
            67,
            scale,
        ),
        ColumnKind::Blob => def(
            ColumnType::MYSQL_TYPE_BLOB,
            ColumnFlags::BLOB_FLAG | ColumnFlags::BINARY_FLAG,
            BINARY_CHARSET,
            u32::MAX,
            0,
        ),
        ColumnKind::Null => def(
            ColumnType::MYSQL_TYPE_NULL,
            ColumnFlags::BINARY_FLAG,
            BINARY_CHARSET,
            0,
            0,
        ),
        ColumnKind::Date => def(
            ColumnType::MYSQL_TYPE_DATE,
            ColumnFlags::BINARY_FLAG,
            BINARY_CHARSET,
            10,
            0,
        ),
        ColumnKind::DateTime => def(
            ColumnType::MYSQL_TYPE_DATETIME,
            ColumnFlags::BINARY_FLAG,
            BINARY_CHARSET,
            19,
            0,
        ),
        ColumnKind::Timestamp => def(
            ColumnType::MYSQL_TYPE_TIMESTAMP,
            ColumnFlags::BINARY_FLAG,
            BINARY_CHARSET,
            19,
            0,
        ),
        ColumnKind::Time => def(
            ColumnType::MYSQL_TYPE_TIME,
            ColumnFlags::BINARY_FLAG,
            BINARY_CHARSET,
            10,
            0,
        ),
        // UUID, JSON and interval columns (PostgreSQL's types) are text to MySQL clients.
        ColumnKind::Text
        | ColumnKind::Uuid
        | ColumnKind::Json
        | ColumnKind::Interval
        | ColumnKind::Array(_) => def(
            ColumnType::MYSQL_TYPE_VAR_STRING,
            ColumnFlags::empty(),
            UTF8MB4_GENERAL_CI,
            // 16 MB of 4-byte characters, MySQL's length of a LONGTEXT expression.
            u32::MAX,
            NOT_FIXED_DEC,
        ),
    }
}

/// The definitions of a result's columns, given its values: a date or time column whose values are not
/// all dates or times (SQLite keeps whatever it is given) goes out as text, and a date-time column's
/// decimals are the most fractional digits among its values.
pub fn column_defs(rs: &ResultSet) -> Vec<ColumnDef> {
    defs_of(&rs.columns, &rs.rows, true)
}

/// The definitions of a streamed result's columns, given its first rows (the rest are not known yet): as
/// [`column_defs`] over those rows, except that integers keep their full width, since a later value may
/// not fit a narrower one.
pub fn streamed_column_defs(columns: &[Column], first_rows: &[Vec<Value>]) -> Vec<ColumnDef> {
    defs_of(columns, first_rows, false)
}

/// The definitions of `columns` given `rows`, all of the result's rows if `complete`.
fn defs_of(columns: &[Column], rows: &[Vec<Value>], complete: bool) -> Vec<ColumnDef> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let values = rows.iter().map(|r| &r[i]);
            match c.kind {
                ColumnKind::Date
                | ColumnKind::DateTime
                | ColumnKind::Timestamp
                | ColumnKind::Time => {
                    let mut fraction = 0u8;
                    let mut all_parse = true;
                    for v in values {
                        match v {
                            Value::Null => {}
                            Value::Text(s) => match temporal(c.kind, s) {
                                Some((_, digits)) => fraction = fraction.max(digits),
                                None => all_parse = false,
                            },
                            _ => all_parse = false,
                        }
                    }
                    if all_parse {
                        let mut def = column_def(&c.name, c.kind);
                        if c.kind != ColumnKind::Date {
                            def.decimals = fraction;
                            if fraction > 0 {
                                def.length += 1 + u32::from(fraction);
                            }
                        }
                        def
                    } else {
                        column_def(&c.name, ColumnKind::Text)
                    }
                }
                ColumnKind::Int | ColumnKind::UInt => {
                    let mut def = column_def(&c.name, c.kind);
                    if let (Some(bytes), true) = (c.int_bytes, complete) {
                        let unsigned = c.kind == ColumnKind::UInt;
                        // SQLite keeps any integer in any column: narrow only when every value fits.
                        let (lo, hi) = int_range(bytes, unsigned);
                        let fits = values.into_iter().all(|v| match v {
                            Value::Null => true,
                            Value::Int(i) => (lo..=hi).contains(i),
                            _ => false,
                        });
                        if fits {
                            def.column_type = match bytes {
                                1 => ColumnType::MYSQL_TYPE_TINY,
                                2 => ColumnType::MYSQL_TYPE_SHORT,
                                3 => ColumnType::MYSQL_TYPE_INT24,
                                _ => ColumnType::MYSQL_TYPE_LONG,
                            };
                            // MySQL's display widths: digits, plus the sign for signed types.
                            let digits = match bytes {
                                1 => 3,
                                2 => 5,
                                3 => 8,
                                _ => 10,
                            };
                            def.length = digits + u32::from(!unsigned);
                        }
                    }
                    def
                }
                kind => column_def(&c.name, kind),
            }
        })
        .collect()
}

/// The values an integer type of `bytes` bytes holds.
fn int_range(bytes: u8, unsigned: bool) -> (i64, i64) {
    let bits = u32::from(bytes) * 8;
    if unsigned {
        (0, (1i64 << bits) - 1)
    } else {
        (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
    }
}

/// A date, date-time or time in SQLite's text form as MySQL's binary value, with its count of
/// fractional digits. Zero dates (`0000-00-00`) are valid, as in MySQL.
fn temporal(kind: ColumnKind, s: &str) -> Option<(MyValue, u8)> {
    let s = s.trim();
    if kind == ColumnKind::Time {
        return parse_time(s);
    }
    let (date, time) = match s.split_once([' ', 'T']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut parts = date.splitn(3, '-');
    let y: u16 = number(parts.next()?, 4)?;
    let m: u8 = number(parts.next()?, 2)?;
    let d: u8 = number(parts.next()?, 2)?;
    if m > 12 || d > 31 {
        return None;
    }
    let (h, mi, sec, us, digits) = match time {
        None => (0, 0, 0, 0, 0),
        Some(t) => {
            let (hms, us, digits) = split_fraction(t)?;
            let mut p = hms.splitn(3, ':');
            let h: u8 = number(p.next()?, 2)?;
            let mi: u8 = number(p.next()?, 2)?;
            let sec: u8 = number(p.next()?, 2)?;
            if h > 23 || mi > 59 || sec > 59 {
                return None;
            }
            (h, mi, sec, us, digits)
        }
    };
    if kind == ColumnKind::Date && time.is_some() {
        return None;
    }
    Some((MyValue::Date(y, m, d, h, mi, sec, us), digits))
}

/// `[-]H+:MM:SS[.ffffff]` as MySQL's binary TIME (days split off the hours).
fn parse_time(s: &str) -> Option<(MyValue, u8)> {
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (hms, us, digits) = split_fraction(s)?;
    let mut p = hms.splitn(3, ':');
    let hours: u32 = p
        .next()
        .filter(|h| !h.is_empty() && h.len() <= 3)?
        .parse()
        .ok()?;
    let mi: u8 = number(p.next()?, 2)?;
    let sec: u8 = number(p.next()?, 2)?;
    if mi > 59 || sec > 59 || hours > 838 {
        return None;
    }
    Some((
        MyValue::Time(negative, hours / 24, (hours % 24) as u8, mi, sec, us),
        digits,
    ))
}

/// Splits `HH:MM:SS.ffffff` into the seconds part, microseconds and the number of fractional digits.
fn split_fraction(t: &str) -> Option<(&str, u32, u8)> {
    match t.split_once('.') {
        None => Some((t, 0, 0)),
        Some((hms, frac)) => {
            if frac.is_empty() || frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let us: u32 = format!("{frac:0<6}").parse().ok()?;
            Some((hms, us, frac.len() as u8))
        }
    }
}

/// A field of exactly `width` ASCII digits.
fn number<T: std::str::FromStr>(s: &str, width: usize) -> Option<T> {
    if s.len() == width && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// One text-protocol row: every value as a length-encoded string, NULL as 0xFB.
pub fn text_row(values: &[Value]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(values.len() * 8);
    for v in values {
        match v {
            Value::Null => buf.push(TEXT_NULL),
            Value::Blob(b) => put_lenenc_bytes(&mut buf, b),
            Value::Text(s) => put_lenenc_bytes(&mut buf, s.as_bytes()),
            other => {
                let text = other.to_text().unwrap_or_default();
                put_lenenc_bytes(&mut buf, text.as_bytes());
            }
        }
    }
    buf
}

/// One binary-protocol row: a 0x00 header, the NULL bitmap (offset 2), then each non-NULL value in
/// the encoding its column's type promises. SQLite lets a column hold any type, so a value that is
/// not what the column says is converted rather than sent malformed.
pub fn binary_row(values: &[Value], columns: &[ColumnDef]) -> Vec<u8> {
    let bitmap_len = (columns.len() + 7 + 2) / 8;
    let mut buf = Vec::with_capacity(1 + bitmap_len + values.len() * 8);
    buf.push(0x00);
    let bitmap_at = buf.len();
    buf.resize(bitmap_at + bitmap_len, 0);
    for (i, (value, col)) in values.iter().zip(columns).enumerate() {
        if matches!(value, Value::Null) || col.column_type == ColumnType::MYSQL_TYPE_NULL {
            buf[bitmap_at + (i + 2) / 8] |= 1 << ((i + 2) % 8);
            continue;
        }
        match col.column_type {
            ColumnType::MYSQL_TYPE_LONGLONG => buf.extend_from_slice(&as_i64(value).to_le_bytes()),
            // column_defs picks these only when every value fits; INT24 travels in four bytes.
            ColumnType::MYSQL_TYPE_TINY => buf.push(as_i64(value) as u8),
            ColumnType::MYSQL_TYPE_SHORT => {
                buf.extend_from_slice(&(as_i64(value) as u16).to_le_bytes())
            }
            ColumnType::MYSQL_TYPE_LONG | ColumnType::MYSQL_TYPE_INT24 => {
                buf.extend_from_slice(&(as_i64(value) as u32).to_le_bytes())
            }
            ColumnType::MYSQL_TYPE_DOUBLE => buf.extend_from_slice(&as_f64(value).to_le_bytes()),
            ColumnType::MYSQL_TYPE_DATE
            | ColumnType::MYSQL_TYPE_DATETIME
            | ColumnType::MYSQL_TYPE_TIMESTAMP
            | ColumnType::MYSQL_TYPE_TIME => {
                let kind = match col.column_type {
                    ColumnType::MYSQL_TYPE_DATE => ColumnKind::Date,
                    ColumnType::MYSQL_TYPE_TIME => ColumnKind::Time,
                    _ => ColumnKind::DateTime,
                };
                // column_defs sends a date column as one only when every value parses.
                let parsed = match value {
                    Value::Text(s) => temporal(kind, s).map(|(v, _)| v),
                    _ => None,
                };
                parsed
                    .unwrap_or(MyValue::Date(0, 0, 0, 0, 0, 0, 0))
                    .serialize(&mut buf);
            }
            _ => match value {
                Value::Blob(b) => put_lenenc_bytes(&mut buf, b),
                Value::Text(s) => put_lenenc_bytes(&mut buf, s.as_bytes()),
                other => {
                    let text = other.to_text().unwrap_or_default();
                    put_lenenc_bytes(&mut buf, text.as_bytes());
                }
            },
        }
    }
    buf
}

fn as_i64(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Float(f) => *f as i64,
        Value::Text(s) => s.trim().parse().unwrap_or(0),
        Value::Blob(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0),
        Value::Null => 0,
    }
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Text(s) => s.trim().parse().unwrap_or(0.0),
        Value::Blob(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0.0),
        Value::Null => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_rows_mark_nulls_and_encode_by_column_type() {
        let cols = vec![
            column_def("a", ColumnKind::Int),
            column_def("b", ColumnKind::Text),
            column_def("c", ColumnKind::Float),
        ];
        let row = binary_row(
            &[Value::Int(5), Value::Null, Value::Text("2.5".into())],
            &cols,
        );
        // header, bitmap (1 byte: column 1 at bit 3), i64 5, f64 2.5
        assert_eq!(row[0], 0);
        assert_eq!(row[1], 1 << 3);
        assert_eq!(&row[2..10], &5i64.to_le_bytes());
        assert_eq!(&row[10..18], &2.5f64.to_le_bytes());
        assert_eq!(row.len(), 18);
    }

    #[test]
    fn temporal_values_parse_to_binary_form() {
        assert_eq!(
            temporal(ColumnKind::DateTime, "2024-01-02 03:04:05.5"),
            Some((MyValue::Date(2024, 1, 2, 3, 4, 5, 500_000), 1))
        );
        assert_eq!(
            temporal(ColumnKind::Date, "2024-12-31"),
            Some((MyValue::Date(2024, 12, 31, 0, 0, 0, 0), 0))
        );
        assert_eq!(
            temporal(ColumnKind::Time, "-27:00:01"),
            Some((MyValue::Time(true, 1, 3, 0, 1, 0), 0))
        );
        assert_eq!(temporal(ColumnKind::DateTime, "yesterday"), None);
        assert_eq!(temporal(ColumnKind::Date, "2024-01-02 03:04:05"), None);
    }

    #[test]
    fn date_columns_with_other_values_go_out_as_text() {
        let rs = ResultSet {
            columns: vec![
                tenantry_sql::Column::new("a", ColumnKind::DateTime),
                tenantry_sql::Column::new("b", ColumnKind::DateTime),
            ],
            rows: vec![
                vec![
                    Value::Text("2024-01-02 03:04:05.123456".into()),
                    Value::Text("not a date".into()),
                ],
                vec![Value::Null, Value::Text("2024-01-02 03:04:05".into())],
            ],
        };
        let defs = column_defs(&rs);
        assert_eq!(defs[0].column_type, ColumnType::MYSQL_TYPE_DATETIME);
        assert_eq!(defs[0].decimals, 6);
        assert_eq!(defs[1].column_type, ColumnType::MYSQL_TYPE_VAR_STRING);
    }

    #[test]
    fn declared_integer_widths_go_out_when_the_values_fit() {
        let col = |name: &str, kind, bytes| tenantry_sql::Column {
            name: name.into(),
            kind,
            int_bytes: bytes,
        };
        let rs = ResultSet {
            columns: vec![
                col("i", ColumnKind::Int, Some(4)),
                col("s", ColumnKind::Int, Some(2)),
                col("t", ColumnKind::UInt, Some(1)),
                col("big", ColumnKind::Int, None),
                col("over", ColumnKind::Int, Some(1)),
            ],
            rows: vec![vec![
                Value::Int(-5),
                Value::Int(300),
                Value::Int(255),
                Value::Int(7),
                Value::Int(1000),
            ]],
        };
        let defs = column_defs(&rs);
        let types: Vec<ColumnType> = defs.iter().map(|d| d.column_type).collect();
        assert_eq!(
            types,
            vec![
                ColumnType::MYSQL_TYPE_LONG,
                ColumnType::MYSQL_TYPE_SHORT,
                ColumnType::MYSQL_TYPE_TINY,
                ColumnType::MYSQL_TYPE_LONGLONG,
                ColumnType::MYSQL_TYPE_LONGLONG,
            ]
        );
        let row = binary_row(&rs.rows[0], &defs);
        assert_eq!(&row[2..6], &(-5i32).to_le_bytes());
        assert_eq!(&row[6..8], &300u16.to_le_bytes());
        assert_eq!(row[8], 255);
        assert_eq!(&row[9..17], &7i64.to_le_bytes());
    }

    #[test]
    fn text_rows_send_null_as_fb() {
        assert_eq!(
            text_row(&[Value::Null, Value::Int(12)]),
            vec![0xFB, 2, b'1', b'2']
        );
    }
}
