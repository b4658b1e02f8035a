//! What verifying a file comes to, as plain data: the record every command
//! that verifies produces ([`FileReport`]), and the record of an input that
//! could not be processed ([`ErrorRecord`]). Capabilities fill these in;
//! `check` judges them; `report` renders them.

use std::path::PathBuf;

use serde::Serialize;

use crate::anchor::AnchorReport;
use crate::provenance::C2paReport;

/// Everything vouch learned about one file. Later capabilities add their
/// sections (`anchors`, `detection`) to this same record.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    #[serde(serialize_with = "lossy_path")]
    pub path: PathBuf,
    /// The path's raw bytes (base64) when they are not UTF-8, so a record
    /// still names its file exactly; `path` then holds a lossy rendering.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_bytes: Option<String>,
    /// Set when the file was reached through a symbolic link.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub link: bool,
    /// `None` for files that C2PA cannot carry (anchored documents, say).
    pub c2pa: Option<C2paReport>,
    pub anchors: Vec<AnchorReport>,
    /// Declarations of AI origin in the file's metadata and credentials,
    /// read without any model (see [`crate::detect::declared`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub declared: Vec<crate::detect::declared::Declared>,
    /// Detector scores, when detection ran (`vouch check --detect`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection: Option<crate::detect::Detection>,
}

impl FileReport {
    /// Whether the file passes `vouch verify`: nothing that vouches for it is
    /// false, and at least one thing does (credentials that hold, or an
    /// anchor confirmed on chain). Pending anchors alone prove nothing yet.
    pub fn passes(&self) -> bool {
        use crate::anchor::AnchorState;
        use crate::provenance::C2paState;
        let c2pa_state = self.c2pa.as_ref().map(|c| c.state);
        let any_false =
            c2pa_state == Some(C2paState::Invalid) || self.anchors.iter().any(|a| a.state == AnchorState::Invalid);
        let any_true =
            c2pa_state.is_some_and(C2paState::passes) || self.anchors.iter().any(|a| a.state == AnchorState::Confirmed);
        any_true && !any_false
    }
}

/// The JSON Lines record for an input that could not be processed.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorRecord {
    #[serde(serialize_with = "lossy_path")]
    pub path: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_bytes: Option<String>,
    pub error: String,
}

impl ErrorRecord {
    pub fn new(path: &std::path::Path, error: String) -> Self {
        Self { path: path.to_path_buf(), path_bytes: path_bytes(path), error }
    }
}

/// A path in a JSON record: UTF-8 as is, anything else lossily (the exact
/// bytes go in `path_bytes`).
pub fn lossy_path<S: serde::Serializer>(path: &std::path::Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&path.to_string_lossy())
}

/// The raw bytes of a path that is not UTF-8, as base64; `None` for UTF-8.
pub fn path_bytes(path: &std::path::Path) -> Option<String> {
    use base64::Engine as _;
    path.to_str()
        .is_none()
        .then(|| base64::engine::general_purpose::STANDARD.encode(path.as_os_str().as_encoded_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_that_is_not_utf8_keeps_its_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let path = std::path::Path::new(std::ffi::OsStr::from_bytes(b"caf\xe9.jpg"));
        let record = ErrorRecord::new(path, "x".into());
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["path"], "caf\u{fffd}.jpg");
        assert_eq!(json["path_bytes"], "Y2Fm6S5qcGc=");
        assert!(path_bytes(std::path::Path::new("ok.jpg")).is_none());
    }
}
