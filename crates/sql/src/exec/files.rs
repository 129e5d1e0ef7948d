//! Where statements may read and write files: the external-IO directory's rules as the SQL layer applies and
//! words them. Every file a statement names (an import source, `LOAD DATA INFILE`'s path, a backup
//! destination) goes through here before anything is read or created, and after the privilege checks, so a
//! refused statement can neither create nor probe anything.

use std::path::PathBuf;

use tenantry_backup::{BackupError, BackupStore, DestOwner};
use tenantry_catalog::{Privilege, Tenant};
use tenantry_storage::ExternalPathError;

use crate::error::{Result, SqlError};
use crate::exec::privileges;
use crate::session::Session;
use tenantry_jobs::ob_codes;

/// Which family of statements names the file: it decides how a refusal is worded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wording {
    /// MySQL's `LOAD DATA INFILE` (its `secure_file_priv` and FILE privilege errors).
    MySql,
    /// A URI of CockroachDB's or TiDB's statements (`IMPORT INTO`, `BACKUP INTO`, `SHOW BACKUPS IN` ...).
    Uri,
}

/// The error for a location outside what the tenant may use.
pub fn outside_error(name: &str, wording: Wording) -> SqlError {
    SqlError::FileAccessDenied(match wording {
        // MySQL's ER_OPTION_PREVENTS_STATEMENT, naming our option as MySQL names secure_file_priv.
        Wording::MySql => {
            "The MySQL server is running with the --external-io-dir option so it cannot execute this statement"
                .to_string()
        }
        // CockroachDB's nodelocal refusal.
        Wording::Uri => {
            format!("local file access to paths outside of external-io-dir is not allowed: {name}")
        }
    })
}

/// A location error as the statement's dialect words it.
pub fn location_error(e: ExternalPathError, wording: Wording) -> SqlError {
    match e {
        ExternalPathError::Outside(name) => outside_error(&name, wording),
        ExternalPathError::Unsupported(name) => SqlError::Unsupported(format!(
            "location '{name}' (use file:///path or nodelocal://1/path inside the external-IO directory)"
        )),
        ExternalPathError::Io { name, source } => SqlError::FileNotFound(match source.kind() {
            std::io::ErrorKind::NotFound => {
                format!("File '{name}' not found (Errcode: 2 - No such file or directory)")
            }
            _ => format!("File '{name}' cannot be read: {source}"),
        }),
    }
}

/// Resolves a location inside the part of the external-IO directory `tenant` may use (all of it for sys,
/// `<dir>/<tenant>/` otherwise). Blocking.
pub fn resolve_for(
    session: &Session,
    tenant: &Tenant,
    name: &str,
    wording: Wording,
) -> Result<PathBuf> {
    session
        .engine
        .catalog()
        .storage()
        .external()
        .resolve(tenant.external_scope(), name)
        .map_err(|e| location_error(e, wording))
}

/// [`resolve_for`] the session's own tenant.
pub fn resolve(session: &Session, name: &str, wording: Wording) -> Result<PathBuf> {
    resolve_for(session, &session.identity.tenant, name, wording)
}

/// A destination error as SQL answers it: locations as [`location_error`], a destination that is nobody's or
/// another tenant's with OceanBase's -9080 / -9081, anything else through `other`.
pub fn destination_error(
    e: BackupError,
    wording: Wording,
    other: impl FnOnce(BackupError) -> SqlError,
) -> SqlError {
    match e {
        BackupError::Location(l) => location_error(l, wording),
        BackupError::NotFormatted(_) => SqlError::OceanBase {
            code: ob_codes::BACKUP_DEST_NOT_FORMATTED,
            message: e.to_string(),
        },
        BackupError::FormatMismatch(_) => SqlError::OceanBase {
            code: ob_codes::BACKUP_FORMAT_MISMATCH,
            message: e.to_string(),
        },
        e => other(e),
    }
}

fn runtime() -> std::result::Result<tokio::runtime::Handle, BackupError> {
    tokio::runtime::Handle::try_current()
        .map_err(|e| BackupError::Destination(format!("no runtime for the destination: {e}")))
}

fn cluster_id(session: &Session) -> std::result::Result<String, BackupError> {
    session
        .engine
        .catalog()
        .cluster_id()
        .map_err(|e| BackupError::Destination(e.to_string()))
}

fn owner<'a>(cluster_id: &'a str, tenant: &'a Tenant) -> DestOwner<'a> {
    DestOwner {
        cluster_id,
        tenant_id: tenant.tenant_id,
        tenant_name: &tenant.tenant_name,
    }
}

/// Opens an existing destination for `tenant` to read: inside its part of the external-IO directory, and, for
/// a user tenant, formatted as its own (sys reads any destination). Blocking.
pub fn open_destination(
    session: &Session,
    tenant: &Tenant,
    uri: &str,
) -> std::result::Result<BackupStore, BackupError> {
    let external = session.engine.catalog().storage().external();
    let store =
        BackupStore::open_confined(external, tenant.external_scope(), uri, false, runtime()?)?;
    if !tenant.is_sys() {
        let cluster_id = cluster_id(session)?;
        store.check_owner(owner(&cluster_id, tenant))?;
    }
    Ok(store)
}

/// Makes `uri` `tenant`'s destination: resolved inside its part of the external-IO directory, created if
/// missing, formatted as the tenant's (or already the tenant's), and checked writable. Call it only once every
/// other check of the statement has passed: it is the first thing that writes. Blocking.
pub fn claim_destination(
    session: &Session,
    tenant: &Tenant,
    uri: &str,
) -> std::result::Result<BackupStore, BackupError> {
    let external = session.engine.catalog().storage().external();
    let cluster_id = cluster_id(session)?;
    let store =
        BackupStore::open_confined(external, tenant.external_scope(), uri, true, runtime()?)?;
    store.claim(owner(&cluster_id, tenant))?;
    store.check_writable()?;
    Ok(store)
}

/// A statement as it may be shown (SHOW PROCESSLIST, job descriptions and statements, logs): every `s3://`
/// literal without its credentials (see `tenantry_backup::display_uri`). A statement naming `s3://` that does
/// not tokenize is shown only up to the first `s3://`.
pub fn shown_statement(sql: &str) -> std::borrow::Cow<'_, str> {
    if !sql.to_ascii_lowercase().contains("s3://") {
        return std::borrow::Cow::Borrowed(sql);
    }
    tenantry_parser::rewrite_string_literals(sql, |lit| {
        tenantry_backup::is_s3_uri(lit).then(|| tenantry_backup::display_uri(lit))
    })
    .unwrap_or_else(|| {
        let cut = sql.to_ascii_lowercase().find("s3://").unwrap_or(sql.len());
        std::borrow::Cow::Owned(format!("{}s3://…", &sql[..cut]))
    })
}

/// Server-side file reads need the FILE privilege (granted `ON *.*`), as in MySQL. `LOAD DATA INFILE` without
/// it is refused as MySQL refuses it (1045, access denied for the user); the other statements with 1227.
pub fn require_file_privilege(session: &Session, wording: Wording) -> Result<()> {
    if privileges::has(session, None, Privilege::File)? {
        return Ok(());
    }
    Err(match wording {
        Wording::MySql => SqlError::AccessDenied {
            user: session.identity.user.name.clone(),
            host: client_host(&session.handle.host),
            using_password: true,
        },
        Wording::Uri => SqlError::NeedPrivilege("FILE"),
    })
}

/// The client's host without its port, as MySQL names accounts (`'u'@'127.0.0.1'`).
fn client_host(peer: &str) -> String {
    match peer.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !host.is_empty() => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        _ => peer.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_shown_without_secrets() {
        let sql = "BACKUP INTO 's3://b/p?AWS_ACCESS_KEY_ID=ak&AWS_SECRET_ACCESS_KEY=topsecret&AWS_ENDPOINT=http://h:1' WITH detached";
        let shown = shown_statement(sql);
        assert_eq!(
            shown,
            "BACKUP INTO 's3://b/p?AWS_ACCESS_KEY_ID=ak&AWS_SECRET_ACCESS_KEY=redacted&AWS_ENDPOINT=http%3A%2F%2Fh%3A1' WITH detached"
        );
        let ob = "ALTER SYSTEM SET DATA_BACKUP_DEST = 'S3://b/p?host=h&access_id=ak&access_key=topsecret'";
        assert_eq!(
            shown_statement(ob),
            "ALTER SYSTEM SET DATA_BACKUP_DEST = 's3://b/p?host=h'"
        );
        assert!(!shown_statement("SELECT 's3://b?access_key=topsecret").contains("topsecret"));
        assert!(matches!(
            shown_statement("SELECT 1"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn hosts_lose_their_port() {
        assert_eq!(client_host("127.0.0.1:51234"), "127.0.0.1");
        assert_eq!(client_host("[::1]:51234"), "::1");
        assert_eq!(client_host("localhost"), "localhost");
    }

    #[test]
    fn refusals_are_worded_per_dialect() {
        let w = outside_error("/etc/shadow", Wording::MySql).wire();
        assert_eq!((w.mysql_code, w.mysql_state), (1290, "HY000"));
        assert!(w.message.contains("--external-io-dir"), "{}", w.message);
        assert!(!w.message.contains("shadow"), "{}", w.message);
        let w = outside_error("file:///etc/shadow", Wording::Uri).wire();
        assert_eq!(w.pg_state, "42501");
        assert!(w
            .message
            .starts_with("local file access to paths outside of external-io-dir"));
    }
}
