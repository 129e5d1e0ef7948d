//! Jobs as structs for front ends that do not speak SQL (the HTTP API and console). Every call goes to the
//! registry with the session as its accessor, as SHOW JOBS / SHOW JOB / CANCEL JOB do (`exec/jobs.rs`), so
//! the REST API and SQL always agree on who sees and controls what, and on what each request does.

use std::collections::{BTreeMap, HashMap};

use tenantry_catalog::Tenant;
use tenantry_jobs::{JobAction, JobEvent, JobProgress, JobRecord, JobState};

use crate::error::Result;
use crate::exec::jobs::{lookup, may_view, no_privileges, visible};
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

/// Filters and paging of a job listing.
#[derive(Debug, Clone, Default)]
pub struct JobListQuery {
    /// Only this tenant's jobs (by name, ignoring case).
    pub tenant: Option<String>,
    /// Only jobs of this type (ignoring case).
    pub job_type: Option<String>,
    /// Only jobs in these states (all if empty).
    pub states: Vec<JobState>,
    /// Only jobs whose id, type, owner or description contains every word (ignoring case).
    pub words: Vec<String>,
    /// At most this many jobs.
    pub limit: usize,
    /// Skipping this many first.
    pub offset: usize,
}

/// A page of jobs with the figures a listing shows around it.
#[derive(Debug, Clone)]
pub struct JobList {
    /// The page, newest first, with each job's progress figures.
    pub jobs: Vec<(JobEntry, JobProgress)>,
    /// How many jobs match every filter.
    pub total: u64,
    /// Jobs per state among those matching every filter but the state.
    pub counts: BTreeMap<JobState, u64>,
    /// Every job type among the visible jobs.
    pub types: Vec<String>,
    /// Every tenant among the visible jobs.
    pub tenants: Vec<String>,
}

impl Session {
    /// A page of the jobs the session may see (the rows of `crdb_internal.jobs`), newest first. The registry
    /// filters, pages and counts: nothing loads every job.
    pub fn list_jobs(&self, q: &JobListQuery) -> Result<JobList> {
        let names = self.tenant_names()?;
        let jobs = self.engine.jobs();
        let scope = visible(self)?;
        let mut filter = scope.clone();
        if let Some(t) = &q.tenant {
            let id = names
                .iter()
                .find(|(_, n)| n.eq_ignore_ascii_case(t))
                .map(|(id, _)| *id);
            // A tenant the session does not see has no jobs for it.
            filter.ids = id.is_none().then(Vec::new);
            filter.tenant_id = id;
        }
        filter.job_type = q.job_type.clone();
        filter.words = q.words.clone();
        let mut counts = BTreeMap::new();
        for (_, state, n) in jobs.count(&filter)? {
            *counts.entry(state).or_insert(0) += n;
        }
        filter.states = q.states.clone();
        let total = counts
            .iter()
            .filter(|(s, _)| q.states.is_empty() || q.states.contains(s))
            .map(|(_, n)| n)
            .sum();
        filter.limit = Some(q.limit);
        filter.offset = q.offset;
        let page = jobs
            .query_with_progress(&filter)?
            .into_iter()
            .map(|(record, progress)| {
                let tenant_name = names.get(&record.tenant_id).cloned().unwrap_or_default();
                (
                    JobEntry {
                        record,
                        tenant_name,
                    },
                    progress,
                )
            })
            .collect();
        let mut types: Vec<String> = jobs.count(&scope)?.into_iter().map(|(t, _, _)| t).collect();
        types.dedup();
        let mut tenants: Vec<String> = jobs
            .tenants(&scope)?
            .into_iter()
            .map(|t| names.get(&t).cloned().unwrap_or_default())
            .collect();
        tenants.sort();
        tenants.dedup();
        Ok(JobList {
            jobs: page,
            total,
            counts,
            types,
            tenants,
        })
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
        let children = jobs
            .query(
                &visible(self)?
                    .children_of(id)
                    .ordered(tenantry_jobs::Order::OldestFirst),
            )?
            .into_iter()
            .map(|c| c.job_id)
            .collect();
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

    /// CANCEL / PAUSE / RESUME JOB `id`: the registry's one request, with the session's privileges (the
    /// same checks, outcomes and errors as the statements). Returns the job as it is afterwards.
    pub fn control_job(&mut self, action: JobAction, id: i64) -> Result<JobEntry> {
        let registry = self.engine.jobs().clone();
        let record = registry
            .control(action, &[id], &*self)?
            .into_iter()
            .next()
            .ok_or(crate::error::SqlError::JobNotFound(id))?;
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
