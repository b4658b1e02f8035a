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

/// One set of anchors as c2pa takes it.
struct AnchorSet {
    uri: &'static str,
    kind: SetKind,
    pem: String,
    /// End-entity certificates trusted one by one.
    allowed: Option<String>,
}

enum SetKind {
    Signer,
    TimeStamping,
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

    /// The anchor sets c2pa validates against, one per list: the C2PA and
    /// interim lists as signer anchors (the interim allowed certificates
    /// beside the interim anchors, as c2pa 0.91 takes them), the TSA list
    /// as time-stamping anchors, and the local anchors.
    fn anchor_sets(&self) -> Vec<AnchorSet> {
        use lists::ListName::*;
        let pem_of = |name| self.public.iter().filter(|l| l.name == name).map(|l| l.pem()).collect::<String>();
        let mut sets = Vec::new();
        let c2pa = pem_of(C2pa);
        if !c2pa.is_empty() {
            sets.push(AnchorSet { uri: "c2pa", kind: SetKind::Signer, pem: c2pa, allowed: None });
        }
        let interim = pem_of(Interim);
        let allowed = pem_of(InterimAllowed);
        if !interim.is_empty() || !allowed.is_empty() {
            let allowed = (!allowed.is_empty()).then_some(allowed);
            sets.push(AnchorSet { uri: "interim", kind: SetKind::Signer, pem: interim, allowed });
        }
        let tsa = pem_of(Tsa);
        if !tsa.is_empty() {
            sets.push(AnchorSet { uri: "tsa", kind: SetKind::TimeStamping, pem: tsa, allowed: None });
        }
        if let Some(pem) = self.pem_bundle() {
            sets.push(AnchorSet { uri: "local", kind: SetKind::Signer, pem: pem.to_string(), allowed: None });
        }
        sets
    }

    /// The `trust` section of c2pa's settings: each list an entry of
    /// `anchors` (c2pa 0.91 reads the interim allowed certificates only
    /// there, as the interim entry's `allowed_list`; a top-level
    /// `allowed_list` is ignored), the signer EKUs as `trust_config`.
    /// c2pa checks signers and timestamps against every set alike; vouch
    /// refuses a signer anchored only in the TSA list afterwards.
    pub fn c2pa_settings(&self) -> Option<serde_json::Value> {
        let sets = self.anchor_sets();
        if sets.is_empty() {
            return None;
        }
        let anchors: Vec<serde_json::Value> = sets
            .iter()
            .map(|set| {
                serde_json::json!({
                    "trust_anchors": set.pem,
                    "trust_uri": set.uri,
                    "trust_kind": match set.kind { SetKind::Signer => "manifest", SetKind::TimeStamping => "tsa" },
                    "allowed_list": set.allowed,
                })
            })
            .collect();
        let mut trust = serde_json::Map::new();
        trust.insert("anchors".into(), anchors.into());
        if !self.public.is_empty() {
            trust.insert("trust_config".into(), lists::SIGNER_EKUS.into());
        }
        Some(serde_json::Value::Object(trust))
    }

    /// c2pa's certificate trust policy over the same sets as
    /// [`Self::c2pa_settings`], for checking a signer at a time other than
    /// now (vouch's anchor-time rule).
    pub fn certificate_policy(&self) -> c2pa::crypto::cose::CertificateTrustPolicy {
        use c2pa::crypto::cose::{CertificateTrustPolicy, TrustAnchorType};
        // `default()` holds c2pa's own signer EKUs, as the validator's policy does.
        let mut policy = CertificateTrustPolicy::default();
        for set in self.anchor_sets() {
            let kind = match set.kind {
                SetKind::Signer => TrustAnchorType::Manifest,
                SetKind::TimeStamping => TrustAnchorType::TSA,
            };
            // The lists were parsed when loaded: these cannot fail.
            if !set.pem.is_empty() {
                let _ = policy.add_trust_anchors(set.pem.as_bytes(), set.uri, kind, None);
            }
            if let Some(allowed) = &set.allowed {
                let _ = policy.add_end_entity_credentials(allowed.as_bytes());
            }
        }
        if !self.public.is_empty() {
            policy.add_valid_ekus(lists::SIGNER_EKUS.as_bytes());
        }
        policy
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

/// Where one certificate of the anchors sits: among the local anchors
/// (`list: None`) or in a public list (`list: Some(index into public)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot {
    pub list: Option<usize>,
    pub index: usize,
}

/// Narrowing the anchors to those that can matter for one file (see
/// `provenance::Validator`, which gives c2pa only those).
impl TrustAnchors {
    /// Every certificate of the anchors with its slot and, for a public
    /// list, the list's name.
    pub fn slots(&self) -> impl Iterator<Item = (Slot, Option<lists::ListName>, &[u8])> + '_ {
        let local = self
            .local_ders
            .iter()
            .enumerate()
            .map(|(index, (_, der))| (Slot { list: None, index }, None, der.as_slice()));
        let public = self.public.iter().enumerate().flat_map(|(list, l)| {
            l.certs
                .iter()
                .enumerate()
                .map(move |(index, c)| (Slot { list: Some(list), index }, Some(l.name), c.der.as_slice()))
        });
        local.chain(public)
    }

    /// The same anchors holding only the certificates in `keep`. Every public
    /// list stays (possibly empty), so the rules that come with having
    /// public lists at all (the signer EKUs) are unchanged.
    pub fn subset(&self, keep: &[Slot]) -> TrustAnchors {
        let mut narrowed = TrustAnchors { public: self.public.clone(), ..TrustAnchors::default() };
        for (index, (sha, der)) in self.local_ders.iter().enumerate() {
            if keep.contains(&Slot { list: None, index }) {
                narrowed.pem.push_str(&identity::to_pem(std::slice::from_ref(der)));
                narrowed.local_ders.push((sha.clone(), der.clone()));
                if let Some(anchor) = self.anchors.iter().find(|a| a.cert.sha256 == *sha) {
                    narrowed.anchors.push(anchor.clone());
                }
            }
        }
        for (list, l) in narrowed.public.iter_mut().enumerate() {
            let mut index = 0;
            l.certs.retain(|_| {
                index += 1;
                keep.contains(&Slot { list: Some(list), index: index - 1 })
            });
            l.count = l.certs.len();
        }
        narrowed
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
