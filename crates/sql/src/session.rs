//! One client session: who it is, its current database, variables and SQLite connection; runs statements.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use crate::engine::Engine;
use crate::error::{Result, SqlError};
use crate::exec;
use crate::login::Identity;
use crate::parser::{self, Command, Parsed};
use crate::processlist::{SessionHandle, SessionInfo, StopFlag, StopReason};
use crate::sqlite::connection::TenantConnection;
use crate::value::{Output, Value};

/// A session. Its methods block on SQLite: front ends call them from a blocking thread.
pub struct Session {
    pub(crate) engine: Arc<Engine>,
    pub(crate) handle: Arc<SessionHandle>,
    pub(crate) identity: Identity,
    pub(crate) db: Option<String>,
    pub(crate) conn: TenantConnection,
    pub(crate) vars: HashMap<String, Value>,
    pub(crate) user_vars: HashMap<String, Value>,
    pub(crate) autocommit: bool,
    pub(crate) last_insert_id: u64,
    /// Cancelled by KILL QUERY (and cancel requests) while a statement runs: long waits watch it.
    pub(crate) interrupt: tokio_util::sync::CancellationToken,
    /// The session's turn to write, held from its first write in a transaction until the transaction ends.
    pub(crate) writer_turn: Option<crate::writers::WriterTurn>,
    /// The text of the running statement (a job's description and statement).
    pub(crate) statement_text: String,
    /// What the tenant's running statements may allocate together.
    budget: Arc<crate::memory::MemoryBudget>,
    /// How `LOAD DATA LOCAL INFILE` gets the client's file; `None`: the front end cannot ask its client.
    pub(crate) local_files: Option<Box<dyn LocalFiles>>,
    /// The error of the last statement, as (MySQL code, message), for SHOW WARNINGS / SHOW ERRORS.
    pub(crate) diagnostics: Option<(u16, String)>,
    /// Statements this session translated before, by text (see `plan_cache.rs`).
    pub(crate) plans: crate::plan_cache::PlanCache,
    /// The session's temporary tables, as (database, table) (see `translate/temporary.rs`).
    pub(crate) temp_tables: std::collections::HashSet<(String, String)>,
    /// The user's grants as of a catalog version: read again only once the catalog changed.
    pub(crate) grants: parking_lot::Mutex<Option<(u64, Arc<Vec<tenantry_catalog::Grant>>)>>,
    /// Where the next query sends a result too big to hold (taken by it); `None`: results are read whole.
    pub(crate) row_sink: Option<crate::stream::RowSink>,
    /// The session's open SQL cursors (PostgreSQL's DECLARE / FETCH).
    pub(crate) cursors: exec::cursors::Cursors,
    /// Whether the last query scanned a table whole (MySQL's SERVER_STATUS_NO_INDEX_USED).
    pub(crate) full_scan: bool,
}

/// How a front end gets a client's file for `LOAD DATA LOCAL INFILE`: it asks its client for the file by name
/// (MySQL's LOCAL INFILE request) and hands back a reader of the bytes the client sends. The reader runs on the
/// statement's blocking thread; the front end feeds it from its connection.
pub trait LocalFiles: Send {
    /// The client's file `name`. An error (the client refused, the connection failed) fails the statement.
    fn open(&mut self, name: &str) -> std::io::Result<Box<dyn std::io::Read + Send + '_>>;
}

/// What a client learns when it prepares a statement.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// How many `?` parameters it takes.
    pub params: usize,
    /// The names of its result columns (empty if it returns none).
    pub columns: Vec<String>,
    /// Their types as far as declared before running (a column's declared type, else text); one per column.
    pub kinds: Vec<crate::value::ColumnKind>,
    /// One per `?`: the type its position implies (the column it meets, or an integer for LIMIT), if any.
    pub param_kinds: Vec<Option<crate::value::ColumnKind>>,
}

impl Session {
    /// Opens a session for an authenticated identity under connection id `id`.
    pub fn open(
        engine: Arc<Engine>,
        identity: Identity,
        id: u32,
        host: &str,
        protocol: &'static str,
        killed: tokio_util::sync::CancellationToken,
    ) -> Result<Self> {
        let stop = Arc::new(StopFlag::default());
        let budget = engine.memory_budget(identity.tenant.tenant_id)?;
        let handle = engine.sessions().register(
            SessionInfo {
                id,
                tenant_id: identity.tenant.tenant_id,
                tenant_name: identity.tenant.tenant_name.clone(),
                user: identity.user.name.clone(),
                host: host.to_string(),
                protocol,
            },
            killed,
            stop.clone(),
            identity.is_cluster_admin(),
        )?;
        let restricted = !identity.user.is_admin;
        let conn = match TenantConnection::open(identity.tenant.tenant_id, stop, restricted) {
            Ok(c) => c,
            Err(e) => {
                engine.sessions().unregister(id);
                return Err(e);
            }
        };
        handle.set_interrupt(conn.interrupt_handle());
        let session = Self {
            engine,
            handle,
            identity,
            db: None,
            conn,
            vars: HashMap::new(),
            user_vars: HashMap::new(),
            autocommit: true,
            last_insert_id: 0,
            interrupt: tokio_util::sync::CancellationToken::new(),
            writer_turn: None,
            statement_text: String::new(),
            budget,
            local_files: None,
            diagnostics: None,
            plans: Default::default(),
            temp_tables: Default::default(),
            grants: Default::default(),
            row_sink: None,
            cursors: Default::default(),
            full_scan: false,
        };
        exec::variables::apply_idle_timeout(&session);
        let mut session = session;
        if session.identity.tenant.compatibility_mode == tenantry_catalog::CompatibilityMode::Oracle
        {
            // In Oracle mode a login has a current schema from the start; the tenant's default database is it.
            let _ = exec::schema::use_database(&mut session, tenantry_catalog::DEFAULT_DATABASE);
        }
        Ok(session)
    }

    /// The connection id.
    pub fn id(&self) -> u32 {
        self.handle.id
    }

    /// The session's shared handle (for KILL and cancel requests).
    pub fn handle(&self) -> &Arc<SessionHandle> {
        &self.handle
    }

    /// Who the session belongs to.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The current database.
    pub fn current_db(&self) -> Option<&str> {
        self.db.as_deref()
    }

    /// Whether autocommit is on.
    pub fn autocommit(&self) -> bool {
        self.autocommit
    }

    /// Whether the last statement was a query that scanned a table whole instead of using an index
    /// (SQLite's full-scan steps), which MySQL reports with SERVER_STATUS_NO_INDEX_USED.
    pub fn last_query_scanned(&self) -> bool {
        self.full_scan
    }

    /// Whether a transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.conn.in_transaction()
    }

    /// The value of a system variable or PostgreSQL setting in this session, as text (`None` if unknown).
    pub fn setting(&self, name: &str) -> Option<String> {
        exec::variables::get(self, &name.to_ascii_lowercase())
            .ok()
            .map(|v| v.to_text().unwrap_or_default())
    }

    /// `USE db`.
    pub fn use_database(&mut self, db: &str) -> Result<()> {
        exec::schema::use_database(self, db)
    }

    /// Lets `LOAD DATA LOCAL INFILE` read clients' files through `files` (`None`: it is refused with 3948, as
    /// MySQL refuses it when local loading is off). A front end sets it when its client offers to send files.
    pub fn set_local_files(&mut self, files: Option<Box<dyn LocalFiles>>) {
        self.local_files = files;
    }

    /// Lets the next statement stream a big result to `sink` (it comes back as [`Output::Streamed`]); a
    /// statement that returns no rows, or few, leaves the sink unused, and it is dropped once the statement ends.
    pub fn set_row_sink(&mut self, sink: Option<crate::stream::RowSink>) {
        self.row_sink = sink;
    }

    /// Runs one statement with `?` parameters.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<Output> {
        self.full_scan = false;
        let result = self.run_statement(sql, |s| s.dispatch(sql, params));
        // Only for this statement: a sink left unused is dropped, which ends its receiver.
        self.row_sink = None;
        if let Err(e) = &result {
            let wire = e.wire();
            self.diagnostics = Some((wire.mysql_code, wire.message));
        }
        result
    }

    /// Runs `f` as one statement `sql` that writes all or nothing, for a front end's statement made of many
    /// steps (PostgreSQL's COPY FROM STDIN, fed by the client while it runs): listed, timed and stoppable as
    /// one statement, its steps run with [`Session::execute_within`]. When `f` fails, everything it wrote is
    /// undone; inside an open transaction the rest of the transaction stays.
    pub fn run_all_or_nothing<T, E: From<SqlError>>(
        &mut self,
        sql: &str,
        f: impl FnOnce(&mut Self) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let outcome = self.run_statement(sql, |s| {
            // The turn first: taking it later restarts a transaction that has not written, which would
            // drop the savepoint.
            s.take_writer_turn()?;
            // A savepoint outside a transaction opens one, and releasing it commits.
            s.conn
                .conn()
                .execute_batch("SAVEPOINT tenantry_statement")?;
            let result = f(s).and_then(|v| {
                s.conn
                    .conn()
                    .execute_batch("RELEASE tenantry_statement")
                    .map_err(|e| E::from(e.into()))?;
                Ok(v)
            });
            if result.is_err() && s.conn.in_transaction() {
                // An interrupted write may already have rolled the whole transaction back: then there is
                // nothing left to undo.
                let _ = s
                    .conn
                    .conn()
                    .execute_batch("ROLLBACK TO tenantry_statement; RELEASE tenantry_statement");
            }
            Ok(result)
        });
        outcome.unwrap_or_else(|e| Err(E::from(e)))
    }

    /// Runs one step of the statement [`Session::run_all_or_nothing`] runs: not listed or timed on its own.
    pub fn execute_within(&mut self, sql: &str, params: &[Value]) -> Result<Output> {
        self.check_interrupted()?;
        self.dispatch(sql, params)
    }

    /// Runs `f` as statement `sql`: listed in SHOW PROCESSLIST, and stoppable by KILL QUERY, a cancel request
    /// or a disconnect from the moment it is listed until it ends.
    fn run_statement<T>(&mut self, sql: &str, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if sql.len() > crate::engine::MAX_STATEMENT_BYTES {
            return Err(SqlError::PacketTooLarge);
        }
        let limit = exec::variables::statement_time_limit(self, sql);
        // What SHOW PROCESSLIST and job descriptions show: destination URIs without their credentials.
        let shown = exec::files::shown_statement(sql);
        let (seq, token) = self.handle.start_statement(&shown, self.db.clone());
        // Armed after the statement is marked started: a deadline can only stop this statement.
        let deadline = limit.map(|l| {
            self.engine
                .watchdog()
                .arm(Instant::now() + l, self.handle.id, seq)
        });
        self.interrupt = token;
        self.statement_text = shown.trim().trim_end_matches(';').trim_end().to_string();
        let span = tracing::debug_span!(
            "statement",
            session = self.handle.id,
            tenant = %self.identity.tenant.tenant_name,
            user = %self.identity.user.name
        );
        let charging = crate::memory::charge_to(&self.budget);
        let result = span.in_scope(|| f(self));
        drop(charging);
        if let Some(d) = deadline {
            self.engine.watchdog().disarm(d);
        }
        // Read before the statement ends (which clears the flag): a stop for time is told apart from a cancel.
        let result = match result {
            // A syntax error quotes the statement: never a destination's credentials.
            Err(SqlError::Syntax { near, line }) => Err(SqlError::Syntax {
                near: exec::files::shown_statement(&near).into_owned(),
                line,
            }),
            Err(SqlError::Interrupted)
                if self.handle.stop_flag().reason() == Some(StopReason::TimedOut) =>
            {
                Err(SqlError::StatementTimeout)
            }
            r => r,
        };
        if matches!(result, Err(SqlError::Deadlock)) && self.conn.in_transaction() {
            // As InnoDB does with a deadlock victim: the whole transaction is rolled back.
            let _ = self.conn.conn().execute_batch("ROLLBACK");
            self.cursors.transaction_ended(false);
        }
        if !self.conn.in_transaction() {
            // The transaction ended (COMMIT, ROLLBACK, an implicit commit, an error SQLite rolled back).
            self.writer_turn = None;
            if !self.cursors.is_empty() {
                self.cursors.transaction_ended(true);
            }
        }
        self.handle.end_statement(self.db.clone());
        result
    }

    /// Waits for the session's turn to write (see `writers.rs`), unless it has it. A transaction that has
    /// only read is restarted as a write transaction once the turn comes: writes then see the latest
    /// committed rows, as InnoDB's do.
    pub(crate) fn take_writer_turn(&mut self) -> Result<()> {
        if self.writer_turn.is_some() {
            return Ok(());
        }
        let timeout = match exec::variables::get(self, "innodb_lock_wait_timeout")? {
            Value::Int(s) => s,
            Value::Text(s) => s.trim().parse().unwrap_or(50),
            _ => 50,
        };
        let queue = self.engine.writer_queue(self.identity.tenant.tenant_id);
        let stop = self.handle.stop_flag();
        let turn = queue.acquire(
            self.handle.id,
            std::time::Duration::from_secs(timeout.clamp(1, 1_073_741_824) as u64),
            &stop,
        )?;
        if self.conn.in_transaction() {
            self.conn
                .conn()
                .execute_batch("ROLLBACK; BEGIN IMMEDIATE")?;
        }
        self.writer_turn = Some(turn);
        Ok(())
    }

    /// Attaches database `db` for a statement. SQLite cannot attach inside a transaction; one that has not
    /// written yet (no writer turn) is restarted around the attach (mysqldump `--single-transaction` begins,
    /// then selects its database), as a read-then-write transaction is restarted for its turn.
    pub(crate) fn attach(&mut self, db: &str) -> Result<()> {
        if self.conn.in_transaction() && self.writer_turn.is_none() && !self.conn.is_attached(db) {
            self.conn.conn().execute_batch("ROLLBACK")?;
            let attached = self.conn.ensure_attached(self.engine.catalog(), db);
            self.conn.conn().execute_batch("BEGIN")?;
            return attached;
        }
        self.conn.ensure_attached(self.engine.catalog(), db)
    }

    /// Resets the session as a fresh login would have it (COM_RESET_CONNECTION): an open transaction
    /// rolls back, autocommit is on again, user and session variables are gone; the database stays.
    pub fn reset(&mut self) -> Result<()> {
        if self.conn.in_transaction() {
            self.conn.conn().execute_batch("ROLLBACK")?;
        }
        self.cursors = Default::default();
        self.writer_turn = None;
        self.autocommit = true;
        self.vars.clear();
        self.user_vars.clear();
        self.plans.clear();
        self.last_insert_id = 0;
        self.diagnostics = None;
        exec::variables::apply_idle_timeout(self);
        exec::variables::apply_foreign_key_checks(self)?;
        Ok(())
    }

    /// Fails with the stop's error once the running statement was told to stop (KILL QUERY, a cancel request,
    /// a disconnect). Loops of the server that run on behalf of a statement call it between bounded steps.
    pub fn check_interrupted(&self) -> Result<()> {
        match self.handle.stop_flag().reason() {
            None => Ok(()),
            Some(StopReason::Canceled) => Err(SqlError::Interrupted),
            Some(StopReason::TimedOut) => Err(SqlError::StatementTimeout),
        }
    }

    /// The columns of the session's open cursor `name` (PostgreSQL's DECLARE), if it has one.
    pub fn cursor_columns(&self, name: &str) -> Option<Vec<(String, crate::value::ColumnKind)>> {
        exec::cursors::columns(self, name)
    }

    /// Checks a statement for later execution and describes its parameters and columns.
    pub fn prepare(&mut self, sql: &str) -> Result<Prepared> {
        self.run_statement(sql, |s| s.describe(sql))
    }

    fn describe(&mut self, sql: &str) -> Result<Prepared> {
        match parser::parse(sql)? {
            Parsed::Command(Command::Import(stmt)) => {
                let columns = exec::import::result_columns(&stmt);
                Ok(Prepared {
                    params: 0,
                    param_kinds: Vec::new(),
                    kinds: columns.iter().map(|c| c.kind).collect(),
                    columns: columns.into_iter().map(|c| c.name).collect(),
                })
            }
            Parsed::Command(Command::CreateChangefeed(stmt)) => {
                let columns = exec::changefeed::result_columns(&stmt);
                Ok(Prepared {
                    params: 0,
                    param_kinds: Vec::new(),
                    kinds: columns.iter().map(|c| c.kind).collect(),
                    columns: columns.into_iter().map(|c| c.name).collect(),
                })
            }
            Parsed::Command(Command::DeclareCursor(d)) => exec::cursors::describe_declare(self, *d),
            Parsed::Command(Command::FetchCursor {
                name,
                move_only: false,
                ..
            }) => exec::cursors::describe_fetch(self, &name),
            Parsed::Command(_) => Ok(Prepared {
                params: 0,
                param_kinds: Vec::new(),
                columns: Vec::new(),
                kinds: Vec::new(),
            }),
            Parsed::Tenant(stmt) => exec::tenant_sql::describe(self, sql, *stmt),
        }
    }

    fn dispatch(&mut self, sql: &str, params: &[Value]) -> Result<Output> {
        self.sync_temp_tables()?;
        let epoch = self.engine.plan_epoch();
        if let Some(plan) = self.plans.get(sql, self.db.as_deref(), epoch) {
            return exec::tenant_sql::run_plan(self, &plan, params);
        }
        let parsed = parser::parse(sql)?;
        // Parsing a long statement takes a while: a stop that came meanwhile ends it here.
        self.check_interrupted()?;
        // A statement clears the diagnostics of the one before, except SHOW WARNINGS / ERRORS, which shows them.
        if !matches!(parsed, Parsed::Command(Command::ShowWarnings)) {
            self.diagnostics = None;
        }
        match parsed {
            // A cursor's query takes the DECLARE's parameters.
            Parsed::Command(Command::DeclareCursor(d)) => exec::cursors::declare(self, *d, params),
            Parsed::Command(cmd) => {
                if !params.is_empty() {
                    return Err(SqlError::Unsupported("parameters in this statement".into()));
                }
                self.run_command(cmd)
            }
            Parsed::Tenant(stmt) => exec::tenant_sql::run_text(self, sql, epoch, *stmt, params),
        }
    }

    fn run_command(&mut self, cmd: Command) -> Result<Output> {
        use Command as C;
        match cmd {
            C::CreateResourceUnit { .. }
            | C::DropResourceUnit { .. }
            | C::CreateResourcePool { .. }
            | C::DropResourcePool { .. }
            | C::CreateTenant { .. }
            | C::DropTenant { .. } => exec::cluster::run(self, cmd),
            C::AlterSystemSet { .. }
            | C::ShowParameters { .. }
            | C::SetClusterSetting { .. }
            | C::ShowClusterSetting(_) => exec::parameters::run(self, cmd),
            C::BackupDatabase { .. }
            | C::BackupTenants { .. }
            | C::CancelBackup { .. }
            | C::ValidateBackupSet(_)
            | C::BackupInto { .. } => exec::backup::run(self, cmd),
            C::RestoreTenant { .. }
            | C::CancelRestore(_)
            | C::ShowBackups { .. }
            | C::ShowBackup { .. }
            | C::RestoreInto { .. } => exec::restore::run(self, cmd),
            C::CreateSnapshot { .. }
            | C::DropSnapshot { .. }
            | C::CloneTenant { .. }
            | C::CancelClone(_) => exec::clone::run(self, cmd),
            C::AddDeleteBackupPolicy { .. }
            | C::DropDeleteBackupPolicy { .. }
            | C::DeleteBackupSets { .. }
            | C::CancelDeleteBackup { .. } => exec::backup_cleanup::run(self, cmd),
            C::CreateUser { .. }
            | C::DropUser { .. }
            | C::SetPassword { .. }
            | C::Grant { .. }
            | C::Revoke { .. }
            | C::ShowGrants(_)
            | C::SetAdmin { .. }
            | C::CreateRole { .. }
            | C::RoleMembership { .. }
            | C::ShowUsers => exec::accounts::run(self, cmd),
            C::CreateDatabase { .. }
            | C::DropDatabase { .. }
            | C::Use(_)
            | C::ShowDatabases(_)
            | C::ShowTables { .. }
            | C::ShowColumns { .. }
            | C::ShowTableStatus { .. }
            | C::ShowCreateTable(_)
            | C::ShowCreateDatabase(_)
            | C::ShowIndex(_)
            | C::TableKeys(_) => exec::schema::run(self, cmd),
            C::ShowProcesslist { .. } | C::ShowSessions { .. } | C::Kill { .. } => {
                exec::processes::run(self, cmd)
            }
            C::ShowJobs { .. } | C::ControlJobs { .. } => exec::jobs::run(self, cmd),
            C::Import(stmt) => exec::import::run(self, *stmt),
            C::CreateChangefeed(stmt) => exec::changefeed::create(self, *stmt),
            C::ShowChangefeedJobs(id) => exec::changefeed::show(self, id),
            C::DeclareCursor(d) => exec::cursors::declare(self, *d, &[]),
            C::FetchCursor {
                name,
                direction,
                move_only,
            } => exec::cursors::fetch(self, &name, direction, move_only),
            C::CloseCursor(name) => exec::cursors::close(self, name),
            C::Set(_)
            | C::ShowVariables(_)
            | C::ShowStatus(_)
            | C::ShowWarnings
            | C::ShowStatic(_)
            | C::ShowSetting(_) => exec::variables::run(self, cmd),
            C::Begin => {
                self.commit_if_open()?;
                self.conn.conn().execute_batch("BEGIN")?;
                Ok(Output::ok())
            }
            C::LockTables => {
                self.commit_if_open()?;
                Ok(Output::ok())
            }
            C::UnlockTables | C::Housekeeping => Ok(Output::ok()),
            C::Commit => {
                self.commit_if_open()?;
                Ok(Output::ok())
            }
            // SQLite's savepoints are PostgreSQL's and MySQL's: a SAVEPOINT outside a transaction opens one.
            C::Savepoint(name) => {
                let sql = format!("SAVEPOINT {}", crate::translate::quote(&name));
                self.conn.conn().execute_batch(&sql)?;
                Ok(Output::ok())
            }
            C::ReleaseSavepoint(name) => {
                let sql = format!("RELEASE SAVEPOINT {}", crate::translate::quote(&name));
                self.conn.conn().execute_batch(&sql)?;
                Ok(Output::ok())
            }
            C::RollbackToSavepoint(name) => {
                let sql = format!("ROLLBACK TO SAVEPOINT {}", crate::translate::quote(&name));
                self.conn.conn().execute_batch(&sql)?;
                Ok(Output::ok())
            }
            C::Rollback => {
                if self.conn.in_transaction() {
                    self.conn.conn().execute_batch("ROLLBACK")?;
                }
                self.cursors.transaction_ended(false);
                Ok(Output::ok())
            }
        }
    }

    /// Forgets the temporary tables a rollback took back (SQLite's temp schema is transactional, so a
    /// CREATE TEMPORARY TABLE inside a rolled-back transaction is gone), and the plans that named them.
    /// Free while the session has none.
    pub(crate) fn sync_temp_tables(&mut self) -> Result<()> {
        if self.temp_tables.is_empty() {
            return Ok(());
        }
        let mut stmt = self
            .conn
            .conn()
            .prepare_cached("SELECT name FROM temp.sqlite_master WHERE type = 'table'")?;
        let present = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<std::collections::HashSet<String>>>()?;
        drop(stmt);
        let before = self.temp_tables.len();
        self.temp_tables
            .retain(|(db, table)| present.contains(&crate::translate::temp_name(db, table)));
        if self.temp_tables.len() != before {
            self.plans.clear();
        }
        Ok(())
    }

    /// Commits an open transaction (MySQL commits implicitly before DDL and BEGIN).
    pub(crate) fn commit_if_open(&mut self) -> Result<()> {
        if self.conn.in_transaction() {
            self.conn.conn().execute_batch("COMMIT")?;
            self.cursors.transaction_ended(true);
        }
        Ok(())
    }

    /// Fails unless the session is root@sys (cluster statements).
    pub(crate) fn require_cluster_admin(&self) -> Result<()> {
        if self.identity.is_cluster_admin() {
            Ok(())
        } else {
            Err(SqlError::NeedPrivilege("SUPER"))
        }
    }

    /// Fails unless the session is its tenant's administrator.
    pub(crate) fn require_tenant_admin(&self, privilege: &'static str) -> Result<()> {
        if self.identity.is_tenant_admin() {
            Ok(())
        } else {
            Err(SqlError::NeedAdmin(privilege))
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.engine.sessions().unregister(self.handle.id);
    }
}
