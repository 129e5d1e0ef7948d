//! A SQLite authorizer as a second line of privilege checks.
//!
//! The privilege check works on the tables a statement names after translation; SQLite then resolves names on
//! its own (an unqualified name that is not a CTE in scope is searched in every attached database). While a
//! non-administrator's statement is compiled, this authorizer allows reading and writing only the tables the
//! privilege check approved, so name resolution can never reach further than the check did.

use std::collections::HashSet;
use std::sync::Arc;

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};

use crate::translate::Plan;

/// Installs the authorizer for a plan; it is removed when the guard is dropped.
pub struct AuthorizerGuard<'a> {
    conn: &'a rusqlite::Connection,
}

impl Drop for AuthorizerGuard<'_> {
    fn drop(&mut self) {
        self.conn
            .authorizer(None::<fn(AuthContext<'_>) -> Authorization>);
    }
}

/// Restricts what statements compiled on `conn` may touch to the plan's tables (and views over them).
pub fn restrict<'a>(conn: &'a rusqlite::Connection, plan: &Plan) -> AuthorizerGuard<'a> {
    let allowed: Arc<HashSet<(String, String)>> = Arc::new(
        plan.access
            .iter()
            .filter_map(|a| {
                a.table
                    .as_ref()
                    .map(|t| (a.db.to_ascii_lowercase(), t.to_ascii_lowercase()))
            })
            .chain(
                plan.system_tables
                    .iter()
                    .map(|(s, t)| (s.to_ascii_lowercase(), t.to_ascii_lowercase())),
            )
            .collect(),
    );
    conn.authorizer(Some(move |ctx: AuthContext<'_>| {
        let db = ctx.database_name.unwrap_or("").to_ascii_lowercase();
        let ok = |table: &str| {
            allowed.contains(&(db.clone(), table.to_ascii_lowercase()))
                // Reads made on behalf of a view are allowed when the view itself was.
                || ctx
                    .accessor
                    .is_some_and(|v| allowed.contains(&(db.clone(), v.to_ascii_lowercase())))
        };
        let allow = match ctx.action {
            AuthAction::Read { table_name, .. } => ok(table_name),
            AuthAction::Insert { table_name } | AuthAction::Delete { table_name } => ok(table_name),
            AuthAction::Update { table_name, .. } => ok(table_name),
            AuthAction::Select
            | AuthAction::Function { .. }
            | AuthAction::Recursive
            | AuthAction::Transaction { .. }
            | AuthAction::Savepoint { .. } => true,
            _ => false,
        };
        if allow {
            Authorization::Allow
        } else {
            Authorization::Deny
        }
    }));
    AuthorizerGuard { conn }
}
