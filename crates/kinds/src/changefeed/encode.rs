//! Changefeed messages, as CockroachDB's encoders write them (`changefeeds.md` §3): keys are JSON arrays of
//! the primary key; values are wrapped (`{"after": ...}`), bare (`__crdb__` metadata) or rows; object keys are
//! sorted bytewise, as CockroachDB's JSONB values print.

use serde_json::Value;

use super::options::{Envelope, FeedOptions, Format};
use super::Hlc;

/// One change (or initial-scan row) to encode.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    /// The table (the topic).
    pub table: &'a str,
    /// The primary key as a JSON array.
    pub key: &'a str,
    /// The row after the change (a JSON object), `None` for a delete.
    pub after: Option<&'a str>,
    /// The row before it, `None` for an insert (or when unknown, as in an initial scan).
    pub before: Option<&'a str>,
    /// Its timestamp (`updated`, `mvcc_timestamp`).
    pub ts: Hlc,
}

/// How values are spelled: CockroachDB's JSONB print (`", "` and `": "`, in files and sinkless rows) or
/// compact (Go's encoder, in webhook batches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spacing {
    /// `{"a": 1, "b": 2}`.
    Jsonb,
    /// `{"a":1,"b":2}`.
    Compact,
}

/// Encodes messages for one feed.
#[derive(Debug, Clone)]
pub struct Encoder {
    envelope: Envelope,
    format: Format,
    updated: bool,
    diff: bool,
    mvcc_timestamp: bool,
    key_in_value: bool,
    topic_in_value: bool,
    spacing: Spacing,
}

fn parse(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("a captured row is not JSON: {e}"))
}

impl Encoder {
    /// An encoder for `options`, spelling values with `spacing`.
    pub fn new(options: &FeedOptions, spacing: Spacing) -> Self {
        Self {
            envelope: options.envelope,
            format: options.format,
            updated: options.updated,
            diff: options.diff,
            mvcc_timestamp: options.mvcc_timestamp,
            key_in_value: options.key_in_value,
            topic_in_value: options.topic_in_value,
            spacing,
        }
    }

    /// The message's key: the primary key's JSON array.
    pub fn key(&self, event: &Event<'_>) -> Result<String, String> {
        Ok(write(&parse(event.key)?, self.spacing))
    }

    /// The message's value (`None`: the envelope has none, as key_only, or a delete with envelope=row).
    /// `columns` orders a CSV row's fields.
    pub fn value(&self, event: &Event<'_>, columns: &[String]) -> Result<Option<String>, String> {
        if self.format == Format::Csv {
            return self.csv(event, columns).map(Some);
        }
        if self.envelope == Envelope::Wrapped {
            return Ok(Some(self.wrapped(event)));
        }
        let after = event.after.map(parse).transpose()?;
        let ts = Value::String(event.ts.to_string());
        let mut meta = serde_json::Map::new();
        if self.key_in_value {
            meta.insert("key".into(), parse(event.key)?);
        }
        if self.topic_in_value {
            meta.insert("topic".into(), Value::String(event.table.to_string()));
        }
        if self.updated {
            meta.insert("updated".into(), ts.clone());
        }
        if self.mvcc_timestamp {
            meta.insert("mvcc_timestamp".into(), ts);
        }
        let value = match self.envelope {
            Envelope::KeyOnly => return Ok(None),
            Envelope::Row => match after {
                None => return Ok(None),
                Some(row) => row,
            },
            Envelope::Wrapped => {
                let mut v = meta;
                v.insert("after".into(), after.unwrap_or(Value::Null));
                if self.diff {
                    let before = event.before.map(parse).transpose()?;
                    v.insert("before".into(), before.unwrap_or(Value::Null));
                }
                Value::Object(v)
            }
            Envelope::Bare => {
                let mut v = match after {
                    Some(Value::Object(row)) => row,
                    _ => serde_json::Map::new(),
                };
                v.insert("__crdb__".into(), Value::Object(meta));
                Value::Object(v)
            }
        };
        Ok(Some(write(&value, self.spacing)))
    }

    /// A wrapped value put together from the stored text: the rows and the key are JSON that SQLite wrote with
    /// the columns already in bytewise order (see `capture.rs`), and the envelope's own keys are written in
    /// theirs (`after`, `before`, `key`, `mvcc_timestamp`, `topic`, `updated`), so nothing is parsed.
    fn wrapped(&self, event: &Event<'_>) -> String {
        let (comma, colon) = match self.spacing {
            Spacing::Jsonb => (", ", ": "),
            Spacing::Compact => (",", ":"),
        };
        let mut out =
            String::with_capacity(64 + event.after.map_or(4, str::len) * 2 + event.key.len());
        let mut first = true;
        let mut field = |out: &mut String, name: &str| {
            if !first {
                out.push_str(comma);
            }
            first = false;
            out.push('"');
            out.push_str(name);
            out.push('"');
            out.push_str(colon);
        };
        out.push('{');
        field(&mut out, "after");
        self.json(&mut out, event.after);
        if self.diff {
            field(&mut out, "before");
            self.json(&mut out, event.before);
        }
        if self.key_in_value {
            field(&mut out, "key");
            self.json(&mut out, Some(event.key));
        }
        let ts = event.ts.to_string();
        if self.mvcc_timestamp {
            field(&mut out, "mvcc_timestamp");
            out.push('"');
            out.push_str(&ts);
            out.push('"');
        }
        if self.topic_in_value {
            field(&mut out, "topic");
            out.push_str(&Value::String(event.table.to_string()).to_string());
        }
        if self.updated {
            field(&mut out, "updated");
            out.push('"');
            out.push_str(&ts);
            out.push('"');
        }
        out.push('}');
        out
    }

    /// Appends stored JSON text (`null` for none) in this encoder's spacing.
    fn json(&self, out: &mut String, text: Option<&str>) {
        match (text, self.spacing) {
            (None, _) => out.push_str("null"),
            (Some(t), Spacing::Compact) => out.push_str(t),
            (Some(t), Spacing::Jsonb) => spaced(t, out),
        }
    }

    /// A resolved-timestamp message.
    pub fn resolved(&self, ts: Hlc) -> String {
        let inner = format!("{{\"resolved\":\"{ts}\"}}");
        match self.envelope {
            Envelope::Wrapped => inner,
            _ => format!("{{\"__crdb__\":{inner}}}"),
        }
    }

    fn csv(&self, event: &Event<'_>, columns: &[String]) -> Result<String, String> {
        let row = event.after.map(parse).transpose()?.unwrap_or(Value::Null);
        let mut out = csv::WriterBuilder::new()
            .has_headers(false)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        let fields: Vec<String> = columns
            .iter()
            .map(|c| match row.get(c) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
            })
            .collect();
        out.write_record(&fields).map_err(|e| e.to_string())?;
        let bytes = out.into_inner().map_err(|e| e.to_string())?;
        let mut text = String::from_utf8(bytes).map_err(|e| e.to_string())?;
        if text.ends_with('\n') {
            text.pop();
        }
        Ok(text)
    }
}

/// Copies compact JSON text with a space after every `:` and `,` outside strings (CockroachDB's JSONB print).
fn spaced(compact: &str, out: &mut String) {
    // `"`, `\\`, `:` and `,` are ASCII, and no byte of a multi-byte UTF-8 character is ASCII, so the text can be
    // walked by bytes and copied in runs between the separators.
    let bytes = compact.as_bytes();
    let mut in_string = false;
    let mut escaped = false;
    let mut copied = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if b == b':' || b == b',' {
            out.push_str(&compact[copied..=i]);
            out.push(' ');
            copied = i + 1;
        }
    }
    out.push_str(&compact[copied..]);
}

/// Writes `v` with object keys sorted bytewise.
pub fn write(v: &Value, spacing: Spacing) -> String {
    let mut out = String::new();
    write_into(v, spacing, &mut out);
    out
}

fn write_into(v: &Value, spacing: Spacing, out: &mut String) {
    let (comma, colon) = match spacing {
        Spacing::Jsonb => (", ", ": "),
        Spacing::Compact => (",", ":"),
    };
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(comma);
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push_str(colon);
                write_into(&map[k], spacing, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(comma);
                }
                write_into(item, spacing, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changefeed::options::{RawOption, SinkKind};

    fn encoder(opts: &[(&str, Option<&str>)], sink: SinkKind, spacing: Spacing) -> Encoder {
        let raw: Vec<RawOption> = opts
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect();
        Encoder::new(&FeedOptions::parse(&raw, sink).unwrap(), spacing)
    }

    const TS: Hlc = Hlc {
        wall: 1_701_102_296_662_969_433,
        logical: 0,
    };

    fn event<'a>(after: Option<&'a str>, before: Option<&'a str>) -> Event<'a> {
        Event {
            table: "users",
            key: "[1]",
            after,
            before,
            ts: TS,
        }
    }

    #[test]
    fn wrapped_values_as_cockroach_prints_them() {
        let e = encoder(&[("updated", None)], SinkKind::Files, Spacing::Jsonb);
        assert_eq!(
            e.value(&event(Some(r#"{"id":1,"name":"Terry"}"#), None), &[])
                .unwrap()
                .unwrap(),
            r#"{"after": {"id": 1, "name": "Terry"}, "key": [1], "updated": "1701102296662969433.0000000000"}"#
        );
        let e = encoder(&[("diff", None)], SinkKind::Webhook, Spacing::Compact);
        assert_eq!(
            e.value(&event(None, Some(r#"{"id":1}"#)), &[])
                .unwrap()
                .unwrap(),
            r#"{"after":null,"before":{"id":1},"key":[1],"topic":"users"}"#
        );
        assert_eq!(
            e.resolved(TS),
            r#"{"resolved":"1701102296662969433.0000000000"}"#
        );
    }

    #[test]
    fn spacing_leaves_strings_alone() {
        let mut out = String::new();
        spaced(r#"{"a":"x, y: \"z\"","b":[1,2]}"#, &mut out);
        assert_eq!(out, r#"{"a": "x, y: \"z\"", "b": [1, 2]}"#);
    }

    #[test]
    fn bare_row_key_only_and_csv() {
        let e = encoder(
            &[("envelope", Some("bare")), ("updated", None)],
            SinkKind::Sinkless,
            Spacing::Jsonb,
        );
        assert_eq!(
            e.value(&event(Some(r#"{"id":1,"city":"x"}"#), None), &[])
                .unwrap()
                .unwrap(),
            r#"{"__crdb__": {"updated": "1701102296662969433.0000000000"}, "city": "x", "id": 1}"#
        );
        assert_eq!(
            e.resolved(TS),
            r#"{"__crdb__":{"resolved":"1701102296662969433.0000000000"}}"#
        );
        let e = encoder(
            &[("envelope", Some("key_only"))],
            SinkKind::Sinkless,
            Spacing::Jsonb,
        );
        assert_eq!(e.value(&event(Some("{}"), None), &[]).unwrap(), None);
        assert_eq!(e.key(&event(None, None)).unwrap(), "[1]");
        let e = encoder(
            &[("envelope", Some("row"))],
            SinkKind::Sinkless,
            Spacing::Jsonb,
        );
        assert_eq!(e.value(&event(None, Some("{}")), &[]).unwrap(), None);
        let e = encoder(
            &[("format", Some("csv")), ("initial_scan", Some("only"))],
            SinkKind::Files,
            Spacing::Jsonb,
        );
        let cols = ["id".to_string(), "name".to_string(), "note".to_string()];
        assert_eq!(
            e.value(
                &event(Some(r#"{"id":1,"name":"a,b","note":null}"#), None),
                &cols
            )
            .unwrap()
            .unwrap(),
            r#"1,"a,b","#
        );
    }
}
