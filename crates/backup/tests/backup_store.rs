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
    let store = BackupStore::create(&dest, rt.handle().clone()).unwrap();
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
            "tenant_1001/backup_set_1/manifest.json",
            serde_json::to_vec(&manifest).unwrap(),
        )
        .unwrap();

    let r1 = dir.path().join("r1.sqlite");
    restore_database(&full, &store, &r1, |_| Ok(())).unwrap();
    assert_eq!(checksum(&r1), at_full);
    let r2 = dir.path().join("r2.sqlite");
    restore_database(&inc, &store, &r2, |_| Ok(())).unwrap();
    assert_eq!(checksum(&r2), checksum(&src));
    assert_eq!(store.manifest(1001, 1).unwrap(), Some(manifest));
    assert!(store.manifest(1001, 2).unwrap().is_none());

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

/// A destination with one small database backed up, for the crafted-input tests.
fn small_set(rt: &tokio::runtime::Runtime, dir: &std::path::Path) -> (BackupStore, Manifest) {
    let src = dir.join("db.sqlite");
    let conn = open_database(&src).unwrap();
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES ('a')",
    )
    .unwrap();
    let store = BackupStore::create(
        &format!("file://{}", dir.join("dest").display()),
        rt.handle().clone(),
    )
    .unwrap();
    let snap = PageSnapshot::open(&src).unwrap();
    let image = backup_database("d", &snap, &store, 64, |_, _| Ok(())).unwrap();
    let manifest = Manifest {
        format: 1,
        databases: vec![image],
        catalog: serde_json::json!({}),
        tenant_id: 1001,
        tenant_name: "t".into(),
        set_id: 1,
        cut_time_us: 0,
    };
    (store, manifest)
}

fn put_manifest(store: &BackupStore, manifest: &Manifest) {
    store
        .put_object(
            "tenant_1001/backup_set_1/manifest.json",
            serde_json::to_vec(manifest).unwrap(),
        )
        .unwrap();
}

#[test]
fn crafted_manifests_are_refused_before_anything_is_sized_from_them() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (store, good) = small_set(&rt, dir.path());
    put_manifest(&store, &good);
    assert!(store.manifest(1001, 1).unwrap().is_some());
    type Craft = Box<dyn Fn(&mut Manifest)>;
    let crafted: Vec<(&str, Craft)> = vec![
        // The case: 16,777,216 pages of 65,536 bytes (1 TiB) in one chunk.
        (
            "a 1 TiB chunk",
            Box::new(|m| {
                let d = &mut m.databases[0];
                d.page_size = 65536;
                d.page_count = 16_777_216;
                d.chunks[0].pages = 16_777_216;
                d.chunks.truncate(1);
            }),
        ),
        (
            "more pages than its chunks hold",
            Box::new(|m| m.databases[0].page_count = 16_777_216),
        ),
        (
            "a page size SQLite has not",
            Box::new(|m| m.databases[0].page_size = 3000),
        ),
        (
            "a gap between chunks",
            Box::new(|m| m.databases[0].chunks[0].first_page = 2),
        ),
        (
            "a chunk of no pages",
            Box::new(|m| m.databases[0].chunks[0].pages = 0),
        ),
        (
            "a hash that is a path",
            Box::new(|m| m.databases[0].chunks[0].hash = "../../../../etc/passwd".into()),
        ),
        (
            "a database name that is a path",
            Box::new(|m| m.databases[0].name = "../x".into()),
        ),
        (
            "a database twice",
            Box::new(|m| {
                let d = m.databases[0].clone();
                m.databases.push(d);
            }),
        ),
        ("an unknown format", Box::new(|m| m.format = 99)),
    ];
    for (what, craft) in crafted {
        let mut m = good.clone();
        craft(&mut m);
        put_manifest(&store, &m);
        match store.manifest(1001, 1) {
            Err(BackupError::BadManifest { .. }) => {}
            other => panic!("{what}: {other:?}"),
        }
        // The restore path checks each image too, whoever hands it over.
        if m.databases[0] != good.databases[0] {
            let out = dir.path().join("out.sqlite");
            assert!(
                restore_database(&m.databases[0], &store, &out, |_| Ok(())).is_err(),
                "{what}"
            );
            assert!(!out.exists(), "{what}");
        }
    }
    // A manifest file larger than any real one is not even read.
    let path = dir
        .path()
        .join("dest/tenant_1001/backup_set_1/manifest.json");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(tenantry_backup::MAX_MANIFEST_BYTES + 1).unwrap();
    match store.manifest(1001, 1) {
        Err(BackupError::TooLarge { .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_stored_chunk_larger_than_its_entry_allows_is_corrupt_and_not_read() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (store, good) = small_set(&rt, dir.path());
    let image = &good.databases[0];
    let hash = &image.chunks[0].hash;
    let path = dir.path().join("dest/chunks").join(&hash[..2]).join(hash);
    // A zstd frame that decodes to far more than the entry's pages (a decompression bomb).
    let bomb = zstd::bulk::compress(&vec![0u8; 64 << 20], 1).unwrap();
    std::fs::write(&path, &bomb).unwrap();
    let out = dir.path().join("out.sqlite");
    match restore_database(image, &store, &out, |_| Ok(())) {
        Err(BackupError::CorruptChunk(h)) => assert_eq!(&h, hash),
        other => panic!("{other:?}"),
    }
    let raw_len = image.chunks[0].pages as usize * image.page_size as usize;
    assert!(matches!(
        store.get_chunk(hash, raw_len),
        Err(BackupError::CorruptChunk(_))
    ));
    // Bigger on disk than the entry's pages could ever compress to.
    std::fs::write(&path, vec![7u8; raw_len * 2]).unwrap();
    assert!(matches!(
        store.get_chunk(hash, raw_len),
        Err(BackupError::CorruptChunk(_))
    ));
}

#[test]
fn a_destination_belongs_to_the_tenant_that_formatted_it() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let uri = format!("file://{}", dir.path().join("dest").display());
    let store = BackupStore::create(&uri, rt.handle().clone()).unwrap();
    let owner = |cluster_id, tenant_id| tenantry_backup::DestOwner {
        cluster_id,
        tenant_id,
        tenant_name: "t",
    };
    assert!(matches!(
        store.check_owner(owner("a", 1001)),
        Err(BackupError::NotFormatted(_))
    ));
    store.claim(owner("a", 1001)).unwrap();
    store.claim(owner("a", 1001)).unwrap();
    store.check_owner(owner("a", 1001)).unwrap();
    // Another tenant, or the same tenant id of another cluster, is not the owner.
    for other in [owner("a", 1002), owner("b", 1001)] {
        assert!(matches!(
            store.claim(other),
            Err(BackupError::FormatMismatch(_))
        ));
        assert!(matches!(
            store.check_owner(other),
            Err(BackupError::FormatMismatch(_))
        ));
    }
    // A directory that holds anything but no format file is nobody's to claim.
    let used = dir.path().join("used");
    std::fs::create_dir_all(&used).unwrap();
    std::fs::write(used.join("x"), "x").unwrap();
    let store =
        BackupStore::open(&format!("file://{}", used.display()), rt.handle().clone()).unwrap();
    assert!(matches!(
        store.claim(owner("a", 1001)),
        Err(BackupError::NotFormatted(_))
    ));
    // Opening never creates.
    let missing = format!("file://{}", dir.path().join("missing").display());
    assert!(BackupStore::open(&missing, rt.handle().clone()).is_err());
    assert!(!dir.path().join("missing").exists());
}
