//! Where a changefeed delivers: webhook endpoints and files in the external-IO directory.
//!
//! A sink buffers messages and delivers them at [`Sink::flush`]; only what a flush returned from is delivered,
//! and only that may be checkpointed. Every wait a sink makes (an HTTP request, its retries' back-off) watches
//! the job's cancel, so a hung endpoint never holds a cancel or a pause back.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tenantry_jobs::{JobContext, JobError};
use tokio::runtime::Handle;

use super::options::{Compression, FeedOptions, PartitionFormat, WebhookConfig};
use super::Hlc;

/// A sink.
pub trait Sink: Send {
    /// Buffers one message of `table` at `ts`.
    fn emit(&mut self, table: &str, value: String, ts: Hlc);
    /// Whether the buffer should be delivered now (sizes, counts or ages the options set).
    fn wants_flush(&self) -> bool;
    /// Delivers everything buffered.
    fn flush(&mut self, ctx: &JobContext) -> Result<(), JobError>;
    /// Delivers a resolved message for `ts` (after [`Sink::flush`]).
    fn resolved(&mut self, message: String, ts: Hlc, ctx: &JobContext) -> Result<(), JobError>;
    /// Bytes buffered now (the feed reads no further while this is over its bound).
    fn buffered_bytes(&self) -> usize;
}

/// The longest a back-off between webhook retries grows to.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A `webhook-https://` endpoint.
pub struct Webhook {
    client: reqwest::Client,
    url: String,
    auth: Option<String>,
    config: WebhookConfig,
    runtime: Handle,
    buffer: Vec<String>,
    bytes: usize,
    oldest: Option<Instant>,
    /// Failed requests in this run (each retried or ending the run), for the job's figures.
    errors: std::cell::Cell<u64>,
}

/// The query parameters of a webhook URI that configure the client rather than name the endpoint.
const WEBHOOK_PARAMS: [&str; 4] = [
    "insecure_tls_skip_verify",
    "ca_cert",
    "client_cert",
    "client_key",
];

impl Webhook {
    /// Opens the endpoint of `uri` (`webhook-https://host[:port]/path[?params]`).
    pub fn open(uri: &str, options: &FeedOptions, runtime: Handle) -> Result<Self, String> {
        let https = uri
            .strip_prefix("webhook-")
            .filter(|u| u.starts_with("https://"))
            .ok_or("this sink requires https")?;
        let mut url = url::Url::parse(https).map_err(|e| format!("invalid sink URI: {e}"))?;
        let params: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let kept: Vec<&(String, String)> = params
            .iter()
            .filter(|(k, _)| !WEBHOOK_PARAMS.contains(&k.as_str()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut()
                .clear()
                .extend_pairs(kept.iter().map(|(k, v)| (k, v)));
        }
        tenantry_backup::install_tls_provider();
        let mut builder = reqwest::Client::builder()
            .tls_backend_rustls()
            .timeout(options.webhook_client_timeout)
            .connect_timeout(options.webhook_client_timeout)
            // The endpoint is the one named; a redirect elsewhere is not followed.
            .redirect(reqwest::redirect::Policy::none());
        match get("insecure_tls_skip_verify").as_deref() {
            None | Some("false") => {}
            Some("true") => builder = builder.tls_danger_accept_invalid_certs(true),
            Some(v) => {
                return Err(format!(
                    "param insecure_tls_skip_verify must be a bool: {v}"
                ))
            }
        }
        if let Some(ca) = get("ca_cert") {
            use base64::Engine;
            let pem = base64::engine::general_purpose::STANDARD
                .decode(ca.trim())
                .map_err(|e| format!("param ca_cert must be base 64 encoded: {e}"))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| format!("could not parse ca_cert: {e}"))?;
            builder = builder.add_root_certificate(cert);
        }
        if get("client_cert").is_some() || get("client_key").is_some() {
            return Err("client_cert and client_key are not supported by this server".into());
        }
        let client = builder
            .build()
            .map_err(|e| format!("could not make the webhook client: {e}"))?;
        Ok(Self {
            client,
            url: url.to_string(),
            auth: options.webhook_auth_header.clone(),
            config: options.webhook.clone(),
            runtime,
            buffer: Vec::new(),
            bytes: 0,
            oldest: None,
            errors: std::cell::Cell::new(0),
        })
    }

    /// POSTs one body, retrying as configured; the job's cancel ends any wait at once.
    fn post(&self, body: String, ctx: &JobContext) -> Result<(), JobError> {
        let mut backoff = self.config.backoff;
        let mut attempt = 0u32;
        loop {
            let mut request = self
                .client
                .post(&self.url)
                .header("Content-Type", "application/json")
                .body(body.clone());
            if let Some(auth) = &self.auth {
                request = request.header("Authorization", auth);
            }
            let token = ctx.token();
            let outcome = self.runtime.block_on(async {
                tokio::select! {
                    sent = request.send() => Some(sent),
                    () = token.cancelled() => None,
                }
            });
            let error = match outcome {
                None => return Err(JobError::Interrupted),
                Some(Ok(resp)) if resp.status().is_success() => return Ok(()),
                Some(Ok(resp)) => {
                    let status = resp.status();
                    let text = self
                        .runtime
                        .block_on(async {
                            tokio::time::timeout(Duration::from_secs(1), resp.text()).await
                        })
                        .ok()
                        .and_then(Result::ok)
                        .unwrap_or_default();
                    let text: String = text.chars().take(256).collect();
                    format!("{status}: {text}")
                }
                Some(Err(e)) => format!("webhook request failed: {e}"),
            };
            attempt += 1;
            self.errors.set(self.errors.get() + 1);
            ctx.set_detail("sink_errors", self.errors.get());
            if self.config.retry_max.is_some_and(|max| attempt > max) {
                return Err(JobError::Retryable(error));
            }
            tracing::warn!(job_id = ctx.job_id(), attempt, %error, "webhook sink retrying");
            let until = Instant::now() + backoff;
            while Instant::now() < until {
                ctx.check()?;
                std::thread::sleep(Duration::from_millis(5).min(until - Instant::now()));
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

impl Sink for Webhook {
    fn emit(&mut self, _table: &str, value: String, _ts: Hlc) {
        self.bytes += value.len();
        self.buffer.push(value);
        self.oldest.get_or_insert_with(Instant::now);
    }

    fn wants_flush(&self) -> bool {
        if self.buffer.is_empty() {
            return false;
        }
        let c = &self.config;
        if c.flush_messages == 0 && c.flush_bytes == 0 && c.flush_frequency.is_zero() {
            return true;
        }
        (c.flush_messages > 0 && self.buffer.len() >= c.flush_messages)
            || (c.flush_bytes > 0 && self.bytes >= c.flush_bytes)
            || (!c.flush_frequency.is_zero()
                && self
                    .oldest
                    .is_some_and(|t| t.elapsed() >= c.flush_frequency))
    }

    fn flush(&mut self, ctx: &JobContext) -> Result<(), JobError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        // All zero: one message per request, as CockroachDB's default.
        let c = &self.config;
        let per_request =
            if c.flush_messages == 0 && c.flush_bytes == 0 && c.flush_frequency.is_zero() {
                1
            } else if c.flush_messages > 0 {
                c.flush_messages
            } else {
                self.buffer.len()
            };
        let messages = std::mem::take(&mut self.buffer);
        self.bytes = 0;
        self.oldest = None;
        let mut rest = messages.as_slice();
        while !rest.is_empty() {
            let n = per_request.min(rest.len());
            let (batch, after) = rest.split_at(n);
            let body = format!(
                "{{\"payload\":[{}],\"length\":{}}}",
                batch.join(","),
                batch.len()
            );
            // Nothing after a failed batch is sent (per-key order): the feed restarts from its checkpoint.
            self.post(body, ctx)?;
            ctx.add_bytes_moved(batch.iter().map(|m| m.len() as u64).sum());
            rest = after;
        }
        Ok(())
    }

    fn resolved(&mut self, message: String, _ts: Hlc, ctx: &JobContext) -> Result<(), JobError> {
        self.post(message, ctx)
    }

    fn buffered_bytes(&self) -> usize {
        self.bytes
    }
}

/// Files in a directory of the tenant's part of the external-IO directory, named as CockroachDB's cloud
/// storage sink names them.
pub struct Files {
    dir: PathBuf,
    session: String,
    file_id: u64,
    file_size: u64,
    partition: PartitionFormat,
    compression: Compression,
    /// Per table: the buffered lines and the timestamp of the first (the file's lower bound).
    buffers: std::collections::BTreeMap<String, (Vec<u8>, Hlc)>,
    bytes: usize,
}

impl Files {
    /// A sink writing under `dir` (resolved and checked by the caller; created here if missing).
    pub fn open(dir: PathBuf, options: &FeedOptions) -> Result<Self, String> {
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        Ok(Self {
            dir,
            // A fresh id per run keeps a restarted feed's files from replacing earlier ones.
            session: format!("{:016x}", rand::random::<u64>()),
            file_id: 0,
            file_size: options.file_size,
            partition: options.partition_format,
            compression: options.compression,
            buffers: Default::default(),
            bytes: 0,
        })
    }

    fn partition_dir(&self, ts: Hlc) -> PathBuf {
        let t = utc(ts);
        match self.partition {
            PartitionFormat::Daily => self.dir.join(t.format("%Y-%m-%d").to_string()),
            PartitionFormat::Hourly => self
                .dir
                .join(t.format("%Y-%m-%d").to_string())
                .join(t.format("%H").to_string()),
            PartitionFormat::Flat => self.dir.clone(),
        }
    }

    fn write_file(&self, dir: &Path, name: &str, bytes: &[u8]) -> Result<(), JobError> {
        let io = |e: std::io::Error| JobError::Retryable(format!("writing {name}: {e}"));
        std::fs::create_dir_all(dir).map_err(io)?;
        // Written whole under a hidden name, synced, then renamed: a reader never sees part of a file.
        let partial = dir.join(format!(".{name}.partial"));
        let mut f = std::fs::File::create(&partial).map_err(io)?;
        f.write_all(bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&partial, dir.join(name)).map_err(io)?;
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
        Ok(())
    }

    fn compress(&self, bytes: Vec<u8>) -> Result<(Vec<u8>, &'static str), JobError> {
        let err = |e: std::io::Error| JobError::Retryable(format!("compressing a file: {e}"));
        match self.compression {
            Compression::None => Ok((bytes, "")),
            Compression::Gzip => {
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                enc.write_all(&bytes).map_err(err)?;
                Ok((enc.finish().map_err(err)?, ".gz"))
            }
            Compression::Zstd => Ok((zstd::encode_all(bytes.as_slice(), 3).map_err(err)?, ".zst")),
        }
    }
}

/// `YYYYMMDDHHMMSS` + 9 digits of nanoseconds + 10 digits of logical time: the 33-character timestamp of
/// CockroachDB's file names.
pub fn file_timestamp(ts: Hlc) -> String {
    let t = utc(ts);
    format!(
        "{}{:09}{:010}",
        t.format("%Y%m%d%H%M%S"),
        ts.wall.rem_euclid(1_000_000_000),
        ts.logical
    )
}

fn utc(ts: Hlc) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(
        ts.wall.div_euclid(1_000_000_000),
        ts.wall.rem_euclid(1_000_000_000) as u32,
    )
    .unwrap_or_default()
}

impl Sink for Files {
    fn emit(&mut self, table: &str, value: String, ts: Hlc) {
        let entry = self
            .buffers
            .entry(table.to_string())
            .or_insert_with(|| (Vec::new(), ts));
        entry.0.extend_from_slice(value.as_bytes());
        entry.0.push(b'\n');
        self.bytes += value.len() + 1;
    }

    fn wants_flush(&self) -> bool {
        self.buffers
            .values()
            .any(|(b, _)| b.len() as u64 >= self.file_size)
    }

    fn flush(&mut self, ctx: &JobContext) -> Result<(), JobError> {
        let buffers = std::mem::take(&mut self.buffers);
        self.bytes = 0;
        for (table, (lines, first)) in buffers {
            ctx.check()?;
            let moved = lines.len() as u64;
            let (bytes, ext) = self.compress(lines)?;
            let name = format!(
                "{}-{}-1-0-{:08x}-{}-1.ndjson{ext}",
                file_timestamp(first),
                self.session,
                self.file_id,
                sanitize(&table),
            );
            self.file_id += 1;
            let dir = self.partition_dir(first);
            self.write_file(&dir, &name, &bytes)?;
            ctx.add_bytes_moved(moved);
        }
        Ok(())
    }

    fn resolved(&mut self, message: String, ts: Hlc, _ctx: &JobContext) -> Result<(), JobError> {
        let dir = self.partition_dir(ts);
        self.write_file(
            &dir,
            &format!("{}.RESOLVED", file_timestamp(ts)),
            message.as_bytes(),
        )
    }

    fn buffered_bytes(&self) -> usize {
        self.bytes
    }
}

/// A table name as a file name part: path separators and dots cannot split or hide the name.
fn sanitize(table: &str) -> String {
    table
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c == '\0' {
                '_'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_cockroach() {
        let ts = Hlc {
            wall: 1_585_861_087_210_714_000,
            logical: 0,
        };
        assert_eq!(file_timestamp(ts), "202004022058072107140000000000000");
        assert_eq!(file_timestamp(ts).len(), 33);
        assert_eq!(sanitize("a/b"), "a_b");
    }
}
