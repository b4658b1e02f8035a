//! The text people read, pinned: what `verify`, `check` and `detect` print
//! for a signed, a valid, a tampered and an unsigned photo, and for two
//! images a tiny model scores. A change to this text is a reviewed change:
//! `VOUCH_UPDATE_SNAPSHOTS=1` rewrites `tests/snapshots/*.txt`, and the diff
//! shows what users will see. Paths and the ONNX Runtime version, which
//! differ between machines, are normalised.

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn snapshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots")
}

/// Compares `actual` with `tests/snapshots/NAME.txt`, or writes it there
/// with `VOUCH_UPDATE_SNAPSHOTS=1`.
fn assert_snapshot(name: &str, actual: &str) {
    let path = snapshot_dir().join(format!("{name}.txt"));
    if std::env::var_os("VOUCH_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(snapshot_dir()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with VOUCH_UPDATE_SNAPSHOTS=1 to create it)", path.display()));
    assert_eq!(
        actual,
        expected,
        "the text users read changed; if that is intended, run with VOUCH_UPDATE_SNAPSHOTS=1 and review the diff of {}",
        path.display()
    );
}

/// What a run printed, stdout then stderr, with the volatile parts named.
fn shown(out: &std::process::Output, replace: &[(&str, &str)]) -> String {
    let mut text = format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    text
}

/// A world with a signed photo, a copy tampered after signing and an
/// unsigned one, all in `desk/`.
fn desk() -> (World, PathBuf) {
    let world = World::with_identity();
    let desk = world.path("desk");
    std::fs::create_dir_all(&desk).unwrap();
    world.vouch().arg("sign").arg(fixture("photo.jpg")).arg("-o").arg(&desk).assert().success();
    let mut bytes = std::fs::read(desk.join("photo.jpg")).unwrap();
    let at = bytes.len() - 100;
    bytes[at] ^= 0x55;
    std::fs::write(desk.join("tampered.jpg"), bytes).unwrap();
    std::fs::copy(fixture("image.png"), desk.join("unsigned.png")).unwrap();
    (world, desk)
}

#[test]
fn what_verify_says() {
    let (world, desk) = desk();
    let work = world.dir.path().display().to_string();
    let out = world.vouch().arg("verify").arg(&desk).output().unwrap();
    let mut text = shown(&out, &[(&work, "<WORK>")]);
    // The same signer, judged by someone whose lists do not hold its root.
    let out = world
        .vouch()
        .arg("verify")
        .arg(desk.join("photo.jpg"))
        .arg("--identity")
        .arg(world.path("stranger"))
        .output()
        .unwrap();
    text.push_str(&shown(&out, &[(&work, "<WORK>")]));
    assert_snapshot("verify", &text);
}

#[test]
fn what_check_says() {
    let (world, desk) = desk();
    let work = world.dir.path().display().to_string();
    let out = world.vouch().arg("check").arg(&desk).output().unwrap();
    assert_snapshot("check", &shown(&out, &[(&work, "<WORK>")]));
}

#[test]
fn what_check_says_with_rubrics() {
    let (world, desk) = desk();
    let work = world.dir.path().display().to_string();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/c2pa-rubrics");
    let out = world
        .vouch()
        .arg("check")
        .arg(&desk)
        .arg("--rubric")
        .arg(data.join("asset-rubric-conformance0.2-spec2.4.yml"))
        .arg("--rubric")
        .arg(data.join("asset-rubric-integrity.yml"))
        .arg("--rubric")
        .arg(data.join("asset-rubric-signals-local.yml"))
        .arg("--rubric")
        .arg(fixture("rubrics/newsroom.yml"))
        .output()
        .unwrap();
    assert_snapshot("check-rubrics", &shown(&out, &[(&work, "<WORK>")]));
}

#[test]
fn what_detect_says() {
    let world = World::new();
    let model = fixture("models/tiny-logit.toml");
    let images = [fixture("models/blue.png"), fixture("models/red.png")];
    let json = world.vouch().args(["detect", "--json", "--model"]).arg(&model).args(&images).output().unwrap();
    let runtime = json_lines(&json.stdout)[0]["runtime"].as_str().unwrap().to_string();
    let out = world.vouch().args(["detect", "--model"]).arg(&model).args(&images).output().unwrap();
    let fixtures = fixture("").display().to_string();
    let fixtures = fixtures.trim_end_matches('/');
    assert_snapshot("detect", &shown(&out, &[(fixtures, "<FIXTURES>"), (&runtime, "<RUNTIME>")]));
}

#[test]
fn what_the_html_report_shows() {
    let (world, desk) = desk();
    let work = world.dir.path().display().to_string();
    let report = world.path("report.html");
    let out = world.vouch().arg("check").arg(&desk).args(["--format", "html", "-o"]).arg(&report).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(&report).unwrap();
    // The page's structure and words from <body> on; the pictures, the
    // time of the run and the version are what differ between runs.
    let body = &html[html.find("<body>").expect("a body")..];
    let mut pinned = String::new();
    for piece in body.split("data:image/jpeg;base64,") {
        if pinned.is_empty() {
            pinned.push_str(piece);
        } else {
            pinned.push_str("data:image/jpeg;base64,<PICTURE>");
            pinned.push_str(&piece[piece.find('"').unwrap()..]);
        }
    }
    let meta = pinned.find("<p class=\"meta\">").unwrap();
    let meta_end = meta + pinned[meta..].find("</p>").unwrap();
    pinned.replace_range(meta..meta_end, "<p class=\"meta\">vouch <VERSION> · <GENERATED>");
    assert_snapshot("check-html", &pinned.replace(&work, "<WORK>"));
}
