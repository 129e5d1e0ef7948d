//! Executors, one module per family of statements.

pub mod accounts;
pub mod backup;
pub mod backup_cleanup;
pub mod changefeed;
pub mod clone;
pub mod cluster;
pub mod cursors;
pub mod files;
pub mod filter;
pub mod import;
pub mod jobs;
pub mod parameters;
pub mod privileges;
pub mod processes;
pub mod restore;
pub mod schema;
pub mod tenant_sql;
pub mod variables;
