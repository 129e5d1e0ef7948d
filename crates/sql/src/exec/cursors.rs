//! PostgreSQL's SQL cursors: `DECLARE name CURSOR FOR query`, `FETCH`, `MOVE`, `CLOSE`, and the
//! `pg_cursors` view (psycopg's named cursors use all of them).
//!
//! A cursor's rows are read once, when it is declared, into the session's cursor store: a private SQLite
//! database on a connection of its own, which spills to a temporary file rather than holding a big result
//! in memory. It is not the tenant connection's `temp` schema because that one is transactional with the
//! tenant's data: a transaction restarted for its writer turn (see `writers.rs`) would take a cursor's
//! rows with it, and a `WITH HOLD` cursor must outlive the transaction that declared it. So the store
//! follows PostgreSQL's rules itself: a cursor without HOLD closes when its transaction ends, one with
//! HOLD stays after a commit and goes with a rollback of the transaction that declared it.
//!
//! The rows are a snapshot of the query as it was declared (PostgreSQL's INSENSITIVE, which is what its
//! cursors are in practice), and every motion PostgreSQL allows works on them, backward too, unless the
//! cursor was declared NO SCROLL.

use std::collections::HashMap;

use rusqlite::types::ValueRef;

use crate::error::{Result, SqlError};
use crate::exec::tenant_sql;
use crate::parser::{CursorDeclaration, FetchDirection};
use crate::session::{Prepared, Session};
use crate::sqlite::results::{declared_kind, read, Read};
use crate::translate::quote;
use crate::value::{ColumnKind, Output, Value};

/// The session's open cursors and the store that holds their rows.
#[derive(Default)]
pub struct Cursors {
    /// Opened at the first DECLARE.
    store: Option<rusqlite::Connection>,
    open: HashMap<String, DeclaredCursor>,
    /// Numbers the store's tables (a name may be declared again after CLOSE; its table is new).
    next_table: u64,
}

/// One open cursor.
struct DeclaredCursor {
    /// Its table in the store.
    table: String,
    /// Result column names.
    names: Vec<String>,
    /// Each column's type: declared, else that of its first value (so every FETCH types it alike).
    types: Vec<Option<String>>,
    /// How many rows it has.
    rows: i64,
    /// PostgreSQL's position: 0 before the first row, `rows + 1` after the last, else on row n.
    position: i64,
    scroll: Option<bool>,
    hold: bool,
    binary: bool,
    /// The DECLARE statement, as pg_cursors shows it.
    statement: String,
    /// When it was declared (pg_cursors' creation_time).
    created: String,
    /// Declared in the transaction that is still open: a rollback of it closes the cursor.
    in_open_transaction: bool,
}

impl Cursors {
    /// Whether any cursor is open.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// The transaction the cursors were declared in ended: cursors without HOLD close, and so do those
    /// declared in it when it rolled back.
    pub fn transaction_ended(&mut self, committed: bool) {
        let closing: Vec<String> = self
            .open
            .iter()
            .filter(|(_, c)| !c.hold || (c.in_open_transaction && !committed))
            .map(|(n, _)| n.clone())
            .collect();
        for name in closing {
            self.close(&name);
        }
        for c in self.open.values_mut() {
            c.in_open_transaction = false;
        }
    }

    /// Closes cursor `name`; false if there is none.
    fn close(&mut self, name: &str) -> bool {
        let Some(cursor) = self.open.remove(name) else {
            return false;
        };
        if let Some(store) = &self.store {
            // A table left behind only costs space in a file deleted with the session.
            let _ = store.execute_batch(&format!("DROP TABLE IF EXISTS {}", quote(&cursor.table)));
        }
        true
    }

    /// The rows of pg_cursors: name, statement, is_holdable, is_binary, is_scrollable, creation_time.
    pub fn pg_cursors_rows(&self) -> Vec<Vec<Value>> {
        let mut names: Vec<&String> = self.open.keys().collect();
        names.sort();
        names
            .into_iter()
            .map(|name| {
                let c = &self.open[name];
                vec![
                    Value::from(name.as_str()),
                    Value::from(c.statement.as_str()),
                    Value::Int(c.hold.into()),
                    Value::Int(c.binary.into()),
                    Value::Int(i64::from(c.scroll != Some(false))),
                    Value::from(c.created.as_str()),
                ]
            })
            .collect()
    }
}

/// `DECLARE`: runs the query with its parameters and keeps its rows under the cursor's name.
pub fn declare(session: &mut Session, d: CursorDeclaration, params: &[Value]) -> Result<Output> {
    if session.cursors.open.contains_key(&d.name) {
        return Err(SqlError::DuplicateCursor(d.name));
    }
    if !d.hold && !session.conn.in_transaction() && session.autocommit {
        return Err(SqlError::CursorOutsideTransaction);
    }
    let table = format!("cursor_{}", session.cursors.next_table);
    session.cursors.next_table += 1;
    // Taken out while the query runs on the session, put back whatever happens.
    let store = match session.cursors.store.take() {
        Some(s) => s,
        // "": a private database SQLite deletes when the connection closes.
        None => rusqlite::Connection::open("")?,
    };
    let filled = fill(session, &store, &table, *d.query, params);
    session.cursors.store = Some(store);
    let (names, types, rows) = filled?;
    let cursor = DeclaredCursor {
        table,
        names,
        types,
        rows,
        position: 0,
        scroll: d.scroll,
        hold: d.hold,
        binary: d.binary,
        statement: session.statement_text.clone(),
        created: tenantry_catalog::now_timestamp(),
        in_open_transaction: session.conn.in_transaction(),
    };
    session.cursors.open.insert(d.name, cursor);
    Ok(Output::ok())
}

/// Runs the query into a new table of the store, all or nothing: its column names and types, and how
/// many rows it has.
fn fill(
    session: &mut Session,
    store: &rusqlite::Connection,
    table: &str,
    query: sqlparser::ast::Statement,
    params: &[Value],
) -> Result<(Vec<String>, Vec<Option<String>>, i64)> {
    store.execute_batch("BEGIN")?;
    let mut rows = 0i64;
    let mut width: Option<usize> = None;
    // The storage class of each column's first non-NULL value.
    let mut seen: Vec<Option<&'static str>> = Vec::new();
    let mut insert_sql = String::new();
    let result = (|| {
        let columns = {
            let mut visit = |row: &rusqlite::Row| -> Result<()> {
                let n = row.as_ref().column_count();
                if width.is_none() {
                    create_table(store, table, n)?;
                    insert_sql = format!(
                        "INSERT INTO {} VALUES ({})",
                        quote(table),
                        vec!["?"; n].join(", ")
                    );
                    seen = vec![None; n];
                    width = Some(n);
                }
                if width != Some(n) {
                    return Err(SqlError::Internal("a row of another width".into()));
                }
                let mut insert = store.prepare_cached(&insert_sql)?;
                for (i, slot) in seen.iter_mut().enumerate() {
                    let v = row.get_ref(i)?;
                    if slot.is_none() {
                        *slot = storage_type(v);
                    }
                    insert.raw_bind_parameter(i + 1, rusqlite::types::Value::from(v))?;
                }
                insert.raw_execute()?;
                rows += 1;
                Ok(())
            };
            tenant_sql::visit_query_rows(session, query, params, &mut visit)?
        };
        if width.is_none() {
            create_table(store, table, columns.len())?;
        }
        let types = columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                c.decl
                    .clone()
                    .or_else(|| seen.get(i).copied().flatten().map(str::to_string))
            })
            .collect();
        let names = columns.into_iter().map(|c| c.name).collect();
        Ok((names, types))
    })();
    match result {
        Ok((names, types)) => {
            store.execute_batch("COMMIT")?;
            Ok((names, types, rows))
        }
        Err(e) => {
            let _ = store.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// A store table of `n` untyped columns: values are kept exactly as the query returned them.
fn create_table(store: &rusqlite::Connection, table: &str, n: usize) -> Result<()> {
    let columns: Vec<String> = (0..n.max(1)).map(|i| format!("c{i}")).collect();
    store.execute_batch(&format!(
        "CREATE TABLE {} ({})",
        quote(table),
        columns.join(", ")
    ))?;
    Ok(())
}

/// The type name a value's storage class stands for, as a declared type would say it.
fn storage_type(v: ValueRef) -> Option<&'static str> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(_) => Some("BIGINT"),
        ValueRef::Real(_) => Some("DOUBLE"),
        ValueRef::Text(_) => Some("TEXT"),
        ValueRef::Blob(_) => Some("BLOB"),
    }
}

/// `FETCH` / `MOVE`: moves the cursor as PostgreSQL does and returns the rows it passed over (MOVE: their
/// count).
pub fn fetch(
    session: &mut Session,
    name: &str,
    direction: FetchDirection,
    move_only: bool,
) -> Result<Output> {
    let cursor = session
        .cursors
        .open
        .get_mut(name)
        .ok_or_else(|| SqlError::NoSuchCursor(name.to_string()))?;
    let motion = motion(cursor.position, cursor.rows, direction);
    if cursor.scroll == Some(false) && motion.backward(cursor.position) {
        return Err(SqlError::CursorScansForwardOnly);
    }
    cursor.position = motion.position;
    let count = motion.count();
    if move_only {
        return Ok(Output::affected(count));
    }
    let select: Vec<String> = cursor
        .names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("c{i} AS {}", quote(n)))
        .collect();
    let sql = format!(
        "SELECT {} FROM {} WHERE rowid BETWEEN ?1 AND ?2 ORDER BY rowid {}",
        select.join(", "),
        quote(&cursor.table),
        if motion.descending { "DESC" } else { "ASC" }
    );
    let (lo, hi) = motion.rows.unwrap_or((1, 0));
    let types = cursor.types.clone();
    let store = session
        .cursors
        .store
        .as_ref()
        .ok_or_else(|| SqlError::Internal("a cursor without its store".into()))?;
    let mut stmt = store.prepare_cached(&sql)?;
    let sink = session.row_sink.take();
    let stop = session.interrupt.clone();
    let result = read(
        &mut stmt,
        &[Value::Int(lo), Value::Int(hi)],
        None,
        sink.as_ref().map(|s| (s, &stop)),
        &types,
    )?;
    Ok(match result {
        Read::All(rs) => Output::Rows(rs),
        Read::Streamed(rows) => Output::Streamed { rows },
    })
}

/// What a FETCH does: the rows it returns (a rowid range, in which order) and where it leaves the cursor.
#[derive(Debug, PartialEq, Eq)]
struct Motion {
    /// The rows returned, as an inclusive rowid range; `None`: none.
    rows: Option<(i64, i64)>,
    /// Returned last to first (a backward fetch).
    descending: bool,
    /// The new position.
    position: i64,
}

impl Motion {
    fn count(&self) -> u64 {
        self.rows.map_or(0, |(lo, hi)| (hi - lo + 1) as u64)
    }

    /// Whether it moves back from `from` (which a NO SCROLL cursor refuses).
    fn backward(&self, from: i64) -> bool {
        self.descending || self.position < from
    }
}

/// PostgreSQL's motion of a cursor at `position` over `rows` rows.
fn motion(position: i64, rows: i64, direction: FetchDirection) -> Motion {
    use FetchDirection as D;
    let after = rows + 1;
    // One row at an absolute position: returned if it is a row, the cursor left there (or off an end).
    let to = |target: i64| {
        let target = target.clamp(0, after);
        Motion {
            rows: (1..=rows).contains(&target).then_some((target, target)),
            descending: false,
            position: target,
        }
    };
    let forward = |n: i64| {
        let last = position.saturating_add(n);
        let end = last.min(rows);
        Motion {
            rows: (position < end).then_some((position + 1, end)),
            descending: false,
            position: last.min(after),
        }
    };
    let backward = |n: i64| {
        let first = position.saturating_sub(n);
        let start = position.min(after) - 1;
        let low = first.max(1);
        Motion {
            rows: (low <= start).then_some((low, start)),
            descending: true,
            position: first.max(0),
        }
    };
    match direction {
        D::Next => forward(1),
        D::Prior => backward(1),
        D::First => to(1),
        D::Last => to(rows),
        D::Absolute(n) if n >= 0 => to(n),
        D::Absolute(n) => to(after.saturating_add(n)),
        D::Relative(n) => to(position.saturating_add(n)),
        // Count 0 fetches the current row again, as RELATIVE 0 does.
        D::Forward(Some(0)) | D::Backward(Some(0)) => to(position),
        D::Forward(Some(n)) if n > 0 => forward(n),
        D::Forward(Some(n)) => backward(n.saturating_neg()),
        D::Forward(None) => forward(i64::MAX),
        D::Backward(Some(n)) if n > 0 => backward(n),
        D::Backward(Some(n)) => forward(n.saturating_neg()),
        D::Backward(None) => backward(i64::MAX),
    }
}

/// `CLOSE name` / `CLOSE ALL`.
pub fn close(session: &mut Session, name: Option<String>) -> Result<Output> {
    match name {
        Some(name) => {
            if !session.cursors.close(&name) {
                return Err(SqlError::NoSuchCursor(name));
            }
        }
        None => {
            let names: Vec<String> = session.cursors.open.keys().cloned().collect();
            for name in names {
                session.cursors.close(&name);
            }
        }
    }
    Ok(Output::ok())
}

/// What a client preparing a DECLARE learns: the parameters of its query (it returns no rows).
pub fn describe_declare(session: &mut Session, d: CursorDeclaration) -> Result<Prepared> {
    let query = tenant_sql::describe_query(session, *d.query)?;
    Ok(Prepared {
        columns: Vec::new(),
        kinds: Vec::new(),
        ..query
    })
}

/// What a client preparing a FETCH learns: its cursor's columns.
pub fn describe_fetch(session: &Session, name: &str) -> Result<Prepared> {
    let (columns, kinds) = columns(session, name)
        .ok_or_else(|| SqlError::NoSuchCursor(name.to_string()))?
        .into_iter()
        .unzip();
    Ok(Prepared {
        params: 0,
        param_kinds: Vec::new(),
        columns,
        kinds,
    })
}

/// The columns of cursor `name` (a protocol-level Describe of the portal it is), if it is open.
pub fn columns(session: &Session, name: &str) -> Option<Vec<(String, ColumnKind)>> {
    let cursor = session.cursors.open.get(name)?;
    Some(
        cursor
            .names
            .iter()
            .cloned()
            .zip(cursor.types.iter().map(|t| kind_of(t.as_deref())))
            .collect(),
    )
}

fn kind_of(decl: Option<&str>) -> ColumnKind {
    decl.map_or(ColumnKind::Text, declared_kind)
}

#[cfg(test)]
mod tests {
    use super::{motion, Motion};
    use crate::parser::FetchDirection as D;

    fn m(rows: Option<(i64, i64)>, descending: bool, position: i64) -> Motion {
        Motion {
            rows,
            descending,
            position,
        }
    }

    #[test]
    fn motions_follow_postgres() {
        // Five rows; positions 0 (before the first) to 6 (after the last).
        assert_eq!(motion(0, 5, D::Forward(Some(2))), m(Some((1, 2)), false, 2));
        assert_eq!(
            motion(2, 5, D::Forward(Some(10))),
            m(Some((3, 5)), false, 6)
        );
        assert_eq!(motion(6, 5, D::Next), m(None, false, 6));
        assert_eq!(motion(5, 5, D::Next), m(None, false, 6));
        assert_eq!(motion(0, 5, D::Forward(None)), m(Some((1, 5)), false, 6));
        assert_eq!(motion(6, 5, D::Prior), m(Some((5, 5)), true, 5));
        assert_eq!(motion(4, 5, D::Backward(Some(2))), m(Some((2, 3)), true, 2));
        assert_eq!(motion(2, 5, D::Backward(None)), m(Some((1, 1)), true, 0));
        assert_eq!(motion(1, 5, D::Prior), m(None, true, 0));
        assert_eq!(motion(3, 5, D::Forward(Some(-2))), m(Some((1, 2)), true, 1));
        assert_eq!(motion(3, 5, D::Absolute(-1)), m(Some((5, 5)), false, 5));
        assert_eq!(motion(3, 5, D::Absolute(-9)), m(None, false, 0));
        assert_eq!(motion(3, 5, D::Absolute(9)), m(None, false, 6));
        assert_eq!(motion(3, 5, D::Absolute(0)), m(None, false, 0));
        assert_eq!(motion(3, 5, D::Relative(0)), m(Some((3, 3)), false, 3));
        assert_eq!(motion(3, 5, D::Relative(-1)), m(Some((2, 2)), false, 2));
        assert_eq!(motion(3, 5, D::First), m(Some((1, 1)), false, 1));
        assert_eq!(motion(0, 5, D::Last), m(Some((5, 5)), false, 5));
        assert_eq!(motion(0, 0, D::Forward(None)), m(None, false, 1));
        assert_eq!(motion(0, 0, D::Last), m(None, false, 0));
        assert_eq!(motion(3, 5, D::Forward(Some(0))), m(Some((3, 3)), false, 3));
    }
}
