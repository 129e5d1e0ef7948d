//! Privilege checks for tenant statements.

use std::collections::BTreeSet;
use std::sync::Arc;

use tenantry_catalog::{Grant, GrantLevel, Privilege};

use crate::error::{Result, SqlError};
use crate::session::Session;
use crate::translate::{is_system_schema, Access};

/// The session user's grants: kept per session and read from the catalog again only once the catalog's
/// version moved (a GRANT or REVOKE commits a new version), so a statement takes no catalog lock for them.
fn grants(session: &Session) -> Result<Arc<Vec<Grant>>> {
    // Read before the grants: a change that commits meanwhile leaves the next statement a newer version.
    let version = session.engine.catalog().version();
    let mut cached = session.grants.lock();
    if let Some((v, grants)) = cached.as_ref() {
        if *v == version {
            return Ok(grants.clone());
        }
    }
    let grants = Arc::new(session.engine.catalog().effective_grants(
        session.identity.tenant.tenant_id,
        &session.identity.user.name,
    )?);
    *cached = Some((version, grants.clone()));
    Ok(grants)
}

/// Whether the session's user holds `privilege` on `db` (or globally, with `db` = None).
pub fn has(session: &Session, db: Option<&str>, privilege: Privilege) -> Result<bool> {
    if session.identity.user.is_admin {
        return Ok(true);
    }
    let grants = grants(session)?;
    Ok(grants.iter().any(|g| {
        let level_ok = match (&g.level, db) {
            (GrantLevel::Global, _) => true,
            (GrantLevel::Database(d), Some(db)) => d.eq_ignore_ascii_case(db),
            (GrantLevel::Database(_), None) | (GrantLevel::Table(..), _) => false,
        };
        level_ok && (g.privilege == privilege || g.privilege == Privilege::All)
    }))
}

/// Whether the session's user holds `privilege` on table `table` of `db`: on it, on its database, or
/// globally.
pub fn has_on_table(
    session: &Session,
    db: &str,
    table: &str,
    privilege: Privilege,
) -> Result<bool> {
    if has(session, Some(db), privilege)? {
        return Ok(true);
    }
    let grants = grants(session)?;
    Ok(grants.iter().any(|g| {
        matches!(&g.level, GrantLevel::Table(d, t)
            if d.eq_ignore_ascii_case(db) && t.eq_ignore_ascii_case(table))
            && (g.privilege == privilege || g.privilege == Privilege::All)
    }))
}

/// The tables of `db` the user may see when its grants there are on some tables only (lower case); `None`
/// when it sees them all (an administrator, or a grant on the database or on every database).
pub fn visible_tables(
    session: &Session,
    db: &str,
) -> Result<Option<std::collections::HashSet<String>>> {
    if session.identity.user.is_admin || is_system_schema(db) {
        return Ok(None);
    }
    let grants = grants(session)?;
    let mut tables = std::collections::HashSet::new();
    for g in grants.iter() {
        match &g.level {
            GrantLevel::Global => return Ok(None),
            GrantLevel::Database(d) if d.eq_ignore_ascii_case(db) => return Ok(None),
            GrantLevel::Table(d, t) if d.eq_ignore_ascii_case(db) => {
                tables.insert(t.to_ascii_lowercase());
            }
            _ => {}
        }
    }
    Ok(Some(tables))
}

/// Whether the user holds any privilege at all on `db`.
pub fn has_any(session: &Session, db: &str) -> Result<bool> {
    if session.identity.user.is_admin || is_system_schema(db) {
        return Ok(true);
    }
    let grants = grants(session)?;
    Ok(grants.iter().any(|g| match &g.level {
        GrantLevel::Global => true,
        GrantLevel::Database(d) | GrantLevel::Table(d, _) => d.eq_ignore_ascii_case(db),
    }))
}

/// Fails with MySQL's error unless every access is allowed.
pub fn check(session: &Session, accesses: &BTreeSet<Access>) -> Result<()> {
    // The session's own temporary tables need no grant (MySQL checks none after CREATE TEMPORARY TABLE).
    for a in accesses
        .iter()
        .filter(|a| a.db != crate::translate::TEMP_SCHEMA)
    {
        let allowed = match &a.table {
            Some(table) => has_on_table(session, &a.db, table, a.privilege)?,
            None => has(session, Some(&a.db), a.privilege)?,
        };
        if !allowed {
            let user = session.identity.user.name.clone();
            return Err(match &a.table {
                Some(table) => SqlError::TableAccessDenied {
                    command: a.privilege.as_str(),
                    user,
                    table: table.clone(),
                },
                None => SqlError::DbAccessDenied {
                    user,
                    db: a.db.clone(),
                },
            });
        }
    }
    Ok(())
}

/// Fails with 1044 unless the user holds `privilege` on `db`.
pub fn check_db(session: &Session, db: &str, privilege: Privilege) -> Result<()> {
    if has(session, Some(db), privilege)? {
        Ok(())
    } else {
        Err(SqlError::DbAccessDenied {
            user: session.identity.user.name.clone(),
            db: db.to_string(),
        })
    }
}
