//! Starting the real `tenantry` binary for tests, and connecting to it with real clients.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mysql_async::prelude::*;
use mysql_async::{Conn, OptsBuilder};

/// A running server on free ports with its own data directory.
pub struct TestServer {
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// The MySQL port.
    pub mysql_port: u16,
    /// The HTTP port (console, REST API, metrics).
    pub http_port: u16,
    /// The PostgreSQL port.
    pub pg_port: u16,
    /// Whether the server's log goes to `server.log` in the data directory.
    logged: bool,
}

impl TestServer {
    /// Starts a server on a fresh data directory.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a server with extra arguments to `tenantry start`.
    pub fn start_with(args: &[&str]) -> Self {
        Self::launch(args, false)
    }

    /// Starts a server whose log (stderr) goes to `server.log` in its data directory.
    pub fn start_logged() -> Self {
        Self::launch(&[], true)
    }

    fn launch(args: &[&str], logged: bool) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (child, ports) = spawn(dir.path(), args, logged);
        Self {
            child: Some(child),
            dir,
            mysql_port: ports.mysql,
            http_port: ports.http,
            pg_port: ports.pg,
            logged,
        }
    }

    /// The server's resident memory in bytes (VmRSS in /proc).
    pub fn rss(&self) -> u64 {
        let pid = self.child.as_ref().expect("the server runs").id();
        rss_of(pid)
    }

    /// What the server logged so far (see [`TestServer::start_logged`]).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The external-IO directory (the default, `<data-dir>/extern`): the only place `file://` locations and
    /// `LOAD DATA INFILE` may use. The server creates it at start.
    pub fn external_dir(&self) -> PathBuf {
        self.dir.path().join("extern")
    }

    /// A tenant's part of the external-IO directory (`extern/<tenant>`), created if missing.
    pub fn tenant_dir(&self, tenant: &str) -> PathBuf {
        let dir = self.external_dir().join(tenant);
        std::fs::create_dir_all(&dir).expect("create the tenant's external-IO directory");
        dir
    }

    /// A `file://` URI of `name` in a tenant's part of the external-IO directory (not created).
    pub fn tenant_uri(&self, tenant: &str, name: &str) -> String {
        format!("file://{}/{tenant}/{name}", self.external_dir().display())
    }

    /// Kills the server with SIGKILL (a crash) and waits for it to die.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops the server with SIGTERM and returns whether it exited successfully.
    pub fn terminate(&mut self) -> bool {
        let Some(mut c) = self.child.take() else {
            return false;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        for _ in 0..100 {
            if let Ok(Some(status)) = c.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        let _ = c.wait();
        false
    }

    /// Starts the server again on the same data directory (after `kill9` or `terminate`).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "server still running");
        let (child, ports) = spawn(self.dir.path(), &[], self.logged);
        self.child = Some(child);
        self.mysql_port = ports.mysql;
        self.http_port = ports.http;
        self.pg_port = ports.pg;
    }

    /// Whether the process is still alive.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => c.try_wait().map(|s| s.is_none()).unwrap_or(false),
            None => false,
        }
    }

    /// Connection options for `login` (e.g. `root@sys`) with `password`.
    pub fn opts(&self, login: &str, password: &str, db: Option<&str>) -> OptsBuilder {
        OptsBuilder::default()
            .ip_or_hostname("127.0.0.1")
            .tcp_port(self.mysql_port)
            .user(Some(login))
            .pass(Some(password))
            .db_name(db)
            .prefer_socket(false)
    }

    /// Connects over the PostgreSQL wire as `login` with `password` to database `db` (`test` if none).
    pub async fn pg(
        &self,
        login: &str,
        password: &str,
        db: Option<&str>,
    ) -> tokio_postgres::Client {
        let mut conninfo = format!(
            "host=127.0.0.1 port={} user={login} dbname={} connect_timeout=10",
            self.pg_port,
            db.unwrap_or("test")
        );
        if !password.is_empty() {
            conninfo.push_str(&format!(" password={password}"));
        }
        let (client, connection) = tokio_postgres::connect(&conninfo, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("pg connect as {login}: {e}"));
        tokio::spawn(connection);
        client
    }

    /// Connects as `login` with an empty password.
    pub async fn connect(&self, login: &str) -> Conn {
        self.connect_with(login, "", None).await
    }

    /// Connects as `login` with a password and an optional database.
    pub async fn connect_with(&self, login: &str, password: &str, db: Option<&str>) -> Conn {
        Conn::new(self.opts(login, password, db))
            .await
            .unwrap_or_else(|e| panic!("connect as {login}: {e}"))
    }

    /// Creates unit, pool and a tenant `name` in MySQL mode as root@sys.
    pub async fn create_tenant(&self, name: &str) {
        let mut sys = self.connect("root@sys").await;
        sys.query_drop(format!(
            "CREATE RESOURCE UNIT IF NOT EXISTS unit_{name} MAX_CPU 1, MEMORY_SIZE '2G'"
        ))
        .await
        .unwrap();
        sys.query_drop(format!(
            "CREATE RESOURCE POOL pool_{name} UNIT = 'unit_{name}', UNIT_NUM = 1"
        ))
        .await
        .unwrap();
        sys.query_drop(format!(
            "CREATE TENANT {name} RESOURCE_POOL_LIST = ('pool_{name}') SET ob_compatibility_mode = 'mysql'"
        ))
        .await
        .unwrap();
        sys.disconnect().await.unwrap();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Makes a CA and a server certificate for localhost and 127.0.0.1 in `dir` with `tenantry cert create`.
pub fn make_certs(dir: &Path) {
    let out = Command::new(binary())
        .args(["cert", "create", "--dir"])
        .arg(dir)
        .args(["--host", "localhost,127.0.0.1"])
        .output()
        .expect("run tenantry cert create");
    assert!(
        out.status.success(),
        "cert create failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The server binary: this build's, or `TENANTRY_BIN` (to check that a new test fails on an older build).
pub fn binary() -> PathBuf {
    std::env::var_os("TENANTRY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_tenantry")))
}

/// The ports a server printed.
struct Ports {
    mysql: u16,
    pg: u16,
    http: u16,
}

fn spawn(data_dir: &Path, extra: &[&str], logged: bool) -> (Child, Ports) {
    let stderr = if logged {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data_dir.join("server.log"))
            .expect("server log");
        Stdio::from(log)
    } else {
        Stdio::null()
    };
    let mut child = Command::new(binary())
        .arg("start")
        .arg("--data-dir")
        .arg(data_dir)
        .args([
            "--mysql-addr",
            "127.0.0.1:0",
            "--pg-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start tenantry");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let (mut mysql_port, mut http_port, mut pg_port) = (None, None, None);
    for line in lines.by_ref() {
        let line = line.expect("read stdout");
        if let Some(addr) = line.strip_prefix("listening mysql ") {
            mysql_port = addr.rsplit(':').next().and_then(|p| p.parse().ok());
        }
        if let Some(addr) = line.strip_prefix("listening pg ") {
            pg_port = addr.rsplit(':').next().and_then(|p| p.parse().ok());
        }
        if let Some(addr) = line.strip_prefix("listening http ") {
            http_port = addr.rsplit(':').next().and_then(|p| p.parse().ok());
        }
        if line == "ready" {
            break;
        }
    }
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let ports = Ports {
        mysql: mysql_port.expect("server printed its mysql port before ready"),
        pg: pg_port.expect("server printed its pg port before ready"),
        http: http_port.expect("server printed its http port before ready"),
    };
    (child, ports)
}

/// The server error of a failed statement: (MySQL code, SQLSTATE, message).
pub fn server_error(e: mysql_async::Error) -> (u16, String, String) {
    match e {
        mysql_async::Error::Server(s) => (s.code, s.state, s.message),
        other => panic!("expected a server error, got {other:?}"),
    }
}

/// Runs `sql` and returns its server error, failing if it succeeds.
pub async fn expect_error(conn: &mut Conn, sql: &str) -> (u16, String, String) {
    match conn.query_drop(sql).await {
        Ok(()) => panic!("expected an error from: {sql}"),
        Err(e) => server_error(e),
    }
}

/// A table big enough that a throttled CREATE INDEX on it runs for seconds.
pub async fn big_table(c: &mut Conn, db: &str, rows: i64) {
    c.query_drop(format!(
        "CREATE TABLE {db}.big (id INTEGER PRIMARY KEY, a INT, b VARCHAR(40))"
    ))
    .await
    .unwrap();
    c.query_drop(format!(
        "INSERT INTO {db}.big (id, a, b) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) SELECT x, x % 1000, 'row-' || x FROM c"
    ))
    .await
    .unwrap();
}

pub async fn set_rate(server: &TestServer, rate: &str) {
    let mut sys = server.connect("root@sys").await;
    sys.query_drop(format!("ALTER SYSTEM SET bulk_io_max_rate = '{rate}'"))
        .await
        .unwrap();
}

/// Waits for a job to end (SHOW JOB WHEN COMPLETE) and returns its status.
pub async fn final_status(c: &mut Conn, id: i64) -> String {
    let row: mysql_async::Row = c
        .query_first(format!("SHOW JOB WHEN COMPLETE {id}"))
        .await
        .unwrap()
        .expect("SHOW JOB returns the job");
    row.get("status").expect("a status")
}

/// The resident memory of process `pid` in bytes (VmRSS in /proc/PID/status).
pub fn rss_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .expect("VmRSS")
}
