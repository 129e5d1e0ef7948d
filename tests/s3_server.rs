//! A real S3-compatible server for tests: s3s-fs (the `s3s` crate's file-system store, what the `s3s-fs`
//! binary serves) run in-process on a port of 0, with access-key authentication, on a runtime of its own.
//!
//! Why in-process rather than the `s3s-fs` binary or moto: nothing to install on a CI machine (a `cargo install`
//! of s3s-fs costs minutes; moto needs Python packages), each test gets its own server and directory, and the
//! server speaks real S3 over a real socket (SigV4, multipart, If-None-Match → 412), so the server binary
//! under test reaches it exactly as it would reach AWS or MinIO.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

/// The access key id the test server accepts.
pub const ACCESS_KEY: &str = "tenantry-test-key";
/// The secret it accepts: distinctive, so a test can look for it anywhere it must not appear.
pub const SECRET_KEY: &str = "Sup3r+Secret/Value-never-shown";

/// A running S3 server; it stops when dropped.
pub struct S3Server {
    /// Where it listens.
    pub addr: SocketAddr,
    root: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl S3Server {
    /// Starts a server on 127.0.0.1 with the given buckets (created as directories).
    pub fn start(buckets: &[&str]) -> Self {
        let root = tempfile::tempdir().expect("s3 root");
        for b in buckets {
            std::fs::create_dir(root.path().join(b)).expect("create bucket");
        }
        let fs = s3s_fs::FileSystem::new(root.path()).expect("s3s-fs");
        let service = {
            let mut b = S3ServiceBuilder::new(fs);
            b.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
            b.build()
        };
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind s3");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("s3 addr");
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("s3 runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
                let http = ConnBuilder::new(TokioExecutor::new());
                loop {
                    let socket = tokio::select! {
                        r = listener.accept() => match r {
                            Ok((s, _)) => s,
                            Err(_) => continue,
                        },
                        _ = &mut stop_rx => break,
                    };
                    let conn = http
                        .serve_connection(TokioIo::new(socket), service.clone())
                        .into_owned();
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                }
            });
            rt.shutdown_background();
        });
        Self {
            addr,
            root,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// The endpoint URL (`http://127.0.0.1:PORT`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// CockroachDB's spelling of `s3://bucket/path` on this server.
    pub fn crdb_uri(&self, bucket: &str, path: &str) -> String {
        format!(
            "s3://{bucket}/{path}?AWS_ACCESS_KEY_ID={ACCESS_KEY}&AWS_SECRET_ACCESS_KEY={}&AWS_ENDPOINT={}&AWS_REGION=us-east-1",
            encode(SECRET_KEY),
            self.endpoint()
        )
    }

    /// OceanBase's spelling of `s3://bucket/path` on this server.
    pub fn ob_uri(&self, bucket: &str, path: &str) -> String {
        format!(
            "s3://{bucket}/{path}?host={}&access_id={ACCESS_KEY}&access_key={}&s3_region=us-east-1",
            self.endpoint(),
            encode(SECRET_KEY)
        )
    }

    /// The directory the server keeps its buckets (and in-progress multipart uploads) in.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Multipart uploads begun and neither completed nor aborted (s3s-fs keeps them as `.upload-<id>.json` and
    /// `.upload_id-<id>.part-<n>` at its root).
    pub fn open_uploads(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.root.path())
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with(".upload") || n.contains(".upload-"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every object under `bucket/prefix` (paths relative to the bucket), as files on the server's disk.
    pub fn objects(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let base = self.root.path().join(bucket);
        let mut out = Vec::new();
        let mut stack = vec![base.join(prefix)];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if let Ok(rel) = p.strip_prefix(&base) {
                    let rel = rel.to_string_lossy().to_string();
                    // s3s-fs keeps metadata beside objects in dot files.
                    if !rel.rsplit('/').next().unwrap_or("").starts_with('.') {
                        out.push(rel);
                    }
                }
            }
        }
        out.sort();
        out
    }
}

/// Percent-encodes a query value.
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
