//! A statement's bytes as text. MySQL statements are bytes in the connection's character set, and
//! drivers put raw bytes inside `_binary'...'` literals (PyMySQL for `bytes`, Connector/J for
//! `setBytes` in client-side prepares), which are not UTF-8. The SQL layer takes text, so those
//! literals are rewritten as hex literals `X'..'` holding exactly the bytes the client meant.

use tenantry_sql::parser::lexical;

/// The statement text of a COM_QUERY / COM_STMT_PREPARE payload.
pub fn statement_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => String::from_utf8_lossy(&binary_literals_as_hex(bytes)).into_owned(),
    }
}

/// Rewrites every `_binary '...'` outside strings, quoted names and comments as `X'..'`.
fn binary_literals_as_hex(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len() * 2);
    let mut i = 0;
    while i < b.len() {
        // Strings, quoted names and comments are copied as they are.
        if let Some(end) = lexical::opaque_end(b, i) {
            out.extend_from_slice(&b[i..end]);
            i = end;
            continue;
        }
        match b[i] {
            c if is_word(c) => {
                let start = i;
                while i < b.len() && is_word(b[i]) {
                    i += 1;
                }
                let word = &b[start..i];
                if word.eq_ignore_ascii_case(b"_binary") {
                    let mut j = i;
                    while j < b.len() && b[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if b.get(j) == Some(&b'\'') {
                        let (bytes, end) = unescape(b, j);
                        out.extend_from_slice(b"X'");
                        for x in bytes {
                            out.extend_from_slice(format!("{x:02X}").as_bytes());
                        }
                        out.push(b'\'');
                        i = end;
                        continue;
                    }
                }
                out.extend_from_slice(word);
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// The bytes of the single-quoted string at `start` with MySQL's escapes applied, and where it ends.
fn unescape(b: &[u8], start: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' if i + 1 < b.len() => {
                let c = b[i + 1];
                match c {
                    b'0' => out.push(0),
                    b'b' => out.push(0x08),
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'Z' => out.push(0x1A),
                    // MySQL keeps the backslash of \% and \_ (they matter only to LIKE).
                    b'%' | b'_' => out.extend_from_slice(&[b'\\', c]),
                    other => out.push(other),
                }
                i += 2;
            }
            b'\'' if b.get(i + 1) == Some(&b'\'') => {
                out.push(b'\'');
                i += 2;
            }
            b'\'' => return (out, i + 1),
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    (out, b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_statements_pass_untouched() {
        assert_eq!(
            statement_text(b"SELECT _binary'ab', 'caf\xc3\xa9'"),
            "SELECT _binary'ab', 'café'"
        );
    }

    #[test]
    fn raw_bytes_in_binary_literals_become_hex() {
        assert_eq!(
            statement_text(b"INSERT INTO t VALUES (_binary'\\0\xff\\'x', _binary '\x80''')"),
            "INSERT INTO t VALUES (X'00FF2778', X'8027')"
        );
    }

    #[test]
    fn binary_inside_strings_and_comments_is_left_alone() {
        let sql = b"SELECT '_binary''\xff' /* _binary'x' */ -- _binary'y'\n";
        let text = statement_text(sql);
        assert!(text.contains("/* _binary'x' */"), "{text}");
        assert!(text.contains("-- _binary'y'"), "{text}");
        assert!(text.starts_with("SELECT '_binary''"), "{text}");
    }
}
