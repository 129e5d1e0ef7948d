//! The MySQL protocol front end. It authenticates `user@tenant` logins, hands statements to the SQL
//! layer's sessions on blocking threads, and writes their results and errors as MySQL packets.

mod error_packets;
mod results;
mod server;
mod shim;

pub use server::serve;
