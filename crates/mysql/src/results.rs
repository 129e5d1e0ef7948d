//! The SQL layer's result columns and values as MySQL column definitions and rows, in the text
//! protocol (COM_QUERY) and the binary protocol (COM_STMT_EXECUTE).

use mysql_common::constants::{ColumnFlags, ColumnType};
use tenantry_sql::{ColumnKind, Value};

use crate::protocol::{put_lenenc_bytes, ColumnDef, BINARY_CHARSET, TEXT_NULL, UTF8MB4_GENERAL_CI};

/// MySQL's "not a fixed number of decimals", for doubles and text computed by expressions.
const NOT_FIXED_DEC: u8 = 31;

/// The definition a result column of `kind` goes out with.
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
        // Dates are SQLite text; they go out as strings.
        ColumnKind::Text | ColumnKind::Date | ColumnKind::DateTime => def(
            ColumnType::MYSQL_TYPE_VAR_STRING,
            ColumnFlags::empty(),
            UTF8MB4_GENERAL_CI,
            // 16 MB of 4-byte characters, MySQL's length of a LONGTEXT expression.
            u32::MAX,
            NOT_FIXED_DEC,
        ),
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
            ColumnType::MYSQL_TYPE_DOUBLE => buf.extend_from_slice(&as_f64(value).to_le_bytes()),
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
    fn text_rows_send_null_as_fb() {
        assert_eq!(
            text_row(&[Value::Null, Value::Int(12)]),
            vec![0xFB, 2, b'1', b'2']
        );
    }
}
