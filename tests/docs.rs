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

/// Every page ends the way a man page reader expects: what the exit codes
/// mean for this command, the environment, the files, and examples that are
/// the README's own.
#[test]
fn every_man_page_has_exit_status_environment_files_and_examples_from_the_readme() {
    let man = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let mut pages = 0;
    for entry in std::fs::read_dir(&man).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "1") {
            continue;
        }
        pages += 1;
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let page = std::fs::read_to_string(&path).unwrap().replace("\\-", "-");
        for section in [".SH \"EXIT STATUS\"", ".SH ENVIRONMENT", ".SH FILES", ".SH EXAMPLES"] {
            assert!(page.contains(section), "{name} has no {section}");
        }
        for variable in ["VOUCH_HOME", "VOUCH_MODELS", "ORT_DYLIB_PATH"] {
            assert!(page.contains(&format!("\\fB{variable}\\fR")), "{name}: ENVIRONMENT does not name {variable}");
        }
        assert!(page.contains("PREFIX/share/vouch/models/"), "{name}: FILES does not say where models live");
        let examples = &page[page.find(".SH EXAMPLES").unwrap()..];
        let command = name.trim_end_matches(".1").replace('-', " ");
        let mut shown = 0;
        for line in examples.lines().filter_map(|l| l.strip_prefix("\\fB")).filter_map(|l| l.strip_suffix("\\fR")) {
            assert!(readme.contains(line), "{name}: example `{line}` is not the README's");
            assert!(command == "vouch" || line.starts_with(&command), "{name}: example `{line}` is another command's");
            shown += 1;
        }
        assert!(shown > 0, "{name}: EXAMPLES shows no command");
    }
    assert!(pages >= 20, "only {pages} pages");
    // What 1 means is the command's own.
    let detect = std::fs::read_to_string(man.join("vouch-detect.1")).unwrap();
    assert!(detect.contains("flagged or declared_synthetic"), "vouch-detect.1 does not say when it exits 1");
    let show = std::fs::read_to_string(man.join("vouch-identity-show.1")).unwrap();
    assert!(show.contains("Not returned by this command"), "vouch-identity-show.1 claims an exit 1 it never gives");
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
        "vouch doctor",
        "make install PREFIX=",
        "config.toml",
        "man 5 vouch-config",
    ] {
        assert!(readme.contains(needle), "README.md does not mention `{needle}`");
    }
}
