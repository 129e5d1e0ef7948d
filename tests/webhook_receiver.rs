//! A real HTTPS webhook endpoint for changefeed tests: TLS with a certificate of `tenantry cert create`, HTTP/1
//! by hyper, on 127.0.0.1. It records every request body and answers as the test sets it: 200, an error status,
//! or never (a hung endpoint).
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use http_body_util::BodyExt;
use parking_lot::Mutex;

/// How the endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 200 OK, and the body is recorded.
    Accept,
    /// This status; the body is not recorded.
    Fail(u16),
    /// No answer at all (the request hangs until the client gives up).
    Hang,
}

/// What the endpoint saw.
#[derive(Default)]
pub struct Seen {
    /// Accepted request bodies, in arrival order.
    pub bodies: Vec<String>,
    /// When each accepted body had arrived whole.
    pub arrived: Vec<std::time::Instant>,
    /// Refused or hung requests.
    pub refused: usize,
    /// The `Authorization` header of the last request.
    pub auth: Option<String>,
}

/// A running receiver.
pub struct Receiver {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// What it saw.
    pub seen: Arc<Mutex<Seen>>,
    mode: Arc<Mutex<Mode>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    /// Starts a receiver serving `cert_dir/server.crt` (made by `tenantry cert create` for 127.0.0.1).
    pub async fn start(cert_dir: &Path) -> Self {
        let tls = tenantry_net::Tls::from_files(
            &cert_dir.join("server.crt"),
            &cert_dir.join("server.key"),
            false,
        )
        .expect("the receiver's certificate");
        let acceptor = tls.acceptor().expect("a TLS acceptor").clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let mode = Arc::new(Mutex::new(Mode::Accept));
        let (seen2, mode2) = (seen.clone(), mode.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let (seen, mode) = (seen2.clone(), mode2.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            let (seen, mode) = (seen.clone(), mode.clone());
                            async move {
                                let auth = req
                                    .headers()
                                    .get("authorization")
                                    .and_then(|v| v.to_str().ok())
                                    .map(str::to_string);
                                let body = req.into_body().collect().await.map(|b| b.to_bytes());
                                let body =
                                    String::from_utf8_lossy(&body.unwrap_or_default()).into_owned();
                                let now = *mode.lock();
                                seen.lock().auth = auth;
                                let status = match now {
                                    Mode::Accept => {
                                        let mut seen = seen.lock();
                                        seen.bodies.push(body);
                                        seen.arrived.push(std::time::Instant::now());
                                        200
                                    }
                                    Mode::Fail(code) => {
                                        seen.lock().refused += 1;
                                        code
                                    }
                                    Mode::Hang => {
                                        seen.lock().refused += 1;
                                        std::future::pending::<()>().await;
                                        500
                                    }
                                };
                                hyper::Response::builder().status(status).body(
                                    http_body_util::Full::new(bytes::Bytes::from_static(b"ok")),
                                )
                            }
                        },
                    );
                    let _ = hyper_util::server::conn::auto::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    )
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
                });
            }
        });
        Self {
            port,
            seen,
            mode,
            task,
        }
    }

    /// The sink URI of this receiver for a changefeed, trusting the CA in `cert_dir` (`ca.crt`, base64 PEM,
    /// URL-encoded, as CockroachDB takes it).
    pub fn uri(&self, cert_dir: &Path) -> String {
        use base64::Engine;
        let pem = std::fs::read(cert_dir.join("ca.crt")).expect("ca.crt");
        let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
        let encoded = b64
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        format!(
            "webhook-https://127.0.0.1:{}/hook?ca_cert={encoded}",
            self.port
        )
    }

    /// Sets how later requests are answered.
    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock() = mode;
    }

    /// Every message of every accepted batch (`{"payload": [...], "length": n}`), in arrival order; resolved
    /// messages (posted alone) are left out.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let bodies = self.seen.lock().bodies.clone();
        let mut out = Vec::new();
        for body in bodies {
            let v: serde_json::Value = serde_json::from_str(&body).expect("a JSON body");
            if let Some(payload) = v.get("payload") {
                let items = payload.as_array().expect("payload is an array");
                assert_eq!(v["length"].as_u64(), Some(items.len() as u64), "{body}");
                out.extend(items.iter().cloned());
            }
        }
        out
    }

    /// The resolved timestamps received, in order.
    pub fn resolved(&self) -> Vec<String> {
        self.seen
            .lock()
            .bodies
            .iter()
            .filter_map(|b| {
                let v: serde_json::Value = serde_json::from_str(b).ok()?;
                v.get("resolved")?.as_str().map(str::to_string)
            })
            .collect()
    }
}
