//! Restore statements: OceanBase's `ALTER SYSTEM RESTORE` / `CANCEL RESTORE` (root@sys, into a new tenant) and
//! CockroachDB's `SHOW BACKUPS`, `SHOW BACKUP`, `RESTORE DATABASE | TABLE` (inside a tenant, from its own sets).

use tenantry_backup::{BackupStore, SetListing};
use tenantry_catalog::CatalogError;
use tenantry_jobs::{JobRecord, JobState, NewJob};
use tenantry_kinds::restore::{RestorePayload, RestoreTarget, RESTORE};

use crate::error::{Result, SqlError};
use crate::exec::files::{self, Wording};
use crate::exec::jobs::{detached_or_wait, timestamp};
use crate::parser::{Command, RestoreObject, RestoreUntil};
use crate::session::Session;
use crate::value::{Column, ColumnKind, Output, ResultSet, Value};
use tenantry_jobs::ob_codes;

/// Runs a restore statement.
pub fn run(session: &mut Session, cmd: Command) -> Result<Output> {
    match cmd {
        Command::RestoreTenant {
            name,
            uri,
            until,
            pool,
            description,
        } => restore_tenant(session, name, uri, until, pool, description),
        Command::CancelRestore(name) => cancel_restore(session, &name),
        Command::ShowBackups { uri } => show_backups(session, &uri),
        Command::ShowBackup { subdir, uri } => show_backup(session, subdir.as_deref(), &uri),
        Command::RestoreInto {
            object,
            subdir,
            uri,
            new_db_name,
            detached,
        } => restore_into(session, object, subdir, uri, new_db_name, detached),
        other => Err(SqlError::Internal(format!(
            "not a restore statement: {other:?}"
        ))),
    }
}

fn restore_error(message: impl Into<String>) -> SqlError {
    SqlError::OceanBase {
        code: ob_codes::BACKUP_SET_INVALID,
        message: message.into(),
    }
}

/// The session's view of a destination: inside its tenant's part of the external-IO directory, and a user
/// tenant's own (formatted as its) destination only; sys may read any.
fn open_store(session: &Session, uri: &str) -> Result<BackupStore> {
    let tenant = session.identity.tenant.clone();
    files::open_destination(session, &tenant, uri)
        .map_err(|e| files::destination_error(e, Wording::Uri, |e| restore_error(e.to_string())))
}

fn list_sets(store: &BackupStore) -> Result<Vec<SetListing>> {
    store
        .list_sets()
        .map_err(|e| restore_error(format!("{}: {e}", store.uri())))
}

/// Parses `UNTIL TIME` (UTC, as the views show times) or `UNTIL SCN` into microseconds since the epoch.
fn until_micros(until: &RestoreUntil) -> Result<i64> {
    match until {
        RestoreUntil::Scn(scn) => Ok(scn / 1000),
        RestoreUntil::Time(text) => {
            let parsed = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]
                .iter()
                .find_map(|f| {
                    chrono::NaiveDateTime::parse_from_str(text, f)
                        .ok()
                        .or_else(|| {
                            chrono::NaiveDate::parse_from_str(text, f)
                                .ok()
                                .and_then(|d| d.and_hms_opt(0, 0, 0))
                        })
                })
                .ok_or_else(|| {
                    SqlError::Catalog(CatalogError::InvalidArgument(format!(
                        "UNTIL TIME '{text}' is not a time (use 'YYYY-MM-DD HH:MM:SS')"
                    )))
                })?;
            Ok(parsed.and_utc().timestamp_micros())
        }
    }
}

/// The newest complete set (at or before `until`); a clear error naming what is there otherwise.
fn pick_set(sets: &[SetListing], uri: &str, until: Option<i64>) -> Result<SetListing> {
    let candidates: Vec<&SetListing> = sets
        .iter()
        .filter(|s| match (&s.manifest, until) {
            (Some(m), Some(until)) => m.cut_time_us <= until,
            (Some(_), None) => true,
            (None, _) => false,
        })
        .collect();
    if let Some(best) = candidates.into_iter().max_by_key(|s| s.set_id) {
        return Ok(best.clone());
    }
    let incomplete: Vec<String> = sets
        .iter()
        .filter(|s| !s.is_complete())
        .map(|s| s.set_id.to_string())
        .collect();
    Err(restore_error(match (until, incomplete.is_empty()) {
        (Some(_), _) => format!("no complete backup set in '{uri}' at or before the UNTIL point"),
        (None, true) => format!("no backup set in '{uri}'"),
        (None, false) => format!(
            "no complete backup set in '{uri}': backup set {} is incomplete (it has no manifest) and cannot be restored",
            incomplete.join(", ")
        ),
    }))
}

/// Creates the restore job; one that makes a tenant holds its name while it lives (a second restore or
/// clone into the same name is refused as the tenant existing).
fn new_job(session: &Session, tenant_id: i64, payload: &RestorePayload) -> Result<JobRecord> {
    let keys = match &payload.target {
        RestoreTarget::Tenant { name, .. } => vec![tenantry_kinds::keys::tenant_name(name)],
        _ => Vec::new(),
    };
    let new = NewJob {
        job_type: RESTORE.to_string(),
        tenant_id,
        owner: session.identity.user.name.clone(),
        owner_is_admin: session.identity.user.is_admin,
        description: session.statement_text.clone(),
        statement: session.statement_text.clone(),
        payload: serde_json::to_value(payload).map_err(|e| SqlError::Internal(e.to_string()))?,
        cancelable: true,
        parent_job_id: None,
    };
    session
        .engine
        .jobs()
        .create_exclusive(new, keys)
        .map_err(|e| match (e, &payload.target) {
            (tenantry_jobs::RegistryError::Conflict { .. }, RestoreTarget::Tenant { name, .. }) => {
                CatalogError::TenantExists(name.clone()).into()
            }
            (e, _) => e.into(),
        })
}

/// RESTORE jobs still running, with their payloads.
fn live_restores(session: &Session) -> Result<Vec<(JobRecord, RestorePayload)>> {
    Ok(session
        .engine
        .jobs()
        .query(
            &tenantry_jobs::JobFilter::default()
                .of_type(RESTORE)
                .unfinished(),
        )?
        .into_iter()
        .filter_map(|j| {
            let p = serde_json::from_value(j.payload.clone()).ok()?;
            Some((j, p))
        })
        .collect())
}

fn restoring_tenant<'a>(
    jobs: &'a [(JobRecord, RestorePayload)],
    name: &str,
) -> Option<&'a JobRecord> {
    jobs.iter()
        .find(|(_, p)| matches!(&p.target, RestoreTarget::Tenant { name: n, .. } if n.eq_ignore_ascii_case(name)))
        .map(|(j, _)| j)
}

/// `ALTER SYSTEM RESTORE`: checks the name, the pool and the set now, then returns while the job runs.
fn restore_tenant(
    session: &mut Session,
    name: String,
    uri: String,
    until: Option<RestoreUntil>,
    pool: String,
    description: String,
) -> Result<Output> {
    session.require_cluster_admin()?;
    let catalog = session.engine.catalog();
    if !tenantry_storage::is_valid_name(&name) {
        return Err(CatalogError::InvalidName(name).into());
    }
    if catalog.tenant_by_name(&name)?.is_some()
        || restoring_tenant(&live_restores(session)?, &name).is_some()
    {
        return Err(CatalogError::TenantExists(name).into());
    }
    match catalog.resource_pool(&pool)? {
        None => return Err(CatalogError::PoolNotExist(pool).into()),
        Some(p) if p.tenant_id.is_some() => return Err(CatalogError::PoolInUse(pool).into()),
        Some(_) => {}
    }
    let until_us = until.as_ref().map(until_micros).transpose()?;
    let store = open_store(session, &uri)?;
    let sets = list_sets(&store)?;
    let tenants: std::collections::BTreeSet<i64> = sets.iter().map(|s| s.tenant_id).collect();
    if tenants.len() > 1 {
        return Err(restore_error(format!(
            "'{}' holds backup sets of several tenants ({}); restore from one tenant's destination",
            store.uri(),
            tenants
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let set = pick_set(&sets, store.uri(), until_us)?;
    let Some(manifest) = set.manifest else {
        return Err(restore_error("the chosen set has no manifest"));
    };
    let payload = RestorePayload {
        target: RestoreTarget::Tenant {
            name,
            pool: pool.to_ascii_lowercase(),
        },
        dest: store.stored_uri().to_string(),
        source_tenant_id: set.tenant_id,
        source_tenant_name: manifest.tenant_name.clone(),
        set_id: set.set_id,
        cut_time_us: manifest.cut_time_us,
        total_bytes: manifest.total_bytes(),
        until: until.map(|u| match u {
            RestoreUntil::Time(t) => t,
            RestoreUntil::Scn(s) => s.to_string(),
        }),
        description,
    };
    new_job(session, tenantry_catalog::SYS_TENANT_ID, &payload)?;
    Ok(Output::ok())
}

/// `ALTER SYSTEM CANCEL RESTORE t`: stops the restore and waits until what it made is gone.
fn cancel_restore(session: &mut Session, name: &str) -> Result<Output> {
    session.require_cluster_admin()?;
    let jobs = live_restores(session)?;
    let Some(job) = restoring_tenant(&jobs, name) else {
        return match session.engine.catalog().tenant_by_name(name)? {
            Some(_) => Err(SqlError::OceanBase {
                code: ob_codes::OP_NOT_ALLOW,
                message: "Cancel tenant not in restore is not allowed".into(),
            }),
            None => Err(CatalogError::TenantNotExist(name.to_string()).into()),
        };
    };
    let registry = session.engine.jobs().clone();
    match registry.request_cancel(job.job_id) {
        Ok(_) | Err(tenantry_jobs::RegistryError::WrongState { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    registry.wait(job.job_id, &session.interrupt)?;
    Ok(Output::ok())
}

/// The sets of a destination the session may see: its own tenant's (every tenant's for sys), and the
/// destination.
fn visible_sets(session: &Session, uri: &str) -> Result<(Vec<SetListing>, BackupStore)> {
    let store = open_store(session, uri)?;
    let tenant = &session.identity.tenant;
    let sets = list_sets(&store)?
        .into_iter()
        .filter(|s| tenant.is_sys() || s.tenant_id == tenant.tenant_id)
        .collect();
    Ok((sets, store))
}

fn show_backups(session: &mut Session, uri: &str) -> Result<Output> {
    session.require_tenant_admin("RESTORE")?;
    let mut rs = ResultSet {
        columns: vec![Column::new("path", ColumnKind::Text)],
        rows: Vec::new(),
    };
    for set in visible_sets(session, uri)?.0 {
        rs.rows.push(vec![Value::Text(format!("/{}", set.path))]);
    }
    Ok(Output::Rows(rs))
}

/// A set named by its path (`/tenant_1001/backup_set_2` or without the slash), or the newest complete one.
fn find_set(sets: &[SetListing], subdir: Option<&str>, uri: &str) -> Result<SetListing> {
    match subdir {
        None => pick_set(sets, uri, None),
        Some(path) => {
            let path = path.trim_matches('/');
            let set = sets
                .iter()
                .find(|s| s.path == path)
                .ok_or_else(|| restore_error(format!("no backup set '{path}' in '{uri}'")))?;
            if !set.is_complete() {
                return Err(restore_error(format!(
                    "backup set {} ('{path}') is incomplete (it has no manifest) and cannot be restored",
                    set.set_id
                )));
            }
            Ok(set.clone())
        }
    }
}

fn show_backup(session: &mut Session, subdir: Option<&str>, uri: &str) -> Result<Output> {
    session.require_tenant_admin("RESTORE")?;
    let (sets, store) = visible_sets(session, uri)?;
    let set = find_set(&sets, subdir, store.uri())?;
    let Some(manifest) = set.manifest else {
        return Err(restore_error("the chosen set has no manifest"));
    };
    let full = manifest
        .databases
        .iter()
        .all(|d| !d.chunks.is_empty() || d.page_count == 0);
    let mut rs = ResultSet {
        columns: vec![
            Column::new("database_name", ColumnKind::Text),
            Column::new("parent_schema_name", ColumnKind::Text),
            Column::new("object_name", ColumnKind::Text),
            Column::new("object_type", ColumnKind::Text),
            Column::new("backup_type", ColumnKind::Text),
            Column::new("end_time", ColumnKind::Text),
            Column::new("size_bytes", ColumnKind::Int),
            Column::new("is_full_cluster", ColumnKind::Text),
            Column::new("path", ColumnKind::Text),
        ],
        rows: Vec::new(),
    };
    let end = timestamp(manifest.cut_time_us);
    let backup_type = if full { "full" } else { "incremental" };
    for db in &manifest.databases {
        let size = i64::from(db.page_count) * i64::from(db.page_size);
        rs.rows.push(vec![
            Value::Null,
            Value::Null,
            Value::from(db.name.as_str()),
            Value::from("database"),
            Value::from(backup_type),
            Value::Text(end.clone()),
            Value::Int(size),
            Value::from("false"),
            Value::Text(format!("/{}", set.path)),
        ]);
        for table in &db.tables {
            rs.rows.push(vec![
                Value::from(db.name.as_str()),
                Value::from("public"),
                Value::from(table.as_str()),
                Value::from("table"),
                Value::from(backup_type),
                Value::Text(end.clone()),
                Value::Null,
                Value::from("false"),
                Value::Text(format!("/{}", set.path)),
            ]);
        }
    }
    Ok(Output::Rows(rs))
}

/// CockroachDB's RESTORE inside a tenant: from the tenant's own sets only, into a database or table that does
/// not exist yet.
fn restore_into(
    session: &mut Session,
    object: RestoreObject,
    subdir: Option<String>,
    uri: String,
    new_db_name: Option<String>,
    detached: bool,
) -> Result<Output> {
    session.require_tenant_admin("RESTORE")?;
    let tenant_id = session.identity.tenant.tenant_id;
    let (sets, store) = visible_sets(session, &uri)?;
    let sets: Vec<SetListing> = sets
        .into_iter()
        .filter(|s| s.tenant_id == tenant_id)
        .collect();
    let set = find_set(&sets, subdir.as_deref(), store.uri())?;
    let Some(manifest) = set.manifest.clone() else {
        return Err(restore_error("the chosen set has no manifest"));
    };
    let catalog = session.engine.catalog();
    let target = match object {
        RestoreObject::Database(db) => {
            if new_db_name.is_none() && !manifest.databases.iter().any(|d| d.name == db) {
                return Err(restore_error(format!(
                    "backup set {} has no database '{db}'",
                    set.set_id
                )));
            }
            let new_name = new_db_name.unwrap_or_else(|| db.clone());
            if catalog.database(tenant_id, &new_name)?.is_some() {
                return Err(SqlError::DatabaseExists(new_name));
            }
            if !tenantry_storage::is_valid_name(&new_name) {
                return Err(CatalogError::InvalidName(new_name).into());
            }
            RestoreTarget::Database {
                tenant_id,
                database: db,
                new_name,
            }
        }
        RestoreObject::Table { db, table } => {
            let db = match db.or_else(|| session.db.clone()) {
                Some(db) => db,
                None => return Err(SqlError::NoDatabaseSelected),
            };
            if catalog.database(tenant_id, &db)?.is_none() {
                return Err(SqlError::UnknownDatabase(db));
            }
            let image = manifest.databases.iter().find(|d| d.name == db);
            if image.is_some_and(|d| {
                !d.tables.is_empty() && !d.tables.iter().any(|t| t.eq_ignore_ascii_case(&table))
            }) || image.is_none()
            {
                return Err(restore_error(format!(
                    "backup set {} has no table '{db}.{table}'",
                    set.set_id
                )));
            }
            RestoreTarget::Table {
                tenant_id,
                database: db,
                table,
            }
        }
    };
    let payload = RestorePayload {
        target,
        dest: store.stored_uri().to_string(),
        source_tenant_id: set.tenant_id,
        source_tenant_name: manifest.tenant_name.clone(),
        set_id: set.set_id,
        cut_time_us: manifest.cut_time_us,
        total_bytes: manifest.total_bytes(),
        until: None,
        description: String::new(),
    };
    let job = new_job(session, tenant_id, &payload)?;
    detached_or_wait(
        session,
        job.job_id,
        detached,
        "finish_bytes",
        "the restore was undone",
    )
}

/// The state OceanBase's restore views show.
pub fn restore_status(rec: &JobRecord) -> String {
    match rec.state {
        JobState::Succeeded => "SUCCESS".into(),
        JobState::Failed | JobState::Canceled => "FAILED".into(),
        JobState::Pending => "CREATE_TENANT".into(),
        JobState::CancelRequested | JobState::Reverting => "RESTORE_FAIL".into(),
        _ if rec.phase.is_empty() => "CREATE_TENANT".into(),
        _ => rec.phase.clone(),
    }
}
