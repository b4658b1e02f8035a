//! `vouch generate`: the man pages and shell completions, from the flag definitions.

use std::path::Path;

use anyhow::{Context as _, Result};

use super::args::{Cli, GenerateCommand};
use super::Outcome;

pub fn generate(command: GenerateCommand) -> Result<Outcome> {
    let mut summary = super::Summary::default();
    match command {
        GenerateCommand::Man { out } => {
            use clap::CommandFactory;
            std::fs::create_dir_all(&out).with_context(|| format!("{}: cannot create", out.display()))?;
            let pages = write_man_pages(&Cli::command(), &out)?;
            let path = out.join("vouch-policy.5");
            vouch::fsx::write_atomic(&path, policy_man_page().as_bytes(), Some(0o644), true)
                .with_context(|| format!("{}", path.display()))?;
            let path = out.join("vouch-config.5");
            vouch::fsx::write_atomic(&path, config_man_page().as_bytes(), Some(0o644), true)
                .with_context(|| format!("{}", path.display()))?;
            summary.add("man page(s) written", pages + 2);
        }
        GenerateCommand::Completions { out } => {
            std::fs::create_dir_all(&out).with_context(|| format!("{}: cannot create", out.display()))?;
            summary.add("completion file(s) written", write_completions(&out)?);
        }
    }
    summary.say();
    Ok(Outcome::Passed)
}

/// `vouch-policy(5)`: the policy file format, from the same field list the
/// code documents.
fn policy_man_page() -> String {
    use clap_mangen::roff::{bold, roman, Roff};
    let mut page = Roff::new();
    page.control("TH", ["VOUCH-POLICY", "5"]);
    page.control("SH", ["NAME"]);
    page.text([roman("vouch-policy - what vouch check requires of every file")]);
    page.control("SH", ["DESCRIPTION"]);
    page.text([roman(
        "A policy is a TOML file given to vouch check --policy. Every field is optional; unknown fields are \
         refused so that a typo cannot weaken a policy. Each file gets one verdict: fail when a requirement is \
         not met or anything about the file is false (invalid credentials, a false anchor), warn for what \
         deserves a look but breaks no rule, pass otherwise. vouch check exits 1 when any file fails.",
    )]);
    page.control("SH", ["FIELDS"]);
    for (field, meaning) in vouch::check::policy::FIELDS {
        page.control("TP", []);
        page.text([bold(*field)]);
        page.text([roman(*meaning)]);
    }
    page.control("SH", ["EXAMPLE"]);
    page.control("nf", []);
    for line in vouch::check::policy::EXAMPLE.lines() {
        page.text([roman(line)]);
    }
    page.control("fi", []);
    page.control("SH", ["SEE ALSO"]);
    page.text([roman("vouch-check(1)")]);
    page.render()
}

/// `vouch-config(5)`: `$VOUCH_HOME/config.toml`, from the field list the
/// code reads.
fn config_man_page() -> String {
    use clap_mangen::roff::{bold, roman, Roff};
    let mut page = Roff::new();
    page.control("TH", ["VOUCH-CONFIG", "5"]);
    page.control("SH", ["NAME"]);
    page.text([roman("vouch-config - defaults for vouch in $VOUCH_HOME/config.toml")]);
    page.control("SH", ["DESCRIPTION"]);
    page.text([roman(
        "A TOML file of the settings users would otherwise retype on every run. Every field is optional; \
         unknown fields are refused (exit 2, naming the file). A flag given on the command line replaces the \
         setting of the same name (a list included: --trust a.pem means only a.pem, not the configured roots \
         too). Without the file vouch runs with no settings. A path the file names that cannot be read is \
         blamed on its setting: trust in /home/me/.config/vouch/config.toml: roots/x.pem: not found.",
    )]);
    page.control("SH", ["FIELDS"]);
    for (field, meaning) in vouch::config::FIELDS {
        page.control("TP", []);
        page.text([bold(field)]);
        page.text([roman(meaning)]);
    }
    page.control("SH", ["EXAMPLE"]);
    page.control("nf", []);
    for line in vouch::config::EXAMPLE.lines() {
        page.text([roman(line)]);
    }
    page.control("fi", []);
    page.control("SH", ["FILES"]);
    page.control("TP", []);
    page.text([bold("$VOUCH_HOME/config.toml")]);
    page.text([roman("VOUCH_HOME defaults to the user's config dir + /vouch, e.g. ~/.config/vouch.")]);
    page.control("SH", ["SEE ALSO"]);
    page.text([roman("vouch(1), vouch-verify(1), vouch-anchor(1), vouch-sign(1), vouch-watch(1)")]);
    page.render()
}

/// One page per command and subcommand (`vouch-sign.1`, `vouch-identity-new.1`…),
/// each ending with EXIT STATUS, ENVIRONMENT, FILES and EXAMPLES.
fn write_man_pages(root: &clap::Command, dir: &Path) -> Result<usize> {
    let examples = readme_examples(root);
    write_pages_below(root, dir, &[], &examples)
}

fn write_pages_below(command: &clap::Command, dir: &Path, path: &[&str], examples: &[Example]) -> Result<usize> {
    let name = std::iter::once("vouch").chain(path.iter().copied()).collect::<Vec<_>>().join("-");
    let command = command.clone().name(name.clone());
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut page)?;
    page.extend_from_slice(extra_sections(path, examples).to_roff().as_bytes());
    let file = dir.join(format!("{name}.1"));
    vouch::fsx::write_atomic(&file, &page, Some(0o644), true).with_context(|| format!("{}", file.display()))?;
    let mut written = 1;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let sub_path: Vec<&str> = path.iter().copied().chain([sub.get_name()]).collect();
        written += write_pages_below(sub, dir, &sub_path, examples)?;
    }
    Ok(written)
}

/// A `vouch …` line of the README's shell blocks: the page it belongs to
/// (the subcommands it names), the line and its comment.
struct Example {
    path: Vec<String>,
    line: String,
    comment: Option<String>,
}

/// The README's usage, the one place examples are written: every line of a
/// `sh` block that runs vouch, filed under the deepest subcommand it names.
fn readme_examples(root: &clap::Command) -> Vec<Example> {
    let mut examples = Vec::new();
    let mut in_shell = false;
    for line in README.lines() {
        if line.starts_with("```") {
            in_shell = line == "```sh";
            continue;
        }
        if !in_shell || !line.starts_with("vouch ") {
            continue;
        }
        let (command, comment) = match line.find("  #") {
            Some(at) => (line[..at].trim_end(), Some(line[at..].trim_start_matches([' ', '#']).to_string())),
            None => (line, None),
        };
        let mut path = Vec::new();
        let mut at = root;
        for word in command.split_whitespace().skip(1) {
            match at.get_subcommands().find(|s| s.get_name() == word && !s.is_hide_set()) {
                Some(sub) => {
                    path.push(word.to_string());
                    at = sub;
                }
                None => break,
            }
        }
        examples.push(Example { path, line: command.to_string(), comment });
    }
    examples
}

/// The README, compiled in so that the man pages' examples are its own.
const README: &str = include_str!("../../README.md");

/// What exit code 1 means for the command at `path`; `None` for commands
/// that never return it (a failure there is an error, 2).
fn exit_one(path: &[&str]) -> Option<&'static str> {
    Some(match path {
        [] => {
            "at least one input failed a check: invalid or tampered, no credentials, only pending anchors; \
             for anchor upgrade, a proof still pending; for detect, a file flagged or declared_synthetic; for doctor, \
             a piece of the install missing or broken"
        }
        ["verify"] => "at least one input failed: invalid or tampered, no credentials, or only pending anchors",
        ["check"] => "at least one file's verdict is fail",
        ["report"] => "at least one record's verdict is fail, as check would have exited over the same records",
        ["detect"] => "at least one file flagged or declared_synthetic",
        ["inspect"] => "at least one file has no Content Credentials",
        ["watch"] => "at least one capture could not be signed or anchored",
        ["anchor", "upgrade"] => "at least one proof is still pending",
        ["doctor"] => "something this install needs is missing or broken (each named with the command that fixes it)",
        _ => return None,
    })
}

/// Environment variables vouch reads, for every page.
const ENVIRONMENT: [(&str, &str); 5] = [
    (
        "VOUCH_HOME",
        "Folder of per-user state: the identity, trust anchors added with vouch trust add, public lists replaced \
         with vouch trust update [default: the user's config dir + /vouch, e.g. ~/.config/vouch].",
    ),
    (
        "VOUCH_MODELS",
        "Folder of detector model cards and weights. Without it vouch looks in models/ of the checkout it was \
         built in, then PREFIX/share/vouch/models beside the bin/ it was installed in, then ./models.",
    ),
    (
        "ORT_DYLIB_PATH",
        "The ONNX Runtime shared library (libonnxruntime.so) detection loads. Without it vouch looks in .deps/ of \
         the checkout it was built in, PREFIX/lib/vouch, then /usr/local/lib, /usr/lib and the multiarch folder.",
    ),
    ("VOUCH_PASSPHRASE", "Passphrase of an encrypted signing key, when --passphrase-env names no other variable."),
    ("NO_COLOR", "When set, text reports on a terminal are not coloured."),
];

/// What lives where, for every page.
const FILES: [(&str, &str); 10] = [
    (
        "$VOUCH_HOME/config.toml",
        "Defaults for rpc, headers, esplora, calendars, tsa and trust; flags win (see vouch-config(5)).",
    ),
    ("$VOUCH_HOME/identity/", "root.pem, root.key, signer.pem, signer.key (keys mode 0600) of the default identity."),
    ("$VOUCH_HOME/identity/settings.toml", "Signing defaults of the identity, e.g. tsa = \"URL\"."),
    ("$VOUCH_HOME/trust/", "Root certificates added with vouch trust add."),
    (
        "$VOUCH_HOME/trust-lists/",
        "Public trust lists replaced with vouch trust update, used instead of the installed or compiled-in ones.",
    ),
    ("PREFIX/bin/vouch", "The binary make install puts in place."),
    ("PREFIX/share/vouch/models/", "Model cards (*.toml) and their weights, each checked against its card's SHA-256."),
    ("PREFIX/lib/vouch/libonnxruntime.so", "The ONNX Runtime library make install puts in place."),
    (
        "PREFIX/share/vouch/trust-lists/",
        "The public trust lists (C2PA-TRUST-LIST.pem, C2PA-TSA-TRUST-LIST.pem, legacy/anchors.pem, \
         legacy/allowed.pem, each folder's VERSION) make install puts in place; used when present, so replacing \
         them updates the lists without a new binary; otherwise the copy compiled into vouch.",
    ),
    (
        "PREFIX/share/vouch/trust/",
        "Root certificates given to make install TRUST=DIR; vouch trusts them where $VOUCH_HOME/trust is that \
         folder (the container image links it).",
    ),
];

/// EXIT STATUS, ENVIRONMENT, FILES and EXAMPLES of the page at `path`.
fn extra_sections(path: &[&str], examples: &[Example]) -> clap_mangen::roff::Roff {
    use clap_mangen::roff::{bold, roman, Roff};
    let mut page = Roff::new();
    page.control("SH", ["EXIT STATUS"]);
    let one = exit_one(path);
    let statuses = [
        ("0", "Every input passed (or the command did what it was asked)."),
        ("1", one.unwrap_or("Not returned by this command: anything that goes wrong is an error (2).")),
        ("2", "Usage or I/O error: missing file, unsupported or damaged media, wrong passphrase, unwritable output…"),
    ];
    for (code, meaning) in statuses {
        page.control("TP", []);
        page.text([bold(code)]);
        page.text([roman(meaning)]);
    }
    page.control("SH", ["ENVIRONMENT"]);
    for (name, meaning) in ENVIRONMENT {
        page.control("TP", []);
        page.text([bold(name)]);
        page.text([roman(meaning)]);
    }
    page.control("SH", ["FILES"]);
    for (name, meaning) in FILES {
        page.control("TP", []);
        page.text([bold(name)]);
        page.text([roman(meaning)]);
    }
    // The top page shows each command's first example; a command's page all of
    // its own and its subcommands'.
    let mine: Vec<&Example> = if path.is_empty() {
        let mut seen = Vec::new();
        examples
            .iter()
            .filter(|e| {
                let first = e.path.first().cloned();
                let new = !seen.contains(&first);
                seen.push(first);
                new
            })
            .collect()
    } else {
        examples
            .iter()
            .filter(|e| e.path.iter().map(String::as_str).take(path.len()).eq(path.iter().copied()))
            .collect()
    };
    if !mine.is_empty() {
        page.control("SH", ["EXAMPLES"]);
        for example in mine {
            page.control("TP", []);
            page.text([bold(example.line.as_str())]);
            page.text([roman(example.comment.as_deref().unwrap_or(""))]);
        }
    }
    page
}

/// The completion file of each shell vouch supports, under the names the
/// shells look for once installed (`make install` puts them in place).
pub const COMPLETIONS: [(clap_complete::Shell, &str); 3] = [
    (clap_complete::Shell::Bash, "vouch.bash"),
    (clap_complete::Shell::Zsh, "_vouch"),
    (clap_complete::Shell::Fish, "vouch.fish"),
];

fn write_completions(dir: &Path) -> Result<usize> {
    use clap::CommandFactory;
    // clap_complete offers hidden subcommands too: complete only what
    // `--help` shows (not `generate`, which is for packagers).
    let full = Cli::command();
    let shown = clap::Command::new("vouch")
        .version(full.get_version().map(str::to_string).unwrap_or_default())
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    for (shell, file) in COMPLETIONS {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut shown.clone(), "vouch", &mut script);
        let path = dir.join(file);
        vouch::fsx::write_atomic(&path, &script, Some(0o644), true).with_context(|| format!("{}", path.display()))?;
    }
    Ok(COMPLETIONS.len())
}
