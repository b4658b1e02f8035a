//! Where Bitcoin block headers come from: a headers file (offline), Bitcoin
//! Core nodes (`getblockhash` / `getblockheader` over JSON-RPC) or Esplora
//! REST servers. Whatever the source, vouch hashes each header itself and
//! refuses one whose hash is not the hash the source named, then checks its
//! proof of work against the target mainnet required at that height
//! ([`pow`]); several sources must give the same header. A source can
//! withhold headers, but forging one costs real mining at real difficulty.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use super::ots::{block_hash_hex, BlockHeader, HeaderSet, HEADER_LEN};
use super::pow::{self, BitcoinNetwork};
use super::AnchorError;

/// A header reply is 160 hex characters; anything far larger is hostile.
const MAX_REPLY: u64 = 64 * 1024;

pub enum HeaderSource {
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

    /// How messages name this source (credentials removed).
    fn name(&self) -> String {
        match self {
            Self::BitcoinRpc { url, .. } => format!("Bitcoin Core {}", redact(url)),
            Self::Esplora { url, .. } => format!("Esplora {}", redact(url)),
        }
    }

    fn fetch(&self, height: u64) -> Result<Option<BlockHeader>, AnchorError> {
        match self {
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
    crate::redact::url(url)
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

/// What is known about the header at one height, once looked up.
#[derive(Debug, Clone)]
enum Resolved {
    Accepted { header: BlockHeader, beyond_checkpoints: bool },
    Refused(String),
    Missing,
}

/// Headers known to this run: loaded from files, then fetched on demand and
/// kept, so a batch of proofs for one block asks the sources once. Every
/// header, whatever its origin, must carry the proof of work its height
/// requires ([`pow::check`]); with several sources, they must agree.
#[derive(Default)]
pub struct BitcoinHeaders {
    sources: Vec<HeaderSource>,
    network: BitcoinNetwork,
    from_file: BTreeMap<u64, BlockHeader>,
    resolved: Mutex<BTreeMap<u64, Resolved>>,
}

impl BitcoinHeaders {
    /// Adds a source; with several, each is asked and all must agree.
    pub fn add_source(&mut self, source: HeaderSource) {
        self.sources.push(source);
    }

    pub fn set_network(&mut self, network: BitcoinNetwork) {
        self.network = network;
    }

    pub fn extend(&mut self, headers: BTreeMap<u64, BlockHeader>) {
        self.from_file.extend(headers);
    }

    /// Loads a headers file (`height header-hex` per line).
    pub fn load_file(&mut self, path: &std::path::Path) -> Result<(), AnchorError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| AnchorError::Io { path: path.to_path_buf(), source })?;
        let headers = super::ots::parse_headers_file(&text)
            .map_err(|source| AnchorError::Headers { path: path.to_path_buf(), source })?;
        self.extend(headers);
        Ok(())
    }

    /// The headers at `heights`: accepted, refused (and why), or absent.
    /// Errors only when a source cannot be asked or answers nonsense.
    pub fn at(&self, heights: impl IntoIterator<Item = u64>) -> Result<HeaderSet, AnchorError> {
        let mut resolved = self.resolved.lock().unwrap_or_else(|p| p.into_inner());
        let mut set = HeaderSet { chain: self.network.chain_name(), ..HeaderSet::default() };
        for height in heights {
            let known = match resolved.get(&height) {
                Some(known) => known.clone(),
                None => {
                    let fresh = self.resolve(height)?;
                    resolved.insert(height, fresh.clone());
                    fresh
                }
            };
            match known {
                Resolved::Accepted { header, beyond_checkpoints } => {
                    set.accepted.insert(height, header);
                    if beyond_checkpoints {
                        set.beyond_checkpoints.insert(height);
                    }
                }
                Resolved::Refused(reason) => {
                    set.refused.insert(height, reason);
                }
                Resolved::Missing => {}
            }
        }
        Ok(set)
    }

    fn resolve(&self, height: u64) -> Result<Resolved, AnchorError> {
        let (origin, header) = match self.from_file.get(&height) {
            Some(header) => ("the headers file".to_string(), *header),
            None => {
                let mut answers = Vec::with_capacity(self.sources.len());
                for source in &self.sources {
                    answers.push((source.name(), source.fetch(height)?));
                }
                let Some((first_name, first)) = answers.first() else { return Ok(Resolved::Missing) };
                if let Some((other_name, other)) = answers.iter().find(|(_, answer)| answer != first) {
                    let say = |answer: &Option<BlockHeader>| match answer {
                        Some(header) => format!("block {}", block_hash_hex(header)),
                        None => "no block".to_string(),
                    };
                    return Ok(Resolved::Refused(format!(
                        "header sources disagree on Bitcoin block {height}: {first_name} names {}, {other_name} names {}",
                        say(first),
                        say(other)
                    )));
                }
                let Some(header) = *first else { return Ok(Resolved::Missing) };
                let origin = if answers.len() == 1 { first_name.clone() } else { format!("{} sources", answers.len()) };
                (origin, header)
            }
        };
        Ok(match pow::check(self.network, height, &header) {
            Ok(worked) => Resolved::Accepted { header, beyond_checkpoints: worked.beyond_checkpoints },
            Err(why) => {
                Resolved::Refused(format!("the header for Bitcoin block {height} from {origin} is refused: {why}"))
            }
        })
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

    /// A node on 127.0.0.1 that answers one request with `body`.
    fn node_answering(body: String) -> String {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}/", listener.local_addr().unwrap().port());
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                match line.trim_end().split_once(':') {
                    Some((name, value)) if name.eq_ignore_ascii_case("content-length") => {
                        length = value.trim().parse().unwrap()
                    }
                    _ if line.trim_end().is_empty() => break,
                    _ => {}
                }
            }
            reader.read_exact(&mut vec![0; length]).unwrap();
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let mut stream = reader.into_inner();
            let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(body.as_bytes()));
        });
        url
    }

    #[test]
    fn a_node_s_reply_is_read_up_to_64_kib_and_refused_beyond() {
        let agent = agent(Duration::from_secs(10));
        let hash = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
        // A reply padded with whitespace, as any JSON may be, to the limit and one byte over.
        let reply = |len: usize| {
            let json = format!("{{\"result\":\"{hash}\",\"error\":null,\"id\":\"vouch\"}}");
            format!("{json}{}", " ".repeat(len - json.len()))
        };
        let url = node_answering(reply(64 * 1024));
        let answer = bitcoin_rpc(&agent, &url, "getblockhash", serde_json::json!([0])).unwrap();
        assert_eq!(answer, Some(serde_json::Value::String(hash.into())));
        let url = node_answering(reply(64 * 1024 + 1));
        let err = bitcoin_rpc(&agent, &url, "getblockhash", serde_json::json!([0])).unwrap_err().to_string();
        assert_eq!(err, format!("{url}: getblockhash: the response body is larger than request limit: 65536"));
    }
}
