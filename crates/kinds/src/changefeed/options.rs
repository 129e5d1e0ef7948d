//! A changefeed's `WITH` options: parsed and checked in one place, from the list as written, so the statement
//! refuses bad ones before a job exists and the job reads the same list again when it runs (or after ALTER).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One option as written: its lower-case name and its value, if it has one.
pub type RawOption = (String, Option<String>);

/// Where a feed delivers, by the sink URI's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SinkKind {
    /// `webhook-https://`: JSON batches POSTed to an HTTPS endpoint.
    Webhook,
    /// `file://` / `nodelocal://`: files in the tenant's part of the external-IO directory.
    Files,
    /// No INTO: rows streamed to the client that ran the statement.
    Sinkless,
}

impl SinkKind {
    /// The kind of sink `uri` names, or CockroachDB-style text saying why it cannot be used.
    pub fn of(uri: Option<&str>) -> Result<Self, String> {
        let Some(uri) = uri else {
            return Ok(Self::Sinkless);
        };
        if uri.is_empty() {
            return Err("omit the SINK clause for inline results".into());
        }
        let scheme = uri.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("webhook-https") => Ok(Self::Webhook),
            Some("webhook-http") => Err("this sink requires https".into()),
            Some("file" | "nodelocal") => Ok(Self::Files),
            Some(
                s @ ("kafka" | "confluent-cloud" | "gcpubsub" | "s3" | "gs" | "azure"
                | "azure-blob" | "http" | "https" | "external" | "null"),
            ) => Err(format!(
                "{s}:// sinks are not supported by this server (use webhook-https://, file:// or nodelocal://)"
            )),
            _ => Err(format!("unsupported sink: {}", scheme.unwrap_or_default())),
        }
    }
}

/// `envelope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// `{"after": ..., ...}` (the default).
    Wrapped,
    /// The row's columns at the top level, metadata under `__crdb__`.
    Bare,
    /// The key only.
    KeyOnly,
    /// The row's columns only.
    Row,
}

/// `format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON (the default).
    Json,
    /// CSV (only with `initial_scan = 'only'`).
    Csv,
}

/// `initial_scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitialScan {
    /// Scan the tables first, then stream changes.
    Yes,
    /// Stream changes only.
    No,
    /// Scan, then finish.
    Only,
}

/// `on_error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// A terminal error fails the feed.
    Fail,
    /// A terminal error pauses it.
    Pause,
}

/// `schema_change_policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaChangePolicy {
    /// Re-emit the table's rows in their new shape.
    Backfill,
    /// Go on with the new shape, re-emitting nothing.
    NoBackfill,
    /// End the feed at the change.
    Stop,
}

/// `partition_format` of file sinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionFormat {
    /// `2006-01-02/` (the default).
    Daily,
    /// `2006-01-02/15/`.
    Hourly,
    /// No directory.
    Flat,
}

/// `compression` of file sinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain `.ndjson`.
    None,
    /// `.ndjson.gz`.
    Gzip,
    /// `.ndjson.zst`.
    Zstd,
}

/// `webhook_sink_config`: `{"Flush": {"Messages", "Bytes", "Frequency"}, "Retry": {"Max", "Backoff"}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookConfig {
    /// Flush once this many messages are buffered (0: no count bound).
    pub flush_messages: usize,
    /// Flush once this many bytes are buffered (0: no size bound).
    pub flush_bytes: usize,
    /// Flush buffered messages at least this often (zero: only by count or size).
    pub flush_frequency: Duration,
    /// Retries of a failed request before the feed restarts from its checkpoint (`None`: forever).
    pub retry_max: Option<u32>,
    /// The first retry's wait; it doubles up to 30 s.
    pub backoff: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            flush_messages: 0,
            flush_bytes: 0,
            flush_frequency: Duration::ZERO,
            retry_max: Some(3),
            backoff: Duration::from_millis(500),
        }
    }
}

/// Every option, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedOptions {
    /// `updated`.
    pub updated: bool,
    /// `resolved[='d']`: `Some(ZERO)` = whenever the high-water mark advances.
    pub resolved: Option<Duration>,
    /// `diff`.
    pub diff: bool,
    /// `envelope`.
    pub envelope: Envelope,
    /// `format`.
    pub format: Format,
    /// `initial_scan`.
    pub initial_scan: InitialScan,
    /// `cursor`: start strictly after this time.
    pub cursor: Option<super::Hlc>,
    /// `end_time`: emit up to this time, then finish.
    pub end_time: Option<super::Hlc>,
    /// `min_checkpoint_frequency`.
    pub min_checkpoint_frequency: Duration,
    /// `mvcc_timestamp`.
    pub mvcc_timestamp: bool,
    /// `key_in_value` (forced on for webhook and file sinks).
    pub key_in_value: bool,
    /// `topic_in_value` (forced on for webhook sinks).
    pub topic_in_value: bool,
    /// `on_error`.
    pub on_error: OnError,
    /// `schema_change_policy`.
    pub schema_change_policy: SchemaChangePolicy,
    /// `webhook_sink_config`.
    pub webhook: WebhookConfig,
    /// `webhook_auth_header`: the `Authorization` header's value.
    pub webhook_auth_header: Option<String>,
    /// `webhook_client_timeout`.
    pub webhook_client_timeout: Duration,
    /// `file_size`: a file sink starts a new file past this many bytes.
    pub file_size: u64,
    /// `partition_format`.
    pub partition_format: PartitionFormat,
    /// `compression`.
    pub compression: Compression,
}

/// The default `min_checkpoint_frequency` (CockroachDB's).
pub const DEFAULT_CHECKPOINT_FREQUENCY: Duration = Duration::from_secs(30);

impl FeedOptions {
    /// Parses and checks `raw` for a feed into `sink`. The error is the text CockroachDB gives (SQLSTATE 22023).
    pub fn parse(raw: &[RawOption], sink: SinkKind) -> Result<Self, String> {
        let mut o = FeedOptions {
            updated: false,
            resolved: None,
            diff: false,
            envelope: Envelope::Wrapped,
            format: Format::Json,
            initial_scan: InitialScan::Yes,
            cursor: None,
            end_time: None,
            min_checkpoint_frequency: DEFAULT_CHECKPOINT_FREQUENCY,
            mvcc_timestamp: false,
            key_in_value: false,
            topic_in_value: false,
            on_error: OnError::Fail,
            schema_change_policy: SchemaChangePolicy::Backfill,
            webhook: WebhookConfig::default(),
            webhook_auth_header: None,
            webhook_client_timeout: Duration::from_secs(3),
            file_size: 16 << 20,
            partition_format: PartitionFormat::Daily,
            compression: Compression::None,
        };
        let mut seen = std::collections::HashSet::new();
        let mut initial_scan_given = false;
        for (name, value) in raw {
            if !seen.insert(name.as_str()) {
                return Err(format!("option \"{name}\" specified more than once"));
            }
            let flag = |o: &mut bool| match value {
                None => {
                    *o = true;
                    Ok(())
                }
                Some(_) => Err(format!("option \"{name}\" does not take a value")),
            };
            let text = || {
                value
                    .clone()
                    .ok_or_else(|| format!("option \"{name}\" requires a value"))
            };
            match name.as_str() {
                "updated" => flag(&mut o.updated)?,
                "diff" => flag(&mut o.diff)?,
                "mvcc_timestamp" => flag(&mut o.mvcc_timestamp)?,
                "key_in_value" => flag(&mut o.key_in_value)?,
                "topic_in_value" => flag(&mut o.topic_in_value)?,
                "resolved" => {
                    o.resolved = Some(match value {
                        None => Duration::ZERO,
                        Some(v) => duration(name, v)?,
                    })
                }
                "envelope" => {
                    let v = text()?;
                    o.envelope = match v.to_ascii_lowercase().as_str() {
                        "wrapped" => Envelope::Wrapped,
                        "bare" => Envelope::Bare,
                        "key_only" => Envelope::KeyOnly,
                        "row" => Envelope::Row,
                        _ => return Err(format!("unknown envelope: {v}")),
                    }
                }
                "format" => {
                    let v = text()?;
                    o.format = match v.to_ascii_lowercase().as_str() {
                        "json" => Format::Json,
                        "csv" => Format::Csv,
                        "avro" | "experimental_avro" | "parquet" => {
                            return Err(format!("format={v} is not supported by this server"))
                        }
                        _ => return Err(format!("unknown format: {v}")),
                    }
                }
                "initial_scan" => {
                    initial_scan_given = true;
                    o.initial_scan = match value.as_deref().map(str::to_ascii_lowercase).as_deref()
                    {
                        None | Some("yes") => InitialScan::Yes,
                        Some("no") => InitialScan::No,
                        Some("only") => InitialScan::Only,
                        Some(_) => {
                            return Err(format!(
                                "unknown initial_scan: {}; valid values are 'yes', 'no' and 'only'",
                                value.as_deref().unwrap_or("")
                            ))
                        }
                    }
                }
                "no_initial_scan" | "initial_scan_only" => {
                    if value.is_some() {
                        return Err(format!("option \"{name}\" does not take a value"));
                    }
                    initial_scan_given = true;
                    o.initial_scan = if name == "no_initial_scan" {
                        InitialScan::No
                    } else {
                        InitialScan::Only
                    };
                }
                "cursor" => {
                    let v = text()?;
                    o.cursor = Some(super::Hlc::parse(&v).ok_or_else(|| {
                        format!("could not parse \"{v}\" as a timestamp for cursor")
                    })?)
                }
                "end_time" => {
                    let v = text()?;
                    o.end_time = Some(super::Hlc::parse(&v).ok_or_else(|| {
                        format!("could not parse \"{v}\" as a timestamp for end_time")
                    })?)
                }
                "min_checkpoint_frequency" => {
                    o.min_checkpoint_frequency = duration(name, &text()?)?
                }
                "on_error" => {
                    let v = text()?;
                    o.on_error = match v.to_ascii_lowercase().as_str() {
                        "fail" => OnError::Fail,
                        "pause" => OnError::Pause,
                        _ => {
                            return Err(format!(
                                "unknown on_error: {v}, valid values are 'pause' and 'fail'"
                            ))
                        }
                    }
                }
                "schema_change_policy" => {
                    let v = text()?;
                    o.schema_change_policy = match v.to_ascii_lowercase().as_str() {
                        "backfill" => SchemaChangePolicy::Backfill,
                        "nobackfill" => SchemaChangePolicy::NoBackfill,
                        "stop" => SchemaChangePolicy::Stop,
                        _ => return Err(format!("unknown schema_change_policy: {v}")),
                    }
                }
                "webhook_sink_config" => o.webhook = webhook_config(&text()?)?,
                "webhook_auth_header" => o.webhook_auth_header = Some(text()?),
                "webhook_client_timeout" => {
                    o.webhook_client_timeout = duration(name, &text()?)?;
                    if o.webhook_client_timeout.is_zero() {
                        return Err(
                            "option \"webhook_client_timeout\" must be greater than zero".into(),
                        );
                    }
                }
                "file_size" => o.file_size = byte_size(name, &text()?)?,
                "partition_format" => {
                    let v = text()?;
                    o.partition_format = match v.to_ascii_lowercase().as_str() {
                        "daily" => PartitionFormat::Daily,
                        "hourly" => PartitionFormat::Hourly,
                        "flat" => PartitionFormat::Flat,
                        _ => return Err(format!("invalid partition_format '{v}'")),
                    }
                }
                "compression" => {
                    let v = text()?;
                    o.compression = match v.to_ascii_lowercase().as_str() {
                        "gzip" => Compression::Gzip,
                        "zstd" => Compression::Zstd,
                        _ => return Err(format!("unsupported compression codec \"{v}\"")),
                    }
                }
                _ => return Err(format!("invalid option \"{name}\"")),
            }
        }
        if o.cursor.is_some() && !initial_scan_given {
            o.initial_scan = InitialScan::No;
        }
        o.check(sink)?;
        Ok(o)
    }

    /// The rules between options, and between options and the sink.
    fn check(&mut self, sink: SinkKind) -> Result<(), String> {
        if self.diff && self.envelope != Envelope::Wrapped {
            return Err(format!(
                "diff is only usable with envelope=wrapped, not envelope={}",
                self.envelope_name()
            ));
        }
        if self.format == Format::Csv {
            if self.initial_scan != InitialScan::Only {
                return Err("format=csv is only usable with initial_scan_only".into());
            }
            if self.diff || self.resolved.is_some() {
                return Err("format=csv does not support the diff or resolved options".into());
            }
        }
        if self.end_time.is_some() && self.initial_scan == InitialScan::Only {
            return Err("cannot specify both initial_scan='only' and end_time".into());
        }
        if let (Some(cursor), Some(end)) = (self.cursor, self.end_time) {
            if end <= cursor {
                return Err("specified end time is before the cursor".into());
            }
        }
        match sink {
            SinkKind::Webhook | SinkKind::Files => {
                if matches!(self.envelope, Envelope::KeyOnly | Envelope::Row) {
                    return Err(format!(
                        "this sink is incompatible with envelope={}",
                        self.envelope_name()
                    ));
                }
                // Sinks without message keys carry the key (and, for webhooks, the table) in the value.
                self.key_in_value = true;
                if sink == SinkKind::Webhook {
                    self.topic_in_value = true;
                    if self.format == Format::Csv {
                        return Err("this sink is incompatible with format=csv".into());
                    }
                }
            }
            SinkKind::Sinkless => {}
        }
        if sink != SinkKind::Webhook
            && (self.webhook_auth_header.is_some() || self.webhook != WebhookConfig::default())
        {
            return Err("webhook options are only usable with webhook-https:// sinks".into());
        }
        Ok(())
    }

    fn envelope_name(&self) -> &'static str {
        match self.envelope {
            Envelope::Wrapped => "wrapped",
            Envelope::Bare => "bare",
            Envelope::KeyOnly => "key_only",
            Envelope::Row => "row",
        }
    }
}

/// A Go-style duration: `10s`, `500ms`, `1m30s`, `1h`, `250us`, `0`.
pub fn duration(option: &str, text: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration \"{text}\" for option \"{option}\"");
    let s = text.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let (number, after) = rest.split_at(digits);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let n: f64 = number.parse().map_err(|_| bad())?;
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        let secs = n * scale;
        if !secs.is_finite() || secs > 1e9 {
            return Err(bad());
        }
        total += Duration::from_secs_f64(secs);
        rest = next;
    }
    Ok(total)
}

/// A byte size: `16MB`, `1KiB`, `1048576`.
fn byte_size(option: &str, text: &str) -> Result<u64, String> {
    let bad = || format!("invalid size \"{text}\" for option \"{option}\"");
    let s = text.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: u64 = number.parse().map_err(|_| bad())?;
    let scale: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(bad()),
    };
    let size = n.checked_mul(scale).ok_or_else(bad)?;
    if size == 0 {
        return Err(bad());
    }
    Ok(size)
}

/// Parses `webhook_sink_config`.
fn webhook_config(text: &str) -> Result<WebhookConfig, String> {
    let bad = |why: &str| format!("error unmarshalling webhook_sink_config: {why}");
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
    let mut c = WebhookConfig::default();
    let obj = v.as_object().ok_or_else(|| bad("not a JSON object"))?;
    for (k, section) in obj {
        let section = section
            .as_object()
            .ok_or_else(|| bad(&format!("{k} is not an object")))?;
        for (field, value) in section {
            let count = || {
                value
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| bad(&format!("{k}.{field} is not a count")))
            };
            let dur = || {
                value
                    .as_str()
                    .ok_or_else(|| bad(&format!("{k}.{field} is not a duration string")))
                    .and_then(|s| duration("webhook_sink_config", s))
            };
            match (k.as_str(), field.as_str()) {
                ("Flush", "Messages") => c.flush_messages = count()?,
                ("Flush", "Bytes") => c.flush_bytes = count()?,
                ("Flush", "Frequency") => c.flush_frequency = dur()?,
                ("Retry", "Max") => {
                    c.retry_max = match value {
                        serde_json::Value::String(s) if s.eq_ignore_ascii_case("inf") => None,
                        _ => Some(
                            u32::try_from(count()?).map_err(|_| bad("Retry.Max is too large"))?,
                        ),
                    }
                }
                ("Retry", "Backoff") => c.backoff = dur()?,
                _ => return Err(bad(&format!("unknown field {k}.{field}"))),
            }
        }
    }
    if (c.flush_messages > 0 || c.flush_bytes > 0) && c.flush_frequency.is_zero() {
        return Err(
            "invalid sink config, Flush.Frequency is not set, messages may never be sent".into(),
        );
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[(&str, Option<&str>)]) -> Vec<RawOption> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect()
    }

    #[test]
    fn defaults_and_sink_rules() {
        let o = FeedOptions::parse(&[], SinkKind::Webhook).unwrap();
        assert!(o.key_in_value && o.topic_in_value);
        assert_eq!(o.envelope, Envelope::Wrapped);
        assert_eq!(o.initial_scan, InitialScan::Yes);
        let o = FeedOptions::parse(&opts(&[("cursor", Some("5.0000000000"))]), SinkKind::Files)
            .unwrap();
        assert_eq!(o.initial_scan, InitialScan::No);
        assert!(o.key_in_value && !o.topic_in_value);
        let o = FeedOptions::parse(
            &opts(&[
                ("resolved", Some("10s")),
                ("min_checkpoint_frequency", Some("1m30s")),
            ]),
            SinkKind::Sinkless,
        )
        .unwrap();
        assert_eq!(o.resolved, Some(Duration::from_secs(10)));
        assert_eq!(o.min_checkpoint_frequency, Duration::from_secs(90));
    }

    #[test]
    fn refuses_what_cockroach_refuses() {
        for (list, sink, want) in [
            (
                vec![("bogus", None)],
                SinkKind::Files,
                "invalid option \"bogus\"",
            ),
            (
                vec![("envelope", Some("weird"))],
                SinkKind::Files,
                "unknown envelope: weird",
            ),
            (
                vec![("diff", None), ("envelope", Some("bare"))],
                SinkKind::Files,
                "diff is only usable",
            ),
            (
                vec![("envelope", Some("key_only"))],
                SinkKind::Webhook,
                "incompatible with envelope=key_only",
            ),
            (
                vec![("format", Some("csv"))],
                SinkKind::Files,
                "only usable with initial_scan_only",
            ),
            (
                vec![("resolved", Some("soon"))],
                SinkKind::Files,
                "invalid duration",
            ),
            (
                vec![("updated", Some("x"))],
                SinkKind::Files,
                "does not take a value",
            ),
            (
                vec![("updated", None), ("updated", None)],
                SinkKind::Files,
                "more than once",
            ),
            (
                vec![("webhook_sink_config", Some(r#"{"Flush":{"Messages":10}}"#))],
                SinkKind::Webhook,
                "Frequency is not set",
            ),
            (
                vec![("webhook_auth_header", Some("Basic x"))],
                SinkKind::Files,
                "only usable with webhook",
            ),
            (
                vec![("initial_scan", Some("only")), ("end_time", Some("9"))],
                SinkKind::Files,
                "both initial_scan='only' and end_time",
            ),
            (
                vec![("file_size", Some("0"))],
                SinkKind::Files,
                "invalid size",
            ),
        ] {
            let list: Vec<(&str, Option<&str>)> = list;
            let err = FeedOptions::parse(&opts(&list), sink).unwrap_err();
            assert!(err.contains(want), "{list:?}: {err}");
        }
        assert!(SinkKind::of(Some("kafka://k:9092"))
            .unwrap_err()
            .contains("kafka:// sinks are not supported"));
        assert_eq!(
            SinkKind::of(Some("")).unwrap_err(),
            "omit the SINK clause for inline results"
        );
        assert_eq!(
            SinkKind::of(Some("webhook-http://x")).unwrap_err(),
            "this sink requires https"
        );
    }

    #[test]
    fn webhook_config_reads_cockroach_json() {
        let c = webhook_config(
            r#"{"Flush":{"Messages":100,"Bytes":0,"Frequency":"1s"},"Retry":{"Max":"inf","Backoff":"100ms"}}"#,
        )
        .unwrap();
        assert_eq!(c.flush_messages, 100);
        assert_eq!(c.flush_frequency, Duration::from_secs(1));
        assert_eq!(c.retry_max, None);
        assert_eq!(c.backoff, Duration::from_millis(100));
    }
}
