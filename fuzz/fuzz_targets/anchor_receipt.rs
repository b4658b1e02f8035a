//! `FILE.anchor.json` receipts: never a panic, and a parsed receipt
//! survives a round trip through its own JSON.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vouch::anchor::{evm, merkle};

fuzz_target!(|data: &[u8]| {
    if let Ok(receipt) = evm::parse_receipt(data) {
        assert!(receipt.merkle_path.len() <= merkle::MAX_DEPTH);
        let json = serde_json::to_vec(&receipt).unwrap();
        let again = evm::parse_receipt(&json).expect("a serialised receipt parses");
        assert_eq!(again.root, receipt.root);
        assert_eq!(again.merkle_path, receipt.merkle_path);
        let leaf = merkle::leaf(&receipt.sha256, &receipt.nonce);
        let _ = merkle::root_from_path(leaf, &receipt.merkle_path);
    }
});
