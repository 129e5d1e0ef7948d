//! The SQL layer's error type, and the one place where every error gets its wire codes:
//! a MySQL error number with its SQLSTATE, and a PostgreSQL SQLSTATE.

use tenantry_catalog::CatalogError;

/// Errors a statement can end with. Each maps to wire codes in [`SqlError::wire`].
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// The statement does not parse; `near` is the text from where parsing failed.
    #[error("You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '{near}' at line {line}")]
    Syntax {
        /// Up to 80 characters of the statement from the failing token.
        near: String,
        /// 1-based line of the failing token.
        line: usize,
    },
    /// An empty statement.
    #[error("Query was empty")]
    EmptyQuery,
    /// A feature or statement form the server does not have.
    #[error("{0} not supported")]
    Unsupported(String),
    /// OceanBase's refusal of a clause a user tenant may not use (e.g. TENANT in CANCEL BACKUP).
    #[error("Not supported feature or function")]
    NotSupportedFeature,
    /// A table statement without a current database.
    #[error("No database selected")]
    NoDatabaseSelected,
    /// `USE` or a reference to a database the tenant does not have.
    #[error("Unknown database '{0}'")]
    UnknownDatabase(String),
    /// `CREATE DATABASE` of an existing name.
    #[error("Can't create database '{0}'; database exists")]
    DatabaseExists(String),
    /// `DROP DATABASE` of a missing name.
    #[error("Can't drop database '{0}'; database doesn't exist")]
    DropMissingDatabase(String),
    /// A table (or view) that does not exist.
    #[error("Table '{db}.{table}' doesn't exist")]
    NoSuchTable {
        /// Its database.
        db: String,
        /// Its name.
        table: String,
    },
    /// `DROP TABLE` of a missing table.
    #[error("Unknown table '{db}.{table}'")]
    UnknownTable {
        /// Its database.
        db: String,
        /// Its name.
        table: String,
    },
    /// `CREATE TABLE` of an existing name.
    #[error("Table '{0}' already exists")]
    TableExists(String),
    /// A column that does not exist.
    #[error("Unknown column '{0}' in 'field list'")]
    UnknownColumn(String),
    /// An index name that does not exist on the table.
    #[error("Can't DROP '{0}'; check that column/key exists")]
    CantDropKey(String),
    /// A duplicate index name.
    #[error("Duplicate key name '{0}'")]
    DuplicateKeyName(String),
    /// A unique or primary key violation.
    #[error("Duplicate entry for key '{0}'")]
    DuplicateEntry(String),
    /// A NOT NULL violation.
    #[error("Column '{0}' cannot be null")]
    NotNull(String),
    /// A foreign key violation.
    #[error("Cannot add or update a child row: a foreign key constraint fails ({0})")]
    ForeignKey(String),
    /// A value that does not fit a numeric column (MySQL's strict mode).
    #[error("Incorrect {kind} value for column '{column}'")]
    IncorrectValue {
        /// `integer` or `decimal`.
        kind: &'static str,
        /// The column.
        column: String,
    },
    /// A value that is not valid input for a type (a parameter or stored value that does not fit).
    #[error("invalid input syntax for type {type_name}: \"{value}\"")]
    InvalidInput {
        /// PostgreSQL's name of the type.
        type_name: &'static str,
        /// The value (cut to 200 characters).
        value: String,
    },
    /// A value that is not a valid date, time, timestamp or interval.
    #[error("invalid input syntax for type {type_name}: \"{value}\"")]
    InvalidDatetime {
        /// PostgreSQL's name of the type.
        type_name: &'static str,
        /// The value (cut to 200 characters).
        value: String,
    },
    /// A value refused by a date, time, UUID or JSON column's type check.
    #[error("Incorrect {kind} value for column '{column}'")]
    IncorrectTypedValue {
        /// `date`, `datetime`, `time`, `uuid` or `json`.
        kind: &'static str,
        /// The column.
        column: String,
    },
    /// A CHECK violation.
    #[error("Check constraint '{0}' is violated.")]
    CheckViolated(String),
    /// A table definition MySQL would refuse.
    #[error("Incorrect table definition; {0}")]
    WrongTableDefinition(String),
    /// Login failure: unknown tenant, unknown user or wrong password (indistinguishable on purpose).
    #[error("Access denied for user '{user}'@'{host}' (using password: {})", if *.using_password { "YES" } else { "NO" })]
    AccessDenied {
        /// The login name as given.
        user: String,
        /// The client's address.
        host: String,
        /// Whether the client sent a password.
        using_password: bool,
    },
    /// A table privilege is missing.
    #[error("{command} command denied to user '{user}'@'%' for table '{table}'")]
    TableAccessDenied {
        /// The privilege's command name (SELECT, INSERT, ...).
        command: &'static str,
        /// The user.
        user: String,
        /// The table.
        table: String,
    },
    /// Every privilege on a database is missing.
    #[error("Access denied for user '{user}'@'%' to database '{db}'")]
    DbAccessDenied {
        /// The user.
        user: String,
        /// The database.
        db: String,
    },
    /// SQLite's authorizer refused a table the privilege check had not approved (see `sqlite/authorizer.rs`,
    /// which turns this into [`SqlError::TableAccessDenied`] naming the table).
    #[error("command denied: the statement reaches a table the user has no privilege on")]
    AuthorizerDenied,
    /// A cluster statement from a user tenant, or an admin statement from a non-admin.
    #[error("Access denied; you need (at least one of) the {0} privilege(s) for this operation")]
    NeedPrivilege(&'static str),
    /// A statement only the tenant's administrators may run: MySQL's wording, naming the grant that gives it.
    #[error("Access denied; you need (at least one of) the {0} privilege(s) for this operation: the tenant's administrators hold it (GRANT admin TO user)")]
    NeedAdmin(&'static str),
    /// A global-only privilege (FILE) granted on a database.
    #[error("Incorrect usage of DB GRANT and GLOBAL PRIVILEGES")]
    GlobalPrivilegeOnDb,
    /// A privilege that is not a table's (FILE, CONTROLJOB, VIEWJOB) granted on a table.
    #[error("Illegal GRANT/REVOKE command; please consult the manual to see which privileges can be used")]
    IllegalTableGrant,
    /// `KILL` of an unknown (or another tenant's) connection id.
    #[error("Unknown thread id: {0}")]
    UnknownThread(u64),
    /// `KILL` of a connection the user may not kill.
    #[error("You are not owner of thread {0}")]
    NotThreadOwner(u64),
    /// A login beyond `max_connections` or the tenant's `max_tenant_connections`.
    #[error("Too many connections")]
    TooManyConnections,
    /// A session closed by the server after `wait_timeout` / `idle_session_timeout` without a statement
    /// (MySQL 8's ER_CLIENT_INTERACTION_TIMEOUT, sent before the connection closes).
    #[error("The client was disconnected by the server because of inactivity. See wait_timeout and interactive_timeout for configuring this behavior.")]
    IdleTimeout,
    /// A plain-text login while the server runs with `--require-tls` (MySQL's `require_secure_transport`).
    #[error(
        "Connections using insecure transport are prohibited while --require_secure_transport=ON."
    )]
    InsecureTransport,
    /// A statement whose memory would take the tenant's running statements over their budget.
    #[error("No memory or reach tenant memory limit")]
    OutOfMemory,
    /// The statement ran past its time limit (`max_execution_time`, `statement_timeout`).
    #[error("Query execution was interrupted, maximum statement execution time exceeded")]
    StatementTimeout,
    /// The statement was interrupted by `KILL QUERY`, a cancel request or a disconnect.
    #[error("Query execution was interrupted")]
    Interrupted,
    /// `SET` or `@@` of an unknown system variable.
    #[error("Unknown system variable '{0}'")]
    UnknownVariable(String),
    /// A value a system variable cannot take.
    #[error("Variable '{name}' can't be set to the value of '{value}'")]
    WrongVariableValue {
        /// The variable.
        name: String,
        /// The rejected value.
        value: String,
    },
    /// CREATE / DROP USER that cannot be done (exists, missing, the administrator).
    #[error("Operation {op} failed for '{user}'@'%'")]
    UserOperationFailed {
        /// CREATE USER, DROP USER, ALTER USER.
        op: &'static str,
        /// The user.
        user: String,
    },
    /// A write conflict between transactions.
    #[error("Deadlock found when trying to get lock; try restarting transaction")]
    Deadlock,
    /// Another writer held the lock too long.
    #[error("Lock wait timeout exceeded; try restarting transaction")]
    LockWaitTimeout,
    /// An OceanBase-specific error, sent with the positive OceanBase code as its MySQL error number.
    #[error("{message}")]
    OceanBase {
        /// The (negative) OceanBase error code, e.g. -4179.
        code: i64,
        /// The message.
        message: String,
    },
    /// A job statement about a job that does not exist (or that the caller may not see).
    #[error("job with ID {0} does not exist")]
    JobNotFound(i64),
    /// A job request its state does not allow (CockroachDB's texts).
    #[error("{0}")]
    JobState(String),
    /// A job the user may not view or control (CockroachDB's texts).
    #[error("{0}")]
    JobPrivilege(String),
    /// A statement that waited for its job, which was canceled.
    #[error("job {job_id} was canceled: {message}")]
    JobCanceled {
        /// The job.
        job_id: i64,
        /// What was left.
        message: String,
    },
    /// A statement that waited for its job, which failed.
    #[error("job {job_id} failed: {message}")]
    JobFailed {
        /// The job.
        job_id: i64,
        /// Its error.
        message: String,
    },
    /// An import source that is not there (or cannot be read).
    #[error("{0}")]
    FileNotFound(String),
    /// A destination URI that cannot be used (an `s3://` URI's parameters); the text never holds a secret.
    #[error("{0}")]
    InvalidUri(String),
    /// A statement option that is not valid (a changefeed's `WITH` list; CockroachDB's texts).
    #[error("{0}")]
    InvalidOption(String),
    /// A file the statement may not use (outside the tenant's part of the external-IO directory).
    #[error("{0}")]
    FileAccessDenied(String),
    /// `LOAD DATA LOCAL INFILE` on a connection whose client does not send files (MySQL 8's wording).
    #[error(
        "Loading local data is disabled; this must be enabled on both the client and server sides"
    )]
    LocalInfileDisabled,
    /// A column named twice in a column list.
    #[error("Column '{0}' specified twice")]
    DuplicateColumn(String),
    /// A NOT NULL column without a default that a statement gives no value.
    #[error("Field '{0}' doesn't have a default value")]
    NoDefault(String),
    /// An import that waited for its job, which failed; `code` is the job's (negative MySQL number).
    #[error("import job {job_id} failed: {message}")]
    ImportFailed {
        /// The job.
        job_id: i64,
        /// The job's error code, e.g. -1366 for a value that does not fit its column.
        code: i64,
        /// The job's error, naming the file, line and column.
        message: String,
    },
    /// A client packet larger than max_allowed_packet (the connection closes after it).
    #[error("Got a packet bigger than 'max_allowed_packet' bytes")]
    PacketTooLarge,
    /// A client packet that does not parse as its command says.
    #[error("Malformed communication packet.")]
    MalformedPacket,
    /// A protocol command the server does not implement.
    #[error("Unknown command")]
    UnknownCommand,
    /// DECLARE of a cursor name the session already has open.
    #[error("cursor \"{0}\" already exists")]
    DuplicateCursor(String),
    /// FETCH, MOVE or CLOSE of a cursor the session does not have open.
    #[error("cursor \"{0}\" does not exist")]
    NoSuchCursor(String),
    /// DECLARE without HOLD outside a transaction (the cursor would close as the statement ends).
    #[error("DECLARE CURSOR can only be used in transaction blocks")]
    CursorOutsideTransaction,
    /// A backward motion of a cursor declared NO SCROLL.
    #[error("cursor can only scan forward")]
    CursorScansForwardOnly,
    /// A `$n` placeholder past the highest parameter number a client can bind (PostgreSQL wire).
    #[error("there is no parameter {0}")]
    NoSuchParameter(String),
    /// A prepared-statement command naming a statement the connection does not hold.
    #[error("Unknown prepared statement handler ({id}) given to {command}")]
    UnknownStatement {
        /// The statement id the client sent.
        id: u32,
        /// MySQL's name for the command (mysqld_stmt_execute, ...).
        command: &'static str,
    },
    /// A connection holding as many prepared statements as it may.
    #[error("Can't create more than max_prepared_stmt_count statements (current value: {0})")]
    TooManyPreparedStatements(usize),
    /// A catalog error (mapped per variant in [`SqlError::wire`]).
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// A JSON function's argument that SQLite's JSON parser refused: not JSON, or nested deeper than it reads
    /// (it does not tell the two apart). MySQL's ER_INVALID_JSON_TEXT_IN_PARAM.
    #[error("Invalid JSON text in argument to a JSON function: not a JSON document, or one nested deeper than {} levels", crate::json::MAX_JSON_DEPTH)]
    MalformedJson,
    /// Anything else SQLite reported.
    #[error("{0}")]
    Sqlite(String),
    /// A statement nested or chained deeper than the server's limits, refused before it is parsed (MySQL's
    /// thread stack overrun, PostgreSQL's stack depth limit).
    #[error("Thread stack overrun: stack depth limit exceeded: the statement's {what} is over the limit of {limit}; simplify the statement")]
    TooDeep {
        /// The limit.
        limit: usize,
        /// What is limited.
        what: &'static str,
    },
    /// An unexpected internal failure.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Wire codes of one error, for both protocols.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    /// MySQL error number.
    pub mysql_code: u16,
    /// SQLSTATE sent on the MySQL wire.
    pub mysql_state: &'static str,
    /// SQLSTATE sent on the PostgreSQL wire.
    pub pg_state: &'static str,
    /// The message.
    pub message: String,
}

impl SqlError {
    /// The wire codes of this error.
    pub fn wire(&self) -> WireError {
        let (mysql_code, mysql_state, pg_state): (u16, &'static str, &'static str) = match self {
            Self::Syntax { .. } => (1064, "42000", "42601"),
            Self::TooDeep { .. } => (1436, "HY000", "54001"),
            Self::EmptyQuery => (1065, "42000", "42601"),
            Self::Unsupported(_) | Self::NotSupportedFeature => (1235, "0A000", "0A000"),
            Self::NoDatabaseSelected => (1046, "3D000", "3D000"),
            Self::UnknownDatabase(_) => (1049, "42000", "3D000"),
            Self::DatabaseExists(_) => (1007, "HY000", "42P04"),
            Self::DropMissingDatabase(_) => (1008, "HY000", "3D000"),
            Self::NoSuchTable { .. } => (1146, "42S02", "42P01"),
            Self::TableExists(_) => (1050, "42S01", "42P07"),
            Self::UnknownTable { .. } => (1051, "42S02", "42P01"),
            Self::UnknownColumn(_) => (1054, "42S22", "42703"),
            Self::CantDropKey(_) => (1091, "42000", "42704"),
            Self::DuplicateKeyName(_) => (1061, "42000", "42P07"),
            Self::DuplicateEntry(_) => (1062, "23000", "23505"),
            Self::NotNull(_) => (1048, "23000", "23502"),
            Self::ForeignKey(_) => (1452, "23000", "23503"),
            Self::CheckViolated(_) => (3819, "HY000", "23514"),
            Self::IncorrectValue { .. } | Self::InvalidInput { .. } => (1366, "HY000", "22P02"),
            Self::InvalidDatetime { .. } => (1292, "22007", "22007"),
            Self::IncorrectTypedValue { kind, .. } => match *kind {
                "uuid" | "json" => (1366, "HY000", "22P02"),
                _ => (1292, "22007", "22007"),
            },
            Self::WrongTableDefinition(_) => (1075, "42000", "42P16"),
            Self::AccessDenied { .. } => (1045, "28000", "28P01"),
            Self::TableAccessDenied { .. } | Self::AuthorizerDenied => (1142, "42000", "42501"),
            Self::DbAccessDenied { .. } => (1044, "42000", "42501"),
            Self::NeedPrivilege(_) | Self::NeedAdmin(_) => (1227, "42000", "42501"),
            Self::GlobalPrivilegeOnDb => (1221, "HY000", "0LP01"),
            Self::IllegalTableGrant => (1144, "42000", "0LP01"),
            Self::UnknownThread(_) => (1094, "HY000", "42704"),
            Self::NotThreadOwner(_) => (1095, "HY000", "42501"),
            Self::TooManyConnections => (1040, "08004", "53300"),
            Self::IdleTimeout => (4031, "HY000", "57P05"),
            // PostgreSQL's pg_hba refusal of a plain connection where only hostssl lines match.
            Self::InsecureTransport => (3159, "HY000", "28000"),
            Self::Interrupted => (1317, "70100", "57014"),
            Self::StatementTimeout => (3024, "HY000", "57014"),
            Self::OutOfMemory => (4013, "HY000", "53200"),
            Self::UnknownVariable(_) => (1193, "HY000", "42704"),
            Self::WrongVariableValue { .. } => (1231, "42000", "22023"),
            Self::UserOperationFailed { .. } => (1396, "HY000", "42710"),
            Self::Deadlock => (1213, "40001", "40001"),
            Self::LockWaitTimeout => (1205, "HY000", "55P03"),
            Self::JobNotFound(_) => (4018, "HY000", "42704"),
            Self::JobState(_) => (4179, "HY000", "55000"),
            Self::JobPrivilege(_) => (1227, "42000", "42501"),
            Self::JobCanceled { .. } => (1317, "70100", "57014"),
            Self::JobFailed { .. } => (1105, "HY000", "XX000"),
            Self::FileNotFound(_) => (29, "HY000", "58P01"),
            Self::FileAccessDenied(_) => (1290, "HY000", "42501"),
            Self::InvalidUri(_) | Self::InvalidOption(_) => (1210, "HY000", "22023"),
            Self::LocalInfileDisabled => (3948, "42000", "0A000"),
            Self::DuplicateColumn(_) => (1110, "42000", "42701"),
            Self::NoDefault(_) => (1364, "HY000", "23502"),
            Self::ImportFailed { code, .. } => import_wire(*code),
            Self::PacketTooLarge => (1153, "08S01", "08P01"),
            Self::MalformedPacket => (1835, "HY000", "08P01"),
            Self::UnknownCommand => (1047, "08S01", "08P01"),
            Self::UnknownStatement { .. } => (1243, "HY000", "26000"),
            Self::NoSuchParameter(_) => (1210, "HY000", "42P02"),
            // MySQL's stored-program cursor errors (ER_SP_DUP_CURS, ER_SP_CURSOR_MISMATCH) for the same faults.
            Self::DuplicateCursor(_) => (1333, "42000", "42P03"),
            Self::NoSuchCursor(_) => (1324, "42000", "34000"),
            Self::CursorOutsideTransaction => (1235, "25000", "25P01"),
            Self::CursorScansForwardOnly => (1235, "HY000", "55000"),
            Self::TooManyPreparedStatements(_) => (1461, "42000", "53400"),
            Self::OceanBase { code, .. } => (code.unsigned_abs() as u16, "HY000", "XXUUU"),
            Self::Catalog(e) => return catalog_wire(e),
            Self::MalformedJson => (3141, "22032", "22P02"),
            Self::Sqlite(_) | Self::Internal(_) => (1105, "HY000", "XX000"),
        };
        WireError {
            mysql_code,
            mysql_state,
            pg_state,
            message: self.to_string(),
        }
    }
}

/// An import job's error code (a negative MySQL number) as wire codes.
fn import_wire(code: i64) -> (u16, &'static str, &'static str) {
    match -code {
        1366 => (1366, "HY000", "22P02"),
        1261 => (1261, "HY000", "22P04"),
        1262 => (1262, "HY000", "22P04"),
        1300 => (1300, "HY000", "22021"),
        1048 => (1048, "23000", "23502"),
        1062 => (1062, "23000", "23505"),
        1452 => (1452, "23000", "23503"),
        3819 => (3819, "HY000", "23514"),
        29 => (29, "HY000", "58P01"),
        _ => (1105, "HY000", "XX000"),
    }
}

fn catalog_wire(e: &CatalogError) -> WireError {
    use CatalogError as C;
    let (mysql_code, mysql_state, pg_state): (u16, &'static str, &'static str) = match e {
        C::TenantExists(_) => (5156, "HY000", "42710"),
        C::TenantNotExist(_) => (5157, "HY000", "42704"),
        C::SysTenant(_) | C::TenantBuilding(_) => (4179, "HY000", "55000"),
        C::SnapshotExists(_) => (9104, "HY000", "42710"),
        C::SnapshotNotExist(_) => (9106, "HY000", "42704"),
        C::UnitExists(_) => (4649, "HY000", "42710"),
        C::UnitNotExist(_) => (4648, "HY000", "42704"),
        C::UnitInUse(_) => (4634, "HY000", "2BP01"),
        C::PoolExists(_) => (4651, "HY000", "42710"),
        C::PoolNotExist(_) => (4650, "HY000", "42704"),
        C::PoolInUse(_) => (4626, "HY000", "55006"),
        C::InvalidArgument(_) => (1210, "HY000", "22023"),
        C::DatabaseExists(_) => (1007, "HY000", "42P04"),
        C::DatabaseNotExist(_) => (1049, "42000", "3D000"),
        C::UserExists(_) | C::UserNotExist(_) | C::AdminUser(_) => (1396, "HY000", "42710"),
        C::InvalidName(_) => (1103, "42000", "42602"),
        C::UnknownParameter(_) => (4028, "HY000", "42704"),
        C::InvalidParameterValue { .. } | C::ParameterScope(_) => (4147, "HY000", "22023"),
        C::Storage(_) | C::Sqlite(_) => (1105, "HY000", "XX000"),
    };
    let message = match e {
        C::UnknownParameter(_) | C::InvalidParameterValue { .. } | C::ParameterScope(_) => {
            format!("Invalid argument: {e}")
        }
        _ => e.to_string(),
    };
    WireError {
        mysql_code,
        mysql_state,
        pg_state,
        message,
    }
}

/// How an error goes out over HTTP: a status, a stable machine-readable code and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    /// The HTTP status.
    pub status: u16,
    /// A stable code clients can match on (`job_not_found`, `job_state`, `forbidden` ...).
    pub code: &'static str,
    /// The message (the same text the SQL wire sends).
    pub message: String,
}

impl SqlError {
    /// The HTTP form of this error (the REST API's status and code).
    pub fn http(&self) -> HttpError {
        let (status, code) = match self {
            Self::JobNotFound(_) => (404, "job_not_found"),
            Self::JobState(_) => (409, "job_state"),
            Self::JobPrivilege(_)
            | Self::NeedPrivilege(_)
            | Self::TableAccessDenied { .. }
            | Self::AuthorizerDenied
            | Self::DbAccessDenied { .. }
            | Self::NotThreadOwner(_) => (403, "forbidden"),
            Self::AccessDenied { .. } => (401, "unauthorized"),
            Self::Syntax { .. }
            | Self::EmptyQuery
            | Self::Unsupported(_)
            | Self::TooDeep { .. } => (400, "bad_request"),
            Self::Interrupted => (503, "interrupted"),
            Self::StatementTimeout => (503, "timeout"),
            Self::OutOfMemory => (503, "out_of_memory"),
            Self::Deadlock | Self::LockWaitTimeout => (503, "busy"),
            Self::TooManyConnections => (503, "too_many_connections"),
            Self::InsecureTransport => (403, "tls_required"),
            _ => (500, "internal"),
        };
        HttpError {
            status,
            code,
            message: self.to_string(),
        }
    }
}

impl From<tenantry_jobs::RegistryError> for SqlError {
    fn from(e: tenantry_jobs::RegistryError) -> Self {
        use tenantry_jobs::RegistryError as R;
        match e {
            R::NotFound(id) => Self::JobNotFound(id),
            R::WrongState { .. }
            | R::NotResumable { .. }
            | R::NotCancelable(_)
            | R::Conflict { .. } => Self::JobState(e.to_string()),
            R::NoPrivileges { .. } | R::AdminOwned => Self::JobPrivilege(e.to_string()),
            R::WaitInterrupted(_) => Self::Interrupted,
            R::Store(_) | R::Payload(_) | R::Accessor(_) | R::Thread(_) => {
                Self::Internal(e.to_string())
            }
        }
    }
}

/// A job kind's error met by a statement that does a kind's work itself (a changefeed's capture, a sinkless
/// feed): an interruption is the statement's; anything else is an internal error with the kind's text.
impl From<tenantry_jobs::JobError> for SqlError {
    fn from(e: tenantry_jobs::JobError) -> Self {
        use tenantry_jobs::JobError as J;
        match e {
            J::Interrupted => Self::Interrupted,
            J::Permanent { message, .. } | J::Canceled { message } | J::Retryable(message) => {
                Self::Internal(message)
            }
        }
    }
}

impl From<tenantry_parser::ParseError> for SqlError {
    fn from(e: tenantry_parser::ParseError) -> Self {
        use tenantry_parser::ParseError as P;
        match e {
            P::Syntax { near, line } => Self::Syntax { near, line },
            P::EmptyQuery => Self::EmptyQuery,
            P::Unsupported(what) => Self::Unsupported(what),
            P::InvalidArgument(msg) => Self::Catalog(CatalogError::InvalidArgument(msg)),
            P::OceanBase { code, message } => Self::OceanBase { code, message },
            P::UnknownVariable(name) => Self::UnknownVariable(name),
            P::UnknownThread(id) => Self::UnknownThread(id),
            P::TooDeep { limit, what } => Self::TooDeep { limit, what },
        }
    }
}

impl From<rusqlite::Error> for SqlError {
    fn from(e: rusqlite::Error) -> Self {
        crate::sqlite::errors::map_sqlite_error(e)
    }
}

impl From<tenantry_storage::StorageError> for SqlError {
    fn from(e: tenantry_storage::StorageError) -> Self {
        Self::Catalog(CatalogError::Storage(e))
    }
}

/// Result type of the SQL layer.
pub type Result<T> = std::result::Result<T, SqlError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oceanbase_codes_go_out_positive() {
        let w = SqlError::OceanBase {
            code: -4179,
            message: "x".into(),
        }
        .wire();
        assert_eq!((w.mysql_code, w.mysql_state), (4179, "HY000"));
    }

    #[test]
    fn login_failure_is_1045() {
        let w = SqlError::AccessDenied {
            user: "root".into(),
            host: "127.0.0.1".into(),
            using_password: true,
        }
        .wire();
        assert_eq!((w.mysql_code, w.mysql_state), (1045, "28000"));
        assert_eq!(
            w.message,
            "Access denied for user 'root'@'127.0.0.1' (using password: YES)"
        );
    }
}
