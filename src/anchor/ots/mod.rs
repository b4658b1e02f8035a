//! OpenTimestamps proofs (`.ots`): codec and verification.
//!
//! A proof commits the digest of a file, through a tree of operations
//! (append, prepend, hashes), to attestations: a calendar's promise to get the
//! commitment into a block later (`Pending`), or a Bitcoin block whose merkle
//! root is the message reached at that leaf.
//!
//! The byte format, the limits and the canonical order follow
//! python-opentimestamps, the reference implementation; the real proofs in
//! `shared/interop/ots` are the ground truth the tests hold us to.
//!
//! Messages at the nodes are not stored: they are recomputed from the file
//! digest whenever they are needed, so a tree can never disagree with the
//! digest it claims to start from.

mod bitcoin;
mod codec;
mod verify;

#[cfg(test)]
mod tests;

use std::fmt;
use std::io::{self, Read};

pub use bitcoin::{block_hash, block_hash_hex, block_time, merkle_root, parse_headers_file, BlockHeader, HEADER_LEN};
pub use codec::{parse, parse_timestamp, serialize, serialize_timestamp, MAGIC, MAJOR_VERSION};
pub use verify::{verify, verify_reader, AttestationOutcome, HeaderSet};

/// Deepest nesting of nodes along one path, the root included; as in
/// python-opentimestamps, so a proof it accepts is never too deep for us.
pub const MAX_DEPTH: usize = 256;
/// Longest argument to append/prepend.
pub const MAX_OP_ARG_LEN: usize = 4096;
/// Longest message an operation may take or produce; bounds the memory any
/// single path needs while it is evaluated.
pub const MAX_MSG_LEN: usize = 4096;
/// Longest attestation payload.
pub const MAX_PAYLOAD_LEN: usize = 8192;
/// Longest calendar URI in a pending attestation.
pub const MAX_URI_LEN: usize = 1000;
/// Largest proof we parse. Real proofs are a few KiB; the cap keeps the work of
/// evaluating a hostile tree (each branch can copy a 4 KiB message) bounded.
pub const MAX_PROOF_LEN: usize = 1 << 20;

/// Tag of a pending (calendar) attestation.
pub const PENDING_TAG: [u8; 8] = [0x83, 0xdf, 0xe3, 0x0d, 0x2e, 0xf9, 0x0c, 0x8e];
/// Tag of a Bitcoin block header attestation.
pub const BITCOIN_TAG: [u8; 8] = [0x05, 0x88, 0x96, 0x0d, 0x73, 0xd7, 0x19, 0x01];
/// Tag of a Litecoin block header attestation.
pub const LITECOIN_TAG: [u8; 8] = [0x06, 0x86, 0x9a, 0x0d, 0x73, 0xd7, 0x1b, 0x45];

#[derive(Debug, thiserror::Error)]
pub enum OtsError {
    #[error("not an OpenTimestamps proof (bad magic bytes)")]
    BadMagic,
    #[error("unsupported OpenTimestamps proof major version {0} (only version 1 is supported)")]
    UnsupportedVersion(u8),
    #[error("proof is {len} bytes, more than the {max} bytes accepted")]
    TooLarge { len: usize, max: usize },
    #[error("proof is truncated: needed {needed} more byte(s) at byte {offset}")]
    Truncated { offset: usize, needed: usize },
    #[error("unexpected trailing data at byte {offset} after the end of the {what}")]
    TrailingData { offset: usize, what: &'static str },
    #[error("unknown file hash operation tag 0x{tag:02x} at byte {offset}")]
    UnknownFileHashOp { offset: usize, tag: u8 },
    #[error("unknown operation tag 0x{tag:02x} at byte {offset}")]
    UnknownOp { offset: usize, tag: u8 },
    #[error("malformed variable-length integer at byte {offset}: {reason}")]
    BadVarint { offset: usize, reason: &'static str },
    #[error("{what} at byte {offset} is {len} bytes long; expected {min}..={max}")]
    BadLength { offset: usize, what: &'static str, len: u64, min: usize, max: usize },
    #[error("timestamp nests deeper than {max} levels at byte {offset}")]
    TooDeep { offset: usize, max: usize },
    #[error("operation `{op}` at byte {offset} cannot be applied: {reason}")]
    OpNotApplicable { offset: usize, op: String, reason: &'static str },
    #[error("invalid calendar URI {uri:?}: {reason}")]
    InvalidUri { uri: String, reason: String },
    #[error("file digest is {actual} bytes, but {op} digests are {expected} bytes")]
    DigestLength { op: HashOp, expected: usize, actual: usize },
    #[error("message {msg} does not occur in the timestamp")]
    NoSuchMessage { msg: String },
    #[error("cannot merge proofs for different files")]
    DifferentFile,
    #[error("the merged timestamp would not be a valid proof: {0}")]
    InvalidMerge(Box<OtsError>),
    #[error("headers file, line {line}: {reason}")]
    HeadersLine { line: usize, reason: String },
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// The hash that turned the file into the digest the proof starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HashOp {
    Sha1,
    Ripemd160,
    Sha256,
    Keccak256,
}

impl HashOp {
    pub fn tag(self) -> u8 {
        self.op().tag()
    }

    pub fn from_tag(tag: u8) -> Option<HashOp> {
        match tag {
            0x02 => Some(HashOp::Sha1),
            0x03 => Some(HashOp::Ripemd160),
            0x08 => Some(HashOp::Sha256),
            0x67 => Some(HashOp::Keccak256),
            _ => None,
        }
    }

    pub fn digest_len(self) -> usize {
        match self {
            HashOp::Sha1 | HashOp::Ripemd160 => 20,
            HashOp::Sha256 | HashOp::Keccak256 => 32,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HashOp::Sha1 => "sha1",
            HashOp::Ripemd160 => "ripemd160",
            HashOp::Sha256 => "sha256",
            HashOp::Keccak256 => "keccak256",
        }
    }

    /// The same hash as an operation inside the tree.
    pub fn op(self) -> Op {
        match self {
            HashOp::Sha1 => Op::Sha1,
            HashOp::Ripemd160 => Op::Ripemd160,
            HashOp::Sha256 => Op::Sha256,
            HashOp::Keccak256 => Op::Keccak256,
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashOp::Sha1 => hash::<sha1::Sha1>(data),
            HashOp::Ripemd160 => hash::<ripemd::Ripemd160>(data),
            HashOp::Sha256 => hash::<sha2::Sha256>(data),
            HashOp::Keccak256 => hash::<sha3::Keccak256>(data),
        }
    }

    /// Digest of everything `reader` yields, without holding it in memory.
    pub fn digest_reader<R: Read>(self, reader: R) -> io::Result<Vec<u8>> {
        match self {
            HashOp::Sha1 => hash_reader::<sha1::Sha1, R>(reader),
            HashOp::Ripemd160 => hash_reader::<ripemd::Ripemd160, R>(reader),
            HashOp::Sha256 => hash_reader::<sha2::Sha256, R>(reader),
            HashOp::Keccak256 => hash_reader::<sha3::Keccak256, R>(reader),
        }
    }
}

impl fmt::Display for HashOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn hash<D: sha2::Digest>(data: &[u8]) -> Vec<u8> {
    D::digest(data).to_vec()
}

fn hash_reader<D: sha2::Digest, R: Read>(mut reader: R) -> io::Result<Vec<u8>> {
    let mut hasher = D::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(hasher.finalize().to_vec()),
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// An edge of the tree: turns the message at a node into the message at its child.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Op {
    Append(Vec<u8>),
    Prepend(Vec<u8>),
    Sha256,
    Sha1,
    Ripemd160,
    Keccak256,
    Reverse,
    Hexlify,
}

impl Op {
    pub fn tag(&self) -> u8 {
        match self {
            Op::Append(_) => 0xf0,
            Op::Prepend(_) => 0xf1,
            Op::Sha256 => 0x08,
            Op::Sha1 => 0x02,
            Op::Ripemd160 => 0x03,
            Op::Keccak256 => 0x67,
            Op::Reverse => 0xf2,
            Op::Hexlify => 0xf3,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Op::Append(_) => "append",
            Op::Prepend(_) => "prepend",
            Op::Sha256 => "sha256",
            Op::Sha1 => "sha1",
            Op::Ripemd160 => "ripemd160",
            Op::Keccak256 => "keccak256",
            Op::Reverse => "reverse",
            Op::Hexlify => "hexlify",
        }
    }

    /// The argument of append/prepend.
    pub fn arg(&self) -> Option<&[u8]> {
        match self {
            Op::Append(arg) | Op::Prepend(arg) => Some(arg),
            _ => None,
        }
    }

    /// Applies the operation. Infallible on purpose: the length limits are
    /// enforced where trees enter (parsing, building, merging), so walking a
    /// tree never has to handle a failure halfway down a path.
    pub fn apply(&self, msg: &[u8]) -> Vec<u8> {
        match self {
            Op::Append(arg) => [msg, arg].concat(),
            Op::Prepend(arg) => [&arg[..], msg].concat(),
            Op::Sha256 => HashOp::Sha256.digest(msg),
            Op::Sha1 => HashOp::Sha1.digest(msg),
            Op::Ripemd160 => HashOp::Ripemd160.digest(msg),
            Op::Keccak256 => HashOp::Keccak256.digest(msg),
            Op::Reverse => msg.iter().rev().copied().collect(),
            Op::Hexlify => hex::encode(msg).into_bytes(),
        }
    }

    /// Length of the result for a message of `msg_len` bytes, or why the
    /// operation may not be applied to it. Lets the parser enforce
    /// python-opentimestamps' limits without hashing anything.
    fn result_len(&self, msg_len: usize) -> Result<usize, &'static str> {
        if msg_len > MAX_MSG_LEN {
            return Err("message longer than 4096 bytes");
        }
        let len = match self {
            Op::Append(arg) | Op::Prepend(arg) => msg_len + arg.len(),
            Op::Sha1 | Op::Ripemd160 => 20,
            Op::Sha256 | Op::Keccak256 => 32,
            // An empty result would let a path commit to nothing at all.
            Op::Reverse | Op::Hexlify if msg_len == 0 => return Err("empty message"),
            Op::Reverse => msg_len,
            Op::Hexlify => msg_len * 2,
        };
        if len > MAX_MSG_LEN {
            return Err("result longer than 4096 bytes");
        }
        Ok(len)
    }
}

/// Python-opentimestamps' order (tag, then argument), which decides the order
/// of branches in canonical serialization.
impl Ord for Op {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.tag(), self.arg()).cmp(&(other.tag(), other.arg()))
    }
}

impl PartialOrd for Op {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.arg() {
            Some(arg) => write!(f, "{} {}", self.name(), hex::encode(arg)),
            None => f.write_str(self.name()),
        }
    }
}

/// A leaf of the tree: a claim that the message at that node existed by some time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Attestation {
    /// A calendar holds the commitment and will get it into a block; ask it later.
    Pending { uri: String },
    /// The message is the merkle root of the Bitcoin block at `height`.
    Bitcoin { height: u64 },
    /// The message is the merkle root of the Litecoin block at `height`.
    Litecoin { height: u64 },
    /// A kind we do not know, kept byte for byte so that rewriting the proof
    /// loses nothing a newer verifier could use.
    Unknown { tag: [u8; 8], payload: Vec<u8> },
}

impl Attestation {
    /// A pending attestation, with the URI checked as python-opentimestamps
    /// checks it (its deliberately narrow character set keeps queries,
    /// credentials and percent-escapes out of URIs a verifier may fetch).
    pub fn pending(uri: impl Into<String>) -> Result<Attestation, OtsError> {
        let uri = uri.into();
        check_uri(uri.as_bytes()).map_err(|reason| OtsError::InvalidUri {
            uri: String::from_utf8_lossy(uri.as_bytes()).into_owned(),
            reason,
        })?;
        Ok(Attestation::Pending { uri })
    }

    pub fn tag(&self) -> [u8; 8] {
        match self {
            Attestation::Pending { .. } => PENDING_TAG,
            Attestation::Bitcoin { .. } => BITCOIN_TAG,
            Attestation::Litecoin { .. } => LITECOIN_TAG,
            Attestation::Unknown { tag, .. } => *tag,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Attestation::Pending { .. } => 0,
            Attestation::Bitcoin { .. } => 1,
            Attestation::Litecoin { .. } => 2,
            Attestation::Unknown { .. } => 3,
        }
    }
}

pub(crate) fn check_uri(uri: &[u8]) -> Result<(), String> {
    if uri.len() > MAX_URI_LEN {
        return Err(format!("longer than {MAX_URI_LEN} bytes"));
    }
    match uri.iter().find(|&&b| !(b.is_ascii_alphanumeric() || b"-._/:".contains(&b))) {
        Some(&b) => Err(format!("character {:?} is not allowed", char::from(b))),
        None => Ok(()),
    }
}

/// Tag first, then height, URI or payload. Python-opentimestamps only orders
/// attestations of the same kind reliably; ordering kinds by tag is what its
/// base class intends and makes our output deterministic.
impl Ord for Attestation {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use Attestation::*;
        self.tag().cmp(&other.tag()).then_with(|| match (self, other) {
            (Pending { uri: a }, Pending { uri: b }) => a.cmp(b),
            (Bitcoin { height: a }, Bitcoin { height: b }) | (Litecoin { height: a }, Litecoin { height: b }) => {
                a.cmp(b)
            }
            (Unknown { payload: a, .. }, Unknown { payload: b, .. }) => a.cmp(b),
            // Only reachable for a hand-built `Unknown` that reuses a known tag.
            _ => self.rank().cmp(&other.rank()),
        })
    }
}

impl PartialOrd for Attestation {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Attestation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attestation::Pending { uri } => write!(f, "pending at {uri}"),
            Attestation::Bitcoin { height } => write!(f, "Bitcoin block {height}"),
            Attestation::Litecoin { height } => write!(f, "Litecoin block {height}"),
            Attestation::Unknown { tag, payload } => {
                write!(f, "unknown attestation {} ({} bytes)", hex::encode(tag), payload.len())
            }
        }
    }
}

/// A node of the proof tree. Parsed and built trees keep both lists in
/// canonical order (sorted, no duplicates), so equal proofs compare equal.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Timestamp {
    pub attestations: Vec<Attestation>,
    pub ops: Vec<(Op, Timestamp)>,
}

impl Timestamp {
    /// A leaf carrying one attestation.
    pub fn attested(attestation: Attestation) -> Timestamp {
        Timestamp { attestations: vec![attestation], ops: Vec::new() }
    }

    /// A single path: `ops` applied in order, then `attestation`.
    pub fn from_path(ops: impl IntoIterator<Item = Op>, attestation: Attestation) -> Timestamp {
        let ops: Vec<Op> = ops.into_iter().collect();
        ops.into_iter().rev().fold(Timestamp::attested(attestation), |child, op| Timestamp {
            attestations: Vec::new(),
            ops: vec![(op, child)],
        })
    }

    /// Adds everything in `other`, which must be a timestamp for the same
    /// message; branches through the same operation are merged recursively.
    pub fn merge(&mut self, other: Timestamp) {
        self.attestations.extend(other.attestations);
        self.ops.extend(other.ops);
        self.normalize_level();
    }

    /// Puts the whole tree in canonical order and merges duplicate branches.
    pub fn canonicalize(&mut self) {
        for (_, child) in &mut self.ops {
            child.canonicalize();
        }
        self.normalize_level();
    }

    /// Sorts this node's branches and folds duplicates together, assuming the
    /// children are already canonical (merging canonical trees keeps them so).
    fn normalize_level(&mut self) {
        self.attestations.sort();
        self.attestations.dedup();
        // Stable, so that merging keeps the first occurrence as the base.
        self.ops.sort_by(|a, b| a.0.cmp(&b.0));
        let mut merged: Vec<(Op, Timestamp)> = Vec::with_capacity(self.ops.len());
        for (op, child) in self.ops.drain(..) {
            match merged.last_mut() {
                Some((last, existing)) if *last == op => existing.merge(child),
                _ => merged.push((op, child)),
            }
        }
        self.ops = merged;
    }

    /// Every attestation with the message it attests to, starting from `msg`,
    /// depth first in canonical order.
    pub fn attestations(&self, msg: &[u8]) -> Vec<(Vec<u8>, Attestation)> {
        let mut out = Vec::new();
        self.collect(msg, &mut out);
        out
    }

    fn collect(&self, msg: &[u8], out: &mut Vec<(Vec<u8>, Attestation)>) {
        out.extend(self.attestations.iter().map(|a| (msg.to_vec(), a.clone())));
        for (op, child) in &self.ops {
            child.collect(&op.apply(msg), out);
        }
    }

    /// Merges `other` (a timestamp for `target`) into the first node, in
    /// canonical depth-first order, whose message is `target`; `msg` is the
    /// message at this node. Calendars answer with exactly such timestamps.
    /// On error `self` is unchanged.
    pub fn merge_at(&mut self, msg: &[u8], target: &[u8], other: Timestamp) -> Result<(), OtsError> {
        let mut merged = self.clone();
        let node =
            find_node(&mut merged, msg, target).ok_or_else(|| OtsError::NoSuchMessage { msg: hex::encode(target) })?;
        node.merge(other);
        // Whatever we build must parse again, or the proof we write is useless.
        parse_timestamp(&serialize_timestamp(&merged), msg).map_err(|e| OtsError::InvalidMerge(Box::new(e)))?;
        *self = merged;
        Ok(())
    }
}

fn find_node<'a>(node: &'a mut Timestamp, msg: &[u8], target: &[u8]) -> Option<&'a mut Timestamp> {
    if msg == target {
        return Some(node);
    }
    for (op, child) in &mut node.ops {
        if let Some(found) = find_node(child, &op.apply(msg), target) {
            return Some(found);
        }
    }
    None
}

/// The message reached from `msg` by applying `ops` in order.
pub fn apply_ops<'a>(msg: &[u8], ops: impl IntoIterator<Item = &'a Op>) -> Vec<u8> {
    ops.into_iter().fold(msg.to_vec(), |m, op| op.apply(&m))
}

/// A proof for one file: how the file was hashed, its digest, and the tree
/// that commits that digest to attestations. This is what a `.ots` file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetachedTimestamp {
    pub file_hash_op: HashOp,
    pub file_digest: Vec<u8>,
    pub timestamp: Timestamp,
}

impl DetachedTimestamp {
    /// A proof with a single path from the file digest through `ops` to
    /// `attestation`: what a client holds after submitting to one calendar
    /// (typically `[Append(nonce), Sha256]` then `Pending`).
    pub fn from_path(
        file_hash_op: HashOp,
        file_digest: Vec<u8>,
        ops: impl IntoIterator<Item = Op>,
        attestation: Attestation,
    ) -> Result<DetachedTimestamp, OtsError> {
        let proof = DetachedTimestamp { file_hash_op, file_digest, timestamp: Timestamp::from_path(ops, attestation) };
        proof.validate()?;
        Ok(proof)
    }

    /// Checks that the proof serializes to bytes that [`parse`] accepts: digest
    /// length, argument and message lengths, depth, URIs, non-empty nodes.
    pub fn validate(&self) -> Result<(), OtsError> {
        let expected = self.file_hash_op.digest_len();
        if self.file_digest.len() != expected {
            return Err(OtsError::DigestLength { op: self.file_hash_op, expected, actual: self.file_digest.len() });
        }
        parse(&serialize(self)).map(drop)
    }

    /// Every attestation with the commitment message it attests to, walking
    /// the tree from the file digest.
    pub fn attestations(&self) -> Vec<(Vec<u8>, Attestation)> {
        self.timestamp.attestations(&self.file_digest)
    }

    /// Merges `other`, a timestamp for the message `msg` somewhere in this
    /// proof (such as a calendar's reply for the commitment sent to it).
    pub fn merge_at(&mut self, msg: &[u8], other: Timestamp) -> Result<(), OtsError> {
        self.timestamp.merge_at(&self.file_digest, msg, other)
    }

    /// Merges another proof for the same file (for example one upgraded by a
    /// different calendar).
    pub fn merge(&mut self, other: DetachedTimestamp) -> Result<(), OtsError> {
        if other.file_hash_op != self.file_hash_op || other.file_digest != self.file_digest {
            return Err(OtsError::DifferentFile);
        }
        let digest = self.file_digest.clone();
        self.timestamp.merge_at(&digest, &digest, other.timestamp)
    }
}
