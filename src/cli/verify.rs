//! `vouch verify`: each file's credentials and receipts, one record per file.

use std::path::{Path, PathBuf};

use anyhow::Result;
use rayon::prelude::*;
use vouch::anchor;
use vouch::media::{self, MediaFile};
use vouch::report;
use vouch::results::FileReport;
use vouch::verify::VerifyError;

use super::args::VerifyArgs;
use super::inputs::all_files;
use super::setup::{chain_data, verifier};
use super::{one_line, Outcome, Printer};

pub fn verify(a: VerifyArgs) -> Result<Outcome> {
    super::setup::reuse_freed_memory();
    let chain = chain_data(&a.chain, a.chain.confirmations)?;
    let roots: Vec<_> = super::setup::trust_roots(&a.trust.roots)?;
    let verifier = verifier(&roots, a.trust.identity, a.trust.allow_remote, !a.trust.no_public_trust, chain)?;
    let mut printer = Printer::new(a.json).summarising(&["passed", "failed"], "could not be verified");
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
            super::detail(&format!(
                "skipped {}: {}",
                report::printable(&file.path),
                vouch::walk::SkipReason::NotMedia.as_str()
            ));
            printer.skips.add(vouch::walk::SkipReason::NotMedia);
        }
    }
    printer.say_skips();
    let bar = vouch::progress::bar(jobs.len() as u64, "verifying", a.json);
    let results: Vec<Result<FileReport, VerifyError>> = jobs
        .par_iter()
        .map(|(path, media)| {
            let result = verifier.file(path, media.as_ref(), &a.receipt);
            bar.inc(1);
            result
        })
        .collect();
    bar.finish_and_clear();
    for ((path, _), result) in jobs.iter().zip(results) {
        match result {
            Ok(report) => {
                let (outcome, word) =
                    if report.passes() { (Outcome::Passed, "passed") } else { (Outcome::CheckFailed, "failed") };
                printer.record(&report, report::verify_text, outcome);
                printer.count(word);
            }
            Err(e) => printer.error(path, &one_line(&e.into())),
        }
    }
    Ok(printer.finish())
}

/// The file a receipt named on the command line covers: `x.jpg` for
/// `x.jpg.ots` or `x.jpg.anchor.json`.
fn receipt_subject(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let subject = name.strip_suffix(".ots").or_else(|| name.strip_suffix(".anchor.json"))?;
    (!subject.is_empty()).then(|| path.with_file_name(subject))
}
