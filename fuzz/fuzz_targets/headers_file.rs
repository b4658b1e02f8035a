//! Headers files (`height header-hex` lines): never a panic; every header
//! kept is exactly 80 bytes and hashes, and its proof of work is checked
//! without a panic at whatever height the file gives it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vouch::anchor::{ots, pow};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(headers) = ots::parse_headers_file(text) {
        for (height, header) in &headers {
            let _ = ots::block_hash_hex(header);
            let _ = ots::block_time(header);
            let _ = pow::check(pow::BitcoinNetwork::Mainnet, *height, header);
        }
    }
});
