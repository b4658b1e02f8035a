//! `vouch anchor`: commit files to a chain in one batch (OpenTimestamps
//! calendars or an EVM transaction), and `anchor upgrade`.

use std::path::PathBuf;

use anyhow::Result;
use vouch::anchor;
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
