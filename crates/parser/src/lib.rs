//! The administrative grammar (cluster, accounts, SHOW, SET, USE, KILL, transactions, jobs) on sqlparser's
//! tokenizer; everything else is tenant SQL, parsed by sqlparser's MySQL dialect and later translated for SQLite
//! by the SQL layer.

mod account;
mod backup_cleanup;
mod changefeed;
mod clone;
mod cluster;
pub mod copy;
pub mod cursor;
mod cursor_stmts;
mod error;
pub mod exec_comments;
mod import;
mod jobs;
pub mod lexical;
pub mod limits;
mod literals;
mod restore;
mod session_stmts;
pub mod work;

pub use changefeed::ChangefeedStatement;
pub use cursor_stmts::{CursorDeclaration, FetchDirection};
pub use error::{ParseError, Result};
pub use import::{ImportForm, ImportStatement};
pub use jobs::{JobAction, JobTarget};
pub use literals::rewrite_string_literals;
pub use restore::{RestoreObject, RestoreUntil};

use sqlparser::ast::Statement;
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::{Parser, ParserError};
use tenantry_catalog::{GrantLevel, NewUnitConfig, Privilege};

use cursor::Cursor;

/// A user as named in account statements: `'name'@'host'` (the host is accepted and ignored: users are `%`).
pub type UserName = String;

/// What a SET statement assigns to.
#[derive(Debug, Clone, PartialEq)]
pub enum SetTarget {
    /// A session system variable (`SET x = ...`, `SET SESSION x`, `SET @@x`).
    Session(String),
    /// A global system variable (`SET GLOBAL x`, `SET @@global.x`).
    Global(String),
    /// A user variable (`SET @x = ...`).
    User(String),
}

/// A parsed administrative statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `CREATE RESOURCE UNIT`.
    CreateResourceUnit {
        /// Its name.
        name: String,
        /// Its options.
        spec: NewUnitConfig,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
    },
    /// `DROP RESOURCE UNIT`.
    DropResourceUnit {
        /// Its name.
        name: String,
        /// `IF EXISTS`.
        if_exists: bool,
    },
    /// `CREATE RESOURCE POOL p UNIT = 'u', UNIT_NUM = n [, ZONE_LIST = (...)]`.
    CreateResourcePool {
        /// Its name.
        name: String,
        /// The unit config.
        unit: String,
        /// UNIT_NUM.
        unit_num: i64,
        /// ZONE_LIST.
        zone_list: Vec<String>,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
    },
    /// `DROP RESOURCE POOL`.
    DropResourcePool {
        /// Its name.
        name: String,
        /// `IF EXISTS`.
        if_exists: bool,
    },
    /// `CREATE TENANT t RESOURCE_POOL_LIST = ('p') [SET ob_compatibility_mode = ...]`.
    CreateTenant {
        /// Its name.
        name: String,
        /// RESOURCE_POOL_LIST (exactly one pool is supported).
        pools: Vec<String>,
        /// `ob_compatibility_mode`, lower case; `mysql` if not given.
        mode: String,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
    },
    /// `DROP TENANT t [FORCE]`.
    DropTenant {
        /// Its name.
        name: String,
        /// `IF EXISTS`.
        if_exists: bool,
    },
    /// `ALTER SYSTEM SET name = value [TENANT [=] t]`.
    AlterSystemSet {
        /// Parameter assignments.
        assignments: Vec<(String, String)>,
        /// The tenant named by TENANT.
        tenant: Option<String>,
    },
    /// `ALTER SYSTEM BACKUP [INCREMENTAL] DATABASE [PLUS ARCHIVELOG] [DESCRIPTION 'x']` (inside a tenant).
    BackupDatabase {
        /// INCREMENTAL.
        incremental: bool,
        /// PLUS ARCHIVELOG.
        plus_archivelog: bool,
        /// DESCRIPTION.
        description: String,
    },
    /// `ALTER SYSTEM BACKUP [INCREMENTAL] TENANT [=] t1, t2 ...` (root@sys).
    BackupTenants {
        /// The tenants (every eligible one if None).
        tenants: Option<Vec<String>>,
        /// INCREMENTAL.
        incremental: bool,
        /// PLUS ARCHIVELOG.
        plus_archivelog: bool,
        /// DESCRIPTION.
        description: String,
    },
    /// CockroachDB's `BACKUP [DATABASE d, ...] INTO 'uri' [WITH DETACHED]`.
    BackupInto {
        /// The databases named (all if empty).
        databases: Vec<String>,
        /// The destination.
        uri: String,
        /// Return the job id at once instead of waiting.
        detached: bool,
    },
    /// `ALTER SYSTEM VALIDATE BACKUPSET [=] n`: reads every chunk of a set of the tenant and checks its hash.
    ValidateBackupSet(i64),
    /// `ALTER SYSTEM CANCEL BACKUP [TENANT [=] t1, t2]`.
    CancelBackup {
        /// The tenants named (None: the caller's scope).
        tenants: Option<Vec<String>>,
    },
    /// `ALTER SYSTEM ADD DELETE BACKUP POLICY [=] 'default' [RECOVERY_WINDOW [=] '7d'] [TENANT [=] t]`.
    AddDeleteBackupPolicy {
        /// The policy's name (must be `default`).
        name: String,
        /// RECOVERY_WINDOW, if given.
        recovery_window: Option<String>,
        /// The tenant named by TENANT.
        tenant: Option<String>,
    },
    /// `ALTER SYSTEM DROP DELETE BACKUP POLICY [=] 'default' [TENANT [=] t]`.
    DropDeleteBackupPolicy {
        /// The policy's name.
        name: String,
        /// The tenant named by TENANT.
        tenant: Option<String>,
    },
    /// `ALTER SYSTEM DELETE BACKUPSET [=] n[, n] [TENANT [=] t]`.
    DeleteBackupSets {
        /// The sets.
        set_ids: Vec<i64>,
        /// The tenant named by TENANT.
        tenant: Option<String>,
    },
    /// `ALTER SYSTEM CANCEL DELETE BACKUP [TENANT [=] t]`.
    CancelDeleteBackup {
        /// The tenant named by TENANT.
        tenant: Option<String>,
    },
    /// CockroachDB's `SET CLUSTER SETTING name = value`: a parameter, set by root@sys only.
    SetClusterSetting {
        /// The parameter.
        name: String,
        /// Its new value.
        value: String,
    },
    /// CockroachDB's `SHOW CLUSTER SETTING name`, or `SHOW [ALL] CLUSTER SETTINGS` (`None`).
    ShowClusterSetting(Option<String>),
    /// `SHOW PARAMETERS [LIKE 'p'] [TENANT = t]`.
    ShowParameters {
        /// The LIKE pattern.
        like: Option<String>,
        /// The tenant named by TENANT.
        tenant: Option<String>,
    },
    /// `CREATE DATABASE [IF NOT EXISTS] d`.
    CreateDatabase {
        /// Its name.
        name: String,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
    },
    /// `DROP DATABASE [IF EXISTS] d`.
    DropDatabase {
        /// Its name.
        name: String,
        /// `IF EXISTS`.
        if_exists: bool,
    },
    /// `USE d`.
    Use(String),
    /// `CREATE USER [IF NOT EXISTS] u IDENTIFIED BY 'p' [, ...]`.
    CreateUser {
        /// Users and passwords.
        users: Vec<(UserName, String)>,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
    },
    /// `DROP USER [IF EXISTS] u [, ...]`.
    DropUser {
        /// The users.
        users: Vec<UserName>,
        /// `IF EXISTS`.
        if_exists: bool,
    },
    /// `ALTER USER u IDENTIFIED BY 'p'` or `SET PASSWORD [FOR u] = 'p'` (user `None` = oneself).
    SetPassword {
        /// The user, or the current user.
        user: Option<UserName>,
        /// The new password.
        password: String,
    },
    /// `GRANT privs ON level TO users`.
    Grant {
        /// The privileges.
        privileges: Vec<Privilege>,
        /// Where: one level, or several tables (CockroachDB's `ON TABLE t1, t2`).
        levels: Vec<ParsedLevel>,
        /// The grantees.
        users: Vec<UserName>,
    },
    /// `REVOKE privs ON level FROM users`.
    Revoke {
        /// The privileges.
        privileges: Vec<Privilege>,
        /// Where: one level, or several tables.
        levels: Vec<ParsedLevel>,
        /// The users.
        users: Vec<UserName>,
    },
    /// `SHOW GRANTS [FOR u]`.
    ShowGrants(Option<UserName>),
    /// CockroachDB's `GRANT admin TO users` (true) / `REVOKE admin FROM users` (false): membership of the
    /// admin role, which is the tenant's administrator here.
    SetAdmin {
        /// The users.
        users: Vec<UserName>,
        /// Granted (true) or revoked.
        admin: bool,
    },
    /// CockroachDB's `SHOW USERS` / `SHOW ROLES`.
    ShowUsers,
    /// `SHOW DATABASES [LIKE p | WHERE e]`.
    ShowDatabases(ShowFilter),
    /// `SHOW [FULL] TABLES [FROM d] [LIKE p | WHERE e]`.
    ShowTables {
        /// FULL adds Table_type.
        full: bool,
        /// FROM / IN.
        db: Option<String>,
        /// LIKE / WHERE.
        filter: ShowFilter,
    },
    /// `SHOW TABLE STATUS [FROM d] [LIKE p | WHERE e]`.
    ShowTableStatus {
        /// FROM / IN.
        db: Option<String>,
        /// LIKE / WHERE.
        filter: ShowFilter,
    },
    /// `SHOW [FULL] COLUMNS FROM t [FROM d]`, `DESCRIBE t`.
    ShowColumns {
        /// FULL adds Collation, Privileges and Comment.
        full: bool,
        /// The table.
        table: TableRef,
        /// LIKE / WHERE.
        filter: ShowFilter,
    },
    /// `SHOW CREATE TABLE t`.
    ShowCreateTable(TableRef),
    /// `SHOW CREATE DATABASE d`.
    ShowCreateDatabase(String),
    /// `LOCK TABLES ...` (mysqldump's): commits an open transaction, as MySQL does; locks nothing more.
    LockTables,
    /// `UNLOCK TABLES`: nothing to release.
    UnlockTables,
    /// PostgreSQL's session housekeeping that has nothing to act on here: `DISCARD ALL|PLANS|...`,
    /// `DEALLOCATE [PREPARE] name|ALL` (SQL-level prepared statements do not exist; the wire's own are
    /// closed with Close messages), `VACUUM` / `ANALYZE` (SQLite needs neither for correctness). Accepted
    /// so that pools and tools (pgbench) go on; the command tag is the statement's own.
    Housekeeping,
    /// `ALTER TABLE t {DISABLE | ENABLE} KEYS` (as mysqldump writes it): accepted, changes nothing.
    TableKeys(TableRef),
    /// `SHOW INDEX FROM t`.
    ShowIndex(TableRef),
    /// `SHOW [FULL] PROCESSLIST`.
    ShowProcesslist {
        /// FULL shows whole statements.
        full: bool,
    },
    /// `SHOW [GLOBAL|SESSION] VARIABLES [LIKE p | WHERE e]`.
    ShowVariables(ShowFilter),
    /// `SHOW [GLOBAL|SESSION] STATUS [LIKE p]`.
    ShowStatus(ShowFilter),
    /// `SHOW WARNINGS` / `SHOW ERRORS`.
    ShowWarnings,
    /// `SHOW CHARACTER SET` / `SHOW COLLATION` / `SHOW ENGINES`; `SHOW {FUNCTION | PROCEDURE} STATUS` and
    /// `SHOW TRIGGERS` (always empty).
    ShowStatic(&'static str),
    /// PostgreSQL's `SHOW name` (also `SHOW TIME ZONE`, `SHOW TRANSACTION ISOLATION LEVEL`): one setting.
    ShowSetting(String),
    /// CockroachDB's `SHOW [ALL] SESSIONS` (`queries` false) and `SHOW [ALL] QUERIES` (true).
    ShowSessions {
        /// SHOW QUERIES: only sessions running a statement, with the statement.
        queries: bool,
    },
    /// `KILL [CONNECTION | QUERY] id`; also CockroachDB's `CANCEL QUERY 'id'` / `CANCEL SESSION 'id'`.
    Kill {
        /// QUERY: interrupt the statement only.
        query_only: bool,
        /// The connection id.
        id: u64,
    },
    /// `SET ...` assignments; values are the expression's SQL text.
    Set(Vec<(SetTarget, String)>),
    /// `BEGIN`, `START TRANSACTION`.
    Begin,
    /// `COMMIT`.
    Commit,
    /// `SHOW JOBS [WHEN COMPLETE] [select]`, `SHOW JOB [WHEN COMPLETE] id`.
    ShowJobs {
        /// Wait until the jobs are over.
        when_complete: bool,
        /// Which jobs (all visible recent ones if none).
        target: Option<JobTarget>,
    },
    /// `CREATE CHANGEFEED ...` / `EXPERIMENTAL CHANGEFEED ...`.
    CreateChangefeed(Box<ChangefeedStatement>),
    /// `SHOW CHANGEFEED JOBS` / `SHOW CHANGEFEED JOB id`.
    ShowChangefeedJobs(Option<i64>),
    /// `CANCEL | PAUSE | RESUME  JOB id | JOBS select | ALL <type> JOBS`.
    ControlJobs {
        /// What to do.
        action: JobAction,
        /// To which jobs.
        target: JobTarget,
    },
    /// `SAVEPOINT name` (psycopg's nested transactions use them).
    Savepoint(String),
    /// `RELEASE [SAVEPOINT] name`.
    ReleaseSavepoint(String),
    /// `ROLLBACK [WORK] TO [SAVEPOINT] name`.
    RollbackToSavepoint(String),
    /// `ROLLBACK`.
    Rollback,
    /// `ALTER SYSTEM RESTORE t FROM 'uri' [UNTIL ...] WITH 'pool_list=p' [DESCRIPTION 'x']` (root@sys).
    RestoreTenant {
        /// The new tenant.
        name: String,
        /// The destination holding the sets.
        uri: String,
        /// The newest set at or before this point.
        until: Option<RestoreUntil>,
        /// The pool the tenant is bound to.
        pool: String,
        /// DESCRIPTION.
        description: String,
    },
    /// `ALTER SYSTEM CANCEL RESTORE t`.
    CancelRestore(String),
    /// CockroachDB's `SHOW BACKUPS IN 'uri'`.
    ShowBackups {
        /// The destination.
        uri: String,
    },
    /// CockroachDB's `SHOW BACKUP [FROM] {LATEST | 'subdir'} IN 'uri'`.
    ShowBackup {
        /// The set (None: the latest).
        subdir: Option<String>,
        /// The destination.
        uri: String,
    },
    /// CockroachDB's `RESTORE {DATABASE d | TABLE d.t} FROM {LATEST | 'subdir'} IN 'uri' [WITH ...]`.
    RestoreInto {
        /// What is restored.
        object: RestoreObject,
        /// The set (None: the latest).
        subdir: Option<String>,
        /// The destination.
        uri: String,
        /// `new_db_name` of a database restore.
        new_db_name: Option<String>,
        /// Return the job id at once.
        detached: bool,
    },
    /// `ALTER SYSTEM CREATE SNAPSHOT [name] [FOR TENANT t]`.
    CreateSnapshot {
        /// Its name (one is made up if none).
        name: Option<String>,
        /// FOR TENANT (sys only).
        tenant: Option<String>,
    },
    /// `ALTER SYSTEM DROP SNAPSHOT name [FOR TENANT t]`.
    DropSnapshot {
        /// Its name.
        name: String,
        /// FOR TENANT (sys only).
        tenant: Option<String>,
    },
    /// `CREATE TENANT new FROM source [USING SNAPSHOT s] WITH RESOURCE_POOL = p, UNIT = u` (root@sys).
    CloneTenant {
        /// The new tenant.
        name: String,
        /// The tenant cloned.
        source: String,
        /// USING SNAPSHOT: a RESTORE-type clone from that snapshot; else a FORK.
        snapshot: Option<String>,
        /// The pool the clone creates.
        pool: String,
        /// The unit config of that pool.
        unit: String,
    },
    /// `ALTER SYSTEM CANCEL CLONE new_tenant` (root@sys).
    CancelClone(String),
    /// `IMPORT INTO ...` (CockroachDB's or TiDB's) or `LOAD DATA INFILE`: an IMPORT job.
    Import(Box<ImportStatement>),
    /// `CREATE ROLE r` without LOGIN: a group of users.
    CreateRole {
        /// Its name.
        name: UserName,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
    },
    /// `GRANT r1, r2 TO u1, u2` / `REVOKE r FROM u`: role memberships (`admin` is SetAdmin's).
    RoleMembership {
        /// The roles.
        roles: Vec<UserName>,
        /// Their members-to-be (or no longer).
        users: Vec<UserName>,
        /// GRANT (true) or REVOKE.
        grant: bool,
    },
    /// PostgreSQL's `DECLARE name ... CURSOR FOR query`.
    DeclareCursor(Box<CursorDeclaration>),
    /// PostgreSQL's `FETCH [direction] [FROM | IN] name`, or `MOVE` (the same motion without the rows).
    FetchCursor {
        /// The cursor.
        name: String,
        /// Where it goes.
        direction: FetchDirection,
        /// MOVE: only the count of rows passed is answered.
        move_only: bool,
    },
    /// PostgreSQL's `CLOSE name`, or `CLOSE ALL` (`None`).
    CloseCursor(Option<String>),
}

/// A grant level as written: `*.*`, `db.*`, `*` (current database).
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedLevel {
    /// A resolved level.
    Level(GrantLevel),
    /// `*`: the current database.
    CurrentDatabase,
    /// `t`: a table of the current database.
    CurrentTable(String),
}

/// A table as named in SHOW statements: `[db.]t` or `t FROM db`.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRef {
    /// The database, if named.
    pub db: Option<String>,
    /// The table.
    pub table: String,
}

/// The LIKE or WHERE of a SHOW statement.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ShowFilter {
    /// No filter.
    #[default]
    None,
    /// `LIKE 'pattern'` on the first column.
    Like(String),
    /// `WHERE expr` over the result's columns, parsed; the SQL layer evaluates it over the rows itself.
    Where(Box<sqlparser::ast::Expr>),
}

/// A parsed statement: administrative, or tenant SQL for SQLite.
#[derive(Debug)]
pub enum Parsed {
    /// An administrative statement.
    Command(Command),
    /// Tenant SQL.
    Tenant(Box<Statement>),
}

/// Parses one statement (a trailing `;` is allowed).
pub fn parse(sql: &str) -> Result<Parsed> {
    let sql = exec_comments::expand(sql);
    let sql = jobs::rewrite_bracket_statements(&sql);
    let mut c = Cursor::new(&sql)?;
    if c.at_end() {
        return Err(ParseError::EmptyQuery);
    }
    // Queries and DML (the hot path: sysbench's and ORMs' statements) are tenant SQL whatever follows; only
    // other leading keywords can start an administrative statement.
    const TENANT_SQL: [&str; 7] = [
        "SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH", "VALUES",
    ];
    if !TENANT_SQL.iter().any(|kw| c.is_word(kw)) {
        if let Some(cmd) = administrative(&mut c)? {
            return Ok(Parsed::Command(cmd));
        }
    }
    // sqlparser takes the tokens already made (and checked against the limits): one tokenization.
    let mut tokens = c.into_tokens();
    drop_select_hints(&mut tokens);
    comma_joins_in_update(&mut tokens);
    trim_of_spaces(&mut tokens);
    parse_tokens(&sql, tokens).map(|s| Parsed::Tenant(Box::new(s)))
}

/// The administrative statement at the cursor, tried by each family's parser (each looks only at its own
/// leading keywords and leaves the cursor where it was when the statement is not one of its own).
fn administrative(c: &mut Cursor) -> Result<Option<Command>> {
    type Family = fn(&mut Cursor) -> Result<Option<Command>>;
    const FAMILIES: [Family; 10] = [
        jobs::parse,
        changefeed::parse,
        cursor_stmts::parse,
        restore::parse,
        clone::parse,
        import::parse,
        backup_cleanup::parse,
        cluster::parse,
        account::parse,
        session_stmts::parse,
    ];
    for family in FAMILIES {
        if let Some(cmd) = family(c)? {
            return Ok(Some(cmd));
        }
    }
    Ok(None)
}

/// MySQL's SELECT modifiers that only steer its query cache and temporary tables (mysqldump writes
/// `SELECT /*!40001 SQL_NO_CACHE */ ...`); they mean nothing to SQLite and sqlparser would take them for
/// column names. Dropped where they follow SELECT (or another of them).
fn drop_select_hints(tokens: &mut Vec<sqlparser::tokenizer::TokenWithSpan>) {
    const HINTS: [&str; 5] = [
        "SQL_NO_CACHE",
        "SQL_CACHE",
        "SQL_BUFFER_RESULT",
        "SQL_SMALL_RESULT",
        "SQL_BIG_RESULT",
    ];
    let word = |t: &sqlparser::tokenizer::Token, names: &[&str]| {
        matches!(t, sqlparser::tokenizer::Token::Word(w)
            if w.quote_style.is_none() && names.iter().any(|n| w.value.eq_ignore_ascii_case(n)))
    };
    if !tokens.iter().any(|t| word(&t.token, &HINTS)) {
        return;
    }
    let mut after_select = false;
    tokens.retain(|t| {
        if after_select && word(&t.token, &HINTS) {
            return false;
        }
        after_select =
            word(&t.token, &["SELECT"]) || (after_select && word(&t.token, &["ALL", "DISTINCT"]));
        true
    });
}

/// MySQL's multiple-table `UPDATE a, b SET ...`: the comma between the tables is a cross join (the WHERE
/// joins them), which sqlparser reads only when written `CROSS JOIN`. Commas inside brackets (a derived
/// table's select list) are left alone.
fn comma_joins_in_update(tokens: &mut Vec<sqlparser::tokenizer::TokenWithSpan>) {
    use sqlparser::tokenizer::{Token, TokenWithSpan};
    let is_word = |t: &Token, kw: &str| matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw));
    if !tokens.first().is_some_and(|t| is_word(&t.token, "UPDATE")) {
        return;
    }
    let mut depth = 0usize;
    let mut commas = Vec::new();
    for (i, t) in tokens.iter().enumerate().skip(1) {
        match &t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Comma if depth == 0 => commas.push(i),
            tok if depth == 0 && is_word(tok, "SET") => break,
            _ => {}
        }
    }
    for i in commas.into_iter().rev() {
        let span = tokens[i].span;
        tokens.splice(
            i..=i,
            [
                TokenWithSpan {
                    token: Token::make_keyword("CROSS"),
                    span,
                },
                TokenWithSpan {
                    token: Token::make_keyword("JOIN"),
                    span,
                },
            ],
        );
    }
}

/// `TRIM(BOTH | LEADING | TRAILING FROM s)` (MySQL and PostgreSQL) names no characters: they are spaces, which
/// sqlparser reads only when written (`TRIM(BOTH ' ' FROM s)`).
fn trim_of_spaces(tokens: &mut Vec<sqlparser::tokenizer::TokenWithSpan>) {
    use sqlparser::tokenizer::{Token, TokenWithSpan};
    let is_word = |t: &Token, kws: &[&str]| {
        matches!(t, Token::Word(w) if w.quote_style.is_none()
            && kws.iter().any(|k| w.value.eq_ignore_ascii_case(k)))
    };
    let mut i = 0;
    while i + 3 < tokens.len() {
        if is_word(&tokens[i].token, &["TRIM"])
            && tokens[i + 1].token == Token::LParen
            && is_word(&tokens[i + 2].token, &["BOTH", "LEADING", "TRAILING"])
            && is_word(&tokens[i + 3].token, &["FROM"])
        {
            let span = tokens[i + 2].span;
            tokens.insert(
                i + 3,
                TokenWithSpan {
                    token: Token::SingleQuotedString(" ".into()),
                    span,
                },
            );
        }
        i += 1;
    }
}

/// Parses tenant SQL with sqlparser's MySQL dialect; exactly one statement.
pub fn parse_tenant_sql(sql: &str) -> Result<Statement> {
    let sql = exec_comments::expand(sql);
    let c = Cursor::new(&sql)?;
    parse_tokens(&sql, c.into_tokens())
}

/// sqlparser's recursion limit: it counts a few levels for each bracket (an expression, a query, a
/// table factor), and its own stack grows as it needs, so this only has to stay above what
/// [`limits::MAX_NESTING`] lets through.
const RECURSION_LIMIT: usize = 4 * limits::MAX_NESTING;

fn parse_tokens(sql: &str, tokens: Vec<sqlparser::tokenizer::TokenWithSpan>) -> Result<Statement> {
    let dialect = MySqlDialect {};
    let mut statements = Parser::new(&dialect)
        .with_recursion_limit(RECURSION_LIMIT)
        .with_tokens_with_locations(tokens)
        .parse_statements()
        .map_err(|e| parser_error(sql, e))?;
    match statements.len() {
        0 => Err(ParseError::EmptyQuery),
        1 => Ok(statements.remove(0)),
        _ => Err(ParseError::Unsupported(
            "Multiple statements in one query".into(),
        )),
    }
}

/// Turns sqlparser's error (which names a line and column) into MySQL's wording.
fn parser_error(sql: &str, e: ParserError) -> ParseError {
    if matches!(e, ParserError::RecursionLimitExceeded) {
        return ParseError::TooDeep {
            limit: limits::MAX_NESTING,
            what: "nesting",
        };
    }
    let msg = e.to_string();
    let loc = msg.rsplit_once("at Line: ").and_then(|(_, rest)| {
        let (line, col) = rest.split_once(", Column: ")?;
        let col: String = col.chars().take_while(|c| c.is_ascii_digit()).collect();
        Some(sqlparser::tokenizer::Location {
            line: line.trim().parse().ok()?,
            column: col.parse().ok()?,
        })
    });
    match loc {
        Some(loc) => cursor::syntax_error_at(sql, loc),
        None => ParseError::Syntax {
            near: sql.chars().take(80).collect(),
            line: 1,
        },
    }
}

/// Parses `[IF NOT EXISTS]`.
fn if_not_exists(c: &mut Cursor) -> bool {
    c.eat_words(&["IF", "NOT", "EXISTS"])
}

/// Parses `[IF EXISTS]`.
fn if_exists(c: &mut Cursor) -> bool {
    c.eat_words(&["IF", "EXISTS"])
}

/// Parses a `LIKE 'p'` or `WHERE expr` tail; the expression is parsed here, never kept as SQL text.
fn show_filter(c: &mut Cursor) -> Result<ShowFilter> {
    if c.eat_word("LIKE") {
        Ok(ShowFilter::Like(c.string()?))
    } else if c.eat_word("WHERE") {
        if c.at_end() {
            return Err(c.error());
        }
        let sql = c.sql();
        let tokens = c.take_rest();
        let dialect = MySqlDialect {};
        let mut p = Parser::new(&dialect)
            .with_recursion_limit(RECURSION_LIMIT)
            .with_tokens_with_locations(tokens);
        let expr = p.parse_expr().map_err(|e| parser_error(sql, e))?;
        while p.consume_token(&sqlparser::tokenizer::Token::SemiColon) {}
        if p.peek_token_ref().token != sqlparser::tokenizer::Token::EOF {
            return Err(parser_error(
                sql,
                ParserError::ParserError(format!(
                    "unexpected token at Line: {}, Column: {}",
                    p.peek_token_ref().span.start.line,
                    p.peek_token_ref().span.start.column
                )),
            ));
        }
        Ok(ShowFilter::Where(Box::new(expr)))
    } else {
        Ok(ShowFilter::None)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Parses an administrative statement, failing the test if it parses as tenant SQL.
    pub(crate) fn cmd(sql: &str) -> Command {
        match parse(sql).unwrap() {
            Parsed::Command(c) => c,
            Parsed::Tenant(s) => panic!("parsed as tenant SQL: {s}"),
        }
    }

    #[test]
    fn trims_without_characters_trim_spaces() {
        let Parsed::Tenant(s) =
            parse("SELECT TRIM(BOTH FROM a), trim(leading from b), TRIM(x)").unwrap()
        else {
            panic!("not tenant SQL")
        };
        assert_eq!(
            s.to_string(),
            "SELECT TRIM(BOTH ' ' FROM a), TRIM(LEADING ' ' FROM b), TRIM(x)"
        );
    }

    #[test]
    fn comma_joined_updates_are_cross_joins() {
        let Parsed::Tenant(s) = parse("UPDATE a, b AS c SET a.v = c.w WHERE a.id = c.id").unwrap()
        else {
            panic!("not tenant SQL")
        };
        assert_eq!(
            s.to_string(),
            "UPDATE a CROSS JOIN b AS c SET a.v = c.w WHERE a.id = c.id"
        );
        // A comma after SET separates assignments.
        let Parsed::Tenant(s) = parse("UPDATE a SET x = 1, y = 2").unwrap() else {
            panic!("not tenant SQL")
        };
        assert_eq!(s.to_string(), "UPDATE a SET x = 1, y = 2");
    }

    #[test]
    fn garbage_is_a_syntax_error() {
        for sql in ["1 SHOW ( @@ BEGIN -- X)| ", "@@", "SELECT @@", "\0"] {
            assert!(parse(sql).is_err(), "{sql:?}");
        }
    }
}
