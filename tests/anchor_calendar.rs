//! A newsroom anchors a day's files in one batch: one request per calendar,
//! a standard `.ots` per file, upgraded once the block is in, and checked
//! offline against the block header. The calendars run on 127.0.0.1 and
//! speak the real protocol, with replies made by python-opentimestamps.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use common::*;

fn ots_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ots"))
        .collect();
    files.sort();
    files
}

fn reference_parses_every_proof(python: &Path, proofs: &[PathBuf]) {
    let out = Std::new(python).arg(fixture("../tests/interop/ots_check.py")).args(proofs).output().unwrap();
    assert!(out.status.success(), "python-opentimestamps: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("ok {}", proofs.len()));
    // And the reference CLI reads one end to end.
    let ots = python.with_file_name("ots");
    let info = Std::new(&ots).arg("info").arg(&proofs[0]).output().unwrap();
    assert!(info.status.success(), "ots info: {}", String::from_utf8_lossy(&info.stderr));
}

#[test]
fn a_thousand_files_one_post_per_calendar_upgraded_and_confirmed() {
    let Some(python) = python() else { return };
    let world = World::new();
    let files = world.path("delivery");
    std::fs::create_dir_all(&files).unwrap();
    for i in 0..1000 {
        std::fs::write(files.join(format!("story-{i:04}.txt")), format!("story {i}\n")).unwrap();
    }
    let (alice, bob) = (Calendar::start(&python), Calendar::start(&python));

    let output = world
        .vouch()
        .arg("anchor")
        .arg(&files)
        .args(["--to", "ots", "--calendar", &alice.url, "--calendar", &bob.url, "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let anchored = json_lines(&output.stdout);
    assert_eq!(anchored.len(), 1000);
    assert!(anchored.iter().all(|a| a["root"] == anchored[0]["root"]), "one root for the batch");
    assert!(anchored[0]["ipfs_cid"].as_str().unwrap().starts_with("bafkrei"));
    assert_eq!((alice.posts(), bob.posts()), (1, 1), "exactly one POST per calendar");

    let proofs = ots_files(&files);
    assert_eq!(proofs.len(), 1000);
    reference_parses_every_proof(&python, &proofs);
    // Proofs grow with log2(n), not n.
    assert!(std::fs::metadata(&proofs[0]).unwrap().len() < 1000);

    // Before the block: pending, and never confirmed.
    let output = world.vouch().arg("verify").arg(&files).arg("--json").output().unwrap();
    let reports = json_lines(&output.stdout);
    assert!(reports.iter().all(|r| r["anchors"][0]["state"] == "pending"));
    assert_eq!(output.status.code(), Some(1));

    alice.mine();
    // Both calendars are asked only because the user trusts them; bob has
    // nothing yet and stays pending beside alice's attestation.
    let output = world
        .vouch()
        .args(["anchor", "upgrade", "--calendar", &alice.url, "--calendar", &bob.url])
        .args(&proofs)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    reference_parses_every_proof(&python, &proofs);

    let headers = world.path("headers.txt");
    std::fs::write(&headers, alice.get("/headers")).unwrap();
    let verify = || {
        let mut cmd = world.vouch();
        cmd.arg("verify").arg(&files).arg("--headers").arg(&headers).args(["--bitcoin-network", "regtest", "--json"]);
        cmd.output().unwrap()
    };
    let output = verify();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let reports = json_lines(&output.stdout);
    assert_eq!(reports.len(), 1000);
    assert!(reports.iter().all(|r| r["anchors"][0]["state"] == "confirmed" && r["anchors"][0]["block"] == 800000));
    assert_eq!(reports[0]["anchors"][0]["chain"], "bitcoin-regtest");
    // The same headers are no mainnet blocks: without regtest, nothing
    // confirms (the proofs stay pending on bob).
    let output = world.vouch().arg("verify").arg(&files).arg("--headers").arg(&headers).arg("--json").output();
    let reports = json_lines(&output.unwrap().stdout);
    assert!(reports.iter().all(|r| r["anchors"][0]["state"] == "pending"), "{}", reports[0]);

    // One changed file: exactly that one is invalid.
    std::fs::write(files.join("story-0421.txt"), "story 421, edited\n").unwrap();
    let output = verify();
    assert_eq!(output.status.code(), Some(1));
    let invalid: Vec<_> = json_lines(&output.stdout)
        .into_iter()
        .filter(|r| r["anchors"][0]["state"] == "invalid")
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(invalid.len(), 1);
    assert!(invalid[0].ends_with("story-0421.txt"));
}

#[test]
fn unreachable_calendars_fail_cleanly_and_write_nothing() {
    let world = World::new();
    let file = world.fixture("photo.jpg");
    let before = listing(world.dir.path());
    let output = world
        .vouch()
        .arg("anchor")
        .arg(&file)
        .args(["--to", "ots", "--calendar", "http://127.0.0.1:9", "--timeout", "5"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("calendars needed accepted the batch") && stderr.contains("127.0.0.1:9"), "{stderr}");
    assert_eq!(listing(world.dir.path()), before);
}

#[test]
fn re_anchoring_a_folder_anchors_only_new_and_changed_files() {
    let Some(python) = python() else { return };
    let world = World::new();
    let desk = world.path("desk");
    std::fs::create_dir_all(&desk).unwrap();
    std::fs::copy(fixture("photo.jpg"), desk.join("photo.jpg")).unwrap();
    std::fs::write(desk.join("notes.txt"), "first draft").unwrap();
    let calendar = Calendar::start(&python);
    let anchor = |force: bool| {
        let mut cmd = world.vouch();
        cmd.arg("anchor").arg(&desk).args(["--to", "ots", "--calendar", &calendar.url]);
        if force {
            cmd.arg("--force");
        }
        cmd.output().unwrap()
    };
    let summary = |out: &std::process::Output| {
        String::from_utf8_lossy(&out.stderr).trim_end().lines().last().unwrap_or_default().to_string()
    };
    assert_eq!(anchor(false).status.code(), Some(0));
    let (photo_receipt, notes_receipt) = (desk.join("photo.jpg.ots"), desk.join("notes.txt.ots"));
    let (photo_first, notes_first) = (sha256(&photo_receipt), std::fs::read(&notes_receipt).unwrap());
    assert_eq!(calendar.posts(), 1);

    // Nothing new: nothing is submitted, every receipt is kept.
    let again = anchor(false);
    assert_eq!(again.status.code(), Some(0), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(summary(&again), "0 anchored, 2 already anchored");
    assert!(String::from_utf8_lossy(&again.stdout).contains("already"));
    assert_eq!(sha256(&photo_receipt), photo_first);
    assert_eq!(calendar.posts(), 1, "nothing was submitted");

    // One file changes and one is added: one batch for the two.
    std::fs::write(desk.join("notes.txt"), "second draft").unwrap();
    std::fs::write(desk.join("new.txt"), "a new file").unwrap();
    let changed = anchor(false);
    assert_eq!(changed.status.code(), Some(0), "{}", String::from_utf8_lossy(&changed.stderr));
    assert_eq!(summary(&changed), "2 anchored, 1 already anchored");
    assert_eq!(calendar.posts(), 2, "one batch for the new and the changed file");
    assert_eq!(std::fs::read(desk.join("notes.txt.ots.1")).unwrap(), notes_first, "the old receipt is kept");
    assert!(String::from_utf8_lossy(&changed.stderr).contains("the earlier receipt is kept as"));
    world.vouch().arg("verify").arg(desk.join("notes.txt")).assert().code(1); // pending, and now for the new content
    let verified = world.vouch().args(["verify", "--json"]).arg(desk.join("notes.txt")).output().unwrap();
    assert_eq!(json_lines(&verified.stdout)[0]["anchors"][0]["state"], "pending");
    assert_eq!(sha256(&photo_receipt), photo_first);

    // --force anchors everything again.
    let forced = anchor(true);
    assert_eq!(forced.status.code(), Some(0));
    assert_eq!(summary(&forced), "3 anchored");
    assert_ne!(sha256(&photo_receipt), photo_first);
}

/// Anchors `name` with the calendars given (all must accept) and returns the file and its proof.
fn stamped(world: &World, name: &str, calendars: &[&Calendar]) -> (PathBuf, PathBuf) {
    let file = world.path(name);
    std::fs::write(&file, format!("{name}\n")).unwrap();
    let mut cmd = world.vouch();
    cmd.arg("anchor").arg(&file).args(["--to", "ots"]);
    for calendar in calendars {
        cmd.args(["--calendar", &calendar.url]);
    }
    cmd.args(["--min-calendars", &calendars.len().to_string()]).assert().success();
    let proof = world.path(&format!("{name}.ots"));
    (file, proof)
}

fn upgrade(world: &World, proof: &Path, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let output = world.vouch().args(["anchor", "upgrade"]).arg(proof).args(extra).arg("--json").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let mut lines = json_lines(&output.stdout);
    assert_eq!(lines.len(), 1, "stderr: {stderr}");
    (output.status.code(), lines.remove(0))
}

#[test]
fn upgrade_contacts_no_calendar_the_user_does_not_trust() {
    let Some(python) = python() else { return };
    let world = World::new();
    let stranger = Calendar::start(&python);
    let (_, proof) = stamped(&world, "story.txt", &[&stranger]);
    stranger.mine();
    let before = sha256(&proof);
    // Not trusted at all; then "trusted" under a URL that is a mere prefix of its own.
    let port = stranger.url.rsplit(':').next().unwrap();
    let prefix = format!("http://127.0.0.1:{}", &port[..port.len() - 1]);
    for extra in [vec![], vec!["--calendar", prefix.as_str()]] {
        let (code, upgraded) = upgrade(&world, &proof, &extra);
        assert_eq!(stranger.gets(), 0, "{extra:?}: a request reached the untrusted calendar");
        assert_eq!(upgraded["skipped"][0], stranger.url.as_str(), "{extra:?}: {upgraded}");
        assert_eq!((upgraded["changed"].as_bool(), code), (Some(false), Some(1)), "{upgraded}");
        assert_eq!(sha256(&proof), before);
    }
    // Named exactly, it is asked (once) and the proof completes.
    let (code, upgraded) = upgrade(&world, &proof, &["--calendar", &stranger.url]);
    assert_eq!((code, stranger.gets()), (Some(0), 1), "{upgraded}");
    assert_eq!(upgraded["complete"], true);
    assert!(upgraded.get("skipped").is_none(), "{upgraded}");
}

#[test]
fn a_lying_calendar_cannot_spoil_the_proof_an_honest_one_completes() {
    let Some(python) = python() else { return };
    for lie in ["wrong-root", "earlier"] {
        let world = World::new();
        let honest = Calendar::start(&python);
        let liar = Calendar::start_with(&python, &["--lie", lie]);
        let (file, proof) = stamped(&world, "story.txt", &[&honest, &liar]);
        let trust = ["--calendar", honest.url.as_str(), "--calendar", liar.url.as_str()];
        honest.mine();
        let headers = world.path("headers.txt");
        std::fs::write(&headers, honest.get("/headers")).unwrap();
        let headers_arg = headers.display().to_string();
        let with_headers = [&trust[..], &["--headers", &headers_arg, "--bitcoin-network", "regtest"]].concat();
        let blind = world.path("blind.txt.ots");
        std::fs::copy(&proof, &blind).unwrap();

        // With headers: the honest reply is merged, the lie is not.
        let (code, upgraded) = upgrade(&world, &proof, &with_headers);
        assert_eq!((code, upgraded["complete"].as_bool()), (Some(0), Some(true)), "{lie}: {upgraded}");
        assert_eq!(upgraded["rejected"].as_array().map(Vec::len), Some(1), "{lie}: {upgraded}");
        let verify = |receipt: &Path| {
            let mut cmd = world.vouch();
            cmd.arg("verify").arg(&file).arg("--receipt").arg(receipt);
            let out = cmd.args(["--headers", &headers_arg, "--bitcoin-network", "regtest", "--json"]).output().unwrap();
            let anchors = json_lines(&out.stdout).remove(0)["anchors"].clone();
            let anchor = anchors.as_array().unwrap().iter().find(|a| a["receipt"] == receipt.display().to_string());
            (out.status.code(), anchor.cloned().unwrap())
        };
        let (code, anchor) = verify(&proof);
        assert_eq!((code, anchor["state"].as_str()), (Some(0), Some("confirmed")), "{lie}: {anchor}");
        assert_eq!(anchor["block"], 800000);
        assert!(anchor.get("invalid_attestations").is_none(), "{lie}: {anchor}");
        // Asked again, the liar lies again: the proof on disk stays as it is.
        let settled = sha256(&proof);
        let (_, upgraded) = upgrade(&world, &proof, &with_headers);
        let rejected = upgraded["rejected"][0].as_str().unwrap_or_default();
        assert!(rejected.starts_with(&liar.url) && rejected.contains("false attestation"), "{lie}: {upgraded}");
        assert_eq!(sha256(&proof), settled, "{lie}: {upgraded}");

        // Without headers upgrade cannot judge and merges both; verify then
        // confirms on the honest attestation and names the false one beside it.
        let (_, upgraded) = upgrade(&world, &blind, &trust);
        assert_eq!(upgraded["complete"], true, "{lie}: {upgraded}");
        let (code, anchor) = verify(&blind);
        assert_eq!((code, anchor["state"].as_str()), (Some(0), Some("confirmed")), "{lie}: {anchor}");
        assert_eq!(anchor["block"], 800000, "{lie}: the lie's earlier block must not win: {anchor}");
        let false_one = anchor["invalid_attestations"][0].as_str().unwrap_or_default();
        let lied_at = if lie == "earlier" { 799999 } else { 800000 };
        assert_eq!(false_one, format!("merkle root mismatch at block {lied_at}"), "{lie}: {anchor}");
    }
}
