//! `GET /metrics`: Prometheus's text exposition format, written by hand (a few families, no registry).
//!
//! Jobs by type and state are counted in the job records (one grouped query); job durations, cancel latency
//! and bytes moved are the registry's in-memory figures since start (durations are observed once, when a job
//! ends, so their histogram is cumulative whatever retention removes); sessions are the open sessions of
//! every protocol.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use tenantry_sql::{Engine, Histogram, JobState};

use crate::error::ApiError;
use crate::AppState;

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
    let counts = engine.jobs().count(&tenantry_jobs::JobFilter::default())?;
    let figures = engine.jobs().metrics();
    let mut out = String::new();

    header(
        &mut out,
        "tenantry_jobs",
        "gauge",
        "Jobs in the registry by type and state (finished jobs stay until their retention ends).",
    );
    let mut by_state: BTreeMap<(String, &'static str), u64> = BTreeMap::new();
    let types: std::collections::BTreeSet<String> = counts
        .iter()
        .map(|(t, _, _)| t.clone())
        .chain(figures.durations.keys().map(|(t, _)| t.clone()))
        .collect();
    for t in &types {
        // Every state of a known type is written, zeros included, so that rates and alerts see 0, not gaps.
        for s in JobState::ALL {
            by_state.insert((t.clone(), s.as_str()), 0);
        }
    }
    for (t, s, n) in &counts {
        *by_state.entry((t.clone(), s.as_str())).or_default() += n;
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
        "Run time (start to end) of the jobs that ended since the server started, by type and final state.",
    );
    for ((t, s), h) in &figures.durations {
        histogram(
            &mut out,
            "tenantry_job_duration_seconds",
            &[("type", t), ("state", s.as_str())],
            h,
        );
    }

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

    changefeeds(engine, &mut out)?;

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

/// The unfinished changefeeds' figures, summed per tenant: how many run, what they emitted, how far behind
/// their high-water marks are, and their sink errors (from the figures each feed saves at its checkpoints).
fn changefeeds(engine: &Engine, out: &mut String) -> Result<(), tenantry_sql::SqlError> {
    #[derive(Default)]
    struct Sums {
        running: u64,
        rows: i64,
        bytes: i64,
        max_lag_seconds: f64,
        sink_errors: i64,
    }
    let feeds = engine.jobs().query_with_progress(
        &tenantry_jobs::JobFilter::default()
            .of_type(tenantry_sql::CHANGEFEED)
            .unfinished()
            .unpaged(),
    )?;
    let now = tenantry_jobs::now_micros();
    let mut by_tenant: BTreeMap<String, Sums> = BTreeMap::new();
    for (job, progress) in &feeds {
        let tenant = engine
            .catalog()
            .tenant_by_id(job.tenant_id)?
            .map_or_else(|| job.tenant_id.to_string(), |t| t.tenant_name);
        let sums = by_tenant.entry(tenant).or_default();
        let figure = |k: &str| progress.figure(k);
        if job.state == JobState::Running {
            sums.running += 1;
        }
        sums.rows += figure("emitted_rows");
        sums.bytes += figure("emitted_bytes");
        sums.sink_errors += figure("sink_errors");
        let high_water = progress
            .details
            .get("high_water_timestamp")
            .and_then(|v| v.as_str())
            .and_then(|s| s.split('.').next()?.parse::<i64>().ok());
        if let Some(nanos) = high_water {
            let lag = (now - nanos / 1_000).max(0) as f64 / 1e6;
            sums.max_lag_seconds = sums.max_lag_seconds.max(lag);
        }
    }
    type Pick = fn(&Sums) -> String;
    let families: [(&str, &str, Pick); 5] = [
        (
            "tenantry_changefeed_running",
            "Changefeeds running now.",
            |s| s.running.to_string(),
        ),
        (
            "tenantry_changefeed_emitted_rows",
            "Rows the unfinished changefeeds emitted (as of their last checkpoints).",
            |s| s.rows.to_string(),
        ),
        (
            "tenantry_changefeed_emitted_bytes",
            "Bytes of messages the unfinished changefeeds emitted.",
            |s| s.bytes.to_string(),
        ),
        (
            "tenantry_changefeed_max_behind_seconds",
            "How far the furthest-behind high-water mark is from now.",
            |s| s.max_lag_seconds.to_string(),
        ),
        (
            "tenantry_changefeed_sink_errors",
            "Sink requests that failed and were retried, in the current runs.",
            |s| s.sink_errors.to_string(),
        ),
    ];
    for (name, help, pick) in families {
        header(out, name, "gauge", help);
        for (tenant, sums) in &by_tenant {
            let _ = writeln!(
                out,
                "{name}{} {}",
                labels(&[("tenant", tenant)]),
                pick(sums)
            );
        }
    }
    Ok(())
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
