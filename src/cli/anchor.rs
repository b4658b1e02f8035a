//! `vouch anchor`: commit files to a chain in one batch (OpenTimestamps
//! calendars or an EVM transaction), and `anchor upgrade`.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Result;
use vouch::anchor::{self, Standing};
use vouch::report;

use super::args::{AnchorArgs, AnchorBackend, AnchorCommand, AnchorTargetArgs};
use super::inputs::all_files;
use super::setup::bitcoin_headers;
use super::{Outcome, Printer};

/// Commits one batch to the chain the flags name; one result per file.
pub(crate) fn anchor_batch(
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
                rpc: super::setup::evm_rpc(t.rpc.as_deref())?,
                chain_id: t.chain_id,
                confirmations: t.confirmations,
                timeout,
            };
            anchor::evm::anchor_evm(batch, &target, &key, force)?
        }
        AnchorBackend::Ots => {
            let calendars = super::setup::calendars(&t.calendar)?;
            let min_calendars = t.min_calendars.unwrap_or(calendars.len().min(2));
            stamp::anchor_ots(batch, &calendars, min_calendars, &CalendarClient::new(timeout), force)?
        }
    })
}

pub fn anchor(a: AnchorArgs) -> Result<Outcome> {
    use anchor::stamp::{self, CalendarClient};
    if let Some(AnchorCommand::Upgrade { receipts, calendar, bitcoin, timeout, json }) = a.command {
        let timeout = std::time::Duration::from_secs(timeout);
        let client = CalendarClient::new(timeout);
        let calendar = if calendar.is_empty() { super::setup::config()?.calendars.clone() } else { calendar };
        let allowed = stamp::CalendarAllowList::with(&calendar)?;
        let headers = bitcoin_headers(&bitcoin, timeout)?;
        let mut printer = Printer::new(json).summarising(&["complete"], "failed");
        for receipt in &receipts {
            match stamp::upgrade(receipt, &client, &allowed, &headers) {
                Ok(upgraded) => {
                    let (outcome, word) = if upgraded.complete {
                        (Outcome::Passed, "complete")
                    } else {
                        (Outcome::CheckFailed, "still pending")
                    };
                    printer.record(&upgraded, report::upgrade_text, outcome);
                    printer.count(word);
                }
                Err(e) => printer.error(receipt, &e),
            }
        }
        return Ok(printer.finish());
    }
    let mut printer = Printer::new(a.json).summarising_also(&["anchored"], &["already anchored"], "failed");
    let backend = a.to.unwrap_or(AnchorBackend::Ots);
    let mut paths: Vec<PathBuf> = Vec::new();
    // Receipts replaced because their file changed, kept as `FILE.ots.1`
    // once the new receipt is written.
    let mut replaced: HashMap<PathBuf, Vec<u8>> = HashMap::new();
    for file in all_files(&a.paths, &mut printer) {
        let receipt = match backend {
            AnchorBackend::Evm => anchor::evm::receipt_path(&file.path),
            AnchorBackend::Ots => anchor::ots_path(&file.path),
        };
        if a.force {
            paths.push(file.path);
            continue;
        }
        match anchor::standing(&file.path, &receipt) {
            Ok(Standing::Unanchored) => paths.push(file.path),
            Ok(Standing::Anchored(found)) => {
                let already = anchor::stamp::AlreadyAnchored {
                    path: file.path,
                    receipt,
                    state: found.state,
                    already_anchored: true,
                };
                printer.record(&already, report::already_anchored_text, Outcome::Passed);
                printer.count("already anchored");
            }
            Ok(Standing::Changed { old_receipt }) => {
                replaced.insert(file.path.clone(), old_receipt);
                paths.push(file.path);
            }
            Err(e) => printer.error(&receipt, &e),
        }
    }
    printer.say_skips();
    if printer.outcome == Outcome::Error {
        // A batch is one commitment: anchoring part of what was asked for
        // would leave the user guessing which files are covered.
        anyhow::bail!("nothing was anchored");
    }
    if paths.is_empty() {
        return Ok(printer.finish());
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
    // The receipts of changed files are replaced; their old bytes are kept.
    let force = a.force || !replaced.is_empty();
    let results = anchor_batch(backend, &a.target, &batch, force)?;
    for (file, result) in batch.iter().zip(results) {
        match result {
            Ok(anchored) => {
                if let Some(old) = replaced.get(&file.path) {
                    match anchor::keep_replaced(&anchored.receipt, old) {
                        Ok(kept) => super::say(&format!(
                            "{}: its content changed since it was anchored; the earlier receipt is kept as {}",
                            report::printable(&file.path),
                            report::printable(&kept)
                        )),
                        Err(e) => {
                            printer.error(&file.path, &e);
                            continue;
                        }
                    }
                }
                printer.record(&anchored, report::anchored_text, Outcome::Passed);
                printer.count("anchored");
            }
            Err(e) => printer.error(&file.path, &e),
        }
    }
    Ok(printer.finish())
}
