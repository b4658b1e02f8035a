//! `.ots` proofs come from strangers: parsing never panics, and whatever
//! parses re-serialises to a proof that parses to the same thing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vouch::anchor::ots;

fuzz_target!(|data: &[u8]| {
    if let Ok(proof) = ots::parse(data) {
        let bytes = ots::serialize(&proof);
        let again = ots::parse(&bytes).expect("a serialised proof parses");
        assert_eq!(again, proof);
        assert_eq!(ots::serialize(&again), bytes);
        let _ = proof.attestations();
    }
    // The calendar reply path: a bare timestamp for a 32-byte message.
    let _ = ots::parse_timestamp(data, &[0u8; 32]);
});
