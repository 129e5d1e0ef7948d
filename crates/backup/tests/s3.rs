//! The backup store on a real S3-compatible server (s3s-fs in-process, see `tests/s3_server.rs`): chunks and
//! objects round-trip, a destination is claimed by one tenant only, multipart uploads are aborted on a stop or a
//! failure, and errors never show the secret.

#[path = "../../../tests/s3_server.rs"]
mod s3_server;

use std::sync::atomic::{AtomicUsize, Ordering};

use s3_server::{S3Server, SECRET_KEY};
use tenantry_backup::{BackupError, BackupStore, DestOwner};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn owner(tenant_id: i64) -> DestOwner<'static> {
    DestOwner {
        cluster_id: "c1",
        tenant_id,
        tenant_name: "t",
    }
}

#[test]
fn chunks_objects_and_claims_on_s3() {
    let s3 = S3Server::start(&["bkt"]);
    let rt = runtime();
    let store = BackupStore::open(&s3.crdb_uri("bkt", "a/b"), rt.handle().clone()).unwrap();
    assert!(!store.uri().contains(SECRET_KEY), "{}", store.uri());
    assert!(store.stored_uri().contains("AWS_SECRET_ACCESS_KEY="));
    store.check_writable().unwrap();
    store.claim(owner(1001)).unwrap();
    // Claimed again by its owner: fine; by another tenant: OceanBase's -9081.
    store.claim(owner(1001)).unwrap();
    assert!(matches!(
        store.claim(owner(1002)),
        Err(BackupError::FormatMismatch(_))
    ));
    let raw = vec![7u8; 100_000];
    let w = store.put_chunk(&raw).unwrap();
    assert!(w.stored_bytes > 0);
    assert_eq!(
        store.put_chunk(&raw).unwrap().stored_bytes,
        0,
        "stored once"
    );
    assert_eq!(store.get_chunk(&w.hash, raw.len()).unwrap(), raw);
    assert_eq!(store.list_chunks().unwrap(), vec![w.hash.clone()]);
    assert!(s3
        .objects("bkt", "a/b")
        .contains(&format!("a/b/chunks/{}/{}", &w.hash[..2], w.hash)));
    store.delete_chunk(&w.hash).unwrap();
    assert!(store.list_chunks().unwrap().is_empty());
}

#[test]
fn multipart_uploads_complete_or_leave_nothing() {
    let s3 = S3Server::start(&["bkt"]);
    let rt = runtime();
    let store = BackupStore::open(&s3.crdb_uri("bkt", "mp"), rt.handle().clone())
        .unwrap()
        .with_part_size(5 << 20);
    // Three parts: S3 (and s3s-fs) refuse parts under 5 MiB but the last.
    let bytes: Vec<u8> = (0..(12u32 << 20)).map(|i| (i % 251) as u8).collect();

    // A stop after two parts: the upload is aborted, no part stays on the server, no object appears.
    let asked = AtomicUsize::new(0);
    let stop = || asked.fetch_add(1, Ordering::SeqCst) >= 2;
    assert!(matches!(
        store.put_object_with("big.bin", bytes.clone(), &stop),
        Err(BackupError::Stopped)
    ));
    assert_eq!(asked.load(Ordering::SeqCst), 3);
    assert!(s3.open_uploads().is_empty(), "{:?}", s3.open_uploads());
    assert_eq!(store.get_object_bounded("big.bin", 16 << 20).unwrap(), None);

    // Not stopped: three parts, one object with exactly the bytes.
    store.put_object("big.bin", bytes.clone()).unwrap();
    assert!(s3.open_uploads().is_empty(), "{:?}", s3.open_uploads());
    assert_eq!(
        store.get_object_bounded("big.bin", 16 << 20).unwrap(),
        Some(bytes)
    );
}

#[test]
fn a_wrong_secret_fails_without_showing_it() {
    let s3 = S3Server::start(&["bkt"]);
    let rt = runtime();
    let uri = s3.crdb_uri("bkt", "x").replace("Sup3r", "Sup3rWrong");
    let store = BackupStore::open(&uri, rt.handle().clone()).unwrap();
    let err = store.check_writable().unwrap_err().to_string();
    assert!(!err.contains("Sup3r"), "{err}");
    assert!(!format!("{store:?}").contains("Sup3r"));
}
