//! Trust anchors: the root certificates whose signers `vouch verify` calls
//! `trusted`. They come from `--trust` files, the store that `vouch trust
//! add` fills, and the local identity's own root ("local" anchors), and
//! the public lists of [`lists`] unless the user turns them off.

pub mod lists;

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
    #[error("{}: refused as a trust list (the list in use is kept): {reason}", path.display())]
    BadList { path: PathBuf, reason: String },
    /// A root file named by a setting that cannot be used: the error names
    /// the setting and the path as written there.
    #[error("{setting}: {}: {reason}", written.display())]
    Setting { setting: String, written: PathBuf, reason: String },
}

/// A root certificate file and the setting that named it (`--trust`,
/// `trusted_roots in newsroom.toml`), so that an error says where to fix it.
#[derive(Debug, Clone)]
pub struct RootFile {
    /// Where the file is looked for.
    pub path: PathBuf,
    /// The path as the setting wrote it.
    pub written: PathBuf,
    pub setting: String,
}

impl RootFile {
    /// A root named on the command line by `flag`.
    pub fn flag(flag: &str, path: &Path) -> Self {
        Self { path: path.to_path_buf(), written: path.to_path_buf(), setting: flag.to_string() }
    }

    /// The error `err` about this file, said as the setting that named it.
    fn blame(&self, err: TrustError) -> TrustError {
        let reason = match &err {
            TrustError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => "not found".to_string(),
            TrustError::Io { source, .. } => source.to_string(),
            other => {
                let text = other.to_string();
                let prefix = format!("{}: ", self.path.display());
                text.strip_prefix(&prefix).map(str::to_string).unwrap_or(text)
            }
        };
        TrustError::Setting { setting: self.setting.clone(), written: self.written.clone(), reason }
    }
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
    /// Local anchors: `--trust`, the store, the identity's root.
    pub anchors: Vec<Anchor>,
    pem: String,
    local_ders: Vec<(String, Vec<u8>)>,
    /// The public lists in force (none under `--no-public-trust`).
    pub public: Vec<lists::TrustList>,
}

/// Which anchor made a signer trusted, and from which list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrustSource {
    /// `c2pa` (the C2PA Trust List), `interim` (the interim Content
    /// Credentials list) or `local` (the user's own anchors).
    pub list: String,
    /// Common name (else subject) of the anchor.
    pub anchor: String,
    pub anchor_sha256: String,
}

impl TrustSource {
    /// The list, in words.
    pub fn list_words(&self) -> &'static str {
        match self.list.as_str() {
            "c2pa" => "C2PA Trust List",
            "interim" => "interim Content Credentials list",
            "tsa" => "C2PA TSA Trust List",
            _ => "local trust anchor",
        }
    }
}

/// Where the signer of a `trusted` verdict chains to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribution {
    /// To an anchor that vouches for claim signers.
    Signer(TrustSource),
    /// Only to an anchor of the TSA list, which vouches for time-stamping
    /// authorities and for no one's claims.
    TsaOnly(TrustSource),
    /// To none of the anchors vouch can name.
    Unknown,
}

impl TrustAnchors {
    /// A PEM bundle of every local anchor, or `None` when there are none.
    pub fn pem_bundle(&self) -> Option<&str> {
        (!self.pem.is_empty()).then_some(self.pem.as_str())
    }

    /// The `trust` section of c2pa's settings: public lists as
    /// `trust_anchors` (the TSA list among them, since c2pa checks
    /// timestamps against the same anchors, requiring the time-stamping
    /// EKU there), local anchors as `user_anchors`, the interim allowed
    /// certificates as `allowed_list`, the signer EKUs as `trust_config`.
    pub fn c2pa_settings(&self) -> Option<serde_json::Value> {
        let mut trust = serde_json::Map::new();
        if let Some(pem) = self.pem_bundle() {
            trust.insert("user_anchors".into(), pem.into());
        }
        let anchors: String =
            self.public.iter().filter(|l| l.name != lists::ListName::InterimAllowed).map(|l| l.pem()).collect();
        if !anchors.is_empty() {
            trust.insert("trust_anchors".into(), anchors.into());
        }
        if let Some(allowed) = self.public.iter().find(|l| l.name == lists::ListName::InterimAllowed) {
            trust.insert("allowed_list".into(), allowed.pem().into());
        }
        if !self.public.is_empty() {
            trust.insert("trust_config".into(), lists::SIGNER_EKUS.into());
        }
        (!trust.is_empty()).then_some(serde_json::Value::Object(trust))
    }

    /// Which anchor a signer's chain (leaf first, DER) reaches: local
    /// anchors first, then the C2PA Trust List, then the interim list
    /// (anchors and allowed certificates), and last the TSA list.
    pub fn attribute(&self, chain: &[Vec<u8>]) -> Attribution {
        let local: Vec<(&[u8], &identity::CertSummary)> =
            self.anchors.iter().filter_map(|a| self.local_der(a).map(|d| (d, &a.cert))).collect();
        if let Some(found) = topmost_in(&local, chain) {
            return Attribution::Signer(source("local", found));
        }
        let public = |names: &[lists::ListName]| -> Vec<(&[u8], &identity::CertSummary)> {
            self.public
                .iter()
                .filter(|l| names.contains(&l.name))
                .flat_map(|l| l.certs.iter().map(|c| (c.der.as_slice(), &c.cert)))
                .collect()
        };
        use lists::ListName::*;
        if let Some(found) = topmost_in(&public(&[C2pa]), chain) {
            return Attribution::Signer(source("c2pa", found));
        }
        if let Some(found) = topmost_in(&public(&[Interim, InterimAllowed]), chain) {
            return Attribution::Signer(source("interim", found));
        }
        if let Some(found) = topmost_in(&public(&[Tsa]), chain) {
            return Attribution::TsaOnly(source("tsa", found));
        }
        Attribution::Unknown
    }

    fn local_der(&self, anchor: &Anchor) -> Option<&[u8]> {
        self.local_ders.iter().find(|(sha, _)| *sha == anchor.cert.sha256).map(|(_, d)| d.as_slice())
    }

    fn add_file(&mut self, path: &Path) -> Result<()> {
        let bytes = fs::read(path).map_err(|source| TrustError::Io { path: path.to_path_buf(), source })?;
        for der in identity::parse_chain(path, &bytes)? {
            let cert = CertSummary::from_der(path, &der)?;
            if self.anchors.iter().any(|a| a.cert.sha256 == cert.sha256) {
                continue;
            }
            self.pem.push_str(&identity::to_pem(std::slice::from_ref(&der)));
            self.local_ders.push((cert.sha256.clone(), der));
            self.anchors.push(Anchor { source: path.to_path_buf(), cert });
        }
        Ok(())
    }
}

fn source(list: &str, cert: &identity::CertSummary) -> TrustSource {
    TrustSource {
        list: list.into(),
        anchor: cert.common_name.clone().unwrap_or_else(|| cert.subject.clone()),
        anchor_sha256: cert.sha256.clone(),
    }
}

/// The highest certificate of `list` that the chain reaches, walking from
/// the leaf through issuers (in the chain or in the list) by name and key
/// identifier. c2pa has already checked the signatures that make the chain
/// trusted; this names the anchor it reached.
fn topmost_in<'a>(list: &[(&[u8], &'a identity::CertSummary)], chain: &[Vec<u8>]) -> Option<&'a identity::CertSummary> {
    use x509_parser::prelude::*;
    let parse = |der| X509Certificate::from_der(der).ok().map(|(_, c)| c);
    let parsed_list: Vec<_> = list.iter().filter_map(|(der, s)| parse(der).map(|c| (*der, *s, c))).collect();
    let parsed_chain: Vec<_> = chain.iter().filter_map(|der| parse(der).map(|c| (der.as_slice(), c))).collect();
    let (mut current_der, mut current) = parsed_chain.first().map(|(d, c)| (*d, c))?;
    let mut found = None;
    for _ in 0..16 {
        if let Some((_, summary, _)) = parsed_list.iter().find(|(der, _, _)| *der == current_der) {
            found = Some(*summary);
        }
        if current.subject().as_raw() == current.issuer().as_raw() {
            break;
        }
        let issued =
            |c: &X509Certificate| c.subject().as_raw() == current.issuer().as_raw() && key_ids_agree(current, c);
        if let Some((der, _, cert)) = parsed_list.iter().find(|(_, _, c)| issued(c)) {
            (current_der, current) = (*der, cert);
        } else if let Some((der, cert)) = parsed_chain.iter().find(|(_, c)| issued(c)) {
            (current_der, current) = (*der, cert);
        } else {
            break;
        }
    }
    found
}

/// Whether the child's authority key identifier names the issuer's subject
/// key identifier (true when either is absent).
fn key_ids_agree(
    child: &x509_parser::certificate::X509Certificate,
    issuer: &x509_parser::certificate::X509Certificate,
) -> bool {
    use x509_parser::extensions::ParsedExtension;
    let aki = child.extensions().iter().find_map(|e| match e.parsed_extension() {
        ParsedExtension::AuthorityKeyIdentifier(a) => a.key_identifier.as_ref().map(|k| k.0.to_vec()),
        _ => None,
    });
    let ski = issuer.extensions().iter().find_map(|e| match e.parsed_extension() {
        ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
        _ => None,
    });
    match (aki, ski) {
        (Some(a), Some(s)) => a == s,
        _ => true,
    }
}

/// Gathers the anchors for one run: the files given with `--trust`, the
/// trust store, the root of the identity in `identity_dir` if present, and
/// the public lists from `public_lists` (their folder) unless `None`.
pub fn gather(
    extra: &[RootFile],
    store: &Path,
    identity_dir: Option<&Path>,
    public_lists: Option<&Path>,
) -> Result<TrustAnchors> {
    let mut anchors = TrustAnchors::default();
    if let Some(dir) = public_lists {
        anchors.public = lists::load_all(dir)?;
    }
    for root in extra {
        anchors.add_file(&root.path).map_err(|e| root.blame(e))?;
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
