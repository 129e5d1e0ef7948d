//! SQLite's errors in MySQL's terms.

use rusqlite::ffi;

use crate::error::SqlError;
use crate::translate::mysql_index_name;

/// Maps a SQLite error to the SQL layer's error.
pub fn map_sqlite_error(e: rusqlite::Error) -> SqlError {
    let (err, msg) = match &e {
        rusqlite::Error::SqliteFailure(err, msg) => {
            (err, msg.clone().unwrap_or_else(|| err.to_string()))
        }
        // Errors found while preparing a statement carry the offending SQL as well.
        rusqlite::Error::SqlInputError { error, msg, .. } => (error, msg.clone()),
        _ => return SqlError::Sqlite(e.to_string()),
    };
    match err.code {
        ffi::ErrorCode::OperationInterrupted => return SqlError::Interrupted,
        // The statement memory budget refused an allocation (see memory.rs).
        ffi::ErrorCode::OutOfMemory => return SqlError::OutOfMemory,
        // Never SQLite's own text, which names the refused database, table and column.
        ffi::ErrorCode::AuthorizationForStatementDenied => return SqlError::AuthorizerDenied,
        ffi::ErrorCode::DatabaseBusy | ffi::ErrorCode::DatabaseLocked => {
            return if err.extended_code == ffi::SQLITE_BUSY_SNAPSHOT {
                SqlError::Deadlock
            } else {
                SqlError::LockWaitTimeout
            }
        }
        ffi::ErrorCode::ConstraintViolation => {
            let detail = msg
                .split_once("failed: ")
                .map_or(msg.as_str(), |(_, d)| d)
                .to_string();
            return match err.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    SqlError::DuplicateEntry(detail)
                }
                ffi::SQLITE_CONSTRAINT_NOTNULL => {
                    SqlError::NotNull(detail.rsplit('.').next().unwrap_or(&detail).to_string())
                }
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => SqlError::ForeignKey(detail),
                ffi::SQLITE_CONSTRAINT_CHECK => {
                    if let Some((kind, column)) = detail
                        .strip_prefix(crate::translate::TYPED_CHECK_PREFIX)
                        .and_then(|rest| rest.split_once('$'))
                    {
                        let kind = match kind {
                            "date" => "date",
                            "datetime" => "datetime",
                            "time" => "time",
                            "uuid" => "uuid",
                            _ => "json",
                        };
                        return SqlError::IncorrectTypedValue {
                            kind,
                            column: column.to_string(),
                        };
                    }
                    match detail.strip_prefix(crate::translate::TYPE_CHECK_PREFIX) {
                        Some(column) => SqlError::IncorrectValue {
                            kind: "number",
                            column: column.to_string(),
                        },
                        None => SqlError::CheckViolated(detail),
                    }
                }
                _ => SqlError::Sqlite(msg),
            };
        }
        _ => {}
    }
    // SQLite's own depth limits (expression depth 1,000, 500 compound SELECT terms) are the same class of
    // refusal as the server's (see the parser's limits) and go out with the same codes.
    if let Some(limit) = msg
        .strip_prefix("Expression tree is too large (maximum depth ")
        .and_then(|r| r.strip_suffix(')'))
    {
        return SqlError::TooDeep {
            limit: limit.parse().unwrap_or(1000),
            what: "expression depth in SQLite",
        };
    }
    // SQLite's JSON functions say this of bad JSON and of JSON nested deeper than they read alike.
    if msg == "malformed JSON" {
        return SqlError::MalformedJson;
    }
    if msg == "too many terms in compound SELECT" {
        return SqlError::TooDeep {
            limit: 500,
            what: "number of compound SELECT terms",
        };
    }
    if let Some(name) = msg.strip_prefix("no such table: ") {
        let (db, table) = name.split_once('.').unwrap_or(("", name));
        return SqlError::NoSuchTable {
            db: db.to_string(),
            table: table.to_string(),
        };
    }
    if let Some(name) = msg.strip_prefix("no such column: ") {
        return SqlError::UnknownColumn(name.to_string());
    }
    if let Some(rest) = msg.strip_prefix("table ") {
        if let Some(name) = rest.strip_suffix(" already exists") {
            return SqlError::TableExists(name.trim_matches('`').to_string());
        }
    }
    if let Some(rest) = msg.strip_prefix("index ") {
        if let Some(name) = rest.strip_suffix(" already exists") {
            return SqlError::DuplicateKeyName(
                mysql_index_name(name.trim_matches('`')).to_string(),
            );
        }
    }
    if let Some(name) = msg.strip_prefix("no such index: ") {
        let name = name.rsplit('.').next().unwrap_or(name);
        return SqlError::CantDropKey(mysql_index_name(name).to_string());
    }
    if let Some(rest) = msg.strip_prefix("near \"") {
        if let Some((near, _)) = rest.split_once("\": syntax error") {
            return SqlError::Syntax {
                near: near.to_string(),
                line: 1,
            };
        }
    }
    if msg.contains("syntax error") {
        return SqlError::Syntax {
            near: String::new(),
            line: 1,
        };
    }
    SqlError::Sqlite(msg)
}

#[cfg(test)]
mod tests {
    use super::map_sqlite_error;
    use crate::error::SqlError;

    /// A transaction whose snapshot another connection's commit outdated cannot write: SQLite answers
    /// SQLITE_BUSY_SNAPSHOT, which clients must see as MySQL's 1213 / PostgreSQL's 40001 so that they
    /// retry, not as a lock wait timeout. Sessions never get there in practice (a read transaction is
    /// restarted when it takes its writer turn); the mapping is the safety net.
    #[test]
    fn an_outdated_snapshot_is_a_deadlock_to_retry() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.db");
        let a = rusqlite::Connection::open(&path).expect("open a");
        a.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1)")
            .expect("setup");
        let b = rusqlite::Connection::open(&path).expect("open b");
        // b reads, so its snapshot is fixed; then a commits a write.
        b.execute_batch("BEGIN").expect("begin");
        let _: i64 = b
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .expect("read");
        a.execute("INSERT INTO t VALUES (2)", []).expect("write a");
        let e = b
            .execute("INSERT INTO t VALUES (3)", [])
            .expect_err("b's snapshot is outdated");
        let mapped = map_sqlite_error(e);
        assert!(matches!(mapped, SqlError::Deadlock), "{mapped:?}");
        let wire = mapped.wire();
        assert_eq!((wire.mysql_code, wire.mysql_state), (1213, "40001"));
        assert_eq!(wire.pg_state, "40001");
    }
}
