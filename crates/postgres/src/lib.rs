//! The PostgreSQL protocol front end (pgwire). It authenticates `user@tenant` logins (SCRAM-SHA-256, or
//! no challenge for users without a password), hands statements to the SQL layer's sessions on blocking
//! threads, and writes their results and errors (with `SqlError::wire().pg_state`) as pgwire messages.

mod auth;
mod conn;
mod copy;
mod frames;
mod interval_literal;
pub mod pg_dialect;
mod query;
mod results;
mod server;
mod types;

pub use server::serve;
