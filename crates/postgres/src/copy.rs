//! PostgreSQL's `COPY ... FROM STDIN` and `COPY ... TO STDOUT` over the copy sub-protocol.
//!
//! COPY FROM checks the table, its columns and the INSERT privilege before the client is asked for data
//! (CopyInResponse). The rows are then read, decoded and inserted on a blocking thread as the client sends
//! them, in bounded batches through the session's INSERT path, all inside one all-or-nothing statement:
//! a malformed row, a value that does not fit its column, a CopyFail or a cancel request leaves the table
//! as it was. COPY TO runs the SELECT (so the SELECT privilege applies) and streams its rows.

use std::io::{BufRead, Read};
use std::sync::Arc;

use bytes::Bytes;
use futures::{stream, Sink, SinkExt};
use pgwire::api::copy::CopyHandler;
use pgwire::api::results::{
    CopyCsvOptions, CopyEncoder, CopyResponse, CopyTextOptions, DataRowEncoder, FieldFormat,
    FieldInfo, Response, Tag,
};
use pgwire::api::{ClientInfo, Type};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::copy::{CopyData, CopyDone, CopyFail};
use pgwire::messages::data::DataRow;
use pgwire::messages::PgWireBackendMessage;
use tenantry_sql::parser::copy::{CopyData as Copied, CopyFormat, CopyStatement};
use tenantry_sql::{ColumnKind, Output, Session, SqlError, Value};
use tokio::sync::mpsc;

use crate::conn::ConnState;
use crate::results;
use crate::types::{decode_param, encode, pg_type};

/// The most values one INSERT of a COPY binds: batches are bounded by this and by [`MAX_BATCH_ROWS`].
const MAX_BATCH_VALUES: usize = 10_000;
/// The most rows one INSERT of a COPY carries.
const MAX_BATCH_ROWS: usize = 1_000;
/// How much CopyData is gathered before it is handed to the inserting thread.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks queued for the inserting thread before the connection stops reading the client.
const FEED_DEPTH: usize = 16;

/// A COPY FROM STDIN in progress on a connection.
pub(crate) struct ActiveCopy {
    /// The client's messages for the inserting thread.
    feed: mpsc::Sender<Chunk>,
    /// The inserting thread: the rows copied, or the error the COPY ends with.
    task: tokio::task::JoinHandle<Result<u64, CopyFailure>>,
    /// CopyData not handed over yet: clients send a message per row, so the thread gets them in chunks.
    pending: bytes::BytesMut,
}

/// The error a COPY ends with, as sent to the client.
#[derive(Debug)]
pub(crate) struct CopyFailure(Box<ErrorInfo>);

impl From<SqlError> for CopyFailure {
    fn from(e: SqlError) -> Self {
        CopyFailure(Box::new(results::error_info(&e)))
    }
}

impl CopyFailure {
    fn new(code: &str, message: String, context: Option<String>) -> Self {
        let mut info = ErrorInfo::new("ERROR".to_string(), code.to_string(), message);
        info.where_context = context;
        CopyFailure(Box::new(info))
    }

    fn into_pgwire(self) -> PgWireError {
        PgWireError::UserError(self.0)
    }
}

/// Runs a COPY statement's first step: the response that starts the copy (or its error).
pub(crate) async fn start(state: &Arc<ConnState>, sql: &str) -> PgWireResult<Response> {
    let stmt = match tenantry_sql::parser::copy::parse_copy(sql) {
        Ok(s) => s,
        Err(e) => return Ok(error_response(&SqlError::from(e))),
    };
    if stmt.format.csv && stmt.format.escape != stmt.format.quote {
        return Ok(error_response(&SqlError::Unsupported(
            "COPY's ESCAPE other than its QUOTE".into(),
        )));
    }
    if stmt.to_client {
        copy_out(state, stmt).await
    } else {
        copy_in(state, sql, stmt).await
    }
}

fn error_response(e: &SqlError) -> Response {
    Response::Error(Box::new(results::error_info(e)))
}

/// A table as the SQL layer names it: PostgreSQL's `public` schema is the current database.
fn table_sql(table: &[String]) -> String {
    let parts = match table {
        [schema, rest @ ..] if !rest.is_empty() && schema.eq_ignore_ascii_case("public") => rest,
        all => all,
    };
    parts.iter().map(|p| quote(p)).collect::<Vec<_>>().join(".")
}

fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// Runs a statement on a blocking thread.
async fn blocking<T: Send + 'static>(
    state: &ConnState,
    f: impl FnOnce(&mut Session) -> Result<T, SqlError> + Send + 'static,
) -> Result<T, SqlError> {
    let session = state.session()?;
    tokio::task::spawn_blocking(move || f(&mut session.lock()))
        .await
        .unwrap_or_else(|e| Err(SqlError::Internal(format!("COPY task failed: {e}"))))
}

/// What COPY FROM needs to insert rows.
struct Target {
    /// The table as written in the COPY (for error contexts).
    name: String,
    /// The INSERT head: `INSERT INTO t (a, b) VALUES `.
    insert_head: String,
    /// The columns, in field order.
    columns: Vec<String>,
    /// The kind of each column (its values are decoded and fitted to it).
    kinds: Vec<Option<ColumnKind>>,
}

async fn copy_in(state: &Arc<ConnState>, sql: &str, stmt: CopyStatement) -> PgWireResult<Response> {
    let Copied::Table { table, columns } = stmt.data else {
        return Ok(error_response(&SqlError::Unsupported(
            "COPY (query) FROM".into(),
        )));
    };
    let name = table.join(".");
    let table = table_sql(&table);
    // Preparing the INSERT checks the table, its columns and the privilege before any data is asked for.
    let prepared = blocking(state, move |s| {
        let columns = if columns.is_empty() {
            match s.execute(&format!("SHOW COLUMNS FROM {table}"), &[])? {
                Output::Rows(rs) => rs
                    .rows
                    .into_iter()
                    .filter_map(|r| r.into_iter().next().and_then(|v| v.to_text()))
                    .collect(),
                // Without a row sink nothing streams.
                Output::Done { .. } | Output::Streamed { .. } => Vec::new(),
            }
        } else {
            columns
        };
        let insert_head = format!(
            "INSERT INTO {table} ({}) VALUES ",
            columns
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let one_row = format!("{insert_head}{}", placeholders(columns.len(), 1));
        let prepared = s.prepare(&one_row)?;
        Ok((columns, insert_head, prepared.param_kinds))
    })
    .await;
    let (columns, insert_head, kinds) = match prepared {
        Ok(p) => p,
        Err(e) => return Ok(error_response(&e)),
    };
    let target = Target {
        name,
        insert_head,
        kinds,
        columns,
    };
    let session = match state.session() {
        Ok(s) => s,
        Err(e) => return Ok(error_response(&e)),
    };
    let (feed, data) = mpsc::channel(FEED_DEPTH);
    let sql = sql.to_string();
    let format = stmt.format;
    let column_count = target.columns.len();
    let task = tokio::task::spawn_blocking(move || {
        let mut session = session.lock();
        insert_rows(&mut session, &sql, &target, &format, Feed::new(data))
    });
    *state.copy.lock() = Some(ActiveCopy {
        feed,
        task,
        pending: bytes::BytesMut::new(),
    });
    Ok(Response::CopyIn(CopyResponse::new(
        0,
        column_count,
        stream::empty::<PgWireResult<CopyData>>(),
    )))
}

/// `(?, ?), (?, ?)`: `rows` rows of `columns` placeholders.
fn placeholders(columns: usize, rows: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(", "));
    vec![row; rows].join(", ")
}

/// A copy sub-protocol message for the inserting thread.
enum Chunk {
    /// CopyData.
    Data(Bytes),
    /// CopyDone: the data is complete.
    Done,
    /// CopyFail, with the client's message.
    Fail(String),
}

/// Reads the client's data as it arrives: blocks the inserting thread until the next CopyData. The feed
/// ending without CopyDone (the connection closed) fails the COPY, so nothing half-sent is kept.
struct Feed {
    data: mpsc::Receiver<Chunk>,
    current: Bytes,
    /// The client's CopyFail message, once it came.
    failed: Option<String>,
}

impl Feed {
    fn new(data: mpsc::Receiver<Chunk>) -> Self {
        Self {
            data,
            current: Bytes::new(),
            failed: None,
        }
    }
}

impl Read for &mut Feed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.data.blocking_recv() {
                Some(Chunk::Data(b)) => self.current = b,
                Some(Chunk::Done) => return Ok(0),
                Some(Chunk::Fail(message)) => {
                    self.failed = Some(message);
                    return Err(std::io::Error::other("COPY failed by the client"));
                }
                None => return Err(std::io::Error::other("the connection closed during COPY")),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

/// Decodes the client's rows and inserts them, all or nothing. Returns how many rows were copied.
fn insert_rows(
    session: &mut Session,
    sql: &str,
    target: &Target,
    format: &CopyFormat,
    mut feed: Feed,
) -> Result<u64, CopyFailure> {
    let width = target.columns.len().max(1);
    // A full batch's INSERT is run again for every batch: short enough for the session's plan cache, it is
    // parsed and translated once (a longer one was parsed again per batch, most of a COPY's time).
    let row_text = placeholders(width, 1).len() + 2;
    let cacheable_rows =
        tenantry_sql::MAX_CACHED_TEXT.saturating_sub(target.insert_head.len()) / row_text;
    let batch_rows = (MAX_BATCH_VALUES / width)
        .min(cacheable_rows)
        .clamp(1, MAX_BATCH_ROWS);
    let full_batch_sql = format!(
        "{}{}",
        target.insert_head,
        placeholders(target.columns.len(), batch_rows)
    );
    let result = session.run_all_or_nothing(sql, |s| {
        let mut batch = Batch {
            target,
            full_sql: &full_batch_sql,
            size: batch_rows,
            values: Vec::with_capacity(batch_rows * width),
            rows: 0,
            copied: 0,
        };
        if format.csv {
            read_csv(s, &mut feed, format, &mut batch)?;
        } else {
            read_text(s, &mut feed, format, &mut batch)?;
        }
        batch.flush(s)?;
        // A cancel request that came after the last batch still stops the COPY.
        s.check_interrupted()?;
        Ok(batch.copied)
    });
    match (result, feed.failed.take()) {
        // The client gave up (CopyFail): its message, as PostgreSQL words it.
        (Err(_), Some(message)) => Err(CopyFailure::new(
            "57014",
            format!("COPY from stdin failed: {message}"),
            None,
        )),
        (result, _) => result,
    }
}

/// The rows decoded and not inserted yet.
struct Batch<'a> {
    target: &'a Target,
    /// The INSERT of a full batch.
    full_sql: &'a str,
    /// Rows per full batch.
    size: usize,
    values: Vec<Value>,
    rows: usize,
    copied: u64,
}

impl Batch<'_> {
    /// Adds one row's fields (`None`: NULL), decoded for their columns; inserts a full batch.
    fn push(
        &mut self,
        s: &mut Session,
        line: u64,
        fields: &[Option<&[u8]>],
    ) -> Result<(), CopyFailure> {
        let target = self.target;
        if fields.len() < target.columns.len() {
            let missing = &target.columns[fields.len()];
            return Err(CopyFailure::new(
                "22P04",
                format!("missing data for column \"{missing}\""),
                Some(context(target, line, None)),
            ));
        }
        if fields.len() > target.columns.len() {
            return Err(CopyFailure::new(
                "22P04",
                "extra data after last expected column".into(),
                Some(context(target, line, None)),
            ));
        }
        for (i, (field, name)) in fields.iter().zip(&target.columns).enumerate() {
            let kind = target.kinds.get(i).copied().flatten();
            let value = match field {
                None => Value::Null,
                Some(raw) => {
                    if std::str::from_utf8(raw).is_err() {
                        return Err(CopyFailure::new(
                            "22021",
                            "invalid byte sequence for encoding \"UTF8\"".into(),
                            Some(context(target, line, Some((name, raw)))),
                        ));
                    }
                    // A field is what a text-format parameter is: decoded and fitted the same way.
                    let decoded = match kind {
                        Some(k) => decode_param(raw, false, &pg_type(k))
                            .and_then(|v| tenantry_sql::fit(k, v)),
                        None => decode_param(raw, false, &Type::TEXT),
                    };
                    decoded.map_err(|e| {
                        let mut failure = CopyFailure::from(e);
                        failure.0.where_context = Some(context(target, line, Some((name, raw))));
                        failure
                    })?
                }
            };
            self.values.push(value);
        }
        self.rows += 1;
        if self.rows == self.size {
            self.flush(s)?;
        }
        Ok(())
    }

    /// Inserts the rows decoded so far.
    fn flush(&mut self, s: &mut Session) -> Result<(), CopyFailure> {
        if self.rows == 0 {
            return Ok(());
        }
        let partial;
        let sql = if self.rows == self.size {
            self.full_sql
        } else {
            partial = format!(
                "{}{}",
                self.target.insert_head,
                placeholders(self.target.columns.len(), self.rows)
            );
            partial.as_str()
        };
        s.execute_within(sql, &self.values)?;
        self.copied += self.rows as u64;
        self.rows = 0;
        self.values.clear();
        Ok(())
    }
}

/// PostgreSQL's CONTEXT of an error in a row: the line, and the column and its value if one is to blame.
fn context(target: &Target, line: u64, column: Option<(&str, &[u8])>) -> String {
    match column {
        Some((name, raw)) => format!(
            "COPY {}, line {line}, column {name}: \"{}\"",
            target.name,
            String::from_utf8_lossy(raw)
        ),
        None => format!("COPY {}, line {line}", target.name),
    }
}

/// The error of data that cannot be read (the client's CopyFail is told apart by the caller).
fn read_error(e: impl std::fmt::Display) -> CopyFailure {
    CopyFailure::new("22P04", format!("COPY data cannot be read: {e}"), None)
}

/// PostgreSQL's text format: one row per line, fields split by the delimiter, backslash escapes, `\N` NULL.
fn read_text(
    s: &mut Session,
    feed: &mut Feed,
    format: &CopyFormat,
    batch: &mut Batch<'_>,
) -> Result<(), CopyFailure> {
    let mut input = std::io::BufReader::with_capacity(256 * 1024, feed);
    let delimiter = format.delimiter as u8;
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut fields: Vec<Vec<u8>> = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line).map_err(read_error)? == 0 {
            return Ok(());
        }
        number += 1;
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        // The end-of-data marker of the old protocol; psql may still send it.
        if line == b"\\." {
            return Ok(());
        }
        if number == 1 && format.header {
            continue;
        }
        let nulls = split_text_line(&line, delimiter, format.null.as_bytes(), &mut fields);
        let row: Vec<Option<&[u8]>> = fields
            .iter()
            .zip(&nulls)
            .map(|(f, null)| (!null).then_some(f.as_slice()))
            .collect();
        batch.push(s, number, &row)?;
    }
}

/// Splits a text-format line into unescaped fields; returns which fields are NULL (equal to the NULL
/// string as written, before unescaping, as PostgreSQL compares them).
fn split_text_line(
    line: &[u8],
    delimiter: u8,
    null: &[u8],
    fields: &mut Vec<Vec<u8>>,
) -> Vec<bool> {
    fields.clear();
    let mut nulls = Vec::new();
    let mut start = 0;
    let mut field = Vec::new();
    let mut i = 0;
    loop {
        if i == line.len() || line[i] == delimiter {
            nulls.push(&line[start..i] == null);
            fields.push(std::mem::take(&mut field));
            if i == line.len() {
                return nulls;
            }
            i += 1;
            start = i;
            continue;
        }
        if line[i] != b'\\' || i + 1 == line.len() {
            field.push(line[i]);
            i += 1;
            continue;
        }
        let c = line[i + 1];
        i += 2;
        match c {
            b'b' => field.push(8),
            b'f' => field.push(12),
            b'n' => field.push(b'\n'),
            b'r' => field.push(b'\r'),
            b't' => field.push(b'\t'),
            b'v' => field.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                for _ in 0..2 {
                    match line.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                field.push((v & 0xff) as u8);
            }
            b'x' if line.get(i).is_some_and(u8::is_ascii_hexdigit) => {
                let mut v = 0u8;
                for _ in 0..2 {
                    match line.get(i).and_then(|d| (*d as char).to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d as u8;
                            i += 1;
                        }
                        None => break,
                    }
                }
                field.push(v);
            }
            // `\\`, `\<delimiter>` and any other character stand for themselves.
            other => field.push(other),
        }
    }
}

/// CSV, read with the same reader IMPORT uses.
fn read_csv(
    s: &mut Session,
    feed: &mut Feed,
    format: &CopyFormat,
    batch: &mut Batch<'_>,
) -> Result<(), CopyFailure> {
    let csv_format = tenantry_kinds::import::CsvFormat {
        delimiter: format.delimiter as u8,
        quote: Some(format.quote as u8),
        mysql_escapes: false,
        skip: 0,
        null_if: None,
    };
    let mut reader = csv_format.reader(feed);
    let mut record = csv::ByteRecord::new();
    let null = format.null.as_bytes();
    let mut first = true;
    while reader.read_byte_record(&mut record).map_err(read_error)? {
        if std::mem::take(&mut first) && format.header {
            continue;
        }
        let line = record.position().map_or(0, |p| p.line());
        // The csv reader does not say whether a field was quoted: a quoted field equal to the NULL
        // string is NULL too (PostgreSQL keeps `""` as an empty string).
        let row: Vec<Option<&[u8]>> = record.iter().map(|f| (f != null).then_some(f)).collect();
        batch.push(s, line, &row)?;
    }
    Ok(())
}

async fn copy_out(state: &Arc<ConnState>, stmt: CopyStatement) -> PgWireResult<Response> {
    let select = match &stmt.data {
        Copied::Table { table, columns } => {
            let list = if columns.is_empty() {
                "*".to_string()
            } else {
                columns
                    .iter()
                    .map(|c| quote(c))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            format!("SELECT {list} FROM {}", table_sql(table))
        }
        Copied::Query(q) => q.clone(),
    };
    let rs = match blocking(state, move |s| s.execute(&select, &[])).await {
        Ok(Output::Rows(rs)) => rs,
        // Without a row sink nothing streams.
        Ok(Output::Done { .. } | Output::Streamed { .. }) => {
            return Ok(error_response(&SqlError::Unsupported(
                "COPY of a statement that returns no rows".into(),
            )))
        }
        Err(e) => return Ok(error_response(&e)),
    };
    // Values are printed as a text-format query result prints them, then laid out as COPY's format asks.
    let typed = Arc::new(results::fields(&rs, &|_| FieldFormat::Text));
    let text_schema: Arc<Vec<FieldInfo>> = Arc::new(
        rs.columns
            .iter()
            .map(|c| FieldInfo::new(c.name.clone(), None, None, Type::TEXT, FieldFormat::Text))
            .collect(),
    );
    let f = &stmt.format;
    let mut out = if f.csv {
        CopyEncoder::new_csv(
            text_schema,
            CopyCsvOptions {
                delimiter: f.delimiter.to_string().as_str().into(),
                quote: f.quote.to_string().as_str().into(),
                escape: f.escape.to_string().as_str().into(),
                null_string: f.null.as_str().into(),
                force_quote: Vec::new(),
            },
        )
    } else {
        CopyEncoder::new_text(
            text_schema,
            CopyTextOptions {
                delimiter: f.delimiter.to_string().as_str().into(),
                null_string: f.null.as_str().into(),
            },
        )
    };
    let mut messages = Vec::with_capacity(rs.rows.len() + 1);
    let mut header = None;
    if f.header {
        for c in &rs.columns {
            out.encode_field(&Some(c.name.as_str()))?;
        }
        header = Some(out.take_copy().data);
    }
    let mut values = DataRowEncoder::new(typed.clone());
    for row in &rs.rows {
        for (value, field) in row.iter().zip(typed.iter()) {
            encode(&mut values, value, field.datatype(), FieldFormat::Text)?;
        }
        let encoded = values.take_row();
        for text in row_texts(&encoded) {
            out.encode_field(&text)?;
        }
        let mut line = out.take_copy();
        // The header goes with the first row: pgwire counts CopyData messages as rows.
        if let Some(h) = header.take() {
            let mut joined = h.to_vec();
            joined.extend_from_slice(&line.data);
            line = CopyData::new(Bytes::from(joined));
        }
        messages.push(Ok(line));
    }
    if let Some(h) = header {
        messages.push(Ok(CopyData::new(h)));
    }
    // Text and CSV are both COPY's textual overall format (0); binary (1) is refused at parse time.
    Ok(Response::CopyOut(CopyResponse::new(
        0,
        rs.columns.len(),
        stream::iter(messages),
    )))
}

/// The text of each field of an encoded data row (`None`: NULL).
fn row_texts(row: &DataRow) -> Vec<Option<&str>> {
    let data = &row.data[..];
    let mut out = Vec::with_capacity(row.field_count.max(0) as usize);
    let mut at = 0;
    while at + 4 <= data.len() {
        let len = i32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
        at += 4;
        if len < 0 {
            out.push(None);
            continue;
        }
        let end = (at + len as usize).min(data.len());
        // Text-format fields are UTF-8 (every value's text is); anything else goes out as NULL-free lossy text.
        out.push(Some(std::str::from_utf8(&data[at..end]).unwrap_or("")));
        at = end;
    }
    out
}

/// The copy sub-protocol's messages on one connection.
pub(crate) struct Copier {
    pub(crate) state: Arc<ConnState>,
}

impl Copier {
    fn take(&self) -> Option<ActiveCopy> {
        self.state.copy.lock().take()
    }
}

fn no_copy() -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        "08P01".to_string(),
        "unexpected COPY message: no COPY FROM STDIN is running".to_string(),
    )))
}

/// Waits for the inserting thread's outcome.
async fn outcome(copy: ActiveCopy) -> Result<u64, CopyFailure> {
    drop(copy.feed);
    copy.task.await.unwrap_or_else(|e| {
        Err(CopyFailure::from(SqlError::Internal(format!(
            "COPY task failed: {e}"
        ))))
    })
}

#[async_trait::async_trait]
impl CopyHandler for Copier {
    async fn on_copy_data<C>(&self, _client: &mut C, copy_data: CopyData) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let chunk = {
            let mut copy = self.state.copy.lock();
            let Some(copy) = copy.as_mut() else {
                return Err(no_copy());
            };
            copy.pending.extend_from_slice(&copy_data.data);
            (copy.pending.len() >= CHUNK_BYTES)
                .then(|| (copy.feed.clone(), copy.pending.split().freeze()))
        };
        if let Some((feed, data)) = chunk {
            // A send fails once the inserting thread stopped (a bad row): the rest of the data is dropped,
            // and its error is reported at CopyDone.
            let _ = feed.send(Chunk::Data(data)).await;
        }
        Ok(())
    }

    async fn on_copy_done<C>(&self, client: &mut C, _done: CopyDone) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut copy = self.take().ok_or_else(no_copy)?;
        if !copy.pending.is_empty() {
            let _ = copy
                .feed
                .send(Chunk::Data(copy.pending.split().freeze()))
                .await;
        }
        let _ = copy.feed.send(Chunk::Done).await;
        let rows = outcome(copy).await.map_err(CopyFailure::into_pgwire)?;
        let rows = usize::try_from(rows).unwrap_or(usize::MAX);
        client
            .send(PgWireBackendMessage::CommandComplete(
                Tag::new("COPY").with_rows(rows).into(),
            ))
            .await?;
        Ok(())
    }

    async fn on_copy_fail<C>(&self, _client: &mut C, fail: CopyFail) -> PgWireError
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let Some(copy) = self.take() else {
            return no_copy();
        };
        let _ = copy.feed.send(Chunk::Fail(fail.message.clone())).await;
        match outcome(copy).await {
            Err(e) => e.into_pgwire(),
            // The thread finished before it read the failure (it had hit a bad row): the client's
            // failure is what it is told.
            Ok(_) => CopyFailure::new(
                "57014",
                format!("COPY from stdin failed: {}", fail.message),
                None,
            )
            .into_pgwire(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_text_line;

    #[test]
    fn text_lines_split_and_unescape() {
        let mut fields = Vec::new();
        let nulls = split_text_line(
            b"1\ta\\tb\\\\c\t\\N\t\\x41\\101",
            b'\t',
            b"\\N",
            &mut fields,
        );
        assert_eq!(nulls, vec![false, false, true, false]);
        assert_eq!(
            fields,
            vec![
                b"1".to_vec(),
                b"a\tb\\c".to_vec(),
                b"N".to_vec(),
                b"AA".to_vec()
            ]
        );
        // An escaped delimiter is data; an empty line is one empty field.
        let nulls = split_text_line(b"a\\|b|", b'|', b"\\N", &mut fields);
        assert_eq!(nulls, vec![false, false]);
        assert_eq!(fields, vec![b"a|b".to_vec(), Vec::new()]);
    }
}
