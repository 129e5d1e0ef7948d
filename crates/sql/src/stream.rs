//! Results streamed to the client while the statement runs, with backpressure.
//!
//! A query's rows are read into memory while they are few; once they pass [`STREAM_AFTER`] bytes the column
//! types are fixed from those rows and everything goes to the front end through a small bounded channel
//! ([`RowSink`]), in batches of about [`BATCH_BYTES`]. The statement's thread waits whenever the channel is
//! full, that is whenever the client reads slower than SQLite produces: the server holds a bounded amount of a
//! result of any size, however slowly its client reads, as MySQL and PostgreSQL do. A stop (KILL QUERY, a
//! cancel, a statement timeout, a disconnect) ends that wait as it ends SQLite's work.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::error::{Result, SqlError};
use crate::value::{Column, Value};

/// Rows a result may hold in memory before it is streamed; results up to this size are read whole (their
/// column types then reflect every value, see `results.rs`).
pub const STREAM_AFTER: i64 = 1 << 20;

/// About how many bytes of rows go to the front end at once.
pub const BATCH_BYTES: i64 = 64 << 10;

/// Batches the channel holds before the statement waits for the front end.
const CHANNEL_BATCHES: usize = 4;

/// One message of a streamed result: the columns first, then rows.
#[derive(Debug)]
pub enum RowBatch {
    /// The result's columns, typed from the rows read before streaming began.
    Columns(Vec<Column>),
    /// Rows, in order.
    Rows(Vec<Vec<Value>>),
}

/// Where a statement sends a result too big to hold (see the module docs). A front end that can stream makes
/// one per statement with [`RowSink::channel`] and hands it to the session with `Session::set_row_sink`;
/// when the statement ends, the receiver has seen everything it sent and then its end.
#[derive(Debug)]
pub struct RowSink {
    tx: mpsc::Sender<RowBatch>,
    runtime: tokio::runtime::Handle,
}

impl RowSink {
    /// A sink and the receiver its batches reach; the runtime is the one the statement's blocking thread
    /// belongs to (the sink waits on it for room in the channel).
    pub fn channel(runtime: tokio::runtime::Handle) -> (Self, mpsc::Receiver<RowBatch>) {
        let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
        (Self { tx, runtime }, rx)
    }

    /// Sends a batch, waiting for room; fails with `Interrupted` once the statement is stopped or the front
    /// end stopped listening (its client went away).
    pub(crate) fn send(&self, batch: RowBatch, stop: &CancellationToken) -> Result<()> {
        // A blocking thread: waiting here holds no reactor thread.
        self.runtime.block_on(async {
            tokio::select! {
                sent = self.tx.send(batch) => sent.map_err(|_| SqlError::Interrupted),
                _ = stop.cancelled() => Err(SqlError::Interrupted),
            }
        })
    }
}
