//! Anchoring to public chains: proofs that exact bytes existed before a block.
//!
//! Entry point for checking: [`verify_receipt`] turns a receipt beside a
//! file (`FILE.ots` for Bitcoin through OpenTimestamps, `FILE.anchor.json`
//! for EVM chains) into an [`AnchorReport`] using only the chain data the
//! caller supplies ([`ChainData`]): offline where the data is at hand.
//! Entry points for anchoring: [`stamp::anchor_ots`] and [`evm::anchor_evm`].

pub mod digest;
pub mod evm;
pub mod headers;
pub mod merkle;
pub mod ots;
pub mod pow;
pub mod stamp;

use std::path::{Path, PathBuf};

use serde::Serialize;

use ots::AttestationOutcome;

#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: not a valid OpenTimestamps proof: {source}", path.display())]
    Proof { path: PathBuf, source: ots::OtsError },
    #[error("{}: {source}", path.display())]
    Headers { path: PathBuf, source: ots::OtsError },
    #[error("{}: not a valid anchor receipt: {reason}", path.display())]
    Receipt { path: PathBuf, reason: String },
    #[error("{0}")]
    Rpc(String),
    #[error("{0}")]
    Key(String),
    #[error("{}: unknown receipt type (expected FILE.ots or FILE.anchor.json)", .0.display())]
    UnknownReceipt(PathBuf),
    #[error("{}: a receipt already exists (pass --force to replace it)", .0.display())]
    ReceiptExists(PathBuf),
    #[error("nothing to anchor")]
    NothingToAnchor,
    #[error("only {got} of the {needed} calendars needed accepted the batch: {}", failures.join("; "))]
    Calendars { needed: usize, got: usize, failures: Vec<String> },
}

/// What a receipt proves about a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AnchorState {
    /// The file existed no later than the block named.
    Confirmed,
    /// Submitted, not yet in a block: run `vouch anchor upgrade`.
    Pending,
    /// The receipt is false for this file.
    Invalid,
    /// Could be true, but the chain data to check it is missing.
    Unverifiable,
}

/// One receipt's verdict, as `verify --json` reports it under `anchors`.
#[derive(Debug, Clone, Serialize)]
pub struct AnchorReport {
    pub kind: &'static str,
    pub state: AnchorState,
    pub chain: Option<String>,
    pub block: Option<u64>,
    pub block_hash: Option<String>,
    /// Block time, RFC 3339.
    pub time: Option<String>,
    pub reason: Option<String>,
    pub receipt: PathBuf,
    /// EVM only: the transaction carrying the batch root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_hash: Option<String>,
    /// EVM only: blocks on top of (and including) the anchoring block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmations: Option<u64>,
    /// Bitcoin only: the confirming block is above the checkpoints compiled
    /// into vouch, so its target was only checked to be reachable.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub beyond_checkpoints: bool,
    /// False attestations of a proof whose verdict rests on others (as the
    /// reference client reports them beside a confirmation).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid_attestations: Vec<String>,
}

/// Chain data available to this run (offline where the data is at hand).
#[derive(Default)]
pub struct ChainData {
    pub bitcoin: headers::BitcoinHeaders,
    /// A node to check EVM receipts against (`--rpc`).
    pub evm: Option<evm::EvmVerifier>,
}

/// The OpenTimestamps proof beside a file: `photo.jpg` → `photo.jpg.ots`.
pub fn ots_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".ots");
    PathBuf::from(name)
}

/// Receipts found beside `file`.
pub fn receipts_beside(file: &Path) -> Vec<PathBuf> {
    [ots_path(file), evm::receipt_path(file)].into_iter().filter(|p| p.is_file()).collect()
}

/// Where a file stands before a re-run of `anchor`, judged by its receipt.
#[derive(Debug)]
pub enum Standing {
    /// No receipt yet: anchor it.
    Unanchored,
    /// Its receipt commits to the file as it is now (hash, nonce, Merkle
    /// path): leave it out. The state is as far as can be told without
    /// chain data.
    Anchored(AnchorReport),
    /// Its receipt is for other content: anchor it again, and keep these
    /// bytes of the old receipt beside the new one ([`keep_replaced`]).
    Changed { old_receipt: Vec<u8> },
}

/// Where `file` stands, by its receipt at `receipt`. A receipt that cannot
/// be read or parsed is an error: it is not vouch's to replace unasked.
pub fn standing(file: &Path, receipt: &Path) -> Result<Standing, AnchorError> {
    if !receipt.is_file() {
        return Ok(Standing::Unanchored);
    }
    let report = verify_receipt(file, receipt, &ChainData::default())?;
    if report.state != AnchorState::Invalid {
        return Ok(Standing::Anchored(report));
    }
    let old_receipt =
        std::fs::read(receipt).map_err(|source| AnchorError::Io { path: receipt.to_path_buf(), source })?;
    Ok(Standing::Changed { old_receipt })
}

/// Writes the receipt a changed file had before as `RECEIPT.1` (or the
/// next number free, never over an earlier one), atomically.
pub fn keep_replaced(receipt: &Path, old_receipt: &[u8]) -> Result<PathBuf, AnchorError> {
    for n in 1.. {
        let mut name = receipt.as_os_str().to_owned();
        name.push(format!(".{n}"));
        let kept = PathBuf::from(name);
        match crate::fsx::write_atomic(&kept, old_receipt, Some(0o644), false) {
            Ok(()) => return Ok(kept),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(AnchorError::Io { path: kept, source }),
        }
    }
    unreachable!("a free receipt name below u32::MAX")
}

/// The largest proof vouch reads; real ones are a few kilobytes.
const MAX_PROOF_BYTES: u64 = 1 << 20;

/// Reads and parses an `.ots` file.
pub fn read_ots(path: &Path) -> Result<ots::DetachedTimestamp, AnchorError> {
    let io = |source| AnchorError::Io { path: path.to_path_buf(), source };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_PROOF_BYTES {
        let source = ots::OtsError::TooLarge { len: len as usize, max: MAX_PROOF_BYTES as usize };
        return Err(AnchorError::Proof { path: path.to_path_buf(), source });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    ots::parse(&bytes).map_err(|source| AnchorError::Proof { path: path.to_path_buf(), source })
}

/// Checks one receipt against the file it should cover.
pub fn verify_receipt(file: &Path, receipt: &Path, chain: &ChainData) -> Result<AnchorReport, AnchorError> {
    if evm::is_receipt(receipt) {
        return evm::verify(file, receipt, chain.evm.as_ref());
    }
    if receipt.extension().is_none_or(|e| e != "ots") {
        return Err(AnchorError::UnknownReceipt(receipt.to_path_buf()));
    }
    let proof = read_ots(receipt)?;
    let headers = chain.bitcoin.at(bitcoin_heights(&proof))?;
    let stream = std::fs::File::open(file).map_err(|source| AnchorError::Io { path: file.to_path_buf(), source })?;
    let outcomes = ots::verify_reader(stream, &proof, &headers)
        .map_err(|source| AnchorError::Proof { path: receipt.to_path_buf(), source })?;
    Ok(summarise(outcomes, receipt))
}

/// The heights of the Bitcoin attestations in `proof`.
pub(crate) fn bitcoin_heights(proof: &ots::DetachedTimestamp) -> Vec<u64> {
    proof
        .attestations()
        .into_iter()
        .filter_map(|(_, a)| match a {
            ots::Attestation::Bitcoin { height } => Some(height),
            _ => None,
        })
        .collect()
}

/// One verdict from many attestations, judged one by one as the reference
/// client does: any true Bitcoin attestation confirms (the earliest wins),
/// and false ones are listed beside it rather than sinking it, so a calendar
/// that lies cannot spoil the attestations of the honest ones. Without a
/// confirmation: pending while a calendar may still deliver, unverifiable
/// while some attestation could still be true, invalid when every one is
/// false.
pub(crate) fn summarise(outcomes: Vec<AttestationOutcome>, receipt: &Path) -> AnchorReport {
    let mut report = AnchorReport {
        kind: "ots",
        state: AnchorState::Unverifiable,
        chain: None,
        block: None,
        block_hash: None,
        time: None,
        reason: None,
        receipt: receipt.to_path_buf(),
        tx_hash: None,
        confirmations: None,
        beyond_checkpoints: false,
        invalid_attestations: Vec::new(),
    };
    let invalid: Vec<String> = outcomes
        .iter()
        .filter_map(|o| match o {
            AttestationOutcome::Invalid { reason } => Some(reason.clone()),
            _ => None,
        })
        .collect();
    let earliest = outcomes
        .iter()
        .filter_map(|o| match o {
            AttestationOutcome::Confirmed { chain, height, block_hash, time, beyond_checkpoints } => {
                Some((height, chain, block_hash, time, beyond_checkpoints))
            }
            _ => None,
        })
        .min_by_key(|(height, ..)| **height);
    if let Some((height, chain, block_hash, time, beyond_checkpoints)) = earliest {
        report.state = AnchorState::Confirmed;
        report.chain = Some(chain.clone());
        report.block = Some(*height);
        report.block_hash = Some(block_hash.clone());
        report.time = Some(time.clone());
        report.beyond_checkpoints = *beyond_checkpoints;
        if *beyond_checkpoints {
            report.reason = Some(format!(
                "block {height} is beyond the checkpoints vouch ships (height {}): its proof of work was checked against a reachable target, not a recorded one",
                pow::last_checkpoint_height()
            ));
        }
        report.invalid_attestations = invalid;
        return report;
    }
    if let Some(uri) = outcomes.iter().find_map(|o| match o {
        AttestationOutcome::Pending { uri } => Some(uri.clone()),
        _ => None,
    }) {
        report.state = AnchorState::Pending;
        report.reason = Some(format!("waiting for a Bitcoin block; upgrade from {uri}"));
        report.invalid_attestations = invalid;
        return report;
    }
    if let Some(reason) = outcomes.iter().find_map(|o| match o {
        AttestationOutcome::Unverifiable { reason } => Some(reason.clone()),
        _ => None,
    }) {
        report.reason = Some(reason);
        report.invalid_attestations = invalid;
        return report;
    }
    match invalid.into_iter().next() {
        Some(reason) => {
            report.state = AnchorState::Invalid;
            report.reason = Some(reason);
        }
        None => report.reason = Some("the proof has no attestations".into()),
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn confirmed(height: u64, beyond_checkpoints: bool) -> AttestationOutcome {
        AttestationOutcome::Confirmed {
            chain: "bitcoin".into(),
            height,
            block_hash: format!("hash-{height}"),
            time: "2015-05-28T15:41:18Z".into(),
            beyond_checkpoints,
        }
    }

    fn invalid(reason: &str) -> AttestationOutcome {
        AttestationOutcome::Invalid { reason: reason.into() }
    }

    fn unverifiable(reason: &str) -> AttestationOutcome {
        AttestationOutcome::Unverifiable { reason: reason.into() }
    }

    fn pending() -> AttestationOutcome {
        AttestationOutcome::Pending { uri: "https://alice.btc.calendar.opentimestamps.org".into() }
    }

    fn summary(outcomes: Vec<AttestationOutcome>) -> AnchorReport {
        summarise(outcomes, Path::new("x.ots"))
    }

    #[test]
    fn a_false_attestation_sits_beside_a_true_one_instead_of_sinking_it() {
        let report =
            summary(vec![invalid("merkle root mismatch at block 5"), confirmed(9, false), confirmed(7, false)]);
        assert_eq!(report.state, AnchorState::Confirmed);
        assert_eq!(report.block, Some(7), "the earliest true block wins");
        assert_eq!(report.invalid_attestations, ["merkle root mismatch at block 5"]);
        assert_eq!(report.reason, None);
    }

    #[test]
    fn without_a_confirmation_the_open_verdicts_come_before_invalid() {
        let report = summary(vec![invalid("false"), pending()]);
        assert_eq!((report.state, report.invalid_attestations.len()), (AnchorState::Pending, 1));
        let report = summary(vec![invalid("false"), unverifiable("no header for Bitcoin block 3")]);
        assert_eq!(report.state, AnchorState::Unverifiable);
        assert_eq!(report.reason.as_deref(), Some("no header for Bitcoin block 3"));
        assert_eq!(report.invalid_attestations, ["false"]);
        let report = summary(vec![invalid("false"), invalid("also false")]);
        assert_eq!((report.state, report.reason.as_deref()), (AnchorState::Invalid, Some("false")));
        let report = summary(vec![]);
        assert_eq!(report.reason.as_deref(), Some("the proof has no attestations"));
    }

    #[test]
    fn a_block_beyond_the_checkpoints_says_so() {
        let report = summary(vec![confirmed(960_000, true)]);
        assert_eq!(report.state, AnchorState::Confirmed);
        assert!(report.beyond_checkpoints);
        assert!(report.reason.unwrap().contains("beyond the checkpoints vouch ships (height 953567)"));
        let json = serde_json::to_value(summary(vec![confirmed(7, false)])).unwrap();
        assert!(json.get("beyond_checkpoints").is_none() && json.get("invalid_attestations").is_none(), "{json}");
    }
}

#[cfg(test)]
mod standing_tests {
    use super::*;

    #[test]
    fn a_replaced_receipt_is_kept_under_the_next_free_number() {
        let dir = tempfile::tempdir().unwrap();
        let receipt = dir.path().join("photo.jpg.ots");
        std::fs::write(dir.path().join("photo.jpg.ots.1"), "first").unwrap();
        let kept = keep_replaced(&receipt, b"second").unwrap();
        assert_eq!(kept, dir.path().join("photo.jpg.ots.2"));
        assert_eq!(std::fs::read(&kept).unwrap(), b"second");
        assert_eq!(std::fs::read(dir.path().join("photo.jpg.ots.1")).unwrap(), b"first", "never written over");
    }

    #[test]
    fn a_receipt_that_cannot_be_kept_is_an_error_not_a_search_for_another_name() {
        let dir = tempfile::tempdir().unwrap();
        let receipt = dir.path().join("gone").join("photo.jpg.ots");
        let err = keep_replaced(&receipt, b"old").unwrap_err();
        assert!(matches!(err, AnchorError::Io { ref path, .. } if *path == dir.path().join("gone/photo.jpg.ots.1")));
    }

    #[test]
    fn a_proof_up_to_one_mib_is_parsed_and_a_larger_one_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let at_limit = dir.path().join("at-limit.ots");
        std::fs::write(&at_limit, vec![0u8; MAX_PROOF_BYTES as usize]).unwrap();
        let err = read_ots(&at_limit).unwrap_err();
        assert!(
            matches!(err, AnchorError::Proof { ref source, .. } if !matches!(source, ots::OtsError::TooLarge { .. }))
        );
        // A terabyte, sparse: reading it first would exhaust memory.
        let huge = dir.path().join("huge.ots");
        std::fs::File::create(&huge).unwrap().set_len(1 << 40).unwrap();
        let err = read_ots(&huge).unwrap_err();
        assert!(
            matches!(err, AnchorError::Proof { source: ots::OtsError::TooLarge { len, .. }, .. } if len == 1 << 40)
        );
        let over = dir.path().join("over.ots");
        std::fs::write(&over, vec![0u8; MAX_PROOF_BYTES as usize + 1]).unwrap();
        assert!(matches!(read_ots(&over), Err(AnchorError::Proof { source: ots::OtsError::TooLarge { .. }, .. })));
    }

    #[test]
    fn a_file_without_a_receipt_is_unanchored_and_a_garbled_receipt_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("notes.txt");
        std::fs::write(&file, "notes").unwrap();
        assert!(matches!(standing(&file, &ots_path(&file)).unwrap(), Standing::Unanchored));
        std::fs::write(ots_path(&file), "not a proof").unwrap();
        assert!(standing(&file, &ots_path(&file)).is_err(), "not vouch's to replace unasked");
    }
}
