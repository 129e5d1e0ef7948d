//! Rewriting a statement's string literals for display: the SQL layer shows statements (SHOW PROCESSLIST, job
//! descriptions) with destination URIs stripped of their credentials, and finds those URIs here, as tokens, so
//! that text which only looks like a literal (inside a comment or a quoted identifier) is left alone.

use std::borrow::Cow;

use sqlparser::tokenizer::{Token, Tokenizer};

/// `sql` with every single-quoted string literal for which `rewrite` answers `Some(new)` replaced by `'new'`
/// (quotes doubled), the rest byte for byte. `None` if the statement does not tokenize (an unterminated
/// literal): the caller cannot tell what is a literal and should show none of it.
pub fn rewrite_string_literals<'a>(
    sql: &'a str,
    rewrite: impl Fn(&str) -> Option<String>,
) -> Option<Cow<'a, str>> {
    let dialect = sqlparser::dialect::MySqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .ok()?;
    let mut offsets = crate::cursor::Offsets::new(sql);
    let mut out = String::new();
    let mut copied = 0;
    for t in &tokens {
        let Token::SingleQuotedString(value) = &t.token else {
            continue;
        };
        let Some(new) = rewrite(value) else {
            continue;
        };
        let start = offsets.of(t.span.start);
        let end = offsets.of(t.span.end);
        if start < copied || end > sql.len() || start > end {
            return None;
        }
        out.push_str(&sql[copied..start]);
        out.push('\'');
        out.push_str(&new.replace('\'', "''"));
        out.push('\'');
        copied = end;
    }
    if copied == 0 {
        return Some(Cow::Borrowed(sql));
    }
    out.push_str(&sql[copied..]);
    Some(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upper(s: &str) -> Option<String> {
        s.starts_with("s3://").then(|| s.to_ascii_uppercase())
    }

    #[test]
    fn only_literals_are_rewritten() {
        let sql = "BACKUP INTO 's3://b/x?k=v' /* 's3://c' */ WITH `s3://d`, x = 'plain', y = 'it''s s3://'";
        assert_eq!(
            rewrite_string_literals(sql, upper).unwrap(),
            "BACKUP INTO 'S3://B/X?K=V' /* 's3://c' */ WITH `s3://d`, x = 'plain', y = 'it''s s3://'"
        );
        assert!(matches!(
            rewrite_string_literals("SELECT 1", upper).unwrap(),
            Cow::Borrowed(_)
        ));
        let multi = "SELECT 1,\n  'é', 's3://q'";
        assert_eq!(
            rewrite_string_literals(multi, upper).unwrap(),
            "SELECT 1,\n  'é', 'S3://Q'"
        );
        assert!(rewrite_string_literals("SELECT 's3://open", upper).is_none());
    }
}
