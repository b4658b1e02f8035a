//! Policy files (TOML with globs): never a panic; a parsed policy judges paths.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vouch::check::LoadedPolicy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(policy) = LoadedPolicy::parse(text, std::path::Path::new("policy.toml")) {
        for path in ["a.jpg", "drafts/b.png", "x/y/z.mp4", ""] {
            let _ = policy.selects(std::path::Path::new(path));
        }
    }
});
