//! Nothing under a folder a user names is left out without a word: hidden
//! files, upper-case extensions and symlinks are checked, and what is not
//! checked (a dangling link, a file the policy excludes) is counted. Reports
//! stay truthful for any file name, and a resumed run answers for every
//! record it holds.

mod common;

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use common::*;

const TRUSTED_JPEGS: &str = "require_c2pa = \"trusted\"\ninclude = [\"*.jpg\"]\n";

/// A memory card as a camera and a careless copy leave it.
fn card(world: &World) -> PathBuf {
    let signed = world.signed("photo.jpg");
    let card = world.path("card");
    std::fs::create_dir_all(card.join(".cache")).unwrap();
    std::fs::copy(&signed, card.join("good.jpg")).unwrap();
    std::fs::copy(&signed, card.join("DSC_0001.JPG")).unwrap();
    std::fs::copy(fixture("photo.jpg"), card.join(".hidden.jpg")).unwrap();
    std::fs::copy(fixture("photo.jpg"), card.join(".cache/x.jpg")).unwrap();
    std::os::unix::fs::symlink(card.join("good.jpg"), card.join("link.jpg")).unwrap();
    std::os::unix::fs::symlink(card.join("gone.jpg"), card.join("dangling.jpg")).unwrap();
    std::fs::write(card.join("notes.txt"), "shot list").unwrap();
    card
}

fn policy(world: &World, text: &str) -> PathBuf {
    let path = world.path("policy.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_check_sees_hidden_upper_case_and_linked_files_and_counts_what_it_skips() {
    let world = World::with_identity();
    let card = card(&world);
    let out =
        world.vouch().arg("check").arg(&card).arg("--policy").arg(policy(&world, TRUSTED_JPEGS)).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "two unsigned JPEGs fail: {stdout}");
    assert!(stderr.contains("7 file(s): 3 pass, 0 warn, 2 fail, 2 skipped"), "{stderr}");
    for name in [".hidden.jpg", ".cache/x.jpg"] {
        assert!(stdout.contains(&format!("FAIL  {}", card.join(name).display())), "{name}: {stdout}");
    }
    assert!(stdout.contains(&format!("PASS  {}", card.join("DSC_0001.JPG").display())), "{stdout}");
    assert!(stdout.contains("dangling.jpg  (dangling symlink)"), "{stdout}");
    assert!(stdout.contains("notes.txt  (excluded by the policy)"), "{stdout}");

    // Machines get one record each, links marked and skips named.
    let out = world
        .vouch()
        .arg("check")
        .arg(&card)
        .args(["--format", "json", "--policy"])
        .arg(world.path("policy.toml"))
        .output()
        .unwrap();
    let records = json_lines(&out.stdout);
    assert_eq!(records.len(), 7);
    let by = |name: &str| records.iter().find(|r| r["path"].as_str().unwrap().ends_with(name)).unwrap().clone();
    assert_eq!(by("link.jpg")["link"], true);
    assert_eq!(by("link.jpg")["verdict"], "pass");
    assert!(by("good.jpg").get("link").is_none());
    assert_eq!(by("dangling.jpg")["skipped"], "dangling symlink");
    assert_eq!(by("notes.txt")["skipped"], "excluded by the policy");
    assert!(String::from_utf8_lossy(&out.stderr).contains("7 file(s): 3 pass, 0 warn, 2 fail, 2 skipped"));

    // JUnit names the skipped files as skipped test cases.
    let out = world
        .vouch()
        .arg("check")
        .arg(&card)
        .args(["--format", "junit", "--policy"])
        .arg(world.path("policy.toml"))
        .output()
        .unwrap();
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.contains(r#"skipped="2""#), "{xml}");
    assert_eq!(xml.matches("<skipped message=").count(), 2, "{xml}");
}

#[test]
fn verify_sign_and_anchor_walk_by_the_same_rules() {
    let world = World::with_identity();
    let card = card(&world);
    let out = world.vouch().arg("verify").arg(&card).arg("--json").output().unwrap();
    let records = json_lines(&out.stdout);
    let paths: Vec<&str> = records.iter().map(|r| r["path"].as_str().unwrap()).collect();
    for name in [".hidden.jpg", ".cache/x.jpg", "DSC_0001.JPG", "link.jpg", "good.jpg"] {
        assert!(paths.iter().any(|p| p.ends_with(name)), "{name} missing from {paths:?}");
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("skipped 2 file(s) under the named paths: 1 dangling symlink, 1 not a media file"),
        "{stderr}"
    );

    let signed = world.path("signed-card");
    let out = world.vouch().arg("sign").arg(&card).arg("-o").arg(&signed).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    for name in [".hidden.jpg", ".cache/x.jpg", "DSC_0001.JPG", "link.jpg"] {
        assert!(signed.join(name).is_file(), "{name} was not signed");
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 dangling symlink, 1 not a media file"));
}

#[test]
fn a_linked_folder_is_followed_once_and_a_loop_is_counted_not_followed() {
    let world = World::with_identity();
    let shoot = world.path("shoot");
    std::fs::create_dir_all(&shoot).unwrap();
    std::fs::copy(world.signed("photo.jpg"), shoot.join("a.jpg")).unwrap();
    let card = world.path("card");
    std::fs::create_dir_all(&card).unwrap();
    std::os::unix::fs::symlink(&shoot, card.join("shoot")).unwrap();
    std::os::unix::fs::symlink(&card, card.join("again")).unwrap();
    let out = world.vouch().arg("check").arg(&card).arg("--format").arg("json").output().unwrap();
    let records = json_lines(&out.stdout);
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[0]["skipped"], "symlink loop");
    assert_eq!(records[1]["link"], true);
    assert_eq!(records[1]["verdict"], "pass");
}

#[test]
fn control_characters_in_file_names_never_reach_a_terminal_or_break_a_report() {
    let world = World::with_identity();
    let dir = world.path("inbox");
    std::fs::create_dir_all(&dir).unwrap();
    let signed = world.signed("photo.jpg");
    for name in ["esc\x1b[2Jname.jpg", "cr\rfake PASS.jpg", "cdata]]>end.jpg", "bidi\u{202e}gpj.exe.jpg"] {
        std::fs::copy(&signed, dir.join(name)).unwrap();
    }
    let text = world.vouch().arg("check").arg(&dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(!stdout.contains('\x1b') && !stdout.contains('\r') && !stdout.contains('\u{202e}'), "{stdout:?}");
    assert!(stdout.contains("esc\\x1b[2Jname.jpg") && stdout.contains("cr\\rfake PASS.jpg"), "{stdout}");
    let verify = world.vouch().arg("verify").arg(&dir).output().unwrap();
    let verify = String::from_utf8_lossy(&verify.stdout);
    assert!(!verify.contains('\x1b') && verify.contains("\\u{202e}"), "{verify:?}");

    for format in ["junit", "sarif"] {
        let report = world.path(&format!("report.{format}"));
        world.vouch().arg("check").arg(&dir).args(["--format", format, "--out"]).arg(&report).assert().code(0);
        let parse = if format == "junit" {
            "import sys, xml.etree.ElementTree as E; t = E.parse(sys.argv[1]); print(len(t.findall('.//testcase')))"
        } else {
            "import sys, json; print(len(json.load(open(sys.argv[1]))['runs']))"
        };
        let out = std::process::Command::new("python3").args(["-c", parse]).arg(&report).output().unwrap();
        assert!(out.status.success(), "{format} does not parse: {}", String::from_utf8_lossy(&out.stderr));
        let count = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert_eq!(count, if format == "junit" { "4" } else { "1" });
    }
}

#[test]
fn a_file_name_that_is_not_utf8_keeps_its_bytes_and_resumes() {
    let world = World::with_identity();
    let dir = world.path("archive");
    std::fs::create_dir_all(&dir).unwrap();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.jpg");
    std::fs::copy(world.signed("photo.jpg"), dir.join(name)).unwrap();
    let resume = world.path("run.jsonl");
    world.vouch().arg("check").arg(&dir).arg("--resume").arg(&resume).assert().code(0);
    let records = json_lines(&std::fs::read(&resume).unwrap());
    assert_eq!(records.len(), 1);
    assert!(records[0]["path"].as_str().unwrap().ends_with("caf\u{fffd}.jpg"));
    let bytes = records[0]["path_bytes"].as_str().unwrap();
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD.decode(bytes).unwrap();
    assert_eq!(Path::new(std::ffi::OsStr::from_bytes(&raw)), dir.join(name));
    // The resumed run knows the file by its bytes: nothing is checked twice.
    let again = world.vouch().arg("check").arg(&dir).arg("--resume").arg(&resume).output().unwrap();
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(json_lines(&std::fs::read(&resume).unwrap()).len(), 1);
    assert!(String::from_utf8_lossy(&again.stderr).contains("1 file(s): 1 pass"));
}

#[test]
fn a_resumed_run_rechecks_errors_and_answers_for_every_record() {
    let world = World::with_identity();
    let dir = world.path("archive");
    std::fs::create_dir_all(&dir).unwrap();
    let signed = world.signed("photo.jpg");
    std::fs::copy(&signed, dir.join("a.jpg")).unwrap();
    std::fs::copy(fixture("photo.jpg"), dir.join("b.jpg")).unwrap();
    std::fs::write(dir.join("c.jpg"), "not yet a JPEG").unwrap();
    let strict = policy(&world, "require_c2pa = \"trusted\"\n");
    let resume = world.path("run.jsonl");
    let run = || {
        world
            .vouch()
            .arg("check")
            .arg(&dir)
            .arg("--policy")
            .arg(&strict)
            .args(["--format", "json", "--resume"])
            .arg(&resume)
            .output()
            .unwrap()
    };

    let first = run();
    assert_eq!(first.status.code(), Some(2), "an unreadable file is an error");
    assert_eq!(json_lines(&std::fs::read(&resume).unwrap()).len(), 3);

    // The copy finishes; the rerun checks only the file that was an error.
    std::fs::copy(&signed, dir.join("c.jpg")).unwrap();
    let second = run();
    let records = json_lines(&std::fs::read(&resume).unwrap());
    assert_eq!(records.len(), 4, "one new record, for c.jpg");
    assert!(records[3]["path"].as_str().unwrap().ends_with("c.jpg"));
    assert_eq!(records[3]["verdict"], "pass");
    // b.jpg failed in the first run: the rerun still fails, and says so.
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("3 file(s): 2 pass, 0 warn, 1 fail"), "{stderr}");

    let third = run();
    assert_eq!(third.status.code(), Some(1), "nothing new, still the same answer");
    assert_eq!(json_lines(&std::fs::read(&resume).unwrap()).len(), 4);
}

#[test]
fn the_readme_sharded_resume_command_runs_as_written() {
    let world = World::with_identity();
    let dir = world.path("archive");
    std::fs::create_dir_all(&dir).unwrap();
    for n in 0..16 {
        std::fs::copy(fixture("photo.jpg"), dir.join(format!("{n}.jpg"))).unwrap();
    }
    let resume = world.path("shard-3.jsonl");
    let out = world
        .vouch()
        .arg("check")
        .arg(&dir)
        .args(["--format", "json", "--shard", "3/16", "--resume"])
        .arg(&resume)
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(resume.is_file());
}
