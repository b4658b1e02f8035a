//! Tests on real proofs (from `${VOUCH_SHARED:-../shared}/interop/ots`) and on
//! hostile input.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::*;

const PROOFS: [&str; 4] = ["hello-world.txt", "bad-stamp.txt", "incomplete.txt", "merkle1.txt"];

fn interop_dir() -> Option<PathBuf> {
    let shared = std::env::var_os("VOUCH_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let dir = shared.join("interop/ots");
    if dir.is_dir() {
        Some(dir)
    } else {
        // A mutation run (VOUCH_NO_SKIP=1) must not pass a test that checked nothing.
        assert!(std::env::var_os("VOUCH_NO_SKIP").is_none_or(|v| v != "1"), "{} absent", dir.display());
        eprintln!("SKIP: OpenTimestamps interop material {} absent", dir.display());
        None
    }
}

fn read(dir: &std::path::Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn headers(dir: &std::path::Path) -> BTreeMap<u64, BlockHeader> {
    parse_headers_file(&String::from_utf8(read(dir, "bitcoin-headers.txt")).unwrap()).unwrap()
}

fn real_proofs(dir: &std::path::Path) -> Vec<(&'static str, Vec<u8>)> {
    PROOFS.iter().map(|name| (*name, read(dir, &format!("{name}.ots")))).collect()
}

#[test]
fn real_proofs_parse_and_round_trip_exactly() {
    let Some(dir) = interop_dir() else { return };
    for (name, bytes) in real_proofs(&dir) {
        let proof = parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(proof.file_hash_op, HashOp::Sha256, "{name}");
        assert_eq!(proof.file_digest, HashOp::Sha256.digest(&read(&dir, name)), "{name}");
        assert_eq!(serialize(&proof), bytes, "{name} does not round-trip");
        proof.validate().unwrap();
    }
}

#[test]
fn hello_world_is_confirmed_in_block_358391() {
    let Some(dir) = interop_dir() else { return };
    let proof = parse(&read(&dir, "hello-world.txt.ots")).unwrap();
    let outcomes = verify_reader(&read(&dir, "hello-world.txt")[..], &proof, &headers(&dir).into()).unwrap();
    assert_eq!(
        outcomes,
        [AttestationOutcome::Confirmed {
            chain: "bitcoin".into(),
            height: 358391,
            block_hash: "000000000000000003e892881a8cdcdc117c06d444057c98b6f04a9ee75a2319".into(),
            time: "2015-05-28T15:41:18Z".into(),
            beyond_checkpoints: false,
        }]
    );
}

#[test]
fn commitment_is_the_merkle_root_in_header_byte_order() {
    let Some(dir) = interop_dir() else { return };
    let proof = parse(&read(&dir, "hello-world.txt.ots")).unwrap();
    let [(msg, Attestation::Bitcoin { height: 358391 })] = &proof.attestations()[..] else {
        panic!("expected one Bitcoin attestation: {:?}", proof.attestations());
    };
    let header = headers(&dir)[&358391];
    assert_eq!(msg[..], merkle_root(&header));
    let mut displayed = merkle_root(&header);
    displayed.reverse();
    assert_ne!(msg[..], displayed);
}

#[test]
fn bad_stamp_is_a_merkle_root_mismatch() {
    let Some(dir) = interop_dir() else { return };
    let proof = parse(&read(&dir, "bad-stamp.txt.ots")).unwrap();
    let outcomes = verify_reader(&read(&dir, "bad-stamp.txt")[..], &proof, &headers(&dir).into()).unwrap();
    assert_eq!(outcomes, [AttestationOutcome::Invalid { reason: "merkle root mismatch at block 358391".into() }]);
}

#[test]
fn incomplete_is_only_pending() {
    let Some(dir) = interop_dir() else { return };
    let proof = parse(&read(&dir, "incomplete.txt.ots")).unwrap();
    let outcomes = verify_reader(&read(&dir, "incomplete.txt")[..], &proof, &headers(&dir).into()).unwrap();
    assert_eq!(outcomes, [AttestationOutcome::Pending { uri: "https://alice.btc.calendar.opentimestamps.org".into() }]);
}

#[test]
fn merkle1_has_two_pending_calendars() {
    let Some(dir) = interop_dir() else { return };
    let proof = parse(&read(&dir, "merkle1.txt.ots")).unwrap();
    let outcomes = verify_reader(&read(&dir, "merkle1.txt")[..], &proof, &HeaderSet::default()).unwrap();
    let uris: Vec<_> = outcomes
        .iter()
        .map(|o| match o {
            AttestationOutcome::Pending { uri } => uri.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(uris, ["https://alice.btc.calendar.opentimestamps.org", "https://bob.btc.calendar.opentimestamps.org"]);
}

#[test]
fn missing_header_is_unverifiable() {
    let Some(dir) = interop_dir() else { return };
    let proof = parse(&read(&dir, "hello-world.txt.ots")).unwrap();
    let outcomes = verify_reader(&read(&dir, "hello-world.txt")[..], &proof, &HeaderSet::default()).unwrap();
    assert!(
        matches!(&outcomes[..], [AttestationOutcome::Unverifiable { reason }] if reason.contains("358391")),
        "{outcomes:?}"
    );
}

#[test]
fn bad_major_version_is_a_clear_error() {
    let Some(dir) = interop_dir() else { return };
    let err = parse(&read(&dir, "invalid/bad-major-version.ots")).unwrap_err();
    assert!(matches!(err, OtsError::UnsupportedVersion(255)), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("version 255"), "{message}");
}

#[test]
fn changed_file_does_not_match() {
    let Some(dir) = interop_dir() else { return };
    let proof = parse(&read(&dir, "hello-world.txt.ots")).unwrap();
    let mut file = read(&dir, "hello-world.txt");
    file[0] ^= 0x01;
    let outcomes = verify_reader(&file[..], &proof, &headers(&dir).into()).unwrap();
    assert_eq!(outcomes.len(), 1);
    assert!(
        matches!(&outcomes[0], AttestationOutcome::Invalid { reason } if reason.starts_with("file does not match the proof")),
        "{outcomes:?}"
    );
}

#[test]
fn every_prefix_of_a_real_proof_is_an_error() {
    let Some(dir) = interop_dir() else { return };
    for (name, bytes) in real_proofs(&dir) {
        for len in 0..bytes.len() {
            assert!(parse(&bytes[..len]).is_err(), "{name}: prefix of {len} bytes parsed");
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(matches!(parse(&trailing), Err(OtsError::TrailingData { .. })), "{name}");
    }
}

/// Deterministic, so a failure can be replayed; good enough to scatter flips.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn garbled_real_proofs_never_panic() {
    let Some(dir) = interop_dir() else { return };
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let (mut accepted, mut rejected) = (0, 0);
    for (name, bytes) in real_proofs(&dir) {
        for round in 0..1500 {
            let mut garbled = bytes.clone();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(garbled.len());
                garbled[at] = match rng.below(3) {
                    0 => garbled[at] ^ (1 << rng.below(8)),
                    1 => rng.next() as u8,
                    _ => [0x00, 0xff, 0x80, 0xf0, 0x08][rng.below(5)],
                };
            }
            match parse(&garbled) {
                Ok(proof) => {
                    accepted += 1;
                    // Whatever we accept must evaluate and survive a rewrite.
                    let _ = proof.attestations();
                    let again = parse(&serialize(&proof)).unwrap_or_else(|e| panic!("{name} round {round}: {e}"));
                    assert_eq!(again, proof, "{name} round {round}");
                }
                Err(_) => rejected += 1,
            }
        }
    }
    assert!(accepted > 0 && rejected > 0, "accepted {accepted}, rejected {rejected}");
}

fn header_for_sha256(digest: &[u8; 32]) -> Vec<u8> {
    [&MAGIC[..], &[MAJOR_VERSION, 0x08], digest].concat()
}

const BITCOIN_LEAF: [u8; 12] = [0x00, 0x05, 0x88, 0x96, 0x0d, 0x73, 0xd7, 0x19, 0x01, 0x02, 0x81, 0x01];

#[test]
fn depth_bombs_fail_without_overflowing_the_stack() {
    let mut forks = header_for_sha256(&[0; 32]);
    forks.extend(std::iter::repeat_n(0xff, 10_000));
    let err = parse(&forks).unwrap_err();
    assert!(matches!(err, OtsError::UnknownOp { tag: 0xff, .. }), "{err}");

    let mut hashes = header_for_sha256(&[0; 32]);
    hashes.extend(std::iter::repeat_n(0x08, 10_000));
    hashes.extend_from_slice(&BITCOIN_LEAF);
    let err = parse(&hashes).unwrap_err();
    assert!(matches!(err, OtsError::TooDeep { max: 256, .. }), "{err}");

    // Forks that each open an operation nest too; they are bounded the same way.
    let mut nested = header_for_sha256(&[0; 32]);
    for _ in 0..10_000 {
        nested.extend_from_slice(&[0xff, 0x08]);
    }
    assert!(matches!(parse(&nested), Err(OtsError::TooDeep { .. })));
}

#[test]
fn depth_limit_matches_the_reference() {
    // 255 operations in a row are fine, 256 are not, as in python-opentimestamps.
    for (ops, ok) in [(255, true), (256, false)] {
        let mut bytes = header_for_sha256(&[0; 32]);
        bytes.extend(std::iter::repeat_n(0x08, ops));
        bytes.extend_from_slice(&BITCOIN_LEAF);
        assert_eq!(parse(&bytes).is_ok(), ok, "{ops} operations");
    }
}

#[test]
fn oversized_input_is_refused_up_front() {
    let big = vec![0u8; MAX_PROOF_LEN + 1];
    assert!(matches!(parse(&big), Err(OtsError::TooLarge { .. })));
}

#[test]
fn hash_ops_match_known_vectors() {
    let cases = [
        (Op::Sha1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (Op::Ripemd160, "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"),
        (Op::Sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (Op::Keccak256, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
        (Op::Reverse, "636261"),
        (Op::Hexlify, "363136323633"),
        (Op::Append(b"d".to_vec()), "61626364"),
        (Op::Prepend(b"z".to_vec()), "7a616263"),
    ];
    for (op, expected) in cases {
        assert_eq!(hex::encode(op.apply(b"abc")), expected, "{op}");
    }
    assert_eq!(HashOp::Keccak256.digest_reader(&b"abc"[..]).unwrap(), Op::Keccak256.apply(b"abc"));
}

#[test]
fn built_proofs_round_trip_and_merge_calendar_replies() {
    let digest = HashOp::Sha256.digest(b"some media");
    let nonce = vec![0x5a; 16];
    let path = [Op::Append(nonce.clone()), Op::Sha256];
    let alice = Attestation::pending("https://alice.example").unwrap();
    let mut proof = DetachedTimestamp::from_path(HashOp::Sha256, digest.clone(), path.clone(), alice.clone()).unwrap();
    let submitted = apply_ops(&digest, &path);
    assert_eq!(proof.attestations(), [(submitted.clone(), alice.clone())]);
    assert_eq!(parse(&serialize(&proof)).unwrap(), proof);

    // A second calendar's reply hangs off the same commitment.
    let bob_reply = Timestamp::from_path([Op::Prepend(vec![1, 2, 3]), Op::Sha256], Attestation::Bitcoin { height: 7 });
    let reply_bytes = serialize_timestamp(&bob_reply);
    assert_eq!(parse_timestamp(&reply_bytes, &submitted).unwrap(), bob_reply);
    proof.merge_at(&submitted, bob_reply.clone()).unwrap();
    let attested: Vec<_> = proof.attestations().into_iter().map(|(_, a)| a).collect();
    assert_eq!(attested, [alice.clone(), Attestation::Bitcoin { height: 7 }]);
    let bitcoin_msg = apply_ops(&submitted, &[Op::Prepend(vec![1, 2, 3]), Op::Sha256]);
    assert_eq!(proof.attestations()[1].0, bitcoin_msg);

    // Canonical: building the same tree in the other order gives the same bytes.
    let bob_path = [&path[..], &[Op::Prepend(vec![1, 2, 3]), Op::Sha256]].concat();
    let mut reversed =
        DetachedTimestamp::from_path(HashOp::Sha256, digest.clone(), bob_path, Attestation::Bitcoin { height: 7 })
            .unwrap();
    reversed.merge_at(&digest, Timestamp::from_path(path.clone(), alice.clone())).unwrap();
    assert_eq!(reversed, proof);
    assert_eq!(serialize(&reversed), serialize(&proof));

    // Merging a duplicate changes nothing.
    let before = serialize(&proof);
    proof.merge_at(&digest, Timestamp::from_path(path.clone(), alice)).unwrap();
    assert_eq!(serialize(&proof), before);

    let err = proof.merge_at(&[9; 32], Timestamp::attested(Attestation::Bitcoin { height: 1 })).unwrap_err();
    assert!(matches!(err, OtsError::NoSuchMessage { .. }), "{err}");
}

#[test]
fn merges_that_would_nest_too_deep_are_refused() {
    let digest = vec![0; 32];
    let deep = || std::iter::repeat_n(Op::Sha256, 200);
    let mut proof =
        DetachedTimestamp::from_path(HashOp::Sha256, digest.clone(), deep(), Attestation::Bitcoin { height: 1 })
            .unwrap();
    let before = proof.clone();
    let tip = apply_ops(&digest, &deep().collect::<Vec<_>>());
    let err = proof.merge_at(&tip, Timestamp::from_path(deep(), Attestation::Bitcoin { height: 2 })).unwrap_err();
    assert!(matches!(&err, OtsError::InvalidMerge(inner) if matches!(**inner, OtsError::TooDeep { .. })), "{err}");
    assert_eq!(proof, before, "a refused merge leaves the proof alone");
    assert!(DetachedTimestamp::from_path(HashOp::Sha1, digest, [], Attestation::Bitcoin { height: 1 }).is_err());
}

/// Every root-to-leaf path of a tree, as the ops along it and its attestation.
fn paths(node: &Timestamp, prefix: &mut Vec<Op>, out: &mut Vec<(Vec<Op>, Attestation)>) {
    out.extend(node.attestations.iter().map(|a| (prefix.clone(), a.clone())));
    for (op, child) in &node.ops {
        prefix.push(op.clone());
        paths(child, prefix, out);
        prefix.pop();
    }
}

#[test]
fn real_proofs_can_be_rebuilt_path_by_path() {
    // Rebuilding from single paths, merged in reverse, must give the very same
    // bytes: our canonical order is the reference tools' order.
    let Some(dir) = interop_dir() else { return };
    for (name, bytes) in real_proofs(&dir) {
        let proof = parse(&bytes).unwrap();
        let mut all = Vec::new();
        paths(&proof.timestamp, &mut Vec::new(), &mut all);
        let mut rebuilt: Option<DetachedTimestamp> = None;
        for (ops, attestation) in all.into_iter().rev() {
            let single =
                DetachedTimestamp::from_path(proof.file_hash_op, proof.file_digest.clone(), ops, attestation).unwrap();
            match &mut rebuilt {
                None => rebuilt = Some(single),
                Some(r) => r.merge(single).unwrap(),
            }
        }
        assert_eq!(serialize(&rebuilt.unwrap()), bytes, "{name}");
    }
}

#[test]
fn unknown_attestations_survive_and_are_unverifiable() {
    let digest = HashOp::Sha256.digest(b"x");
    let unknown = Attestation::Unknown { tag: *b"\x30\xfe\x80\x87\xb5\xc7\xea\xd7", payload: vec![1, 2, 3] };
    let proof = DetachedTimestamp::from_path(HashOp::Sha256, digest.clone(), [], unknown.clone()).unwrap();
    let bytes = serialize(&proof);
    assert_eq!(serialize(&parse(&bytes).unwrap()), bytes);
    let outcomes = verify(&digest, &proof, &HeaderSet::default());
    assert!(
        matches!(&outcomes[..], [AttestationOutcome::Unverifiable { reason }] if reason.contains("30fe8087b5c7ead7")),
        "{outcomes:?}"
    );
    let merged_elsewhere = DetachedTimestamp::from_path(HashOp::Sha256, vec![0; 32], [], unknown).unwrap();
    assert!(matches!(proof.clone().merge(merged_elsewhere), Err(OtsError::DifferentFile)));
}

#[test]
fn outcomes_serialize_with_a_status_tag() {
    let json = serde_json::to_string(&AttestationOutcome::Pending { uri: "https://a.example".into() }).unwrap();
    assert_eq!(json, r#"{"status":"pending","uri":"https://a.example"}"#);
}
