//! The real `mariadb` command-line client, driven as a user would: the five-minute tour of README.md.

use std::process::Command;

use crate::common::TestServer;

/// Installs Debian's mariadb-client if the `mariadb` command is missing, so the test command works on a fresh machine.
fn ensure_client() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let present = Command::new("mariadb").arg("--version").output().is_ok();
        if !present {
            let ok = Command::new("sh")
                .args(["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-client"])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "the mariadb client is missing and could not be installed with apt-get");
        }
    });
}

fn mariadb(port: u16, login: &str, sql: &str) -> (bool, String, String) {
    ensure_client();
    let out = Command::new("mariadb")
        .args([
            "-h127.0.0.1",
            &format!("-P{port}"),
            &format!("-u{login}"),
            "-e",
            sql,
        ])
        .output()
        .expect(
            "the mariadb client is installed (apt-get install mariadb-client; .ci/run does this)",
        );
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn mariadb_cli_tour() {
    let server = TestServer::start();
    let port = server.mysql_port;
    let (ok, out, err) = mariadb(
        port,
        "root@sys",
        "CREATE RESOURCE UNIT unit1 MAX_CPU 1, MEMORY_SIZE '2G';
         CREATE RESOURCE POOL pool1 UNIT = 'unit1', UNIT_NUM = 1;
         CREATE TENANT mysql_tenant RESOURCE_POOL_LIST = ('pool1') SET ob_compatibility_mode = 'mysql';
         SELECT TENANT_NAME, STATUS FROM oceanbase.DBA_OB_TENANTS WHERE TENANT_NAME = 'mysql_tenant'\\G",
    );
    assert!(ok, "{err}");
    assert!(out.contains("TENANT_NAME: mysql_tenant"), "{out}");
    assert!(out.contains("STATUS: NORMAL"), "{out}");

    let (ok, out, err) = mariadb(
        port,
        "root@mysql_tenant",
        "CREATE DATABASE shop; USE shop;
         CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(32));
         INSERT INTO items (name) VALUES ('apple'), ('pear');
         SELECT id, name FROM items ORDER BY id;",
    );
    assert!(ok, "{err}");
    assert_eq!(out, "id\tname\n1\tapple\n2\tpear\n");

    let (ok, _, err) = mariadb(port, "root@mysql_tenant", "SELECT * FROM shop.nope");
    assert!(!ok);
    assert!(err.contains("ERROR 1146 (42S02)"), "{err}");
    let (ok, _, err) = mariadb(port, "root@nosuch", "SELECT 1");
    assert!(!ok);
    assert!(err.contains("ERROR 1045 (28000)"), "{err}");
}
