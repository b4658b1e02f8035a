//! `vouch inspect`: what a file's manifest store or an `.ots` proof holds.

use std::path::Path;

use anyhow::Result;
use vouch::anchor;
use vouch::media;
use vouch::provenance;
use vouch::report;

use super::args::InspectArgs;
use super::setup::verifier;
use super::{one_line, Outcome, Printer};

pub fn inspect(a: InspectArgs) -> Result<Outcome> {
    let roots: Vec<_> = a.trust.iter().map(|r| vouch::trust::RootFile::flag("--trust", r)).collect();
    let verifier = verifier(&roots, None, a.allow_remote, true, Default::default())?;
    let mut printer = Printer::new(a.json).summarising(&["inspected"], "could not be read");
    // One file's trouble is reported and the others are still inspected.
    for path in &a.files {
        let result = if path.extension().is_some_and(|e| e == "ots") {
            inspect_ots(&a, path, &mut printer)
        } else {
            inspect_media(&a, path, verifier.c2pa(), &mut printer)
        };
        if let Err(e) = result {
            printer.error(path, &one_line(&e));
        }
    }
    Ok(printer.finish())
}

fn inspect_media(a: &InspectArgs, path: &Path, context: &provenance::Validator, printer: &mut Printer) -> Result<()> {
    let file = media::probe(path)?;
    if a.crjson {
        return inspect_crjson(&file, context, printer);
    }
    match provenance::inspect::inspect_file(&file, context)? {
        Some(store) if a.json => printer.line(&serde_json::to_string_pretty(&store)?),
        Some(store) => printer.line(report::inspect_text(&store, a.tree).trim_end()),
        None if a.json => printer.line("null"),
        None => {
            printer.line(&format!("{}: no Content Credentials", file.path.display()));
            printer.outcome = printer.outcome.max(Outcome::CheckFailed);
            printer.count("without Content Credentials");
            return Ok(());
        }
    }
    printer.count("inspected");
    Ok(())
}

/// The crJSON of one file on stdout; a file without credentials prints
/// nothing there (a rubric cannot be run on it) and is said on stderr.
fn inspect_crjson(file: &media::MediaFile, context: &provenance::Validator, printer: &mut Printer) -> Result<()> {
    match provenance::inspect::crjson_file(file, context)? {
        Some(crjson) => printer.line(&serde_json::to_string_pretty(&crjson)?),
        None => {
            eprintln!("vouch: {}: no Content Credentials", report::printable_str(&file.path.display().to_string()));
            printer.outcome = printer.outcome.max(Outcome::CheckFailed);
            printer.count("without Content Credentials");
            return Ok(());
        }
    }
    printer.count("inspected");
    Ok(())
}

fn inspect_ots(a: &InspectArgs, path: &Path, printer: &mut Printer) -> Result<()> {
    let proof = anchor::read_ots(path)?;
    let cid = <[u8; 32]>::try_from(proof.file_digest.as_slice())
        .ok()
        .filter(|_| proof.file_hash_op == anchor::ots::HashOp::Sha256)
        .map(|digest| anchor::digest::ipfs_cid(&digest));
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
    printer.count("inspected");
    Ok(())
}
