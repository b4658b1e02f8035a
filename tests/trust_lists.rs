//! Public trust lists: shipped, on by default, replaceable, named in every
//! `trusted` verdict. The real lists are parsed in full; the plumbing is
//! proved with a chain made here and placed into a copy of a list.

mod common;

use common::*;
use predicates::prelude::*;

/// A real list with `extra` PEM files appended, in the list's own format.
fn list_with(world: &World, name: &str, shipped: &str, extra: &[&std::path::Path]) -> std::path::PathBuf {
    let mut text = std::fs::read_to_string(fixture("../data/trust-lists").join(shipped)).unwrap();
    for pem in extra {
        text.push_str("Subject\tCN=added by the test\n");
        text.push_str(&std::fs::read_to_string(pem).unwrap());
    }
    let path = world.path(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A photo signed by the openssl-made signer of `pki`, in `world`'s work
/// dir (the signer's identity in a home of its own).
fn signed_by(pki: &Pki, world: &World) -> std::path::PathBuf {
    let home = world.path(&format!("signer-{}", pki.dir.file_name().unwrap().to_string_lossy()));
    let vouch = || {
        let mut cmd = world.vouch();
        cmd.env("VOUCH_HOME", &home);
        cmd
    };
    vouch().args(["identity", "import", "--cert"]).arg(&pki.chain).arg("--key").arg(&pki.key).assert().success();
    let out = world.path("signed-by").join(pki.dir.file_name().unwrap());
    vouch().arg("sign").arg(fixture("photo.jpg")).arg("-o").arg(&out).assert().success();
    out.join("photo.jpg")
}

fn c2pa_of(world: &World, file: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let out = world.vouch().arg("verify").arg(file).arg("--json").args(extra).output().unwrap();
    json_lines(&out.stdout)[0]["c2pa"].clone()
}

/// SHA-256 of the first certificate of a PEM file (its DER).
fn sha256_der(pem: &std::path::Path) -> String {
    use base64::Engine;
    let text = std::fs::read_to_string(pem).unwrap();
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&der))
}

#[test]
fn the_shipped_lists_are_listed_with_version_and_count() {
    let world = World::new();
    let out = world.vouch().args(["trust", "list", "--json"]).output().unwrap();
    assert!(out.status.success());
    let lists = json_lines(&out.stdout);
    let count = |name: &str| lists.iter().find(|l| l["name"] == name).map(|l| l["count"].as_u64().unwrap());
    assert_eq!(count("c2pa"), Some(30));
    assert_eq!(count("tsa"), Some(22));
    assert_eq!(count("interim"), Some(18));
    assert_eq!(count("interim-allowed"), Some(86));
    assert!(lists.iter().all(|l| l["version"].as_str().unwrap().starts_with("shipped:")), "{lists:?}");
    world.vouch().args(["trust", "list"]).assert().success().stdout(predicate::str::contains(
        "C2PA Trust List (30 certificates; shipped: c2pa-org/conformance-public 7dbff513",
    ));
}

#[test]
fn a_signer_under_a_c2pa_list_anchor_is_trusted_and_the_anchor_named() {
    let world = World::new();
    let pki = Pki::new(&world.path("pki"), "Test C2PA Root", "Test Camera", "emailProtection");
    let photo = signed_by(&pki, &world);
    // Before the list holds the root: valid, not trusted.
    assert_eq!(c2pa_of(&world, &photo, &[])["state"], "valid");

    let list = list_with(&world, "c2pa-list.pem", "C2PA-TRUST-LIST.pem", &[&pki.root]);
    world
        .vouch()
        .args(["trust", "update", "--list", "c2pa"])
        .arg(&list)
        .assert()
        .success()
        .stdout(predicate::str::contains("31 certificates").and(predicate::str::contains("conformance-public")));
    assert!(world.home().join("trust-lists/c2pa.pem").is_file());
    let report = c2pa_of(&world, &photo, &[]);
    assert_eq!(report["state"], "trusted", "{report}");
    assert_eq!(report["trust"]["list"], "c2pa");
    assert_eq!(report["trust"]["anchor"], "Test C2PA Root");
    assert_eq!(report["trust"]["anchor_sha256"], sha256_der(&pki.root));
    world
        .vouch()
        .arg("verify")
        .arg(&photo)
        .assert()
        .success()
        .stdout(predicate::str::contains("trusted: Test C2PA Root, C2PA Trust List"));

    let html = world.path("report.html");
    world.vouch().arg("check").arg(&photo).args(["--format", "html", "--out"]).arg(&html).assert().success();
    let html = std::fs::read_to_string(&html).unwrap();
    assert!(html.contains("trusted: Test C2PA Root, C2PA Trust List"), "the HTML report names the anchor");

    // --no-public-trust and `public_trust = false` turn the lists off.
    let off = c2pa_of(&world, &photo, &["--no-public-trust"]);
    assert_eq!(off["state"], "valid", "{off}");
    assert!(off["trust"].is_null());
    let policy = world.path("local-only.toml");
    std::fs::write(&policy, "require_c2pa = \"trusted\"\npublic_trust = false\n").unwrap();
    world.vouch().arg("check").arg(&photo).arg("--policy").arg(&policy).assert().code(1);
    std::fs::write(&policy, "require_c2pa = \"trusted\"\n").unwrap();
    world.vouch().arg("check").arg(&photo).arg("--policy").arg(&policy).assert().success();
}

#[test]
fn a_batch_from_two_agencies_under_different_list_roots_names_each_files_own_anchor() {
    // A desk verifies one folder of photos from two agencies, each signer
    // under its own root of the C2PA list. vouch validates a file against
    // the anchors its certificates call for, and tries the next file with
    // the last two files' anchors first: a photo of the second agency after
    // two of the first must still be read against its own root, and back.
    let world = World::new();
    let agency_a = Pki::new(&world.path("agency-a"), "Agency A Root", "Agency A Camera", "emailProtection");
    let agency_b = Pki::new(&world.path("agency-b"), "Agency B Root", "Agency B Camera", "emailProtection");
    let list = list_with(&world, "c2pa-list.pem", "C2PA-TRUST-LIST.pem", &[&agency_a.root, &agency_b.root]);
    world.vouch().args(["trust", "update", "--list", "c2pa"]).arg(&list).assert().success();
    let from_a = signed_by(&agency_a, &world);
    let from_b = signed_by(&agency_b, &world);
    let batch = world.path("batch");
    std::fs::create_dir_all(&batch).unwrap();
    let order =
        [("1-a.jpg", &from_a), ("2-a.jpg", &from_a), ("3-b.jpg", &from_b), ("4-b.jpg", &from_b), ("5-a.jpg", &from_a)];
    for (name, signed) in order {
        std::fs::copy(signed, batch.join(name)).unwrap();
    }
    // One worker reads the files in the folder's order, as a batch on one
    // core does; several would make the order, and what is tried first, vary.
    let out = world.vouch().env("RAYON_NUM_THREADS", "1").arg("verify").arg(&batch).arg("--json").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let records = json_lines(&out.stdout);
    assert_eq!(records.len(), order.len(), "{records:?}");
    for (record, (name, signed)) in records.iter().zip(order) {
        let root = if signed == &from_a { "Agency A Root" } else { "Agency B Root" };
        assert!(record["path"].as_str().unwrap().ends_with(name), "{record}");
        assert_eq!(record["c2pa"]["state"], "trusted", "{name}: {record}");
        assert_eq!(record["c2pa"]["trust"]["list"], "c2pa", "{name}: {record}");
        assert_eq!(record["c2pa"]["trust"]["anchor"], root, "{name}: {record}");
    }
}

#[test]
fn a_signer_under_an_interim_list_anchor_is_trusted_as_interim() {
    let world = World::new();
    let pki = Pki::new(&world.path("pki"), "Test Interim Root", "Test Camera", "emailProtection");
    let photo = signed_by(&pki, &world);
    let list = list_with(&world, "anchors.pem", "legacy/anchors.pem", &[&pki.root]);
    world.vouch().args(["trust", "update", "--list", "interim"]).arg(&list).assert().success();
    let report = c2pa_of(&world, &photo, &[]);
    assert_eq!(report["state"], "trusted", "{report}");
    assert_eq!(report["trust"]["list"], "interim");
    assert_eq!(report["trust"]["anchor"], "Test Interim Root");
}

#[test]
fn an_end_entity_certificate_on_the_interim_allowed_list_is_trusted_only_while_listed() {
    // The interim list also names signers one by one, whatever issued them.
    let world = World::new();
    let pki = Pki::new(&world.path("pki"), "Unlisted Root", "Allowed Camera", "emailProtection");
    let photo = signed_by(&pki, &world);
    let unlisted = c2pa_of(&world, &photo, &[]);
    assert_eq!(unlisted["state"], "valid", "{unlisted}");

    let list = list_with(&world, "allowed.pem", "legacy/allowed.pem", &[&pki.leaf]);
    world.vouch().args(["trust", "update", "--list", "interim-allowed"]).arg(&list).assert().success();
    let report = c2pa_of(&world, &photo, &[]);
    assert_eq!(report["state"], "trusted", "{report}");
    assert_eq!(report["trust"]["list"], "interim");
    assert_eq!(report["trust"]["anchor"], "Allowed Camera");
    assert_eq!(report["trust"]["anchor_sha256"], sha256_der(&pki.leaf));
    assert_eq!(c2pa_of(&world, &photo, &["--no-public-trust"])["state"], "valid");

    // Attack: a look-alike certificate (same names, another key and root)
    // is not the listed one.
    let twin = Pki::new(&world.path("twin"), "Unlisted Root", "Allowed Camera", "emailProtection");
    let forged = signed_by(&twin, &world);
    let report = c2pa_of(&world, &forged, &[]);
    assert_eq!(report["state"], "valid", "{report}");
    assert!(report["trust"].is_null());

    // Back to the shipped allowed list: the signer is no longer trusted.
    let shipped = list_with(&world, "shipped.pem", "legacy/allowed.pem", &[]);
    world.vouch().args(["trust", "update", "--list", "interim-allowed"]).arg(&shipped).assert().success();
    assert_eq!(c2pa_of(&world, &photo, &[])["state"], "valid");
}

#[test]
fn a_local_anchor_is_named_as_local() {
    let world = World::new();
    let pki = Pki::new(&world.path("pki"), "Newsroom Root", "Reporter", "emailProtection");
    let photo = signed_by(&pki, &world);
    let report = c2pa_of(&world, &photo, &["--trust", pki.root.to_str().unwrap()]);
    assert_eq!(report["state"], "trusted", "{report}");
    assert_eq!(report["trust"]["list"], "local");
    assert_eq!(report["trust"]["anchor"], "Newsroom Root");
}

#[test]
fn attack_a_signer_chaining_only_to_the_tsa_list_is_not_trusted() {
    // The TSA list vouches for time-stamping authorities; c2pa takes its
    // roots among all anchors, so vouch must refuse them for signers.
    let world = World::new();
    let pki = Pki::new(&world.path("pki"), "Test TSA Root", "Not A TSA", "emailProtection");
    let photo = signed_by(&pki, &world);
    let list = list_with(&world, "tsa-list.pem", "C2PA-TSA-TRUST-LIST.pem", &[&pki.root]);
    world.vouch().args(["trust", "update", "--list", "tsa"]).arg(&list).assert().success();
    let report = c2pa_of(&world, &photo, &[]);
    assert_eq!(report["state"], "valid", "{report}");
    assert!(report["codes"].as_array().unwrap().iter().any(|c| c == "vouch.signingCredential.tsaAnchorOnly"));
    assert!(report["trust"].is_null());
}

#[test]
fn attack_a_root_with_a_listed_name_but_another_key_is_not_trusted() {
    let world = World::new();
    let listed = Pki::new(&world.path("listed"), "Test C2PA Root", "Real Camera", "emailProtection");
    let forged = Pki::new(&world.path("forged"), "Test C2PA Root", "Forged Camera", "emailProtection");
    let photo = signed_by(&forged, &world);
    let list = list_with(&world, "c2pa-list.pem", "C2PA-TRUST-LIST.pem", &[&listed.root, &listed.ica]);
    world.vouch().args(["trust", "update", "--list", "c2pa"]).arg(&list).assert().success();
    let report = c2pa_of(&world, &photo, &[]);
    assert_eq!(report["state"], "valid", "{report}");
    assert!(report["trust"].is_null());
}

#[test]
fn attack_a_malformed_list_is_refused_and_the_old_one_kept() {
    let world = World::new();
    let pki = Pki::new(&world.path("pki"), "Test C2PA Root", "Test Camera", "emailProtection");
    let good = list_with(&world, "good.pem", "C2PA-TRUST-LIST.pem", &[&pki.root]);
    world.vouch().args(["trust", "update", "--list", "c2pa"]).arg(&good).assert().success();
    let stored = std::fs::read(world.home().join("trust-lists/c2pa.pem")).unwrap();

    // A certificate cut short.
    let text = std::fs::read_to_string(&good).unwrap();
    let cut = world.path("cut.pem");
    std::fs::write(&cut, text.replacen("MII", "MIX", 1)).unwrap();
    // A signer (not a CA) slipped into an anchor list.
    let with_leaf = list_with(&world, "leaf.pem", "C2PA-TRUST-LIST.pem", &[&pki.leaf]);
    // No certificate at all.
    let empty = world.path("empty.pem");
    std::fs::write(&empty, "nothing here\n").unwrap();
    for bad in [&cut, &with_leaf, &empty] {
        world
            .vouch()
            .args(["trust", "update", "--list", "c2pa"])
            .arg(bad)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(bad.display().to_string()));
        assert_eq!(std::fs::read(world.home().join("trust-lists/c2pa.pem")).unwrap(), stored);
    }
    world.vouch().args(["trust", "update", "--list", "nosuch"]).arg(&good).assert().code(2);
    let photo = signed_by(&pki, &world);
    assert_eq!(c2pa_of(&world, &photo, &[])["trust"]["list"], "c2pa");
}
