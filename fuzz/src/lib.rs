//! What each fuzz target runs, as plain functions: `cargo fuzz` drives them from `fuzz_targets/`, and the
//! normal test suite replays the checked-in corpus through them (crates/postgres/tests/fuzz_corpus.rs,
//! crates/backup/tests/fuzz_corpus.rs and crates/kinds/tests/fuzz_corpus.rs run the same steps) on a stable
//! toolchain.

use tenantry_postgres::pg_dialect;
use tenantry_sql::parser::{self, Parsed};

pub mod mysql_wire;
pub mod pg_wire;
pub mod wire_server;

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
/// `::` casts), bind as many parameters as it asks for, and parse the result. No statement may ask for
/// more parameters than the protocol can carry; one naming a larger `$n` is flagged (and refused).
pub fn pg_dialect(data: &[u8]) {
    let sql = String::from_utf8_lossy(data);
    for statement in pg_dialect::split_statements(&sql) {
        let normalized = pg_dialect::normalize(&statement);
        assert!(normalized.param_count() <= pg_dialect::MAX_PARAMS);
        if normalized.unknown_param.is_some() {
            continue;
        }
        let params = vec![0u8; normalized.param_count()];
        assert!(normalized.bind(&params).is_some(), "every $n has a value");
        let _ = parser::parse(&normalized.sql);
    }
}

/// A backup manifest, as a destination holds it: refused, or validated with every figure bounded (nothing a
/// manifest claims may size an allocation before it passed). Also a destination's format file.
pub fn manifest(data: &[u8]) {
    if let Ok(m) = tenantry_backup::Manifest::parse(data) {
        for d in &m.databases {
            for c in &d.chunks {
                assert!(
                    u64::from(c.pages) * u64::from(d.page_size) <= tenantry_backup::MAX_CHUNK_BYTES,
                    "a validated chunk is bounded"
                );
            }
        }
        let _ = m.total_bytes();
    }
    let _ = serde_json::from_slice::<tenantry_backup::DestFormat>(data);
}

/// A stored chunk: the first three bytes give the size it must decode to, the rest is the stored frame.
/// Decoding never allocates more than that size and never yields anything else.
pub fn chunk(data: &[u8]) {
    let (len, stored) = data.split_at(3.min(data.len()));
    let raw_len = len.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b));
    let Ok(mut decompressor) = zstd::bulk::Decompressor::new() else {
        return;
    };
    let mut raw = Vec::new();
    let hash = "0".repeat(64);
    let decoded =
        tenantry_backup::decode_chunk_into(&mut decompressor, stored, raw_len, &hash, &mut raw);
    assert!(raw.len() <= raw_len, "decoded past the entry's size");
    assert!(decoded.is_err(), "no frame hashes to zeros");
}

/// CSV records, in a format the first byte picks, converted for an integer, a decimal and a text column: a
/// row or an error naming its line and column, never a panic.
pub fn csv_records(data: &[u8]) {
    use tenantry_kinds::import::{ColumnType, Converter, CsvFormat, ImportColumn};
    let Some((&pick, input)) = data.split_first() else {
        return;
    };
    let format = CsvFormat {
        delimiter: [b',', b'\t', b'|', b';'][usize::from(pick & 3)],
        quote: (pick & 4 != 0).then_some(b'"'),
        mysql_escapes: pick & 8 != 0,
        skip: 0,
        null_if: (pick & 16 != 0).then(String::new),
    };
    let columns: Vec<ImportColumn> = [ColumnType::Integer, ColumnType::Real, ColumnType::Text]
        .into_iter()
        .enumerate()
        .map(|(i, ty)| ImportColumn {
            name: format!("c{i}"),
            ty,
            not_null: pick & 32 != 0,
        })
        .collect();
    let conv = Converter {
        format: &format,
        columns: &columns,
        file: "fuzz.csv",
    };
    let mut reader = format.reader(input);
    let mut record = csv::ByteRecord::new();
    let mut values = Vec::new();
    while let Ok(true) = reader.read_byte_record(&mut record) {
        if let Err(bad) = conv.convert(&record, &mut values) {
            assert!(bad.column >= 1 && bad.column <= columns.len() + 1, "{bad}");
        }
        values.clear();
    }
}

/// MySQL packets after login, to the real front end and engine over a real socket (see [`mysql_wire`] for
/// the input's format): every input ends with the server answering and closing, never a panic or a hang.
pub fn mysql_packets(data: &[u8]) {
    let server = wire_server::get();
    server.runtime.block_on(mysql_wire::replay(
        server.mysql_port,
        wire_server::LOGIN,
        "test",
        data,
    ));
}

/// PostgreSQL frontend messages after login, to the real front end (pgwire) and engine over a real socket
/// (see [`pg_wire`] for the input's format): the same bar as [`mysql_packets`].
pub fn pg_messages(data: &[u8]) {
    let server = wire_server::get();
    server.runtime.block_on(pg_wire::replay(
        server.pg_port,
        wire_server::LOGIN,
        "test",
        data,
    ));
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
            ("manifest", super::manifest),
            ("chunk", super::chunk),
            ("csv_records", super::csv_records),
            ("mysql_packets", super::mysql_packets),
            ("pg_messages", super::pg_messages),
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
