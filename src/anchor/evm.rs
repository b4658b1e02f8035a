//! Anchoring to EVM chains (Ethereum and its kin) over JSON-RPC, with alloy.
//!
//! One transaction per batch carries the Merkle root in its calldata:
//! `"vouch:anchor:v1:" ‖ root` (48 bytes), sent by the anchoring account to
//! itself with value 0. Calldata rather than a contract event because it needs
//! no deployed contract (nothing to trust, audit or lose), costs about 22,000
//! gas, and any node answers `eth_getTransactionByHash` for it; the price is
//! that the root is found by transaction hash, which every receipt records.
//!
//! Each file gets `FILE.anchor.json`: its SHA-256, nonce and Merkle path to
//! the root, and where the root sits on chain (chain id, tx hash, block).
//! Verification re-derives the root from the file, then asks a node of that
//! chain whether the transaction exists there, carries that root, and sits
//! in the block the receipt names.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use alloy::consensus::Transaction as _;
use alloy::network::{EthereumWallet, TransactionBuilder, TransactionResponse as _};
use alloy::primitives::{Bytes, B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use chrono::{DateTime, SecondsFormat};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::merkle::{self, Hash, Step};
use super::stamp::{Anchored, BatchFile};
use super::{digest, AnchorError, AnchorReport, AnchorState};

/// Prefix of the calldata that carries a batch root.
pub const CALLDATA_PREFIX: &[u8] = b"vouch:anchor:v1:";
pub const RECEIPT_VERSION: u32 = 1;
/// The largest receipt vouch reads; real ones are a few kilobytes.
const MAX_RECEIPT_BYTES: u64 = 1 << 20;

/// `photo.jpg` → `photo.jpg.anchor.json`.
pub fn receipt_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".anchor.json");
    PathBuf::from(name)
}

/// Whether `path` names an EVM anchor receipt.
pub fn is_receipt(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".anchor.json"))
}

/// `FILE.anchor.json`: everything needed to check the anchor later with any
/// node of the chain, and nothing else.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Receipt {
    pub version: u32,
    /// SHA-256 of the file, hex.
    #[serde(with = "hex_bytes")]
    pub sha256: Hash,
    /// IPFS CIDv1 (raw, sha2-256) of the same bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipfs_cid: Option<String>,
    #[serde(with = "hex_bytes")]
    pub nonce: [u8; 16],
    /// Leaf `sha256(sha256 ‖ nonce)` → root.
    pub merkle_path: Vec<Step>,
    #[serde(with = "hex_bytes")]
    pub root: Hash,
    pub chain_id: u64,
    pub tx_hash: B256,
    pub block_number: u64,
    pub block_hash: B256,
    /// Block time, RFC 3339.
    pub block_time: String,
}

/// Where to send an anchoring transaction.
pub struct EvmTarget {
    pub rpc: String,
    /// The chain the caller expects; anchoring refuses a node of another chain.
    pub chain_id: Option<u64>,
    pub confirmations: u64,
    pub timeout: Duration,
}

/// A private key held only as long as needed.
pub struct EvmKey(Zeroizing<String>);

impl EvmKey {
    /// Reads a hex private key from environment variable `var`.
    pub fn from_env(var: &str) -> Result<Self, AnchorError> {
        match std::env::var(var) {
            Ok(value) if !value.trim().is_empty() => Ok(Self(Zeroizing::new(value.trim().to_string()))),
            _ => Err(AnchorError::Key(format!(
                "environment variable {var} is not set (it must hold the anchoring account's hex private key)"
            ))),
        }
    }

    fn signer(&self) -> Result<PrivateKeySigner, AnchorError> {
        // The parse error may quote the input, so it is not passed on.
        self.0.parse().map_err(|_| AnchorError::Key("the private key is not 32 bytes of hex".into()))
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, AnchorError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AnchorError::Rpc(format!("cannot start the RPC client: {e}")))
}

fn rpc_url(rpc: &str) -> Result<reqwest_url::Url, AnchorError> {
    rpc.parse().map_err(|e| AnchorError::Rpc(format!("{rpc}: not a URL: {e}")))
}

mod reqwest_url {
    pub use alloy::transports::http::reqwest::Url;
}

/// Bounds every RPC call: a node that never answers is an error, not a hang.
async fn within<T, E: std::error::Error>(
    rpc: &str,
    what: &str,
    timeout: Duration,
    call: impl std::future::IntoFuture<Output = Result<T, E>>,
) -> Result<T, AnchorError> {
    match tokio::time::timeout(timeout, call.into_future()).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => {
            // Transport errors bury the useful part ("connection refused") in their sources.
            let mut message = e.to_string();
            let mut source = e.source();
            while let Some(cause) = source {
                let cause_text = cause.to_string();
                if !message.contains(&cause_text) {
                    message = format!("{message}: {cause_text}");
                }
                source = cause.source();
            }
            Err(AnchorError::Rpc(format!("{rpc}: {what}: {message}")))
        }
        Err(_) => Err(AnchorError::Rpc(format!("{rpc}: {what}: no answer within {}s", timeout.as_secs()))),
    }
}

fn rfc3339(unix: u64) -> String {
    DateTime::from_timestamp(unix as i64, 0)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| format!("@{unix}"))
}

/// Where a batch root landed.
struct Landing {
    chain_id: u64,
    tx_hash: B256,
    block_number: u64,
    block_hash: B256,
    block_time: String,
}

/// Sends one transaction carrying `root` and waits for its confirmations.
fn send_root(root: &Hash, target: &EvmTarget, key: &EvmKey) -> Result<Landing, AnchorError> {
    let signer = key.signer()?;
    let from = signer.address();
    let url = rpc_url(&target.rpc)?;
    let rpc = target.rpc.as_str();
    let timeout = target.timeout;
    runtime()?.block_on(async {
        let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(url);
        let chain_id = within(rpc, "eth_chainId", timeout, provider.get_chain_id()).await?;
        if let Some(expected) = target.chain_id.filter(|&c| c != chain_id) {
            return Err(AnchorError::Rpc(format!("{rpc}: serves chain {chain_id}, not chain {expected}")));
        }
        let mut calldata = CALLDATA_PREFIX.to_vec();
        calldata.extend_from_slice(root);
        let tx = TransactionRequest::default()
            .with_from(from)
            .with_to(from)
            .with_value(U256::ZERO)
            .with_chain_id(chain_id)
            .with_input(Bytes::from(calldata));
        let pending = within(rpc, "eth_sendRawTransaction", timeout, provider.send_transaction(tx)).await?;
        let tx_hash = *pending.tx_hash();
        // Waiting for K blocks takes K block times; the per-call timeout
        // bounds each poll, this bounds the whole wait.
        let wait = timeout + Duration::from_secs(30 * target.confirmations.max(1));
        let receipt = within(
            rpc,
            &format!("waiting for {tx_hash}"),
            wait,
            pending.with_required_confirmations(target.confirmations.max(1)).get_receipt(),
        )
        .await?;
        if !receipt.status() {
            return Err(AnchorError::Rpc(format!("{rpc}: transaction {tx_hash} failed on chain")));
        }
        let block_number = receipt
            .block_number
            .ok_or_else(|| AnchorError::Rpc(format!("{rpc}: receipt of {tx_hash} names no block")))?;
        let block = within(rpc, "eth_getBlockByNumber", timeout, provider.get_block_by_number(block_number.into()))
            .await?
            .ok_or_else(|| AnchorError::Rpc(format!("{rpc}: block {block_number} not found")))?;
        Ok(Landing {
            chain_id,
            tx_hash,
            block_number,
            block_hash: block.header.hash,
            block_time: rfc3339(block.header.timestamp),
        })
    })
}

/// Builds the tree over `files`, commits its root in one transaction and
/// writes `FILE.anchor.json` beside every file (atomically; an existing
/// receipt is kept unless `force`).
pub fn anchor_evm(
    files: &[BatchFile],
    target: &EvmTarget,
    key: &EvmKey,
    force: bool,
) -> Result<Vec<Result<Anchored, AnchorError>>, AnchorError> {
    // Refuses existing receipts before spending gas, not after.
    let tree = super::stamp::batch_tree(files, receipt_path, force)?;
    let root = tree.root();
    let landing = send_root(&root, target, key)?;
    let receipts = super::stamp::write_receipts(files, force, |i, file| {
        let receipt = Receipt {
            version: RECEIPT_VERSION,
            sha256: file.sha256,
            ipfs_cid: Some(digest::ipfs_cid(&file.sha256)),
            nonce: file.nonce,
            merkle_path: tree.proof(i),
            root,
            chain_id: landing.chain_id,
            tx_hash: landing.tx_hash,
            block_number: landing.block_number,
            block_hash: landing.block_hash,
            block_time: landing.block_time.clone(),
        };
        let mut json = serde_json::to_vec_pretty(&receipt).expect("receipts always serialise");
        json.push(b'\n');
        Ok((receipt_path(&file.path), json))
    });
    let root_hex = hex::encode(root);
    Ok(files
        .iter()
        .zip(receipts)
        .map(|(file, receipt)| {
            Ok(Anchored {
                chain: Some(chain_name(landing.chain_id)),
                tx_hash: Some(landing.tx_hash.to_string()),
                block: Some(landing.block_number),
                ..Anchored::new(file, receipt?, &root_hex)
            })
        })
        .collect())
}

/// CAIP-2 name of an EVM chain: `eip155:1` is Ethereum mainnet.
pub fn chain_name(chain_id: u64) -> String {
    format!("eip155:{chain_id}")
}

/// Reads and parses `FILE.anchor.json`, refusing anything malformed.
pub fn read_receipt(path: &Path) -> Result<Receipt, AnchorError> {
    let io = |source| AnchorError::Io { path: path.to_path_buf(), source };
    let bad = |reason: String| AnchorError::Receipt { path: path.to_path_buf(), reason };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_RECEIPT_BYTES {
        return Err(bad(format!("{len} bytes, more than the {MAX_RECEIPT_BYTES} a receipt can need")));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    parse_receipt(&bytes).map_err(bad)
}

/// Parses receipt bytes, refusing anything malformed; the reason is one line.
pub fn parse_receipt(bytes: &[u8]) -> Result<Receipt, String> {
    let receipt: Receipt = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if receipt.version != RECEIPT_VERSION {
        return Err(format!("version {} (this vouch reads version {RECEIPT_VERSION})", receipt.version));
    }
    if receipt.merkle_path.len() > merkle::MAX_DEPTH {
        return Err(format!(
            "Merkle path of {} steps, longer than any real batch ({} at most)",
            receipt.merkle_path.len(),
            merkle::MAX_DEPTH
        ));
    }
    Ok(receipt)
}

/// What a node says about one anchoring transaction.
#[derive(Debug, Clone)]
enum TxFacts {
    Missing,
    Found {
        chain_id: Option<u64>,
        input: Vec<u8>,
        succeeded: bool,
        block_number: Option<u64>,
        block_hash: Option<B256>,
        /// The canonical block at `block_number` now, and its time.
        canonical_hash: Option<B256>,
        block_time: Option<u64>,
        head: u64,
    },
}

/// A JSON-RPC node to check receipts against, with answers cached so a batch
/// of thousands of receipts sharing one transaction costs a few requests.
pub struct EvmVerifier {
    rpc: String,
    timeout: Duration,
    min_confirmations: u64,
    runtime: tokio::runtime::Runtime,
    // Held across the lookup: concurrent checks of one batch then wait for
    // the first answer instead of all asking the node at once.
    cache: Mutex<(Option<u64>, HashMap<B256, TxFacts>)>,
}

impl EvmVerifier {
    pub fn new(rpc: &str, min_confirmations: u64, timeout: Duration) -> Result<Self, AnchorError> {
        rpc_url(rpc)?;
        Ok(Self {
            rpc: rpc.to_string(),
            timeout,
            min_confirmations: min_confirmations.max(1),
            runtime: runtime()?,
            cache: Mutex::new((None, HashMap::new())),
        })
    }

    /// The node's chain id and what it knows of `tx_hash`.
    fn lookup(&self, tx_hash: B256) -> Result<(u64, TxFacts), AnchorError> {
        let mut cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let (Some(chain_id), Some(facts)) = (cache.0, cache.1.get(&tx_hash)) {
            return Ok((chain_id, facts.clone()));
        }
        let rpc = self.rpc.as_str();
        let timeout = self.timeout;
        let provider = ProviderBuilder::new().connect_http(rpc_url(rpc)?);
        let (chain_id, facts) = self.runtime.block_on(async {
            let chain_id = match cache.0 {
                Some(id) => id,
                None => within(rpc, "eth_chainId", timeout, provider.get_chain_id()).await?,
            };
            let Some(tx) =
                within(rpc, "eth_getTransactionByHash", timeout, provider.get_transaction_by_hash(tx_hash)).await?
            else {
                return Ok::<_, AnchorError>((chain_id, TxFacts::Missing));
            };
            let succeeded =
                within(rpc, "eth_getTransactionReceipt", timeout, provider.get_transaction_receipt(tx_hash))
                    .await?
                    .is_some_and(|r| r.status());
            let head = within(rpc, "eth_blockNumber", timeout, provider.get_block_number()).await?;
            let (mut canonical_hash, mut block_time) = (None, None);
            if let Some(number) = tx.block_number() {
                if let Some(block) =
                    within(rpc, "eth_getBlockByNumber", timeout, provider.get_block_by_number(number.into())).await?
                {
                    canonical_hash = Some(block.header.hash);
                    block_time = Some(block.header.timestamp);
                }
            }
            Ok((
                chain_id,
                TxFacts::Found {
                    chain_id: tx.chain_id(),
                    input: tx.input().to_vec(),
                    succeeded,
                    block_number: tx.block_number(),
                    block_hash: tx.block_hash(),
                    canonical_hash,
                    block_time,
                    head,
                },
            ))
        })?;
        cache.0 = Some(chain_id);
        cache.1.insert(tx_hash, facts.clone());
        Ok((chain_id, facts))
    }
}

/// Checks `file` against its EVM receipt: file → path → root offline, then
/// root → transaction → block with the node, when one is given.
pub fn verify(file: &Path, receipt_file: &Path, node: Option<&EvmVerifier>) -> Result<AnchorReport, AnchorError> {
    let receipt = read_receipt(receipt_file)?;
    let mut report = AnchorReport {
        kind: "evm",
        state: AnchorState::Invalid,
        chain: Some(chain_name(receipt.chain_id)),
        block: Some(receipt.block_number),
        block_hash: Some(receipt.block_hash.to_string()),
        time: Some(receipt.block_time.clone()),
        reason: None,
        receipt: receipt_file.to_path_buf(),
        tx_hash: Some(receipt.tx_hash.to_string()),
        confirmations: None,
        beyond_checkpoints: false,
        invalid_attestations: Vec::new(),
    };
    let invalid = |mut report: AnchorReport, reason: String| {
        report.state = AnchorState::Invalid;
        report.reason = Some(reason);
        Ok(report)
    };
    let sha256 = digest::sha256_file(file).map_err(|source| AnchorError::Io { path: file.to_path_buf(), source })?;
    if sha256 != receipt.sha256 {
        return invalid(
            report,
            format!(
                "file does not match the receipt: its SHA-256 is {}, the receipt is for {}",
                hex::encode(sha256),
                hex::encode(receipt.sha256)
            ),
        );
    }
    let leaf = merkle::leaf(&sha256, &receipt.nonce);
    if merkle::root_from_path(leaf, &receipt.merkle_path) != Some(receipt.root) {
        return invalid(report, "the Merkle path does not lead to the receipt's root".into());
    }
    let Some(node) = node else {
        report.state = AnchorState::Unverifiable;
        report.reason = Some(format!("give --rpc with a node of chain {} to check the transaction", receipt.chain_id));
        return Ok(report);
    };
    let (node_chain, facts) = node.lookup(receipt.tx_hash)?;
    let TxFacts::Found { chain_id, input, succeeded, block_number, block_hash, canonical_hash, block_time, head } =
        facts
    else {
        if node_chain != receipt.chain_id {
            report.state = AnchorState::Unverifiable;
            report.reason =
                Some(format!("{} serves chain {node_chain}, the receipt is for chain {}", node.rpc, receipt.chain_id));
            return Ok(report);
        }
        return invalid(report, format!("no transaction {} on chain {}", receipt.tx_hash, receipt.chain_id));
    };
    // Pre-EIP-155 transactions carry no chain id; the node's is then theirs.
    let tx_chain = chain_id.unwrap_or(node_chain);
    if tx_chain != receipt.chain_id {
        return invalid(
            report,
            format!(
                "transaction {} is on chain {tx_chain}, the receipt says chain {}",
                receipt.tx_hash, receipt.chain_id
            ),
        );
    }
    let mut expected = CALLDATA_PREFIX.to_vec();
    expected.extend_from_slice(&receipt.root);
    if input != expected {
        return invalid(
            report,
            format!("transaction {} does not carry root {}", receipt.tx_hash, hex::encode(receipt.root)),
        );
    }
    if !succeeded {
        return invalid(report, format!("transaction {} failed on chain", receipt.tx_hash));
    }
    let (Some(number), Some(hash)) = (block_number, block_hash) else {
        report.state = AnchorState::Pending;
        report.reason = Some(format!("transaction {} is not in a block yet", receipt.tx_hash));
        return Ok(report);
    };
    if number != receipt.block_number || hash != receipt.block_hash || canonical_hash != Some(hash) {
        return invalid(
            report,
            format!(
                "transaction {} is in block {number} ({hash}), not the receipt's block {} ({}): the chain was reorganised",
                receipt.tx_hash, receipt.block_number, receipt.block_hash
            ),
        );
    }
    let confirmations = head.saturating_sub(number) + 1;
    report.confirmations = Some(confirmations);
    if let Some(time) = block_time {
        report.time = Some(rfc3339(time));
    }
    if confirmations < node.min_confirmations {
        report.state = AnchorState::Pending;
        report.reason = Some(format!("{confirmations} of {} confirmations", node.min_confirmations));
        return Ok(report);
    }
    report.state = AnchorState::Confirmed;
    Ok(report)
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer, const N: usize>(bytes: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(&text).map_err(serde::de::Error::custom)?;
        bytes.try_into().map_err(|_| serde::de::Error::custom(format!("expected {N} bytes of hex")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt_json(path_len: usize) -> String {
        let step = format!("{{\"side\":\"left\",\"hash\":\"{}\"}}", "00".repeat(32));
        let path = vec![step; path_len].join(",");
        format!(
            "{{\"version\":1,\"sha256\":\"{h}\",\"nonce\":\"{n}\",\"merkle_path\":[{path}],\"root\":\"{h}\",\
             \"chain_id\":31337,\"tx_hash\":\"0x{h}\",\"block_number\":1,\"block_hash\":\"0x{h}\",\
             \"block_time\":\"2026-01-01T00:00:00Z\"}}",
            h = "ab".repeat(32),
            n = "cd".repeat(16)
        )
    }

    fn read(json: &str) -> Result<Receipt, AnchorError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.anchor.json");
        std::fs::write(&path, json).unwrap();
        read_receipt(&path)
    }

    #[test]
    fn receipts_round_trip() {
        let receipt = read(&receipt_json(3)).unwrap();
        assert_eq!(receipt.merkle_path.len(), 3);
        let again: Receipt = serde_json::from_str(&serde_json::to_string(&receipt).unwrap()).unwrap();
        assert_eq!(again.root, receipt.root);
        assert_eq!(again.tx_hash, receipt.tx_hash);
    }

    #[test]
    fn over_long_paths_wrong_types_and_versions_are_refused() {
        let err = read(&receipt_json(merkle::MAX_DEPTH + 1)).unwrap_err().to_string();
        assert!(err.contains("Merkle path of 65 steps"), "{err}");
        let err = read(&receipt_json(1).replace("\"chain_id\":31337", "\"chain_id\":\"x\"")).unwrap_err().to_string();
        assert!(err.contains("invalid type"), "{err}");
        let err = read(&receipt_json(1).replace("\"version\":1", "\"version\":9")).unwrap_err().to_string();
        assert!(err.contains("version 9"), "{err}");
        let short_nonce = receipt_json(1).replace(&"cd".repeat(16), "cd");
        assert!(read(&short_nonce).unwrap_err().to_string().contains("16 bytes"));
    }
}
