//! What each fuzz target runs, as plain functions: `cargo fuzz` drives them from `fuzz_targets/`, and the
//! normal test suite replays the checked-in corpus through them (crates/postgres/tests/fuzz_corpus.rs
//! runs the same steps) on a stable toolchain.

use tenantry_postgres::pg_dialect;
use tenantry_sql::parser::{self, Parsed};

/// The administrative parser (and, for tenant SQL, sqlparser behind it) on any text: a result or an
/// error, never a panic or an overflow.
pub fn admin_parser(data: &[u8]) {
    let sql = String::from_utf8_lossy(data);
    let _ = parser::parse(&sql);
}

/// Parse, then translate tenant SQL to SQLite, then check the translation parses again as SQL text.
pub fn translate(data: &[u8]) {
    let sql = String::from_utf8_lossy(data);
    if let Ok(Parsed::Tenant(stmt)) = parser::parse(&sql) {
        let _ = tenantry_sql::translate_detached(*stmt, Some("fuzzdb"));
    }
}

/// The PostgreSQL front end's rewrite: split a simple-protocol string, normalise each statement (`$n`,
/// `::` casts), bind as many parameters as it asks for, and parse the result.
pub fn pg_dialect(data: &[u8]) {
    let sql = String::from_utf8_lossy(data);
    for statement in pg_dialect::split_statements(&sql) {
        let normalized = pg_dialect::normalize(&statement);
        let params = vec![0u8; normalized.param_count().min(1 << 16)];
        assert!(normalized.bind(&params).is_some(), "every $n has a value");
        let _ = parser::parse(&normalized.sql);
    }
}

#[cfg(test)]
mod tests {
    /// Every file of the checked-in corpus through every target, on a stable toolchain.
    #[test]
    fn corpus_replays() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        let mut files = 0;
        for (target, run) in [
            ("admin_parser", super::admin_parser as fn(&[u8])),
            ("translate", super::translate),
            ("pg_dialect", super::pg_dialect),
        ] {
            for entry in std::fs::read_dir(root.join(target)).expect("corpus directory") {
                let data = std::fs::read(entry.expect("entry").path()).expect("corpus file");
                run(&data);
                files += 1;
            }
        }
        assert!(files > 0, "the corpus is checked in");
    }
}
