//! `GET /metrics`: Prometheus's text exposition format, written by hand (a few families, no registry).
//!
//! Jobs by type and state and job durations are read from the job records (so they survive restarts, and
//! durations cover the finished jobs still within retention); cancel latency and bytes moved are the
//! registry's in-memory figures since start; sessions are the open sessions of every protocol.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use tenantry_sql::{Engine, Histogram, JobState};

use crate::error::ApiError;
use crate::AppState;

/// Upper bounds (seconds) of the job-duration buckets: from quick schema changes to day-long backups.
const DURATION_BUCKETS: [f64; 12] = [
    0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14400.0, 86400.0,
];

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn histogram(out: &mut String, name: &str, base: &[(&str, &str)], h: &Histogram) {
    for (bound, n) in h.bounds.iter().zip(&h.cumulative) {
        let le = bound.to_string();
        let mut l = base.to_vec();
        l.push(("le", &le));
        let _ = writeln!(out, "{name}_bucket{} {n}", labels(&l));
    }
    let mut l = base.to_vec();
    l.push(("le", "+Inf"));
    let _ = writeln!(out, "{name}_bucket{} {}", labels(&l), h.count);
    let _ = writeln!(out, "{name}_sum{} {}", labels(base), h.sum);
    let _ = writeln!(out, "{name}_count{} {}", labels(base), h.count);
}

/// Renders every metric family (blocking: reads the job records).
fn render(engine: &Engine) -> Result<String, tenantry_sql::SqlError> {
    let jobs = engine.jobs().list()?;
    let mut out = String::new();

    header(
        &mut out,
        "tenantry_jobs",
        "gauge",
        "Jobs in the registry by type and state (finished jobs stay until their retention ends).",
    );
    let mut by_state: BTreeMap<(String, &'static str), u64> = BTreeMap::new();
    let types: std::collections::BTreeSet<String> =
        jobs.iter().map(|j| j.job_type.clone()).collect();
    for t in &types {
        // Every state of a known type is written, zeros included, so that rates and alerts see 0, not gaps.
        for s in JobState::ALL {
            by_state.insert((t.clone(), s.as_str()), 0);
        }
    }
    for j in &jobs {
        *by_state
            .entry((j.job_type.clone(), j.state.as_str()))
            .or_default() += 1;
    }
    for ((t, s), n) in &by_state {
        let _ = writeln!(
            out,
            "tenantry_jobs{} {n}",
            labels(&[("type", t), ("state", s)])
        );
    }

    header(
        &mut out,
        "tenantry_job_duration_seconds",
        "histogram",
        "Run time (start to end) of finished jobs still in the registry, by type and final state.",
    );
    let mut durations: BTreeMap<(String, &'static str), Histogram> = BTreeMap::new();
    for j in &jobs {
        if let (Some(start), Some(end)) = (j.started, j.finished) {
            durations
                .entry((j.job_type.clone(), j.state.as_str()))
                .or_insert_with(|| Histogram::new(&DURATION_BUCKETS))
                .observe((end - start).max(0) as f64 / 1e6);
        }
    }
    for ((t, s), h) in &durations {
        histogram(
            &mut out,
            "tenantry_job_duration_seconds",
            &[("type", t), ("state", s)],
            h,
        );
    }

    let figures = engine.jobs().metrics();
    header(
        &mut out,
        "tenantry_job_cancel_latency_seconds",
        "histogram",
        "Time from an accepted cancel request to the job reading canceled (work stopped, undo done).",
    );
    histogram(
        &mut out,
        "tenantry_job_cancel_latency_seconds",
        &[],
        &figures.cancel_latency,
    );

    header(
        &mut out,
        "tenantry_job_bytes_moved_total",
        "counter",
        "Bytes moved by bulk work (e.g. pages a backup read), by job type, since the server started.",
    );
    for (t, n) in &figures.bytes_moved {
        let _ = writeln!(
            out,
            "tenantry_job_bytes_moved_total{} {n}",
            labels(&[("type", t)])
        );
    }

    header(
        &mut out,
        "tenantry_sessions",
        "gauge",
        "Open sessions by protocol (mysql, pg, http) and tenant.",
    );
    let mut sessions: BTreeMap<(&'static str, String), u64> = BTreeMap::new();
    for s in engine.sessions().all() {
        *sessions
            .entry((s.protocol, s.tenant_name.clone()))
            .or_default() += 1;
    }
    for ((p, t), n) in &sessions {
        let _ = writeln!(
            out,
            "tenantry_sessions{} {n}",
            labels(&[("protocol", p), ("tenant", t)])
        );
    }
    Ok(out)
}

/// `GET /metrics`.
pub(crate) async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let engine = state.engine.clone();
    let body = tokio::task::spawn_blocking(move || render(&engine)).await??;
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        body,
    )
        .into_response())
}
