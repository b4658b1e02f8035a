//! Verifying fast never changes what a file is found to be.
//!
//! A batch run reads each file once and validates most files with the
//! trust anchors the previous file needed, skipping a parse-only first
//! read; a single-file run takes the two-step path. So a folder verified
//! in one run must give every file exactly the record that file gets on
//! its own: third-party files of every format, vouch's own (two signers,
//! one of them trusted only through the public C2PA list), tampered and
//! unsigned ones.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

/// The record without its path, which is all two runs may differ in.
fn without_path(mut record: Value) -> Value {
    record.as_object_mut().expect("a record").remove("path");
    record
}

/// Three copies of `source` in `dir`, named so that a sorted walk takes
/// them one after the other: the second finds the first's anchors again,
/// and the third is then validated with them straight away.
fn thrice(source: &Path, dir: &Path, stem: &str) -> Vec<PathBuf> {
    let ext = source.extension().and_then(|e| e.to_str()).unwrap_or("bin");
    (1..=3)
        .map(|n| {
            let dest = dir.join(format!("{stem}_{n}.{ext}"));
            std::fs::copy(source, &dest).expect("copy");
            dest
        })
        .collect()
}

/// A second newsroom whose root is on the public C2PA Trust List (a copy
/// of the shipped list with the root added, installed with `trust
/// update`), and a photo it signed: its files need an anchor the local
/// identity's files do not.
fn signed_under_the_c2pa_list(world: &World) -> PathBuf {
    let pki = Pki::new(&world.path("pki"), "Listed Newsroom Root", "Listed Camera", "emailProtection");
    let home = world.path("listed-home");
    let listed = |args: &[&str]| {
        let mut cmd = world.vouch();
        cmd.env("VOUCH_HOME", &home).args(args);
        cmd
    };
    listed(&["identity", "import", "--cert", pki.chain.to_str().unwrap(), "--key", pki.key.to_str().unwrap()])
        .assert()
        .success();
    let out = world.path("listed-signed");
    listed(&["sign", fixture("photo.jpg").to_str().unwrap(), "-o", out.to_str().unwrap()]).assert().success();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/trust-lists/C2PA-TRUST-LIST.pem");
    let mut list = std::fs::read_to_string(shipped).unwrap();
    list.push_str("Subject\tCN=added by the test\n");
    list.push_str(&std::fs::read_to_string(&pki.root).unwrap());
    let list_path = world.path("c2pa-list.pem");
    std::fs::write(&list_path, list).unwrap();
    world.vouch().args(["trust", "update", "--list", "c2pa"]).arg(&list_path).assert().success();
    out.join("photo.jpg")
}

#[test]
fn a_folder_verified_in_one_run_gives_each_file_the_record_it_gets_alone() {
    let Some(interop) = shared("interop/c2pa") else { return };
    let world = World::with_identity();
    let batch = world.path("batch");
    std::fs::create_dir(&batch).unwrap();
    let mut files = Vec::new();
    let mut third_party: Vec<PathBuf> =
        std::fs::read_dir(&interop).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    third_party.sort();
    for (i, source) in third_party.iter().enumerate() {
        files.extend(thrice(source, &batch, &format!("t{i:02}")));
    }
    // vouch's own: trusted through the local identity, through --trust,
    // an edit of a signed file (a history), and a tampered copy.
    let ours = world.signed("photo.jpg");
    files.extend(thrice(&ours, &batch, "v1_ours"));
    let theirs = signed_under_the_c2pa_list(&world);
    files.extend(thrice(&theirs, &batch, "v2_theirs"));
    files.extend(thrice(&ours, &batch, "v3_ours_again"));
    let edited = world.path("edited");
    world.vouch().arg("sign").arg(&theirs).arg("-o").arg(&edited).assert().success();
    files.extend(thrice(&edited.join("photo.jpg"), &batch, "v4_edited"));
    let tampered = world.path("tampered.jpg");
    std::fs::copy(&ours, &tampered).unwrap();
    flip_byte_near_end(&tampered);
    files.extend(thrice(&tampered, &batch, "v5_tampered"));
    for (i, source) in declared_files(&world).into_iter().flatten().enumerate() {
        files.extend(thrice(&source, &batch, &format!("d{i:02}")));
    }

    let verify = |target: &Path| {
        let out = world.vouch().env("RAYON_NUM_THREADS", "1").arg("verify").arg(target).arg("--json").output().unwrap();
        assert!(out.status.code().is_some_and(|c| c <= 1), "{}", String::from_utf8_lossy(&out.stderr));
        json_lines(&out.stdout)
    };
    let together = verify(&batch);
    assert_eq!(together.len(), files.len(), "one record per file");
    let mut states = std::collections::BTreeSet::new();
    for copies in files.chunks(3) {
        let alone = without_path(verify(&copies[0]).remove(0));
        for file in copies {
            let name = file.file_name().unwrap().to_str().unwrap();
            let in_batch = together
                .iter()
                .find(|r| r["path"].as_str().is_some_and(|p| p.ends_with(name)))
                .unwrap_or_else(|| panic!("{name}: no record in the folder run"));
            states.insert(in_batch["c2pa"]["state"].as_str().unwrap_or("none").to_string());
            assert_eq!(without_path(in_batch.clone()), alone, "{name}: the folder run differs");
        }
    }
    // The runs covered every verdict, not one kind of file.
    for state in ["trusted", "valid", "invalid", "absent"] {
        assert!(states.contains(state), "no {state} file among {states:?}");
    }
    let trusted_by = |stem: &str| {
        let record = together.iter().find(|r| r["path"].as_str().unwrap().contains(stem)).unwrap();
        (record["c2pa"]["state"].as_str().unwrap().to_string(), record["c2pa"]["trust"]["list"].clone())
    };
    assert_eq!(trusted_by("v1_ours_3"), ("trusted".into(), "local".into()));
    assert_eq!(trusted_by("v2_theirs_3"), ("trusted".into(), "c2pa".into()), "the listed root, after another signer");
    assert_eq!(trusted_by("v3_ours_again_1"), ("trusted".into(), "local".into()), "after the listed signer");
}

/// The declared-origin readers scan the bytes read for C2PA: the same
/// declarations as reading the file again, for every format.
#[test]
fn declarations_from_the_bytes_read_once_equal_those_read_from_the_file() {
    let world = World::new();
    let Some(interop) = shared("interop/c2pa") else { return };
    let Some(declaring) = declared_files(&world) else { return };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&interop).unwrap().map(|e| e.unwrap().path()).collect();
    paths.extend(declaring);
    for name in ["photo.jpg", "image.png", "image.webp", "image.tiff", "clip.mp4", "tone.wav", "document.pdf"] {
        paths.push(fixture(name));
    }
    let mut declared = 0;
    for path in &paths {
        let bytes = std::fs::read(path).unwrap();
        let from_file = vouch::detect::declared::read_file(path).unwrap();
        let from_bytes = vouch::detect::declared::read(path, Some(&bytes)).unwrap();
        assert_eq!(from_bytes, from_file, "{}", path.display());
        declared += usize::from(!from_file.is_empty());
    }
    // Real declarations were compared, not only empty lists.
    assert!(declared >= 9, "{declared} of {} files declare AI origin", paths.len());
}
