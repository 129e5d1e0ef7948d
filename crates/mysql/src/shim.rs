//! The opensrv-mysql shim: one per connection.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;

use async_trait::async_trait;
use opensrv_mysql::{
    AsyncMysqlShim, Column, ColumnFlags, ColumnType, ErrorKind, InitWriter, ParamParser,
    QueryResultWriter, StatementMetaWriter, ValueInner,
};
use parking_lot::Mutex;
use tenantry_catalog::password::verify_native;
use tenantry_sql::{Engine, Output, Session, SqlError, Value, SERVER_VERSION};
use tokio::io::AsyncWrite;
use tokio_util::sync::CancellationToken;

use crate::error_packets::ErrorOverride;
use crate::results;

const MYSQL_NATIVE_PASSWORD: &str = "mysql_native_password";

/// Prepared statements one connection may hold (MySQL's max_prepared_stmt_count is per server; this is per client).
const MAX_PREPARED: usize = 1024;

/// State of one MySQL connection.
pub struct Shim {
    engine: Arc<Engine>,
    id: u32,
    salt: [u8; 20],
    peer: String,
    errors: ErrorOverride,
    killed: CancellationToken,
    logged_in: CancellationToken,
    session: Mutex<Option<Arc<Mutex<Session>>>>,
    statements: HashMap<u32, String>,
    next_statement: u32,
}

impl Shim {
    /// A shim for a new connection from `peer`.
    pub fn new(
        engine: Arc<Engine>,
        peer: String,
        errors: ErrorOverride,
        killed: CancellationToken,
        logged_in: CancellationToken,
    ) -> Self {
        let id = engine.sessions().next_id();
        Self {
            engine,
            id,
            salt: random_salt(),
            peer,
            errors,
            killed,
            logged_in,
            session: Mutex::new(None),
            statements: HashMap::new(),
            next_statement: 1,
        }
    }

    /// The connection id.
    pub fn id(&self) -> u32 {
        self.id
    }

    fn session(&self) -> Result<Arc<Mutex<Session>>, SqlError> {
        self.session
            .lock()
            .clone()
            .ok_or_else(|| SqlError::Internal("no session".into()))
    }

    /// Runs a statement on a blocking thread.
    async fn run(&self, sql: String, params: Vec<Value>) -> (Result<Output, SqlError>, bool, bool) {
        let session = match self.session() {
            Ok(s) => s,
            Err(e) => return (Err(e), true, false),
        };
        let joined = tokio::task::spawn_blocking(move || {
            let mut s = session.lock();
            let out = s.execute(&sql, &params);
            (out, s.autocommit(), s.in_transaction())
        })
        .await;
        match joined {
            Ok(r) => r,
            Err(e) => (
                Err(SqlError::Internal(format!("statement task failed: {e}"))),
                true,
                false,
            ),
        }
    }

    fn arm(&self, e: &SqlError) -> Vec<u8> {
        let w = e.wire();
        if w.mysql_code == 1105 {
            tracing::warn!(session = self.id, error = %w.message, "statement failed");
        }
        self.errors.arm(w.mysql_code, w.mysql_state, &w.message);
        w.message.into_bytes()
    }
}

/// A scramble of 20 printable bytes (no NUL, no `$`), fresh for every connection.
fn random_salt() -> [u8; 20] {
    let mut salt = [0u8; 20];
    for b in &mut salt {
        *b = loop {
            let c = rand::random::<u8>() & 0x7F;
            if c > 0x20 && c != b'$' && c != 0x7F {
                break c;
            }
        };
    }
    salt
}

#[async_trait]
impl<W: AsyncWrite + Send + Unpin> AsyncMysqlShim<W> for Shim {
    type Error = io::Error;

    fn version(&self) -> String {
        SERVER_VERSION.to_string()
    }

    fn connect_id(&self) -> u32 {
        self.id
    }

    fn default_auth_plugin(&self) -> &str {
        MYSQL_NATIVE_PASSWORD
    }

    async fn auth_plugin_for_username(&self, _user: &[u8]) -> &str {
        MYSQL_NATIVE_PASSWORD
    }

    fn salt(&self) -> [u8; 20] {
        self.salt
    }

    async fn authenticate(
        &self,
        _plugin: &str,
        username: &[u8],
        salt: &[u8],
        auth_data: &[u8],
    ) -> bool {
        let login = String::from_utf8_lossy(username).into_owned();
        let engine = self.engine.clone();
        let (peer, id, killed) = (self.peer.clone(), self.id, self.killed.clone());
        let salt = salt.to_vec();
        let response = auth_data.to_vec();
        let opened = tokio::task::spawn_blocking(move || {
            let identity = engine.authenticate(&login, &peer, !response.is_empty(), |user| {
                verify_native(&user.native_hash, &salt, &response)
            })?;
            Session::open(engine, identity, id, &peer, "mysql", killed)
        })
        .await
        .unwrap_or_else(|e| Err(SqlError::Internal(e.to_string())));
        match opened {
            Ok(session) => {
                tracing::info!(session = self.id, tenant = %session.identity().tenant.tenant_name, user = %session.identity().user.name, "mysql login");
                *self.session.lock() = Some(Arc::new(Mutex::new(session)));
                self.logged_in.cancel();
                true
            }
            Err(e) => {
                tracing::info!(session = self.id, peer = %self.peer, "mysql login refused: {e}");
                self.arm(&e);
                false
            }
        }
    }

    async fn on_prepare<'a>(
        &'a mut self,
        query: &'a str,
        info: StatementMetaWriter<'a, W>,
    ) -> io::Result<()> {
        let session = match self.session() {
            Ok(s) => s,
            Err(e) => return info.error(ErrorKind::ER_UNKNOWN_ERROR, &self.arm(&e)).await,
        };
        let sql = query.to_string();
        let described = tokio::task::spawn_blocking(move || session.lock().prepare(&sql))
            .await
            .unwrap_or_else(|e| Err(SqlError::Internal(e.to_string())));
        match described {
            Ok(_) if self.statements.len() >= MAX_PREPARED => {
                let e = SqlError::OceanBase {
                    code: -1461,
                    message: format!("Can't create more than max_prepared_stmt_count statements (current value: {MAX_PREPARED})"),
                };
                info.error(ErrorKind::ER_UNKNOWN_ERROR, &self.arm(&e)).await
            }
            Ok(p) => {
                let id = self.next_statement;
                self.next_statement += 1;
                self.statements.insert(id, query.to_string());
                let text = |name: String| Column {
                    table: String::new(),
                    column: name,
                    coltype: ColumnType::MYSQL_TYPE_VAR_STRING,
                    colflags: ColumnFlags::empty(),
                };
                let params: Vec<Column> = (0..p.params).map(|i| text(format!("?{i}"))).collect();
                let columns: Vec<Column> = p.columns.into_iter().map(text).collect();
                info.reply(id, &params, &columns).await
            }
            Err(e) => info.error(ErrorKind::ER_UNKNOWN_ERROR, &self.arm(&e)).await,
        }
    }

    async fn on_execute<'a>(
        &'a mut self,
        id: u32,
        params: ParamParser<'a>,
        results: QueryResultWriter<'a, W>,
    ) -> io::Result<()> {
        let Some(sql) = self.statements.get(&id).cloned() else {
            let e = SqlError::OceanBase {
                code: -1243,
                message: format!(
                    "Unknown prepared statement handler ({id}) given to mysqld_stmt_execute"
                ),
            };
            return results
                .error(ErrorKind::ER_UNKNOWN_ERROR, &self.arm(&e))
                .await;
        };
        let values: Vec<Value> = params
            .into_iter()
            .map(|p| param_value(p.value.into_inner()))
            .collect();
        let (out, autocommit, in_tx) = self.run(sql, values).await;
        match out {
            Ok(o) => results::write(results, o, results::status(autocommit, in_tx)).await,
            Err(e) => {
                results
                    .error(ErrorKind::ER_UNKNOWN_ERROR, &self.arm(&e))
                    .await
            }
        }
    }

    async fn on_close<'a>(&'a mut self, stmt: u32)
    where
        W: 'async_trait,
    {
        self.statements.remove(&stmt);
    }

    async fn on_query<'a>(
        &'a mut self,
        query: &'a str,
        results: QueryResultWriter<'a, W>,
    ) -> io::Result<()> {
        let (out, autocommit, in_tx) = self.run(query.to_string(), Vec::new()).await;
        match out {
            Ok(o) => results::write(results, o, results::status(autocommit, in_tx)).await,
            Err(e) => {
                results
                    .error(ErrorKind::ER_UNKNOWN_ERROR, &self.arm(&e))
                    .await
            }
        }
    }

    async fn on_init<'a>(&'a mut self, db: &'a str, writer: InitWriter<'a, W>) -> io::Result<()> {
        let session = match self.session() {
            Ok(s) => s,
            Err(e) => {
                return writer
                    .error(ErrorKind::ER_UNKNOWN_ERROR, &self.arm(&e))
                    .await
            }
        };
        let db = db.to_string();
        let used = tokio::task::spawn_blocking(move || session.lock().use_database(&db))
            .await
            .unwrap_or_else(|e| Err(SqlError::Internal(e.to_string())));
        match used {
            Ok(()) => writer.ok().await,
            Err(e) => {
                writer
                    .error(ErrorKind::ER_UNKNOWN_ERROR, &self.arm(&e))
                    .await
            }
        }
    }
}

fn param_value(v: ValueInner) -> Value {
    match v {
        ValueInner::NULL => Value::Null,
        ValueInner::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => Value::Text(s.to_string()),
            Err(_) => Value::Blob(b.to_vec()),
        },
        ValueInner::Int(i) => Value::Int(i),
        ValueInner::UInt(u) => {
            i64::try_from(u).map_or_else(|_| Value::Text(u.to_string()), Value::Int)
        }
        ValueInner::Double(f) => Value::Float(f),
        ValueInner::Date(b) | ValueInner::Datetime(b) => binary_datetime(b),
        ValueInner::Time(b) => binary_time(b),
    }
}

/// MySQL's binary DATE/DATETIME: year (2 bytes LE), month, day, then optionally hour, minute, second and
/// microseconds (4 bytes LE).
fn binary_datetime(b: &[u8]) -> Value {
    if b.len() < 4 {
        return Value::Text("0000-00-00 00:00:00".into());
    }
    let (y, m, d) = (u16::from_le_bytes([b[0], b[1]]), b[2], b[3]);
    if b.len() == 4 {
        return Value::Text(format!("{y:04}-{m:02}-{d:02}"));
    }
    let (h, mi, s) = (
        b[4],
        b.get(5).copied().unwrap_or(0),
        b.get(6).copied().unwrap_or(0),
    );
    let mut text = format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}");
    if b.len() >= 11 {
        let micros = u32::from_le_bytes([b[7], b[8], b[9], b[10]]);
        text.push_str(&format!(".{micros:06}"));
    }
    Value::Text(text)
}

/// MySQL's binary TIME: sign, days (4 bytes), hour, minute, second, optionally microseconds.
fn binary_time(b: &[u8]) -> Value {
    if b.len() < 8 {
        return Value::Text("00:00:00".into());
    }
    let negative = b[0] == 1;
    let days = u64::from(u32::from_le_bytes([b[1], b[2], b[3], b[4]]));
    let hours = days * 24 + u64::from(b[5]);
    let sign = if negative { "-" } else { "" };
    Value::Text(format!("{sign}{hours:02}:{:02}:{:02}", b[6], b[7]))
}
