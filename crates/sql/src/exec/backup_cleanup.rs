//! Backup cleanup statements (OceanBase's): `ALTER SYSTEM ADD / DROP DELETE BACKUP POLICY`,
//! `ALTER SYSTEM DELETE BACKUPSET n`, `ALTER SYSTEM CANCEL DELETE BACKUP`. The work is the
//! `BACKUP CLEANUP` job kind's (`tenantry_kinds::backup_cleanup`).

use tenantry_backup::gc;
use tenantry_catalog::backup_policies::parse_recovery_window;
use tenantry_catalog::{CatalogError, Tenant};
use tenantry_kinds::backup::{BackupPayload, BACKUP, CLUSTER_LEVEL};
use tenantry_kinds::backup_cleanup::{self, CleanupError, BACKUP_CLEANUP};

use crate::error::{Result, SqlError};
use crate::parser::Command;
use crate::session::Session;
use crate::value::Output;
use tenantry_jobs::ob_codes;

/// Runs a backup cleanup statement.
pub fn run(session: &mut Session, cmd: Command) -> Result<Output> {
    match cmd {
        Command::AddDeleteBackupPolicy {
            name,
            recovery_window,
            tenant,
        } => add_policy(session, &name, recovery_window, tenant),
        Command::DropDeleteBackupPolicy { name, tenant } => drop_policy(session, &name, tenant),
        Command::DeleteBackupSets { set_ids, tenant } => delete_sets(session, set_ids, tenant),
        Command::CancelDeleteBackup { tenant } => cancel(session, tenant),
        other => Err(SqlError::Internal(format!(
            "not a backup cleanup statement: {other:?}"
        ))),
    }
}

fn cleanup_error(e: CleanupError) -> SqlError {
    match e {
        CleanupError::Catalog(e) => SqlError::Catalog(e),
        CleanupError::Jobs(e) => e.into(),
        CleanupError::Backup(e) => SqlError::OceanBase {
            code: ob_codes::BACKUP_FAILED,
            message: e.to_string(),
        },
    }
}

/// The tenant a cleanup statement is about: root@sys names exactly one user tenant; a tenant's administrator
/// means its own tenant and names none (OceanBase's 1235 otherwise).
fn target_tenant(session: &Session, tenant: Option<String>, what: &str) -> Result<Tenant> {
    if session.identity.tenant.is_sys() {
        session.require_cluster_admin()?;
        let name = tenant.ok_or_else(|| {
            SqlError::Unsupported(format!(
                "{what} for the sys tenant (name a tenant with TENANT =)"
            ))
        })?;
        let t = session
            .engine
            .catalog()
            .tenant_by_name(&name)?
            .ok_or(CatalogError::TenantNotExist(name))?;
        if t.is_sys() {
            return Err(SqlError::Unsupported(format!("{what} for the sys tenant")));
        }
        Ok(t)
    } else {
        if tenant.is_some() {
            return Err(SqlError::NotSupportedFeature);
        }
        session.require_tenant_admin("BACKUP")?;
        Ok(session.identity.tenant.clone())
    }
}

fn check_policy_name(name: &str) -> Result<()> {
    if name.eq_ignore_ascii_case("default") {
        Ok(())
    } else {
        Err(SqlError::Unsupported(format!(
            "delete backup policy name '{name}' (it must be 'default')"
        )))
    }
}

/// `ADD DELETE BACKUP POLICY`: stored in the catalog; an obsolete cleanup starts at once if there is
/// anything to remove.
fn add_policy(
    session: &mut Session,
    name: &str,
    recovery_window: Option<String>,
    tenant: Option<String>,
) -> Result<Output> {
    check_policy_name(name)?;
    let window = recovery_window.unwrap_or_else(|| "0".into());
    if parse_recovery_window(&window).is_none() {
        return Err(SqlError::Catalog(CatalogError::InvalidArgument(format!(
            "Incorrect arguments to RECOVERY_WINDOW: '{window}' (a number with s, m, h or d, e.g. '7d'; 0 never expires)"
        ))));
    }
    let tenant = target_tenant(session, tenant, "delete backup policy")?;
    let catalog = session.engine.catalog();
    if !catalog.add_delete_policy(tenant.tenant_id, "default", &window)? {
        return Err(SqlError::OceanBase {
            code: ob_codes::OP_NOT_ALLOW,
            message: "adding a second delete backup policy not allowed".into(),
        });
    }
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|e| SqlError::Internal(format!("no runtime for the destination: {e}")))?;
    // The policy is in place either way; if the destination cannot be read now, the periodic check retries.
    if let Err(e) = backup_cleanup::start_obsolete_cleanup(
        catalog,
        session.engine.jobs(),
        runtime,
        tenant.tenant_id,
    ) {
        tracing::warn!(
            tenant_id = tenant.tenant_id,
            "backup cleanup after ADD POLICY: {e}"
        );
    }
    Ok(Output::ok())
}

/// `DROP DELETE BACKUP POLICY`: from now on incomplete and old sets stay. Cleanups under way go on.
fn drop_policy(session: &mut Session, name: &str, tenant: Option<String>) -> Result<Output> {
    check_policy_name(name)?;
    let tenant = target_tenant(session, tenant, "delete backup policy")?;
    if !session
        .engine
        .catalog()
        .drop_delete_policy(tenant.tenant_id)?
    {
        return Err(SqlError::OceanBase {
            code: ob_codes::ENTRY_NOT_EXIST,
            message: "Entry not exist".into(),
        });
    }
    Ok(Output::ok())
}

/// `DELETE BACKUPSET n[, n]`: a `DELETE BACKUP SET` job for sets at the tenant's destination. A set whose
/// backup is still running cannot be deleted (-9045); a set that is not there is -4018. Returns at once.
fn delete_sets(session: &mut Session, set_ids: Vec<i64>, tenant: Option<String>) -> Result<Output> {
    let tenant = target_tenant(session, tenant, "DELETE BACKUPSET")?;
    let catalog = session.engine.catalog();
    let dest = catalog.parameter("data_backup_dest", Some(tenant.tenant_id))?;
    if dest.is_empty() {
        return Err(SqlError::OceanBase {
            code: ob_codes::ENTRY_NOT_EXIST,
            message: "Entry not exist".into(),
        });
    }
    let store = crate::exec::files::open_destination(session, &tenant, &dest).map_err(|e| {
        crate::exec::files::destination_error(e, crate::exec::files::Wording::Uri, |e| {
            cleanup_error(e.into())
        })
    })?;
    let complete: Vec<i64> = gc::complete_sets(&store, Some(tenant.tenant_id))
        .map_err(|e| cleanup_error(e.into()))?
        .into_iter()
        .map(|s| s.set_id)
        .collect();
    let marks = catalog.backup_set_marks(tenant.tenant_id)?;
    let jobs: Vec<(tenantry_jobs::JobRecord, BackupPayload)> = session
        .engine
        .jobs()
        .query(
            &tenantry_jobs::JobFilter::default()
                .of_type(BACKUP)
                .of_tenant(tenant.tenant_id),
        )?
        .into_iter()
        .filter_map(|j| {
            let p: BackupPayload = serde_json::from_value(j.payload.clone()).ok()?;
            (p.level != CLUSTER_LEVEL).then_some((j, p))
        })
        .collect();
    let mut sets = Vec::new();
    for set_id in set_ids {
        let job = jobs.iter().find(|(_, p)| p.set_id == set_id);
        if job.is_some_and(|(j, _)| !j.state.is_terminal()) {
            return Err(SqlError::OceanBase {
                code: ob_codes::BACKUP_DELETE_BACKUP_SET_NOT_ALLOWED,
                message: "delete backup set do not allow".into(),
            });
        }
        let deleted = marks.get(&set_id).is_some_and(|m| m == "DELETED");
        let incomplete_here = job.is_some_and(|(_, p)| {
            tenantry_backup::identity_of(&p.dest) == tenantry_backup::identity_of(&dest)
        });
        if !complete.contains(&set_id) && (deleted || !incomplete_here) {
            return Err(SqlError::OceanBase {
                code: ob_codes::ENTRY_NOT_EXIST,
                message: "Entry not exist".into(),
            });
        }
        if !sets.contains(&set_id) {
            sets.push(set_id);
        }
    }
    backup_cleanup::start_delete_sets(
        catalog,
        session.engine.jobs(),
        tenant.tenant_id,
        &dest,
        sets,
        &session.statement_text,
    )
    .map_err(cleanup_error)?;
    Ok(Output::ok())
}

/// `CANCEL DELETE BACKUP [TENANT = t]`, with CANCEL BACKUP's scope rules: root@sys cancels every tenant's
/// cleanups or the named tenant's; a tenant's administrator its own. Nothing to cancel is not an error.
fn cancel(session: &mut Session, tenant: Option<String>) -> Result<Output> {
    let target: Option<i64> = if session.identity.tenant.is_sys() && tenant.is_none() {
        session.require_cluster_admin()?;
        None
    } else {
        Some(target_tenant(session, tenant, "CANCEL DELETE BACKUP")?.tenant_id)
    };
    let mut filter = tenantry_jobs::JobFilter::default()
        .of_type(BACKUP_CLEANUP)
        .unfinished();
    filter.tenant_id = target;
    let jobs = session.engine.jobs().query(&filter)?;
    Ok(Output::affected(crate::exec::backup::cancel_each(
        session, &jobs,
    )?))
}
