//! CockroachDB's hybrid-logical-clock timestamps as changefeeds print them.

use std::fmt;

/// A timestamp: wall-clock nanoseconds since the Unix epoch and a logical counter that orders events of the
/// same nanosecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Hlc {
    /// Nanoseconds since the Unix epoch.
    pub wall: i64,
    /// Logical ticks within `wall`.
    pub logical: u32,
}

impl Hlc {
    /// The timestamp of `wall` nanoseconds with no logical ticks.
    pub fn at(wall: i64) -> Self {
        Self { wall, logical: 0 }
    }

    /// Now, by the system clock.
    pub fn now() -> Self {
        Self::at(now_nanos())
    }

    /// The next timestamp for an event at wall time `wall`: `wall` itself when it is later than `self`, else one
    /// logical tick after `self`, so timestamps handed out in order never go back (a clock step back included).
    pub fn next(self, wall: i64) -> Self {
        if wall > self.wall {
            Self::at(wall)
        } else {
            Self {
                wall: self.wall,
                logical: self.logical.saturating_add(1),
            }
        }
    }

    /// Parses the decimal form (`1536242855577149065.0000000000`, or whole nanoseconds).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (wall, logical) = match text.split_once('.') {
            Some((w, l)) => (w, l),
            None => (text, "0"),
        };
        if wall.is_empty() || !wall.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if logical.is_empty() || logical.len() > 10 || !logical.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        Some(Self {
            wall: wall.parse().ok()?,
            logical: logical.parse().ok()?,
        })
    }

    /// CockroachDB's other print form, used in `running_status`: `<seconds>.<9-digit nanos>,<logical>`.
    pub fn seconds_form(self) -> String {
        format!(
            "{}.{:09},{}",
            self.wall.div_euclid(1_000_000_000),
            self.wall.rem_euclid(1_000_000_000),
            self.logical
        )
    }

    /// The wall time as microseconds (for timestamps stored as the catalog stores them).
    pub fn micros(self) -> i64 {
        self.wall / 1_000
    }
}

impl fmt::Display for Hlc {
    /// `<wall nanoseconds>.<logical, 10 digits>`, Go's `"%d.%010d"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:010}", self.wall, self.logical)
    }
}

/// Nanoseconds since the Unix epoch, now.
pub fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::Hlc;

    #[test]
    fn prints_and_parses_cockroach_forms() {
        let t = Hlc {
            wall: 1_536_242_855_577_149_065,
            logical: 3,
        };
        assert_eq!(t.to_string(), "1536242855577149065.0000000003");
        assert_eq!(Hlc::parse(&t.to_string()), Some(t));
        assert_eq!(
            Hlc::parse("1655402400000000000"),
            Some(Hlc::at(1_655_402_400_000_000_000))
        );
        assert_eq!(t.seconds_form(), "1536242855.577149065,3");
        for bad in [
            "",
            "x",
            "1.",
            ".1",
            "1.2.3",
            "-5",
            "1.00000000001",
            "99999999999999999999",
        ] {
            assert_eq!(Hlc::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn next_never_goes_back() {
        let t = Hlc::at(100);
        assert_eq!(t.next(200), Hlc::at(200));
        assert_eq!(
            t.next(100),
            Hlc {
                wall: 100,
                logical: 1
            }
        );
        assert_eq!(
            t.next(50),
            Hlc {
                wall: 100,
                logical: 1
            }
        );
    }
}
