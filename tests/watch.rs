//! A capture station: photos land in a folder, vouch signs each once it is
//! complete and anchors them in batches. The machine dies mid-delivery
//! (`kill -9`); after a restart every photo is signed exactly once and
//! covered by a receipt.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn start(world: &World, capture: &Path, signed: &Path, calendar: &str, log: &Path) -> Child {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("vouch"));
    cmd.env("VOUCH_HOME", world.home())
        .arg("watch")
        .arg(capture)
        .arg("-o")
        .arg(signed)
        .args(["--to", "ots", "--calendar", calendar, "--anchor-every", "25"])
        .args(["--settle", "0.3", "--poll", "0.1", "--idle-exit", "3", "--json"])
        .stdout(std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap())
        .stderr(Stdio::null());
    cmd.spawn().expect("start vouch watch")
}

fn count_signed(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map_or(0, |d| d.filter_map(Result::ok).filter(|e| e.file_name().to_string_lossy().ends_with(".jpg")).count())
}

#[test]
fn after_kill_9_a_restart_signs_every_file_exactly_once_and_anchors_it() {
    let Some(python) = python() else { return };
    let world = World::with_identity();
    let capture = world.path("capture");
    let signed = world.path("signed");
    std::fs::create_dir_all(&capture).unwrap();
    let calendar = Calendar::start(&python);
    let log = world.path("events.jsonl");

    let mut station = start(&world, &capture, &signed, &calendar.url, &log);
    // Photos arrive one by one, as from a camera.
    let photo = std::fs::read(fixture("photo.jpg")).unwrap();
    for i in 0..200 {
        std::fs::write(capture.join(format!("img-{i:03}.jpg")), &photo).unwrap();
    }
    let started = Instant::now();
    while count_signed(&signed) < 60 {
        assert!(started.elapsed() < Duration::from_secs(120), "the station signed nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The machine dies without warning.
    station.kill().unwrap();
    station.wait().unwrap();
    let at_kill = count_signed(&signed);
    assert!(at_kill < 200, "killed too late to test anything ({at_kill} signed)");

    let mut restarted = start(&world, &capture, &signed, &calendar.url, &log);
    let started = Instant::now();
    loop {
        if let Some(status) = restarted.try_wait().unwrap() {
            assert!(status.success(), "watch exited with {status}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "the restarted station never went idle");
        std::thread::sleep(Duration::from_millis(100));
    }

    let events = json_lines(&std::fs::read(&log).unwrap());
    let mut signed_events: HashMap<String, usize> = HashMap::new();
    for event in events.iter().filter(|e| e["event"] == "signed") {
        *signed_events.entry(event["path"].as_str().unwrap().to_string()).or_default() += 1;
    }
    assert!(signed_events.values().all(|&n| n == 1), "a file was signed twice");
    let recovered = events.iter().filter(|e| e["event"] == "recovered").count();
    assert_eq!(signed_events.len() + recovered, 200, "every file signed once (some adopted after the restart)");

    // Every capture has one signed copy that verifies, and a receipt for it.
    let outputs: Vec<PathBuf> = (0..200).map(|i| signed.join(format!("img-{i:03}.jpg"))).collect();
    for output in &outputs {
        assert!(output.is_file(), "{} missing", output.display());
        assert!(PathBuf::from(format!("{}.ots", output.display())).is_file(), "{} has no receipt", output.display());
    }
    let out = world.vouch().arg("verify").args(&outputs).arg("--json").output().unwrap();
    let reports = json_lines(&out.stdout);
    assert_eq!(reports.len(), 200);
    for report in &reports {
        assert_eq!(report["c2pa"]["state"], "trusted", "{report}");
        assert_eq!(report["anchors"][0]["state"], "pending", "{report}");
    }
    // Nothing half-written sits among the outputs.
    let visible: Vec<String> =
        listing(&signed).into_iter().filter(|n| !n.starts_with('.')).filter(|n| !n.ends_with(".ots")).collect();
    assert_eq!(visible.len(), 200, "{visible:?}");
}

#[test]
fn a_file_still_being_written_is_not_signed_until_it_is_complete() {
    let world = World::with_identity();
    let capture = world.path("capture");
    std::fs::create_dir_all(&capture).unwrap();
    let signed = world.path("signed");
    let photo = std::fs::read(fixture("photo.jpg")).unwrap();
    let path = capture.join("slow.jpg");
    std::fs::write(&path, &photo[..photo.len() / 2]).unwrap();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("vouch"));
    let child = cmd
        .env("VOUCH_HOME", world.home())
        .arg("watch")
        .arg(&capture)
        .arg("-o")
        .arg(&signed)
        .args(["--settle", "1.5", "--poll", "0.1", "--idle-exit", "2", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The rest of the file arrives within the settle time.
    std::thread::sleep(Duration::from_millis(700));
    std::fs::write(&path, &photo).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let events = json_lines(&out.stdout);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["event"], "signed");
    world.vouch().arg("verify").arg(signed.join("slow.jpg")).assert().success();
}
