//! Who may see and control which job (CockroachDB's `jobsauth`): the registry asks an accessor that the SQL
//! layer implements for the caller's identity and global privileges, and decides here.
//!
//! root@sys (a cluster administrator) sees and controls every job; a tenant's administrator every job of its
//! tenant; any user its own; VIEWJOB / CONTROLJOB let a user view / control the other non-admin jobs of its
//! tenant. Another tenant's job does not exist, whatever its id.

use crate::{JobRecord, RegistryError};

/// A global privilege that widens what a user sees or controls among its tenant's jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobPrivilege {
    /// VIEWJOB: see the tenant's non-admin jobs.
    ViewJob,
    /// CONTROLJOB: see and control the tenant's non-admin jobs.
    ControlJob,
}

/// The caller of a registry request, as the layer above knows it.
pub trait JobAccessor {
    /// The user's name.
    fn user_name(&self) -> &str;
    /// The user's tenant.
    fn tenant_id(&self) -> i64;
    /// Whether the user administers the whole cluster (every tenant's jobs).
    fn is_cluster_admin(&self) -> bool;
    /// Whether the user administers its tenant.
    fn is_tenant_admin(&self) -> bool;
    /// Whether the user holds a global privilege. May read grants: the registry asks at most once per
    /// privilege and request, never per job.
    fn has_privilege(&self, privilege: JobPrivilege) -> Result<bool, RegistryError>;
}

/// The registry itself (and the job kinds, e.g. a cluster backup canceling its children): may do anything.
pub struct System;

impl JobAccessor for System {
    fn user_name(&self) -> &str {
        "node"
    }
    fn tenant_id(&self) -> i64 {
        0
    }
    fn is_cluster_admin(&self) -> bool {
        true
    }
    fn is_tenant_admin(&self) -> bool {
        true
    }
    fn has_privilege(&self, _: JobPrivilege) -> Result<bool, RegistryError> {
        Ok(true)
    }
}

/// Which jobs a caller sees, as a filter the store applies.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Scope {
    /// Every job.
    #[default]
    All,
    /// Every job of one tenant.
    Tenant(i64),
    /// The jobs of one tenant that one user owns, plus (`non_admin`) those no administrator owns.
    Owner {
        /// The tenant.
        tenant_id: i64,
        /// The user.
        user: String,
        /// Whether the tenant's jobs owned by non-administrators are seen too.
        non_admin: bool,
    },
}

impl Scope {
    /// What `who` may see (one privilege lookup at most).
    pub fn of(who: &dyn JobAccessor) -> Result<Self, RegistryError> {
        if who.is_cluster_admin() {
            return Ok(Self::All);
        }
        if who.is_tenant_admin() {
            return Ok(Self::Tenant(who.tenant_id()));
        }
        let non_admin = who.has_privilege(JobPrivilege::ViewJob)?
            || who.has_privilege(JobPrivilege::ControlJob)?;
        Ok(Self::Owner {
            tenant_id: who.tenant_id(),
            user: who.user_name().to_string(),
            non_admin,
        })
    }

    /// What `who` may control (one privilege lookup at most): as [`Scope::of`], with CONTROLJOB alone
    /// widening a user's scope to the tenant's non-admin jobs.
    pub fn controllable(who: &dyn JobAccessor) -> Result<Self, RegistryError> {
        if who.is_cluster_admin() {
            return Ok(Self::All);
        }
        if who.is_tenant_admin() {
            return Ok(Self::Tenant(who.tenant_id()));
        }
        Ok(Self::Owner {
            tenant_id: who.tenant_id(),
            user: who.user_name().to_string(),
            non_admin: who.has_privilege(JobPrivilege::ControlJob)?,
        })
    }

    /// Whether a job is within the scope.
    pub fn covers(&self, rec: &JobRecord) -> bool {
        match self {
            Self::All => true,
            Self::Tenant(t) => rec.tenant_id == *t,
            Self::Owner {
                tenant_id,
                user,
                non_admin,
            } => {
                rec.tenant_id == *tenant_id
                    && (rec.owner == *user || (*non_admin && !rec.owner_is_admin))
            }
        }
    }
}

/// Whether the job exists for `who` at all: another tenant's job does not (except for a cluster administrator).
pub fn may_know(who: &dyn JobAccessor, rec: &JobRecord) -> bool {
    who.is_cluster_admin() || rec.tenant_id == who.tenant_id()
}

/// Whether `who` may see the job.
pub fn may_view(who: &dyn JobAccessor, rec: &JobRecord) -> Result<bool, RegistryError> {
    if !may_know(who, rec) {
        return Ok(false);
    }
    if who.is_cluster_admin() || who.is_tenant_admin() || rec.owner == who.user_name() {
        return Ok(true);
    }
    Ok(!rec.owner_is_admin
        && (who.has_privilege(JobPrivilege::ViewJob)?
            || who.has_privilege(JobPrivilege::ControlJob)?))
}

/// The privilege error for a job `who` may not view or control.
pub fn no_privileges(who: &dyn JobAccessor, id: i64) -> RegistryError {
    RegistryError::NoPrivileges {
        user: who.user_name().to_string(),
        id,
    }
}

/// Answers of [`JobAccessor::has_privilege`] asked at most once each.
pub(crate) struct Cached<'a> {
    who: &'a dyn JobAccessor,
    control_job: std::cell::OnceCell<bool>,
}

impl<'a> Cached<'a> {
    pub(crate) fn new(who: &'a dyn JobAccessor) -> Self {
        Self {
            who,
            control_job: std::cell::OnceCell::new(),
        }
    }

    fn control_job(&self) -> Result<bool, RegistryError> {
        if let Some(v) = self.control_job.get() {
            return Ok(*v);
        }
        let v = self.who.has_privilege(JobPrivilege::ControlJob)?;
        Ok(*self.control_job.get_or_init(|| v))
    }

    /// Fails unless `who` may control the job: [`RegistryError::NotFound`] for another tenant's job, else the
    /// privilege errors of CockroachDB.
    pub(crate) fn check_control(&self, rec: &JobRecord) -> Result<(), RegistryError> {
        let who = self.who;
        if !may_know(who, rec) {
            return Err(RegistryError::NotFound(rec.job_id));
        }
        if who.is_cluster_admin() || who.is_tenant_admin() || rec.owner == who.user_name() {
            return Ok(());
        }
        if rec.owner_is_admin {
            return Err(RegistryError::AdminOwned);
        }
        if self.control_job()? {
            return Ok(());
        }
        Err(no_privileges(who, rec.job_id))
    }
}

/// Fails unless `who` may control the job (see [`JobAccessor`]).
pub fn may_control(who: &dyn JobAccessor, rec: &JobRecord) -> Result<(), RegistryError> {
    Cached::new(who).check_control(rec)
}
