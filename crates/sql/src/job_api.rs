//! Jobs as structs for front ends that do not speak SQL (the HTTP API and console). Every call goes through
//! the same visibility and control checks as SHOW JOBS / SHOW JOB / CANCEL JOB (`exec/jobs.rs`), so the
//! REST API and SQL always agree on who sees and controls what.

use std::collections::HashMap;

use tenantry_catalog::Tenant;
use tenantry_jobs::{JobEvent, JobProgress, JobRecord};

use crate::error::Result;
use crate::exec::jobs::{lookup, may_view, no_privileges, visible_jobs};
use crate::parser::JobAction;
use crate::session::Session;

/// A job as a front end lists it: its record and its tenant's name.
#[derive(Debug, Clone)]
pub struct JobEntry {
    /// The job's control row.
    pub record: JobRecord,
    /// Its tenant's name (empty if the tenant is gone).
    pub tenant_name: String,
}

/// One job with everything its page shows.
#[derive(Debug, Clone)]
pub struct JobDetail {
    /// The job.
    pub entry: JobEntry,
    /// Its latest progress figures.
    pub progress: JobProgress,
    /// Its history, oldest first.
    pub events: Vec<JobEvent>,
    /// Its child jobs (e.g. per-tenant backups of a cluster backup) that the session may see.
    pub children: Vec<i64>,
}

impl Session {
    /// Every job the session may see (the rows of `crdb_internal.jobs`), newest first.
    pub fn list_jobs(&self) -> Result<Vec<JobEntry>> {
        let names = self.tenant_names()?;
        Ok(visible_jobs(self, false)?
            .into_iter()
            .map(|record| JobEntry {
                tenant_name: names.get(&record.tenant_id).cloned().unwrap_or_default(),
                record,
            })
            .collect())
    }

    /// One job, as `SHOW JOB id` would find it: another tenant's job does not exist; a job of the same
    /// tenant the user may not view fails with the job privilege error.
    pub fn job_detail(&self, id: i64) -> Result<JobDetail> {
        let record = lookup(self, id)?;
        if !may_view(self, &record)? {
            return Err(no_privileges(self, id));
        }
        let jobs = self.engine.jobs();
        let progress = jobs.progress(id)?.unwrap_or_default();
        let events = jobs.events(id)?;
        let mut children = Vec::new();
        for child in jobs.children(id)? {
            if may_view(self, &child)? {
                children.push(child.job_id);
            }
        }
        let tenant_name = self
            .tenant_names()?
            .get(&record.tenant_id)
            .cloned()
            .unwrap_or_default();
        Ok(JobDetail {
            entry: JobEntry {
                record,
                tenant_name,
            },
            progress,
            events,
            children,
        })
    }

    /// A job's latest progress figures, if the session may see the job.
    pub fn job_progress(&self, id: i64) -> Result<Option<JobProgress>> {
        let record = lookup(self, id)?;
        if !may_view(self, &record)? {
            return Ok(None);
        }
        Ok(self.engine.jobs().progress(id)?)
    }

    /// CANCEL / PAUSE / RESUME JOB `id`, run as that very statement (same checks, same errors, and it shows
    /// in SHOW PROCESSLIST while it runs). Returns the job as it is afterwards.
    pub fn control_job(&mut self, action: JobAction, id: i64) -> Result<JobEntry> {
        let verb = match action {
            JobAction::Cancel => "CANCEL",
            JobAction::Pause => "PAUSE",
            JobAction::Resume => "RESUME",
        };
        self.execute(&format!("{verb} JOB {id}"), &[])?;
        let record = lookup(self, id)?;
        let tenant_name = self
            .tenant_names()?
            .get(&record.tenant_id)
            .cloned()
            .unwrap_or_default();
        Ok(JobEntry {
            record,
            tenant_name,
        })
    }

    /// The tenants the session may see: every tenant for root@sys, else its own.
    pub fn visible_tenants(&self) -> Result<Vec<Tenant>> {
        if self.identity.is_cluster_admin() {
            Ok(self.engine.catalog().tenants()?)
        } else {
            Ok(vec![self.identity.tenant.clone()])
        }
    }

    fn tenant_names(&self) -> Result<HashMap<i64, String>> {
        let tenants = if self.identity.is_cluster_admin() {
            self.engine.catalog().tenants()?
        } else {
            vec![self.identity.tenant.clone()]
        };
        Ok(tenants
            .into_iter()
            .map(|t| (t.tenant_id, t.tenant_name))
            .collect())
    }
}
