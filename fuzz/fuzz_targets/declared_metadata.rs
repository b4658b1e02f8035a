//! The declared-origin readers (PNG text chunks, EXIF, XMP in any
//! container): never a panic, and every value they keep is shortened.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vouch::detect::declared;

fuzz_target!(|data: &[u8]| {
    for found in declared::scan(data) {
        assert!(found.value.chars().count() <= declared::MAX_VALUE + 1);
        assert!(["xmp", "png", "exif"].contains(&found.source.as_str()));
    }
});
