//! A small HTTP client for the tests (ureq), with the console's cookie or basic credentials.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use base64::Engine as _;
use mysql_async::prelude::*;
use serde_json::Value;

use crate::common::{big_table, TestServer};

/// An answer: status and JSON body (Null if the body is not JSON), and the raw text.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub json: Value,
    pub text: String,
    pub set_cookie: Option<String>,
    pub content_type: String,
}

/// How a request authenticates.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Cookie(String),
    Basic(String, String),
}

/// The API of one server.
pub struct Api {
    pub base: String,
}

impl Api {
    pub fn new(server: &TestServer) -> Self {
        Self {
            base: format!("http://127.0.0.1:{}", server.http_port),
        }
    }

    fn send(&self, method: &str, path: &str, auth: &Auth, body: Option<&str>) -> Answer {
        let mut req =
            ureq::request(method, &format!("{}{path}", self.base)).timeout(Duration::from_secs(30));
        match auth {
            Auth::None => {}
            Auth::Cookie(c) => req = req.set("Cookie", c),
            Auth::Basic(u, p) => {
                let b = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
                req = req.set("Authorization", &format!("Basic {b}"));
            }
        }
        let result = match body {
            Some(b) => req.set("Content-Type", "application/json").send_string(b),
            None => req.call(),
        };
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = resp.status();
        let set_cookie = resp.header("set-cookie").map(str::to_string);
        let content_type = resp.content_type().to_string();
        let text = resp.into_string().expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            json,
            text,
            set_cookie,
            content_type,
        }
    }

    pub fn get(&self, path: &str, auth: &Auth) -> Answer {
        self.send("GET", path, auth, None)
    }

    pub fn post(&self, path: &str, auth: &Auth, body: Option<&str>) -> Answer {
        self.send("POST", path, auth, body)
    }

    /// Logs in through `POST /api/login` and returns the cookie to send back.
    pub fn login(&self, user: &str, password: &str) -> Auth {
        let a = self.post(
            "/api/login",
            &Auth::None,
            Some(&serde_json::json!({ "user": user, "password": password }).to_string()),
        );
        assert_eq!(a.status, 200, "login as {user}: {}", a.text);
        let cookie = a.set_cookie.expect("login sets a cookie");
        Auth::Cookie(cookie.split(';').next().unwrap().to_string())
    }
}

/// Asserts that an answer is a JSON error with this status and code.
pub fn assert_error(a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "{}", a.text);
    assert_eq!(a.json["error"]["code"], code, "{}", a.text);
    assert!(
        a.json["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "an error message: {}",
        a.text
    );
}

/// Waits until `f` returns Some, up to `secs` seconds.
pub fn eventually<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts a backup of tenant `tenant` that runs for a long while (a big table, a low bulk_io_max_rate)
/// and returns its job id.
pub async fn slow_backup(server: &TestServer, tenant: &str, rows: i64, rate: &str) -> i64 {
    let dest = server.data_dir().join(format!("extern/{tenant}/bk"));
    let mut t = server.connect(&format!("root@{tenant}")).await;
    big_table(&mut t, "test", rows).await;
    t.query_drop(format!(
        "ALTER SYSTEM SET DATA_BACKUP_DEST = 'file://{}'",
        dest.display()
    ))
    .await
    .unwrap();
    let mut sys = server.connect("root@sys").await;
    sys.query_drop(format!("ALTER SYSTEM SET bulk_io_max_rate = '{rate}'"))
        .await
        .unwrap();
    t.query_drop("ALTER SYSTEM BACKUP DATABASE").await.unwrap();
    let id: i64 = t
        .query_first(
            "SELECT job_id FROM [SHOW JOBS] WHERE job_type = 'BACKUP' ORDER BY created DESC",
        )
        .await
        .unwrap()
        .expect("the backup job");
    id
}
