//! A newsroom sets up who signs: new identities, showing them, importing
//! certificates from an existing PKI, and refusing ones C2PA would reject.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command as Std;

use common::*;
use predicates::prelude::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn new_identity_writes_the_four_files_with_private_keys_0600() {
    let world = World::with_identity();
    let dir = world.identity();
    assert_eq!(mode(&dir.join("root.key")), 0o600);
    assert_eq!(mode(&dir.join("signer.key")), 0o600);
    assert_eq!(mode(&dir.join("root.pem")), 0o644);
    assert_eq!(mode(&dir), 0o700);
    let key = std::fs::read_to_string(dir.join("signer.key")).unwrap();
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    // The chain handed to c2pa excludes the root.
    let chain = std::fs::read_to_string(dir.join("signer.pem")).unwrap();
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 1);
}

#[test]
fn the_certificate_has_what_c2pa_validators_require() {
    let world = World::with_identity();
    let text = Std::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(world.identity().join("signer.pem"))
        .output()
        .expect("openssl is installed by make deps");
    let text = String::from_utf8_lossy(&text.stdout);
    for needle in [
        "Version: 3",
        "ED25519",
        "CA:FALSE",
        "Digital Signature",
        "E-mail Protection",
        "1.3.6.1.5.5.7.3.36",
        "Subject Key Identifier",
        "Authority Key Identifier",
    ] {
        assert!(text.contains(needle), "signer.pem lacks {needle}:\n{text}");
    }
}

#[test]
fn an_existing_identity_is_never_overwritten() {
    let world = World::with_identity();
    let before = sha256(&world.identity().join("signer.key"));
    world
        .vouch()
        .args(["identity", "new", "--name", "Someone Else"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("an identity already exists"));
    assert_eq!(sha256(&world.identity().join("signer.key")), before);
}

#[test]
fn passphrase_encrypted_identity_signs_with_the_passphrase() {
    let world = World::new();
    world
        .vouch()
        .args(["identity", "new", "--name", "Careful Reporter", "--passphrase-env", "PW"])
        .env("PW", "correct horse battery staple")
        .assert()
        .success()
        .stdout(predicate::str::contains("passphrase-encrypted"));
    let key = std::fs::read_to_string(world.identity().join("signer.key")).unwrap();
    assert!(key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    assert!(!key.contains("correct horse"));
    world
        .vouch()
        .arg("sign")
        .arg(fixture("photo.jpg"))
        .arg("-o")
        .arg(world.path("out"))
        .env("VOUCH_PASSPHRASE", "correct horse battery staple")
        .assert()
        .success();
    world.vouch().arg("verify").arg(world.path("out/photo.jpg")).assert().success();
}

#[test]
fn show_describes_the_identity_without_secrets() {
    let world = World::with_identity();
    let output = world.vouch().args(["identity", "show", "--json"]).output().unwrap();
    assert!(output.status.success());
    let shown: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(shown["signer"]["common_name"], "Test Reporter");
    assert_eq!(shown["root"]["common_name"], "Test Reporter Root CA");
    assert_eq!(shown["alg"], "Ed25519", "spelled as verify and inspect spell it");
    assert_eq!(shown["key_encrypted"], false);
    assert_eq!(shown["signer"]["sha256"].as_str().unwrap().len(), 64);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains("PRIVATE KEY"));
    World::new()
        .vouch()
        .args(["identity", "show"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no identity here"));
}

/// Builds a two-level PKI with the openssl CLI (an independent tool),
/// leaf extensions from `leaf_ext`. Returns (chain with root, leaf key).
fn openssl_pki(
    dir: &Path,
    algorithm: &[&str],
    leaf_subject: &str,
    leaf_ext: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let run = |args: &[&str]| {
        let out = Std::new("openssl").current_dir(dir).args(args).output().expect("openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let genkey = |name: &str| {
        let mut args = vec!["genpkey"];
        args.extend_from_slice(algorithm);
        args.extend_from_slice(&["-out", name]);
        run(&args);
    };
    genkey("root.key");
    run(&[
        "req",
        "-x509",
        "-new",
        "-key",
        "root.key",
        "-subj",
        "/CN=Wire Root/O=Wire Agency",
        "-days",
        "3650",
        "-out",
        "root.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    genkey("leaf.key");
    run(&["req", "-new", "-key", "leaf.key", "-subj", leaf_subject, "-out", "leaf.csr"]);
    std::fs::write(dir.join("leaf.ext"), leaf_ext).unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "root.pem",
        "-CAkey",
        "root.key",
        "-CAcreateserial",
        "-days",
        "365",
        "-extfile",
        "leaf.ext",
        "-out",
        "leaf.pem",
    ]);
    let chain = [
        std::fs::read_to_string(dir.join("leaf.pem")).unwrap(),
        std::fs::read_to_string(dir.join("root.pem")).unwrap(),
    ]
    .concat();
    std::fs::write(dir.join("chain.pem"), chain).unwrap();
    (dir.join("chain.pem"), dir.join("leaf.key"))
}

const PHOTOGRAPHER: &str = "/CN=Wire Photographer/O=Wire Agency";
const GOOD_LEAF: &str = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
extendedKeyUsage=emailProtection\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";

#[test]
fn a_newsroom_es256_and_ps256_certificate_imports_and_signs() {
    for algorithm in [
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"][..],
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"][..],
    ] {
        let world = World::new();
        let pki = world.path("pki");
        std::fs::create_dir_all(&pki).unwrap();
        let (chain, key) = openssl_pki(&pki, algorithm, PHOTOGRAPHER, GOOD_LEAF);
        world.vouch().args(["identity", "import", "--cert"]).arg(&chain).arg("--key").arg(&key).assert().success();
        // The trailing root was split off into root.pem, so it is trusted locally.
        let pem = std::fs::read_to_string(world.identity().join("signer.pem")).unwrap();
        assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 1);
        assert_eq!(mode(&world.identity().join("signer.key")), 0o600);
        let signed = world.signed("photo.jpg");
        let output = world.vouch().arg("verify").arg(&signed).arg("--json").output().unwrap();
        let report = &json_lines(&output.stdout)[0];
        assert_eq!(report["c2pa"]["state"], "trusted", "{algorithm:?}: {report}");
        assert_eq!(report["c2pa"]["signer"], "Wire Photographer");
    }
}

#[test]
fn import_refuses_what_c2pa_would_reject_and_says_why() {
    let ec = &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"][..];
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "no extended key usage",
            PHOTOGRAPHER,
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
            "no extended key usage",
        ),
        (
            "no organization",
            "/CN=Freelancer",
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
            "has no organization",
        ),
        (
            "TLS server certificate",
            PHOTOGRAPHER,
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
            "lacks emailProtection or documentSigning",
        ),
    ];
    for (name, subject, ext, reason) in cases {
        let world = World::new();
        let pki = world.path("pki");
        std::fs::create_dir_all(&pki).unwrap();
        let (chain, key) = openssl_pki(&pki, ec, subject, ext);
        world
            .vouch()
            .args(["identity", "import", "--cert"])
            .arg(&chain)
            .arg("--key")
            .arg(&key)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("C2PA validators would reject this certificate"))
            .stderr(predicate::str::contains(*reason).name(name));
        assert!(!world.identity().exists(), "{name}: an identity was written");
    }

    // A key that belongs to another certificate.
    let world = World::new();
    let pki = world.path("pki");
    std::fs::create_dir_all(&pki).unwrap();
    let (chain, _) = openssl_pki(&pki, ec, PHOTOGRAPHER, GOOD_LEAF);
    world
        .vouch()
        .args(["identity", "import", "--cert"])
        .arg(&chain)
        .arg("--key")
        .arg(pki.join("root.key"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does not match the certificate"));

    // A self-signed leaf.
    let out = Std::new("openssl")
        .current_dir(&pki)
        .args([
            "req",
            "-x509",
            "-new",
            "-key",
            "leaf.key",
            "-subj",
            "/CN=Self Signer",
            "-days",
            "30",
            "-out",
            "self.pem",
            "-addext",
            "keyUsage=critical,digitalSignature",
            "-addext",
            "extendedKeyUsage=emailProtection",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    world
        .vouch()
        .args(["identity", "import", "--cert"])
        .arg(pki.join("self.pem"))
        .arg("--key")
        .arg(pki.join("leaf.key"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("self-signed"));
    assert!(!world.identity().exists());
}
