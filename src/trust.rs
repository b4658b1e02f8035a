//! Trust anchors: the root certificates whose signers `vouch verify` calls
//! `trusted`. They come from `--trust` files, the store that `vouch trust
//! add` fills, and the local identity's own root.

use std::fs;
use std::path::{Path, PathBuf};

use crate::identity::{self, CertSummary};

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error(transparent)]
    Cert(#[from] identity::IdentityError),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("no trust anchor matches `{0}` (see `vouch trust list`)")]
    NoMatch(String),
    #[error("`{0}` matches several trust anchors: give more of the fingerprint")]
    Ambiguous(String),
}

type Result<T, E = TrustError> = std::result::Result<T, E>;

/// A trust anchor and where it came from.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Anchor {
    pub source: PathBuf,
    pub cert: CertSummary,
}

/// The set of anchors a verification runs against, as c2pa takes them.
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    pub anchors: Vec<Anchor>,
    pem: String,
}

impl TrustAnchors {
    /// A PEM bundle of every anchor, or `None` when there are none.
    pub fn pem_bundle(&self) -> Option<&str> {
        (!self.pem.is_empty()).then_some(self.pem.as_str())
    }

    fn add_file(&mut self, path: &Path) -> Result<()> {
        let bytes = fs::read(path).map_err(|source| TrustError::Io { path: path.to_path_buf(), source })?;
        for der in identity::parse_chain(path, &bytes)? {
            let cert = CertSummary::from_der(path, &der)?;
            if self.anchors.iter().any(|a| a.cert.sha256 == cert.sha256) {
                continue;
            }
            self.pem.push_str(&identity::to_pem(&[der]));
            self.anchors.push(Anchor { source: path.to_path_buf(), cert });
        }
        Ok(())
    }
}

/// Gathers the anchors for one run: the files given with `--trust`, the
/// trust store, and the root of the identity in `identity_dir` if present.
pub fn gather(extra: &[PathBuf], store: &Path, identity_dir: Option<&Path>) -> Result<TrustAnchors> {
    let mut anchors = TrustAnchors::default();
    for path in extra {
        anchors.add_file(path)?;
    }
    for path in stored_files(store)? {
        anchors.add_file(&path)?;
    }
    if let Some(root) = identity_dir.map(|d| d.join(identity::ROOT_CERT)).filter(|p| p.exists()) {
        anchors.add_file(&root)?;
    }
    Ok(anchors)
}

fn stored_files(store: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(store) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(TrustError::Io { path: store.to_path_buf(), source }),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pem"))
        .collect();
    files.sort();
    Ok(files)
}

/// Adds every certificate of a PEM file to the store, one file per
/// certificate named by its SHA-256 fingerprint.
pub fn add(store: &Path, pem_file: &Path) -> Result<Vec<Anchor>> {
    let bytes = fs::read(pem_file).map_err(|source| TrustError::Io { path: pem_file.to_path_buf(), source })?;
    fs::create_dir_all(store).map_err(|source| TrustError::Io { path: store.to_path_buf(), source })?;
    let mut added = Vec::new();
    for der in identity::parse_chain(pem_file, &bytes)? {
        let cert = CertSummary::from_der(pem_file, &der)?;
        let dest = store.join(format!("{}.pem", cert.sha256));
        crate::fsx::write_atomic(&dest, identity::to_pem(&[der]).as_bytes(), Some(0o644), true)
            .map_err(|source| TrustError::Io { path: dest.clone(), source })?;
        added.push(Anchor { source: dest, cert });
    }
    Ok(added)
}

/// The anchors in the store.
pub fn list(store: &Path) -> Result<Vec<Anchor>> {
    let mut anchors = TrustAnchors::default();
    for path in stored_files(store)? {
        anchors.add_file(&path)?;
    }
    Ok(anchors.anchors)
}

/// Removes the anchor whose fingerprint starts with `fingerprint`.
pub fn remove(store: &Path, fingerprint: &str) -> Result<Anchor> {
    let wanted = fingerprint.to_ascii_lowercase().replace(':', "");
    let mut matches: Vec<Anchor> =
        list(store)?.into_iter().filter(|a| !wanted.is_empty() && a.cert.sha256.starts_with(&wanted)).collect();
    match matches.len() {
        0 => Err(TrustError::NoMatch(fingerprint.to_string())),
        1 => {
            let anchor = matches.remove(0);
            fs::remove_file(&anchor.source).map_err(|source| TrustError::Io { path: anchor.source.clone(), source })?;
            Ok(anchor)
        }
        _ => Err(TrustError::Ambiguous(fingerprint.to_string())),
    }
}
