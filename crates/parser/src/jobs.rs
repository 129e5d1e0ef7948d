//! Job statements (CockroachDB's): SHOW JOB(S) [WHEN COMPLETE], CANCEL / PAUSE / RESUME JOB(S), ... ALL <type> JOBS.

use sqlparser::tokenizer::Token;

use super::cursor::Cursor;
use super::Command;
use crate::error::{ParseError, Result};
use tenantry_jobs::ob_codes;

/// What a job control statement does: the jobs layer's own request type.
pub use tenantry_jobs::JobAction;

/// Which jobs a statement is about.
#[derive(Debug, Clone, PartialEq)]
pub enum JobTarget {
    /// `JOB <id>`.
    Id(i64),
    /// `JOBS <select>`: the first column of the query's rows.
    Select(String),
    /// `ALL <type> JOBS`.
    AllOfType(String),
}

pub(super) fn parse(c: &mut Cursor) -> Result<Option<Command>> {
    let action = if c.is_word("CANCEL") {
        JobAction::Cancel
    } else if c.is_word("PAUSE") {
        JobAction::Pause
    } else if c.is_word("RESUME") {
        JobAction::Resume
    } else if c.is_word("SHOW") && (c.is_word_at(1, "JOB") || c.is_word_at(1, "JOBS")) {
        c.advance();
        return show(c).map(Some);
    } else {
        return Ok(None);
    };
    if !(c.is_word_at(1, "JOB") || c.is_word_at(1, "JOBS") || c.is_word_at(1, "ALL")) {
        return Ok(None);
    }
    c.advance();
    let target = if c.eat_word("JOB") {
        JobTarget::Id(job_id(c)?)
    } else if c.eat_word("JOBS") {
        JobTarget::Select(select_text(c)?)
    } else {
        c.expect_word("ALL")?;
        let mut words = Vec::new();
        while !c.is_word("JOBS") {
            match c.peek() {
                Some(Token::Word(w)) => {
                    words.push(w.value.to_ascii_uppercase());
                    c.advance();
                }
                _ => return Err(c.error()),
            }
        }
        c.expect_word("JOBS")?;
        if words.is_empty() {
            return Err(c.error());
        }
        JobTarget::AllOfType(words.join(" "))
    };
    c.expect_end()?;
    Ok(Some(Command::ControlJobs { action, target }))
}

fn show(c: &mut Cursor) -> Result<Command> {
    if c.eat_word("JOB") {
        let when_complete = c.eat_words(&["WHEN", "COMPLETE"]);
        let id = job_id(c)?;
        c.expect_end()?;
        return Ok(Command::ShowJobs {
            when_complete,
            target: Some(JobTarget::Id(id)),
        });
    }
    c.expect_word("JOBS")?;
    let when_complete = c.eat_words(&["WHEN", "COMPLETE"]);
    if c.at_end() {
        if when_complete {
            return Err(c.error());
        }
        return Ok(Command::ShowJobs {
            when_complete,
            target: None,
        });
    }
    Ok(Command::ShowJobs {
        when_complete,
        target: Some(JobTarget::Select(select_text(c)?)),
    })
}

fn job_id(c: &mut Cursor) -> Result<i64> {
    match c.peek() {
        Some(Token::Number(n, _)) => {
            let id = n.parse().map_err(|_| ParseError::OceanBase {
                code: ob_codes::ENTRY_NOT_EXIST,
                message: format!("job with ID {n} does not exist"),
            })?;
            c.advance();
            Ok(id)
        }
        Some(Token::SingleQuotedString(s)) => {
            let id = s.trim().parse().map_err(|_| c.error())?;
            c.advance();
            Ok(id)
        }
        _ => Err(c.error()),
    }
}

/// The text of `(SELECT ...)` or `SELECT ...`, without the parentheses.
fn select_text(c: &mut Cursor) -> Result<String> {
    let text = c.rest().trim().to_string();
    while !c.at_end() {
        c.advance();
    }
    let inner = match text.strip_prefix('(') {
        Some(rest) => rest
            .strip_suffix(')')
            .ok_or_else(|| c.error())?
            .trim()
            .to_string(),
        None => text,
    };
    if inner.is_empty() {
        return Err(c.error());
    }
    Ok(inner)
}

/// Replaces `[SHOW JOBS]` (CockroachDB's statement-as-table) with the system view that has its rows.
pub fn rewrite_bracket_statements(sql: &str) -> std::borrow::Cow<'_, str> {
    if !sql.contains('[') {
        return std::borrow::Cow::Borrowed(sql);
    }
    let dialect = sqlparser::dialect::MySqlDialect {};
    let Ok(tokens) = sqlparser::tokenizer::Tokenizer::new(&dialect, sql).tokenize_with_location()
    else {
        return std::borrow::Cow::Borrowed(sql);
    };
    let mut offsets = crate::cursor::Offsets::new(sql);
    let significant: Vec<_> = tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .collect();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    let word =
        |t: &Token, kw: &str| matches!(t, Token::Word(w) if w.value.eq_ignore_ascii_case(kw));
    while i < significant.len() {
        // `[SHOW JOBS]` and `[SHOW CHANGEFEED JOBS]`.
        let at = |k: usize| significant.get(i + k).map(|t| &t.token);
        let found = if at(0) != Some(&Token::LBracket) || !at(1).is_some_and(|t| word(t, "SHOW")) {
            None
        } else if at(2).is_some_and(|t| word(t, "JOBS")) && at(3) == Some(&Token::RBracket) {
            Some((4, "crdb_internal.show_jobs"))
        } else if at(2).is_some_and(|t| word(t, "CHANGEFEED"))
            && at(3).is_some_and(|t| word(t, "JOBS"))
            && at(4) == Some(&Token::RBracket)
        {
            Some((5, "crdb_internal.show_changefeed_jobs"))
        } else {
            None
        };
        if let Some((len, view)) = found {
            let start = offsets.of(significant[i].span.start);
            let end = offsets.of(significant[i + len - 1].span.start) + 1;
            out.push_str(&sql[copied..start]);
            out.push_str(view);
            copied = end;
            i += len;
        } else {
            i += 1;
        }
    }
    if copied == 0 {
        return std::borrow::Cow::Borrowed(sql);
    }
    out.push_str(&sql[copied..]);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::cmd;
    use crate::{parse as parse_any, Parsed};

    #[test]
    fn job_statements() {
        assert_eq!(
            cmd("SHOW JOBS"),
            Command::ShowJobs {
                when_complete: false,
                target: None
            }
        );
        assert_eq!(
            cmd("SHOW JOB WHEN COMPLETE 27536791415282"),
            Command::ShowJobs {
                when_complete: true,
                target: Some(JobTarget::Id(27536791415282))
            }
        );
        assert_eq!(
            cmd("CANCEL JOB 27536791415282;"),
            Command::ControlJobs {
                action: JobAction::Cancel,
                target: JobTarget::Id(27536791415282)
            }
        );
        assert_eq!(
            cmd("CANCEL JOBS (SELECT job_id FROM [SHOW JOBS]\n      WHERE user_name = 'maxroach')"),
            Command::ControlJobs {
                action: JobAction::Cancel,
                target: JobTarget::Select("SELECT job_id FROM crdb_internal.show_jobs\n      WHERE user_name = 'maxroach'".into())
            }
        );
        assert_eq!(
            cmd("PAUSE ALL SCHEMA CHANGE JOBS"),
            Command::ControlJobs {
                action: JobAction::Pause,
                target: JobTarget::AllOfType("SCHEMA CHANGE".into())
            }
        );
        assert!(matches!(
            parse_any("SELECT count(*) FROM [SHOW JOBS] WHERE status = 'running'").unwrap(),
            Parsed::Tenant(_)
        ));
        assert_eq!(
            rewrite_bracket_statements("SELECT '[SHOW JOBS]'"),
            "SELECT '[SHOW JOBS]'"
        );
    }
}
