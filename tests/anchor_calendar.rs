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
    let output = world.vouch().args(["anchor", "upgrade"]).args(&proofs).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    reference_parses_every_proof(&python, &proofs);

    let headers = world.path("headers.txt");
    std::fs::write(&headers, alice.get("/headers")).unwrap();
    let output = world.vouch().arg("verify").arg(&files).arg("--headers").arg(&headers).arg("--json").output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let reports = json_lines(&output.stdout);
    assert_eq!(reports.len(), 1000);
    assert!(reports.iter().all(|r| r["anchors"][0]["state"] == "confirmed" && r["anchors"][0]["block"] == 800000));

    // One changed file: exactly that one is invalid.
    std::fs::write(files.join("story-0421.txt"), "story 421, edited\n").unwrap();
    let output = world.vouch().arg("verify").arg(&files).arg("--headers").arg(&headers).arg("--json").output().unwrap();
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
fn existing_receipts_are_kept_unless_forced() {
    let Some(python) = python() else { return };
    let world = World::new();
    let file = world.fixture("photo.jpg");
    let calendar = Calendar::start(&python);
    let anchor = |force: bool| {
        let mut cmd = world.vouch();
        cmd.arg("anchor").arg(&file).args(["--to", "ots", "--calendar", &calendar.url]);
        if force {
            cmd.arg("--force");
        }
        cmd.output().unwrap()
    };
    assert_eq!(anchor(false).status.code(), Some(0));
    let receipt = world.path("photo.jpg.ots");
    let first = sha256(&receipt);
    let again = anchor(false);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("a receipt already exists"));
    assert_eq!(sha256(&receipt), first);
    assert_eq!(calendar.posts(), 1, "nothing was submitted for the refused batch");
    assert_eq!(anchor(true).status.code(), Some(0));
    assert_ne!(sha256(&receipt), first);
}
