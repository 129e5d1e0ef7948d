//! The console in a real browser: Debian's chromium driven by playwright-core (tests/console). The test
//! installs what it needs if it is missing (as .ci/run does), so it always runs; it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;

use mysql_async::prelude::*;

use crate::client::{eventually, slow_backup, Api, Auth};
use crate::common::TestServer;

fn console_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/console")
}

/// Installs Debian's chromium and the locked playwright-core when they are missing.
fn ensure_browser() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if !Path::new("/usr/bin/chromium").exists() {
            let ok = Command::new("sh")
                .args(["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium"])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chromium is missing and could not be installed with apt-get");
        }
        if !console_dir().join("node_modules/playwright-core").exists() {
            let ok = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(console_dir())
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "npm ci in tests/console failed (node and npm are needed)");
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_shows_a_backup_moving_and_cancels_it() {
    ensure_browser();
    let server = TestServer::start();
    server.create_tenant("shop").await;
    server.create_tenant("analytics").await;
    // Some finished work beside the backup, so the page shows more than one row.
    let mut a = server.connect("root@analytics").await;
    a.query_drop("CREATE TABLE test.events (id INT, kind VARCHAR(20), at BIGINT)")
        .await
        .unwrap();
    for (i, col) in ["kind", "at", "id"].iter().enumerate() {
        a.query_drop(format!("CREATE INDEX events_{i} ON test.events ({col})"))
            .await
            .unwrap();
    }
    let id = slow_backup(&server, "shop", 100000, "128KB").await;

    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&target).unwrap();
    let screenshot = target.join("console.png");
    let _ = std::fs::remove_file(&screenshot);
    let out = Command::new("node")
        .arg("console.test.mjs")
        .current_dir(console_dir())
        .env(
            "CONSOLE_URL",
            format!("http://127.0.0.1:{}/", server.http_port),
        )
        .env("CONSOLE_USER", "root@sys")
        .env("CONSOLE_PASSWORD", "")
        .env("JOB_ID", id.to_string())
        .env("SCREENSHOT", &screenshot)
        .output()
        .expect("node runs (it comes with the machine; see tests/console)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser test failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("progress moved"), "{stdout}");
    assert!(screenshot.exists(), "the screenshot was written");

    // What the browser saw is what the server holds: the backup was canceled.
    let api = Api::new(&server);
    let root = Auth::Basic("root@sys".into(), String::new());
    eventually(10, "the backup to read canceled", || {
        let a = api.get(&format!("/api/jobs/{id}"), &root);
        (a.json["state"] == "canceled").then_some(())
    });
    let mut sys = server.connect("root@sys").await;
    sys.query_drop("ALTER SYSTEM SET bulk_io_max_rate = '0'")
        .await
        .unwrap();
}
