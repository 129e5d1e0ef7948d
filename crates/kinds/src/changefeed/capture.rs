//! Row capture for changefeeds: triggers on each watched table write every change into the database's change
//! log, in the same transaction as the change itself.
//!
//! Why triggers (see `changefeeds.md` §8): they run inside the writing transaction on whatever connection
//! writes (sessions, jobs, other processes), so a change and its capture commit together or not at all — a
//! crash between the two is impossible, and rolled-back transactions or savepoints leave nothing behind. The
//! log's `seq` (`INTEGER PRIMARY KEY`: one more than the newest row's, and trimming always keeps the newest row,
//! so a number is never reused once committed) orders changes in commit order, because a database file has one
//! writer at a time. Tables without a feed carry no trigger and pay nothing.
//!
//! The log and the triggers use names starting with `sqlite_`, which SQLite reserves: no client statement can
//! create, drop or alter them (only a connection with `writable_schema` can create them, and the server's own
//! listings already leave such names out). Their rows are deleted once every feed on the database has passed them.

use rusqlite::{Connection, OptionalExtension};

/// The change log of a database.
pub const LOG_TABLE: &str = "sqlite_tenantry_changes";
/// The prefix of the capture triggers' names.
pub const TRIGGER_PREFIX: &str = "sqlite_tenantry_cdc_";
/// Columns per `json_object` call (SQLite allows 127 arguments to a function; two per column).
const COLUMNS_PER_CALL: usize = 60;

/// One captured change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Its place in the database's commit order.
    pub seq: i64,
    /// The table it changed.
    pub table: String,
    /// The primary key, as a JSON array.
    pub key: String,
    /// The row after the change (JSON object), `None` for a delete.
    pub after: Option<String>,
    /// The row before it, `None` for an insert.
    pub before: Option<String>,
    /// When it was written, in milliseconds since the Unix epoch.
    pub written_ms: i64,
}

fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Whether `db` has a change log.
fn has_log(conn: &Connection, db: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        &format!(
            "SELECT EXISTS(SELECT 1 FROM {}.sqlite_master WHERE type = 'table' AND name = ?1)",
            quote(db)
        ),
        [LOG_TABLE],
        |r| r.get(0),
    )
}

/// Creates the change log of `db` if it has none. Call inside a write transaction.
pub fn ensure_log(conn: &Connection, db: &str) -> rusqlite::Result<()> {
    if has_log(conn, db)? {
        return Ok(());
    }
    with_writable_schema(conn, || {
        conn.execute_batch(&format!(
            // No AUTOINCREMENT: its sqlite_sequence row would be one more B-tree write per change.
            "CREATE TABLE {}.{LOG_TABLE} (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, \
             key TEXT NOT NULL, after TEXT, before TEXT, written INTEGER NOT NULL)",
            quote(db)
        ))
    })
}

/// Runs `f` with `writable_schema` on, which is what lets a connection create objects with reserved names.
fn with_writable_schema(
    conn: &Connection,
    f: impl FnOnce() -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    conn.execute_batch("PRAGMA writable_schema = ON")?;
    let done = f();
    conn.execute_batch("PRAGMA writable_schema = OFF")?;
    done
}

/// A table's columns and its key columns (the primary key in key order, else the rowid).
pub struct Shape {
    /// Every column, in table order.
    pub columns: Vec<String>,
    /// The key columns.
    pub key: Vec<String>,
    /// Columns whose CHECK keeps BLOBs out (numbers, dates, UUIDs): their values go into JSON as they are.
    pub no_blobs: std::collections::HashSet<String>,
}

/// The shape of `db.table`, or `None` if there is no such table.
pub fn shape(conn: &Connection, db: &str, table: &str) -> rusqlite::Result<Option<Shape>> {
    let mut stmt = conn.prepare("SELECT name, pk FROM pragma_table_info(?1, ?2) ORDER BY cid")?;
    let rows: Vec<(String, i64)> = stmt
        .query_map([table, db], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut key: Vec<(i64, String)> = rows
        .iter()
        .filter(|(_, pk)| *pk > 0)
        .map(|(n, pk)| (*pk, n.clone()))
        .collect();
    key.sort();
    let key = if key.is_empty() {
        vec!["rowid".to_string()]
    } else {
        key.into_iter().map(|(_, n)| n).collect()
    };
    let sql: String = conn
        .query_row(
            &format!(
                "SELECT coalesce(sql, '') FROM {}.sqlite_master WHERE type = 'table' AND name = ?1",
                quote(db)
            ),
            [table],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_default();
    use crate::schema_change::{TYPED_CHECK_PREFIX, TYPE_CHECK_PREFIX};
    let no_blobs = rows
        .iter()
        .map(|(n, _)| n)
        .filter(|c| {
            let numeric = quote(&format!("{TYPE_CHECK_PREFIX}{c}"));
            let textual = ["date", "datetime", "uuid"]
                .map(|kind| quote(&format!("{TYPED_CHECK_PREFIX}{kind}${c}")));
            sql.contains(&numeric) || textual.iter().any(|t| sql.contains(t))
        })
        .cloned()
        .collect();
    Ok(Some(Shape {
        columns: rows.into_iter().map(|(n, _)| n).collect(),
        key,
        no_blobs,
    }))
}

/// One column's value as JSON can hold it: a BLOB becomes `\x` and its hex digits, as CockroachDB prints BYTES
/// (a column whose CHECK keeps BLOBs out needs no test; the trigger is compiled into every statement that
/// writes the table, so every expression saved counts).
fn value(row: &str, column: &str, shape: &Shape) -> String {
    let v = format!("{row}.{}", quote(column));
    if shape.no_blobs.contains(column) {
        return v;
    }
    format!("CASE typeof({v}) WHEN 'blob' THEN '\\x' || lower(hex({v})) ELSE {v} END")
}

/// The JSON object of a row (`row` is `NEW` or `OLD`), in calls of at most [`COLUMNS_PER_CALL`] columns. The
/// columns go in bytewise order, the order CockroachDB prints them in, so a message can be put together from
/// the stored text without parsing it.
fn row_json(row: &str, shape: &Shape) -> String {
    let mut columns = shape.columns.clone();
    columns.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let mut chunks = columns.chunks(COLUMNS_PER_CALL);
    let first = chunks.next().unwrap_or(&[]);
    let pairs = |cols: &[String]| {
        cols.iter()
            .map(|c| format!("{}, {}", sql_string(c), value(row, c, shape)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut expr = format!("json_object({})", pairs(first));
    for more in chunks {
        let inserts = more
            .iter()
            .map(|c| {
                format!(
                    "{}, {}",
                    sql_string(&format!("$.\"{}\"", c.replace('"', "\\\""))),
                    value(row, c, shape)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        expr = format!("json_insert({expr}, {inserts})");
    }
    expr
}

fn key_json(row: &str, shape: &Shape) -> String {
    let parts: Vec<String> = shape
        .key
        .iter()
        .map(|k| {
            if k == "rowid" {
                format!("{row}.rowid")
            } else {
                value(row, k, shape)
            }
        })
        .collect();
    format!("json_array({})", parts.join(", "))
}

fn trigger_name(op: &str, table: &str) -> String {
    format!("{TRIGGER_PREFIX}{op}_{table}")
}

/// The time a change is written: SQLite's clock (one value per statement), in milliseconds.
const WRITTEN: &str = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

/// What the insert trigger's text says about when the table's capture began (milliseconds since the epoch).
const SINCE_TAG: &str = "/* capture since ";

/// Installs (or re-creates, for the table's current columns) the capture triggers of `db.table`, creating the
/// log if needed; `since` is when the table's capture began (`None`: now — a re-creation for a schema change
/// passes the old time on, since no change went uncaptured). Call inside a write transaction. Returns false if
/// the table does not exist.
pub fn install(
    conn: &Connection,
    db: &str,
    table: &str,
    since: Option<i64>,
) -> rusqlite::Result<bool> {
    let Some(shape) = shape(conn, db, table)? else {
        return Ok(false);
    };
    ensure_log(conn, db)?;
    remove(conn, db, table)?;
    let since = since.unwrap_or_else(|| super::now_nanos() / 1_000_000);
    let qdb = quote(db);
    let qt = quote(table);
    let name = sql_string(table);
    let new_row = row_json("NEW", &shape);
    let old_row = row_json("OLD", &shape);
    let new_key = key_json("NEW", &shape);
    let old_key = key_json("OLD", &shape);
    let insert = format!(
        "CREATE TRIGGER {qdb}.{ins} AFTER INSERT ON {qt} {SINCE_TAG}{since} */ BEGIN \
         INSERT INTO {LOG_TABLE} (tbl, key, after, before, written) VALUES ({name}, {new_key}, {new_row}, NULL, {WRITTEN}); END",
        ins = quote(&trigger_name("ins", table)),
    );
    // A key change is a delete of the old key and an insert of the new one, as CockroachDB reports it.
    let update = format!(
        "CREATE TRIGGER {qdb}.{upd} AFTER UPDATE ON {qt} BEGIN \
         INSERT INTO {LOG_TABLE} (tbl, key, after, before, written) SELECT {name}, {old_key}, NULL, {old_row}, {WRITTEN} \
           WHERE {old_key} IS NOT {new_key}; \
         INSERT INTO {LOG_TABLE} (tbl, key, after, before, written) VALUES ({name}, {new_key}, {new_row}, \
           CASE WHEN {old_key} IS {new_key} THEN {old_row} END, {WRITTEN}); END",
        upd = quote(&trigger_name("upd", table)),
    );
    let delete = format!(
        "CREATE TRIGGER {qdb}.{del} AFTER DELETE ON {qt} BEGIN \
         INSERT INTO {LOG_TABLE} (tbl, key, after, before, written) VALUES ({name}, {old_key}, NULL, {old_row}, {WRITTEN}); END",
        del = quote(&trigger_name("del", table)),
    );
    with_writable_schema(conn, || {
        conn.execute_batch(&insert)?;
        conn.execute_batch(&update)?;
        conn.execute_batch(&delete)
    })?;
    Ok(true)
}

/// A query of every row of `db.table` as (key JSON, row JSON), spelled as the triggers spell changes (an
/// initial scan's rows read exactly like captured ones).
pub fn scan_sql(db: &str, table: &str, shape: &Shape) -> String {
    format!(
        "SELECT {}, {} FROM {}.{} AS r",
        key_json("r", shape),
        row_json("r", shape),
        quote(db),
        quote(table)
    )
}

/// Removes the capture triggers of `db.table` (if any). Call inside a write transaction.
pub fn remove(conn: &Connection, db: &str, table: &str) -> rusqlite::Result<()> {
    for op in ["ins", "upd", "del"] {
        conn.execute_batch(&format!(
            "DROP TRIGGER IF EXISTS {}.{}",
            quote(db),
            quote(&trigger_name(op, table))
        ))?;
    }
    Ok(())
}

/// When the capture of `db.table` began (milliseconds since the epoch), if it is captured: the log holds every
/// change of the table since then (until trimmed).
pub fn captured_since(conn: &Connection, db: &str, table: &str) -> rusqlite::Result<Option<i64>> {
    if !is_captured(conn, db, table)? {
        return Ok(None);
    }
    let sql: Option<String> = conn
        .query_row(
            &format!(
                "SELECT sql FROM {}.sqlite_master WHERE type = 'trigger' AND name = ?1",
                quote(db)
            ),
            [trigger_name("ins", table)],
            |r| r.get(0),
        )
        .optional()?;
    Ok(sql.and_then(|sql| {
        let rest = &sql[sql.find(SINCE_TAG)? + SINCE_TAG.len()..];
        rest.split_whitespace().next()?.parse().ok()
    }))
}

/// Whether `db.table` has its three capture triggers.
pub fn is_captured(conn: &Connection, db: &str, table: &str) -> rusqlite::Result<bool> {
    let n: i64 = conn.query_row(
        &format!(
            "SELECT count(*) FROM {}.sqlite_master WHERE type = 'trigger' AND name IN (?1, ?2, ?3)",
            quote(db)
        ),
        [
            trigger_name("ins", table),
            trigger_name("upd", table),
            trigger_name("del", table),
        ],
        |r| r.get(0),
    )?;
    Ok(n == 3)
}

/// The tables of `db` that have capture triggers.
pub fn captured_tables(conn: &Connection, db: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT DISTINCT tbl_name FROM {}.sqlite_master WHERE type = 'trigger' AND substr(name, 1, ?1) = ?2",
        quote(db)
    ))?;
    let rows = stmt
        .query_map(
            rusqlite::params![TRIGGER_PREFIX.len() as i64, TRIGGER_PREFIX],
            |r| r.get(0),
        )?
        .collect();
    rows
}

/// The newest change's sequence number in `db` (0 if none was ever logged).
pub fn last_seq(conn: &Connection, db: &str) -> rusqlite::Result<i64> {
    if !has_log(conn, db)? {
        return Ok(0);
    }
    // Trimming keeps the newest row, so the largest number kept is the largest ever committed.
    conn.query_row(
        &format!(
            "SELECT coalesce(max(seq), 0) FROM {}.{LOG_TABLE}",
            quote(db)
        ),
        [],
        |r| r.get(0),
    )
}

/// The oldest change still kept in `db`'s log (`None` if it is empty).
pub fn first_kept(conn: &Connection, db: &str) -> rusqlite::Result<Option<(i64, i64)>> {
    conn.query_row(
        &format!(
            "SELECT seq, written FROM {}.{LOG_TABLE} ORDER BY seq LIMIT 1",
            quote(db)
        ),
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Up to `limit` changes after `after_seq` in commit order (of every table: the caller keeps its own).
pub fn read_after(
    conn: &Connection,
    db: &str,
    after_seq: i64,
    limit: usize,
) -> rusqlite::Result<Vec<Change>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT seq, tbl, key, after, before, written FROM {}.{LOG_TABLE} WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        quote(db)
    ))?;
    let rows = stmt
        .query_map(rusqlite::params![after_seq, limit as i64], |r| {
            Ok(Change {
                seq: r.get(0)?,
                table: r.get(1)?,
                key: r.get(2)?,
                after: r.get(3)?,
                before: r.get(4)?,
                written_ms: r.get(5)?,
            })
        })?
        .collect();
    rows
}

/// The sequence number of the last change written before the millisecond `ms` (for a cursor; changes of that
/// millisecond itself are sent again rather than risk skipping one after the cursor), if the log still holds
/// everything after it; `Err(oldest kept)` when changes after `ms` may have been trimmed already.
pub fn seq_at(conn: &Connection, db: &str, ms: i64) -> rusqlite::Result<Result<i64, i64>> {
    // Trimming always keeps the newest change, so an empty log has never logged anything.
    let Some((first_seq, first_ms)) = first_kept(conn, db)? else {
        return Ok(Ok(0));
    };
    if first_ms > ms && first_seq > 1 {
        return Ok(Err(first_seq));
    }
    let seq: Option<i64> = conn.query_row(
        &format!(
            "SELECT max(seq) FROM {}.{LOG_TABLE} WHERE written < ?1",
            quote(db)
        ),
        [ms],
        |r| r.get(0),
    )?;
    Ok(Ok(seq.unwrap_or(first_seq - 1)))
}

/// Deletes at most `limit` of the changes up to `seq` (every feed on the database has passed them), oldest
/// first, always keeping the newest one, whose time tells a later cursor whether the log still covers it.
/// Returns how many it deleted. Call inside a write transaction; the limit bounds how long that holds the
/// database's write lock.
pub fn trim(conn: &Connection, db: &str, seq: i64, limit: usize) -> rusqlite::Result<usize> {
    conn.execute(
        &format!(
            "DELETE FROM {q}.{LOG_TABLE} WHERE seq IN (SELECT seq FROM {q}.{LOG_TABLE} WHERE seq <= ?1 \
             AND seq < (SELECT max(seq) FROM {q}.{LOG_TABLE}) ORDER BY seq LIMIT ?2)",
            q = quote(db)
        ),
        rusqlite::params![seq, limit as i64],
    )
}

/// About how many changes the log of `db` holds now (from its first and last numbers: two index lookups, not a
/// scan of the log).
pub fn log_rows(conn: &Connection, db: &str) -> rusqlite::Result<i64> {
    Ok(match first_kept(conn, db)? {
        Some((first, _)) => last_seq(conn, db)? - first + 1,
        None => 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("ATTACH ':memory:' AS shop").unwrap();
        conn
    }

    #[test]
    fn captures_committed_changes_in_order_and_nothing_rolled_back() {
        let conn = db();
        conn.execute_batch("CREATE TABLE shop.t (id INTEGER PRIMARY KEY, v TEXT, b BLOB)")
            .unwrap();
        assert!(install(&conn, "shop", "t", None).unwrap());
        assert!(is_captured(&conn, "shop", "t").unwrap());
        conn.execute_batch(
            "INSERT INTO shop.t VALUES (1, 'a', x'00ff'); UPDATE shop.t SET v = 'b' WHERE id = 1;
             BEGIN; INSERT INTO shop.t VALUES (2, 'gone', NULL); ROLLBACK;
             SAVEPOINT s; INSERT INTO shop.t VALUES (3, 'gone', NULL); ROLLBACK TO s; RELEASE s;
             UPDATE shop.t SET id = 5 WHERE id = 1; DELETE FROM shop.t;",
        )
        .unwrap();
        let changes = read_after(&conn, "shop", 0, 100).unwrap();
        let summary: Vec<(String, Option<String>, Option<String>)> = changes
            .iter()
            .map(|c| (c.key.clone(), c.after.clone(), c.before.clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "[1]".into(),
                    Some(r#"{"b":"\\x00ff","id":1,"v":"a"}"#.into()),
                    None
                ),
                (
                    "[1]".into(),
                    Some(r#"{"b":"\\x00ff","id":1,"v":"b"}"#.into()),
                    Some(r#"{"b":"\\x00ff","id":1,"v":"a"}"#.into())
                ),
                (
                    "[1]".into(),
                    None,
                    Some(r#"{"b":"\\x00ff","id":1,"v":"b"}"#.into())
                ),
                (
                    "[5]".into(),
                    Some(r#"{"b":"\\x00ff","id":5,"v":"b"}"#.into()),
                    None
                ),
                (
                    "[5]".into(),
                    None,
                    Some(r#"{"b":"\\x00ff","id":5,"v":"b"}"#.into())
                ),
            ]
        );
        assert!(changes.windows(2).all(|w| w[0].seq < w[1].seq));
        assert_eq!(
            last_seq(&conn, "shop").unwrap(),
            changes.last().unwrap().seq
        );
        // Removing the triggers stops the capture; the log and its numbering stay.
        remove(&conn, "shop", "t").unwrap();
        conn.execute_batch("INSERT INTO shop.t VALUES (9, 'x', NULL)")
            .unwrap();
        assert_eq!(read_after(&conn, "shop", 0, 100).unwrap().len(), 5);
        assert_eq!(trim(&conn, "shop", changes[2].seq, 2).unwrap(), 2);
        assert_eq!(trim(&conn, "shop", changes[2].seq, 100).unwrap(), 1);
        assert_eq!(log_rows(&conn, "shop").unwrap(), 2);
        assert_eq!(read_after(&conn, "shop", 0, 100).unwrap().len(), 2);
    }

    #[test]
    fn wide_tables_and_tables_without_keys() {
        let conn = db();
        let cols: Vec<String> = (0..130).map(|i| format!("c{i} INT")).collect();
        conn.execute_batch(&format!("CREATE TABLE shop.wide ({})", cols.join(", ")))
            .unwrap();
        assert!(install(&conn, "shop", "wide", Some(5)).unwrap());
        assert_eq!(captured_since(&conn, "shop", "wide").unwrap(), Some(5));
        conn.execute_batch("INSERT INTO shop.wide (c0, c129) VALUES (1, 2)")
            .unwrap();
        let c = &read_after(&conn, "shop", 0, 10).unwrap()[0];
        assert_eq!(c.key, "[1]");
        let after: serde_json::Value = serde_json::from_str(c.after.as_deref().unwrap()).unwrap();
        assert_eq!(after.as_object().unwrap().len(), 130);
        assert_eq!(after["c129"], 2);
        assert_eq!(after["c64"], serde_json::Value::Null);
        assert!(!install(&conn, "shop", "missing", None).unwrap());
        // Reserved names stay out of reach of plain statements.
        assert!(conn
            .execute_batch("CREATE TABLE shop.sqlite_x (a)")
            .is_err());
        assert!(conn
            .execute_batch(&format!("DROP TABLE shop.{LOG_TABLE}"))
            .is_err());
    }
}
