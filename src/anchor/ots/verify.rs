//! Checking a proof against a file and a set of Bitcoin block headers.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use chrono::{DateTime, SecondsFormat};

use super::bitcoin::{block_hash_hex, block_time, merkle_root, BlockHeader};
use super::{Attestation, DetachedTimestamp, OtsError};

/// The block headers a proof is checked against, as the header sources
/// left them: accepted ones, refused ones (with why), and the chain they
/// belong to.
#[derive(Debug, Clone)]
pub struct HeaderSet {
    pub accepted: BTreeMap<u64, BlockHeader>,
    /// Heights whose header was offered but refused (no proof of work,
    /// sources disagreeing, …): the attestation is unverifiable, not false.
    pub refused: BTreeMap<u64, String>,
    /// Accepted heights above the compiled-in checkpoints.
    pub beyond_checkpoints: BTreeSet<u64>,
    /// The chain name confirmations carry (`bitcoin`, `bitcoin-regtest`).
    pub chain: &'static str,
}

impl Default for HeaderSet {
    fn default() -> Self {
        Self {
            accepted: BTreeMap::new(),
            refused: BTreeMap::new(),
            beyond_checkpoints: BTreeSet::new(),
            chain: "bitcoin",
        }
    }
}

impl From<BTreeMap<u64, BlockHeader>> for HeaderSet {
    fn from(accepted: BTreeMap<u64, BlockHeader>) -> Self {
        Self { accepted, ..Self::default() }
    }
}

/// What one attestation of a proof establishes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AttestationOutcome {
    /// The file existed no later than this block.
    Confirmed {
        chain: String,
        height: u64,
        block_hash: String,
        time: String,
        /// The block is above the checkpoints vouch ships: its proof of work
        /// was checked against a reachable target, not the recorded one.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        beyond_checkpoints: bool,
    },
    /// A calendar holds the commitment; the proof can be upgraded from `uri` later.
    Pending { uri: String },
    /// The attestation is false for this file (or the file is not the one stamped).
    Invalid { reason: String },
    /// Could be true, but cannot be checked with what we have.
    Unverifiable { reason: String },
}

/// Verifies `proof` for a file whose digest (under `proof.file_hash_op`) is
/// `file_digest`. One outcome per attestation, in the order of
/// [`DetachedTimestamp::attestations`]; when the digest is not the proof's,
/// every outcome is `Invalid`, since nothing in the proof is about this file.
pub fn verify(file_digest: &[u8], proof: &DetachedTimestamp, headers: &HeaderSet) -> Vec<AttestationOutcome> {
    let attestations = proof.attestations();
    if file_digest != proof.file_digest.as_slice() {
        let reason = format!(
            "file does not match the proof: its {} digest is {}, the proof is for {}",
            proof.file_hash_op,
            hex::encode(file_digest),
            hex::encode(&proof.file_digest)
        );
        return attestations.iter().map(|_| AttestationOutcome::Invalid { reason: reason.clone() }).collect();
    }
    attestations.iter().map(|(msg, attestation)| check(msg, attestation, headers)).collect()
}

/// Hashes the file from `reader` with the proof's hash, then [`verify`]s.
pub fn verify_reader<R: Read>(
    reader: R,
    proof: &DetachedTimestamp,
    headers: &HeaderSet,
) -> Result<Vec<AttestationOutcome>, OtsError> {
    let digest = proof.file_hash_op.digest_reader(reader)?;
    Ok(verify(&digest, proof, headers))
}

fn check(msg: &[u8], attestation: &Attestation, headers: &HeaderSet) -> AttestationOutcome {
    match attestation {
        Attestation::Pending { uri } => AttestationOutcome::Pending { uri: uri.clone() },
        Attestation::Bitcoin { height } => {
            let height = *height;
            if let Some(refused) = headers.refused.get(&height) {
                return AttestationOutcome::Unverifiable { reason: refused.clone() };
            }
            let Some(header) = headers.accepted.get(&height) else {
                return AttestationOutcome::Unverifiable {
                    reason: format!("no header for Bitcoin block {height} in the headers file or from a header source"),
                };
            };
            // The message is compared with the root exactly as the header
            // stores it; the reversed form is only how explorers display it.
            if msg != merkle_root(header) {
                return AttestationOutcome::Invalid { reason: format!("merkle root mismatch at block {height}") };
            }
            let time = block_time(header);
            AttestationOutcome::Confirmed {
                chain: headers.chain.to_string(),
                height,
                beyond_checkpoints: headers.beyond_checkpoints.contains(&height),
                block_hash: block_hash_hex(header),
                time: DateTime::from_timestamp(i64::from(time), 0)
                    .expect("every u32 is a representable time")
                    .to_rfc3339_opts(SecondsFormat::Secs, true),
            }
        }
        Attestation::Litecoin { height } => AttestationOutcome::Unverifiable {
            reason: format!("Litecoin attestations are not supported (block {height})"),
        },
        Attestation::Unknown { tag, .. } => {
            AttestationOutcome::Unverifiable { reason: format!("unknown attestation type {}", hex::encode(tag)) }
        }
    }
}
