//! MySQL's lexical skeleton at the byte level: where quoted strings, quoted names and comments begin and end.
//!
//! Two passes run over a statement's raw bytes before sqlparser sees it: the expansion of executable comments
//! ([`crate::exec_comments`]) and the MySQL front end's rewrite of `_binary'...'` literals whose bytes are not
//! UTF-8 (which sqlparser's `&str` tokenizer cannot take). Both must step over exactly what MySQL treats as
//! strings and comments; this module is the one place that knows those rules.

/// Where the quoted string or name opened at `start` ends (just past its closing quote, or the text's end if
/// it is unterminated). The quote is `b[start]` (`'`, `"` or `` ` ``); a doubled quote stays inside, and in
/// strings (not in backquoted names) a backslash escapes the next byte.
pub fn quoted_end(b: &[u8], start: usize) -> usize {
    let q = b[start];
    let mut i = start + 1;
    while i < b.len() {
        if b[i] == b'\\' && q != b'`' {
            i += 2;
        } else if b[i] == q {
            if b.get(i + 1) == Some(&q) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// Whether a line comment starts at `i`: `#`, or `--` followed by whitespace or the end (MySQL's rule:
/// `1--1` is arithmetic).
pub fn line_comment_at(b: &[u8], i: usize) -> bool {
    match b.get(i) {
        Some(b'#') => true,
        Some(b'-') => {
            b.get(i + 1) == Some(&b'-') && b.get(i + 2).is_none_or(|c| c.is_ascii_whitespace())
        }
        _ => false,
    }
}

/// Where the line comment at `start` ends: just past its newline (or the text's end).
pub fn line_end(b: &[u8], start: usize) -> usize {
    b[start..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| start + p + 1)
}

/// Whether a block comment (`/*`) starts at `i`.
pub fn block_comment_at(b: &[u8], i: usize) -> bool {
    b.get(i) == Some(&b'/') && b.get(i + 1) == Some(&b'*')
}

/// Where the block comment whose body starts at `from` (just after its `/*`) ends: just past its `*/`, or the
/// text's end. MySQL's block comments do not nest.
pub fn block_comment_end(b: &[u8], from: usize) -> usize {
    b.get(from..)
        .and_then(|rest| rest.windows(2).position(|w| w == b"*/"))
        .map_or(b.len(), |p| from + p + 2)
}

/// If a quoted string or name, or a comment, starts at `i`: where it ends (see the functions above).
pub fn opaque_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'\'' | b'"' | b'`' => Some(quoted_end(b, i)),
        _ if line_comment_at(b, i) => Some(line_end(b, i)),
        _ if block_comment_at(b, i) => Some(block_comment_end(b, i + 2)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sections `opaque_end` finds in `sql`, as text.
    fn sections(sql: &str) -> Vec<&str> {
        let b = sql.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match opaque_end(b, i) {
                Some(end) => {
                    out.push(&sql[i..end]);
                    i = end;
                }
                None => i += 1,
            }
        }
        out
    }

    #[test]
    fn strings_names_and_comments() {
        assert_eq!(
            sections("SELECT 'a''b', \"c\\\"d\", `e``f` # g\n-- h\n/* i */ 1--1"),
            vec![
                "'a''b'",
                "\"c\\\"d\"",
                "`e``f`",
                "# g\n",
                "-- h\n",
                "/* i */"
            ]
        );
    }

    #[test]
    fn a_backslash_escapes_in_strings_only() {
        assert_eq!(sections(r"'a\'b' `c\` d"), vec![r"'a\'b'", r"`c\`"]);
    }

    #[test]
    fn unterminated_sections_end_at_the_end() {
        assert_eq!(sections("SELECT 'abc"), vec!["'abc"]);
        assert_eq!(sections("SELECT /* abc"), vec!["/* abc"]);
        assert_eq!(sections("SELECT 1 -- abc"), vec!["-- abc"]);
        assert_eq!(sections("SELECT 1 --"), vec!["--"]);
        assert_eq!(sections("'\\"), vec!["'\\"]);
    }
}
