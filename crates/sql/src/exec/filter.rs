//! SHOW statements' LIKE and WHERE filters, evaluated here over the SHOW's own rows: a filter is an
//! expression over the result's columns and never becomes SQL, so it cannot reach a table, a pragma or
//! a function (`SHOW TABLES WHERE 0 UNION SELECT ...` is refused while parsing the expression).

use std::cmp::Ordering;

use sqlparser::ast::{BinaryOperator, Expr, UnaryOperator, Value as AstValue};

use crate::error::{Result, SqlError};
use crate::parser::ShowFilter;
use crate::session::Session;
use crate::value::{ResultSet, Value};

/// How deep a SHOW filter's expression may nest (filters are small; the walk below recurses).
const MAX_FILTER_DEPTH: usize = 64;

/// Applies a filter to a SHOW result: LIKE matches the first column; WHERE is an expression over the
/// columns. Checks for KILL QUERY between rows.
pub fn apply(session: &Session, mut rs: ResultSet, filter: &ShowFilter) -> Result<ResultSet> {
    match filter {
        ShowFilter::None => Ok(rs),
        ShowFilter::Like(pattern) => {
            let pattern = LikePattern::new(pattern);
            let mut kept = Vec::with_capacity(rs.rows.len());
            for row in std::mem::take(&mut rs.rows) {
                session.check_interrupted()?;
                if row
                    .first()
                    .and_then(Value::to_text)
                    .is_some_and(|t| pattern.matches(&t))
                {
                    kept.push(row);
                }
            }
            rs.rows = kept;
            Ok(rs)
        }
        ShowFilter::Where(expr) => {
            let names: Vec<String> = rs.columns.iter().map(|c| c.name.clone()).collect();
            let mut kept = Vec::with_capacity(rs.rows.len());
            for row in std::mem::take(&mut rs.rows) {
                session.check_interrupted()?;
                let scope = Scope {
                    names: &names,
                    row: &row,
                };
                if truth(&scope.eval(expr, 0)?) == Some(true) {
                    kept.push(row);
                }
            }
            rs.rows = kept;
            Ok(rs)
        }
    }
}

/// One row of a SHOW result, as a filter sees it.
struct Scope<'a> {
    names: &'a [String],
    row: &'a [Value],
}

impl Scope<'_> {
    fn eval(&self, e: &Expr, depth: usize) -> Result<Value> {
        if depth > MAX_FILTER_DEPTH {
            return Err(SqlError::TooDeep {
                limit: MAX_FILTER_DEPTH,
                what: "SHOW filter depth",
            });
        }
        let d = depth + 1;
        Ok(match e {
            Expr::Identifier(id) => self.column(&id.value)?,
            Expr::Nested(inner) => self.eval(inner, d)?,
            Expr::Value(v) => literal(&v.value)?,
            Expr::UnaryOp { op, expr } => {
                let v = self.eval(expr, d)?;
                match op {
                    UnaryOperator::Not => from_truth(truth(&v).map(|b| !b)),
                    UnaryOperator::Minus => match number(&v) {
                        Some(Num::Int(i)) => Value::Int(i.wrapping_neg()),
                        Some(Num::Float(f)) => Value::Float(-f),
                        None => Value::Null,
                    },
                    UnaryOperator::Plus => v,
                    other => return Err(unsupported(&other.to_string())),
                }
            }
            Expr::BinaryOp { left, op, right } => {
                let l = self.eval(left, d)?;
                let r = self.eval(right, d)?;
                binary(&l, op, &r)?
            }
            Expr::IsNull(x) => Value::Int(matches!(self.eval(x, d)?, Value::Null) as i64),
            Expr::IsNotNull(x) => Value::Int(!matches!(self.eval(x, d)?, Value::Null) as i64),
            Expr::IsTrue(x) => Value::Int((truth(&self.eval(x, d)?) == Some(true)) as i64),
            Expr::IsFalse(x) => Value::Int((truth(&self.eval(x, d)?) == Some(false)) as i64),
            Expr::IsNotTrue(x) => Value::Int((truth(&self.eval(x, d)?) != Some(true)) as i64),
            Expr::IsNotFalse(x) => Value::Int((truth(&self.eval(x, d)?) != Some(false)) as i64),
            Expr::Like {
                negated,
                any: false,
                expr,
                pattern,
                escape_char,
            } => {
                let text = self.eval(expr, d)?.to_text();
                let pattern = self.eval(pattern, d)?.to_text();
                let escape = match escape_char {
                    Some(e) => self.eval(e, d)?.to_text().and_then(|s| s.chars().next()),
                    None => Some('\\'),
                };
                match (text, pattern) {
                    (Some(t), Some(p)) => {
                        let m = LikePattern::with_escape(&p, escape).matches(&t);
                        Value::Int((m != *negated) as i64)
                    }
                    _ => Value::Null,
                }
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                let v = self.eval(expr, d)?;
                if matches!(v, Value::Null) {
                    Value::Null
                } else {
                    let mut found = Some(false);
                    for item in list {
                        match compare(&v, &self.eval(item, d)?) {
                            Some(Ordering::Equal) => {
                                found = Some(true);
                                break;
                            }
                            None => found = None,
                            Some(_) => {}
                        }
                    }
                    from_truth(found.map(|f| f != *negated))
                }
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let v = self.eval(expr, d)?;
                let lo = compare(&v, &self.eval(low, d)?);
                let hi = compare(&v, &self.eval(high, d)?);
                match (lo, hi) {
                    (Some(lo), Some(hi)) => {
                        let inside = lo != Ordering::Less && hi != Ordering::Greater;
                        Value::Int((inside != *negated) as i64)
                    }
                    _ => Value::Null,
                }
            }
            other => return Err(unsupported(&shape(other))),
        })
    }

    fn column(&self, name: &str) -> Result<Value> {
        self.names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
            .map(|i| self.row.get(i).cloned().unwrap_or(Value::Null))
            .ok_or_else(|| SqlError::UnknownColumn(name.to_string()))
    }
}

/// A short name of an expression's kind for an error (never the whole, possibly huge, expression).
fn shape(e: &Expr) -> String {
    let text = format!("{e:?}");
    text.split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("expression")
        .to_string()
}

fn unsupported(what: &str) -> SqlError {
    SqlError::Unsupported(format!("{what} in a SHOW filter"))
}

fn literal(v: &AstValue) -> Result<Value> {
    Ok(match v {
        AstValue::Null => Value::Null,
        AstValue::Boolean(b) => Value::Int(*b as i64),
        AstValue::Number(n, _) => match n.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => n
                .parse::<f64>()
                .map(Value::Float)
                .map_err(|_| unsupported(n))?,
        },
        AstValue::SingleQuotedString(s) | AstValue::DoubleQuotedString(s) => Value::Text(s.clone()),
        other => return Err(unsupported(&other.to_string())),
    })
}

enum Num {
    Int(i64),
    Float(f64),
}

/// A value as a number the way MySQL converts it (text: its numeric prefix, else 0).
fn number(v: &Value) -> Option<Num> {
    match v {
        Value::Null => None,
        Value::Int(i) => Some(Num::Int(*i)),
        Value::Float(f) => Some(Num::Float(*f)),
        Value::Text(_) | Value::Blob(_) => {
            let t = v.to_text().unwrap_or_default();
            let t = t.trim();
            Some(match t.parse::<i64>() {
                Ok(i) => Num::Int(i),
                Err(_) => Num::Float(numeric_prefix(t)),
            })
        }
    }
}

fn numeric_prefix(t: &str) -> f64 {
    let end = t
        .char_indices()
        .take_while(|(i, c)| {
            c.is_ascii_digit() || *c == '.' || (*i == 0 && (*c == '-' || *c == '+'))
        })
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    t[..end].parse().unwrap_or(0.0)
}

fn as_f64(n: &Num) -> f64 {
    match n {
        Num::Int(i) => *i as f64,
        Num::Float(f) => *f,
    }
}

fn truth(v: &Value) -> Option<bool> {
    number(v).map(|n| as_f64(&n) != 0.0)
}

fn from_truth(b: Option<bool>) -> Value {
    b.map_or(Value::Null, |b| Value::Int(b as i64))
}

/// MySQL's comparison: numbers numerically, text case-insensitively (the general collation), text
/// against a number as a number; NULL compares as unknown.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::Text(x), Value::Text(y)) => Some(x.to_lowercase().cmp(&y.to_lowercase())),
        _ => {
            let (x, y) = (number(a)?, number(b)?);
            match (x, y) {
                (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
                (x, y) => as_f64(&x).partial_cmp(&as_f64(&y)),
            }
        }
    }
}

fn binary(l: &Value, op: &BinaryOperator, r: &Value) -> Result<Value> {
    use BinaryOperator as B;
    let cmp = |f: fn(Ordering) -> bool| from_truth(compare(l, r).map(f));
    Ok(match op {
        B::And => match (truth(l), truth(r)) {
            (Some(false), _) | (_, Some(false)) => Value::Int(0),
            (Some(true), Some(true)) => Value::Int(1),
            _ => Value::Null,
        },
        B::Or => match (truth(l), truth(r)) {
            (Some(true), _) | (_, Some(true)) => Value::Int(1),
            (Some(false), Some(false)) => Value::Int(0),
            _ => Value::Null,
        },
        B::Xor => from_truth(truth(l).zip(truth(r)).map(|(a, b)| a != b)),
        B::Eq => cmp(|o| o == Ordering::Equal),
        B::NotEq => cmp(|o| o != Ordering::Equal),
        B::Lt => cmp(|o| o == Ordering::Less),
        B::LtEq => cmp(|o| o != Ordering::Greater),
        B::Gt => cmp(|o| o == Ordering::Greater),
        B::GtEq => cmp(|o| o != Ordering::Less),
        B::Spaceship => Value::Int(match (l, r) {
            (Value::Null, Value::Null) => 1,
            (Value::Null, _) | (_, Value::Null) => 0,
            _ => (compare(l, r) == Some(Ordering::Equal)) as i64,
        }),
        B::Plus | B::Minus | B::Multiply => match (number(l), number(r)) {
            (Some(Num::Int(a)), Some(Num::Int(b))) => {
                let v = match op {
                    B::Plus => a.checked_add(b),
                    B::Minus => a.checked_sub(b),
                    _ => a.checked_mul(b),
                };
                v.map_or(Value::Null, Value::Int)
            }
            (Some(a), Some(b)) => {
                let (a, b) = (as_f64(&a), as_f64(&b));
                Value::Float(match op {
                    B::Plus => a + b,
                    B::Minus => a - b,
                    _ => a * b,
                })
            }
            _ => Value::Null,
        },
        B::Divide => match (number(l), number(r)) {
            (Some(a), Some(b)) if as_f64(&b) != 0.0 => Value::Float(as_f64(&a) / as_f64(&b)),
            _ => Value::Null,
        },
        other => return Err(unsupported(&other.to_string())),
    })
}

/// One element of a compiled LIKE pattern.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Piece {
    /// `%`: any run of characters.
    Any,
    /// `_`: one character.
    One,
    /// A literal character (lower-cased).
    Char(char),
}

/// A LIKE pattern compiled once, matched in time proportional to pattern × text at worst (never
/// exponential: see [`LikePattern::matches`]).
pub struct LikePattern {
    pieces: Vec<Piece>,
}

impl LikePattern {
    /// MySQL's LIKE: `%` any run, `_` one character, `\` escapes; case-insensitive.
    pub fn new(pattern: &str) -> Self {
        Self::with_escape(pattern, Some('\\'))
    }

    /// A pattern with its own escape character (`LIKE ... ESCAPE 'c'`), or none.
    pub fn with_escape(pattern: &str, escape: Option<char>) -> Self {
        let mut pieces = Vec::with_capacity(pattern.len());
        let mut chars = pattern.chars().flat_map(char::to_lowercase).peekable();
        while let Some(c) = chars.next() {
            let piece = match c {
                c if Some(c) == escape && chars.peek().is_some() => {
                    Piece::Char(chars.next().unwrap_or(c))
                }
                '%' => Piece::Any,
                '_' => Piece::One,
                c => Piece::Char(c),
            };
            // `%%` matches what `%` does: keeping one makes the match below no slower for runs of them.
            if !(piece == Piece::Any && pieces.last() == Some(&Piece::Any)) {
                pieces.push(piece);
            }
        }
        Self { pieces }
    }

    /// Whether `text` matches. Greedy with one resume point: when a literal fails after a `%`, the
    /// match resumes one character further at that `%` only (an earlier `%` never needs revisiting,
    /// since the later one can absorb whatever the earlier one would have), so the work is at most
    /// pattern length × text length.
    pub fn matches(&self, text: &str) -> bool {
        let t: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
        let p = &self.pieces;
        let (mut pi, mut ti) = (0, 0);
        let mut resume: Option<(usize, usize)> = None;
        while ti < t.len() {
            match p.get(pi) {
                Some(Piece::Any) => {
                    resume = Some((pi, ti));
                    pi += 1;
                }
                Some(Piece::One) => {
                    pi += 1;
                    ti += 1;
                }
                Some(Piece::Char(c)) if *c == t[ti] => {
                    pi += 1;
                    ti += 1;
                }
                _ => match resume {
                    Some((rp, rt)) => {
                        resume = Some((rp, rt + 1));
                        pi = rp + 1;
                        ti = rt + 1;
                    }
                    None => return false,
                },
            }
        }
        p[pi..].iter().all(|x| *x == Piece::Any)
    }
}

/// MySQL's LIKE: `%` any run, `_` one character, `\` escapes; case-insensitive.
pub fn like(pattern: &str, text: &str) -> bool {
    LikePattern::new(pattern).matches(text)
}

#[cfg(test)]
mod tests {
    use super::like;

    #[test]
    fn like_patterns() {
        assert!(like("bulk%", "bulk_io_max_rate"));
        assert!(like("%IO%", "bulk_io_max_rate"));
        assert!(like("a_c", "abc"));
        assert!(!like("a_c", "abbc"));
        assert!(like("a\\_c", "a_c"));
        assert!(!like("a\\_c", "abc"));
        assert!(like("%", ""));
        assert!(!like("_", ""));
        assert!(like("%a%b%", "xxaxxbxx"));
        assert!(!like("%a%b%", "xxbxxaxx"));
        assert!(like("%_b", "ab"));
        assert!(!like("%_b", "b"));
        assert!(like("a%%c", "abbbc"));
        assert!(like("%abc", "ababc"));
        assert!(like("a\\%", "a%"));
        assert!(!like("a\\%", "ab"));
        assert!(like("x\\", "x\\"));
    }

    #[test]
    fn backtracking_patterns_end() {
        // Exponential in a backtracking matcher; here pattern × text steps at most.
        let text = "a".repeat(5000);
        let pattern = format!("{}!", "%_".repeat(2000));
        assert!(!like(&pattern, &text));
        assert!(like(&"%a".repeat(2000), &text));
    }

    #[test]
    fn matches_a_reference_matcher() {
        fn reference(p: &[char], t: &[char]) -> bool {
            match p.first() {
                None => t.is_empty(),
                Some('%') => (0..=t.len()).any(|i| reference(&p[1..], &t[i..])),
                Some('_') => !t.is_empty() && reference(&p[1..], &t[1..]),
                Some(c) => t.first() == Some(c) && reference(&p[1..], &t[1..]),
            }
        }
        let alphabet = ['a', 'b', '%', '_'];
        let mut seed = 12345u64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        for _ in 0..20_000 {
            let p: String = (0..next(7)).map(|_| alphabet[next(4)]).collect();
            let t: String = (0..next(7)).map(|_| alphabet[next(2)]).collect();
            let pc: Vec<char> = p.chars().collect();
            let tc: Vec<char> = t.chars().collect();
            assert_eq!(like(&p, &t), reference(&pc, &tc), "{p:?} {t:?}");
        }
    }
}
