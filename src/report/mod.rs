//! Rendering results: plain data in, text for people, JSON Lines or CSV for
//! machines, PNG timelines out. Nothing here decides anything; it only shows.

pub mod check;
mod detect;
mod html;
mod text;

use std::path::PathBuf;

use serde::Serialize;

use crate::anchor::AnchorReport;
use crate::provenance::C2paReport;

pub use check::{check_text, junit, record_text, sarif, tally_text, Row, Tally};
pub use detect::{
    detect_caveat, detect_csv, detect_text, is_flagged, model_check_text, model_list_text, plot_path, plot_timeline,
    PlotError, CSV_HEADER, DETECT_HEADER,
};
pub use html::check_html;
pub use text::{
    anchored_text, identity_text, inspect_text, ots_text, sign_text, trust_list_text, trust_text, upgrade_text,
    verify_text, watch_text,
};

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

/// Text for people from a path or string that others chose: control
/// characters (an escape sequence could rewrite the terminal, a CR or LF
/// could fake a line) and bidirectional overrides are shown escaped, as
/// `\x1b`, `\r`, `\u{202e}`.
pub fn printable(path: &std::path::Path) -> String {
    printable_str(&path.to_string_lossy())
}

/// [`printable`] for a string.
pub fn printable_str(text: &str) -> String {
    use std::fmt::Write as _;
    if !text.chars().any(needs_escape) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x100 && needs_escape(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// One value as one line of JSON.
/// The official provenance signals in the rubric's own words, one line per
/// manifest that shows any: the active manifest's first, then those in its
/// history (an ingredient without credentials said as such).
pub fn signal_lines(signals: &[crate::provenance::signals::ManifestSignals], active: Option<&str>) -> Vec<String> {
    let mut ordered: Vec<_> = signals.iter().filter(|m| m.all().next().is_some()).collect();
    ordered.sort_by_key(|m| Some(m.manifest.as_str()) != active);
    ordered
        .into_iter()
        .map(|m| {
            let words: Vec<&str> = m.all().map(|s| s.report_text.as_str()).collect();
            let place = if Some(m.manifest.as_str()) == active {
                "signals"
            } else if m.pseudo {
                "signals of an ingredient without credentials"
            } else {
                "signals in its history"
            };
            printable_str(&format!("{place}: {}", words.join("; ")))
        })
        .collect()
}

pub fn json_line<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"cannot serialise: {e}\"}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_bidi_overrides_are_shown_escaped() {
        assert_eq!(printable_str("a\x1b[2Jb\rc\nd\u{7f}e\u{202e}f"), "a\\x1b[2Jb\\rc\\nd\\x7fe\\u{202e}f");
        assert_eq!(printable_str("photo ü.jpg"), "photo ü.jpg");
    }

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
