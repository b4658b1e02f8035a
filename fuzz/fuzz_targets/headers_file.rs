//! Headers files (`height header-hex` lines): never a panic; every header
//! kept is exactly 80 bytes and hashes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vouch::anchor::ots;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(headers) = ots::parse_headers_file(text) {
        for header in headers.values() {
            let _ = ots::block_hash_hex(header);
            let _ = ots::block_time(header);
        }
    }
});
