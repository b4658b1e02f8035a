//! Video through the FFmpeg decode path of `vouch detect`: any bytes give
//! frames or an error, never a panic or a hang (libFuzzer's -timeout).
#![no_main]
use libfuzzer_sys::fuzz_target;
use vouch::detect::decode;
use vouch::detect::sample::{Sampler, Sampling};

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir_in("/dev/shm").or_else(|_| tempfile::tempdir()).unwrap();
    let path = dir.path().join("fuzz.mp4");
    std::fs::write(&path, data).unwrap();
    let mut sampler = Sampler::new(Sampling::All, Some(8));
    let _ = decode::video(&path, &mut sampler, |_| true, |frame| {
        let _ = frame;
        true
    });
    let image = dir.path().join("fuzz.png");
    std::fs::write(&image, data).unwrap();
    let _ = decode::image(&image);
});
