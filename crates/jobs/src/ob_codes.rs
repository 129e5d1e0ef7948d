//! OceanBase's error codes, as jobs end with them (RESULT / RET_CODE in the DBA_OB_* views) and as statements
//! fail with them (sent as the positive number with HY000). One named constant per code, here in the lowest
//! layer that needs them, so that no code is written as a bare number twice. OceanBase's own names are given
//! where its reference (shared/reference/oceanbase.md, archive-pitr-s3.md) names them.

/// OB_NOT_SUPPORTED: "%s not supported".
pub const NOT_SUPPORTED: i64 = -4007;
/// OB_ERR_UNEXPECTED: an internal error (a bad payload, a failed step that has no code of its own).
pub const ERR_UNEXPECTED: i64 = -4016;
/// OB_ENTRY_NOT_EXIST: "Entry not exist" (a job, a backup set, a policy).
pub const ENTRY_NOT_EXIST: i64 = -4018;
/// OB_CANCELED: "Operation canceled", the RESULT of every canceled job.
pub const CANCELED: i64 = -4072;
/// OB_OP_NOT_ALLOW: "%s not allowed".
pub const OP_NOT_ALLOW: i64 = -4179;
/// OB_ERR_BAD_DATABASE: "Unknown database '%s'".
pub const ERR_BAD_DATABASE: i64 = -5154;
/// OB_TENANT_NOT_EXIST: an unknown tenant.
pub const TENANT_NOT_EXIST: i64 = -5157;
/// A schema change that would break foreign key references.
pub const FOREIGN_KEY_BROKEN: i64 = -5317;
/// OB_BACKUP_IN_PROGRESS: "Backup is in progress".
pub const BACKUP_IN_PROGRESS: i64 = -9036;
/// OB_BACKUP_CAN_NOT_START: "backup can not start, because %s".
pub const BACKUP_CAN_NOT_START: i64 = -9040;
/// OB_BACKUP_DELETE_BACKUP_SET_NOT_ALLOWED: "delete backup set do not allow".
pub const BACKUP_DELETE_BACKUP_SET_NOT_ALLOWED: i64 = -9045;
/// A backup set that is missing, incomplete or not valid (its manifest, its chunks).
pub const BACKUP_SET_INVALID: i64 = -9068;
/// "can not connect to backup destination".
pub const BACKUP_DEST_UNREACHABLE: i64 = -9070;
/// A non-empty directory without a format file: nobody's destination.
pub const BACKUP_DEST_NOT_FORMATTED: i64 = -9080;
/// "format file does not match": another tenant's or cluster's destination.
pub const BACKUP_FORMAT_MISMATCH: i64 = -9081;
/// "%s restore failed, %s", and the destination failures of backups and cleanups.
pub const BACKUP_FAILED: i64 = -9099;
/// "the specified s3_region does not match the endpoint".
pub const S3_REGION_MISMATCH: i64 = -9117;
/// "object storage endpoint is invalid".
pub const OBJECT_STORAGE_ENDPOINT_INVALID: i64 = -9118;
/// OB_TENANT_SNAPSHOT_NOT_EXIST: "Tenant snapshot '%s' does not exist".
pub const TENANT_SNAPSHOT_NOT_EXIST: i64 = -9106;
/// OB_ERR_CLONE_TENANT: "%s", a clone that failed or was canceled.
pub const ERR_CLONE_TENANT: i64 = -9110;
