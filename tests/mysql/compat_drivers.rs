//! Real drivers against the real server: PyMySQL, SQLAlchemy, mysql-connector-python (python3) and
//! MariaDB Connector/J (java). Each script lives in `tests/mysql/compat/` and exits non-zero on a
//! failed check; the Rust side checks the outcome again over its own connection.

use std::path::{Path, PathBuf};
use std::process::Command;

use mysql_async::prelude::*;

use crate::common::TestServer;

/// Where the driver scripts live.
fn compat_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mysql/compat")
}

/// Installs the python drivers with pip if one is missing (`.ci/run` installs them up front).
fn ensure_python_drivers() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let present = Command::new("python3")
            .args(["-c", "import pymysql, sqlalchemy, mysql.connector"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !present {
            let ok = Command::new("python3")
                .args([
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "PyMySQL",
                    "SQLAlchemy>=2",
                    "mysql-connector-python",
                ])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "python3 drivers missing and pip could not install them");
        }
    });
}

/// The MariaDB Connector/J jar, installing Debian's libmariadb-java and a JDK if missing.
fn ensure_jdbc() -> &'static str {
    const JAR: &str = "/usr/share/java/mariadb-java-client.jar";
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let java = Command::new("java").arg("-version").output().is_ok();
        if !java || !Path::new(JAR).exists() {
            let ok = Command::new("sh")
                .args(["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libmariadb-java default-jdk-headless"])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "java or Connector/J missing and apt-get could not install them");
        }
    });
    JAR
}

/// Runs a python script from `compat/` with `args`; panics with its output unless it exits 0.
pub fn python(script: &str, args: &[&str]) -> String {
    ensure_python_drivers();
    let out = Command::new("python3")
        .arg(compat_dir().join(script))
        .args(args)
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Runs a single-file java program from `compat/` with Connector/J on the class path.
pub fn java(source: &str, args: &[&str]) -> String {
    let jar = ensure_jdbc();
    let out = Command::new("java")
        .args(["-cp", jar])
        .arg(compat_dir().join(source))
        .args(args)
        .output()
        .expect("run java");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{source} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A tenant `t1` with database `bank` and an empty `accounts` table; returns the login.
async fn accounts_table(server: &TestServer) -> &'static str {
    server.create_tenant("t1").await;
    let mut c = server.connect("root@t1").await;
    c.query_drop("CREATE DATABASE bank").await.unwrap();
    c.query_drop("CREATE TABLE bank.accounts (id INT PRIMARY KEY, owner VARCHAR(40))")
        .await
        .unwrap();
    "root@t1"
}

async fn account_ids(server: &TestServer) -> Vec<i64> {
    let mut c = server.connect("root@t1").await;
    c.query("SELECT id FROM bank.accounts ORDER BY id")
        .await
        .unwrap()
}

#[tokio::test]
async fn pymysql_rollback_discards_rows() {
    let server = TestServer::start();
    let login = accounts_table(&server).await;
    let port = server.mysql_port.to_string();
    python("rollback_pymysql.py", &[&port, login, "bank"]);
    assert_eq!(account_ids(&server).await, vec![3]);
}

#[tokio::test]
async fn sqlalchemy_rollback_discards_rows() {
    let server = TestServer::start();
    let login = accounts_table(&server).await;
    let port = server.mysql_port.to_string();
    python("rollback_sqlalchemy.py", &[&port, login, "bank"]);
    assert_eq!(account_ids(&server).await, vec![12]);
}

/// The SQLAlchemy 2 ORM end to end on mysql+pymysql (the same script as on postgresql+psycopg):
/// create_all with a relationship and a foreign key, reflection, flush / rollback / commit, a multi-row
/// insert, joins, DateTime and Numeric round trips, the foreign key refused with 1452, drop_all.
#[tokio::test]
async fn sqlalchemy_orm_runs_unmodified() {
    ensure_python_drivers();
    let server = TestServer::start();
    let script = compat_dir().join("../../clients/sqlalchemy_orm.py");
    let out = Command::new("python3")
        .arg(&script)
        .env(
            "DB_URL",
            format!(
                "mysql+pymysql://root%40sys:@127.0.0.1:{}/test",
                server.mysql_port
            ),
        )
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("sqlalchemy orm ok"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Installs the locked node mysql2 when it is missing (.ci/run does it up front).
fn ensure_mysql2() -> PathBuf {
    static ONCE: std::sync::Once = std::sync::Once::new();
    let dir = compat_dir().join("node");
    ONCE.call_once(|| {
        if !dir.join("node_modules/mysql2").exists() {
            let ok = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(
                ok,
                "npm ci in tests/mysql/compat/node failed (node and npm are needed)"
            );
        }
    });
    dir
}

/// node mysql2 end to end: text and binary protocol with every common type, insertId / affectedRows,
/// rollback, multiple statements, a pool, error numbers and SQLSTATEs (compat/node/mysql2.test.mjs).
#[tokio::test]
async fn node_mysql2_runs_unmodified() {
    let dir = ensure_mysql2();
    let server = TestServer::start();
    let out = Command::new("node")
        .arg("mysql2.test.mjs")
        .current_dir(&dir)
        .env("MYSQL_PORT", server.mysql_port.to_string())
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("mysql2 ok"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn jdbc_rollback_discards_rows() {
    let server = TestServer::start();
    let login = accounts_table(&server).await;
    let port = server.mysql_port.to_string();
    java("RollbackJdbc.java", &[&port, login, "bank"]);
    assert_eq!(account_ids(&server).await, vec![22]);
}

/// A tenant `t1` with database `shop` and a table of every common temporal, binary and numeric type.
async fn typed_table(server: &TestServer) {
    server.create_tenant("t1").await;
    let mut c = server.connect("root@t1").await;
    c.query_drop("CREATE DATABASE shop").await.unwrap();
    c.query_drop(
        "CREATE TABLE shop.typed (id INT PRIMARY KEY, dt DATETIME(6), ts TIMESTAMP NULL, d DATE, t TIME, \
         b BLOB, vb VARBINARY(16), bn BINARY(4), amount DECIMAL(10,2), big BIGINT UNSIGNED)",
    )
    .await
    .unwrap();
}

/// What is stored, as text: the canonical forms every driver's parameters must end up in.
async fn stored(server: &TestServer, id: i64) -> Vec<Option<String>> {
    let mut c = server.connect("root@t1").await;
    let row: mysql_async::Row = c
        .exec_first(
            "SELECT CAST(dt AS CHAR), CAST(ts AS CHAR), CAST(d AS CHAR), CAST(t AS CHAR), hex(b), hex(vb), \
             hex(bn), amount, CAST(big AS CHAR) FROM shop.typed WHERE id = ?",
            (id,),
        )
        .await
        .unwrap()
        .expect("the row");
    (0..row.len())
        .map(|i| row.get::<Option<String>, _>(i).flatten())
        .collect()
}

fn texts(v: &[Option<&str>]) -> Vec<Option<String>> {
    v.iter().map(|s| s.map(str::to_string)).collect()
}

#[tokio::test]
async fn pymysql_gets_typed_values_back() {
    let server = TestServer::start();
    typed_table(&server).await;
    python(
        "types_pymysql.py",
        &[&server.mysql_port.to_string(), "root@t1", "shop"],
    );
    assert_eq!(
        stored(&server, 1).await,
        texts(&[
            Some("2024-01-02 03:04:05.123456"),
            Some("2024-05-06 07:08:09"),
            Some("2024-12-31"),
            Some("12:34:56"),
            Some("00FF726177"),
            Some("0102"),
            Some("61626364"),
            Some("12.34"),
            Some("9007199254740993"),
        ])
    );
}

#[tokio::test]
async fn connector_python_prepared_cursor_round_trips_types() {
    let server = TestServer::start();
    typed_table(&server).await;
    python(
        "types_connector.py",
        &[&server.mysql_port.to_string(), "root@t1", "shop"],
    );
    assert_eq!(
        stored(&server, 2).await,
        texts(&[
            Some("2023-03-04 05:06:07.890000"),
            Some("2023-08-09 10:11:12"),
            Some("2023-02-28"),
            Some("01:02:03"),
            Some("00FE"),
            Some("0304"),
            Some("7778797A"),
            Some("99.50"),
            Some("4294967296"),
        ])
    );
}

#[tokio::test]
async fn jdbc_round_trips_types_in_both_protocols() {
    let server = TestServer::start();
    typed_table(&server).await;
    let port = server.mysql_port.to_string();
    java("TypesJdbc.java", &[&port, "root@t1", "shop", "3", "false"]);
    java("TypesJdbc.java", &[&port, "root@t1", "shop", "4", "true"]);
    // Client-side prepares send literals, stored as the client wrote them; bound values are canonical.
    let text = stored(&server, 3).await;
    assert_eq!(text[0].as_deref(), Some("2022-06-07 08:09:10.5"));
    assert_eq!(
        stored(&server, 4).await[0].as_deref(),
        Some("2022-06-07 08:09:10.500000")
    );
    for id in [3, 4] {
        let row = stored(&server, id).await;
        assert_eq!(row[2].as_deref(), Some("2022-01-31"), "{id}");
        assert_eq!(row[3].as_deref(), Some("23:59:58"), "{id}");
        assert_eq!(row[5].as_deref(), Some("00807F"), "{id}");
        assert_eq!(row[7].as_deref(), Some("7.25"), "{id}");
    }
}

#[tokio::test]
async fn load_data_local_infile_from_pymysql_and_the_cli() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let mut c = server.connect("root@t1").await;
    c.query_drop("CREATE DATABASE shop").await.unwrap();
    c.query_drop("CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(80))")
        .await
        .unwrap();
    let port = server.mysql_port.to_string();
    python("local_infile_pymysql.py", &[&port, "root@t1", "shop"]);
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM shop.items")
        .await
        .unwrap();
    assert_eq!(n, Some(20000));

    // The mariadb CLI with --local-infile.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("more.csv");
    std::fs::write(&csv, "30001,fig\n30002,\"date, dried\"\n").unwrap();
    let out = Command::new("mariadb")
        .args([
            "--local-infile=1",
            "-h127.0.0.1",
            &format!("-P{port}"),
            "-uroot@t1",
            "-e",
            &format!(
                "LOAD DATA LOCAL INFILE '{}' INTO TABLE shop.items FIELDS TERMINATED BY ',' ENCLOSED BY '\"'; \
                 SELECT name FROM shop.items WHERE id = 30002",
                csv.display()
            ),
        ])
        .output()
        .expect("the mariadb client (.ci/run installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "name\ndate, dried\n");
}

#[tokio::test]
async fn pymysql_multi_statements_return_every_result() {
    let server = TestServer::start();
    let login = accounts_table(&server).await;
    let port = server.mysql_port.to_string();
    python("multi_pymysql.py", &[&port, login, "bank"]);
    assert_eq!(account_ids(&server).await, vec![1, 2, 3]);
}

/// A user with a password, over plain connections: PyMySQL and mysql-connector-python answer the announced
/// caching_sha2_password and are switched to mysql_native_password (a plain connection never carries the
/// password), Connector/J answers mysql_native_password at once; every wrong password gets 1045.
#[tokio::test]
async fn drivers_log_in_with_a_password_without_tls() {
    let server = TestServer::start();
    let mut sys = server.connect("root@sys").await;
    sys.query_drop("CREATE USER 'carol'@'%' IDENTIFIED BY 'pw-c4rol'")
        .await
        .unwrap();
    sys.disconnect().await.unwrap();
    let port = server.mysql_port.to_string();
    let out = python("login_password.py", &[&port, "carol", "pw-c4rol"]);
    for line in [
        "pymysql first carol@",
        "pymysql second carol@",
        "connector first carol@",
        "connector second carol@",
        "pymysql refused 1045",
        "connector refused 1045",
    ] {
        assert!(out.contains(line), "{line}: {out}");
    }
    let out = java("LoginJdbc.java", &[&port, "carol", "pw-c4rol"]);
    assert!(out.contains("jdbc carol@"), "{out}");
    assert!(out.contains("jdbc refused 1045"), "{out}");
}
