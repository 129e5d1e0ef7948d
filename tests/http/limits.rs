//! The HTTP front end against hostile clients (issue 14): cross-site requests, console logins of one user,
//! slow clients.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use mysql_async::prelude::*;

use crate::client::{assert_error, Api, Auth};
use crate::common::TestServer;

/// Sends a POST with exactly these headers (ureq sets nothing else of note) and returns status and body.
fn post_with(api: &Api, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> (u16, String) {
    let mut req = ureq::post(&format!("{}{path}", api.base)).timeout(Duration::from_secs(30));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let result = match body {
        Some(b) => req.send_string(b),
        None => req.call(),
    };
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("POST {path}: {e}"),
    };
    (resp.status(), resp.into_string().unwrap())
}

/// A page on another site can make the browser post with the console's cookie; such a request names its
/// origin or carries a form's content type, and is refused. Same-origin and command-line requests pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changes_from_another_origin_are_refused() {
    let server = TestServer::start();
    let api = Api::new(&server);
    let Auth::Cookie(cookie) = api.login("root@sys", "") else {
        unreachable!()
    };
    let cancel = "/api/jobs/12345/cancel";
    let code = |text: &str| {
        serde_json::from_str::<serde_json::Value>(text).unwrap()["error"]["code"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // From another origin: refused before anything runs.
    let (status, text) = post_with(
        &api,
        cancel,
        &[("Cookie", &cookie), ("Origin", "http://evil.example")],
        None,
    );
    assert_eq!(
        (status, code(&text).as_str()),
        (403, "cross_origin"),
        "{text}"
    );
    let (status, _) = post_with(
        &api,
        cancel,
        &[("Cookie", &cookie), ("Origin", "null")],
        None,
    );
    assert_eq!(status, 403);
    // A form (the only body another site can post without asking first) is refused, also for login.
    for content_type in [
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
    ] {
        let (status, text) = post_with(
            &api,
            "/api/login",
            &[("Content-Type", content_type)],
            Some(r#"{"user": "root@sys", "password": ""}"#),
        );
        assert_eq!(
            (status, code(&text).as_str()),
            (415, "unsupported_media_type"),
            "{content_type}: {text}"
        );
    }
    // The console's own requests (same origin) and curl's (no origin, no body) pass the check.
    let own_origin = api.base.clone();
    let (status, text) = post_with(
        &api,
        cancel,
        &[("Cookie", &cookie), ("Origin", &own_origin)],
        None,
    );
    assert_eq!(
        (status, code(&text).as_str()),
        (404, "job_not_found"),
        "{text}"
    );
    let (status, text) = post_with(&api, cancel, &[("Cookie", &cookie)], None);
    assert_eq!(
        (status, code(&text).as_str()),
        (404, "job_not_found"),
        "{text}"
    );
}

/// Console logins are capped per user: many logins of one tenant's user displace only that user's oldest
/// ones, never another tenant's (the login list was one global LRU of 1,024).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_logins_are_capped_per_user() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    server.create_tenant("t2").await;
    let mut t1 = server.connect("root@t1").await;
    t1.query_drop("CREATE USER alice IDENTIFIED BY 'wonder'")
        .await
        .unwrap();
    let api = Api::new(&server);
    let other_tenant = api.login("root@t2", "");
    let alice: Vec<Auth> = (0..20).map(|_| api.login("alice@t1", "wonder")).collect();
    assert_eq!(api.get("/api/me", &other_tenant).status, 200);
    assert_eq!(api.get("/api/me", &alice[19]).status, 200);
    assert_error(&api.get("/api/me", &alice[0]), 401, "unauthorized");
    let working = alice
        .iter()
        .filter(|a| api.get("/api/me", a).status == 200)
        .count();
    assert_eq!(working, 16);
}

/// A client that sends its headers slowly (or not at all) is cut off instead of holding a connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off() {
    let server = TestServer::start();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", server.http_port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(b"GET /api/me HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    let since = Instant::now();
    let mut answer = Vec::new();
    // The server closes the connection (possibly after a 408); a read timeout here would be an error.
    s.read_to_end(&mut answer)
        .expect("the server closes a connection whose headers never end");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    eprintln!("cut off after {:?}", since.elapsed());
    // The server still answers others.
    let api = Api::new(&server);
    assert_eq!(api.get("/api/openapi.json", &Auth::None).status, 200);
}
