//! The C2PA Conformance Program judges an asset by evaluating its asset
//! rubrics on a validator's crJSON. Here vouch's own outputs, read back by
//! `vouch inspect --crjson`, are judged by the program's official evaluators
//! (`$VOUCH_SHARED/c2pa-rubrics`): a manifest vouch writes has no failing
//! trait in the conformance rubric (0.2, spec 2.4) nor in the integrity
//! rubric's well-formed and valid groups.

mod common;

use std::ffi::OsStr;
use std::path::Path;

use common::*;

/// Traits a conformant manifest of vouch's passes, named so that a rubric
/// that silently stopped checking them would fail this test too.
const MUST_PASS: &[&str] = &["inception_action_position", "mandatory_all_actions_included", "mandatory_spec_version"];

/// Evaluates the manifest of `file` and fails the test on any failing trait
/// of the conformance rubric or of the integrity rubric's well-formed and
/// valid groups (its trusted group depends on the reader's anchors, not on
/// how the manifest was written).
fn assert_conformant(world: &World, rubrics: &Rubrics, file: &Path, what: &str, trust: &[&OsStr]) {
    let crjson = world.crjson(file, trust);
    let conformance = rubrics.evaluate("conformance", &crjson);
    assert_eq!(conformance["rubricName"], "C2PA Asset Conformance 0.2 Spec 2.4 Rubric");
    let failed = traits(&conformance, "false");
    assert!(failed.is_empty(), "{what}: conformance rubric fails {failed:?}");
    let passed = traits(&conformance, "true");
    for name in MUST_PASS {
        assert!(passed.iter().any(|t| t == name), "{what}: {name} not among the passed traits {passed:?}");
    }

    let integrity = rubrics.evaluate("integrity", &crjson);
    let failed: Vec<String> = traits(&integrity, "false")
        .into_iter()
        .filter(|t| t.starts_with("well_formed") || t.starts_with("valid"))
        .collect();
    assert!(failed.is_empty(), "{what}: integrity rubric fails {failed:?}");
    let passed = traits(&integrity, "true");
    for name in ["well_formed_success", "valid_success"] {
        assert!(passed.iter().any(|t| t == name), "{what}: {name} not among the passed traits {passed:?}");
    }
}

#[test]
fn every_format_vouch_signs_is_conformant_when_created_and_when_edited() {
    let Some(rubrics) = Rubrics::find() else { return };
    let world = World::with_identity();
    for (i, name) in MEDIA.iter().enumerate() {
        // Half the files carry an author when created, the other half when edited.
        let author: &[&str] = if i % 2 == 0 { &["--author", "Staff Photographer"] } else { &[] };
        let created = world.path(&format!("created-{i}"));
        world.vouch().arg("sign").arg(fixture(name)).arg("-o").arg(&created).args(author).assert().success();
        assert_conformant(&world, &rubrics, &created.join(name), &format!("{name} created {author:?}"), &[]);

        let author: &[&str] = if i % 2 == 1 { &["--author", "Desk Editor"] } else { &[] };
        let edited = world.path(&format!("edited-{i}"));
        world
            .vouch()
            .arg("sign")
            .arg(created.join(name))
            .arg("-o")
            .arg(&edited)
            .args(author)
            .args(["--source-type", "minor-human-edits"])
            .assert()
            .success()
            .stdout(predicates::str::contains("c2pa.edited"));
        assert_conformant(&world, &rubrics, &edited.join(name), &format!("{name} edited {author:?}"), &[]);

        // Re-signed without a source type: only `c2pa.opened`, still conformant.
        if i % 3 == 0 {
            let opened = world.path(&format!("opened-{i}"));
            world
                .vouch()
                .arg("sign")
                .arg(created.join(name))
                .arg("-o")
                .arg(&opened)
                .assert()
                .success()
                .stdout(predicates::str::contains("c2pa.opened"));
            assert_conformant(&world, &rubrics, &opened.join(name), &format!("{name} re-signed"), &[]);
        }
    }
}

#[test]
fn sidecar_manifests_are_conformant() {
    let Some(rubrics) = Rubrics::find() else { return };
    let world = World::with_identity();
    for name in ["photo.jpg", "image.png", "clip.mp4", "tone.wav", "image.svg", "image.heic"] {
        // One folder each: image.png and image.svg would share image.c2pa.
        let dir = world.path(&format!("sidecar-{name}"));
        std::fs::create_dir(&dir).unwrap();
        let file = dir.join(name);
        std::fs::copy(fixture(name), &file).unwrap();
        world.vouch().arg("sign").arg(&file).arg("--sidecar").args(["--author", "Field Reporter"]).assert().success();
        assert!(file.with_extension("c2pa").is_file(), "{name}: no sidecar written");
        assert_conformant(&world, &rubrics, &file, &format!("{name} sidecar"), &[]);
    }
}

#[test]
fn timestamped_manifests_are_conformant() {
    let Some(rubrics) = Rubrics::find() else { return };
    let Some(python) = python() else { return };
    let world = World::with_identity();
    let pki = Pki::new(&world.path("tsa-pki"), "Test TSA Root", "Test Time Authority", "critical,timeStamping");
    let tsa = Tsa::start(&python, &pki, None, None);
    let trust = [OsStr::new("--trust"), pki.root.as_os_str()];
    for name in ["photo.jpg", "clip.mp4", "document.pdf"] {
        let created = world.path("created");
        world
            .vouch()
            .arg("sign")
            .arg(fixture(name))
            .arg("-o")
            .arg(&created)
            .arg("--tsa")
            .arg(&tsa.url)
            .assert()
            .success();
        let edited = world.path("edited");
        world
            .vouch()
            .arg("sign")
            .arg(created.join(name))
            .arg("-o")
            .arg(&edited)
            .arg("--tsa")
            .arg(&tsa.url)
            .assert()
            .success();
        for (file, what) in [(created.join(name), "created"), (edited.join(name), "edited")] {
            // The timestamp is there, so it is what the rubrics saw.
            let crjson: serde_json::Value =
                serde_json::from_slice(&std::fs::read(world.crjson(&file, &trust)).unwrap()).unwrap();
            assert!(
                crjson.to_string().contains("timeStamp.trusted"),
                "{name} {what}: no trusted timestamp in {crjson}"
            );
            assert_conformant(&world, &rubrics, &file, &format!("{name} {what} timestamped"), &trust);
        }
    }
}

#[test]
fn inspect_crjson_prints_the_validators_document_and_refuses_a_file_without_credentials() {
    let world = World::with_identity();
    let signed = world.signed("photo.jpg");
    let out = world.vouch().arg("inspect").arg("--crjson").arg(&signed).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let crjson: serde_json::Value = serde_json::from_slice(&out.stdout).expect("crJSON is one JSON document");
    let manifest = &crjson["manifests"][0];
    assert_eq!(manifest["claim.v2"]["claim_generator_info"]["specVersion"], "2.4.0", "{manifest}");
    assert_eq!(manifest["assertions"]["c2pa.actions.v2"]["allActionsIncluded"], true, "{manifest}");
    assert!(manifest["validationResults"].is_object(), "{manifest}");

    let bare = world.fixture("image.png");
    world
        .vouch()
        .arg("inspect")
        .arg("--crjson")
        .arg(&bare)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicates::str::contains("image.png: no Content Credentials"));
}

#[test]
fn a_sidecar_c2pa_cannot_bind_to_the_file_is_refused_with_nothing_written() {
    // c2pa 0.91.6 hashes PDF and MP3 sidecars over bytes the original does
    // not have: such a sidecar would be `invalid` everywhere it is read.
    let world = World::with_identity();
    for name in ["document.pdf", "tone.mp3"] {
        let file = world.fixture(name);
        let before = listing(world.dir.path());
        world
            .vouch()
            .arg("sign")
            .arg(&file)
            .arg("--sidecar")
            .assert()
            .code(2)
            .stderr(predicates::str::contains(format!(
                "{name}: signing failed: c2pa cannot write a sidecar that binds"
            )))
            .stderr(predicates::str::contains("assertion.dataHash.mismatch"));
        assert_eq!(listing(world.dir.path()), before, "{name}: something was written");
        // Embedded, the same file signs and verifies.
        let out = world.path("embedded");
        world.vouch().arg("sign").arg(&file).arg("-o").arg(&out).assert().success();
        world.vouch().arg("verify").arg(out.join(name)).assert().success();
    }
    // Nor can it bind one to a file that already has embedded credentials.
    let signed = world.signed("photo.jpg");
    world
        .vouch()
        .arg("sign")
        .arg(&signed)
        .arg("--sidecar")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot write a sidecar that binds"));
    assert!(!signed.with_extension("c2pa").exists());
}
