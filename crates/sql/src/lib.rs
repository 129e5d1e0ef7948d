//! The SQL layer: sessions, the administrative grammar (OceanBase's ALTER SYSTEM and friends), tenant SQL
//! translated for SQLite, system views, privileges, and the one mapping from errors to wire codes.
//!
//! Front ends hand statements to a [`Session`] and turn its [`Output`] or [`SqlError::wire`] into packets;
//! they know nothing of SQLite.

mod engine;
mod error;
mod exec;
mod login;
pub mod parser;
pub mod pg_dialect;
mod processlist;
mod session;
mod sqlite;
mod translate;
mod value;
mod views;

pub use engine::{Engine, SERVER_VERSION};
pub use error::{Result, SqlError, WireError};
pub use login::{Identity, LoginName};
pub use processlist::{SessionHandle, SessionRegistry};
pub use session::{Prepared, Session};
pub use value::{format_float, Column, ColumnKind, Output, ResultSet, Value};
