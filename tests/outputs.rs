//! Signing never damages what it was given, sidecars are found under the
//! name other C2PA tools use, and a sidecar can neither replace nor hide the
//! manifest embedded in a file.

mod common;

use common::*;

#[test]
fn a_signed_copy_never_lands_on_an_input_even_with_force() {
    let world = World::with_identity();
    let photo = world.fixture("photo.jpg");
    let before = sha256(&photo);
    // -o naming the input's own folder, file and folder forms.
    for args in [
        vec![photo.clone(), "-o".into(), world.dir.path().into()],
        vec![world.dir.path().into(), "-o".into(), world.dir.path().into()],
    ] {
        let out = world.vouch().arg("sign").args(&args).arg("--force").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("would write over the input"), "{stderr}");
        assert_eq!(sha256(&photo), before, "the original is untouched");
    }
    // One input written over by another's output is refused as well.
    let shoot = world.path("shoot");
    std::fs::create_dir_all(&shoot).unwrap();
    std::fs::copy(fixture("image.png"), shoot.join("image.png")).unwrap();
    let mine = world.path("image.png");
    std::fs::copy(fixture("image.png"), &mine).unwrap();
    let out = world
        .vouch()
        .arg("sign")
        .arg(&shoot)
        .arg(&mine)
        .arg("-o")
        .arg(world.dir.path())
        .arg("--force")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(sha256(&mine), sha256(&fixture("image.png")));
}

#[test]
fn in_place_through_a_symlink_signs_the_target_and_keeps_the_link() {
    let world = World::with_identity();
    let real = world.fixture("photo.jpg");
    let link = world.path("link.jpg");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    world.vouch().arg("sign").arg(&link).arg("--in-place").assert().success();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link is kept");
    assert_ne!(sha256(&real), sha256(&fixture("photo.jpg")), "the target carries the manifest");
    let out = world.vouch().arg("verify").arg(&real).arg("--json").output().unwrap();
    assert_eq!(json_lines(&out.stdout)[0]["c2pa"]["state"], "trusted");
    let out = world.vouch().arg("verify").arg(&link).arg("--json").output().unwrap();
    assert_eq!(json_lines(&out.stdout)[0]["link"], true);
}

#[test]
fn sidecars_are_written_as_c2pa_rs_expects_and_read_under_both_names() {
    let world = World::with_identity();
    let clip = world.fixture("clip.mp4");
    world.vouch().arg("sign").arg(&clip).arg("--sidecar").assert().success();
    assert!(world.path("clip.c2pa").is_file() && !world.path("clip.mp4.c2pa").exists());
    // The name earlier vouch releases wrote is still read.
    std::fs::rename(world.path("clip.c2pa"), world.path("clip.mp4.c2pa")).unwrap();
    let out = world.vouch().arg("verify").arg(&clip).arg("--json").output().unwrap();
    let record = &json_lines(&out.stdout)[0];
    assert_eq!(record["c2pa"]["state"], "trusted", "{record}");
    assert_eq!(record["c2pa"]["sidecar"], true);

    // Two inputs that would share one sidecar are refused before anything is written.
    let shoot = world.path("shoot");
    std::fs::create_dir_all(&shoot).unwrap();
    std::fs::copy(fixture("photo.jpg"), shoot.join("photo.jpg")).unwrap();
    std::fs::copy(fixture("image.png"), shoot.join("photo.png")).unwrap();
    let out = world.vouch().arg("sign").arg(&shoot).arg("--sidecar").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("would both be written to"));
    assert!(!shoot.join("photo.c2pa").exists());
}

#[test]
fn a_sidecar_never_replaces_or_hides_the_embedded_manifest() {
    let world = World::with_identity();
    // A signed photo with a sidecar made for other bytes beside it.
    let photo = world.signed("photo.jpg");
    let other = world.fixture("image.png");
    world.vouch().arg("sign").arg(&other).arg("--sidecar").assert().success();
    std::fs::copy(world.path("image.c2pa"), photo.with_extension("c2pa")).unwrap();
    let out = world.vouch().arg("verify").arg(&photo).arg("--json").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "the embedded verdict stands");
    let c2pa = &json_lines(&out.stdout)[0]["c2pa"];
    assert_eq!(c2pa["state"], "trusted");
    assert!(c2pa["codes"].as_array().unwrap().iter().any(|c| c == "vouch.sidecar.mismatch"), "{c2pa}");
    assert_eq!(c2pa["sidecar_manifest"]["state"], "invalid", "{c2pa}");
    let check = world.vouch().arg("check").arg(&photo).output().unwrap();
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(text.starts_with("WARN") && text.contains("the sidecar beside the file does not hold"), "{text}");

    // A tampered photo with a sidecar of its own beside it: the embedded
    // failure is what the file says, whatever the sidecar says.
    let tampered = world.path("tampered.jpg");
    std::fs::copy(&photo, &tampered).unwrap();
    std::fs::remove_file(photo.with_extension("c2pa")).unwrap();
    flip_byte_near_end(&tampered);
    // vouch itself refuses to write a sidecar over embedded credentials (c2pa
    // cannot bind one there); a sidecar from elsewhere lands beside it.
    world.vouch().arg("sign").arg(&tampered).arg("--sidecar").arg("--allow-invalid-parent").assert().code(2);
    std::fs::copy(world.path("image.c2pa"), tampered.with_extension("c2pa")).unwrap();
    let out = world.vouch().arg("verify").arg(&tampered).arg("--json").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let c2pa = &json_lines(&out.stdout)[0]["c2pa"];
    assert_eq!(c2pa["state"], "invalid", "{c2pa}");
    assert_eq!(c2pa["sidecar"], false);
    assert!(c2pa["sidecar_manifest"].is_object(), "both are reported: {c2pa}");
}

#[test]
fn temp_files_left_by_a_killed_run_are_cleaned_up_by_the_next() {
    let world = World::with_identity();
    let out = world.path("signed");
    std::fs::create_dir_all(&out).unwrap();
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    let stale = out.join(format!(".vouch-{dead}-k1ll3d.part"));
    std::fs::write(&stale, vec![0u8; 4096]).unwrap();
    world.vouch().arg("sign").arg(fixture("photo.jpg")).arg("-o").arg(&out).assert().success();
    assert!(!stale.exists(), "a dead run's temp file is removed");
    assert_eq!(listing(&out), [".vouch-signed.json", "photo.jpg"], "the copy and the index of what was signed");
}
