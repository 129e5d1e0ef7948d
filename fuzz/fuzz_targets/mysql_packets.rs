#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tenantry_fuzz::mysql_packets(data));
