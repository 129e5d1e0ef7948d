//! A MariaDB server started by a benchmark on the same machine in the same run, as the anchor of its figures.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A MariaDB server on a temporary data directory, for the side-by-side figures.
pub struct MariaDb {
    /// The server process.
    pub child: Child,
    /// Its MySQL port.
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Initialises and starts `mariadbd` with a 1 GB buffer pool (the query-path issue's anchor configuration).
pub fn start_mariadb(max_connections: u32) -> MariaDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let status = Command::new("mariadb-install-db")
        .arg(format!("--datadir={}", data.display()))
        .args(["--user=root", "--auth-root-authentication-method=normal"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("mariadb-install-db (apt-get install mariadb-server)");
    assert!(status.success(), "mariadb-install-db failed");
    let port = free_port();
    let child = Command::new("mariadbd")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--socket={}", dir.path().join("sock").display()))
        .arg(format!("--port={port}"))
        .arg(format!("--pid-file={}", dir.path().join("pid").display()))
        .args([
            "--user=root",
            "--bind-address=127.0.0.1",
            "--innodb-buffer-pool-size=1G",
            &format!("--max-connections={max_connections}"),
            "--skip-log-bin",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mariadbd");
    let server = MariaDb {
        child,
        port,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !sql(port, "root", "SELECT 1") {
        assert!(Instant::now() < deadline, "mariadbd did not start");
        std::thread::sleep(Duration::from_millis(200));
    }
    server
}

/// Runs one statement with the `mariadb` CLI; true on success.
pub fn sql(port: u16, user: &str, stmt: &str) -> bool {
    Command::new("mariadb")
        .args([
            "-h127.0.0.1",
            &format!("-P{port}"),
            &format!("-u{user}"),
            "-e",
            stmt,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}
