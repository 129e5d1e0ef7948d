#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tenantry_fuzz::pg_messages(data));
