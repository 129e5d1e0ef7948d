//! Changefeed statements: `CREATE CHANGEFEED ... INTO 'sink'` (checked here, run as a `CHANGEFEED` job) and
//! `SHOW CHANGEFEED JOB[S]`. Everything that can be refused is refused before the feed's capture starts or its
//! job exists: the tables, the options (CockroachDB's texts, SQLSTATE 22023), the privilege and the sink.

use tenantry_jobs::{JobError, JobRecord, NewJob};
use tenantry_kinds::changefeed::options::{FeedOptions, Format, InitialScan, SinkKind};
use tenantry_kinds::changefeed::sinkless::{self, Sinkless};
use tenantry_kinds::changefeed::{
    self, capture_guard, checkpoint_of, start_capture, ChangefeedPayload, Hlc, CHANGEFEED,
};

use crate::error::{Result, SqlError};
use crate::exec::files::{self, Wording};
use crate::exec::{jobs, privileges, schema};
use crate::parser::ChangefeedStatement;
use crate::session::Session;
use crate::stream::RowBatch;
use crate::translate::is_system_schema;
use crate::value::{Column, ColumnKind, Output, ResultSet, Value};
use tenantry_catalog::Privilege;

/// SHOW CHANGEFEED JOBS's columns (CockroachDB's 16, in order) with their SQLite types.
pub(crate) const SHOW_CHANGEFEED_JOBS_COLUMNS: &[(&str, &str)] = &[
    ("job_id", "INTEGER"),
    ("description", "TEXT"),
    ("user_name", "TEXT"),
    ("status", "TEXT"),
    ("running_status", "TEXT"),
    ("created", "TIMESTAMPTZ"),
    ("started", "TIMESTAMPTZ"),
    ("finished", "TIMESTAMPTZ"),
    ("modified", "TIMESTAMPTZ"),
    ("high_water_timestamp", "NUMERIC"),
    ("readable_high_water_timestamptz", "TIMESTAMPTZ"),
    ("error", "TEXT"),
    ("sink_uri", "TEXT"),
    ("full_table_names", "TEXT"),
    ("topics", "TEXT"),
    ("format", "TEXT"),
];

/// The columns a changefeed statement returns: `job_id`, or a sinkless feed's `table, key, value`.
pub fn result_columns(stmt: &ChangefeedStatement) -> Vec<Column> {
    match stmt.sink {
        Some(_) => vec![Column::new("job_id", ColumnKind::Int)],
        None => sinkless_columns(),
    }
}

/// A sinkless feed's columns (CockroachDB's: `table`, `key`, `value`).
fn sinkless_columns() -> Vec<Column> {
    ["table", "key", "value"]
        .map(|n| Column::new(n, ColumnKind::Text))
        .to_vec()
}

fn invalid(message: impl Into<String>) -> SqlError {
    SqlError::InvalidOption(message.into())
}

/// Runs `CREATE CHANGEFEED`.
pub fn create(session: &mut Session, stmt: ChangefeedStatement) -> Result<Output> {
    let sink_kind = SinkKind::of(stmt.sink.as_deref()).map_err(invalid)?;
    let options = FeedOptions::parse(&stmt.options, sink_kind).map_err(invalid)?;
    session.commit_if_open()?;
    let (database, tables) = target_tables(session, &stmt)?;
    let Some(sink) = stmt.sink.clone() else {
        return sinkless(session, database, tables, &options);
    };
    if !session.identity.is_tenant_admin() {
        for table in &tables {
            if !privileges::has_on_table(session, &database, table, Privilege::Changefeed)? {
                return Err(SqlError::JobPrivilege(format!(
                    "user {} requires the CHANGEFEED privilege on all target tables to be able to run an enterprise changefeed",
                    session.identity.user.name
                )));
            }
        }
        // Files are the server's to write: a non-administrator needs FILE for them, as for server-side imports.
        if sink_kind == SinkKind::Files {
            files::require_file_privilege(session, Wording::Uri)?;
        }
    }
    check_sink(session, &sink, sink_kind, &options)?;
    let tenant_id = session.identity.tenant.tenant_id;
    let catalog = session.engine.catalog();
    let database_id = schema::database_id(session, &database)?;
    let description = describe(&database, &tables, &sink, &stmt.options);
    // Capture starts before the job exists and in one transaction: every change committed after this
    // statement returns is the feed's.
    let _guard = capture_guard();
    if let Some(cursor) = options.cursor {
        changefeed::check_cursor(catalog, tenant_id, &database, database_id, &tables, cursor)
            .map_err(|e| match e {
                JobError::Permanent { message, .. } => invalid(message),
                other => SqlError::from(other),
            })?;
    }
    let start_seq = start_capture(catalog, tenant_id, &database, database_id, &tables)
        .map_err(SqlError::from)?;
    let payload = ChangefeedPayload {
        tenant_id,
        database,
        database_id,
        tables,
        sink,
        options: stmt.options.clone(),
        start_seq,
        start_wall: changefeed::now_nanos(),
    };
    let value = serde_json::to_value(&payload).map_err(|e| SqlError::Internal(e.to_string()))?;
    let created = session.engine.jobs().create(NewJob {
        job_type: CHANGEFEED.to_string(),
        tenant_id,
        owner: session.identity.user.name.clone(),
        owner_is_admin: session.identity.user.is_admin,
        description: description.clone(),
        statement: description,
        payload: value,
        cancelable: true,
        parent_job_id: None,
    });
    let job = match created {
        Ok(job) => job,
        Err(e) => {
            drop(_guard);
            // No feed will end this capture: end it now.
            let _ = changefeed::release(catalog, session.engine.jobs(), &payload, 0);
            return Err(e.into());
        }
    };
    Ok(Output::Rows(ResultSet {
        columns: vec![Column::new("job_id", ColumnKind::Int)],
        rows: vec![vec![Value::Int(job.job_id)]],
    }))
}

/// A sinkless feed: `table, key, value` rows streamed to the client until it goes away, the statement is
/// canceled (CANCEL QUERY, KILL QUERY, a wire cancel), or `end_time` passes. SELECT on every table is needed
/// (CockroachDB's rule for core changefeeds).
fn sinkless(
    session: &mut Session,
    database: String,
    tables: Vec<String>,
    options: &FeedOptions,
) -> Result<Output> {
    if !session.identity.is_tenant_admin() {
        for table in &tables {
            if !privileges::has_on_table(session, &database, table, Privilege::Select)? {
                return Err(SqlError::JobPrivilege(format!(
                    "user {} requires the SELECT privilege on all target tables to be able to run a core changefeed",
                    session.identity.user.name
                )));
            }
        }
    }
    let Some(sink) = session.row_sink.take() else {
        return Err(SqlError::Unsupported(
            "a sinkless changefeed on a connection that does not stream results".into(),
        ));
    };
    let tenant_id = session.identity.tenant.tenant_id;
    let catalog = session.engine.catalog();
    let database_id = schema::database_id(session, &database)?;
    let mut feed = Sinkless::start(catalog, tenant_id, &database, database_id, tables, options)
        .map_err(SqlError::from)?;
    let stop = session.interrupt.clone();
    let rows = |batch: Vec<sinkless::Row>| -> Vec<Vec<Value>> {
        batch
            .into_iter()
            .map(|(t, k, v)| vec![Value::from(t), Value::from(k), Value::from(v)])
            .collect()
    };
    let streamed = (|| -> Result<u64> {
        sink.send(RowBatch::Columns(sinkless_columns()), &stop)?;
        let mut sent = 0u64;
        if options.initial_scan != InitialScan::No {
            feed.scan(|batch| -> Result<()> {
                session.check_interrupted()?;
                sent += batch.len() as u64;
                sink.send(RowBatch::Rows(rows(batch)), &stop)
            })?;
        }
        loop {
            session.check_interrupted()?;
            let (batch, ended) = feed.read_changes().map_err(SqlError::from)?;
            let idle = batch.is_empty();
            if !idle {
                sent += batch.len() as u64;
                sink.send(RowBatch::Rows(rows(batch)), &stop)?;
            }
            if ended {
                return Ok(sent);
            }
            if idle {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
    })();
    feed.finish(catalog, session.engine.jobs());
    streamed.map(|rows| Output::Streamed { rows })
}

/// The watched tables by their stored names, all in one database.
fn target_tables(
    session: &mut Session,
    stmt: &ChangefeedStatement,
) -> Result<(String, Vec<String>)> {
    let mut database: Option<String> = None;
    let mut tables: Vec<String> = Vec::new();
    for t in &stmt.tables {
        let db = schema::resolve_db(session, t.db.clone())?;
        let missing = || SqlError::NoSuchTable {
            db: db.clone(),
            table: t.table.clone(),
        };
        if is_system_schema(&db) {
            return Err(missing());
        }
        if database.as_ref().is_some_and(|d| *d != db) {
            return Err(SqlError::Unsupported(
                "a changefeed on tables of more than one database".into(),
            ));
        }
        let name = schema::stored_table_name(session, &db, &t.table)?;
        if tables.contains(&name) {
            return Err(invalid(format!(
                "table \"{name}\" specified more than once"
            )));
        }
        tables.push(name);
        database = Some(db);
    }
    let database = database.ok_or_else(|| invalid("a changefeed needs at least one table"))?;
    Ok((database, tables))
}

/// The sink must be one the feed can use: a file sink's directory inside the tenant's part of the external-IO
/// directory, a webhook's parameters readable.
fn check_sink(session: &Session, sink: &str, kind: SinkKind, options: &FeedOptions) -> Result<()> {
    match kind {
        SinkKind::Files => {
            let path = sink.split_once('?').map_or(sink, |(p, _)| p);
            files::resolve(session, path, Wording::Uri)?;
            Ok(())
        }
        SinkKind::Webhook => {
            let handle = tokio::runtime::Handle::try_current()
                .map_err(|e| SqlError::Internal(e.to_string()))?;
            tenantry_kinds::changefeed::sink::Webhook::open(sink, options, handle)
                .map(|_| ())
                .map_err(invalid)
        }
        SinkKind::Sinkless => Ok(()),
    }
}

/// The query parameters whose values are secrets, shown as `redacted`.
const SECRET_PARAMS: [&str; 6] = [
    "AWS_SECRET_ACCESS_KEY",
    "sasl_password",
    "api_secret",
    "client_key",
    "CREDENTIALS",
    "AZURE_ACCOUNT_KEY",
];

/// `uri` with its secrets (a password, secret parameters) replaced by `redacted`.
pub fn redact(uri: &str) -> String {
    let Ok(mut url) = url::Url::parse(uri) else {
        return uri.to_string();
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("redacted"));
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let secret = SECRET_PARAMS.iter().any(|s| s.eq_ignore_ascii_case(&k));
            (
                k.into_owned(),
                if secret {
                    "redacted".into()
                } else {
                    v.into_owned()
                },
            )
        })
        .collect();
    if !pairs.is_empty() {
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The job's description: the statement as CockroachDB normalizes it, names in full, secrets redacted.
fn describe(
    database: &str,
    tables: &[String],
    sink: &str,
    options: &[(String, Option<String>)],
) -> String {
    let targets: Vec<String> = tables
        .iter()
        .map(|t| format!("TABLE {database}.public.{t}"))
        .collect();
    let mut text = format!(
        "CREATE CHANGEFEED FOR {} INTO {}",
        targets.join(", "),
        sql_string(&redact(sink))
    );
    if !options.is_empty() {
        let list: Vec<String> = options
            .iter()
            .map(|(k, v)| match v {
                None => k.clone(),
                Some(v) if k == "webhook_auth_header" => format!("{k} = 'redacted'"),
                Some(v) => format!("{k} = {}", sql_string(v)),
            })
            .collect();
        text.push_str(&format!(" WITH OPTIONS ({})", list.join(", ")));
    }
    text
}

/// SHOW CHANGEFEED JOBS rows: the session's visible changefeeds (one if `id`), SHOW JOBS's window without one.
pub fn rows(session: &Session, id: Option<i64>) -> Result<Vec<Vec<Value>>> {
    let mut filter = jobs::listing(session, id.is_none())?.of_type(CHANGEFEED);
    if let Some(id) = id {
        let rec = jobs::lookup(session, id)?;
        if rec.job_type != CHANGEFEED {
            return Err(SqlError::JobNotFound(id));
        }
        if !jobs::may_view(session, &rec)? {
            return Err(jobs::no_privileges(session, id));
        }
        filter.ids = Some(vec![id]);
    }
    let found = session.engine.jobs().query_with_progress(&filter)?;
    let mut out = Vec::with_capacity(found.len());
    for (rec, progress) in found {
        session.check_interrupted()?;
        out.push(row(&rec, checkpoint_of(&progress)));
    }
    Ok(out)
}

fn row(rec: &JobRecord, checkpoint: Option<changefeed::Checkpoint>) -> Vec<Value> {
    let payload = changefeed::payload(rec).ok();
    let high_water = checkpoint.as_ref().and_then(|c| Hlc::parse(&c.high_water));
    let format = payload
        .as_ref()
        .and_then(|p| {
            let kind = SinkKind::of(Some(&p.sink)).ok()?;
            FeedOptions::parse(&p.options, kind).ok()
        })
        .map_or("json", |o| match o.format {
            Format::Json => "json",
            Format::Csv => "csv",
        });
    let error = match rec.state {
        tenantry_jobs::JobState::Failed => rec.error_message.clone().unwrap_or_default(),
        _ => String::new(),
    };
    vec![
        Value::Int(rec.job_id),
        Value::from(rec.description.as_str()),
        Value::from(rec.owner.as_str()),
        Value::from(rec.state.as_str()),
        Value::from(rec.running_status.as_str()),
        Value::Text(jobs::timestamp(rec.created)),
        Value::from(rec.started.map(jobs::timestamp)),
        Value::from(rec.finished.map(jobs::timestamp)),
        Value::Text(jobs::timestamp(rec.modified)),
        high_water.map_or(Value::Null, |h| Value::Text(h.to_string())),
        high_water.map_or(Value::Null, |h| Value::Text(jobs::timestamp(h.micros()))),
        Value::Text(error),
        payload
            .as_ref()
            .map_or(Value::Null, |p| Value::Text(redact(&p.sink))),
        payload.as_ref().map_or(Value::Null, |p| {
            let names: Vec<String> = p
                .tables
                .iter()
                .map(|t| format!("{}.public.{t}", p.database))
                .collect();
            Value::Text(format!("{{{}}}", names.join(",")))
        }),
        Value::Null,
        Value::from(format),
    ]
}

/// Runs `SHOW CHANGEFEED JOB[S]`.
pub fn show(session: &Session, id: Option<i64>) -> Result<Output> {
    let rows = rows(session, id)?;
    Ok(Output::Rows(ResultSet {
        columns: SHOW_CHANGEFEED_JOBS_COLUMNS
            .iter()
            .map(|(n, ty)| Column::new(*n, crate::sqlite::results::declared_kind(ty)))
            .collect(),
        rows,
    }))
}
