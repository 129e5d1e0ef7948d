//! Tenant snapshots and clones: `ALTER SYSTEM CREATE | DROP SNAPSHOT`, `CREATE TENANT new FROM source ...`
//! (root@sys; waits for its CLONE job) and `ALTER SYSTEM CANCEL CLONE` (root@sys).

use tenantry_catalog::{CatalogError, SnapshotStatus, Tenant, TenantStatus};
use tenantry_jobs::{JobRecord, JobState, NewJob};
use tenantry_kinds::clone::{ClonePayload, CLONE};
use tenantry_kinds::tenant_snapshot::{create_snapshot, SnapshotError};

use crate::error::{Result, SqlError};
use crate::parser::Command;
use crate::session::Session;
use crate::value::Output;
use tenantry_jobs::ob_codes;

/// Runs a snapshot or clone statement.
pub fn run(session: &mut Session, cmd: Command) -> Result<Output> {
    match cmd {
        Command::CreateSnapshot { name, tenant } => create(session, name, tenant),
        Command::DropSnapshot { name, tenant } => drop_snapshot(session, &name, tenant),
        Command::CloneTenant {
            name,
            source,
            snapshot,
            pool,
            unit,
        } => clone_tenant(session, name, source, snapshot, pool, unit),
        Command::CancelClone(name) => cancel_clone(session, &name),
        other => Err(SqlError::Internal(format!(
            "not a clone statement: {other:?}"
        ))),
    }
}

fn op_not_allowed(message: impl Into<String>) -> SqlError {
    SqlError::OceanBase {
        code: ob_codes::OP_NOT_ALLOW,
        message: message.into(),
    }
}

/// The tenant a snapshot statement is about: `FOR TENANT t` from sys, the session's own tenant otherwise.
fn snapshot_tenant(session: &Session, tenant: Option<String>) -> Result<Tenant> {
    if session.identity.tenant.is_sys() {
        session.require_cluster_admin()?;
        let name = tenant.ok_or_else(|| {
            SqlError::Catalog(CatalogError::InvalidArgument(
                "the sys tenant names the tenant: FOR TENANT <name>".into(),
            ))
        })?;
        let t = session
            .engine
            .catalog()
            .tenant_by_name(&name)?
            .ok_or(CatalogError::TenantNotExist(name))?;
        if t.is_sys() {
            return Err(SqlError::Unsupported("snapshots of the sys tenant".into()));
        }
        Ok(t)
    } else {
        if tenant.is_some() {
            return Err(SqlError::NotSupportedFeature);
        }
        session.require_tenant_admin("SUPER")?;
        Ok(session.identity.tenant.clone())
    }
}

fn create(session: &mut Session, name: Option<String>, tenant: Option<String>) -> Result<Output> {
    let tenant = snapshot_tenant(session, tenant)?;
    if let Some(n) = &name {
        if !tenantry_storage::is_valid_name(n) {
            return Err(CatalogError::InvalidName(n.clone()).into());
        }
    }
    let interrupt = session.interrupt.clone();
    create_snapshot(
        session.engine.catalog(),
        tenant.tenant_id,
        name.as_deref(),
        &|| interrupt.is_cancelled(),
    )
    .map_err(|e| match e {
        SnapshotError::Catalog(e) => SqlError::Catalog(e),
        SnapshotError::Job(tenantry_jobs::JobError::Interrupted) => SqlError::Interrupted,
        other => SqlError::Internal(other.to_string()),
    })?;
    Ok(Output::ok())
}

fn drop_snapshot(session: &mut Session, name: &str, tenant: Option<String>) -> Result<Output> {
    let tenant = snapshot_tenant(session, tenant)?;
    let catalog = session.engine.catalog();
    let snapshot = catalog
        .snapshot(tenant.tenant_id, name)?
        .filter(|s| s.owner_job_id.is_none())
        .ok_or_else(|| CatalogError::SnapshotNotExist(name.to_string()))?;
    let in_use = live_clones(session)?
        .iter()
        .any(|(_, p)| p.snapshot_id == Some(snapshot.snapshot_id));
    if in_use {
        return Err(op_not_allowed(
            "drop tenant snapshot while a clone job uses it not allowed",
        ));
    }
    catalog.drop_snapshot_entry(snapshot.snapshot_id)?;
    Ok(Output::ok())
}

/// CLONE jobs still running, with their payloads.
fn live_clones(session: &Session) -> Result<Vec<(JobRecord, ClonePayload)>> {
    Ok(session
        .engine
        .jobs()
        .query(
            &tenantry_jobs::JobFilter::default()
                .of_type(CLONE)
                .unfinished(),
        )?
        .into_iter()
        .filter_map(|j| {
            let p = serde_json::from_value(j.payload.clone()).ok()?;
            Some((j, p))
        })
        .collect())
}

/// `CREATE TENANT new FROM source ...`: checks everything it can first, with OceanBase's errors, then waits for
/// the clone job; a canceled or failed clone fails the statement with -9110 and the job's message.
fn clone_tenant(
    session: &mut Session,
    name: String,
    source: String,
    snapshot: Option<String>,
    pool: String,
    unit: String,
) -> Result<Output> {
    session.require_cluster_admin()?;
    let catalog = session.engine.catalog();
    for n in [&name, &pool] {
        if !tenantry_storage::is_valid_name(n) {
            return Err(CatalogError::InvalidName(n.clone()).into());
        }
    }
    let src = catalog
        .tenant_by_name(&source)?
        .ok_or_else(|| CatalogError::TenantNotExist(source.clone()))?;
    if src.is_sys() {
        return Err(op_not_allowed("clone sys tenant not allowed"));
    }
    if src.status != TenantStatus::Normal {
        return Err(op_not_allowed(format!(
            "source tenant is not in NORMAL status, clone tenant now not allowed ('{source}' is {})",
            src.status.as_str()
        )));
    }
    if catalog.unit_config(&unit)?.is_none() {
        return Err(CatalogError::UnitNotExist(unit).into());
    }
    if catalog.tenant_by_name(&name)?.is_some() {
        return Err(CatalogError::TenantExists(name).into());
    }
    if catalog.resource_pool(&pool)?.is_some() {
        return Err(CatalogError::PoolExists(pool).into());
    }
    let (clone_type, snapshot_id) = match &snapshot {
        None => ("FORK", None),
        Some(s) => {
            let snap = catalog
                .snapshot(src.tenant_id, s)?
                .filter(|x| x.status == SnapshotStatus::Normal && x.owner_job_id.is_none())
                .ok_or_else(|| CatalogError::SnapshotNotExist(s.clone()))?;
            ("RESTORE", Some(snap.snapshot_id))
        }
    };
    let payload = ClonePayload {
        source_tenant_id: src.tenant_id,
        source_tenant_name: src.tenant_name.clone(),
        clone_tenant_name: name,
        pool_name: pool.to_ascii_lowercase(),
        unit_config: unit,
        clone_type: clone_type.into(),
        snapshot_id,
        snapshot_name: snapshot,
    };
    // The new tenant's name, its pool's name and the source are held by the job while it lives: a second
    // clone (or a restore) that wants one of them is refused in the transaction that would create it.
    let keys = vec![
        tenantry_kinds::keys::tenant_name(&payload.clone_tenant_name),
        tenantry_kinds::keys::pool_name(&payload.pool_name),
        tenantry_kinds::keys::clone_source(src.tenant_id),
    ];
    let new = NewJob {
        job_type: CLONE.to_string(),
        tenant_id: tenantry_catalog::SYS_TENANT_ID,
        owner: session.identity.user.name.clone(),
        owner_is_admin: true,
        description: session.statement_text.clone(),
        statement: session.statement_text.clone(),
        payload: serde_json::to_value(&payload).map_err(|e| SqlError::Internal(e.to_string()))?,
        cancelable: true,
        parent_job_id: None,
    };
    let job = session
        .engine
        .jobs()
        .create_exclusive(new, keys.clone())
        .map_err(|e| match e {
            tenantry_jobs::RegistryError::Conflict { key, .. } if key == keys[0] => {
                CatalogError::TenantExists(payload.clone_tenant_name.clone()).into()
            }
            tenantry_jobs::RegistryError::Conflict { key, .. } if key == keys[1] => {
                CatalogError::PoolExists(pool.clone()).into()
            }
            tenantry_jobs::RegistryError::Conflict { .. } => op_not_allowed(
                "source tenant has a running clone job, clone tenant now not allowed",
            ),
            other => other.into(),
        })?;
    let done = session.engine.jobs().wait(job.job_id, &session.interrupt)?;
    match done.state {
        JobState::Succeeded => Ok(Output::ok()),
        _ => Err(SqlError::OceanBase {
            code: ob_codes::ERR_CLONE_TENANT,
            message: clone_error_message(&done),
        }),
    }
}

/// The message of a clone that did not succeed, as DBA_OB_CLONE_HISTORY shows it.
pub fn clone_error_message(rec: &JobRecord) -> String {
    match rec.state {
        JobState::Canceled => format!("clone job has been canceled in {} status", rec.phase),
        _ => rec.error_message.clone().unwrap_or_default(),
    }
}

/// `ALTER SYSTEM CANCEL CLONE new_tenant`: stops the clone and waits until its undo is done, so the progress
/// view no longer lists it when the statement returns.
fn cancel_clone(session: &mut Session, name: &str) -> Result<Output> {
    session.require_cluster_admin()?;
    let job = live_clones(session)?
        .into_iter()
        .find(|(_, p)| p.clone_tenant_name.eq_ignore_ascii_case(name))
        .map(|(j, _)| j)
        .ok_or_else(|| {
            op_not_allowed(
                "The new tenant has completed the cloning operation, or this is not the name of a cloning tenant. Cancel cloning not allowed",
            )
        })?;
    let registry = session.engine.jobs().clone();
    match registry.request_cancel(job.job_id) {
        Ok(_) => {}
        // Already being canceled by someone else: wait for it like they do. Otherwise it finished meanwhile.
        Err(tenantry_jobs::RegistryError::WrongState {
            state: JobState::CancelRequested | JobState::Reverting,
            ..
        }) => {}
        Err(tenantry_jobs::RegistryError::WrongState { .. }) => {
            return Err(op_not_allowed(
                "The new tenant has completed the cloning operation, or this is not the name of a cloning tenant. Cancel cloning not allowed",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    registry.wait(job.job_id, &session.interrupt)?;
    Ok(Output::ok())
}
