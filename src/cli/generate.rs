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
            let pages = write_man_pages(&Cli::command(), &out, "vouch")?;
            let path = out.join("vouch-policy.5");
            vouch::fsx::write_atomic(&path, policy_man_page().as_bytes(), Some(0o644), true)
                .with_context(|| format!("{}", path.display()))?;
            summary.add("man page(s) written", pages + 1);
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

/// One page per command and subcommand (`vouch-sign.1`, `vouch-identity-new.1`…).
fn write_man_pages(command: &clap::Command, dir: &Path, name: &str) -> Result<usize> {
    let command = command.clone().name(name.to_string());
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut page)?;
    let path = dir.join(format!("{name}.1"));
    vouch::fsx::write_atomic(&path, &page, Some(0o644), true).with_context(|| format!("{}", path.display()))?;
    let mut written = 1;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        written += write_man_pages(sub, dir, &format!("{name}-{}", sub.get_name()))?;
    }
    Ok(written)
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
    for (shell, file) in COMPLETIONS {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "vouch", &mut script);
        let path = dir.join(file);
        vouch::fsx::write_atomic(&path, &script, Some(0o644), true).with_context(|| format!("{}", path.display()))?;
    }
    Ok(COMPLETIONS.len())
}
