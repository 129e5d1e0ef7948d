//! SHOW PROCESSLIST and KILL.

use crate::error::{Result, SqlError};
use crate::parser::Command;
use crate::processlist::SessionHandle;
use crate::session::Session;
use crate::value::{Column, ColumnKind, Output, ResultSet, Value};

/// Runs SHOW PROCESSLIST or KILL.
pub fn run(session: &mut Session, cmd: Command) -> Result<Output> {
    match cmd {
        Command::ShowProcesslist { full } => Ok(Output::Rows(processlist(session, full))),
        Command::ShowSessions { queries } => Ok(Output::Rows(sessions(session, queries))),
        Command::Kill { query_only, id } => {
            let target = u32::try_from(id)
                .ok()
                .and_then(|id| session.engine.sessions().get(id))
                .filter(|t| visible(session, t))
                .ok_or(SqlError::UnknownThread(id))?;
            if !may_control(session, &target) {
                return Err(SqlError::NotThreadOwner(id));
            }
            if query_only {
                target.interrupt_statement();
            } else {
                target.kill();
            }
            Ok(Output::ok())
        }
        other => Err(SqlError::Internal(format!(
            "not a process statement: {other:?}"
        ))),
    }
}

/// Sessions of other tenants do not exist as far as a user tenant can tell.
fn visible(session: &Session, target: &SessionHandle) -> bool {
    session.identity.is_cluster_admin() || target.tenant_id == session.identity.tenant.tenant_id
}

fn may_control(session: &Session, target: &SessionHandle) -> bool {
    let id = &session.identity;
    id.is_cluster_admin()
        || (target.tenant_id == id.tenant.tenant_id
            && (id.is_tenant_admin() || target.user == id.user.name))
}

fn processlist(session: &Session, full: bool) -> ResultSet {
    let text = |n: &str| Column::new(n, ColumnKind::Text);
    let mut columns = vec![Column::new("Id", ColumnKind::Int), text("User")];
    if full {
        columns.push(text("Tenant"));
    }
    columns.extend([
        text("Host"),
        text("db"),
        text("Command"),
        Column::new("Time", ColumnKind::Int),
        text("State"),
        text("Info"),
    ]);
    let mut rows = Vec::new();
    for s in session.engine.sessions().all() {
        if !visible(session, &s) || !may_control(session, &s) {
            continue;
        }
        let a = s.activity();
        let info = a.info.map(|i| {
            if full {
                i
            } else {
                i.chars().take(100).collect()
            }
        });
        let mut row = vec![Value::Int(s.id as i64), Value::from(s.user.as_str())];
        if full {
            row.push(Value::from(s.tenant_name.as_str()));
        }
        row.extend([
            Value::from(s.host.as_str()),
            Value::from(a.db),
            Value::from(a.command),
            Value::Int(a.since.elapsed().as_secs() as i64),
            Value::from(if a.command == "Query" {
                "executing"
            } else {
                ""
            }),
            Value::from(info),
        ]);
        rows.push(row);
    }
    ResultSet { columns, rows }
}

/// CockroachDB's SHOW SESSIONS / SHOW QUERIES over the same registry (session and query ids are connection ids).
fn sessions(session: &Session, queries: bool) -> ResultSet {
    let text = |n: &str| Column::new(n, ColumnKind::Text);
    let columns = if queries {
        vec![
            text("query_id"),
            Column::new("node_id", ColumnKind::Int),
            text("session_id"),
            text("user_name"),
            Column::new("start", ColumnKind::DateTime),
            text("query"),
            text("client_address"),
            text("application_name"),
            text("phase"),
        ]
    } else {
        vec![
            Column::new("node_id", ColumnKind::Int),
            text("session_id"),
            text("user_name"),
            text("client_address"),
            text("application_name"),
            text("active_queries"),
            text("last_active_query"),
            Column::new("session_start", ColumnKind::DateTime),
            Column::new("oldest_query_start", ColumnKind::DateTime),
        ]
    };
    let now = chrono::Utc::now();
    let ago = |d: std::time::Duration| {
        tenantry_catalog::format_timestamp(now - chrono::Duration::from_std(d).unwrap_or_default())
    };
    let mut rows = Vec::new();
    for s in session.engine.sessions().all() {
        if !visible(session, &s) || !may_control(session, &s) {
            continue;
        }
        let a = s.activity();
        let running = a.command == "Query";
        let query = a.info.clone().unwrap_or_default();
        if queries {
            if !running {
                continue;
            }
            rows.push(vec![
                Value::Text(s.id.to_string()),
                Value::Int(1),
                Value::Text(s.id.to_string()),
                Value::from(s.user.as_str()),
                Value::Text(ago(a.since.elapsed())),
                Value::Text(query),
                Value::from(s.host.as_str()),
                Value::from(s.protocol),
                Value::from("executing"),
            ]);
        } else {
            rows.push(vec![
                Value::Int(1),
                Value::Text(s.id.to_string()),
                Value::from(s.user.as_str()),
                Value::from(s.host.as_str()),
                Value::from(s.protocol),
                Value::Text(if running {
                    query.clone()
                } else {
                    String::new()
                }),
                Value::Text(query),
                Value::Text(ago(s.connected_at.elapsed())),
                Value::from(running.then(|| ago(a.since.elapsed()))),
            ]);
        }
    }
    ResultSet { columns, rows }
}
