//! JSON text checked in one linear pass without recursion, so that no nesting depth a client sends can
//! overflow a stack or build a deep tree (serde_json's parser recurses and builds one).
//!
//! The depth limit is SQLite's (its JSON functions refuse deeper documents), so a document the server takes
//! is one every JSON function of the engine can read, and one it refuses is told apart from bad JSON:
//! deeper documents fail as statements nested too deep (MySQL 1436, PostgreSQL 54001), as PostgreSQL's
//! own jsonb input fails with `stack depth limit exceeded`.

/// The deepest nesting of arrays and objects a JSON document may have: SQLite's `JSON_MAX_DEPTH`.
pub const MAX_JSON_DEPTH: usize = 1000;

/// Why a text is not a JSON document the server takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonProblem {
    /// Not JSON (RFC 8259).
    Invalid,
    /// Nested deeper than [`MAX_JSON_DEPTH`].
    TooDeep,
}

/// What the scanner expects next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A value (the document's, an array element, an object member's).
    Value,
    /// A value or the `]` of an empty array.
    ValueOrClose,
    /// An object key or the `}` of an empty object.
    KeyOrClose,
    /// An object key (after a comma).
    Key,
    /// The `:` after a key.
    Colon,
    /// A comma or the close of the innermost container (or the end, at the top).
    CommaOrClose,
}

/// Checks that `text` is one JSON document (RFC 8259) no deeper than [`MAX_JSON_DEPTH`]; linear in its
/// length, with memory bounded by the depth limit.
pub fn check(text: &str) -> Result<(), JsonProblem> {
    let b = text.as_bytes();
    // The open containers, innermost last: true for an object.
    let mut open: Vec<bool> = Vec::new();
    let mut expect = Expect::Value;
    let mut i = 0;
    loop {
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        let Some(&c) = b.get(i) else {
            return if open.is_empty() && expect == Expect::CommaOrClose {
                Ok(())
            } else {
                Err(JsonProblem::Invalid)
            };
        };
        match expect {
            Expect::Value | Expect::ValueOrClose => {
                if c == b']' && expect == Expect::ValueOrClose {
                    open.pop();
                    i += 1;
                    expect = Expect::CommaOrClose;
                    continue;
                }
                match c {
                    b'[' | b'{' => {
                        if open.len() >= MAX_JSON_DEPTH {
                            return Err(JsonProblem::TooDeep);
                        }
                        open.push(c == b'{');
                        i += 1;
                        expect = if c == b'{' {
                            Expect::KeyOrClose
                        } else {
                            Expect::ValueOrClose
                        };
                        continue;
                    }
                    b'"' => i = string_end(b, i)?,
                    b't' => i = literal_end(b, i, b"true")?,
                    b'f' => i = literal_end(b, i, b"false")?,
                    b'n' => i = literal_end(b, i, b"null")?,
                    b'-' | b'0'..=b'9' => i = number_end(b, i)?,
                    _ => return Err(JsonProblem::Invalid),
                }
                expect = Expect::CommaOrClose;
            }
            Expect::KeyOrClose | Expect::Key => {
                if c == b'}' && expect == Expect::KeyOrClose {
                    open.pop();
                    i += 1;
                    expect = Expect::CommaOrClose;
                    continue;
                }
                if c != b'"' {
                    return Err(JsonProblem::Invalid);
                }
                i = string_end(b, i)?;
                expect = Expect::Colon;
            }
            Expect::Colon => {
                if c != b':' {
                    return Err(JsonProblem::Invalid);
                }
                i += 1;
                expect = Expect::Value;
            }
            Expect::CommaOrClose => {
                let object = match open.last() {
                    Some(&o) => o,
                    // Something after the document.
                    None => return Err(JsonProblem::Invalid),
                };
                i += 1;
                expect = match (c, object) {
                    (b',', true) => Expect::Key,
                    (b',', false) => Expect::Value,
                    (b'}', true) | (b']', false) => {
                        open.pop();
                        Expect::CommaOrClose
                    }
                    _ => return Err(JsonProblem::Invalid),
                };
            }
        }
    }
}

/// The index after the string that starts (with its quote) at `start`.
fn string_end(b: &[u8], start: usize) -> Result<usize, JsonProblem> {
    let mut i = start + 1;
    loop {
        match b.get(i) {
            None => return Err(JsonProblem::Invalid),
            Some(b'"') => return Ok(i + 1),
            Some(b'\\') => {
                match b.get(i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                    Some(b'u') => {
                        let hex = b.get(i + 2..i + 6).ok_or(JsonProblem::Invalid)?;
                        if !hex.iter().all(u8::is_ascii_hexdigit) {
                            return Err(JsonProblem::Invalid);
                        }
                        i += 6;
                    }
                    _ => return Err(JsonProblem::Invalid),
                }
                continue;
            }
            // Control characters must be escaped.
            Some(&c) if c < 0x20 => return Err(JsonProblem::Invalid),
            Some(_) => i += 1,
        }
    }
}

fn literal_end(b: &[u8], start: usize, word: &[u8]) -> Result<usize, JsonProblem> {
    if b.get(start..start + word.len()) == Some(word) {
        Ok(start + word.len())
    } else {
        Err(JsonProblem::Invalid)
    }
}

/// The index after the number at `start`: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn number_end(b: &[u8], start: usize) -> Result<usize, JsonProblem> {
    let digits = |from: usize| {
        let mut j = from;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        j
    };
    let mut i = start;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(i),
        _ => return Err(JsonProblem::Invalid),
    }
    if b.get(i) == Some(&b'.') {
        let j = digits(i + 1);
        if j == i + 1 {
            return Err(JsonProblem::Invalid);
        }
        i = j;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let j = digits(i);
        if j == i {
            return Err(JsonProblem::Invalid);
        }
        i = j;
    }
    Ok(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_json_and_refuses_the_rest() {
        for ok in [
            "1",
            " -0.5e+3 ",
            "\"a\\u00e9\\n\"",
            "[]",
            "{}",
            "[1, [2, {\"a\": [true, false, null]}], \"x\"]",
            "{\"a\": {\"b\": []}, \"c\": 1}",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
            assert!(
                serde_json::from_str::<serde_json::Value>(ok).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "",
            "[",
            "]",
            "{",
            "[1,]",
            "[,1]",
            "{\"a\"}",
            "{\"a\":}",
            "{1:2}",
            "{\"a\":1,}",
            "01",
            "1.",
            "1e",
            "-",
            "tru",
            "nul",
            "\"a",
            "\"\\x\"",
            "\"\\u12\"",
            "[1] 2",
            "[1]]",
            "{]",
            "[}",
            "\"a\nb\"",
            "'a'",
            "NaN",
        ] {
            assert_eq!(check(bad), Err(JsonProblem::Invalid), "{bad:?}");
            assert!(
                serde_json::from_str::<serde_json::Value>(bad).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn depth_is_bounded_without_recursion() {
        let nested = |d: usize| format!("{}{}", "[".repeat(d), "]".repeat(d));
        assert_eq!(check(&nested(MAX_JSON_DEPTH)), Ok(()));
        assert_eq!(
            check(&nested(MAX_JSON_DEPTH + 1)),
            Err(JsonProblem::TooDeep)
        );
        // 100,000 levels: refused at the limit, before the rest is read.
        assert_eq!(check(&nested(100_000)), Err(JsonProblem::TooDeep));
        let objects = format!("{}1{}", "{\"a\":".repeat(500), "}".repeat(500));
        assert_eq!(check(&objects), Ok(()));
    }
}
