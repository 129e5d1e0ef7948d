//! `information_schema.SCHEMATA`, `TABLES`, `COLUMNS`, the key and constraint tables (`STATISTICS`,
//! `TABLE_CONSTRAINTS`, `KEY_COLUMN_USAGE`, `REFERENTIAL_CONSTRAINTS`), `VIEWS`, and the empty `TRIGGERS` and
//! `ROUTINES`, for MySQL tools, drivers and ORMs that introspect.

use super::{ViewDef, Visibility};
use crate::error::Result;
use crate::exec::privileges;
use crate::exec::schema::{describe_table, foreign_keys, indexes, list_tables, view_sql};
use crate::session::Session;
use crate::translate::LISTED_SYSTEM_SCHEMAS;
use crate::value::Value;

pub(super) static VIEWS: [ViewDef; 10] = [
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
        narrowed: None,
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
        narrowed: None,
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
        narrowed: None,
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
        narrowed: None,
        rows: |_| Ok(Vec::new()),
    },
    // No stored procedures or functions exist: empty (mysqldump --routines, ORMs' reflection).
    ViewDef {
        schema: "information_schema",
        name: "ROUTINES",
        columns: &[
            ("SPECIFIC_NAME", "VARCHAR(64)"),
            ("ROUTINE_CATALOG", "VARCHAR(64)"),
            ("ROUTINE_SCHEMA", "VARCHAR(64)"),
            ("ROUTINE_NAME", "VARCHAR(64)"),
            ("ROUTINE_TYPE", "VARCHAR(9)"),
            ("DATA_TYPE", "VARCHAR(64)"),
            ("ROUTINE_BODY", "VARCHAR(8)"),
            ("ROUTINE_DEFINITION", "TEXT"),
            ("IS_DETERMINISTIC", "VARCHAR(3)"),
            ("SQL_DATA_ACCESS", "VARCHAR(64)"),
            ("SECURITY_TYPE", "VARCHAR(7)"),
            ("CREATED", "DATETIME"),
            ("LAST_ALTERED", "DATETIME"),
            ("SQL_MODE", "VARCHAR(8192)"),
            ("ROUTINE_COMMENT", "TEXT"),
            ("DEFINER", "VARCHAR(288)"),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: |_| Ok(Vec::new()),
    },
    ViewDef {
        schema: "information_schema",
        name: "VIEWS",
        columns: &[
            ("TABLE_CATALOG", "VARCHAR(64)"),
            ("TABLE_SCHEMA", "VARCHAR(64)"),
            ("TABLE_NAME", "VARCHAR(64)"),
            ("VIEW_DEFINITION", "TEXT"),
            ("CHECK_OPTION", "VARCHAR(8)"),
            ("IS_UPDATABLE", "VARCHAR(3)"),
            ("DEFINER", "VARCHAR(288)"),
            ("SECURITY_TYPE", "VARCHAR(7)"),
            ("CHARACTER_SET_CLIENT", "VARCHAR(64)"),
            ("COLLATION_CONNECTION", "VARCHAR(64)"),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: views,
    },
    ViewDef {
        schema: "information_schema",
        name: "STATISTICS",
        columns: &[
            ("TABLE_CATALOG", "VARCHAR(64)"),
            ("TABLE_SCHEMA", "VARCHAR(64)"),
            ("TABLE_NAME", "VARCHAR(64)"),
            ("NON_UNIQUE", "BIGINT"),
            ("INDEX_SCHEMA", "VARCHAR(64)"),
            ("INDEX_NAME", "VARCHAR(64)"),
            ("SEQ_IN_INDEX", "BIGINT"),
            ("COLUMN_NAME", "VARCHAR(64)"),
            ("COLLATION", "VARCHAR(1)"),
            ("CARDINALITY", "BIGINT"),
            ("SUB_PART", "BIGINT"),
            ("PACKED", "VARCHAR(10)"),
            ("NULLABLE", "VARCHAR(3)"),
            ("INDEX_TYPE", "VARCHAR(16)"),
            ("COMMENT", "VARCHAR(16)"),
            ("INDEX_COMMENT", "VARCHAR(1024)"),
            ("IS_VISIBLE", "VARCHAR(3)"),
            ("EXPRESSION", "TEXT"),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: statistics,
    },
    ViewDef {
        schema: "information_schema",
        name: "TABLE_CONSTRAINTS",
        columns: &[
            ("CONSTRAINT_CATALOG", "VARCHAR(64)"),
            ("CONSTRAINT_SCHEMA", "VARCHAR(64)"),
            ("CONSTRAINT_NAME", "VARCHAR(64)"),
            ("TABLE_SCHEMA", "VARCHAR(64)"),
            ("TABLE_NAME", "VARCHAR(64)"),
            ("CONSTRAINT_TYPE", "VARCHAR(11)"),
            ("ENFORCED", "VARCHAR(3)"),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: table_constraints,
    },
    ViewDef {
        schema: "information_schema",
        name: "KEY_COLUMN_USAGE",
        columns: &[
            ("CONSTRAINT_CATALOG", "VARCHAR(64)"),
            ("CONSTRAINT_SCHEMA", "VARCHAR(64)"),
            ("CONSTRAINT_NAME", "VARCHAR(64)"),
            ("TABLE_CATALOG", "VARCHAR(64)"),
            ("TABLE_SCHEMA", "VARCHAR(64)"),
            ("TABLE_NAME", "VARCHAR(64)"),
            ("COLUMN_NAME", "VARCHAR(64)"),
            ("ORDINAL_POSITION", "BIGINT"),
            ("POSITION_IN_UNIQUE_CONSTRAINT", "BIGINT"),
            ("REFERENCED_TABLE_SCHEMA", "VARCHAR(64)"),
            ("REFERENCED_TABLE_NAME", "VARCHAR(64)"),
            ("REFERENCED_COLUMN_NAME", "VARCHAR(64)"),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: key_column_usage,
    },
    ViewDef {
        schema: "information_schema",
        name: "REFERENTIAL_CONSTRAINTS",
        columns: &[
            ("CONSTRAINT_CATALOG", "VARCHAR(64)"),
            ("CONSTRAINT_SCHEMA", "VARCHAR(64)"),
            ("CONSTRAINT_NAME", "VARCHAR(64)"),
            ("UNIQUE_CONSTRAINT_CATALOG", "VARCHAR(64)"),
            ("UNIQUE_CONSTRAINT_SCHEMA", "VARCHAR(64)"),
            ("UNIQUE_CONSTRAINT_NAME", "VARCHAR(64)"),
            ("MATCH_OPTION", "VARCHAR(7)"),
            ("UPDATE_RULE", "VARCHAR(11)"),
            ("DELETE_RULE", "VARCHAR(11)"),
            ("TABLE_NAME", "VARCHAR(64)"),
            ("REFERENCED_TABLE_NAME", "VARCHAR(64)"),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: referential_constraints,
    },
];

/// Every base table of the databases the user may see, as (db, table).
fn base_tables(session: &Session) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for db in databases(session)? {
        for (table, kind) in list_tables(session, &db)? {
            session.check_interrupted()?;
            if kind == "BASE TABLE" {
                out.push((db.clone(), table));
            }
        }
    }
    Ok(out)
}

fn views(session: &Session) -> Result<Vec<Vec<Value>>> {
    let mut rows = Vec::new();
    for db in databases(session)? {
        for (name, kind) in list_tables(session, &db)? {
            if kind != "VIEW" {
                continue;
            }
            let definition = view_sql(session, &db, &name)?;
            rows.push(vec![
                Value::from("def"),
                Value::from(db.as_str()),
                Value::Text(name),
                Value::Text(definition),
                Value::from("NONE"),
                Value::from("NO"),
                Value::from("root@%"),
                Value::from("DEFINER"),
                Value::from("utf8mb4"),
                Value::from("utf8mb4_general_ci"),
            ]);
        }
    }
    Ok(rows)
}

fn statistics(session: &Session) -> Result<Vec<Vec<Value>>> {
    let mut rows = Vec::new();
    for (db, table) in base_tables(session)? {
        let described = describe_table(session, &db, &table)?;
        let nullable = |col: &str| {
            described
                .rows
                .iter()
                .find(|r| r.first().and_then(Value::to_text).as_deref() == Some(col))
                .and_then(|r| r.get(2).and_then(Value::to_text))
                .filter(|n| n == "YES")
                .unwrap_or_default()
        };
        for index in indexes(session, &db, &table)? {
            for (i, col) in index.columns.iter().enumerate() {
                rows.push(vec![
                    Value::from("def"),
                    Value::from(db.as_str()),
                    Value::from(table.as_str()),
                    Value::Int(!index.unique as i64),
                    Value::from(db.as_str()),
                    Value::from(index.name.as_str()),
                    Value::Int(i as i64 + 1),
                    Value::from(col.as_str()),
                    Value::from("A"),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Text(nullable(col)),
                    Value::from("BTREE"),
                    Value::from(""),
                    Value::from(""),
                    Value::from("YES"),
                    Value::Null,
                ]);
            }
        }
    }
    Ok(rows)
}

fn table_constraints(session: &Session) -> Result<Vec<Vec<Value>>> {
    let mut rows = Vec::new();
    for (db, table) in base_tables(session)? {
        let mut push = |name: &str, kind: &str| {
            rows.push(vec![
                Value::from("def"),
                Value::from(db.as_str()),
                Value::from(name),
                Value::from(db.as_str()),
                Value::from(table.as_str()),
                Value::from(kind),
                Value::from("YES"),
            ])
        };
        for index in indexes(session, &db, &table)? {
            if index.primary {
                push("PRIMARY", "PRIMARY KEY");
            } else if index.unique {
                push(&index.name, "UNIQUE");
            }
        }
        for fk in foreign_keys(session, &db, &table)? {
            push(&fk.name, "FOREIGN KEY");
        }
    }
    Ok(rows)
}

fn key_column_usage(session: &Session) -> Result<Vec<Vec<Value>>> {
    let mut rows = Vec::new();
    for (db, table) in base_tables(session)? {
        let row = |name: &str, col: &str, pos: usize, reference: Option<(usize, &str, &str)>| {
            vec![
                Value::from("def"),
                Value::from(db.as_str()),
                Value::from(name),
                Value::from("def"),
                Value::from(db.as_str()),
                Value::from(table.as_str()),
                Value::from(col),
                Value::Int(pos as i64 + 1),
                reference.map_or(Value::Null, |(p, _, _)| Value::Int(p as i64 + 1)),
                reference.map_or(Value::Null, |_| Value::from(db.as_str())),
                reference.map_or(Value::Null, |(_, t, _)| Value::from(t)),
                reference.map_or(Value::Null, |(_, _, c)| Value::from(c)),
            ]
        };
        for index in indexes(session, &db, &table)? {
            if index.unique {
                for (i, col) in index.columns.iter().enumerate() {
                    rows.push(row(&index.name, col, i, None));
                }
            }
        }
        for fk in foreign_keys(session, &db, &table)? {
            for (i, col) in fk.columns.iter().enumerate() {
                let referenced = fk.ref_columns.get(i).map_or("", String::as_str);
                rows.push(row(&fk.name, col, i, Some((i, &fk.ref_table, referenced))));
            }
        }
    }
    Ok(rows)
}

fn referential_constraints(session: &Session) -> Result<Vec<Vec<Value>>> {
    let mut rows = Vec::new();
    for (db, table) in base_tables(session)? {
        for fk in foreign_keys(session, &db, &table)? {
            rows.push(vec![
                Value::from("def"),
                Value::from(db.as_str()),
                Value::from(fk.name.as_str()),
                Value::from("def"),
                Value::from(db.as_str()),
                Value::from("PRIMARY"),
                Value::from("NONE"),
                Value::from(fk.mysql_on_update()),
                Value::from(fk.mysql_on_delete()),
                Value::from(table.as_str()),
                Value::Text(fk.ref_table),
            ]);
        }
    }
    Ok(rows)
}

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
