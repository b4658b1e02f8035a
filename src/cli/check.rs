//! `vouch check`: one verdict per file against an optional policy, streamed
//! as text or JSON Lines or gathered into JUnit, SARIF or HTML.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use rayon::prelude::*;
use vouch::media;
use vouch::report;
use vouch::results::ErrorRecord;

use super::args::{CheckArgs, CheckFormat};
use super::detect;
use super::setup::{chain_data, verifier};
use super::{one_line, Outcome};

/// What one file of a `check` run came to.
enum Checked {
    /// A judged file, with its thumbnail (or why it has none) when the
    /// report is HTML.
    Record(Box<vouch::check::CheckRecord>, Option<Result<vouch::thumbnail::Thumbnail, String>>),
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
    let policy = a
        .policy
        .as_deref()
        .map(|path| {
            LoadedPolicy::load(path).map_err(|e| match e {
                vouch::check::CheckError::Io { path, source } => super::setup::not_found_as("--policy", &path, source),
                e => e.into(),
            })
        })
        .transpose()?;
    // Rubrics are read before any file: a bad one is a usage error.
    let rubrics = a
        .rubric
        .iter()
        .map(|path| {
            vouch::rubric::Rubric::load(path).map_err(|e| match e {
                vouch::rubric::RubricError::Io { path, source } => {
                    super::setup::not_found_as("--rubric", &path, source)
                }
                e => anyhow::anyhow!("--rubric: {e}"),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut roots: Vec<_> = super::setup::trust_roots(&a.trust.roots)?;
    if let Some(policy) = &policy {
        roots.extend(policy.trusted_roots());
    }
    let public_trust = !a.trust.no_public_trust && policy.as_ref().is_none_or(|p| p.rules.public_trust);
    let min_confirmations =
        a.chain.confirmations.max(policy.as_ref().and_then(|p| p.rules.min_confirmations).unwrap_or(0));
    let chain = chain_data(&a.chain, min_confirmations)?;
    let mut verifier = verifier(&roots, a.trust.identity.clone(), a.trust.allow_remote, public_trust, chain)?;
    verifier.anchor_time_evidence = policy.as_ref().is_none_or(|p| p.rules.anchor_time_evidence);
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
                match verifier.file(&file.path, media.as_ref(), &[]) {
                    Ok(mut report) => {
                        // A link anywhere above the file counts, not only the file itself.
                        report.link |= file.link;
                        // Pictures only for the HTML report, made here on the
                        // pool, one chunk's worth held at a time.
                        let thumbnail = (format == CheckFormat::Html).then(|| thumbnail(&file.path));
                        let mut record = checks::judge(report, policy.as_ref().map(|p| &p.rules));
                        checks::judge_rubrics(&mut record, &rubrics);
                        Checked::Record(Box::new(record), thumbnail)
                    }
                    Err(e) => Checked::Error(file.path.clone(), one_line(&e.into())),
                }
            })
            .collect();
        for mut result in results {
            // The detector runs its own pipeline across the cores, one file at a time.
            if let (Some(detector), Checked::Record(record, _)) = (detector.as_mut(), &mut result) {
                match vouch::verify::detect(&record.report, detector) {
                    Ok(Some(detection)) => {
                        checks::judge_synthetic(record, &detection, policy.as_ref().map(|p| &p.rules));
                        record.report.detection = Some(detection);
                    }
                    Ok(None) => {}
                    Err(e) => result = Checked::Error(record.report.path.clone(), e.to_string()),
                }
            }
            bar.inc(1);
            sink.push(result)?;
        }
    }
    bar.finish_and_clear();
    sink.finish()
}

/// A file's thumbnail for the HTML report, or why it has none (the card
/// names the file, so the reason does not repeat its path).
pub(super) fn thumbnail(path: &Path) -> Result<vouch::thumbnail::Thumbnail, String> {
    vouch::thumbnail::thumbnail(path).map_err(|e| {
        let message = e.to_string();
        let prefix = format!("{}: ", path.display());
        message.strip_prefix(&prefix).map(str::to_string).unwrap_or(message)
    })
}

/// Where `check` results go: streamed (text, JSON Lines, HTML cards) or
/// gathered into compact rows for the reports that need the whole run
/// (JUnit, SARIF).
struct CheckSink {
    format: CheckFormat,
    out: Box<dyn Write>,
    staged: Option<vouch::fsx::StagedFile>,
    colour: bool,
    rows: Vec<report::Row>,
    html: Option<report::HtmlReport>,
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
            // `--quiet`: nothing on stdout; a report to a file is still written.
            (None, None) if super::verbosity() == super::Verbosity::Quiet => (Box::new(std::io::sink()), None),
            (None, None) => (Box::new(std::io::stdout().lock()), None),
        };
        let colour = out_is_stdout(resume, staged.is_some())
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none();
        let html = (format == CheckFormat::Html)
            .then(|| {
                let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                report::HtmlReport::new("vouch check", &now).context("cannot write the report")
            })
            .transpose()?;
        Ok(Self {
            format,
            out,
            staged,
            colour,
            rows: Vec::new(),
            html,
            tally: report::Tally::default(),
            outcome: Outcome::Passed,
        })
    }

    fn push(&mut self, result: Checked) -> Result<()> {
        use vouch::check::Verdict;
        match result {
            Checked::Record(record, thumbnail) => {
                self.tally.add(record.verdict);
                if record.verdict == Verdict::Fail {
                    self.outcome = self.outcome.max(Outcome::CheckFailed);
                }
                match self.format {
                    CheckFormat::Text => self.write_line(&report::check_text(&record, self.colour))?,
                    CheckFormat::Json => self.write_line(&report::json_line(&*record))?,
                    CheckFormat::Html => {
                        let mut row = report::Row::from_record(&record);
                        row.thumbnail = thumbnail;
                        self.card(&row)?;
                    }
                    CheckFormat::Junit | CheckFormat::Sarif => self.rows.push(report::Row::from_record(&record)),
                }
            }
            Checked::Skipped(path, why) => {
                self.tally.skipped += 1;
                match self.format {
                    CheckFormat::Json => {
                        let mut record = serde_json::json!({ "path": path.to_string_lossy(), "skipped": why.as_str() });
                        if let Some(bytes) = vouch::results::path_bytes(&path) {
                            record["path_bytes"] = bytes.into();
                        }
                        self.write_line(&record.to_string())?
                    }
                    CheckFormat::Text => {
                        self.write_line(&format!("SKIP  {}  ({})", report::printable(&path), why.as_str()))?
                    }
                    CheckFormat::Junit => self.rows.push(report::Row::from_skip(&path, why.as_str())),
                    CheckFormat::Html => {
                        if let Some(html) = self.html.as_mut() {
                            html.skipped(&report::printable(&path), why.as_str()).context("cannot write the report")?;
                        }
                    }
                    CheckFormat::Sarif => {}
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
                    CheckFormat::Html => self.card(&report::Row::from_error(&path, &message))?,
                    CheckFormat::Junit | CheckFormat::Sarif => self.rows.push(report::Row::from_error(&path, &message)),
                }
            }
        }
        Ok(())
    }

    fn card(&mut self, row: &report::Row) -> Result<()> {
        if let Some(html) = self.html.as_mut() {
            html.card(row).context("cannot write the report")?;
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
            // A text report written to a file ends with its summary too.
            CheckFormat::Text if self.staged.is_some() => Some(report::tally_text(&self.tally)),
            // JSON Lines stay pure; the summary goes to stderr.
            CheckFormat::Text | CheckFormat::Json => None,
            CheckFormat::Junit => Some(report::junit(&self.rows, &self.tally)),
            CheckFormat::Sarif => Some(report::sarif(&self.rows)),
            CheckFormat::Html => {
                if let Some(html) = self.html.take() {
                    match html.finish(&self.tally, &mut self.out) {
                        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                            return Err(e).context("cannot write the report")
                        }
                        _ => {}
                    }
                }
                None
            }
        };
        if let Some(body) = body {
            self.write_line(body.trim_end())?;
        }
        match self.out.flush() {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e).context("cannot write the report"),
            _ => {}
        }
        drop(self.out);
        if let Some(staged) = self.staged {
            staged.commit(true).context("cannot write the report")?;
        }
        // The run's last word, whatever the format and wherever the report went.
        eprintln!("{}", report::tally_text(&self.tally));
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
