use rusqlite::params;

use crate::{Catalog, CatalogError, Result};

/// A privilege that can be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Privilege {
    /// Every privilege of its level.
    All,
    /// SELECT.
    Select,
    /// INSERT.
    Insert,
    /// UPDATE.
    Update,
    /// DELETE.
    Delete,
    /// CREATE (databases, tables).
    Create,
    /// DROP.
    Drop,
    /// FILE: server-side file reads (`LOAD DATA INFILE`, `IMPORT` from the external-IO directory). Global only.
    File,
    /// ALTER TABLE.
    Alter,
    /// CREATE / DROP INDEX.
    Index,
    /// Control (cancel, pause, resume) other non-admin users' jobs of the tenant.
    ControlJob,
    /// View other non-admin users' jobs of the tenant.
    ViewJob,
    /// CREATE CHANGEFEED on a table (CockroachDB's): its changes may go to a sink without SELECT on it.
    Changefeed,
}

impl Privilege {
    /// Every privilege that `ALL` stands for, in the order MySQL lists them.
    pub const EACH: [Privilege; 12] = [
        Privilege::Select,
        Privilege::Insert,
        Privilege::Update,
        Privilege::Delete,
        Privilege::Create,
        Privilege::Drop,
        Privilege::File,
        Privilege::Alter,
        Privilege::Index,
        Privilege::ControlJob,
        Privilege::ViewJob,
        Privilege::Changefeed,
    ];

    /// The keyword as written in GRANT.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "ALL",
            Self::Select => "SELECT",
            Self::Insert => "INSERT",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
            Self::Create => "CREATE",
            Self::Drop => "DROP",
            Self::File => "FILE",
            Self::Alter => "ALTER",
            Self::Index => "INDEX",
            Self::ControlJob => "CONTROLJOB",
            Self::ViewJob => "VIEWJOB",
            Self::Changefeed => "CHANGEFEED",
        }
    }

    /// Whether it can only be granted `ON *.*` (MySQL's global privileges).
    pub fn is_global_only(self) -> bool {
        self == Self::File
    }

    /// Whether it can be granted on one table (MySQL's table privileges; jobs and files are not a table's).
    pub fn applies_to_tables(self) -> bool {
        !matches!(self, Self::File | Self::ControlJob | Self::ViewJob)
    }

    /// Parses a privilege keyword in any case (`ALL PRIVILEGES` is given as `ALL`).
    pub fn parse(s: &str) -> Option<Self> {
        let upper = s.to_ascii_uppercase();
        if upper == "ALL" {
            return Some(Self::All);
        }
        Self::EACH.into_iter().find(|p| p.as_str() == upper)
    }
}

/// Where a grant applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantLevel {
    /// `*.*`: every database of the tenant.
    Global,
    /// `db.*`: one database.
    Database(String),
    /// `db.t`: one table (database, table).
    Table(String, String),
}

impl GrantLevel {
    /// How the level is stored: `*`, the database's name, or `db.table` (a database name holds no `.`, so
    /// the first one ends it).
    pub fn key(&self) -> String {
        match self {
            Self::Global => "*".to_string(),
            Self::Database(db) => db.clone(),
            Self::Table(db, table) => format!("{db}.{table}"),
        }
    }

    /// The level a stored key stands for.
    pub fn from_key(key: String) -> Self {
        if key == "*" {
            return Self::Global;
        }
        match key.split_once('.') {
            Some((db, table)) => Self::Table(db.to_string(), table.to_string()),
            None => Self::Database(key),
        }
    }
}

/// One granted privilege.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Grant {
    /// Where it applies.
    pub level: GrantLevel,
    /// What it allows.
    pub privilege: Privilege,
}

impl Catalog {
    /// What a user may do: its own grants and those of every role it holds, directly or through others.
    pub fn effective_grants(&self, tenant_id: i64, user: &str) -> Result<Vec<Grant>> {
        let mut all = self.grants(tenant_id, user)?;
        for role in self.roles_of(tenant_id, user)? {
            all.extend(self.grants(tenant_id, &role)?);
        }
        all.sort();
        all.dedup();
        Ok(all)
    }

    /// Every privilege granted to a user itself (not through its roles).
    pub fn grants(&self, tenant_id: i64, user: &str) -> Result<Vec<Grant>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare(
            "SELECT db, privilege FROM grants WHERE tenant_id = ?1 AND user_name = ?2 ORDER BY db, privilege",
        )?;
        let rows = stmt.query_map(params![tenant_id, user], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut grants = Vec::new();
        for row in rows {
            let (db, privilege) = row?;
            if let Some(privilege) = Privilege::parse(&privilege) {
                grants.push(Grant {
                    level: GrantLevel::from_key(db),
                    privilege,
                });
            }
        }
        Ok(grants)
    }

    /// Grants privileges to an existing user (granting what is held already is a no-op).
    pub fn grant(
        &self,
        tenant_id: i64,
        user: &str,
        level: &GrantLevel,
        privileges: &[Privilege],
    ) -> Result<()> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        ensure_user(&tx, tenant_id, user)?;
        for p in privileges {
            tx.execute(
                "INSERT OR IGNORE INTO grants VALUES (?1, ?2, ?3, ?4)",
                params![tenant_id, user, level.key(), p.as_str()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Revokes privileges; revoking one privilege out of `ALL` leaves the others, as MySQL does.
    pub fn revoke(
        &self,
        tenant_id: i64,
        user: &str,
        level: &GrantLevel,
        privileges: &[Privilege],
    ) -> Result<()> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        ensure_user(&tx, tenant_id, user)?;
        let key = level.key();
        if privileges.contains(&Privilege::All) {
            tx.execute(
                "DELETE FROM grants WHERE tenant_id = ?1 AND user_name = ?2 AND db = ?3",
                params![tenant_id, user, key],
            )?;
        } else {
            let had_all = tx.execute(
                "DELETE FROM grants WHERE tenant_id = ?1 AND user_name = ?2 AND db = ?3 AND privilege = 'ALL'",
                params![tenant_id, user, key],
            )? > 0;
            if had_all {
                let global = matches!(level, GrantLevel::Global);
                let table = matches!(level, GrantLevel::Table(..));
                for p in Privilege::EACH
                    .into_iter()
                    .filter(|p| global || !p.is_global_only())
                    .filter(|p| !table || p.applies_to_tables())
                {
                    tx.execute(
                        "INSERT OR IGNORE INTO grants VALUES (?1, ?2, ?3, ?4)",
                        params![tenant_id, user, key, p.as_str()],
                    )?;
                }
            }
            for p in privileges {
                tx.execute(
                    "DELETE FROM grants WHERE tenant_id = ?1 AND user_name = ?2 AND db = ?3 AND privilege = ?4",
                    params![tenant_id, user, key, p.as_str()],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

fn ensure_user(tx: &rusqlite::Transaction, tenant_id: i64, user: &str) -> Result<()> {
    let exists: bool = tx.query_row(
        "SELECT EXISTS(SELECT 1 FROM users WHERE tenant_id = ?1 AND user_name = ?2)",
        params![tenant_id, user],
        |r| r.get(0),
    )?;
    if exists {
        Ok(())
    } else {
        Err(CatalogError::UserNotExist(user.to_string()))
    }
}
