use std::collections::HashMap;

use rusqlite::{params, OptionalExtension, Row};

use crate::password::PasswordHash;
use crate::time::now_timestamp;
use crate::{Catalog, CatalogError, Result};

/// A user of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The tenant it belongs to.
    pub tenant_id: i64,
    /// Its name (case-sensitive, as in MySQL).
    pub name: String,
    /// Host pattern; always `%` here.
    pub host: String,
    /// `mysql_native_password` verifier (`*HEX`), empty for no password.
    pub native_hash: String,
    /// SCRAM-SHA-256 verifier, empty for no password.
    pub scram_verifier: String,
    /// The tenant's built-in administrator (root / SYS): every privilege, cannot be dropped.
    pub is_admin: bool,
    /// When it was created.
    pub create_time: String,
    /// Whether it logs in: a role (a group of users, `CREATE ROLE r` without LOGIN) does not.
    pub can_login: bool,
}

impl User {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(Self {
            tenant_id: r.get(0)?,
            name: r.get(1)?,
            host: r.get(2)?,
            native_hash: r.get(3)?,
            scram_verifier: r.get(4)?,
            is_admin: r.get(5)?,
            create_time: r.get(6)?,
            can_login: r.get(7)?,
        })
    }
}

impl Catalog {
    /// The user of that name in a tenant, if any.
    pub fn user(&self, tenant_id: i64, name: &str) -> Result<Option<User>> {
        let conn = self.conn.lock();
        Ok(conn
            .query_row(
                "SELECT * FROM users WHERE tenant_id = ?1 AND user_name = ?2",
                params![tenant_id, name],
                User::from_row,
            )
            .optional()?)
    }

    /// A tenant's users, by name.
    pub fn users(&self, tenant_id: i64) -> Result<Vec<User>> {
        let conn = self.conn.lock();
        let mut stmt =
            conn.prepare("SELECT * FROM users WHERE tenant_id = ?1 ORDER BY user_name")?;
        let rows = stmt.query_map([tenant_id], User::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Creates a user with a password (hashed here; the password is not kept).
    pub fn create_user(&self, tenant_id: i64, name: &str, password: &str) -> Result<User> {
        self.insert_user(tenant_id, name, &PasswordHash::new(password), true)
    }

    /// Creates a role: a user that cannot log in (its verifiers are of a random password nobody knows, so a
    /// login path that missed `can_login` would still fail), whose members hold its grants.
    pub fn create_role(&self, tenant_id: i64, name: &str) -> Result<User> {
        let unknown: String = (0..4)
            .map(|_| format!("{:016x}", rand::random::<u64>()))
            .collect();
        self.insert_user(tenant_id, name, &PasswordHash::new(&unknown), false)
    }

    fn insert_user(
        &self,
        tenant_id: i64,
        name: &str,
        hash: &PasswordHash,
        can_login: bool,
    ) -> Result<User> {
        if name.is_empty() || name.len() > 64 || name.contains(['@', '#', '\0']) {
            return Err(CatalogError::InvalidName(name.to_string()));
        }
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM users WHERE tenant_id = ?1 AND user_name = ?2)",
            params![tenant_id, name],
            |r| r.get(0),
        )?;
        if exists {
            return Err(CatalogError::UserExists(name.to_string()));
        }
        tx.execute(
            "INSERT INTO users (tenant_id, user_name, host, native_hash, scram_verifier, is_admin, create_time, can_login) \
             VALUES (?1, ?2, '%', ?3, ?4, 0, ?5, ?6)",
            params![tenant_id, name, hash.native, hash.scram, now_timestamp(), can_login],
        )?;
        let user = tx.query_row(
            "SELECT * FROM users WHERE tenant_id = ?1 AND user_name = ?2",
            params![tenant_id, name],
            User::from_row,
        )?;
        tx.commit()?;
        Ok(user)
    }

    /// Drops a user and its grants; the tenant's administrator cannot be dropped.
    pub fn drop_user(&self, tenant_id: i64, name: &str) -> Result<()> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if is_admin(&tx, tenant_id, name)? {
            return Err(CatalogError::AdminUser(name.to_string()));
        }
        tx.execute(
            "DELETE FROM grants WHERE tenant_id = ?1 AND user_name = ?2",
            params![tenant_id, name],
        )?;
        tx.execute(
            "DELETE FROM role_members WHERE tenant_id = ?1 AND (role_name = ?2 OR member_name = ?2)",
            params![tenant_id, name],
        )?;
        tx.execute(
            "DELETE FROM users WHERE tenant_id = ?1 AND user_name = ?2",
            params![tenant_id, name],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Makes a user one of the tenant's administrators (CockroachDB's admin role) or takes that away; the
    /// tenant's last administrator keeps it.
    pub fn set_admin(&self, tenant_id: i64, name: &str, admin: bool) -> Result<()> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if is_admin(&tx, tenant_id, name)? && !admin {
            let admins: i64 = tx.query_row(
                "SELECT count(*) FROM users WHERE tenant_id = ?1 AND is_admin",
                params![tenant_id],
                |r| r.get(0),
            )?;
            if admins <= 1 {
                return Err(CatalogError::AdminUser(name.to_string()));
            }
        }
        tx.execute(
            "UPDATE users SET is_admin = ?3 WHERE tenant_id = ?1 AND user_name = ?2",
            params![tenant_id, name, admin],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Replaces a user's password.
    pub fn set_password(&self, tenant_id: i64, name: &str, password: &str) -> Result<()> {
        let hash = PasswordHash::new(password);
        let conn = self.conn.lock();
        let changed = conn.execute(
            "UPDATE users SET native_hash = ?3, scram_verifier = ?4 WHERE tenant_id = ?1 AND user_name = ?2",
            params![tenant_id, name, hash.native, hash.scram],
        )?;
        if changed == 0 {
            return Err(CatalogError::UserNotExist(name.to_string()));
        }
        Ok(())
    }
}

impl Catalog {
    /// Makes `member` a member of role `role` (it then holds the role's grants); a membership that would
    /// make a role a member of itself, directly or through others, is refused.
    pub fn grant_role(&self, tenant_id: i64, role: &str, member: &str) -> Result<()> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        is_admin(&tx, tenant_id, role)?;
        is_admin(&tx, tenant_id, member)?;
        if role == member || roles_in(&tx, tenant_id, role)?.iter().any(|r| r == member) {
            return Err(CatalogError::InvalidArgument(format!(
                "making {member} a member of {role} would create a cycle"
            )));
        }
        tx.execute(
            "INSERT OR IGNORE INTO role_members VALUES (?1, ?2, ?3)",
            params![tenant_id, role, member],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Takes `member` out of role `role` (a no-op when it is not in it).
    pub fn revoke_role(&self, tenant_id: i64, role: &str, member: &str) -> Result<()> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        is_admin(&tx, tenant_id, role)?;
        is_admin(&tx, tenant_id, member)?;
        tx.execute(
            "DELETE FROM role_members WHERE tenant_id = ?1 AND role_name = ?2 AND member_name = ?3",
            params![tenant_id, role, member],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every direct role membership of a tenant's users, as a member's roles by name (one read for all
    /// users: the views and SHOW USERS list them all at once).
    pub fn memberships(&self, tenant_id: i64) -> Result<HashMap<String, Vec<String>>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare(
            "SELECT member_name, role_name FROM role_members WHERE tenant_id = ?1 ORDER BY member_name, role_name",
        )?;
        let rows = stmt.query_map(params![tenant_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut by_member: HashMap<String, Vec<String>> = HashMap::new();
        for row in rows {
            let (member, role) = row?;
            by_member.entry(member).or_default().push(role);
        }
        Ok(by_member)
    }

    /// The roles `user` holds, directly or through other roles.
    pub fn roles_of(&self, tenant_id: i64, user: &str) -> Result<Vec<String>> {
        let conn = self.conn.lock();
        roles_in(&conn, tenant_id, user)
    }
}

/// The roles `user` holds, directly or through other roles (UNION, not UNION ALL: a cycle ends).
fn roles_in(conn: &rusqlite::Connection, tenant_id: i64, user: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "WITH RECURSIVE held(name) AS ( \
             SELECT role_name FROM role_members WHERE tenant_id = ?1 AND member_name = ?2 \
             UNION SELECT m.role_name FROM role_members m JOIN held h ON m.member_name = h.name \
             WHERE m.tenant_id = ?1) \
         SELECT name FROM held ORDER BY name",
    )?;
    let rows = stmt.query_map(params![tenant_id, user], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Whether user `name` of the tenant is one of its administrators; an error if there is no such user.
fn is_admin(tx: &rusqlite::Transaction, tenant_id: i64, name: &str) -> Result<bool> {
    tx.query_row(
        "SELECT is_admin FROM users WHERE tenant_id = ?1 AND user_name = ?2",
        params![tenant_id, name],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| CatalogError::UserNotExist(name.to_string()))
}
