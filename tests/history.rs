//! A file's history cannot be laundered: an AI label survives re-signing and
//! is judged wherever it sits, and a manifest that was invalid when it became
//! an ingredient stays visible however well the newest signature verifies.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

const REFUSE_AI: &str = "require_c2pa = \"valid\"\nrefused_source_types = [\"trainedAlgorithmicMedia\"]\n";
const CAPTURES_ONLY: &str = "require_c2pa = \"valid\"\nallowed_source_types = [\"digitalCapture\"]\n";

/// Signs `input` with the world's identity into `<work>/<dir>/` and returns the output.
fn sign(world: &World, input: &Path, dir: &str, extra: &[&str]) -> PathBuf {
    let out = world.path(dir);
    world.vouch().arg("sign").arg(input).arg("-o").arg(&out).args(extra).assert().success();
    out.join(input.file_name().unwrap())
}

fn verify_json(world: &World, file: &Path) -> Value {
    let out = world.vouch().arg("verify").arg(file).arg("--json").output().unwrap();
    json_lines(&out.stdout).remove(0)
}

/// `vouch check FILE --policy` with the policy text; (exit code, stdout).
fn check(world: &World, file: &Path, policy: &str) -> (i32, String) {
    let path = world.path("policy.toml");
    std::fs::write(&path, policy).unwrap();
    let out = world.vouch().arg("check").arg(file).arg("--policy").arg(&path).output().unwrap();
    (out.status.code().unwrap(), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn declared_types(record: &Value) -> Vec<String> {
    record["c2pa"]["declared_sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["type"].as_str().unwrap().rsplit('/').next().unwrap().to_string())
        .collect()
}

/// An image a generator signed as AI-made, then someone else re-signed it.
fn laundered(generations: usize) -> (World, PathBuf) {
    let generator = World::with_identity();
    let mut file = sign(&generator, &fixture("image.png"), "gen", &["--source-type", "trained-algorithmic-media"]);
    let launderer = World::with_identity();
    for n in 0..generations {
        let copy = launderer.path(&format!("in{n}.png"));
        std::fs::copy(&file, &copy).unwrap();
        let out = launderer.path(&format!("resigned{n}"));
        let assert = launderer.vouch().arg("sign").arg(&copy).arg("-o").arg(&out).assert().success();
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(
            stderr.contains(
                "declares AI-generated content (trainedAlgorithmicMedia) in its history; the declaration is kept"
            ),
            "signing must say what the input declares: {stderr}"
        );
        file = out.join(copy.file_name().unwrap());
    }
    (launderer, file)
}

#[test]
fn an_ai_label_survives_re_signing_and_fails_a_policy_that_refuses_it() {
    for generations in [1, 2] {
        let (world, file) = laundered(generations);
        let record = verify_json(&world, &file);
        let c2pa = &record["c2pa"];
        assert_eq!(c2pa["state"], "trusted", "the launderer's own signature holds: {record}");
        assert!(
            !c2pa["actions"].as_array().unwrap().iter().any(|a| a == "c2pa.created"),
            "the newest manifest only edits: {record}"
        );
        assert!(declared_types(&record).contains(&"trainedAlgorithmicMedia".to_string()), "{record}");
        let ai = c2pa["declared_sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["type"].as_str().unwrap().ends_with("trainedAlgorithmicMedia"))
            .unwrap();
        assert_ne!(ai["manifest"], c2pa["manifest"], "declared by an ingredient manifest, not the active one");
        assert_eq!(ai["action"], "c2pa.created");

        let (code, out) = check(&world, &file, REFUSE_AI);
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains(
                "declares AI-generated content (trainedAlgorithmicMedia) in its history, which the policy refuses"
            ),
            "{out}"
        );
        let (code, out) = check(&world, &file, CAPTURES_ONLY);
        assert_eq!(code, 1, "an allow list judges every declaration: {out}");
        assert!(out.contains("not among those the policy allows"), "{out}");

        let text = world.vouch().arg("verify").arg(&file).output().unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.contains("declares AI-generated content (trainedAlgorithmicMedia) in its history"), "{text}");
    }
}

#[test]
fn a_capture_passes_the_same_policies_and_says_nothing_about_ai() {
    let world = World::with_identity();
    let file = sign(&world, &fixture("photo.jpg"), "signed", &[]);
    let record = verify_json(&world, &file);
    assert_eq!(declared_types(&record), ["digitalCapture"]);
    for policy in [REFUSE_AI, CAPTURES_ONLY] {
        let (code, out) = check(&world, &file, policy);
        assert_eq!(code, 0, "{policy}: {out}");
    }
    // Without a policy, an honest AI label is shown as a warning, never hidden.
    let ai = sign(&world, &fixture("image.png"), "ai", &["--source-type", "trained-algorithmic-media"]);
    let out = world.vouch().arg("check").arg(&ai).arg("--trust").arg(world.root_pem()).output().unwrap();
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(out.contains("WARN") && out.contains("declares AI-generated content (trainedAlgorithmicMedia)"), "{out}");
}

/// Manifests vouch would never write, signed by c2pa-python with a vouch
/// identity: one manifest whose later action declares AI, and one that uses
/// the legacy `c2pa.actions` (v1) label.
#[test]
fn every_action_of_a_manifest_counts_including_legacy_v1_actions() {
    let Some(python) = python() else { return };
    let world = World::with_identity();
    let iptc = "http://cv.iptc.org/newscodes/digitalsourcetype/";
    let cases = [
        (
            "c2pa.actions.v2",
            serde_json::json!([
                {"action": "c2pa.created", "digitalSourceType": format!("{iptc}digitalCapture")},
                {"action": "c2pa.edited", "digitalSourceType": format!("{iptc}trainedAlgorithmicMedia")},
            ]),
        ),
        (
            "c2pa.actions",
            serde_json::json!([
                {"action": "c2pa.created", "digitalSourceType": format!("{iptc}trainedAlgorithmicMedia")},
            ]),
        ),
    ];
    // The claim generator is named with its version when it gives one.
    let generators = [
        (serde_json::json!({"name": "c2pa-python-interop", "version": "1"}), "c2pa-python-interop/1"),
        (serde_json::json!({"name": "c2pa-python-interop"}), "c2pa-python-interop"),
    ];
    for (n, ((label, actions), (generator, named))) in cases.into_iter().zip(generators).enumerate() {
        let definition = serde_json::json!({
            "claim_generator_info": [generator],
            "title": "crafted",
            "assertions": [{"label": label, "data": {"actions": actions}}],
        });
        let out = c2pa_python_signed(&world, &python, n, definition);
        let record = verify_json(&world, &out);
        assert_eq!(record["c2pa"]["claim_generator"], named, "{record}");
        assert!(declared_types(&record).contains(&"trainedAlgorithmicMedia".to_string()), "{label}: {record}");
        let (code, report) = check(&world, &out, REFUSE_AI);
        assert_eq!(code, 1, "{label}: {report}");
        assert!(
            report.contains("declares AI-generated content (trainedAlgorithmicMedia), which the policy refuses"),
            "{report}"
        );
    }
}

#[test]
fn an_input_with_invalid_credentials_is_refused_unless_asked_and_then_never_hidden() {
    let world = World::with_identity();
    let tampered = sign(&world, &fixture("photo.jpg"), "signed", &[]);
    flip_byte_near_end(&tampered);
    let out = world.path("resigned");
    let before = sha256(&tampered);
    let refused = world.vouch().arg("sign").arg(&tampered).arg("-o").arg(&out).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("photo.jpg: its Content Credentials are invalid (assertion.dataHash.mismatch"), "{stderr}");
    assert!(stderr.contains("--allow-invalid-parent"), "{stderr}");
    assert!(!out.exists(), "nothing written");
    assert_eq!(sha256(&tampered), before);

    // In place too: the refusal leaves the original as it was.
    let in_place = world.vouch().arg("sign").arg(&tampered).arg("--in-place").output().unwrap();
    assert_eq!(in_place.status.code(), Some(2));
    assert_eq!(sha256(&tampered), before);

    world.vouch().arg("sign").arg(&tampered).arg("-o").arg(&out).arg("--allow-invalid-parent").assert().success();
    let resigned = out.join("photo.jpg");
    let record = verify_json(&world, &resigned);
    let c2pa = &record["c2pa"];
    assert!(c2pa["codes"].as_array().unwrap().iter().any(|c| c == "vouch.ingredient.invalid"), "{record}");
    assert_eq!(c2pa["ingredients"][0]["state"], "invalid", "{record}");
    assert!(
        c2pa["ingredients"][0]["codes"].as_array().unwrap().iter().any(|c| c == "assertion.dataHash.mismatch"),
        "{record}"
    );
    assert_eq!(c2pa["invalid_ingredients"][0]["codes"], c2pa["ingredients"][0]["codes"]);

    let trusted = format!("require_c2pa = \"trusted\"\ntrusted_roots = [\"{}\"]\n", world.root_pem().display());
    for (policy, expected) in [
        (trusted.clone(), 1),
        ("require_c2pa = \"valid\"\n".to_string(), 1),
        (format!("{trusted}allow_invalid_ingredients = true\n"), 0),
    ] {
        let (code, report) = check(&world, &resigned, &policy);
        assert_eq!(code, expected, "{policy}: {report}");
        assert!(
            report.contains(
                "whose credentials were invalid when it was used: the image data changed after it was signed \
                 (assertion.dataHash.mismatch"
            ),
            "{report}"
        );
    }
    let text = world.vouch().arg("verify").arg(&resigned).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("invalid when it was used: the image data changed after it was signed"), "{text}");
}

/// Real third-party files: XCA.jpg carries a data-hash mismatch.
#[test]
fn a_tampered_third_party_file_cannot_be_re_signed_into_a_clean_history() {
    let Some(dir) = shared("interop/c2pa") else { return };
    let world = World::with_identity();
    let input = world.path("XCA.jpg");
    std::fs::copy(dir.join("XCA.jpg"), &input).unwrap();
    let out = world.path("out");
    let refused = world.vouch().arg("sign").arg(&input).arg("-o").arg(&out).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("XCA.jpg: its Content Credentials are invalid"));
    world.vouch().arg("sign").arg(&input).arg("-o").arg(&out).arg("--allow-invalid-parent").assert().success();
    let record = verify_json(&world, &out.join("XCA.jpg"));
    assert!(record["c2pa"]["codes"].as_array().unwrap().iter().any(|c| c == "vouch.ingredient.invalid"), "{record}");
    let (code, _) = check(&world, &out.join("XCA.jpg"), "require_c2pa = \"valid\"\n");
    assert_eq!(code, 1);
}
