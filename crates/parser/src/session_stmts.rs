//! Statements about the session and the schema: databases, USE, SHOW, DESCRIBE, SET, KILL, transactions.

use sqlparser::tokenizer::Token;

use super::cursor::Cursor;
use super::{if_exists, if_not_exists, show_filter, Command, SetTarget, ShowFilter, TableRef};
use crate::error::{ParseError, Result};

pub(super) fn parse(c: &mut Cursor) -> Result<Option<Command>> {
    let cmd = if c.eat_words(&["CREATE", "DATABASE"]) || c.eat_words(&["CREATE", "SCHEMA"]) {
        let if_not_exists = if_not_exists(c);
        let name = c.name()?;
        // Character set and collation options are accepted: every database is UTF-8.
        while c.eat_word("DEFAULT")
            || c.eat_word("CHARSET")
            || c.eat_words(&["CHARACTER", "SET"])
            || c.eat_word("COLLATE")
        {
            c.eat_eq();
            if !c.is_word("CHARSET") && !c.is_word("CHARACTER") && !c.is_word("COLLATE") {
                c.literal_text()?;
            }
        }
        Command::CreateDatabase {
            name,
            if_not_exists,
        }
    } else if c.eat_words(&["DROP", "DATABASE"]) || c.eat_words(&["DROP", "SCHEMA"]) {
        let if_exists = if_exists(c);
        Command::DropDatabase {
            name: c.name()?,
            if_exists,
        }
    } else if c.eat_word("USE") {
        Command::Use(c.name()?)
    } else if c.eat_word("SHOW") {
        show(c)?
    } else if c.is_word("DESC") || c.is_word("DESCRIBE") || c.is_word("EXPLAIN") {
        let is_statement = [
            "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "FORMAT", "ANALYZE", "EXTENDED",
            "QUERY", "REPLACE",
        ]
        .iter()
        .any(|kw| c.is_word_at(1, kw));
        if is_statement || matches!(c.peek_nth(1), Some(Token::LParen)) {
            return Ok(None);
        }
        c.advance();
        let table = table_ref(c)?;
        let filter = match c.peek() {
            Some(Token::SingleQuotedString(_)) => ShowFilter::Like(c.string()?),
            Some(Token::Word(_)) => ShowFilter::Like(c.name()?),
            _ => ShowFilter::None,
        };
        Command::ShowColumns {
            full: false,
            table,
            filter,
        }
    } else if c.is_word("CANCEL") && (c.is_word_at(1, "QUERY") || c.is_word_at(1, "SESSION")) {
        c.advance();
        let query_only = c.eat_word("QUERY");
        if !query_only {
            c.expect_word("SESSION")?;
        }
        let _ = c.eat_words(&["IF", "EXISTS"]);
        // Query and session ids are the connection id here (one statement runs per session at a time).
        let text = c.literal_text()?;
        let id = text
            .trim()
            .parse::<u64>()
            .map_err(|_| ParseError::UnknownThread(0))?;
        Command::Kill { query_only, id }
    } else if c.eat_word("KILL") {
        let query_only = c.eat_word("QUERY");
        if !query_only {
            c.eat_word("CONNECTION");
        }
        let id = c.integer()?;
        Command::Kill {
            query_only,
            id: id as u64,
        }
    } else if c.eat_word("SET") {
        set(c)?
    } else if c.eat_word("BEGIN") {
        let _ = c.eat_word("WORK") || c.eat_word("TRANSACTION");
        // PostgreSQL's transaction modes (`ISOLATION LEVEL ...`, `READ WRITE`): every transaction here
        // is serializable and may write.
        if ["ISOLATION", "READ", "NOT", "DEFERRABLE"]
            .iter()
            .any(|w| c.is_word(w))
        {
            while !c.at_end() {
                c.advance();
            }
        }
        Command::Begin
    } else if c.eat_words(&["START", "TRANSACTION"]) {
        // `WITH CONSISTENT SNAPSHOT` / `READ WRITE`: every SQLite transaction reads one snapshot already.
        while !c.at_end() {
            c.advance();
        }
        Command::Begin
    } else if c.eat_word("COMMIT") || c.eat_word("END") {
        // `END` is PostgreSQL's COMMIT (pgbench's scripts end with it).
        let _ = c.eat_word("WORK") || c.eat_word("TRANSACTION");
        Command::Commit
    } else if c.eat_word("ABORT") {
        let _ = c.eat_word("WORK") || c.eat_word("TRANSACTION");
        Command::Rollback
    } else if c.eat_word("DISCARD") {
        if !(c.eat_word("ALL")
            || c.eat_word("PLANS")
            || c.eat_word("SEQUENCES")
            || c.eat_word("TEMP")
            || c.eat_word("TEMPORARY"))
        {
            return Err(c.error());
        }
        Command::Housekeeping
    } else if c.eat_word("DEALLOCATE") {
        c.eat_word("PREPARE");
        if !c.eat_word("ALL") {
            c.name()?;
        }
        Command::Housekeeping
    } else if c.is_word("VACUUM") || (c.is_word("ANALYZE") && !c.is_word_at(1, "TABLE")) {
        // Options and table names are read past: nothing is done to them. SQLite's `VACUUM INTO 'file'`
        // writes a file, so it is refused, never a no-op that claims success.
        while !c.at_end() {
            if c.is_word("INTO") {
                return Err(c.error());
            }
            c.advance();
        }
        Command::Housekeeping
    } else if c.is_word("LOCK") && (c.is_word_at(1, "TABLES") || c.is_word_at(1, "TABLE")) {
        // Table locks are implicit: a SQLite write transaction locks its whole database, and each
        // statement outside a transaction is one. The list is read past, not checked.
        while !c.at_end() {
            c.advance();
        }
        Command::LockTables
    } else if c.eat_words(&["UNLOCK", "TABLES"]) || c.eat_words(&["UNLOCK", "TABLE"]) {
        Command::UnlockTables
    } else if keys_toggle(c) {
        // mysqldump's `/*!40000 ALTER TABLE t DISABLE KEYS */`: SQLite has no deferred index
        // maintenance, so the table's indexes simply stay enabled.
        c.advance();
        c.advance();
        let table = table_ref(c)?;
        c.advance();
        c.advance();
        Command::TableKeys(table)
    } else if c.eat_word("ROLLBACK") {
        c.eat_word("WORK");
        if c.eat_word("TO") {
            c.eat_word("SAVEPOINT");
            Command::RollbackToSavepoint(c.name()?)
        } else {
            Command::Rollback
        }
    } else if c.eat_word("SAVEPOINT") {
        Command::Savepoint(c.name()?)
    } else if c.eat_word("RELEASE") {
        c.eat_word("SAVEPOINT");
        Command::ReleaseSavepoint(c.name()?)
    } else {
        return Ok(None);
    };
    c.expect_end()?;
    Ok(Some(cmd))
}

fn show(c: &mut Cursor) -> Result<Command> {
    let full = c.eat_word("FULL");
    let global = c.eat_word("GLOBAL");
    if !global {
        let _ = c.eat_word("SESSION") || c.eat_word("LOCAL");
    }
    let cmd = if c.eat_word("DATABASES") || c.eat_word("SCHEMAS") {
        Command::ShowDatabases(show_filter(c)?)
    } else if c.eat_word("TABLES") {
        let db = if c.eat_word("FROM") || c.eat_word("IN") {
            Some(c.name()?)
        } else {
            None
        };
        Command::ShowTables {
            full,
            db,
            filter: show_filter(c)?,
        }
    } else if c.eat_words(&["TABLE", "STATUS"]) {
        let db = if c.eat_word("FROM") || c.eat_word("IN") {
            Some(c.name()?)
        } else {
            None
        };
        Command::ShowTableStatus {
            db,
            filter: show_filter(c)?,
        }
    } else if c.eat_word("COLUMNS") || c.eat_word("FIELDS") {
        if !(c.eat_word("FROM") || c.eat_word("IN")) {
            return Err(c.error());
        }
        let mut table = table_ref(c)?;
        if c.eat_word("FROM") || c.eat_word("IN") {
            table.db = Some(c.name()?);
        }
        Command::ShowColumns {
            full,
            table,
            filter: show_filter(c)?,
        }
    } else if c.eat_words(&["CREATE", "TABLE"]) {
        Command::ShowCreateTable(table_ref(c)?)
    } else if c.eat_words(&["CREATE", "DATABASE"]) || c.eat_words(&["CREATE", "SCHEMA"]) {
        let _ = if_not_exists(c);
        Command::ShowCreateDatabase(c.name()?)
    } else if c.eat_word("INDEX") || c.eat_word("INDEXES") || c.eat_word("KEYS") {
        if !(c.eat_word("FROM") || c.eat_word("IN")) {
            return Err(c.error());
        }
        let mut table = table_ref(c)?;
        if c.eat_word("FROM") || c.eat_word("IN") {
            table.db = Some(c.name()?);
        }
        Command::ShowIndex(table)
    } else if c.eat_word("SESSIONS")
        || (c.is_word("ALL") && c.is_word_at(1, "SESSIONS") && {
            c.advance();
            c.eat_word("SESSIONS")
        })
    {
        Command::ShowSessions { queries: false }
    } else if c.eat_word("QUERIES")
        || (c.is_word("ALL") && c.is_word_at(1, "QUERIES") && {
            c.advance();
            c.eat_word("QUERIES")
        })
    {
        Command::ShowSessions { queries: true }
    } else if c.eat_word("PROCESSLIST") {
        Command::ShowProcesslist { full }
    } else if c.eat_word("VARIABLES") {
        Command::ShowVariables(show_filter(c)?)
    } else if (c.is_word("FUNCTION") || c.is_word("PROCEDURE")) && c.is_word_at(1, "STATUS") {
        // mysqldump --routines: there are no stored routines, the list is empty.
        c.advance();
        c.advance();
        show_filter(c)?;
        Command::ShowStatic("routines")
    } else if c.eat_word("TRIGGERS") {
        // mysqldump --triggers: there are no triggers.
        if c.eat_word("FROM") || c.eat_word("IN") {
            c.name()?;
        }
        show_filter(c)?;
        Command::ShowStatic("triggers")
    } else if c.eat_word("STATUS") {
        Command::ShowStatus(show_filter(c)?)
    } else if c.eat_word("WARNINGS") || c.eat_word("ERRORS") {
        if c.eat_word("LIMIT") {
            c.literal_text()?;
        }
        Command::ShowWarnings
    } else if c.eat_words(&["CHARACTER", "SET"]) || c.eat_word("CHARSET") {
        show_filter(c)?;
        Command::ShowStatic("charset")
    } else if c.eat_word("COLLATION") {
        show_filter(c)?;
        Command::ShowStatic("collation")
    } else if c.eat_word("ENGINES") {
        Command::ShowStatic("engines")
    } else if c.eat_words(&["TIME", "ZONE"]) {
        Command::ShowSetting("timezone".into())
    } else if c.eat_words(&["TRANSACTION", "ISOLATION", "LEVEL"]) {
        Command::ShowSetting("transaction_isolation".into())
    } else if matches!(c.peek(), Some(Token::Word(_))) && c.peek_nth(1).is_none() {
        // PostgreSQL's `SHOW application_name`: one setting, by name.
        Command::ShowSetting(c.name()?.to_ascii_lowercase())
    } else {
        return Err(ParseError::Unsupported(format!(
            "SHOW {}",
            c.rest().chars().take(60).collect::<String>()
        )));
    };
    Ok(cmd)
}

/// Whether the statement is `ALTER TABLE [db.]t {DISABLE | ENABLE} KEYS`.
fn keys_toggle(c: &Cursor) -> bool {
    if !(c.is_word("ALTER") && c.is_word_at(1, "TABLE")) {
        return false;
    }
    let name_len = if matches!(c.peek_nth(3), Some(Token::Period)) {
        3
    } else {
        1
    };
    let at = 2 + name_len;
    (c.is_word_at(at, "DISABLE") || c.is_word_at(at, "ENABLE")) && c.is_word_at(at + 1, "KEYS")
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

fn set(c: &mut Cursor) -> Result<Command> {
    if c.eat_word("NAMES") || c.eat_word("CHARSET") || c.eat_words(&["CHARACTER", "SET"]) {
        let charset = c.literal_text()?;
        if c.eat_word("COLLATE") {
            c.literal_text()?;
        }
        return Ok(Command::Set(
            [
                "character_set_client",
                "character_set_connection",
                "character_set_results",
            ]
            .iter()
            .map(|v| (SetTarget::Session(v.to_string()), format!("'{charset}'")))
            .collect(),
        ));
    }
    let _ = c.eat_word("SESSION") || c.eat_word("LOCAL") || c.eat_word("GLOBAL");
    // PostgreSQL's `SET SESSION CHARACTERISTICS AS TRANSACTION ...` is the same no-op as MySQL's form.
    if c.eat_words(&["CHARACTERISTICS", "AS"]) && !c.is_word("TRANSACTION") {
        return Err(c.error());
    }
    // PostgreSQL's `SET TIME ZONE 'UTC'` / `SET TIME ZONE LOCAL`.
    if c.eat_words(&["TIME", "ZONE"]) {
        let value = c.expression_text()?;
        return Ok(Command::Set(vec![(
            SetTarget::Session("timezone".into()),
            value,
        )]));
    }
    if c.eat_word("TRANSACTION") {
        // Isolation levels and access modes: SQLite transactions are serializable, which satisfies every level.
        while !c.at_end() {
            c.advance();
        }
        return Ok(Command::Set(Vec::new()));
    }
    let mut assignments = Vec::new();
    loop {
        let target = set_target(c)?;
        // PostgreSQL writes `SET name TO value` as well as `=`.
        if !(c.eat(&Token::Eq) || c.eat(&Token::Assignment) || c.eat_word("TO")) {
            return Err(c.error());
        }
        let mut value = c.expression_text()?;
        // A PostgreSQL list value (`SET search_path = public, "$user"`): after a comma, what is not a
        // new `name =` assignment continues the value, which is kept as one string.
        let mut list = Vec::new();
        while matches!(c.peek(), Some(Token::Comma))
            && !matches!(
                c.peek_nth(2),
                Some(Token::Eq | Token::Assignment | Token::Period)
            )
            && !c.is_word_at(2, "TO")
        {
            c.advance();
            list.push(c.expression_text()?);
        }
        if !list.is_empty() {
            list.insert(0, value);
            let joined = list
                .iter()
                .map(|v| list_item(v))
                .collect::<Vec<_>>()
                .join(", ");
            value = format!("'{}'", joined.replace('\'', "''"));
        }
        assignments.push((target, value));
        if !c.eat(&Token::Comma) {
            break;
        }
    }
    Ok(Command::Set(assignments))
}

/// One item of a PostgreSQL list value as PostgreSQL shows it: a string's text, a quoted name (which the
/// PostgreSQL front end hands over back-quoted) in double quotes, anything else as written.
fn list_item(v: &str) -> String {
    match v.strip_prefix('`').and_then(|v| v.strip_suffix('`')) {
        Some(name) => format!("\"{}\"", name.replace("``", "`").replace('"', "\"\"")),
        None => v.trim_matches('\'').to_string(),
    }
}

fn set_target(c: &mut Cursor) -> Result<SetTarget> {
    let mut global = false;
    if c.eat_word("GLOBAL") {
        global = true;
    } else {
        let _ = c.eat_word("SESSION") || c.eat_word("LOCAL");
    }
    let word = c.name()?;
    if let Some(rest) = word.strip_prefix("@@") {
        let (scope, name) = if c.eat(&Token::Period) {
            (rest.to_ascii_lowercase(), c.name()?)
        } else {
            (String::new(), rest.to_string())
        };
        let name = name.to_ascii_lowercase();
        return Ok(if scope == "global" {
            SetTarget::Global(name)
        } else {
            SetTarget::Session(name)
        });
    }
    if let Some(user_var) = word.strip_prefix('@') {
        return Ok(SetTarget::User(user_var.to_ascii_lowercase()));
    }
    let name = word.to_ascii_lowercase();
    Ok(if global {
        SetTarget::Global(name)
    } else {
        SetTarget::Session(name)
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::cmd;
    use super::super::{parse as parse_any, Command, Parsed, SetTarget, ShowFilter, TableRef};

    #[test]
    fn set_forms() {
        assert_eq!(
            cmd("SET autocommit = 0, @@session.sql_mode = 'ANSI', @x := 1 + 2"),
            Command::Set(vec![
                (SetTarget::Session("autocommit".into()), "0".into()),
                (SetTarget::Session("sql_mode".into()), "'ANSI'".into()),
                (SetTarget::User("x".into()), "1 + 2".into()),
            ])
        );
        assert!(matches!(cmd("SET NAMES utf8mb4"), Command::Set(v) if v.len() == 3));
        assert_eq!(
            cmd("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"),
            Command::Set(vec![])
        );
    }

    #[test]
    fn show_and_describe() {
        assert_eq!(
            cmd("SHOW FULL TABLES FROM db1 LIKE 't%'"),
            Command::ShowTables {
                full: true,
                db: Some("db1".into()),
                filter: ShowFilter::Like("t%".into())
            }
        );
        assert_eq!(
            cmd("DESC db1.t"),
            Command::ShowColumns {
                full: false,
                table: TableRef {
                    db: Some("db1".into()),
                    table: "t".into()
                },
                filter: ShowFilter::None
            }
        );
        assert!(matches!(
            parse_any("EXPLAIN SELECT 1").unwrap(),
            Parsed::Tenant(_)
        ));
        assert_eq!(
            cmd("KILL QUERY 12"),
            Command::Kill {
                query_only: true,
                id: 12
            }
        );
    }
}
