//! The registry with a test-only job kind: every transition, the concurrency limit, recovery, fencing, retention.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::json;
use tenantry_jobs::{
    Creation, JobAccessor, JobAction, JobContext, JobError, JobFilter, JobKind, JobPrivilege,
    JobRecord, JobRegistry, JobState, NewJob, RegistryConfig, RegistryError, Scope, System,
};
use tokio_util::sync::CancellationToken;

/// What the test kind did, per job: units of work done and how many times its undo ran.
#[derive(Default)]
struct Effects {
    done: Mutex<HashMap<i64, u64>>,
    undos: Mutex<HashMap<i64, u32>>,
    running_now: AtomicUsize,
    max_running: AtomicUsize,
    attempts: Mutex<HashMap<i64, u32>>,
    /// While true, a job with `hold_commit` waits inside its [`JobContext::finish`] commit.
    hold: Mutex<bool>,
    released: parking_lot::Condvar,
    /// Jobs inside their commit now.
    committing: Mutex<Vec<i64>>,
}

/// Payload: `units` of `unit_ms` each; `fail_at` fails permanently at that unit; `stuck` ignores cancellation
/// (like blocked I/O); `flaky` fails retryably on its first attempt; `undo_flaky` fails its first undo;
/// `undo_fails` makes every undo fail (retryably); `hold_commit` ends the work through `finish` with a commit
/// that waits while the test holds it; `ends_canceled` ends the work with [`JobError::Canceled`].
struct TestKind(Arc<Effects>);

impl JobKind for TestKind {
    fn run(&self, job: &JobRecord, ctx: &JobContext) -> Result<(), JobError> {
        let e = &self.0;
        let n = e.running_now.fetch_add(1, Ordering::SeqCst) + 1;
        e.max_running.fetch_max(n, Ordering::SeqCst);
        let result = (|| {
            let p = &job.payload;
            let units = p["units"].as_u64().unwrap_or(1);
            let unit = Duration::from_millis(p["unit_ms"].as_u64().unwrap_or(1));
            let attempt = {
                let mut a = e.attempts.lock();
                let c = a.entry(job.job_id).or_default();
                *c += 1;
                *c
            };
            if p["flaky"].as_bool() == Some(true) && attempt == 1 {
                return Err(JobError::Retryable("transient".into()));
            }
            let start = ctx
                .resume_from()
                .and_then(|c| c["unit"].as_u64())
                .unwrap_or(0);
            for i in start..units {
                if p["stuck"].as_bool() == Some(true) {
                    std::thread::sleep(Duration::from_secs(3));
                } else {
                    ctx.check()?;
                    std::thread::sleep(unit);
                }
                if p["fail_at"].as_u64() == Some(i) {
                    return Err(JobError::Permanent {
                        code: -4000,
                        message: format!("unit {i} failed"),
                    });
                }
                if !ctx.still_owner() {
                    return Err(JobError::Interrupted);
                }
                *e.done.lock().entry(job.job_id).or_default() += 1;
                ctx.set_progress(
                    (i + 1) as f64 / units as f64,
                    format!("unit {} of {units}", i + 1),
                );
                ctx.set_detail("units_done", i + 1);
                ctx.checkpoint(json!({ "unit": i + 1 }));
            }
            if p["ends_canceled"].as_bool() == Some(true) {
                return Err(JobError::Canceled {
                    message: "what it stood for was canceled".into(),
                });
            }
            if p["hold_commit"].as_bool() == Some(true) {
                return ctx.finish(|| {
                    e.committing.lock().push(job.job_id);
                    let mut hold = e.hold.lock();
                    while *hold {
                        e.released.wait(&mut hold);
                    }
                    e.committing.lock().retain(|j| *j != job.job_id);
                    Ok(())
                });
            }
            Ok(())
        })();
        e.running_now.fetch_sub(1, Ordering::SeqCst);
        result
    }

    fn undo(&self, job: &JobRecord, _ctx: &JobContext) -> Result<(), JobError> {
        let count = {
            let mut u = self.0.undos.lock();
            let c = u.entry(job.job_id).or_default();
            *c += 1;
            *c
        };
        if job.payload["undo_flaky"].as_bool() == Some(true) && count == 1 {
            return Err(JobError::Retryable("undo hiccup".into()));
        }
        if job.payload["undo_fails"].as_bool() == Some(true) {
            return Err(JobError::Retryable("undo keeps failing".into()));
        }
        // Idempotent: whatever was done is removed, however often this runs.
        self.0.done.lock().remove(&job.job_id);
        Ok(())
    }
}

struct Harness {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    effects: Arc<Effects>,
    registry: Arc<JobRegistry>,
}

fn config() -> RegistryConfig {
    RegistryConfig {
        max_concurrency: 4,
        abandon_after: Duration::from_millis(300),
        retry_backoff: Duration::from_millis(50),
        progress_interval: Duration::from_millis(50),
        ..Default::default()
    }
}

impl Harness {
    fn new(config: RegistryConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.sqlite");
        let effects = Arc::new(Effects::default());
        let registry = open(&path, &effects, config);
        Self {
            _dir: dir,
            path,
            effects,
            registry,
        }
    }

    /// Simulates a crash and restart: the old registry stops, a new one opens the same file and recovers.
    fn restart(&mut self) {
        self.registry.shutdown();
        std::thread::sleep(Duration::from_millis(100));
        self.registry = open(&self.path, &self.effects, config());
    }

    fn create(&self, payload: serde_json::Value) -> i64 {
        self.create_as(payload, "alice", true)
    }

    fn create_as(&self, payload: serde_json::Value, owner: &str, cancelable: bool) -> i64 {
        self.registry
            .create(NewJob {
                job_type: "TEST".into(),
                tenant_id: 1001,
                owner: owner.into(),
                owner_is_admin: false,
                description: "test job".into(),
                statement: "TEST".into(),
                payload,
                cancelable,
                parent_job_id: None,
            })
            .unwrap()
            .job_id
    }

    fn state(&self, id: i64) -> JobState {
        self.registry.get(id).unwrap().unwrap().state
    }

    fn wait_for(&self, id: i64, want: JobState) -> JobRecord {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let rec = self.registry.get(id).unwrap().unwrap();
            if rec.state == want {
                return rec;
            }
            assert!(
                Instant::now() < deadline,
                "job {id} stuck in {} waiting for {want}",
                rec.state
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn done(&self, id: i64) -> u64 {
        self.effects.done.lock().get(&id).copied().unwrap_or(0)
    }
}

fn open(
    path: &std::path::Path,
    effects: &Arc<Effects>,
    config: RegistryConfig,
) -> Arc<JobRegistry> {
    let registry = JobRegistry::open(path, config, runtime().handle().clone()).unwrap();
    registry.register_kind("TEST", Arc::new(TestKind(effects.clone())));
    registry.start().unwrap();
    registry
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

#[test]
fn runs_to_success_with_progress() {
    let h = Harness::new(config());
    let id = h.create(json!({ "units": 10, "unit_ms": 20 }));
    let rec = h.registry.wait(id, &CancellationToken::new()).unwrap();
    assert_eq!(rec.state, JobState::Succeeded);
    assert_eq!(rec.fraction_completed, 1.0);
    assert!(rec.started.is_some() && rec.finished.is_some());
    assert_eq!(h.done(id), 10);
    let progress = h.registry.progress(id).unwrap().unwrap();
    assert_eq!(progress.details["units_done"], json!(10));
}

#[test]
fn progress_is_written_while_it_moves() {
    let h = Harness::new(config());
    let id = h.create(json!({ "units": 40, "unit_ms": 25 }));
    h.wait_for(id, JobState::Running);
    std::thread::sleep(Duration::from_millis(400));
    let mid = h.registry.get(id).unwrap().unwrap();
    assert!(
        mid.fraction_completed > 0.0 && mid.fraction_completed < 1.0,
        "{}",
        mid.fraction_completed
    );
    assert!(
        mid.running_status.starts_with("unit "),
        "{}",
        mid.running_status
    );
    h.registry.request_cancel(id).unwrap();
}

#[test]
fn cancel_stops_the_work_and_undoes_it() {
    let h = Harness::new(config());
    let id = h.create(json!({ "units": 1000, "unit_ms": 5 }));
    h.wait_for(id, JobState::Running);
    while h.done(id) < 3 {
        std::thread::sleep(Duration::from_millis(2));
    }
    let asked = Instant::now();
    let rec = h.registry.request_cancel(id).unwrap();
    assert_eq!(
        rec.state,
        JobState::CancelRequested,
        "the request is recorded before anything else"
    );
    let rec = h.registry.wait(id, &CancellationToken::new()).unwrap();
    let took = asked.elapsed();
    assert_eq!(rec.state, JobState::Canceled);
    assert_eq!(rec.error_code, Some(-4072));
    assert_eq!(h.done(id), 0, "undo removed the work");
    assert_eq!(h.effects.undos.lock()[&id], 1);
    assert!(took < Duration::from_secs(2), "cancel took {took:?}");
    // Idempotent no-op, then the error texts for finished jobs.
    assert_eq!(
        h.registry.request_cancel(id).unwrap().state,
        JobState::Canceled
    );
    let ok = h.create(json!({ "units": 1 }));
    h.registry.wait(ok, &CancellationToken::new()).unwrap();
    let err = h.registry.request_cancel(ok).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("job {ok}: job with state succeeded cannot be requested to be canceled")
    );
    let err = h.registry.request_pause(ok).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("job {ok}: job with state succeeded cannot be requested to be paused")
    );
    let err = h.registry.resume(ok).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("job {ok}: job with state succeeded cannot be resumed")
    );
    assert!(matches!(
        h.registry.request_cancel(42),
        Err(RegistryError::NotFound(42))
    ));
    assert_eq!(
        RegistryError::NotFound(42).to_string(),
        "job with ID 42 does not exist"
    );
}

#[test]
fn permanent_failure_reverts_then_fails() {
    let h = Harness::new(config());
    let id = h.create(json!({ "units": 10, "unit_ms": 1, "fail_at": 4, "undo_flaky": true }));
    let rec = h.registry.wait(id, &CancellationToken::new()).unwrap();
    assert_eq!(rec.state, JobState::Failed);
    assert_eq!(rec.error_code, Some(-4000));
    assert_eq!(rec.error_message.as_deref(), Some("unit 4 failed"));
    assert_eq!(h.done(id), 0);
    assert_eq!(h.effects.undos.lock()[&id], 2, "a failed undo is retried");
}

#[test]
fn retryable_errors_are_retried() {
    let h = Harness::new(config());
    let id = h.create(json!({ "units": 3, "flaky": true }));
    let rec = h.registry.wait(id, &CancellationToken::new()).unwrap();
    assert_eq!(rec.state, JobState::Succeeded);
    assert_eq!(h.effects.attempts.lock()[&id], 2);
}

#[test]
fn pause_and_resume_continue_from_the_checkpoint() {
    let h = Harness::new(config());
    let id = h.create(json!({ "units": 200, "unit_ms": 5 }));
    h.wait_for(id, JobState::Running);
    while h.done(id) < 5 {
        std::thread::sleep(Duration::from_millis(2));
    }
    h.registry.request_pause(id).unwrap();
    h.wait_for(id, JobState::Paused);
    assert_eq!(
        h.registry.request_pause(id).unwrap().state,
        JobState::Paused,
        "pausing a paused job is a no-op"
    );
    let done_at_pause = h.done(id);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(h.done(id), done_at_pause, "paused work does not move");
    h.registry.resume(id).unwrap();
    let rec = h.registry.wait(id, &CancellationToken::new()).unwrap();
    assert_eq!(rec.state, JobState::Succeeded);
    assert_eq!(
        h.done(id),
        200,
        "it resumed from its checkpoint, not from the start"
    );
    assert_eq!(h.effects.attempts.lock()[&id], 2);
}

#[test]
fn pending_jobs_can_be_paused_and_canceled() {
    let mut cfg = config();
    cfg.max_concurrency = 1;
    let h = Harness::new(cfg);
    let blocker = h.create(json!({ "units": 1000, "unit_ms": 5 }));
    h.wait_for(blocker, JobState::Running);
    let queued = h.create(json!({ "units": 1 }));
    let other = h.create(json!({ "units": 1 }));
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        h.state(queued),
        JobState::Pending,
        "over the limit, jobs wait as pending"
    );
    h.registry.request_pause(queued).unwrap();
    assert_eq!(h.state(queued), JobState::Paused);
    h.registry.request_cancel(other).unwrap();
    assert_eq!(
        h.registry
            .wait(other, &CancellationToken::new())
            .unwrap()
            .state,
        JobState::Canceled
    );
    h.registry.request_cancel(blocker).unwrap();
    h.registry.resume(queued).unwrap();
    assert_eq!(
        h.registry
            .wait(queued, &CancellationToken::new())
            .unwrap()
            .state,
        JobState::Succeeded
    );
    // Paused jobs can be canceled too.
    let p = h.create(json!({ "units": 1000, "unit_ms": 5 }));
    h.wait_for(p, JobState::Running);
    h.registry.request_pause(p).unwrap();
    h.wait_for(p, JobState::Paused);
    h.registry.request_cancel(p).unwrap();
    assert_eq!(
        h.registry.wait(p, &CancellationToken::new()).unwrap().state,
        JobState::Canceled
    );
}

#[test]
fn concurrency_limit_holds() {
    let mut cfg = config();
    cfg.max_concurrency = 2;
    let h = Harness::new(cfg);
    let ids: Vec<i64> = (0..6)
        .map(|_| h.create(json!({ "units": 5, "unit_ms": 20 })))
        .collect();
    for id in &ids {
        assert_eq!(
            h.registry
                .wait(*id, &CancellationToken::new())
                .unwrap()
                .state,
            JobState::Succeeded
        );
    }
    assert_eq!(h.effects.max_running.load(Ordering::SeqCst), 2);
}

/// A kind whose work runs until it is stopped (as a changefeed does).
struct Forever;

impl JobKind for Forever {
    fn run(&self, _job: &JobRecord, ctx: &JobContext) -> Result<(), JobError> {
        loop {
            ctx.check()?;
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    fn undo(&self, _job: &JobRecord, _ctx: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
    fn continuous(&self) -> bool {
        true
    }
}

#[test]
fn continuous_jobs_take_no_slot_of_the_concurrency_limit() {
    let mut cfg = config();
    cfg.max_concurrency = 1;
    let h = Harness::new(cfg);
    h.registry.register_kind("FOREVER", Arc::new(Forever));
    let forever: Vec<i64> = (0..3)
        .map(|_| {
            h.registry
                .create(NewJob {
                    job_type: "FOREVER".into(),
                    tenant_id: 1001,
                    owner: "alice".into(),
                    owner_is_admin: false,
                    description: "a feed".into(),
                    statement: "FOREVER".into(),
                    payload: json!({}),
                    cancelable: true,
                    parent_job_id: None,
                })
                .unwrap()
                .job_id
        })
        .collect();
    for id in &forever {
        h.wait_for(*id, JobState::Running);
    }
    // Three endless jobs run, and ordinary jobs still get the one slot, one at a time.
    let ids: Vec<i64> = (0..3)
        .map(|_| h.create(json!({ "units": 3, "unit_ms": 10 })))
        .collect();
    for id in &ids {
        let rec = h.registry.wait(*id, &CancellationToken::new()).unwrap();
        assert_eq!(rec.state, JobState::Succeeded);
    }
    assert_eq!(h.effects.max_running.load(Ordering::SeqCst), 1);
    for id in &forever {
        h.registry.request_cancel(*id).unwrap();
        h.wait_for(*id, JobState::Canceled);
    }
}

#[test]
fn stuck_work_is_abandoned_and_fenced() {
    let h = Harness::new(config());
    let id = h.create(json!({ "units": 3, "stuck": true }));
    h.wait_for(id, JobState::Running);
    std::thread::sleep(Duration::from_millis(100));
    let asked = Instant::now();
    h.registry.request_cancel(id).unwrap();
    let rec = h.registry.wait(id, &CancellationToken::new()).unwrap();
    assert_eq!(rec.state, JobState::Canceled);
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "a stuck job is abandoned, not waited for"
    );
    // The stuck thread wakes up later: its late write must not land.
    std::thread::sleep(Duration::from_millis(3500));
    assert_eq!(h.done(id), 0, "the abandoned run was fenced off");
}

#[test]
fn restart_recovers_every_state() {
    let mut h = Harness::new(config());
    let running = h.create(json!({ "units": 60, "unit_ms": 10 }));
    let paused = h.create(json!({ "units": 60, "unit_ms": 10 }));
    h.wait_for(running, JobState::Running);
    h.wait_for(paused, JobState::Running);
    h.registry.request_pause(paused).unwrap();
    h.wait_for(paused, JobState::Paused);
    while h.done(running) < 10 {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(120));
    h.restart();
    assert_eq!(h.state(paused), JobState::Paused, "paused stays paused");
    let rec = h.registry.wait(running, &CancellationToken::new()).unwrap();
    assert_eq!(rec.state, JobState::Succeeded);
    assert!(
        h.effects.attempts.lock()[&running] >= 2,
        "it was resumed after the restart"
    );
    assert!(
        h.done(running) <= 60 + 10,
        "resumed from a checkpoint, not from scratch ({})",
        h.done(running)
    );
    h.registry.resume(paused).unwrap();
    assert_eq!(
        h.registry
            .wait(paused, &CancellationToken::new())
            .unwrap()
            .state,
        JobState::Succeeded
    );
}

#[test]
fn not_cancelable_jobs_refuse() {
    let h = Harness::new(config());
    let id = h.create_as(json!({ "units": 100, "unit_ms": 5 }), "bob", false);
    h.wait_for(id, JobState::Running);
    let err = h.registry.request_cancel(id).unwrap_err();
    assert_eq!(err.to_string(), format!("job {id}: not cancelable"));
    assert_eq!(
        h.registry
            .wait(id, &CancellationToken::new())
            .unwrap()
            .state,
        JobState::Succeeded
    );
}

#[test]
fn finished_jobs_are_kept_for_the_retention_period() {
    let h = Harness::new(config());
    let id = h.create(json!({ "units": 1 }));
    h.registry.wait(id, &CancellationToken::new()).unwrap();
    assert_eq!(
        h.registry.set_retention(Duration::from_secs(3600)).unwrap(),
        0
    );
    assert!(h.registry.get(id).unwrap().is_some());
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(
        h.registry.set_retention(Duration::from_millis(10)).unwrap(),
        1
    );
    assert!(h.registry.get(id).unwrap().is_none());
    assert!(h.registry.progress(id).unwrap().is_none());
}

#[test]
fn waiting_can_be_interrupted() {
    let h = Harness::new(config());
    let id = h.create(json!({ "units": 1000, "unit_ms": 5 }));
    let token = CancellationToken::new();
    let t = token.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        t.cancel();
    });
    assert!(matches!(
        h.registry.wait(id, &token),
        Err(RegistryError::WaitInterrupted(_))
    ));
    h.registry.request_cancel(id).unwrap();
}

#[test]
fn quick_pause_resume_cancel_never_strands_a_job() {
    let h = Harness::new(config());
    for _ in 0..10 {
        let id = h.create(json!({ "units": 1000, "unit_ms": 2 }));
        h.wait_for(id, JobState::Running);
        h.registry.request_pause(id).unwrap();
        let _ = h.registry.resume(id);
        h.registry.request_cancel(id).unwrap();
        let rec = h.registry.wait(id, &CancellationToken::new()).unwrap();
        assert_eq!(rec.state, JobState::Canceled);
    }
}

#[test]
fn a_job_paused_while_reverting_cannot_be_canceled() {
    let h = Harness::new(config());
    let id = h.create(json!({ "units": 5, "unit_ms": 1, "fail_at": 1, "undo_flaky": true }));
    // The first undo fails (retryable), so the job sits in reverting for the back-off: pause it there.
    h.wait_for(id, JobState::Reverting);
    h.registry.request_pause(id).unwrap();
    let err = h.registry.request_cancel(id).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("job {id}: job with state reverting cannot be requested to be canceled")
    );
    let paused = h.wait_for(id, JobState::Paused);
    assert_eq!(
        paused.error_message.as_deref(),
        Some("unit 1 failed"),
        "the failure is kept"
    );
    h.registry.resume(id).unwrap();
    let rec = h.registry.wait(id, &CancellationToken::new()).unwrap();
    assert_eq!(rec.state, JobState::Failed);
}

#[test]
fn cancel_right_after_pause_is_never_lost() {
    let h = Harness::new(config());
    for _ in 0..20 {
        let id = h.create(json!({ "units": 1000, "unit_ms": 2 }));
        h.wait_for(id, JobState::Running);
        h.registry.request_pause(id).unwrap();
        h.registry.request_cancel(id).unwrap();
        let rec = h.registry.wait(id, &CancellationToken::new()).unwrap();
        assert_eq!(rec.state, JobState::Canceled);
    }
}

/// A caller for [`JobRegistry::control`]: a user of a tenant, maybe an administrator, with some privileges;
/// counts how often its privileges are asked.
struct User {
    name: &'static str,
    tenant: i64,
    tenant_admin: bool,
    control_job: bool,
    asked: AtomicUsize,
}

impl User {
    fn new(name: &'static str, tenant: i64) -> Self {
        Self {
            name,
            tenant,
            tenant_admin: false,
            control_job: false,
            asked: AtomicUsize::new(0),
        }
    }
}

impl JobAccessor for User {
    fn user_name(&self) -> &str {
        self.name
    }
    fn tenant_id(&self) -> i64 {
        self.tenant
    }
    fn is_cluster_admin(&self) -> bool {
        false
    }
    fn is_tenant_admin(&self) -> bool {
        self.tenant_admin
    }
    fn has_privilege(&self, p: JobPrivilege) -> Result<bool, RegistryError> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        Ok(p == JobPrivilege::ControlJob && self.control_job)
    }
}

impl Harness {
    /// A job that failed, whose undo keeps failing, paused while it reverts.
    fn paused_while_reverting(&self) -> i64 {
        let id = self.create(json!({ "units": 3, "unit_ms": 1, "fail_at": 0, "undo_fails": true }));
        self.wait_for(id, JobState::Reverting);
        self.registry.request_pause(id).unwrap();
        let rec = self.wait_for(id, JobState::Paused);
        assert_eq!(rec.paused_from, Some(JobState::Reverting));
        id
    }

    /// One finished job per (owner, tenant), oldest first; carol is an administrator.
    fn finished_jobs(&self, owners: &[(&str, i64)]) -> Vec<i64> {
        let mut ids = Vec::new();
        for &(owner, tenant) in owners {
            let id = self
                .registry
                .create(NewJob {
                    job_type: "TEST".into(),
                    tenant_id: tenant,
                    owner: owner.into(),
                    owner_is_admin: owner == "carol",
                    description: format!("job of {owner}"),
                    statement: "TEST".into(),
                    payload: json!({ "units": 1, "unit_ms": 1 }),
                    cancelable: true,
                    parent_job_id: None,
                })
                .unwrap()
                .job_id;
            self.registry.wait(id, &CancellationToken::new()).unwrap();
            ids.push(id);
        }
        ids
    }

    /// The ids a filter selects, in its order.
    fn ids(&self, f: JobFilter) -> Vec<i64> {
        self.registry
            .query(&f)
            .unwrap()
            .into_iter()
            .map(|r| r.job_id)
            .collect()
    }

    fn job_count(&self) -> usize {
        self.registry.query(&JobFilter::default()).unwrap().len()
    }
}

#[test]
fn control_of_a_set_changes_nothing_if_one_job_refuses() {
    let h = Harness::new(config());
    let running = h.create(json!({ "units": 100000, "unit_ms": 2 }));
    h.wait_for(running, JobState::Running);
    let paused = h.paused_while_reverting();
    let err = h
        .registry
        .control(JobAction::Cancel, &[running, paused], &System)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("job {paused}: job with state reverting cannot be requested to be canceled")
    );
    assert_eq!(
        h.state(running),
        JobState::Running,
        "the running job was not touched"
    );
    assert_eq!(h.state(paused), JobState::Paused);
    // The same set without the refusing job goes through; duplicates count once.
    let done = h
        .registry
        .control(JobAction::Cancel, &[running, running], &System)
        .unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(
        h.wait_for(running, JobState::Canceled).error_code,
        Some(-4072)
    );
}

#[test]
fn requests_already_satisfied_are_no_ops_and_finished_jobs_refuse() {
    let h = Harness::new(config());
    let done = h.create(json!({ "units": 1, "unit_ms": 1 }));
    h.registry.wait(done, &CancellationToken::new()).unwrap();
    for (action, verb) in [
        (JobAction::Cancel, "requested to be canceled"),
        (JobAction::Pause, "requested to be paused"),
        (JobAction::Resume, "resumed"),
    ] {
        let err = h.registry.control(action, &[done], &System).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("job {done}: job with state succeeded cannot be {verb}")
        );
    }
    let id = h.create(json!({ "units": 100000, "unit_ms": 2 }));
    h.wait_for(id, JobState::Running);
    let same = h
        .registry
        .control(JobAction::Resume, &[id], &System)
        .unwrap();
    assert_eq!(
        same[0].state,
        JobState::Running,
        "RESUME of a running job is a no-op"
    );
    h.registry.request_pause(id).unwrap();
    h.wait_for(id, JobState::Paused);
    let same = h
        .registry
        .control(JobAction::Pause, &[id], &System)
        .unwrap();
    assert_eq!(
        same[0].state,
        JobState::Paused,
        "PAUSE of a paused job is a no-op"
    );
    h.registry.request_cancel(id).unwrap();
    h.wait_for(id, JobState::Canceled);
    let same = h
        .registry
        .control(JobAction::Cancel, &[id], &System)
        .unwrap();
    assert_eq!(
        same[0].state,
        JobState::Canceled,
        "CANCEL of a canceled job is a no-op"
    );
}

#[test]
fn control_checks_who_asks_once_per_request() {
    let h = Harness::new(config());
    let alices = h.create_as(json!({ "units": 100000, "unit_ms": 2 }), "alice", true);
    let bobs = h.create_as(json!({ "units": 100000, "unit_ms": 2 }), "bob", true);
    let admins = h
        .registry
        .create(NewJob {
            job_type: "TEST".into(),
            tenant_id: 1001,
            owner: "root".into(),
            owner_is_admin: true,
            description: "admin's".into(),
            statement: "TEST".into(),
            payload: json!({ "units": 100000, "unit_ms": 2 }),
            cancelable: true,
            parent_job_id: None,
        })
        .unwrap()
        .job_id;
    for id in [alices, bobs, admins] {
        h.wait_for(id, JobState::Running);
    }
    let bob = User::new("bob", 1001);
    // Another tenant's jobs do not exist for its users.
    let stranger = User::new("bob", 1002);
    assert!(matches!(
        h.registry.control(JobAction::Pause, &[bobs], &stranger),
        Err(RegistryError::NotFound(id)) if id == bobs
    ));
    // A job of someone else, without CONTROLJOB; an admin's job: refused, and nothing changes.
    let err = h
        .registry
        .control(JobAction::Pause, &[bobs, alices], &bob)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("user bob does not have privileges for job {alices}")
    );
    assert_eq!(h.state(bobs), JobState::Running);
    let err = h
        .registry
        .control(JobAction::Pause, &[admins], &bob)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "only admins can control jobs owned by other admins"
    );
    // CONTROLJOB lets bob control alice's job; his privileges are asked once for the whole request.
    let bob = User {
        control_job: true,
        ..User::new("bob", 1001)
    };
    h.registry
        .control(JobAction::Pause, &[alices, bobs], &bob)
        .unwrap();
    assert!(bob.asked.load(Ordering::SeqCst) <= 1);
    // The tenant's administrator controls everything of its tenant.
    let admin = User {
        tenant_admin: true,
        ..User::new("root", 1001)
    };
    h.registry
        .control(JobAction::Cancel, &[alices, bobs, admins], &admin)
        .unwrap();
    for id in [alices, bobs, admins] {
        h.wait_for(id, JobState::Canceled);
    }
}

#[test]
fn exclusive_keys_admit_one_live_job_and_families_are_created_whole() {
    let h = Harness::new(config());
    let new = |payload: serde_json::Value| NewJob {
        job_type: "TEST".into(),
        tenant_id: 1001,
        owner: "alice".into(),
        owner_is_admin: false,
        description: "exclusive".into(),
        statement: "TEST".into(),
        payload,
        cancelable: true,
        parent_job_id: None,
    };
    let key = || vec!["backup/tenant/1001".to_string()];
    // Twenty at once: exactly one gets the key.
    let registry = h.registry.clone();
    let results: Vec<Result<JobRecord, RegistryError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|_| {
                let registry = registry.clone();
                let job = new(json!({ "units": 100000, "unit_ms": 2 }));
                s.spawn(move || registry.create_exclusive(job, key()))
            })
            .collect();
        handles.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let winners: Vec<i64> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| r.job_id)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let holder = winners[0];
    assert!(results.iter().all(|r| match r {
        Ok(_) => true,
        Err(RegistryError::Conflict { key, holder: h }) =>
            key == "backup/tenant/1001" && *h == holder,
        Err(_) => false,
    }));
    assert_eq!(h.job_count(), 1);
    // A family is refused whole when one child's key is held: no parent is left behind.
    let err = h
        .registry
        .create_family(
            new(json!({ "units": 1 })).into(),
            vec![
                Creation {
                    job: new(json!({ "units": 1 })),
                    keys: vec!["backup/tenant/1002".into()],
                },
                Creation {
                    job: new(json!({ "units": 1 })),
                    keys: key(),
                },
            ],
        )
        .unwrap_err();
    assert!(matches!(err, RegistryError::Conflict { holder: h, .. } if h == holder));
    assert_eq!(h.job_count(), 1);
    // Once the holder is over, the key is free again.
    h.registry.request_cancel(holder).unwrap();
    h.wait_for(holder, JobState::Canceled);
    let (parent, children) = h
        .registry
        .create_family(
            new(json!({ "units": 1 })).into(),
            vec![Creation {
                job: new(json!({ "units": 1 })),
                keys: key(),
            }],
        )
        .unwrap();
    assert_eq!(children[0].parent_job_id, Some(parent.job_id));
    assert_eq!(
        h.registry.children(parent.job_id).unwrap()[0].job_id,
        children[0].job_id
    );
}

#[test]
fn a_commit_in_progress_holds_up_only_requests_for_its_own_job() {
    let h = Harness::new(config());
    *h.effects.hold.lock() = true;
    let committing = h.create(json!({ "units": 1, "unit_ms": 1, "hold_commit": true }));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !h.effects.committing.lock().contains(&committing) {
        assert!(
            Instant::now() < deadline,
            "the job never reached its commit"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // Meanwhile other jobs start, report progress, are canceled and undone; listings answer.
    let other = h.create(json!({ "units": 100000, "unit_ms": 2 }));
    h.wait_for(other, JobState::Running);
    h.registry.request_cancel(other).unwrap();
    h.wait_for(other, JobState::Canceled);
    assert_eq!(h.job_count(), 2);
    // A cancel of the committing job waits for the commit, then finds the job succeeded.
    let registry = h.registry.clone();
    let cancel = std::thread::spawn(move || registry.request_cancel(committing));
    std::thread::sleep(Duration::from_millis(50));
    *h.effects.hold.lock() = false;
    h.effects.released.notify_all();
    let err = cancel.join().unwrap().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("job {committing}: job with state succeeded cannot be requested to be canceled")
    );
    assert_eq!(h.state(committing), JobState::Succeeded);
    assert_eq!(
        h.effects.undos.lock().get(&committing),
        None,
        "nothing was undone"
    );
}

#[test]
fn work_that_ends_canceled_reads_canceled() {
    let h = Harness::new(config());
    let id = h.create(json!({ "units": 2, "unit_ms": 1, "ends_canceled": true }));
    let rec = h.registry.wait(id, &CancellationToken::new()).unwrap();
    assert_eq!(rec.state, JobState::Canceled);
    assert_eq!(rec.error_code, Some(-4072));
    assert_eq!(
        rec.error_message.as_deref(),
        Some("what it stood for was canceled")
    );
    assert_eq!(h.effects.undos.lock().get(&id), Some(&1), "its undo ran");
}

#[test]
fn filters_select_page_and_count_in_the_store() {
    let h = Harness::new(config());
    let ids = h.finished_jobs(&[
        ("alice", 1001),
        ("bob", 1001),
        ("carol", 1002),
        ("alice", 1002),
    ]);
    let q = |f: JobFilter| h.ids(f);
    assert_eq!(
        q(JobFilter::default()),
        vec![ids[3], ids[2], ids[1], ids[0]],
        "newest first"
    );
    assert_eq!(
        q(JobFilter::default().of_tenant(1002)),
        vec![ids[3], ids[2]]
    );
    assert_eq!(
        q(JobFilter {
            owner: Some("alice".into()),
            ..Default::default()
        }),
        vec![ids[3], ids[0]]
    );
    assert_eq!(
        q(JobFilter {
            limit: Some(2),
            offset: 1,
            ..Default::default()
        }),
        vec![ids[2], ids[1]]
    );
    assert_eq!(
        q(JobFilter {
            words: vec!["OF".into(), "carol".into()],
            ..Default::default()
        }),
        vec![ids[2]],
        "every word, ignoring case"
    );
    assert_eq!(
        q(JobFilter {
            words: vec!["bob".into()],
            ..Default::default()
        }),
        vec![ids[1]]
    );
    assert!(q(JobFilter::default().unfinished()).is_empty());
    assert_eq!(
        q(JobFilter {
            finished_since: Some(i64::MAX),
            ..Default::default()
        }),
        Vec::<i64>::new(),
        "nothing unfinished, nothing finished in the future"
    );
    // What a non-admin sees: its own jobs, plus non-admin jobs with VIEWJOB / CONTROLJOB.
    let carol_view = Scope::Owner {
        tenant_id: 1002,
        user: "alice".into(),
        non_admin: true,
    };
    assert_eq!(
        q(JobFilter::scoped(carol_view)),
        vec![ids[3]],
        "carol is an admin"
    );
    let count: u64 = h
        .registry
        .count(&JobFilter::default().of_tenant(1001))
        .unwrap()
        .into_iter()
        .map(|(_, s, n)| {
            assert_eq!(s, JobState::Succeeded);
            n
        })
        .sum();
    assert_eq!(count, 2);
    assert_eq!(
        h.registry.tenants(&JobFilter::default()).unwrap(),
        vec![1001, 1002]
    );
    let with_progress = h
        .registry
        .query_with_progress(&JobFilter::default().of_tenant(1001))
        .unwrap();
    assert_eq!(with_progress.len(), 2);
    assert_eq!(with_progress[0].1.details["units_done"], json!(1));
}

#[test]
fn retention_removes_many_expired_jobs_in_batches() {
    let h = Harness::new(config());
    let ids: Vec<i64> = (0..300).map(|_| h.create(json!({ "units": 0 }))).collect();
    for id in &ids {
        h.registry.wait(*id, &CancellationToken::new()).unwrap();
    }
    assert_eq!(h.registry.set_retention(Duration::ZERO).unwrap(), 300);
    assert_eq!(h.job_count(), 0);
}

#[test]
fn a_claim_of_another_live_node_is_not_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.sqlite");
    let effects = Arc::new(Effects::default());
    let node = |id: i64, lease: Duration| RegistryConfig {
        node_id: id,
        lease,
        ..config()
    };
    let other = open(&path, &effects, node(2, Duration::from_secs(600)));
    let id = other
        .create(NewJob {
            job_type: "TEST".into(),
            tenant_id: 1001,
            owner: "alice".into(),
            owner_is_admin: false,
            description: "claimed".into(),
            statement: "TEST".into(),
            payload: json!({ "units": 100000, "unit_ms": 2 }),
            cancelable: true,
            parent_job_id: None,
        })
        .unwrap()
        .job_id;
    let deadline = Instant::now() + Duration::from_secs(20);
    while effects.done.lock().get(&id).copied().unwrap_or(0) == 0 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    // Node 2 stops answering (its runs stop) but its lease has ten minutes left: node 1 leaves the job.
    other.shutdown();
    std::thread::sleep(Duration::from_millis(100));
    let claim = |r: &JobRegistry| r.get(id).unwrap().unwrap();
    assert_eq!(claim(&other).state, JobState::Running);
    let before = effects.done.lock().get(&id).copied().unwrap_or(0);
    let mine = open(&path, &effects, node(1, Duration::from_secs(600)));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        effects.done.lock().get(&id).copied().unwrap_or(0),
        before,
        "not adopted"
    );
    mine.shutdown();
    // A node's own earlier claim is adopted at once (this process holds the data directory now).
    let again = open(&path, &effects, node(2, Duration::from_secs(600)));
    while effects.done.lock().get(&id).copied().unwrap_or(0) == before {
        assert!(Instant::now() < deadline, "node 2 adopts its own claim");
        std::thread::sleep(Duration::from_millis(5));
    }
    again.request_cancel(id).unwrap();
    assert_eq!(
        again.wait(id, &CancellationToken::new()).unwrap().state,
        JobState::Canceled
    );
}

#[test]
fn counts_kept_beside_the_rows_agree_with_counting_the_rows() {
    let mut h = Harness::new(config());
    let running: Vec<i64> = (0..3)
        .map(|_| h.create(json!({ "units": 1000, "unit_ms": 20 })))
        .collect();
    let done: Vec<i64> = ["alice", "bob", "alice"]
        .into_iter()
        .map(|owner| h.create_as(json!({ "units": 1 }), owner, true))
        .collect();
    for id in &done {
        h.registry.wait(*id, &CancellationToken::new()).unwrap();
    }
    h.registry.request_cancel(running[0]).unwrap();
    h.wait_for(running[0], JobState::Canceled);
    // A filter on the creation time is counted from the rows themselves; one without from the kept counts.
    let check = |h: &Harness, f: JobFilter| {
        let mut kept = h.registry.count(&f).unwrap();
        let mut counted = h
            .registry
            .count(&JobFilter {
                created_from: Some(0),
                ..f.clone()
            })
            .unwrap();
        kept.sort();
        counted.sort();
        assert_eq!(kept, counted, "{f:?}");
        kept
    };
    let all = check(&h, JobFilter::default());
    assert!(
        all.contains(&("TEST".into(), JobState::Canceled, 1)),
        "{all:?}"
    );
    check(&h, JobFilter::default().of_tenant(1001));
    check(
        &h,
        JobFilter {
            owner: Some("alice".into()),
            ..Default::default()
        },
    );
    check(&h, JobFilter::default().unfinished());
    check(
        &h,
        JobFilter::scoped(Scope::Owner {
            tenant_id: 1001,
            user: "bob".into(),
            non_admin: true,
        }),
    );
    // Kept across a restart, and after retention removed the finished jobs.
    h.restart();
    check(&h, JobFilter::default());
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(
        h.registry.set_retention(Duration::from_millis(10)).unwrap(),
        done.len() + 1
    );
    let left = check(&h, JobFilter::default());
    assert_eq!(
        left.iter().map(|(_, _, n)| n).sum::<u64>(),
        2,
        "the two running jobs: {left:?}"
    );
    assert_eq!(
        h.registry.tenants(&JobFilter::default()).unwrap(),
        vec![1001]
    );
    assert!(h
        .registry
        .tenants(&JobFilter::default().of_tenant(1002))
        .unwrap()
        .is_empty());
}

#[test]
fn a_file_without_kept_counts_gets_them_from_its_rows() {
    let mut h = Harness::new(config());
    let ids: Vec<i64> = (0..4).map(|_| h.create(json!({ "units": 1 }))).collect();
    for id in &ids {
        h.registry.wait(*id, &CancellationToken::new()).unwrap();
    }
    h.registry.shutdown();
    std::thread::sleep(Duration::from_millis(100));
    // A file written before the counts were kept.
    let conn = rusqlite::Connection::open(&h.path).unwrap();
    conn.execute_batch(
        "DROP TRIGGER job_counts_insert; DROP TRIGGER job_counts_delete; DROP TRIGGER job_counts_update; DROP TABLE job_counts;",
    )
    .unwrap();
    drop(conn);
    h.restart();
    assert_eq!(
        h.registry.count(&JobFilter::default()).unwrap(),
        vec![("TEST".to_string(), JobState::Succeeded, 4)]
    );
}

#[test]
fn a_window_narrowed_by_tenant_and_owner_keeps_its_rows_and_order() {
    let h = Harness::new(config());
    let ids = h.finished_jobs(&[
        ("alice", 1001),
        ("bob", 1001),
        ("alice", 1002),
        ("alice", 1001),
    ]);
    let window = JobFilter {
        finished_since: Some(0),
        ..Default::default()
    };
    let q = |f: JobFilter| h.ids(f);
    assert_eq!(q(window.clone()), vec![ids[3], ids[2], ids[1], ids[0]]);
    assert_eq!(
        q(window.clone().ordered(tenantry_jobs::Order::OldestFirst)),
        ids
    );
    assert_eq!(
        q(JobFilter {
            owner: Some("alice".into()),
            ..window.clone().of_tenant(1001)
        }),
        vec![ids[3], ids[0]]
    );
    assert_eq!(
        q(JobFilter {
            order: tenantry_jobs::Order::OldestFirst,
            limit: Some(1),
            offset: 1,
            ..window.of_type("test")
        }),
        vec![ids[1]]
    );
}
