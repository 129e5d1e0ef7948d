//! `information_schema.SCHEMATA`, `TABLES` and `COLUMNS`, for MySQL tools and drivers that introspect.

use super::{ViewDef, Visibility};
use crate::error::Result;
use crate::exec::privileges;
use crate::exec::schema::{describe_table, list_tables};
use crate::session::Session;
use crate::translate::LISTED_SYSTEM_SCHEMAS;
use crate::value::Value;

pub(super) static VIEWS: [ViewDef; 4] = [
    ViewDef {
        schema: "information_schema",
        name: "SCHEMATA",
        columns: &[
            ("CATALOG_NAME", "VARCHAR(64)"),
            ("SCHEMA_NAME", "VARCHAR(64)"),
            ("DEFAULT_CHARACTER_SET_NAME", "VARCHAR(64)"),
            ("DEFAULT_COLLATION_NAME", "VARCHAR(64)"),
            ("SQL_PATH", "VARCHAR(512)"),
        ],
        visibility: Visibility::AllTenants,
        rows: schemata,
    },
    ViewDef {
        schema: "information_schema",
        name: "TABLES",
        columns: &[
            ("TABLE_CATALOG", "VARCHAR(64)"),
            ("TABLE_SCHEMA", "VARCHAR(64)"),
            ("TABLE_NAME", "VARCHAR(64)"),
            ("TABLE_TYPE", "VARCHAR(64)"),
            ("ENGINE", "VARCHAR(64)"),
            ("TABLE_COLLATION", "VARCHAR(64)"),
            ("TABLE_COMMENT", "VARCHAR(2048)"),
        ],
        visibility: Visibility::AllTenants,
        rows: tables,
    },
    ViewDef {
        schema: "information_schema",
        name: "COLUMNS",
        columns: &[
            ("TABLE_CATALOG", "VARCHAR(64)"),
            ("TABLE_SCHEMA", "VARCHAR(64)"),
            ("TABLE_NAME", "VARCHAR(64)"),
            ("COLUMN_NAME", "VARCHAR(64)"),
            ("ORDINAL_POSITION", "BIGINT"),
            ("COLUMN_DEFAULT", "TEXT"),
            ("IS_NULLABLE", "VARCHAR(3)"),
            ("DATA_TYPE", "VARCHAR(64)"),
            ("COLUMN_TYPE", "TEXT"),
            ("COLUMN_KEY", "VARCHAR(3)"),
            ("EXTRA", "VARCHAR(256)"),
            // No generated columns: always empty (mysqldump reads it).
            ("GENERATION_EXPRESSION", "TEXT"),
        ],
        visibility: Visibility::AllTenants,
        rows: columns,
    },
    // No triggers exist: an empty view, so tools that list them (mysqldump) go on.
    ViewDef {
        schema: "information_schema",
        name: "TRIGGERS",
        columns: &[
            ("TRIGGER_CATALOG", "VARCHAR(64)"),
            ("TRIGGER_SCHEMA", "VARCHAR(64)"),
            ("TRIGGER_NAME", "VARCHAR(64)"),
            ("EVENT_MANIPULATION", "VARCHAR(6)"),
            ("EVENT_OBJECT_SCHEMA", "VARCHAR(64)"),
            ("EVENT_OBJECT_TABLE", "VARCHAR(64)"),
            ("ACTION_STATEMENT", "TEXT"),
            ("ACTION_TIMING", "VARCHAR(6)"),
        ],
        visibility: Visibility::AllTenants,
        rows: |_| Ok(Vec::new()),
    },
];

/// The tenant's databases the user may see, attached ones only (the caller attaches what it can first).
fn databases(session: &Session) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for d in session
        .engine
        .catalog()
        .databases(session.identity.tenant.tenant_id)?
    {
        if privileges::has_any(session, &d.name)? && session.conn.is_attached(&d.name) {
            out.push(d.name);
        }
    }
    Ok(out)
}

fn schemata(session: &Session) -> Result<Vec<Vec<Value>>> {
    let mut names: Vec<String> = LISTED_SYSTEM_SCHEMAS
        .iter()
        .map(|s| s.to_string())
        .collect();
    names.extend(databases(session)?);
    Ok(names
        .into_iter()
        .map(|n| {
            vec![
                Value::from("def"),
                Value::Text(n),
                Value::from("utf8mb4"),
                Value::from("utf8mb4_general_ci"),
                Value::Null,
            ]
        })
        .collect())
}

fn tables(session: &Session) -> Result<Vec<Vec<Value>>> {
    let mut rows = Vec::new();
    for db in databases(session)? {
        for (name, kind) in list_tables(session, &db)? {
            rows.push(vec![
                Value::from("def"),
                Value::from(db.as_str()),
                Value::Text(name),
                Value::Text(kind),
                Value::from("SQLite"),
                Value::from("utf8mb4_general_ci"),
                Value::from(""),
            ]);
        }
    }
    Ok(rows)
}

fn columns(session: &Session) -> Result<Vec<Vec<Value>>> {
    let mut rows = Vec::new();
    for db in databases(session)? {
        for (table, _) in list_tables(session, &db)? {
            session.check_interrupted()?;
            let described = describe_table(session, &db, &table)?;
            for (i, r) in described.rows.into_iter().enumerate() {
                let text = |k: usize| r.get(k).and_then(Value::to_text).unwrap_or_default();
                let column_type = text(1);
                let data_type = column_type
                    .split(['(', ' '])
                    .next()
                    .unwrap_or("")
                    .to_string();
                rows.push(vec![
                    Value::from("def"),
                    Value::from(db.as_str()),
                    Value::from(table.as_str()),
                    Value::Text(text(0)),
                    Value::Int(i as i64 + 1),
                    r.get(4).cloned().unwrap_or(Value::Null),
                    Value::Text(text(2)),
                    Value::Text(data_type),
                    Value::Text(column_type),
                    Value::Text(text(3)),
                    Value::Text(text(5)),
                    Value::from(""),
                ]);
            }
        }
    }
    Ok(rows)
}
