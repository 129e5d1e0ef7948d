//! The sys catalog: every piece of cluster metadata, kept transactionally in one SQLite file
//! (`<data-dir>/catalog.sqlite`): tenants, resource units and pools, databases, users with hashed
//! passwords, grants and parameters.
//!
//! Every method is synchronous and may block on SQLite: callers on an async runtime run them on a
//! blocking thread.

pub mod backup_policies;
mod databases;
mod error;
pub mod parameters;
pub mod password;
mod privileges;
mod resources;
mod schema;
mod snapshots;
mod store;
mod tenant_build;
mod tenants;
mod time;
mod users;

pub use backup_policies::DeletePolicy;
pub use databases::DatabaseEntry;
pub use error::CatalogError;
pub use privileges::{Grant, GrantLevel, Privilege};
pub use resources::{NewUnitConfig, ResourcePool, UnitConfig};
pub use snapshots::{SnapshotEntry, SnapshotStatus};
pub use store::Catalog;
pub use tenant_build::{GrantImage, TenantImage, UserImage};
pub use tenants::{CompatibilityMode, Tenant, TenantStatus, DEFAULT_DATABASE, SYS_TENANT_ID};
pub use time::{format_timestamp, micros_timestamp, now_timestamp};
pub use users::User;

/// Result type of catalog operations.
pub type Result<T> = std::result::Result<T, CatalogError>;
