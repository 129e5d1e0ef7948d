//! A cursor over a statement's tokens (sqlparser's MySQL tokenizer) for the administrative grammar.

use sqlparser::dialect::MySqlDialect;
use sqlparser::tokenizer::{Location, Span, Token, TokenWithSpan, Tokenizer};

use crate::error::{ParseError, Result};

/// Tokens of one statement without whitespace and comments, each with its byte offset in the text.
pub struct Cursor<'a> {
    sql: &'a str,
    tokens: Vec<(Token, usize)>,
    /// Each token's span (line and column), for handing the tokens to sqlparser's parser.
    spans: Vec<Span>,
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// Tokenizes `sql`; an unterminated string or quoted name is a syntax error, and so is a statement
    /// nested deeper than [`crate::limits`] allows (checked here, before anything recursive runs).
    pub fn new(sql: &'a str) -> Result<Self> {
        let dialect = MySqlDialect {};
        let tokens = Tokenizer::new(&dialect, sql)
            .tokenize_with_location()
            .map_err(|e| syntax_error_at(sql, e.location))?;
        let mut offsets = Offsets::new(sql);
        let mut kept = Vec::with_capacity(tokens.len());
        let mut spans = Vec::with_capacity(tokens.len());
        for t in tokens {
            if matches!(t.token, Token::Whitespace(_) | Token::EOF) {
                continue;
            }
            kept.push((t.token, offsets.of(t.span.start)));
            spans.push(t.span);
        }
        crate::limits::check_depth(kept.iter().map(|(t, _)| t))?;
        Ok(Self {
            sql,
            tokens: kept,
            spans,
            pos: 0,
        })
    }

    /// All the statement's tokens with their spans, as sqlparser's parser takes them.
    pub fn into_tokens(self) -> Vec<TokenWithSpan> {
        self.tokens
            .into_iter()
            .zip(self.spans)
            .map(|((token, _), span)| TokenWithSpan { token, span })
            .collect()
    }

    /// The next token, if any.
    pub fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }

    /// The token `n` places ahead.
    pub fn peek_nth(&self, n: usize) -> Option<&Token> {
        self.tokens.get(self.pos + n).map(|(t, _)| t)
    }

    /// Whether the next token is the unquoted word `kw` (any case).
    pub fn is_word(&self, kw: &str) -> bool {
        self.is_word_at(0, kw)
    }

    /// Whether the token `n` places ahead is the unquoted word `kw`.
    pub fn is_word_at(&self, n: usize, kw: &str) -> bool {
        matches!(self.peek_nth(n), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw))
    }

    /// Consumes the word `kw` if it is next.
    pub fn eat_word(&mut self, kw: &str) -> bool {
        if self.is_word(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes the words `kws` if all of them come next, else nothing.
    pub fn eat_words(&mut self, kws: &[&str]) -> bool {
        if kws.iter().enumerate().all(|(i, kw)| self.is_word_at(i, kw)) {
            self.pos += kws.len();
            true
        } else {
            false
        }
    }

    /// Consumes the word `kw` or fails with a syntax error.
    pub fn expect_word(&mut self, kw: &str) -> Result<()> {
        if self.eat_word(kw) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    /// Consumes `token` if it is next.
    pub fn eat(&mut self, token: &Token) -> bool {
        if self.peek() == Some(token) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes `token` or fails with a syntax error.
    pub fn expect(&mut self, token: &Token) -> Result<()> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    /// Consumes an optional `=`.
    pub fn eat_eq(&mut self) {
        self.eat(&Token::Eq);
    }

    /// A name: a bare or back-quoted word, or a quoted string (as `CREATE USER 'u'` allows).
    pub fn name(&mut self) -> Result<String> {
        match self.peek() {
            Some(Token::Word(w)) => {
                let v = w.value.clone();
                self.pos += 1;
                Ok(v)
            }
            Some(Token::SingleQuotedString(s)) | Some(Token::DoubleQuotedString(s)) => {
                let v = s.clone();
                self.pos += 1;
                Ok(v)
            }
            _ => Err(self.error()),
        }
    }

    /// A quoted string literal.
    pub fn string(&mut self) -> Result<String> {
        match self.peek() {
            Some(Token::SingleQuotedString(s)) | Some(Token::DoubleQuotedString(s)) => {
                let v = s.clone();
                self.pos += 1;
                Ok(v)
            }
            _ => Err(self.error()),
        }
    }

    /// An unsigned integer literal.
    pub fn integer(&mut self) -> Result<i64> {
        match self.peek() {
            Some(Token::Number(n, _)) => {
                let v = n.parse().map_err(|_| self.error())?;
                self.pos += 1;
                Ok(v)
            }
            _ => Err(self.error()),
        }
    }

    /// A literal value as text: a string, a number (with a unit word glued on, like `5G`) or a bare word.
    pub fn literal_text(&mut self) -> Result<String> {
        match self.peek().cloned() {
            Some(Token::SingleQuotedString(s)) | Some(Token::DoubleQuotedString(s)) => {
                self.pos += 1;
                Ok(s)
            }
            Some(Token::Number(n, _)) => {
                self.pos += 1;
                // `5G` tokenizes as a number followed by a word with no space between.
                if let Some((Token::Word(w), off)) = self.tokens.get(self.pos) {
                    let prev_end = self.tokens[self.pos - 1].1 + n.len();
                    if *off == prev_end && w.quote_style.is_none() {
                        let unit = w.value.clone();
                        self.pos += 1;
                        return Ok(format!("{n}{unit}"));
                    }
                }
                Ok(n)
            }
            Some(Token::Minus) => {
                self.pos += 1;
                Ok(format!("-{}", self.literal_text()?))
            }
            Some(Token::Word(w)) => {
                self.pos += 1;
                Ok(w.value)
            }
            _ => Err(self.error()),
        }
    }

    /// Whether only semicolons are left.
    pub fn at_end(&self) -> bool {
        self.tokens[self.pos..]
            .iter()
            .all(|(t, _)| matches!(t, Token::SemiColon))
    }

    /// Fails with a syntax error unless only semicolons are left.
    pub fn expect_end(&self) -> Result<()> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    /// The statement text from the next token on (without trailing semicolons).
    pub fn rest(&self) -> &'a str {
        match self.tokens.get(self.pos) {
            Some((_, off)) => self.sql[*off..].trim_end().trim_end_matches(';').trim_end(),
            None => "",
        }
    }

    /// The statement's text.
    pub fn sql(&self) -> &'a str {
        self.sql
    }

    /// The tokens from the next one on (with their spans), consumed.
    pub fn take_rest(&mut self) -> Vec<TokenWithSpan> {
        let rest = self.tokens[self.pos..]
            .iter()
            .zip(&self.spans[self.pos..])
            .map(|((token, _), span)| TokenWithSpan {
                token: token.clone(),
                span: *span,
            })
            .collect();
        self.pos = self.tokens.len();
        rest
    }

    /// Skips the next token.
    pub fn advance(&mut self) {
        self.pos += 1;
    }

    /// A syntax error at the next token, worded as MySQL words it.
    pub fn error(&self) -> ParseError {
        match self.tokens.get(self.pos) {
            Some((_, off)) => syntax_error_at_offset(self.sql, *off),
            None => ParseError::Syntax {
                near: String::new(),
                line: self.sql.lines().count().max(1),
            },
        }
    }
}

fn line_starts(sql: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// Byte offsets of locations visited in increasing order: each call walks on from the previous one, so
/// all the tokens of a long one-line statement cost one pass over it, not one pass each.
pub(crate) struct Offsets<'a> {
    sql: &'a str,
    line_starts: Vec<usize>,
    /// The last location found and its byte offset.
    at: (Location, usize),
}

impl<'a> Offsets<'a> {
    pub(crate) fn new(sql: &'a str) -> Self {
        Self {
            sql,
            line_starts: line_starts(sql),
            at: (Location { line: 1, column: 1 }, 0),
        }
    }

    pub(crate) fn of(&mut self, loc: Location) -> usize {
        let (mut cur, mut byte) = self.at;
        if loc.line != cur.line || loc.column < cur.column {
            let line = (loc.line.max(1) - 1) as usize;
            byte = self
                .line_starts
                .get(line)
                .copied()
                .unwrap_or(self.sql.len());
            cur = Location {
                line: loc.line,
                column: 1,
            };
        }
        let skip = (loc.column.max(1) - cur.column.max(1)) as usize;
        crate::work::add(skip as u64 + 1);
        let offset = self.sql[byte..]
            .char_indices()
            .nth(skip)
            .map_or(self.sql.len(), |(i, _)| byte + i);
        self.at = (loc, offset);
        offset
    }
}

fn offset_of(sql: &str, line_starts: &[usize], loc: Location) -> usize {
    let line = (loc.line.max(1) - 1) as usize;
    let start = line_starts.get(line).copied().unwrap_or(sql.len());
    let col = loc.column.max(1) as usize - 1;
    sql[start..]
        .char_indices()
        .nth(col)
        .map_or(sql.len(), |(i, _)| start + i)
}

/// A MySQL-worded syntax error pointing at a line and column of `sql`.
pub fn syntax_error_at(sql: &str, loc: Location) -> ParseError {
    let starts = line_starts(sql);
    syntax_error_at_offset(sql, offset_of(sql, &starts, loc))
}

/// A MySQL-worded syntax error pointing at a byte offset of `sql`.
pub fn syntax_error_at_offset(sql: &str, offset: usize) -> ParseError {
    let offset = offset.min(sql.len());
    let line = sql[..offset].matches('\n').count() + 1;
    let near: String = sql[offset..].chars().take(80).collect();
    ParseError::Syntax { near, line }
}

impl Cursor<'_> {
    /// The text of an expression up to the next top-level comma (or the end), consumed.
    pub fn expression_text(&mut self) -> Result<String> {
        let start = self.pos;
        let mut depth = 0i32;
        while let Some(t) = self.peek() {
            match t {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                Token::Comma if depth == 0 => break,
                Token::SemiColon if depth == 0 => break,
                _ => {}
            }
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error());
        }
        let from = self.tokens[start].1;
        let to = self
            .tokens
            .get(self.pos)
            .map_or(self.sql.len(), |(_, off)| *off);
        Ok(self.sql[from..to].trim().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_strings_and_units() {
        let mut c = Cursor::new("CREATE resource unit u1 MEMORY_SIZE 5G, max_cpu = '4';").unwrap();
        assert!(c.eat_words(&["create", "RESOURCE", "UNIT"]));
        assert_eq!(c.name().unwrap(), "u1");
        assert!(c.eat_word("memory_size"));
        assert_eq!(c.literal_text().unwrap(), "5G");
        assert!(c.eat(&Token::Comma));
        assert!(c.eat_word("MAX_CPU"));
        c.eat_eq();
        assert_eq!(c.literal_text().unwrap(), "4");
        assert!(c.at_end());
    }

    #[test]
    fn syntax_errors_point_at_the_token() {
        let c = Cursor::new("SELECT 1").unwrap();
        match c.error() {
            ParseError::Syntax { near, line } => {
                assert_eq!(near, "SELECT 1");
                assert_eq!(line, 1);
            }
            e => panic!("{e:?}"),
        }
        assert!(matches!(
            Cursor::new("SELECT 'abc"),
            Err(ParseError::Syntax { .. })
        ));
    }
}

/// Splits a text of several statements (a COM_QUERY with CLIENT_MULTI_STATEMENTS) at its top-level `;`
/// tokens, as MySQL's tokenizer sees them (not inside strings, quoted names or comments). Empty statements
/// are dropped. A text that does not tokenize is one statement, so that parsing it reports the error.
pub fn split_statements(sql: &str) -> Vec<&str> {
    // Most texts hold one statement: without a `;` before the end there is nothing to split.
    if !sql.trim_end().trim_end_matches(';').contains(';') {
        return vec![sql];
    }
    let dialect = MySqlDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, sql).tokenize_with_location() else {
        return vec![sql];
    };
    let mut offsets = Offsets::new(sql);
    let mut out = Vec::new();
    let mut start = 0;
    for t in tokens {
        if t.token == Token::SemiColon {
            let at = offsets.of(t.span.start);
            out.push(&sql[start..at]);
            start = at + 1;
        }
    }
    out.push(&sql[start..]);
    out.retain(|s| !s.trim().is_empty());
    if out.is_empty() {
        out.push(sql);
    }
    out
}

#[cfg(test)]
mod split_tests {
    use super::split_statements;

    #[test]
    fn splits_at_top_level_semicolons_only() {
        assert_eq!(
            split_statements("SELECT 1; SELECT 'a;b', `c;d` /* ; */ -- ;\n; SELECT 2;"),
            vec![
                "SELECT 1",
                " SELECT 'a;b', `c;d` /* ; */ -- ;\n",
                " SELECT 2"
            ]
        );
        assert_eq!(split_statements("SELECT 1;"), vec!["SELECT 1;"]);
        assert_eq!(split_statements("SELECT 'x;"), vec!["SELECT 'x;"]);
    }
}
