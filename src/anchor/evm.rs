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
//! Verification re-derives the root from the file, then asks each node given
//! whether the transaction exists there, carries that root, succeeded and
//! sits in the block the receipt names. No answer is taken on the node's
//! word where a hash can check it: the signed transaction must hash to the
//! receipt's transaction hash, the header to the block hash, the block's
//! transactions and receipts to the header's roots. What is left to trust is
//! that a node serves the canonical chain (vouch checks no consensus), which
//! several independent nodes, all required to agree, make harder to fake.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use alloy::consensus::proofs::{calculate_receipt_root, ordered_trie_root_with_encoder};
use alloy::consensus::{ReceiptEnvelope, Transaction as _};
use alloy::eips::eip2718::Encodable2718 as _;
use alloy::eips::BlockId;
use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{keccak256, Bytes, B256, U256};
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
    rpc.parse().map_err(|e| AnchorError::Rpc(format!("{}: not a URL: {e}", crate::redact::url(rpc))))
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
    // Messages name the node without the credentials its URL may carry.
    let shown = crate::redact::url(&target.rpc);
    let rpc = shown.as_str();
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

/// The transaction as signed: what its hash commits to, and all vouch reads.
#[derive(Debug, Clone)]
struct SignedContent {
    chain_id: Option<u64>,
    input: Vec<u8>,
}

/// What a node says of the transaction when asked by hash
/// (`eth_getTransactionByHash`), its contents checked against the hash.
#[derive(Debug, Clone)]
enum Claim {
    /// Unknown to the node (never sent, dropped by a reorganisation, or
    /// outside the node's transaction index).
    Missing,
    Pending(SignedContent),
    InBlock {
        number: u64,
        hash: B256,
        tx: SignedContent,
    },
}

/// The node's canonical block at the receipt's height: its header hashes to
/// `hash`, its transactions rebuild the header's `transactionsRoot` and, when
/// it holds the anchoring transaction, its receipts the `receiptsRoot`.
#[derive(Debug, Clone)]
struct ProvenBlock {
    hash: B256,
    time: u64,
    /// The anchoring transaction as the block holds it, and whether its
    /// receipt says it succeeded.
    anchoring: Option<(SignedContent, bool)>,
}

/// What one node proved about an anchoring transaction and the block a
/// receipt names.
#[derive(Debug, Clone)]
struct NodeFacts {
    chain_id: u64,
    head: u64,
    claim: Claim,
    block: Option<ProvenBlock>,
}

/// A node's answer: facts that hash to what they claim, or the first one
/// that did not (the node, or something between it and vouch, altered it).
#[derive(Debug, Clone)]
enum Answer {
    Facts(NodeFacts),
    Altered(String),
}

/// One JSON-RPC node and its answers so far.
struct Node {
    rpc: String,
    /// The URL as messages show it: without credentials.
    name: String,
    // Held across the lookup: concurrent checks of one batch then wait for
    // the first answer instead of all asking the node at once.
    cache: Mutex<HashMap<(B256, u64), Answer>>,
}

/// The JSON-RPC nodes to check receipts against, with answers cached so a
/// batch of thousands of receipts sharing one transaction costs a handful of
/// requests per node.
pub struct EvmVerifier {
    nodes: Vec<Node>,
    timeout: Duration,
    min_confirmations: u64,
    runtime: tokio::runtime::Runtime,
}

impl EvmVerifier {
    /// `rpcs`: one or more nodes of the chain, best run by different operators:
    /// they must all see the same block at a receipt's height.
    pub fn new(rpcs: &[String], min_confirmations: u64, timeout: Duration) -> Result<Self, AnchorError> {
        if rpcs.is_empty() {
            return Err(AnchorError::Rpc("no EVM node given".into()));
        }
        let nodes = rpcs
            .iter()
            .map(|rpc| {
                rpc_url(rpc)?;
                Ok(Node { rpc: rpc.clone(), name: crate::redact::url(rpc), cache: Mutex::new(HashMap::new()) })
            })
            .collect::<Result<_, AnchorError>>()?;
        Ok(Self { nodes, timeout, min_confirmations: min_confirmations.max(1), runtime: runtime()? })
    }

    /// What `node` proves about `tx_hash` and the block at `height`.
    fn lookup(&self, node: &Node, tx_hash: B256, height: u64) -> Result<Answer, AnchorError> {
        let mut cache = node.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(answer) = cache.get(&(tx_hash, height)) {
            return Ok(answer.clone());
        }
        let answer = self.runtime.block_on(ask(&node.rpc, &node.name, tx_hash, height, self.timeout))?;
        cache.insert((tx_hash, height), answer.clone());
        Ok(answer)
    }
}

/// Keccak-256 of the signed transaction as the chain encodes it (EIP-2718):
/// its hash recomputed, never the `hash` field the node sends beside it.
fn recomputed_hash(tx: &alloy::rpc::types::Transaction) -> B256 {
    keccak256(tx.inner.inner().encoded_2718())
}

fn signed_content(tx: &alloy::rpc::types::Transaction) -> SignedContent {
    SignedContent { chain_id: tx.chain_id(), input: tx.input().to_vec() }
}

/// Asks one node about `tx_hash` and the block at `height`, and checks every
/// answer against the hash that commits to it: the transaction against its
/// hash, the header against the block hash, the block's transactions and
/// receipts against the header's roots.
async fn ask(url: &str, rpc: &str, tx_hash: B256, height: u64, timeout: Duration) -> Result<Answer, AnchorError> {
    let provider = ProviderBuilder::new().connect_http(rpc_url(url)?);
    let altered = |what: String| Ok(Answer::Altered(format!("{rpc}: {what}: the node altered it")));
    let chain_id = within(rpc, "eth_chainId", timeout, provider.get_chain_id()).await?;
    let head = within(rpc, "eth_blockNumber", timeout, provider.get_block_number()).await?;
    let claim =
        match within(rpc, "eth_getTransactionByHash", timeout, provider.get_transaction_by_hash(tx_hash)).await? {
            None => Claim::Missing,
            Some(tx) => {
                let recomputed = recomputed_hash(&tx);
                if recomputed != tx_hash {
                    return altered(format!(
                        "transaction {tx_hash} does not hash to its hash (what the node sent hashes to {recomputed})"
                    ));
                }
                match (tx.block_number, tx.block_hash) {
                    (Some(number), Some(hash)) => Claim::InBlock { number, hash, tx: signed_content(&tx) },
                    _ => Claim::Pending(signed_content(&tx)),
                }
            }
        };
    let Some(block) =
        within(rpc, "eth_getBlockByNumber", timeout, provider.get_block_by_number(height.into()).full()).await?
    else {
        return Ok(Answer::Facts(NodeFacts { chain_id, head, claim, block: None }));
    };
    let header = &block.header;
    let hash = header.hash;
    let recomputed = header.inner.hash_slow();
    if recomputed != hash {
        return altered(format!("block {height} header does not hash to {hash} (it hashes to {recomputed})"));
    }
    if header.inner.number != height {
        return altered(format!("asked for block {height}, it sent block {} ({hash})", header.inner.number));
    }
    let Some(transactions) = block.transactions.as_transactions() else {
        return Err(AnchorError::Rpc(format!("{rpc}: eth_getBlockByNumber sent transaction hashes, not transactions")));
    };
    let transactions_root = ordered_trie_root_with_encoder(transactions, |tx, buf| tx.inner.inner().encode_2718(buf));
    if transactions_root != header.inner.transactions_root {
        return altered(format!("transactionsRoot of block {height} ({hash}) does not match the block's transactions"));
    }
    let mut proven = ProvenBlock { hash, time: header.inner.timestamp, anchoring: None };
    if let Some(index) = transactions.iter().position(|tx| recomputed_hash(tx) == tx_hash) {
        let receipts = within(rpc, "eth_getBlockReceipts", timeout, provider.get_block_receipts(BlockId::hash(hash)))
            .await?
            .ok_or_else(|| AnchorError::Rpc(format!("{rpc}: eth_getBlockReceipts: no receipts for block {hash}")))?;
        let receipts: Vec<ReceiptEnvelope> = receipts.into_iter().map(|r| r.inner.into_primitives_receipt()).collect();
        if calculate_receipt_root(&receipts) != header.inner.receipts_root {
            return altered(format!("receiptsRoot of block {height} ({hash}) does not match the block's receipts"));
        }
        let succeeded = receipts.get(index).is_some_and(|r| r.status());
        proven.anchoring = Some((signed_content(&transactions[index]), succeeded));
    }
    Ok(Answer::Facts(NodeFacts { chain_id, head, claim, block: Some(proven) }))
}

/// One node's verdict on a receipt whose file and Merkle path already hold.
struct NodeVerdict {
    state: AnchorState,
    reason: Option<String>,
    confirmations: Option<u64>,
    time: Option<u64>,
}

impl NodeVerdict {
    fn new(state: AnchorState, reason: String) -> Self {
        Self { state, reason: Some(reason), confirmations: None, time: None }
    }

    /// Invalid beats unverifiable beats pending beats confirmed.
    fn rank(&self) -> u8 {
        match self.state {
            AnchorState::Invalid => 3,
            AnchorState::Unverifiable => 2,
            AnchorState::Pending => 1,
            AnchorState::Confirmed => 0,
        }
    }
}

/// Whether the transaction the receipt names carries its root on its chain.
fn check_content(receipt: &Receipt, tx: &SignedContent, node_chain: u64) -> Result<(), NodeVerdict> {
    // Pre-EIP-155 transactions carry no chain id; the node's is then theirs.
    let tx_chain = tx.chain_id.unwrap_or(node_chain);
    if tx_chain != receipt.chain_id {
        return Err(NodeVerdict::new(
            AnchorState::Invalid,
            format!(
                "transaction {} is on chain {tx_chain}, the receipt says chain {}",
                receipt.tx_hash, receipt.chain_id
            ),
        ));
    }
    let mut expected = CALLDATA_PREFIX.to_vec();
    expected.extend_from_slice(&receipt.root);
    if tx.input != expected {
        return Err(NodeVerdict::new(
            AnchorState::Invalid,
            format!("transaction {} does not carry root {}", receipt.tx_hash, hex::encode(receipt.root)),
        ));
    }
    Ok(())
}

/// Judges a receipt on one node's proven facts.
fn judge(receipt: &Receipt, rpc: &str, facts: &NodeFacts, min_confirmations: u64) -> NodeVerdict {
    let tx_hash = receipt.tx_hash;
    let number = receipt.block_number;
    let reorganised = |at: u64, hash: B256| {
        NodeVerdict::new(
            AnchorState::Invalid,
            format!(
                "transaction {tx_hash} is in block {at} ({hash}), not the receipt's block {number} ({}): the chain was reorganised",
                receipt.block_hash
            ),
        )
    };
    let contradiction = |says: String, block: B256| {
        NodeVerdict::new(
            AnchorState::Invalid,
            format!("{rpc} says transaction {tx_hash} {says}, yet block {number} ({block}) holds it: the node contradicts itself"),
        )
    };
    let in_block = facts.block.as_ref().and_then(|b| b.anchoring.as_ref().map(|a| (b, a)));
    let Some((block, (tx, succeeded))) = in_block else {
        // The block at the receipt's height (if any) does not hold the transaction.
        let (tx, location) = match &facts.claim {
            Claim::Missing if facts.chain_id != receipt.chain_id => {
                return NodeVerdict::new(
                    AnchorState::Unverifiable,
                    format!("{rpc} serves chain {}, the receipt is for chain {}", facts.chain_id, receipt.chain_id),
                )
            }
            Claim::Missing => {
                return NodeVerdict::new(
                    AnchorState::Invalid,
                    format!("no transaction {tx_hash} on chain {}", receipt.chain_id),
                )
            }
            Claim::Pending(tx) => (tx, None),
            Claim::InBlock { number, hash, tx } => (tx, Some((*number, *hash))),
        };
        if let Err(verdict) = check_content(receipt, tx, facts.chain_id) {
            return verdict;
        }
        return match location {
            None => NodeVerdict::new(AnchorState::Pending, format!("transaction {tx_hash} is not in a block yet")),
            Some((at, hash)) if at == number && facts.block.as_ref().is_some_and(|b| b.hash == hash) => {
                NodeVerdict::new(
                    AnchorState::Invalid,
                    format!("{rpc} says transaction {tx_hash} is in block {at} ({hash}), yet that block does not hold it: the node contradicts itself"),
                )
            }
            Some((at, hash)) => reorganised(at, hash),
        };
    };
    match &facts.claim {
        // A node may keep no index of old transactions; the block is proof enough.
        Claim::Missing => {}
        Claim::Pending(_) => return contradiction("is not in a block yet".into(), block.hash),
        Claim::InBlock { number: at, hash, .. } if (*at, *hash) != (number, block.hash) => {
            return contradiction(format!("is in block {at} ({hash})"), block.hash)
        }
        Claim::InBlock { .. } => {}
    }
    if let Err(verdict) = check_content(receipt, tx, facts.chain_id) {
        return verdict;
    }
    if !succeeded {
        return NodeVerdict::new(AnchorState::Invalid, format!("transaction {tx_hash} failed on chain"));
    }
    if block.hash != receipt.block_hash {
        return reorganised(number, block.hash);
    }
    let confirmations = facts.head.saturating_sub(number) + 1;
    let (state, reason) = if confirmations < min_confirmations {
        (AnchorState::Pending, Some(format!("{confirmations} of {min_confirmations} confirmations")))
    } else {
        (AnchorState::Confirmed, None)
    };
    NodeVerdict { state, reason, confirmations: Some(confirmations), time: Some(block.time) }
}

/// Checks `file` against its EVM receipt: file → path → root offline, then
/// root → transaction → block with every node given, each answer checked
/// against the hash that commits to it.
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
    let verdict = |mut report: AnchorReport, state: AnchorState, reason: String| {
        report.state = state;
        report.reason = Some(reason);
        Ok(report)
    };
    let sha256 = digest::sha256_file(file).map_err(|source| AnchorError::Io { path: file.to_path_buf(), source })?;
    if sha256 != receipt.sha256 {
        return verdict(
            report,
            AnchorState::Invalid,
            format!(
                "file does not match the receipt: its SHA-256 is {}, the receipt is for {}",
                hex::encode(sha256),
                hex::encode(receipt.sha256)
            ),
        );
    }
    let leaf = merkle::leaf(&sha256, &receipt.nonce);
    if merkle::root_from_path(leaf, &receipt.merkle_path) != Some(receipt.root) {
        return verdict(report, AnchorState::Invalid, "the Merkle path does not lead to the receipt's root".into());
    }
    let Some(verifier) = node else {
        let reason = format!("give --rpc with a node of chain {} to check the transaction", receipt.chain_id);
        return verdict(report, AnchorState::Unverifiable, reason);
    };
    let mut answers = Vec::with_capacity(verifier.nodes.len());
    for node in &verifier.nodes {
        match verifier.lookup(node, receipt.tx_hash, receipt.block_number)? {
            Answer::Altered(reason) => return verdict(report, AnchorState::Invalid, reason),
            Answer::Facts(facts) => answers.push((node.name.as_str(), facts)),
        }
    }
    // Independent nodes must see the same canonical block at that height; a
    // node serving a chain of its own (consistent, every hash rebuilt) shows
    // up here and nowhere else.
    let canonical = |facts: &NodeFacts| facts.block.as_ref().map(|b| b.hash);
    let (first_rpc, first) = &answers[0];
    if let Some((other_rpc, other)) = answers.iter().find(|(_, facts)| canonical(facts) != canonical(first)) {
        let show = |hash: Option<B256>| hash.map_or_else(|| "no such block".to_string(), |h| h.to_string());
        let reason = format!(
            "the nodes disagree on block {}: {first_rpc} has {}, {other_rpc} has {}",
            receipt.block_number,
            show(canonical(first)),
            show(canonical(other))
        );
        return verdict(report, AnchorState::Unverifiable, reason);
    }
    let verdicts: Vec<NodeVerdict> =
        answers.iter().map(|(rpc, facts)| judge(&receipt, rpc, facts, verifier.min_confirmations)).collect();
    let worst_index = (0..verdicts.len()).max_by_key(|&i| (verdicts[i].rank(), std::cmp::Reverse(i))).unwrap_or(0);
    let (worst, worst_rpc) = (&verdicts[worst_index], answers[worst_index].0);
    report.state = worst.state;
    report.reason = worst.reason.as_ref().map(|reason| match answers.len() {
        1 => reason.clone(),
        _ if reason.starts_with(worst_rpc) => reason.clone(),
        _ => format!("{worst_rpc}: {reason}"),
    });
    report.confirmations = verdicts.iter().filter_map(|v| v.confirmations).min();
    if let Some(time) = worst.time.or_else(|| verdicts.iter().find_map(|v| v.time)) {
        report.time = Some(rfc3339(time));
    }
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

    /// The receipt `receipt_json` describes: transaction 0xabab… in block 1
    /// (0xabab…) of chain 31337, carrying root abab….
    fn receipt() -> Receipt {
        parse_receipt(receipt_json(0).as_bytes()).unwrap()
    }

    /// The transaction as the receipt says it was sent.
    fn anchoring_tx() -> SignedContent {
        let mut input = CALLDATA_PREFIX.to_vec();
        input.extend_from_slice(&receipt().root);
        SignedContent { chain_id: Some(31337), input }
    }

    /// Block 1 as the receipt names it, holding the anchoring transaction
    /// (succeeded or not), or not holding it.
    fn block_1(anchoring: Option<(SignedContent, bool)>) -> ProvenBlock {
        ProvenBlock { hash: receipt().block_hash, time: 1_767_225_600, anchoring }
    }

    fn facts(claim: Claim, block: Option<ProvenBlock>, head: u64) -> NodeFacts {
        NodeFacts { chain_id: 31337, head, claim, block }
    }

    /// One node's (state, reason) on the receipt, 2 confirmations asked.
    fn judged(facts: &NodeFacts) -> (AnchorState, String) {
        let verdict = judge(&receipt(), "http://node", facts, 2);
        (verdict.state, verdict.reason.unwrap_or_default())
    }

    #[test]
    fn a_block_holding_the_transaction_confirms_it_once_deep_enough() {
        let held = Some(block_1(Some((anchoring_tx(), true))));
        // Block 1 under head 3: three confirmations, two asked.
        let verdict = judge(&receipt(), "http://node", &facts(Claim::Missing, held.clone(), 3), 2);
        assert_eq!((verdict.state, verdict.reason.as_deref()), (AnchorState::Confirmed, None));
        assert_eq!(verdict.confirmations, Some(3));
        assert_eq!(verdict.time, Some(1_767_225_600));
        // Exactly as many as asked is enough; one fewer is pending.
        let verdict = judge(&receipt(), "http://node", &facts(Claim::Missing, held.clone(), 2), 2);
        assert_eq!((verdict.state, verdict.confirmations), (AnchorState::Confirmed, Some(2)));
        let verdict = judge(&receipt(), "http://node", &facts(Claim::Missing, held.clone(), 1), 2);
        assert_eq!((verdict.state, verdict.confirmations), (AnchorState::Pending, Some(1)));
        assert_eq!(verdict.reason.as_deref(), Some("1 of 2 confirmations"));
        // The node's own index placing it in that block agrees.
        let claim = Claim::InBlock { number: 1, hash: receipt().block_hash, tx: anchoring_tx() };
        assert_eq!(judged(&facts(claim, held, 3)).0, AnchorState::Confirmed);
    }

    #[test]
    fn a_held_transaction_that_failed_carries_another_root_or_sits_in_another_block_is_invalid() {
        let failed = facts(Claim::Missing, Some(block_1(Some((anchoring_tx(), false)))), 3);
        assert_eq!(
            judged(&failed),
            (AnchorState::Invalid, format!("transaction {} failed on chain", receipt().tx_hash))
        );

        let mut other_root = anchoring_tx();
        *other_root.input.last_mut().unwrap() ^= 1;
        let (state, reason) = judged(&facts(Claim::Missing, Some(block_1(Some((other_root, true)))), 3));
        assert_eq!(state, AnchorState::Invalid);
        assert!(reason.contains(&format!("does not carry root {}", "ab".repeat(32))), "{reason}");

        let other_chain = SignedContent { chain_id: Some(1), ..anchoring_tx() };
        let (state, reason) = judged(&facts(Claim::Missing, Some(block_1(Some((other_chain, true)))), 3));
        assert_eq!(state, AnchorState::Invalid);
        assert!(reason.contains("is on chain 1, the receipt says chain 31337"), "{reason}");
        // A transaction from before chain ids (EIP-155) is the node's chain's.
        let unnamed = SignedContent { chain_id: None, ..anchoring_tx() };
        assert_eq!(judged(&facts(Claim::Missing, Some(block_1(Some((unnamed, true)))), 3)).0, AnchorState::Confirmed);

        // Block 1 holds it under another hash than the receipt's: a reorganisation.
        let replaced = ProvenBlock { hash: B256::repeat_byte(0x11), ..block_1(Some((anchoring_tx(), true))) };
        let (state, reason) = judged(&facts(Claim::Missing, Some(replaced), 3));
        assert_eq!(state, AnchorState::Invalid);
        assert!(
            reason.contains(&format!("is in block 1 ({}), not the receipt's block 1", B256::repeat_byte(0x11))),
            "{reason}"
        );
        assert!(reason.contains("reorganised"), "{reason}");
    }

    #[test]
    fn a_node_whose_index_contradicts_the_block_it_serves_is_not_believed() {
        let held = Some(block_1(Some((anchoring_tx(), true))));
        let (state, reason) = judged(&facts(Claim::Pending(anchoring_tx()), held.clone(), 3));
        assert_eq!(state, AnchorState::Invalid);
        assert!(
            reason.contains("is not in a block yet, yet block 1") && reason.contains("contradicts itself"),
            "{reason}"
        );
        for (at, hash) in [(2, receipt().block_hash), (1, B256::repeat_byte(0x11))] {
            let claim = Claim::InBlock { number: at, hash, tx: anchoring_tx() };
            let (state, reason) = judged(&facts(claim, held.clone(), 3));
            assert_eq!(state, AnchorState::Invalid, "{at} {hash}");
            assert!(reason.contains(&format!("is in block {at} ({hash}), yet block 1")), "{reason}");
        }
    }

    #[test]
    fn a_transaction_outside_the_receipt_s_block_is_missing_pending_or_moved() {
        // Unknown to a node of the receipt's chain: invalid; to a node of another chain: unverifiable.
        let (state, reason) = judged(&facts(Claim::Missing, None, 3));
        assert_eq!(
            (state, reason.as_str()),
            (AnchorState::Invalid, format!("no transaction {} on chain 31337", receipt().tx_hash).as_str())
        );
        let elsewhere = NodeFacts { chain_id: 1, ..facts(Claim::Missing, None, 3) };
        let (state, reason) = judged(&elsewhere);
        assert_eq!(
            (state, reason.as_str()),
            (AnchorState::Unverifiable, "http://node serves chain 1, the receipt is for chain 31337")
        );

        // Known but in no block yet: pending, unless it does not carry the root.
        let (state, reason) = judged(&facts(Claim::Pending(anchoring_tx()), None, 3));
        assert_eq!(
            (state, reason),
            (AnchorState::Pending, format!("transaction {} is not in a block yet", receipt().tx_hash))
        );
        let mut other_root = anchoring_tx();
        other_root.input.pop();
        let (state, reason) = judged(&facts(Claim::Pending(other_root), None, 3));
        assert_eq!(state, AnchorState::Invalid);
        assert!(reason.contains("does not carry root"), "{reason}");

        // Placed in the receipt's very block, which does not hold it: the node contradicts itself.
        let not_held = Some(block_1(None));
        let here = Claim::InBlock { number: 1, hash: receipt().block_hash, tx: anchoring_tx() };
        let (state, reason) = judged(&facts(here, not_held.clone(), 3));
        assert_eq!(state, AnchorState::Invalid);
        assert!(reason.contains("yet that block does not hold it: the node contradicts itself"), "{reason}");
        // Placed in another block, or under another hash at that height: reorganised.
        for (at, hash) in [(2, receipt().block_hash), (1, B256::repeat_byte(0x11))] {
            let claim = Claim::InBlock { number: at, hash, tx: anchoring_tx() };
            let (state, reason) = judged(&facts(claim, not_held.clone(), 3));
            assert_eq!(state, AnchorState::Invalid, "{at} {hash}");
            assert!(
                reason.contains(&format!("is in block {at} ({hash}), not the receipt's block 1"))
                    && reason.contains("reorganised"),
                "{reason}"
            );
        }
    }
}
