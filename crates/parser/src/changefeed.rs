//! Changefeed statements (CockroachDB's): `CREATE CHANGEFEED FOR [TABLE] t [, ...] [INTO 'sink'] [WITH ...]`,
//! `EXPERIMENTAL CHANGEFEED FOR t [WITH ...]`, `SHOW CHANGEFEED JOB[S] [id]`. Options are taken as written; what
//! they mean (and which are refused) is the changefeed kind's (`tenantry_kinds::changefeed::options`).

use sqlparser::tokenizer::Token;

use super::cursor::Cursor;
use super::{Command, TableRef};
use crate::error::Result;

/// A parsed `CREATE CHANGEFEED` / `EXPERIMENTAL CHANGEFEED`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangefeedStatement {
    /// The watched tables.
    pub tables: Vec<TableRef>,
    /// The sink URI (`None`: sinkless, rows stream to the client).
    pub sink: Option<String>,
    /// The options as written: lower-case name, value if any.
    pub options: Vec<(String, Option<String>)>,
}

pub(super) fn parse(c: &mut Cursor) -> Result<Option<Command>> {
    if c.is_word("CREATE") && c.is_word_at(1, "CHANGEFEED") {
        c.advance();
        c.advance();
        return statement(c, true).map(Some);
    }
    if c.is_word("EXPERIMENTAL") && c.is_word_at(1, "CHANGEFEED") {
        c.advance();
        c.advance();
        return statement(c, false).map(Some);
    }
    if c.is_word("SHOW")
        && c.is_word_at(1, "CHANGEFEED")
        && (c.is_word_at(2, "JOB") || c.is_word_at(2, "JOBS"))
    {
        c.advance();
        c.advance();
        let one = c.eat_word("JOB");
        if !one {
            c.expect_word("JOBS")?;
        }
        let id = if one || !c.at_end() {
            Some(job_id(c)?)
        } else {
            None
        };
        c.expect_end()?;
        return Ok(Some(Command::ShowChangefeedJobs(id)));
    }
    Ok(None)
}

fn job_id(c: &mut Cursor) -> Result<i64> {
    match c.peek().cloned() {
        Some(Token::SingleQuotedString(s)) => {
            c.advance();
            s.trim().parse().map_err(|_| c.error())
        }
        _ => c.integer(),
    }
}

fn statement(c: &mut Cursor, may_have_sink: bool) -> Result<Command> {
    c.expect_word("FOR")?;
    let mut tables = Vec::new();
    loop {
        c.eat_word("TABLE");
        tables.push(table_ref(c)?);
        if !c.eat(&Token::Comma) {
            break;
        }
    }
    let sink = if may_have_sink && c.eat_word("INTO") {
        Some(c.string()?)
    } else {
        None
    };
    let mut options = Vec::new();
    if c.eat_word("WITH") {
        // CockroachDB prints `WITH OPTIONS (a, b = 'x')` and reads both that and the bare list.
        let parens = c.eat_word("OPTIONS") | c.eat(&Token::LParen);
        if parens {
            c.eat(&Token::LParen);
        }
        super::import::option_list(c, |name, value| {
            options.push((name.to_string(), value));
            Ok(())
        })?;
        if parens {
            c.expect(&Token::RParen)?;
        }
    }
    c.expect_end()?;
    Ok(Command::CreateChangefeed(Box::new(ChangefeedStatement {
        tables,
        sink,
        options,
    })))
}

/// `t`, `db.t`, `db.public.t` (CockroachDB's schema `public` is the database itself).
fn table_ref(c: &mut Cursor) -> Result<TableRef> {
    let mut parts = vec![c.name()?];
    while c.eat(&Token::Period) {
        parts.push(c.name()?);
    }
    match parts.as_slice() {
        [t] => Ok(TableRef {
            db: None,
            table: t.clone(),
        }),
        [d, t] if d.eq_ignore_ascii_case("public") => Ok(TableRef {
            db: None,
            table: t.clone(),
        }),
        [d, t] => Ok(TableRef {
            db: Some(d.clone()),
            table: t.clone(),
        }),
        [d, s, t] if s.eq_ignore_ascii_case("public") => Ok(TableRef {
            db: Some(d.clone()),
            table: t.clone(),
        }),
        _ => Err(c.error()),
    }
}

#[cfg(test)]
mod tests {
    use crate::{parse, Command, Parsed};

    fn feed(sql: &str) -> super::ChangefeedStatement {
        match parse(sql).unwrap() {
            Parsed::Command(Command::CreateChangefeed(s)) => *s,
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn create_forms() {
        let s = feed("CREATE CHANGEFEED FOR TABLE shop.public.orders, TABLE items INTO 'webhook-https://h/x?insecure_tls_skip_verify=true' WITH updated, resolved = '10s', envelope = bare");
        assert_eq!(s.tables.len(), 2);
        assert_eq!(s.tables[0].db.as_deref(), Some("shop"));
        assert_eq!(s.tables[0].table, "orders");
        assert_eq!(
            s.sink.as_deref(),
            Some("webhook-https://h/x?insecure_tls_skip_verify=true")
        );
        assert_eq!(
            s.options,
            vec![
                ("updated".into(), None),
                ("resolved".into(), Some("10s".into())),
                ("envelope".into(), Some("bare".into()))
            ]
        );
        let s = feed("CREATE CHANGEFEED FOR t WITH OPTIONS (diff, resolved='1s')");
        assert_eq!(s.sink, None);
        assert_eq!(s.options.len(), 2);
        let s = feed("EXPERIMENTAL CHANGEFEED FOR t");
        assert_eq!(s.sink, None);
        assert!(parse("EXPERIMENTAL CHANGEFEED FOR t INTO 'x'").is_err());
        assert!(parse("CREATE CHANGEFEED t").is_err());
        assert!(parse("CREATE CHANGEFEED FOR t WITH").is_err());
    }

    #[test]
    fn show_forms() {
        for (sql, want) in [
            ("SHOW CHANGEFEED JOBS", None),
            ("SHOW CHANGEFEED JOB 12", Some(12)),
            ("SHOW CHANGEFEED JOBS 7", Some(7)),
        ] {
            match parse(sql).unwrap() {
                Parsed::Command(Command::ShowChangefeedJobs(id)) => assert_eq!(id, want, "{sql}"),
                other => panic!("{sql}: {other:?}"),
            }
        }
        assert!(parse("SHOW CHANGEFEED JOB").is_err());
    }
}
