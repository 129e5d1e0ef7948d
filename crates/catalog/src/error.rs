/// Errors of the catalog layer. The SQL layer maps each to its wire code in one place.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// `CREATE TENANT` of a name in use.
    #[error("tenant '{0}' already exist")]
    TenantExists(String),
    /// A tenant name that is not known.
    #[error("Unknown tenant '{0}'")]
    TenantNotExist(String),
    /// A tenant a restore or clone job is still building: only cancelling that job removes it.
    #[error("tenant '{0}' is being restored or cloned; cancel that job instead")]
    TenantBuilding(String),
    /// `CREATE SNAPSHOT` of a name the tenant already has.
    #[error("tenant snapshot '{0}' already exists")]
    SnapshotExists(String),
    /// A snapshot name that is not known.
    #[error("Tenant snapshot '{0}' does not exist")]
    SnapshotNotExist(String),
    /// The sys tenant cannot be dropped or altered that way.
    #[error("{0}")]
    SysTenant(&'static str),
    /// `CREATE RESOURCE UNIT` of a name in use.
    #[error("resource unit '{0}' already exist")]
    UnitExists(String),
    /// A unit config name that is not known.
    #[error("resource unit '{0}' not exist")]
    UnitNotExist(String),
    /// Dropping a unit config that a pool still uses.
    #[error("resource unit '{0}' is referenced by some resource pool")]
    UnitInUse(String),
    /// `CREATE RESOURCE POOL` of a name in use.
    #[error("resource pool '{0}' exists")]
    PoolExists(String),
    /// A resource pool name that is not known.
    #[error("resource pool '{0}' not exist")]
    PoolNotExist(String),
    /// A pool that already serves a tenant.
    #[error("resource pool '{0}' has already been granted to a tenant")]
    PoolInUse(String),
    /// A statement argument out of range or missing.
    #[error("{0}")]
    InvalidArgument(String),
    /// `CREATE DATABASE` of a name in use.
    #[error("Can't create database '{0}'; database exists")]
    DatabaseExists(String),
    /// A database name that is not known in the tenant.
    #[error("Unknown database '{0}'")]
    DatabaseNotExist(String),
    /// `CREATE USER` of a name in use.
    #[error("user '{0}' already exists")]
    UserExists(String),
    /// A user name that is not known in the tenant.
    #[error("user '{0}' does not exist")]
    UserNotExist(String),
    /// The tenant's built-in administrator cannot be dropped.
    #[error("cannot drop the tenant administrator '{0}'")]
    AdminUser(String),
    /// A name that cannot be used (empty, too long, or with characters outside `[A-Za-z0-9_$]`).
    #[error("invalid name '{0}'")]
    InvalidName(String),
    /// `ALTER SYSTEM SET` of a parameter that does not exist.
    #[error("unknown parameter '{0}'")]
    UnknownParameter(String),
    /// A parameter value that does not parse or is out of range.
    #[error("invalid value '{value}' for parameter '{name}': {reason}")]
    InvalidParameterValue {
        /// The parameter.
        name: String,
        /// The rejected value.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A parameter set at the wrong scope (a cluster parameter with TENANT, or the reverse).
    #[error("{0}")]
    ParameterScope(String),
    /// Database files could not be created or removed.
    #[error(transparent)]
    Storage(#[from] tenantry_storage::StorageError),
    /// The catalog file itself failed.
    #[error("catalog: {0}")]
    Sqlite(#[from] rusqlite::Error),
}
