//! Values and result sets as the SQL layer hands them to the front ends.

/// One value of a result row or statement parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit integer.
    Int(i64),
    /// A double.
    Float(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl Value {
    /// The value as text, the way the MySQL text protocol sends it (`None` for NULL).
    pub fn to_text(&self) -> Option<String> {
        match self {
            Value::Null => None,
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(format_float(*f)),
            Value::Text(s) => Some(s.clone()),
            Value::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
        }
    }
}

/// Formats a double the way MySQL prints one: integral values without a fraction.
pub fn format_float(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// The type of a result column, as far as the wire needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Integers.
    Int,
    /// Integers declared UNSIGNED (MySQL sends them with the UNSIGNED flag).
    UInt,
    /// Booleans stored as 0 / 1 (BOOLEAN columns): MySQL shows integers, PostgreSQL `bool`.
    Bool,
    /// Doubles.
    Float,
    /// Fixed-point numbers with this many decimals.
    Decimal(u8),
    /// Text.
    Text,
    /// Bytes.
    Blob,
    /// `YYYY-MM-DD`.
    Date,
    /// `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC: a point in time (PostgreSQL's `timestamptz`, MySQL's DATETIME).
    DateTime,
    /// `YYYY-MM-DD HH:MM:SS[.ffffff]` without a time zone (PostgreSQL's `timestamp`; MySQL's TIMESTAMP, the
    /// same values as DATETIME but a different MySQL type).
    Timestamp,
    /// `[-]HH:MM:SS[.ffffff]`: a time of day (PostgreSQL's `time`), or a duration (MySQL's TIME).
    Time,
    /// A UUID, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in lower case.
    Uuid,
    /// JSON text.
    Json,
    /// A PostgreSQL interval in its `postgres` output style (`1 day 02:03:04`).
    Interval,
    /// A PostgreSQL array in its text form (`{a,"b c",NULL}`), of elements of this kind: `array_agg`'s result.
    Array(ArrayOf),
    /// Every value is NULL and nothing says otherwise.
    Null,
}

/// The kind of an array's elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayOf {
    /// Text (`text[]`).
    Text,
    /// Booleans stored as 0 / 1 (`bool[]`).
    Bool,
    /// Integers (`int8[]`).
    Int,
}

/// One result column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Its name (or alias).
    pub name: String,
    /// Its type.
    pub kind: ColumnKind,
    /// For an integer column declared narrower than 64 bits, its declared size in bytes: TINYINT 1,
    /// SMALLINT 2, MEDIUMINT 3, INT 4 (the MySQL wire sends those types). `None` for BIGINT, INTEGER
    /// (SQLite's 64-bit rowid type, which AUTO_INCREMENT columns become) and every other column.
    pub int_bytes: Option<u8>,
}

impl Column {
    /// A column of that name and type.
    pub fn new(name: impl Into<String>, kind: ColumnKind) -> Self {
        Self {
            name: name.into(),
            kind,
            int_bytes: None,
        }
    }
}

/// Rows with their columns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResultSet {
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows; every row has one value per column.
    pub rows: Vec<Vec<Value>>,
}

impl ResultSet {
    /// An empty result with text columns of these names.
    pub fn with_text_columns(names: &[&str]) -> Self {
        Self {
            columns: names
                .iter()
                .map(|n| Column::new(*n, ColumnKind::Text))
                .collect(),
            rows: Vec::new(),
        }
    }
}

/// What a statement produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Rows.
    Rows(ResultSet),
    /// Rows sent to the statement's row sink as they were read (a result too big to hold; see
    /// `RowSink`): how many.
    Streamed {
        /// Rows sent.
        rows: u64,
    },
    /// No rows: how many were affected, and the first id an insert generated.
    Done {
        /// Rows inserted, updated or deleted.
        affected: u64,
        /// The first AUTO_INCREMENT id an INSERT generated, else 0.
        last_insert_id: u64,
    },
}

impl Output {
    /// A statement that succeeded without touching rows.
    pub fn ok() -> Self {
        Output::Done {
            affected: 0,
            last_insert_id: 0,
        }
    }

    /// A statement that affected `n` rows.
    pub fn affected(n: u64) -> Self {
        Output::Done {
            affected: n,
            last_insert_id: 0,
        }
    }
}
