//! The real `mariadb` command-line client, driven as a user would: the five-minute tour of README.md.

use std::process::Command;

use crate::common::TestServer;

/// Installs Debian's mariadb-client if the `mariadb` command is missing, so the test command works on a fresh machine.
pub fn ensure_client() {
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

/// Runs `program args` with `input` on its standard input; (success, stdout, stderr).
fn run_with_input(program: &str, args: &[String], input: &[u8]) -> (bool, String, String) {
    use std::io::Write;
    ensure_client();
    let mut child = Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} runs (mariadb-client; .ci/run installs it): {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn client_args(port: u16, db: &str) -> Vec<String> {
    vec![
        "-h127.0.0.1".into(),
        format!("-P{port}"),
        "-uroot@sys".into(),
        db.into(),
    ]
}

/// A file of mysqldump's executable-comment lines, fed to the `mariadb` CLI, runs as SQL.
#[test]
fn executable_comments_from_a_file() {
    let server = TestServer::start();
    let port = server.mysql_port;
    let script = "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10));
/*!40100 SET @@SQL_MODE='' */;
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40000 ALTER TABLE t DISABLE KEYS */;
INSERT INTO t VALUES (1, 'a'), (2, 'b');
/*!40000 ALTER TABLE t ENABLE KEYS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
SELECT @OLD_CHARACTER_SET_CLIENT, @OLD_UNIQUE_CHECKS, @@unique_checks, count(*) FROM t;
";
    let (ok, out, err) = run_with_input(
        "mariadb",
        &[client_args(port, "test"), vec!["-N".into()]].concat(),
        script.as_bytes(),
    );
    assert!(ok, "mariadb failed: {err}");
    assert_eq!(out.trim(), "utf8mb4\t1\t1\t2", "{out}");
}

/// mysqldump of a database, reloaded with the `mariadb` CLI into another, gives the same rows and indexes.
#[test]
fn mysqldump_output_reloads() {
    let server = TestServer::start();
    let port = server.mysql_port;
    let (ok, _, err) = mariadb(
        port,
        "root@sys",
        "CREATE DATABASE shop;
         CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, price DECIMAL(10,2), note TEXT);
         CREATE INDEX items_name ON shop.items (name);
         INSERT INTO shop.items VALUES (1, 'apple', 1.50, NULL), (2, 'it''s', 2.25, 'line\\nbreak'), (3, 'x', NULL, '');
         CREATE DATABASE copy;",
    );
    assert!(ok, "setup: {err}");
    let dump = Command::new("mysqldump")
        .args([
            "-h127.0.0.1",
            &format!("-P{port}"),
            "-uroot@sys",
            "--no-tablespaces",
            "shop",
        ])
        .output()
        .expect("mysqldump runs (mariadb-client; .ci/run installs it)");
    let stderr = String::from_utf8_lossy(&dump.stderr);
    assert!(dump.status.success(), "mysqldump failed: {stderr}");
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(
        text.contains("/*!40000 ALTER TABLE `items` DISABLE KEYS */"),
        "{text}"
    );
    let (ok, _, err) = run_with_input("mariadb", &client_args(port, "copy"), &dump.stdout);
    assert!(ok, "reload failed: {err}");
    let rows = |db: &str| {
        mariadb(
            port,
            "root@sys",
            &format!("SELECT * FROM {db}.items ORDER BY id; SHOW INDEX FROM {db}.items"),
        )
    };
    let (ok_a, a, _) = rows("shop");
    let (ok_b, b, _) = rows("copy");
    assert!(ok_a && ok_b);
    assert!(a.contains("it's") && a.contains("items_name"), "{a}");
    assert_eq!(a, b);
}

/// `mysqldump --single-transaction --routines --triggers` of a tenant's database with every common column
/// type, indexes, a foreign key (child dumped before its parent) and a view, reloaded with the `mariadb` CLI
/// into another tenant: every table's rows and SHOW CREATE TABLE, and the view's rows, are the same.
#[test]
fn mysqldump_round_trip_between_tenants() {
    let server = TestServer::start();
    let port = server.mysql_port;
    for t in ["src", "dst"] {
        let (ok, _, err) = mariadb(
            port,
            "root@sys",
            &format!(
                "CREATE RESOURCE UNIT u_{t} MAX_CPU 1, MEMORY_SIZE '2G';
                 CREATE RESOURCE POOL p_{t} UNIT = 'u_{t}', UNIT_NUM = 1;
                 CREATE TENANT {t} RESOURCE_POOL_LIST = ('p_{t}') SET ob_compatibility_mode = 'mysql';"
            ),
        );
        assert!(ok, "tenant {t}: {err}");
    }
    let (ok, _, err) = mariadb(
        port,
        "root@src",
        "CREATE DATABASE shop;
         CREATE TABLE shop.b_parent (id INT AUTO_INCREMENT PRIMARY KEY, code VARCHAR(8) NOT NULL, UNIQUE KEY uk_code (code));
         CREATE TABLE shop.a_child (id BIGINT PRIMARY KEY, parent_id INT, qty SMALLINT, flag TINYINT, big BIGINT UNSIGNED,
           price DECIMAL(10,2), ratio DOUBLE, name VARCHAR(40), note TEXT, raw BLOB, bin VARBINARY(8), d DATE, dt DATETIME(6),
           ts TIMESTAMP NULL, t TIME, KEY k_name (name),
           CONSTRAINT fk_parent FOREIGN KEY (parent_id) REFERENCES b_parent (id) ON DELETE CASCADE);
         INSERT INTO shop.b_parent (code) VALUES ('a'), ('b''s');
         INSERT INTO shop.a_child VALUES
           (1, 1, 3, 1, 9007199254740993, 12.34, 0.5, 'apple', 'line\\nbreak', X'00FF7261', X'0102', '2024-01-02', '2024-01-02 03:04:05.123456', '2024-05-06 07:08:09', '12:34:56'),
           (2, 2, -4, 0, 0, NULL, -1.25, 'it''s', '', X'', X'', '1999-12-31', '1999-12-31 23:59:59', NULL, '-01:00:00'),
           (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
         CREATE VIEW shop.v_named AS SELECT c.id, p.code FROM shop.a_child c JOIN shop.b_parent p ON p.id = c.parent_id;",
    );
    assert!(ok, "setup: {err}");
    let dump = Command::new("mysqldump")
        .args([
            "-h127.0.0.1",
            &format!("-P{port}"),
            "-uroot@src",
            "--no-tablespaces",
            "--single-transaction",
            "--routines",
            "--triggers",
            // Without it, binary columns travel as raw bytes in string literals, which are not yet read as bytes.
            "--hex-blob",
            "shop",
        ])
        .output()
        .expect("mysqldump runs (mariadb-client; .ci/run installs it)");
    let stderr = String::from_utf8_lossy(&dump.stderr);
    assert!(dump.status.success(), "mysqldump failed: {stderr}");
    let (ok, _, err) = mariadb(port, "root@dst", "CREATE DATABASE shop");
    assert!(ok, "{err}");
    let args = vec![
        "-h127.0.0.1".to_string(),
        format!("-P{port}"),
        "-uroot@dst".into(),
        "shop".into(),
    ];
    let (ok, _, err) = run_with_input("mariadb", &args, &dump.stdout);
    assert!(
        ok,
        "reload failed: {err}\n{}",
        String::from_utf8_lossy(&dump.stdout)
    );
    let contents = |login: &str| {
        let (ok, out, err) = mariadb(
            port,
            login,
            "SELECT id, parent_id, qty, flag, big, price, ratio, name, note, HEX(raw), HEX(bin), d, dt, ts, t FROM shop.a_child ORDER BY id;
             SELECT * FROM shop.b_parent ORDER BY id;
             SELECT * FROM shop.v_named ORDER BY id;
             SHOW CREATE TABLE shop.a_child; SHOW CREATE TABLE shop.b_parent;
             SHOW INDEX FROM shop.a_child; SHOW TABLES FROM shop;",
        );
        assert!(ok, "{login}: {err}");
        out
    };
    let (a, b) = (contents("root@src"), contents("root@dst"));
    assert!(
        a.contains("fk_parent") && a.contains("apple") && a.contains("2024-01-02 03:04:05.123456"),
        "{a}"
    );
    assert_eq!(a, b);
    // The foreign key came back enforced.
    let (ok, _, err) = mariadb(
        port,
        "root@dst",
        "INSERT INTO shop.a_child (id, parent_id) VALUES (9, 99)",
    );
    assert!(!ok && err.contains("1452"), "{err}");
}
