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
    let verify_chunk = |chunk: &[(PathBuf, Option<MediaFile>)]| -> Vec<Result<FileReport, VerifyError>> {
        chunk
            .par_iter()
            .map(|(path, media)| {
                let result = verifier.file(path, media.as_ref(), &a.receipt);
                bar.inc(1);
                result
            })
            .collect()
    };
    // Files are verified a chunk at a time, so a folder of any size holds
    // one chunk's records at once; each chunk is written out while the pool
    // verifies the next, so writing the records never leaves a core idle.
    std::thread::scope(|scope| {
        let mut chunks = jobs.chunks(VERIFY_CHUNK);
        let Some(first) = chunks.next() else { return };
        let mut in_flight = (first, scope.spawn(|| verify_chunk(first)));
        for next in chunks {
            let (done, handle) = std::mem::replace(&mut in_flight, (next, scope.spawn(|| verify_chunk(next))));
            write_records(&mut printer, done, super::join(handle));
        }
        let (done, handle) = in_flight;
        write_records(&mut printer, done, super::join(handle));
    });
    bar.finish_and_clear();
    Ok(printer.finish())
}

/// Files verified on the pool at a time: enough to keep every core busy
/// between two writes, few enough that the records held stay small.
const VERIFY_CHUNK: usize = 256;

/// Each verified file's record (or error) in input order, and its count.
fn write_records(
    printer: &mut Printer,
    jobs: &[(PathBuf, Option<MediaFile>)],
    results: Vec<Result<FileReport, VerifyError>>,
) {
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
}

/// The file a receipt named on the command line covers: `x.jpg` for
/// `x.jpg.ots` or `x.jpg.anchor.json`.
fn receipt_subject(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let subject = name.strip_suffix(".ots").or_else(|| name.strip_suffix(".anchor.json"))?;
    (!subject.is_empty()).then(|| path.with_file_name(subject))
}
