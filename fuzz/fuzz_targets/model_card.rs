//! Model cards (TOML): never a panic, whatever the text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vouch::detect::card::Card;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(card) = Card::parse(text, std::path::Path::new("/models/fuzz.toml")) {
        let _ = card.weights_path();
    }
});
