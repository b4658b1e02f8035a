//! Every parser of outside input, on inputs nobody wrote by hand: no panic,
//! and what parses survives a round trip unchanged. (The fuzz targets in
//! `fuzz/` push the same properties much further; these run in `make test`.)

use std::path::Path;

use proptest::prelude::*;
use vouch::anchor::merkle::{self, MerkleTree, Side, Step};
use vouch::anchor::ots::{Attestation, Op, Timestamp};
use vouch::anchor::{evm, ots, pow};
use vouch::check::LoadedPolicy;
use vouch::detect::card::Card;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() }
}

/// Proof-shaped bytes: the real magic and version, then anything, so the
/// parser gets past its first check most of the time.
fn proof_bytes() -> impl Strategy<Value = Vec<u8>> {
    (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..600)).prop_map(|(magic, tail)| {
        let mut bytes = if magic { ots::MAGIC.to_vec() } else { Vec::new() };
        if magic {
            bytes.push(ots::MAJOR_VERSION);
            bytes.push(0x08); // sha256 file hash op
            bytes.extend([0u8; 32]);
        }
        bytes.extend(tail);
        bytes
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn ots_parse_never_panics_and_round_trips(bytes in proof_bytes()) {
        // Random bytes rarely parse; when they do, the round trip must hold.
        // `built_proofs_round_trip` below makes every case a parsed proof.
        if let Ok(proof) = ots::parse(&bytes) {
            let again = ots::serialize(&proof);
            let reparsed = ots::parse(&again).expect("what vouch writes, vouch reads");
            prop_assert_eq!(&reparsed, &proof);
            prop_assert_eq!(ots::serialize(&reparsed), again);
        }
    }

    #[test]
    fn built_proofs_round_trip(
        digest in any::<[u8; 32]>(),
        paths in proptest::collection::vec((proptest::collection::vec(op(), 0..8), attestation()), 1..4),
    ) {
        let mut timestamp = Timestamp::default();
        for (ops, attestation) in paths {
            timestamp.merge(Timestamp::from_path(ops, attestation));
        }
        let proof = ots::DetachedTimestamp { file_hash_op: ots::HashOp::Sha256, file_digest: digest.to_vec(), timestamp };
        let bytes = ots::serialize(&proof);
        let parsed = ots::parse(&bytes).expect("a built proof parses");
        prop_assert_eq!(ots::serialize(&parsed), bytes.clone());
        prop_assert_eq!(parsed.file_digest, digest.to_vec());
        // Every byte matters: a proof cut short never parses.
        prop_assert!(ots::parse(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn headers_files_read_back_what_was_written(
        entries in proptest::collection::btree_map(any::<u64>(), proptest::collection::vec(any::<u8>(), ots::HEADER_LEN), 0..6),
        comments in proptest::collection::vec("#[^\n]{0,20}", 0..3),
    ) {
        let mut text: String = comments.iter().map(|c| format!("{c}\n")).collect();
        for (height, header) in &entries {
            text += &format!("{height} {}  # block {height}\n", hex::encode(header));
        }
        let headers = ots::parse_headers_file(&text).expect("a well-formed headers file parses");
        prop_assert_eq!(headers.len(), entries.len());
        for (height, header) in &entries {
            prop_assert_eq!(&headers[height][..], &header[..]);
        }
        // One header a byte short spoils the file.
        let short = format!("{text}7 {}\n", "00".repeat(ots::HEADER_LEN - 1));
        prop_assert!(ots::parse_headers_file(&short).is_err());
    }

    #[test]
    fn headers_files_never_panic(text in "([0-9]{1,8} [0-9a-f]{0,170}\n|#.*\n|.{0,40}\n){0,8}") {
        // Whatever parses holds only 80-byte headers (the type says so), so
        // the property is: no panic, and a line that cannot be a header
        // (a hex body of any other length) is refused.
        let parsed = ots::parse_headers_file(&text);
        let bad = format!("{text}1 {}\n", "ab".repeat(ots::HEADER_LEN + 1));
        prop_assert!(ots::parse_headers_file(&bad).is_err(), "{:?}", parsed.map(|h| h.len()));
    }

    #[test]
    fn no_header_without_mainnet_work_passes_and_none_panics(
        head in proptest::collection::vec(any::<u8>(), 72),
        bits in prop_oneof![any::<u32>(), Just(0x181686f5u32), Just(0x1d00ffff), Just(0x207fffff)],
        nonce in any::<u32>(),
        height in prop_oneof![any::<u64>(), 0u64..1_200_000],
    ) {
        let mut header = [0u8; ots::HEADER_LEN];
        header[..72].copy_from_slice(&head);
        header[72..76].copy_from_slice(&bits.to_le_bytes());
        header[76..].copy_from_slice(&nonce.to_le_bytes());
        // Random bytes never carry mainnet work (a hash below 2^224 is a 1 in 2^32 shot
        // at the very least); regtest work is cheap, so that call only has to return.
        prop_assert!(pow::check(pow::BitcoinNetwork::Mainnet, height, &header).is_err());
        let _ = pow::check(pow::BitcoinNetwork::Regtest, height, &header);
    }

    #[test]
    fn batches_of_any_size_prove_every_file_and_receipts_round_trip(
        hashes in proptest::collection::vec(any::<[u8; 32]>(), 1..70),
        nonce in any::<[u8; 16]>(),
        pick in any::<prop::sample::Index>(),
    ) {
        let leaves: Vec<_> = hashes.iter().map(|h| merkle::leaf(h, &nonce)).collect();
        let tree = MerkleTree::new(leaves.clone()).unwrap();
        let i = pick.index(hashes.len());
        let path = tree.proof(i);
        prop_assert!(path.len() <= 7, "a path grows with log2(n)");
        prop_assert_eq!(merkle::root_from_path(leaves[i], &path), Some(tree.root()));

        let receipt = evm::Receipt {
            version: evm::RECEIPT_VERSION,
            sha256: hashes[i],
            ipfs_cid: None,
            nonce,
            merkle_path: path,
            root: tree.root(),
            chain_id: 1,
            tx_hash: Default::default(),
            block_number: 7,
            block_hash: Default::default(),
            block_time: "2026-01-01T00:00:00Z".into(),
        };
        let parsed = evm::parse_receipt(&serde_json::to_vec(&receipt).unwrap()).unwrap();
        prop_assert_eq!(parsed.merkle_path, receipt.merkle_path);
        prop_assert_eq!(parsed.root, receipt.root);
    }

    #[test]
    fn receipts_never_panic_and_never_accept_long_paths(json in receipt_json()) {
        if let Ok(receipt) = evm::parse_receipt(json.as_bytes()) {
            prop_assert!(receipt.merkle_path.len() <= merkle::MAX_DEPTH);
        }
    }

    #[test]
    fn policies_never_panic(text in policy_text()) {
        if let Ok(policy) = LoadedPolicy::parse(&text, Path::new("p.toml")) {
            // What parses obeys the rules `parse` enforces.
            for pin in &policy.rules.signer_fingerprints {
                let hex = pin.replace(':', "");
                prop_assert!(hex.len() >= 8 && hex.chars().all(|c| c.is_ascii_hexdigit()), "{pin}");
            }
            if let Some(score) = policy.rules.max_synthetic_score {
                prop_assert!((0.0..=1.0).contains(&score), "{score}");
            }
            prop_assert_eq!(policy.needs_detection(), policy.rules.max_synthetic_score.is_some());
            if policy.rules.include.is_empty() && policy.rules.exclude.is_empty() {
                prop_assert!(policy.selects(Path::new("a/b.jpg")));
            }
        }
    }

    #[test]
    fn model_cards_never_panic((text, spliced) in card_text()) {
        let parsed = Card::parse(&text, Path::new("/m/card.toml"));
        // The real card, untouched, always parses.
        prop_assert!(spliced || parsed.is_ok(), "{:?}", parsed.err());
    }
}

/// An operation that keeps messages short (no hexlify, small appends).
fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 1..16).prop_map(Op::Append),
        proptest::collection::vec(any::<u8>(), 1..16).prop_map(Op::Prepend),
        Just(Op::Sha256),
        Just(Op::Sha1),
        Just(Op::Ripemd160),
        Just(Op::Keccak256),
        Just(Op::Reverse),
    ]
}

fn attestation() -> impl Strategy<Value = Attestation> {
    prop_oneof![
        (0u64..10_000_000).prop_map(|height| Attestation::Bitcoin { height }),
        (0u64..10_000_000).prop_map(|height| Attestation::Litecoin { height }),
        "[a-z]{1,12}".prop_map(|host| Attestation::pending(format!("https://{host}.example")).unwrap()),
    ]
}

/// Receipt-shaped JSON with fields dropped, retyped or stretched.
fn receipt_json() -> impl Strategy<Value = String> {
    let step = |side: bool| {
        format!("{{\"side\":\"{}\",\"hash\":\"{}\"}}", if side { "left" } else { "right" }, "00".repeat(32))
    };
    (0usize..80, any::<bool>(), prop_oneof![Just("1".to_string()), Just("\"x\"".into()), Just("-1".into()), Just("1e400".into())], any::<bool>())
        .prop_map(move |(steps, side, number, drop_root)| {
            let path = vec![step(side); steps].join(",");
            let root = if drop_root { String::new() } else { format!("\"root\":\"{}\",", "ab".repeat(32)) };
            format!(
                "{{\"version\":1,\"sha256\":\"{h}\",\"nonce\":\"{n}\",\"merkle_path\":[{path}],{root}\"chain_id\":{number},\
                 \"tx_hash\":\"0x{h}\",\"block_number\":{number},\"block_hash\":\"0x{h}\",\"block_time\":\"t\"}}",
                h = "ab".repeat(32),
                n = "cd".repeat(16)
            )
        })
}

fn policy_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("require_c2pa = \"trusted\"".to_string()),
        Just("require_anchor = \"evm\"".to_string()),
        "max_synthetic_score = -?[0-9]\\.[0-9]".prop_map(|s| s),
        "include = \\[\"[*?\\[\\]{}a-z/!.]{0,12}\"\\]".prop_map(|s| s),
        "signer_fingerprints = \\[\"[0-9a-fA-F:]{0,20}\"\\]".prop_map(|s| s),
        ".{0,30}".prop_map(|s| s),
    ];
    proptest::collection::vec(line, 0..6).prop_map(|lines| lines.join("\n"))
}

/// A real card with noise spliced in, and whether any noise was.
fn card_text() -> impl Strategy<Value = (String, bool)> {
    let base = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/models/tiny-logit.toml"))
        .unwrap_or_default();
    (Just(base), any::<prop::sample::Index>(), ".{0,20}").prop_map(|(base, at, insert)| {
        // Splice noise into a real card, so most of it still parses as TOML.
        let cut = if base.is_empty() { 0 } else { at.index(base.len()) };
        let cut = (0..=cut).rev().find(|&c| base.is_char_boundary(c)).unwrap_or(0);
        (format!("{}{insert}{}", &base[..cut], &base[cut..]), !insert.is_empty())
    })
}

#[test]
fn a_path_side_is_either_left_or_right() {
    // Keeps the Step import honest for readers: both sides appear in real paths.
    let tree = MerkleTree::new((0..3u8).map(|i| merkle::leaf(&[i; 32], &[0; 16])).collect()).unwrap();
    let sides: Vec<Side> = tree.proof(1).iter().map(|s: &Step| s.side).collect();
    assert_eq!(sides, [Side::Left, Side::Right]);
}

/// json-formula-shaped text: the tokens the rubrics use, in any order.
fn formula_text() -> impl Strategy<Value = String> {
    let tokens = vec![
        "a",
        "b",
        "'c2pa.x'",
        "@",
        "$args",
        "$v",
        ".",
        "[",
        "]",
        "[?",
        "[]",
        "[*]",
        "*",
        "(",
        ")",
        "{",
        "}",
        ":",
        ",",
        "0",
        "-1",
        "2.5",
        "\"s\"",
        "`[1,{}]`",
        "`null`",
        "==",
        "!=",
        ">",
        ">=",
        "<",
        "!",
        "&&",
        "||",
        "|",
        "&",
        "~",
        "+",
        "-",
        "/",
        "length(",
        "contains(",
        "split(",
        "startsWith(",
        "endsWith(",
        "keys(",
        "values(",
        "notNull(",
        "if(",
        "type(",
        "_f(",
        " ",
    ];
    proptest::collection::vec(proptest::sample::select(tokens), 0..40).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn json_formula_never_panics(text in formula_text(), raw in ".{0,40}") {
        use vouch::rubric::formula::{parse, Engine};
        let globals = vec!["$args".to_string(), "$v".to_string()];
        let mut engine = Engine::new();
        engine.set_global("$v", serde_json::json!(["x", 1, null, {"a": [2]}]));
        engine.define("_f", parse("_f(@) || $args[0].a", &globals), 1);
        let data = serde_json::json!({"a": [{"b": 1, "c2pa.x": "y"}, null, "z"], "b": {"a": {}}});
        for source in [text.as_str(), raw.as_str()] {
            if let Ok(expression) = parse(source, &globals) {
                let _ = engine.search(&expression, &data);
            }
        }
    }
}
