//! `vouch watch`: the capture station's callbacks (sign, anchor, adopt a
//! receipt) around [`vouch::watch::Station`], and what it says on stderr.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};

use anyhow::{Context as _, Result};
use vouch::anchor;
use vouch::media;
use vouch::provenance::{self, SignOptions, SignOutput};
use vouch::report;
use vouch::watch::{Event, SignResult, Staged, Station};

use super::anchor::anchor_batch;
use super::args::{AnchorBackend, WatchArgs};
use super::setup::{identity_dir, passphrase};
use super::{one_line, Outcome, Printer};

/// The signal that asked the station to stop (0: none yet).
static STOP: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    STOP.store(signal, Ordering::SeqCst);
}

/// SIGINT and SIGTERM finish the file in hand, then stop and say what waits.
fn catch_stop_signals() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(signal, on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t);
        }
    }
}

pub fn watch(a: WatchArgs) -> Result<Outcome> {
    let output = match (&a.out_dir, a.in_place) {
        (Some(dir), _) => SignOutput::Dir(dir.clone()),
        (None, true) => SignOutput::InPlace,
        (None, false) => SignOutput::Sidecar,
    };
    let pass = passphrase(&a.passphrase)?;
    let id_dir = identity_dir(a.identity.clone());
    let id = vouch::identity::load(&id_dir, pass.as_ref())?;
    drop(pass);
    let tsa = super::setup::tsa(a.tsa.clone(), &id_dir)?;
    let signer = id.signer(tsa.as_deref())?;
    let context = provenance::context(None, false).context("cannot configure c2pa")?;
    let options = SignOptions {
        output: output.clone(),
        title: None,
        author: None,
        source_type: a.source_type.clone(),
        force: false,
        allow_invalid_parent: a.allow_invalid_parent,
    };
    let mut station = Station::open(&a.dir, a.anchor_every)?;
    station.poll = std::time::Duration::from_secs_f64(a.poll.max(0.01));
    station.settle = std::time::Duration::from_secs_f64(a.settle.max(0.0));
    let watched = std::fs::canonicalize(&a.dir).unwrap_or_else(|_| a.dir.clone());
    let outputs_go = match &output {
        SignOutput::Dir(dir) => {
            // Created now so that it can be canonicalised: an output folder
            // inside the watched one is ignored under any spelling.
            std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
            let canonical = std::fs::canonicalize(dir).with_context(|| dir.display().to_string())?;
            station.ignore.push(canonical.clone());
            format!("signed copies into {}", report::printable(&canonical))
        }
        SignOutput::InPlace => "each capture replaced by its signed version".to_string(),
        SignOutput::Sidecar => "manifests beside the captures (FILE.c2pa)".to_string(),
    };
    let backend = a.to;
    let calendars = super::setup::calendars(&a.target.calendar)?;
    if matches!(backend, Some(super::args::AnchorBackend::Evm)) {
        // Said now, not at the first batch.
        super::setup::evm_rpc(a.target.rpc.as_deref())?;
    }
    let anchoring = match (backend, a.anchor_every) {
        (None, _) => "not anchored (no --to)".to_string(),
        (Some(to), vouch::watch::AnchorEvery::Files(n)) => format!("anchored to {to:?} every {n} file(s)"),
        (Some(to), vouch::watch::AnchorEvery::Interval(t)) => {
            format!("anchored to {to:?} {}s after the oldest waiting file was signed", t.as_secs())
        }
    };
    super::say(&format!(
        "watching {}: {outputs_go}; {}; journal {}",
        report::printable(&watched),
        anchoring.to_lowercase(),
        report::printable(&a.dir.join(vouch::watch::JOURNAL))
    ));
    catch_stop_signals();
    station.stop = Some(&STOP);
    let mut printer = Printer::new(a.json).summarising(&["signed"], "failed");

    let sign = |path: &Path, replace: bool| -> Result<SignResult, String> {
        let mut file = media::probe(path).map_err(|e| e.to_string())?;
        file.relative = path.strip_prefix(&a.dir).unwrap_or(path).to_path_buf();
        // The file that carries the credentials is the one anchored: the
        // signed copy, or the untouched original beside its sidecar.
        let subject = match &output {
            SignOutput::Sidecar => path.to_path_buf(),
            other => provenance::sign::output_path(&file, other),
        };
        let written = provenance::sign::output_path(&file, &output);
        // An output with no record in the journal: from a run of an earlier
        // version, which recorded nothing before its rename.
        if !replace && !matches!(output, SignOutput::InPlace) && written.exists() {
            return Ok(SignResult::AlreadySigned(subject));
        }
        let options = SignOptions { force: replace, ..options.clone() };
        let (signed, staged) =
            provenance::sign::sign_staged(&file, signer.as_ref(), &context, &options).map_err(|e| e.to_string())?;
        let written_sha256 = signed.digests.output;
        let overwrite = replace || matches!(output, SignOutput::InPlace);
        let target = signed.output.clone();
        Ok(SignResult::Staged(Staged {
            subject,
            written: signed.output,
            written_sha256,
            commit: Box::new(move || staged.commit(overwrite).map_err(|e| format!("{}: {e}", target.display()))),
        }))
    };
    let anchor = |files: &[PathBuf]| -> Result<Vec<Result<PathBuf, String>>, String> {
        let Some(backend) = backend else { return Ok(Vec::new()) };
        // A file that cannot be hashed (moved away since it was signed) is
        // its own failure; the rest of the batch is anchored.
        let hashed = anchor::stamp::hash_files(files);
        let batch: Vec<_> = hashed.iter().filter_map(|h| h.as_ref().ok().cloned()).collect();
        let mut anchored = if batch.is_empty() {
            Vec::new()
        } else {
            // The station hands over only files without a receipt that
            // verifies for them: any receipt there is stale and replaced.
            anchor_batch(backend, &a.target, &batch, true).map_err(|e| one_line(&e))?
        }
        .into_iter();
        Ok(hashed
            .into_iter()
            .map(|h| match h {
                Err(e) => Err(e.to_string()),
                Ok(_) => match anchored.next() {
                    Some(result) => result.map(|done| done.receipt).map_err(|e| e.to_string()),
                    None => Err("no result from the anchoring backend".to_string()),
                },
            })
            .collect())
    };
    let receipt_of = |file: &Path| adoptable_receipt(file, backend, &calendars, a.target.chain_id);
    let on_event = |event: Event| match &event {
        // The station's state, for whoever watches it: on stderr.
        Event::AnchoringFailed { .. } | Event::AnchoringResumed | Event::Stopped { .. } => {
            super::say(&report::watch_text(&event));
        }
        Event::Failed { .. } => {
            printer.record(&event, report::watch_text, Outcome::CheckFailed);
            printer.count("failed");
        }
        _ => {
            printer.record(&event, report::watch_text, Outcome::Passed);
            match &event {
                Event::Signed { .. } => printer.summary.add("signed", 1),
                Event::Recovered { .. } => printer.summary.add("recovered", 1),
                Event::Anchored { files, .. } => printer.summary.add("anchored", *files),
                Event::RecoveredReceipts { files } => printer.summary.add("receipts recovered", *files),
                _ => {}
            }
        }
    };
    let idle = a.idle_exit.map(std::time::Duration::from_secs_f64);
    station.anchoring = backend.is_some();
    station.run(sign, anchor, receipt_of, on_event, idle)?;
    Ok(printer.finish())
}

/// The receipt beside `file`, if it is one this station could have written
/// for the file as it is now: its SHA-256, nonce and Merkle path lead to
/// what the receipt commits to, and (OpenTimestamps) a calendar the station
/// uses or Bitcoin attests it, (EVM) on the chain asked for. Anything else
/// (a receipt for an earlier version, a planted one) is not adopted.
fn adoptable_receipt(
    file: &Path,
    backend: Option<AnchorBackend>,
    calendars: &[String],
    chain_id: Option<u64>,
) -> Option<PathBuf> {
    let receipt = match backend? {
        AnchorBackend::Evm => anchor::evm::receipt_path(file),
        AnchorBackend::Ots => anchor::ots_path(file),
    };
    // The rule `anchor` re-runs use: the receipt commits to the file as it is now.
    let Ok(anchor::Standing::Anchored(_)) = anchor::standing(file, &receipt) else { return None };
    let ours = match backend? {
        AnchorBackend::Evm => {
            let parsed = anchor::evm::read_receipt(&receipt).ok()?;
            chain_id.is_none_or(|id| id == parsed.chain_id)
        }
        AnchorBackend::Ots => {
            let proof = anchor::read_ots(&receipt).ok()?;
            let known = |uri: &str| calendars.iter().any(|c| c.trim_end_matches('/') == uri.trim_end_matches('/'));
            proof.attestations().iter().any(|(_, attestation)| match attestation {
                anchor::ots::Attestation::Pending { uri } => known(uri),
                anchor::ots::Attestation::Bitcoin { .. } => true,
                _ => false,
            })
        }
    };
    ours.then_some(receipt)
}
