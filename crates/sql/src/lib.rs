//! The SQL layer: sessions, the administrative grammar (OceanBase's ALTER SYSTEM and friends), tenant SQL
//! translated for SQLite, system views, privileges, and the one mapping from errors to wire codes.
//!
//! Front ends hand statements to a [`Session`] and turn its [`Output`] or [`SqlError::wire`] into packets;
//! they know nothing of SQLite.

mod engine;
mod error;
mod exec;
mod fit;
mod job_api;
mod json;
mod login;
mod memory;
pub mod pg_types;
mod plan_cache;
mod processlist;
mod session;
mod sqlite;
mod stream;
mod throttle;
mod translate;
mod value;
mod views;
mod watchdog;
mod writers;

/// The administrative grammar and tenant SQL parsing (the `tenantry-parser` crate).
pub use tenantry_parser as parser;

pub use engine::{Engine, MAX_STATEMENT_BYTES, SERVER_VERSION};
pub use error::{HttpError, Result, SqlError, WireError};
pub use fit::{canonical_interval, fit, format_datetime, format_time, parse_interval, type_name};
pub use job_api::{JobDetail, JobEntry, JobList, JobListQuery};
pub use login::{Identity, LoginName};
pub use memory::install as install_memory_accounting;
pub use plan_cache::MAX_CACHED_TEXT;
pub use processlist::{SessionHandle, SessionRegistry};
pub use session::{LocalFiles, Prepared, Session};
pub use stream::{RowBatch, RowSink, BATCH_BYTES, STREAM_AFTER};
pub use tenantry_jobs::{
    now_micros, Histogram, JobAction, JobEvent, JobFilter, JobProgress, JobRecord, JobState,
    MetricsSnapshot, CANCEL_LATENCY_BUCKETS,
};
pub use tenantry_kinds::changefeed::CHANGEFEED;
pub use translate::translate_detached;
pub use value::{format_float, ArrayOf, Column, ColumnKind, Output, ResultSet, Value};
