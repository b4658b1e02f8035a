//! A newsroom anchors a batch on an EVM chain: one transaction for a
//! thousand files, a receipt per file that any node of the chain can check.
//! The chain is a real local one: anvil from the npm registry (`make deps`),
//! started on a free loopback port for each test and stopped after.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Std, Stdio};
use std::time::{Duration, Instant};

use common::*;
use predicates::prelude::PredicateBooleanExt;
use serde_json::{json, Value};

/// anvil's first well-known development account (public test key).
const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const CHAIN_ID: u64 = 31337;

/// The anvil binary that `make deps` installed (`$VOUCH_NPM_DIR`, default
/// `.deps/npm`). `None`, with the reason printed, when absent.
fn anvil_binary() -> Option<PathBuf> {
    let npm = std::env::var_os("VOUCH_NPM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".deps/npm"));
    let packages = npm.join("node_modules/@foundry-rs");
    let found = std::fs::read_dir(&packages).ok().and_then(|entries| {
        entries
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin/anvil"))
            .find(|p| p.is_file() && p.parent().unwrap().parent().unwrap().to_string_lossy().contains("anvil-"))
    });
    if found.is_none() {
        eprintln!("SKIP: no anvil under {} (run `make deps`)", packages.display());
    }
    found
}

/// A local chain, killed when the test ends however it ends.
struct Anvil {
    child: Child,
    url: String,
}

impl Anvil {
    fn start() -> Option<Self> {
        let binary = anvil_binary()?;
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Std::new(binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--chain-id", &CHAIN_ID.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start anvil");
        let anvil = Self { child, url: format!("http://127.0.0.1:{port}") };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "anvil did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(anvil)
    }

    fn call(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let text = ureq::post(&self.url)
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        let reply: Value = serde_json::from_str(&text).expect("JSON-RPC reply");
        reply["result"].clone()
    }

    fn block_number(&self) -> u64 {
        u64::from_str_radix(self.call("eth_blockNumber", json!([])).as_str().unwrap().trim_start_matches("0x"), 16)
            .unwrap()
    }

    fn transactions_in_block(&self, number: u64) -> usize {
        let block = self.call("eth_getBlockByNumber", json!([format!("0x{number:x}"), false]));
        block["transactions"].as_array().unwrap().len()
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_files(dir: &Path, count: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (0..count)
        .map(|i| {
            let path = dir.join(format!("photo-{i:04}.txt"));
            std::fs::write(&path, format!("frame {i} of the evening's delivery\n")).unwrap();
            path
        })
        .collect()
}

fn anchor(world: &World, anvil: &Anvil, paths: &[&Path]) -> assert_cmd::assert::Assert {
    world
        .vouch()
        .arg("anchor")
        .args(paths)
        .args(["--to", "evm", "--rpc", &anvil.url, "--key-env", "ANCHOR_KEY", "--json"])
        .env("ANCHOR_KEY", DEV_KEY)
        .assert()
}

fn verify(world: &World, anvil: &Anvil, paths: &[&Path]) -> (Option<i32>, Vec<Value>) {
    let out = world.vouch().arg("verify").args(paths).args(["--rpc", &anvil.url, "--json"]).output().unwrap();
    (out.status.code(), json_lines(&out.stdout))
}

fn receipt_of(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}.anchor.json", path.display()))
}

fn edit_receipt(path: &Path, field: &str, value: Value) {
    let receipt = receipt_of(path);
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(&receipt).unwrap()).unwrap();
    json[field] = value;
    std::fs::write(&receipt, serde_json::to_string_pretty(&json).unwrap()).unwrap();
}

#[test]
fn a_thousand_files_one_transaction_all_confirmed_one_tampered_invalid() {
    let Some(anvil) = Anvil::start() else { return };
    let world = World::new();
    let dir = world.path("delivery");
    let files = write_files(&dir, 1000);

    let out = anchor(&world, &anvil, &[&dir]).success().get_output().stdout.clone();
    let anchored = json_lines(&out);
    assert_eq!(anchored.len(), 1000);
    // One transaction, in one block, carries the whole batch.
    assert_eq!(anvil.block_number(), 1);
    assert_eq!(anvil.transactions_in_block(1), 1);
    let tx = anchored[0]["tx_hash"].as_str().unwrap().to_string();
    assert!(anchored.iter().all(|a| a["tx_hash"] == tx.as_str() && a["chain"] == "eip155:31337"));

    // Every receipt names what the issue lists, and nothing about other files.
    let receipt: Value = serde_json::from_str(&std::fs::read_to_string(receipt_of(&files[7])).unwrap()).unwrap();
    for field in [
        "version",
        "sha256",
        "nonce",
        "merkle_path",
        "root",
        "chain_id",
        "tx_hash",
        "block_number",
        "block_hash",
        "block_time",
    ] {
        assert!(!receipt[field].is_null(), "receipt lacks {field}: {receipt}");
    }
    assert_eq!(receipt["sha256"], sha256(&files[7]));
    assert_eq!(receipt["chain_id"], CHAIN_ID);
    assert_eq!(receipt["merkle_path"].as_array().unwrap().len(), 10, "a path grows as log2(n)");

    let (code, reports) = verify(&world, &anvil, &[&dir]);
    assert_eq!(code, Some(0));
    assert_eq!(reports.len(), 1000);
    for report in &reports {
        let anchor = &report["anchors"][0];
        assert_eq!(anchor["kind"], "evm");
        assert_eq!(anchor["state"], "confirmed", "{report}");
        assert_eq!(anchor["chain"], "eip155:31337");
        assert_eq!(anchor["block"], 1);
        assert!(anchor["time"].as_str().unwrap().ends_with('Z'));
    }

    // One changed byte: exactly that file is invalid, the rest still hold.
    std::fs::write(&files[500], "frame 500 of the evening's delivery, retouched\n").unwrap();
    let (code, reports) = verify(&world, &anvil, &[&dir]);
    assert_eq!(code, Some(1));
    let invalid: Vec<&Value> = reports.iter().filter(|r| r["anchors"][0]["state"] == "invalid").collect();
    assert_eq!(invalid.len(), 1);
    assert_eq!(invalid[0]["path"], files[500].display().to_string());
    assert!(invalid[0]["anchors"][0]["reason"].as_str().unwrap().contains("does not match the receipt"));
    assert_eq!(reports.iter().filter(|r| r["anchors"][0]["state"] == "confirmed").count(), 999);
}

#[test]
fn receipts_naming_another_transaction_or_chain_are_invalid() {
    let Some(anvil) = Anvil::start() else { return };
    let world = World::new();
    let files = write_files(&world.path("batch"), 3);
    anchor(&world, &anvil, &[&world.path("batch")]).success();

    edit_receipt(&files[0], "tx_hash", json!(format!("0x{}", "11".repeat(32))));
    edit_receipt(&files[1], "chain_id", json!(1));
    let (code, reports) = verify(&world, &anvil, &[&files[0], &files[1], &files[2]]);
    assert_eq!(code, Some(1));
    let reason = |i: usize| reports[i]["anchors"][0]["reason"].as_str().unwrap_or_default().to_string();
    assert_eq!(reports[0]["anchors"][0]["state"], "invalid");
    assert!(reason(0).contains("no transaction 0x1111"), "{}", reason(0));
    assert_eq!(reports[1]["anchors"][0]["state"], "invalid");
    assert!(reason(1).contains("is on chain 31337, the receipt says chain 1"), "{}", reason(1));
    assert_eq!(reports[2]["anchors"][0]["state"], "confirmed");
}

#[test]
fn confirmations_are_counted_and_a_reorganised_block_is_invalid() {
    let Some(anvil) = Anvil::start() else { return };
    let world = World::new();
    let file = world.path("photo.txt");
    std::fs::write(&file, "the photo").unwrap();
    let snapshot = anvil.call("evm_snapshot", json!([]));
    anchor(&world, &anvil, &[&file]).success();

    let out = world.vouch().args(["verify", "--confirmations", "3", "--json", "--rpc", &anvil.url]).arg(&file).output();
    let report = &json_lines(&out.unwrap().stdout)[0];
    assert_eq!(report["anchors"][0]["state"], "pending", "{report}");
    assert!(report["anchors"][0]["reason"].as_str().unwrap().contains("1 of 3 confirmations"));

    anvil.call("anvil_mine", json!(["0x2"]));
    let out = world.vouch().args(["verify", "--confirmations", "3", "--json", "--rpc", &anvil.url]).arg(&file).output();
    let report = &json_lines(&out.unwrap().stdout)[0];
    assert_eq!(report["anchors"][0]["state"], "confirmed", "{report}");
    assert_eq!(report["anchors"][0]["confirmations"], 3);

    // The chain drops the block (a reorganisation): the receipt proves nothing.
    anvil.call("evm_revert", json!([snapshot]));
    let (code, reports) = verify(&world, &anvil, &[&file]);
    assert_eq!(code, Some(1));
    assert_eq!(reports[0]["anchors"][0]["state"], "invalid", "{}", reports[0]);
}

#[test]
fn without_a_node_a_receipt_is_unverifiable_and_never_passes() {
    let Some(anvil) = Anvil::start() else { return };
    let world = World::new();
    let file = world.path("photo.txt");
    std::fs::write(&file, "the photo").unwrap();
    anchor(&world, &anvil, &[&file]).success();
    let out = world.vouch().args(["verify", "--json"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report = &json_lines(&out.stdout)[0];
    assert_eq!(report["anchors"][0]["state"], "unverifiable");
    assert!(report["anchors"][0]["reason"].as_str().unwrap().contains("--rpc"));
}

#[test]
fn refusals_spend_nothing_and_write_nothing() {
    let Some(anvil) = Anvil::start() else { return };
    let world = World::new();
    let dir = world.path("batch");
    write_files(&dir, 2);
    let before = listing(&dir);

    // No key in the environment.
    world
        .vouch()
        .args(["anchor", "--to", "evm", "--rpc", &anvil.url, "--key-env", "NO_SUCH_VAR"])
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("NO_SUCH_VAR is not set"));
    // A node of another chain than the one asked for.
    world
        .vouch()
        .args(["anchor", "--to", "evm", "--rpc", &anvil.url, "--key-env", "ANCHOR_KEY", "--chain-id", "1"])
        .arg(&dir)
        .env("ANCHOR_KEY", DEV_KEY)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("serves chain 31337, not chain 1"));
    // Nothing listening.
    let dead = format!("http://127.0.0.1:{}", TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port());
    world
        .vouch()
        .args(["anchor", "--to", "evm", "--rpc", &dead, "--key-env", "ANCHOR_KEY", "--timeout", "5"])
        .arg(&dir)
        .env("ANCHOR_KEY", DEV_KEY)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("eth_chainId"));
    // A malformed key, which must not be echoed.
    world
        .vouch()
        .args(["anchor", "--to", "evm", "--rpc", &anvil.url, "--key-env", "ANCHOR_KEY"])
        .arg(&dir)
        .env("ANCHOR_KEY", "0xnot-a-secret-key")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not 32 bytes of hex").and(predicates::str::contains("not-a-secret").not()));
    assert_eq!(listing(&dir), before);
    assert_eq!(anvil.block_number(), 0, "no transaction was sent");

    // An existing receipt is kept unless --force, and no gas is spent on it.
    anchor(&world, &anvil, &[&dir]).success();
    let receipts: Vec<String> = listing(&dir).into_iter().filter(|n| n.ends_with(".anchor.json")).collect();
    assert_eq!(receipts.len(), 2);
    let kept = std::fs::read(dir.join(&receipts[0])).unwrap();
    anchor(&world, &anvil, &[&dir]).code(2).stderr(predicates::str::contains("--force"));
    assert_eq!(std::fs::read(dir.join(&receipts[0])).unwrap(), kept);
    assert_eq!(anvil.block_number(), 1);

    // Verifying against a dead node is an error, not a verdict.
    world.vouch().args(["verify", "--rpc", &dead, "--timeout", "5"]).arg(&dir).assert().code(2);
}

#[test]
fn malformed_receipts_are_errors_that_name_the_file() {
    let world = World::new();
    let file = world.path("photo.txt");
    std::fs::write(&file, "the photo").unwrap();
    let receipt = receipt_of(&file);
    let step = json!({"side": "left", "hash": "00".repeat(32)});
    let mut good = json!({
        "version": 1, "sha256": "ab".repeat(32), "nonce": "cd".repeat(16), "merkle_path": [step],
        "root": "ab".repeat(32), "chain_id": 31337, "tx_hash": format!("0x{}", "ab".repeat(32)),
        "block_number": 1, "block_hash": format!("0x{}", "ab".repeat(32)), "block_time": "2026-01-01T00:00:00Z"
    });
    let cases: Vec<(Value, &str)> = vec![
        (json!("not an object"), "invalid type"),
        (
            {
                good["block_number"] = json!("one");
                good.clone()
            },
            "invalid type",
        ),
        (
            {
                good["block_number"] = json!(1);
                good["merkle_path"] = json!(vec![step; 65]);
                good.clone()
            },
            "65 steps",
        ),
    ];
    for (json, expected) in cases {
        std::fs::write(&receipt, json.to_string()).unwrap();
        world.vouch().arg("verify").arg(&file).assert().code(2).stderr(
            predicates::str::contains("photo.txt.anchor.json: not a valid anchor receipt")
                .and(predicates::str::contains(expected)),
        );
    }
    std::fs::write(&receipt, "{\"version\": 1, \"sha256\": ").unwrap();
    world.vouch().arg("verify").arg(&file).assert().code(2).stderr(predicates::str::contains("EOF"));
}
