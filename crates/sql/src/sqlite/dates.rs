//! MySQL's date and time functions (DATE_ADD and INTERVAL arithmetic, DATE_FORMAT, STR_TO_DATE, NOW(n),
//! casts to DATE / DATETIME / TIME), on the text forms the tables keep (`YYYY-MM-DD[ HH:MM:SS[.ffffff]]`).
//! The translator (`translate/functions.rs`) turns MySQL's syntax into calls of the functions here.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use rusqlite::functions::Context;
use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::functions::{text_of, DETERMINISTIC, VOLATILE};

/// A date or date-time read from its text, with whether it had a time part and how many fractional digits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moment {
    /// The point in time (midnight for a date).
    pub at: NaiveDateTime,
    /// Whether the text had a time of day.
    pub has_time: bool,
    /// Fractional digits written.
    pub digits: u8,
}

/// Reads `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS[.f]]` (or with `T`), as MySQL accepts them in date contexts.
pub fn parse_moment(s: &str) -> Option<Moment> {
    let s = s.trim();
    let (date, time) = match s.split_once([' ', 'T']) {
        Some((d, t)) => (d, Some(t.trim())),
        None => (s, None),
    };
    let mut parts = date.splitn(3, '-');
    let y: i32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    let day = NaiveDate::from_ymd_opt(y, m, d)?;
    let Some(time) = time.filter(|t| !t.is_empty()) else {
        return Some(Moment {
            at: day.and_hms_opt(0, 0, 0)?,
            has_time: false,
            digits: 0,
        });
    };
    let (hms, micros, digits) = split_fraction(time)?;
    let mut p = hms.splitn(3, ':');
    let h: u32 = p.next()?.parse().ok()?;
    let mi: u32 = p.next().unwrap_or("0").parse().ok()?;
    let sec: u32 = p.next().unwrap_or("0").parse().ok()?;
    Some(Moment {
        at: day.and_time(NaiveTime::from_hms_micro_opt(h, mi, sec, micros)?),
        has_time: true,
        digits,
    })
}

/// `HH:MM:SS.ffffff` → (`HH:MM:SS`, microseconds, digits written).
fn split_fraction(t: &str) -> Option<(&str, u32, u8)> {
    match t.split_once('.') {
        None => Some((t, 0, 0)),
        Some((hms, frac)) => {
            if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let six: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
            Some((hms, six.parse().ok()?, frac.len().min(6) as u8))
        }
    }
}

/// A MySQL TIME value (`[-]H+:MM:SS[.f]`, a duration of up to 838 hours) as signed microseconds.
fn parse_duration(s: &str) -> Option<(i64, u8)> {
    let s = s.trim();
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    // A date-time given where a time is wanted keeps its time of day.
    if let Some(m) = parse_moment(body).filter(|m| m.has_time && !negative) {
        let t = m.at.time();
        return Some((
            i64::from(t.num_seconds_from_midnight()) * 1_000_000 + i64::from(t.nanosecond() / 1000),
            m.digits,
        ));
    }
    let (hms, micros, digits) = split_fraction(body)?;
    let mut p = hms.splitn(3, ':');
    let h: i64 = p.next()?.parse().ok()?;
    let mi: i64 = p.next()?.parse().ok()?;
    let sec: i64 = p.next().unwrap_or("0").parse().ok()?;
    if mi > 59 || sec > 59 {
        return None;
    }
    let total = ((h * 60 + mi) * 60 + sec) * 1_000_000 + i64::from(micros);
    Some((if negative { -total } else { total }, digits))
}

fn format_duration(micros: i64, digits: u8) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let m = micros.unsigned_abs();
    let secs = m / 1_000_000;
    let mut out = format!(
        "{sign}{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    push_fraction(&mut out, (m % 1_000_000) as u32, digits);
    out
}

fn push_fraction(out: &mut String, micros: u32, digits: u8) {
    if digits > 0 {
        let six = format!("{micros:06}");
        out.push('.');
        out.push_str(&six[..usize::from(digits.min(6))]);
    }
}

/// A date-time as MySQL prints it, with `digits` fractional digits.
pub fn format_moment(at: NaiveDateTime, digits: u8) -> String {
    let mut out = at.format("%Y-%m-%d %H:%M:%S").to_string();
    push_fraction(&mut out, at.nanosecond() / 1000 % 1_000_000, digits);
    out
}

/// The units of MySQL's `INTERVAL n unit` that the parser reads (composite units such as HOUR_MINUTE are not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Microsecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Unit {
    fn parse(name: &str) -> Option<Unit> {
        Some(match name.to_ascii_uppercase().trim_end_matches('S') {
            "MICROSECOND" => Unit::Microsecond,
            "SECOND" => Unit::Second,
            "MINUTE" => Unit::Minute,
            "HOUR" => Unit::Hour,
            "DAY" => Unit::Day,
            "WEEK" => Unit::Week,
            "MONTH" => Unit::Month,
            "QUARTER" => Unit::Quarter,
            "YEAR" => Unit::Year,
            _ => return None,
        })
    }
}

/// `DATE_ADD(value, INTERVAL amount unit)`, MySQL's way: a DATE stays a DATE for units of a day or more,
/// adding months clamps to the month's last day (2024-01-31 + 1 MONTH = 2024-02-29), NULL for what is not a date.
fn date_add(value: &str, amount: i64, unit: Unit) -> Option<String> {
    let m = parse_moment(value)?;
    let months = match unit {
        Unit::Month => Some(amount),
        Unit::Quarter => amount.checked_mul(3),
        Unit::Year => amount.checked_mul(12),
        _ => None,
    };
    let at = match months {
        Some(n) => add_months(m.at, n)?,
        None => {
            let d = match unit {
                Unit::Microsecond => Duration::microseconds(amount),
                Unit::Second => Duration::try_seconds(amount)?,
                Unit::Minute => Duration::try_minutes(amount)?,
                Unit::Hour => Duration::try_hours(amount)?,
                Unit::Day => Duration::try_days(amount)?,
                _ => Duration::try_weeks(amount)?,
            };
            m.at.checked_add_signed(d)?
        }
    };
    if !(1..=9999).contains(&at.year()) {
        return None;
    }
    let coarse = matches!(
        unit,
        Unit::Day | Unit::Week | Unit::Month | Unit::Quarter | Unit::Year
    );
    if !m.has_time && coarse {
        return Some(at.format("%Y-%m-%d").to_string());
    }
    let digits = if unit == Unit::Microsecond || at.nanosecond() != 0 {
        6
    } else {
        m.digits
    };
    Some(format_moment(at, digits))
}

fn add_months(at: NaiveDateTime, n: i64) -> Option<NaiveDateTime> {
    let total = i64::from(at.year()) * 12 + i64::from(at.month0()) + n;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12));
    let year = i32::try_from(year).ok()?;
    let month = month0 as u32 + 1;
    let last = (28..=31)
        .rev()
        .find(|d| NaiveDate::from_ymd_opt(year, month, *d).is_some())?;
    let date = NaiveDate::from_ymd_opt(year, month, at.day().min(last))?;
    Some(date.and_time(at.time()))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// MySQL's DATE_FORMAT specifiers (`%Y-%m-%d %H:%i:%s`, `%W`, `%M`, ...); an unknown `%x` prints `x`, as MySQL does.
pub fn date_format(at: NaiveDateTime, fmt: &str) -> String {
    let mut out = String::new();
    let mut chars = fmt.chars();
    let hour12 = if at.hour().is_multiple_of(12) {
        12
    } else {
        at.hour() % 12
    };
    let weekday = at.weekday().num_days_from_monday() as usize;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else { break };
        let piece = match spec {
            'a' => DAYS[weekday][..3].to_string(),
            'b' => MONTHS[at.month0() as usize][..3].to_string(),
            'c' => at.month().to_string(),
            'D' => {
                let d = at.day();
                let suffix = match (d % 10, d % 100) {
                    (_, 11..=13) => "th",
                    (1, _) => "st",
                    (2, _) => "nd",
                    (3, _) => "rd",
                    _ => "th",
                };
                format!("{d}{suffix}")
            }
            'd' => format!("{:02}", at.day()),
            'e' => at.day().to_string(),
            'f' => format!("{:06}", at.nanosecond() / 1000 % 1_000_000),
            'H' => format!("{:02}", at.hour()),
            'h' | 'I' => format!("{hour12:02}"),
            'i' => format!("{:02}", at.minute()),
            'j' => format!("{:03}", at.ordinal()),
            'k' => at.hour().to_string(),
            'l' => hour12.to_string(),
            'M' => MONTHS[at.month0() as usize].to_string(),
            'm' => format!("{:02}", at.month()),
            'p' => (if at.hour() < 12 { "AM" } else { "PM" }).to_string(),
            'r' => format!(
                "{hour12:02}:{:02}:{:02} {}",
                at.minute(),
                at.second(),
                if at.hour() < 12 { "AM" } else { "PM" }
            ),
            'S' | 's' => format!("{:02}", at.second()),
            'T' => at.format("%H:%M:%S").to_string(),
            'U' => at.format("%U").to_string(),
            'u' => at.format("%W").to_string(),
            'V' => format!("{:02}", at.iso_week().week()),
            'v' => format!("{:02}", at.iso_week().week()),
            'W' => DAYS[weekday].to_string(),
            'w' => at.weekday().num_days_from_sunday().to_string(),
            'X' | 'x' => format!("{:04}", at.iso_week().year()),
            'Y' => format!("{:04}", at.year()),
            'y' => format!("{:02}", at.year() % 100),
            other => other.to_string(),
        };
        out.push_str(&piece);
    }
    out
}

/// What STR_TO_DATE's format asks for.
#[derive(Default)]
struct Wanted {
    date: bool,
    time: bool,
    fraction: bool,
}

/// MySQL's STR_TO_DATE format as chrono's, and which parts it has.
fn chrono_format(fmt: &str) -> (String, Wanted) {
    let mut out = String::new();
    let mut w = Wanted::default();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else { break };
        let (piece, date) = match spec {
            'Y' => ("%Y", Some(true)),
            'y' => ("%y", Some(true)),
            'm' | 'c' => ("%m", Some(true)),
            'd' | 'e' => ("%d", Some(true)),
            'M' => ("%B", Some(true)),
            'b' => ("%b", Some(true)),
            'W' => ("%A", Some(true)),
            'a' => ("%a", Some(true)),
            'j' => ("%j", Some(true)),
            'H' | 'k' => ("%H", Some(false)),
            'h' | 'I' | 'l' => ("%I", Some(false)),
            'i' => ("%M", Some(false)),
            'S' | 's' => ("%S", Some(false)),
            'p' => ("%p", Some(false)),
            'T' => ("%H:%M:%S", Some(false)),
            'r' => ("%I:%M:%S %p", Some(false)),
            'f' => {
                w.fraction = true;
                ("%6f", Some(false))
            }
            '%' => ("%%", None),
            _ => ("", None),
        };
        match date {
            Some(true) => w.date = true,
            Some(false) => w.time = true,
            None => {}
        }
        out.push_str(piece);
    }
    (out, w)
}

/// `STR_TO_DATE(text, format)`: a DATE, DATETIME or TIME by what the format has; NULL if the text does not match.
fn str_to_date(text: &str, fmt: &str) -> Option<String> {
    use chrono::format::{parse, Parsed, StrftimeItems};
    let (cf, wanted) = chrono_format(fmt);
    let mut parsed = Parsed::new();
    parse(&mut parsed, text.trim(), StrftimeItems::new(&cf)).ok()?;
    let digits = if wanted.fraction { 6 } else { 0 };
    let time = || -> Option<NaiveTime> {
        if parsed.hour_div_12.is_none() && parsed.hour_mod_12.is_some() {
            // `%I` without `%p`: MySQL reads the hour as written.
            let mut p = parsed.clone();
            p.set_ampm(false).ok()?;
            return p.to_naive_time().ok();
        }
        parsed.to_naive_time().ok()
    };
    match (wanted.date, wanted.time) {
        (true, true) => Some(format_moment(
            parsed.to_naive_date().ok()?.and_time(time()?),
            digits,
        )),
        (true, false) => Some(parsed.to_naive_date().ok()?.format("%Y-%m-%d").to_string()),
        (false, true) => {
            let t = time()?;
            let micros = i64::from(t.num_seconds_from_midnight()) * 1_000_000
                + i64::from(t.nanosecond() / 1000);
            Some(format_duration(micros, digits))
        }
        (false, false) => None,
    }
}

/// The current time in UTC (the server's time zone) with `digits` fractional digits (NOW(6)).
fn now_with(digits: i64) -> rusqlite::Result<String> {
    if !(0..=6).contains(&digits) {
        return Err(rusqlite::Error::UserFunctionError(
            format!("Too big precision {digits} specified. Maximum is 6.").into(),
        ));
    }
    Ok(format_moment(chrono::Utc::now().naive_utc(), digits as u8))
}

fn text_arg(ctx: &Context, i: usize) -> rusqlite::Result<Option<String>> {
    text_of(ctx, i)
}

/// Seconds since the epoch of a date or date-time in UTC; with a fraction when the text had one.
fn unix_seconds(m: &Moment) -> rusqlite::types::Value {
    let ts = m.at.and_utc();
    if m.digits > 0 {
        rusqlite::types::Value::Real(ts.timestamp_micros() as f64 / 1e6)
    } else {
        rusqlite::types::Value::Integer(ts.timestamp())
    }
}

/// Registers the date and time functions on `conn`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    for name in [
        "now",
        "sysdate",
        "localtime",
        "localtimestamp",
        "utc_timestamp",
        "current_timestamp",
    ] {
        conn.create_scalar_function(name, 0, VOLATILE, |_| now_with(0))?;
        conn.create_scalar_function(name, 1, VOLATILE, |ctx| now_with(ctx.get(0)?))?;
    }
    for name in ["curdate", "utc_date"] {
        conn.create_scalar_function(name, 0, VOLATILE, |_| {
            Ok(chrono::Utc::now().format("%Y-%m-%d").to_string())
        })?;
    }
    for name in ["curtime", "utc_time"] {
        conn.create_scalar_function(name, 0, VOLATILE, |_| {
            Ok(chrono::Utc::now().format("%H:%M:%S").to_string())
        })?;
    }
    for name in ["curtime", "utc_time", "current_time"] {
        conn.create_scalar_function(name, 1, VOLATILE, |ctx| {
            let now = now_with(ctx.get(0)?)?;
            Ok(now.split_once(' ').map(|(_, t)| t.to_string()))
        })?;
    }
    // tenantry_date_add(value, amount, unit, sign): DATE_ADD / DATE_SUB / `± INTERVAL` (translate/functions.rs).
    conn.create_scalar_function("tenantry_date_add", 4, DETERMINISTIC, |ctx| {
        let (Some(value), Some(unit)) = (text_arg(ctx, 0)?, text_arg(ctx, 2)?) else {
            return Ok(None);
        };
        let unit = Unit::parse(&unit).ok_or_else(|| {
            rusqlite::Error::UserFunctionError(format!("unsupported INTERVAL unit {unit}").into())
        })?;
        let amount = match ctx.get_raw(1) {
            ValueRef::Null => return Ok(None),
            ValueRef::Integer(n) => n,
            ValueRef::Real(f) => f.round() as i64,
            other => match std::str::from_utf8(other.as_bytes()?)
                .ok()
                .and_then(|s| s.trim().parse::<f64>().ok())
            {
                Some(f) => f.round() as i64,
                None => return Ok(None),
            },
        };
        let sign: i64 = ctx.get(3)?;
        Ok(amount
            .checked_mul(sign)
            .and_then(|a| date_add(&value, a, unit)))
    })?;
    conn.create_scalar_function("date_format", 2, DETERMINISTIC, |ctx| {
        let (Some(value), Some(fmt)) = (text_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(parse_moment(&value).map(|m| date_format(m.at, &fmt)))
    })?;
    conn.create_scalar_function("str_to_date", 2, DETERMINISTIC, |ctx| {
        let (Some(text), Some(fmt)) = (text_arg(ctx, 0)?, text_arg(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(str_to_date(&text, &fmt))
    })?;
    conn.create_scalar_function("unix_timestamp", 0, VOLATILE, |_| {
        Ok(chrono::Utc::now().timestamp())
    })?;
    conn.create_scalar_function("unix_timestamp", 1, DETERMINISTIC, |ctx| {
        Ok(text_arg(ctx, 0)?
            .and_then(|t| parse_moment(&t))
            .map(|m| unix_seconds(&m)))
    })?;
    conn.create_scalar_function("from_unixtime", 1, DETERMINISTIC, |ctx| {
        let secs: Option<f64> = ctx.get(0)?;
        Ok(from_unix(secs).map(|(at, digits)| format_moment(at, digits)))
    })?;
    conn.create_scalar_function("from_unixtime", 2, DETERMINISTIC, |ctx| {
        let secs: Option<f64> = ctx.get(0)?;
        let fmt = text_arg(ctx, 1)?;
        Ok(from_unix(secs)
            .zip(fmt)
            .map(|((at, _), f)| date_format(at, &f)))
    })?;
    // CAST(x AS DATE | DATETIME[(n)] | TIME[(n)]): NULL for what is not one (MySQL warns and gives NULL).
    conn.create_scalar_function("tenantry_cast_date", 1, DETERMINISTIC, |ctx| {
        Ok(text_arg(ctx, 0)?
            .and_then(|t| parse_moment(&t))
            .map(|m| m.at.format("%Y-%m-%d").to_string()))
    })?;
    // A cast to fewer fraction digits rounds, as MySQL 8 and PostgreSQL do (03.7 to 0 digits is 04).
    conn.create_scalar_function("tenantry_cast_datetime", 2, DETERMINISTIC, |ctx| {
        let digits = ctx.get::<i64>(1)?.clamp(0, 6) as u8;
        Ok(text_arg(ctx, 0)?
            .and_then(|t| parse_moment(&t))
            .and_then(|m| {
                let micros = m.at.and_utc().timestamp_micros();
                let rounded = round_micros(micros, digits);
                chrono::DateTime::from_timestamp_micros(rounded).map(|d| d.naive_utc())
            })
            .map(|at| format_moment(at, digits)))
    })?;
    conn.create_scalar_function("tenantry_cast_time", 2, DETERMINISTIC, |ctx| {
        let digits = ctx.get::<i64>(1)?.clamp(0, 6) as u8;
        Ok(text_arg(ctx, 0)?
            .and_then(|t| parse_duration(&t))
            .map(|(micros, _)| format_duration(round_micros(micros, digits), digits)))
    })?;
    Ok(())
}

/// `micros` rounded half away from zero to `digits` fraction digits.
fn round_micros(micros: i64, digits: u8) -> i64 {
    let unit = 10i64.pow(6 - u32::from(digits.min(6)));
    let half = unit / 2;
    if micros >= 0 {
        (micros + half) / unit * unit
    } else {
        -((-micros + half) / unit * unit)
    }
}

/// FROM_UNIXTIME's argument as a UTC date-time, with six digits when it has a fraction.
fn from_unix(secs: Option<f64>) -> Option<(NaiveDateTime, u8)> {
    let secs = secs.filter(|s| *s >= 0.0 && s.is_finite())?;
    let micros = (secs * 1e6).round() as i64;
    let at = chrono::DateTime::from_timestamp_micros(micros)?.naive_utc();
    Some((at, if micros % 1_000_000 != 0 { 6 } else { 0 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_round_to_their_fraction_digits() {
        assert_eq!(round_micros(3_700_000, 0), 4_000_000);
        assert_eq!(round_micros(3_400_000, 0), 3_000_000);
        assert_eq!(round_micros(3_250_000, 1), 3_300_000);
        assert_eq!(round_micros(-3_700_000, 0), -4_000_000);
        assert_eq!(round_micros(123_456, 6), 123_456);
    }

    #[test]
    fn interval_arithmetic_follows_mysql() {
        assert_eq!(
            date_add("2024-01-31", 1, Unit::Month).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(
            date_add("2024-03-01 10:00:00", -2, Unit::Hour).as_deref(),
            Some("2024-03-01 08:00:00")
        );
        assert_eq!(
            date_add("2024-01-01", 30, Unit::Second).as_deref(),
            Some("2024-01-01 00:00:30")
        );
        assert_eq!(
            date_add("2024-12-31", 1, Unit::Day).as_deref(),
            Some("2025-01-01")
        );
        assert_eq!(date_add("junk", 1, Unit::Day), None);
    }

    #[test]
    fn formats_and_parses_like_mysql() {
        let at = parse_moment("2024-03-05 14:07:09").unwrap().at;
        assert_eq!(
            date_format(at, "%Y-%m-%d %H:%i:%s %W %M %b %a %j %p %e %c %D"),
            "2024-03-05 14:07:09 Tuesday March Mar Tue 065 PM 5 3 5th"
        );
        assert_eq!(
            str_to_date("05/03/2024", "%d/%m/%Y").as_deref(),
            Some("2024-03-05")
        );
        assert_eq!(
            str_to_date("2024-03-05 14:07:09", "%Y-%m-%d %H:%i:%s").as_deref(),
            Some("2024-03-05 14:07:09")
        );
        assert_eq!(str_to_date("nope", "%Y"), None);
    }
}
