//! Writing the SQL layer's outputs as MySQL result sets and OK packets.

use opensrv_mysql::{Column, ColumnFlags, ColumnType, OkResponse, QueryResultWriter, StatusFlags};
use tenantry_sql::{ColumnKind, Output, ResultSet, Value};
use tokio::io::AsyncWrite;

/// The MySQL column type a result column is sent as. Dates go as strings: SQLite keeps them as text,
/// and a string never fails to encode in the binary protocol.
fn column_type(kind: ColumnKind) -> ColumnType {
    match kind {
        ColumnKind::Int | ColumnKind::Bool => ColumnType::MYSQL_TYPE_LONGLONG,
        ColumnKind::Float => ColumnType::MYSQL_TYPE_DOUBLE,
        ColumnKind::Decimal(_) => ColumnType::MYSQL_TYPE_NEWDECIMAL,
        ColumnKind::Blob => ColumnType::MYSQL_TYPE_BLOB,
        ColumnKind::Null => ColumnType::MYSQL_TYPE_NULL,
        ColumnKind::Text | ColumnKind::Date | ColumnKind::DateTime => {
            ColumnType::MYSQL_TYPE_VAR_STRING
        }
    }
}

/// Column definitions for a result set.
pub fn columns(rs: &ResultSet) -> Vec<Column> {
    rs.columns
        .iter()
        .map(|c| Column {
            table: String::new(),
            column: c.name.clone(),
            coltype: column_type(c.kind),
            colflags: ColumnFlags::empty(),
        })
        .collect()
}

/// Status flags of the OK packet after a statement.
pub fn status(autocommit: bool, in_transaction: bool) -> StatusFlags {
    let mut flags = StatusFlags::empty();
    if autocommit {
        flags |= StatusFlags::SERVER_STATUS_AUTOCOMMIT;
    }
    if in_transaction {
        flags |= StatusFlags::SERVER_STATUS_IN_TRANS;
    }
    flags
}

/// Writes an output; every value is converted to what its column's type promises.
pub async fn write<W: AsyncWrite + Unpin + Send>(
    results: QueryResultWriter<'_, W>,
    output: Output,
    status_flags: StatusFlags,
) -> std::io::Result<()> {
    match output {
        Output::Done {
            affected,
            last_insert_id,
        } => {
            results
                .completed(OkResponse {
                    affected_rows: affected,
                    last_insert_id,
                    status_flags,
                    ..Default::default()
                })
                .await
        }
        Output::Rows(rs) => {
            let cols = columns(&rs);
            let mut w = results.start(&cols).await?;
            for row in &rs.rows {
                for (value, col) in row.iter().zip(&rs.columns) {
                    write_value(&mut w, value, col.kind)?;
                }
                w.end_row().await?;
            }
            w.finish().await
        }
    }
}

fn write_value<W: AsyncWrite + Unpin>(
    w: &mut opensrv_mysql::RowWriter<'_, W>,
    value: &Value,
    kind: ColumnKind,
) -> std::io::Result<()> {
    match (kind, value) {
        (_, Value::Null) | (ColumnKind::Null, _) => w.write_col(None::<i64>),
        (ColumnKind::Int | ColumnKind::Bool, Value::Int(i)) => w.write_col(*i),
        (ColumnKind::Float, Value::Float(f)) => w.write_col(*f),
        (ColumnKind::Float, Value::Int(i)) => w.write_col(*i as f64),
        (ColumnKind::Blob, Value::Blob(b)) => w.write_col(b.as_slice()),
        (_, v) => w.write_col(v.to_text().unwrap_or_default()),
    }
}
