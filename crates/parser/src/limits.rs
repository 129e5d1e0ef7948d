//! Statement limits checked on the token stream, before anything recursive (sqlparser's parser, the
//! translator's visitors, `Display` and `Drop` of the syntax tree) sees the statement.
//!
//! sqlparser parses `a + b + c ...`, `a OR b OR ...` and `SELECT .. UNION SELECT ..` chains in a loop, so
//! its recursion limit does not bound how deep the tree it builds gets: 100,000 terms make a tree
//! 100,000 levels deep, and dropping or printing that overflows a thread's stack. Here one linear pass
//! over the tokens computes an upper bound of the tree's depth and refuses the statement if it is too
//! deep, so no deep tree is ever built.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::Token;

use crate::error::{ParseError, Result};

/// The most a statement may nest brackets (parentheses, subqueries, function calls); also sqlparser's
/// recursion limit, which counts a few levels for each bracket.
pub const MAX_NESTING: usize = 200;

/// The largest depth bound (see [`depth_bound`]) a statement may have. SQLite refuses expressions
/// deeper than 1,000 levels on its own; the bound counts about two tokens per level of a chain
/// (`a = 1 OR ...`), so this refuses nothing SQLite would take.
pub const MAX_DEPTH: usize = 4000;

/// One bracket level of the scan.
#[derive(Default)]
struct Frame {
    /// UNION / EXCEPT / INTERSECT / MINUS at this level: a chain of set operations spans commas.
    set_ops: usize,
    /// Tokens that may add a tree level (operators, keywords) since the last comma at this level.
    segment: usize,
    /// The deepest bracket group closed in the current segment.
    child: usize,
    /// The largest bound of the segments already ended by a comma.
    ended: usize,
}

impl Frame {
    fn end_segment(&mut self) {
        self.ended = self.ended.max(self.segment + self.child);
        self.segment = 0;
        self.child = 0;
    }

    fn bound(&self) -> usize {
        self.set_ops + self.ended.max(self.segment + self.child) + 1
    }
}

/// An upper bound of the depth of the syntax tree of `tokens` (whitespace and comments removed).
///
/// Siblings separated by a comma (select items, arguments, IN lists, VALUES rows) are independent;
/// within a comma-separated segment every token that is not an operand (a literal or a plain name) may
/// add one level, and a bracket group may sit under all of them. The count is linear in the tokens.
pub fn depth_bound<'a>(tokens: impl IntoIterator<Item = &'a Token>) -> Result<usize> {
    let mut stack = vec![Frame::default()];
    for token in tokens {
        crate::work::add(1);
        match token {
            Token::LParen | Token::LBracket | Token::LBrace => {
                if stack.len() > MAX_NESTING {
                    return Err(ParseError::TooDeep {
                        limit: MAX_NESTING,
                        what: "nesting",
                    });
                }
                stack.push(Frame::default());
            }
            Token::RParen | Token::RBracket | Token::RBrace => {
                // An unbalanced closing bracket is the parser's to report.
                if stack.len() > 1 {
                    close(&mut stack);
                }
            }
            Token::Comma | Token::SemiColon => {
                if let Some(top) = stack.last_mut() {
                    top.end_segment();
                }
            }
            Token::Word(w)
                if w.quote_style.is_none()
                    && matches!(
                        w.keyword,
                        Keyword::UNION | Keyword::EXCEPT | Keyword::INTERSECT | Keyword::MINUS
                    ) =>
            {
                if let Some(top) = stack.last_mut() {
                    top.set_ops += 1;
                }
            }
            Token::Word(w) if w.quote_style.is_some() || w.keyword == Keyword::NoKeyword => {}
            Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::NationalStringLiteral(_)
            | Token::HexStringLiteral(_)
            | Token::SingleQuotedByteStringLiteral(_)
            | Token::DoubleQuotedByteStringLiteral(_)
            | Token::Placeholder(_)
            | Token::Whitespace(_)
            | Token::EOF => {}
            _ => {
                if let Some(top) = stack.last_mut() {
                    top.segment += 1;
                }
            }
        }
    }
    while stack.len() > 1 {
        close(&mut stack);
    }
    Ok(stack.last().map_or(0, Frame::bound))
}

fn close(stack: &mut Vec<Frame>) {
    if let Some(inner) = stack.pop() {
        let bound = inner.bound();
        if let Some(outer) = stack.last_mut() {
            outer.child = outer.child.max(bound);
        }
    }
}

/// Refuses a statement whose syntax tree could be deeper than [`MAX_DEPTH`].
pub fn check_depth<'a>(tokens: impl IntoIterator<Item = &'a Token>) -> Result<()> {
    let bound = depth_bound(tokens)?;
    if bound > MAX_DEPTH {
        return Err(ParseError::TooDeep {
            limit: MAX_DEPTH,
            what: "expression depth",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::MySqlDialect;
    use sqlparser::tokenizer::Tokenizer;

    fn bound(sql: &str) -> Result<usize> {
        let tokens = Tokenizer::new(&MySqlDialect {}, sql).tokenize().unwrap();
        depth_bound(&tokens)
    }

    #[test]
    fn flat_lists_are_shallow() {
        let in_list = format!(
            "SELECT 1 IN ({})",
            (0..100_000)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(bound(&in_list).unwrap() < 10);
        let values = format!(
            "INSERT INTO t VALUES {}",
            (0..10_000)
                .map(|i| format!("({i}, 'x', -1)"))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(bound(&values).unwrap() < 10);
    }

    #[test]
    fn chains_count_each_operator() {
        let chain = format!("SELECT 1{}", "+1".repeat(100_000));
        assert!(bound(&chain).unwrap() > 100_000);
        let unions = format!("SELECT 1, 2{}", " UNION SELECT 1, 2".repeat(5000));
        assert!(bound(&unions).unwrap() > 5000);
        // A group under a chain is as deep as the chain above it plus its own depth.
        let under = format!("SELECT ({}) + 1", "1+".repeat(3000) + "1");
        assert!(bound(&under).unwrap() > 3000);
    }

    #[test]
    fn brackets_nest_to_a_limit() {
        let ok = format!(
            "SELECT {}1{}",
            "(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        );
        assert!(bound(&ok).is_ok());
        let deep = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(matches!(bound(&deep), Err(ParseError::TooDeep { .. })));
    }
}
