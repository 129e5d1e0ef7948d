//! The `manifest` and `chunk` fuzz targets' checked-in corpus (fuzz/corpus/), replayed in the normal suite on
//! a stable toolchain: the same steps as fuzz/src/lib.rs, so an input the fuzzer once broke stays a test.

use std::path::Path;

use tenantry_backup::{decode_chunk_into, DestFormat, Manifest, MAX_CHUNK_BYTES};

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.expect("entry");
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).expect("corpus file"))
        })
        .collect();
    assert!(!files.is_empty(), "{} is checked in", dir.display());
    files
}

#[test]
fn manifest_corpus() {
    let mut valid = Vec::new();
    for (name, data) in corpus("manifest") {
        if let Ok(m) = Manifest::parse(&data) {
            for d in &m.databases {
                for c in &d.chunks {
                    assert!(u64::from(c.pages) * u64::from(d.page_size) <= MAX_CHUNK_BYTES);
                }
            }
            valid.push(name.clone());
        }
        let _ = serde_json::from_slice::<DestFormat>(&data);
    }
    valid.sort();
    // Of the seeds, exactly the well-formed ones pass; every crafted one is refused.
    assert_eq!(valid, ["empty_db.json", "valid.json"]);
}

#[test]
fn chunk_corpus() {
    let mut decompressor = zstd::bulk::Decompressor::new().unwrap();
    for (name, data) in corpus("chunk") {
        let (len, stored) = data.split_at(3.min(data.len()));
        let raw_len = len.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b));
        let mut raw = Vec::new();
        let decoded = decode_chunk_into(
            &mut decompressor,
            stored,
            raw_len,
            &"0".repeat(64),
            &mut raw,
        );
        assert!(raw.len() <= raw_len, "{name}");
        assert!(decoded.is_err(), "{name}");
    }
    // The one well-formed seed decodes when its hash is the right one.
    let page: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let data = corpus("chunk")
        .into_iter()
        .find(|(n, _)| n == "page")
        .unwrap()
        .1;
    let mut raw = Vec::new();
    let hash = blake3::hash(&page).to_hex().to_string();
    decode_chunk_into(&mut decompressor, &data[3..], 4096, &hash, &mut raw).unwrap();
    assert_eq!(raw, page);
}
