//! Users, passwords and grants inside a tenant.

use std::collections::BTreeMap;

use tenantry_catalog::{CatalogError, GrantLevel, Privilege};

use crate::error::{Result, SqlError};
use crate::parser::{Command, ParsedLevel};
use crate::session::Session;
use crate::value::{Output, ResultSet, Value};

/// Runs an account statement.
pub fn run(session: &mut Session, cmd: Command) -> Result<Output> {
    let tenant_id = session.identity.tenant.tenant_id;
    // The engine's handle, not the session's borrow: a table GRANT attaches a database on the session.
    let engine = session.engine.clone();
    let catalog = engine.catalog();
    match cmd {
        Command::CreateUser {
            users,
            if_not_exists,
        } => {
            session.require_tenant_admin("CREATE USER")?;
            for (name, _) in &users {
                if catalog.user(tenant_id, name)?.is_some() && !if_not_exists {
                    return Err(SqlError::UserOperationFailed {
                        op: "CREATE USER",
                        user: name.clone(),
                    });
                }
            }
            for (name, password) in &users {
                match catalog.create_user(tenant_id, name, password) {
                    Ok(_) | Err(CatalogError::UserExists(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(Output::ok())
        }
        Command::CreateRole {
            name,
            if_not_exists,
        } => {
            session.require_tenant_admin("CREATE ROLE")?;
            match catalog.create_role(tenant_id, &name) {
                Ok(_) => {}
                Err(CatalogError::UserExists(_)) if if_not_exists => {}
                Err(CatalogError::UserExists(_)) => {
                    return Err(SqlError::UserOperationFailed {
                        op: "CREATE ROLE",
                        user: name,
                    })
                }
                Err(e) => return Err(e.into()),
            }
            Ok(Output::ok())
        }
        Command::RoleMembership {
            roles,
            users,
            grant,
        } => {
            session.require_tenant_admin("GRANT OPTION")?;
            let op = if grant { "GRANT" } else { "REVOKE" };
            for role in &roles {
                for u in &users {
                    let missing = |name: &str| SqlError::UserOperationFailed {
                        op,
                        user: name.to_string(),
                    };
                    if catalog.user(tenant_id, u)?.is_none() {
                        return Err(missing(u));
                    }
                    // `admin` is the administrators' role, kept as the user's flag (see SetAdmin).
                    if role.eq_ignore_ascii_case("admin") {
                        catalog.set_admin(tenant_id, u, grant)?;
                        continue;
                    }
                    if catalog.user(tenant_id, role)?.is_none() {
                        return Err(missing(role));
                    }
                    if grant {
                        catalog.grant_role(tenant_id, role, u)?;
                    } else {
                        catalog.revoke_role(tenant_id, role, u)?;
                    }
                }
            }
            Ok(Output::ok())
        }
        Command::DropUser { users, if_exists } => {
            session.require_tenant_admin("CREATE USER")?;
            for name in &users {
                match catalog.user(tenant_id, name)? {
                    None if if_exists => {}
                    Some(u) if !u.is_admin => {}
                    _ => {
                        return Err(SqlError::UserOperationFailed {
                            op: "DROP USER",
                            user: name.clone(),
                        })
                    }
                }
            }
            for name in &users {
                match catalog.drop_user(tenant_id, name) {
                    Ok(()) | Err(CatalogError::UserNotExist(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(Output::ok())
        }
        Command::SetPassword { user, password } => {
            let name = user.unwrap_or_else(|| session.identity.user.name.clone());
            if name != session.identity.user.name {
                session.require_tenant_admin("CREATE USER")?;
            }
            catalog
                .set_password(tenant_id, &name, &password)
                .map_err(|e| match e {
                    CatalogError::UserNotExist(_) => SqlError::UserOperationFailed {
                        op: "ALTER USER",
                        user: name.clone(),
                    },
                    e => e.into(),
                })?;
            Ok(Output::ok())
        }
        Command::Grant {
            privileges,
            levels,
            users,
        } => {
            session.require_tenant_admin("GRANT OPTION")?;
            // Every level is checked before anything is granted: a bad one changes nothing.
            let mut resolved = Vec::with_capacity(levels.len());
            for level in levels {
                let level = resolve_level(session, level)?;
                if matches!(level, GrantLevel::Database(_))
                    && privileges.iter().any(|p| p.is_global_only())
                {
                    return Err(SqlError::GlobalPrivilegeOnDb);
                }
                if let GrantLevel::Table(db, table) = &level {
                    if privileges.iter().any(|p| !p.applies_to_tables()) {
                        return Err(SqlError::IllegalTableGrant);
                    }
                    // As MySQL: a table's privileges are granted on a table that exists.
                    crate::exec::schema::require_table(session, db, table)?;
                }
                resolved.push(level);
            }
            for u in &users {
                for level in &resolved {
                    catalog.grant(tenant_id, u, level, &privileges)?;
                }
            }
            Ok(Output::ok())
        }
        Command::Revoke {
            privileges,
            levels,
            users,
        } => {
            session.require_tenant_admin("GRANT OPTION")?;
            let levels = levels
                .into_iter()
                .map(|l| resolve_level(session, l))
                .collect::<Result<Vec<_>>>()?;
            for u in &users {
                if catalog.user(tenant_id, u)?.is_some_and(|u| u.is_admin) {
                    return Err(SqlError::UserOperationFailed {
                        op: "REVOKE",
                        user: u.clone(),
                    });
                }
                for level in &levels {
                    catalog.revoke(tenant_id, u, level, &privileges)?;
                }
            }
            Ok(Output::ok())
        }
        Command::ShowGrants(user) => {
            let name = user.unwrap_or_else(|| session.identity.user.name.clone());
            if name != session.identity.user.name && !session.identity.is_tenant_admin() {
                return Err(SqlError::DbAccessDenied {
                    user: session.identity.user.name.clone(),
                    db: "mysql".into(),
                });
            }
            let user = catalog
                .user(tenant_id, &name)?
                .ok_or_else(|| SqlError::OceanBase {
                    code: -1141,
                    message: format!(
                        "There is no such grant defined for user '{name}' on host '%'"
                    ),
                })?;
            let grants = catalog.grants(tenant_id, &name)?;
            if session.handle.protocol == "pg" {
                return Ok(Output::Rows(grant_rows(&name, user.is_admin, &grants)));
            }
            let mut rs = ResultSet::with_text_columns(&[&format!("Grants for {name}@%")]);
            for line in grant_lines(&name, user.is_admin, &grants) {
                rs.rows.push(vec![Value::Text(line)]);
            }
            Ok(Output::Rows(rs))
        }
        Command::SetAdmin { users, admin } => {
            session.require_tenant_admin("GRANT OPTION")?;
            for name in &users {
                if catalog.user(tenant_id, name)?.is_none() {
                    return Err(SqlError::UserOperationFailed {
                        op: if admin { "GRANT" } else { "REVOKE" },
                        user: name.clone(),
                    });
                }
            }
            for name in &users {
                catalog
                    .set_admin(tenant_id, name, admin)
                    .map_err(|e| match e {
                        // The tenant's last administrator stays one.
                        CatalogError::AdminUser(_) => SqlError::UserOperationFailed {
                            op: "REVOKE",
                            user: name.clone(),
                        },
                        e => e.into(),
                    })?;
            }
            Ok(Output::ok())
        }
        Command::ShowUsers => {
            // CockroachDB's columns; a user sees the tenant's users only if it administers it, else itself.
            let mut rs = ResultSet::with_text_columns(&["username", "options", "member_of"]);
            let me = session.identity.user.name.clone();
            let admin = session.identity.is_tenant_admin();
            let mut users = catalog.users(tenant_id)?;
            users.sort_by(|a, b| a.name.cmp(&b.name));
            let mut memberships = catalog.memberships(tenant_id)?;
            for u in users.into_iter().filter(|u| admin || u.name == me) {
                let mut member_of = memberships.remove(&u.name).unwrap_or_default();
                if u.is_admin {
                    member_of.insert(0, "admin".to_string());
                }
                rs.rows.push(vec![
                    Value::Text(u.name),
                    Value::from(if u.can_login { "" } else { "NOLOGIN" }),
                    Value::Text(crate::pg_types::format_array(
                        member_of.iter().map(|r| Some(r.as_str())),
                    )),
                ]);
            }
            Ok(Output::Rows(rs))
        }
        other => Err(SqlError::Internal(format!(
            "not an account statement: {other:?}"
        ))),
    }
}

fn resolve_level(session: &Session, level: ParsedLevel) -> Result<GrantLevel> {
    match level {
        // A database is named as databases are: a name that is not one (`a.b`) could never be created, and
        // as a stored grant it would read as a table's.
        ParsedLevel::Level(GrantLevel::Database(db) | GrantLevel::Table(db, _))
            if !tenantry_storage::is_valid_name(&db) =>
        {
            Err(CatalogError::InvalidName(db).into())
        }
        ParsedLevel::Level(l) => Ok(l),
        ParsedLevel::CurrentDatabase => session
            .db
            .clone()
            .map(GrantLevel::Database)
            .ok_or(SqlError::NoDatabaseSelected),
        ParsedLevel::CurrentTable(table) => session
            .db
            .clone()
            .map(|db| GrantLevel::Table(db, table))
            .ok_or(SqlError::NoDatabaseSelected),
    }
}

/// SHOW GRANTS as CockroachDB answers it: a row per privilege, on a database (schema and table NULL), a table
/// (schema `public`) or everything (all three NULL: an administrator's ALL, or a MySQL `*.*` grant).
fn grant_rows(user: &str, is_admin: bool, grants: &[tenantry_catalog::Grant]) -> ResultSet {
    let mut rs = ResultSet::with_text_columns(&[
        "database_name",
        "schema_name",
        "table_name",
        "grantee",
        "privilege_type",
        "is_grantable",
    ]);
    rs.columns[5].kind = crate::value::ColumnKind::Bool;
    let row = |db: Option<&str>, table: Option<&str>, privilege: &str, grantable: bool| {
        vec![
            db.map_or(Value::Null, Value::from),
            table.map_or(Value::Null, |_| Value::from("public")),
            table.map_or(Value::Null, Value::from),
            Value::from(user),
            Value::from(privilege),
            Value::Int(grantable.into()),
        ]
    };
    if is_admin {
        rs.rows.push(row(None, None, "ALL", true));
        return rs;
    }
    for g in grants {
        let privilege = g.privilege.as_str();
        rs.rows.push(match &g.level {
            GrantLevel::Global => row(None, None, privilege, false),
            GrantLevel::Database(db) => row(Some(db), None, privilege, false),
            GrantLevel::Table(db, table) => row(Some(db), Some(table), privilege, false),
        });
    }
    rs
}

/// SHOW GRANTS lines, as MySQL prints them.
fn grant_lines(user: &str, is_admin: bool, grants: &[tenantry_catalog::Grant]) -> Vec<String> {
    if is_admin {
        return vec![format!(
            "GRANT ALL PRIVILEGES ON *.* TO '{user}'@'%' WITH GRANT OPTION"
        )];
    }
    let mut by_level: BTreeMap<GrantLevel, Vec<Privilege>> = BTreeMap::new();
    for g in grants {
        by_level
            .entry(g.level.clone())
            .or_default()
            .push(g.privilege);
    }
    let mut lines = Vec::new();
    if !by_level.contains_key(&GrantLevel::Global) {
        lines.push(format!("GRANT USAGE ON *.* TO '{user}'@'%'"));
    }
    for (level, privileges) in by_level {
        let on = match &level {
            GrantLevel::Global => "*.*".to_string(),
            GrantLevel::Database(db) => format!("`{db}`.*"),
            GrantLevel::Table(db, table) => format!("`{db}`.`{table}`"),
        };
        let list = if privileges.contains(&Privilege::All) {
            "ALL PRIVILEGES".to_string()
        } else {
            Privilege::EACH
                .iter()
                .filter(|p| privileges.contains(p))
                .filter(|p| level == GrantLevel::Global || !p.is_global_only())
                .filter(|p| !matches!(level, GrantLevel::Table(..)) || p.applies_to_tables())
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        lines.push(format!("GRANT {list} ON {on} TO '{user}'@'%'"));
    }
    lines
}
