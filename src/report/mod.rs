//! Rendering results: plain data in, text for people, JSON Lines or CSV for
//! machines, PNG timelines out. Nothing here decides anything; it only shows.

pub mod check;
mod detect;
mod doctor;
mod html;
mod text;

use serde::Serialize;

pub use check::{check_text, junit, record_text, sarif, tally_text, DetectionView, Row, Tally};
pub use detect::{
    detect_caveat, detect_csv, detect_text, is_flagged, model_check_text, model_list_text, plot_path, plot_timeline,
    PlotError, CSV_HEADER, DETECT_HEADER,
};
pub use doctor::doctor_text;
pub use html::{HtmlReport, SUMMARY_FAILURES};
pub use text::{
    already_anchored_text, anchored_text, identity_text, inspect_text, ots_text, sign_text, trust_list_text,
    trust_text, unchanged_text, upgrade_text, verify_text, watch_text,
};

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
}
