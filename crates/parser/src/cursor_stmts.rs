//! PostgreSQL's SQL cursors: `DECLARE ... CURSOR FOR query`, `FETCH`, `MOVE` and `CLOSE` (psycopg's named
//! cursors, psql users paging through a big result).

use sqlparser::ast::{DeclareType, Statement};
use sqlparser::tokenizer::Token;

use super::cursor::Cursor;
use super::{parse_tokens, Command};
use crate::error::Result;

/// A `DECLARE name [BINARY] [INSENSITIVE] [[NO] SCROLL] CURSOR [{WITH | WITHOUT} HOLD] FOR query`.
#[derive(Debug, Clone, PartialEq)]
pub struct CursorDeclaration {
    /// The cursor's name (folded to lower case unless quoted, as PostgreSQL folds names).
    pub name: String,
    /// `SCROLL` (true), `NO SCROLL` (false), or neither.
    pub scroll: Option<bool>,
    /// `WITH HOLD`: the cursor outlives the transaction that declared it.
    pub hold: bool,
    /// `BINARY`.
    pub binary: bool,
    /// The query.
    pub query: Box<Statement>,
}

/// Where a FETCH or MOVE goes, in PostgreSQL's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchDirection {
    /// `NEXT` (and a bare `FETCH c`).
    Next,
    /// `PRIOR`.
    Prior,
    /// `FIRST`.
    First,
    /// `LAST`.
    Last,
    /// `ABSOLUTE n` (negative: from the end).
    Absolute(i64),
    /// `RELATIVE n`.
    Relative(i64),
    /// `[FORWARD] n` or `FORWARD`; `None`: `ALL` / `FORWARD ALL`. A negative count goes backward.
    Forward(Option<i64>),
    /// `BACKWARD [n]`; `None`: `BACKWARD ALL`. A negative count goes forward.
    Backward(Option<i64>),
}

pub(super) fn parse(c: &mut Cursor) -> Result<Option<Command>> {
    if c.is_word("DECLARE") && declares_cursor(c) {
        return declare(c).map(Some);
    }
    if c.is_word("FETCH") || c.is_word("MOVE") {
        let move_only = c.is_word("MOVE");
        c.advance();
        let direction = direction(c)?;
        // `FROM` / `IN` may be left out.
        let _ = c.eat_word("FROM") || c.eat_word("IN");
        let name = cursor_name(c)?;
        c.expect_end()?;
        return Ok(Some(Command::FetchCursor {
            name,
            direction,
            move_only,
        }));
    }
    if c.eat_word("CLOSE") {
        let name = if c.eat_word("ALL") {
            None
        } else {
            Some(cursor_name(c)?)
        };
        c.expect_end()?;
        return Ok(Some(Command::CloseCursor(name)));
    }
    Ok(None)
}

/// Whether the DECLARE declares a cursor: `CURSOR` comes before `FOR` (MySQL's procedure-local DECLAREs,
/// which we do not run, have no business here).
fn declares_cursor(c: &Cursor) -> bool {
    (1..8)
        .take_while(|&i| !c.is_word_at(i, "FOR"))
        .any(|i| c.is_word_at(i, "CURSOR"))
}

fn declare(c: &mut Cursor) -> Result<Command> {
    let sql = c.sql();
    // The name's quoting tells whether it folds; sqlparser's AST keeps the quote style too, but reading it
    // here keeps one rule for all four statements.
    let name = {
        let mut ahead = Cursor::new(sql)?;
        ahead.advance();
        cursor_name(&mut ahead)?
    };
    let error = c.error();
    let Statement::Declare { mut stmts } = parse_tokens(sql, c.take_rest())? else {
        return Err(error);
    };
    let declared = match stmts.len() {
        1 => stmts.remove(0),
        _ => return Err(error),
    };
    let (Some(DeclareType::Cursor), Some(query)) = (declared.declare_type, declared.for_query)
    else {
        return Err(error);
    };
    Ok(Command::DeclareCursor(Box::new(CursorDeclaration {
        name,
        scroll: declared.scroll,
        hold: declared.hold.unwrap_or(false),
        binary: declared.binary.unwrap_or(false),
        query: Box::new(Statement::Query(query)),
    })))
}

/// A cursor's name: an unquoted one folds to lower case, a quoted one is kept as written.
fn cursor_name(c: &mut Cursor) -> Result<String> {
    match c.peek() {
        Some(Token::Word(w)) if w.quote_style.is_none() => {
            let name = w.value.to_ascii_lowercase();
            c.advance();
            Ok(name)
        }
        _ => c.name(),
    }
}

fn direction(c: &mut Cursor) -> Result<FetchDirection> {
    use FetchDirection as D;
    let d = if c.eat_word("NEXT") {
        D::Next
    } else if c.eat_word("PRIOR") {
        D::Prior
    } else if c.eat_word("FIRST") {
        D::First
    } else if c.eat_word("LAST") {
        D::Last
    } else if c.eat_word("ABSOLUTE") {
        D::Absolute(signed(c)?)
    } else if c.eat_word("RELATIVE") {
        D::Relative(signed(c)?)
    } else if c.eat_word("FORWARD") {
        match count(c)? {
            Some(n) => D::Forward(n),
            None => D::Forward(Some(1)),
        }
    } else if c.eat_word("BACKWARD") {
        match count(c)? {
            Some(n) => D::Backward(n),
            None => D::Backward(Some(1)),
        }
    } else {
        match count(c)? {
            Some(n) => D::Forward(n),
            None => D::Next,
        }
    };
    Ok(d)
}

/// `ALL` (`Some(None)`), a signed count (`Some(Some(n))`), or nothing.
fn count(c: &mut Cursor) -> Result<Option<Option<i64>>> {
    if c.eat_word("ALL") {
        return Ok(Some(None));
    }
    if matches!(
        c.peek(),
        Some(Token::Number(..) | Token::Minus | Token::Plus)
    ) {
        return Ok(Some(Some(signed(c)?)));
    }
    Ok(None)
}

/// An integer with an optional sign.
fn signed(c: &mut Cursor) -> Result<i64> {
    if c.eat(&Token::Minus) {
        return Ok(-c.integer()?);
    }
    c.eat(&Token::Plus);
    c.integer()
}

#[cfg(test)]
mod tests {
    use super::FetchDirection as D;
    use crate::tests::cmd;
    use crate::Command;

    #[test]
    fn declare_forms() {
        let Command::DeclareCursor(d) =
            cmd("DECLARE `Big` NO SCROLL CURSOR WITH HOLD FOR SELECT * FROM t WHERE a > ?")
        else {
            panic!("not a DECLARE")
        };
        assert_eq!(
            (d.name.as_str(), d.scroll, d.hold, d.binary),
            ("Big", Some(false), true, false)
        );
        assert_eq!(d.query.to_string(), "SELECT * FROM t WHERE a > ?");
        let Command::DeclareCursor(d) = cmd("declare C binary scroll cursor for values (1)") else {
            panic!("not a DECLARE")
        };
        assert_eq!(
            (d.name.as_str(), d.scroll, d.hold, d.binary),
            ("c", Some(true), false, true)
        );
        for bad in [
            "DECLARE c CURSOR FOR",
            "DECLARE c CURSOR SELECT 1",
            "DECLARE c CURSOR FOR SELECT 1; SELECT 2",
        ] {
            assert!(crate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fetch_and_move_forms() {
        let fetch = |sql: &str| match cmd(sql) {
            Command::FetchCursor {
                name,
                direction,
                move_only,
            } => (name, direction, move_only),
            other => panic!("{sql}: {other:?}"),
        };
        let c = || "c".to_string();
        assert_eq!(
            fetch("FETCH FORWARD 100 FROM `c`"),
            (c(), D::Forward(Some(100)), false)
        );
        assert_eq!(
            fetch("FETCH FORWARD ALL FROM c"),
            (c(), D::Forward(None), false)
        );
        assert_eq!(fetch("FETCH ALL IN c"), (c(), D::Forward(None), false));
        assert_eq!(fetch("FETCH c"), (c(), D::Next, false));
        assert_eq!(fetch("FETCH 5 c"), (c(), D::Forward(Some(5)), false));
        assert_eq!(fetch("FETCH -2 FROM c"), (c(), D::Forward(Some(-2)), false));
        assert_eq!(fetch("FETCH PRIOR FROM C"), (c(), D::Prior, false));
        assert_eq!(
            fetch("FETCH BACKWARD FROM c"),
            (c(), D::Backward(Some(1)), false)
        );
        assert_eq!(
            fetch("FETCH BACKWARD ALL FROM c"),
            (c(), D::Backward(None), false)
        );
        assert_eq!(fetch("FETCH LAST FROM c;"), (c(), D::Last, false));
        assert_eq!(
            fetch("MOVE ABSOLUTE -1 FROM c"),
            (c(), D::Absolute(-1), true)
        );
        assert_eq!(fetch("MOVE  -3 FROM c"), (c(), D::Forward(Some(-3)), true));
        assert_eq!(fetch("MOVE RELATIVE 0 IN c"), (c(), D::Relative(0), true));
        for bad in [
            "FETCH",
            "FETCH FORWARD 1 FROM",
            "FETCH 1 FROM c d",
            "MOVE ABSOLUTE FROM c",
        ] {
            assert!(crate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn close_forms() {
        assert_eq!(
            cmd("CLOSE `My Cursor`"),
            Command::CloseCursor(Some("My Cursor".into()))
        );
        assert_eq!(cmd("close ALL"), Command::CloseCursor(None));
        assert!(crate::parse("CLOSE").is_err());
    }
}
