//! PostgreSQL's interval literals (`INTERVAL '2 days'`, `'1 hour 30 minutes'::interval`, `'01:30:00'`) in
//! MySQL's words (`INTERVAL 2 DAY`), the only interval form the SQL layer reads.

/// Microseconds in each fixed-length unit PostgreSQL spells, by its accepted names.
const FIXED_UNITS: &[(&[&str], i128)] = &[
    (&["microsecond", "microseconds", "us", "usec", "usecs"], 1),
    (
        &["millisecond", "milliseconds", "ms", "msec", "msecs"],
        1_000,
    ),
    (&["second", "seconds", "s", "sec", "secs"], 1_000_000),
    (&["minute", "minutes", "m", "min", "mins"], 60_000_000),
    (&["hour", "hours", "h", "hr", "hrs"], 3_600_000_000),
    (&["day", "days", "d"], 86_400_000_000),
    (&["week", "weeks", "w"], 604_800_000_000),
];

/// Calendar units, which cannot be added up as microseconds.
const CALENDAR_UNITS: &[(&[&str], &str)] = &[
    (&["month", "months", "mon", "mons"], "MONTH"),
    (&["year", "years", "y", "yr", "yrs"], "YEAR"),
];

/// The longest interval text read: anything longer is left for the parser to refuse.
const MAX_LEN: usize = 200;

/// `INTERVAL n UNIT` for a PostgreSQL interval text, `None` when it is not one we can say that way
/// (mixed calendar and clock units, fractions of months, ISO 8601 forms).
pub fn to_mysql(text: &str) -> Option<String> {
    if text.len() > MAX_LEN {
        return None;
    }
    let text = text.trim();
    if let Some(micros) = clock(text) {
        return Some(format!("INTERVAL {micros} MICROSECOND"));
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    // `'5 months'`, `'-1 year'`: one calendar component, a whole number.
    if let [amount, unit] = words.as_slice() {
        let unit = unit.to_ascii_lowercase();
        if let Some((_, name)) = CALENDAR_UNITS
            .iter()
            .find(|(n, _)| n.contains(&unit.as_str()))
        {
            let n: i64 = amount.parse().ok()?;
            return Some(format!("INTERVAL {n} {name}"));
        }
    }
    // Clock components, summed: `'1 day 2 hours'`, `'90 seconds'`, `'1.5 hours'`, `'1 day 01:00:00'`.
    let mut total: i128 = 0;
    let mut rest = words.as_slice();
    while let Some((first, tail)) = rest.split_first() {
        if let Some(micros) = clock(first) {
            total = total.checked_add(micros)?;
            rest = tail;
            continue;
        }
        let (unit, tail) = tail.split_first()?;
        let unit = unit.to_ascii_lowercase();
        let (_, scale) = FIXED_UNITS
            .iter()
            .find(|(n, _)| n.contains(&unit.as_str()))?;
        total = total.checked_add(scaled(first, *scale)?)?;
        rest = tail;
    }
    if words.is_empty() {
        return None;
    }
    Some(format!("INTERVAL {total} MICROSECOND"))
}

/// `[-]hh:mm[:ss[.ffffff]]` in microseconds.
fn clock(text: &str) -> Option<i128> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text),
    };
    let parts: Vec<&str> = body.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let hours: i128 = parts[0].parse().ok()?;
    let minutes: i128 = parts[1].parse().ok()?;
    let seconds = match parts.get(2) {
        Some(s) => scaled(s, 1_000_000)?,
        None => 0,
    };
    if parts[0].starts_with('-') || parts[1].starts_with('-') || seconds < 0 {
        return None;
    }
    let micros = hours * 3_600_000_000 + minutes * 60_000_000 + seconds;
    Some(if negative { -micros } else { micros })
}

/// A decimal number (`1`, `-2`, `1.5`) times `scale`, rounded to a whole number of microseconds.
fn scaled(number: &str, scale: i128) -> Option<i128> {
    let (negative, body) = match number.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, number.strip_prefix('+').unwrap_or(number)),
    };
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
        || whole.len() > 18
    {
        return None;
    }
    let whole: i128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut value = whole.checked_mul(scale)?;
    // Each fractional digit is worth a tenth of the one before; digits past a microsecond are dropped.
    let mut unit = scale;
    for d in fraction.bytes().take(18) {
        unit /= 10;
        value += i128::from(d - b'0') * unit;
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::to_mysql;

    #[test]
    fn postgres_interval_texts_in_mysql_words() {
        let cases = [
            ("1 hour", Some("INTERVAL 3600000000 MICROSECOND")),
            ("2 days", Some("INTERVAL 172800000000 MICROSECOND")),
            ("1 day 2 hours", Some("INTERVAL 93600000000 MICROSECOND")),
            ("1.5 hours", Some("INTERVAL 5400000000 MICROSECOND")),
            ("-30 minutes", Some("INTERVAL -1800000000 MICROSECOND")),
            ("01:30:00", Some("INTERVAL 5400000000 MICROSECOND")),
            ("1 day 01:00", Some("INTERVAL 90000000000 MICROSECOND")),
            ("500 ms", Some("INTERVAL 500000 MICROSECOND")),
            ("3 months", Some("INTERVAL 3 MONTH")),
            ("-1 year", Some("INTERVAL -1 YEAR")),
            ("1 year 2 months", None),
            ("1.5 months", None),
            ("P1D", None),
            ("", None),
            ("1", None),
            ("day 1", None),
            ("99999999999999999999 days", None),
        ];
        for (text, want) in cases {
            assert_eq!(to_mysql(text).as_deref(), want, "{text:?}");
        }
    }
}
