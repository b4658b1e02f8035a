//! Commands: turn flags into jobs for the library, run them, hand the
//! results to a renderer. The only place that prints.

pub mod args;
mod detect;

pub use detect::{detect, models};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use rayon::prelude::*;

use vouch::anchor::{self, ChainData};
use vouch::identity::{self, NewIdentity, Passphrase};
use vouch::media::{self, Input, MediaFile};
use vouch::provenance::{self, SignOptions, SignOutput};
use vouch::report::{self, ErrorRecord, FileReport};
use vouch::{home, trust as trust_store};

use args::*;

/// How a run went, worst input first: decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Outcome {
    #[default]
    Passed,
    CheckFailed,
    Error,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Self::Passed => ExitCode::SUCCESS,
            Self::CheckFailed => ExitCode::from(1),
            Self::Error => ExitCode::from(2),
        }
    }
}

/// Prints per-input results as text or JSON Lines, errors to stderr, and
/// keeps the worst outcome.
struct Printer {
    json: bool,
    outcome: Outcome,
    out: std::io::StdoutLock<'static>,
}

impl Printer {
    fn new(json: bool) -> Self {
        Self { json, outcome: Outcome::Passed, out: std::io::stdout().lock() }
    }

    fn line(&mut self, text: &str) {
        // A closed pipe (`vouch verify … | head`) is not an error worth a panic.
        let _ = writeln!(self.out, "{text}");
    }

    fn record<T: serde::Serialize>(&mut self, value: &T, text: impl FnOnce(&T) -> String, outcome: Outcome) {
        let line = if self.json { report::json_line(value) } else { text(value) };
        self.line(&line);
        self.outcome = self.outcome.max(outcome);
    }

    fn error(&mut self, path: &Path, err: &dyn std::fmt::Display) {
        eprintln!("vouch: error: {err}");
        if self.json {
            let record = ErrorRecord { path: path.to_path_buf(), error: err.to_string() };
            self.line(&report::json_line(&record));
        }
        self.outcome = Outcome::Error;
    }
}

/// An error and its causes on one line. Library errors already quote their
/// cause in their own message, so a cause is added only when it says
/// something new.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}

fn identity_dir(dir: Option<PathBuf>) -> PathBuf {
    dir.unwrap_or_else(home::default_identity_dir)
}

fn passphrase(arg: &PassphraseArg) -> Result<Option<Passphrase>> {
    const DEFAULT_VAR: &str = "VOUCH_PASSPHRASE";
    match &arg.passphrase_env {
        Some(var) => Ok(Some(Passphrase::from_env(var)?)),
        None if std::env::var_os(DEFAULT_VAR).is_some_and(|v| !v.is_empty()) => {
            Ok(Some(Passphrase::from_env(DEFAULT_VAR)?))
        }
        None => Ok(None),
    }
}

pub fn identity(command: IdentityCommand) -> Result<Outcome> {
    let (summary, json) = match command {
        IdentityCommand::New(a) => {
            let dir = identity_dir(a.dir.dir);
            let request = NewIdentity { name: a.name, org: a.org, email: a.email, days: a.days };
            let pass = passphrase(&a.passphrase)?;
            (identity::create(&dir, &request, pass.as_ref())?, a.json)
        }
        IdentityCommand::Show(a) => (identity::show(&identity_dir(a.dir.dir))?, a.json),
        IdentityCommand::Import(a) => {
            let dir = identity_dir(a.dir.dir);
            let pass = passphrase(&a.passphrase)?;
            (identity::import(&dir, &a.cert, &a.key, pass.as_ref())?, a.json)
        }
    };
    let mut printer = Printer::new(json);
    printer.record(&summary, |s| report::identity_text(s).trim_end().to_string(), Outcome::Passed);
    Ok(printer.outcome)
}

/// Expands PATHs, reporting unusable ones through the printer.
fn media_inputs(paths: &[PathBuf], printer: &mut Printer) -> Vec<MediaFile> {
    let mut files = Vec::new();
    for input in media::expand(paths) {
        match input {
            Input::Ok(file) => files.push(file),
            Input::Err(e) => printer.error(e.path(), &e),
        }
    }
    files
}

pub fn sign(a: SignArgs) -> Result<Outcome> {
    let output = match (a.out_dir, a.in_place) {
        (Some(dir), _) => SignOutput::Dir(dir),
        (None, true) => SignOutput::InPlace,
        (None, false) => SignOutput::Sidecar,
    };
    let pass = passphrase(&a.passphrase)?;
    let id = identity::load(&identity_dir(a.identity), pass.as_ref())?;
    drop(pass);
    let signer = id.signer()?;
    let context = provenance::context(None, false).context("cannot configure c2pa")?;
    let options = SignOptions { output, title: a.title, author: a.author, source_type: a.source_type, force: a.force };

    let mut printer = Printer::new(a.json);
    let files = media_inputs(&a.paths, &mut printer);
    check_output_collisions(&files, &options.output)?;
    let bar = vouch::progress::bar(files.len() as u64, "signing", a.json);
    let results: Vec<_> = files
        .par_iter()
        .map(|file| {
            let result = provenance::sign_file(file, signer.as_ref(), &context, &options);
            bar.inc(1);
            result
        })
        .collect();
    bar.finish_and_clear();
    for (file, result) in files.iter().zip(results) {
        match result {
            Ok(signed) => printer.record(&signed, report::sign_text, Outcome::Passed),
            Err(e) => printer.error(&file.path, &e),
        }
    }
    Ok(printer.outcome)
}

/// Two inputs that would write the same output (same name from different
/// folders) are refused before anything is written.
fn check_output_collisions(files: &[MediaFile], output: &SignOutput) -> Result<()> {
    let mut seen = std::collections::HashMap::new();
    for file in files {
        let dest = provenance::sign::output_path(file, output);
        if let Some(other) = seen.insert(dest.clone(), &file.path) {
            anyhow::bail!(
                "{} and {} would both be written to {}: sign them in separate runs",
                other.display(),
                file.path.display(),
                dest.display()
            );
        }
    }
    Ok(())
}

fn verify_context(
    trust: &[PathBuf],
    identity: Option<PathBuf>,
    allow_remote: bool,
) -> Result<std::sync::Arc<c2pa::Context>> {
    let id_dir = identity_dir(identity);
    let anchors = trust_store::gather(trust, &home::trust_dir(), Some(&id_dir))?;
    provenance::context(anchors.pem_bundle(), allow_remote).context("cannot configure c2pa with these trust anchors")
}

pub fn verify(a: VerifyArgs) -> Result<Outcome> {
    let context = verify_context(&a.trust, a.identity, a.allow_remote)?;
    let chain = match &a.headers {
        Some(path) => ChainData::default().with_headers_file(path)?,
        None => ChainData::default(),
    };
    let mut printer = Printer::new(a.json);
    // Media is checked for credentials; any other file (a text, an archive)
    // only when a receipt covers it.
    let mut jobs: Vec<(PathBuf, Option<MediaFile>)> = Vec::new();
    for found in media::walk_files(&a.paths) {
        let file = match found {
            Ok(file) => file,
            Err(e) => {
                printer.error(e.path(), &e);
                continue;
            }
        };
        if media::Format::from_path(&file.path).is_some() {
            match media::probe(&file.path) {
                Ok(m) => jobs.push((file.path, Some(m))),
                Err(e) => printer.error(&file.path, &e),
            }
        } else if !a.receipt.is_empty() || !anchor::receipts_beside(&file.path).is_empty() {
            jobs.push((file.path, None));
        } else if file.named {
            let e = media::InputError::Unsupported(file.path.clone());
            printer.error(&file.path, &e);
        }
    }
    let bar = vouch::progress::bar(jobs.len() as u64, "verifying", a.json);
    let results: Vec<Result<FileReport>> = jobs
        .par_iter()
        .map(|(path, media)| {
            let result = verify_one(path, media.as_ref(), &a.receipt, &context, &chain);
            bar.inc(1);
            result
        })
        .collect();
    bar.finish_and_clear();
    for ((path, _), result) in jobs.iter().zip(results) {
        match result {
            Ok(report) => {
                let outcome = if report.passes() { Outcome::Passed } else { Outcome::CheckFailed };
                printer.record(&report, report::verify_text, outcome);
            }
            Err(e) => printer.error(path, &one_line(&e)),
        }
    }
    Ok(printer.outcome)
}

fn verify_one(
    path: &Path,
    media: Option<&MediaFile>,
    extra_receipts: &[PathBuf],
    context: &std::sync::Arc<c2pa::Context>,
    chain: &ChainData,
) -> Result<FileReport> {
    let c2pa = media.map(|m| provenance::verify_file(m, context)).transpose()?;
    let mut receipts = anchor::receipts_beside(path);
    for receipt in extra_receipts {
        if !receipts.contains(receipt) {
            receipts.push(receipt.clone());
        }
    }
    let anchors = receipts.iter().map(|r| anchor::verify_receipt(path, r, chain)).collect::<Result<Vec<_>, _>>()?;
    Ok(FileReport { path: path.to_path_buf(), c2pa, anchors })
}

pub fn inspect(a: InspectArgs) -> Result<Outcome> {
    if a.file.extension().is_some_and(|e| e == "ots") {
        return inspect_ots(&a);
    }
    let file = media::probe(&a.file)?;
    let context = verify_context(&a.trust, None, a.allow_remote)?;
    let mut printer = Printer::new(a.json);
    match provenance::inspect::inspect_file(&file, &context)? {
        Some(store) if a.json => printer.line(&serde_json::to_string_pretty(&store)?),
        Some(store) => printer.line(report::inspect_text(&store, a.tree).trim_end()),
        None if a.json => printer.line("null"),
        None => {
            printer.line(&format!("{}: no Content Credentials", file.path.display()));
            return Ok(Outcome::CheckFailed);
        }
    }
    Ok(printer.outcome)
}

pub fn anchor(a: AnchorArgs) -> Result<Outcome> {
    use anchor::stamp::{self, CalendarClient};
    if let Some(AnchorCommand::Upgrade { receipts, timeout, json }) = a.command {
        let client = CalendarClient::new(std::time::Duration::from_secs(timeout));
        let mut printer = Printer::new(json);
        for receipt in &receipts {
            match stamp::upgrade(receipt, &client) {
                Ok(upgraded) => {
                    let outcome = if upgraded.complete { Outcome::Passed } else { Outcome::CheckFailed };
                    printer.record(&upgraded, report::upgrade_text, outcome);
                }
                Err(e) => printer.error(receipt, &e),
            }
        }
        return Ok(printer.outcome);
    }
    let calendars: Vec<String> = if a.calendar.is_empty() {
        stamp::DEFAULT_CALENDARS.iter().map(|c| c.to_string()).collect()
    } else {
        a.calendar.clone()
    };
    let min_calendars = a.min_calendars.unwrap_or(calendars.len().min(2));
    let mut printer = Printer::new(a.json);
    let mut paths = Vec::new();
    for found in media::walk_files(&a.paths) {
        match found {
            Ok(file) => paths.push(file.path),
            Err(e) => printer.error(e.path(), &e),
        }
    }
    if printer.outcome == Outcome::Error {
        // A batch is one commitment: anchoring part of what was asked for
        // would leave the user guessing which files are covered.
        anyhow::bail!("nothing was anchored");
    }
    let mut batch = Vec::new();
    for (path, hashed) in paths.iter().zip(anchor::stamp::hash_files(&paths)) {
        match hashed {
            Ok(file) => batch.push(file),
            Err(e) => printer.error(path, &e),
        }
    }
    if printer.outcome == Outcome::Error {
        anyhow::bail!("nothing was anchored");
    }
    let client = CalendarClient::new(std::time::Duration::from_secs(a.timeout));
    for (file, result) in batch.iter().zip(stamp::anchor_ots(&batch, &calendars, min_calendars, &client, a.force)?) {
        match result {
            Ok(anchored) => printer.record(&anchored, report::anchored_text, Outcome::Passed),
            Err(e) => printer.error(&file.path, &e),
        }
    }
    Ok(printer.outcome)
}

fn inspect_ots(a: &InspectArgs) -> Result<Outcome> {
    let proof = anchor::read_ots(&a.file)?;
    let cid = <[u8; 32]>::try_from(proof.file_digest.as_slice())
        .ok()
        .filter(|_| proof.file_hash_op == anchor::ots::HashOp::Sha256)
        .map(|digest| anchor::digest::ipfs_cid(&digest));
    let mut printer = Printer::new(a.json);
    if a.json {
        let attestations: Vec<_> = proof
            .attestations()
            .into_iter()
            .map(|(msg, attestation)| serde_json::json!({ "message": hex::encode(msg), "attestation": attestation.to_string() }))
            .collect();
        let value = serde_json::json!({
            "path": a.file,
            "file_hash_op": proof.file_hash_op.to_string(),
            "file_digest": hex::encode(&proof.file_digest),
            "ipfs_cid": cid,
            "attestations": attestations,
        });
        printer.line(&value.to_string());
    } else {
        printer.line(report::ots_text(&proof, cid.as_deref()).trim_end());
    }
    Ok(printer.outcome)
}

pub fn trust(command: TrustCommand) -> Result<Outcome> {
    let store = home::trust_dir();
    let mut printer = Printer::new(false);
    match command {
        TrustCommand::Add { pem } => {
            for anchor in trust_store::add(&store, &pem)? {
                printer.line(&format!("trusted  {}", report::trust_text(&anchor)));
            }
        }
        TrustCommand::List { json } => {
            printer.json = json;
            for anchor in trust_store::list(&store)? {
                printer.record(&anchor, report::trust_text, Outcome::Passed);
            }
        }
        TrustCommand::Remove { fingerprint } => {
            let anchor = trust_store::remove(&store, &fingerprint)?;
            printer.line(&format!("removed  {}", report::trust_text(&anchor)));
        }
    }
    Ok(printer.outcome)
}

pub fn generate(command: GenerateCommand) -> Result<Outcome> {
    match command {
        GenerateCommand::Man { out } => {
            use clap::CommandFactory;
            std::fs::create_dir_all(&out).with_context(|| format!("{}: cannot create", out.display()))?;
            write_man_pages(&Cli::command(), &out, "vouch")?;
        }
    }
    Ok(Outcome::Passed)
}

/// One page per command and subcommand (`vouch-sign.1`, `vouch-identity-new.1`…).
fn write_man_pages(command: &clap::Command, dir: &Path, name: &str) -> Result<()> {
    let command = command.clone().name(name.to_string());
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut page)?;
    let path = dir.join(format!("{name}.1"));
    vouch::fsx::write_atomic(&path, &page, Some(0o644), true).with_context(|| format!("{}", path.display()))?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_man_pages(sub, dir, &format!("{name}-{}", sub.get_name()))?;
    }
    Ok(())
}
