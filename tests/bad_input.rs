//! Hostile or broken input gets one clear line naming the file and the
//! cause, exit code 2, no output left behind, and the original untouched.

mod common;

use std::path::{Path, PathBuf};

use common::*;

struct Case {
    name: &'static str,
    /// Prepares the input in the world; returns the path to sign.
    setup: fn(&World) -> PathBuf,
    /// Extra arguments and environment for `vouch sign`.
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    /// Text the one-line error must contain (besides the file name).
    cause: &'static str,
    /// The file the error must name.
    names: fn(&World, &Path) -> PathBuf,
}

fn input(_: &World, path: &Path) -> PathBuf {
    path.to_path_buf()
}

fn signer_key(world: &World, _: &Path) -> PathBuf {
    world.identity().join("signer.key")
}

fn truncated_jpeg(world: &World) -> PathBuf {
    let path = world.path("truncated.jpg");
    let data = std::fs::read(fixture("photo.jpg")).unwrap();
    std::fs::write(&path, &data[..data.len() / 2]).unwrap();
    path
}

fn text_named_jpeg(world: &World) -> PathBuf {
    let path = world.path("notes.jpg");
    std::fs::write(&path, "these are my notes, not a photo\n").unwrap();
    path
}

fn unsupported(world: &World) -> PathBuf {
    let path = world.path("document.docx");
    std::fs::write(&path, "PK\x03\x04 not media").unwrap();
    path
}

fn missing(world: &World) -> PathBuf {
    world.path("no-such-photo.jpg")
}

fn folder_without_media(world: &World) -> PathBuf {
    let dir = world.path("notes");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("readme.txt"), "nothing to sign").unwrap();
    dir
}

fn photo(world: &World) -> PathBuf {
    world.fixture("photo.jpg")
}

fn photo_with_foreign_key(world: &World) -> PathBuf {
    // Swap in the signing key of a different identity.
    let other = World::with_identity();
    let key = world.identity().join("signer.key");
    std::fs::copy(other.identity().join("signer.key"), &key).unwrap();
    world.fixture("photo.jpg")
}

fn photo_with_encrypted_key(world: &World) -> PathBuf {
    // Re-create the identity with a passphrase.
    std::fs::remove_dir_all(world.identity()).unwrap();
    world
        .vouch()
        .args(["identity", "new", "--name", "Test Reporter", "--passphrase-env", "PW"])
        .env("PW", "right passphrase")
        .assert()
        .success();
    world.fixture("photo.jpg")
}

const CASES: &[Case] = &[
    Case {
        name: "missing path",
        setup: missing,
        args: &[],
        env: &[],
        cause: "no such file or directory",
        names: input,
    },
    Case {
        name: "folder with no media",
        setup: folder_without_media,
        args: &[],
        env: &[],
        cause: "no supported media files",
        names: input,
    },
    Case { name: "truncated JPEG", setup: truncated_jpeg, args: &[], env: &[], cause: "truncated", names: input },
    Case {
        name: "text file named .jpg",
        setup: text_named_jpeg,
        args: &[],
        env: &[],
        cause: "contents do not match its extension",
        names: input,
    },
    Case {
        name: "unsupported format",
        setup: unsupported,
        args: &[],
        env: &[],
        cause: "unsupported format",
        names: input,
    },
    Case {
        name: "wrong passphrase",
        setup: photo_with_encrypted_key,
        args: &["--passphrase-env", "PW"],
        env: &[("PW", "wrong passphrase")],
        cause: "wrong passphrase",
        names: signer_key,
    },
    Case {
        name: "encrypted key without a passphrase",
        setup: photo_with_encrypted_key,
        args: &[],
        env: &[],
        cause: "the key is encrypted",
        names: signer_key,
    },
    Case {
        name: "key not matching the certificate",
        setup: photo_with_foreign_key,
        args: &[],
        env: &[],
        cause: "does not match the certificate",
        names: signer_key,
    },
    Case {
        name: "unwritable output dir",
        setup: photo,
        // The output folder's parent is a regular file: not writable even by root.
        args: &["-o", "blocker/out"],
        env: &[],
        cause: "cannot create the output folder",
        names: |world, _| world.path("blocker/out"),
    },
];

#[test]
fn each_bad_input_gets_a_one_line_error_exit_2_and_no_damage() {
    for case in CASES {
        let world = World::with_identity();
        std::fs::write(world.path("blocker"), "a file where a folder should be").unwrap();
        let target = (case.setup)(&world);
        let before = target.is_file().then(|| sha256(&target));
        let files_before = listing(world.dir.path());

        let mut cmd = world.vouch();
        cmd.current_dir(world.dir.path()).arg("sign").arg(&target);
        if !case.args.contains(&"-o") {
            cmd.arg("-o").arg(world.path("out"));
        }
        cmd.args(case.args);
        for (k, v) in case.env {
            cmd.env(k, v);
        }
        let output = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);

        assert_eq!(output.status.code(), Some(2), "{}: exit code; stderr: {stderr}", case.name);
        assert_eq!(stderr.lines().count(), 1, "{}: expected one line, got: {stderr}", case.name);
        let named = (case.names)(&world, &target);
        let shown = named.strip_prefix(world.dir.path()).unwrap_or(&named).display().to_string();
        assert!(stderr.contains(&shown), "{}: error does not name {shown}: {stderr}", case.name);
        assert!(stderr.contains(case.cause), "{}: error lacks `{}`: {stderr}", case.name, case.cause);
        assert!(!stderr.contains("panicked"), "{}: {stderr}", case.name);
        assert_eq!(listing(world.dir.path()), files_before, "{}: files were written", case.name);
        if let Some(before) = before {
            assert_eq!(sha256(&target), before, "{}: the original changed", case.name);
        }
    }
}

#[test]
fn a_world_readable_key_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let world = World::with_identity();
    let key = world.identity().join("signer.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = world.vouch().arg("sign").arg(fixture("photo.jpg")).arg("-o").arg(world.path("out")).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("chmod 600"));
    assert!(!world.path("out").exists());
}

#[test]
fn verify_reports_broken_files_without_stopping_the_batch() {
    let world = World::with_identity();
    let good = world.signed("photo.jpg");
    let notes = text_named_jpeg(&world);
    let output = world.vouch().arg("verify").arg(&notes).arg(&good).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("trusted"), "{stdout}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("notes.jpg"));
}
