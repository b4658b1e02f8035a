//! `vouch sign`: sign media files with the identity, into a folder, in
//! place or as sidecars.

use std::path::Path;

use anyhow::{Context as _, Result};
use rayon::prelude::*;
use vouch::fsx::StagedFile;
use vouch::identity;
use vouch::media::MediaFile;
use vouch::provenance::signed_index::{Existing, SignedIndex, Unchanged};
use vouch::provenance::{self, SignOptions, SignOutput};
use vouch::report;

use super::args::SignArgs;
use super::inputs::media_inputs;
use super::setup::{identity_dir, passphrase};
use super::{one_line, Outcome, Printer};

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
    let tsa = super::setup::tsa(a.tsa, &id_dir)?;
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

    super::detail(&format!(
        "signing as {} (identity {})",
        report::printable_str(&id.summary.signer.subject),
        report::printable(&id_dir)
    ));
    let mut printer = Printer::new(a.json).summarising_also(&["signed"], &["unchanged"], "failed");
    let files = media_inputs(&a.paths, &mut printer);
    printer.say_skips();
    check_output_collisions(&files, &options.output)?;
    // Into a folder, a re-run signs only what is new or was --force'd.
    let mut index = match &options.output {
        SignOutput::Dir(dir) => Some(SignedIndex::open(dir)?),
        _ => None,
    };
    let bar = vouch::progress::bar(files.len() as u64, "signing", a.json);
    let overwrite = options.force || matches!(options.output, SignOutput::InPlace);
    // Signed in batches: each batch's files are staged on the thread pool,
    // then flushed to disk together and renamed into place (one flush per
    // batch instead of one per file, which on a busy disk cost more than
    // signing), then reported, and the index saved. A batch is committed on
    // a thread of its own while the next one is signed: the flush waits on
    // the disk, and the cores would otherwise wait with it. The signers
    // look outputs up in the index as it was when the run began (no two
    // inputs of a run share an output, so none needs an entry this run
    // adds); the committer records into its own copy and saves it after
    // each batch, before the next batch is committed.
    let lookup = index.clone();
    std::thread::scope(|scope| -> Result<()> {
        let mut pending: Option<Committing> = None;
        for batch in files.chunks(COMMIT_BATCH) {
            let mut results: Vec<Result<Signing>> = batch
                .par_iter()
                .map(|file| {
                    let result = sign_one(file, lookup.as_ref(), signer.as_ref(), &context, &options);
                    bar.inc(1);
                    result
                })
                .collect();
            if let Some(committing) = pending.take() {
                index = report_batch(committing, &mut printer)?;
            }
            // The staged outputs go to the committer with their index entries.
            let (mut positions, mut staged, mut entries) = (Vec::new(), Vec::new(), Vec::new());
            for (i, (file, result)) in batch.iter().zip(&mut results).enumerate() {
                let Ok(Signing::Signed { signed, staged: output }) = result else { continue };
                let Some(output) = output.take() else { continue };
                positions.push(i);
                staged.push(output);
                entries.push((
                    file.relative.clone(),
                    hex::encode(signed.digests.input),
                    hex::encode(signed.digests.output),
                ));
            }
            let mut writable = index.take();
            let commit = scope.spawn(move || {
                let committed = vouch::fsx::commit_many(staged, overwrite);
                // Only what is in place is recorded.
                if let Some(index) = writable.as_mut() {
                    for ((relative, input, output), result) in entries.into_iter().zip(&committed) {
                        if result.is_ok() {
                            index.record(&relative, input, output);
                        }
                    }
                }
                let saved = writable.as_ref().map_or(Ok(()), SignedIndex::save);
                Committed { committed: positions.into_iter().zip(committed).collect(), index: writable, saved }
            });
            pending = Some(Committing { batch, results, commit });
        }
        if let Some(committing) = pending.take() {
            index = report_batch(committing, &mut printer)?;
        }
        Ok(())
    })?;
    // Each batch's commit saved the index with it.
    bar.finish_and_clear();
    Ok(printer.finish())
}

/// A signed batch whose outputs are being committed.
struct Committing<'scope, 'files> {
    batch: &'files [MediaFile],
    results: Vec<Result<Signing>>,
    commit: std::thread::ScopedJoinHandle<'scope, Committed>,
}

/// What committing a batch came to: per staged output (by its position in
/// the batch), whether it is in place; the index with those recorded, and
/// whether saving it worked.
struct Committed {
    committed: Vec<(usize, std::io::Result<()>)>,
    index: Option<SignedIndex>,
    saved: Result<(), provenance::ProvenanceError>,
}

/// Waits for a batch's commit, reports each of its inputs in order, and
/// hands back the index with the batch recorded.
fn report_batch(committing: Committing<'_, '_>, printer: &mut Printer) -> Result<Option<SignedIndex>> {
    let Committing { batch, mut results, commit } = committing;
    let Committed { committed, index, saved } = super::join(commit);
    for (i, result) in committed {
        if let (Err(e), Ok(Signing::Signed { signed, .. })) = (result, &results[i]) {
            let e = provenance::sign::exists_or_io(&signed.output, e);
            results[i] = Err(e.into());
        }
    }
    for (file, result) in batch.iter().zip(results) {
        match result {
            Ok(Signing::Signed { signed, .. }) => {
                announce_declarations(&signed);
                printer.record(&signed, report::sign_text, Outcome::Passed);
                printer.count("signed");
            }
            Ok(Signing::Unchanged(unchanged)) => {
                printer.record(&unchanged, report::unchanged_text, Outcome::Passed);
                printer.count("unchanged");
            }
            Err(e) => printer.error(&file.path, &one_line(&e)),
        }
    }
    saved?;
    Ok(index)
}

/// Files staged before one flush to disk commits them all.
const COMMIT_BATCH: usize = 128;

/// What signing one input came to.
enum Signing {
    /// Signed now, its output staged (taken when the batch commits).
    Signed { signed: provenance::Signed, staged: Option<StagedFile> },
    /// Its signed copy is already there, made from the same bytes.
    Unchanged(Unchanged),
}

fn sign_one(
    file: &MediaFile,
    index: Option<&SignedIndex>,
    signer: &dyn c2pa::Signer,
    context: &std::sync::Arc<c2pa::Context>,
    options: &SignOptions,
) -> Result<Signing> {
    if let (Some(index), false) = (index, options.force) {
        let dest = provenance::sign::output_path(file, &options.output);
        match index.existing(&file.path, &file.relative, &dest)? {
            Existing::Unchanged => {
                return Ok(Signing::Unchanged(Unchanged { path: file.path.clone(), output: dest, unchanged: true }))
            }
            Existing::Stale => anyhow::bail!(
                "{}: already exists, but {} or the signed copy changed since it was signed (pass --force to re-sign)",
                dest.display(),
                file.path.display()
            ),
            Existing::None | Existing::Other => {}
        }
    }
    // The index records the digests signing took: of the input bytes it
    // signed, so an input that changes meanwhile is not called unchanged
    // next time.
    let (signed, staged) = provenance::sign::sign_staged(file, signer, context, options)?;
    Ok(Signing::Signed { signed, staged: Some(staged) })
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
                super::say(&format!("note: {}", report::printable_str(&line)));
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
