//! MySQL functions SQLite lacks (or has with other semantics), registered on every session connection.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::Connection;

const DETERMINISTIC: FunctionFlags =
    FunctionFlags::SQLITE_UTF8.union(FunctionFlags::SQLITE_DETERMINISTIC);
const VOLATILE: FunctionFlags = FunctionFlags::SQLITE_UTF8;

fn now_text(fmt: &str) -> String {
    chrono::Utc::now().format(fmt).to_string()
}

/// Registers the functions on `conn`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    for name in [
        "now",
        "sysdate",
        "localtime",
        "localtimestamp",
        "utc_timestamp",
        "current_timestamp",
    ] {
        conn.create_scalar_function(name, 0, VOLATILE, |_| Ok(now_text("%Y-%m-%d %H:%M:%S")))?;
    }
    for name in ["curdate", "utc_date"] {
        conn.create_scalar_function(name, 0, VOLATILE, |_| Ok(now_text("%Y-%m-%d")))?;
    }
    for name in ["curtime", "utc_time"] {
        conn.create_scalar_function(name, 0, VOLATILE, |_| Ok(now_text("%H:%M:%S")))?;
    }
    conn.create_scalar_function("unix_timestamp", 0, VOLATILE, |_| {
        Ok(chrono::Utc::now().timestamp())
    })?;
    conn.create_scalar_function("unix_timestamp", 1, DETERMINISTIC, |ctx| {
        let text: Option<String> = ctx.get(0)?;
        Ok(text.and_then(|t| {
            chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M:%S")
                .or_else(|_| {
                    chrono::NaiveDateTime::parse_from_str(
                        &format!("{t} 00:00:00"),
                        "%Y-%m-%d %H:%M:%S",
                    )
                })
                .ok()
                .map(|d| d.and_utc().timestamp())
        }))
    })?;
    conn.create_scalar_function("from_unixtime", 1, DETERMINISTIC, |ctx| {
        let secs: Option<i64> = ctx.get(0)?;
        Ok(secs
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
            .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string()))
    })?;
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

fn text_of(ctx: &Context, i: usize) -> rusqlite::Result<Option<String>> {
    Ok(match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(f) => Some(crate::value::format_float(f)),
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
    })
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
