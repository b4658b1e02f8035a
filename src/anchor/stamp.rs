//! Creating and upgrading OpenTimestamps anchors for a batch of files.
//!
//! Only hashes leave the machine: each file's SHA-256 goes into a Merkle
//! tree with a fresh nonce, and only the tree's root is sent to the
//! calendars, one request per calendar for the whole batch. Each file then
//! gets a standard `FILE.ots`: file hash → nonce → Merkle path → root →
//! the calendars' replies (pending attestations, later upgraded to Bitcoin).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rayon::prelude::*;
use serde::Serialize;

use super::merkle::{self, Hash, MerkleTree, Side};
use super::ots::{self, Attestation, DetachedTimestamp, HashOp, Op, Timestamp};
use super::{digest, ots_path, read_ots, AnchorError};

/// Public calendars run by independent operators (the ones the reference
/// `ots` client uses), so no single operator can withhold a timestamp.
pub const DEFAULT_CALENDARS: &[&str] = &[
    "https://a.pool.opentimestamps.org",
    "https://b.pool.opentimestamps.org",
    "https://a.pool.eternitywall.com",
    "https://ots.btc.catallaxy.com",
];

/// Calendar replies are a few hundred bytes; anything far larger is hostile.
const MAX_REPLY: u64 = 64 * 1024;
const ACCEPT: &str = "application/vnd.opentimestamps.v1";

/// An HTTP client for the OpenTimestamps calendar protocol.
pub struct CalendarClient {
    agent: ureq::Agent,
}

impl CalendarClient {
    pub fn new(timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .user_agent(concat!("vouch/", env!("CARGO_PKG_VERSION")))
            .build();
        Self { agent: config.into() }
    }

    /// `POST /digest`: the calendar commits to `digest` and replies with a
    /// timestamp from it, ending in a pending attestation.
    pub fn submit(&self, calendar: &str, digest: &[u8]) -> Result<Timestamp, String> {
        let url = format!("{}/digest", calendar.trim_end_matches('/'));
        let mut response =
            self.agent.post(&url).header("Accept", ACCEPT).send(digest).map_err(|e| format!("{url}: {e}"))?;
        if response.status() != 200 {
            return Err(format!("{url}: HTTP {}", response.status()));
        }
        let body =
            response.body_mut().with_config().limit(MAX_REPLY).read_to_vec().map_err(|e| format!("{url}: {e}"))?;
        ots::parse_timestamp(&body, digest).map_err(|e| format!("{url}: unusable reply: {e}"))
    }

    /// `GET /timestamp/<hex>`: the completed timestamp for a commitment, or
    /// `None` while the calendar still waits for a block.
    pub fn fetch(&self, calendar: &str, commitment: &[u8]) -> Result<Option<Timestamp>, String> {
        let url = format!("{}/timestamp/{}", calendar.trim_end_matches('/'), hex::encode(commitment));
        let mut response = self.agent.get(&url).header("Accept", ACCEPT).call().map_err(|e| format!("{url}: {e}"))?;
        match response.status().as_u16() {
            200 => {}
            404 => return Ok(None),
            code => return Err(format!("{url}: HTTP {code}")),
        }
        let body =
            response.body_mut().with_config().limit(MAX_REPLY).read_to_vec().map_err(|e| format!("{url}: {e}"))?;
        ots::parse_timestamp(&body, commitment).map(Some).map_err(|e| format!("{url}: unusable reply: {e}"))
    }
}

/// One file of a batch after hashing.
#[derive(Debug, Clone)]
pub struct BatchFile {
    pub path: PathBuf,
    pub sha256: Hash,
    pub nonce: [u8; 16],
}

/// What anchoring did for one file.
#[derive(Debug, Clone, Serialize)]
pub struct Anchored {
    pub path: PathBuf,
    pub receipt: PathBuf,
    pub sha256: String,
    pub ipfs_cid: String,
    /// Merkle root committed for the whole batch.
    pub root: String,
    /// OpenTimestamps: the calendars that accepted the root.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub calendars: Vec<String>,
    /// EVM: the chain (CAIP-2), transaction and block carrying the root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block: Option<u64>,
}

impl Anchored {
    /// What every backend reports for a file; the backend adds where the root went.
    pub(crate) fn new(file: &BatchFile, receipt: PathBuf, root_hex: &str) -> Self {
        Self {
            path: file.path.clone(),
            receipt,
            sha256: hex::encode(file.sha256),
            ipfs_cid: digest::ipfs_cid(&file.sha256),
            root: root_hex.to_string(),
            calendars: Vec::new(),
            chain: None,
            tx_hash: None,
            block: None,
        }
    }
}

/// Hashes files in parallel (each streamed) and gives each a fresh nonce.
pub fn hash_files(paths: &[PathBuf]) -> Vec<Result<BatchFile, AnchorError>> {
    paths
        .par_iter()
        .map(|path| {
            let sha256 = digest::sha256_file(path).map_err(|source| AnchorError::Io { path: path.clone(), source })?;
            let mut nonce = [0u8; 16];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut nonce);
            Ok(BatchFile { path: path.clone(), sha256, nonce })
        })
        .collect()
}

/// The result of submitting a batch root to the calendars.
pub struct Submission {
    pub root: Hash,
    pub timestamp: Timestamp,
    pub accepted: Vec<String>,
    pub failures: Vec<String>,
}

/// Sends the batch root to every calendar (one request each) and merges the
/// replies. Fails unless at least `min_calendars` accepted.
pub fn submit_root(
    root: Hash,
    calendars: &[String],
    min_calendars: usize,
    client: &CalendarClient,
) -> Result<Submission, AnchorError> {
    let replies: Vec<_> = calendars.par_iter().map(|c| (c, client.submit(c, &root))).collect();
    let mut timestamp = Timestamp::default();
    let (mut accepted, mut failures) = (Vec::new(), Vec::new());
    for (calendar, reply) in replies {
        match reply {
            Ok(reply) => {
                timestamp.merge(reply);
                accepted.push(calendar.clone());
            }
            Err(e) => failures.push(e),
        }
    }
    if accepted.len() < min_calendars.max(1) {
        return Err(AnchorError::Calendars { needed: min_calendars.max(1), got: accepted.len(), failures });
    }
    timestamp.canonicalize();
    Ok(Submission { root, timestamp, accepted, failures })
}

/// The ops from a file's digest to the batch root: nonce, then the path.
fn path_ops(file: &BatchFile, path: &[merkle::Step]) -> Vec<Op> {
    let mut ops = vec![Op::Append(file.nonce.to_vec()), Op::Sha256];
    for step in path {
        ops.push(match step.side {
            Side::Left => Op::Prepend(step.hash.to_vec()),
            Side::Right => Op::Append(step.hash.to_vec()),
        });
        ops.push(Op::Sha256);
    }
    ops
}

/// A complete `.ots` proof for one file of the batch.
pub fn proof_for(file: &BatchFile, path: &[merkle::Step], root_timestamp: &Timestamp) -> DetachedTimestamp {
    let timestamp = path_ops(file, path)
        .into_iter()
        .rev()
        .fold(root_timestamp.clone(), |next, op| Timestamp { attestations: Vec::new(), ops: vec![(op, next)] });
    DetachedTimestamp { file_hash_op: HashOp::Sha256, file_digest: file.sha256.to_vec(), timestamp }
}

/// Builds the tree over `files`, submits its root and writes `FILE.ots`
/// beside every file (atomically; an existing proof is kept unless `force`).
pub fn anchor_ots(
    files: &[BatchFile],
    calendars: &[String],
    min_calendars: usize,
    client: &CalendarClient,
    force: bool,
) -> Result<Vec<Result<Anchored, AnchorError>>, AnchorError> {
    let tree = batch_tree(files, ots_path, force)?;
    let submission = submit_root(tree.root(), calendars, min_calendars, client)?;
    let root_hex = hex::encode(submission.root);
    let receipts = write_receipts(files, force, |i, file| {
        let proof = proof_for(file, &tree.proof(i), &submission.timestamp);
        proof.validate().map_err(|source| AnchorError::Proof { path: ots_path(&file.path), source })?;
        Ok((ots_path(&file.path), ots::serialize(&proof)))
    });
    Ok(files
        .iter()
        .zip(receipts)
        .map(|(file, receipt)| {
            Ok(Anchored { calendars: submission.accepted.clone(), ..Anchored::new(file, receipt?, &root_hex) })
        })
        .collect())
}

/// The batch's Merkle tree, after refusing (before anything leaves the
/// machine) to replace any receipt that exists unless `force`.
pub(crate) fn batch_tree(
    files: &[BatchFile],
    receipt_of: fn(&Path) -> PathBuf,
    force: bool,
) -> Result<MerkleTree, AnchorError> {
    if !force {
        if let Some(existing) = files.iter().map(|f| receipt_of(&f.path)).find(|r| r.exists()) {
            return Err(AnchorError::ReceiptExists(existing));
        }
    }
    MerkleTree::new(files.iter().map(|f| merkle::leaf(&f.sha256, &f.nonce)).collect())
        .ok_or(AnchorError::NothingToAnchor)
}

/// Receipts written per flush to disk: bounds memory and open files on huge
/// batches while keeping the flushes few.
const RECEIPTS_PER_FLUSH: usize = 1024;

/// Builds each file's receipt (in parallel) and writes them all atomically,
/// a chunk at a time with one flush per chunk. One result per file.
pub(crate) fn write_receipts(
    files: &[BatchFile],
    overwrite: bool,
    build: impl Fn(usize, &BatchFile) -> Result<(PathBuf, Vec<u8>), AnchorError> + Sync,
) -> Vec<Result<PathBuf, AnchorError>> {
    let mut results = Vec::with_capacity(files.len());
    for (chunk_index, chunk) in files.chunks(RECEIPTS_PER_FLUSH).enumerate() {
        let offset = chunk_index * RECEIPTS_PER_FLUSH;
        let built: Vec<_> = chunk.par_iter().enumerate().map(|(i, file)| build(offset + i, file)).collect();
        let items: Vec<(PathBuf, Vec<u8>)> = built.iter().filter_map(|b| b.as_ref().ok().cloned()).collect();
        let mut written = crate::fsx::write_many(&items, Some(0o644), overwrite).into_iter();
        for receipt in built {
            results.push(receipt.and_then(|(path, _)| match written.next() {
                Some(Ok(())) => Ok(path),
                Some(Err(source)) if source.kind() == std::io::ErrorKind::AlreadyExists => {
                    Err(AnchorError::ReceiptExists(path))
                }
                Some(Err(source)) => Err(AnchorError::Io { path, source }),
                None => unreachable!("write_many gives one result per item"),
            }));
        }
    }
    results
}

fn write_proof(receipt: &Path, proof: &DetachedTimestamp, overwrite: bool) -> Result<(), AnchorError> {
    proof.validate().map_err(|source| AnchorError::Proof { path: receipt.to_path_buf(), source })?;
    crate::fsx::write_atomic(receipt, &ots::serialize(proof), Some(0o644), overwrite).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            AnchorError::ReceiptExists(receipt.to_path_buf())
        } else {
            AnchorError::Io { path: receipt.to_path_buf(), source }
        }
    })
}

/// What `vouch anchor upgrade` did to one proof.
#[derive(Debug, Clone, Serialize)]
pub struct Upgraded {
    pub receipt: PathBuf,
    /// Whether the proof now holds a Bitcoin attestation.
    pub complete: bool,
    /// Whether anything new was merged (and the file rewritten).
    pub changed: bool,
    pub pending: Vec<String>,
}

/// Asks each pending calendar for the completed timestamp and rewrites the
/// proof atomically when anything came back.
pub fn upgrade(receipt: &Path, client: &CalendarClient) -> Result<Upgraded, AnchorError> {
    let mut proof = read_ots(receipt)?;
    let mut changed = false;
    let mut pending = Vec::new();
    for (commitment, attestation) in proof.attestations() {
        let Attestation::Pending { uri } = attestation else { continue };
        match client.fetch(&uri, &commitment) {
            Ok(Some(reply)) => {
                proof
                    .merge_at(&commitment, reply)
                    .map_err(|source| AnchorError::Proof { path: receipt.to_path_buf(), source })?;
                changed = true;
            }
            Ok(None) => pending.push(uri),
            Err(e) => pending.push(format!("{uri} ({e})")),
        }
    }
    if changed {
        write_proof(receipt, &proof, true)?;
    }
    let complete = proof.attestations().iter().any(|(_, a)| matches!(a, Attestation::Bitcoin { .. }));
    Ok(Upgraded { receipt: receipt.to_path_buf(), complete, changed, pending })
}
