//! Commands: turn flags into jobs for the library, run them, hand the
//! results to a renderer. The only place that prints.

pub mod args;
mod detect;
mod watch;
// `report` is taken by `vouch::report`, the renderers.
#[path = "report.rs"]
mod merge;
mod trust;

pub use detect::{detect, models};
pub use merge::report;

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
pub use trust::trust;

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
    /// What the walk passed over, said once at the end.
    skips: vouch::walk::Skips,
}

impl Printer {
    fn new(json: bool) -> Self {
        Self { json, outcome: Outcome::Passed, out: std::io::stdout().lock(), skips: Default::default() }
    }

    /// Says on stderr what the walk passed over, if anything: nothing under
    /// the named paths is left out without a word.
    fn say_skips(&self) {
        if let Some(what) = self.skips.describe() {
            eprintln!("vouch: skipped {} file(s) under the named paths: {what}", self.skips.total());
        }
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
        let message = vouch::redact::text(&err.to_string());
        eprintln!("vouch: error: {}", report::printable_str(&message));
        if self.json {
            let record = ErrorRecord::new(path, message);
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

/// Expands PATHs, reporting unusable ones through the printer and counting
/// what the walk passed over.
fn media_inputs(paths: &[PathBuf], printer: &mut Printer) -> Vec<MediaFile> {
    let mut files = Vec::new();
    for input in media::expand(paths, &mut printer.skips) {
        match input {
            Input::Ok(file) => files.push(file),
            Input::Err(e) => printer.error(e.path(), &e),
        }
    }
    files
}

/// Every file under PATHs by the walking rules: what was passed over is
/// counted in the printer, what cannot be read is reported.
fn all_files(paths: &[PathBuf], printer: &mut Printer) -> Vec<vouch::walk::FoundFile> {
    let mut files = Vec::new();
    for walked in vouch::walk::walk(paths.to_vec()) {
        match walked {
            Ok(vouch::walk::Walked::File(found)) => files.push(found),
            Ok(vouch::walk::Walked::Skipped { why, .. }) => printer.skips.add(why),
            Err(e) => printer.error(e.path(), &e),
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
    let id_dir = identity_dir(a.identity);
    let id = identity::load(&id_dir, pass.as_ref())?;
    drop(pass);
    let tsa = a.tsa.or(identity::settings(&id_dir)?.tsa);
    let signer = id.signer(tsa.as_deref())?;
    let context = provenance::context(None, false).context("cannot configure c2pa")?;
    let options = SignOptions {
        output,
        title: a.title,
        author: a.author,
        source_type: a.source_type,
        force: a.force,
        allow_invalid_parent: a.allow_invalid_parent,
    };

    let mut printer = Printer::new(a.json);
    let files = media_inputs(&a.paths, &mut printer);
    printer.say_skips();
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
            Ok(signed) => {
                announce_declarations(&signed);
                printer.record(&signed, report::sign_text, Outcome::Passed)
            }
            Err(e) => printer.error(&file.path, &e),
        }
    }
    Ok(printer.outcome)
}

/// A signed input whose history declares AI-generated or synthetic content
/// keeps that declaration; the signer is told so on stderr.
fn announce_declarations(signed: &provenance::Signed) {
    let mut said = Vec::new();
    for declared in &signed.declared_sources {
        if let Some(words) = declared.synthetic_words() {
            let name = provenance::source_type::name_of(&declared.source_type);
            let line =
                format!("{}: declares {words} ({name}) in its history; the declaration is kept", signed.path.display());
            if !said.contains(&line) {
                eprintln!("vouch: note: {}", report::printable_str(&line));
                said.push(line);
            }
        }
    }
}

/// Two inputs that would write the same output (same name from different
/// folders) are refused before anything is written.
fn check_output_collisions(files: &[MediaFile], output: &SignOutput) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashMap::new();
    // A signed copy must never land on any input of the run.
    let inputs: std::collections::HashMap<(u64, u64), &Path> = files
        .iter()
        .filter_map(|f| std::fs::metadata(&f.path).ok().map(|m| ((m.dev(), m.ino()), f.path.as_path())))
        .collect();
    for file in files {
        let dest = provenance::sign::output_path(file, output);
        if !matches!(output, SignOutput::InPlace) {
            if let Some(input) = std::fs::metadata(&dest).ok().and_then(|m| inputs.get(&(m.dev(), m.ino()))) {
                anyhow::bail!(
                    "{}: signing {} would write over the input {}: choose another -o folder (or sign --in-place)",
                    dest.display(),
                    file.path.display(),
                    input.display()
                );
            }
        }
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

/// The c2pa context of a verifying run and the anchors it trusts (to name
/// the anchor of each `trusted` verdict).
struct VerifyContext {
    c2pa: std::sync::Arc<provenance::Validator>,
    anchors: trust_store::TrustAnchors,
    /// Whether a confirmed anchor may stand in for a timestamp (vouch's rule).
    anchor_time_evidence: bool,
}

fn verify_context(
    trust: &[PathBuf],
    identity: Option<PathBuf>,
    allow_remote: bool,
    public_trust: bool,
) -> Result<VerifyContext> {
    let id_dir = identity_dir(identity);
    let lists = public_trust.then(home::trust_lists_dir);
    let anchors = trust_store::gather(trust, &home::trust_dir(), Some(&id_dir), lists.as_deref())?;
    let c2pa = provenance::Validator::new(anchors.clone(), allow_remote)
        .context("cannot configure c2pa with these trust anchors")?
        .into();
    Ok(VerifyContext { c2pa, anchors, anchor_time_evidence: true })
}

/// The Bitcoin headers the flags name: a file and any number of sources.
fn bitcoin_headers(a: &BitcoinArgs, timeout: std::time::Duration) -> Result<anchor::headers::BitcoinHeaders> {
    use anchor::headers::{BitcoinHeaders, HeaderSource};
    let mut headers = BitcoinHeaders::default();
    headers.set_network(a.bitcoin_network);
    if let Some(path) = &a.headers {
        headers.load_file(path)?;
    }
    for url in &a.bitcoin_rpc {
        headers.add_source(HeaderSource::bitcoin_rpc(url, timeout));
    }
    for url in &a.esplora {
        headers.add_source(HeaderSource::esplora(url, timeout));
    }
    Ok(headers)
}

/// The chain data the flags name: headers file, header source, EVM node.
fn chain_data(a: &ChainArgs, min_confirmations: u64) -> Result<ChainData> {
    let timeout = std::time::Duration::from_secs(a.timeout);
    let mut chain = ChainData { bitcoin: bitcoin_headers(&a.bitcoin, timeout)?, ..ChainData::default() };
    if !a.rpc.is_empty() {
        chain.evm = Some(anchor::evm::EvmVerifier::new(&a.rpc, min_confirmations, timeout)?);
    }
    Ok(chain)
}

pub fn verify(a: VerifyArgs) -> Result<Outcome> {
    let context = verify_context(&a.trust.roots, a.trust.identity, a.trust.allow_remote, !a.trust.no_public_trust)?;
    let chain = chain_data(&a.chain, a.chain.confirmations)?;
    let mut printer = Printer::new(a.json);
    // Media is checked for credentials; any other file (a text, an archive)
    // only when a receipt covers it.
    let mut jobs: Vec<(PathBuf, Option<MediaFile>)> = Vec::new();
    for mut file in all_files(&a.paths, &mut printer) {
        // `vouch verify photo.jpg.ots` checks photo.jpg, as `ots verify` does.
        if let Some(subject) = file.named.then(|| receipt_subject(&file.path)).flatten() {
            if !subject.exists() {
                let e = anyhow::anyhow!(
                    "{}: the file this receipt covers, {}, is not there",
                    file.path.display(),
                    subject.display()
                );
                printer.error(&file.path, &one_line(&e));
                continue;
            }
            file.path = subject;
        }
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
        } else {
            printer.skips.add(vouch::walk::SkipReason::NotMedia);
        }
    }
    printer.say_skips();
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

/// The file a receipt named on the command line covers: `x.jpg` for
/// `x.jpg.ots` or `x.jpg.anchor.json`.
fn receipt_subject(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let subject = name.strip_suffix(".ots").or_else(|| name.strip_suffix(".anchor.json"))?;
    (!subject.is_empty()).then(|| path.with_file_name(subject))
}

fn verify_one(
    path: &Path,
    media: Option<&MediaFile>,
    extra_receipts: &[PathBuf],
    context: &VerifyContext,
    chain: &ChainData,
) -> Result<FileReport> {
    let mut c2pa = media.map(|m| provenance::verify_file(m, &context.c2pa)).transpose()?;
    let mut receipts = anchor::receipts_beside(path);
    for receipt in extra_receipts {
        if !receipts.contains(receipt) {
            receipts.push(receipt.clone());
        }
    }
    let anchors = receipts.iter().map(|r| anchor::verify_receipt(path, r, chain)).collect::<Result<Vec<_>, _>>()?;
    if let Some(report) = c2pa.as_mut() {
        if context.anchor_time_evidence {
            let confirmed: Vec<provenance::verify::ConfirmedAnchor> = anchors
                .iter()
                .filter(|a| a.state == anchor::AnchorState::Confirmed)
                .filter_map(|a| {
                    let time = a.time.as_deref()?;
                    Some(provenance::verify::ConfirmedAnchor { kind: a.kind, block: a.block, time })
                })
                .collect();
            provenance::verify::apply_anchor_time_evidence(report, &confirmed, &context.anchors);
        }
        provenance::verify::attribute_trust(report, &context.anchors);
    }
    let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    // Metadata that cannot be read has already failed the C2PA reading.
    let mut declared = vouch::detect::declared::read_file(path).unwrap_or_default();
    if let Some(c2pa) = &c2pa {
        declared.extend(vouch::detect::declared::from_c2pa(c2pa));
    }
    Ok(FileReport {
        path: path.to_path_buf(),
        path_bytes: report::path_bytes(path),
        link,
        c2pa,
        anchors,
        declared,
        detection: None,
    })
}

/// What one file of a `check` run came to.
enum Checked {
    Record(Box<vouch::check::CheckRecord>),
    Skipped(PathBuf, vouch::walk::SkipReason),
    Error(PathBuf, String),
}

/// One entry of a check run's stream: a file to check, one that is
/// reported as skipped, or a path that could not be walked.
enum Job {
    Check(vouch::walk::FoundFile),
    Skipped(PathBuf, vouch::walk::SkipReason),
    Error(media::InputError),
}

/// Files per parallel round: enough to keep every core busy, few enough
/// that a run over millions of files holds only a handful in memory.
const CHECK_CHUNK: usize = 256;

pub fn check(a: CheckArgs) -> Result<Outcome> {
    use vouch::check::{self as checks, LoadedPolicy, Resume};
    let policy = a.policy.as_deref().map(LoadedPolicy::load).transpose()?;
    let mut roots = a.trust.roots.clone();
    if let Some(policy) = &policy {
        roots.extend(policy.rules.trusted_roots.iter().cloned());
    }
    let public_trust = !a.trust.no_public_trust && policy.as_ref().is_none_or(|p| p.rules.public_trust);
    let mut context = verify_context(&roots, a.trust.identity.clone(), a.trust.allow_remote, public_trust)?;
    context.anchor_time_evidence = policy.as_ref().is_none_or(|p| p.rules.anchor_time_evidence);
    let min_confirmations =
        a.chain.confirmations.max(policy.as_ref().and_then(|p| p.rules.min_confirmations).unwrap_or(0));
    let chain = chain_data(&a.chain, min_confirmations)?;
    let format = match (&a.resume, if a.json { Some(CheckFormat::Json) } else { a.format }) {
        (Some(_), None | Some(CheckFormat::Json)) => CheckFormat::Json,
        (Some(_), Some(other)) => {
            anyhow::bail!(
                "--resume writes JSON Lines: --format {} cannot be resumed (use --format json)",
                format!("{other:?}").to_lowercase()
            )
        }
        (None, format) => format.unwrap_or(CheckFormat::Text),
    };
    let resume = a.resume.as_deref().map(Resume::load).transpose()?.unwrap_or_default();
    let mut sink = CheckSink::open(format, a.out.as_deref(), a.resume.as_deref())?;
    // Records already in the resume file count as if checked in this run:
    // a rerun after a failing run still fails.
    for recorded in resume.standing() {
        sink.count_prior(recorded);
    }
    let mut detector = if a.detect || a.faces || policy.as_ref().is_some_and(|p| p.needs_detection()) {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Some(detect::detector(&a.model, a.faces, &a.face_model, vouch::detect::Options::default(), threads)?)
    } else {
        None
    };

    // Files the policy leaves out, and what the walk could not take, are
    // reported as skipped: a check never drops a file without a word.
    let selected = vouch::walk::walk(a.paths.clone()).filter_map(|walked| match walked {
        Ok(vouch::walk::Walked::File(file)) => {
            if a.shard.is_some_and(|s| !s.takes(&file.path)) || resume.is_done(&file.path) {
                None
            } else if policy.as_ref().is_some_and(|p| !p.selects(&file.path)) {
                Some(Job::Skipped(file.path, vouch::walk::SkipReason::Excluded))
            } else {
                Some(Job::Check(file))
            }
        }
        Ok(vouch::walk::Walked::Skipped { path, why }) => {
            a.shard.is_none_or(|s| s.takes(&path)).then_some(Job::Skipped(path, why))
        }
        Err(e) => Some(Job::Error(e)),
    });
    // Rows streaming to stdout are their own progress; a report written at
    // the end, or to a file, gets a counter. Never with JSON.
    let quiet = match format {
        CheckFormat::Json => true,
        CheckFormat::Text => a.out.is_none(),
        _ => false,
    };
    let bar = vouch::progress::spinner("checking", quiet);
    let mut chunk = Vec::with_capacity(CHECK_CHUNK);
    let mut selected = selected.peekable();
    while selected.peek().is_some() {
        chunk.clear();
        chunk.extend(selected.by_ref().take(CHECK_CHUNK));
        let results: Vec<Checked> = chunk
            .par_iter()
            .map(|job| {
                let file = match job {
                    Job::Check(file) => file,
                    Job::Skipped(path, why) => return Checked::Skipped(path.clone(), *why),
                    Job::Error(e) => return Checked::Error(e.path().to_path_buf(), e.to_string()),
                };
                let media = match media::Format::from_path(&file.path) {
                    Some(_) => match media::probe(&file.path) {
                        Ok(m) => Some(m),
                        Err(e) => return Checked::Error(file.path.clone(), e.to_string()),
                    },
                    None => None,
                };
                match verify_one(&file.path, media.as_ref(), &[], &context, &chain) {
                    Ok(mut report) => {
                        // A link anywhere above the file counts, not only the file itself.
                        report.link |= file.link;
                        Checked::Record(Box::new(checks::judge(report, policy.as_ref().map(|p| &p.rules))))
                    }
                    Err(e) => Checked::Error(file.path.clone(), one_line(&e)),
                }
            })
            .collect();
        for mut result in results {
            // The detector runs its own pipeline across the cores, one file at a time.
            if let (Some(detector), Checked::Record(record)) = (detector.as_mut(), &mut result) {
                if detect::is_media(&record.report.path) {
                    match detector.detect(&record.report.path) {
                        Ok(mut detection) => {
                            detection.declare(record.report.declared.clone());
                            checks::judge_synthetic(record, &detection, policy.as_ref().map(|p| &p.rules));
                            record.report.detection = Some(detection);
                        }
                        Err(e) => result = Checked::Error(record.report.path.clone(), e.to_string()),
                    }
                }
            }
            bar.inc(1);
            sink.push(result)?;
        }
    }
    bar.finish_and_clear();
    sink.finish()
}

/// Where `check` results go: streamed (text, JSON Lines) or gathered into
/// compact rows for the reports that need the whole run (JUnit, SARIF, HTML).
struct CheckSink {
    format: CheckFormat,
    out: Box<dyn Write>,
    staged: Option<vouch::fsx::StagedFile>,
    colour: bool,
    rows: Vec<report::Row>,
    tally: report::Tally,
    outcome: Outcome,
}

impl CheckSink {
    fn open(format: CheckFormat, out: Option<&Path>, resume: Option<&Path>) -> Result<Self> {
        use std::io::IsTerminal;
        let (out, staged): (Box<dyn Write>, _) = match (resume, out) {
            (Some(path), _) => (Box::new(open_for_append(path)?), None),
            (None, Some(path)) => {
                let mut staged = vouch::fsx::StagedFile::new(path).with_context(|| path.display().to_string())?;
                staged.set_mode(0o644).with_context(|| path.display().to_string())?;
                let file = staged.file().try_clone().with_context(|| path.display().to_string())?;
                (Box::new(std::io::BufWriter::new(file)), Some(staged))
            }
            (None, None) => (Box::new(std::io::stdout().lock()), None),
        };
        let colour = out_is_stdout(resume, staged.is_some())
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none();
        Ok(Self {
            format,
            out,
            staged,
            colour,
            rows: Vec::new(),
            tally: report::Tally::default(),
            outcome: Outcome::Passed,
        })
    }

    fn push(&mut self, result: Checked) -> Result<()> {
        use vouch::check::Verdict;
        match result {
            Checked::Record(record) => {
                self.tally.add(record.verdict);
                if record.verdict == Verdict::Fail {
                    self.outcome = self.outcome.max(Outcome::CheckFailed);
                }
                match self.format {
                    CheckFormat::Text => self.write_line(&report::check_text(&record, self.colour))?,
                    CheckFormat::Json => self.write_line(&report::json_line(&*record))?,
                    _ => {
                        let mut row = report::Row::from_record(&record);
                        if let Some(d) = &record.report.detection {
                            let points = d.frames.iter().filter_map(|f| Some((f.time_s as f32, f.score?))).collect();
                            // The line that decided: the policy's maximum or the model's own.
                            row.timeline = Some((points, record.synthetic_line.unwrap_or(d.band().flag_at())));
                        }
                        if self.format == CheckFormat::Html {
                            row.thumbnail = media::thumbnail_data_uri(&record.report.path, 96);
                        }
                        self.rows.push(row);
                    }
                }
            }
            Checked::Skipped(path, why) => {
                self.tally.skipped += 1;
                match self.format {
                    CheckFormat::Json => {
                        let mut record = serde_json::json!({ "path": path.to_string_lossy(), "skipped": why.as_str() });
                        if let Some(bytes) = report::path_bytes(&path) {
                            record["path_bytes"] = bytes.into();
                        }
                        self.write_line(&record.to_string())?
                    }
                    CheckFormat::Text => {
                        self.write_line(&format!("SKIP  {}  ({})", report::printable(&path), why.as_str()))?
                    }
                    CheckFormat::Junit => self.rows.push(report::Row::from_skip(&path, why.as_str())),
                    _ => {}
                }
            }
            Checked::Error(path, message) => {
                let message = vouch::redact::text(&message);
                eprintln!("vouch: error: {}", report::printable_str(&message));
                self.tally.errors += 1;
                self.outcome = Outcome::Error;
                match self.format {
                    CheckFormat::Json => self.write_line(&report::json_line(&ErrorRecord::new(&path, message)))?,
                    CheckFormat::Text => {}
                    _ => self.rows.push(report::Row::from_error(&path, &message)),
                }
            }
        }
        Ok(())
    }

    fn count_prior(&mut self, recorded: vouch::check::Recorded) {
        use vouch::check::{Recorded, Verdict};
        match recorded {
            Recorded::Verdict(verdict) => {
                self.tally.add(verdict);
                if verdict == Verdict::Fail {
                    self.outcome = self.outcome.max(Outcome::CheckFailed);
                }
            }
            Recorded::Skipped => self.tally.skipped += 1,
            Recorded::Error => {}
        }
    }

    fn write_line(&mut self, line: &str) -> Result<()> {
        match writeln!(self.out, "{line}").and_then(|()| self.out.flush()) {
            Ok(()) => Ok(()),
            // A closed pipe (`vouch check … | head`) ends the output, not the run.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => Err(e).context("cannot write the report"),
        }
    }

    fn finish(mut self) -> Result<Outcome> {
        let body = match self.format {
            CheckFormat::Text => Some(report::tally_text(&self.tally)),
            // JSON Lines stay pure; the summary goes to stderr.
            CheckFormat::Json => Some(report::tally_text(&self.tally)),
            CheckFormat::Junit => Some(report::junit(&self.rows, &self.tally)),
            CheckFormat::Sarif => Some(report::sarif(&self.rows)),
            CheckFormat::Html => {
                let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                Some(report::check_html(&self.rows, &self.tally, "vouch check", &now))
            }
        };
        if let Some(body) = body {
            match self.format {
                CheckFormat::Text if self.staged.is_none() => eprintln!("{body}"),
                CheckFormat::Json => eprintln!("{body}"),
                _ => self.write_line(body.trim_end())?,
            }
        }
        match self.out.flush() {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e).context("cannot write the report"),
            _ => {}
        }
        drop(self.out);
        if let Some(staged) = self.staged {
            staged.commit(true).context("cannot write the report")?;
        }
        Ok(self.outcome)
    }
}

fn out_is_stdout(resume: Option<&Path>, staged: bool) -> bool {
    resume.is_none() && !staged
}

/// Opens a JSON Lines file to append to, first cutting a torn last line
/// (from a run killed mid-write) so every line stays one whole record.
fn open_for_append(path: &Path) -> Result<std::fs::File> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)
        .with_context(|| path.display().to_string())?;
    let len = file.metadata().with_context(|| path.display().to_string())?.len();
    if len > 0 {
        let tail_len = len.min(1 << 20);
        let mut tail = vec![0; tail_len as usize];
        file.seek(SeekFrom::Start(len - tail_len)).and_then(|_| file.read_exact(&mut tail))?;
        if tail.last() != Some(&b'\n') {
            let keep = tail.iter().rposition(|&b| b == b'\n').map_or(len - tail_len, |i| len - tail_len + i as u64 + 1);
            file.set_len(keep).with_context(|| path.display().to_string())?;
        }
    }
    Ok(file)
}

pub fn inspect(a: InspectArgs) -> Result<Outcome> {
    let context = verify_context(&a.trust, None, a.allow_remote, true)?;
    let mut outcome = Outcome::Passed;
    // One file's trouble is reported and the others are still inspected.
    for path in &a.files {
        let result = if path.extension().is_some_and(|e| e == "ots") {
            inspect_ots(&a, path)
        } else {
            inspect_media(&a, path, &context.c2pa)
        };
        match result {
            Ok(o) => outcome = outcome.max(o),
            Err(e) => {
                Printer::new(a.json).error(path, &one_line(&e));
                outcome = Outcome::Error;
            }
        }
    }
    Ok(outcome)
}

fn inspect_media(a: &InspectArgs, path: &Path, context: &provenance::Validator) -> Result<Outcome> {
    let file = media::probe(path)?;
    let mut printer = Printer::new(a.json);
    if a.crjson {
        return inspect_crjson(&file, context, printer);
    }
    match provenance::inspect::inspect_file(&file, context)? {
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

/// The crJSON of one file on stdout; a file without credentials prints
/// nothing there (a rubric cannot be run on it) and is said on stderr.
fn inspect_crjson(file: &media::MediaFile, context: &provenance::Validator, mut printer: Printer) -> Result<Outcome> {
    match provenance::inspect::crjson_file(file, context)? {
        Some(crjson) => printer.line(&serde_json::to_string_pretty(&crjson)?),
        None => {
            eprintln!("vouch: {}: no Content Credentials", report::printable_str(&file.path.display().to_string()));
            return Ok(Outcome::CheckFailed);
        }
    }
    Ok(printer.outcome)
}

/// Commits one batch to the chain the flags name; one result per file.
fn anchor_batch(
    backend: AnchorBackend,
    t: &AnchorTargetArgs,
    batch: &[anchor::stamp::BatchFile],
    force: bool,
) -> Result<Vec<Result<anchor::stamp::Anchored, anchor::AnchorError>>> {
    use anchor::stamp::{self, CalendarClient};
    let timeout = std::time::Duration::from_secs(t.timeout);
    Ok(match backend {
        AnchorBackend::Evm => {
            let key = anchor::evm::EvmKey::from_env(t.key_env.as_deref().unwrap_or_default())?;
            let target = anchor::evm::EvmTarget {
                rpc: t.rpc.clone().unwrap_or_default(),
                chain_id: t.chain_id,
                confirmations: t.confirmations,
                timeout,
            };
            anchor::evm::anchor_evm(batch, &target, &key, force)?
        }
        AnchorBackend::Ots => {
            let calendars: Vec<String> = if t.calendar.is_empty() {
                stamp::DEFAULT_CALENDARS.iter().map(|c| c.to_string()).collect()
            } else {
                t.calendar.clone()
            };
            let min_calendars = t.min_calendars.unwrap_or(calendars.len().min(2));
            stamp::anchor_ots(batch, &calendars, min_calendars, &CalendarClient::new(timeout), force)?
        }
    })
}

pub fn watch(a: WatchArgs) -> Result<Outcome> {
    watch::watch(a)
}

pub fn anchor(a: AnchorArgs) -> Result<Outcome> {
    use anchor::stamp::{self, CalendarClient};
    if let Some(AnchorCommand::Upgrade { receipts, calendar, bitcoin, timeout, json }) = a.command {
        let timeout = std::time::Duration::from_secs(timeout);
        let client = CalendarClient::new(timeout);
        let allowed = stamp::CalendarAllowList::with(&calendar)?;
        let headers = bitcoin_headers(&bitcoin, timeout)?;
        let mut printer = Printer::new(json);
        for receipt in &receipts {
            match stamp::upgrade(receipt, &client, &allowed, &headers) {
                Ok(upgraded) => {
                    let outcome = if upgraded.complete { Outcome::Passed } else { Outcome::CheckFailed };
                    printer.record(&upgraded, report::upgrade_text, outcome);
                }
                Err(e) => printer.error(receipt, &e),
            }
        }
        return Ok(printer.outcome);
    }
    let mut printer = Printer::new(a.json);
    let paths: Vec<PathBuf> = all_files(&a.paths, &mut printer).into_iter().map(|f| f.path).collect();
    printer.say_skips();
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
    let results = anchor_batch(a.to.unwrap_or(AnchorBackend::Ots), &a.target, &batch, a.force)?;
    for (file, result) in batch.iter().zip(results) {
        match result {
            Ok(anchored) => printer.record(&anchored, report::anchored_text, Outcome::Passed),
            Err(e) => printer.error(&file.path, &e),
        }
    }
    Ok(printer.outcome)
}

fn inspect_ots(a: &InspectArgs, path: &Path) -> Result<Outcome> {
    let proof = anchor::read_ots(path)?;
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
            "path": path.to_string_lossy(),
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

pub fn generate(command: GenerateCommand) -> Result<Outcome> {
    match command {
        GenerateCommand::Man { out } => {
            use clap::CommandFactory;
            std::fs::create_dir_all(&out).with_context(|| format!("{}: cannot create", out.display()))?;
            write_man_pages(&Cli::command(), &out, "vouch")?;
            let path = out.join("vouch-policy.5");
            vouch::fsx::write_atomic(&path, policy_man_page().as_bytes(), Some(0o644), true)
                .with_context(|| format!("{}", path.display()))?;
        }
    }
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
