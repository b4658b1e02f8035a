//! Library values built from the flag groups several commands share: the
//! identity folder and its passphrase, the trust anchors a verifying run
//! trusts, the chain data receipts are checked against.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use vouch::anchor::{self, ChainData};
use vouch::identity::Passphrase;
use vouch::verify::Verifier;
use vouch::{home, provenance, trust as trust_store};

use super::args::{BitcoinArgs, ChainArgs, PassphraseArg};

pub(crate) fn identity_dir(dir: Option<PathBuf>) -> PathBuf {
    dir.unwrap_or_else(home::default_identity_dir)
}

pub(crate) fn passphrase(arg: &PassphraseArg) -> Result<Option<Passphrase>> {
    const DEFAULT_VAR: &str = "VOUCH_PASSPHRASE";
    match &arg.passphrase_env {
        Some(var) => Ok(Some(Passphrase::from_env(var)?)),
        None if std::env::var_os(DEFAULT_VAR).is_some_and(|v| !v.is_empty()) => {
            Ok(Some(Passphrase::from_env(DEFAULT_VAR)?))
        }
        None => Ok(None),
    }
}

/// The verifier of a run: the trust anchors the flags name (and the public
/// lists unless refused), the c2pa context built on them, and `chain`.
pub(crate) fn verifier(
    trust: &[trust_store::RootFile],
    identity: Option<PathBuf>,
    allow_remote: bool,
    public_trust: bool,
    chain: ChainData,
) -> Result<Verifier> {
    let id_dir = identity_dir(identity);
    let lists = public_trust.then(home::trust_lists_dir);
    let anchors = trust_store::gather(trust, &home::trust_dir(), Some(&id_dir), lists.as_deref())?;
    let c2pa = provenance::Validator::new(anchors.clone(), allow_remote)
        .context("cannot configure c2pa with these trust anchors")?
        .into();
    super::detail(&format!(
        "trusting {} local anchor(s) ({}) and {} public list(s)",
        anchors.anchors.len(),
        anchors.anchors.iter().map(|a| vouch::report::printable_str(&a.cert.subject)).collect::<Vec<_>>().join("; "),
        anchors.public.len()
    ));
    Ok(Verifier::new(c2pa, anchors, chain))
}

/// A file a setting names that cannot be read, said as that setting:
/// `--policy: newsroom.toml: not found`.
pub(crate) fn not_found_as(setting: &str, path: &std::path::Path, source: std::io::Error) -> anyhow::Error {
    let reason =
        if source.kind() == std::io::ErrorKind::NotFound { "not found".to_string() } else { source.to_string() };
    anyhow::anyhow!("{setting}: {}: {reason}", path.display())
}

/// The Bitcoin headers the flags name: a file and any number of sources.
pub(crate) fn bitcoin_headers(
    a: &BitcoinArgs,
    timeout: std::time::Duration,
) -> Result<anchor::headers::BitcoinHeaders> {
    use anchor::headers::{BitcoinHeaders, HeaderSource};
    let mut headers = BitcoinHeaders::default();
    headers.set_network(a.bitcoin_network);
    let config = config()?;
    // The file, as its setting wrote it, and where it is read from.
    let file = match &a.headers {
        Some(path) => Some((path.clone(), path.clone(), "--headers".to_string())),
        None => config.headers.as_ref().map(|p| (p.clone(), config.resolve(p), config.setting("headers"))),
    };
    if let Some((written, path, setting)) = &file {
        headers.load_file(path).map_err(|e| match e {
            anchor::AnchorError::Io { source, .. } => not_found_as(setting, written, source),
            e => e.into(),
        })?;
    }
    for url in &a.bitcoin_rpc {
        headers.add_source(HeaderSource::bitcoin_rpc(url, timeout));
    }
    for url in if a.esplora.is_empty() { &config.esplora } else { &a.esplora } {
        headers.add_source(HeaderSource::esplora(url, timeout));
    }
    Ok(headers)
}

/// The chain data the flags name: headers file, header source, EVM node.
pub(crate) fn chain_data(a: &ChainArgs, min_confirmations: u64) -> Result<ChainData> {
    let timeout = std::time::Duration::from_secs(a.timeout);
    let mut chain = ChainData { bitcoin: bitcoin_headers(&a.bitcoin, timeout)?, ..ChainData::default() };
    let rpc = if a.rpc.is_empty() { &config()?.rpc } else { &a.rpc };
    if !rpc.is_empty() {
        chain.evm = Some(anchor::evm::EvmVerifier::new(rpc, min_confirmations, timeout)?);
    }
    Ok(chain)
}

/// `$VOUCH_HOME/config.toml`, read once per run.
pub(crate) fn config() -> Result<&'static vouch::config::Config> {
    static CONFIG: std::sync::OnceLock<Result<vouch::config::Config, String>> = std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| vouch::config::load(&home::vouch_home()).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// The roots a verifying run trusts besides the store: `--trust`, else `trust` in config.toml.
pub(crate) fn trust_roots(flags: &[PathBuf]) -> Result<Vec<trust_store::RootFile>> {
    if flags.is_empty() {
        return Ok(config()?.trust_roots());
    }
    Ok(flags.iter().map(|r| trust_store::RootFile::flag("--trust", r)).collect())
}

/// The calendars to anchor to: `--calendar`, else `calendars` in config.toml, else the public ones.
pub(crate) fn calendars(flags: &[String]) -> Result<Vec<String>> {
    if !flags.is_empty() {
        return Ok(flags.to_vec());
    }
    let configured = &config()?.calendars;
    if !configured.is_empty() {
        return Ok(configured.clone());
    }
    Ok(anchor::stamp::DEFAULT_CALENDARS.iter().map(|c| c.to_string()).collect())
}

/// The node `--to evm` sends to: `--rpc`, else the first `rpc` in config.toml.
pub(crate) fn evm_rpc(flag: Option<&str>) -> Result<String> {
    match flag {
        Some(url) => Ok(url.to_string()),
        None => {
            config()?.rpc.first().cloned().ok_or_else(|| {
                anyhow::anyhow!("--to evm needs a node: give --rpc URL, or set rpc in {}", config_path())
            })
        }
    }
}

fn config_path() -> String {
    home::vouch_home().join(vouch::config::FILE).display().to_string()
}

/// The time-stamping authority of a signing run: `--tsa`, else the
/// identity's settings.toml, else `tsa` in config.toml.
pub(crate) fn tsa(flag: Option<String>, id_dir: &std::path::Path) -> Result<Option<String>> {
    if flag.is_some() {
        return Ok(flag);
    }
    if let Some(tsa) = vouch::identity::settings(id_dir)?.tsa {
        return Ok(Some(tsa));
    }
    Ok(config()?.tsa.clone())
}
