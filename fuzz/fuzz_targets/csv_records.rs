#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tenantry_fuzz::csv_records(data));
