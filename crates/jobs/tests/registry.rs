//! The registry with a test-only job kind: every transition, the concurrency limit, recovery, fencing, retention.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::json;
use tenantry_jobs::{
    JobContext, JobError, JobKind, JobRecord, JobRegistry, JobState, NewJob, RegistryConfig,
    RegistryError,
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
}

/// Payload: `units` of `unit_ms` each; `fail_at` fails permanently at that unit; `stuck` ignores cancellation
/// (like blocked I/O); `flaky` fails retryably on its first attempt; `undo_flaky` fails its first undo.
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
