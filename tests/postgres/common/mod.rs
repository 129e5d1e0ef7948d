//! Starting the real `tenantry` binary for PostgreSQL tests, and connecting to it with real clients.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use tokio_postgres::{Client, NoTls};

/// The server binary: this build's, or `TENANTRY_BIN` (to check that a new test fails on an older build).
pub fn binary() -> PathBuf {
    std::env::var_os("TENANTRY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_tenantry")))
}

/// Makes a CA and a server certificate for localhost and 127.0.0.1 in `dir` with `tenantry cert create`.
pub fn make_certs(dir: &std::path::Path) {
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

/// A running server on free ports with its own data directory.
pub struct TestServer {
    child: Child,
    _dir: tempfile::TempDir,
    /// The MySQL port.
    pub mysql_port: u16,
    /// The PostgreSQL port.
    pub pg_port: u16,
}

impl TestServer {
    /// The server's resident memory in bytes (VmRSS in /proc).
    pub fn rss(&self) -> u64 {
        rss_of(self.child.id())
    }

    /// Starts a server on a fresh data directory.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a server with extra arguments to `tenantry start`.
    pub fn start_with(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new(binary())
            .arg("start")
            .arg("--data-dir")
            .arg(dir.path())
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
            .stderr(Stdio::null())
            .spawn()
            .expect("start tenantry");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let (mut mysql_port, mut pg_port) = (None, None);
        let port = |addr: &str| addr.rsplit(':').next().and_then(|p| p.parse().ok());
        for line in lines.by_ref() {
            let line = line.expect("read stdout");
            if let Some(addr) = line.strip_prefix("listening mysql ") {
                mysql_port = port(addr);
            }
            if let Some(addr) = line.strip_prefix("listening pg ") {
                assert!(
                    mysql_port.is_some(),
                    "the pg line comes after the mysql line"
                );
                pg_port = port(addr);
            }
            if line == "ready" {
                break;
            }
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            _dir: dir,
            mysql_port: mysql_port.expect("mysql port before ready"),
            pg_port: pg_port.expect("pg port before ready"),
        }
    }

    /// The external-IO directory (the default, `<data-dir>/extern`), which the server creates at start.
    pub fn external_dir(&self) -> PathBuf {
        self._dir.path().join("extern")
    }

    /// A tenant's part of the external-IO directory (`extern/<tenant>`), created if missing.
    pub fn tenant_dir(&self, tenant: &str) -> PathBuf {
        let dir = self.external_dir().join(tenant);
        std::fs::create_dir_all(&dir).expect("create the tenant's external-IO directory");
        dir
    }

    /// A libpq-style connection string.
    pub fn conninfo(&self, login: &str, password: &str, db: Option<&str>) -> String {
        let mut s = format!("host=127.0.0.1 port={} user={login}", self.pg_port);
        if !password.is_empty() {
            s.push_str(&format!(" password={password}"));
        }
        if let Some(db) = db {
            s.push_str(&format!(" dbname={db}"));
        }
        s
    }

    /// Connects with tokio-postgres; the connection task runs in the background.
    pub async fn try_pg(
        &self,
        login: &str,
        password: &str,
        db: Option<&str>,
    ) -> Result<Client, tokio_postgres::Error> {
        let (client, conn) =
            tokio_postgres::connect(&self.conninfo(login, password, db), NoTls).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(client)
    }

    /// Connects with tokio-postgres or fails the test.
    pub async fn pg(&self, login: &str, password: &str, db: Option<&str>) -> Client {
        self.try_pg(login, password, db)
            .await
            .unwrap_or_else(|e| panic!("connect as {login}: {e}"))
    }

    /// Creates user tenant `name` (its own unit and pool, MySQL mode) as root@sys; its root has no password.
    pub async fn create_tenant(&self, name: &str) {
        let mut sys = self.mysql("root@sys", "", None).await;
        for sql in [
            format!("CREATE RESOURCE UNIT unit_{name} MAX_CPU 1, MEMORY_SIZE '2G'"),
            format!("CREATE RESOURCE POOL pool_{name} UNIT = 'unit_{name}', UNIT_NUM = 1"),
            format!("CREATE TENANT {name} RESOURCE_POOL_LIST = ('pool_{name}')"),
        ] {
            mysql_async::prelude::Queryable::query_drop(&mut sys, &sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }

    /// A MySQL connection.
    pub async fn mysql(&self, login: &str, password: &str, db: Option<&str>) -> mysql_async::Conn {
        let opts = mysql_async::OptsBuilder::default()
            .ip_or_hostname("127.0.0.1")
            .tcp_port(self.mysql_port)
            .user(Some(login))
            .pass(Some(password))
            .db_name(db)
            .prefer_socket(false);
        mysql_async::Conn::new(opts)
            .await
            .unwrap_or_else(|e| panic!("mysql connect as {login}: {e}"))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The SQLSTATE of a failed statement or login.
pub fn sqlstate(e: &tokio_postgres::Error) -> String {
    e.code()
        .map(|c| c.code().to_string())
        .unwrap_or_else(|| panic!("expected a server error, got {e:?}"))
}

/// Rows of a simple query, as text.
pub async fn simple_rows(c: &Client, sql: &str) -> Vec<Vec<Option<String>>> {
    c.simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}: {:?}", e.as_db_error()))
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
            }
            _ => None,
        })
        .collect()
}

/// A table big enough that a throttled CREATE INDEX on it runs for seconds.
pub async fn big_table(c: &Client, rows: i64) {
    c.batch_execute(&format!(
        "CREATE TABLE big (id INTEGER PRIMARY KEY, a INT, b VARCHAR(40)); \
         INSERT INTO big (id, a, b) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) SELECT x, x % 1000, 'row-' || x FROM c"
    ))
    .await
    .unwrap();
}

/// Waits until a job with this description runs, and returns its id.
pub async fn running_job(c: &Client, description: &str) -> i64 {
    for _ in 0..500 {
        let rows = simple_rows(
            c,
            &format!(
                "SELECT job_id FROM [SHOW JOBS] WHERE description = '{description}' AND status = 'running'"
            ),
        )
        .await;
        if let Some(Some(id)) = rows.first().and_then(|r| r.first()) {
            return id.parse().unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no running job for {description}");
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
