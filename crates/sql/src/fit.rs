//! One canonical stored form per column type. Drivers send the same value in many spellings (a date as
//! `2024-01-02T03:04:05.000+01:00`, a boolean as `t`, a UUID in upper case); front ends decode what a
//! driver sent and [`fit`] turns it into the one form stored for the target column's type, or refuses it
//! (22P02 / 22007, MySQL 1366 / 1292) so that nothing unreadable is ever written.
//!
//! Canonical forms (SQLite storage classes in brackets):
//! - integers and booleans: [integer]; doubles: [real]; decimals: their decimal text, which the column's
//!   NUMERIC affinity stores as [integer] or [real] exactly as it would a literal;
//! - `DateTime` (a point in time): `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC [text]; an offset is applied;
//! - `Timestamp`: the same without a time zone; an offset is dropped, as PostgreSQL's `timestamp` does;
//! - `Date`: `YYYY-MM-DD`; `Time`: `HH:MM:SS[.ffffff]` (a fraction always has six digits);
//! - `Uuid`: lower-case hyphenated; `Json`: the text as sent, once it parses; `Interval`: PostgreSQL's
//!   `postgres` output style (`1 year 2 mons 3 days 04:05:06`).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use crate::error::{Result, SqlError};
use crate::json::{JsonProblem, MAX_JSON_DEPTH};
use crate::value::{ColumnKind, Value};

/// The value in the canonical stored form of a column of `kind`, or the error a client gets for it.
pub fn fit(kind: ColumnKind, value: Value) -> Result<Value> {
    if value == Value::Null {
        return Ok(value);
    }
    match kind {
        ColumnKind::Int | ColumnKind::UInt => fit_int(value),
        ColumnKind::Bool => fit_bool(value),
        ColumnKind::Float => fit_float(value),
        ColumnKind::Decimal(_) => fit_decimal(value),
        ColumnKind::DateTime => {
            let (t, offset) = datetime_of(kind, &value)?;
            let utc = t - chrono::Duration::seconds(i64::from(offset.unwrap_or(0)));
            Ok(Value::Text(format_datetime(&utc)))
        }
        ColumnKind::Timestamp => Ok(Value::Text(format_datetime(&datetime_of(kind, &value)?.0))),
        ColumnKind::Date => {
            let s = text_of(kind, &value)?;
            let t = s.trim();
            let date = t
                .get(..10)
                .and_then(|d| parse_date(d).filter(|_| date_tail_ok(&t[10..])));
            date.map(|d| Value::Text(d.format("%Y-%m-%d").to_string()))
                .ok_or_else(|| invalid(kind, &s))
        }
        ColumnKind::Time => {
            let s = text_of(kind, &value)?;
            parse_time_of_day(&s)
                .map(|t| Value::Text(format_time(&t)))
                .ok_or_else(|| invalid(kind, &s))
        }
        ColumnKind::Uuid => {
            let s = text_of(kind, &value)?;
            canonical_uuid(&s)
                .map(Value::Text)
                .ok_or_else(|| invalid(kind, &s))
        }
        ColumnKind::Json => {
            let s = text_of(kind, &value)?;
            // Checked without building a tree: a document of any depth costs one linear pass.
            match crate::json::check(&s) {
                Ok(()) => Ok(Value::Text(s)),
                Err(JsonProblem::TooDeep) => Err(SqlError::TooDeep {
                    limit: MAX_JSON_DEPTH,
                    what: "JSON nesting depth",
                }),
                Err(JsonProblem::Invalid) => Err(invalid(kind, &s)),
            }
        }
        ColumnKind::Interval => {
            let s = text_of(kind, &value)?;
            canonical_interval(&s)
                .map(Value::Text)
                .ok_or_else(|| invalid(kind, &s))
        }
        ColumnKind::Array(_) => {
            let s = text_of(kind, &value)?;
            match crate::pg_types::parse_array(&s) {
                Some(_) => Ok(Value::Text(s)),
                None => Err(invalid(kind, &s)),
            }
        }
        ColumnKind::Text => Ok(match value {
            Value::Blob(b) => match String::from_utf8(b) {
                Ok(s) => Value::Text(s),
                Err(e) => Value::Blob(e.into_bytes()),
            },
            other => other,
        }),
        ColumnKind::Blob | ColumnKind::Null => Ok(value),
    }
}

/// PostgreSQL's name of the type a column of `kind` has (in error messages).
pub fn type_name(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Int | ColumnKind::UInt => "bigint",
        ColumnKind::Bool => "boolean",
        ColumnKind::Float => "double precision",
        ColumnKind::Decimal(_) => "numeric",
        ColumnKind::DateTime => "timestamp with time zone",
        ColumnKind::Timestamp => "timestamp",
        ColumnKind::Date => "date",
        ColumnKind::Time => "time",
        ColumnKind::Uuid => "uuid",
        ColumnKind::Json => "json",
        ColumnKind::Interval => "interval",
        ColumnKind::Array(crate::value::ArrayOf::Text) => "text[]",
        ColumnKind::Array(crate::value::ArrayOf::Bool) => "boolean[]",
        ColumnKind::Array(crate::value::ArrayOf::Int) => "bigint[]",
        ColumnKind::Blob => "bytea",
        ColumnKind::Text | ColumnKind::Null => "text",
    }
}

fn invalid(kind: ColumnKind, value: &str) -> SqlError {
    let value: String = value.chars().take(200).collect();
    let type_name = type_name(kind);
    match kind {
        ColumnKind::DateTime
        | ColumnKind::Timestamp
        | ColumnKind::Date
        | ColumnKind::Time
        | ColumnKind::Interval => SqlError::InvalidDatetime { type_name, value },
        _ => SqlError::InvalidInput { type_name, value },
    }
}

/// The value as text, for the kinds whose canonical form is text (numbers are no dates).
fn text_of(kind: ColumnKind, value: &Value) -> Result<String> {
    match value {
        Value::Text(s) => Ok(s.clone()),
        Value::Blob(b) => String::from_utf8(b.clone()).map_err(|_| invalid(kind, "\\x…")),
        Value::Int(_) | Value::Float(_) if kind == ColumnKind::Json => {
            Ok(value.to_text().unwrap_or_default())
        }
        other => Err(invalid(kind, &other.to_text().unwrap_or_default())),
    }
}

fn fit_int(value: Value) -> Result<Value> {
    let kind = ColumnKind::Int;
    match value {
        Value::Int(_) => Ok(value),
        // Assigning a double to an integer column rounds it, in PostgreSQL and MySQL alike.
        Value::Float(f) if f.is_finite() && f.abs() < 9.2e18 => Ok(Value::Int(f.round() as i64)),
        Value::Text(ref s) => {
            let t = s.trim();
            if let Ok(i) = t.parse::<i64>() {
                return Ok(Value::Int(i));
            }
            match t.parse::<f64>() {
                Ok(f) if f.fract() == 0.0 && f.abs() < 9.2e18 && looks_numeric(t) => {
                    Ok(Value::Int(f as i64))
                }
                _ => Err(invalid(kind, s)),
            }
        }
        other => Err(invalid(kind, &other.to_text().unwrap_or_default())),
    }
}

fn fit_bool(value: Value) -> Result<Value> {
    match value {
        Value::Int(_) => Ok(value),
        Value::Float(f) => Ok(Value::Int(i64::from(f != 0.0))),
        Value::Text(ref s) => {
            // PostgreSQL's boolean input: any unique prefix of true/false/yes/no, on/off, 1/0.
            let t = s.trim().to_ascii_lowercase();
            let is_prefix = |word: &str| !t.is_empty() && word.starts_with(t.as_str());
            if is_prefix("true") || is_prefix("yes") || t == "on" || t == "1" {
                Ok(Value::Int(1))
            } else if is_prefix("false") || is_prefix("no") || t == "off" || t == "of" || t == "0" {
                Ok(Value::Int(0))
            } else {
                Err(invalid(ColumnKind::Bool, s))
            }
        }
        other => Err(invalid(
            ColumnKind::Bool,
            &other.to_text().unwrap_or_default(),
        )),
    }
}

fn fit_float(value: Value) -> Result<Value> {
    match value {
        Value::Int(_) | Value::Float(_) => Ok(value),
        Value::Text(ref s) => match s.trim().parse::<f64>() {
            Ok(f) if f.is_finite() && looks_numeric(s.trim()) => Ok(Value::Float(f)),
            _ => Err(invalid(ColumnKind::Float, s)),
        },
        other => Err(invalid(
            ColumnKind::Float,
            &other.to_text().unwrap_or_default(),
        )),
    }
}

fn fit_decimal(value: Value) -> Result<Value> {
    match value {
        Value::Int(_) | Value::Float(_) => Ok(value),
        // Kept as text: the column's NUMERIC affinity stores it exactly as it stores the same literal.
        Value::Text(ref s) if looks_numeric(s.trim()) && s.trim().parse::<f64>().is_ok() => {
            Ok(Value::Text(s.trim().to_string()))
        }
        other => Err(invalid(
            ColumnKind::Decimal(0),
            &other.to_text().unwrap_or_default(),
        )),
    }
}

/// Digits with an optional sign, point and exponent (Rust's float parser also takes `inf` and `NaN`).
fn looks_numeric(s: &str) -> bool {
    !s.is_empty()
        && s.chars().any(|c| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'))
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// What may follow a date that is given to a date column: nothing, or a time (with an offset).
fn date_tail_ok(tail: &str) -> bool {
    let tail = tail.trim();
    // pgjdbc's setDate sends `2024-01-02 +00`.
    tail.is_empty()
        || parse_offset(tail).is_some()
        || parse_time_and_offset(tail.trim_start_matches('T')).is_some()
}

/// `HH:MM[:SS[.f]]` and an optional offset (`Z`, `+HH`, `+HHMM`, `+HH:MM`), as seconds east of UTC.
fn parse_time_and_offset(s: &str) -> Option<(NaiveTime, Option<i32>)> {
    let s = s.trim();
    let (time, offset) = match s.find(['+', '-', 'Z', 'z']) {
        Some(i) => (&s[..i], Some(parse_offset(&s[i..])?)),
        None => (s, None),
    };
    let time = time.trim();
    let t = NaiveTime::parse_from_str(time, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M"))
        .ok()?;
    Some((t, offset))
}

fn parse_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = s[1..].chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m, sec) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0, 0),
        4 => (digits[..2].parse().ok()?, digits[2..].parse().ok()?, 0),
        6 => (
            digits[..2].parse().ok()?,
            digits[2..4].parse().ok()?,
            digits[4..].parse().ok()?,
        ),
        _ => return None,
    };
    (h <= 15 && m < 60 && sec < 60).then_some(sign * (h * 3600 + m * 60 + sec))
}

/// A date with an optional time and offset: `YYYY-MM-DD[( |T)HH:MM[:SS[.f]]][offset]`.
fn datetime_of(kind: ColumnKind, value: &Value) -> Result<(NaiveDateTime, Option<i32>)> {
    let s = text_of(kind, value)?;
    let t = s.trim();
    let parsed = t.get(..10).and_then(parse_date).and_then(|date| {
        let rest = t[10..].trim_start_matches(['T', 't', ' ']);
        if rest.is_empty() {
            return date.and_hms_opt(0, 0, 0).map(|d| (d, None));
        }
        // A date alone may carry an offset too (`2024-01-02+01`): midnight there.
        let (time, offset) = parse_time_and_offset(rest)
            .or_else(|| parse_offset(rest).map(|o| (NaiveTime::MIN, Some(o))))?;
        Some((date.and_time(time), offset))
    });
    parsed.ok_or_else(|| invalid(kind, &s))
}

/// A time of day, possibly given with a date in front or an offset behind (both dropped).
fn parse_time_of_day(s: &str) -> Option<NaiveTime> {
    let t = s.trim();
    let t = match t.get(..10).and_then(parse_date) {
        Some(_) => t[10..].trim_start_matches(['T', 't', ' ']),
        None => t,
    };
    parse_time_and_offset(t).map(|(time, _)| time)
}

/// Microseconds: PostgreSQL keeps no more.
fn micros(t: &NaiveTime) -> u32 {
    t.nanosecond() / 1000
}

/// Six digits when there is a fraction, as the MySQL front end stores bound times too: one form for both
/// wires, and text order is time order.
fn fraction(t: &NaiveTime) -> String {
    match micros(t) {
        0 => String::new(),
        us => format!(".{us:06}"),
    }
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]`.
pub fn format_datetime(t: &NaiveDateTime) -> String {
    format!("{}{}", t.format("%Y-%m-%d %H:%M:%S"), fraction(&t.time()))
}

/// `HH:MM:SS[.ffffff]`.
pub fn format_time(t: &NaiveTime) -> String {
    format!("{}{}", t.format("%H:%M:%S"), fraction(t))
}

fn canonical_uuid(s: &str) -> Option<String> {
    let t = s.trim();
    let t = t
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(t);
    let hex: String = t.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    // Hyphens, where given, must sit where a UUID has them (PostgreSQL also takes none at all).
    if t.contains('-') && t.len() != 36 {
        return None;
    }
    let h = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

/// An interval in any of PostgreSQL's input styles, in the `postgres` output style.
pub fn canonical_interval(s: &str) -> Option<String> {
    parse_interval(s).map(|i| i.to_postgres())
}

/// Parses an interval written in PostgreSQL's `postgres`, verbose (`@ 1 day`), ISO 8601 (`P1D`) or SQL
/// standard style; also what Python's `str(timedelta)` writes (`1 day, 2:03:04`).
pub fn parse_interval(s: &str) -> Option<pg_interval::Interval> {
    let t = s.trim().replace(',', "");
    if t.is_empty() {
        return None;
    }
    let t = normalize_interval_units(&t);
    pg_interval::Interval::from_postgres(&t)
        .or_else(|_| pg_interval::Interval::from_postgres_verbose(&t))
        .or_else(|_| pg_interval::Interval::from_iso(&t))
        .or_else(|_| pg_interval::Interval::from_sql(&t))
        .ok()
}

/// Unit names in the spellings the `postgres` style parser knows (PostgreSQL takes more: `mins`, `secs`,
/// `h` ...), and a time part padded to `HH:MM:SS`.
fn normalize_interval_units(t: &str) -> String {
    let words: Vec<String> = t
        .split_whitespace()
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let unit = match lower.as_str() {
                "year" | "years" | "y" | "yr" | "yrs" => "years",
                "mon" | "mons" | "month" | "months" => "months",
                "day" | "days" | "d" => "days",
                "hour" | "hours" | "h" | "hr" | "hrs" => "hours",
                "min" | "mins" | "minute" | "minutes" | "m" => "minutes",
                "sec" | "secs" | "second" | "seconds" | "s" => "seconds",
                _ => "",
            };
            if !unit.is_empty() {
                return unit.to_string();
            }
            // `2:03:04` → `02:03:04`.
            let parts: Vec<&str> = w.split(':').collect();
            if parts.len() >= 2 && parts.iter().all(|p| !p.is_empty()) {
                let (sign, first) = match parts[0].strip_prefix('-') {
                    Some(f) => ("-", f),
                    None => ("", parts[0]),
                };
                let mut out = format!("{sign}{first:0>2}");
                for p in &parts[1..] {
                    out.push(':');
                    out.push_str(&format!("{p:0>2}"));
                }
                if parts.len() == 2 {
                    out.push_str(":00");
                }
                return out;
            }
            w.to_string()
        })
        .collect();
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(kind: ColumnKind, s: &str) -> Result<Value> {
        fit(kind, Value::Text(s.into()))
    }

    fn ok(kind: ColumnKind, s: &str) -> String {
        match text(kind, s) {
            Ok(Value::Text(t)) => t,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn points_in_time_are_stored_in_utc() {
        let k = ColumnKind::DateTime;
        assert_eq!(
            ok(k, "2024-01-02T03:04:05.000+00:00"),
            "2024-01-02 03:04:05"
        );
        assert_eq!(ok(k, "2024-01-02 04:04:05+01"), "2024-01-02 03:04:05");
        assert_eq!(
            ok(k, "2024-01-02T03:04:05.120Z"),
            "2024-01-02 03:04:05.120000"
        );
        assert_eq!(ok(k, "2024-01-01 23:30:00-05:30"), "2024-01-02 05:00:00");
        assert_eq!(ok(k, "2024-01-02"), "2024-01-02 00:00:00");
        assert_eq!(ok(k, "2024-01-02 03:04"), "2024-01-02 03:04:00");
        for bad in ["garbage", "2024-13-02", "2024-01-02 25:00:00", "12", ""] {
            let e = text(k, bad).unwrap_err();
            assert_eq!(e.wire().pg_state, "22007", "{bad}");
        }
        assert!(fit(k, Value::Int(5)).is_err());
    }

    #[test]
    fn timestamps_without_zone_drop_the_offset() {
        assert_eq!(
            ok(ColumnKind::Timestamp, "2024-01-02T03:04:05.000+05:00"),
            "2024-01-02 03:04:05"
        );
        assert_eq!(
            ok(ColumnKind::Timestamp, "2024-01-02 03:04:05.123456"),
            "2024-01-02 03:04:05.123456"
        );
    }

    #[test]
    fn dates_times_uuids_json() {
        assert_eq!(ok(ColumnKind::Date, "2024-01-02"), "2024-01-02");
        assert_eq!(
            ok(ColumnKind::Date, "2024-01-02T00:00:00.000+01:00"),
            "2024-01-02"
        );
        assert_eq!(ok(ColumnKind::Date, "2024-01-02 +00"), "2024-01-02");
        assert!(text(ColumnKind::Date, "2024-02-30").is_err());
        assert!(text(ColumnKind::Date, "2024-01-02xyz").is_err());
        assert_eq!(ok(ColumnKind::Time, "03:04:05.500"), "03:04:05.500000");
        assert_eq!(ok(ColumnKind::Time, "03:04"), "03:04:00");
        assert_eq!(ok(ColumnKind::Time, "03:04:05+02"), "03:04:05");
        assert!(text(ColumnKind::Time, "3 o'clock").is_err());
        assert_eq!(
            ok(ColumnKind::Uuid, "{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}"),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
        );
        assert_eq!(
            ok(ColumnKind::Uuid, "a0eebc999c0b4ef8bb6d6bb9bd380a11"),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
        );
        let e = text(ColumnKind::Uuid, "not-a-uuid").unwrap_err();
        assert_eq!(e.wire().pg_state, "22P02");
        assert_eq!(ok(ColumnKind::Json, r#"{"a": [1, 2]}"#), r#"{"a": [1, 2]}"#);
        assert!(text(ColumnKind::Json, "{oops").is_err());
    }

    #[test]
    fn numbers_and_booleans() {
        assert_eq!(text(ColumnKind::Int, " 42 ").unwrap(), Value::Int(42));
        assert_eq!(text(ColumnKind::Int, "4.0").unwrap(), Value::Int(4));
        assert!(text(ColumnKind::Int, "4.5").is_err());
        assert!(text(ColumnKind::Int, "abc").is_err());
        assert_eq!(
            fit(ColumnKind::Int, Value::Float(2.6)).unwrap(),
            Value::Int(3)
        );
        assert_eq!(text(ColumnKind::Float, "1.5").unwrap(), Value::Float(1.5));
        assert!(text(ColumnKind::Float, "inf").is_err());
        assert_eq!(
            text(ColumnKind::Decimal(2), "12345678.91").unwrap(),
            Value::Text("12345678.91".into())
        );
        assert!(text(ColumnKind::Decimal(2), "1,5").is_err());
        for (s, b) in [
            ("t", 1),
            ("TRUE", 1),
            ("yes", 1),
            ("on", 1),
            ("f", 0),
            ("off", 0),
            ("0", 0),
        ] {
            assert_eq!(text(ColumnKind::Bool, s).unwrap(), Value::Int(b), "{s}");
        }
        assert!(text(ColumnKind::Bool, "maybe").is_err());
    }

    #[test]
    fn intervals_take_every_style() {
        let k = ColumnKind::Interval;
        assert_eq!(ok(k, "1 day 02:03:04"), "1 day 02:03:04");
        assert_eq!(ok(k, "1 day, 2:03:04"), "1 day 02:03:04");
        assert_eq!(ok(k, "3 days"), "3 days");
        assert_eq!(ok(k, "1 minute"), "00:01:00");
        assert_eq!(ok(k, "P1DT2H"), "1 day 02:00:00");
        assert_eq!(ok(k, "00:00:10"), "00:00:10");
        assert!(text(k, "soon").is_err());
    }
}
