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

    /// The same anchors holding only the certificates in `keep`, for c2pa's
    /// settings. Every public list stays (possibly empty), so the rules that
    /// come with having public lists at all (the signer EKUs) are unchanged.
    /// The copy names no local anchor (`anchors` is empty): a verdict's
    /// anchor is named from the full set.
    pub fn subset(&self, keep: &[Slot]) -> TrustAnchors {
        let mut narrowed = TrustAnchors { public: self.public.clone(), ..TrustAnchors::default() };
        for (index, (sha, der)) in self.local_ders.iter().enumerate() {
            if keep.contains(&Slot { list: None, index }) {
                narrowed.pem.push_str(&identity::to_pem(std::slice::from_ref(der)));
                narrowed.local_ders.push((sha.clone(), der.clone()));
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

#[cfg(test)]
mod tests {
    use super::*;
    use lists::{ListCert, ListCopy, ListName, TrustList};

    /// A fresh identity in `dir/name`: its signer's chain (leaf first) and
    /// the path of its root.
    fn identity(dir: &Path, name: &str) -> (Vec<Vec<u8>>, PathBuf) {
        let id = dir.join(name);
        let req = identity::NewIdentity { name: name.into(), org: None, email: None, days: 30 };
        identity::create(&id, &req, None).unwrap();
        let signer = id.join("signer.pem");
        (identity::parse_chain(&signer, &fs::read(&signer).unwrap()).unwrap(), id.join(identity::ROOT_CERT))
    }

    fn der_of(pem: &Path) -> Vec<u8> {
        identity::parse_chain(pem, &fs::read(pem).unwrap()).unwrap().remove(0)
    }

    fn sha256_of(der: &[u8]) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(der))
    }

    /// A public list holding these certificates.
    fn public_list(name: ListName, ders: &[&[u8]]) -> TrustList {
        let certs: Vec<ListCert> = ders
            .iter()
            .map(|der| ListCert { der: der.to_vec(), cert: CertSummary::from_der(Path::new("list.pem"), der).unwrap() })
            .collect();
        TrustList {
            name,
            title: name.title(),
            version: "test".into(),
            copy: ListCopy::CompiledIn,
            file: None,
            count: certs.len(),
            certs,
        }
    }

    fn in_lists(lists: Vec<TrustList>) -> TrustAnchors {
        TrustAnchors { public: lists, ..TrustAnchors::default() }
    }

    fn named(list: &str, anchor: &str, der: &[u8]) -> TrustSource {
        TrustSource { list: list.into(), anchor: anchor.into(), anchor_sha256: sha256_of(der) }
    }

    /// What a `trusted` verdict names: the topmost anchor the signer's
    /// chain reaches, among the local anchors first, then the C2PA list, the
    /// interim list (its anchors and its allowed signers) and last the TSA
    /// list, which vouches for no signer.
    #[test]
    fn a_signer_is_named_after_the_topmost_anchor_it_reaches_local_anchors_first() {
        let dir = tempfile::tempdir().unwrap();
        let (chain, root_pem) = identity(dir.path(), "Reporter");
        let (leaf, root) = (chain[0].clone(), der_of(&root_pem));
        assert_eq!(TrustAnchors::default().attribute(&chain), Attribution::Unknown);
        let signer = |list, anchors: &TrustAnchors| match anchors.attribute(&chain) {
            Attribution::Signer(source) if source.list == list => source,
            other => panic!("{list}: {other:?}"),
        };
        let c2pa = signer("c2pa", &in_lists(vec![public_list(ListName::C2pa, &[&root])]));
        assert_eq!(c2pa, named("c2pa", "Reporter Root CA", &root));
        assert_eq!(c2pa.list_words(), "C2PA Trust List");
        let interim = signer("interim", &in_lists(vec![public_list(ListName::Interim, &[&root])]));
        assert_eq!(interim, named("interim", "Reporter Root CA", &root));
        assert_eq!(interim.list_words(), "interim Content Credentials list");
        // A signer allowed one by one is its own anchor.
        let allowed = signer("interim", &in_lists(vec![public_list(ListName::InterimAllowed, &[&leaf])]));
        assert_eq!(allowed, named("interim", "Reporter", &leaf));
        // The leaf and its root both listed: the root is named.
        let both = signer("c2pa", &in_lists(vec![public_list(ListName::C2pa, &[&leaf, &root])]));
        assert_eq!(both.anchor, "Reporter Root CA");
        match in_lists(vec![public_list(ListName::Tsa, &[&root])]).attribute(&chain) {
            Attribution::TsaOnly(source) => {
                assert_eq!(source, named("tsa", "Reporter Root CA", &root));
                assert_eq!(source.list_words(), "C2PA TSA Trust List");
            }
            other => panic!("{other:?}"),
        }
        let mut local = in_lists(vec![public_list(ListName::C2pa, &[&root])]);
        local.add_file(&root_pem).unwrap();
        let local = signer("local", &local);
        assert_eq!(local, named("local", "Reporter Root CA", &root));
        assert_eq!(local.list_words(), "local trust anchor");

        // Attack: a root with the same name (another identity called
        // "Reporter"), but another key, vouches for nothing of this signer,
        // as a public or a local anchor.
        let (_, twin_pem) = identity(&dir.path().join("elsewhere"), "Reporter");
        let twin = der_of(&twin_pem);
        assert_eq!(CertSummary::from_der(&twin_pem, &twin).unwrap().subject, c2pa_subject(&root));
        assert_eq!(in_lists(vec![public_list(ListName::C2pa, &[&twin])]).attribute(&chain), Attribution::Unknown);
        let mut local_twin = TrustAnchors::default();
        local_twin.add_file(&twin_pem).unwrap();
        assert_eq!(local_twin.attribute(&chain), Attribution::Unknown);
    }

    fn c2pa_subject(der: &[u8]) -> String {
        CertSummary::from_der(Path::new("root.pem"), der).unwrap().subject
    }

    fn certificates_in(pem: &serde_json::Value) -> usize {
        pem.as_str().map_or(0, |p| p.matches("-----BEGIN CERTIFICATE-----").count())
    }

    /// c2pa is given one anchor set a list in force, each holding exactly
    /// that list's certificates, the interim list's allowed signers beside
    /// its anchors, and the signer EKUs whenever public lists are used.
    #[test]
    fn c2pa_is_given_one_anchor_set_for_each_list_in_force() {
        let dir = tempfile::tempdir().unwrap();
        let (_, root_pem) = identity(dir.path(), "Reporter");
        assert_eq!(TrustAnchors::default().c2pa_settings(), None);
        assert_eq!(TrustAnchors::default().pem_bundle(), None);
        let mut local = TrustAnchors::default();
        local.add_file(&root_pem).unwrap();
        let root_only = identity::to_pem(&[der_of(&root_pem)]);
        assert_eq!(local.pem_bundle(), Some(root_only.as_str()));
        let settings = local.c2pa_settings().unwrap();
        assert_eq!(settings["anchors"][0]["trust_uri"], "local");
        assert_eq!(settings["anchors"][0]["trust_anchors"], root_only.as_str());
        assert_eq!(settings["anchors"].as_array().unwrap().len(), 1);
        assert!(settings.get("trust_config").is_none(), "{settings}");

        let everything = TrustAnchors { public: lists::load_all(Path::new("/nonexistent")).unwrap(), ..local };
        let settings = everything.c2pa_settings().unwrap();
        let sets = settings["anchors"].as_array().unwrap();
        let described: Vec<(&str, &str, usize, usize)> = sets
            .iter()
            .map(|s| {
                let (uri, kind) = (s["trust_uri"].as_str().unwrap(), s["trust_kind"].as_str().unwrap());
                (uri, kind, certificates_in(&s["trust_anchors"]), certificates_in(&s["allowed_list"]))
            })
            .collect();
        assert_eq!(
            described,
            [
                ("c2pa", "manifest", 30, 0),
                ("interim", "manifest", 18, 86),
                ("tsa", "tsa", 22, 0),
                ("local", "manifest", 1, 0)
            ]
        );
        assert!(sets.iter().filter(|s| s["trust_uri"] != "interim").all(|s| s["allowed_list"].is_null()));
        assert_eq!(settings["trust_config"], lists::SIGNER_EKUS);

        // Narrowed to the interim anchors alone, or to its allowed signers
        // alone, the interim set is still given, with what is left of it.
        let slots_of =
            |name| everything.slots().filter(|(_, n, _)| *n == Some(name)).map(|(s, _, _)| s).collect::<Vec<_>>();
        let interim_only = everything.subset(&slots_of(ListName::Interim)).c2pa_settings().unwrap();
        let sets = interim_only["anchors"].as_array().unwrap();
        assert_eq!(sets.len(), 1, "{interim_only}");
        assert_eq!((certificates_in(&sets[0]["trust_anchors"]), sets[0]["allowed_list"].is_null()), (18, true));
        let allowed_only = everything.subset(&slots_of(ListName::InterimAllowed)).c2pa_settings().unwrap();
        let sets = allowed_only["anchors"].as_array().unwrap();
        assert_eq!(sets.len(), 1, "{allowed_only}");
        assert_eq!(sets[0]["trust_uri"], "interim");
        assert_eq!((certificates_in(&sets[0]["trust_anchors"]), certificates_in(&sets[0]["allowed_list"])), (0, 86));
        // Nothing kept: no anchors at all, whatever lists are in force.
        assert_eq!(everything.subset(&[]).c2pa_settings(), None);
    }

    /// The policy the anchor-time rule checks a signer with holds the same
    /// anchors: a local root, a listed root, an allowed signer.
    #[test]
    fn the_certificate_policy_holds_the_anchors_c2pa_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let (chain, root_pem) = identity(dir.path(), "Reporter");
        let (leaf, root) = (chain[0].clone(), der_of(&root_pem));
        let accepts = |anchors: &TrustAnchors| {
            anchors.certificate_policy().check_certificate_trust(&chain[1..], &leaf, None).is_ok()
        };
        assert!(!accepts(&TrustAnchors::default()));
        let mut local = TrustAnchors::default();
        local.add_file(&root_pem).unwrap();
        assert!(accepts(&local));
        assert!(accepts(&in_lists(vec![public_list(ListName::C2pa, &[&root])])));
        assert!(accepts(&in_lists(vec![public_list(ListName::InterimAllowed, &[&leaf])])));
        let (_, other_pem) = identity(dir.path(), "Someone Else");
        assert!(!accepts(&in_lists(vec![public_list(ListName::C2pa, &[&der_of(&other_pem)])])));
    }

    /// `vouch trust add/list/remove`: one file a certificate, named by its
    /// fingerprint; only `.pem` files count; removal by a prefix of the
    /// fingerprint, written as people copy it.
    #[test]
    fn the_store_keeps_one_file_per_certificate_and_removes_one_by_its_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let (_, a) = identity(dir.path(), "Desk A");
        let (_, b) = identity(dir.path(), "Desk B");
        let both = dir.path().join("both.pem");
        fs::write(&both, [fs::read(&a).unwrap(), fs::read(&b).unwrap()].concat()).unwrap();
        let store = dir.path().join("store");
        assert!(list(&store).unwrap().is_empty(), "no store yet: no anchors");
        let added = add(&store, &both).unwrap();
        let names: Vec<&str> = added.iter().map(|a| a.cert.common_name.as_deref().unwrap()).collect();
        assert_eq!(names, ["Desk A Root CA", "Desk B Root CA"]);
        for anchor in &added {
            assert_eq!(anchor.source, store.join(format!("{}.pem", anchor.cert.sha256)));
            assert_eq!(
                der_of(&anchor.source),
                der_of(if anchor.cert.common_name.as_deref() == Some("Desk A Root CA") { &a } else { &b })
            );
        }
        fs::write(store.join("README.txt"), "not a certificate").unwrap();
        let mut expected: Vec<&str> = added.iter().map(|a| a.cert.sha256.as_str()).collect();
        expected.sort();
        let listed = list(&store).unwrap();
        assert_eq!(listed.iter().map(|a| a.cert.sha256.as_str()).collect::<Vec<_>>(), expected);

        // A store that is a file is an error, not an empty store.
        assert!(matches!(list(&both), Err(TrustError::Io { .. })));

        assert!(matches!(remove(&store, "zz"), Err(TrustError::NoMatch(_))));
        assert!(matches!(remove(&store, ""), Err(TrustError::NoMatch(_))));
        let gone = &added[0];
        let written: Vec<String> = gone.cert.sha256[..8]
            .to_uppercase()
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        let removed = remove(&store, &written.join(":")).unwrap();
        assert_eq!(removed.cert.sha256, gone.cert.sha256);
        assert!(!gone.source.exists());
        assert_eq!(
            list(&store).unwrap().iter().map(|a| a.cert.sha256.clone()).collect::<Vec<_>>(),
            [added[1].cert.sha256.clone()]
        );
    }

    /// A run's local anchors: `--trust` files, then the store, then the
    /// identity's root, each certificate once; a bad root file is an error
    /// naming the setting that named it and why.
    #[test]
    fn a_run_takes_each_local_anchor_once_and_blames_a_bad_root_on_its_setting() {
        let dir = tempfile::tempdir().unwrap();
        let (_, reporter) = identity(dir.path(), "Reporter");
        let (_, desk) = identity(dir.path(), "Desk");
        let store = dir.path().join("store");
        add(&store, &desk).unwrap();
        let flag = RootFile::flag("--trust", &reporter);
        let anchors = gather(std::slice::from_ref(&flag), &store, Some(&dir.path().join("Reporter")), None).unwrap();
        let names: Vec<&str> = anchors.anchors.iter().map(|a| a.cert.common_name.as_deref().unwrap()).collect();
        assert_eq!(names, ["Reporter Root CA", "Desk Root CA"]);
        assert_eq!(anchors.anchors[0].source, reporter);
        assert!(anchors.public.is_empty());
        let with_lists = gather(&[], &store, None, Some(&dir.path().join("no-updates"))).unwrap();
        assert_eq!(with_lists.public.len(), 4);
        assert_eq!(with_lists.anchors.len(), 1);

        let missing = dir.path().join("missing.pem");
        let err = gather(&[RootFile::flag("--trust", &missing)], &store, None, None).unwrap_err();
        assert_eq!(err.to_string(), format!("--trust: {}: not found", missing.display()));
        let err = gather(&[RootFile::flag("--trust", dir.path())], &store, None, None).unwrap_err().to_string();
        assert!(err.starts_with(&format!("--trust: {}: ", dir.path().display())), "{err}");
        assert!(err.contains("directory") && !err.contains("not found"), "{err}");
    }
}
