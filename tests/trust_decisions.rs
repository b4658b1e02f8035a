//! The decisions a newsroom relies on, each with a test that fails if the
//! decision is wrong. (Others live beside the features they guard:
//! a root not among the anchors in sign_verify.rs, pending and unknown
//! attestations in anchor_ots.rs and src/anchor/ots/tests.rs, another
//! chain id and a reorganised block in anchor_evm.rs, a receipt proving
//! another file's hash in fixtures/bad.)

mod common;

use common::*;

#[test]
fn a_signer_certificate_expired_now_without_a_timestamp_is_never_trusted() {
    let Some(faketime) = faketime() else { return };
    let world = World::new();
    let at = |when: &str| world.at(&faketime, when);
    // A 30-day certificate, used while it was valid, in January 2020.
    world.expired_identity(&faketime);
    let signed = world.path("signed");
    let out = at("2020-01-10 12:00:00").arg("sign").arg(fixture("photo.jpg")).arg("-o").arg(&signed).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let photo = signed.join("photo.jpg");

    // Back then it was trusted...
    let then = at("2020-01-15 12:00:00").arg("verify").arg(&photo).arg("--json").output().unwrap();
    assert_eq!(json_lines(&then.stdout)[0]["c2pa"]["state"], "trusted");
    // ...but with no trusted timestamp to prove when it was signed, an
    // expired certificate cannot vouch for anything today.
    let now = world.vouch().arg("verify").arg(&photo).arg("--json").output().unwrap();
    let report = &json_lines(&now.stdout)[0]["c2pa"];
    assert_ne!(report["state"], "trusted", "{report}");
    assert!(report["codes"].as_array().unwrap().iter().any(|c| c == "signingCredential.expired"), "{report}");
    assert_eq!(now.status.code(), Some(1));
}

#[test]
fn a_self_signed_signer_is_never_trusted_even_when_listed_as_an_anchor() {
    let Some(python) = python() else { return };
    let world = World::new();
    let (cert, photo) = self_signed_photo(&world, &python, None);

    let out = world.vouch().arg("verify").arg(&photo).arg("--trust").arg(&cert).arg("--json").output().unwrap();
    let report = &json_lines(&out.stdout)[0]["c2pa"];
    assert_eq!(report["state"], "valid", "{report}");
    assert!(report["codes"].as_array().unwrap().iter().any(|c| c == "vouch.signingCredential.selfSigned"));
    // And a policy that wants a trusted signer refuses it.
    let policy = world.path("strict.toml");
    std::fs::write(&policy, "require_c2pa = \"trusted\"\n").unwrap();
    world
        .vouch()
        .arg("check")
        .arg(&photo)
        .arg("--trust")
        .arg(&cert)
        .arg("--policy")
        .arg(&policy)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("valid — signer not in your trust lists (the policy requires trusted)"));
}
