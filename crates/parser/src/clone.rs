//! Tenant snapshots and clones: `ALTER SYSTEM CREATE | DROP SNAPSHOT`, `CREATE TENANT new FROM source ...`,
//! `ALTER SYSTEM CANCEL CLONE`.

use sqlparser::tokenizer::Token;

use super::cursor::Cursor;
use super::Command;
use crate::error::{ParseError, Result};

pub(super) fn parse(c: &mut Cursor) -> Result<Option<Command>> {
    let cmd = if c.eat_words(&["ALTER", "SYSTEM", "CREATE", "SNAPSHOT"]) {
        let name = if c.at_end() || c.is_word("FOR") {
            None
        } else {
            Some(c.name()?)
        };
        Command::CreateSnapshot {
            name,
            tenant: for_tenant(c)?,
        }
    } else if c.eat_words(&["ALTER", "SYSTEM", "DROP", "SNAPSHOT"]) {
        let name = c.name()?;
        Command::DropSnapshot {
            name,
            tenant: for_tenant(c)?,
        }
    } else if c.eat_words(&["ALTER", "SYSTEM", "CANCEL", "CLONE"]) {
        Command::CancelClone(c.name()?)
    } else if is_clone(c) {
        c.advance();
        c.advance();
        if c.eat_words(&["IF", "NOT", "EXISTS"]) {
            return Err(ParseError::Unsupported(
                "IF NOT EXISTS with CREATE TENANT ... FROM".into(),
            ));
        }
        clone_tenant(c)?
    } else {
        return Ok(None);
    };
    c.expect_end()?;
    Ok(Some(cmd))
}

/// `CREATE TENANT [IF NOT EXISTS] name FROM ...`.
fn is_clone(c: &Cursor) -> bool {
    c.is_word("CREATE")
        && c.is_word_at(1, "TENANT")
        && (c.is_word_at(3, "FROM")
            || (c.is_word_at(2, "IF") && c.is_word_at(3, "NOT") && c.is_word_at(6, "FROM")))
}

fn for_tenant(c: &mut Cursor) -> Result<Option<String>> {
    if c.eat_words(&["FOR", "TENANT"]) {
        c.eat_eq();
        Ok(Some(c.name()?))
    } else {
        Ok(None)
    }
}

fn clone_tenant(c: &mut Cursor) -> Result<Command> {
    let name = c.name()?;
    c.expect_word("FROM")?;
    let source = c.name()?;
    let snapshot = if c.eat_words(&["USING", "SNAPSHOT"]) {
        Some(c.name()?)
    } else {
        None
    };
    c.expect_word("WITH")?;
    let mut pool = None;
    let mut unit = None;
    loop {
        if c.eat_word("RESOURCE_POOL") {
            c.eat_eq();
            pool = Some(c.name()?);
        } else if c.eat_word("UNIT") {
            c.eat_eq();
            unit = Some(c.name()?);
        } else {
            return Err(c.error());
        }
        if !c.eat(&Token::Comma) {
            break;
        }
    }
    let (Some(pool), Some(unit)) = (pool, unit) else {
        return Err(ParseError::InvalidArgument(
            "CREATE TENANT ... FROM needs WITH RESOURCE_POOL = <pool>, UNIT = <unit config>".into(),
        ));
    };
    Ok(Command::CloneTenant {
        name,
        source,
        snapshot,
        pool,
        unit,
    })
}
