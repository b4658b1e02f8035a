//! A reporter signed photos in January 2020 with a certificate that expired
//! at the end of that month, without a timestamp, and anchored them the day
//! they were signed. Years later a desk verifies them. C2PA alone says
//! `invalid` (`signingCredential.expired`): nothing proves when they were
//! signed. vouch's rule, beyond C2PA: a confirmed Bitcoin or EVM anchor of
//! the file's exact bytes is that proof, when its block time falls inside
//! the certificate chain's validity. Everything else an attacker might try
//! — a block after the expiry, a pending or unchecked anchor, a receipt of
//! other bytes, a forged block time, a signer no anchor vouches for — must
//! leave the file untrusted.
//!
//! The chains are real and local: anvil (npm, `make deps`) for EVM, and a
//! calendar speaking the OpenTimestamps protocol with regtest headers for
//! Bitcoin (`tests/interop/ots_calendar.py`, python-opentimestamps).

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::{json, Value};

/// 2020-01-05, anvil's genesis: blocks can then be dated in January 2020.
const GENESIS: &str = "1578182400";
/// 2020-01-10 12:30 UTC: inside the signer's validity (to 2020-01-31).
const IN_TIME: u64 = 1578659400;
/// 2020-03-01: after the signer's certificate expired.
const TOO_LATE: u64 = 1583020800;

/// A reporter whose 30-day identity, made on 2020-01-01, has long expired,
/// and a way to sign fixtures as of 2020-01-10.
struct Reporter {
    world: World,
    faketime: PathBuf,
}

impl Reporter {
    fn new() -> Option<Self> {
        let faketime = faketime()?;
        let world = World::new();
        world.expired_identity(&faketime);
        Some(Self { world, faketime })
    }

    /// `photo.jpg` signed on 2020-01-10 into `<work>/<folder>/`.
    fn signed(&self, folder: &str) -> PathBuf {
        let out = self.world.path(folder);
        let signed = self
            .world
            .at(&self.faketime, "2020-01-10 12:00:00")
            .arg("sign")
            .arg(fixture("photo.jpg"))
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        assert!(signed.status.success(), "{}", String::from_utf8_lossy(&signed.stderr));
        out.join("photo.jpg")
    }
}

/// Anchors `file` on anvil in a block dated `at` (Unix seconds).
fn anchor_evm_at(world: &World, anvil: &Anvil, file: &Path, at: u64) {
    anvil.call("evm_setNextBlockTimestamp", json!([at]));
    world
        .vouch()
        .arg("anchor")
        .arg(file)
        .args(["--to", "evm", "--rpc", &anvil.url, "--key-env", "ANCHOR_KEY"])
        .env("ANCHOR_KEY", DEV_KEY)
        .assert()
        .success();
}

/// `vouch verify --json` of one file with extra flags: (exit code, record).
fn verify(world: &World, file: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let out = world.vouch().arg("verify").arg(file).arg("--json").args(extra).output().unwrap();
    let mut records = json_lines(&out.stdout);
    assert_eq!(records.len(), 1, "{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code(), records.remove(0))
}

/// The verdict on a file whose certificate expired: invalid, for that
/// reason, with no time evidence.
fn assert_expired_and_untrusted(code: Option<i32>, record: &Value) {
    let c2pa = &record["c2pa"];
    assert_eq!(c2pa["state"], "invalid", "{record}");
    assert!(c2pa["codes"].as_array().unwrap().iter().any(|c| c == "signingCredential.expired"), "{c2pa}");
    assert!(c2pa["time_evidence"].is_null(), "{c2pa}");
    assert_eq!(code, Some(1));
}

#[test]
fn an_evm_anchor_inside_the_expired_certificates_validity_keeps_the_file_trusted() {
    let Some(reporter) = Reporter::new() else { return };
    let Some(anvil) = Anvil::start_with(&["--timestamp", GENESIS]) else { return };
    let world = &reporter.world;
    let photo = reporter.signed("in-time");
    anchor_evm_at(world, &anvil, &photo, IN_TIME);

    let (code, record) = verify(world, &photo, &["--rpc", &anvil.url]);
    let c2pa = &record["c2pa"];
    assert_eq!(record["anchors"][0]["state"], "confirmed", "{record}");
    assert_eq!(c2pa["state"], "trusted", "{record}");
    assert_eq!(code, Some(0));
    let block = record["anchors"][0]["block"].as_u64().unwrap();
    assert_eq!(c2pa["time_evidence"], json!({"kind": "evm", "block": block, "time": "2020-01-10T12:30:00Z"}));
    assert!(c2pa["codes"].as_array().unwrap().is_empty(), "{c2pa}");
    assert!(c2pa["reason"].as_str().unwrap().contains("vouch's rule, beyond C2PA"), "{c2pa}");
    assert_eq!(c2pa["trust"]["list"], "local");
    assert_eq!(c2pa["trust"]["anchor"], "Old Reporter Root CA", "{c2pa}");
    // The words say it too.
    let out = world.vouch().arg("verify").arg(&photo).args(["--rpc", &anvil.url]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("time evidence: evm block {block} at 2020-01-10T12:30:00Z"))
            && text.contains("(vouch's rule, beyond C2PA)"),
        "{text}"
    );

    // A CI policy that requires trust passes on it, and one that switches the
    // rule off fails on it.
    let policy = world.path("policy.toml");
    std::fs::write(&policy, "require_c2pa = \"trusted\"\n").unwrap();
    let check = || {
        let mut cmd = world.vouch();
        cmd.arg("check").arg(&photo).args(["--rpc", &anvil.url]).arg("--policy").arg(&policy);
        cmd
    };
    check().assert().code(0);
    let html = world.path("report.html");
    check().args(["--format", "html", "--out"]).arg(&html).assert().code(0);
    let html = std::fs::read_to_string(&html).unwrap();
    assert!(
        html.contains("(vouch&#39;s rule, beyond C2PA)") || html.contains("(vouch's rule, beyond C2PA)"),
        "HTML says it"
    );
    let out = check().output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("time evidence: evm block"), "check's text says it");
    std::fs::write(&policy, "require_c2pa = \"trusted\"\nanchor_time_evidence = false\n").unwrap();
    check().assert().code(1);
    let out = check().arg("--json").output().unwrap();
    let c2pa = &json_lines(&out.stdout)[0]["report"]["c2pa"];
    assert!(c2pa.is_null() || c2pa["time_evidence"].is_null(), "{c2pa}");

    // Attack: the same anchor, but nobody asked a node about it — its block
    // time is only what the receipt claims.
    let (code, record) = verify(world, &photo, &[]);
    assert_eq!(record["anchors"][0]["state"], "unverifiable");
    assert_expired_and_untrusted(code, &record);

    // Attack: a receipt of other bytes. A second photo signed the same day
    // but never anchored carries the first one's receipt.
    let unanchored = reporter.signed("unanchored");
    std::fs::copy(format!("{}.anchor.json", photo.display()), format!("{}.anchor.json", unanchored.display())).unwrap();
    let (code, record) = verify(world, &unanchored, &["--rpc", &anvil.url]);
    assert_eq!(record["anchors"][0]["state"], "invalid", "{record}");
    assert_expired_and_untrusted(code, &record);

    // Attack: the signer's root is no anchor of the verifier's (another desk,
    // its own home): the expired certificate chains to nothing it trusts.
    let (code, record) =
        verify(world, &photo, &["--rpc", &anvil.url, "--identity", world.path("no-identity-here").to_str().unwrap()]);
    assert_eq!(record["anchors"][0]["state"], "confirmed");
    assert_expired_and_untrusted(code, &record);
}

#[test]
fn an_anchored_edit_is_trusted_only_while_its_parent_raises_no_new_objection() {
    // The reporter signed a photo and, the same day, crops of it (edits
    // whose ingredient is the signed photo, its manifest inside the
    // crop's), and anchored each crop in time. The rule lifts the crop's
    // own signer's expiry only; whatever c2pa reports against an ingredient
    // today is never lifted, as it would keep an unexpired crop from
    // `trusted` too.
    let Some(python) = python() else { return };
    let Some(reporter) = Reporter::new() else { return };
    let Some(anvil) = Anvil::start_with(&["--timestamp", GENESIS]) else { return };
    let world = &reporter.world;
    let parent = reporter.signed("parent");

    // Cropped with vouch, which recorded the parent as it stood then
    // (valid: signing trusts no anchor). c2pa reports nothing new about it
    // today (its expiry came after the crop recorded it inside its
    // validity): the anchor makes the crop trusted.
    let by_vouch = world.path("crop-by-vouch");
    let signed = world
        .at(&reporter.faketime, "2020-01-10 12:10:00")
        .arg("sign")
        .arg(&parent)
        .arg("-o")
        .arg(&by_vouch)
        .args(["--title", "Cropped for web", "--source-type", "minor-human-edits"])
        .output()
        .unwrap();
    assert!(signed.status.success(), "{}", String::from_utf8_lossy(&signed.stderr));
    let by_vouch = by_vouch.join("photo.jpg");
    anchor_evm_at(world, &anvil, &by_vouch, IN_TIME);
    let (code, record) = verify(world, &by_vouch, &["--rpc", &anvil.url]);
    let c2pa = &record["c2pa"];
    assert_eq!(c2pa["ingredients"][0]["relationship"], "parentOf", "{c2pa}");
    assert_eq!(c2pa["ingredients"][0]["state"], "valid", "{c2pa}");
    assert_eq!(c2pa["state"], "trusted", "{record}");
    assert_eq!(c2pa["time_evidence"]["time"], "2020-01-10T12:30:00Z", "{c2pa}");
    assert_eq!(code, Some(0));

    // Cropped with an editor (c2pa-python) that trusted the reporter's
    // root: it recorded the parent `trusted`. Today c2pa finds the parent's
    // signer untrusted (expired), an objection against the ingredient that
    // the crop's anchor does not answer.
    let by_editor = world.path("crop-by-editor.jpg");
    let identity = world.home().join("identity");
    let edited = faked(&reporter.faketime, &python, "2020-01-10 12:10:00")
        .arg(fixture("../tests/interop/c2pa_python.py"))
        .arg("sign")
        .arg(&parent)
        .arg(&by_editor)
        .arg("--cert")
        .arg(identity.join("signer.pem"))
        .arg("--key")
        .arg(identity.join("signer.key"))
        .arg("--edit")
        .arg("--anchors")
        .arg(identity.join("root.pem"))
        .output()
        .unwrap();
    assert!(edited.status.success(), "{}", String::from_utf8_lossy(&edited.stderr));
    anchor_evm_at(world, &anvil, &by_editor, IN_TIME + 600);
    let (code, record) = verify(world, &by_editor, &["--rpc", &anvil.url]);
    let c2pa = &record["c2pa"];
    assert_eq!(record["anchors"][0]["state"], "confirmed", "{record}");
    assert_eq!(c2pa["ingredients"][0]["relationship"], "parentOf", "{c2pa}");
    assert_eq!(c2pa["ingredients"][0]["state"], "trusted", "as recorded: {c2pa}");
    // The crop's own signer expired and is untrusted now, and so is its
    // parent's: the same two codes, nothing else.
    let mut codes: Vec<&str> = c2pa["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    codes.sort();
    assert_eq!(codes, ["signingCredential.expired", "signingCredential.untrusted"], "{c2pa}");
    assert_expired_and_untrusted(code, &record);
}

#[test]
fn an_evm_anchor_after_the_expiry_proves_nothing_even_with_a_forged_receipt_time() {
    let Some(reporter) = Reporter::new() else { return };
    let Some(anvil) = Anvil::start_with(&["--timestamp", GENESIS]) else { return };
    let world = &reporter.world;
    // An hour before the expiry (2020-01-31 00:00): a block may be made
    // later than its recorded time, so that is too close to count.
    let edge = reporter.signed("edge");
    anchor_evm_at(world, &anvil, &edge, 1580425200);
    let (code, record) = verify(world, &edge, &["--rpc", &anvil.url]);
    assert_eq!(record["anchors"][0]["time"], "2020-01-30T23:00:00Z", "{record}");
    assert_expired_and_untrusted(code, &record);

    let photo = reporter.signed("too-late");
    anchor_evm_at(world, &anvil, &photo, TOO_LATE);
    let (code, record) = verify(world, &photo, &["--rpc", &anvil.url]);
    assert_eq!(record["anchors"][0]["state"], "confirmed");
    assert_eq!(record["anchors"][0]["time"], "2020-03-01T00:00:00Z");
    assert_expired_and_untrusted(code, &record);

    // The receipt rewritten to claim a block time inside the validity: the
    // time that counts is the one in the block the node serves.
    let receipt = PathBuf::from(format!("{}.anchor.json", photo.display()));
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(&receipt).unwrap()).unwrap();
    json["block_time"] = json!("2020-01-10T12:30:00Z");
    std::fs::write(&receipt, json.to_string()).unwrap();
    let (code, record) = verify(world, &photo, &["--rpc", &anvil.url]);
    assert_eq!(record["anchors"][0]["time"], "2020-03-01T00:00:00Z", "{record}");
    assert_expired_and_untrusted(code, &record);
}

/// A calendar whose Bitcoin (regtest) block is dated `block_time`.
fn calendar_at(python: &Path, block_time: u64) -> Calendar {
    Calendar::start_with(python, &["--block-time", &block_time.to_string()])
}

/// Stamps `file` with `calendar`; mined and upgraded when `mine`.
fn stamp(world: &World, calendar: &Calendar, file: &Path, mine: bool) {
    world.vouch().arg("anchor").arg(file).args(["--to", "ots", "--calendar", &calendar.url]).assert().success();
    if mine {
        calendar.mine();
        let proof = format!("{}.ots", file.display());
        world.vouch().args(["anchor", "upgrade", "--calendar", &calendar.url]).arg(&proof).assert().success();
    }
}

/// `verify --json` against the calendar's regtest headers.
fn verify_bitcoin(world: &World, calendar: &Calendar, file: &Path, name: &str) -> (Option<i32>, Value) {
    let headers = world.path(&format!("{name}-headers.txt"));
    std::fs::write(&headers, calendar.get("/headers")).unwrap();
    verify(world, file, &["--headers", headers.to_str().unwrap(), "--bitcoin-network", "regtest"])
}

#[test]
fn a_bitcoin_anchor_inside_the_validity_keeps_the_file_trusted_a_pending_or_late_one_does_not() {
    let Some(python) = python() else { return };
    let Some(reporter) = Reporter::new() else { return };
    let world = &reporter.world;

    let in_time = calendar_at(&python, IN_TIME);
    let photo = reporter.signed("bitcoin-in-time");
    stamp(world, &in_time, &photo, true);
    let (code, record) = verify_bitcoin(world, &in_time, &photo, "in-time");
    let c2pa = &record["c2pa"];
    assert_eq!(record["anchors"][0]["state"], "confirmed", "{record}");
    assert_eq!(c2pa["state"], "trusted", "{record}");
    assert_eq!(c2pa["time_evidence"], json!({"kind": "bitcoin", "block": 800000, "time": "2020-01-10T12:30:00Z"}));
    assert_eq!(code, Some(0));

    // Attack: stamped but not yet in a block — pending proves no time.
    let pending = reporter.signed("bitcoin-pending");
    stamp(world, &in_time, &pending, false);
    let (code, record) = verify_bitcoin(world, &in_time, &pending, "pending");
    assert_eq!(record["anchors"][0]["state"], "pending", "{record}");
    assert_expired_and_untrusted(code, &record);

    // Attack: a block mined after the certificate expired.
    let late = calendar_at(&python, TOO_LATE);
    let photo = reporter.signed("bitcoin-too-late");
    stamp(world, &late, &photo, true);
    let (code, record) = verify_bitcoin(world, &late, &photo, "too-late");
    assert_eq!(record["anchors"][0]["state"], "confirmed", "{record}");
    assert_expired_and_untrusted(code, &record);

    // Attack: a calendar that attests a block whose Merkle root the proof
    // does not reach — invalid, never evidence.
    let liar = Calendar::start_with(&python, &["--lie", "wrong-root", "--block-time", &IN_TIME.to_string()]);
    let photo = reporter.signed("bitcoin-lie");
    stamp(world, &liar, &photo, true);
    let (code, record) = verify_bitcoin(world, &liar, &photo, "lie");
    assert_ne!(record["anchors"][0]["state"], "confirmed", "{record}");
    assert_expired_and_untrusted(code, &record);
}

#[test]
fn a_sidecar_manifest_is_not_covered_by_the_anchor_of_the_media() {
    // The anchor covers the photo's bytes; a manifest kept beside it in
    // `photo.jpg.c2pa` could have been written at any time since.
    let Some(reporter) = Reporter::new() else { return };
    let Some(anvil) = Anvil::start_with(&["--timestamp", GENESIS]) else { return };
    let world = &reporter.world;
    let photo = world.fixture("photo.jpg");
    let signed =
        world.at(&reporter.faketime, "2020-01-10 12:00:00").arg("sign").arg("--sidecar").arg(&photo).output().unwrap();
    assert!(signed.status.success(), "{}", String::from_utf8_lossy(&signed.stderr));
    assert!(world.path("photo.c2pa").is_file(), "{:?}", listing(world.dir.path()));
    anchor_evm_at(world, &anvil, &photo, IN_TIME);
    let (code, record) = verify(world, &photo, &["--rpc", &anvil.url]);
    assert_eq!(record["anchors"][0]["state"], "confirmed");
    assert!(record["c2pa"]["sidecar"].as_bool().unwrap(), "{record}");
    assert_expired_and_untrusted(code, &record);
}

#[test]
fn attack_an_expired_self_signed_signer_listed_as_an_anchor_gains_nothing_from_an_anchor() {
    // A self-signed signer vouches only for itself (see trust_decisions.rs):
    // a block time inside its validity must not make it trusted either.
    let Some(python) = python() else { return };
    let Some(faketime) = faketime() else { return };
    let Some(anvil) = Anvil::start_with(&["--timestamp", GENESIS]) else { return };
    let world = World::new();
    let (cert, photo) =
        self_signed_photo(&world, &python, Some((&faketime, "2020-01-01 00:00:00", "2020-01-10 12:00:00")));
    anchor_evm_at(&world, &anvil, &photo, IN_TIME);
    let (code, record) = verify(&world, &photo, &["--rpc", &anvil.url, "--trust", cert.to_str().unwrap()]);
    assert_eq!(record["anchors"][0]["state"], "confirmed", "{record}");
    assert_ne!(record["c2pa"]["state"], "trusted", "{record}");
    assert!(record["c2pa"]["time_evidence"].is_null(), "{record}");
    assert_eq!(code, Some(1));
}
