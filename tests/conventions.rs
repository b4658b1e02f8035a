//! One set of conventions across commands: `--json`, `--identity`, several
//! files to `inspect`, and receipts named directly to `verify`.

mod common;

use common::*;

#[test]
fn check_takes_json_like_every_other_command() {
    let world = World::with_identity();
    let signed = world.signed("photo.jpg");
    let out = world.vouch().arg("check").arg(&signed).arg("--json").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let records = json_lines(&out.stdout);
    assert_eq!(records[0]["verdict"], "pass");
    world.vouch().arg("check").arg(&signed).args(["--json", "--format", "junit"]).assert().code(2);
}

#[test]
fn the_identity_directory_is_identity_everywhere_and_dir_still_works() {
    let world = World::new();
    let dir = world.path("station-id");
    world
        .vouch()
        .args(["identity", "new", "--name", "Station", "--org", "Desk", "--identity"])
        .arg(&dir)
        .assert()
        .success();
    for flag in ["--identity", "--dir"] {
        let out = world.vouch().args(["identity", "show", "--json", flag]).arg(&dir).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{flag}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("Station"));
    }
    let photo = world.fixture("photo.jpg");
    world
        .vouch()
        .arg("sign")
        .arg(&photo)
        .arg("-o")
        .arg(world.path("out"))
        .arg("--identity")
        .arg(&dir)
        .assert()
        .success();
}

#[test]
fn inspect_takes_several_files_and_reports_each() {
    let world = World::with_identity();
    let signed = world.signed("photo.jpg");
    let out = world
        .vouch()
        .arg("inspect")
        .arg(&signed)
        .arg(fixture("image.png"))
        .arg(world.path("gone.jpg"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "one input is missing");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("signer      Test Reporter") && stdout.contains("image.png: no Content Credentials"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("gone.jpg"));
}

#[test]
fn verifying_a_receipt_checks_the_file_it_covers() {
    let Some(ots) = shared("interop/ots") else { return };
    let world = World::new();
    for name in ["hello-world.txt", "hello-world.txt.ots"] {
        std::fs::copy(ots.join(name), world.path(name)).unwrap();
    }
    let out = world
        .vouch()
        .arg("verify")
        .arg(world.path("hello-world.txt.ots"))
        .arg("--headers")
        .arg(ots.join("bitcoin-headers.txt"))
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let record = &json_lines(&out.stdout)[0];
    assert!(record["path"].as_str().unwrap().ends_with("hello-world.txt"), "{record}");
    assert_eq!(record["anchors"][0]["state"], "confirmed");
    assert_eq!(record["anchors"][0]["block"], 358391);

    std::fs::remove_file(world.path("hello-world.txt")).unwrap();
    let out = world.vouch().arg("verify").arg(world.path("hello-world.txt.ots")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the file this receipt covers"));
}

/// The last line a run wrote on stderr.
fn last_line(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr).trim_end().lines().last().unwrap_or_default().to_string()
}

#[test]
fn a_batch_ends_with_one_summary_line_of_what_happened() {
    let world = World::with_identity();
    let desk = world.path("desk");
    std::fs::create_dir_all(&desk).unwrap();
    for name in ["photo.jpg", "image.png"] {
        std::fs::copy(fixture(name), desk.join(name)).unwrap();
    }
    let photo = std::fs::read(fixture("photo.jpg")).unwrap();
    std::fs::write(desk.join("cut.jpg"), &photo[..photo.len() / 2]).unwrap();

    let out = world.vouch().arg("sign").arg(&desk).arg("-o").arg(world.path("out")).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "the cut photo cannot be signed");
    assert_eq!(last_line(&out.stderr), "2 signed, 1 failed");

    let out = world.vouch().arg("verify").arg(world.path("out")).arg(fixture("photo.jpg")).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "the unsigned photo does not pass");
    assert_eq!(last_line(&out.stderr), "2 passed, 1 failed");
}

#[test]
fn the_summary_is_said_also_when_the_report_goes_to_a_file() {
    let world = World::with_identity();
    let signed = world.signed("photo.jpg");
    for format in ["junit", "sarif", "html", "text", "json"] {
        let report = world.path(&format!("report.{format}"));
        let out = world.vouch().args(["check", "--format", format, "-o"]).arg(&report).arg(&signed).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty(), "{format}: the report went to the file");
        assert!(std::fs::metadata(&report).unwrap().len() > 0, "{format}: report written");
        assert_eq!(last_line(&out.stderr), "1 file(s): 1 pass, 0 warn, 0 fail, 0 skipped", "{format}");
    }
    let merged = world.path("merged.html");
    let out = world
        .vouch()
        .args(["report", "--format", "html", "-o"])
        .arg(&merged)
        .arg(world.path("report.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(last_line(&out.stderr), "1 file(s): 1 pass, 0 warn, 0 fail, 0 skipped");
}

#[test]
fn quiet_prints_only_errors_and_the_summary_and_still_writes_files() {
    let world = World::with_identity();
    let desk = world.path("desk");
    std::fs::create_dir_all(&desk).unwrap();
    std::fs::copy(fixture("photo.jpg"), desk.join("photo.jpg")).unwrap();
    std::fs::write(desk.join("notes.txt"), "not media").unwrap();

    // The flag is global: before or after the command.
    let out = world.vouch().args(["--quiet", "sign"]).arg(&desk).arg("-o").arg(world.path("out")).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "1 signed, 1 skipped\n");
    assert!(world.path("out/photo.jpg").is_file(), "--quiet still signs");

    let out =
        world.vouch().arg("verify").arg(world.path("out")).arg(world.path("gone.jpg")).arg("-q").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines[0].starts_with("vouch: error: ") && lines[0].contains("gone.jpg"), "{stderr}");
    assert_eq!(lines[1], "1 passed, 0 failed, 1 could not be verified");

    let report = world.path("report.jsonl");
    let out = world.vouch().args(["check", "-q", "--json", "-o"]).arg(&report).arg(world.path("out")).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "1 file(s): 1 pass, 0 warn, 0 fail, 0 skipped\n");
    assert_eq!(json_lines(&std::fs::read(&report).unwrap())[0]["verdict"], "pass");

    world.vouch().args(["verify", "--quiet", "-v"]).arg(world.path("out")).assert().code(2);
}

#[test]
fn verbose_names_each_file_passed_over() {
    let world = World::with_identity();
    let desk = world.path("desk");
    std::fs::create_dir_all(&desk).unwrap();
    std::fs::copy(fixture("photo.jpg"), desk.join("photo.jpg")).unwrap();
    std::fs::write(desk.join("notes.txt"), "not media").unwrap();

    let out = world.vouch().arg("verify").arg(&desk).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("notes.txt"), "without -v only counted: {stderr}");
    assert!(stderr.contains("skipped 1 file(s)"), "{stderr}");

    let out = world.vouch().arg("verify").arg(&desk).arg("-v").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("skipped {}: not a media file", desk.join("notes.txt").display())), "{stderr}");
    assert_eq!(last_line(&out.stderr), "0 passed, 1 failed, 1 skipped");
}

/// A copy of `signed` with one byte of its image data changed.
fn tampered(world: &World, signed: &std::path::Path) -> std::path::PathBuf {
    let mut bytes = std::fs::read(signed).unwrap();
    let at = bytes.len() - 100;
    bytes[at] ^= 0x55;
    let path = world.path("tampered.jpg");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn failures_read_as_sentences_for_people_and_codes_for_machines() {
    let world = World::with_identity();
    let signed = world.signed("photo.jpg");
    let tampered = tampered(&world, &signed);

    let text = world.vouch().arg("verify").arg(&tampered).output().unwrap();
    assert_eq!(text.status.code(), Some(1));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("invalid: the image data changed after it was signed"), "{text}");
    assert!(!text.contains("assertion.dataHash.mismatch"), "no codes for people: {text}");

    let json = world.vouch().args(["verify", "--json"]).arg(&tampered).output().unwrap();
    let record = &json_lines(&json.stdout)[0];
    assert_eq!(record["c2pa"]["codes"], serde_json::json!(["assertion.dataHash.mismatch"]), "{record}");

    let report = world.path("report.html");
    world.vouch().args(["check", "--format", "html", "-o"]).arg(&report).arg(&tampered).assert().code(1);
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("the image data changed after it was signed"), "the HTML says it in words too");
}

#[test]
fn valid_is_said_as_valid_not_as_a_failure_list() {
    let world = World::with_identity();
    let signed = world.signed("photo.jpg");
    // Another identity folder: this signer's root is in no trust list.
    let stranger = world.path("stranger");
    let out = world.vouch().arg("verify").arg(&signed).arg("--identity").arg(&stranger).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "valid passes verify");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("valid ") && text.contains("valid — signer not in your trust lists"), "{text}");
    assert!(!text.contains("failures") && !text.contains("signingCredential.untrusted"), "{text}");

    let out = world.vouch().arg("check").arg(&signed).arg("--identity").arg(&stranger).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("c2pa: valid — signer not in your trust lists"), "{text}");
}

#[test]
fn alg_is_spelled_the_same_by_every_command() {
    let world = World::with_identity();
    let signed = world.signed("photo.jpg");
    let shown = world.vouch().args(["identity", "show", "--json"]).output().unwrap();
    let identity_alg = serde_json::from_slice::<serde_json::Value>(&shown.stdout).unwrap()["alg"].clone();
    let verified = world.vouch().args(["verify", "--json"]).arg(&signed).output().unwrap();
    let verify_alg = json_lines(&verified.stdout)[0]["c2pa"]["alg"].clone();
    assert_eq!(identity_alg, "Ed25519");
    assert_eq!(verify_alg, identity_alg);
    let inspected = world.vouch().arg("inspect").arg(&signed).output().unwrap();
    assert!(String::from_utf8_lossy(&inspected.stdout).contains("alg         Ed25519"));
}

#[test]
fn a_bad_root_path_is_blamed_on_the_setting_that_named_it() {
    let world = World::with_identity();
    let signed = world.signed("photo.jpg");
    let policy = world.path("newsroom.toml");
    std::fs::write(&policy, "trusted_roots = [\"roots/x.pem\"]\n").unwrap();
    let out = world
        .vouch()
        .current_dir(world.dir.path())
        .args(["check", "--policy", "newsroom.toml"])
        .arg(&signed)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "vouch: error: trusted_roots in newsroom.toml: roots/x.pem: not found"
    );
    let out = world
        .vouch()
        .current_dir(world.dir.path())
        .args(["verify", "--trust", "roots/y.pem"])
        .arg(&signed)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim_end(), "vouch: error: --trust: roots/y.pem: not found");
    for (args, said) in [
        (["check", "--policy", "gone.toml"], "vouch: error: --policy: gone.toml: not found"),
        (["verify", "--headers", "gone.txt"], "vouch: error: --headers: gone.txt: not found"),
    ] {
        let out = world.vouch().current_dir(world.dir.path()).args(args).arg(&signed).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(String::from_utf8_lossy(&out.stderr).trim_end(), said);
    }
}

#[test]
fn a_capture_station_ends_with_its_summary_too() {
    let world = World::with_identity();
    let inbox = world.path("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::copy(fixture("photo.jpg"), inbox.join("photo.jpg")).unwrap();
    let out = world
        .vouch()
        .arg("watch")
        .arg(&inbox)
        .arg("-o")
        .arg(world.path("signed"))
        .args(["--settle", "0", "--poll", "0.05", "--idle-exit", "0.5", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "--quiet: {}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "1 signed\n");
    assert!(world.path("signed/photo.jpg").is_file());
}

#[test]
fn verbose_says_whom_a_verifying_run_trusts() {
    let world = World::with_identity();
    let signed = world.signed("photo.jpg");
    let out = world.vouch().args(["verify", "-v"]).arg(&signed).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("trusting 1 local anchor(s) (") && stderr.contains("Test Reporter Root CA"), "{stderr}");
    let quiet = world.vouch().arg("verify").arg(&signed).output().unwrap();
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("trusting"));
}
