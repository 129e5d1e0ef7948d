//! tenantry-jobs
