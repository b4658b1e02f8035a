//! The C2PA Conformance Program's provenance signals: per manifest, the
//! inception signals (what the content began as) and transformation signals
//! (what was done to it) of the official signals rubric, in its own words.
//!
//! The rubric (`asset-rubric-signals-local.yml`, v1.0 of 2026-08-06, by the
//! C2PA Conformance Task Force, CC BY 4.0) ships in `data/c2pa-rubrics/` and
//! is evaluated by vouch's own json-formula engine ([`crate::rubric`]) as
//! the official evaluator does: on the crJSON of the manifest store, each
//! manifest on its own, plus a pseudo manifest for every ingredient without
//! a manifest that declares a digital source type. The vocabulary (names and
//! report texts) is the rubric's too, so a new rubric release is a data
//! update; `tests/signals.rs` holds the results equal to the official
//! evaluator's.

use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::rubric::Rubric;

/// One signal a manifest shows: the rubric's trait and its report text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    #[serde(rename = "trait")]
    pub name: String,
    pub report_text: String,
}

/// The signals of one manifest in a file's provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestSignals {
    /// The manifest's label; for an ingredient without a manifest, the
    /// evaluator's pseudo label (`urn:c2pa:pseudo:<parent>:<title>_<n>`).
    pub manifest: String,
    pub inceptions: Vec<Signal>,
    pub transformations: Vec<Signal>,
    /// An ingredient without a manifest, judged by the source type its
    /// parent records for it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pseudo: bool,
}

impl ManifestSignals {
    /// Every signal of the manifest, inceptions first.
    pub fn all(&self) -> impl Iterator<Item = &Signal> {
        self.inceptions.iter().chain(&self.transformations)
    }
}

/// The shipped rubric's text.
const RUBRIC: &str = include_str!("../../data/c2pa-rubrics/asset-rubric-signals-local.yml");

/// The shipped signals rubric, loaded once.
pub fn rubric() -> &'static Rubric {
    static LOADED: OnceLock<Rubric> = OnceLock::new();
    LOADED.get_or_init(|| {
        // Compiled-in data, loaded by a unit test on every build.
        Rubric::parse(RUBRIC, Path::new("data/c2pa-rubrics/asset-rubric-signals-local.yml"), None)
            .expect("the shipped signals rubric loads")
    })
}

/// The rubric's signals, in its order, with the report text of a match.
pub fn vocabulary() -> &'static [(String, String)] {
    static VOCABULARY: OnceLock<Vec<(String, String)>> = OnceLock::new();
    VOCABULARY.get_or_init(|| rubric().traits())
}

/// Whether `name` is one of the rubric's signals.
pub fn is_signal(name: &str) -> bool {
    vocabulary().iter().any(|(n, _)| n == name)
}

/// The report text of a signal, if it is one.
pub fn report_text(name: &str) -> Option<&'static str> {
    vocabulary().iter().find(|(n, _)| n == name).map(|(_, text)| text.as_str())
}

/// The signals of every manifest in a crJSON document: its manifests in
/// order, then the pseudo manifests of ingredients without one.
pub fn signals_of(crjson: &Value) -> Vec<ManifestSignals> {
    rubric()
        .evaluate(crjson)
        .manifests
        .into_iter()
        .map(|m| {
            let signals = |prefix: &str| -> Vec<Signal> {
                m.signals_of(prefix)
                    .map(|s| Signal { name: s.name.clone(), report_text: s.report_text.clone() })
                    .collect()
            };
            ManifestSignals {
                inceptions: signals("inception:"),
                transformations: signals("transformation:"),
                manifest: m.manifest,
                pseudo: m.pseudo,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const IPTC: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/";

    #[test]
    fn the_vocabulary_is_the_shipped_rubrics_in_its_order_and_words() {
        let vocabulary = vocabulary();
        assert_eq!(vocabulary.len(), 14);
        assert_eq!(vocabulary[0], ("inception:signal_blankCanvas".to_string(), "Contains Blank Canvas".to_string()));
        assert_eq!(report_text("inception:signal_fullyGenAIMedia"), Some("Contains Fully GenAI Media"));
        assert!(is_signal("transformation:signal_perceptibleGenAI"));
        assert!(!is_signal("inception:signal_madeUp"));
    }

    fn names(signals: &[Signal]) -> Vec<&str> {
        signals.iter().map(|s| s.name.as_str()).collect()
    }

    #[test]
    fn a_conformant_capture_shows_captured_media_and_nothing_ambiguous() {
        let store = json!({ "manifests": [{
            "label": "urn:c2pa:one",
            "assertions": { "c2pa.actions.v2": { "allActionsIncluded": true, "actions": [
                { "action": "c2pa.created", "digitalSourceType": format!("{IPTC}digitalCapture") },
            ]}},
            "claim.v2": { "gathered_assertions": [] },
        }]});
        let signals = signals_of(&store);
        assert_eq!(signals.len(), 1);
        assert_eq!(names(&signals[0].inceptions), ["inception:signal_capturedMedia"]);
        assert!(signals[0].transformations.is_empty(), "{signals:?}");
        assert_eq!(signals[0].inceptions[0].report_text, "Contains Captured Media");
    }

    #[test]
    fn missing_or_incomplete_actions_are_ambiguous() {
        for actions in [
            json!({ "actions": [] , "allActionsIncluded": true }),
            json!({ "actions": [{ "action": "c2pa.edited" }] }),
            json!({ "actions": [{ "action": "com.example.filter" }], "allActionsIncluded": true }),
            json!({ "actions": [{ "action": "c2pa.unknown" }], "allActionsIncluded": true }),
        ] {
            let store = json!({ "manifests": [{ "label": "m", "assertions": { "c2pa.actions.v2": actions } }] });
            assert_eq!(
                names(&signals_of(&store)[0].transformations),
                ["transformation:signal_ambiguousActions"],
                "{actions}"
            );
        }
        // An actions assertion the signer only gathered is ambiguous too.
        let store = json!({ "manifests": [{ "label": "m",
            "assertions": { "c2pa.actions.v2": { "actions": [{ "action": "c2pa.opened" }], "allActionsIncluded": true } },
            "claim.v2": { "gathered_assertions": [{ "url": "self#jumbf=c2pa.assertions/c2pa.actions.v2" }] } }] });
        assert_eq!(names(&signals_of(&store)[0].transformations), ["transformation:signal_ambiguousActions"]);
    }

    #[test]
    fn edits_are_sorted_by_their_source_type() {
        let edit = |dst: &str| json!({ "action": "c2pa.edited", "digitalSourceType": format!("{IPTC}{dst}") });
        let store = json!({ "manifests": [{ "label": "m", "assertions": { "c2pa.actions.v2": {
            "allActionsIncluded": true,
            "actions": [edit("trainedAlgorithmicMedia"), edit("composite"), { "action": "c2pa.transcoded" }],
        }}}]});
        assert_eq!(
            names(&signals_of(&store)[0].transformations),
            [
                "transformation:signal_nonEditorial",
                "transformation:signal_perceptibleGenAI",
                "transformation:signal_perceptibleNonGenAI",
                "transformation:signal_perceptiblePossiblyGenAI",
            ]
        );
    }

    #[test]
    fn an_ingredient_without_a_manifest_but_with_a_source_type_is_a_pseudo_manifest() {
        let store = json!({ "manifests": [{ "label": "urn:c2pa:top", "assertions": {
            "c2pa.ingredient.v3": { "relationship": "componentOf", "dc:title": "sky (AI).png",
                "digitalSourceType": format!("{IPTC}trainedAlgorithmicMedia") },
            "c2pa.actions.v2": { "allActionsIncluded": true, "actions": [
                { "action": "c2pa.opened", "digitalSourceType": format!("{IPTC}digitalCapture") }] },
        }}]});
        let signals = signals_of(&store);
        assert_eq!(signals.len(), 2);
        assert_eq!(
            names(&signals[0].inceptions),
            ["inception:signal_capturedMedia", "inception:signal_mediaUnknownProvenance"]
        );
        assert!(signals[1].pseudo);
        assert_eq!(signals[1].manifest, "urn:c2pa:pseudo:urn:c2pa:top:sky__AI_.png_1");
        assert_eq!(names(&signals[1].inceptions), ["inception:signal_fullyGenAIMedia"]);
        assert!(signals[1].transformations.is_empty());
    }
}
