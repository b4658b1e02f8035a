//! `vouch report`: the records of `check` runs (the shards of one archive,
//! say) merged into one report. Two passes over the files: the first checks
//! that every line is a vouch record and finds which line stands for each
//! path (about 30 bytes a path); the second streams those lines to the renderer.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use vouch::check::records::{Index, Outcome as Recorded, RecordFile};
use vouch::check::Verdict;
use vouch::report::{self, Row, Tally};

use super::args::{CheckFormat, ReportArgs};
use super::Outcome;

/// Duplicates named one by one before the rest are only counted.
const DUPLICATES_NAMED: usize = 20;

pub fn report(a: ReportArgs) -> Result<Outcome> {
    // The same file twice would be every path recorded twice: say so plainly.
    let mut named = std::collections::HashMap::new();
    for file in &a.files {
        let id = std::fs::canonicalize(file).unwrap_or_else(|_| file.clone());
        if let Some(first) = named.insert(id, file) {
            anyhow::bail!("{}: named twice (as {} too)", file.display(), first.display());
        }
    }
    let index = Index::build(&a.files)?;
    let mut outcome = Outcome::Passed;
    for duplicate in index.duplicates.iter().take(DUPLICATES_NAMED) {
        let at = |(file, line): (usize, usize)| format!("{} line {line}", a.files[file].display());
        eprintln!(
            "vouch: error: {}: recorded twice, in {} and in {}: the shards overlap",
            report::printable_str(&duplicate.path),
            at(duplicate.first),
            at(duplicate.second)
        );
    }
    if !index.duplicates.is_empty() {
        eprintln!("vouch: {} path(s) recorded more than once; each is counted once", index.duplicates.len());
        outcome = Outcome::Error;
    }

    let mut out = Output::open(a.out.as_deref())?;
    let colour = a.out.is_none() && out_is_terminal();
    let mut tally = Tally::default();
    let mut rows: Vec<Row> = Vec::new();
    // HTML cards are written as they come, failures gathered first at the end.
    let mut html = (a.format == CheckFormat::Html).then(HtmlCards::new).transpose()?;
    for (file, path) in a.files.iter().enumerate() {
        for record in RecordFile::open(path)? {
            let (line_no, line, entry) = record?;
            if !index.stands(file, line_no, &entry) {
                continue;
            }
            match &entry.outcome {
                Recorded::Judged { verdict, reasons } => {
                    tally.add(*verdict);
                    if *verdict == Verdict::Fail {
                        outcome = outcome.max(Outcome::CheckFailed);
                    }
                    match a.format {
                        CheckFormat::Text => {
                            out.line(&report::record_text(&entry.value, &entry.path, *verdict, reasons, colour))?
                        }
                        CheckFormat::Json => out.line(&line)?,
                        CheckFormat::Html => {
                            let row = Row::from_value(&entry.value, &entry.path, *verdict, reasons);
                            // A path that is not UTF-8 is only named lossily in the record.
                            let file = entry.value.get("path_bytes").is_none().then(|| PathBuf::from(&entry.path));
                            if let Some(html) = html.as_mut() {
                                html.judged(row, file)?;
                            }
                        }
                        CheckFormat::Junit | CheckFormat::Sarif => {
                            rows.push(Row::from_value(&entry.value, &entry.path, *verdict, reasons))
                        }
                    }
                }
                Recorded::Skipped(why) => {
                    tally.skipped += 1;
                    match a.format {
                        CheckFormat::Text => {
                            out.line(&format!("SKIP  {}  ({})", report::printable_str(&entry.path), why))?
                        }
                        CheckFormat::Json => out.line(&line)?,
                        CheckFormat::Junit => rows.push(Row::from_skip(Path::new(&entry.path), why)),
                        CheckFormat::Html => {
                            if let Some(html) = html.as_mut() {
                                html.report
                                    .skipped(&report::printable_str(&entry.path), why)
                                    .context("cannot write the report")?;
                            }
                        }
                        CheckFormat::Sarif => {}
                    }
                }
                Recorded::Error(message) => {
                    eprintln!("vouch: error: {}", report::printable_str(message));
                    tally.errors += 1;
                    outcome = Outcome::Error;
                    match a.format {
                        CheckFormat::Json => out.line(&line)?,
                        CheckFormat::Text => {}
                        CheckFormat::Html => {
                            if let Some(html) = html.as_mut() {
                                // Cards keep the records' order: the waiting ones first.
                                html.picture_pending()?;
                                html.report
                                    .card(&Row::from_error(Path::new(&entry.path), message))
                                    .context("cannot write the report")?;
                            }
                        }
                        CheckFormat::Junit | CheckFormat::Sarif => {
                            rows.push(Row::from_error(Path::new(&entry.path), message))
                        }
                    }
                }
            }
        }
    }
    let summary = report::tally_text(&tally);
    match a.format {
        // A text report written to a file ends with its summary too.
        CheckFormat::Text if a.out.is_some() => out.line(&summary)?,
        CheckFormat::Text | CheckFormat::Json => {}
        CheckFormat::Junit => out.line(report::junit(&rows, &tally).trim_end())?,
        CheckFormat::Sarif => out.line(report::sarif(&rows).trim_end())?,
        CheckFormat::Html => {
            if let Some(mut html) = html.take() {
                html.picture_pending()?;
                out.html(html.report, &tally)?;
            }
        }
    }
    out.finish()?;
    // The run's last word, whatever the format and wherever the report went.
    eprintln!("{summary}");
    Ok(outcome)
}

/// Records waiting for their thumbnails before their cards are written.
const THUMBNAIL_CHUNK: usize = 256;

/// The HTML report of a merge: cards written as they come, thumbnails made
/// a chunk at a time on the rayon pool.
struct HtmlCards {
    report: report::HtmlReport,
    /// Judged records and the file each names (`None` when the record names
    /// it only lossily).
    pending: Vec<(Row, Option<PathBuf>)>,
}

impl HtmlCards {
    fn new() -> Result<Self> {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let report = report::HtmlReport::new("vouch report", &now).context("cannot write the report")?;
        Ok(Self { report, pending: Vec::with_capacity(THUMBNAIL_CHUNK) })
    }

    fn judged(&mut self, row: Row, file: Option<PathBuf>) -> Result<()> {
        self.pending.push((row, file));
        if self.pending.len() >= THUMBNAIL_CHUNK {
            self.picture_pending()?;
        }
        Ok(())
    }

    /// Thumbnails for the waiting records, in parallel; then their cards, in order.
    fn picture_pending(&mut self) -> Result<()> {
        use rayon::prelude::*;
        self.pending.par_iter_mut().for_each(|(row, file)| {
            row.thumbnail = Some(match file {
                Some(file) => super::check::thumbnail(file),
                None => Err("the record does not name the file exactly (its path is not UTF-8)".into()),
            });
        });
        for (row, _) in self.pending.drain(..) {
            self.report.card(&row).context("cannot write the report")?;
        }
        Ok(())
    }
}

fn out_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Stdout, or a file written atomically when the report is complete.
struct Output {
    out: Box<dyn Write>,
    staged: Option<vouch::fsx::StagedFile>,
}

impl Output {
    fn open(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else {
            // `--quiet`: nothing on stdout.
            if super::verbosity() == super::Verbosity::Quiet {
                return Ok(Self { out: Box::new(std::io::sink()), staged: None });
            }
            return Ok(Self { out: Box::new(std::io::BufWriter::new(std::io::stdout().lock())), staged: None });
        };
        let mut staged = vouch::fsx::StagedFile::new(path).with_context(|| path.display().to_string())?;
        staged.set_mode(0o644).with_context(|| path.display().to_string())?;
        let file = staged.file().try_clone().with_context(|| path.display().to_string())?;
        Ok(Self { out: Box::new(std::io::BufWriter::new(file)), staged: Some(staged) })
    }

    fn line(&mut self, text: &str) -> Result<()> {
        match writeln!(self.out, "{text}") {
            // A closed pipe (`vouch report … | head`) ends the output, not the run.
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("cannot write the report"),
            _ => Ok(()),
        }
    }

    fn html(&mut self, html: report::HtmlReport, tally: &Tally) -> Result<()> {
        match html.finish(tally, &mut self.out) {
            // A closed pipe (`vouch report … | head`) ends the output, not the run.
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("cannot write the report"),
            _ => Ok(()),
        }
    }

    fn finish(mut self) -> Result<()> {
        match self.out.flush() {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e).context("cannot write the report"),
            _ => {}
        }
        drop(self.out);
        if let Some(staged) = self.staged {
            staged.commit(true).context("cannot write the report")?;
        }
        Ok(())
    }
}
