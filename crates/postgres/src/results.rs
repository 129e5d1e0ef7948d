//! Turning the SQL layer's outputs and errors into pgwire responses.

use std::sync::Arc;

use futures::stream;
use pgwire::api::results::{DataRowEncoder, FieldFormat, FieldInfo, QueryResponse, Response, Tag};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;
use tenantry_sql::{Column, Output, ResultSet, RowBatch, SqlError, Value};
use tokio::sync::mpsc;

use crate::types::{encode, pg_type};

/// PostgreSQL's text for a canceled statement.
const CANCELED: &str = "canceling statement due to user request";

/// An error response with the error's PostgreSQL SQLSTATE.
pub(crate) fn error_info(e: &SqlError) -> ErrorInfo {
    let w = e.wire();
    let message = match e {
        SqlError::Interrupted if w.pg_state == "57014" => CANCELED.to_string(),
        // PostgreSQL's wording: the MySQL text names the MySQL manual.
        SqlError::Syntax { near, .. } => syntax_message(near),
        _ => w.message,
    };
    ErrorInfo::new("ERROR".to_string(), w.pg_state.to_string(), message)
}

/// `syntax error at or near "X"` (X: the first token where parsing failed), or `at end of input`.
fn syntax_message(near: &str) -> String {
    let token: String = near
        .trim_start()
        .chars()
        .take_while(|c| !c.is_whitespace())
        .take(63)
        .collect();
    if token.is_empty() {
        "syntax error at end of input".to_string()
    } else {
        format!("syntax error at or near \"{token}\"")
    }
}

/// The same, as an error value.
pub(crate) fn user_error(e: &SqlError) -> PgWireError {
    PgWireError::UserError(Box::new(error_info(e)))
}

/// The command tag of a statement that returned no rows.
pub(crate) fn tag(sql: &str, affected: u64) -> Tag {
    let verb = sql
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_end_matches(';')
        .to_ascii_uppercase();
    let rows = usize::try_from(affected).unwrap_or(usize::MAX);
    match verb.as_str() {
        "INSERT" | "REPLACE" => Tag::new("INSERT").with_oid(0).with_rows(rows),
        "UPDATE" | "DELETE" => Tag::new(&verb).with_rows(rows),
        // DDL tags name the object, as PostgreSQL's do (`CREATE TABLE`, `DROP INDEX`).
        "CREATE" | "DROP" | "ALTER" => {
            // Modifiers before the object are not part of the tag (`CREATE TEMP TABLE` is `CREATE TABLE`).
            const MODIFIERS: [&str; 8] = [
                "TEMP",
                "TEMPORARY",
                "UNIQUE",
                "OR",
                "REPLACE",
                "GLOBAL",
                "LOCAL",
                "UNLOGGED",
            ];
            let object = sql
                .split_whitespace()
                .skip(1)
                .map(|w| w.trim_end_matches(';').to_ascii_uppercase())
                .find(|w| !MODIFIERS.contains(&w.as_str()))
                .unwrap_or_default();
            Tag::new(&format!("{verb} {object}"))
        }
        // Cursor statements: PostgreSQL's tags.
        "DECLARE" => Tag::new("DECLARE CURSOR"),
        "CLOSE" => {
            let all = sql
                .split_whitespace()
                .nth(1)
                .is_some_and(|w| w.trim_end_matches(';').eq_ignore_ascii_case("ALL"));
            Tag::new(if all {
                "CLOSE CURSOR ALL"
            } else {
                "CLOSE CURSOR"
            })
        }
        "MOVE" | "FETCH" => Tag::new(&verb).with_rows(rows),
        // PostgreSQL's synonyms answer with the tag of what they mean.
        "END" => Tag::new("COMMIT"),
        "ABORT" => Tag::new("ROLLBACK"),
        "DISCARD" | "DEALLOCATE" => {
            let all = sql
                .split_whitespace()
                .nth(1)
                .is_some_and(|w| w.trim_end_matches(';').eq_ignore_ascii_case("ALL"));
            Tag::new(&if all { format!("{verb} ALL") } else { verb })
        }
        // CockroachDB answers every job control statement as `CANCEL JOBS n` (JOB, JOBS and ALL ... JOBS
        // alike), n being the jobs it moved.
        "CANCEL" | "PAUSE" | "RESUME"
            if sql.split_whitespace().nth(1).is_some_and(|w| {
                ["JOB", "JOBS", "ALL"]
                    .iter()
                    .any(|k| w.trim_end_matches(';').eq_ignore_ascii_case(k))
            }) =>
        {
            Tag::new(&format!("{verb} JOBS")).with_rows(rows)
        }
        "" => Tag::new("OK"),
        _ => Tag::new(&verb),
    }
}

/// Field descriptions of a result set.
pub(crate) fn fields(rs: &ResultSet, formats: &dyn Fn(usize) -> FieldFormat) -> Vec<FieldInfo> {
    rs.columns
        .iter()
        .enumerate()
        .map(|(i, c)| FieldInfo::new(c.name.clone(), None, None, pg_type(c.kind), formats(i)))
        .collect()
}

/// Field descriptions of result columns.
pub(crate) fn fields_of(
    columns: &[Column],
    formats: &dyn Fn(usize) -> FieldFormat,
) -> Vec<FieldInfo> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| FieldInfo::new(c.name.clone(), None, None, pg_type(c.kind), formats(i)))
        .collect()
}

/// One row encoded to the given fields.
fn encode_row(schema: &Arc<Vec<FieldInfo>>, row: &[Value]) -> PgWireResult<DataRow> {
    let mut enc = DataRowEncoder::new(schema.clone());
    for (value, field) in row.iter().zip(schema.iter()) {
        encode(&mut enc, value, field.datatype(), field.format())?;
    }
    Ok(enc.take_row())
}

/// A query response over rows already computed, encoded to the given fields.
pub(crate) fn rows_response(
    fields: Vec<FieldInfo>,
    rows: Vec<Vec<Value>>,
) -> PgWireResult<Response> {
    let schema = Arc::new(fields);
    let mut encoded: Vec<PgWireResult<DataRow>> = Vec::with_capacity(rows.len());
    for row in rows {
        encoded.push(Ok(encode_row(&schema, &row)?));
    }
    Ok(Response::Query(QueryResponse::new(
        schema,
        stream::iter(encoded),
    )))
}

/// How a streamed statement ends: once its batches are all read, its task's outcome (an error after rows
/// went out ends the response with that error, as PostgreSQL's does).
pub(crate) type StreamEnd = Option<futures::future::BoxFuture<'static, Result<(), SqlError>>>;

/// A query response over a streamed result: rows are encoded as pgwire sends them, and pgwire sends them
/// as the client's socket takes them, so the statement (waiting on the bounded channel) runs only as fast as
/// the client reads.
pub(crate) fn streamed_response(
    fields: Vec<FieldInfo>,
    batches: mpsc::Receiver<RowBatch>,
    end: StreamEnd,
) -> Response {
    struct State {
        schema: Arc<Vec<FieldInfo>>,
        batches: mpsc::Receiver<RowBatch>,
        rows: std::vec::IntoIter<Vec<Value>>,
        end: StreamEnd,
    }
    let schema = Arc::new(fields);
    let state = State {
        schema: schema.clone(),
        batches,
        rows: Vec::new().into_iter(),
        end,
    };
    let rows = stream::unfold(state, |mut st| async move {
        loop {
            if let Some(row) = st.rows.next() {
                let encoded = encode_row(&st.schema, &row);
                return Some((encoded, st));
            }
            match st.batches.recv().await {
                Some(RowBatch::Rows(rows)) => st.rows = rows.into_iter(),
                Some(RowBatch::Columns(_)) => {}
                // The statement ended: its sink is gone.
                None => {
                    let end = st.end.take()?;
                    return match end.await {
                        Ok(()) => None,
                        Err(e) => Some((Err(user_error(&e)), st)),
                    };
                }
            }
        }
    });
    Response::Query(QueryResponse::new(schema, rows))
}

/// A row response tagged as statement `sql` is (`FETCH n` for a FETCH; `SELECT n` otherwise).
pub(crate) fn tagged(sql: &str, response: Response) -> Response {
    match response {
        Response::Query(mut q) if is_fetch(sql) => {
            q.set_command_tag("FETCH");
            Response::Query(q)
        }
        r => r,
    }
}

fn is_fetch(sql: &str) -> bool {
    sql.split_whitespace()
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("fetch"))
}

/// A one-row, one-column boolean result.
pub(crate) fn bool_response(field: FieldInfo, value: bool) -> PgWireResult<Response> {
    let schema = Arc::new(vec![field]);
    let mut enc = DataRowEncoder::new(schema.clone());
    enc.encode_field(&value)?;
    let row = enc.take_row();
    Ok(Response::Query(QueryResponse::new(
        schema,
        stream::iter(vec![Ok(row)]),
    )))
}

/// A simple-protocol response (text values) for an output.
pub(crate) fn response(sql: &str, output: Output) -> PgWireResult<Response> {
    match output {
        Output::Done { affected, .. } => Ok(Response::Execution(tag(sql, affected))),
        Output::Rows(rs) => {
            let f = fields(&rs, &|_| FieldFormat::Text);
            rows_response(f, rs.rows)
        }
        // Streamed results are answered by the caller, which holds their rows (see `query.rs`).
        Output::Streamed { rows } => Ok(Response::Execution(
            Tag::new("SELECT").with_rows(usize::try_from(rows).unwrap_or(usize::MAX)),
        )),
    }
}
