//! tenantry-mysql
