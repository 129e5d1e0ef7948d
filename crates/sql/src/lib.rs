//! tenantry-sql
