//! RFC 3161 timestamps at signing, from a real time-stamping authority run
//! here (OpenSSL's `openssl ts -reply` behind tests/interop/tsa.py), and
//! what they prove at verification.

mod common;

use std::path::Path;
use std::process::Command as Std;

use common::*;
use predicates::prelude::*;

fn tsa_pki(world: &World, at: Option<&str>) -> Pki {
    Pki::made_at(&world.path("tsa-pki"), "Test TSA Root", "Test Time Authority", "critical,timeStamping", at)
}

fn c2pa_of(world: &World, file: &Path, extra: &[&std::ffi::OsStr]) -> (serde_json::Value, Option<i32>) {
    let out = world.vouch().arg("verify").arg(file).arg("--json").args(extra).output().unwrap();
    (json_lines(&out.stdout)[0]["c2pa"].clone(), out.status.code())
}

#[test]
fn a_timestamp_from_a_trusted_authority_is_embedded_reported_and_read_by_c2pa_python() {
    let Some(python) = python() else { return };
    let world = World::with_identity();
    let pki = tsa_pki(&world, None);
    let tsa = Tsa::start(&python, &pki, None, None);
    let out = world.path("signed");
    world
        .vouch()
        .arg("sign")
        .arg(fixture("photo.jpg"))
        .arg("-o")
        .arg(&out)
        .arg("--tsa")
        .arg(&tsa.url)
        .assert()
        .success();
    let photo = out.join("photo.jpg");

    let (report, code) = c2pa_of(&world, &photo, &["--trust".as_ref(), pki.root.as_os_str()]);
    assert_eq!(code, Some(0));
    assert_eq!(report["state"], "trusted", "{report}");
    assert_eq!(report["timestamp"]["trusted"], true, "{report}");
    assert_eq!(report["timestamp"]["tsa"], "Test Time Authority");
    let time = report["timestamp"]["time"].as_str().expect("the timestamp's time");
    assert_eq!(report["signed_at"].as_str(), Some(time));
    world
        .vouch()
        .arg("verify")
        .arg(&photo)
        .arg("--trust")
        .arg(&pki.root)
        .assert()
        .stdout(predicate::str::contains("by Test Time Authority (trusted)"));

    // An authority no anchor vouches for: the timestamp is reported, untrusted,
    // still naming the authority, and its time is no signing time.
    let (report, _) = c2pa_of(&world, &photo, &[]);
    assert_eq!(report["timestamp"]["trusted"], false, "{report}");
    assert_eq!(report["timestamp"]["tsa"], "Test Time Authority", "{report}");
    assert!(report["signed_at"].is_null(), "{report}");

    // c2pa-python accepts the timestamp vouch embedded.
    let anchors = world.path("anchors.pem");
    let both = [std::fs::read_to_string(world.root_pem()).unwrap(), std::fs::read_to_string(&pki.root).unwrap()];
    std::fs::write(&anchors, both.concat()).unwrap();
    let read = Std::new(&python)
        .arg(fixture("../tests/interop/c2pa_python.py"))
        .arg("read")
        .arg(&photo)
        .arg("--anchors")
        .arg(&anchors)
        .output()
        .unwrap();
    assert!(read.status.success(), "{}", String::from_utf8_lossy(&read.stderr));
    let theirs: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
    assert_eq!(theirs["state"], "Trusted", "{theirs}");
    assert!(theirs["success"].as_array().unwrap().iter().any(|c| c == "timeStamp.trusted"), "{theirs}");
}

#[test]
fn the_identity_settings_name_a_default_authority() {
    let Some(python) = python() else { return };
    let world = World::with_identity();
    let pki = tsa_pki(&world, None);
    let tsa = Tsa::start(&python, &pki, None, None);
    std::fs::write(world.identity().join("settings.toml"), format!("tsa = \"{}\"\n", tsa.url)).unwrap();
    let photo = world.signed("photo.jpg");
    let (report, _) = c2pa_of(&world, &photo, &["--trust".as_ref(), pki.root.as_os_str()]);
    assert_eq!(report["timestamp"]["trusted"], true, "{report}");
}

#[test]
fn attack_an_authority_that_answers_garbage_or_is_down_is_exit_2_with_nothing_written() {
    let Some(python) = python() else { return };
    let world = World::with_identity();
    let pki = tsa_pki(&world, None);
    let liar = Tsa::start(&python, &pki, Some("garbage"), None);
    let down = {
        let gone = Tsa::start(&python, &pki, None, None);
        gone.url.clone()
    };
    for url in [&liar.url, &down] {
        let out = world.path("signed");
        world
            .vouch()
            .arg("sign")
            .arg(fixture("photo.jpg"))
            .arg("-o")
            .arg(&out)
            .arg("--tsa")
            .arg(url)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("time-stamping authority"));
        assert!(!out.exists() || listing(&out).is_empty(), "{:?}", listing(&out));
        // A sidecar is not written either, and the original is untouched.
        let copy = world.fixture("photo.jpg");
        let before = sha256(&copy);
        world.vouch().arg("sign").arg(&copy).arg("--sidecar").arg("--tsa").arg(url).assert().code(2);
        assert!(!world.path("photo.c2pa").exists());
        assert_eq!(sha256(&copy), before);
    }
}

#[test]
fn a_signer_expired_after_a_trusted_timestamp_stays_trusted_and_without_trust_in_the_tsa_does_not() {
    let (Some(python), Some(faketime)) = (python(), faketime()) else { return };
    let world = World::new();
    let at = |when: &str| world.at(&faketime, when);
    // A 30-day signing certificate and an authority, both of January 2020.
    world.expired_identity(&faketime);
    let pki = tsa_pki(&world, Some("2019-12-01 00:00:00"));
    let tsa = Tsa::start(&python, &pki, None, Some("2020-01-10 12:00:00"));
    let signed = world.path("signed");
    let out = at("2020-01-10 12:00:00")
        .arg("sign")
        .arg(fixture("photo.jpg"))
        .arg("-o")
        .arg(&signed)
        .arg("--tsa")
        .arg(&tsa.url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let photo = signed.join("photo.jpg");

    // Today the certificate has long expired; a trusted timestamp proves it
    // signed while valid.
    let (report, code) = c2pa_of(&world, &photo, &["--trust".as_ref(), pki.root.as_os_str()]);
    assert_eq!(report["state"], "trusted", "{report}");
    assert_eq!(code, Some(0));
    assert_eq!(report["timestamp"]["trusted"], true);
    assert!(report["signed_at"].as_str().unwrap().starts_with("2020-01-10"), "{report}");

    // The same timestamp from an authority no one trusts proves nothing.
    let (report, code) = c2pa_of(&world, &photo, &[]);
    assert_ne!(report["state"], "trusted", "{report}");
    assert_eq!(report["timestamp"]["trusted"], false, "{report}");
    assert!(report["codes"].as_array().unwrap().iter().any(|c| c == "signingCredential.expired"), "{report}");
    assert_eq!(code, Some(1));
    // Nor does it when the public lists are off and only the signer is local.
    let (report, _) = c2pa_of(&world, &photo, &["--no-public-trust".as_ref()]);
    assert_ne!(report["state"], "trusted", "{report}");
}
