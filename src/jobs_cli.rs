//! `tenantry jobs`: the jobs table in the terminal, read from the server's REST API (`GET /api/jobs`) with
//! HTTP basic authentication. `--watch` keeps it live with one progress bar per job.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

use base64::Engine as _;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::Value;

use crate::cli::JobsArgs;

/// Why `tenantry jobs` could not show the jobs.
#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    /// The server did not answer.
    #[error("cannot reach the server at {url}: {message}")]
    Unreachable {
        /// The address asked.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The server answered with an error.
    #[error("{message} ({code}, HTTP {status})")]
    Api {
        /// HTTP status.
        status: u16,
        /// The API's error code.
        code: String,
        /// The API's message.
        message: String,
    },
    /// The answer was not what the API documents.
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
}

/// One fetch of the jobs page.
fn fetch(args: &JobsArgs) -> Result<Value, JobsError> {
    let base = if args.http_addr.starts_with("http://") || args.http_addr.starts_with("https://") {
        args.http_addr.trim_end_matches('/').to_string()
    } else {
        format!("http://{}", args.http_addr)
    };
    let url = format!("{base}/api/jobs");
    let credentials = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", args.user, args.password));
    let mut req = ureq::get(&url)
        .timeout(Duration::from_secs(10))
        .set("Authorization", &format!("Basic {credentials}"))
        .query("limit", &args.limit.to_string());
    for (k, v) in [
        ("tenant", &args.tenant),
        ("type", &args.job_type),
        ("state", &args.state),
    ] {
        if let Some(v) = v {
            req = req.query(k, v);
        }
    }
    match req.call() {
        Ok(resp) => resp
            .into_json()
            .map_err(|e| JobsError::Protocol(e.to_string())),
        Err(ureq::Error::Status(status, resp)) => {
            let body: Value = resp.into_json().unwrap_or(Value::Null);
            let err = &body["error"];
            Err(JobsError::Api {
                status,
                code: err["code"].as_str().unwrap_or("unknown").to_string(),
                message: err["message"]
                    .as_str()
                    .unwrap_or("the server refused the request")
                    .to_string(),
            })
        }
        Err(e) => Err(JobsError::Unreachable {
            url: base,
            message: e.to_string(),
        }),
    }
}

fn text<'a>(job: &'a Value, key: &str) -> &'a str {
    job[key].as_str().unwrap_or("")
}

/// A byte rate as `1.2 MB/s`.
fn rate(bytes_per_second: f64) -> String {
    let units = ["B/s", "KB/s", "MB/s", "GB/s"];
    let mut v = bytes_per_second;
    let mut i = 0;
    while v >= 1000.0 && i + 1 < units.len() {
        v /= 1000.0;
        i += 1;
    }
    format!("{v:.1} {}", units[i])
}

/// Seconds as `1h02m`, `3m05s` or `12s`.
fn eta(seconds: f64) -> String {
    let s = seconds.round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s / 60 % 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

fn speed_and_eta(job: &Value) -> (String, String) {
    let speed = &job["speed"];
    let s = match (
        speed["bytes_per_second"].as_f64(),
        speed["fraction_per_second"].as_f64(),
    ) {
        (Some(b), _) => rate(b),
        (None, Some(f)) => format!("{:.1} %/s", f * 100.0),
        _ => "-".into(),
    };
    let e = speed["eta_seconds"]
        .as_f64()
        .map(eta)
        .unwrap_or_else(|| "-".into());
    (s, e)
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let cut: String = s.chars().take(n.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

fn columns(job: &Value) -> String {
    format!(
        "{:<19}  {:<13}  {:<10}  {:<10}  {:<16}",
        text(job, "id"),
        short(text(job, "type"), 13),
        short(text(job, "tenant"), 10),
        short(text(job, "owner"), 10),
        text(job, "state"),
    )
}

const HEADER: &str =
    "JOB ID               TYPE           TENANT      OWNER       STATE             PROGRESS";

fn bar(fraction: f64, width: usize) -> String {
    let filled = ((fraction.clamp(0.0, 1.0)) * width as f64).round() as usize;
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

/// The table as plain text (for a one-off listing, or a watch whose output is not a terminal).
pub fn table(page: &Value) -> Result<String, JobsError> {
    let jobs = page["jobs"]
        .as_array()
        .ok_or_else(|| JobsError::Protocol("no jobs array".into()))?;
    let mut out = String::new();
    if jobs.is_empty() {
        out.push_str("no jobs\n");
        return Ok(out);
    }
    out.push_str(HEADER);
    out.push_str("                   SPEED       ETA     DESCRIPTION\n");
    for job in jobs {
        let f = job["fraction_completed"].as_f64().unwrap_or(0.0);
        let (speed, eta) = speed_and_eta(job);
        out.push_str(&format!(
            "{}  {} {:>5.1}%  {:<10}  {:<6}  {}\n",
            columns(job),
            bar(f, 20),
            f * 100.0,
            speed,
            eta,
            short(text(job, "description"), 60),
        ));
    }
    let total = page["total"].as_u64().unwrap_or(jobs.len() as u64);
    if total > jobs.len() as u64 {
        out.push_str(&format!(
            "({} of {total} jobs shown; use --limit)\n",
            jobs.len()
        ));
    }
    Ok(out)
}

/// Runs `tenantry jobs`.
pub fn run(args: &JobsArgs) -> Result<(), JobsError> {
    if !args.watch {
        print!("{}", table(&fetch(args)?)?);
        return Ok(());
    }
    if !std::io::stdout().is_terminal() {
        loop {
            println!("{}", table(&fetch(args)?)?);
            std::thread::sleep(Duration::from_secs(1));
        }
    }
    watch(args)
}

/// The live view: one indicatif bar per job, updated every second.
fn watch(args: &JobsArgs) -> Result<(), JobsError> {
    let multi = MultiProgress::new();
    let header = multi.add(ProgressBar::new_spinner());
    header.set_style(
        ProgressStyle::with_template("{msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let style = ProgressStyle::with_template("{prefix}  [{bar:24.cyan/blue}] {percent:>3}%  {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("█▓░");
    let mut bars: HashMap<String, ProgressBar> = HashMap::new();
    loop {
        let page = match fetch(args) {
            Ok(p) => p,
            Err(JobsError::Unreachable { url, message }) => {
                header.set_message(format!("connection lost to {url} ({message}); retrying…"));
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
            Err(e) => return Err(e),
        };
        let jobs = page["jobs"].as_array().cloned().unwrap_or_default();
        header.set_message(format!(
            "{HEADER:<93}   {} jobs   (Ctrl-C to quit)",
            page["total"].as_u64().unwrap_or(0)
        ));
        let ids: Vec<String> = jobs.iter().map(|j| text(j, "id").to_string()).collect();
        bars.retain(|id, b| {
            let keep = ids.contains(id);
            if !keep {
                b.finish_and_clear();
                multi.remove(b);
            }
            keep
        });
        for job in &jobs {
            let id = text(job, "id").to_string();
            let b = bars.entry(id).or_insert_with(|| {
                let b = multi.add(ProgressBar::new(1000));
                b.set_style(style.clone());
                b
            });
            let f = job["fraction_completed"].as_f64().unwrap_or(0.0);
            let (speed, eta) = speed_and_eta(job);
            b.set_prefix(columns(job));
            b.set_position((f * 1000.0).round() as u64);
            b.set_message(format!(
                "{speed:<10}  ETA {eta:<6}  {}",
                short(text(job, "description"), 50)
            ));
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_well() {
        assert_eq!(rate(1_234_567.0), "1.2 MB/s");
        assert_eq!(rate(12.0), "12.0 B/s");
        assert_eq!(eta(5.2), "5s");
        assert_eq!(eta(185.0), "3m05s");
        assert_eq!(eta(3720.0), "1h02m");
        assert_eq!(bar(0.5, 4), "██░░");
    }
}
