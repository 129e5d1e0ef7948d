//! The registry: creates jobs, runs them with a concurrency limit, serves cancel / pause / resume requests,
//! recovers after a restart, and forgets finished jobs after the retention period.
//!
//! Rules that keep it correct:
//! - Every state change is a compare-and-set in the store, and the store lock is held while the set of jobs
//!   running in this process changes, so a request always sees whether the work is live here.
//! - A request is written durably first, then signalled to the work through its cancellation token: no polling.
//! - A job reads `canceled` (or `failed`) only after its work stopped and its undo finished.
//! - Work that does not stop within `abandon_after` of the signal is abandoned: the job's epoch is bumped, so
//!   the stuck run can no longer write progress, phases or (through [`crate::JobContext::still_owner`]) data.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex, RwLock};
use tokio::runtime::Handle;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::context::ProgressCell;
use crate::metrics::Metrics;
use crate::record::now_micros;
use crate::store::{Changes, Store};
use crate::{
    JobContext, JobError, JobKind, JobProgress, JobRecord, JobState, NewJob, RegistryError,
};

/// The error code a canceled job ends with (OceanBase's OB_CANCELED).
pub const CANCELED_CODE: i64 = -4072;

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
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            max_concurrency: 8,
            retention: Duration::from_secs(14 * 86400),
            abandon_after: Duration::from_secs(2),
            retry_backoff: Duration::from_secs(1),
            progress_interval: Duration::from_secs(1),
        }
    }
}

struct Live {
    token: CancellationToken,
    undo: bool,
    /// Which run this is: a finishing run removes its own entry only, never a newer run's.
    run: u64,
}

/// The job registry.
pub struct JobRegistry {
    store: Arc<Mutex<Store>>,
    kinds: RwLock<HashMap<String, Arc<dyn JobKind>>>,
    live: Mutex<HashMap<i64, Live>>,
    next_run: std::sync::atomic::AtomicU64,
    config: Mutex<RegistryConfig>,
    wake: Notify,
    generation: Mutex<u64>,
    changed: Condvar,
    runtime: Handle,
    shutdown: CancellationToken,
    metrics: Arc<Metrics>,
}

impl JobRegistry {
    /// Opens the job tables in the SQLite file `path`. Blocking: call it off the async reactor.
    pub fn open(
        path: &Path,
        config: RegistryConfig,
        runtime: Handle,
    ) -> Result<Arc<Self>, RegistryError> {
        Ok(Arc::new(Self {
            store: Arc::new(Mutex::new(Store::open(path)?)),
            kinds: RwLock::new(HashMap::new()),
            live: Mutex::new(HashMap::new()),
            next_run: std::sync::atomic::AtomicU64::new(1),
            config: Mutex::new(config),
            wake: Notify::new(),
            generation: Mutex::new(0),
            changed: Condvar::new(),
            runtime,
            shutdown: CancellationToken::new(),
            metrics: Arc::new(Metrics::default()),
        }))
    }

    /// Registers the kind that runs jobs of `job_type`.
    pub fn register_kind(&self, job_type: &str, kind: Arc<dyn JobKind>) {
        self.kinds.write().insert(job_type.to_string(), kind);
    }

    /// Recovers what a previous process left and starts running jobs. Blocking: call it off the reactor.
    ///
    /// Running jobs resume from their last checkpoint, reverting ones re-run their undo, pause-requested ones
    /// become paused and cancel-requested ones start reverting.
    pub fn start(self: &Arc<Self>) -> Result<(), RegistryError> {
        let reverting;
        {
            let mut store = self.store.lock();
            for job in store.in_states(&[JobState::PauseRequested])? {
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
            for job in store.in_states(&[JobState::CancelRequested])? {
                store.transition(
                    job.job_id,
                    &[JobState::CancelRequested],
                    JobState::Reverting,
                    cancel_changes(),
                )?;
            }
            reverting = store.in_states(&[JobState::Reverting])?;
        }
        for rec in reverting {
            tracing::info!(
                job_id = rec.job_id,
                "resuming the undo of a job after restart"
            );
            self.spawn_revert(rec);
        }
        let adopted = self.store.lock().in_states(&[JobState::Running])?;
        for rec in adopted {
            tracing::info!(job_id = rec.job_id, "resuming a running job after restart");
            self.launch_locked(rec);
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
        let rec = self.store.lock().create(&new)?;
        tracing::info!(job_id = rec.job_id, job_type = %rec.job_type, tenant_id = rec.tenant_id, "job created");
        self.notify_changed();
        self.wake.notify_one();
        Ok(rec)
    }

    /// Creates a parent job and its children in one step (children carry the parent's id), e.g. a cluster-wide
    /// backup and its per-tenant backups. Blocking.
    pub fn create_family(
        &self,
        parent: NewJob,
        children: Vec<NewJob>,
    ) -> Result<(JobRecord, Vec<JobRecord>), RegistryError> {
        let (parent, children) = {
            let mut store = self.store.lock();
            let parent = store.create(&parent)?;
            let mut created = Vec::new();
            for mut child in children {
                child.parent_job_id = Some(parent.job_id);
                created.push(store.create(&child)?);
            }
            (parent, created)
        };
        tracing::info!(
            job_id = parent.job_id,
            children = children.len(),
            "job family created"
        );
        self.notify_changed();
        self.wake.notify_one();
        Ok((parent, children))
    }

    /// The jobs whose parent is `parent_id`.
    pub fn children(&self, parent_id: i64) -> Result<Vec<JobRecord>, RegistryError> {
        Ok(self
            .list()?
            .into_iter()
            .filter(|j| j.parent_job_id == Some(parent_id))
            .collect())
    }

    /// One job.
    pub fn get(&self, id: i64) -> Result<Option<JobRecord>, RegistryError> {
        Ok(self.store.lock().get(id)?)
    }

    /// Every job, newest first.
    pub fn list(&self) -> Result<Vec<JobRecord>, RegistryError> {
        Ok(self.store.lock().list()?)
    }

    /// A job's history (state and phase changes, progress samples), oldest first.
    pub fn events(&self, id: i64) -> Result<Vec<crate::JobEvent>, RegistryError> {
        Ok(self.store.lock().events(id)?)
    }

    /// The figures kept in memory since start: cancel latency, bytes moved by bulk work.
    pub fn metrics(&self) -> crate::MetricsSnapshot {
        self.metrics.snapshot()
    }

    /// A job's progress details.
    pub fn progress(&self, id: i64) -> Result<Option<JobProgress>, RegistryError> {
        Ok(self.store.lock().progress(id)?)
    }

    /// CANCEL: written durably, then signalled to the work. Canceling a cancel-requested or canceled job is a no-op.
    pub fn request_cancel(self: &Arc<Self>, id: i64) -> Result<JobRecord, RegistryError> {
        let asked = std::time::Instant::now();
        let mut store = self.store.lock();
        let rec = store.get(id)?.ok_or(RegistryError::NotFound(id))?;
        if matches!(rec.state, JobState::CancelRequested | JobState::Canceled) {
            return Ok(rec);
        }
        if !rec.cancelable {
            return Err(RegistryError::NotCancelable(id));
        }
        let reverting = rec.paused_from == Some(JobState::Reverting)
            && matches!(rec.state, JobState::Paused | JobState::PauseRequested);
        if !JobState::CANCELABLE_FROM.contains(&rec.state) || reverting {
            // A job paused while reverting is still undoing: CANCEL does not apply, as to a reverting job.
            let state = if reverting {
                JobState::Reverting
            } else {
                rec.state
            };
            return Err(RegistryError::WrongState {
                id,
                state,
                verb: "canceled",
            });
        }
        let live = self.live_run(&rec);
        let rec = match live {
            Some(token) => {
                let rec = store
                    .transition(
                        id,
                        &[rec.state],
                        JobState::CancelRequested,
                        Changes::default(),
                    )?
                    .ok_or(RegistryError::WrongState {
                        id,
                        state: rec.state,
                        verb: "canceled",
                    })?;
                drop(store);
                token.cancel();
                rec
            }
            None => {
                let rec = store
                    .transition(id, &[rec.state], JobState::Reverting, cancel_changes())?
                    .ok_or(RegistryError::WrongState {
                        id,
                        state: rec.state,
                        verb: "canceled",
                    })?;
                drop(store);
                self.spawn_revert(rec.clone());
                rec
            }
        };
        self.metrics.cancel_requested(id, asked);
        tracing::info!(job_id = id, "cancel requested");
        self.notify_changed();
        Ok(rec)
    }

    /// The token of the run doing the job's work or undo, if one is live. A pending or paused job has no
    /// work running, even if its last run has not yet left the live set (settling makes a job paused, or
    /// RESUME makes it pending, a moment before that run is forgotten): signalling that finished run would
    /// leave the request with nobody to serve it. Called under the store lock.
    fn live_run(&self, rec: &JobRecord) -> Option<CancellationToken> {
        if matches!(rec.state, JobState::Pending | JobState::Paused) {
            return None;
        }
        self.live.lock().get(&rec.job_id).map(|l| l.token.clone())
    }

    /// PAUSE: written durably, then signalled. Pausing a pause-requested or paused job is a no-op.
    pub fn request_pause(self: &Arc<Self>, id: i64) -> Result<JobRecord, RegistryError> {
        let mut store = self.store.lock();
        let rec = store.get(id)?.ok_or(RegistryError::NotFound(id))?;
        if matches!(rec.state, JobState::PauseRequested | JobState::Paused) {
            return Ok(rec);
        }
        if !JobState::PAUSABLE_FROM.contains(&rec.state) {
            return Err(RegistryError::WrongState {
                id,
                state: rec.state,
                verb: "paused",
            });
        }
        let resume_to = if rec.state == JobState::Reverting {
            JobState::Reverting
        } else {
            JobState::Running
        };
        let live = self.live_run(&rec);
        let (to, changes) = match live {
            Some(_) => (
                JobState::PauseRequested,
                Changes {
                    paused_from: Some(Some(resume_to)),
                    ..Default::default()
                },
            ),
            None => (
                JobState::Paused,
                Changes {
                    paused_from: Some(Some(resume_to)),
                    ..Default::default()
                },
            ),
        };
        let rec =
            store
                .transition(id, &[rec.state], to, changes)?
                .ok_or(RegistryError::WrongState {
                    id,
                    state: rec.state,
                    verb: "paused",
                })?;
        drop(store);
        if let Some(token) = live {
            token.cancel();
        }
        tracing::info!(job_id = id, "pause requested");
        self.notify_changed();
        Ok(rec)
    }

    /// RESUME: a paused job continues (its work, or its undo if it was reverting). Resuming a running job is a no-op.
    pub fn resume(self: &Arc<Self>, id: i64) -> Result<JobRecord, RegistryError> {
        let mut store = self.store.lock();
        let rec = store.get(id)?.ok_or(RegistryError::NotFound(id))?;
        match rec.state {
            JobState::Running | JobState::Pending => Ok(rec),
            JobState::Paused => {
                let reverting = rec.paused_from == Some(JobState::Reverting);
                let to = if reverting {
                    JobState::Reverting
                } else {
                    JobState::Pending
                };
                let rec = store
                    .transition(
                        id,
                        &[JobState::Paused],
                        to,
                        Changes {
                            paused_from: Some(None),
                            ..Default::default()
                        },
                    )?
                    .ok_or(RegistryError::NotResumable {
                        id,
                        state: rec.state,
                    })?;
                drop(store);
                if reverting {
                    self.spawn_revert(rec.clone());
                }
                self.notify_changed();
                self.wake.notify_one();
                tracing::info!(job_id = id, "resumed");
                Ok(rec)
            }
            state => Err(RegistryError::NotResumable { id, state }),
        }
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

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> rusqlite::Result<T> + Send + 'static,
    ) -> Option<T> {
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || f(&mut store.lock())).await {
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

    /// Starts pending jobs while slots are free (blocking; the store lock covers the transition and the live set).
    fn start_pending(self: &Arc<Self>) {
        if self.shutdown.is_cancelled() {
            return;
        }
        let max = self.config.lock().max_concurrency;
        let mut store = self.store.lock();
        let busy = self.live.lock().values().filter(|l| !l.undo).count();
        if busy >= max {
            return;
        }
        let pending = match store.in_states(&[JobState::Pending]) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!("job store: {e}");
                return;
            }
        };
        for job in pending.into_iter().take(max - busy) {
            match store.transition(
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
        drop(store);
        self.notify_changed();
    }

    fn launch_locked(self: &Arc<Self>, rec: JobRecord) {
        let _store = self.store.lock();
        self.launch_with(rec);
    }

    /// Registers the run as live and spawns its supervisor. The caller holds the store lock.
    fn launch_with(self: &Arc<Self>, rec: JobRecord) {
        let (token, run) = self.register_live(rec.job_id, false);
        let this = self.clone();
        self.runtime
            .spawn(async move { this.supervise(rec, token, run).await });
    }

    fn register_live(&self, id: i64, undo: bool) -> (CancellationToken, u64) {
        let token = self.shutdown.child_token();
        let run = self
            .next_run
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.live.lock().insert(
            id,
            Live {
                token: token.clone(),
                undo,
                run,
            },
        );
        (token, run)
    }

    /// Forgets a finished run, under the store lock so that requests see the live set change atomically
    /// with the job's state. The lock is taken on a blocking thread.
    async fn forget_run(self: &Arc<Self>, id: i64, run: u64) {
        let this = self.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let _store = this.store.lock();
            let mut live = this.live.lock();
            if live.get(&id).is_some_and(|l| l.run == run) {
                live.remove(&id);
            }
        })
        .await;
    }

    async fn supervise(self: Arc<Self>, rec: JobRecord, token: CancellationToken, run: u64) {
        let id = rec.job_id;
        let span = tracing::info_span!("job", job_id = id, job_type = %rec.job_type, tenant_id = rec.tenant_id);
        let _enter = span.enter();
        drop(_enter);
        let outcome = self.run_work(&rec, &token).await;
        self.settle(id, outcome).await;
        self.forget_run(id, run).await;
        self.notify_changed();
        self.wake.notify_one();
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
                code: -4007,
                message: format!("unknown job type {}", rec.job_type),
            }));
        };
        let epoch = self.blocking(move |s| s.bump_epoch(id)).await?;
        let resume_from = self
            .blocking(move |s| s.progress(id))
            .await
            .flatten()
            .and_then(|p| p.checkpoint);
        let ctx = Arc::new(JobContext::new(
            id,
            epoch,
            token.clone(),
            self.store.clone(),
            resume_from,
            self.metrics.clone(),
            rec.job_type.clone(),
        ));
        let flusher = {
            let this = self.clone();
            let cell = ctx.progress.clone();
            let token = token.clone();
            let interval = self.config.lock().progress_interval;
            self.runtime.spawn(async move {
                loop {
                    tokio::time::sleep(interval).await;
                    if !this.flush_progress(id, epoch, &cell).await {
                        // Fenced: another run owns the job now.
                        token.cancel();
                        break;
                    }
                }
            })
        };
        let worker = {
            let (ctx, rec) = (ctx.clone(), rec.clone());
            tokio::task::spawn_blocking(move || kind.run(&rec, &ctx))
        };
        let abandon_after = self.config.lock().abandon_after;
        let outcome = tokio::select! {
            r = worker => Some(r.unwrap_or_else(|e| Err(JobError::Permanent { code: -4016, message: format!("job work panicked: {e}") }))),
            _ = async { token.cancelled().await; tokio::time::sleep(abandon_after).await } => None,
        };
        flusher.abort();
        self.flush_progress(id, epoch, &ctx.progress).await;
        if outcome.is_none() {
            tracing::warn!(
                job_id = id,
                "work did not stop in time; abandoning and fencing it"
            );
            self.blocking(move |s| s.bump_epoch(id)).await;
        }
        outcome
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
        self.blocking(move |s| {
            s.write_progress(
                id,
                epoch,
                snapshot.fraction,
                &snapshot.running_status,
                &snapshot.details,
                snapshot.checkpoint.as_ref(),
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
                this.blocking(move |s| s.transition(id, &[from], to, changes))
                    .await
                    .flatten()
            }
        };
        for _ in 0..16 {
            let Some(Some(current)) = self.blocking(move |s| s.get(id)).await else {
                return;
            };
            match current.state {
                JobState::CancelRequested => {
                    if let Some(rec) = transition(
                        JobState::CancelRequested,
                        JobState::Reverting,
                        cancel_changes(),
                    )
                    .await
                    {
                        self.spawn_revert(rec);
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
                        tracing::info!(job_id = id, "paused");
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
                        if transition(JobState::Running, JobState::Succeeded, changes)
                            .await
                            .is_some()
                        {
                            tracing::info!(job_id = id, "succeeded");
                            return;
                        }
                        // A cancel landed between the end of the work and now: it wins, and the undo reverts the work.
                    }
                    Some(Err(JobError::Permanent { code, message })) => {
                        tracing::warn!(job_id = id, "failed: {message}");
                        let changes = Changes {
                            error: Some((*code, message.clone())),
                            revert_to: Some(Some(JobState::Failed)),
                            ..Default::default()
                        };
                        if let Some(rec) =
                            transition(JobState::Running, JobState::Reverting, changes).await
                        {
                            self.spawn_revert(rec);
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
                _ => return,
            }
        }
        tracing::error!(job_id = id, "job state kept changing while settling");
    }

    /// Runs a job's work again after a back-off, unless something else happened to it meanwhile.
    fn retry_later(self: &Arc<Self>, id: i64, message: &str) {
        let backoff = self.config.lock().retry_backoff;
        tracing::warn!(job_id = id, "retrying in {backoff:?}: {message}");
        let this = self.clone();
        self.runtime.spawn(async move {
            tokio::time::sleep(backoff).await;
            let _ = tokio::task::spawn_blocking(move || {
                // Checked and launched under one store lock, so a cancel cannot slip in between.
                let store = this.store.lock();
                if let Ok(Some(rec)) = store.get(id) {
                    if rec.state == JobState::Running
                        && !this.live.lock().contains_key(&id)
                        && !this.shutdown.is_cancelled()
                    {
                        this.launch_with(rec);
                    }
                }
                drop(store);
            })
            .await;
        });
    }

    fn spawn_revert(self: &Arc<Self>, rec: JobRecord) {
        let (token, run) = self.register_live(rec.job_id, true);
        let this = self.clone();
        self.runtime
            .spawn(async move { this.revert(rec, token, run).await });
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
                    let Some(epoch) = self.blocking(move |s| s.bump_epoch(id)).await else {
                        break;
                    };
                    let ctx = JobContext::new(
                        id,
                        epoch,
                        token.clone(),
                        self.store.clone(),
                        None,
                        self.metrics.clone(),
                        rec.job_type.clone(),
                    );
                    let rec = rec.clone();
                    tokio::task::spawn_blocking(move || kind.undo(&rec, &ctx))
                        .await
                        .unwrap_or_else(|e| Err(JobError::Retryable(format!("undo panicked: {e}"))))
                }
            };
            let state = self
                .blocking(move |s| s.get(id))
                .await
                .flatten()
                .map(|r| r.state);
            if state == Some(JobState::PauseRequested) {
                let changes = Changes {
                    paused_from: Some(Some(JobState::Reverting)),
                    ..Default::default()
                };
                self.blocking(move |s| {
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
                    self.blocking(move |s| {
                        s.transition(id, &[JobState::Reverting], final_state, changes)
                    })
                    .await;
                    self.metrics
                        .job_ended(id, final_state == JobState::Canceled);
                    tracing::info!(job_id = id, state = %final_state, "undo finished");
                    break;
                }
                Err(e) => {
                    tracing::warn!(job_id = id, "undo failed, retrying in {backoff:?}: {e}");
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

    fn collect_garbage(&self) -> Result<usize, RegistryError> {
        let retention = self.config.lock().retention;
        let cutoff = now_micros() - retention.as_micros().min(i64::MAX as u128) as i64;
        let n = self.store.lock().delete_finished_before(cutoff)?;
        if n > 0 {
            tracing::info!(removed = n, "removed finished jobs past their retention");
            self.notify_changed();
        }
        Ok(n)
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

fn cancel_changes() -> Changes {
    Changes {
        error: Some((CANCELED_CODE, "Operation canceled".into())),
        revert_to: Some(Some(JobState::Canceled)),
        ..Default::default()
    }
}
