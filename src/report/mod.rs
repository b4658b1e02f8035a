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

pub use check::{check_text, junit, sarif, tally_text, Row, Tally};
pub use detect::{
    detect_csv, detect_text, is_flagged, model_check_text, model_list_text, plot_path, plot_timeline, PlotError,
    CSV_HEADER, DETECT_HEADER,
};
pub use html::check_html;
pub use text::{
    anchored_text, identity_text, inspect_text, ots_text, sign_text, trust_text, upgrade_text, verify_text, watch_text,
};

/// Everything vouch learned about one file. Later capabilities add their
/// sections (`anchors`, `detection`) to this same record.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: PathBuf,
    /// `None` for files that C2PA cannot carry (anchored documents, say).
    pub c2pa: Option<C2paReport>,
    pub anchors: Vec<AnchorReport>,
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
    pub path: PathBuf,
    pub error: String,
}

/// One value as one line of JSON.
pub fn json_line<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"cannot serialise: {e}\"}}"))
}
