//! MySQL functions SQLite lacks (or has with other semantics), registered on every session connection.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::Connection;

pub(super) const DETERMINISTIC: FunctionFlags =
    FunctionFlags::SQLITE_UTF8.union(FunctionFlags::SQLITE_DETERMINISTIC);
pub(super) const VOLATILE: FunctionFlags = FunctionFlags::SQLITE_UTF8;

/// Compiled REGEXP patterns are kept per call site (SQLite's auxiliary data) rather than per row.
type CachedRegex = Result<regex::Regex, String>;

/// Registers the functions on `conn`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    super::dates::register(conn)?;
    // MySQL's CONCAT is NULL if any argument is NULL (SQLite's treats NULL as empty).
    conn.create_scalar_function("concat", -1, DETERMINISTIC, |ctx| {
        let mut out = String::new();
        for i in 0..ctx.len() {
            match text_of(ctx, i)? {
                Some(s) => out.push_str(&s),
                None => return Ok(None),
            }
        }
        Ok(Some(out))
    })?;
    // CONCAT_WS(separator, ...): NULL arguments are skipped; a NULL separator makes it NULL.
    conn.create_scalar_function("concat_ws", -1, DETERMINISTIC, |ctx| {
        let Some(sep) = (if ctx.is_empty() {
            None
        } else {
            text_of(ctx, 0)?
        }) else {
            return Ok(None);
        };
        let mut parts = Vec::new();
        for i in 1..ctx.len() {
            if let Some(s) = text_of(ctx, i)? {
                parts.push(s);
            }
        }
        Ok(Some(parts.join(&sep)))
    })?;
    // `x REGEXP pattern` (SQLite calls regexp(pattern, x)): case-insensitive, as MySQL's with its default
    // collation; a bad pattern is an error naming it.
    conn.create_scalar_function("regexp", 2, DETERMINISTIC, |ctx| {
        let (Some(pattern), Some(text)) = (text_of(ctx, 0)?, text_of(ctx, 1)?) else {
            return Ok(None);
        };
        let re = ctx.get_or_create_aux(0, |_| -> rusqlite::Result<CachedRegex> {
            Ok(regex::RegexBuilder::new(&pattern)
                .case_insensitive(true)
                .build()
                .map_err(|e| e.to_string()))
        })?;
        match re.as_ref() {
            Ok(re) => Ok(Some(re.is_match(&text))),
            Err(e) => Err(rusqlite::Error::UserFunctionError(
                format!("Illegal argument to a regular expression: {e}").into(),
            )),
        }
    })?;
    // CAST(x AS SIGNED | UNSIGNED): a number rounds (MySQL rounds 2.5 to 3), a text gives its leading integer.
    conn.create_scalar_function("tenantry_cast_signed", 1, DETERMINISTIC, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Null => None,
            ValueRef::Integer(i) => Some(i),
            ValueRef::Real(f) => Some(f.round() as i64),
            ValueRef::Text(b) | ValueRef::Blob(b) => {
                Some(leading_integer(&String::from_utf8_lossy(b)))
            }
        })
    })?;
    conn.create_aggregate_function(
        "tenantry_group_concat_distinct",
        2,
        DETERMINISTIC,
        DistinctConcat,
    )?;
    conn.create_scalar_function("left", 2, DETERMINISTIC, |ctx| {
        let s = text_of(ctx, 0)?;
        let n: i64 = ctx.get(1)?;
        Ok(s.map(|s| s.chars().take(n.max(0) as usize).collect::<String>()))
    })?;
    conn.create_scalar_function("right", 2, DETERMINISTIC, |ctx| {
        let s = text_of(ctx, 0)?;
        let n: i64 = ctx.get(1)?;
        Ok(s.map(|s| {
            let len = s.chars().count();
            s.chars()
                .skip(len.saturating_sub(n.max(0) as usize))
                .collect::<String>()
        }))
    })?;
    // MySQL's `TRIM([BOTH | LEADING | TRAILING] remstr FROM s)`: remstr is removed as a whole string, as often
    // as it repeats at that end (SQLite's trim removes any of a set of characters, PostgreSQL's meaning).
    conn.create_scalar_function("tenantry_trim", 3, DETERMINISTIC, |ctx| {
        let (Some(s), Some(remstr)) = (text_of(ctx, 0)?, text_of(ctx, 1)?) else {
            return Ok(None);
        };
        let mode: i64 = ctx.get(2)?;
        if remstr.is_empty() {
            return Ok(Some(s));
        }
        let mut rest = s.as_str();
        if mode != 2 {
            while let Some(r) = rest.strip_prefix(remstr.as_str()) {
                rest = r;
            }
        }
        if mode != 1 {
            while let Some(r) = rest.strip_suffix(remstr.as_str()) {
                rest = r;
            }
        }
        Ok(Some(rest.to_string()))
    })?;
    conn.create_scalar_function("if", 3, DETERMINISTIC, |ctx| {
        let cond = truthy(ctx.get_raw(0));
        ctx.get::<SqlValue>(if cond { 1 } else { 2 })
    })?;
    conn.create_scalar_function("rand", 0, VOLATILE, |_| Ok(rand::random::<f64>()))?;
    conn.create_scalar_function("uuid", 0, VOLATILE, |_| {
        let b: [u8; 16] = rand::random();
        Ok(format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_be_bytes([b[4], b[5]]),
            u16::from_be_bytes([b[6], b[7]]) & 0x0fff,
            (u16::from_be_bytes([b[8], b[9]]) & 0x3fff) | 0x8000,
            u64::from_be_bytes([0, 0, b[10], b[11], b[12], b[13], b[14], b[15]])
        ))
    })?;
    for name in ["lcase", "ucase"] {
        let upper = name == "ucase";
        conn.create_scalar_function(name, 1, DETERMINISTIC, move |ctx| {
            Ok(text_of(ctx, 0)?.map(|s| {
                if upper {
                    s.to_uppercase()
                } else {
                    s.to_lowercase()
                }
            }))
        })?;
    }
    for name in ["char_length", "character_length"] {
        conn.create_scalar_function(name, 1, DETERMINISTIC, |ctx| {
            Ok(text_of(ctx, 0)?.map(|s| s.chars().count() as i64))
        })?;
    }
    conn.create_scalar_function("locate", 2, DETERMINISTIC, |ctx| {
        let (needle, hay) = (text_of(ctx, 0)?, text_of(ctx, 1)?);
        Ok(match (needle, hay) {
            (Some(n), Some(h)) => Some(h.find(&n).map_or(0, |i| h[..i].chars().count() as i64 + 1)),
            _ => None,
        })
    })?;
    Ok(())
}

pub(super) fn text_of(ctx: &Context, i: usize) -> rusqlite::Result<Option<String>> {
    Ok(match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(f) => Some(crate::value::format_float(f)),
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
    })
}

/// The integer a text starts with (`' -12abc'` → -12), 0 if none, saturating at the 64-bit bounds.
fn leading_integer(s: &str) -> i64 {
    let s = s.trim_start();
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        let d = i64::from(b - b'0');
        n = n
            .saturating_mul(10)
            .saturating_add(if negative { -d } else { d });
    }
    n
}

fn truthy(v: ValueRef) -> bool {
    match v {
        ValueRef::Null => false,
        ValueRef::Integer(i) => i != 0,
        ValueRef::Real(f) => f != 0.0,
        ValueRef::Text(t) => String::from_utf8_lossy(t)
            .trim()
            .parse::<f64>()
            .is_ok_and(|f| f != 0.0),
        ValueRef::Blob(b) => !b.is_empty(),
    }
}

/// `GROUP_CONCAT(DISTINCT x SEPARATOR s)`: SQLite's DISTINCT aggregates take one argument only, so the
/// distinct values are kept here (in the order the rows come, which honours an ORDER BY in the call).
struct DistinctConcat;

/// The values seen so far, once each, and the separator.
#[derive(Default)]
struct Distinct {
    values: Vec<String>,
    seen: std::collections::HashSet<String>,
    separator: Option<String>,
}

impl rusqlite::functions::Aggregate<Distinct, Option<String>> for DistinctConcat {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Distinct> {
        Ok(Distinct::default())
    }

    fn step(&self, ctx: &mut Context<'_>, acc: &mut Distinct) -> rusqlite::Result<()> {
        if acc.separator.is_none() {
            acc.separator = Some(text_of(ctx, 1)?.unwrap_or_default());
        }
        if let Some(v) = text_of(ctx, 0)? {
            if acc.seen.insert(v.clone()) {
                acc.values.push(v);
            }
        }
        Ok(())
    }

    fn finalize(
        &self,
        _: &mut Context<'_>,
        acc: Option<Distinct>,
    ) -> rusqlite::Result<Option<String>> {
        Ok(acc
            .filter(|d| !d.values.is_empty())
            .map(|d| d.values.join(d.separator.as_deref().unwrap_or(","))))
    }
}
