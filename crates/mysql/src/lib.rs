//! The MySQL protocol front end. It authenticates `user@tenant` logins, hands statements to the SQL
//! layer's sessions on blocking threads, and writes their results and errors as MySQL packets.
//!
//! The protocol layer is our own (framing, handshake and value codecs come from `mysql_common`):
//! the status flags of every packet, column character sets and decimals, and error numbers must be
//! exactly MySQL's, which the previous library (opensrv-mysql) could not express.

mod auth;
mod conn;
mod local_infile;
mod packets;
mod protocol;
mod query_text;
mod results;
mod server;

pub use server::serve;
