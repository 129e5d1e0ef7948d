//! The fuzz targets' checked-in corpus (fuzz/corpus/), replayed in the normal suite on a stable toolchain:
//! the same steps as fuzz/src/lib.rs, so an input the fuzzer once broke stays a test.

use std::path::Path;

use tenantry_postgres::pg_dialect;
use tenantry_sql::parser::{self, Parsed};

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let files: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| std::fs::read(e.expect("entry").path()).expect("corpus file"))
        .collect();
    assert!(!files.is_empty(), "{} is checked in", dir.display());
    files
}

#[test]
fn admin_parser_corpus() {
    let mut parsed = 0;
    for data in corpus("admin_parser") {
        parsed += parser::parse(&String::from_utf8_lossy(&data)).is_ok() as usize;
    }
    assert!(parsed > 0, "the corpus holds statements that parse");
}

#[test]
fn translate_corpus() {
    let mut translated = 0;
    for data in corpus("translate") {
        if let Ok(Parsed::Tenant(stmt)) = parser::parse(&String::from_utf8_lossy(&data)) {
            translated += tenantry_sql::translate_detached(*stmt, Some("fuzzdb")).is_ok() as usize;
        }
    }
    assert!(translated > 0, "the corpus holds statements that translate");
}

#[test]
fn pg_dialect_corpus() {
    for data in corpus("pg_dialect") {
        for statement in pg_dialect::split_statements(&String::from_utf8_lossy(&data)) {
            let normalized = pg_dialect::normalize(&statement);
            let params = vec![0u8; normalized.param_count().min(1 << 16)];
            assert!(normalized.bind(&params).is_some(), "every $n has a value");
            let _ = parser::parse(&normalized.sql);
        }
    }
}
