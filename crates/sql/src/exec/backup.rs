//! Data backup statements (OceanBase's): `ALTER SYSTEM BACKUP DATABASE`, and the destination check of
//! `ALTER SYSTEM SET DATA_BACKUP_DEST`.

use tenantry_backup::BackupStore;
use tenantry_catalog::CatalogError;
use tenantry_jobs::NewJob;
use tenantry_kinds::backup::{BackupPayload, BACKUP};

use crate::error::{Result, SqlError};
use crate::parser::Command;
use crate::session::Session;
use crate::value::Output;

/// Checks that a backup destination exists (or can be made) and takes writes.
pub fn check_destination(uri: &str) -> Result<()> {
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|e| SqlError::Internal(format!("no runtime for the destination check: {e}")))?;
    BackupStore::open(uri, runtime)
        .and_then(|s| s.check_writable())
        .map_err(|e| {
            SqlError::Catalog(CatalogError::InvalidParameterValue {
                name: "data_backup_dest".into(),
                value: uri.to_string(),
                reason: e.to_string(),
            })
        })
}

/// Runs a backup statement.
pub fn run(session: &mut Session, cmd: Command) -> Result<Output> {
    let Command::BackupDatabase {
        incremental,
        plus_archivelog,
        description,
    } = cmd
    else {
        return Err(SqlError::Internal(format!(
            "not a backup statement: {cmd:?}"
        )));
    };
    session.require_tenant_admin("BACKUP")?;
    let tenant = session.identity.tenant.clone();
    if tenant.is_sys() {
        return Err(SqlError::Unsupported("backing up the sys tenant".into()));
    }
    let dest = session
        .engine
        .catalog()
        .parameter("data_backup_dest", Some(tenant.tenant_id))?;
    if dest.is_empty() {
        return Err(SqlError::OceanBase {
            code: -9040,
            message: "backup can not start, because backup dest is not set.".into(),
        });
    }
    let running =
        session.engine.jobs().list()?.into_iter().any(|j| {
            j.job_type == BACKUP && j.tenant_id == tenant.tenant_id && !j.state.is_terminal()
        });
    if running {
        return Err(SqlError::OceanBase {
            code: -9036,
            message: "Backup is in progress".into(),
        });
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
    };
    session.engine.jobs().create(NewJob {
        job_type: BACKUP.to_string(),
        tenant_id: tenant.tenant_id,
        owner: session.identity.user.name.clone(),
        owner_is_admin: session.identity.user.is_admin,
        description: session.statement_text.clone(),
        statement: session.statement_text.clone(),
        payload: serde_json::to_value(&payload).map_err(|e| SqlError::Internal(e.to_string()))?,
        cancelable: true,
        parent_job_id: None,
    })?;
    // As in OceanBase, the statement returns at once; the job shows in SHOW JOBS and the backup views.
    Ok(Output::ok())
}
