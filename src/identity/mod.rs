//! Signing identities: an Ed25519 root CA and the signing certificate it
//! issues, or a newsroom certificate imported from elsewhere.
//!
//! Layout of an identity directory (all PEM):
//! - `root.pem`   the root certificate, to share with verifiers (`--trust`);
//! - `root.key`   the root's private key (0600; only needed to issue again);
//! - `signer.pem` the signing certificate chain, root excluded (C2PA wants it so);
//! - `signer.key` the signing private key (0600, optionally encrypted);
//! - `settings.toml` (optional) signing defaults, e.g. `tsa = "URL"`, the
//!   RFC 3161 time-stamping authority `vouch sign` asks unless `--tsa`.

mod cert;
mod keys;

use std::fs;
use std::path::{Path, PathBuf};

use c2pa::SigningAlg;
use serde::Serialize;
use zeroize::Zeroizing;

pub use cert::CertSummary;
pub(crate) use cert::{parse_chain, to_pem};
pub use keys::Passphrase;

/// File names inside an identity directory.
pub const ROOT_CERT: &str = "root.pem";
pub const ROOT_KEY: &str = "root.key";
pub const SIGNER_CERT: &str = "signer.pem";
pub const SIGNER_KEY: &str = "signer.key";
pub const SETTINGS: &str = "settings.toml";

/// Signing defaults kept with an identity (`settings.toml`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySettings {
    /// URL of the RFC 3161 time-stamping authority to ask at every signing.
    pub tsa: Option<String>,
}

/// The identity's `settings.toml`, or the defaults when there is none.
pub fn settings(dir: &Path) -> Result<IdentitySettings> {
    let path = dir.join(SETTINGS);
    match fs::read_to_string(&path) {
        Ok(text) => {
            toml::from_str(&text).map_err(|e| IdentityError::BadSettings { path, reason: e.message().to_string() })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(IdentitySettings::default()),
        Err(source) => Err(IdentityError::Io { path, source }),
    }
}

/// Why an identity could not be created, loaded or imported.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: no identity here (create one with `vouch identity new --name NAME`, or pass --identity DIR)", .0.display())]
    NotFound(PathBuf),
    #[error("{}: an identity already exists here (refusing to overwrite it; choose another --identity)", .0.display())]
    Exists(PathBuf),
    #[error("{}: {reason}", path.display())]
    BadKey { path: PathBuf, reason: String },
    #[error("{}: {reason}", path.display())]
    BadCert { path: PathBuf, reason: String },
    #[error("{}: wrong passphrase (the key could not be decrypted)", .0.display())]
    WrongPassphrase(PathBuf),
    #[error("{}: the key is encrypted: pass --passphrase-env VAR naming a variable that holds the passphrase", .0.display())]
    PassphraseNeeded(PathBuf),
    #[error("environment variable {0} is not set or empty (it should hold the passphrase)")]
    PassphraseEnvMissing(String),
    #[error("{}: private key does not match the certificate in {}", key.display(), cert.display())]
    KeyMismatch { key: PathBuf, cert: PathBuf },
    #[error("{}: C2PA validators would reject this certificate: {}", path.display(), reasons.join("; "))]
    Rejected { path: PathBuf, reasons: Vec<String> },
    #[error("could not create the certificate: {0}")]
    Generate(String),
    #[error("{}: {reason}", path.display())]
    BadSettings { path: PathBuf, reason: String },
}

type Result<T, E = IdentityError> = std::result::Result<T, E>;

/// What a new identity should say about its holder.
#[derive(Debug, Clone)]
pub struct NewIdentity {
    pub name: String,
    pub org: Option<String>,
    pub email: Option<String>,
    /// Validity of the signing certificate, in days.
    pub days: u32,
}

/// A description of an identity on disk, safe to print: never key material.
#[derive(Debug, Clone, Serialize)]
pub struct IdentitySummary {
    pub dir: PathBuf,
    pub alg: String,
    pub key_encrypted: bool,
    pub signer: CertSummary,
    /// Certificates in `signer.pem`, the signing certificate included.
    pub chain_len: usize,
    pub root: Option<CertSummary>,
}

/// A loaded identity, ready to sign.
pub struct SigningIdentity {
    pub summary: IdentitySummary,
    pub alg: SigningAlg,
    chain_pem: Vec<u8>,
    key_pem: Zeroizing<Vec<u8>>,
}

impl SigningIdentity {
    /// A c2pa signer for this identity. With `tsa`, every signature gets an
    /// RFC 3161 timestamp from that authority, or signing fails: c2pa checks
    /// the answer is a timestamp over this signature before embedding it.
    pub fn signer(&self, tsa: Option<&str>) -> Result<c2pa::BoxedSigner> {
        let tsa = tsa.map(str::to_string);
        c2pa::create_signer::from_keys(&self.chain_pem, &self.key_pem, self.alg, tsa).map_err(|e| {
            IdentityError::BadKey {
                path: self.summary.dir.join(SIGNER_KEY),
                reason: format!("cannot sign with this key: {e}"),
            }
        })
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|source| IdentityError::Io { path: path.to_path_buf(), source })
}

/// Creates a new Ed25519 root CA and signing certificate in `dir`.
pub fn create(dir: &Path, req: &NewIdentity, passphrase: Option<&Passphrase>) -> Result<IdentitySummary> {
    if [ROOT_CERT, ROOT_KEY, SIGNER_CERT, SIGNER_KEY].iter().any(|f| dir.join(f).exists()) {
        return Err(IdentityError::Exists(dir.to_path_buf()));
    }
    let generated = cert::generate(req)?;
    crate::fsx::create_private_dir(dir).map_err(|source| IdentityError::Io { path: dir.to_path_buf(), source })?;
    // Keys first: if anything fails later, no certificate points at a missing key.
    keys::write_key(&dir.join(ROOT_KEY), &generated.root_key_der, passphrase)?;
    keys::write_key(&dir.join(SIGNER_KEY), &generated.signer_key_der, passphrase)?;
    write_public(&dir.join(ROOT_CERT), generated.root_pem.as_bytes())?;
    write_public(&dir.join(SIGNER_CERT), generated.signer_pem.as_bytes())?;
    show(dir)
}

fn write_public(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::fsx::write_atomic(path, bytes, Some(0o644), true)
        .map_err(|source| IdentityError::Io { path: path.to_path_buf(), source })
}

/// Describes the identity in `dir` without touching its keys' secrets.
pub fn show(dir: &Path) -> Result<IdentitySummary> {
    let signer_path = dir.join(SIGNER_CERT);
    if !signer_path.exists() {
        return Err(IdentityError::NotFound(dir.to_path_buf()));
    }
    let chain = cert::parse_chain(&signer_path, &read(&signer_path)?)?;
    let signer = CertSummary::from_der(&signer_path, &chain[0])?;
    let root_path = dir.join(ROOT_CERT);
    let root = if root_path.exists() {
        let roots = cert::parse_chain(&root_path, &read(&root_path)?)?;
        Some(CertSummary::from_der(&root_path, &roots[0])?)
    } else {
        None
    };
    let key_path = dir.join(SIGNER_KEY);
    let key_encrypted = keys::is_encrypted(&key_path, &read(&key_path)?)?;
    Ok(IdentitySummary {
        dir: dir.to_path_buf(),
        alg: signer.alg.clone(),
        key_encrypted,
        chain_len: chain.len(),
        signer,
        root,
    })
}

/// Loads the identity in `dir` for signing, decrypting its key if needed and
/// checking that key and certificate belong together.
pub fn load(dir: &Path, passphrase: Option<&Passphrase>) -> Result<SigningIdentity> {
    let summary = show(dir)?;
    let cert_path = dir.join(SIGNER_CERT);
    let key_path = dir.join(SIGNER_KEY);
    keys::refuse_exposed(&key_path)?;
    let chain_pem = read(&cert_path)?;
    let chain = cert::parse_chain(&cert_path, &chain_pem)?;
    let key_pem = keys::read_key_pem(&key_path, &read(&key_path)?, passphrase)?;
    let alg = cert::signing_alg(&cert_path, &chain[0])?;
    cert::check_key_matches(&chain[0], &chain_pem, &key_pem, alg, &key_path, &cert_path)?;
    Ok(SigningIdentity { summary, alg, chain_pem, key_pem })
}

/// Imports an existing certificate chain and key into `dir`, refusing them
/// with every reason C2PA validators would give.
///
/// When the chain file ends with a self-signed root, that root is stored as
/// `root.pem` and left out of `signer.pem`.
pub fn import(
    dir: &Path,
    cert_path: &Path,
    key_path: &Path,
    passphrase: Option<&Passphrase>,
) -> Result<IdentitySummary> {
    if [SIGNER_CERT, SIGNER_KEY].iter().any(|f| dir.join(f).exists()) {
        return Err(IdentityError::Exists(dir.to_path_buf()));
    }
    let chain_pem = read(cert_path)?;
    let mut chain = cert::parse_chain(cert_path, &chain_pem)?;
    let key_pem = keys::read_key_pem(key_path, &read(key_path)?, passphrase)?;
    let root = match chain.len() {
        n if n > 1 && cert::is_self_issued(&chain[n - 1]) => chain.pop(),
        _ => None,
    };
    let alg = cert::signing_alg(cert_path, &chain[0])?;
    let signer_chain_pem = cert::to_pem(&chain);
    cert::check_key_matches(&chain[0], signer_chain_pem.as_bytes(), &key_pem, alg, key_path, cert_path)?;
    let reasons = cert::c2pa_objections(&chain, root.as_deref());
    if !reasons.is_empty() {
        return Err(IdentityError::Rejected { path: cert_path.to_path_buf(), reasons });
    }
    crate::fsx::create_private_dir(dir).map_err(|source| IdentityError::Io { path: dir.to_path_buf(), source })?;
    let key_der = keys::pem_to_der(key_path, &key_pem)?;
    keys::write_key(&dir.join(SIGNER_KEY), &key_der, passphrase)?;
    write_public(&dir.join(SIGNER_CERT), signer_chain_pem.as_bytes())?;
    if let Some(root) = root {
        write_public(&dir.join(ROOT_CERT), cert::to_pem(&[root]).as_bytes())?;
    }
    show(dir)
}

/// A new identity in `dir` (30 days, no passphrase) and its signer, for
/// unit tests that sign real files.
#[cfg(test)]
pub(crate) fn test_signer(dir: &Path) -> c2pa::BoxedSigner {
    let request = NewIdentity { name: "Unit Test".into(), org: None, email: None, days: 30 };
    create(dir, &request, None).unwrap();
    load(dir, None).unwrap().signer(None).unwrap()
}
