//! Import statements in three dialects, one command:
//! CockroachDB's `IMPORT INTO t [(c, ...)] CSV DATA ('uri', ...) [WITH opt = 'v', ..., DETACHED]`,
//! TiDB's `IMPORT INTO t [(c, ...)] FROM 'uri' [FORMAT 'csv'] [WITH opt = v, ..., DETACHED]` and
//! MySQL's `LOAD DATA INFILE 'path' INTO TABLE t [FIELDS ...] [LINES ...] [IGNORE n LINES] [(c, ...)]`.

use sqlparser::tokenizer::Token;
use tenantry_kinds::import::CsvFormat;

use super::cursor::Cursor;
use super::{Command, TableRef};
use crate::error::{ParseError, Result};

/// The dialect an import was written in: it decides the defaults and what the statement returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportForm {
    /// `IMPORT INTO ... CSV DATA`: returns CockroachDB's result row.
    Cockroach,
    /// `LOAD DATA INFILE`: returns the affected rows.
    MySql,
    /// `IMPORT INTO ... FROM`: returns TiDB's job row.
    TiDb,
}

/// A parsed import statement.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportStatement {
    /// The dialect.
    pub form: ImportForm,
    /// The target table.
    pub table: TableRef,
    /// The columns the fields go into (all, in order, if empty).
    pub columns: Vec<String>,
    /// The sources as written.
    pub sources: Vec<String>,
    /// How the files are written.
    pub format: CsvFormat,
    /// Return the job at once instead of waiting for it.
    pub detached: bool,
    /// `LOAD DATA LOCAL INFILE`: the client sends the file; the source names it on the client's side.
    pub local: bool,
}

/// Parses an import statement, if this is one.
pub fn parse(c: &mut Cursor) -> Result<Option<Command>> {
    if c.is_word("IMPORT") && c.is_word_at(1, "INTO") {
        c.advance();
        c.advance();
        let table = table_ref(c)?;
        let columns = column_list(c)?;
        let stmt = if c.eat_words(&["CSV", "DATA"]) {
            cockroach(c, table, columns)?
        } else if c.eat_word("FROM") {
            tidb(c, table, columns)?
        } else {
            return Err(c.error());
        };
        c.expect_end()?;
        return Ok(Some(Command::Import(Box::new(stmt))));
    }
    if c.is_word("LOAD") && c.is_word_at(1, "DATA") {
        c.advance();
        c.advance();
        let stmt = mysql(c)?;
        c.expect_end()?;
        return Ok(Some(Command::Import(Box::new(stmt))));
    }
    Ok(None)
}

fn unsupported(what: impl Into<String>) -> ParseError {
    ParseError::Unsupported(what.into())
}

fn table_ref(c: &mut Cursor) -> Result<TableRef> {
    let first = c.name()?;
    if c.eat(&Token::Period) {
        Ok(TableRef {
            db: Some(first),
            table: c.name()?,
        })
    } else {
        Ok(TableRef {
            db: None,
            table: first,
        })
    }
}

fn column_list(c: &mut Cursor) -> Result<Vec<String>> {
    let mut columns = Vec::new();
    if c.eat(&Token::LParen) {
        loop {
            columns.push(c.name()?);
            if !c.eat(&Token::Comma) {
                break;
            }
        }
        c.expect(&Token::RParen)?;
    }
    Ok(columns)
}

/// A separator or quote: one ASCII character.
fn one_byte(option: &str, value: &str) -> Result<u8> {
    match value.as_bytes() {
        [b] if b.is_ascii() => Ok(*b),
        _ => Err(unsupported(format!(
            "{option} '{value}' (a single ASCII character is)"
        ))),
    }
}

fn count(option: &str, value: &str) -> Result<u64> {
    value
        .trim()
        .parse()
        .map_err(|_| unsupported(format!("{option} '{value}' (a row count is)")))
}

/// `WITH opt [= value], ...`: calls `each` with the option's lower-case name and its value (None if bare).
fn with_options(
    c: &mut Cursor,
    each: impl FnMut(&str, Option<String>) -> Result<()>,
) -> Result<()> {
    if !c.eat_word("WITH") {
        return Ok(());
    }
    option_list(c, each)
}

/// `opt [= value], ...` (what follows a WITH): calls `each` with each option's lower-case name and its value.
pub(super) fn option_list(
    c: &mut Cursor,
    mut each: impl FnMut(&str, Option<String>) -> Result<()>,
) -> Result<()> {
    loop {
        let name = c.name()?.to_ascii_lowercase();
        let value = if c.eat(&Token::Eq) {
            Some(c.literal_text()?)
        } else {
            None
        };
        each(&name, value)?;
        if !c.eat(&Token::Comma) {
            break;
        }
    }
    Ok(())
}

fn cockroach(c: &mut Cursor, table: TableRef, columns: Vec<String>) -> Result<ImportStatement> {
    c.expect(&Token::LParen)?;
    let mut sources = vec![c.string()?];
    while c.eat(&Token::Comma) {
        sources.push(c.string()?);
    }
    c.expect(&Token::RParen)?;
    let mut format = CsvFormat::default();
    let mut detached = false;
    with_options(c, |name, value| {
        match (name, value) {
            ("detached", None) => detached = true,
            ("skip", Some(v)) => format.skip = count("skip", &v)?,
            ("delimiter", Some(v)) => format.delimiter = one_byte("delimiter", &v)?,
            ("nullif", Some(v)) => format.null_if = Some(v),
            (other, _) => return Err(unsupported(format!("IMPORT option {other}"))),
        }
        Ok(())
    })?;
    Ok(ImportStatement {
        form: ImportForm::Cockroach,
        table,
        columns,
        sources,
        format,
        detached,
        local: false,
    })
}

fn tidb(c: &mut Cursor, table: TableRef, columns: Vec<String>) -> Result<ImportStatement> {
    let sources = vec![c.string()?];
    if c.eat_word("FORMAT") {
        let f = c.string()?;
        if !f.eq_ignore_ascii_case("csv") {
            return Err(unsupported(format!("IMPORT format '{f}'")));
        }
    }
    // TiDB's CSV defaults: `,` separated, `"` enclosed, `\` escapes, `\N` is NULL.
    let mut format = CsvFormat {
        mysql_escapes: true,
        ..CsvFormat::default()
    };
    let mut detached = false;
    with_options(c, |name, value| {
        match (name, value) {
            ("detached", None) => detached = true,
            ("skip_rows", Some(v)) => format.skip = count("skip_rows", &v)?,
            ("fields_terminated_by", Some(v)) => {
                format.delimiter = one_byte("fields_terminated_by", &v)?
            }
            ("fields_enclosed_by", Some(v)) => {
                format.quote = if v.is_empty() {
                    None
                } else {
                    Some(one_byte("fields_enclosed_by", &v)?)
                }
            }
            ("fields_escaped_by", Some(v)) if v.is_empty() || v == "\\" => {
                format.mysql_escapes = !v.is_empty()
            }
            ("fields_defined_null_by", Some(v)) => format.null_if = Some(v),
            (other, _) => return Err(unsupported(format!("IMPORT INTO option {other}"))),
        }
        Ok(())
    })?;
    Ok(ImportStatement {
        form: ImportForm::TiDb,
        table,
        columns,
        sources,
        format,
        detached,
        local: false,
    })
}

fn mysql(c: &mut Cursor) -> Result<ImportStatement> {
    // The priority words change nothing here: the load never blocks readers.
    let _ = c.eat_word("LOW_PRIORITY") || c.eat_word("CONCURRENT");
    let local = c.eat_word("LOCAL");
    c.expect_word("INFILE")?;
    let sources = vec![c.string()?];
    if c.is_word("REPLACE") || c.is_word("IGNORE") {
        return Err(unsupported(
            "LOAD DATA REPLACE / IGNORE (an import never touches rows already in the table)",
        ));
    }
    c.expect_word("INTO")?;
    c.expect_word("TABLE")?;
    let table = table_ref(c)?;
    if c.eat_words(&["CHARACTER", "SET"]) || c.eat_word("CHARSET") {
        let cs = c.name()?.to_ascii_lowercase();
        if !matches!(cs.as_str(), "utf8" | "utf8mb4" | "binary") {
            return Err(unsupported(format!("LOAD DATA CHARACTER SET {cs}")));
        }
    }
    // MySQL's defaults: tab separated, not enclosed, `\` escapes, `\N` is NULL.
    let mut format = CsvFormat {
        delimiter: b'\t',
        quote: None,
        mysql_escapes: true,
        skip: 0,
        null_if: None,
    };
    if c.eat_word("FIELDS") || c.eat_word("COLUMNS") {
        loop {
            if c.eat_words(&["TERMINATED", "BY"]) {
                format.delimiter = one_byte("FIELDS TERMINATED BY", &c.string()?)?;
            } else if c.eat_words(&["OPTIONALLY", "ENCLOSED", "BY"])
                || c.eat_words(&["ENCLOSED", "BY"])
            {
                let q = c.string()?;
                format.quote = if q.is_empty() {
                    None
                } else {
                    Some(one_byte("ENCLOSED BY", &q)?)
                };
            } else if c.eat_words(&["ESCAPED", "BY"]) {
                let e = c.string()?;
                if !(e.is_empty() || e == "\\") {
                    return Err(unsupported(format!("ESCAPED BY '{e}'")));
                }
                format.mysql_escapes = !e.is_empty();
            } else {
                break;
            }
        }
    }
    if c.eat_word("LINES") {
        loop {
            if c.eat_words(&["STARTING", "BY"]) {
                let s = c.string()?;
                if !s.is_empty() {
                    return Err(unsupported(format!("LINES STARTING BY '{s}'")));
                }
            } else if c.eat_words(&["TERMINATED", "BY"]) {
                let t = c.string()?;
                if !matches!(t.as_str(), "\n" | "\r\n") {
                    return Err(unsupported(
                        "LINES TERMINATED BY other than '\\n' or '\\r\\n'",
                    ));
                }
            } else {
                break;
            }
        }
    }
    if c.eat_word("IGNORE") {
        format.skip = c.integer()? as u64;
        if !(c.eat_word("LINES") || c.eat_word("ROWS")) {
            return Err(c.error());
        }
    }
    let columns = column_list(c)?;
    if c.is_word("SET") {
        return Err(unsupported("LOAD DATA ... SET"));
    }
    Ok(ImportStatement {
        form: ImportForm::MySql,
        table,
        columns,
        sources,
        format,
        detached: false,
        local,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::cmd;

    fn import(sql: &str) -> ImportStatement {
        match cmd(sql) {
            Command::Import(s) => *s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cockroach_form() {
        let s = import("IMPORT INTO shop.t (a, b) CSV DATA ('file:///x/a.csv', 'file:///x/b.csv') WITH skip = '1', delimiter = '|', nullif = '', DETACHED");
        assert_eq!(s.form, ImportForm::Cockroach);
        assert_eq!(s.table.db.as_deref(), Some("shop"));
        assert_eq!(s.columns, vec!["a", "b"]);
        assert_eq!(s.sources.len(), 2);
        assert_eq!(
            (
                s.format.skip,
                s.format.delimiter,
                s.format.null_if.as_deref()
            ),
            (1, b'|', Some(""))
        );
        assert!(s.detached);
        assert!(matches!(
            parse_err("IMPORT INTO t CSV DATA ('file:///a') WITH row_limit = '5'"),
            ParseError::Unsupported(_)
        ));
    }

    #[test]
    fn tidb_form() {
        let s = import("IMPORT INTO t FROM 'file:///x/a.csv' WITH skip_rows = 1, DETACHED");
        assert_eq!(s.form, ImportForm::TiDb);
        assert_eq!((s.format.skip, s.detached), (1, true));
        assert!(s.format.mysql_escapes);
    }

    #[test]
    fn mysql_form() {
        let s = import(
            "LOAD DATA INFILE '/x/a.csv' INTO TABLE t FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\\n' IGNORE 1 LINES (a, b)",
        );
        assert_eq!(s.form, ImportForm::MySql);
        assert_eq!(
            (s.format.delimiter, s.format.quote, s.format.skip),
            (b',', Some(b'"'), 1)
        );
        assert_eq!(s.columns, vec!["a", "b"]);
        let d = import("LOAD DATA INFILE '/x/a.tsv' INTO TABLE t");
        assert_eq!((d.format.delimiter, d.format.quote), (b'\t', None));
        assert!(!d.local);
        let l = import("LOAD DATA LOCAL INFILE 'x.csv' INTO TABLE t FIELDS TERMINATED BY ','");
        assert!(l.local);
        assert_eq!(
            (l.sources, l.format.delimiter),
            (vec!["x.csv".to_string()], b',')
        );
        assert!(matches!(
            parse_err("LOAD DATA INFILE '/x' INTO t"),
            ParseError::Syntax { .. }
        ));
    }

    fn parse_err(sql: &str) -> ParseError {
        crate::parse(sql).unwrap_err()
    }
}
