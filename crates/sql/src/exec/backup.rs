//! Data backup statements (OceanBase's): `ALTER SYSTEM BACKUP DATABASE`, and the destination check of
//! `ALTER SYSTEM SET DATA_BACKUP_DEST`.

use tenantry_catalog::{CatalogError, Tenant};
use tenantry_jobs::{Creation, JobAction, JobFilter, JobRecord, NewJob, RegistryError};
use tenantry_kinds::backup::{BackupPayload, BACKUP, CLUSTER_LEVEL};
use tenantry_kinds::keys;

use crate::error::{Result, SqlError};
use crate::exec::files::{self, Wording};
use crate::parser::Command;
use crate::session::Session;
use crate::value::{Column, ColumnKind, Output, ResultSet, Value};
use tenantry_jobs::ob_codes;

/// Makes `uri` the tenant's backup destination (see [`files::claim_destination`]) and returns the URI to store:
/// the canonical `file://` URI (the destination's identity), or the `s3://` URI with its credentials, which is
/// never shown. A destination that is nobody's or another tenant's is OceanBase's -9080 / -9081, an S3
/// endpoint or region that is wrong -9118 / -9117; any other refusal is an invalid value (4147). Errors show
/// the URI without its secrets.
pub fn check_destination(session: &Session, tenant: &Tenant, uri: &str) -> Result<String> {
    let invalid = |reason: String| {
        SqlError::Catalog(CatalogError::InvalidParameterValue {
            name: "data_backup_dest".into(),
            value: tenantry_backup::display_uri(uri),
            reason,
        })
    };
    if tenantry_backup::is_s3_uri(uri) {
        // Judged as OceanBase writes it first, so a URI without parameters is told what OceanBase needs.
        tenantry_backup::S3Location::parse(uri, tenantry_backup::UriForm::OceanBase)
            .map_err(|e| s3_uri_error(e, invalid))?;
    }
    files::claim_destination(session, tenant, uri)
        .map(|store| store.stored_uri().to_string())
        .map_err(|e| {
            files::destination_error(e, Wording::Uri, |e| match e {
                tenantry_backup::BackupError::S3Uri(e) => s3_uri_error(e, invalid),
                e => invalid(e.to_string()),
            })
        })
        .map_err(|e| match e {
            SqlError::FileAccessDenied(reason) | SqlError::FileNotFound(reason) => invalid(reason),
            e => e,
        })
}

/// An S3 URI refused: OceanBase's own number where it has one, else `other`.
fn s3_uri_error(
    e: tenantry_backup::S3UriError,
    other: impl FnOnce(String) -> SqlError,
) -> SqlError {
    let code = match e {
        tenantry_backup::S3UriError::BadEndpoint(_) => ob_codes::OBJECT_STORAGE_ENDPOINT_INVALID,
        tenantry_backup::S3UriError::RegionMismatch => ob_codes::S3_REGION_MISMATCH,
        _ => return other(e.to_string()),
    };
    SqlError::OceanBase {
        code,
        message: e.to_string(),
    }
}

/// Runs a backup statement.
pub fn run(session: &mut Session, cmd: Command) -> Result<Output> {
    match cmd {
        Command::CancelBackup { tenants } => cancel(session, tenants),
        Command::ValidateBackupSet(set_id) => validate(session, set_id),
        Command::BackupDatabase {
            incremental,
            plus_archivelog,
            description,
        } if session.identity.tenant.is_sys() => {
            backup_tenants(session, None, incremental, plus_archivelog, description)
        }
        Command::BackupTenants {
            tenants,
            incremental,
            plus_archivelog,
            description,
        } => backup_tenants(session, tenants, incremental, plus_archivelog, description),
        Command::BackupDatabase {
            incremental,
            plus_archivelog,
            description,
        } => {
            let dest = session
                .engine
                .catalog()
                .parameter("data_backup_dest", Some(session.identity.tenant.tenant_id))?;
            if dest.is_empty() {
                return Err(no_destination());
            }
            start(
                session,
                dest,
                incremental,
                plus_archivelog,
                description,
                Vec::new(),
            )?;
            // As in OceanBase, the statement returns at once; the job shows in SHOW JOBS and the backup views.
            Ok(Output::ok())
        }
        Command::BackupInto {
            databases,
            uri,
            detached,
        } => {
            // Who may back up comes first: a refused statement must not create or probe anything.
            session.require_tenant_admin("BACKUP")?;
            if session.identity.tenant.is_sys() {
                return Err(SqlError::Unsupported("backing up the sys tenant".into()));
            }
            for db in &databases {
                session
                    .engine
                    .catalog()
                    .database(session.identity.tenant.tenant_id, db)?
                    .ok_or_else(|| SqlError::UnknownDatabase(db.clone()))?;
            }
            let tenant = session.identity.tenant.clone();
            let uri = files::claim_destination(session, &tenant, &uri)
                .map(|store| store.stored_uri().to_string())
                .map_err(|e| {
                    files::destination_error(e, Wording::Uri, |e| match e {
                        tenantry_backup::BackupError::S3Uri(e) => {
                            SqlError::InvalidUri(e.to_string())
                        }
                        e => SqlError::OceanBase {
                            code: ob_codes::BACKUP_DEST_UNREACHABLE,
                            message: format!("can not connect to backup destination: {e}"),
                        },
                    })
                })?;
            let job_id = start(session, uri, false, false, String::new(), databases)?;
            crate::exec::jobs::detached_or_wait(
                session,
                job_id,
                detached,
                "input_bytes",
                "the backup set is incomplete",
            )
        }
        other => Err(SqlError::Internal(format!(
            "not a backup statement: {other:?}"
        ))),
    }
}

/// A backup started from sys: a CLUSTER-level job with one child per tenant (the named ones, or every user
/// tenant that has a destination), as OceanBase does. Returns at once.
fn backup_tenants(
    session: &mut Session,
    names: Option<Vec<String>>,
    incremental: bool,
    plus_archivelog: bool,
    description: String,
) -> Result<Output> {
    session.require_cluster_admin()?;
    let catalog = session.engine.catalog();
    let tenants = match &names {
        Some(names) => {
            let mut out = Vec::new();
            for name in names {
                out.push(
                    catalog
                        .tenant_by_name(name)?
                        .ok_or_else(|| CatalogError::TenantNotExist(name.clone()))?,
                );
            }
            out
        }
        None => catalog
            .tenants()?
            .into_iter()
            .filter(|t| !t.is_sys())
            .collect(),
    };
    let mut children = Vec::new();
    for t in &tenants {
        if t.is_sys() {
            return Err(SqlError::Unsupported("backing up the sys tenant".into()));
        }
        let dest = catalog.parameter("data_backup_dest", Some(t.tenant_id))?;
        if dest.is_empty() {
            // Without a list, tenants without a destination are simply not eligible.
            if names.is_none() {
                continue;
            }
            return Err(no_destination());
        }
        children.push((t.clone(), dest));
    }
    if children.is_empty() {
        return Err(no_destination());
    }
    let job = |tenant_id: i64, payload: &BackupPayload| -> Result<NewJob> {
        Ok(NewJob {
            job_type: BACKUP.to_string(),
            tenant_id,
            owner: session.identity.user.name.clone(),
            owner_is_admin: true,
            description: session.statement_text.clone(),
            statement: session.statement_text.clone(),
            payload: serde_json::to_value(payload)
                .map_err(|e| SqlError::Internal(e.to_string()))?,
            cancelable: true,
            parent_job_id: None,
        })
    };
    let parent = BackupPayload {
        tenant_id: tenantry_catalog::SYS_TENANT_ID,
        tenant_name: "sys".into(),
        dest: String::new(),
        set_id: 0,
        incremental,
        plus_archivelog,
        description: description.clone(),
        databases: Vec::new(),
        level: CLUSTER_LEVEL.into(),
        tenants: children.iter().map(|(t, _)| t.tenant_id).collect(),
    };
    let mut child_jobs = Vec::new();
    for (t, dest) in children {
        let payload = BackupPayload {
            tenant_id: t.tenant_id,
            tenant_name: t.tenant_name.clone(),
            dest,
            set_id: catalog.next_backup_set_id(t.tenant_id)?,
            incremental,
            plus_archivelog,
            description: description.clone(),
            databases: Vec::new(),
            level: "USER_TENANT".into(),
            tenants: Vec::new(),
        };
        child_jobs.push(Creation {
            job: job(t.tenant_id, &payload)?,
            keys: vec![keys::backup(t.tenant_id)],
        });
    }
    let parent = job(tenantry_catalog::SYS_TENANT_ID, &parent)?;
    // Every child and the parent are created in one transaction, refused as a whole if a tenant's backup
    // is in progress.
    session
        .engine
        .jobs()
        .create_family(parent.into(), child_jobs)
        .map_err(in_progress)?;
    Ok(Output::ok())
}

/// Creates a BACKUP job for the session's tenant (its administrator only; one at a time); returns its id.
fn start(
    session: &mut Session,
    dest: String,
    incremental: bool,
    plus_archivelog: bool,
    description: String,
    databases: Vec<String>,
) -> Result<i64> {
    session.require_tenant_admin("BACKUP")?;
    let tenant = session.identity.tenant.clone();
    if tenant.is_sys() {
        return Err(SqlError::Unsupported("backing up the sys tenant".into()));
    }
    let payload = BackupPayload {
        tenant_id: tenant.tenant_id,
        tenant_name: tenant.tenant_name.clone(),
        dest,
        set_id: session
            .engine
            .catalog()
            .next_backup_set_id(tenant.tenant_id)?,
        incremental,
        plus_archivelog,
        description,
        databases,
        level: "USER_TENANT".into(),
        tenants: Vec::new(),
    };
    let new = NewJob {
        job_type: BACKUP.to_string(),
        tenant_id: tenant.tenant_id,
        owner: session.identity.user.name.clone(),
        owner_is_admin: session.identity.user.is_admin,
        description: session.statement_text.clone(),
        statement: session.statement_text.clone(),
        payload: serde_json::to_value(&payload).map_err(|e| SqlError::Internal(e.to_string()))?,
        cancelable: true,
        parent_job_id: None,
    };
    // One backup per tenant at a time: checked and taken in the transaction that creates the job.
    let job = session
        .engine
        .jobs()
        .create_exclusive(new, vec![keys::backup(tenant.tenant_id)])
        .map_err(in_progress)?;
    Ok(job.job_id)
}

/// OceanBase's answer to a backup while one of the tenant's is in progress (a held backup key).
fn in_progress(e: RegistryError) -> SqlError {
    match e {
        RegistryError::Conflict { .. } => SqlError::OceanBase {
            code: ob_codes::BACKUP_IN_PROGRESS,
            message: "Backup is in progress".into(),
        },
        other => other.into(),
    }
}

/// `ALTER SYSTEM CANCEL BACKUP [TENANT = ...]` (seeds 000 and 002): root@sys cancels every user tenant's backups,
/// or those of the tenants it names; a tenant's administrator cancels its own tenant's, and may not name tenants.
/// Nothing to cancel is not an error.
fn cancel(session: &mut Session, tenants: Option<Vec<String>>) -> Result<Output> {
    let identity = session.identity.clone();
    let targets: Option<Vec<i64>> = if identity.tenant.is_sys() {
        session.require_cluster_admin()?;
        match tenants {
            None => None,
            Some(names) => {
                let mut ids = Vec::new();
                for name in names {
                    let t = session
                        .engine
                        .catalog()
                        .tenant_by_name(&name)?
                        .ok_or(CatalogError::TenantNotExist(name))?;
                    ids.push(t.tenant_id);
                }
                Some(ids)
            }
        }
    } else {
        if tenants.is_some() {
            return Err(SqlError::NotSupportedFeature);
        }
        session.require_tenant_admin("BACKUP")?;
        Some(vec![identity.tenant.tenant_id])
    };
    // Without a list, sys cancels everything, the cluster-level parents too (their undo cascades).
    let filters: Vec<JobFilter> = match targets {
        None => vec![JobFilter::default().of_type(BACKUP).unfinished()],
        Some(ids) => ids
            .into_iter()
            .map(|t| {
                JobFilter::default()
                    .of_type(BACKUP)
                    .of_tenant(t)
                    .unfinished()
            })
            .collect(),
    };
    let mut jobs = Vec::new();
    for f in &filters {
        jobs.extend(session.engine.jobs().query(f)?);
    }
    Ok(Output::affected(cancel_each(session, &jobs)?))
}

/// Cancels each job a request would move (by the jobs layer's table), one at a time: what ends on its own
/// meanwhile is simply not counted. Returns how many were canceled.
pub(crate) fn cancel_each(session: &Session, jobs: &[JobRecord]) -> Result<u64> {
    let registry = session.engine.jobs().clone();
    let mut canceled = 0;
    for job in jobs {
        if !matches!(
            tenantry_jobs::rules::outcome(JobAction::Cancel, job),
            Ok(tenantry_jobs::rules::Outcome::Move { .. })
        ) {
            continue;
        }
        match registry.request_cancel(job.job_id) {
            Ok(_) => canceled += 1,
            // It ended (or is ending) on its own meanwhile: nothing left to cancel.
            Err(RegistryError::WrongState { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(canceled)
}

/// `ALTER SYSTEM VALIDATE BACKUPSET n`: every chunk of the tenant's set is read back and checked against its
/// hash; the result lists each database's chunks, and a missing manifest, a missing chunk or a flipped byte is an
/// error naming the set and the chunk. KILL QUERY stops it between chunks.
fn validate(session: &mut Session, set_id: i64) -> Result<Output> {
    session.require_tenant_admin("BACKUP")?;
    let tenant_id = session.identity.tenant.tenant_id;
    let dest = session
        .engine
        .catalog()
        .parameter("data_backup_dest", Some(tenant_id))?;
    if dest.is_empty() {
        return Err(no_destination());
    }
    let bad = |message: String| SqlError::OceanBase {
        code: ob_codes::BACKUP_SET_INVALID,
        message,
    };
    let tenant = session.identity.tenant.clone();
    let store = files::open_destination(session, &tenant, &dest)
        .map_err(|e| files::destination_error(e, Wording::Uri, |e| bad(e.to_string())))?;
    let manifest = store
        .manifest(tenant_id, set_id)
        .map_err(|e| bad(format!("backup set {set_id}: {e}")))?
        .ok_or_else(|| {
            bad(format!(
                "backup set {set_id} is incomplete or does not exist (no manifest)"
            ))
        })?;
    let mut rs = ResultSet {
        columns: vec![
            Column::new("DATABASE", ColumnKind::Text),
            Column::new("CHUNK_COUNT", ColumnKind::Int),
            Column::new("BYTES", ColumnKind::Int),
            Column::new("STATUS", ColumnKind::Text),
        ],
        rows: Vec::new(),
    };
    for image in &manifest.databases {
        let mut bytes = 0u64;
        for chunk in &image.chunks {
            if session.interrupt.is_cancelled() {
                return Err(SqlError::Interrupted);
            }
            let raw_len = chunk.pages as usize * image.page_size as usize;
            let data = store
                .get_chunk(&chunk.hash, raw_len)
                .map_err(|e| bad(format!("backup set {set_id}, database {}: {e}", image.name)))?;
            bytes += data.len() as u64;
        }
        rs.rows.push(vec![
            Value::from(image.name.as_str()),
            Value::Int(image.chunks.len() as i64),
            Value::Int(bytes as i64),
            Value::from("VALID"),
        ]);
    }
    Ok(Output::Rows(rs))
}

/// OceanBase's refusal of a backup (or validation) for a tenant without a destination.
fn no_destination() -> SqlError {
    SqlError::OceanBase {
        code: ob_codes::BACKUP_CAN_NOT_START,
        message: "backup can not start, because backup dest is not set.".into(),
    }
}
