//! A journalist signs media and anyone checks it: the story of `vouch sign`
//! and `vouch verify` on real files.

mod common;

use common::*;
use predicates::prelude::*;

#[test]
fn every_supported_format_signs_and_verifies_as_trusted() {
    let world = World::with_identity();
    // A folder of just these files: fixtures/ also holds detector test material.
    let input = world.path("media");
    std::fs::create_dir_all(&input).unwrap();
    for name in MEDIA {
        std::fs::copy(fixture(name), input.join(name)).unwrap();
    }
    let out = world.path("signed");
    let output = world.vouch().arg("sign").arg(&input).arg("-o").arg(&out).arg("--json").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let signed = json_lines(&output.stdout);
    assert_eq!(signed.len(), MEDIA.len());
    assert!(signed.iter().all(|s| s["action"] == "c2pa.created"));

    let output = world.vouch().arg("verify").arg(&out).arg("--json").output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let reports = json_lines(&output.stdout);
    assert_eq!(reports.len(), MEDIA.len());
    for report in &reports {
        let c2pa = &report["c2pa"];
        assert_eq!(c2pa["state"], "trusted", "{report}");
        assert_eq!(c2pa["signer"], "Test Reporter");
        assert_eq!(c2pa["issuer"], "Test Newsroom");
        assert_eq!(c2pa["actions"][0], "c2pa.created");
        assert_eq!(c2pa["digital_source_type"], "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture");
        assert_eq!(c2pa["codes"], serde_json::json!([]));
        assert!(c2pa["ingredients"].as_array().unwrap().is_empty());
    }
}

#[test]
fn a_signed_jpeg_grows_by_its_manifest_and_no_padding() {
    // c2pa before 0.91 reserved ~10 KB for a timestamp in every manifest,
    // even when none was requested: a 9 KB photo came out at 22 KB.
    let world = World::with_identity();
    let signed = world.signed("photo.jpg");
    let grown = std::fs::metadata(&signed).unwrap().len() - std::fs::metadata(fixture("photo.jpg")).unwrap().len();
    assert!(grown < 6 * 1024, "signing added {grown} bytes");
}

#[test]
fn originals_are_untouched_and_names_are_kept() {
    let world = World::with_identity();
    let photo = world.fixture("photo.jpg");
    let before = sha256(&photo);
    let signed = world.signed("photo.jpg");
    assert_eq!(sha256(&photo), before, "the original changed");
    assert!(signed.ends_with("signed/photo.jpg"));
    assert_ne!(sha256(&signed), before);
}

#[test]
fn a_stranger_without_the_root_sees_valid_not_trusted() {
    let signer = World::with_identity();
    let signed = signer.signed("photo.jpg");
    let stranger = World::new();
    stranger.vouch().arg("verify").arg(&signed).assert().success().stdout(predicate::str::starts_with("valid"));
    // Given the signer's root, the stranger trusts it; and `trust add` persists that.
    stranger
        .vouch()
        .arg("verify")
        .arg(&signed)
        .arg("--trust")
        .arg(signer.root_pem())
        .assert()
        .success()
        .stdout(predicate::str::starts_with("trusted"));
    stranger.vouch().arg("trust").arg("add").arg(signer.root_pem()).assert().success();
    stranger.vouch().arg("verify").arg(&signed).assert().stdout(predicate::str::starts_with("trusted"));
    let list = stranger.vouch().args(["trust", "list", "--json"]).output().unwrap();
    let fingerprint = json_lines(&list.stdout)[0]["cert"]["sha256"].as_str().unwrap().to_string();
    stranger.vouch().args(["trust", "remove", &fingerprint[..12]]).assert().success();
    stranger.vouch().arg("verify").arg(&signed).assert().stdout(predicate::str::starts_with("valid"));
}

#[test]
fn one_flipped_byte_of_image_data_is_invalid_with_exit_1() {
    let world = World::with_identity();
    let signed = world.signed("photo.jpg");
    flip_byte_near_end(&signed);
    let output = world.vouch().arg("verify").arg(&signed).arg("--json").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report = &json_lines(&output.stdout)[0];
    assert_eq!(report["c2pa"]["state"], "invalid");
    let codes = report["c2pa"]["codes"].as_array().unwrap();
    assert!(codes.iter().any(|c| c == "assertion.dataHash.mismatch"), "{codes:?}");
    // A stranger, who does not trust the signer either, is told both.
    let output = World::new().vouch().arg("verify").arg(&signed).arg("--json").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let codes = json_lines(&output.stdout)[0]["c2pa"]["codes"].clone();
    for code in ["assertion.dataHash.mismatch", "signingCredential.untrusted"] {
        assert!(codes.as_array().unwrap().iter().any(|c| c == code), "{code}: {codes}");
    }
}

/// The header segments of a JPEG (marker and all, after SOI, up to SOS) and
/// the rest of the file from SOS on.
fn jpeg_segments(data: &[u8]) -> (Vec<Vec<u8>>, Vec<u8>) {
    assert_eq!(&data[..2], [0xFF, 0xD8], "not a JPEG");
    let (mut at, mut segments) = (2, Vec::new());
    while data[at + 1] != 0xDA {
        assert_eq!(data[at], 0xFF, "segment marker expected at {at}");
        let len = 2 + usize::from(u16::from_be_bytes([data[at + 2], data[at + 3]]));
        segments.push(data[at..at + len].to_vec());
        at += len;
    }
    (segments, data[at..].to_vec())
}

fn jpeg_from_segments(segments: &[Vec<u8>], rest: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    segments.iter().for_each(|s| out.extend_from_slice(s));
    out.extend_from_slice(rest);
    out
}

/// Signs photo.jpg, then moves its manifest (the APP11 segments) so that it
/// no longer sits where the signed data-hash exclusion says. Every other
/// byte is unchanged, so a validator that only hashes "everything but the
/// manifest" would still find the hash good.
fn signed_photo_with_manifest_moved(
    world: &World,
    name: &str,
    place: impl Fn(&mut Vec<Vec<u8>>, Vec<Vec<u8>>, usize),
) -> std::path::PathBuf {
    let signed = world.signed("photo.jpg");
    let (segments, rest) = jpeg_segments(&std::fs::read(&signed).unwrap());
    let is_app11 = |s: &Vec<u8>| s[1] == 0xEB;
    let manifest: Vec<_> = segments.iter().filter(|s| is_app11(s)).cloned().collect();
    assert!(!manifest.is_empty(), "vouch wrote no APP11 segment");
    let mut others: Vec<_> = segments.iter().filter(|s| !is_app11(s)).cloned().collect();
    let first_app11 = segments.iter().position(is_app11).unwrap();
    place(&mut others, manifest, first_app11);
    let moved = jpeg_from_segments(&others, &rest);
    let (after, _) = jpeg_segments(&moved);
    assert_ne!(after.iter().position(is_app11), Some(first_app11), "the manifest did not move");
    let path = world.path(name);
    std::fs::write(&path, moved).unwrap();
    path
}

fn assert_exclusion_mismatch(world: &World, path: &std::path::Path) {
    let output = world.vouch().arg("verify").arg(path).arg("--json").output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stdout));
    let report = &json_lines(&output.stdout)[0];
    assert_eq!(report["c2pa"]["state"], "invalid", "{report}");
    let codes = report["c2pa"]["codes"].as_array().unwrap();
    assert!(codes.iter().any(|c| c == "assertion.dataHash.mismatch"), "{codes:?}");
}

#[test]
fn a_manifest_moved_after_the_next_segment_is_invalid() {
    let world = World::with_identity();
    // The segment that followed the manifest now sits where it began.
    let moved = signed_photo_with_manifest_moved(&world, "later.jpg", |others, manifest, was_at| {
        others.splice(was_at + 1..was_at + 1, manifest);
    });
    assert_exclusion_mismatch(&world, &moved);
}

#[test]
fn a_manifest_moved_to_just_before_the_image_data_is_invalid() {
    let world = World::with_identity();
    let moved = signed_photo_with_manifest_moved(&world, "last.jpg", |others, manifest, _| {
        others.extend(manifest);
    });
    assert_exclusion_mismatch(&world, &moved);
}

#[test]
fn an_extra_segment_before_the_manifest_is_invalid() {
    let world = World::with_identity();
    let signed = world.signed("photo.jpg");
    let (mut segments, rest) = jpeg_segments(&std::fs::read(&signed).unwrap());
    let first_app11 = segments.iter().position(|s| s[1] == 0xEB).unwrap();
    let comment = b"\xFF\xEF\x00\x0Cinserted!!".to_vec(); // APP15, 10 bytes of payload
    segments.insert(first_app11, comment);
    let path = world.path("inserted.jpg");
    std::fs::write(&path, jpeg_from_segments(&segments, &rest)).unwrap();
    assert_exclusion_mismatch(&world, &path);
}

/// Signs photo.jpg, cuts its manifest out into `NAME.c2pa` beside a copy
/// whose manifest bytes are replaced by `filler` (a same-length segment made
/// from the manifest's length). Every byte the signed data hash covers is
/// unchanged: only the exclusion, which no longer holds a manifest, differs.
/// c2pa 0.90 found this "trusted", leaving a hole anyone could fill.
fn signed_photo_with_manifest_cut_out(
    world: &World,
    name: &str,
    filler: impl Fn(usize) -> Vec<u8>,
) -> std::path::PathBuf {
    let signed = world.signed("photo.jpg");
    let (mut segments, rest) = jpeg_segments(&std::fs::read(&signed).unwrap());
    let at = segments.iter().position(|s| s[1] == 0xEB).unwrap();
    assert_eq!(segments.iter().filter(|s| s[1] == 0xEB).count(), 1, "a manifest in several segments");
    // APP11: marker, length, "JP", instance, sequence number; then JUMBF.
    let manifest = segments[at][12..].to_vec();
    let replacement = filler(segments[at].len());
    assert_eq!(replacement.len(), segments[at].len());
    segments[at] = replacement;
    let path = world.path(name);
    std::fs::write(&path, jpeg_from_segments(&segments, &rest)).unwrap();
    std::fs::write(world.path(&format!("{name}.c2pa")), manifest).unwrap();
    path
}

/// An APPn segment of exactly `len` bytes, marker and length included.
fn app_segment(marker: u8, len: usize, payload: &[u8]) -> Vec<u8> {
    let mut segment = vec![0xFF, marker];
    segment.extend_from_slice(&u16::try_from(len - 2).unwrap().to_be_bytes());
    segment.extend(payload.iter().copied().cycle().take(len - 4));
    segment
}

fn assert_c2pa_python_sees_the_mismatch(path: &std::path::Path) {
    let Some(python) = python() else { return };
    let output = std::process::Command::new(python)
        .arg(fixture("../tests/interop/c2pa_python.py"))
        .arg("read")
        .arg(path)
        .arg("--manifest")
        .arg(format!("{}.c2pa", path.display()))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let verdict: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(verdict["state"], "Invalid", "{verdict}");
    assert!(verdict["codes"].as_array().unwrap().iter().any(|c| c == "assertion.dataHash.mismatch"), "{verdict}");
}

#[test]
fn a_manifest_cut_out_into_a_sidecar_leaving_junk_is_invalid() {
    let world = World::with_identity();
    let path = signed_photo_with_manifest_cut_out(&world, "junk.jpg", |len| app_segment(0xEF, len, b"junk"));
    assert_exclusion_mismatch(&world, &path);
    assert_c2pa_python_sees_the_mismatch(&path);
}

#[test]
fn a_manifest_cut_out_into_a_sidecar_leaving_forged_metadata_is_invalid() {
    let world = World::with_identity();
    let xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF \
        xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description \
        xmlns:dc='http://purl.org/dc/elements/1.1/' dc:creator='Someone Else'/></rdf:RDF></x:xmpmeta>";
    let path = signed_photo_with_manifest_cut_out(&world, "forged.jpg", |len| {
        let mut segment = app_segment(0xE1, len, b" ");
        segment[4..4 + xmp.len()].copy_from_slice(xmp);
        segment
    });
    assert_exclusion_mismatch(&world, &path);
    assert_c2pa_python_sees_the_mismatch(&path);
}

#[test]
fn unsigned_media_is_absent_and_fails_verification() {
    let world = World::new();
    world
        .vouch()
        .arg("verify")
        .arg(fixture("photo.jpg"))
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("absent"));
}

/// Small files are validated from memory, read once; a video larger than
/// that is streamed from disk. A clip of a terabyte (sparse: it takes no
/// disk) verifies as absent in seconds instead of being read into memory.
#[test]
fn a_clip_larger_than_memory_is_streamed_not_read_whole() {
    let world = World::new();
    let clip = world.fixture("clip.mp4");
    std::fs::OpenOptions::new().write(true).open(&clip).unwrap().set_len(1 << 40).unwrap();
    let output = world.vouch().arg("verify").arg(&clip).arg("--json").output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(json_lines(&output.stdout)[0]["c2pa"]["state"], "absent");
}

#[test]
fn sidecar_leaves_the_original_byte_identical_and_is_found_by_verify() {
    let world = World::with_identity();
    let clip = world.fixture("clip.mp4");
    let before = sha256(&clip);
    world.vouch().arg("sign").arg(&clip).arg("--sidecar").assert().success();
    assert_eq!(sha256(&clip), before);
    // Named as c2pa-rs and c2patool look for it.
    assert!(world.path("clip.c2pa").is_file());
    let output = world.vouch().arg("verify").arg(&clip).arg("--json").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let report = &json_lines(&output.stdout)[0];
    assert_eq!(report["c2pa"]["state"], "trusted");
    assert_eq!(report["c2pa"]["sidecar"], true);
    // The sidecar binds to these exact bytes.
    flip_byte_near_end(&clip);
    world.vouch().arg("verify").arg(&clip).assert().code(1).stdout(predicate::str::starts_with("invalid"));
}

/// A sidecar that is not a manifest store at all is a manifest that does
/// not hold, not "no credentials": the file fails as invalid, and the
/// report says the verdict came from the sidecar.
#[test]
fn a_sidecar_that_cannot_be_parsed_is_invalid_and_said_to_be_the_sidecar() {
    let world = World::new();
    let photo = world.fixture("photo.jpg");
    std::fs::write(world.path("photo.c2pa"), b"not a manifest store").unwrap();
    let output = world.vouch().arg("verify").arg(&photo).arg("--json").output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let c2pa = &json_lines(&output.stdout)[0]["c2pa"];
    assert_eq!(c2pa["state"], "invalid", "{c2pa}");
    assert_eq!(c2pa["codes"], serde_json::json!(["manifest.malformed"]), "{c2pa}");
    assert_eq!(c2pa["sidecar"], true, "{c2pa}");
    assert!(c2pa["reason"].as_str().is_some_and(|r| !r.is_empty()), "{c2pa}");
}

#[test]
fn in_place_replaces_the_original_and_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let world = World::with_identity();
    let photo = world.fixture("photo.jpg");
    std::fs::set_permissions(&photo, std::fs::Permissions::from_mode(0o640)).unwrap();
    world.vouch().arg("sign").arg(&photo).arg("--in-place").assert().success();
    assert_eq!(std::fs::metadata(&photo).unwrap().permissions().mode() & 0o777, 0o640);
    world.vouch().arg("verify").arg(&photo).assert().success();
    assert_eq!(listing(world.dir.path()).iter().filter(|n| n.starts_with(".vouch-")).count(), 0);
}

#[test]
fn existing_outputs_are_kept_unless_forced() {
    let world = World::with_identity();
    let signed = world.signed("photo.jpg");
    let first = sha256(&signed);
    let sign = |name: &str, force: bool| {
        let mut cmd = world.vouch();
        cmd.arg("sign").arg(fixture(name)).arg("-o").arg(world.path("signed"));
        if force {
            cmd.arg("--force");
        }
        cmd.output().unwrap()
    };
    // A signed copy someone changed is not vouch's to replace.
    std::fs::write(&signed, b"edited by hand").unwrap();
    let out = sign("photo.jpg", false);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("or the signed copy changed since it was signed (pass --force to re-sign)"), "{stderr}");
    assert_eq!(std::fs::read(&signed).unwrap(), b"edited by hand");
    // Nor is a file vouch did not write.
    std::fs::write(world.path("signed/image.png"), b"someone else's").unwrap();
    let out = sign("image.png", false);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists (pass --force to overwrite)"));
    assert_eq!(std::fs::read(world.path("signed/image.png")).unwrap(), b"someone else's");

    assert_eq!(sign("photo.jpg", true).status.code(), Some(0));
    assert_ne!(sha256(&signed), first, "--force should have re-signed");
    world.vouch().arg("verify").arg(&signed).assert().success();
}

#[test]
fn re_signing_a_folder_signs_only_what_is_new() {
    let world = World::with_identity();
    let desk = world.path("desk");
    std::fs::create_dir_all(&desk).unwrap();
    for name in ["photo.jpg", "image.png"] {
        std::fs::copy(fixture(name), desk.join(name)).unwrap();
    }
    let out_dir = world.path("out");
    let sign =
        |extra: &[&str]| world.vouch().arg("sign").arg(&desk).arg("-o").arg(&out_dir).args(extra).output().unwrap();
    let first = sign(&[]);
    assert_eq!(first.status.code(), Some(0));
    let before = sha256(&out_dir.join("photo.jpg"));

    // A new file lands; the run signs it and leaves the others alone.
    std::fs::copy(fixture("image.webp"), desk.join("image.webp")).unwrap();
    let again = sign(&["--json"]);
    assert_eq!(again.status.code(), Some(0), "{}", String::from_utf8_lossy(&again.stderr));
    let records = json_lines(&again.stdout);
    let unchanged: Vec<&str> =
        records.iter().filter(|r| r["unchanged"] == true).map(|r| r["path"].as_str().unwrap()).collect();
    let signed: Vec<&str> =
        records.iter().filter(|r| r["action"].is_string()).map(|r| r["path"].as_str().unwrap()).collect();
    assert_eq!(unchanged.len(), 2, "{records:?}");
    assert_eq!(signed, [desk.join("image.webp").display().to_string()]);
    assert_eq!(String::from_utf8_lossy(&again.stderr).trim_end().lines().last(), Some("1 signed, 2 unchanged"));
    assert_eq!(sha256(&out_dir.join("photo.jpg")), before, "an unchanged copy is not rewritten");
    world.vouch().arg("verify").arg(&out_dir).assert().success();

    // --force signs everything again.
    let forced = sign(&["--force"]);
    assert_eq!(forced.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&forced.stderr).trim_end().lines().last(), Some("3 signed"));
    assert_ne!(sha256(&out_dir.join("photo.jpg")), before);
}

/// A desk's folder spans several commit batches (128 files each): each
/// batch is committed while the next is signed, and still every file is
/// reported once, in order, and recorded in the folder's index.
#[test]
fn a_folder_of_several_batches_is_signed_in_order_and_recorded_whole() {
    let world = World::with_identity();
    let desk = world.path("desk");
    std::fs::create_dir_all(&desk).unwrap();
    let names: Vec<String> = (0..260).map(|i| format!("photo_{i:03}.jpg")).collect();
    for name in &names {
        std::fs::copy(fixture("photo.jpg"), desk.join(name)).unwrap();
    }
    let out_dir = world.path("out");
    let sign = || world.vouch().arg("sign").arg(&desk).arg("-o").arg(&out_dir).arg("--json").output().unwrap();
    let first = sign();
    assert_eq!(first.status.code(), Some(0), "{}", String::from_utf8_lossy(&first.stderr));
    let records = json_lines(&first.stdout);
    let reported: Vec<String> = records.iter().map(|r| r["path"].as_str().unwrap().to_string()).collect();
    let expected: Vec<String> = names.iter().map(|n| desk.join(n).display().to_string()).collect();
    assert_eq!(reported, expected, "one record per file, in order");
    assert_eq!(String::from_utf8_lossy(&first.stderr).trim_end().lines().last(), Some("260 signed"));
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join(".vouch-signed.json")).unwrap()).unwrap();
    assert_eq!(index.as_object().unwrap().len(), 260, "every batch is in the index");
    for name in &names {
        assert_eq!(index[name]["output_sha256"], sha256(&out_dir.join(name)), "{name}");
    }

    // An input of the second batch edited, a copy of the third tampered
    // with: those two are refused, every other copy is unchanged.
    flip_byte_near_end(&desk.join("photo_150.jpg"));
    flip_byte_near_end(&out_dir.join("photo_250.jpg"));
    let again = sign();
    assert_eq!(again.status.code(), Some(2), "{}", String::from_utf8_lossy(&again.stderr));
    let records = json_lines(&again.stdout);
    let unchanged = records.iter().filter(|r| r["unchanged"] == true).count();
    assert_eq!(unchanged, 258, "{records:?}");
    let stderr = String::from_utf8_lossy(&again.stderr);
    for name in ["photo_150.jpg", "photo_250.jpg"] {
        assert!(stderr.contains(&format!("{}: already exists", out_dir.join(name).display())), "{stderr}");
    }
    assert_eq!(stderr.trim_end().lines().last(), Some("0 signed, 258 unchanged, 2 failed"));

    // Verified in chunks, the folder still gets one record per file in
    // order: the tampered copy in the second chunk and a copy swapped for
    // the unsigned original in the first both fail the run.
    std::fs::copy(fixture("photo.jpg"), out_dir.join("photo_005.jpg")).unwrap();
    let verified = world.vouch().arg("verify").arg(&out_dir).arg("--json").output().unwrap();
    assert_eq!(verified.status.code(), Some(1), "{}", String::from_utf8_lossy(&verified.stderr));
    let records = json_lines(&verified.stdout);
    let reported: Vec<String> = records.iter().map(|r| r["path"].as_str().unwrap().to_string()).collect();
    let expected: Vec<String> = names.iter().map(|n| out_dir.join(n).display().to_string()).collect();
    assert_eq!(reported, expected, "one record per file, in order");
    let failed: Vec<&str> =
        records.iter().filter(|r| r["c2pa"]["state"] != "trusted").map(|r| r["path"].as_str().unwrap()).collect();
    let expected_failed: Vec<String> =
        ["photo_005.jpg", "photo_250.jpg"].iter().map(|n| out_dir.join(n).display().to_string()).collect();
    assert_eq!(failed, expected_failed, "{records:?}");
    let stderr = String::from_utf8_lossy(&verified.stderr);
    assert!(stderr.trim_end().lines().last().unwrap().starts_with("258 passed, 2 failed"), "{stderr}");
}

#[test]
fn signing_signed_media_records_an_edit_with_its_parent() {
    let world = World::with_identity();
    let signed = world.signed("photo.jpg");
    let again = world.path("again");
    world
        .vouch()
        .arg("sign")
        .arg(&signed)
        .arg("-o")
        .arg(&again)
        .args(["--title", "Cropped for web", "--author", "Desk Editor", "--source-type", "minor-human-edits"])
        .assert()
        .success()
        .stdout(predicate::str::contains("c2pa.edited"));
    let output = world.vouch().arg("verify").arg(again.join("photo.jpg")).arg("--json").output().unwrap();
    let c2pa = &json_lines(&output.stdout)[0]["c2pa"];
    assert_eq!(c2pa["state"], "trusted", "{c2pa}");
    assert_eq!(c2pa["title"], "Cropped for web");
    let actions = c2pa["actions"].as_array().unwrap();
    assert!(actions.iter().any(|a| a == "c2pa.opened") && actions.iter().any(|a| a == "c2pa.edited"), "{actions:?}");
    assert_eq!(c2pa["digital_source_type"], "http://cv.iptc.org/newscodes/digitalsourcetype/minorHumanEdits", "{c2pa}");

    // Re-signed without saying what an edit made, vouch claims no edit (and
    // no capture): it records only that it opened the signed file.
    let resigned = world.path("resigned");
    world
        .vouch()
        .arg("sign")
        .arg(&signed)
        .arg("-o")
        .arg(&resigned)
        .assert()
        .success()
        .stdout(predicate::str::contains("c2pa.opened"));
    let output = world.vouch().arg("verify").arg(resigned.join("photo.jpg")).arg("--json").output().unwrap();
    let c2pa = &json_lines(&output.stdout)[0]["c2pa"];
    assert_eq!(c2pa["state"], "trusted", "{c2pa}");
    assert_eq!(c2pa["actions"], serde_json::json!(["c2pa.opened"]), "{c2pa}");
    let declared: Vec<&serde_json::Value> = c2pa["declared_sources"].as_array().unwrap().iter().collect();
    assert!(
        declared.iter().all(|d| d["manifest"] != c2pa["manifest"]),
        "the new manifest declares no source type of its own: {declared:?}"
    );
    let parent = &c2pa["ingredients"][0];
    assert_eq!(parent["relationship"], "parentOf");
    assert_eq!(parent["has_manifest"], true);

    let tree = world.vouch().arg("inspect").arg(again.join("photo.jpg")).arg("--tree").output().unwrap();
    let tree = String::from_utf8(tree.stdout).unwrap();
    assert!(tree.contains("Cropped for web") && tree.contains("parentOf: photo.jpg"), "{tree}");
}

#[test]
fn source_type_and_author_are_recorded() {
    let world = World::with_identity();
    let out = world.path("out");
    world
        .vouch()
        .arg("sign")
        .arg(fixture("image.png"))
        .arg("-o")
        .arg(&out)
        .args(["--source-type", "trained-algorithmic-media", "--author", "Ada"])
        .assert()
        .success();
    let output = world.vouch().arg("inspect").arg(out.join("image.png")).arg("--json").output().unwrap();
    let store: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let active = &store["manifests"][store["active_manifest"].as_str().unwrap()];
    let text = active.to_string();
    assert!(text.contains("trainedAlgorithmicMedia"), "{text}");
    // The author as CAWG metadata (`stds.schema-org.CreativeWork` is deprecated since C2PA 2.2).
    assert!(text.contains("\"dc:creator\":[\"Ada\"]"), "{text}");
    assert!(!text.contains("stds.schema-org"), "{text}");
    assert!(active["claim_generator_info"][0]["name"] == "vouch");
}

#[test]
fn inspect_shows_signer_actions_and_assertions() {
    let world = World::with_identity();
    let signed = world.signed("photo.jpg");
    world
        .vouch()
        .arg("inspect")
        .arg(&signed)
        .assert()
        .success()
        .stdout(predicate::str::contains("signer      Test Reporter"))
        .stdout(predicate::str::contains("c2pa.created [digitalCapture]"))
        .stdout(predicate::str::contains("c2pa.actions"));
    world
        .vouch()
        .arg("inspect")
        .arg(fixture("photo.jpg"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("no Content Credentials"));
}

/// `inspect` shows the credentials the file carries: a sidecar made for
/// other bytes, dropped beside a signed photo, does not take their place.
#[test]
fn inspect_shows_the_embedded_manifest_even_with_a_sidecar_beside_it() {
    let world = World::with_identity();
    let photo = world.signed("photo.jpg");
    let active_of = |world: &World| {
        let output = world.vouch().arg("inspect").arg(&photo).arg("--json").output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let store: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        store["active_manifest"].as_str().unwrap().to_string()
    };
    let embedded = active_of(&world);
    let other = world.fixture("image.png");
    world.vouch().arg("sign").arg(&other).arg("--sidecar").assert().success();
    std::fs::copy(world.path("image.c2pa"), photo.with_extension("c2pa")).unwrap();
    assert_eq!(active_of(&world), embedded);
}

#[test]
fn signing_without_a_destination_is_a_usage_error() {
    let world = World::with_identity();
    world.vouch().arg("sign").arg(fixture("photo.jpg")).assert().code(2);
}

#[test]
fn json_mode_prints_only_json_on_stdout_even_for_errors() {
    let world = World::with_identity();
    let output = world
        .vouch()
        .arg("verify")
        .arg(fixture("photo.jpg"))
        .arg(world.path("missing.jpg"))
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let lines = json_lines(&output.stdout);
    assert_eq!(lines.len(), 2);
    assert!(lines[0]["error"].as_str().unwrap().contains("missing.jpg"));
    assert_eq!(lines[1]["c2pa"]["state"], "absent");
}
