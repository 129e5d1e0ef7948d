use rusqlite::Connection;
use tenantry_backup::{backup_database, restore_database, BackupError, BackupStore, Manifest};
use tenantry_storage::{open_database, PageSnapshot};

fn checksum(path: &std::path::Path) -> (i64, i64) {
    let c = Connection::open(path).unwrap();
    c.query_row(
        "SELECT count(*), coalesce(sum(length(v) + id), 0) FROM t",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

#[test]
fn full_then_incremental_then_restore_each() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("db.sqlite");
    let conn = open_database(&src).unwrap();
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        .unwrap();
    let tx = conn.unchecked_transaction().unwrap();
    for i in 0..50_000 {
        tx.execute(
            "INSERT INTO t (v) VALUES (?1)",
            [format!("value-{i:08}-padding-padding")],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    let dest = format!("file://{}", dir.path().join("dest").display());
    let store = BackupStore::open(&dest, rt.handle().clone()).unwrap();
    store.check_writable().unwrap();

    let snap = PageSnapshot::open(&src).unwrap();
    let mut stored_full = 0;
    let full = backup_database("d", &snap, &store, 8, |_, stored| {
        stored_full += stored;
        Ok(())
    })
    .unwrap();
    drop(snap);
    let at_full = checksum(&src);
    // Change 1 % of the rows, which sit on about 1 % of the pages: the next backup stores only the chunks that changed.
    conn.execute("UPDATE t SET v = 'changed' WHERE id <= 500", [])
        .unwrap();
    let snap = PageSnapshot::open(&src).unwrap();
    let mut stored_inc = 0;
    let inc = backup_database("d", &snap, &store, 8, |_, stored| {
        stored_inc += stored;
        Ok(())
    })
    .unwrap();
    drop(snap);
    assert!(
        stored_inc * 10 < stored_full,
        "incremental stored {stored_inc} of {stored_full}"
    );
    let manifest = Manifest {
        format: 1,
        databases: vec![inc.clone()],
        catalog: serde_json::json!({}),
        tenant_id: 1001,
        tenant_name: "t".into(),
        set_id: 1,
        cut_time_us: 0,
    };
    store
        .put_object(
            "sets/1/manifest.json",
            serde_json::to_vec(&manifest).unwrap(),
        )
        .unwrap();

    let r1 = dir.path().join("r1.sqlite");
    restore_database(&full, &store, &r1, |_| Ok(())).unwrap();
    assert_eq!(checksum(&r1), at_full);
    let r2 = dir.path().join("r2.sqlite");
    restore_database(&inc, &store, &r2, |_| Ok(())).unwrap();
    assert_eq!(checksum(&r2), checksum(&src));
    let back: Manifest =
        serde_json::from_slice(&store.get_object("sets/1/manifest.json").unwrap().unwrap())
            .unwrap();
    assert_eq!(back, manifest);
    assert!(store.get_object("sets/2/manifest.json").unwrap().is_none());

    // A flipped byte in a stored chunk is caught, and a failed restore leaves nothing behind.
    let victim = &full.chunks[3].hash;
    let path = dir
        .path()
        .join("dest/chunks")
        .join(&victim[..2])
        .join(victim);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&path, bytes).unwrap();
    let r3 = dir.path().join("r3.sqlite");
    match restore_database(&full, &store, &r3, |_| Ok(())) {
        Err(BackupError::CorruptChunk(h)) => assert_eq!(&h, victim),
        other => panic!("{other:?}"),
    }
    assert!(!r3.exists());
    assert!(!dir.path().join("r3.sqlite.partial").exists());
    assert!(BackupStore::open("s3://bucket/x", rt.handle().clone()).is_err());
}
