//! System variables (`@@x`, SET, SHOW VARIABLES), user variables, and the static SHOW statements.

use std::time::Duration;

use crate::engine::SERVER_VERSION;
use crate::error::{Result, SqlError};
use crate::exec::{filter, tenant_sql};
use crate::parser::{Command, SetTarget};
use crate::session::Session;
use crate::value::{Output, ResultSet, Value};

/// The server's system variables and their defaults. Names are lower case.
const DEFAULTS: &[(&str, &str)] = &[
    ("auto_increment_increment", "1"),
    ("auto_increment_offset", "1"),
    ("character_set_client", "utf8mb4"),
    ("character_set_connection", "utf8mb4"),
    ("character_set_database", "utf8mb4"),
    ("character_set_filesystem", "binary"),
    ("character_set_results", "utf8mb4"),
    ("character_set_server", "utf8mb4"),
    ("character_set_system", "utf8mb4"),
    ("collation_connection", "utf8mb4_general_ci"),
    ("collation_database", "utf8mb4_general_ci"),
    ("collation_server", "utf8mb4_general_ci"),
    ("default_storage_engine", "SQLite"),
    ("div_precision_increment", "4"),
    ("explicit_defaults_for_timestamp", "1"),
    ("foreign_key_checks", "1"),
    ("group_concat_max_len", "1024"),
    ("have_ssl", "DISABLED"),
    ("idle_session_timeout", "0"),
    ("init_connect", ""),
    ("innodb_lock_wait_timeout", "50"),
    ("interactive_timeout", "28800"),
    ("license", "Apache-2.0"),
    ("lower_case_table_names", "1"),
    ("max_allowed_packet", "67108864"),
    ("max_execution_time", "0"),
    ("net_buffer_length", "16384"),
    ("net_read_timeout", "30"),
    ("net_write_timeout", "60"),
    ("ob_query_timeout", "10000000"),
    ("performance_schema", "0"),
    ("query_cache_size", "0"),
    ("query_cache_type", "OFF"),
    ("sql_auto_is_null", "0"),
    ("sql_mode", ""),
    ("sql_notes", "1"),
    ("sql_quote_show_create", "1"),
    ("sql_safe_updates", "0"),
    ("sql_select_limit", "18446744073709551615"),
    ("statement_timeout", "0"),
    ("system_time_zone", "UTC"),
    ("time_zone", "+00:00"),
    ("transaction_isolation", "SERIALIZABLE"),
    ("transaction_read_only", "0"),
    ("tx_isolation", "SERIALIZABLE"),
    ("tx_read_only", "0"),
    ("unique_checks", "1"),
    (
        "version_comment",
        "Tenantry: multi-tenant SQL with durable, cancelable jobs",
    ),
    ("wait_timeout", "28800"),
];

/// PostgreSQL's session settings, beside MySQL's variables in one namespace (`pg_settings` lists these).
const PG_DEFAULTS: &[(&str, &str)] = &[
    // PostgreSQL's session settings, which drivers set and read at connect (pgjdbc: extra_float_digits,
    // application_name; SQLAlchemy: standard_conforming_strings, transaction isolation). Stored per session;
    // values are those PostgreSQL reports. Only statement_timeout and idle_session_timeout act.
    ("application_name", ""),
    ("bytea_output", "hex"),
    ("client_encoding", "UTF8"),
    ("client_min_messages", "notice"),
    ("datestyle", "ISO, MDY"),
    ("default_table_access_method", "heap"),
    ("default_tablespace", ""),
    ("default_transaction_isolation", "serializable"),
    ("default_transaction_read_only", "off"),
    ("extra_float_digits", "1"),
    ("idle_in_transaction_session_timeout", "0"),
    ("integer_datetimes", "on"),
    ("intervalstyle", "postgres"),
    ("lc_messages", "C.UTF-8"),
    ("lock_timeout", "0"),
    ("max_identifier_length", "63"),
    ("search_path", "\"$user\", public"),
    ("server_encoding", "UTF8"),
    ("server_version", "13.0.0"),
    ("server_version_num", "130000"),
    ("standard_conforming_strings", "on"),
    ("synchronous_commit", "on"),
    ("timezone", "UTC"),
];

/// PostgreSQL's default of a session setting, if it is one.
pub fn pg_default(name: &str) -> Option<&'static str> {
    PG_DEFAULTS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

/// Variables whose value is computed, not stored.
const COMPUTED: &[&str] = &[
    "autocommit",
    "version",
    "hostname",
    "port",
    "last_insert_id",
    "identity",
    "ob_compatibility_mode",
    "socket",
    "warning_count",
    "error_count",
    "max_connections",
];

/// PostgreSQL's settings with this session's values, for `pg_catalog.pg_settings`.
pub(crate) fn pg_settings(session: &Session) -> Vec<(String, String)> {
    PG_DEFAULTS
        .iter()
        .map(|(name, default)| {
            let value = session
                .vars
                .get(*name)
                .and_then(Value::to_text)
                .unwrap_or_else(|| default.to_string());
            (name.to_string(), value)
        })
        .collect()
}

/// The value of a system variable in this session.
pub fn get(session: &Session, name: &str) -> Result<Value> {
    let name = name
        .strip_prefix("session.")
        .or_else(|| name.strip_prefix("global."))
        .or_else(|| name.strip_prefix("local."))
        .unwrap_or(name);
    Ok(match name {
        "autocommit" => Value::Int(session.autocommit as i64),
        "version" => Value::from(SERVER_VERSION),
        "hostname" => Value::from("localhost"),
        "port" => Value::Int(session.engine.mysql_port() as i64),
        "last_insert_id" | "identity" => Value::Int(session.last_insert_id as i64),
        "ob_compatibility_mode" => Value::from(session.identity.tenant.compatibility_mode.as_str()),
        "socket" => Value::Null,
        "warning_count" | "error_count" => Value::Int(session.diagnostics.is_some() as i64),
        "max_connections" => Value::Int(session.engine.sessions().max_sessions() as i64),
        _ => {
            if let Some(v) = session.vars.get(name) {
                return Ok(v.clone());
            }
            let (_, default) = DEFAULTS
                .iter()
                .chain(PG_DEFAULTS)
                .find(|(n, _)| *n == name)
                .ok_or_else(|| SqlError::UnknownVariable(name.to_string()))?;
            match default.parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => Value::from(*default),
            }
        }
    })
}

/// Runs SET, SHOW VARIABLES / STATUS / WARNINGS and the static SHOWs.
pub fn run(session: &mut Session, cmd: Command) -> Result<Output> {
    match cmd {
        Command::Set(assignments) => {
            // User variables take their values left to right (`SET @a = 1, @b = @a + 1`), as in MySQL.
            // System variables are checked as they come and applied at the end, so a bad one changes none.
            let mut system = Vec::new();
            for (target, expr) in assignments {
                let value = evaluate(session, &expr)?;
                match target {
                    SetTarget::User(name) => {
                        session.user_vars.insert(name, value);
                    }
                    SetTarget::Global(name) => {
                        get(session, &name)?;
                        return Err(SqlError::Unsupported(format!(
                            "SET GLOBAL {name} (cluster settings are set with ALTER SYSTEM SET)"
                        )));
                    }
                    SetTarget::Session(name) => {
                        get(session, &name)?;
                        system.push((name, value));
                    }
                }
            }
            for (name, value) in system {
                set_session(session, &name, value)?;
            }
            Ok(Output::ok())
        }
        Command::ShowVariables(f) => {
            let mut rs = ResultSet::with_text_columns(&["Variable_name", "Value"]);
            let mut names: Vec<&str> = DEFAULTS
                .iter()
                .chain(PG_DEFAULTS)
                .map(|(n, _)| *n)
                .chain(COMPUTED.iter().copied())
                .collect();
            names.sort_unstable();
            for name in names {
                let v = get(session, name)?;
                rs.rows
                    .push(vec![Value::from(name), Value::from(v.to_text())]);
            }
            Ok(Output::Rows(filter::apply(session, rs, &f)?))
        }
        Command::ShowSetting(name) => {
            let value = get(session, &name)?;
            let mut rs = ResultSet::with_text_columns(&[name.as_str()]);
            rs.rows.push(vec![Value::from(value.to_text())]);
            Ok(Output::Rows(rs))
        }
        Command::ShowStatus(f) => {
            let mut rs = ResultSet::with_text_columns(&["Variable_name", "Value"]);
            rs.rows.push(vec![
                Value::from("Threads_connected"),
                Value::from(session.engine.sessions().count().to_string()),
            ]);
            // MySQL's connection_control plugin's name for logins that had to wait after failed attempts.
            rs.rows.push(vec![
                Value::from("Connection_control_delay_generated"),
                Value::from(session.engine.throttle().delayed().to_string()),
            ]);
            Ok(Output::Rows(filter::apply(session, rs, &f)?))
        }
        Command::ShowWarnings => {
            // Errors are the only diagnostics kept: MySQL lists the last statement's error as Level Error.
            let mut rs = ResultSet::with_text_columns(&["Level", "Code", "Message"]);
            rs.columns[1].kind = crate::value::ColumnKind::Int;
            if let Some((code, message)) = &session.diagnostics {
                rs.rows.push(vec![
                    Value::from("Error"),
                    Value::Int(i64::from(*code)),
                    Value::from(message.as_str()),
                ]);
            }
            Ok(Output::Rows(rs))
        }
        Command::ShowStatic(what) => {
            let rs = match what {
                "charset" => table(
                    &["Charset", "Description", "Default collation", "Maxlen"],
                    &[&["utf8mb4", "UTF-8 Unicode", "utf8mb4_general_ci", "4"]],
                ),
                "collation" => table(
                    &[
                        "Collation",
                        "Charset",
                        "Id",
                        "Default",
                        "Compiled",
                        "Sortlen",
                    ],
                    &[
                        &["utf8mb4_general_ci", "utf8mb4", "45", "Yes", "Yes", "1"],
                        &["utf8mb4_bin", "utf8mb4", "46", "", "Yes", "1"],
                    ],
                ),
                "routines" => table(
                    &[
                        "Db",
                        "Name",
                        "Type",
                        "Definer",
                        "Modified",
                        "Created",
                        "Security_type",
                        "Comment",
                        "character_set_client",
                        "collation_connection",
                        "Database Collation",
                    ],
                    &[],
                ),
                "triggers" => table(
                    &[
                        "Trigger",
                        "Event",
                        "Table",
                        "Statement",
                        "Timing",
                        "Created",
                        "sql_mode",
                        "Definer",
                        "character_set_client",
                        "collation_connection",
                        "Database Collation",
                    ],
                    &[],
                ),
                _ => table(
                    &[
                        "Engine",
                        "Support",
                        "Comment",
                        "Transactions",
                        "XA",
                        "Savepoints",
                    ],
                    &[&[
                        "SQLite",
                        "DEFAULT",
                        "One SQLite file per database, WAL mode",
                        "YES",
                        "NO",
                        "NO",
                    ]],
                ),
            };
            Ok(Output::Rows(rs))
        }
        other => Err(SqlError::Internal(format!(
            "not a variable statement: {other:?}"
        ))),
    }
}

fn table(columns: &[&str], rows: &[&[&str]]) -> ResultSet {
    let mut rs = ResultSet::with_text_columns(columns);
    rs.rows = rows
        .iter()
        .map(|r| r.iter().map(|v| Value::from(*v)).collect())
        .collect();
    rs
}

fn set_session(session: &mut Session, name: &str, value: Value) -> Result<()> {
    let wrong = |v: &Value| SqlError::WrongVariableValue {
        name: name.to_string(),
        value: v.to_text().unwrap_or_else(|| "NULL".into()),
    };
    match name {
        "autocommit" => {
            let on = match &value {
                Value::Int(1) => true,
                Value::Int(0) => false,
                Value::Text(s) if s.eq_ignore_ascii_case("on") || s == "1" => true,
                Value::Text(s) if s.eq_ignore_ascii_case("off") || s == "0" => false,
                v => return Err(wrong(v)),
            };
            if on && !session.autocommit {
                // Turning autocommit on commits the open transaction, as MySQL does.
                session.commit_if_open()?;
            }
            session.autocommit = on;
        }
        _ if COMPUTED.contains(&name) => {
            return Err(SqlError::OceanBase {
                code: -1238,
                message: format!("Variable '{name}' is a read only variable"),
            })
        }
        _ => {
            get(session, name)?;
            let value = match value {
                Value::Text(s) if s.eq_ignore_ascii_case("default") => {
                    session.vars.remove(name);
                    apply_idle_timeout(session);
                    apply_foreign_key_checks(session)?;
                    return Ok(());
                }
                v => v,
            };
            let valid = match name {
                "max_execution_time" => matches!(value, Value::Int(n) if n >= 0),
                "wait_timeout" => matches!(value, Value::Int(1..=MAX_WAIT_TIMEOUT)),
                "statement_timeout" | "idle_session_timeout" => pg_duration(&value).is_some(),
                _ => true,
            };
            if !valid {
                return Err(wrong(&value));
            }
            if name == "foreign_key_checks" {
                match &value {
                    Value::Int(0 | 1) => {}
                    Value::Text(s)
                        if ["on", "off", "0", "1"].contains(&s.to_ascii_lowercase().as_str()) => {}
                    v => return Err(wrong(v)),
                }
            }
            session.vars.insert(name.to_string(), value);
            apply_idle_timeout(session);
            apply_foreign_key_checks(session)?;
        }
    }
    Ok(())
}

/// `foreign_key_checks` acts on SQLite's `foreign_keys` (mysqldump turns it off to load tables in any order).
/// SQLite ignores the pragma inside a transaction; it takes effect from the next one.
pub(crate) fn apply_foreign_key_checks(session: &Session) -> Result<()> {
    let on = match get(session, "foreign_key_checks")? {
        Value::Int(n) => n != 0,
        Value::Text(s) => !(s.eq_ignore_ascii_case("off") || s == "0"),
        _ => true,
    };
    session.conn.conn().execute_batch(if on {
        "PRAGMA foreign_keys = ON"
    } else {
        "PRAGMA foreign_keys = OFF"
    })?;
    Ok(())
}

/// MySQL's largest `wait_timeout`, in seconds (a year).
const MAX_WAIT_TIMEOUT: i64 = 31_536_000;

/// A PostgreSQL duration setting: a number of milliseconds, or a number with a unit (`ms`, `s`, `min`, `h`,
/// `d`), as in `SET statement_timeout = '5s'`.
fn pg_duration(value: &Value) -> Option<Duration> {
    let ms = |n: u64, per: u64| n.checked_mul(per).map(Duration::from_millis);
    match value {
        Value::Int(n) => ms(u64::try_from(*n).ok()?, 1),
        Value::Text(s) => {
            let s = s.trim().to_ascii_lowercase();
            let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let n: u64 = s[..split].parse().ok()?;
            let per = match s[split..].trim() {
                "" | "ms" => 1,
                "s" => 1_000,
                "min" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => return None,
            };
            ms(n, per)
        }
        _ => None,
    }
}

/// A session variable's value as milliseconds (an integer, or a PostgreSQL duration); 0 if unset or unusable.
fn duration_var(session: &Session, name: &str) -> Duration {
    get(session, name)
        .ok()
        .and_then(|v| pg_duration(&v))
        .unwrap_or_default()
}

/// How long the session may stay idle: PostgreSQL's `idle_session_timeout` if set, else MySQL's `wait_timeout`.
pub(crate) fn apply_idle_timeout(session: &Session) {
    let idle = match duration_var(session, "idle_session_timeout") {
        d if !d.is_zero() => d,
        _ => match get(session, "wait_timeout") {
            Ok(Value::Int(secs)) => Duration::from_secs(u64::try_from(secs).unwrap_or(0)),
            _ => Duration::ZERO,
        },
    };
    session.handle.set_idle_timeout(idle);
}

/// The time limit of statement `sql`: PostgreSQL's `statement_timeout` for any statement, else MySQL's
/// `max_execution_time`, which binds read-only SELECTs only (as in MySQL).
pub(crate) fn statement_time_limit(session: &Session, sql: &str) -> Option<Duration> {
    let pg = duration_var(session, "statement_timeout");
    if !pg.is_zero() {
        return Some(pg);
    }
    let mysql = duration_var(session, "max_execution_time");
    (!mysql.is_zero() && is_select(sql)).then_some(mysql)
}

/// Whether a statement is a query (SELECT, WITH ... SELECT, a parenthesised SELECT), after leading comments.
fn is_select(sql: &str) -> bool {
    let mut rest = sql.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("/*") {
            match r.find("*/") {
                Some(end) => rest = r[end + 2..].trim_start(),
                None => return false,
            }
        } else if rest.starts_with("--") || rest.starts_with('#') {
            match rest.find('\n') {
                Some(end) => rest = rest[end + 1..].trim_start(),
                None => return false,
            }
        } else {
            break;
        }
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphabetic() || *c == '(')
        .collect::<String>()
        .to_ascii_lowercase();
    word.starts_with('(') || word == "select" || word == "with"
}

/// Evaluates a SET value: bare words (ON, utf8mb4, DEFAULT) are text; anything else is an expression.
fn evaluate(session: &mut Session, expr: &str) -> Result<Value> {
    let is_word = !expr.is_empty()
        && expr.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !expr.chars().all(|c| c.is_ascii_digit())
        && !expr.eq_ignore_ascii_case("null")
        && !expr.eq_ignore_ascii_case("true")
        && !expr.eq_ignore_ascii_case("false");
    if is_word {
        return Ok(Value::Text(expr.to_string()));
    }
    let stmt = crate::parser::parse_tenant_sql(&format!("SELECT {expr}"))?;
    // The value is the server's, never a result for the client: nothing streams.
    session.row_sink = None;
    match tenant_sql::run(session, stmt, &[])? {
        Output::Rows(rs) => Ok(rs
            .rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .unwrap_or(Value::Null)),
        Output::Done { .. } | Output::Streamed { .. } => Ok(Value::Null),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_durations() {
        assert_eq!(
            pg_duration(&Value::Int(250)),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            pg_duration(&Value::from("5s")),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            pg_duration(&Value::from("2min")),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            pg_duration(&Value::from("300")),
            Some(Duration::from_millis(300))
        );
        assert_eq!(pg_duration(&Value::from("5 years")), None);
        assert_eq!(pg_duration(&Value::Int(-1)), None);
    }

    #[test]
    fn queries_are_told_from_other_statements() {
        assert!(is_select("SELECT 1"));
        assert!(is_select(
            "  /* hint */ with c as (select 1) select * from c"
        ));
        assert!(is_select("(SELECT 1) UNION (SELECT 2)"));
        assert!(is_select("-- why\nselect 1"));
        assert!(!is_select("INSERT INTO t SELECT 1"));
        assert!(!is_select("UPDATE t SET a = 1"));
    }

    #[test]
    fn executable_comments_compare_with_the_reported_version() {
        let mut parts = super::SERVER_VERSION
            .split(['.', '-'])
            .map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor, patch) = (
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
        );
        assert_eq!(
            crate::parser::exec_comments::MYSQL_VERSION_ID,
            major * 10000 + minor * 100 + patch
        );
    }
}
