//! A SQLite authorizer as a second line of privilege checks.
//!
//! The privilege check works on the tables a statement names after translation; SQLite then resolves names on
//! its own (an unqualified name that is not a CTE in scope is searched in every attached database). While a
//! non-administrator's statement is compiled, this authorizer allows reading and writing only the tables the
//! privilege check approved, so name resolution can never reach further than the check did.
//!
//! When it refuses, SQLite's own message names the database, the table and the column it refused
//! (`access to shop.secret.v is prohibited`), which would confirm that a table the user may not see exists and
//! what its columns are. The refusal is answered as MySQL answers a missing privilege instead: 1142 naming the
//! table only (a name the statement itself used), never its database or columns.

use std::collections::HashSet;
use std::sync::Arc;

use parking_lot::Mutex;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};

use crate::error::SqlError;
use crate::translate::Plan;

/// What the authorizer lets statements compiled now touch, and what it refused.
#[derive(Default)]
struct State {
    /// (database, table) pairs, lower case; `None`: no restriction (the server's own statements).
    allowed: Option<HashSet<(String, String)>>,
    /// The first table access refused: the privilege's command and the table.
    refused: Option<(&'static str, String)>,
}

/// A connection's authorizer, installed once for the life of the connection.
///
/// Installing or removing an authorizer makes SQLite expire every prepared statement of the connection, so a
/// per-statement authorizer would recompile every cached statement on every run. This one stays, and each
/// statement only swaps the set of tables it allows (see [`Authorizer::restrict`]).
pub struct Authorizer {
    state: Arc<Mutex<State>>,
}

impl Authorizer {
    /// Installs the authorizer on `conn`; until [`Authorizer::restrict`] it allows everything.
    pub fn install(conn: &rusqlite::Connection) -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        conn.authorizer(Some(move |ctx: AuthContext<'_>| decide(&shared, ctx)));
        Self { state }
    }

    /// Restricts what statements compiled (or recompiled after a schema change) on the connection may
    /// touch to the plan's tables (and views over them), until the guard is dropped.
    pub fn restrict(&self, plan: &Plan) -> AuthorizerGuard<'_> {
        let allowed = plan
            .access
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
            .collect();
        *self.state.lock() = State {
            allowed: Some(allowed),
            refused: None,
        };
        AuthorizerGuard { authorizer: self }
    }
}

/// The restriction of one statement; dropping it lifts the restriction.
pub struct AuthorizerGuard<'a> {
    authorizer: &'a Authorizer,
}

impl Drop for AuthorizerGuard<'_> {
    fn drop(&mut self) {
        *self.authorizer.state.lock() = State::default();
    }
}

impl AuthorizerGuard<'_> {
    /// The error to answer for `e`: a refusal of this authorizer becomes 1142 for `user` and the refused
    /// table; any other error is left as it is.
    pub fn explain(&self, e: SqlError, user: &str) -> SqlError {
        match e {
            SqlError::AuthorizerDenied => match self.authorizer.state.lock().refused.take() {
                Some((command, table)) => SqlError::TableAccessDenied {
                    command,
                    user: user.to_string(),
                    table,
                },
                None => SqlError::AuthorizerDenied,
            },
            e => e,
        }
    }
}

/// The authorizer's answer for one action while `state` holds.
fn decide(state: &Mutex<State>, ctx: AuthContext<'_>) -> Authorization {
    let mut state = state.lock();
    let Some(allowed) = &state.allowed else {
        return Authorization::Allow;
    };
    let db = ctx.database_name.unwrap_or("").to_ascii_lowercase();
    let ok = |table: &str| {
        allowed.contains(&(db.clone(), table.to_ascii_lowercase()))
            // Reads made on behalf of a view are allowed when the view itself was.
            || ctx
                .accessor
                .is_some_and(|v| allowed.contains(&(db.clone(), v.to_ascii_lowercase())))
    };
    // A changefeed's capture trigger writing its change log, on behalf of a write the check approved.
    if let (Some(trigger), AuthAction::Insert { table_name }) = (ctx.accessor, &ctx.action) {
        use tenantry_kinds::changefeed::capture::{LOG_TABLE, TRIGGER_PREFIX};
        if trigger.starts_with(TRIGGER_PREFIX) && *table_name == LOG_TABLE {
            return Authorization::Allow;
        }
    }
    let (allow, table) = match ctx.action {
        // No database: a CTE or a subquery, not a stored table (SQLite passes none for those).
        AuthAction::Read { .. } if ctx.database_name.is_none() => (true, None),
        AuthAction::Read { table_name, .. } => (ok(table_name), Some(("SELECT", table_name))),
        AuthAction::Insert { table_name } => (ok(table_name), Some(("INSERT", table_name))),
        AuthAction::Delete { table_name } => (ok(table_name), Some(("DELETE", table_name))),
        AuthAction::Update { table_name, .. } => (ok(table_name), Some(("UPDATE", table_name))),
        AuthAction::Select
        | AuthAction::Function { .. }
        | AuthAction::Recursive
        | AuthAction::Transaction { .. }
        | AuthAction::Savepoint { .. } => (true, None),
        _ => (false, None),
    };
    if allow {
        Authorization::Allow
    } else {
        if let Some((command, table)) = table {
            state
                .refused
                .get_or_insert_with(|| (command, table.to_string()));
        }
        Authorization::Deny
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::{Access, PlanKind};
    use std::collections::BTreeSet;
    use tenantry_catalog::Privilege;

    /// A statement that resolves an unqualified name to a table of a database the plan did not approve is
    /// refused with 1142 naming the table only: neither the database nor the column shows in the message.
    #[test]
    fn a_refusal_names_neither_database_nor_column() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "ATTACH ':memory:' AS pub; ATTACH ':memory:' AS hidden_db;
             CREATE TABLE pub.t (id INTEGER); CREATE TABLE hidden_db.secret (hidden_col TEXT);",
        )
        .unwrap();
        let plan = Plan {
            sql: Vec::new(),
            access: BTreeSet::from([Access {
                db: "pub".into(),
                table: Some("t".into()),
                privilege: Privilege::Select,
            }]),
            system_tables: BTreeSet::new(),
            view_equalities: Default::default(),
            schemas: BTreeSet::new(),
            kind: PlanKind::Query,
            schema_change: None,
            dependent: Vec::new(),
            temp_table: None,
            result_types: Vec::new(),
            type_probe: None,
        };
        let authorizer = Authorizer::install(&conn);
        // Unrestricted until a statement restricts it.
        conn.prepare("SELECT hidden_col FROM hidden_db.secret")
            .unwrap();
        let guard = authorizer.restrict(&plan);
        // Approved: the plan's table, and a recursive CTE (no database).
        conn.prepare("SELECT id FROM pub.t").unwrap();
        conn.prepare("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3) SELECT count(*) FROM c")
            .unwrap();
        let e = conn
            .prepare("SELECT hidden_col FROM secret")
            .map(|_| ())
            .map_err(SqlError::from)
            .unwrap_err();
        let e = guard.explain(e, "mallory");
        let w = e.wire();
        assert_eq!((w.mysql_code, w.pg_state), (1142, "42501"));
        assert_eq!(
            w.message,
            "SELECT command denied to user 'mallory'@'%' for table 'secret'"
        );
        drop(guard);
        conn.prepare("SELECT hidden_col FROM hidden_db.secret")
            .unwrap();
    }
}
