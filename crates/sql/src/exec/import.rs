//! Import statements (`IMPORT INTO`, `LOAD DATA INFILE`): checked here, run as `IMPORT` jobs.
//!
//! Everything that can be refused is refused before the job exists: the table and the columns must exist, the
//! user must hold INSERT on the table and the FILE privilege (the server reads the files, as MySQL's rule for
//! `LOAD DATA INFILE`), and every source must be a file inside the tenant's part of the external-IO directory
//! (checked only after the privileges, so a refused user cannot probe which files exist). The statement then
//! waits for its job, as CockroachDB's and MySQL's do, unless it says DETACHED.

use tenantry_catalog::Privilege;
use tenantry_jobs::{JobState, NewJob};
use tenantry_kinds::import::{
    local_file_path, new_local_file_name, ColumnType, ImportColumn, ImportPayload, IMPORT,
};

use crate::error::{Result, SqlError};
use crate::exec::files::{self, Wording};
use crate::exec::{privileges, schema};
use crate::parser::{ImportForm, ImportStatement};
use crate::session::Session;
use crate::translate::{is_system_schema, quote, Access};
use crate::value::{Column, ColumnKind, Output, ResultSet, Value};

/// Runs an import statement.
pub fn run(session: &mut Session, stmt: ImportStatement) -> Result<Output> {
    session.commit_if_open()?;
    let db = schema::resolve_db(session, stmt.table.db.clone())?;
    let no_table = || SqlError::NoSuchTable {
        db: db.clone(),
        table: stmt.table.table.clone(),
    };
    if is_system_schema(&db) {
        return Err(no_table());
    }
    let table = schema::stored_table_name(session, &db, &stmt.table.table)?;
    privileges::check(
        session,
        &[Access {
            db: db.clone(),
            table: Some(table.clone()),
            privilege: Privilege::Insert,
        }]
        .into_iter()
        .collect(),
    )?;
    let wording = match stmt.form {
        ImportForm::MySql => Wording::MySql,
        _ => Wording::Uri,
    };
    // The client's own file needs no FILE privilege: the server reads nothing of its own.
    if !stmt.local {
        files::require_file_privilege(session, wording)?;
    }
    let columns = target_columns(session, &db, &table, &stmt.columns)?;
    let (sources, local_file) = if stmt.local {
        let name = stmt.sources.first().cloned().unwrap_or_default();
        (
            vec![name.clone()],
            Some(receive_local_file(session, &name)?),
        )
    } else {
        (check_sources(session, &stmt.sources, wording)?, None)
    };
    let tenant_id = session.identity.tenant.tenant_id;
    let database_id = schema::database_id(session, &db)?;
    let payload = ImportPayload {
        tenant_id,
        database: db.clone(),
        database_id,
        table: table.clone(),
        columns,
        sources,
        format: stmt.format.clone(),
        local_file: local_file.clone(),
    };
    let created = session.engine.jobs().create(NewJob {
        job_type: IMPORT.to_string(),
        tenant_id,
        owner: session.identity.user.name.clone(),
        owner_is_admin: session.identity.user.is_admin,
        description: session.statement_text.clone(),
        statement: session.statement_text.clone(),
        payload: serde_json::to_value(&payload).map_err(|e| SqlError::Internal(e.to_string()))?,
        cancelable: true,
        parent_job_id: None,
    });
    let job = match created {
        Ok(job) => job,
        Err(e) => {
            // No job will read (and remove) the client's file.
            if let Some(file) = &local_file {
                let _ = std::fs::remove_file(local_file_path(
                    session.engine.catalog(),
                    tenant_id,
                    file,
                ));
            }
            return Err(e.into());
        }
    };
    let job_id = job.job_id;
    if stmt.detached {
        return Ok(match stmt.form {
            ImportForm::TiDb => tidb_row(session, &job, &payload)?,
            _ => Output::Rows(ResultSet {
                columns: result_columns(&stmt),
                rows: vec![vec![Value::Int(job_id)]],
            }),
        });
    }
    // KILL QUERY stops the waiting, not the job.
    let done = session.engine.jobs().wait(job_id, &session.interrupt)?;
    match done.state {
        JobState::Succeeded => {}
        JobState::Canceled => {
            return Err(SqlError::JobCanceled {
                job_id,
                message: "the import was rolled back; the table is as it was".into(),
            })
        }
        _ => {
            return Err(SqlError::ImportFailed {
                job_id,
                code: done.error_code.unwrap_or(-1105),
                message: done.error_message.unwrap_or_default(),
            })
        }
    }
    let progress = session.engine.jobs().progress(job_id)?.unwrap_or_default();
    let figure = |k: &str| progress.figure(k);
    let rows = figure("rows_done");
    Ok(match stmt.form {
        ImportForm::MySql => Output::affected(rows as u64),
        ImportForm::TiDb => tidb_row(session, &done, &payload)?,
        ImportForm::Cockroach => {
            let indexes: i64 = session.conn.conn().query_row(
                &format!(
                    "SELECT count(*) FROM {}.sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL",
                    quote(&db)
                ),
                [&table],
                |r| r.get(0),
            )?;
            Output::Rows(ResultSet {
                columns: result_columns(&stmt),
                rows: vec![vec![
                    Value::Int(job_id),
                    Value::from("succeeded"),
                    Value::Float(1.0),
                    Value::Int(rows),
                    Value::Int(rows * indexes),
                    Value::Int(figure("bytes_total")),
                ]],
            })
        }
    })
}

/// The columns an import statement returns (none for LOAD DATA), known before it runs.
pub fn result_columns(stmt: &ImportStatement) -> Vec<Column> {
    match (stmt.form, stmt.detached) {
        (ImportForm::MySql, _) => Vec::new(),
        (ImportForm::TiDb, _) => tidb_columns(),
        (ImportForm::Cockroach, true) => vec![Column::new("job_id", ColumnKind::Int)],
        (ImportForm::Cockroach, false) => vec![
            Column::new("job_id", ColumnKind::Int),
            Column::new("status", ColumnKind::Text),
            Column::new("fraction_completed", ColumnKind::Float),
            Column::new("rows", ColumnKind::Int),
            Column::new("index_entries", ColumnKind::Int),
            Column::new("bytes", ColumnKind::Int),
        ],
    }
}

fn tidb_columns() -> Vec<Column> {
    vec![
        Column::new("Job_ID", ColumnKind::Int),
        Column::new("Data_Source", ColumnKind::Text),
        Column::new("Target_Table", ColumnKind::Text),
        Column::new("Phase", ColumnKind::Text),
        Column::new("Status", ColumnKind::Text),
        Column::new("Source_File_Size", ColumnKind::Int),
        Column::new("Imported_Rows", ColumnKind::Int),
        Column::new("Result_Message", ColumnKind::Text),
        Column::new("Created_By", ColumnKind::Text),
    ]
}

/// TiDB's row for an import job (as `IMPORT INTO` and `SHOW IMPORT JOB` return it).
fn tidb_row(
    session: &Session,
    job: &tenantry_jobs::JobRecord,
    payload: &ImportPayload,
) -> Result<Output> {
    let progress = session
        .engine
        .jobs()
        .progress(job.job_id)?
        .unwrap_or_default();
    let figure = |k: &str| progress.figure(k);
    let status = match job.state {
        JobState::Pending => "pending",
        JobState::Succeeded => "finished",
        JobState::Failed => "failed",
        JobState::Canceled => "cancelled",
        _ => "running",
    };
    Ok(Output::Rows(ResultSet {
        columns: tidb_columns(),
        rows: vec![vec![
            Value::Int(job.job_id),
            Value::from(payload.sources.join(", ")),
            Value::from(format!("`{}`.`{}`", payload.database, payload.table)),
            Value::from(job.phase.clone()),
            Value::from(status),
            Value::Int(figure("bytes_total")),
            Value::Int(figure("rows_done")),
            Value::from(job.error_message.clone().unwrap_or_default()),
            Value::from(job.owner.clone()),
        ]],
    }))
}

/// The columns the fields go into: the named ones (each must exist, once), or all of the table's in order.
/// A NOT NULL column without a default that gets no field is refused here.
fn target_columns(
    session: &Session,
    db: &str,
    table: &str,
    named: &[String],
) -> Result<Vec<ImportColumn>> {
    struct Info {
        name: String,
        decl: String,
        not_null: bool,
        has_default: bool,
        pk: i64,
    }
    let mut stmt = session.conn.conn().prepare(
        "SELECT name, type, \"notnull\", dflt_value IS NOT NULL, pk FROM pragma_table_info(?1, ?2) ORDER BY cid",
    )?;
    let info: Vec<Info> = stmt
        .query_map([table, db], |r| {
            Ok(Info {
                name: r.get(0)?,
                decl: r.get(1)?,
                not_null: r.get(2)?,
                has_default: r.get(3)?,
                pk: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    // SQLite numbers an `INTEGER PRIMARY KEY` itself when it gets NULL (AUTO_INCREMENT columns are these).
    let single_pk = info.iter().filter(|c| c.pk > 0).count() == 1;
    let numbered = |c: &Info| single_pk && c.pk > 0 && c.decl.eq_ignore_ascii_case("INTEGER");
    let column = |c: &Info| ImportColumn {
        name: c.name.clone(),
        ty: match crate::sqlite::results::declared_kind(&c.decl) {
            ColumnKind::Int | ColumnKind::UInt | ColumnKind::Bool => ColumnType::Integer,
            ColumnKind::Float | ColumnKind::Decimal(_) => ColumnType::Real,
            _ => ColumnType::Text,
        },
        not_null: c.not_null && !numbered(c),
    };
    if named.is_empty() {
        return Ok(info.iter().map(column).collect());
    }
    let mut out: Vec<ImportColumn> = Vec::new();
    for n in named {
        let c = info
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(n))
            .ok_or_else(|| SqlError::UnknownColumn(n.clone()))?;
        if out.iter().any(|o| o.name == c.name) {
            return Err(SqlError::DuplicateColumn(c.name.clone()));
        }
        out.push(column(c));
    }
    if let Some(c) = info.iter().find(|c| {
        c.not_null && !c.has_default && !numbered(c) && !out.iter().any(|o| o.name == c.name)
    }) {
        return Err(SqlError::NoDefault(c.name.clone()));
    }
    Ok(out)
}

/// Every source must lie inside the tenant's part of the external-IO directory and be a file there; returns
/// them as written (the job resolves them again when it opens them).
fn check_sources(session: &Session, names: &[String], wording: Wording) -> Result<Vec<String>> {
    for name in names {
        let path = files::resolve(session, name, wording)?;
        if !path.is_file() {
            return Err(SqlError::FileNotFound(format!(
                "File '{name}' not found (Errcode: 2 - No such file or directory)"
            )));
        }
    }
    Ok(names.to_vec())
}

/// `LOAD DATA LOCAL INFILE`: asks the front end for the client's file and writes its bytes into a file of the
/// tenant's directory (owner-only, like everything the server writes), which the job reads and removes. Returns
/// the file's name. KILL QUERY stops the transfer between reads; a failed one leaves no file.
fn receive_local_file(session: &mut Session, name: &str) -> Result<String> {
    let tenant_id = session.identity.tenant.tenant_id;
    let file = new_local_file_name();
    let path = local_file_path(session.engine.catalog(), tenant_id, &file);
    let Some(mut files) = session.local_files.take() else {
        return Err(SqlError::LocalInfileDisabled);
    };
    let result = (|| -> Result<()> {
        let interrupted = || session.check_interrupted();
        let io = |e: std::io::Error| {
            SqlError::FileNotFound(format!("reading the client's file '{name}': {e}"))
        };
        let mut from = files.open(name).map_err(io)?;
        let mut to = std::fs::File::create_new(&path)
            .map_err(|e| SqlError::Internal(format!("creating {}: {e}", path.display())))?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            interrupted()?;
            let n = match std::io::Read::read(&mut from, &mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io(e)),
            };
            std::io::Write::write_all(&mut to, &buf[..n])
                .map_err(|e| SqlError::Internal(format!("writing {}: {e}", path.display())))?;
        }
        to.sync_all()
            .map_err(|e| SqlError::Internal(format!("syncing {}: {e}", path.display())))
    })();
    session.local_files = Some(files);
    match result {
        Ok(()) => Ok(file),
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            Err(e)
        }
    }
}
