//! Anyone can check, offline, that a file existed before a Bitcoin block:
//! real OpenTimestamps proofs made by the reference tools.

mod common;

use common::*;
use predicates::prelude::*;

fn verify_json(world: &World, file: &std::path::Path, headers: &std::path::Path) -> (Option<i32>, serde_json::Value) {
    let output = world.vouch().arg("verify").arg(file).arg("--headers").arg(headers).arg("--json").output().unwrap();
    (output.status.code(), json_lines(&output.stdout).remove(0))
}

#[test]
fn hello_world_is_confirmed_in_bitcoin_block_358391() {
    let Some(dir) = shared("interop/ots") else { return };
    let world = World::new();
    let (code, report) = verify_json(&world, &dir.join("hello-world.txt"), &dir.join("bitcoin-headers.txt"));
    assert_eq!(code, Some(0), "{report}");
    let anchor = &report["anchors"][0];
    assert_eq!(anchor["kind"], "ots");
    assert_eq!(anchor["state"], "confirmed");
    assert_eq!(anchor["chain"], "bitcoin");
    assert_eq!(anchor["block"], 358391);
    assert!(anchor["time"].as_str().unwrap().starts_with("2015-05-28"), "{anchor}");
    assert_eq!(anchor["block_hash"], "000000000000000003e892881a8cdcdc117c06d444057c98b6f04a9ee75a2319");
}

#[test]
fn a_stamp_whose_merkle_root_is_not_in_the_block_is_invalid() {
    let Some(dir) = shared("interop/ots") else { return };
    let world = World::new();
    let (code, report) = verify_json(&world, &dir.join("bad-stamp.txt"), &dir.join("bitcoin-headers.txt"));
    assert_eq!(code, Some(1));
    assert_eq!(report["anchors"][0]["state"], "invalid");
    assert!(report["anchors"][0]["reason"].as_str().unwrap().contains("merkle root mismatch"), "{report}");
}

#[test]
fn an_incomplete_proof_is_pending_and_never_confirmed() {
    let Some(dir) = shared("interop/ots") else { return };
    let world = World::new();
    let (code, report) = verify_json(&world, &dir.join("incomplete.txt"), &dir.join("bitcoin-headers.txt"));
    assert_eq!(report["anchors"][0]["state"], "pending", "{report}");
    assert_eq!(code, Some(1), "pending alone proves nothing yet");
}

#[test]
fn without_the_block_header_a_proof_is_unverifiable_not_confirmed() {
    let Some(dir) = shared("interop/ots") else { return };
    let world = World::new();
    let empty = world.path("no-headers.txt");
    std::fs::write(&empty, "# no headers here\n").unwrap();
    let (_, report) = verify_json(&world, &dir.join("hello-world.txt"), &empty);
    assert_eq!(report["anchors"][0]["state"], "unverifiable", "{report}");
}

#[test]
fn one_changed_byte_makes_the_proof_invalid() {
    let Some(dir) = shared("interop/ots") else { return };
    let world = World::new();
    let file = world.path("hello-world.txt");
    let mut bytes = std::fs::read(dir.join("hello-world.txt")).unwrap();
    bytes[0] ^= 0x01;
    std::fs::write(&file, bytes).unwrap();
    std::fs::copy(dir.join("hello-world.txt.ots"), world.path("hello-world.txt.ots")).unwrap();
    let (code, report) = verify_json(&world, &file, &dir.join("bitcoin-headers.txt"));
    assert_eq!(code, Some(1));
    assert_eq!(report["anchors"][0]["state"], "invalid");
    assert!(report["anchors"][0]["reason"].as_str().unwrap().contains("file does not match the proof"));
}

#[test]
fn a_proof_of_an_unknown_version_is_a_clear_error_with_exit_2() {
    let Some(dir) = shared("interop/ots") else { return };
    let world = World::new();
    let bad = dir.join("invalid/bad-major-version.ots");
    for args in [
        vec!["inspect".to_string()],
        vec!["verify".into(), dir.join("hello-world.txt").display().to_string(), "--receipt".into()],
    ] {
        world
            .vouch()
            .args(&args)
            .arg(&bad)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("bad-major-version.ots: not a valid OpenTimestamps proof"))
            .stderr(predicate::str::contains("major version 255"));
    }
}

#[test]
fn truncated_and_garbled_proofs_are_errors_and_nothing_is_written() {
    let Some(dir) = shared("interop/ots") else { return };
    let world = World::new();
    let proof = std::fs::read(dir.join("hello-world.txt.ots")).unwrap();
    let cases = [
        ("truncated.ots", proof[..proof.len() / 2].to_vec()),
        ("garbled.ots", proof.iter().map(|b| b ^ 0x5a).collect()),
    ];
    for (name, bytes) in cases {
        std::fs::write(world.path(name), bytes).unwrap();
        let before = listing(world.dir.path());
        world
            .vouch()
            .arg("inspect")
            .arg(world.path(name))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(name).and(predicate::str::contains("not a valid OpenTimestamps proof")));
        assert_eq!(listing(world.dir.path()), before);
    }
}

#[test]
fn inspect_shows_the_proof_tree_and_the_ipfs_cid() {
    let Some(dir) = shared("interop/ots") else { return };
    let world = World::new();
    world
        .vouch()
        .arg("inspect")
        .arg(dir.join("merkle1.txt.ots"))
        .assert()
        .success()
        .stdout(predicate::str::contains("File sha256 hash: d32fee9a827f5a0d"))
        .stdout(predicate::str::contains("IPFS CID: bafkrei"))
        .stdout(predicate::str::contains(" -> append"))
        .stdout(predicate::str::contains("verify pending at https://alice.btc.calendar.opentimestamps.org"));
}

/// A header server (Bitcoin Core JSON-RPC and Esplora REST) on 127.0.0.1.
struct HeaderServer {
    child: std::process::Child,
    port: String,
}

impl HeaderServer {
    fn start(python: &std::path::Path, headers: &std::path::Path, forge: bool) -> Self {
        Self::start_with(python, headers, if forge { &["--forge"] } else { &[] })
    }

    /// With a lying mode of bitcoin_node.py (`--easy-target`, `--rpc-error N`).
    fn start_with(python: &std::path::Path, headers: &std::path::Path, args: &[&str]) -> Self {
        use std::io::BufRead;
        let mut cmd = std::process::Command::new(python);
        cmd.arg(fixture("../tests/interop/bitcoin_node.py"))
            .arg(headers)
            .args(args)
            .stdout(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("start the header server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().strip_prefix("listening ").expect("server announces its port").to_string();
        Self { child, port }
    }
}

impl HeaderServer {
    fn esplora(&self) -> String {
        format!("http://127.0.0.1:{}/api", self.port)
    }

    fn rpc(&self) -> String {
        format!("http://vouch:secret@127.0.0.1:{}", self.port)
    }
}

impl Drop for HeaderServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn headers_come_from_a_bitcoin_core_node_or_an_esplora_server() {
    let (Some(dir), Some(python)) = (shared("interop/ots"), python()) else { return };
    let world = World::new();
    let server = HeaderServer::start(&python, &dir.join("bitcoin-headers.txt"), false);
    let rpc = format!("http://vouch:secret@127.0.0.1:{}", server.port);
    let esplora = format!("http://127.0.0.1:{}/api", server.port);
    for source in [["--bitcoin-rpc", rpc.as_str()], ["--esplora", esplora.as_str()]] {
        let out = world.vouch().arg("verify").arg(dir.join("hello-world.txt")).args(source).arg("--json").output();
        let out = out.unwrap();
        assert_eq!(out.status.code(), Some(0), "{source:?}: {}", String::from_utf8_lossy(&out.stderr));
        let anchor = &json_lines(&out.stdout)[0]["anchors"][0];
        assert_eq!(anchor["state"], "confirmed", "{source:?}: {anchor}");
        assert_eq!(anchor["block"], 358391);
        assert_eq!(anchor["block_hash"], "000000000000000003e892881a8cdcdc117c06d444057c98b6f04a9ee75a2319");
        // The bad stamp is just as false whichever source says so.
        let out = world.vouch().arg("verify").arg(dir.join("bad-stamp.txt")).args(source).arg("--json").output();
        assert_eq!(json_lines(&out.unwrap().stdout)[0]["anchors"][0]["state"], "invalid");
    }
    // Wrong credentials: an error that says what to fix, and no secret in it.
    let wrong = format!("http://vouch:guess@127.0.0.1:{}", server.port);
    world
        .vouch()
        .arg("verify")
        .arg(dir.join("hello-world.txt"))
        .args(["--bitcoin-rpc", &wrong])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("getblockhash: HTTP 401 (check the user:password in the URL)")
                .and(predicate::str::contains("guess").not()),
        );
}

#[test]
fn a_source_serving_a_header_that_is_not_the_named_block_is_refused() {
    let (Some(dir), Some(python)) = (shared("interop/ots"), python()) else { return };
    let world = World::new();
    let server = HeaderServer::start(&python, &dir.join("bitcoin-headers.txt"), true);
    let esplora = format!("http://127.0.0.1:{}/api", server.port);
    world
        .vouch()
        .arg("verify")
        .arg(dir.join("hello-world.txt"))
        .args(["--esplora", &esplora])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("header 358391 hashes to"));
    // And an unreachable source is an error, not a verdict.
    drop(server);
    world
        .vouch()
        .arg("verify")
        .arg(dir.join("hello-world.txt"))
        .args(["--esplora", &esplora, "--timeout", "5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("block-height/358391"));
}

/// The real header of block 358391, whose Merkle root commits hello-world.txt.
const H358391: &str = "02000000b96394585a281b7e5f438fd1c9ed492645a1fd61cb3802040000000000000000007ee445d23ad061af4a36b809501fab1ac4f2d7e7a739817dd0cbb7ec661b8a1e376755f58616186272def6";

/// LEB128, as OpenTimestamps encodes heights.
fn varuint(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// The attack: a file written today, a proof that commits its SHA-256 straight
/// to a Bitcoin attestation at 358391, and a made-up header for 358391 — the
/// real one with the file's hash as Merkle root, and so no proof of work.
/// Returns the file and a headers file holding the made-up header.
fn backdated(world: &World) -> (std::path::PathBuf, std::path::PathBuf) {
    use sha2::Digest as _;
    let file = world.path("written-today.txt");
    std::fs::write(&file, "written today, claimed in 2015\n").unwrap();
    let digest: [u8; 32] = sha2::Sha256::digest(std::fs::read(&file).unwrap()).into();
    let mut proof = b"\x00OpenTimestamps\x00\x00Proof\x00\xbf\x89\xe2\xe8\x84\xe8\x92\x94\x01\x08".to_vec();
    proof.extend_from_slice(&digest);
    proof.extend_from_slice(&[0x00, 0x05, 0x88, 0x96, 0x0d, 0x73, 0xd7, 0x19, 0x01]);
    let height = varuint(358391);
    proof.push(height.len() as u8);
    proof.extend_from_slice(&height);
    std::fs::write(world.path("written-today.txt.ots"), proof).unwrap();
    let mut header = hex::decode(H358391).unwrap();
    header[36..68].copy_from_slice(&digest);
    let headers = world.path("made-up-headers.txt");
    std::fs::write(&headers, format!("358391 {}\n", hex::encode(header))).unwrap();
    (file, headers)
}

fn anchor_of(world: &World, file: &std::path::Path, source: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = world.vouch().arg("verify").arg(file).args(source).arg("--json").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let mut reports = json_lines(&out.stdout);
    assert!(!reports.is_empty(), "{source:?}: no report; stderr: {stderr}");
    (out.status.code(), reports.remove(0)["anchors"][0].clone())
}

#[test]
fn a_made_up_header_without_proof_of_work_never_confirms_a_backdated_file() {
    let Some(python) = python() else { return };
    let world = World::new();
    let (file, made_up) = backdated(&world);
    // The made-up header served, named by its own hash, over both protocols,
    // and straight from a headers file.
    let server = HeaderServer::start(&python, &made_up, false);
    let made_up_arg = made_up.display().to_string();
    let (rpc, esplora) = (server.rpc(), server.esplora());
    let node = format!("Bitcoin Core {}", rpc.replace("vouch:secret@", ""));
    let both = ["--esplora", esplora.as_str(), "--bitcoin-rpc", rpc.as_str()];
    for (source, origin) in [
        (&["--esplora", esplora.as_str()][..], format!("Esplora {esplora}")),
        (&["--bitcoin-rpc", rpc.as_str()][..], node),
        (&["--headers", made_up_arg.as_str()][..], "the headers file".to_string()),
        (&both[..], "2 sources".to_string()),
    ] {
        let (code, anchor) = anchor_of(&world, &file, source);
        assert_eq!(anchor["state"], "unverifiable", "{source:?}: {anchor}");
        assert_eq!(code, Some(1), "{source:?}");
        // The reason names where the header came from: the one source, or how many agreed on it.
        let reason = anchor["reason"].as_str().unwrap();
        let refused = format!("the header for Bitcoin block 358391 from {origin} is refused");
        assert!(reason.contains(&refused) && reason.contains("no proof of work"), "{source:?}: {reason}");
        assert!(anchor["time"].is_null(), "no date is claimed: {anchor}");
    }
}

#[test]
fn work_against_an_easy_target_of_the_headers_own_choosing_is_refused() {
    let Some(python) = python() else { return };
    let world = World::new();
    let (file, made_up) = backdated(&world);
    // The made-up header re-mined against nBits 0x207fffff: it meets its own target.
    let server = HeaderServer::start_with(&python, &made_up, &["--easy-target"]);
    let (rpc, esplora) = (server.rpc(), server.esplora());
    let mined = {
        let hash = std::process::Command::new("curl").arg("-sf").arg(format!("{esplora}/block-height/358391")).output();
        let hash = String::from_utf8(hash.unwrap().stdout).unwrap();
        let header =
            std::process::Command::new("curl").arg("-sf").arg(format!("{esplora}/block/{hash}/header")).output();
        String::from_utf8(header.unwrap().stdout).unwrap()
    };
    assert_eq!(&mined[144..152], "ffff7f20", "easy nBits: {mined}");
    let easy_file = world.path("easy-headers.txt");
    std::fs::write(&easy_file, format!("358391 {mined}\n")).unwrap();
    let easy_arg = easy_file.display().to_string();
    for source in [["--esplora", esplora.as_str()], ["--bitcoin-rpc", rpc.as_str()], ["--headers", easy_arg.as_str()]] {
        let (code, anchor) = anchor_of(&world, &file, &source);
        assert_eq!(anchor["state"], "unverifiable", "{source:?}: {anchor}");
        assert_eq!(code, Some(1));
        let reason = anchor["reason"].as_str().unwrap();
        assert!(reason.contains("not the mainnet target of retarget period 177 (0x181686f5)"), "{source:?}: {reason}");
    }
}

#[test]
fn a_header_at_a_checkpoint_height_must_be_the_checkpoint_block() {
    let (Some(dir), Some(python)) = (shared("interop/ots"), python()) else { return };
    let world = World::new();
    // hello-world's proof, moved to 358847 (the last block of period 177, a
    // checkpoint); the real header of 358391 offered for it has real work at
    // the right target, but it is not the checkpoint block.
    let file = world.path("hello-world.txt");
    std::fs::copy(dir.join("hello-world.txt"), &file).unwrap();
    let mut proof = std::fs::read(dir.join("hello-world.txt.ots")).unwrap();
    let tag = [&[0x05, 0x88, 0x96, 0x0d, 0x73, 0xd7, 0x19, 0x01, 0x03][..], &varuint(358391)].concat();
    let at = proof.windows(tag.len()).position(|w| w == tag).expect("the Bitcoin attestation");
    proof[at + 9..at + 12].copy_from_slice(&varuint(358847));
    std::fs::write(world.path("hello-world.txt.ots"), proof).unwrap();
    let headers = world.path("moved-headers.txt");
    std::fs::write(&headers, format!("358847 {H358391}\n")).unwrap();
    let server = HeaderServer::start(&python, &headers, false);
    let (esplora, headers_arg) = (server.esplora(), headers.display().to_string());
    for source in [["--esplora", esplora.as_str()], ["--headers", headers_arg.as_str()]] {
        let (code, anchor) = anchor_of(&world, &file, &source);
        assert_eq!(anchor["state"], "unverifiable", "{source:?}: {anchor}");
        assert_eq!(code, Some(1));
        let reason = anchor["reason"].as_str().unwrap();
        let expected = "it is block 000000000000000003e892881a8cdcdc117c06d444057c98b6f04a9ee75a2319, but the checkpoint at height 358847 is block 000000000000000003816ae80c6413b84cbee2f639ba497ab5872ec9711eb256";
        assert!(reason.contains(expected), "{source:?}: {reason}");
    }
}

#[test]
fn header_sources_that_disagree_leave_the_anchor_unverifiable_naming_both() {
    let (Some(dir), Some(python)) = (shared("interop/ots"), python()) else { return };
    let world = World::new();
    let honest = HeaderServer::start(&python, &dir.join("bitcoin-headers.txt"), false);
    let (_, made_up) = backdated(&world);
    let liar = HeaderServer::start(&python, &made_up, false);
    let empty = world.path("empty-headers.txt");
    std::fs::write(&empty, "# nothing\n").unwrap();
    let behind = HeaderServer::start(&python, &empty, false);
    let file = dir.join("hello-world.txt");
    let real_hash = "000000000000000003e892881a8cdcdc117c06d444057c98b6f04a9ee75a2319";

    // Agreeing sources, over both protocols at once, confirm.
    let (honest_rpc, honest_esplora) = (honest.rpc(), honest.esplora());
    let (code, anchor) = anchor_of(&world, &file, &["--bitcoin-rpc", &honest_rpc, "--esplora", &honest_esplora]);
    assert_eq!((code, anchor["state"].as_str()), (Some(0), Some("confirmed")), "{anchor}");

    // Another header, or none at all: unverifiable, both answers named.
    let (liar_esplora, behind_rpc) = (liar.esplora(), behind.rpc());
    for (other, says) in [
        (["--esplora", liar_esplora.as_str()], "names block "),
        (["--bitcoin-rpc", behind_rpc.as_str()], "names no block"),
    ] {
        let (code, anchor) =
            anchor_of(&world, &file, &[&["--esplora", honest_esplora.as_str()][..], &other[..]].concat());
        assert_eq!(anchor["state"], "unverifiable", "{other:?}: {anchor}");
        assert_eq!(code, Some(1));
        let reason = anchor["reason"].as_str().unwrap();
        assert!(reason.contains("header sources disagree on Bitcoin block 358391"), "{reason}");
        assert!(reason.contains(&format!("Esplora {honest_esplora} names block {real_hash}")), "{reason}");
        assert!(reason.contains(says) && reason.contains(&other[1].replace("vouch:secret@", "")), "{reason}");
        assert!(!reason.contains("secret"), "{reason}");
    }
}

#[test]
fn bitcoin_core_out_of_range_is_no_header_but_other_errors_are_errors() {
    let (Some(dir), Some(python)) = (shared("interop/ots"), python()) else { return };
    let world = World::new();
    let file = dir.join("hello-world.txt");
    // -8 "Block height out of range": the node lacks the block, which is a verdict.
    let empty = world.path("empty-headers.txt");
    std::fs::write(&empty, "# nothing\n").unwrap();
    let behind = HeaderServer::start(&python, &empty, false);
    let (code, anchor) = anchor_of(&world, &file, &["--bitcoin-rpc", &behind.rpc()]);
    assert_eq!(code, Some(1), "{anchor}");
    assert_eq!(anchor["state"], "unverifiable");
    assert!(anchor["reason"].as_str().unwrap().contains("no header for Bitcoin block 358391"), "{anchor}");
    // Any other error (a node still loading, or a code that only looks like -8) is exit 2.
    for code in ["-28", "8"] {
        let failing = HeaderServer::start_with(&python, &dir.join("bitcoin-headers.txt"), &["--rpc-error", code]);
        world
            .vouch()
            .arg("verify")
            .arg(&file)
            .args(["--bitcoin-rpc", &failing.rpc()])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("\"code\":{code}")).and(predicate::str::contains("getblockhash")));
    }
}
