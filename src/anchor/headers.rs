//! Where Bitcoin block headers come from: a headers file (offline), a Bitcoin
//! Core node (`getblockhash` / `getblockheader` over JSON-RPC) or an Esplora
//! REST server. Whatever the source, vouch hashes each header itself and
//! refuses one whose hash is not the hash the source named, so a source can
//! withhold headers but not forge them for a hash it also reports.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use super::ots::{block_hash_hex, BlockHeader, HEADER_LEN};
use super::AnchorError;

/// A header reply is 160 hex characters; anything far larger is hostile.
const MAX_REPLY: u64 = 64 * 1024;

pub enum HeaderSource {
    /// Only the headers loaded from files.
    Offline,
    /// A Bitcoin Core JSON-RPC endpoint; credentials may sit in the URL.
    BitcoinRpc { url: String, agent: ureq::Agent },
    /// An Esplora REST base URL (e.g. …/api).
    Esplora { url: String, agent: ureq::Agent },
}

impl HeaderSource {
    pub fn bitcoin_rpc(url: &str, timeout: Duration) -> Self {
        Self::BitcoinRpc { url: url.to_string(), agent: agent(timeout) }
    }

    pub fn esplora(url: &str, timeout: Duration) -> Self {
        Self::Esplora { url: url.trim_end_matches('/').to_string(), agent: agent(timeout) }
    }

    fn fetch(&self, height: u64) -> Result<Option<BlockHeader>, AnchorError> {
        match self {
            Self::Offline => Ok(None),
            Self::BitcoinRpc { url, agent } => {
                let hash = match bitcoin_rpc(agent, url, "getblockhash", serde_json::json!([height]))? {
                    Some(serde_json::Value::String(hash)) => hash,
                    // Bitcoin Core answers -8 "Block height out of range".
                    None => return Ok(None),
                    Some(other) => return Err(rpc_error(url, format!("getblockhash returned {other}"))),
                };
                match bitcoin_rpc(agent, url, "getblockheader", serde_json::json!([hash, false]))? {
                    Some(serde_json::Value::String(hex)) => checked_header(url, height, &hash, &hex).map(Some),
                    other => Err(rpc_error(url, format!("getblockheader returned {other:?}"))),
                }
            }
            Self::Esplora { url, agent } => {
                let Some(hash) = get_text(agent, &format!("{url}/block-height/{height}"))? else {
                    return Ok(None);
                };
                let hex = get_text(agent, &format!("{url}/block/{hash}/header"))?
                    .ok_or_else(|| rpc_error(url, format!("no header for block {hash}")))?;
                checked_header(url, height, &hash, &hex).map(Some)
            }
        }
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .user_agent(concat!("vouch/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

fn rpc_error(url: &str, reason: impl std::fmt::Display) -> AnchorError {
    AnchorError::Rpc(format!("{}: {reason}", redact(url)))
}

/// The URL without credentials, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}{}", &url[..scheme + 3], &url[at + 1..]),
        _ => url.to_string(),
    }
}

fn checked_header(url: &str, height: u64, hash: &str, hex_header: &str) -> Result<BlockHeader, AnchorError> {
    let bytes = hex::decode(hex_header.trim()).map_err(|e| rpc_error(url, format!("header {height}: {e}")))?;
    let header: BlockHeader = bytes
        .try_into()
        .map_err(|b: Vec<u8>| rpc_error(url, format!("header {height} is {} bytes, not {HEADER_LEN}", b.len())))?;
    if !block_hash_hex(&header).eq_ignore_ascii_case(hash.trim()) {
        return Err(rpc_error(url, format!("header {height} hashes to {}, not {hash}", block_hash_hex(&header))));
    }
    Ok(header)
}

/// One JSON-RPC call to Bitcoin Core; `None` for "no such block".
fn bitcoin_rpc(
    agent: &ureq::Agent,
    url: &str,
    method: &str,
    params: serde_json::Value,
) -> Result<Option<serde_json::Value>, AnchorError> {
    let body = serde_json::json!({"jsonrpc": "1.0", "id": "vouch", "method": method, "params": params});
    let (endpoint, auth) = split_credentials(url);
    let mut request = agent.post(&endpoint).header("Content-Type", "application/json");
    if let Some(auth) = &auth {
        request = request.header("Authorization", auth);
    }
    let mut response = request
        .send(serde_json::to_vec(&body).unwrap_or_default())
        .map_err(|e| rpc_error(url, format!("{method}: {e}")))?;
    let status = response.status().as_u16();
    if status == 401 || status == 403 {
        return Err(rpc_error(url, format!("{method}: HTTP {status} (check the user:password in the URL)")));
    }
    let text = response
        .body_mut()
        .with_config()
        .limit(MAX_REPLY)
        .read_to_string()
        .map_err(|e| rpc_error(url, format!("{method}: {e}")))?;
    let reply: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| rpc_error(url, format!("{method}: not JSON-RPC (HTTP {status}): {e}")))?;
    match reply.get("error") {
        Some(error) if !error.is_null() => {
            if error.get("code").and_then(|c| c.as_i64()) == Some(-8) {
                return Ok(None);
            }
            Err(rpc_error(url, format!("{method}: {error}")))
        }
        _ => Ok(reply.get("result").cloned()),
    }
}

/// `http://user:pass@host/` → (`http://host/`, `Basic …`).
fn split_credentials(url: &str) -> (String, Option<String>) {
    use base64::Engine as _;
    let Some(scheme) = url.find("://") else { return (url.to_string(), None) };
    let rest = &url[scheme + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else { return (url.to_string(), None) };
    let credentials = &rest[..at];
    let auth = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials));
    (format!("{}{}", &url[..scheme + 3], &rest[at + 1..]), Some(auth))
}

/// GET returning text; `None` on 404.
fn get_text(agent: &ureq::Agent, url: &str) -> Result<Option<String>, AnchorError> {
    let mut response = agent.get(url).call().map_err(|e| rpc_error(url, e))?;
    match response.status().as_u16() {
        200 => {}
        404 => return Ok(None),
        // Esplora answers 400 for heights beyond its tip.
        400 => return Ok(None),
        code => return Err(rpc_error(url, format!("HTTP {code}"))),
    }
    let text = response.body_mut().with_config().limit(MAX_REPLY).read_to_string().map_err(|e| rpc_error(url, e))?;
    Ok(Some(text.trim().to_string()))
}

/// Headers known to this run: loaded from files, then fetched on demand and
/// kept, so a batch of proofs for one block asks the source once.
pub struct BitcoinHeaders {
    source: HeaderSource,
    known: Mutex<BTreeMap<u64, BlockHeader>>,
}

impl Default for BitcoinHeaders {
    fn default() -> Self {
        Self { source: HeaderSource::Offline, known: Mutex::new(BTreeMap::new()) }
    }
}

impl BitcoinHeaders {
    pub fn set_source(&mut self, source: HeaderSource) {
        self.source = source;
    }

    pub fn extend(&mut self, headers: BTreeMap<u64, BlockHeader>) {
        self.known.get_mut().unwrap_or_else(|p| p.into_inner()).extend(headers);
    }

    /// The headers at `heights` that the file or the source has.
    pub fn at(&self, heights: impl IntoIterator<Item = u64>) -> Result<BTreeMap<u64, BlockHeader>, AnchorError> {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        let mut found = BTreeMap::new();
        for height in heights {
            let header = match known.get(&height) {
                Some(header) => Some(*header),
                None => self.source.fetch(height)?,
            };
            if let Some(header) = header {
                known.insert(height, header);
                found.insert(height, header);
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_leave_the_url_and_messages() {
        let (url, auth) = split_credentials("http://alice:s3cret@127.0.0.1:8332/wallet");
        assert_eq!(url, "http://127.0.0.1:8332/wallet");
        assert_eq!(auth.as_deref(), Some("Basic YWxpY2U6czNjcmV0"));
        assert_eq!(split_credentials("http://127.0.0.1:8332").1, None);
        assert_eq!(redact("http://alice:s3cret@host:1/"), "http://host:1/");
    }

    #[test]
    fn a_header_must_hash_to_the_hash_the_source_named() {
        // Genesis block header.
        let genesis = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";
        let hash = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
        assert!(checked_header("x", 0, hash, genesis).is_ok());
        let err = checked_header("x", 0, &hash.replace("0019", "0018"), genesis).unwrap_err().to_string();
        assert!(err.contains("hashes to"), "{err}");
    }
}
