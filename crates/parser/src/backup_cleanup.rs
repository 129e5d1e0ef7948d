//! Backup cleanup statements (OceanBase's): delete policies, `DELETE BACKUPSET`, `CANCEL DELETE BACKUP`.

use sqlparser::tokenizer::Token;

use super::cursor::Cursor;
use super::Command;
use crate::error::Result;

pub(super) fn parse(c: &mut Cursor) -> Result<Option<Command>> {
    let cmd = if c.eat_words(&["ALTER", "SYSTEM", "ADD", "DELETE", "BACKUP", "POLICY"]) {
        c.eat_eq();
        let name = c.string()?;
        let mut recovery_window = None;
        if c.eat_word("RECOVERY_WINDOW") {
            c.eat_eq();
            recovery_window = Some(c.string()?);
        }
        Command::AddDeleteBackupPolicy {
            name,
            recovery_window,
            tenant: tenant(c)?,
        }
    } else if c.eat_words(&["ALTER", "SYSTEM", "DROP", "DELETE", "BACKUP", "POLICY"]) {
        c.eat_eq();
        let name = c.string()?;
        Command::DropDeleteBackupPolicy {
            name,
            tenant: tenant(c)?,
        }
    } else if c.eat_words(&["ALTER", "SYSTEM", "DELETE", "BACKUPSET"]) {
        c.eat_eq();
        let mut set_ids = vec![c.integer()?];
        while c.eat(&Token::Comma) {
            set_ids.push(c.integer()?);
        }
        Command::DeleteBackupSets {
            set_ids,
            tenant: tenant(c)?,
        }
    } else if c.eat_words(&["ALTER", "SYSTEM", "CANCEL", "DELETE", "BACKUP"]) {
        Command::CancelDeleteBackup { tenant: tenant(c)? }
    } else {
        return Ok(None);
    };
    c.expect_end()?;
    Ok(Some(cmd))
}

/// `[TENANT [=] t]`.
fn tenant(c: &mut Cursor) -> Result<Option<String>> {
    if c.eat_word("TENANT") {
        c.eat_eq();
        Ok(Some(c.name()?))
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::cmd;
    use crate::{parse, Command};

    #[test]
    fn cleanup_statements() {
        assert_eq!(
            cmd("ALTER SYSTEM ADD DELETE BACKUP POLICY 'default' RECOVERY_WINDOW '7d'"),
            Command::AddDeleteBackupPolicy {
                name: "default".into(),
                recovery_window: Some("7d".into()),
                tenant: None
            }
        );
        assert_eq!(
            cmd("alter system add delete backup policy = 'default' recovery_window = '1d' tenant = t1;"),
            Command::AddDeleteBackupPolicy {
                name: "default".into(),
                recovery_window: Some("1d".into()),
                tenant: Some("t1".into())
            }
        );
        assert_eq!(
            cmd("ALTER SYSTEM DROP DELETE BACKUP POLICY 'default' TENANT t1"),
            Command::DropDeleteBackupPolicy {
                name: "default".into(),
                tenant: Some("t1".into())
            }
        );
        assert_eq!(
            cmd("ALTER SYSTEM DELETE BACKUPSET 3, 4"),
            Command::DeleteBackupSets {
                set_ids: vec![3, 4],
                tenant: None
            }
        );
        assert_eq!(
            cmd("ALTER SYSTEM CANCEL DELETE BACKUP TENANT = t1"),
            Command::CancelDeleteBackup {
                tenant: Some("t1".into())
            }
        );
        assert_eq!(
            cmd("ALTER SYSTEM CANCEL BACKUP"),
            Command::CancelBackup { tenants: None }
        );
        for bad in [
            "ALTER SYSTEM ADD DELETE BACKUP POLICY default",
            "ALTER SYSTEM DELETE BACKUPSET",
            "ALTER SYSTEM DELETE BACKUPSET 1 extra",
            "ALTER SYSTEM CANCEL DELETE BACKUP TENANT",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
