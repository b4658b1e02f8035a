//! What users read stays true: man pages match `--help`, the README names
//! the commands it promises.

use std::path::Path;

use assert_cmd::Command;

#[test]
fn man_pages_are_current() {
    let fresh = tempfile::tempdir().unwrap();
    Command::cargo_bin("vouch").unwrap().args(["generate", "man", "--out"]).arg(fresh.path()).assert().success();
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let mut pages: Vec<_> = std::fs::read_dir(fresh.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    pages.sort();
    assert!(pages.len() >= 10, "expected a page per command, got {pages:?}");
    for page in &pages {
        let want = std::fs::read(fresh.path().join(page)).unwrap();
        let have = std::fs::read(committed.join(page)).unwrap_or_default();
        assert!(want == have, "man/{} is stale: run `make man`", page.to_string_lossy());
    }
    let committed_count = std::fs::read_dir(&committed).unwrap().count();
    assert_eq!(committed_count, pages.len(), "man/ has pages for commands that no longer exist: run `make man`");
}

#[test]
fn shell_completions_are_current() {
    let fresh = tempfile::tempdir().unwrap();
    Command::cargo_bin("vouch")
        .unwrap()
        .args(["generate", "completions", "--out"])
        .arg(fresh.path())
        .assert()
        .success();
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for file in ["vouch.bash", "_vouch", "vouch.fish"] {
        let want = std::fs::read(fresh.path().join(file)).unwrap();
        let have = std::fs::read(committed.join(file)).unwrap_or_default();
        assert!(want == have, "completions/{file} is stale: run `make man`");
    }
}

#[test]
fn readme_shows_the_two_commands_and_every_subcommand() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for needle in [
        "make demo",
        "make test",
        "vouch identity new",
        "vouch sign",
        "vouch verify",
        "vouch inspect",
        "vouch trust add",
        "vouch anchor",
        "vouch check",
        "vouch watch",
        "vouch detect",
        "vouch models",
    ] {
        assert!(readme.contains(needle), "README.md does not mention `{needle}`");
    }
}
