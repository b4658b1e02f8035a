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
