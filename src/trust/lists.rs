//! Public trust lists: the C2PA Trust List, the C2PA TSA Trust List and the
//! interim Content Credentials list, shipped with vouch (data/trust-lists/)
//! and replaceable by `vouch trust update` with a copy the user downloaded.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Result, TrustError};
use crate::identity::{self, CertSummary};

/// One of the public lists vouch knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListName {
    /// The C2PA Trust List: roots and issuing CAs of conforming claim signers.
    C2pa,
    /// The C2PA TSA Trust List: time-stamping authorities.
    Tsa,
    /// The interim Content Credentials list's trust anchors.
    Interim,
    /// End-entity certificates allowed one by one under the interim list.
    InterimAllowed,
}

impl ListName {
    pub const ALL: [ListName; 4] = [Self::C2pa, Self::Tsa, Self::Interim, Self::InterimAllowed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::C2pa => "c2pa",
            Self::Tsa => "tsa",
            Self::Interim => "interim",
            Self::InterimAllowed => "interim-allowed",
        }
    }

    /// What the list is, in words.
    pub fn title(self) -> &'static str {
        match self {
            Self::C2pa => "C2PA Trust List",
            Self::Tsa => "C2PA TSA Trust List",
            Self::Interim => "interim Content Credentials list",
            Self::InterimAllowed => "interim Content Credentials list (allowed certificates)",
        }
    }

    /// Where the official list is published: `trust update` says so.
    pub fn published_at(self) -> &'static str {
        match self {
            Self::C2pa => "https://github.com/c2pa-org/conformance-public/blob/main/trust-list/C2PA-TRUST-LIST.pem",
            Self::Tsa => "https://github.com/c2pa-org/conformance-public/blob/main/trust-list/C2PA-TSA-TRUST-LIST.pem",
            Self::Interim => "https://github.com/contentauth/verify-site/blob/main/static/trust/anchors.pem",
            Self::InterimAllowed => "https://github.com/contentauth/verify-site/blob/main/static/trust/allowed.pem",
        }
    }

    fn shipped(self) -> &'static str {
        match self {
            Self::C2pa => include_str!("../../data/trust-lists/C2PA-TRUST-LIST.pem"),
            Self::Tsa => include_str!("../../data/trust-lists/C2PA-TSA-TRUST-LIST.pem"),
            Self::Interim => include_str!("../../data/trust-lists/legacy/anchors.pem"),
            Self::InterimAllowed => include_str!("../../data/trust-lists/legacy/allowed.pem"),
        }
    }

    /// The list's file inside `data/trust-lists/`, and so inside an
    /// installed `PREFIX/share/vouch/trust-lists/`.
    pub fn data_file(self) -> &'static str {
        match self {
            Self::C2pa => "C2PA-TRUST-LIST.pem",
            Self::Tsa => "C2PA-TSA-TRUST-LIST.pem",
            Self::Interim => "legacy/anchors.pem",
            Self::InterimAllowed => "legacy/allowed.pem",
        }
    }

    /// The `VERSION` file that says which publication the list's data
    /// folder holds (one per source).
    fn data_version_file(self) -> &'static str {
        match self {
            Self::C2pa | Self::Tsa => "VERSION",
            Self::Interim | Self::InterimAllowed => "legacy/VERSION",
        }
    }

    fn shipped_version(self) -> String {
        let version = match self {
            Self::C2pa | Self::Tsa => include_str!("../../data/trust-lists/VERSION"),
            Self::Interim | Self::InterimAllowed => include_str!("../../data/trust-lists/legacy/VERSION"),
        };
        format!("shipped: {}", version.trim())
    }

    fn file_name(self) -> String {
        format!("{}.pem", self.as_str())
    }

    fn version_file_name(self) -> String {
        format!("{}.version", self.as_str())
    }
}

impl std::str::FromStr for ListName {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Self::ALL.into_iter().find(|l| l.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|l| l.as_str()).collect();
            format!("no trust list named `{s}` (one of: {})", names.join(", "))
        })
    }
}

/// The extended key usages the interim list accepts for signers (they are
/// also c2pa-rs's defaults), one OID a line.
pub const SIGNER_EKUS: &str = include_str!("../../data/trust-lists/legacy/store.cfg");

/// A certificate of a list, parsed.
#[derive(Debug, Clone, Serialize)]
pub struct ListCert {
    #[serde(skip)]
    pub der: Vec<u8>,
    #[serde(flatten)]
    pub cert: CertSummary,
}

/// Which copy of a list a run uses, first found first: the one `trust
/// update` stored, the one installed beside the binary, the one compiled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListCopy {
    /// `$VOUCH_HOME/trust-lists/NAME.pem`, from `vouch trust update`.
    Updated,
    /// `PREFIX/share/vouch/trust-lists/`, from `make install`: updating
    /// these files updates the lists without a new binary.
    Installed,
    /// The copy of `data/trust-lists/` built into the binary.
    CompiledIn,
}

impl ListCopy {
    /// The copy in words, with its file when it has one.
    pub fn words(self, file: Option<&Path>) -> String {
        let file = file.map(|f| format!(" {}", f.display())).unwrap_or_default();
        match self {
            Self::Updated => format!("updated copy{file}"),
            Self::Installed => format!("installed copy{file}"),
            Self::CompiledIn => "copy compiled into vouch".to_string(),
        }
    }
}

/// A public list as it stands for this run: the copy `trust update`
/// stored, the installed copy, or the one compiled in.
#[derive(Debug, Clone, Serialize)]
pub struct TrustList {
    pub name: ListName,
    pub title: &'static str,
    pub version: String,
    /// Which copy is in use.
    pub copy: ListCopy,
    /// The file of the copy in use; `None` for the one compiled in.
    pub file: Option<PathBuf>,
    pub count: usize,
    #[serde(skip)]
    pub certs: Vec<ListCert>,
}

impl TrustList {
    /// The list as a PEM bundle, as c2pa takes it.
    pub fn pem(&self) -> String {
        identity::to_pem(&self.certs.iter().map(|c| c.der.clone()).collect::<Vec<_>>())
    }
}

/// Parses a list's PEM: every certificate must parse, and there must be one.
fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<ListCert>> {
    let mut certs = Vec::new();
    for der in identity::parse_chain(path, bytes)? {
        let cert = CertSummary::from_der(path, &der)?;
        if !certs.iter().any(|c: &ListCert| c.cert.sha256 == cert.sha256) {
            certs.push(ListCert { der, cert });
        }
    }
    Ok(certs)
}

/// The installed lists, `PREFIX/share/vouch/trust-lists/` for a binary at
/// `PREFIX/bin/vouch` (found by where the binary sits, as the models are),
/// when that folder exists.
pub fn installed_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.parent()?.join("share/vouch/trust-lists");
    dir.is_dir().then_some(dir)
}

/// The list `name`: from `dir` ($VOUCH_HOME/trust-lists) when updated there,
/// else from the installed data beside the binary ([`installed_dir`]), else
/// as compiled in. A copy that is there but does not parse is an error, not
/// a reason to fall back quietly.
pub fn load(dir: &Path, name: ListName) -> Result<TrustList> {
    load_from(dir, installed_dir().as_deref(), name)
}

/// [`load`] with the installed folder given.
pub fn load_from(dir: &Path, installed: Option<&Path>, name: ListName) -> Result<TrustList> {
    let read = |path: &Path| match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(TrustError::Io { path: path.to_path_buf(), source }),
    };
    let version_in = |path: PathBuf, unknown: &str| {
        fs::read_to_string(path).map(|v| v.trim().to_string()).unwrap_or_else(|_| unknown.to_string())
    };
    let stored = dir.join(name.file_name());
    let found = match (read(&stored)?, installed) {
        (Some(bytes), _) => Some((ListCopy::Updated, stored, bytes)),
        (None, Some(installed)) => {
            let path = installed.join(name.data_file());
            read(&path)?.map(|bytes| (ListCopy::Installed, path, bytes))
        }
        (None, None) => None,
    };
    let (certs, version, copy, file) = match found {
        Some((ListCopy::Updated, path, bytes)) => {
            let version = version_in(dir.join(name.version_file_name()), "updated (version unknown)");
            (parse(&path, &bytes)?, version, ListCopy::Updated, Some(path))
        }
        Some((copy, path, bytes)) => {
            let version_file = installed.map(|d| d.join(name.data_version_file())).unwrap_or_default();
            let version = format!("installed: {}", version_in(version_file, "version unknown"));
            (parse(&path, &bytes)?, version, copy, Some(path))
        }
        None => {
            let shipped = Path::new("data/trust-lists").join(name.data_file());
            (parse(&shipped, name.shipped().as_bytes())?, name.shipped_version(), ListCopy::CompiledIn, None)
        }
    };
    Ok(TrustList { name, title: name.title(), version, copy, file, count: certs.len(), certs })
}

/// Every public list.
pub fn load_all(dir: &Path) -> Result<Vec<TrustList>> {
    ListName::ALL.into_iter().map(|name| load(dir, name)).collect()
}

/// Replaces list `name` with the certificates of `file`. A file that is not
/// a well-formed PEM list of certificates is refused and the list in use is
/// kept; so is an anchor list holding a certificate that is not a CA.
pub fn update(dir: &Path, name: ListName, file: &Path) -> Result<TrustList> {
    let bytes = fs::read(file).map_err(|source| TrustError::Io { path: file.to_path_buf(), source })?;
    let certs = parse(file, &bytes).map_err(|e| match e {
        TrustError::Cert(identity::IdentityError::BadCert { path, reason }) => TrustError::BadList { path, reason },
        e => e,
    })?;
    if name != ListName::InterimAllowed {
        if let Some(leaf) = certs.iter().find(|c| !is_ca(&c.der)) {
            return Err(TrustError::BadList {
                path: file.to_path_buf(),
                reason: format!(
                    "`{}` is not a certificate authority: a {} holds only CAs",
                    leaf.cert.subject,
                    name.title()
                ),
            });
        }
    }
    fs::create_dir_all(dir).map_err(|source| TrustError::Io { path: dir.to_path_buf(), source })?;
    let today = chrono::Utc::now().format("%Y-%m-%d");
    let version =
        format!("updated {today} from {} (sha256 {})", file.display(), &hex::encode(Sha256::digest(&bytes))[..16]);
    let pem = identity::to_pem(&certs.iter().map(|c| c.der.clone()).collect::<Vec<_>>());
    let dest = dir.join(name.file_name());
    crate::fsx::write_atomic(&dest, pem.as_bytes(), Some(0o644), true)
        .map_err(|source| TrustError::Io { path: dest.clone(), source })?;
    let version_path = dir.join(name.version_file_name());
    crate::fsx::write_atomic(&version_path, format!("{version}\n").as_bytes(), Some(0o644), true)
        .map_err(|source| TrustError::Io { path: version_path.clone(), source })?;
    load(dir, name)
}

/// Whether a certificate says it is a CA (basicConstraints cA).
fn is_ca(der: &[u8]) -> bool {
    x509_parser::parse_x509_certificate(der)
        .ok()
        .and_then(|(_, c)| c.basic_constraints().ok().flatten().map(|bc| bc.value.ca))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_lists_parse_in_full() {
        let dir = tempfile::tempdir().unwrap();
        let counts: Vec<(ListName, usize)> =
            load_all(dir.path()).unwrap().iter().map(|l| (l.name, l.certs.len())).collect();
        assert_eq!(
            counts,
            vec![(ListName::C2pa, 30), (ListName::Tsa, 22), (ListName::Interim, 18), (ListName::InterimAllowed, 86)]
        );
        let c2pa = load(dir.path(), ListName::C2pa).unwrap();
        assert!(c2pa.certs.iter().any(|c| c.cert.common_name.as_deref() == Some("Google C2PA Root CA G3")));
        let interim = load(dir.path(), ListName::Interim).unwrap();
        assert!(interim.certs.iter().any(|c| c.cert.organization.as_deref().is_some_and(|o| o.contains("Leica"))));
        assert_eq!(c2pa.copy, ListCopy::CompiledIn);
        assert!(c2pa.version.starts_with("shipped: c2pa-org/conformance-public"), "{}", c2pa.version);
    }

    #[test]
    fn an_installed_copy_is_used_over_the_compiled_one_and_an_updated_one_over_both() {
        let home = tempfile::tempdir().unwrap();
        let installed = tempfile::tempdir().unwrap();
        // The installed data: the TSA list standing in for the C2PA list, so the count tells them apart.
        fs::create_dir_all(installed.path().join("legacy")).unwrap();
        fs::write(installed.path().join("C2PA-TRUST-LIST.pem"), ListName::Tsa.shipped()).unwrap();
        fs::write(installed.path().join("VERSION"), "a newer publication\n").unwrap();
        let c2pa = load_from(home.path(), Some(installed.path()), ListName::C2pa).unwrap();
        assert_eq!((c2pa.copy, c2pa.count), (ListCopy::Installed, 22));
        assert_eq!(c2pa.version, "installed: a newer publication");
        assert_eq!(c2pa.file.as_deref(), Some(installed.path().join("C2PA-TRUST-LIST.pem").as_path()));
        // A list the installed folder lacks is the compiled one.
        let interim = load_from(home.path(), Some(installed.path()), ListName::Interim).unwrap();
        assert_eq!((interim.copy, interim.count), (ListCopy::CompiledIn, 18));
        // `trust update` wins over both.
        fs::write(home.path().join("c2pa.pem"), ListName::Interim.shipped()).unwrap();
        let c2pa = load_from(home.path(), Some(installed.path()), ListName::C2pa).unwrap();
        assert_eq!((c2pa.copy, c2pa.count), (ListCopy::Updated, 18));
        // A damaged installed copy is an error naming it, not a quiet fallback.
        fs::remove_file(home.path().join("c2pa.pem")).unwrap();
        fs::write(installed.path().join("C2PA-TRUST-LIST.pem"), "-----BEGIN CERTIFICATE-----\nnot base64\n").unwrap();
        let err = load_from(home.path(), Some(installed.path()), ListName::C2pa).unwrap_err().to_string();
        assert!(err.contains("C2PA-TRUST-LIST.pem"), "{err}");
    }

    /// Each list's names as people meet them: the name `--list` takes, the
    /// title, where it is published, and the files `trust update` writes.
    #[test]
    fn each_list_has_its_own_name_title_source_and_files() {
        let names: Vec<&str> = ListName::ALL.iter().map(|l| l.as_str()).collect();
        assert_eq!(names, ["c2pa", "tsa", "interim", "interim-allowed"]);
        let titles: Vec<&str> = ListName::ALL.iter().map(|l| l.title()).collect();
        assert_eq!(
            titles,
            [
                "C2PA Trust List",
                "C2PA TSA Trust List",
                "interim Content Credentials list",
                "interim Content Credentials list (allowed certificates)"
            ]
        );
        for name in ListName::ALL {
            assert_eq!(name.as_str().parse::<ListName>(), Ok(name));
            let published = name.published_at();
            assert!(published.starts_with("https://github.com/"), "{published}");
            assert!(published.ends_with(name.data_file().rsplit('/').next().unwrap()), "{published}");
            assert_eq!(name.file_name(), format!("{}.pem", name.as_str()));
            assert_eq!(name.version_file_name(), format!("{}.version", name.as_str()));
        }
        assert_eq!(
            "nosuch".parse::<ListName>(),
            Err("no trust list named `nosuch` (one of: c2pa, tsa, interim, interim-allowed)".to_string())
        );
        let file = Path::new("/lists/c2pa.pem");
        assert_eq!(ListCopy::Updated.words(Some(file)), "updated copy /lists/c2pa.pem");
        assert_eq!(ListCopy::Installed.words(Some(file)), "installed copy /lists/c2pa.pem");
        assert_eq!(ListCopy::CompiledIn.words(None), "copy compiled into vouch");
    }

    #[test]
    fn a_list_holds_a_repeated_certificate_once_and_an_unreadable_copy_is_an_error() {
        let home = tempfile::tempdir().unwrap();
        fs::write(home.path().join("tsa.pem"), [ListName::Tsa.shipped(), ListName::Tsa.shipped()].concat()).unwrap();
        let tsa = load_from(home.path(), None, ListName::Tsa).unwrap();
        assert_eq!((tsa.copy, tsa.count, tsa.certs.len()), (ListCopy::Updated, 22, 22));
        assert_eq!(tsa.version, "updated (version unknown)");
        // An updated copy that cannot be read (here a folder) is an error
        // naming it, never a quiet fallback to another copy.
        fs::create_dir(home.path().join("c2pa.pem")).unwrap();
        let err = load_from(home.path(), None, ListName::C2pa).unwrap_err().to_string();
        assert!(err.contains("c2pa.pem"), "{err}");
    }

    /// `trust update`: the anchor lists take certificate authorities only;
    /// the allowed list takes signers one by one.
    #[test]
    fn an_update_takes_only_authorities_into_an_anchor_list_and_signers_into_the_allowed_one() {
        let dir = tempfile::tempdir().unwrap();
        let id = dir.path().join("id");
        let req = identity::NewIdentity { name: "Camera".into(), org: None, email: None, days: 30 };
        identity::create(&id, &req, None).unwrap();
        let root = id.join(identity::ROOT_CERT);
        let signer = id.join("signer.pem");
        let leaf = dir.path().join("leaf.pem");
        fs::write(&leaf, identity::to_pem(&identity::parse_chain(&signer, &fs::read(&signer).unwrap()).unwrap()[..1]))
            .unwrap();
        let home = dir.path().join("home");
        let c2pa = update(&home, ListName::C2pa, &root).unwrap();
        assert_eq!((c2pa.copy, c2pa.count), (ListCopy::Updated, 1));
        assert!(
            c2pa.version.starts_with("updated ") && c2pa.version.contains(&root.display().to_string()),
            "{}",
            c2pa.version
        );
        let err = update(&home, ListName::C2pa, &leaf).unwrap_err().to_string();
        assert!(
            err.contains("`CN=Camera, O=Camera` is not a certificate authority: a C2PA Trust List holds only CAs"),
            "{err}"
        );
        assert_eq!(load_from(&home, None, ListName::C2pa).unwrap().count, 1, "the list in use is kept");
        let allowed = update(&home, ListName::InterimAllowed, &leaf).unwrap();
        assert_eq!(allowed.count, 1);
        assert_eq!(allowed.certs[0].cert.common_name.as_deref(), Some("Camera"));
    }
}
