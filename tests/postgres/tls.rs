//! TLS on the PostgreSQL wire: psql with `sslmode=verify-full` against the CA `tenantry cert create` made,
//! and `--require-tls` refusing plain startups with 28000.

use std::path::Path;
use std::process::Command;

use crate::common::{make_certs, sqlstate, TestServer};
use crate::psql_smoke::ensure_client;

fn tls_server(certs: &Path, extra: &[&str]) -> TestServer {
    make_certs(certs);
    let cert = certs.join("server.crt").display().to_string();
    let key = certs.join("server.key").display().to_string();
    let mut args = vec!["--tls-cert", cert.as_str(), "--tls-key", key.as_str()];
    args.extend_from_slice(extra);
    TestServer::start_with(&args)
}

/// Runs psql with the connection string `conninfo` and `-c sql`; returns (success, stdout, stderr).
fn psql(conninfo: &str, sql: &str) -> (bool, String, String) {
    ensure_client();
    let out = Command::new("psql")
        .arg(conninfo)
        .args(["-X", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .env_remove("PGPASSWORD")
        .env_remove("PGSSLMODE")
        .output()
        .expect("run psql");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn psql_verify_full_logs_in_over_tls() {
    let certs = tempfile::tempdir().unwrap();
    let dir = certs.path().join("certs");
    let server = tls_server(&dir, &[]);
    let ca = dir.join("ca.crt").display().to_string();
    let conninfo = format!(
        "host=localhost port={} user=root@sys dbname=test sslmode=verify-full sslrootcert={ca}",
        server.pg_port
    );
    let (ok, out, err) = psql(&conninfo, "SELECT 6 * 7 AS answer");
    assert!(ok, "{err}");
    assert!(out.contains("42"), "{out}");
    // psql's \conninfo says whether the connection is encrypted.
    let (ok, out, err) = psql(&conninfo, "\\conninfo");
    assert!(ok, "{err}");
    assert!(out.contains("SSL connection"), "{out}");

    // Without a certificate configured for the host name checked, verify-full refuses: 127.0.0.1 is in the
    // certificate, a name it does not hold is not (checked through hostaddr).
    let wrong_name = format!(
        "host=db.example hostaddr=127.0.0.1 port={} user=root@sys dbname=test sslmode=verify-full sslrootcert={ca}",
        server.pg_port
    );
    let (ok, _, err) = psql(&wrong_name, "SELECT 1");
    assert!(
        !ok,
        "a host name the certificate does not name must not verify"
    );
    assert!(err.contains("does not match"), "{err}");

    // Plain connections still work when TLS is not required.
    let plain = format!(
        "host=127.0.0.1 port={} user=root@sys dbname=test sslmode=disable",
        server.pg_port
    );
    let (ok, out, err) = psql(&plain, "SELECT 'plain' AS p");
    assert!(ok, "{err}");
    assert!(out.contains("plain"), "{out}");
}

#[tokio::test]
async fn require_tls_refuses_plain_startups_with_28000() {
    let certs = tempfile::tempdir().unwrap();
    let dir = certs.path().join("certs");
    let server = tls_server(&dir, &["--require-tls"]);
    let plain = format!(
        "host=127.0.0.1 port={} user=root@sys dbname=test sslmode=disable",
        server.pg_port
    );
    let (ok, _, err) = psql(&plain, "SELECT 1");
    assert!(!ok, "a plain startup must be refused");
    assert!(
        err.contains("node is running secure mode, SSL connection required"),
        "{err}"
    );
    let e = tokio_postgres::connect(&plain, tokio_postgres::NoTls)
        .await
        .err()
        .expect("a plain tokio-postgres startup must be refused");
    assert_eq!(sqlstate(&e), "28000");

    let ca = dir.join("ca.crt").display().to_string();
    let secure = format!(
        "host=localhost port={} user=root@sys dbname=test sslmode=verify-full sslrootcert={ca}",
        server.pg_port
    );
    let (ok, out, err) = psql(&secure, "SELECT 'over tls' AS t");
    assert!(ok, "{err}");
    assert!(out.contains("over tls"), "{out}");
}
