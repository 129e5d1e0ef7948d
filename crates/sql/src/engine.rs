//! The engine: what every session shares (the catalog, the session registry, server facts).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use tenantry_catalog::parameters::{parse_duration, PARAMETERS};
use tenantry_catalog::Catalog;
use tenantry_jobs::JobRegistry;

use crate::memory::MemoryBudget;
use crate::processlist::SessionRegistry;
use crate::throttle::LoginThrottle;
use crate::watchdog::{self, Watchdog};

/// The version string servers report; MySQL clients parse the leading `5.7.25` to pick features.
pub const SERVER_VERSION: &str = "5.7.25-Tenantry-0.1.0";

/// The longest statement a session takes: MySQL's `max_allowed_packet` (64 MB, as MySQL 8's default).
/// The MySQL wire refuses a longer packet before reading it; this bounds every other front end (a
/// PostgreSQL message may be up to 1 GB) before parsing and translating, which cost several times the text.
pub const MAX_STATEMENT_BYTES: usize = 64 << 20;

/// Shared state of every session.
pub struct Engine {
    catalog: Arc<Catalog>,
    jobs: Arc<JobRegistry>,
    sessions: SessionRegistry,
    watchdog: Arc<Watchdog>,
    throttle: LoginThrottle,
    budgets: Mutex<HashMap<i64, Arc<MemoryBudget>>>,
    mysql_port: AtomicU16,
    /// Each tenant's queue of writing sessions.
    writers: parking_lot::Mutex<std::collections::HashMap<i64, Arc<crate::writers::WriterQueue>>>,
    /// Counts the schema changes (DDL) sessions ran; with the catalog's version it dates cached plans.
    ddl_count: AtomicU64,
}

/// The least statement memory a tenant gets, whatever its unit: enough for ordinary statements.
const MIN_WORK_AREA: i64 = 16 << 20;

impl Engine {
    /// An engine over an opened catalog and job registry.
    pub fn new(catalog: Arc<Catalog>, jobs: Arc<JobRegistry>) -> Arc<Self> {
        let engine = Arc::new(Self {
            catalog,
            jobs,
            sessions: SessionRegistry::default(),
            watchdog: Arc::default(),
            throttle: LoginThrottle::default(),
            budgets: Mutex::new(HashMap::new()),
            mysql_port: AtomicU16::new(0),
            writers: Default::default(),
            ddl_count: AtomicU64::new(0),
        });
        watchdog::start(&engine);
        engine
    }

    /// The statement memory budget of a tenant: its units' MEMORY_SIZE times its
    /// `ob_sql_work_area_percentage` (OceanBase's SQL work area), shared by all its sessions. Blocking.
    pub(crate) fn memory_budget(&self, tenant_id: i64) -> crate::Result<Arc<MemoryBudget>> {
        let limit = self.work_area(tenant_id)?;
        let mut budgets = self.budgets.lock();
        let budget = budgets
            .entry(tenant_id)
            .or_insert_with(|| Arc::new(MemoryBudget::new(limit)));
        budget.set_limit(limit);
        Ok(budget.clone())
    }

    fn work_area(&self, tenant_id: i64) -> crate::Result<i64> {
        let units = self.catalog.unit_configs()?;
        let memory: i64 = self
            .catalog
            .resource_pools()?
            .iter()
            .filter(|p| p.tenant_id == Some(tenant_id))
            .filter_map(|p| {
                units
                    .iter()
                    .find(|u| u.unit_config_id == p.unit_config_id)
                    .map(|u| u.memory_size.saturating_mul(p.unit_count))
            })
            .sum();
        let percent: i64 = self
            .catalog
            .parameter("ob_sql_work_area_percentage", Some(tenant_id))?
            .parse()
            .unwrap_or(5);
        Ok((memory / 100).saturating_mul(percent).max(MIN_WORK_AREA))
    }

    /// The failed-login throttle.
    pub(crate) fn throttle(&self) -> &LoginThrottle {
        &self.throttle
    }

    /// The watchdog that ends statements whose time is up.
    pub(crate) fn watchdog(&self) -> &Arc<Watchdog> {
        &self.watchdog
    }

    /// The queue in which a tenant's sessions wait for their turn to write.
    pub(crate) fn writer_queue(&self, tenant_id: i64) -> Arc<crate::writers::WriterQueue> {
        self.writers.lock().entry(tenant_id).or_default().clone()
    }

    /// What a session's cached plans were made under: the catalog's version and the count of schema changes.
    /// A plan made under another epoch is made again (see `plan_cache.rs`). Two atomic loads, no lock.
    pub(crate) fn plan_epoch(&self) -> (u64, u64) {
        (
            self.catalog.version(),
            self.ddl_count.load(Ordering::Acquire),
        )
    }

    /// Records that a schema change ran (or is about to), so that every session's cached plans are made again.
    pub(crate) fn schema_changed(&self) {
        self.ddl_count.fetch_add(1, Ordering::AcqRel);
    }

    /// The sys catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Records the port the MySQL front end listens on (shown by SHOW PARAMETERS and `@@port`).
    pub fn set_mysql_port(&self, port: u16) {
        self.mysql_port.store(port, Ordering::Relaxed);
    }

    /// The MySQL front end's port.
    pub fn mysql_port(&self) -> u16 {
        self.mysql_port.load(Ordering::Relaxed)
    }

    /// The job registry.
    pub fn jobs(&self) -> &Arc<JobRegistry> {
        &self.jobs
    }

    /// Applies the parameters that configure running parts (the job registry) from their stored values.
    /// Blocking. Called at start-up and after every `ALTER SYSTEM SET`.
    pub fn apply_parameters(&self) -> crate::Result<()> {
        for def in PARAMETERS {
            let value = self.catalog.parameter(def.name, None)?;
            match def.name {
                "jobs_retention" => {
                    if let Ok(d) = parse_duration(&value) {
                        self.jobs.set_retention(d)?;
                    }
                }
                "max_connections" | "max_tenant_connections" => {}
                "job_max_concurrency" => {
                    if let Ok(n) = value.parse::<usize>() {
                        self.jobs.set_max_concurrency(n);
                    }
                }
                _ => {}
            }
        }
        let count = |name: &str| -> crate::Result<usize> {
            Ok(self.catalog.parameter(name, None)?.parse().unwrap_or(0))
        };
        self.sessions
            .set_caps(count("max_connections")?, count("max_tenant_connections")?);
        let tenants: Vec<i64> = self.budgets.lock().keys().copied().collect();
        for tenant_id in tenants {
            self.memory_budget(tenant_id)?;
        }
        Ok(())
    }

    /// Every open session.
    pub fn sessions(&self) -> &SessionRegistry {
        &self.sessions
    }

    /// Kills every session of a tenant (it was dropped).
    pub fn kill_tenant_sessions(&self, tenant_id: i64) {
        for s in self.sessions.all() {
            if s.tenant_id == tenant_id {
                s.kill();
            }
        }
    }
}
