//! MySQL's executable comments: `/*! sql */` is SQL, and so is `/*!NNNNN sql */` when the server's
//! version is at least NNNNN (mysqldump writes `/*!40101 SET ... */`); a newer version's comment is a
//! comment. MariaDB's `/*M!NNNNNN ... */` and optimizer hints `/*+ ... */` stay comments, as in MySQL.
//!
//! The comment markers are blanked out in place (replaced by spaces, newlines kept), so every byte offset,
//! line and column of the statement stays where it was: error messages and the administrative grammar's
//! text slices point at what the client sent.

use std::borrow::Cow;

use crate::lexical;

/// The MySQL version executable comments are compared with (`MAJOR * 10000 + MINOR * 100 + PATCH`); the
/// version the server reports, 5.7.25.
pub const MYSQL_VERSION_ID: u32 = 50725;

/// `sql` with executable comments turned into SQL (or into spaces, for a newer version's).
pub fn expand(sql: &str) -> Cow<'_, str> {
    if !sql.contains("/*!") {
        return Cow::Borrowed(sql);
    }
    let mut out = sql.as_bytes().to_vec();
    let b = sql.as_bytes();
    let mut i = 0;
    // Inside an executable comment whose content is SQL: its `*/` ends it.
    let mut in_executable = false;
    while i < b.len() {
        if in_executable && b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            out[i] = b' ';
            out[i + 1] = b' ';
            in_executable = false;
            i += 2;
            continue;
        }
        if lexical::block_comment_at(b, i) {
            let end = lexical::block_comment_end(b, i + 2);
            if b.get(i + 2) == Some(&b'!') {
                let digits = b[i + 3..]
                    .iter()
                    .take(6)
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                // Five digits are a version (5.7's form); six are one too (8.0's longer form).
                let (version, opener) = match digits {
                    5 | 6 => (parse_version(&b[i + 3..i + 3 + digits]), 3 + digits),
                    _ => (0, 3),
                };
                // MySQL does not nest them: an inner one is a comment.
                if version <= MYSQL_VERSION_ID && !in_executable {
                    out[i..i + opener].fill(b' ');
                    in_executable = true;
                    i += opener;
                    continue;
                }
                blank(&mut out[i..end]);
            }
            i = end;
            continue;
        }
        // Strings, quoted names and line comments are stepped over whole.
        i = lexical::opaque_end(b, i).unwrap_or(i + 1);
    }
    // Only ASCII bytes were replaced by ASCII spaces, so the text is still UTF-8.
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(_) => Cow::Borrowed(sql),
    }
}

fn parse_version(digits: &[u8]) -> u32 {
    digits.iter().fold(0u32, |v, d| {
        v.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    })
}

/// Replaces a span with spaces, keeping its line breaks.
fn blank(span: &mut [u8]) {
    for c in span {
        if *c != b'\n' && *c != b'\r' {
            *c = b' ';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::expand;

    /// The expanded text with runs of whitespace made one space.
    fn words(sql: &str) -> String {
        expand(sql).split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn versions_at_or_below_ours_run() {
        assert_eq!(words("/*!40101 SET @a=@@b */;"), "SET @a=@@b ;");
        assert_eq!(words("/*! SELECT 1 */"), "SELECT 1");
        assert_eq!(
            words("/*!40000 ALTER TABLE t DISABLE KEYS */"),
            "ALTER TABLE t DISABLE KEYS"
        );
        assert_eq!(words("SELECT 1 /*!50725 + 1 */"), "SELECT 1 + 1");
        assert_eq!(words("SELECT 1 /*!50725 + '*/' */"), "SELECT 1 + '*/'");
    }

    #[test]
    fn newer_versions_and_other_comments_stay_comments() {
        assert_eq!(words("SELECT 1 /*!80000 + 1 */"), "SELECT 1");
        assert_eq!(words("SELECT 1 /*!100616 + 1 */"), "SELECT 1");
        assert_eq!(words("/*!40101 SELECT 1 /*!40101 + 1 */"), "SELECT 1");
        assert_eq!(
            expand("SELECT 1 /*M!100616 + 1 */"),
            "SELECT 1 /*M!100616 + 1 */"
        );
        assert_eq!(expand("SELECT '/*!1*/'"), "SELECT '/*!1*/'");
        assert_eq!(expand("SELECT 1 -- /*!1*/"), "SELECT 1 -- /*!1*/");
    }

    #[test]
    fn offsets_and_lines_are_kept() {
        let sql = "/*!40103 SET\nTIME_ZONE='+00:00' */";
        let out = expand(sql);
        assert_eq!(out.len(), sql.len());
        assert_eq!(out.lines().count(), 2);
        assert_eq!(out.find("TIME_ZONE"), sql.find("TIME_ZONE"));
    }
}
