//! Rendering results: plain data in, text for people or JSON Lines for
//! machines out. Nothing here decides anything; it only shows.

mod text;

use std::path::PathBuf;

use serde::Serialize;

use crate::provenance::C2paReport;

pub use text::{identity_text, inspect_text, sign_text, trust_text, verify_text};

/// Everything vouch learned about one file. Later capabilities add their
/// sections (`anchors`, `detection`) to this same record.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c2pa: Option<C2paReport>,
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
