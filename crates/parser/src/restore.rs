//! Restore statements: OceanBase's `ALTER SYSTEM RESTORE` / `ALTER SYSTEM CANCEL RESTORE`, and CockroachDB's
//! `SHOW BACKUPS IN`, `SHOW BACKUP ... IN`, `RESTORE DATABASE | TABLE ... FROM ... IN`, and the 2.x forms
//! `RESTORE db.* FROM 'uri'` / `RESTORE [TABLE] db.t FROM 'uri'` (the latest set at `uri`).

use sqlparser::tokenizer::Token;

use super::cursor::Cursor;
use super::Command;
use crate::error::{ParseError, Result};

/// UNTIL of `ALTER SYSTEM RESTORE`.
#[derive(Debug, Clone, PartialEq)]
pub enum RestoreUntil {
    /// `UNTIL TIME = 'YYYY-MM-DD HH:MM:SS[.ffffff]'`.
    Time(String),
    /// `UNTIL SCN = n`.
    Scn(i64),
}

/// What a CockroachDB RESTORE restores.
#[derive(Debug, Clone, PartialEq)]
pub enum RestoreObject {
    /// `RESTORE DATABASE d`.
    Database(String),
    /// `RESTORE TABLE [d.]t`.
    Table {
        /// The database, if named.
        db: Option<String>,
        /// The table.
        table: String,
    },
}

pub(super) fn parse(c: &mut Cursor) -> Result<Option<Command>> {
    let cmd = if c.eat_words(&["ALTER", "SYSTEM", "RESTORE"]) {
        restore_tenant(c)?
    } else if c.eat_words(&["ALTER", "SYSTEM", "CANCEL", "RESTORE"]) {
        Command::CancelRestore(c.name()?)
    } else if c.eat_words(&["SHOW", "BACKUPS", "IN"]) {
        Command::ShowBackups { uri: c.string()? }
    } else if c.eat_words(&["SHOW", "BACKUP"]) {
        c.eat_word("FROM");
        let subdir = subdir(c)?;
        c.expect_word("IN")?;
        Command::ShowBackup {
            subdir,
            uri: c.string()?,
        }
    } else if c.is_word("RESTORE") && (c.is_word_at(1, "DATABASE") || c.is_word_at(1, "TABLE")) {
        c.advance();
        restore_into(c)?
    } else if c.is_word("RESTORE")
        && matches!(c.peek_nth(1), Some(Token::Word(_)))
        && c.peek_nth(2) == Some(&Token::Period)
    {
        // CockroachDB 2.x: `RESTORE db.* FROM` (the database's tables) or `RESTORE db.t FROM`.
        c.advance();
        restore_into(c)?
    } else {
        return Ok(None);
    };
    c.expect_end()?;
    Ok(Some(cmd))
}

/// `LATEST` (None) or a set's path.
fn subdir(c: &mut Cursor) -> Result<Option<String>> {
    if c.eat_word("LATEST") {
        Ok(None)
    } else {
        Ok(Some(c.string()?))
    }
}

fn restore_tenant(c: &mut Cursor) -> Result<Command> {
    let name = c.name()?;
    c.expect_word("FROM")?;
    c.eat_eq();
    let uri = c.string()?;
    let mut until = None;
    let mut options = None;
    let mut description = String::new();
    loop {
        if c.eat_word("UNTIL") {
            if c.eat_word("TIME") {
                c.eat_eq();
                until = Some(RestoreUntil::Time(c.string()?));
            } else {
                c.expect_word("SCN")?;
                c.eat_eq();
                until = Some(RestoreUntil::Scn(c.integer()?));
            }
        } else if c.eat_word("WITH") {
            options = Some(c.string()?);
        } else if c.eat_word("DESCRIPTION") {
            c.eat_eq();
            description = c.string()?;
        } else {
            break;
        }
    }
    let options = options.ok_or_else(|| {
        ParseError::InvalidArgument("ALTER SYSTEM RESTORE needs WITH 'pool_list=<pool>'".into())
    })?;
    let pool = options
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("pool_list"))
        .map(|(_, v)| {
            v.trim()
                .trim_matches(|ch| ch == '(' || ch == ')')
                .to_string()
        })
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            ParseError::InvalidArgument(format!(
                "restore option '{options}' names no pool (use WITH 'pool_list=<pool>')"
            ))
        })?;
    if pool.contains(',') {
        return Err(ParseError::Unsupported(
            "restoring into more than one resource pool".into(),
        ));
    }
    Ok(Command::RestoreTenant {
        name,
        uri,
        until,
        pool,
        description,
    })
}

fn restore_into(c: &mut Cursor) -> Result<Command> {
    let object = if c.eat_word("DATABASE") {
        RestoreObject::Database(c.name()?.to_ascii_lowercase())
    } else {
        c.eat_word("TABLE");
        let first = c.name()?;
        if c.eat(&Token::Period) {
            // `db.*` is every table of db: the database, restored whole.
            if c.eat(&Token::Mul) {
                RestoreObject::Database(first.to_ascii_lowercase())
            } else {
                RestoreObject::Table {
                    db: Some(first.to_ascii_lowercase()),
                    table: c.name()?,
                }
            }
        } else {
            RestoreObject::Table {
                db: None,
                table: first,
            }
        }
    };
    c.expect_word("FROM")?;
    // `FROM 'uri'` alone (2.x) names the destination and means its latest set; `FROM x IN 'uri'` names both.
    let (subdir, uri) = if c.eat_word("LATEST") {
        c.expect_word("IN")?;
        (None, c.string()?)
    } else {
        let first = c.string()?;
        if c.eat_word("IN") {
            (Some(first), c.string()?)
        } else {
            (None, first)
        }
    };
    let mut new_db_name = None;
    let mut detached = false;
    if c.eat_word("WITH") {
        loop {
            if c.eat_word("DETACHED") {
                detached = true;
            } else if c.eat_word("NEW_DB_NAME") {
                c.eat_eq();
                new_db_name = Some(c.literal_text()?.to_ascii_lowercase());
            } else {
                return Err(ParseError::Unsupported(format!(
                    "RESTORE option {}",
                    c.rest().chars().take(30).collect::<String>()
                )));
            }
            if !c.eat(&Token::Comma) {
                break;
            }
        }
    }
    Ok(Command::RestoreInto {
        object,
        subdir,
        uri,
        new_db_name,
        detached,
    })
}
