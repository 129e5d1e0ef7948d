//! The simple and extended query protocols over one session.

use std::fmt::Debug;
use std::sync::Arc;

use crate::pg_dialect::{normalize, split_statements, Normalized};
use async_trait::async_trait;
use futures::{Sink, SinkExt};
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{send_describe_response, ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{
    DescribePortalResponse, DescribeStatementResponse, FieldFormat, FieldInfo, Response, Tag,
};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, Type};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::extendedquery::Describe;
use pgwire::messages::startup::ParameterStatus;
use pgwire::messages::PgWireBackendMessage;
use tenantry_sql::{Column, Output, RowBatch, RowSink, SqlError, Value};
use tokio::sync::mpsc;

use crate::conn::ConnState;
use crate::results;
use crate::types::{cast_type, decode_param, kind_of, pg_type};

/// Runs one statement on a blocking thread; returns its output and whether a transaction was open before
/// and after it.
async fn run(
    state: &ConnState,
    sql: String,
    params: Vec<Value>,
) -> (Result<Output, SqlError>, bool, bool) {
    let session = match state.session() {
        Ok(s) => s,
        Err(e) => return (Err(e), false, false),
    };
    let joined = tokio::task::spawn_blocking(move || {
        let mut s = session.lock();
        let before = s.in_transaction();
        let out = s.execute(&sql, &params);
        (out, before, s.in_transaction())
    })
    .await;
    joined.unwrap_or_else(|e| {
        (
            Err(SqlError::Internal(format!("statement task failed: {e}"))),
            false,
            false,
        )
    })
}

/// A statement run with a row sink: its output, or its streamed result.
enum Ran {
    /// The statement ended: its output and whether a transaction was open before and after it.
    Done(Result<Output, SqlError>, bool, bool),
    /// Its result streams: the columns, the rest of its batches, and how it ends.
    Streaming {
        columns: Vec<Column>,
        batches: mpsc::Receiver<RowBatch>,
        end: results::StreamEnd,
    },
}

/// Runs one statement like [`run`], letting a big result stream (see tenantry_sql's `RowSink`): once its
/// first rows are read this returns while the statement goes on, holding the session until the response
/// has been sent (or dropped, which stops it).
async fn run_streaming(state: &ConnState, sql: String, params: Vec<Value>) -> Ran {
    let session = match state.session() {
        Ok(s) => s,
        Err(e) => return Ran::Done(Err(e), false, false),
    };
    let (sink, mut batches) = RowSink::channel(tokio::runtime::Handle::current());
    let mut task = tokio::task::spawn_blocking(move || {
        let mut s = session.lock();
        let before = s.in_transaction();
        s.set_row_sink(Some(sink));
        let out = s.execute(&sql, &params);
        (out, before, s.in_transaction())
    });
    let failed = |e: tokio::task::JoinError| {
        (
            Err(SqlError::Internal(format!("statement task failed: {e}"))),
            false,
            false,
        )
    };
    tokio::select! {
        biased;
        joined = &mut task => {
            let (out, before, after) = joined.unwrap_or_else(failed);
            match (out, batches.try_recv()) {
                // It ended as its batches were taken: they are all in the channel.
                (Ok(Output::Streamed { .. }), Ok(RowBatch::Columns(columns))) => Ran::Streaming {
                    columns,
                    batches,
                    end: None,
                },
                (out, _) => Ran::Done(out, before, after),
            }
        }
        Some(RowBatch::Columns(columns)) = batches.recv() => Ran::Streaming {
            columns,
            batches,
            end: Some(Box::pin(async move {
                match task.await.unwrap_or_else(failed).0 {
                    Ok(_) => Ok(()),
                    Err(e) => Err(e),
                }
            })),
        },
    }
}

/// `SELECT pg_cancel_backend(pid)` / `SELECT pg_terminate_backend(pid)`: PostgreSQL's names for
/// `KILL QUERY pid` / `KILL pid` (same privileges), answered with one boolean row.
fn backend_call(sql: &str) -> Option<(String, &'static str)> {
    let lower = sql
        .trim()
        .trim_end_matches(';')
        .trim_end()
        .to_ascii_lowercase();
    let rest = lower.strip_prefix("select")?.trim_start();
    for (name, kill) in [
        ("pg_cancel_backend", "KILL QUERY"),
        ("pg_terminate_backend", "KILL"),
    ] {
        if let Some(args) = rest.strip_prefix(name) {
            let inner = args.trim().strip_prefix('(')?.strip_suffix(')')?;
            // pg_terminate_backend(pid, timeout): the timeout does not matter here.
            let pid: u32 = inner.split(',').next()?.trim().parse().ok()?;
            return Some((format!("{kill} {pid}"), name));
        }
    }
    None
}

/// Runs a backend call: true if the session was signalled, false if it does not exist.
async fn run_backend_call(
    state: &ConnState,
    kill: String,
    column: &'static str,
) -> PgWireResult<Response> {
    let (out, _, _) = run(state, kill, Vec::new()).await;
    let signalled = match out {
        Ok(_) => true,
        Err(SqlError::UnknownThread(_)) => false,
        Err(e) => return Ok(Response::Error(Box::new(results::error_info(&e)))),
    };
    let field = FieldInfo::new(
        column.to_string(),
        None,
        None,
        Type::BOOL,
        FieldFormat::Text,
    );
    results::bool_response(field, signalled)
}

/// The response of a statement that returned no rows: transaction starts and ends are told apart so
/// that ReadyForQuery reports the right transaction status.
fn done_response(sql: &str, affected: u64, before: bool, after: bool) -> Response {
    let tag: Tag = results::tag(sql, affected);
    match (before, after) {
        (false, true) => Response::TransactionStart(tag),
        (true, false) => Response::TransactionEnd(tag),
        _ => Response::Execution(tag),
    }
}

/// The settings PostgreSQL reports with ParameterStatus whenever they change (GUC_REPORT), by the
/// lower-case name SET uses and the name PostgreSQL reports.
const REPORTED: &[(&str, &str)] = &[
    ("application_name", "application_name"),
    ("client_encoding", "client_encoding"),
    ("datestyle", "DateStyle"),
    ("intervalstyle", "IntervalStyle"),
    ("timezone", "TimeZone"),
    ("standard_conforming_strings", "standard_conforming_strings"),
    ("search_path", "search_path"),
];

/// The ParameterStatus messages a successful statement calls for: one per reported setting it SET.
fn parameter_status(state: &ConnState, sql: &str) -> Vec<PgWireBackendMessage> {
    let is_set = sql
        .split_whitespace()
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("set"));
    if !is_set {
        return Vec::new();
    }
    let Ok(tenantry_sql::parser::Parsed::Command(tenantry_sql::parser::Command::Set(assignments))) =
        tenantry_sql::parser::parse(sql)
    else {
        return Vec::new();
    };
    let Ok(session) = state.session() else {
        return Vec::new();
    };
    let session = session.lock();
    assignments
        .iter()
        .filter_map(|(target, _)| match target {
            tenantry_sql::parser::SetTarget::Session(name) => REPORTED
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(n, reported)| {
                    session.setting(n).map(|value| {
                        PgWireBackendMessage::ParameterStatus(ParameterStatus::new(
                            reported.to_string(),
                            value,
                        ))
                    })
                }),
            _ => None,
        })
        .collect()
}

/// Sends the ParameterStatus messages of a statement that succeeded.
async fn report_settings<C>(client: &mut C, state: &ConnState, sql: &str) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    for message in parameter_status(state, sql) {
        client.feed(message).await?;
    }
    Ok(())
}

/// The simple query protocol.
pub(crate) struct SimpleHandler {
    pub(crate) state: Arc<ConnState>,
}

#[async_trait]
impl SimpleQueryHandler for SimpleHandler {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut responses = Vec::new();
        let statements = split_statements(query);
        let last = statements.len().saturating_sub(1);
        for (i, statement) in statements.into_iter().enumerate() {
            let normalized = normalize(&statement);
            if let Some(p) = normalized.unknown_param {
                let e = SqlError::NoSuchParameter(p);
                responses.push(Response::Error(Box::new(results::error_info(&e))));
                break;
            }
            let sql = normalized.sql;
            if tenantry_sql::parser::copy::is_copy(&sql) {
                let response = crate::copy::start(&self.state, &sql).await?;
                // Copy mode takes over the connection: statements after a COPY in the same query are not run.
                let stop = matches!(response, Response::CopyIn(_) | Response::Error(_));
                responses.push(response);
                if stop {
                    break;
                }
                continue;
            }
            if let Some((kill, column)) = backend_call(&sql) {
                responses.push(run_backend_call(&self.state, kill, column).await?);
                continue;
            }
            // Only the last statement may stream: its response is sent after every statement has run,
            // and a streaming statement holds the session until then.
            let ran = if i == last {
                run_streaming(&self.state, sql.clone(), Vec::new()).await
            } else {
                let (out, before, after) = run(&self.state, sql.clone(), Vec::new()).await;
                Ran::Done(out, before, after)
            };
            let (out, before, after) = match ran {
                Ran::Done(out, before, after) => (out, before, after),
                Ran::Streaming {
                    columns,
                    batches,
                    end,
                } => {
                    let f = results::fields_of(&columns, &|_| FieldFormat::Text);
                    let response = results::streamed_response(f, batches, end);
                    responses.push(results::tagged(&sql, response));
                    continue;
                }
            };
            match out {
                Ok(Output::Done { affected, .. }) => {
                    report_settings(client, &self.state, &sql).await?;
                    responses.push(done_response(&sql, affected, before, after))
                }
                Ok(rows) => responses.push(results::tagged(&sql, results::response(&sql, rows)?)),
                Err(e) => {
                    // The rest of a multi-statement query is not run after an error, as in PostgreSQL.
                    responses.push(Response::Error(Box::new(results::error_info(&e))));
                    break;
                }
            }
        }
        if responses.is_empty() {
            responses.push(Response::EmptyQuery);
        }
        Ok(responses)
    }
}

/// A statement parsed by the extended protocol.
#[derive(Debug, Clone)]
pub(crate) struct PgStatement {
    normalized: Normalized,
    /// Result columns as described at Parse time (names and types).
    columns: Vec<(String, Type)>,
    /// The type of each `$n`, from where it stands (text when nothing tells).
    params: Vec<Type>,
    /// The kind of the column each `$n` meets, if its position tells one: its value is fitted to it.
    param_kinds: Vec<Option<tenantry_sql::ColumnKind>>,
}

/// The kind of each client parameter `$n`: that of the first `?` it is bound to, when its position tells one.
fn param_kinds(
    normalized: &Normalized,
    kinds: &[Option<tenantry_sql::ColumnKind>],
) -> Vec<Option<tenantry_sql::ColumnKind>> {
    // One pass over the placeholders, so the cost follows the statement, not count x placeholders.
    let mut out = vec![None; normalized.param_count()];
    let mut seen = vec![false; out.len()];
    for (i, &n) in normalized.order.iter().enumerate() {
        if !std::mem::replace(&mut seen[n], true) {
            out[n] = kinds.get(i).copied().flatten();
        }
    }
    out
}

/// The type described for each `$n`: its cast when it has one (`$1::int8`, as PostgreSQL infers it), else
/// `inferred(n)`.
fn param_types(normalized: &Normalized, inferred: impl Fn(usize) -> Type) -> Vec<Type> {
    let mut types: Vec<Type> = (0..normalized.param_count()).map(inferred).collect();
    for (n, name) in &normalized.casts {
        if let (Some(slot), Some(ty)) = (types.get_mut(*n), cast_type(name)) {
            *slot = ty;
        }
    }
    types
}

/// Parses and describes statements with the session (on a blocking thread).
pub(crate) struct Parser {
    state: Arc<ConnState>,
}

#[async_trait]
impl QueryParser for Parser {
    type Statement = PgStatement;

    async fn parse_sql<C>(
        &self,
        _client: &C,
        sql: &str,
        _types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let normalized = normalize(sql);
        if let Some(p) = normalized.unknown_param {
            return Err(results::user_error(&SqlError::NoSuchParameter(p)));
        }
        // COPY is not the SQL layer's: it is checked when it runs, and returns no rows.
        if tenantry_sql::parser::copy::is_copy(&normalized.sql) {
            return Ok(Some(PgStatement {
                params: param_types(&normalized, |_| Type::TEXT),
                param_kinds: vec![None; normalized.param_count()],
                normalized,
                columns: Vec::new(),
            }));
        }
        if let Some((_, column)) = backend_call(&normalized.sql) {
            return Ok(Some(PgStatement {
                params: param_types(&normalized, |_| Type::TEXT),
                param_kinds: vec![None; normalized.param_count()],
                normalized,
                columns: vec![(column.to_string(), Type::BOOL)],
            }));
        }
        let session = self.state.session().map_err(|e| results::user_error(&e))?;
        let text = normalized.sql.clone();
        let prepared = tokio::task::spawn_blocking(move || session.lock().prepare(&text))
            .await
            .unwrap_or_else(|e| Err(SqlError::Internal(e.to_string())))
            .map_err(|e| results::user_error(&e))?;
        let param_kinds = param_kinds(&normalized, &prepared.param_kinds);
        let params = param_types(&normalized, |n| {
            param_kinds
                .get(n)
                .copied()
                .flatten()
                .map_or(Type::TEXT, pg_type)
        });
        let mut columns: Vec<(String, Type)> = prepared
            .columns
            .into_iter()
            .zip(prepared.kinds)
            .map(|(name, kind)| (name, pg_type(kind)))
            .collect();
        // Administrative statements are not described by the SQL layer. SHOW statements only read, so
        // running one tells its columns (tokio-postgres needs them before it binds).
        if columns.is_empty() && is_show(&normalized.sql) && normalized.order.is_empty() {
            let (out, _, _) = run(&self.state, without_wait(&normalized.sql), Vec::new()).await;
            if let Ok(Output::Rows(rs)) = out {
                columns = rs
                    .columns
                    .iter()
                    .map(|c| (c.name.clone(), pg_type(c.kind)))
                    .collect();
            }
        }
        Ok(Some(PgStatement {
            normalized,
            columns,
            params,
            param_kinds,
        }))
    }

    fn get_parameter_types(&self, stmt: &Self::Statement) -> PgWireResult<Vec<Type>> {
        Ok(stmt.params.clone())
    }

    fn get_result_schema(
        &self,
        stmt: &Self::Statement,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        Ok(field_infos(&stmt.columns, column_format))
    }
}

/// `SHOW JOB(S) WHEN COMPLETE ...` without its wait: the same columns, described without blocking.
fn without_wait(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().collect();
    match words.as_slice() {
        [show, jobs, when, complete, rest @ ..]
            if show.eq_ignore_ascii_case("show")
                && when.eq_ignore_ascii_case("when")
                && complete.eq_ignore_ascii_case("complete") =>
        {
            format!("{show} {jobs} {}", rest.join(" "))
        }
        _ => sql.to_string(),
    }
}

/// Whether a statement is a SHOW (read-only, so it may run to be described).
fn is_show(sql: &str) -> bool {
    sql.split_whitespace()
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("show"))
}

fn field_infos(columns: &[(String, Type)], format: Option<&Format>) -> Vec<FieldInfo> {
    columns
        .iter()
        .enumerate()
        .map(|(i, (name, ty))| {
            let f = format.map_or(FieldFormat::Text, |f| f.format_for(i));
            FieldInfo::new(name.clone(), None, None, ty.clone(), f)
        })
        .collect()
}

/// The extended query protocol.
pub(crate) struct ExtendedHandler {
    state: Arc<ConnState>,
    parser: Arc<Parser>,
}

impl ExtendedHandler {
    pub(crate) fn new(state: Arc<ConnState>) -> Self {
        Self {
            parser: Arc::new(Parser {
                state: state.clone(),
            }),
            state,
        }
    }
}

/// A bound parameter as a value in the canonical form of the column it meets (or, when its position
/// tells none, of its declared type).
fn param_value(
    portal: &Portal<PgStatement>,
    idx: usize,
    declared: Option<&Type>,
) -> Result<Value, SqlError> {
    let ty = declared.cloned().unwrap_or(Type::TEXT);
    let Some(Some(raw)) = portal.parameters.get(idx) else {
        return Ok(Value::Null);
    };
    let value = decode_param(raw, portal.parameter_format.is_binary(idx), &ty)?;
    let column = portal
        .statement
        .statement
        .param_kinds
        .get(idx)
        .copied()
        .flatten();
    match column.or_else(|| kind_of(&ty)) {
        Some(kind) => tenantry_sql::fit(kind, value),
        None => Ok(value),
    }
}

#[async_trait]
impl ExtendedQueryHandler for ExtendedHandler {
    type Statement = PgStatement;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    /// A Describe of a portal the protocol does not hold may name a cursor DECLARE opened (psycopg
    /// describes its named cursor so): its columns are the cursor's.
    async fn on_describe<C>(&self, client: &mut C, message: Describe) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if message.target_type == b'P' {
            if let Some(name) = message.name.as_deref().filter(|n| !n.is_empty()) {
                if client.portal_store().get_portal(name).is_none() {
                    let session = self.state.session().map_err(|e| results::user_error(&e))?;
                    let columns = session.lock().cursor_columns(name).ok_or_else(|| {
                        results::user_error(&SqlError::NoSuchCursor(name.to_string()))
                    })?;
                    let columns: Vec<(String, Type)> = columns
                        .into_iter()
                        .map(|(name, kind)| (name, pg_type(kind)))
                        .collect();
                    let response = DescribePortalResponse::new(field_infos(&columns, None));
                    return send_describe_response(client, &response).await;
                }
            }
        }
        self._on_describe(client, message).await
    }

    async fn do_describe_statement<C>(
        &self,
        _client: &mut C,
        target: &StoredStatement<Self::Statement>,
    ) -> PgWireResult<DescribeStatementResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let count = target.statement.normalized.param_count();
        let params = (0..count)
            .map(|i| {
                target
                    .parameter_types
                    .get(i)
                    .cloned()
                    .flatten()
                    .or_else(|| target.statement.params.get(i).cloned())
                    .unwrap_or(Type::TEXT)
            })
            .collect();
        Ok(DescribeStatementResponse::new(
            params,
            field_infos(&target.statement.columns, None),
        ))
    }

    async fn do_describe_portal<C>(
        &self,
        _client: &mut C,
        target: &Portal<Self::Statement>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        Ok(DescribePortalResponse::new(field_infos(
            &target.statement.statement.columns,
            Some(&target.result_column_format),
        )))
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let stmt = &portal.statement.statement;
        let mut values = Vec::with_capacity(portal.parameters.len());
        for i in 0..portal.parameters.len() {
            let value = param_value(
                portal,
                i,
                // The client's declared type, else the one we described (clients bind to what we describe).
                portal
                    .statement
                    .parameter_types
                    .get(i)
                    .and_then(Option::as_ref)
                    .or_else(|| stmt.params.get(i)),
            );
            match value {
                Ok(v) => values.push(v),
                Err(e) => return Ok(Response::Error(Box::new(results::error_info(&e)))),
            }
        }
        let Some(bound) = stmt.normalized.bind(&values) else {
            return Ok(Response::Error(Box::new(results::error_info(
                &SqlError::Unsupported("missing parameters".into()),
            ))));
        };
        let sql = stmt.normalized.sql.clone();
        if tenantry_sql::parser::copy::is_copy(&sql) {
            return match crate::copy::start(&self.state, &sql).await? {
                // As an error value, so that pgwire discards the rest up to Sync: a client that pipelined
                // its copy data or CopyFail after Execute gets no second answer.
                Response::Error(info) => Err(PgWireError::UserError(info)),
                response => Ok(response),
            };
        }
        if let Some((kill, column)) = backend_call(&sql) {
            return run_backend_call(&self.state, kill, column).await;
        }
        let (out, before, after) = match run_streaming(&self.state, sql.clone(), bound).await {
            Ran::Done(out, before, after) => (out, before, after),
            Ran::Streaming {
                columns,
                batches,
                end,
            } => {
                // As below: the types described at Describe time, when they match.
                let mut fields = field_infos(&stmt.columns, Some(&portal.result_column_format));
                if fields.len() != columns.len() {
                    fields = results::fields_of(&columns, &|i| {
                        portal.result_column_format.format_for(i)
                    });
                }
                return Ok(results::tagged(
                    &sql,
                    results::streamed_response(fields, batches, end),
                ));
            }
        };
        match out {
            Ok(Output::Done { affected, .. }) => {
                report_settings(client, &self.state, &sql).await?;
                Ok(done_response(&sql, affected, before, after))
            }
            Ok(Output::Rows(rs)) => {
                // The row description was sent at Describe time: values are encoded to those types.
                let fields = field_infos(&stmt.columns, Some(&portal.result_column_format));
                if fields.len() != rs.columns.len() {
                    let f = results::fields(&rs, &|i| portal.result_column_format.format_for(i));
                    return Ok(results::tagged(&sql, results::rows_response(f, rs.rows)?));
                }
                Ok(results::tagged(
                    &sql,
                    results::rows_response(fields, rs.rows)?,
                ))
            }
            // Streamed results were answered above.
            Ok(streamed @ Output::Streamed { .. }) => results::response(&sql, streamed),
            Err(e) => Ok(Response::Error(Box::new(results::error_info(&e)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backend_call;

    #[test]
    fn backend_calls_become_kill() {
        assert_eq!(
            backend_call("SELECT pg_cancel_backend(12);"),
            Some(("KILL QUERY 12".to_string(), "pg_cancel_backend"))
        );
        assert_eq!(
            backend_call("select pg_terminate_backend( 7 , 1000)"),
            Some(("KILL 7".to_string(), "pg_terminate_backend"))
        );
        assert_eq!(backend_call("SELECT pg_cancel_backend(x)"), None);
        assert_eq!(backend_call("SELECT 1"), None);
    }

    #[test]
    fn describing_show_job_when_complete_does_not_wait() {
        assert_eq!(
            super::without_wait("SHOW JOB WHEN COMPLETE 12"),
            "SHOW JOB 12"
        );
        assert_eq!(super::without_wait("SHOW JOBS"), "SHOW JOBS");
    }
}
