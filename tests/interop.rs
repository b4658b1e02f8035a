//! Other C2PA software agrees with vouch: real files signed elsewhere, and
//! c2pa-python (an independent SDK from PyPI) reading and signing.

mod common;

use std::process::Command as Std;

use common::*;

fn verify_json(world: &World, path: &std::path::Path) -> serde_json::Value {
    let output = world.vouch().arg("verify").arg(path).arg("--json").output().unwrap();
    json_lines(&output.stdout).remove(0)
}

#[test]
fn third_party_files_get_the_verdicts_their_makers_intended() {
    let Some(dir) = shared("interop/c2pa") else { return };
    let world = World::new();
    let expect: &[(&str, &str, Option<&str>)] = &[
        ("C.jpg", "valid", None),
        ("CA.jpg", "valid", None),
        ("video1.mp4", "valid", None),
        ("XCA.jpg", "invalid", Some("assertion.dataHash.mismatch")),
        ("E-sig-CA.jpg", "invalid", Some("claimSignature.mismatch")),
        ("no_manifest.jpg", "absent", None),
    ];
    for (name, state, code) in expect {
        let report = verify_json(&world, &dir.join(name));
        assert_eq!(report["c2pa"]["state"], *state, "{name}: {report}");
        if let Some(code) = code {
            let codes = report["c2pa"]["codes"].as_array().unwrap();
            assert!(codes.iter().any(|c| c == code), "{name}: {codes:?}");
        }
    }
    let valid = verify_json(&world, &dir.join("CA.jpg"));
    assert_eq!(valid["c2pa"]["signer"], "C2PA Signer");
    assert!(!valid["c2pa"]["ingredients"].as_array().unwrap().is_empty(), "CA.jpg has an ingredient");
}

#[test]
fn exit_code_is_1_when_any_third_party_file_is_invalid() {
    let Some(dir) = shared("interop/c2pa") else { return };
    let world = World::new();
    world.vouch().arg("verify").arg(dir.join("C.jpg")).assert().code(0);
    world.vouch().arg("verify").arg(dir.join("C.jpg")).arg(dir.join("XCA.jpg")).assert().code(1);
}

fn c2pa_python(python: &std::path::Path) -> Std {
    let mut cmd = Std::new(python);
    cmd.arg(fixture("../tests/interop/c2pa_python.py"));
    cmd
}

#[test]
fn c2pa_python_trusts_what_vouch_signs() {
    let Some(python) = python() else { return };
    let world = World::with_identity();
    // c2pa-python reads every format vouch signs.
    for name in MEDIA {
        let signed = world.signed(name);
        let output =
            c2pa_python(&python).arg("read").arg(&signed).arg("--anchors").arg(world.root_pem()).output().unwrap();
        assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
        let verdict: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(verdict["state"], "Trusted", "{name}: {verdict}");
        assert_eq!(verdict["codes"], serde_json::json!([]), "{name}");
    }
    // And it sees tampering too.
    let signed = world.path("signed/photo.jpg");
    flip_byte_near_end(&signed);
    let output = c2pa_python(&python).arg("read").arg(&signed).output().unwrap();
    let verdict: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(verdict["state"], "Invalid", "{verdict}");
}

#[test]
fn c2patool_trusts_what_vouch_signs_and_sees_tampering() {
    let Some(tool) = c2patool() else { return };
    let world = World::with_identity();
    let read = |file: &std::path::Path, anchors: bool| -> serde_json::Value {
        let mut cmd = Std::new(&tool);
        cmd.arg(file);
        if anchors {
            cmd.arg("trust").arg("--trust_anchors").arg(world.root_pem());
        }
        let output = cmd.output().unwrap();
        assert!(output.status.success(), "{}: {}", file.display(), String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!("{}: not JSON ({e}): {}", file.display(), String::from_utf8_lossy(&output.stdout))
        })
    };
    // c2pa-rs's own tool reads every format vouch signs, and trusts the
    // signer once given vouch's root, as any verifier would be.
    for name in MEDIA {
        let signed = world.signed(name);
        let store = read(&signed, true);
        assert_eq!(store["validation_state"], "Trusted", "{name}: {store}");
        let untrusted = read(&signed, false);
        assert_eq!(untrusted["validation_state"], "Valid", "{name}: without the root: {untrusted}");
    }
    let signed = world.path("signed/photo.jpg");
    flip_byte_near_end(&signed);
    assert_eq!(read(&signed, true)["validation_state"], "Invalid");
}

#[test]
fn vouch_trusts_what_c2pa_python_signs_with_a_vouch_identity() {
    let Some(python) = python() else { return };
    let world = World::with_identity();
    let signed = world.path("by-python.jpg");
    let output = c2pa_python(&python)
        .arg("sign")
        .arg(fixture("photo.jpg"))
        .arg(&signed)
        .arg("--cert")
        .arg(world.identity().join("signer.pem"))
        .arg("--key")
        .arg(world.identity().join("signer.key"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report = verify_json(&world, &signed);
    assert_eq!(report["c2pa"]["state"], "trusted", "{report}");
    assert_eq!(report["c2pa"]["signer"], "Test Reporter");
    assert!(report["c2pa"]["claim_generator"].as_str().unwrap().starts_with("c2pa-python-interop"));
}

#[test]
fn remote_manifests_are_fetched_only_with_allow_remote() {
    let Some(python) = python() else { return };
    let world = World::with_identity();
    let served = world.path("served");
    std::fs::create_dir_all(&served).unwrap();
    // A tiny web server on a free loopback port holds the manifest.
    let mut server = std::process::Command::new(&python)
        .args(["-c", "import http.server, functools, sys; h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1]); s = http.server.HTTPServer(('127.0.0.1', 0), h); print(s.server_port, flush=True); s.serve_forever()"])
        .arg(&served)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut port = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(server.stdout.take().unwrap()), &mut port).unwrap();
    let url = format!("http://127.0.0.1:{}/photo.c2pa", port.trim());
    let photo = world.path("remote.jpg");
    let output = c2pa_python(&python)
        .arg("sign")
        .arg(fixture("photo.jpg"))
        .arg(&photo)
        .arg("--cert")
        .arg(world.identity().join("signer.pem"))
        .arg("--key")
        .arg(world.identity().join("signer.key"))
        .args(["--remote", &url, "--manifest-out"])
        .arg(served.join("photo.c2pa"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let offline = verify_json(&world, &photo);
    let allowed = world.vouch().arg("verify").arg(&photo).arg("--allow-remote").arg("--json").output().unwrap();
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(offline["c2pa"]["state"], "absent", "{offline}");
    assert!(offline["c2pa"]["reason"].as_str().unwrap().contains("--allow-remote"));
    assert_eq!(json_lines(&allowed.stdout)[0]["c2pa"]["state"], "trusted");
}
