//! Walks `fixtures/bad/cases.tsv`: every hostile input gets its documented
//! exit code and a message naming the file and the cause, nothing panics,
//! and nothing is written.

mod common;

use std::path::Path;

use common::*;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn every_hostile_input_gets_its_exit_code_and_message_and_writes_nothing() {
    let world = World::with_identity();
    let (bad, models) = (world.path("bad"), world.path("models"));
    copy_dir(&fixture("bad"), &bad);
    copy_dir(&fixture("models"), &models);
    let table = std::fs::read_to_string(fixture("bad/cases.tsv")).unwrap();
    let before = listing(world.dir.path());
    let mut cases = 0;
    for line in table.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [args, exit, stream, expected] = fields[..] else { panic!("cases.tsv: malformed line: {line}") };
        let args: Vec<String> = args
            .split_whitespace()
            .map(|a| a.replace("{bad}", &bad.display().to_string()).replace("{models}", &models.display().to_string()))
            .collect();
        let out = world.vouch().args(&args).output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(exit.parse().unwrap()), "{line}\nstdout: {stdout}\nstderr: {stderr}");
        let text = if stream == "stdout" { &stdout } else { &stderr };
        assert!(text.contains(expected), "{line}\nexpected `{expected}` in {stream}: {text}");
        assert!(!stderr.contains("panicked"), "{line}: {stderr}");
        if exit == "2" {
            assert_eq!(stderr.trim_end().lines().count(), 1, "{line}: one line of error, got {stderr}");
        }
        cases += 1;
    }
    assert!(cases >= 15, "the table lost its cases");
    assert_eq!(listing(world.dir.path()), before, "a hostile input made vouch write something");
}

#[test]
fn a_receipt_of_a_hundred_megabytes_is_refused_before_it_is_read() {
    let world = World::new();
    let file = world.path("photo.txt");
    std::fs::write(&file, "the photo").unwrap();
    // 100 MB of nesting, written as a stream (never held in memory here).
    let receipt = world.path("photo.txt.anchor.json");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&receipt).unwrap());
    let chunk = vec![b'['; 1 << 20];
    for _ in 0..100 {
        std::io::Write::write_all(&mut out, &chunk).unwrap();
    }
    drop(out);
    world
        .vouch()
        .arg("verify")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("photo.txt.anchor.json: not a valid anchor receipt: 104857600 bytes"));
}
