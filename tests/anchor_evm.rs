//! A newsroom anchors a batch on an EVM chain: one transaction for a
//! thousand files, a receipt per file that any node of the chain can check.
//! The chain is a real local one: anvil from the npm registry (`make deps`),
//! started on a free loopback port for each test and stopped after.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use predicates::prelude::PredicateBooleanExt;
use serde_json::{json, Value};

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
    verify_with(world, &[&anvil.url], paths)
}

/// `vouch verify --json` with one `--rpc` per node.
fn verify_with(world: &World, nodes: &[&str], paths: &[&Path]) -> (Option<i32>, Vec<Value>) {
    let mut cmd = world.vouch();
    cmd.arg("verify").args(paths).arg("--json");
    for node in nodes {
        cmd.args(["--rpc", node]);
    }
    let out = cmd.output().unwrap();
    (out.status.code(), json_lines(&out.stdout))
}

/// The one anchor verdict of verifying `file` against `nodes`: (state, reason).
fn verdict(world: &World, nodes: &[&str], file: &Path) -> (String, String) {
    let (code, reports) = verify_with(world, nodes, &[file]);
    assert_eq!(reports.len(), 1, "exit {code:?}: {reports:?}");
    let anchor = &reports[0]["anchors"][0];
    let state = anchor["state"].as_str().unwrap().to_string();
    assert_eq!(code, Some(if state == "confirmed" { 0 } else { 1 }), "{anchor}");
    (state, anchor["reason"].as_str().unwrap_or_default().to_string())
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
    assert!(anchored.iter().all(|a| a["tx_hash"] == tx.as_str() && a["chain"] == "eip155:31337" && a["block"] == 1));

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

    // The answers are cached: a thousand receipts of one transaction cost a
    // handful of requests (chain id, head, transaction, block, receipts).
    let counter = LyingProxy::start(&anvil, |_, _, _| {});
    let (code, reports) = verify_with(&world, &[&counter.url], &[&dir]);
    assert_eq!(code, Some(0));
    assert_eq!(reports.iter().filter(|r| r["anchors"][0]["state"] == "confirmed").count(), 1000);
    let requests = counter.requests.load(Ordering::SeqCst);
    assert!(requests <= 6, "{requests} requests for one transaction");

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
fn on_a_slow_chain_anchoring_waits_for_the_confirmations_asked() {
    // A block every 20 s: three confirmations take 40 to 60 s, far beyond
    // the 3 s each request may take. The wait is bounded by 30 s a
    // confirmation, not by the request timeout.
    let Some(anvil) = Anvil::start_with(&["--block-time", "20"]) else { return };
    let world = World::new();
    let file = world.path("photo.txt");
    std::fs::write(&file, "the photo from the slow chain").unwrap();
    let started = std::time::Instant::now();
    let out = world
        .vouch()
        .args(["anchor", "--to", "evm", "--rpc", &anvil.url, "--key-env", "ANCHOR_KEY", "--json"])
        .args(["--confirmations", "3", "--timeout", "3"])
        .arg(&file)
        .env("ANCHOR_KEY", DEV_KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(started.elapsed() >= std::time::Duration::from_secs(35), "{:?}", started.elapsed());
    let block = json_lines(&out.stdout)[0]["block"].as_u64().unwrap();
    assert!(anvil.block_number() >= block + 2, "three confirmations: the block and two on top");
    assert_eq!(verdict(&world, &[&anvil.url], &file).0, "confirmed");
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
    // A key of blanks is no key either.
    world
        .vouch()
        .args(["anchor", "--to", "evm", "--rpc", &anvil.url, "--key-env", "ANCHOR_KEY"])
        .arg(&dir)
        .env("ANCHOR_KEY", " \t ")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("ANCHOR_KEY is not set"));
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
        .stderr(predicates::str::contains("eth_chainId").and(predicates::str::contains("Connection refused")));
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
    anchor(&world, &anvil, &[&dir]).success().stdout(predicates::str::contains(r#""already_anchored":true"#));
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

/// A JSON-RPC proxy in front of anvil that rewrites the answers it forwards,
/// as a compromised node or anything between vouch and an honest one would.
/// It counts the requests it serves.
struct LyingProxy {
    url: String,
    requests: Arc<AtomicUsize>,
}

type Rewrite = dyn Fn(&str, &Value, &mut Value) + Send + Sync;

impl LyingProxy {
    /// `rewrite(method, params, result)` edits each answer before it is sent on.
    fn start(anvil: &Anvil, rewrite: impl Fn(&str, &Value, &mut Value) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let upstream = anvil.url.clone();
        let requests = Arc::new(AtomicUsize::new(0));
        let rewrite: Arc<Rewrite> = Arc::new(rewrite);
        let counted = requests.clone();
        // The thread outlives the test only as long as the test process does.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (upstream, rewrite, counted) = (upstream.clone(), rewrite.clone(), counted.clone());
                std::thread::spawn(move || serve(stream, &upstream, &*rewrite, &counted));
            }
        });
        Self { url, requests }
    }
}

/// One HTTP request: forwards its JSON-RPC call, rewrites the answer.
fn serve(stream: TcpStream, upstream: &str, rewrite: &Rewrite, counted: &AtomicUsize) {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    counted.fetch_add(1, Ordering::SeqCst);
    let call: Value = serde_json::from_slice(&body).unwrap();
    let text = ureq::post(upstream)
        .header("Content-Type", "application/json")
        .send(&body[..])
        .unwrap()
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .unwrap();
    let mut reply: Value = serde_json::from_str(&text).unwrap();
    let method = call["method"].as_str().unwrap_or_default();
    rewrite(method, &call["params"], &mut reply["result"]);
    let answer = reply.to_string();
    let mut stream = reader.into_inner();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        answer.len()
    );
    let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(answer.as_bytes()));
}

/// Applies `edit` to every transaction object with hash `tx` in `value`
/// (a transaction, or a block listing its transactions).
fn each_tx(value: &mut Value, tx: &str, edit: &mut dyn FnMut(&mut Value)) {
    match value {
        Value::Object(map) => {
            if map.contains_key("input") && map.get("hash").and_then(Value::as_str) == Some(tx) {
                edit(value);
                return;
            }
            for child in map.values_mut() {
                each_tx(child, tx, edit);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| each_tx(item, tx, edit)),
        _ => {}
    }
}

/// The hash of a transaction object as the chain computes it.
fn recomputed_tx_hash(tx: &Value) -> String {
    use alloy::eips::eip2718::Encodable2718;
    let tx: alloy::rpc::types::Transaction = serde_json::from_value(tx.clone()).unwrap();
    alloy::primitives::keccak256(tx.inner.inner().encoded_2718()).to_string()
}

/// The hash of a block's header as the chain computes it.
fn recomputed_block_hash(block: &Value) -> String {
    let header: alloy::rpc::types::Header = serde_json::from_value(block.clone()).unwrap();
    header.inner.hash_slow().to_string()
}

/// Whether a JSON-RPC call asks about block `number` by number.
fn asks_block(method: &str, params: &Value, number: u64) -> bool {
    method == "eth_getBlockByNumber" && params[0].as_str().is_some_and(|p| p == format!("0x{number:x}"))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A batch anchored in block 1 with two empty blocks mined on top, and a
/// never-anchored file with a forged receipt naming the real transaction:
/// its root is the file's own leaf, which the transaction does not carry.
struct Forgery {
    world: World,
    anvil: Anvil,
    anchored: PathBuf,
    forged: PathBuf,
    tx: String,
    /// `vouch:anchor:v1:` ‖ the forged root: what a lying node puts in the input.
    forged_input: String,
}

impl Forgery {
    fn new() -> Option<Self> {
        let anvil = Anvil::start()?;
        let world = World::new();
        let files = write_files(&world.path("batch"), 2);
        anchor(&world, &anvil, &[&world.path("batch")]).success();
        anvil.call("anvil_mine", json!(["0x2"]));
        let honest = read_json(&receipt_of(&files[0]));

        let forged = world.path("never-anchored.txt");
        std::fs::write(&forged, "a photo no newsroom ever anchored\n").unwrap();
        let digest: [u8; 32] = hex::decode(sha256(&forged)).unwrap().try_into().unwrap();
        let nonce = [7u8; 16];
        let root = vouch::anchor::merkle::leaf(&digest, &nonce);
        let mut receipt = honest.clone();
        receipt["sha256"] = json!(hex::encode(digest));
        receipt["nonce"] = json!(hex::encode(nonce));
        receipt["merkle_path"] = json!([]);
        receipt["root"] = json!(hex::encode(root));
        std::fs::write(receipt_of(&forged), receipt.to_string()).unwrap();
        let mut input = vouch::anchor::evm::CALLDATA_PREFIX.to_vec();
        input.extend_from_slice(&root);
        Some(Self {
            world,
            tx: honest["tx_hash"].as_str().unwrap().to_string(),
            anvil,
            anchored: files[0].clone(),
            forged,
            forged_input: format!("0x{}", hex::encode(input)),
        })
    }

    fn verdict(&self, nodes: &[&str], file: &Path) -> (String, String) {
        verdict(&self.world, nodes, file)
    }
}

#[test]
fn a_node_that_rewrites_the_input_cannot_confirm_a_file_never_anchored() {
    let Some(f) = Forgery::new() else { return };
    // The honest node: the transaction does not carry the forged root.
    let (state, reason) = f.verdict(&[&f.anvil.url], &f.forged);
    assert_eq!(state, "invalid");
    assert!(reason.contains("does not carry root"), "{reason}");

    // 1. The input rewritten where vouch asks by hash; the hash field left as asked.
    let (tx, input) = (f.tx.clone(), f.forged_input.clone());
    let by_hash = LyingProxy::start(&f.anvil, move |method, _, result| {
        if method == "eth_getTransactionByHash" {
            each_tx(result, &tx, &mut |t| t["input"] = json!(input));
        }
    });
    // 2. The input rewritten everywhere the transaction appears, in its block too.
    let (tx, input) = (f.tx.clone(), f.forged_input.clone());
    let everywhere =
        LyingProxy::start(&f.anvil, move |_, _, result| each_tx(result, &tx, &mut |t| t["input"] = json!(input)));
    // 3. A node without a transaction index: only the block's copy, rewritten.
    let (tx, input) = (f.tx.clone(), f.forged_input.clone());
    let block_only = LyingProxy::start(&f.anvil, move |method, _, result| match method {
        "eth_getTransactionByHash" => *result = Value::Null,
        _ => each_tx(result, &tx, &mut |t| t["input"] = json!(input)),
    });
    for (proxy, expected) in [
        (&by_hash, "does not hash to its hash"),
        (&everywhere, "does not hash to its hash"),
        (&block_only, "transactionsRoot of block 1"),
    ] {
        for file in [&f.forged, &f.anchored] {
            let (state, reason) = f.verdict(&[&proxy.url], file);
            assert_eq!(state, "invalid", "{}: {reason}", file.display());
            assert!(reason.contains(expected) && reason.contains("the node altered it"), "{reason}");
            assert!(reason.contains(&proxy.url), "the reason names the node: {reason}");
        }
    }
}

#[test]
fn a_rewritten_transaction_given_its_own_consistent_hash_is_still_refused() {
    let Some(f) = Forgery::new() else { return };
    // The lie made consistent: the altered transaction gets the hash it really
    // has, the forged receipt names that hash, and the node serves it as
    // sitting in the real block 1: in its answer by hash only, or in block 1's
    // list of transactions too.
    let mut altered = f.anvil.call("eth_getTransactionByHash", json!([f.tx]));
    altered["input"] = json!(f.forged_input);
    let forged_hash = recomputed_tx_hash(&altered);
    altered["hash"] = json!(forged_hash);
    assert_ne!(forged_hash, f.tx);
    edit_receipt(&f.forged, "tx_hash", json!(forged_hash));

    let served = altered.clone();
    let by_hash = LyingProxy::start(&f.anvil, move |method, params, result| {
        if method == "eth_getTransactionByHash" && params[0] == served["hash"] {
            *result = served.clone();
        }
    });
    let served = altered.clone();
    let in_block = LyingProxy::start(&f.anvil, move |method, params, result| {
        if method == "eth_getTransactionByHash" && params[0] == served["hash"] {
            *result = served.clone();
        }
        if asks_block(method, params, 1) {
            result["transactions"].as_array_mut().unwrap().push(served.clone());
        }
    });
    let (state, reason) = f.verdict(&[&by_hash.url], &f.forged);
    assert_eq!(state, "invalid");
    assert!(reason.contains("yet that block does not hold it"), "{reason}");
    let (state, reason) = f.verdict(&[&in_block.url], &f.forged);
    assert_eq!(state, "invalid");
    assert!(reason.contains("transactionsRoot of block 1") && reason.contains("does not match"), "{reason}");
}

#[test]
fn a_rewritten_status_cannot_make_a_failed_transaction_count() {
    let Some(f) = Forgery::new() else { return };
    // A transaction that carries the root of a real batch but failed: sent to
    // an account whose code always reverts.
    let honest = read_json(&receipt_of(&f.anchored));
    let reverter = "0x00000000000000000000000000000000000000fe";
    f.anvil.call("anvil_setCode", json!([reverter, "0x60006000fd"]));
    let mut input = vouch::anchor::evm::CALLDATA_PREFIX.to_vec();
    input.extend_from_slice(&hex::decode(honest["root"].as_str().unwrap()).unwrap());
    let failed = f.anvil.send(reverter, &input);
    let number = f.anvil.block_number();
    edit_receipt(&f.anchored, "tx_hash", json!(failed));
    edit_receipt(&f.anchored, "block_number", json!(number));
    edit_receipt(&f.anchored, "block_hash", json!(f.anvil.block_hash(number)));
    let (state, reason) = f.verdict(&[&f.anvil.url], &f.anchored);
    assert_eq!(state, "invalid");
    assert!(reason.contains("failed on chain"), "{reason}");

    let flip = |result: &mut Value, tx: &str| {
        let receipts = match result {
            Value::Array(items) => items.iter_mut().collect::<Vec<_>>(),
            other => vec![other],
        };
        for receipt in receipts {
            if receipt["transactionHash"] == tx {
                receipt["status"] = json!("0x1");
            }
        }
    };
    // 1. Success claimed in the receipts of the whole block.
    let tx = failed.clone();
    let block_receipts = LyingProxy::start(&f.anvil, move |method, _, result| {
        if method == "eth_getBlockReceipts" {
            flip(result, &tx);
        }
    });
    // 2. Success claimed in the single receipt (vouch does not rely on it).
    let tx = failed.clone();
    let single_receipt = LyingProxy::start(&f.anvil, move |method, _, result| {
        if method == "eth_getTransactionReceipt" {
            flip(result, &tx);
        }
    });
    let (state, reason) = f.verdict(&[&block_receipts.url], &f.anchored);
    assert_eq!(state, "invalid");
    assert!(reason.contains(&format!("receiptsRoot of block {number}")), "{reason}");
    let (state, reason) = f.verdict(&[&single_receipt.url], &f.anchored);
    assert_eq!(state, "invalid");
    assert!(reason.contains("failed on chain"), "{reason}");
}

#[test]
fn a_node_that_serves_another_block_or_moves_the_transaction_is_refused() {
    let Some(f) = Forgery::new() else { return };
    let block2 = f.anvil.block_hash(2);
    assert_eq!(f.verdict(&[&f.anvil.url], &f.anchored).0, "confirmed");

    // 1. Block 1 under another block's hash.
    let other = block2.clone();
    let renamed = LyingProxy::start(&f.anvil, move |method, params, result| {
        if asks_block(method, params, 1) {
            result["hash"] = json!(other);
        }
    });
    // 2. Block 2, whole and consistent, when asked for block 1.
    let upstream = f.anvil.url.clone();
    let substituted = LyingProxy::start(&f.anvil, move |method, params, result| {
        if asks_block(method, params, 1) {
            *result = rpc_call(&upstream, method, json!(["0x2", true]));
        }
    });
    // 3. The transaction moved: the node says it sits in block 2.
    let (tx, other) = (f.tx.clone(), block2.clone());
    let moved = LyingProxy::start(&f.anvil, move |method, _, result| {
        if method == "eth_getTransactionByHash" {
            each_tx(result, &tx, &mut |t| {
                t["blockNumber"] = json!("0x2");
                t["blockHash"] = json!(other);
            });
        }
    });
    // 4. Moved and taken out of block 1.
    let (tx, other) = (f.tx.clone(), block2.clone());
    let removed = LyingProxy::start(&f.anvil, move |method, params, result| {
        if method == "eth_getTransactionByHash" {
            result["blockNumber"] = json!("0x2");
            result["blockHash"] = json!(other);
        }
        if asks_block(method, params, 1) {
            result["transactions"].as_array_mut().unwrap().retain(|t| t["hash"] != tx.as_str());
        }
    });
    for (proxy, expected) in [
        (&renamed, format!("block 1 header does not hash to {block2}")),
        (&substituted, "asked for block 1, it sent block 2".to_string()),
        (&moved, format!("is in block 2 ({block2}), yet block 1")),
        (&removed, "transactionsRoot of block 1".to_string()),
    ] {
        let (state, reason) = f.verdict(&[&proxy.url], &f.anchored);
        assert_eq!(state, "invalid", "{}: {reason}", proxy.url);
        assert!(reason.contains(&expected), "{reason}");
    }
}

#[test]
fn independent_nodes_must_agree_on_the_block() {
    let Some(f) = Forgery::new() else { return };
    let block1 = f.anvil.block_hash(1);
    // The same node twice agrees with itself.
    assert_eq!(f.verdict(&[&f.anvil.url, &f.anvil.url], &f.anchored).0, "confirmed");

    // A node serving a chain of its own, every hash rebuilt: block 1 with
    // other extra data, re-hashed, and the transaction placed in it.
    let rebuild = |block: &mut Value| {
        block["extraData"] = json!("0x766f756368");
        let hash = recomputed_block_hash(block);
        block["hash"] = json!(hash);
        for tx in block["transactions"].as_array_mut().unwrap() {
            tx["blockHash"] = json!(hash);
        }
        hash
    };
    let mut forged_block = f.anvil.call("eth_getBlockByNumber", json!(["0x1", true]));
    let forged_hash = rebuild(&mut forged_block);
    let (tx, upstream, real_hash) = (f.tx.clone(), f.anvil.url.clone(), block1.clone());
    let own_chain = LyingProxy::start(&f.anvil, move |method, params, result| {
        if asks_block(method, params, 1) {
            rebuild(result);
        } else if method == "eth_getTransactionByHash" {
            each_tx(result, &tx, &mut |t| t["blockHash"] = json!(forged_hash));
        } else if method == "eth_getBlockReceipts" && params[0] == forged_hash.as_str() {
            *result = rpc_call(&upstream, method, json!([real_hash]));
        }
    });
    let forged_hash = forged_block["hash"].as_str().unwrap().to_string();
    // Alone it contradicts the receipt's block hash.
    let (state, reason) = f.verdict(&[&own_chain.url], &f.anchored);
    assert_eq!(state, "invalid");
    assert!(
        reason.contains(&format!("is in block 1 ({forged_hash}), not the receipt's block 1 ({block1})")),
        "{reason}"
    );
    // Beside an honest node, neither is believed, and both answers are named.
    for nodes in [[&f.anvil.url, &own_chain.url], [&own_chain.url, &f.anvil.url]] {
        let (state, reason) = f.verdict(&[nodes[0], nodes[1]], &f.anchored);
        assert_eq!(state, "unverifiable", "{reason}");
        assert!(reason.contains("the nodes disagree on block 1"), "{reason}");
        assert!(reason.contains(&forged_hash) && reason.contains(&block1), "{reason}");
        assert!(reason.contains(nodes[0].as_str()) && reason.contains(nodes[1].as_str()), "{reason}");
    }

    // Another chain altogether with the same id: a second anvil with a block 1 of its own.
    let Some(other) = Anvil::start() else { return };
    other.call("anvil_mine", json!(["0x3"]));
    let (state, reason) = f.verdict(&[&f.anvil.url, &other.url], &f.anchored);
    assert_eq!(state, "unverifiable", "{reason}");
    assert!(reason.contains(&block1) && reason.contains(&other.block_hash(1)), "{reason}");
}

/// `vouch verify --json --confirmations K` against `nodes`: the exit code,
/// and the file's anchor as its record shows it.
fn verify_deep(world: &World, nodes: &[&str], confirmations: u64, file: &Path) -> (Option<i32>, Value) {
    let mut cmd = world.vouch();
    cmd.arg("verify").arg(file).args(["--json", "--confirmations", &confirmations.to_string()]);
    for node in nodes {
        cmd.args(["--rpc", node]);
    }
    let out = cmd.output().unwrap();
    let reports = json_lines(&out.stdout);
    assert_eq!(reports.len(), 1, "{reports:?}");
    (out.status.code(), reports[0]["anchors"][0].clone())
}

#[test]
fn among_nodes_that_agree_on_the_block_the_worst_answer_decides_and_is_named() {
    let Some(f) = Forgery::new() else { return };
    let block1 = f.anvil.block_hash(1);
    // One node: its reason as it is. Block 1 under head 3 has 3 confirmations.
    let (code, anchor) = verify_deep(&f.world, &[&f.anvil.url], 4, &f.anchored);
    assert_eq!(
        (code, &anchor["state"], &anchor["reason"]),
        (Some(1), &json!("pending"), &json!("3 of 4 confirmations"))
    );

    // A node whose index says the transaction is in no block yet, while the
    // block it serves holds it: invalid, first or second, named once.
    let tx = f.tx.clone();
    let unplaced = LyingProxy::start(&f.anvil, move |method, _, result| {
        if method == "eth_getTransactionByHash" {
            each_tx(result, &tx, &mut |t| {
                t["blockNumber"] = Value::Null;
                t["blockHash"] = Value::Null;
                t["transactionIndex"] = Value::Null;
            });
        }
    });
    let expected = format!(
        "{} says transaction {} is not in a block yet, yet block 1 ({block1}) holds it: the node contradicts itself",
        unplaced.url, f.tx
    );
    for nodes in [[&f.anvil.url, &unplaced.url], [&unplaced.url, &f.anvil.url]] {
        let (code, anchor) = verify_deep(&f.world, &[nodes[0], nodes[1]], 1, &f.anchored);
        assert_eq!((code, &anchor["state"]), (Some(1), &json!("invalid")), "{anchor}");
        assert_eq!(anchor["reason"], json!(expected));
    }

    // A node that lags behind (its head is block 1): one confirmation where
    // two are asked, while the other node has three. Pending, said of that node.
    let lagging = LyingProxy::start(&f.anvil, move |method, _, result| {
        if method == "eth_blockNumber" {
            *result = json!("0x1");
        }
    });
    for nodes in [[&f.anvil.url, &lagging.url], [&lagging.url, &f.anvil.url]] {
        let (code, anchor) = verify_deep(&f.world, &[nodes[0], nodes[1]], 2, &f.anchored);
        assert_eq!((code, &anchor["state"]), (Some(1), &json!("pending")), "{anchor}");
        assert_eq!(anchor["reason"], json!(format!("{}: 1 of 2 confirmations", lagging.url)));
        assert_eq!(anchor["confirmations"], 1);
    }
    assert_eq!(f.verdict(&[&f.anvil.url, &f.anvil.url], &f.anchored).0, "confirmed");
}

#[test]
fn a_receipt_naming_the_wrong_block_or_a_replaced_block_is_invalid() {
    let Some(f) = Forgery::new() else { return };
    let honest = read_json(&receipt_of(&f.anchored));
    let block1 = f.anvil.block_hash(1);
    let block2 = f.anvil.block_hash(2);

    // The right hash, the wrong height.
    edit_receipt(&f.anchored, "block_number", json!(2));
    let (state, reason) = f.verdict(&[&f.anvil.url], &f.anchored);
    assert_eq!(state, "invalid");
    assert!(reason.contains(&format!("is in block 1 ({block1}), not the receipt's block 2")), "{reason}");
    // The right height, the wrong hash.
    edit_receipt(&f.anchored, "block_number", json!(1));
    edit_receipt(&f.anchored, "block_hash", json!(block2));
    let (state, reason) = f.verdict(&[&f.anvil.url], &f.anchored);
    assert_eq!(state, "invalid");
    assert!(reason.contains(&format!("not the receipt's block 1 ({block2})")), "{reason}");
    edit_receipt(&f.anchored, "block_hash", honest["block_hash"].clone());
    assert_eq!(f.verdict(&[&f.anvil.url], &f.anchored).0, "confirmed");

    // A node whose index still places the transaction in block 1 after block
    // 1 was replaced (a reorganisation it has not caught up with).
    let stale = f.anvil.call("eth_getTransactionByHash", json!([f.tx]));
    f.anvil.call("anvil_rollback", json!([3]));
    f.anvil.call("anvil_mine", json!(["0x3"]));
    let replaced = f.anvil.block_hash(1);
    assert_ne!(replaced, block1);
    let tx = f.tx.clone();
    let lagging = LyingProxy::start(&f.anvil, move |method, params, result| {
        if method == "eth_getTransactionByHash" && params[0] == tx.as_str() {
            *result = stale.clone();
        }
    });
    let (state, reason) = f.verdict(&[&lagging.url], &f.anchored);
    assert_eq!(state, "invalid", "{reason}");
    assert!(
        reason.contains(&format!("is in block 1 ({block1}), not the receipt's block 1 ({block1})"))
            && reason.contains("reorganised"),
        "{reason}"
    );
    // The honest node no longer knows the transaction at all.
    let (state, reason) = f.verdict(&[&f.anvil.url], &f.anchored);
    assert_eq!(state, "invalid");
    assert!(reason.contains("no transaction"), "{reason}");
}

#[test]
fn merkle_paths_and_receipts_at_the_size_limits() {
    let Some(anvil) = Anvil::start() else { return };
    let world = World::new();
    let file = world.path("deep.txt");
    std::fs::write(&file, "a file at the bottom of the deepest batch\n").unwrap();
    let digest: [u8; 32] = hex::decode(sha256(&file)).unwrap().try_into().unwrap();
    let nonce = [9u8; 16];
    let step = json!({"side": "left", "hash": "11".repeat(32)});
    let path: Vec<vouch::anchor::merkle::Step> = serde_json::from_value(json!(vec![step; 64])).unwrap();
    let root = vouch::anchor::merkle::root_from_path(vouch::anchor::merkle::leaf(&digest, &nonce), &path).unwrap();
    let mut input = vouch::anchor::evm::CALLDATA_PREFIX.to_vec();
    input.extend_from_slice(&root);
    let tx = anvil.send(DEV_ADDRESS, &input);
    let receipt = json!({
        "version": 1, "sha256": hex::encode(digest), "nonce": hex::encode(nonce), "merkle_path": path,
        "root": hex::encode(root), "chain_id": CHAIN_ID, "tx_hash": tx, "block_number": 1,
        "block_hash": anvil.block_hash(1), "block_time": "2026-01-01T00:00:00Z"
    });
    let text = receipt.to_string();
    // The deepest path a batch can have, in a receipt of exactly the largest size read.
    let limit = 1 << 20;
    let padded = format!("{text}{}", " ".repeat(limit - text.len()));
    std::fs::write(receipt_of(&file), &padded).unwrap();
    assert_eq!(verdict(&world, &[&anvil.url], &file).0, "confirmed");
    // One byte more is refused before it is read.
    std::fs::write(receipt_of(&file), format!("{padded} ")).unwrap();
    world.vouch().args(["verify", "--rpc", &anvil.url]).arg(&file).assert().code(2).stderr(
        predicates::str::contains("deep.txt.anchor.json: not a valid anchor receipt")
            .and(predicates::str::contains(format!("{} bytes, more than the {limit}", limit + 1))),
    );
}
