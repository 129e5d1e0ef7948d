//! Times as the catalog stores and the views show them: `YYYY-MM-DD HH:MM:SS.ffffff` (UTC).

use std::sync::LazyLock;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Datelike, Timelike, Utc};

/// The format, parsed once: views format a time per row and column (SHOW JOBS: four per job).
static FORMAT: LazyLock<Vec<Item<'static>>> =
    LazyLock::new(|| StrftimeItems::new("%Y-%m-%d %H:%M:%S%.6f").collect());

/// A time as `YYYY-MM-DD HH:MM:SS.ffffff`. Written digit by digit for years 0-9999 (chrono's formatter
/// costs more than reading the job row the time comes from); chrono formats the rest.
pub fn format_timestamp(at: DateTime<Utc>) -> String {
    let year = at.year();
    if !(0..=9999).contains(&year) {
        return at.format_with_items(FORMAT.iter()).to_string();
    }
    // A leap second's nanoseconds run past 10^9; chrono shows it as second 60 and so does this.
    let (second, micros) = match at.nanosecond() {
        n if n >= 1_000_000_000 => (60, (n - 1_000_000_000) / 1000),
        n => (at.second(), n / 1000),
    };
    let mut out = [0u8; 26];
    let mut end = 0;
    for (value, digits, separator) in [
        (year as u32, 4, Some(b'-')),
        (at.month(), 2, Some(b'-')),
        (at.day(), 2, Some(b' ')),
        (at.hour(), 2, Some(b':')),
        (at.minute(), 2, Some(b':')),
        (second, 2, Some(b'.')),
        (micros, 6, None),
    ] {
        let mut v = value;
        for place in (end..end + digits).rev() {
            out[place] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        end += digits;
        if let Some(sep) = separator {
            out[end] = sep;
            end += 1;
        }
    }
    // Every byte is an ASCII digit or separator, so nothing is replaced.
    String::from_utf8_lossy(&out).into_owned()
}

/// Microseconds since the epoch as `YYYY-MM-DD HH:MM:SS.ffffff` (empty if out of range).
pub fn micros_timestamp(micros: i64) -> String {
    DateTime::from_timestamp_micros(micros)
        .map(format_timestamp)
        .unwrap_or_default()
}

/// The current time as `YYYY-MM-DD HH:MM:SS.ffffff`.
pub fn now_timestamp() -> String {
    format_timestamp(Utc::now())
}

#[cfg(test)]
mod tests {
    #[test]
    fn microseconds_are_formatted_with_six_digits() {
        assert_eq!(
            super::micros_timestamp(1_764_820_800_000_007),
            "2025-12-04 04:00:00.000007"
        );
        assert_eq!(super::micros_timestamp(i64::MAX), "");
    }

    #[test]
    fn digits_match_chronos_own_formatting() {
        use chrono::{DateTime, NaiveDate};
        let mut samples: Vec<DateTime<chrono::Utc>> = (0..2000i64)
            .map(|i| {
                DateTime::from_timestamp_micros(i * 987_654_321_123 - 62_000_000_000_000_000)
                    .unwrap()
            })
            .collect();
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_micro_opt(23, 59, 59, 1_500_000))
            .unwrap()
            .and_utc();
        samples.push(leap);
        samples.push(DateTime::from_timestamp_micros(253_402_300_800_000_000).unwrap());
        for at in samples {
            assert_eq!(
                super::format_timestamp(at),
                at.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
                "{at:?}"
            );
        }
    }
}
