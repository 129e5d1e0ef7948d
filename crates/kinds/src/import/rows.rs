//! CSV records into typed values for the target's columns, with errors that name the file, line and column.
//!
//! Values are converted here, not left to SQLite, for two reasons: a value that does not fit its column is
//! reported with its line and column (SQLite would only name the constraint, at the final commit), and
//! typed values make the final copy into the table cheap (no affinity conversions left to do).

use rusqlite::types::Value;
use serde::{Deserialize, Serialize};

/// How the CSV is written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CsvFormat {
    /// Field separator.
    pub delimiter: u8,
    /// The quote that may enclose fields (`None`: fields are never enclosed).
    pub quote: Option<u8>,
    /// MySQL's `ESCAPED BY '\\'`: `\N` is NULL and `\t`, `\n`, `\0`, `\\` ... are unescaped.
    pub mysql_escapes: bool,
    /// Leading records of every file to skip (headers).
    pub skip: u64,
    /// A field exactly equal to this is NULL.
    pub null_if: Option<String>,
}

impl Default for CsvFormat {
    fn default() -> Self {
        Self {
            delimiter: b',',
            quote: Some(b'"'),
            mysql_escapes: false,
            skip: 0,
            null_if: None,
        }
    }
}

impl CsvFormat {
    /// A CSV reader over `input` in this format.
    pub fn reader<R: std::io::Read>(&self, input: R) -> csv::Reader<R> {
        let mut b = csv::ReaderBuilder::new();
        b.has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .buffer_capacity(256 * 1024);
        match self.quote {
            Some(q) => {
                b.quote(q).double_quote(true);
            }
            None => {
                b.quoting(false);
            }
        }
        b.from_reader(input)
    }
}

/// What a target column takes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// Integers (and booleans written as true/false).
    Integer,
    /// Numbers (float, double, decimal).
    Real,
    /// Text, dates and anything else: kept as written.
    Text,
}

/// A target column the CSV's fields go into, in field order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImportColumn {
    /// Its name.
    pub name: String,
    /// What it takes.
    #[serde(rename = "type")]
    pub ty: ColumnType,
    /// NOT NULL (and not a key SQLite numbers itself when given NULL).
    pub not_null: bool,
}

/// A record or value that cannot go into the table.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("file '{file}', line {line}, column {column}{}: {problem}", name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default())]
pub struct BadRow {
    /// The source as named.
    pub file: String,
    /// 1-based line where the record starts.
    pub line: u64,
    /// 1-based field position.
    pub column: usize,
    /// The target column's name, if the field has one.
    pub name: Option<String>,
    /// What is wrong.
    pub problem: Problem,
}

/// What is wrong with a record.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    /// A value that is not a number where one is needed.
    #[error("Incorrect {kind} value: '{value}'")]
    NotANumber {
        /// `integer` or `number`.
        kind: &'static str,
        /// The value (cut to 64 characters).
        value: String,
    },
    /// NULL for a NOT NULL column.
    #[error("column cannot be null")]
    Null,
    /// Fewer fields than columns.
    #[error("expected {expected} fields, found {found}")]
    TooFewFields {
        /// Columns.
        expected: usize,
        /// Fields.
        found: usize,
    },
    /// More fields than columns.
    #[error("expected {expected} fields, found {found}")]
    TooManyFields {
        /// Columns.
        expected: usize,
        /// Fields.
        found: usize,
    },
    /// Bytes that are not UTF-8.
    #[error("invalid UTF-8")]
    NotUtf8,
    /// The CSV itself could not be read.
    #[error("{0}")]
    Malformed(String),
}

impl Problem {
    /// The MySQL error number this problem is reported with (MySQL's strict-mode LOAD DATA errors).
    pub fn mysql_code(&self) -> i64 {
        match self {
            Problem::NotANumber { .. } => 1366,
            Problem::Null => 1048,
            Problem::TooFewFields { .. } => 1261,
            Problem::TooManyFields { .. } => 1262,
            Problem::NotUtf8 => 1300,
            Problem::Malformed(_) => 1105,
        }
    }
}

/// Converts records of one file into values for `columns`.
pub struct Converter<'a> {
    /// The format.
    pub format: &'a CsvFormat,
    /// The target columns, in field order.
    pub columns: &'a [ImportColumn],
    /// The file's name, for errors.
    pub file: &'a str,
}

impl Converter<'_> {
    /// Appends the record's values to `out`, or says what is wrong with it.
    pub fn convert(&self, record: &csv::ByteRecord, out: &mut Vec<Value>) -> Result<(), BadRow> {
        let line = record.position().map_or(0, |p| p.line());
        let expected = self.columns.len();
        if record.len() != expected {
            let found = record.len();
            let problem = if found < expected {
                Problem::TooFewFields { expected, found }
            } else {
                Problem::TooManyFields { expected, found }
            };
            // The first field missing, or the first one too many.
            let column = found.min(expected) + 1;
            return Err(self.bad(line, column, problem));
        }
        for (i, (field, col)) in record.iter().zip(self.columns).enumerate() {
            let value = self
                .value(field, col)
                .map_err(|problem| self.bad(line, i + 1, problem))?;
            out.push(value);
        }
        Ok(())
    }

    fn bad(&self, line: u64, column: usize, problem: Problem) -> BadRow {
        BadRow {
            file: self.file.to_string(),
            line,
            column,
            name: self.columns.get(column - 1).map(|c| c.name.clone()),
            problem,
        }
    }

    fn value(&self, field: &[u8], col: &ImportColumn) -> Result<Value, Problem> {
        let text = std::str::from_utf8(field).map_err(|_| Problem::NotUtf8)?;
        let is_null = (self.format.mysql_escapes && text == "\\N")
            || self.format.null_if.as_deref() == Some(text);
        if is_null {
            return if col.not_null {
                Err(Problem::Null)
            } else {
                Ok(Value::Null)
            };
        }
        let unescaped;
        let text = if self.format.mysql_escapes && text.contains('\\') {
            unescaped = mysql_unescape(text);
            unescaped.as_str()
        } else {
            text
        };
        match col.ty {
            ColumnType::Text => Ok(Value::Text(text.to_string())),
            ColumnType::Integer => {
                integer(text)
                    .map(Value::Integer)
                    .ok_or_else(|| Problem::NotANumber {
                        kind: "integer",
                        value: cut(text),
                    })
            }
            ColumnType::Real => {
                let t = text.trim();
                if let Ok(i) = t.parse::<i64>() {
                    return Ok(Value::Integer(i));
                }
                match t.parse::<f64>() {
                    Ok(f) if f.is_finite() => Ok(Value::Real(f)),
                    _ => Err(Problem::NotANumber {
                        kind: "decimal",
                        value: cut(text),
                    }),
                }
            }
        }
    }
}

/// An integer as SQLite's INTEGER affinity would store one: digits, or a number with no fraction; also
/// true/false for BOOLEAN columns.
fn integer(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(i);
    }
    if t.eq_ignore_ascii_case("true") {
        return Some(1);
    }
    if t.eq_ignore_ascii_case("false") {
        return Some(0);
    }
    let f: f64 = t.parse().ok()?;
    (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e18).then_some(f as i64)
}

fn cut(text: &str) -> String {
    text.chars().take(64).collect()
}

/// MySQL's escapes in LOAD DATA fields: `\0 \b \n \r \t \Z \\` and a backslash before anything else is dropped.
fn mysql_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('0') => out.push('\0'),
            Some('b') => out.push('\u{8}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('Z') => out.push('\u{1a}'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Vec<ImportColumn> {
        vec![
            ImportColumn {
                name: "id".into(),
                ty: ColumnType::Integer,
                not_null: true,
            },
            ImportColumn {
                name: "price".into(),
                ty: ColumnType::Real,
                not_null: false,
            },
            ImportColumn {
                name: "name".into(),
                ty: ColumnType::Text,
                not_null: false,
            },
        ]
    }

    fn convert(format: &CsvFormat, text: &str) -> Vec<Result<Vec<Value>, BadRow>> {
        let columns = cols();
        let conv = Converter {
            format,
            columns: &columns,
            file: "a.csv",
        };
        let mut reader = format.reader(text.as_bytes());
        let mut rec = csv::ByteRecord::new();
        let mut out = Vec::new();
        while reader.read_byte_record(&mut rec).unwrap() {
            let mut values = Vec::new();
            out.push(conv.convert(&rec, &mut values).map(|()| values));
        }
        out
    }

    #[test]
    fn converts_typed_values() {
        let f = CsvFormat {
            null_if: Some(String::new()),
            ..Default::default()
        };
        let rows = convert(&f, "1,2.5,\"a, b\"\n2,,x\n3.0,7,\"\"\"q\"\"\"\n");
        assert_eq!(
            rows[0].clone().unwrap(),
            vec![
                Value::Integer(1),
                Value::Real(2.5),
                Value::Text("a, b".into())
            ]
        );
        assert_eq!(rows[1].clone().unwrap()[1], Value::Null);
        assert_eq!(
            rows[2].clone().unwrap(),
            vec![
                Value::Integer(3),
                Value::Integer(7),
                Value::Text("\"q\"".into())
            ]
        );
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let f = CsvFormat::default();
        let rows = convert(&f, "1,2,a\n2,x,b\n3,4\n4,5,c,d\n,1,a\n");
        assert!(rows[0].is_ok());
        let e = rows[1].clone().unwrap_err();
        assert_eq!((e.line, e.column), (2, 2));
        assert_eq!(
            e.to_string(),
            "file 'a.csv', line 2, column 2 (price): Incorrect decimal value: 'x'"
        );
        let e = rows[2].clone().unwrap_err();
        assert_eq!((e.line, e.column, e.problem.mysql_code()), (3, 3, 1261));
        let e = rows[3].clone().unwrap_err();
        assert_eq!((e.line, e.column, e.problem.mysql_code()), (4, 4, 1262));
        let e = rows[4].clone().unwrap_err();
        assert_eq!((e.line, e.column, e.problem.mysql_code()), (5, 1, 1366));
    }

    #[test]
    fn mysql_format_nulls_and_escapes() {
        let f = CsvFormat {
            delimiter: b'\t',
            quote: None,
            mysql_escapes: true,
            ..Default::default()
        };
        let rows = convert(&f, "1\t\\N\ta\\tb\n\\N\t1\tx\n");
        assert_eq!(
            rows[0].clone().unwrap(),
            vec![Value::Integer(1), Value::Null, Value::Text("a\tb".into())]
        );
        assert_eq!(rows[1].clone().unwrap_err().problem, Problem::Null);
    }
}
