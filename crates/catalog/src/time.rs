//! Times as the catalog stores and the views show them: `YYYY-MM-DD HH:MM:SS.ffffff` (UTC).

use std::sync::LazyLock;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Utc};

/// The format, parsed once: views format a time per row and column (SHOW JOBS: four per job).
static FORMAT: LazyLock<Vec<Item<'static>>> =
    LazyLock::new(|| StrftimeItems::new("%Y-%m-%d %H:%M:%S%.6f").collect());

/// A time as `YYYY-MM-DD HH:MM:SS.ffffff`.
pub fn format_timestamp(at: DateTime<Utc>) -> String {
    at.format_with_items(FORMAT.iter()).to_string()
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
}
