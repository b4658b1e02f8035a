//! Checking a proof against a file and a set of Bitcoin block headers.

use std::collections::BTreeMap;
use std::io::Read;

use chrono::{DateTime, SecondsFormat};

use super::bitcoin::{block_hash_hex, block_time, merkle_root, BlockHeader};
use super::{Attestation, DetachedTimestamp, OtsError};

/// What one attestation of a proof establishes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AttestationOutcome {
    /// The file existed no later than this block.
    Confirmed { chain: String, height: u64, block_hash: String, time: String },
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
pub fn verify(
    file_digest: &[u8],
    proof: &DetachedTimestamp,
    headers: &BTreeMap<u64, BlockHeader>,
) -> Vec<AttestationOutcome> {
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
    headers: &BTreeMap<u64, BlockHeader>,
) -> Result<Vec<AttestationOutcome>, OtsError> {
    let digest = proof.file_hash_op.digest_reader(reader)?;
    Ok(verify(&digest, proof, headers))
}

fn check(msg: &[u8], attestation: &Attestation, headers: &BTreeMap<u64, BlockHeader>) -> AttestationOutcome {
    match attestation {
        Attestation::Pending { uri } => AttestationOutcome::Pending { uri: uri.clone() },
        Attestation::Bitcoin { height } => {
            let height = *height;
            let Some(header) = headers.get(&height) else {
                return AttestationOutcome::Unverifiable {
                    reason: format!("no header for Bitcoin block {height} in the headers file"),
                };
            };
            // The message is compared with the root exactly as the header
            // stores it; the reversed form is only how explorers display it.
            if msg != merkle_root(header) {
                return AttestationOutcome::Invalid { reason: format!("merkle root mismatch at block {height}") };
            }
            let time = block_time(header);
            AttestationOutcome::Confirmed {
                chain: "bitcoin".to_string(),
                height,
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
