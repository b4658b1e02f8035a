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
        use std::io::BufRead;
        let mut cmd = std::process::Command::new(python);
        cmd.arg(fixture("../tests/interop/bitcoin_node.py")).arg(headers).stdout(std::process::Stdio::piped());
        if forge {
            cmd.arg("--forge");
        }
        let mut child = cmd.spawn().expect("start the header server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().strip_prefix("listening ").expect("server announces its port").to_string();
        Self { child, port }
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
        .stderr(predicate::str::contains("HTTP 401").and(predicate::str::contains("guess").not()));
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
