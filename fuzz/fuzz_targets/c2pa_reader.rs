//! Media through the C2PA reader, as `vouch verify` reads it: any bytes in
//! any supported container give a verdict or an error, never a panic.
#![no_main]
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use vouch::{media, provenance};

const FORMATS: &[&str] = &["jpg", "png", "mp4", "wav", "webp", "tif", "mov", "mp3"];

fn context() -> &'static Arc<provenance::Context> {
    static CONTEXT: OnceLock<Arc<provenance::Context>> = OnceLock::new();
    CONTEXT.get_or_init(|| provenance::context(None, false).expect("c2pa context"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let ext = FORMATS[selector as usize % FORMATS.len()];
    let dir = tempfile::tempdir_in("/dev/shm").or_else(|_| tempfile::tempdir()).unwrap();
    let path = dir.path().join(format!("fuzz.{ext}"));
    std::fs::write(&path, body).unwrap();
    if let Ok(file) = media::probe(&path) {
        let _ = provenance::verify_file(&file, context());
    }
});
