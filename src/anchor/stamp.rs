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

use super::headers::BitcoinHeaders;
use super::merkle::{self, Hash, MerkleTree, Side};
use super::ots::{self, Attestation, DetachedTimestamp, HashOp, Op, Timestamp};
use super::{bitcoin_heights, digest, ots_path, read_ots, summarise, AnchorError, AnchorState};

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
        let mut response = self
            .agent
            .post(&url)
            .header("Accept", ACCEPT)
            .send(digest)
            .map_err(|e| format!("{}: {e}", crate::redact::url(&url)))?;
        if response.status() != 200 {
            return Err(format!("{}: HTTP {}", crate::redact::url(&url), response.status()));
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_REPLY)
            .read_to_vec()
            .map_err(|e| format!("{}: {e}", crate::redact::url(&url)))?;
        ots::parse_timestamp(&body, digest).map_err(|e| format!("{}: unusable reply: {e}", crate::redact::url(&url)))
    }

    /// `GET /timestamp/<hex>`: the completed timestamp for a commitment, or
    /// `None` while the calendar still waits for a block.
    pub fn fetch(&self, calendar: &str, commitment: &[u8]) -> Result<Option<Timestamp>, String> {
        let url = format!("{}/timestamp/{}", calendar.trim_end_matches('/'), hex::encode(commitment));
        let mut response = self
            .agent
            .get(&url)
            .header("Accept", ACCEPT)
            .call()
            .map_err(|e| format!("{}: {e}", crate::redact::url(&url)))?;
        match response.status().as_u16() {
            200 => {}
            404 => return Ok(None),
            code => return Err(format!("{}: HTTP {code}", crate::redact::url(&url))),
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_REPLY)
            .read_to_vec()
            .map_err(|e| format!("{}: {e}", crate::redact::url(&url)))?;
        ots::parse_timestamp(&body, commitment)
            .map(Some)
            .map_err(|e| format!("{}: unusable reply: {e}", crate::redact::url(&url)))
    }
}

/// One file of a batch after hashing.
#[derive(Debug, Clone)]
pub struct BatchFile {
    pub path: PathBuf,
    pub sha256: Hash,
    pub nonce: [u8; 16],
}

/// A file left out of a batch: its receipt already commits to the file as
/// it is now (`state` as far as it can be told without chain data).
#[derive(Debug, Clone, Serialize)]
pub struct AlreadyAnchored {
    pub path: PathBuf,
    pub receipt: PathBuf,
    /// As far as it can be told without chain data: `pending` or
    /// `confirmed` for OpenTimestamps, `unverifiable` for EVM receipts.
    pub state: super::AnchorState,
    /// Always `true`: tells this record from an `anchored` one.
    pub already_anchored: bool,
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

/// Receipts written per flush to disk: bounds memory on huge batches (a
/// receipt is under a kilobyte, and temporary files are closed once
/// written) while keeping the flushes few: each is a `syncfs` of the whole
/// filesystem, which costs the same for ten receipts as for ten thousand.
const RECEIPTS_PER_FLUSH: usize = 16384;

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

/// Calendars run by the public operators, as patterns in the form of the
/// reference client's default whitelist (`*` stands for any subdomain).
pub const PUBLIC_CALENDARS: &[&str] = &[
    "https://*.calendar.opentimestamps.org",
    "https://*.calendar.eternitywall.com",
    "https://*.calendar.catallaxy.com",
];

/// One allowed calendar: scheme, host (or any subdomain of a host), port and path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CalendarPattern {
    scheme: String,
    host: String,
    any_subdomain: bool,
    port: u16,
    path: String,
}

impl CalendarPattern {
    fn matches(&self, url: &CalendarPattern) -> bool {
        let host = if self.any_subdomain {
            // `self.host` keeps its leading dot: ".calendar.example.org".
            url.host.strip_suffix(&self.host).is_some_and(|labels| !labels.is_empty() && !labels.ends_with('.'))
        } else {
            url.host == self.host
        };
        host && !url.any_subdomain && url.scheme == self.scheme && url.port == self.port && url.path == self.path
    }
}

/// Splits an http(s) URL into what a calendar is compared by; `None` for
/// anything else (credentials, queries, other schemes) — such a calendar is
/// never contacted.
fn calendar_parts(url: &str) -> Option<CalendarPattern> {
    let uri: ureq::http::Uri = url.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    let authority = uri.authority()?;
    if authority.as_str().contains('@') || uri.query().is_some() {
        return None;
    }
    let host = authority.host().to_ascii_lowercase();
    let (any_subdomain, host) = match host.strip_prefix('*') {
        Some(rest) if rest.starts_with('.') => (true, rest.to_string()),
        Some(_) => return None,
        None => (false, host),
    };
    Some(CalendarPattern {
        scheme,
        host,
        any_subdomain,
        port: authority.port_u16().unwrap_or(default_port),
        path: uri.path().trim_end_matches('/').to_string(),
    })
}

/// The calendars `anchor upgrade` may contact: a proof can name any URI in
/// a pending attestation, and asking an unknown host would leak what was
/// stamped and when to whoever wrote the proof (or let the proof aim
/// requests at a private network). As in the reference client, only the
/// public calendars and those the user names are asked.
#[derive(Debug, Clone)]
pub struct CalendarAllowList {
    patterns: Vec<CalendarPattern>,
}

impl Default for CalendarAllowList {
    fn default() -> Self {
        let patterns = PUBLIC_CALENDARS
            .iter()
            .chain(DEFAULT_CALENDARS)
            .map(|c| calendar_parts(c).expect("the built-in calendars are valid URLs"))
            .collect();
        Self { patterns }
    }
}

impl CalendarAllowList {
    /// The public calendars plus `extra` (exact URLs); errors name the URL.
    pub fn with(extra: &[String]) -> Result<Self, AnchorError> {
        let mut list = Self::default();
        for url in extra {
            match calendar_parts(url) {
                Some(pattern) if !pattern.any_subdomain => list.patterns.push(pattern),
                _ => {
                    return Err(AnchorError::Rpc(format!(
                        "calendar {}: not an http(s) URL without credentials or query",
                        crate::redact::url(url)
                    )))
                }
            }
        }
        Ok(list)
    }

    pub fn allows(&self, uri: &str) -> bool {
        calendar_parts(uri).is_some_and(|url| self.patterns.iter().any(|p| p.matches(&url)))
    }
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
    /// Calendars the proof names that are not on the allow list: not contacted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    /// Replies not merged, and why (a false attestation, a reply that does
    /// not fit the proof, a result that would verify worse).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<String>,
}

/// How good a verdict is, for "never worse": confirmed beats still-open
/// (pending or unverifiable), which beats invalid.
fn rank(state: AnchorState) -> u8 {
    match state {
        AnchorState::Invalid => 0,
        AnchorState::Pending | AnchorState::Unverifiable => 1,
        AnchorState::Confirmed => 2,
    }
}

/// The proof judged on its own (against its own file digest) with the
/// headers at hand: the verdict and how many of its attestations are false.
fn judge(
    proof: &DetachedTimestamp,
    headers: &BitcoinHeaders,
    receipt: &Path,
) -> Result<(AnchorState, usize), AnchorError> {
    let set = headers.at(bitcoin_heights(proof))?;
    let report = summarise(ots::verify(&proof.file_digest, proof, &set), receipt);
    Ok((report.state, report.invalid_attestations.len()))
}

/// Asks each allowed pending calendar for the completed timestamp and
/// rewrites the proof atomically when anything usable came back. A reply
/// is merged only if the headers at hand find nothing false in it, and the
/// proof is only rewritten if it verifies at least as well as before.
pub fn upgrade(
    receipt: &Path,
    client: &CalendarClient,
    allowed: &CalendarAllowList,
    headers: &BitcoinHeaders,
) -> Result<Upgraded, AnchorError> {
    let original = read_ots(receipt)?;
    let before = judge(&original, headers, receipt)?;
    let mut proof = original.clone();
    let mut judged = before;
    let (mut pending, mut skipped, mut rejected) = (Vec::new(), Vec::new(), Vec::new());
    for (commitment, attestation) in original.attestations() {
        let Attestation::Pending { uri } = attestation else { continue };
        if !allowed.allows(&uri) {
            skipped.push(uri);
            continue;
        }
        match client.fetch(&uri, &commitment) {
            Ok(Some(reply)) => {
                let mut candidate = proof.clone();
                if let Err(e) = candidate.merge_at(&commitment, reply) {
                    rejected.push(format!("{uri}: the reply does not fit the proof: {e}"));
                    continue;
                }
                let candidate_judged = judge(&candidate, headers, receipt)?;
                if candidate_judged.1 > judged.1 || rank(candidate_judged.0) < rank(judged.0) {
                    let why = summarise_false(&candidate, headers, receipt)?;
                    rejected.push(format!("{uri}: the reply carries a false attestation ({why})"));
                    continue;
                }
                proof = candidate;
                judged = candidate_judged;
            }
            Ok(None) => pending.push(uri),
            Err(e) => pending.push(format!("{uri} ({e})")),
        }
    }
    let mut changed = proof != original;
    if changed && rank(judged.0) < rank(before.0) {
        rejected.push("the upgraded proof would verify worse than the one on disk: left unchanged".into());
        proof = original;
        changed = false;
    }
    if changed {
        write_proof(receipt, &proof, true)?;
    }
    let complete = proof.attestations().iter().any(|(_, a)| matches!(a, Attestation::Bitcoin { .. }));
    Ok(Upgraded { receipt: receipt.to_path_buf(), complete, changed, pending, skipped, rejected })
}

/// The newest false attestation of `proof`, for messages.
fn summarise_false(proof: &DetachedTimestamp, headers: &BitcoinHeaders, receipt: &Path) -> Result<String, AnchorError> {
    let set = headers.at(bitcoin_heights(proof))?;
    let report = summarise(ots::verify(&proof.file_digest, proof, &set), receipt);
    Ok(report.invalid_attestations.last().cloned().or(report.reason).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_calendars_and_only_them_are_allowed_by_default() {
        let list = CalendarAllowList::default();
        for ok in [
            "https://alice.btc.calendar.opentimestamps.org",
            "https://bob.btc.calendar.opentimestamps.org/",
            "https://finney.calendar.eternitywall.com",
            "https://btc.calendar.catallaxy.com",
            "https://a.pool.opentimestamps.org",
        ] {
            assert!(list.allows(ok), "{ok}");
        }
        for refused in [
            "http://alice.btc.calendar.opentimestamps.org",
            "https://calendar.opentimestamps.org",
            "https://alice.btc.calendar.opentimestamps.org.evil.example",
            "https://evilcalendar.opentimestamps.org",
            "https://alice.btc.calendar.opentimestamps.org:8443",
            "https://alice.btc.calendar.opentimestamps.org/other",
            "https://x@alice.btc.calendar.opentimestamps.org",
            "http://127.0.0.1:14788",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(!list.allows(refused), "{refused}");
        }
    }

    #[test]
    fn a_calendar_given_by_the_user_is_matched_exactly() {
        let list = CalendarAllowList::with(&["http://127.0.0.1:4123".to_string()]).unwrap();
        assert!(list.allows("http://127.0.0.1:4123/"));
        assert!(!list.allows("http://127.0.0.1:41234"));
        assert!(!list.allows("https://127.0.0.1:4123"));
        for bad in ["ftp://x.example", "https://*.example.org", "http://u:p@host", "http://host/?q=1"] {
            assert!(CalendarAllowList::with(&[bad.to_string()]).is_err(), "{bad}");
        }
    }
}
