//! The session's SQLite connection and everything about talking to SQLite.

pub mod authorizer;
pub mod connection;
pub mod dates;
pub mod errors;
mod functions;
pub mod pg_functions;
pub mod results;
