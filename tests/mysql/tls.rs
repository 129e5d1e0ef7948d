//! TLS on the MySQL wire (`--tls-cert`, `--tls-key`, `--require-tls`) and caching_sha2_password, with the
//! real `mariadb` client (MariaDB Connector/C: OpenSSL, its caching_sha2_password plugin) and PyMySQL.

use std::path::Path;
use std::process::Command;

use mysql_async::prelude::*;

use crate::cli_smoke::ensure_client;
use crate::common::{make_certs, server_error, TestServer};

/// A server with a fresh CA and server certificate; `extra` adds start options (`--require-tls`).
fn tls_server(certs: &Path, extra: &[&str]) -> TestServer {
    make_certs(certs);
    let cert = certs.join("server.crt").display().to_string();
    let key = certs.join("server.key").display().to_string();
    let mut args = vec!["--tls-cert", &cert, "--tls-key", &key];
    args.extend_from_slice(extra);
    TestServer::start_with(&args)
}

/// Runs the `mariadb` client with `args` and `-e sql`; returns (success, stdout, stderr).
fn mariadb(port: u16, args: &[&str], sql: &str) -> (bool, String, String) {
    ensure_client();
    let out = Command::new("mariadb")
        .args(["-h127.0.0.1", &format!("-P{port}")])
        .args(args)
        .args(["-e", sql])
        .output()
        .expect("run the mariadb client");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn create_user(server: &TestServer, name: &str, password: &str) {
    let mut sys = server.connect("root@sys").await;
    sys.query_drop(format!(
        "CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'"
    ))
    .await
    .unwrap();
    sys.disconnect().await.unwrap();
}

#[tokio::test]
async fn mariadb_verifies_the_server_certificate_and_logs_in_with_caching_sha2() {
    let certs = tempfile::tempdir().unwrap();
    let server = tls_server(&certs.path().join("certs"), &[]);
    create_user(&server, "alice", "s3cret").await;
    let ca = format!("--ssl-ca={}", certs.path().join("certs/ca.crt").display());
    let tls = ["--ssl", ca.as_str(), "--ssl-verify-server-cert"];

    // root@sys (no password) over TLS: the status shows the cipher, and a query runs.
    let mut args = tls.to_vec();
    args.push("-uroot@sys");
    let (ok, out, err) = mariadb(server.mysql_port, &args, "status; SELECT 6 * 7 AS answer");
    assert!(ok, "{err}");
    assert!(out.contains("Cipher in use is"), "{out}");
    assert!(out.contains("42"), "{out}");

    // A password over TLS: caching_sha2_password's full authentication first, its fast path next.
    let mut args = tls.to_vec();
    args.extend([
        "-ualice",
        "-ps3cret",
        "--default-auth=caching_sha2_password",
    ]);
    for _ in 0..2 {
        let (ok, out, err) = mariadb(server.mysql_port, &args, "SELECT CURRENT_USER() AS u");
        assert!(ok, "{err}");
        assert!(out.contains("alice"), "{out}");
    }
    let mut wrong = tls.to_vec();
    wrong.extend(["-ualice", "-pnope", "--default-auth=caching_sha2_password"]);
    let (ok, _, err) = mariadb(server.mysql_port, &wrong, "SELECT 1");
    assert!(!ok);
    assert!(err.contains("1045"), "{err}");

    // Without TLS the same user still logs in (switched to mysql_native_password), and old clients that
    // answer with mysql_native_password from the start do too.
    for plugin in ["caching_sha2_password", "mysql_native_password"] {
        let auth = format!("--default-auth={plugin}");
        let args = ["--skip-ssl", "-ualice", "-ps3cret", auth.as_str()];
        let (ok, out, err) = mariadb(server.mysql_port, &args, "SELECT CURRENT_USER() AS u");
        assert!(ok, "{plugin}: {err}");
        assert!(out.contains("alice"), "{out}");
    }

    // A client that does not trust the CA refuses the server.
    let (ok, _, err) = mariadb(
        server.mysql_port,
        &["--ssl", "--ssl-verify-server-cert", "-uroot@sys"],
        "SELECT 1",
    );
    assert!(
        !ok,
        "a server certificate from an unknown CA must not verify"
    );
    assert!(
        err.contains("2026") || err.to_lowercase().contains("ssl"),
        "{err}"
    );
}

#[tokio::test]
async fn require_tls_refuses_plain_logins_with_3159() {
    let certs = tempfile::tempdir().unwrap();
    let server = tls_server(&certs.path().join("certs"), &["--require-tls"]);
    let ca = format!("--ssl-ca={}", certs.path().join("certs/ca.crt").display());

    let (ok, _, err) = mariadb(server.mysql_port, &["--skip-ssl", "-uroot@sys"], "SELECT 1");
    assert!(!ok, "a plain login must be refused");
    assert!(
        err.contains("ERROR 3159 (HY000): Connections using insecure transport are prohibited while --require_secure_transport=ON."),
        "{err}"
    );
    let e = mysql_async::Conn::new(server.opts("root@sys", "", None))
        .await
        .expect_err("a plain mysql_async login must be refused");
    let (code, state, _) = server_error(e);
    assert_eq!((code, state.as_str()), (3159, "HY000"));

    let (ok, out, err) = mariadb(
        server.mysql_port,
        &[
            "--ssl",
            ca.as_str(),
            "--ssl-verify-server-cert",
            "-uroot@sys",
        ],
        "SELECT 'over tls' AS t",
    );
    assert!(ok, "{err}");
    assert!(out.contains("over tls"), "{out}");
}

#[tokio::test]
async fn pymysql_uses_caching_sha2_over_tls() {
    let certs = tempfile::tempdir().unwrap();
    let server = tls_server(&certs.path().join("certs"), &["--require-tls"]);
    let ca = format!("--ssl-ca={}", certs.path().join("certs/ca.crt").display());
    let (ok, _, err) = mariadb(
        server.mysql_port,
        &["--ssl", ca.as_str(), "-uroot@sys"],
        "CREATE USER 'bob'@'%' IDENTIFIED BY 'pw-b0b'",
    );
    assert!(ok, "{err}");
    let script = r#"
import sys, pymysql
port, ca = int(sys.argv[1]), sys.argv[2]
for attempt in ("full", "fast"):
    c = pymysql.connect(host="127.0.0.1", port=port, user="bob", password="pw-b0b",
                        ssl={"ca": ca, "check_hostname": True})
    assert c._auth_plugin_name == "caching_sha2_password", c._auth_plugin_name
    cur = c.cursor()
    cur.execute("SELECT CURRENT_USER()")
    print(attempt, cur.fetchone()[0])
    c.close()
try:
    pymysql.connect(host="127.0.0.1", port=port, user="bob", password="wrong", ssl={"ca": ca})
    print("wrong password accepted")
except pymysql.err.OperationalError as e:
    print("refused", e.args[0])
"#;
    let ca = certs.path().join("certs/ca.crt").display().to_string();
    let out = Command::new("python3")
        .args(["-c", script, &server.mysql_port.to_string(), &ca])
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("full bob"), "{stdout}");
    assert!(stdout.contains("fast bob"), "{stdout}");
    assert!(stdout.contains("refused 1045"), "{stdout}");
}

#[test]
fn require_tls_without_a_certificate_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(crate::common::binary())
        .args(["start", "--require-tls", "--mysql-addr", "127.0.0.1:0"])
        .args([
            "--pg-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .expect("run tenantry");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--require-tls needs --tls-cert"), "{err}");
}
