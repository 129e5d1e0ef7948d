//! PostgreSQL's `COPY` statement, parsed by sqlparser's PostgreSQL dialect (the MySQL dialect has no COPY):
//! `COPY t [(cols)] FROM STDIN` and `COPY t [(cols)] | (query) TO STDOUT`, with the options of PostgreSQL 9+
//! (`WITH (FORMAT csv, HEADER, DELIMITER 'x', NULL 'x', QUOTE 'x', ESCAPE 'x')`) and the older forms psql and
//! pgbench still send (`WITH CSV HEADER`, `DELIMITER 'x'`, `NULL 'x'`).

use sqlparser::ast::{
    CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget, ObjectNamePart,
    Statement,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::error::{ParseError, Result};

/// What a COPY reads or writes on the server's side.
#[derive(Debug, Clone, PartialEq)]
pub enum CopyData {
    /// A table's columns: the names of the table (schema first, as written) and of the columns (empty: all).
    Table {
        /// The table's name, one part per dotted part.
        table: Vec<String>,
        /// The columns named, in order (empty: every column in table order).
        columns: Vec<String>,
    },
    /// `COPY (query) TO STDOUT`: the query's text.
    Query(String),
}

/// How the copied rows are written.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyFormat {
    /// CSV (else PostgreSQL's text format: tab-separated, backslash escapes).
    pub csv: bool,
    /// The field separator.
    pub delimiter: char,
    /// The text that stands for NULL (`\N` in text format, an unquoted empty field in CSV).
    pub null: String,
    /// The first line names the columns (skipped on input, written on output).
    pub header: bool,
    /// CSV's quote.
    pub quote: char,
    /// CSV's escape of a quote inside a quoted field (the quote itself unless set).
    pub escape: char,
}

/// A parsed `COPY` statement.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyStatement {
    /// What is copied.
    pub data: CopyData,
    /// `TO STDOUT` (else `FROM STDIN`).
    pub to_client: bool,
    /// The format.
    pub format: CopyFormat,
}

/// Whether `sql` is a COPY statement (its first word), so that it goes to [`parse_copy`].
pub fn is_copy(sql: &str) -> bool {
    sql.split_whitespace()
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("copy"))
}

/// Parses a COPY statement. Forms the server cannot run (files and programs on the server, the binary format,
/// per-column forcing) are refused as unsupported, naming the construct.
pub fn parse_copy(sql: &str) -> Result<CopyStatement> {
    // After `FROM STDIN`, sqlparser reads a `;` as the start of inline data (psql scripts' form): a
    // statement's own trailing `;` is not that.
    let sql = sql.trim_end().trim_end_matches(';');
    let dialect = PostgreSqlDialect {};
    let statement = Parser::new(&dialect)
        .with_recursion_limit(crate::RECURSION_LIMIT)
        .try_with_sql(sql)
        .and_then(|mut p| {
            let s = p.parse_statement()?;
            while p.consume_token(&sqlparser::tokenizer::Token::SemiColon) {}
            p.expect_token(&sqlparser::tokenizer::Token::EOF)?;
            Ok(s)
        })
        .map_err(|e| crate::parser_error(sql, e))?;
    let Statement::Copy {
        source,
        to,
        target,
        options,
        legacy_options,
        values,
    } = statement
    else {
        return Err(ParseError::Unsupported(
            "this statement where COPY was expected".into(),
        ));
    };
    match (&target, to) {
        (CopyTarget::Stdin, false) | (CopyTarget::Stdout, true) => {}
        (CopyTarget::File { .. }, _) => return Err(ParseError::Unsupported(
            "COPY to or from a server file (use COPY ... FROM STDIN / TO STDOUT, or psql's \\copy)"
                .into(),
        )),
        (CopyTarget::Program { .. }, _) => {
            return Err(ParseError::Unsupported("COPY ... PROGRAM".into()))
        }
        (CopyTarget::Stdin, true) => {
            return Err(ParseError::Unsupported("COPY ... TO STDIN".into()))
        }
        (CopyTarget::Stdout, false) => {
            return Err(ParseError::Unsupported("COPY ... FROM STDOUT".into()))
        }
    }
    if !values.is_empty() {
        return Err(ParseError::Unsupported(
            "COPY data inside the statement text".into(),
        ));
    }
    let data = match source {
        CopySource::Table {
            table_name,
            columns,
        } => CopyData::Table {
            table: table_name
                .0
                .iter()
                .map(|p| match p {
                    ObjectNamePart::Identifier(i) => Ok(i.value.clone()),
                    other => Err(ParseError::Unsupported(format!("the table name {other}"))),
                })
                .collect::<Result<_>>()?,
            columns: columns.into_iter().map(|c| c.value).collect(),
        },
        CopySource::Query(q) => CopyData::Query(q.to_string()),
    };
    let mut csv = false;
    let mut delimiter = None;
    let mut null = None;
    let mut header = false;
    let mut quote = None;
    let mut escape = None;
    for option in options {
        match option {
            CopyOption::Format(name) => match name.value.to_ascii_lowercase().as_str() {
                "csv" => csv = true,
                "text" => csv = false,
                "binary" => return Err(ParseError::Unsupported("COPY's binary format".into())),
                other => {
                    return Err(ParseError::InvalidArgument(format!(
                        "COPY format \"{other}\" not recognized"
                    )))
                }
            },
            CopyOption::Delimiter(c) => delimiter = Some(c),
            CopyOption::Null(s) => null = Some(s),
            CopyOption::Header(h) => header = h,
            CopyOption::Quote(c) => quote = Some(c),
            CopyOption::Escape(c) => escape = Some(c),
            // FREEZE only skips work PostgreSQL's vacuum would do; the rows are the same.
            CopyOption::Freeze(_) => {}
            CopyOption::Encoding(e) => {
                if !e.eq_ignore_ascii_case("utf8") && !e.eq_ignore_ascii_case("utf-8") {
                    return Err(ParseError::Unsupported(format!("COPY ENCODING '{e}'")));
                }
            }
            other => return Err(ParseError::Unsupported(format!("COPY option {other}"))),
        }
    }
    for option in legacy_options {
        match option {
            CopyLegacyOption::Csv(csv_options) => {
                csv = true;
                for o in csv_options {
                    match o {
                        CopyLegacyCsvOption::Header => header = true,
                        CopyLegacyCsvOption::Quote(c) => quote = Some(c),
                        CopyLegacyCsvOption::Escape(c) => escape = Some(c),
                        other => {
                            return Err(ParseError::Unsupported(format!("COPY option {other}")))
                        }
                    }
                }
            }
            CopyLegacyOption::Header => header = true,
            CopyLegacyOption::Delimiter(c) => delimiter = Some(c),
            CopyLegacyOption::Null(s) => null = Some(s),
            CopyLegacyOption::Binary => {
                return Err(ParseError::Unsupported("COPY's binary format".into()))
            }
            other => return Err(ParseError::Unsupported(format!("COPY option {other}"))),
        }
    }
    let quote = quote.unwrap_or('"');
    let format = CopyFormat {
        csv,
        delimiter: delimiter.unwrap_or(if csv { ',' } else { '\t' }),
        null: null.unwrap_or_else(|| if csv { String::new() } else { "\\N".into() }),
        header,
        quote,
        escape: escape.unwrap_or(quote),
    };
    if !format.delimiter.is_ascii() || !format.quote.is_ascii() || !format.escape.is_ascii() {
        return Err(ParseError::InvalidArgument(
            "COPY delimiter, quote and escape must be single one-byte characters".into(),
        ));
    }
    if !format.csv && matches!(format.delimiter, '\\' | '\n' | '\r') {
        return Err(ParseError::InvalidArgument(
            "COPY delimiter cannot be newline, carriage return or backslash".into(),
        ));
    }
    Ok(CopyStatement {
        data,
        to_client: to,
        format,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, columns: &[&str]) -> CopyData {
        CopyData::Table {
            table: name.split('.').map(String::from).collect(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn current_and_legacy_option_forms() {
        let s = parse_copy(
            "COPY t (a, b) FROM STDIN WITH (FORMAT csv, HEADER, DELIMITER ';', NULL 'x')",
        )
        .unwrap();
        assert_eq!(s.data, table("t", &["a", "b"]));
        assert!(!s.to_client);
        assert!(s.format.csv && s.format.header);
        assert_eq!((s.format.delimiter, s.format.null.as_str()), (';', "x"));

        // psql's \copy ... csv header, and pgbench's plain form.
        let s = parse_copy("COPY public.t FROM STDIN WITH CSV HEADER").unwrap();
        assert_eq!(s.data, table("public.t", &[]));
        assert!(s.format.csv && s.format.header);
        assert_eq!((s.format.delimiter, s.format.null.as_str()), (',', ""));
        let s = parse_copy("copy pgbench_accounts from stdin").unwrap();
        assert!(!s.format.csv && !s.format.header);
        assert_eq!((s.format.delimiter, s.format.null.as_str()), ('\t', "\\N"));
        let s = parse_copy("copy pgbench_accounts from stdin with (freeze)").unwrap();
        assert_eq!(s.data, table("pgbench_accounts", &[]));
        let s = parse_copy("COPY t FROM STDIN DELIMITER '|' NULL 'none';").unwrap();
        assert_eq!((s.format.delimiter, s.format.null.as_str()), ('|', "none"));
    }

    #[test]
    fn copy_to_stdout_of_a_table_or_query() {
        let s =
            parse_copy("COPY (SELECT a FROM t WHERE a > 1) TO STDOUT WITH (FORMAT csv)").unwrap();
        assert_eq!(
            s.data,
            CopyData::Query("SELECT a FROM t WHERE a > 1".into())
        );
        assert!(s.to_client && s.format.csv);
        let s = parse_copy("COPY t TO STDOUT").unwrap();
        assert_eq!(s.data, table("t", &[]));
    }

    #[test]
    fn forms_that_cannot_run_are_refused() {
        for sql in [
            "COPY t FROM '/etc/passwd'",
            "COPY t TO PROGRAM 'rm -rf /'",
            "COPY t FROM STDIN WITH (FORMAT binary)",
            "COPY t FROM STDIN BINARY",
            "COPY t TO STDIN",
        ] {
            assert!(
                matches!(parse_copy(sql), Err(ParseError::Unsupported(_))),
                "{sql}: {:?}",
                parse_copy(sql)
            );
        }
        assert!(matches!(
            parse_copy("COPY t FROM STDIN WITH (FORMAT json)"),
            Err(ParseError::InvalidArgument(_))
        ));
        assert!(matches!(
            parse_copy("COPY t FROM"),
            Err(ParseError::Syntax { .. })
        ));
    }
}
