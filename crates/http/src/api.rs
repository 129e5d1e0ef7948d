//! The REST API over jobs and tenants. Job ids go out as strings: they are 64-bit and would lose digits
//! as JavaScript numbers.

use std::collections::BTreeMap;

use axum::extract::{Path, Query};
use axum::Json;
use serde::{Deserialize, Serialize};
use tenantry_sql::{JobAction, JobEntry, JobListQuery, JobProgress, JobState};

use crate::auth::Caller;
use crate::error::ApiError;

/// The longest page of jobs one request returns.
const MAX_LIMIT: usize = 1000;

/// Microseconds since the epoch as RFC 3339 (UTC, milliseconds).
fn time(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// How fast a job goes and when it should end, from its progress so far.
#[derive(Serialize, Default)]
pub(crate) struct Speed {
    /// Fraction of the work done per second, averaged since it started.
    fraction_per_second: Option<f64>,
    /// Bytes per second, where the job reports the bytes its work covers.
    bytes_per_second: Option<f64>,
    /// Seconds left at that pace.
    eta_seconds: Option<f64>,
}

/// A job as the API shows it in lists.
#[derive(Serialize)]
pub(crate) struct Job {
    id: String,
    #[serde(rename = "type")]
    job_type: String,
    tenant: String,
    tenant_id: i64,
    owner: String,
    description: String,
    state: &'static str,
    phase: String,
    running_status: String,
    fraction_completed: f64,
    cancelable: bool,
    /// Which of cancel / pause / resume the job's state allows now (privileges are checked when asked).
    actions: Vec<&'static str>,
    created: String,
    started: Option<String>,
    modified: String,
    finished: Option<String>,
    error: Option<String>,
    error_code: Option<i64>,
    parent_id: Option<String>,
    speed: Speed,
}

/// The actions the jobs layer's table lets the job's state take now.
fn actions(entry: &JobEntry) -> Vec<&'static str> {
    tenantry_jobs::rules::allowed_actions(&entry.record)
        .into_iter()
        .map(|a| match a {
            JobAction::Cancel => "cancel",
            JobAction::Pause => "pause",
            JobAction::Resume => "resume",
        })
        .collect()
}

fn speed(entry: &JobEntry, progress: Option<&JobProgress>, now: i64) -> Speed {
    let rec = &entry.record;
    let (Some(started), false) = (rec.started, rec.state.is_terminal()) else {
        return Speed::default();
    };
    let f = rec.fraction_completed;
    let elapsed = (now - started) as f64 / 1e6;
    if f <= 0.0 || elapsed <= 0.0 {
        return Speed::default();
    }
    let rate = f / elapsed;
    let bytes_total = progress
        .and_then(|p| p.details.get("bytes_total"))
        .and_then(|v| v.as_f64());
    Speed {
        fraction_per_second: Some(rate),
        bytes_per_second: bytes_total.map(|t| rate * t),
        eta_seconds: (rec.state == JobState::Running).then(|| (1.0 - f).max(0.0) / rate),
    }
}

fn job(entry: &JobEntry, progress: Option<&JobProgress>, now: i64) -> Job {
    let rec = &entry.record;
    let error = match rec.state {
        JobState::Canceled => None,
        _ => rec.error_message.clone(),
    };
    Job {
        id: rec.job_id.to_string(),
        job_type: rec.job_type.clone(),
        tenant: entry.tenant_name.clone(),
        tenant_id: rec.tenant_id,
        owner: rec.owner.clone(),
        description: rec.description.clone(),
        state: rec.state.as_str(),
        phase: rec.phase.clone(),
        running_status: rec.running_status.clone(),
        fraction_completed: rec.fraction_completed,
        cancelable: rec.cancelable,
        actions: actions(entry),
        created: time(rec.created),
        started: rec.started.map(time),
        modified: time(rec.modified),
        finished: rec.finished.map(time),
        error,
        error_code: rec.error_code,
        parent_id: rec.parent_job_id.map(|p| p.to_string()),
        speed: speed(entry, progress, now),
    }
}

/// Filters and paging of `GET /api/jobs`.
#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    tenant: Option<String>,
    #[serde(rename = "type")]
    job_type: Option<String>,
    /// One state, or several separated by commas; `active` means every unfinished state.
    state: Option<String>,
    /// Words to find in the description, owner or id.
    q: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

/// A page of jobs.
#[derive(Serialize)]
pub(crate) struct JobPage {
    jobs: Vec<Job>,
    /// How many jobs match the filters.
    total: usize,
    offset: usize,
    limit: usize,
    /// Jobs per state among those matching every filter but the state.
    counts: BTreeMap<&'static str, usize>,
    /// Every job type among the visible jobs.
    types: Vec<String>,
    /// Every tenant among the visible jobs.
    tenants: Vec<String>,
    /// The server's time.
    now: String,
}

fn parse_states(s: &str) -> Result<Vec<JobState>, ApiError> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part == "active" {
            out.extend(JobState::ALL.into_iter().filter(|s| !s.is_terminal()));
        } else {
            out.push(JobState::parse(part).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown state '{part}' (one of: active, {})",
                    JobState::ALL.map(JobState::as_str).join(", ")
                ))
            })?);
        }
    }
    Ok(out)
}

/// `GET /api/jobs`: the jobs the caller may see, newest first, filtered and paged.
pub(crate) async fn list_jobs(
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<JobPage>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let states = match query.state.as_deref() {
        Some(s) => parse_states(s)?,
        None => Vec::new(),
    };
    let limit = query.limit.unwrap_or(50);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let offset = query.offset.unwrap_or(0);
    let list = JobListQuery {
        tenant: query.tenant.clone(),
        job_type: query.job_type.clone(),
        states,
        words: query
            .q
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_lowercase)
            .collect(),
        limit,
        offset,
    };
    caller
        .run(move |session| {
            let page = session.list_jobs(&list)?;
            let now = tenantry_sql::now_micros();
            let jobs = page
                .jobs
                .iter()
                .map(|(e, progress)| {
                    // Speed and ETA only for unfinished jobs.
                    let progress = (!e.record.state.is_terminal()).then_some(progress);
                    job(e, progress, now)
                })
                .collect();
            Ok(JobPage {
                jobs,
                total: page.total as usize,
                offset,
                limit,
                counts: page
                    .counts
                    .into_iter()
                    .map(|(s, n)| (s.as_str(), n as usize))
                    .collect(),
                types: page.types,
                tenants: page.tenants,
                now: time(now),
            })
        })
        .await
        .map(Json)
}

/// An entry of a job's history.
#[derive(Serialize)]
pub(crate) struct Event {
    at: String,
    state: &'static str,
    phase: String,
    fraction_completed: f64,
    running_status: String,
}

/// A phase the job went through, with when it began and ended.
#[derive(Serialize)]
pub(crate) struct Phase {
    name: String,
    started: String,
    ended: Option<String>,
}

/// One job with its statement, progress figures, phases and history.
#[derive(Serialize)]
pub(crate) struct JobDetailJson {
    #[serde(flatten)]
    job: Job,
    statement: String,
    trace_id: String,
    progress: serde_json::Map<String, serde_json::Value>,
    progress_updated: Option<String>,
    phases: Vec<Phase>,
    events: Vec<Event>,
    children: Vec<String>,
    now: String,
}

fn parse_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::bad_request(format!("'{id}' is not a job id")))
}

/// `GET /api/jobs/{id}`.
pub(crate) async fn job_detail(
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<JobDetailJson>, ApiError> {
    let id = parse_id(&id)?;
    caller
        .run(move |session| {
            let d = session.job_detail(id)?;
            let now = tenantry_sql::now_micros();
            let mut phases: Vec<Phase> = Vec::new();
            for ev in &d.events {
                if ev.phase.is_empty() || phases.last().is_some_and(|p| p.name == ev.phase) {
                    continue;
                }
                if let Some(last) = phases.last_mut() {
                    last.ended = Some(time(ev.at));
                }
                phases.push(Phase {
                    name: ev.phase.clone(),
                    started: time(ev.at),
                    ended: None,
                });
            }
            if let (Some(last), Some(finished)) = (phases.last_mut(), d.entry.record.finished) {
                last.ended = Some(time(finished));
            }
            Ok(JobDetailJson {
                job: job(&d.entry, Some(&d.progress), now),
                statement: d.entry.record.statement.clone(),
                trace_id: d.entry.record.trace_id.clone(),
                progress_updated: (d.progress.updated > 0).then(|| time(d.progress.updated)),
                progress: d.progress.details,
                phases,
                events: d
                    .events
                    .iter()
                    .map(|e| Event {
                        at: time(e.at),
                        state: e.state.as_str(),
                        phase: e.phase.clone(),
                        fraction_completed: e.fraction_completed,
                        running_status: e.running_status.clone(),
                    })
                    .collect(),
                children: d.children.iter().map(i64::to_string).collect(),
                now: time(now),
            })
        })
        .await
        .map(Json)
}

/// `POST /api/jobs/{id}/{cancel|pause|resume}`: the same as CANCEL / PAUSE / RESUME JOB id.
pub(crate) async fn control_job(
    caller: Caller,
    Path((id, action)): Path<(String, String)>,
) -> Result<Json<Job>, ApiError> {
    let id = parse_id(&id)?;
    let action = match action.as_str() {
        "cancel" => JobAction::Cancel,
        "pause" => JobAction::Pause,
        "resume" => JobAction::Resume,
        other => {
            return Err(ApiError::not_found(format!(
                "no job action '{other}' (cancel, pause or resume)"
            )))
        }
    };
    caller
        .run(move |session| {
            let entry = session.control_job(action, id)?;
            Ok(job(&entry, None, tenantry_sql::now_micros()))
        })
        .await
        .map(Json)
}

/// A tenant as the API shows it.
#[derive(Serialize)]
pub(crate) struct TenantJson {
    id: i64,
    name: String,
    mode: &'static str,
    status: &'static str,
    created: String,
}

/// `GET /api/tenants`: every tenant for root@sys, else the caller's own.
pub(crate) async fn tenants(caller: Caller) -> Result<Json<Vec<TenantJson>>, ApiError> {
    caller
        .run(|session| {
            Ok(session
                .visible_tenants()?
                .into_iter()
                .map(|t| TenantJson {
                    id: t.tenant_id,
                    name: t.tenant_name,
                    mode: t.compatibility_mode.as_str(),
                    status: t.status.as_str(),
                    created: t.create_time,
                })
                .collect())
        })
        .await
        .map(Json)
}
