//! One MySQL connection: the handshake and login, then the command loop that hands statements to
//! the SQL layer's session on a blocking thread and writes what it answers.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use mysql_common::constants::{CapabilityFlags, ColumnFlags, ColumnType, Command, StatusFlags};
use mysql_common::io::ParseBuf;
use mysql_common::packets::{AuthPlugin, HandshakeResponse};
use mysql_common::proto::MyDeserialize;
use mysql_common::value::{BinValue, ValueDeserializer};
use tenantry_net::{Stream, Tls};
use tenantry_sql::{
    ColumnKind, Engine, Output, RowBatch, RowSink, Session, SqlError, Value, SERVER_VERSION,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::auth::{Proof, Sha2Cache};
use crate::local_infile::{ClientFiles, FileRequest};
use crate::packets::{PacketError, PacketStream};
use crate::protocol::{self, ColumnDef};
use crate::query_text::statement_text;
use crate::results;

/// Command bytes, for matching.
const COM_FIELD_LIST: u8 = Command::COM_FIELD_LIST as u8;
const COM_INIT_DB: u8 = Command::COM_INIT_DB as u8;
const COM_PING: u8 = Command::COM_PING as u8;
const COM_PROCESS_KILL: u8 = Command::COM_PROCESS_KILL as u8;
const COM_QUERY: u8 = Command::COM_QUERY as u8;
const COM_QUIT: u8 = Command::COM_QUIT as u8;
const COM_RESET_CONNECTION: u8 = Command::COM_RESET_CONNECTION as u8;
const COM_SET_OPTION: u8 = Command::COM_SET_OPTION as u8;
const COM_STATISTICS: u8 = Command::COM_STATISTICS as u8;
const COM_STMT_CLOSE: u8 = Command::COM_STMT_CLOSE as u8;
const COM_STMT_EXECUTE: u8 = Command::COM_STMT_EXECUTE as u8;
const COM_STMT_PREPARE: u8 = Command::COM_STMT_PREPARE as u8;
const COM_STMT_RESET: u8 = Command::COM_STMT_RESET as u8;
const COM_STMT_SEND_LONG_DATA: u8 = Command::COM_STMT_SEND_LONG_DATA as u8;

/// Prepared statements one connection may hold (MySQL's max_prepared_stmt_count is per server; this is per client).
const MAX_PREPARED: usize = 1024;

/// Flush a large result set whenever this much is queued, so it never sits whole in memory twice.
const FLUSH_AT: usize = 256 * 1024;

/// The largest first packet a client may send (a handshake response with its attributes, or a TLS request).
const MAX_HANDSHAKE: usize = 64 * 1024;

/// A prepared statement: its text and what the client bound to it.
struct Statement {
    sql: String,
    params: usize,
    /// The types the client last bound (sent with the first execute, then only when they change).
    bound: Vec<(ColumnType, ColumnFlags)>,
    /// The type each parameter's place implies (the column it is stored into or compared with).
    targets: Vec<Option<ColumnKind>>,
    /// Values sent ahead with COM_STMT_SEND_LONG_DATA, by parameter index.
    long_data: HashMap<usize, Vec<u8>>,
}

/// How result rows are encoded: text for COM_QUERY, binary for COM_STMT_EXECUTE.
#[derive(Clone, Copy)]
enum RowFormat {
    Text,
    Binary,
}

/// A statement's streamed result on its way to the client (see `on_session_streaming`).
struct Streaming {
    batches: mpsc::Receiver<RowBatch>,
    format: RowFormat,
    /// The columns, until the header goes out with the first rows.
    columns: Vec<tenantry_sql::Column>,
    /// The definitions sent, once the header is out.
    defs: Option<Vec<ColumnDef>>,
}

/// The next batch of a streamed result; never, without one.
async fn next_batch(rows: &mut Option<&mut Streaming>) -> Option<RowBatch> {
    match rows.as_mut() {
        Some(st) => st.batches.recv().await,
        None => std::future::pending().await,
    }
}

/// How a connection ended.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The socket or the framing failed.
    #[error("{0}")]
    Packet(#[from] PacketError),
    /// The client's handshake could not be understood.
    #[error("bad handshake: {0}")]
    Handshake(String),
    /// The login was refused (the client was told why).
    #[error("login refused: {0}")]
    Refused(String),
}

impl From<io::Error> for ConnectionError {
    fn from(e: io::Error) -> Self {
        Self::Packet(PacketError::Io(e))
    }
}

/// One client connection.
pub struct Connection {
    io: PacketStream<Stream>,
    tls: Tls,
    sha2_cache: Arc<Sha2Cache>,
    /// Set once the connection is upgraded to TLS (see [`Connection::upgraded`]).
    upgraded: Arc<AtomicBool>,
    engine: Arc<Engine>,
    id: u32,
    peer: String,
    killed: CancellationToken,
    logged_in: CancellationToken,
    caps: CapabilityFlags,
    /// The session, moved onto a blocking thread while a statement runs and back after.
    session: Option<Session>,
    statements: HashMap<u32, Statement>,
    next_statement: u32,
    /// A running statement's requests for the client's files (LOAD DATA LOCAL INFILE).
    file_requests: mpsc::UnboundedReceiver<FileRequest>,
    file_requester: mpsc::UnboundedSender<FileRequest>,
    /// CLIENT_MULTI_STATEMENTS as negotiated, or as COM_SET_OPTION last set it.
    multi_statements: bool,
    /// While a COM_QUERY of several statements runs all but its last: SERVER_MORE_RESULTS_EXISTS.
    more_results: bool,
}

/// Whether `login` names a user without a password (a catalog read, off the reactor).
async fn has_no_password(engine: &Arc<Engine>, login: &str) -> bool {
    let (engine, login) = (engine.clone(), login.to_string());
    tokio::task::spawn_blocking(move || engine.login_has_no_password(&login))
        .await
        .unwrap_or(false)
}

/// What the listener gives each of its connections.
pub(crate) struct Listener {
    /// The server's TLS certificate (if any) and whether plain logins are refused.
    pub(crate) tls: Tls,
    /// caching_sha2_password's cache of logins.
    pub(crate) sha2_cache: Arc<Sha2Cache>,
}

impl Connection {
    /// A connection from `peer` under connection id `id`.
    pub(crate) fn new(
        stream: Stream,
        listener: &Listener,
        engine: Arc<Engine>,
        id: u32,
        peer: String,
        killed: CancellationToken,
        logged_in: CancellationToken,
    ) -> Self {
        let (file_requester, file_requests) = mpsc::unbounded_channel();
        Self {
            file_requests,
            file_requester,
            io: PacketStream::new(stream),
            tls: listener.tls.clone(),
            sha2_cache: listener.sha2_cache.clone(),
            upgraded: Arc::default(),
            engine,
            id,
            peer,
            killed,
            logged_in,
            caps: protocol::server_capabilities(false),
            session: None,
            statements: HashMap::new(),
            next_statement: 1,
            multi_statements: false,
            more_results: false,
        }
    }

    /// A flag set once the connection is upgraded to TLS, for the listener to read after the connection's
    /// future is gone: the raw socket then carries TLS records, so nothing may be written on it in plain text.
    pub(crate) fn upgraded(&self) -> Arc<AtomicBool> {
        self.upgraded.clone()
    }

    /// Logs the client in and serves its commands until it quits or the connection fails.
    pub async fn run(mut self) -> Result<(), ConnectionError> {
        self.login().await?;
        self.logged_in.cancel();
        self.serve().await
    }

    fn status(&self) -> StatusFlags {
        let status = match &self.session {
            Some(s) => {
                let mut flags = protocol::status_flags(s.autocommit(), s.in_transaction());
                flags.set(
                    StatusFlags::SERVER_STATUS_NO_INDEX_USED,
                    s.last_query_scanned(),
                );
                flags
            }
            None => protocol::status_flags(true, false),
        };
        if self.more_results {
            status | StatusFlags::SERVER_MORE_RESULTS_EXISTS
        } else {
            status
        }
    }

    async fn send_error(&mut self, e: &SqlError) -> io::Result<()> {
        let w = e.wire();
        if w.mysql_code == 1105 {
            tracing::warn!(session = self.id, error = %w.message, "statement failed");
        }
        self.io
            .write(&protocol::err(w.mysql_code, w.mysql_state, &w.message))?;
        self.io.flush().await
    }

    async fn send_ok(&mut self, affected: u64, last_insert_id: u64) -> io::Result<()> {
        let ok = protocol::ok(self.caps, affected, last_insert_id, self.status(), 0);
        self.io.write(&ok)?;
        self.io.flush().await
    }

    async fn login(&mut self) -> Result<(), ConnectionError> {
        let salt = random_salt();
        let offers_tls = self.tls.acceptor().is_some();
        self.io.write(&protocol::handshake(
            SERVER_VERSION,
            self.id,
            &salt,
            self.status(),
            offers_tls,
        ))?;
        self.io.flush().await?;
        let closed = || ConnectionError::Handshake("closed before the handshake".into());
        // Read exactly one packet: after a TLS request the client's TLS handshake follows at once.
        let mut packet = self
            .io
            .read_exact_one(MAX_HANDSHAKE)
            .await?
            .ok_or_else(closed)?;
        let wants_tls = packet
            .get(..4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .is_some_and(|c| {
                CapabilityFlags::from_bits_truncate(c).contains(CapabilityFlags::CLIENT_SSL)
            });
        if wants_tls {
            let Some(acceptor) = self.tls.acceptor().cloned() else {
                return Err(ConnectionError::Handshake(
                    "TLS requested; the server offers none".into(),
                ));
            };
            self.io.stream_mut().start_tls(&acceptor).await?;
            self.upgraded.store(true, Ordering::Relaxed);
            packet = self.io.read().await?.ok_or_else(closed)?;
        }
        let response = HandshakeResponse::deserialize((), &mut ParseBuf(&packet))
            .map_err(|e| ConnectionError::Handshake(e.to_string()))?;
        let client = response.capabilities();
        if !client.contains(CapabilityFlags::CLIENT_PROTOCOL_41) {
            let e = SqlError::Unsupported("a client without the 4.1 protocol".into());
            self.send_error(&e).await?;
            return Err(ConnectionError::Handshake(e.to_string()));
        }
        if self.tls.required() && !self.io.stream().is_tls() {
            let e = SqlError::InsecureTransport;
            tracing::info!(session = self.id, peer = %self.peer, "mysql login refused: {e}");
            self.send_error(&e).await?;
            return Err(ConnectionError::Refused(e.to_string()));
        }
        self.caps = protocol::server_capabilities(offers_tls) & client;
        self.multi_statements = self.caps.contains(CapabilityFlags::CLIENT_MULTI_STATEMENTS);
        let login = String::from_utf8_lossy(response.user()).into_owned();
        let db = response
            .db_name()
            .filter(|d| !d.is_empty())
            .map(|d| String::from_utf8_lossy(d).into_owned());
        let scramble = response.scramble_buf().to_vec();
        let proof = match response.auth_plugin() {
            // A client whose own default plugin is not the announced one may answer with an empty response
            // and wait to be switched (MariaDB's client with --default-auth=mysql_native_password does),
            // while others mean an empty password by it (Connector/J, minimal clients that read no switch):
            // only a user who has a password is switched.
            Some(AuthPlugin::MysqlNativePassword)
                if scramble.is_empty() && !has_no_password(&self.engine, &login).await =>
            {
                Proof::Native(self.switch_to_native(&salt).await?)
            }
            None | Some(AuthPlugin::MysqlNativePassword) => Proof::Native(scramble),
            Some(AuthPlugin::CachingSha2Password) => {
                self.sha2_exchange(&login, &salt, scramble).await?
            }
            // Others (MariaDB's ed25519, old passwords ...): ask for a mysql_native_password answer.
            Some(_) => Proof::Native(self.switch_to_native(&salt).await?),
        };
        self.engine.throttle_login(&login, &self.peer).await;
        let engine = self.engine.clone();
        let (peer, id, killed) = (self.peer.clone(), self.id, self.killed.clone());
        let cache = self.sha2_cache.clone();
        let opened = tokio::task::spawn_blocking(move || {
            let identity = engine.authenticate(&login, &peer, proof.using_password(), |user| {
                proof.verify(user, &salt)
            })?;
            if let Proof::Cleartext(password) = &proof {
                cache.remember(&login, &identity.user.scram_verifier, password);
            }
            let mut session = Session::open(engine, identity, id, &peer, "mysql", killed)?;
            if let Some(db) = db {
                session.use_database(&db)?;
            }
            Ok::<_, SqlError>(session)
        })
        .await
        .unwrap_or_else(|e| Err(SqlError::Internal(e.to_string())));
        match opened {
            Ok(mut session) => {
                if self.caps.contains(CapabilityFlags::CLIENT_LOCAL_FILES) {
                    session.set_local_files(Some(Box::new(ClientFiles::new(
                        self.file_requester.clone(),
                    ))));
                }
                tracing::info!(session = self.id, tenant = %session.identity().tenant.tenant_name, user = %session.identity().user.name, "mysql login");
                self.session = Some(session);
                self.send_ok(0, 0).await?;
                Ok(())
            }
            Err(e) => {
                tracing::info!(session = self.id, peer = %self.peer, "mysql login refused: {e}");
                self.send_error(&e).await?;
                Err(ConnectionError::Refused(e.to_string()))
            }
        }
    }

    /// caching_sha2_password after the client's scramble: the fast path when the cache vouches for it, the
    /// password itself over TLS, otherwise a switch to mysql_native_password (a plain connection never
    /// carries the password).
    async fn sha2_exchange(
        &mut self,
        login: &str,
        salt: &[u8; 20],
        scramble: Vec<u8>,
    ) -> Result<Proof, ConnectionError> {
        if scramble.is_empty() {
            // An empty password: nothing to prove beyond the user having none.
            return Ok(Proof::Native(scramble));
        }
        if let Some(verifier) = self.sha2_cache.fast(login, salt, &scramble) {
            self.io.write(&protocol::SHA2_FAST_AUTH_SUCCESS)?;
            self.io.flush().await?;
            return Ok(Proof::Cached { verifier });
        }
        if !self.io.stream().is_tls() {
            return Ok(Proof::Native(self.switch_to_native(salt).await?));
        }
        self.io.write(&protocol::SHA2_PERFORM_FULL_AUTH)?;
        self.io.flush().await?;
        let mut password = self.io.read().await?.ok_or_else(|| {
            ConnectionError::Handshake("closed during caching_sha2_password".into())
        })?;
        // The password comes NUL-terminated.
        if password.last() == Some(&0) {
            password.pop();
        }
        Ok(Proof::Cleartext(
            String::from_utf8_lossy(&password).into_owned(),
        ))
    }

    /// Asks the client to answer the nonce with mysql_native_password instead; returns its answer.
    async fn switch_to_native(&mut self, salt: &[u8; 20]) -> Result<Vec<u8>, ConnectionError> {
        self.io
            .write(&protocol::auth_switch(protocol::NATIVE_PASSWORD, salt))?;
        self.io.flush().await?;
        self.io.read().await?.ok_or_else(|| {
            ConnectionError::Handshake("closed during the authentication switch".into())
        })
    }

    async fn serve(&mut self) -> Result<(), ConnectionError> {
        loop {
            self.io.reset_sequence();
            let packet = match self.io.read().await {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(()),
                Err(PacketError::TooLarge) => {
                    // MySQL answers 1153 and closes: the rest of the packet cannot be skipped reliably.
                    self.send_error(&SqlError::PacketTooLarge).await?;
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            };
            let Some((&command, body)) = packet.split_first() else {
                self.send_error(&SqlError::MalformedPacket).await?;
                continue;
            };
            match command {
                COM_QUIT => return Ok(()),
                COM_QUERY => {
                    let sql = statement_text(body);
                    if self.multi_statements {
                        self.queries(&sql).await?;
                    } else {
                        self.query(sql, Vec::new(), RowFormat::Text).await?;
                    }
                }
                COM_INIT_DB => {
                    let db = String::from_utf8_lossy(body).into_owned();
                    self.init_db(db).await?;
                }
                COM_PING => self.send_ok(0, 0).await?,
                COM_FIELD_LIST => {
                    // Deprecated; clients use it only to complete names. An empty list is a valid answer.
                    let end = protocol::rows_end(self.caps, self.status(), 0);
                    self.io.write(&end)?;
                    self.io.flush().await?;
                }
                COM_STATISTICS => {
                    let threads = self.engine.sessions().count();
                    let text = format!("Uptime: 0  Threads: {threads}  Questions: 0  Slow queries: 0  Opens: 0  Open tables: 0  Queries per second avg: 0.000");
                    self.io.write(text.as_bytes())?;
                    self.io.flush().await?;
                }
                COM_PROCESS_KILL => {
                    let target = body
                        .get(..4)
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                    match target {
                        Some(t) => {
                            self.query(format!("KILL {t}"), Vec::new(), RowFormat::Text)
                                .await?
                        }
                        None => self.send_error(&SqlError::MalformedPacket).await?,
                    }
                }
                COM_RESET_CONNECTION => {
                    self.statements.clear();
                    match self
                        .on_session(|s| s.reset().map(|()| Output::ok()))
                        .await?
                    {
                        Ok(_) => self.send_ok(0, 0).await?,
                        Err(e) => self.send_error(&e).await?,
                    }
                }
                COM_SET_OPTION => {
                    // MYSQL_OPTION_MULTI_STATEMENTS_ON (0) or _OFF (1); MySQL answers with an EOF packet.
                    match body.get(..2).map(|b| u16::from_le_bytes([b[0], b[1]])) {
                        Some(option @ (0 | 1)) => {
                            self.multi_statements = option == 0;
                            let eof = protocol::eof(self.status(), 0);
                            self.io.write(&eof)?;
                            self.io.flush().await?;
                        }
                        _ => self.send_error(&SqlError::UnknownCommand).await?,
                    }
                }
                COM_STMT_PREPARE => {
                    let sql = statement_text(body);
                    self.prepare(sql).await?;
                }
                COM_STMT_EXECUTE => self.execute(body).await?,
                COM_STMT_SEND_LONG_DATA => {
                    // No reply, as in MySQL.
                    if body.len() >= 6 {
                        let id = u32::from_le_bytes([body[0], body[1], body[2], body[3]]);
                        let param = u16::from_le_bytes([body[4], body[5]]) as usize;
                        if let Some(st) = self.statements.get_mut(&id) {
                            st.long_data
                                .entry(param)
                                .or_default()
                                .extend_from_slice(&body[6..]);
                        }
                    }
                }
                COM_STMT_CLOSE => {
                    // No reply, as in MySQL.
                    if body.len() >= 4 {
                        let id = u32::from_le_bytes([body[0], body[1], body[2], body[3]]);
                        self.statements.remove(&id);
                    }
                }
                COM_STMT_RESET => {
                    let id = body
                        .get(..4)
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                    match id.and_then(|id| self.statements.get_mut(&id)) {
                        Some(st) => {
                            st.long_data.clear();
                            self.send_ok(0, 0).await?;
                        }
                        None => {
                            let e = unknown_statement(id.unwrap_or(0), "mysqld_stmt_reset");
                            self.send_error(&e).await?;
                        }
                    }
                }
                _ => self.send_error(&SqlError::UnknownCommand).await?,
            }
        }
    }

    /// Runs `f` on the session on a blocking thread.
    async fn on_session<T, F>(&mut self, f: F) -> io::Result<Result<T, SqlError>>
    where
        T: Send + 'static,
        F: FnOnce(&mut Session) -> Result<T, SqlError> + Send + 'static,
    {
        self.on_session_streaming(f, None).await
    }

    /// Runs `f` on the session on a blocking thread, writing the rows a streamed result sends to `rows`
    /// meanwhile (the result set's header with its first rows). Waiting on the client's socket holds the
    /// statement back through the bounded channel: the server never holds more than a few batches of a
    /// result, however slowly the client reads.
    async fn on_session_streaming<T, F>(
        &mut self,
        f: F,
        mut rows: Option<&mut Streaming>,
    ) -> io::Result<Result<T, SqlError>>
    where
        T: Send + 'static,
        F: FnOnce(&mut Session) -> Result<T, SqlError> + Send + 'static,
    {
        let Some(mut session) = self.session.take() else {
            return Err(io::Error::other("no session"));
        };
        let mut task = tokio::task::spawn_blocking(move || {
            let out = f(&mut session);
            (session, out)
        });
        let joined = loop {
            tokio::select! {
                joined = &mut task => break joined,
                Some(request) = self.file_requests.recv() => self.send_file(request).await?,
                Some(batch) = next_batch(&mut rows) => {
                    if let Some(st) = rows.as_mut() {
                        self.write_batch(st, batch).await?;
                    }
                }
            }
        };
        // A request the statement made and gave up on before it was answered is not for the next one.
        while self.file_requests.try_recv().is_ok() {}
        // Batches sent before the statement ended come before its end; the sink is gone with the statement.
        if let Some(st) = rows.as_mut() {
            while let Ok(batch) = st.batches.try_recv() {
                self.write_batch(st, batch).await?;
            }
        }
        match joined {
            Ok((session, out)) => {
                self.session = Some(session);
                Ok(out)
            }
            // The statement panicked and took the session with it: the connection cannot go on.
            Err(e) => Err(io::Error::other(format!("statement task failed: {e}"))),
        }
    }

    /// Writes one batch of a streamed result: the header once the first rows are there (column types are
    /// those of the rows read before streaming began), then rows, flushed as they pile up.
    async fn write_batch(&mut self, st: &mut Streaming, batch: RowBatch) -> io::Result<()> {
        match batch {
            RowBatch::Columns(columns) => st.columns = columns,
            RowBatch::Rows(rows) => {
                if st.defs.is_none() {
                    let defs = results::streamed_column_defs(&st.columns, &rows);
                    self.write_header(&defs)?;
                    st.defs = Some(defs);
                }
                let defs = st.defs.as_deref().unwrap_or_default();
                for row in &rows {
                    let packet = match st.format {
                        RowFormat::Binary => results::binary_row(row, defs),
                        RowFormat::Text => results::text_row(row),
                    };
                    self.io.write(&packet)?;
                    if self.io.queued() >= FLUSH_AT {
                        self.io.flush().await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A result set's column count and definitions (and the EOF after them for old clients).
    fn write_header(&mut self, defs: &[ColumnDef]) -> io::Result<()> {
        self.io.write(&protocol::column_count(defs.len()))?;
        for d in defs {
            self.io.write(&protocol::column_definition(d))?;
        }
        if !self.caps.contains(CapabilityFlags::CLIENT_DEPRECATE_EOF) {
            self.io.write(&protocol::eof(self.status(), 0))?;
        }
        Ok(())
    }

    /// Answers a statement's file request: MySQL's LOCAL INFILE request, then the client's packets up
    /// to the empty one that ends the file, forwarded to the statement as they come. The client's
    /// packets are read to the end even if the statement stopped listening, so the protocol stays in step.
    async fn send_file(&mut self, request: FileRequest) -> io::Result<()> {
        let mut packet = Vec::with_capacity(1 + request.name.len());
        packet.push(0xFB);
        packet.extend_from_slice(request.name.as_bytes());
        self.io.write(&packet)?;
        self.io.flush().await?;
        let mut forward = Some(request.data);
        loop {
            let failed = match self.io.read().await {
                Ok(Some(chunk)) if chunk.is_empty() => {
                    if let Some(tx) = forward {
                        let _ = tx.send(Ok(None)).await;
                    }
                    return Ok(());
                }
                Ok(Some(chunk)) => {
                    if let Some(tx) = &forward {
                        if tx.send(Ok(Some(chunk))).await.is_err() {
                            forward = None;
                        }
                    }
                    continue;
                }
                Ok(None) => io::Error::from(io::ErrorKind::UnexpectedEof),
                Err(PacketError::Io(e)) => e,
                Err(e) => io::Error::new(io::ErrorKind::InvalidData, e.to_string()),
            };
            // A file cut short is an error for the statement, never a shorter file.
            if let Some(tx) = forward.take() {
                let _ = tx
                    .send(Err(io::Error::new(failed.kind(), failed.to_string())))
                    .await;
            }
            return Err(failed);
        }
    }

    async fn init_db(&mut self, db: String) -> io::Result<()> {
        match self.on_session(move |s| s.use_database(&db)).await? {
            Ok(()) => self.send_ok(0, 0).await,
            Err(e) => self.send_error(&e).await,
        }
    }

    /// Runs the statements of one COM_QUERY in turn (CLIENT_MULTI_STATEMENTS), each result but the last
    /// flagged SERVER_MORE_RESULTS_EXISTS; the first error ends the sequence, as in MySQL.
    async fn queries(&mut self, sql: &str) -> io::Result<()> {
        let statements: Vec<String> = tenantry_sql::parser::cursor::split_statements(sql)
            .into_iter()
            .map(str::to_string)
            .collect();
        let last = statements.len().saturating_sub(1);
        for (i, statement) in statements.into_iter().enumerate() {
            self.more_results = i < last;
            let done = self.run_query(statement, Vec::new(), RowFormat::Text).await;
            self.more_results = false;
            if !done? {
                break;
            }
        }
        Ok(())
    }

    /// Runs a statement and writes its result, rows in the given protocol.
    async fn query(&mut self, sql: String, params: Vec<Value>, rows: RowFormat) -> io::Result<()> {
        self.run_query(sql, params, rows).await.map(|_| ())
    }

    /// Runs a statement and writes its result; whether it succeeded.
    async fn run_query(
        &mut self,
        sql: String,
        params: Vec<Value>,
        rows: RowFormat,
    ) -> io::Result<bool> {
        let (sink, batches) = RowSink::channel(tokio::runtime::Handle::current());
        let mut streaming = Streaming {
            batches,
            format: rows,
            columns: Vec::new(),
            defs: None,
        };
        let out = self
            .on_session_streaming(
                move |s| {
                    s.set_row_sink(Some(sink));
                    s.execute(&sql, &params)
                },
                Some(&mut streaming),
            )
            .await?;
        match out {
            Ok(Output::Done {
                affected,
                last_insert_id,
            }) => self.send_ok(affected, last_insert_id).await.map(|()| true),
            Ok(Output::Streamed { .. }) => {
                if streaming.defs.is_none() {
                    // Every streamed result sends rows; an empty one would still need its header.
                    let defs = results::streamed_column_defs(&streaming.columns, &[]);
                    self.write_header(&defs)?;
                }
                let end = protocol::rows_end(self.caps, self.status(), 0);
                self.io.write(&end)?;
                self.io.flush().await.map(|()| true)
            }
            // An error after rows went out ends the result set in place of its EOF, as in MySQL.
            Err(e) => self.send_error(&e).await.map(|()| false),
            Ok(Output::Rows(rs)) => {
                let defs = results::column_defs(&rs);
                self.write_header(&defs)?;
                for row in &rs.rows {
                    let packet = match rows {
                        RowFormat::Binary => results::binary_row(row, &defs),
                        RowFormat::Text => results::text_row(row),
                    };
                    self.io.write(&packet)?;
                    if self.io.queued() >= FLUSH_AT {
                        self.io.flush().await?;
                    }
                }
                let end = protocol::rows_end(self.caps, self.status(), 0);
                self.io.write(&end)?;
                self.io.flush().await.map(|()| true)
            }
        }
    }

    async fn prepare(&mut self, sql: String) -> io::Result<()> {
        if self.statements.len() >= MAX_PREPARED {
            return self
                .send_error(&SqlError::TooManyPreparedStatements(MAX_PREPARED))
                .await;
        }
        let text = sql.clone();
        let prepared = match self.on_session(move |s| s.prepare(&text)).await? {
            Ok(p) => p,
            Err(e) => return self.send_error(&e).await,
        };
        let id = self.next_statement;
        self.next_statement = self.next_statement.wrapping_add(1).max(1);
        let params: Vec<ColumnDef> = (0..prepared.params)
            .map(|_| results::column_def("?", ColumnKind::Text))
            .collect();
        let columns: Vec<ColumnDef> = prepared
            .columns
            .iter()
            .zip(&prepared.kinds)
            .map(|(name, kind)| results::column_def(name, *kind))
            .collect();
        self.statements.insert(
            id,
            Statement {
                sql,
                params: prepared.params,
                targets: prepared.param_kinds.clone(),
                bound: Vec::new(),
                long_data: HashMap::new(),
            },
        );
        self.io.write(&protocol::prepare_ok(
            id,
            columns.len() as u16,
            params.len() as u16,
        ))?;
        for group in [&params, &columns] {
            if group.is_empty() {
                continue;
            }
            for d in group.iter() {
                self.io.write(&protocol::column_definition(d))?;
            }
            if !self.caps.contains(CapabilityFlags::CLIENT_DEPRECATE_EOF) {
                self.io.write(&protocol::eof(self.status(), 0))?;
            }
        }
        self.io.flush().await
    }

    async fn execute(&mut self, body: &[u8]) -> io::Result<()> {
        let Some(id) = body
            .get(..4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        else {
            return self.send_error(&SqlError::MalformedPacket).await;
        };
        let Some(st) = self.statements.get_mut(&id) else {
            return self
                .send_error(&unknown_statement(id, "mysqld_stmt_execute"))
                .await;
        };
        // stmt id (4), flags (1), iteration count (4), then the parameters.
        let decoded = body
            .get(9..)
            .ok_or(())
            .and_then(|params| decode_params(st, params));
        st.long_data.clear();
        let sql = st.sql.clone();
        match decoded {
            Ok(values) => self.query(sql, values, RowFormat::Binary).await,
            Err(()) => self.send_error(&SqlError::MalformedPacket).await,
        }
    }
}

fn unknown_statement(id: u32, command: &'static str) -> SqlError {
    SqlError::UnknownStatement { id, command }
}

/// Decodes COM_STMT_EXECUTE's parameters: NULL bitmap, "new types bound" flag, types, values.
fn decode_params(st: &mut Statement, mut input: &[u8]) -> Result<Vec<Value>, ()> {
    let n = st.params;
    if n == 0 {
        return Ok(Vec::new());
    }
    let bitmap_len = n.div_ceil(8);
    let bitmap = input.get(..bitmap_len).ok_or(())?.to_vec();
    input = &input[bitmap_len..];
    let (&new_types, rest) = input.split_first().ok_or(())?;
    input = rest;
    if new_types == 1 {
        let types = input.get(..2 * n).ok_or(())?;
        st.bound = types
            .chunks_exact(2)
            .map(|t| {
                let ty = ColumnType::try_from(t[0]).unwrap_or(ColumnType::MYSQL_TYPE_VAR_STRING);
                let flags = if t[1] & 0x80 != 0 {
                    ColumnFlags::UNSIGNED_FLAG
                } else {
                    ColumnFlags::empty()
                };
                (ty, flags)
            })
            .collect();
        input = &input[2 * n..];
    }
    if st.bound.len() != n {
        return Err(());
    }
    let mut buf = ParseBuf(input);
    let mut values = Vec::with_capacity(n);
    for i in 0..n {
        let (ty, flags) = st.bound[i];
        if bitmap[i / 8] & (1 << (i % 8)) != 0 {
            values.push(Value::Null);
            continue;
        }
        if let Some(data) = st.long_data.get(&i) {
            values.push(bytes_param(ty, data));
            continue;
        }
        if !decodable(ty) {
            return Err(());
        }
        let v = ValueDeserializer::<BinValue>::deserialize((ty, flags), &mut buf)
            .map_err(|_| ())?
            .0;
        let target = st.targets.get(i).copied().flatten();
        values.push(param_value(ty, v, target));
    }
    Ok(values)
}

/// The types mysql_common decodes (it panics on the rest, which no client sends as a parameter).
fn decodable(ty: ColumnType) -> bool {
    use ColumnType as T;
    matches!(
        ty,
        T::MYSQL_TYPE_STRING
            | T::MYSQL_TYPE_VAR_STRING
            | T::MYSQL_TYPE_VARCHAR
            | T::MYSQL_TYPE_BLOB
            | T::MYSQL_TYPE_TINY_BLOB
            | T::MYSQL_TYPE_MEDIUM_BLOB
            | T::MYSQL_TYPE_LONG_BLOB
            | T::MYSQL_TYPE_SET
            | T::MYSQL_TYPE_ENUM
            | T::MYSQL_TYPE_DECIMAL
            | T::MYSQL_TYPE_NEWDECIMAL
            | T::MYSQL_TYPE_BIT
            | T::MYSQL_TYPE_GEOMETRY
            | T::MYSQL_TYPE_JSON
            | T::MYSQL_TYPE_TINY
            | T::MYSQL_TYPE_SHORT
            | T::MYSQL_TYPE_YEAR
            | T::MYSQL_TYPE_LONG
            | T::MYSQL_TYPE_INT24
            | T::MYSQL_TYPE_LONGLONG
            | T::MYSQL_TYPE_FLOAT
            | T::MYSQL_TYPE_DOUBLE
            | T::MYSQL_TYPE_TIMESTAMP
            | T::MYSQL_TYPE_DATE
            | T::MYSQL_TYPE_DATETIME
            | T::MYSQL_TYPE_TIME
            | T::MYSQL_TYPE_NULL
    )
}

fn is_blob_type(ty: ColumnType) -> bool {
    matches!(
        ty,
        ColumnType::MYSQL_TYPE_BLOB
            | ColumnType::MYSQL_TYPE_TINY_BLOB
            | ColumnType::MYSQL_TYPE_MEDIUM_BLOB
            | ColumnType::MYSQL_TYPE_LONG_BLOB
            | ColumnType::MYSQL_TYPE_GEOMETRY
    )
}

/// Bytes bound to a parameter: text when the client says text and they are UTF-8, else bytes.
fn bytes_param(ty: ColumnType, b: &[u8]) -> Value {
    if is_blob_type(ty) {
        return Value::Blob(b.to_vec());
    }
    match std::str::from_utf8(b) {
        Ok(s) => Value::Text(s.to_string()),
        Err(_) => Value::Blob(b.to_vec()),
    }
}

/// A bound parameter as the SQL layer's value. Dates and times become the canonical text of the
/// column they go into (a DATETIME bound to a DATE column keeps its date; a DATE bound to a DATETIME
/// column gets midnight), with six fractional digits when there is a fraction, as MySQL shows DATETIME(6).
fn param_value(ty: ColumnType, v: mysql_common::Value, target: Option<ColumnKind>) -> Value {
    use mysql_common::Value as V;
    match v {
        V::NULL => Value::Null,
        V::Bytes(b) if target == Some(ColumnKind::Blob) => Value::Blob(b),
        V::Bytes(b) => bytes_param(ty, &b),
        V::Int(i) => Value::Int(i),
        V::UInt(u) => i64::try_from(u).map_or_else(|_| Value::Text(u.to_string()), Value::Int),
        // Through its shortest text, so 0.1f32 stays 0.1 rather than 0.10000000149011612.
        V::Float(f) => Value::Float(f.to_string().parse().unwrap_or(f64::from(f))),
        V::Double(f) => Value::Float(f),
        V::Date(y, m, d, h, mi, s, us) => {
            let date = format!("{y:04}-{m:02}-{d:02}");
            let date_only = match target {
                Some(ColumnKind::Date) => true,
                Some(ColumnKind::DateTime | ColumnKind::Timestamp) => false,
                _ => ty == ColumnType::MYSQL_TYPE_DATE,
            };
            if date_only {
                Value::Text(date)
            } else if us == 0 {
                Value::Text(format!("{date} {h:02}:{mi:02}:{s:02}"))
            } else {
                Value::Text(format!("{date} {h:02}:{mi:02}:{s:02}.{us:06}"))
            }
        }
        V::Time(negative, days, h, mi, s, us) => {
            let sign = if negative { "-" } else { "" };
            let hours = u64::from(days) * 24 + u64::from(h);
            if us == 0 {
                Value::Text(format!("{sign}{hours:02}:{mi:02}:{s:02}"))
            } else {
                Value::Text(format!("{sign}{hours:02}:{mi:02}:{s:02}.{us:06}"))
            }
        }
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
