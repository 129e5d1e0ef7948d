//! The `csv_records` fuzz target's checked-in corpus (fuzz/corpus/csv_records/), replayed in the normal suite
//! on a stable toolchain: the same steps as fuzz/src/lib.rs, so an input the fuzzer once broke stays a test.

use std::path::Path;

use tenantry_kinds::import::{ColumnType, Converter, CsvFormat, ImportColumn};

#[test]
fn csv_records_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/csv_records");
    let (mut rows, mut refused) = (0, 0);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        let Some((&pick, input)) = data.split_first() else {
            continue;
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
            match conv.convert(&record, &mut values) {
                Ok(()) => rows += 1,
                Err(bad) => {
                    assert!(bad.column >= 1 && bad.column <= columns.len() + 1, "{bad}");
                    refused += 1;
                }
            }
            values.clear();
        }
    }
    assert!(rows > 0 && refused > 0, "{rows} rows, {refused} refused");
}
