//! HTTPS on the HTTP listener with `curl --cacert` against the CA `tenantry cert create` made, and
//! `--require-tls` refusing plain HTTP with 403 `tls_required`.

use std::process::Command;

use crate::common::{make_certs, TestServer};

/// Runs curl with `args`; returns (success, status code and body).
fn curl(args: &[&str]) -> (bool, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl is installed (.ci/run installs it)");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn tls_server(dir: &std::path::Path, extra: &[&str]) -> TestServer {
    make_certs(dir);
    let cert = dir.join("server.crt").display().to_string();
    let key = dir.join("server.key").display().to_string();
    let mut args = vec!["--tls-cert", cert.as_str(), "--tls-key", key.as_str()];
    args.extend_from_slice(extra);
    TestServer::start_with(&args)
}

#[test]
fn rest_api_over_https_and_plain_refused_when_required() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("certs");
    let server = tls_server(&dir, &["--require-tls"]);
    let ca = dir.join("ca.crt").display().to_string();
    let https = format!("https://localhost:{}/api/me", server.http_port);
    let (ok, out) = curl(&["--cacert", &ca, "-u", "root@sys:", &https]);
    assert!(ok, "{out}");
    assert!(out.contains("root") && out.ends_with("200"), "{out}");

    // Without the CA curl does not trust the server.
    let (ok, out) = curl(&["-u", "root@sys:", &https]);
    assert!(!ok, "an unknown CA must not verify: {out}");

    // Plain HTTP on the same port: refused.
    let plain = format!("http://127.0.0.1:{}/api/me", server.http_port);
    let (_, out) = curl(&["-u", "root@sys:", &plain]);
    assert!(
        out.contains("tls_required") && out.ends_with("403"),
        "{out}"
    );
}

#[test]
fn plain_http_still_served_beside_https_when_not_required() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("certs");
    let server = tls_server(&dir, &[]);
    let ca = dir.join("ca.crt").display().to_string();
    for url in [
        format!("https://localhost:{}/api/me", server.http_port),
        format!("http://127.0.0.1:{}/api/me", server.http_port),
    ] {
        let (ok, out) = curl(&["--cacert", &ca, "-u", "root@sys:", &url]);
        assert!(ok && out.ends_with("200"), "{url}: {out}");
    }
}
