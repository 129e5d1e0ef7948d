//! The registry: creates jobs, runs them with a concurrency limit, serves cancel / pause / resume requests,
//! recovers after a restart, and forgets finished jobs after the retention period.
//!
//! Rules that keep it correct:
//! - Every state change is a compare-and-set in the store, and the state lock is held while the set of runs
//!   live in this process changes, so a request always sees whether the work is live here.
//! - A request is decided by the one table in [`crate::rules`], for every job it names in one store
//!   transaction: if any job refuses, nothing changes.
//! - A request is written durably first, then signalled to the work through its cancellation token: no polling.
//! - A job reads `canceled` (or `failed`) only after its work stopped and its undo finished.
//! - A run claims its job (node, epoch, lease); work that does not stop within `abandon_after` of the signal
//!   is abandoned: the job's epoch is bumped, so the stuck run can no longer write progress, phases or
//!   (through [`crate::JobContext::still_owner`]) data.
//! - Reads go to the store's reading connection and never wait for the state lock.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, RwLock};
use tokio::runtime::Handle;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::auth::Cached;
use crate::context::ProgressCell;
use crate::filter::{JobFilter, Order};
use crate::metrics::Metrics;
use crate::ob_codes;
use crate::record::now_micros;
use crate::rules::{self, Outcome};
use crate::store::{Changes, Claim, Creation, JobStore, ProgressWrite, SqliteStore};
use crate::{
    JobAccessor, JobAction, JobContext, JobError, JobKind, JobProgress, JobRecord, JobState,
    NewJob, RegistryError, System,
};

/// How many expired jobs retention removes per store transaction: small enough that a cancel waiting for
/// the store's writer never waits long (a removed job dirties pages of nine indexes; on the bench machine 256 a
/// batch held the writer ~30 ms, 16 about 2 ms; 8 doubled retention's time without shortening the longest waits).
const RETENTION_BATCH: usize = 16;

/// Tunables of the registry.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// How many jobs' work may run at once; more wait as `pending`. Undo is never held back by it.
    pub max_concurrency: usize,
    /// How long finished jobs stay visible.
    pub retention: Duration,
    /// How long work may take to stop after a cancel or pause before it is abandoned and fenced.
    pub abandon_after: Duration,
    /// First back-off after a retryable error (doubling up to 30 s).
    pub retry_backoff: Duration,
    /// How often progress is written while it moves.
    pub progress_interval: Duration,
    /// This node's id, written into the claims of the runs it starts. A single server is node 1; its own
    /// earlier claims are adopted at once after a restart.
    pub node_id: i64,
    /// How long a claim holds without renewal; runs renew theirs at a third of it. Another node adopts a
    /// job only once its claim lapsed.
    pub lease: Duration,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            max_concurrency: 8,
            retention: Duration::from_secs(14 * 86400),
            abandon_after: Duration::from_secs(2),
            retry_backoff: Duration::from_secs(1),
            progress_interval: Duration::from_secs(1),
            node_id: 1,
            lease: Duration::from_secs(30),
        }
    }
}

struct Live {
    token: CancellationToken,
    undo: bool,
    /// A run of a continuous kind (see [`JobKind::continuous`]): it takes no slot of the concurrency limit.
    continuous: bool,
    /// Which run this is: a finishing run removes its own entry only, never a newer run's.
    run: u64,
}

/// How many pending jobs one pass of the starter looks at.
const PENDING_SCAN: usize = 1024;

/// What the registry shares with the contexts of running jobs.
pub(crate) struct Shared {
    /// The job rows.
    pub store: Arc<dyn JobStore>,
    /// Held while a job's state changes together with the live set (never during a kind's own work).
    pub state: Mutex<()>,
    /// Jobs whose [`JobContext::finish`] is committing the kind's work right now: requests for them wait
    /// until it is over (and only they wait).
    pub committing: Mutex<HashSet<i64>>,
    /// Signalled when a commit ends.
    pub committed: Condvar,
    /// Figures kept in memory.
    pub metrics: Metrics,
}

impl Shared {
    /// Waits until none of `ids` is committing. Call without the state lock.
    pub fn wait_commits(&self, ids: &[i64]) {
        let mut c = self.committing.lock();
        while ids.iter().any(|id| c.contains(id)) {
            self.committed.wait(&mut c);
        }
    }

    /// Takes the state lock once none of `ids` is committing (re-checked under the lock).
    pub fn lock_settled(&self, ids: &[i64]) -> parking_lot::MutexGuard<'_, ()> {
        loop {
            self.wait_commits(ids);
            let guard = self.state.lock();
            let c = self.committing.lock();
            if !ids.iter().any(|id| c.contains(id)) {
                drop(c);
                return guard;
            }
        }
    }
}

/// The job registry.
pub struct JobRegistry {
    shared: Arc<Shared>,
    kinds: RwLock<HashMap<String, Arc<dyn JobKind>>>,
    live: Mutex<HashMap<i64, Live>>,
    next_run: std::sync::atomic::AtomicU64,
    config: Mutex<RegistryConfig>,
    wake: Notify,
    generation: Mutex<u64>,
    changed: Condvar,
    runtime: Handle,
    shutdown: CancellationToken,
}

impl JobRegistry {
    /// Opens the job tables in the SQLite file `path`. Blocking: call it off the async reactor.
    pub fn open(
        path: &Path,
        config: RegistryConfig,
        runtime: Handle,
    ) -> Result<Arc<Self>, RegistryError> {
        Ok(Self::with_store(
            Arc::new(SqliteStore::open(path)?),
            config,
            runtime,
        ))
    }

    /// A registry over any store.
    pub fn with_store(
        store: Arc<dyn JobStore>,
        config: RegistryConfig,
        runtime: Handle,
    ) -> Arc<Self> {
        Arc::new(Self {
            shared: Arc::new(Shared {
                store,
                state: Mutex::new(()),
                committing: Mutex::new(HashSet::new()),
                committed: Condvar::new(),
                metrics: Metrics::default(),
            }),
            kinds: RwLock::new(HashMap::new()),
            live: Mutex::new(HashMap::new()),
            next_run: std::sync::atomic::AtomicU64::new(1),
            config: Mutex::new(config),
            wake: Notify::new(),
            generation: Mutex::new(0),
            changed: Condvar::new(),
            runtime,
            shutdown: CancellationToken::new(),
        })
    }

    fn store(&self) -> &dyn JobStore {
        self.shared.store.as_ref()
    }

    /// Registers the kind that runs jobs of `job_type`.
    pub fn register_kind(&self, job_type: &str, kind: Arc<dyn JobKind>) {
        self.kinds.write().insert(job_type.to_string(), kind);
    }

    /// Whether this node may take over a job's run: nobody claims it, the claim is this node's own (from a
    /// process that is gone: this one holds the data directory), or the claim's lease lapsed.
    fn adoptable(&self, id: i64) -> Result<bool, RegistryError> {
        let node = self.config.lock().node_id;
        Ok(match self.store().claim_of(id)? {
            None => true,
            Some(Claim {
                node: n,
                lease_expires,
                ..
            }) => n == node || lease_expires < now_micros(),
        })
    }

    /// Recovers what a previous process left and starts running jobs. Blocking: call it off the reactor.
    ///
    /// Running jobs resume from their last checkpoint, reverting ones re-run their undo, pause-requested ones
    /// become paused and cancel-requested ones start reverting: those this node may adopt (see the claims).
    pub fn start(self: &Arc<Self>) -> Result<(), RegistryError> {
        let store = self.store();
        let oldest = |states: &[JobState]| {
            store.query(
                &JobFilter::default()
                    .in_states(states)
                    .ordered(Order::OldestFirst),
            )
        };
        {
            let _state = self.shared.state.lock();
            for job in oldest(&[JobState::PauseRequested])? {
                if self.adoptable(job.job_id)? {
                    store.transition(
                        job.job_id,
                        &[JobState::PauseRequested],
                        JobState::Paused,
                        Changes {
                            paused_from: Some(Some(job.paused_from.unwrap_or(JobState::Running))),
                            ..Default::default()
                        },
                    )?;
                }
            }
            for job in oldest(&[JobState::CancelRequested])? {
                if self.adoptable(job.job_id)? {
                    store.transition(
                        job.job_id,
                        &[JobState::CancelRequested],
                        JobState::Reverting,
                        cancel_changes(),
                    )?;
                }
            }
            for rec in oldest(&[JobState::Reverting])? {
                if self.adoptable(rec.job_id)? {
                    tracing::info!(
                        job_id = rec.job_id,
                        "resuming the undo of a job after restart"
                    );
                    self.spawn_revert(rec);
                }
            }
            for rec in oldest(&[JobState::Running])? {
                if self.adoptable(rec.job_id)? {
                    tracing::info!(job_id = rec.job_id, "resuming a running job after restart");
                    self.launch_with(rec);
                }
            }
        }
        let this = self.clone();
        self.runtime.spawn(async move { this.schedule().await });
        let this = self.clone();
        self.runtime
            .spawn(async move { this.collect_garbage_loop().await });
        Ok(())
    }

    /// Stops starting jobs and interrupts running work; interrupted jobs stay `running` and resume at the next start.
    pub fn shutdown(&self) {
        self.shutdown.cancel();
        for live in self.live.lock().values() {
            live.token.cancel();
        }
    }

    /// Changes the concurrency limit.
    pub fn set_max_concurrency(&self, n: usize) {
        self.config.lock().max_concurrency = n.max(1);
        self.wake.notify_one();
    }

    /// Changes the retention of finished jobs and removes those already past it. Blocking.
    pub fn set_retention(&self, retention: Duration) -> Result<usize, RegistryError> {
        self.config.lock().retention = retention;
        self.collect_garbage()
    }

    /// Creates a pending job; it starts as soon as a runner slot is free. Blocking.
    pub fn create(&self, new: NewJob) -> Result<JobRecord, RegistryError> {
        self.create_exclusive(new, Vec::new())
    }

    /// Creates a pending job that holds `keys` while it lives: refused with [`RegistryError::Conflict`] if a
    /// live job holds one of them (checked and taken in the transaction that creates the job). Blocking.
    pub fn create_exclusive(
        &self,
        new: NewJob,
        keys: Vec<String>,
    ) -> Result<JobRecord, RegistryError> {
        let rec = self
            .store()
            .create(vec![Creation { job: new, keys }], false)?
            .into_iter()
            .next()
            .ok_or(RegistryError::NotFound(0))?;
        tracing::info!(job_id = rec.job_id, job_type = %rec.job_type, tenant_id = rec.tenant_id, "job created");
        self.notify_changed();
        self.wake.notify_one();
        Ok(rec)
    }

    /// Creates a parent job and its children in one transaction (children carry the parent's id), e.g. a
    /// cluster-wide backup and its per-tenant backups; refused as a whole if any key is held. Blocking.
    pub fn create_family(
        &self,
        parent: Creation,
        children: Vec<Creation>,
    ) -> Result<(JobRecord, Vec<JobRecord>), RegistryError> {
        let mut all = Vec::with_capacity(children.len() + 1);
        all.push(parent);
        all.extend(children);
        let mut created = self.store().create(all, true)?.into_iter();
        let parent = created.next().ok_or(RegistryError::NotFound(0))?;
        let children: Vec<JobRecord> = created.collect();
        tracing::info!(
            job_id = parent.job_id,
            children = children.len(),
            "job family created"
        );
        self.notify_changed();
        self.wake.notify_one();
        Ok((parent, children))
    }

    /// The jobs whose parent is `parent_id`, oldest first.
    pub fn children(&self, parent_id: i64) -> Result<Vec<JobRecord>, RegistryError> {
        self.store().query(
            &JobFilter::default()
                .children_of(parent_id)
                .ordered(Order::OldestFirst),
        )
    }

    /// One job.
    pub fn get(&self, id: i64) -> Result<Option<JobRecord>, RegistryError> {
        self.store().get(id)
    }

    /// The jobs a filter selects, in its order and page.
    pub fn query(&self, filter: &JobFilter) -> Result<Vec<JobRecord>, RegistryError> {
        self.store().query(filter)
    }

    /// The jobs a filter selects with their progress figures, in one read.
    pub fn query_with_progress(
        &self,
        filter: &JobFilter,
    ) -> Result<Vec<(JobRecord, JobProgress)>, RegistryError> {
        self.store().query_with_progress(filter)
    }

    /// How many jobs a filter selects (ignoring its page), by type and state.
    pub fn count(&self, filter: &JobFilter) -> Result<Vec<(String, JobState, u64)>, RegistryError> {
        self.store().count(filter)
    }

    /// The distinct tenants of the jobs a filter selects.
    pub fn tenants(&self, filter: &JobFilter) -> Result<Vec<i64>, RegistryError> {
        self.store().tenants(filter)
    }

    /// A job's history (state and phase changes, progress samples), oldest first.
    pub fn events(&self, id: i64) -> Result<Vec<crate::JobEvent>, RegistryError> {
        self.store().events(id)
    }

    /// The figures kept in memory since start: durations, cancel latency, bytes moved by bulk work.
    pub fn metrics(&self) -> crate::MetricsSnapshot {
        self.shared.metrics.snapshot()
    }

    /// A job's progress details.
    pub fn progress(&self, id: i64) -> Result<Option<JobProgress>, RegistryError> {
        self.store().progress(id)
    }

    /// CANCEL by the registry itself (no privilege checks). See [`JobRegistry::control`].
    pub fn request_cancel(self: &Arc<Self>, id: i64) -> Result<JobRecord, RegistryError> {
        self.control_one(JobAction::Cancel, id)
    }

    /// PAUSE by the registry itself. See [`JobRegistry::control`].
    pub fn request_pause(self: &Arc<Self>, id: i64) -> Result<JobRecord, RegistryError> {
        self.control_one(JobAction::Pause, id)
    }

    /// RESUME by the registry itself. See [`JobRegistry::control`].
    pub fn resume(self: &Arc<Self>, id: i64) -> Result<JobRecord, RegistryError> {
        self.control_one(JobAction::Resume, id)
    }

    fn control_one(
        self: &Arc<Self>,
        action: JobAction,
        id: i64,
    ) -> Result<JobRecord, RegistryError> {
        self.control(action, &[id], &System)?
            .into_iter()
            .next()
            .ok_or(RegistryError::NotFound(id))
    }

    /// CANCEL / PAUSE / RESUME of every job of `ids` on behalf of `who`, all or nothing: each job must exist
    /// for `who`, be under its control, and allow the action by [`rules::TRANSITIONS`]; if any does not, the
    /// first refusal is returned and no job changes. Requests are written durably in one transaction, then
    /// signalled to the live work. Returns the jobs as they are afterwards, in the order of `ids` (duplicates
    /// once). Blocking.
    pub fn control(
        self: &Arc<Self>,
        action: JobAction,
        ids: &[i64],
        who: &dyn JobAccessor,
    ) -> Result<Vec<JobRecord>, RegistryError> {
        let asked = Instant::now();
        let mut seen = HashSet::new();
        let ids: Vec<i64> = ids.iter().copied().filter(|id| seen.insert(*id)).collect();
        let auth = Cached::new(who);
        let guard = self.shared.lock_settled(&ids);
        let mut decide = |rec: &JobRecord| -> Result<crate::store::Decision, RegistryError> {
            auth.check_control(rec)?;
            match rules::outcome(action, rec)? {
                Outcome::NoOp => Ok(None),
                Outcome::Refuse(r) => Err(r.error(action, rec)),
                Outcome::Move { live, idle } => {
                    let to = if self.live_run(rec).is_some() {
                        live
                    } else {
                        idle
                    };
                    Ok(Some((to, changes_for(action, rec, to))))
                }
            }
        };
        let results = self.store().update_many(&ids, &mut decide)?;
        let mut out = Vec::with_capacity(results.len());
        let mut wake = false;
        for (before, after) in results {
            let Some(after) = after else {
                out.push(before);
                continue;
            };
            match after.state {
                JobState::CancelRequested | JobState::PauseRequested => {
                    if let Some(token) = self.live_run(&before) {
                        token.cancel();
                    }
                }
                JobState::Reverting => self.spawn_revert(after.clone()),
                JobState::Pending => wake = true,
                _ => {}
            }
            if action == JobAction::Cancel {
                self.shared.metrics.cancel_requested(after.job_id, asked);
            }
            tracing::info!(job_id = after.job_id, action = action.as_str(), state = %after.state, "job request applied");
            out.push(after);
        }
        drop(guard);
        self.notify_changed();
        if wake {
            self.wake.notify_one();
        }
        Ok(out)
    }

    /// The token of the run doing the job's work or undo, if one is live. A pending or paused job has no
    /// work running, even if its last run has not yet left the live set (settling makes a job paused, or
    /// RESUME makes it pending, a moment before that run is forgotten): signalling that finished run would
    /// leave the request with nobody to serve it. Called under the state lock.
    fn live_run(&self, rec: &JobRecord) -> Option<CancellationToken> {
        if matches!(rec.state, JobState::Pending | JobState::Paused) {
            return None;
        }
        self.live.lock().get(&rec.job_id).map(|l| l.token.clone())
    }

    /// Waits until the job is over and returns it; `interrupt` stops the wait. Blocking.
    pub fn wait(&self, id: i64, interrupt: &CancellationToken) -> Result<JobRecord, RegistryError> {
        loop {
            let seen = *self.generation.lock();
            let rec = self.get(id)?.ok_or(RegistryError::NotFound(id))?;
            if rec.state.is_terminal() {
                return Ok(rec);
            }
            if interrupt.is_cancelled() {
                return Err(RegistryError::WaitInterrupted(id));
            }
            let mut generation = self.generation.lock();
            if *generation == seen {
                // Woken by every state change; the timeout only lets an interrupt be noticed.
                self.changed
                    .wait_for(&mut generation, Duration::from_millis(50));
            }
        }
    }

    fn notify_changed(&self) {
        *self.generation.lock() += 1;
        self.changed.notify_all();
    }

    fn kind(&self, job_type: &str) -> Option<Arc<dyn JobKind>> {
        self.kinds.read().get(job_type).cloned()
    }

    /// Runs a store call on a blocking thread; errors are logged and come back as `None`. With `locked`, the
    /// state lock is held (every state change, so requests see it together with the live set).
    async fn blocking<T: Send + 'static>(
        &self,
        locked: bool,
        f: impl FnOnce(&dyn JobStore) -> Result<T, RegistryError> + Send + 'static,
    ) -> Option<T> {
        let shared = self.shared.clone();
        let task = tokio::task::spawn_blocking(move || {
            let _state = locked.then(|| shared.state.lock());
            f(shared.store.as_ref())
        });
        match task.await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                tracing::error!("job store: {e}");
                None
            }
            Err(e) => {
                tracing::error!("job store task: {e}");
                None
            }
        }
    }

    async fn schedule(self: Arc<Self>) {
        loop {
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let this = self.clone();
            let _ = tokio::task::spawn_blocking(move || this.start_pending()).await;
            tokio::select! {
                _ = notified => {}
                _ = self.shutdown.cancelled() => break,
            }
        }
    }

    /// Starts pending jobs while slots are free (blocking; the state lock covers the transition and the live set).
    fn start_pending(self: &Arc<Self>) {
        if self.shutdown.is_cancelled() {
            return;
        }
        let max = self.config.lock().max_concurrency;
        let _state = self.shared.state.lock();
        let busy = self
            .live
            .lock()
            .values()
            .filter(|l| !l.undo && !l.continuous)
            .count();
        // Oldest first: jobs that take a slot start while slots are free; continuous ones (which would hold
        // a slot for ever) start whatever the count.
        let filter = JobFilter {
            limit: Some(PENDING_SCAN),
            ..JobFilter::default()
                .in_states(&[JobState::Pending])
                .ordered(Order::OldestFirst)
        };
        let pending = match self.store().query(&filter) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!("job store: {e}");
                return;
            }
        };
        let mut free = max.saturating_sub(busy);
        let pending: Vec<JobRecord> = pending
            .into_iter()
            .filter(|job| {
                if self.is_continuous(&job.job_type) {
                    true
                } else if free > 0 {
                    free -= 1;
                    true
                } else {
                    false
                }
            })
            .collect();
        for job in pending {
            match self.store().transition(
                job.job_id,
                &[JobState::Pending],
                JobState::Running,
                Changes {
                    started: true,
                    ..Default::default()
                },
            ) {
                Ok(Some(rec)) => self.launch_with(rec),
                Ok(None) => {}
                Err(e) => tracing::error!(job_id = job.job_id, "job store: {e}"),
            }
        }
        drop(_state);
        self.notify_changed();
    }

    /// Registers the run as live and spawns its supervisor. The caller holds the state lock.
    fn launch_with(self: &Arc<Self>, rec: JobRecord) {
        let continuous = self.is_continuous(&rec.job_type);
        let (token, run) = self.register_live(rec.job_id, false, continuous);
        let this = self.clone();
        let span = job_span(&rec);
        self.runtime
            .spawn(async move { this.supervise(rec, token, run).await }.instrument(span));
    }

    /// Whether jobs of `job_type` run until stopped (and so take no slot).
    fn is_continuous(&self, job_type: &str) -> bool {
        self.kinds
            .read()
            .get(job_type)
            .is_some_and(|k| k.continuous())
    }

    fn register_live(&self, id: i64, undo: bool, continuous: bool) -> (CancellationToken, u64) {
        let token = self.shutdown.child_token();
        let run = self
            .next_run
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.live.lock().insert(
            id,
            Live {
                token: token.clone(),
                undo,
                continuous,
                run,
            },
        );
        (token, run)
    }

    /// Forgets a finished run, under the state lock so that requests see the live set change atomically
    /// with the job's state. The lock is taken on a blocking thread.
    async fn forget_run(self: &Arc<Self>, id: i64, run: u64) {
        let this = self.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let _state = this.shared.state.lock();
            let mut live = this.live.lock();
            if live.get(&id).is_some_and(|l| l.run == run) {
                live.remove(&id);
            }
        })
        .await;
    }

    /// Runs a job's work and settles it. Runs inside the job's span (see [`job_span`]).
    async fn supervise(self: Arc<Self>, rec: JobRecord, token: CancellationToken, run: u64) {
        let id = rec.job_id;
        let outcome = self.run_work(&rec, &token).await;
        self.settle(id, outcome).await;
        self.forget_run(id, run).await;
        self.notify_changed();
        self.wake.notify_one();
    }

    /// Claims the job for a run of this node; `None` if the store failed.
    async fn claim(&self, id: i64) -> Option<Claim> {
        let (node, lease) = {
            let c = self.config.lock();
            (c.node_id, c.lease)
        };
        self.blocking(false, move |s| s.claim(id, node, lease_end(lease)))
            .await
    }

    /// Runs the work once; `None` if it was abandoned because it did not stop in time.
    async fn run_work(
        self: &Arc<Self>,
        rec: &JobRecord,
        token: &CancellationToken,
    ) -> Option<Result<(), JobError>> {
        let id = rec.job_id;
        let Some(kind) = self.kind(&rec.job_type) else {
            return Some(Err(JobError::Permanent {
                code: ob_codes::NOT_SUPPORTED,
                message: format!("unknown job type {}", rec.job_type),
            }));
        };
        let claim = self.claim(id).await?;
        let epoch = claim.epoch;
        let resume_from = self
            .blocking(false, move |s| s.progress(id))
            .await
            .flatten()
            .and_then(|p| p.checkpoint);
        let ctx = Arc::new(JobContext::new(
            id,
            epoch,
            token.clone(),
            self.shared.clone(),
            resume_from,
            rec.job_type.clone(),
        ));
        let flusher = self.spawn_flusher(id, epoch, ctx.progress.clone(), token.clone());
        let worker = {
            let (ctx, rec) = (ctx.clone(), rec.clone());
            let span = tracing::Span::current();
            tokio::task::spawn_blocking(move || span.in_scope(|| kind.run(&rec, &ctx)))
        };
        let abandon_after = self.config.lock().abandon_after;
        let outcome = tokio::select! {
            r = worker => Some(r.unwrap_or_else(|e| Err(JobError::Permanent { code: ob_codes::ERR_UNEXPECTED, message: format!("job work panicked: {e}") }))),
            _ = async { token.cancelled().await; tokio::time::sleep(abandon_after).await } => None,
        };
        flusher.abort();
        self.flush_progress(id, epoch, &ctx.progress).await;
        if outcome.is_none() {
            tracing::warn!("work did not stop in time; abandoning and fencing it");
            let shared = self.shared.clone();
            // A run committing its work is waited for: the commit decides whether the job succeeded.
            self.blocking(false, move |s| {
                shared.wait_commits(&[id]);
                s.fence(id)
            })
            .await;
        }
        outcome
    }

    /// Writes progress every `progress_interval` while it moves, and renews the run's claim; cancels the
    /// run's token once it is fenced (another run owns the job now).
    fn spawn_flusher(
        self: &Arc<Self>,
        id: i64,
        epoch: i64,
        cell: Arc<Mutex<ProgressCell>>,
        token: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        let (interval, lease) = {
            let c = self.config.lock();
            (c.progress_interval, c.lease)
        };
        self.runtime.spawn(async move {
            let mut renewed = Instant::now();
            loop {
                tokio::time::sleep(interval).await;
                let mut owner = this.flush_progress(id, epoch, &cell).await;
                if owner && renewed.elapsed() >= lease / 3 {
                    renewed = Instant::now();
                    owner = this
                        .blocking(false, move |s| s.renew(id, epoch, lease_end(lease)))
                        .await
                        .unwrap_or(true);
                }
                if !owner {
                    token.cancel();
                    break;
                }
            }
        })
    }

    /// Writes progress if it moved; false if this run was fenced off.
    async fn flush_progress(&self, id: i64, epoch: i64, cell: &Arc<Mutex<ProgressCell>>) -> bool {
        let snapshot = {
            let mut p = cell.lock();
            if !p.dirty {
                return true;
            }
            p.dirty = false;
            p.clone()
        };
        self.blocking(false, move |s| {
            s.write_progress(
                id,
                epoch,
                &ProgressWrite {
                    fraction: snapshot.fraction,
                    running_status: &snapshot.running_status,
                    details: &snapshot.details,
                    checkpoint: snapshot.checkpoint.as_ref(),
                },
            )
        })
        .await
        .unwrap_or(true)
    }

    /// Decides where a job goes after its work returned (or was abandoned).
    /// Every move is a compare-and-set; when a request lands between reading the state and moving it, the
    /// move fails and the job is looked at again, so no request is ever left unserved.
    async fn settle(self: &Arc<Self>, id: i64, outcome: Option<Result<(), JobError>>) {
        let transition = |from: JobState, to: JobState, changes: Changes| {
            let this = self.clone();
            async move {
                this.blocking(true, move |s| s.transition(id, &[from], to, changes))
                    .await
                    .flatten()
            }
        };
        for _ in 0..16 {
            let Some(Some(current)) = self.blocking(false, move |s| s.get(id)).await else {
                return;
            };
            match current.state {
                JobState::CancelRequested => {
                    if self
                        .revert_from(id, JobState::CancelRequested, cancel_changes())
                        .await
                    {
                        return;
                    }
                }
                JobState::PauseRequested => {
                    let changes = Changes {
                        paused_from: Some(Some(JobState::Running)),
                        ..Default::default()
                    };
                    if transition(JobState::PauseRequested, JobState::Paused, changes)
                        .await
                        .is_some()
                    {
                        tracing::info!("paused");
                        return;
                    }
                }
                JobState::Running => match &outcome {
                    Some(Ok(())) => {
                        let changes = Changes {
                            finished: true,
                            fraction: Some(1.0),
                            ..Default::default()
                        };
                        if let Some(rec) =
                            transition(JobState::Running, JobState::Succeeded, changes).await
                        {
                            self.shared.metrics.job_ended(&rec);
                            tracing::info!("succeeded");
                            return;
                        }
                        // A cancel landed between the end of the work and now: it wins, and the undo reverts the work.
                    }
                    Some(Err(JobError::Permanent { code, message })) => {
                        tracing::warn!("failed: {message}");
                        let changes = Changes {
                            error: Some((*code, message.clone())),
                            revert_to: Some(Some(JobState::Failed)),
                            ..Default::default()
                        };
                        if self.revert_from(id, JobState::Running, changes).await {
                            return;
                        }
                    }
                    Some(Err(JobError::Canceled { message })) => {
                        tracing::info!("ended canceled: {message}");
                        let mut changes = cancel_changes();
                        changes.error = Some((ob_codes::CANCELED, message.clone()));
                        if self.revert_from(id, JobState::Running, changes).await {
                            return;
                        }
                    }
                    Some(Err(JobError::Retryable(message))) => {
                        self.retry_later(id, message);
                        return;
                    }
                    // Interrupted without a request (shutdown) or abandoned: it stays running and resumes at the next start.
                    Some(Err(JobError::Interrupted)) | None => return,
                },
                // Already settled by its own finish (succeeded), or moved by someone else.
                _ => return,
            }
        }
        tracing::error!("job state kept changing while settling");
    }

    /// Moves a job from `from` to reverting and spawns its undo, under one state lock (a request never sees
    /// the job reverting without its undo live). False if the job was not in `from`.
    async fn revert_from(self: &Arc<Self>, id: i64, from: JobState, changes: Changes) -> bool {
        let this = self.clone();
        self.blocking(true, move |s| {
            let moved = s.transition(id, &[from], JobState::Reverting, changes)?;
            Ok(moved.map(|rec| this.spawn_revert(rec)).is_some())
        })
        .await
        .unwrap_or(false)
    }

    /// Runs a job's work again after a back-off, unless something else happened to it meanwhile.
    fn retry_later(self: &Arc<Self>, id: i64, message: &str) {
        let backoff = self.config.lock().retry_backoff;
        tracing::warn!("retrying in {backoff:?}: {message}");
        let this = self.clone();
        self.runtime.spawn(async move {
            tokio::time::sleep(backoff).await;
            let _ = tokio::task::spawn_blocking(move || {
                // Checked and launched under one state lock, so a cancel cannot slip in between.
                let _state = this.shared.state.lock();
                if let Ok(Some(rec)) = this.store().get(id) {
                    if rec.state == JobState::Running
                        && !this.live.lock().contains_key(&id)
                        && !this.shutdown.is_cancelled()
                    {
                        this.launch_with(rec);
                    }
                }
            })
            .await;
        });
    }

    /// Registers the undo as live and spawns it. The caller holds the state lock.
    fn spawn_revert(self: &Arc<Self>, rec: JobRecord) {
        let (token, run) = self.register_live(rec.job_id, true, false);
        let this = self.clone();
        let span = job_span(&rec);
        self.runtime
            .spawn(async move { this.revert(rec, token, run).await }.instrument(span));
    }

    /// Runs the undo until it succeeds (retrying with back-off), then ends the job canceled or failed.
    async fn revert(self: Arc<Self>, rec: JobRecord, token: CancellationToken, run: u64) {
        let id = rec.job_id;
        let final_state = rec.revert_to.unwrap_or(JobState::Failed);
        let mut backoff = self.config.lock().retry_backoff;
        loop {
            let result = match self.kind(&rec.job_type) {
                None => Ok(()),
                Some(kind) => {
                    let Some(claim) = self.claim(id).await else {
                        break;
                    };
                    let ctx = JobContext::new(
                        id,
                        claim.epoch,
                        token.clone(),
                        self.shared.clone(),
                        None,
                        rec.job_type.clone(),
                    );
                    let rec = rec.clone();
                    let span = tracing::Span::current();
                    tokio::task::spawn_blocking(move || span.in_scope(|| kind.undo(&rec, &ctx)))
                        .await
                        .unwrap_or_else(|e| Err(JobError::Retryable(format!("undo panicked: {e}"))))
                }
            };
            let state = self
                .blocking(false, move |s| s.get(id))
                .await
                .flatten()
                .map(|r| r.state);
            if state == Some(JobState::PauseRequested) {
                let changes = Changes {
                    paused_from: Some(Some(JobState::Reverting)),
                    ..Default::default()
                };
                self.blocking(true, move |s| {
                    s.transition(id, &[JobState::PauseRequested], JobState::Paused, changes)
                })
                .await;
                break;
            }
            if token.is_cancelled() {
                break;
            }
            match result {
                Ok(()) => {
                    let changes = Changes {
                        finished: true,
                        ..Default::default()
                    };
                    let ended = self
                        .blocking(true, move |s| {
                            s.transition(id, &[JobState::Reverting], final_state, changes)
                        })
                        .await
                        .flatten();
                    if let Some(rec) = ended {
                        self.shared.metrics.job_ended(&rec);
                    }
                    tracing::info!(state = %final_state, "undo finished");
                    break;
                }
                Err(e) => {
                    tracing::warn!("undo failed, retrying in {backoff:?}: {e}");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = token.cancelled() => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
        self.forget_run(id, run).await;
        self.notify_changed();
        self.wake.notify_one();
    }

    /// Removes the finished jobs past their retention, a batch per store transaction (the store's writer
    /// is free between batches, so requests and progress go on meanwhile).
    fn collect_garbage(&self) -> Result<usize, RegistryError> {
        let retention = self.config.lock().retention;
        let cutoff = now_micros() - retention.as_micros().min(i64::MAX as u128) as i64;
        let mut total = 0;
        loop {
            let n = self
                .store()
                .delete_finished_before(cutoff, RETENTION_BATCH)?;
            total += n;
            if n < RETENTION_BATCH || self.shutdown.is_cancelled() {
                break;
            }
            std::thread::yield_now();
        }
        if total > 0 {
            tracing::info!(
                removed = total,
                "removed finished jobs past their retention"
            );
            self.notify_changed();
        }
        Ok(total)
    }

    async fn collect_garbage_loop(self: Arc<Self>) {
        loop {
            let this = self.clone();
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || this.collect_garbage()).await {
                tracing::error!("job retention: {e}");
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(60)) => {}
                _ = self.shutdown.cancelled() => break,
            }
        }
    }
}

/// The span a job's work and undo run in: every log line of the work carries the job's id, type and tenant.
fn job_span(rec: &JobRecord) -> tracing::Span {
    tracing::info_span!("job", job_id = rec.job_id, job_type = %rec.job_type, tenant_id = rec.tenant_id)
}

/// When a lease taken now ends (µs since the epoch).
fn lease_end(lease: Duration) -> i64 {
    now_micros().saturating_add(lease.as_micros().min(i64::MAX as u128) as i64)
}

fn cancel_changes() -> Changes {
    Changes {
        error: Some((ob_codes::CANCELED, "Operation canceled".into())),
        revert_to: Some(Some(JobState::Canceled)),
        paused_from: Some(None),
        ..Default::default()
    }
}

/// The changes that go with a request's move of `rec` to `to`.
fn changes_for(action: JobAction, rec: &JobRecord, to: JobState) -> Changes {
    match (action, to) {
        (JobAction::Cancel, JobState::Reverting) => cancel_changes(),
        (JobAction::Pause, _) => Changes {
            paused_from: Some(Some(if rec.state == JobState::Reverting {
                JobState::Reverting
            } else {
                JobState::Running
            })),
            ..Default::default()
        },
        (JobAction::Resume, _) => Changes {
            paused_from: Some(None),
            ..Default::default()
        },
        _ => Changes::default(),
    }
}
