//! The C2PA Conformance Program's provenance signals: per manifest, the
//! inception signals (what the content began as) and transformation signals
//! (what was done to it) of the official signals rubric, in its own words.
//!
//! The rubric (`asset-rubric-signals-local.yml`, v1.0 of 2026-08-06, by the
//! C2PA Conformance Task Force, CC BY 4.0) ships in `data/c2pa-rubrics/`;
//! this module implements its rules natively, evaluated as the official
//! evaluator does: on the crJSON of the manifest store, each manifest on
//! its own, plus a pseudo manifest for every ingredient without a manifest
//! that declares a digital source type. The vocabulary and report texts
//! below are the rubric's (a unit test holds them to the shipped file), and
//! `tests/signals.rs` holds the results equal to the official evaluator's.

use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// The rubric's signals, in its order, with the report text of a match.
pub const VOCABULARY: &[(&str, &str)] = &[
    ("inception:signal_blankCanvas", "Contains Blank Canvas"),
    ("inception:signal_capturedMedia", "Contains Captured Media"),
    ("inception:signal_capturedMediaStitched", "Contains Stitched Captured Media"),
    ("inception:signal_compositionMayContainGenAI", "Contains Composition which may contain GenAI content"),
    ("inception:signal_fullyGenAIMedia", "Contains Fully GenAI Media"),
    ("inception:signal_mediaUnknownProvenance", "Contains Media of Unknown Provenance"),
    ("inception:signal_nonGenAIDigitalCreation", "Contains Non-GenAI digital creation"),
    ("inception:signal_partlyGenAICreation", "Contains Partly GenAI Creation"),
    ("inception:signal_screenCaptureMayContainGenAI", "Contains Screen Capture Which May Contain GenAI Content"),
    ("transformation:signal_ambiguousActions", "Contains ambiguous actions"),
    ("transformation:signal_nonEditorial", "Contains Non-editorial Transformations"),
    ("transformation:signal_perceptibleGenAI", "Contains Perceptible GenAI Transformations"),
    ("transformation:signal_perceptibleNonGenAI", "Contains Perceptible Non-GenAI Transformations"),
    ("transformation:signal_perceptiblePossiblyGenAI", "Contains Perceptible Transformations Possibly Using GenAI"),
];

/// Whether `name` is one of the rubric's signals.
pub fn is_signal(name: &str) -> bool {
    VOCABULARY.iter().any(|(n, _)| *n == name)
}

/// The report text of a signal, if it is one.
pub fn report_text(name: &str) -> Option<&'static str> {
    VOCABULARY.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}

const IPTC: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/";
const INCEPTION_ACTIONS: &[&str] = &["c2pa.created", "c2pa.opened"];
const NON_EDITORIAL_ACTIONS: &[&str] = &[
    "c2pa.converted",
    "c2pa.published",
    "c2pa.repackaged",
    "c2pa.transcoded",
    "c2pa.resized.proportional",
    "c2pa.enhanced",
    "c2pa.edited.metadata",
    "c2pa.watermarked",
    "c2pa.watermarked.bound",
    "c2pa.watermarked.unbound",
    "c2pa.redacted",
];
const GENAI_TYPES: &[&str] = &[
    "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
    "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia",
    "http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic",
    "http://c2pa.org/digitalsourcetype/trainedAlgorithmicData",
];
const POSSIBLY_GENAI_TYPES: &[&str] = &[
    "http://cv.iptc.org/newscodes/digitalsourcetype/digitalArt",
    "http://cv.iptc.org/newscodes/digitalsourcetype/composite",
];

/// Which source types make which inception signal (on a `c2pa.created` or
/// `c2pa.opened` action of the manifest's `c2pa.actions.v2`).
const INCEPTION_TYPES: &[(&str, &[&str])] = &[
    ("inception:signal_blankCanvas", &["http://c2pa.org/digitalsourcetype/empty"]),
    ("inception:signal_capturedMedia", &["digitalCapture", "computationalCapture"]),
    ("inception:signal_capturedMediaStitched", &["compositeCapture"]),
    ("inception:signal_compositionMayContainGenAI", &["composite"]),
    ("inception:signal_fullyGenAIMedia", &["trainedAlgorithmicMedia"]),
    ("inception:signal_nonGenAIDigitalCreation", &["digitalCreation"]),
    ("inception:signal_partlyGenAICreation", &["compositeWithTrainedAlgorithmicMedia"]),
    ("inception:signal_screenCaptureMayContainGenAI", &["screenCapture"]),
];

/// The signals of every manifest in a crJSON document: its manifests in
/// order, then the pseudo manifests of ingredients without one.
pub fn signals_of(crjson: &Value) -> Vec<ManifestSignals> {
    let manifests: Vec<&Value> = crjson["manifests"].as_array().into_iter().flatten().collect();
    let mut out = Vec::new();
    let mut pseudo = Vec::new();
    for manifest in &manifests {
        let Some(label) = manifest["label"].as_str().filter(|l| !l.is_empty()) else { continue };
        out.push(judge(label, manifest, false));
        for (key, ingredient) in manifest["assertions"].as_object().into_iter().flatten() {
            if !key.starts_with("c2pa.ingredient") || has_manifest_url(ingredient) {
                continue;
            }
            let Some(source_type) = flat_source_type(manifest, ingredient) else { continue };
            let id = manifests.len() + pseudo.len();
            let title = ingredient["dc:title"].as_str().unwrap_or("flat-ingredient");
            let safe: String = title
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') { c } else { '_' })
                .collect();
            let label = format!("urn:c2pa:pseudo:{label}:{safe}_{id}");
            // The evaluator judges such an ingredient as a manifest that
            // created it with the recorded type and says nothing else.
            let stand_in = serde_json::json!({
                "assertions": { "c2pa.actions.v2": {
                    "allActionsIncluded": true,
                    "actions": [{ "action": "c2pa.created", "digitalSourceType": source_type }],
                }},
            });
            pseudo.push(judge(&label, &stand_in, true));
        }
    }
    out.extend(pseudo);
    out
}

/// An ingredient that points at its own manifest is judged there.
fn has_manifest_url(ingredient: &Value) -> bool {
    truthy(&ingredient["activeManifest"]) && truthy(&ingredient["activeManifest"]["url"])
}

/// The source type recorded for an ingredient without a manifest: its own
/// `digitalSourceType`, else that of the first `c2pa.opened` action with one.
fn flat_source_type<'a>(manifest: &'a Value, ingredient: &'a Value) -> Option<&'a Value> {
    if truthy(&ingredient["digitalSourceType"]) {
        return Some(&ingredient["digitalSourceType"]);
    }
    let assertions = manifest["assertions"].as_object()?;
    assertions
        .iter()
        .filter(|(key, _)| key.starts_with("c2pa.actions"))
        .flat_map(|(_, a)| a["actions"].as_array().into_iter().flatten())
        .find(|action| action["action"] == "c2pa.opened" && truthy(&action["digitalSourceType"]))
        .map(|action| &action["digitalSourceType"])
}

/// Python's truthiness, which the evaluator's own checks use.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn signal(name: &str) -> Signal {
    Signal { name: name.to_string(), report_text: report_text(name).unwrap_or(name).to_string() }
}

/// One manifest judged by the rubric's rules, as its expressions read.
fn judge(label: &str, manifest: &Value, pseudo: bool) -> ManifestSignals {
    let assertions = &manifest["assertions"];
    let actions_assertion = &assertions["c2pa.actions.v2"];
    let actions_value = &actions_assertion["actions"];
    // Filters over a value that is not a list select nothing.
    let actions: Vec<&Value> = actions_value.as_array().into_iter().flatten().collect();
    let action_of = |a: &Value| a["action"].clone();
    let source_type_of = |a: &Value| a["digitalSourceType"].clone();

    let mut inceptions = Vec::new();
    for (name, types) in INCEPTION_TYPES {
        let matched = actions.iter().any(|a| {
            let inception = a["action"].as_str().is_some_and(|n| INCEPTION_ACTIONS.contains(&n));
            let declared = a["digitalSourceType"].as_str();
            inception
                && types.iter().any(|t| {
                    let uri = if t.starts_with("http") { t.to_string() } else { format!("{IPTC}{t}") };
                    declared == Some(uri.as_str())
                })
        });
        if matched {
            inceptions.push(signal(name));
        }
    }
    // `c2pa.ingredient.v3 != null && c2pa.ingredient.v3.activeManifest == null`
    let ingredient = &assertions["c2pa.ingredient.v3"];
    if !ingredient.is_null() && ingredient["activeManifest"].is_null() {
        inceptions.push(signal("inception:signal_mediaUnknownProvenance"));
    }
    // The evaluator lists a manifest's signals in the rubric's order.
    inceptions.sort_by_key(|s| VOCABULARY.iter().position(|(n, _)| *n == s.name));

    let mut transformations = Vec::new();
    let in_list = |v: &Value, list: &[&str]| v.as_str().is_some_and(|s| list.contains(&s));
    let named = |a: &Value| !action_of(a).is_null();
    let perceptible = |a: &Value| {
        named(a) && !in_list(&action_of(a), INCEPTION_ACTIONS) && !in_list(&action_of(a), NON_EDITORIAL_ACTIONS)
    };
    let gathered_actions = manifest["claim.v2"]["gathered_assertions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|r| r["url"].as_str().is_some_and(|u| u.contains("c2pa.actions")));
    let ambiguous = match json_length(actions_value) {
        // `length()` of a number or boolean is an evaluation error, which
        // the evaluator reports as no signal.
        None => false,
        Some(0) => true,
        Some(_) => {
            actions_assertion["allActionsIncluded"] != Value::Bool(true)
                || actions.iter().any(|a| named(a) && !coerced_string(&a["action"]).starts_with("c2pa."))
                || actions.iter().any(|a| a["action"] == "c2pa.unknown")
                || gathered_actions
        }
    };
    if ambiguous {
        transformations.push(signal("transformation:signal_ambiguousActions"));
    }
    if actions.iter().any(|a| named(a) && in_list(&action_of(a), NON_EDITORIAL_ACTIONS)) {
        transformations.push(signal("transformation:signal_nonEditorial"));
    }
    if actions.iter().any(|a| perceptible(a) && in_list(&source_type_of(a), GENAI_TYPES)) {
        transformations.push(signal("transformation:signal_perceptibleGenAI"));
    }
    if actions
        .iter()
        .any(|a| perceptible(a) && !source_type_of(a).is_null() && !in_list(&source_type_of(a), GENAI_TYPES))
    {
        transformations.push(signal("transformation:signal_perceptibleNonGenAI"));
    }
    if actions.iter().any(|a| perceptible(a) && in_list(&source_type_of(a), POSSIBLY_GENAI_TYPES)) {
        transformations.push(signal("transformation:signal_perceptiblePossiblyGenAI"));
    }
    ManifestSignals { manifest: label.to_string(), inceptions, transformations, pseudo }
}

/// json-formula's `length`: of a list, string or object; null counts as 0.
fn json_length(value: &Value) -> Option<usize> {
    match value {
        Value::Null => Some(0),
        Value::Array(a) => Some(a.len()),
        Value::String(s) => Some(s.chars().count()),
        Value::Object(o) => Some(o.len()),
        _ => None,
    }
}

/// json-formula's coercion of a value to a string (for `startsWith`).
fn coerced_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The shipped rubric, which the vocabulary above must match.
    const RUBRIC: &str = include_str!("../../data/c2pa-rubrics/asset-rubric-signals-local.yml");

    #[test]
    fn the_vocabulary_is_the_shipped_rubrics_in_its_order_and_words() {
        let lines: Vec<&str> = RUBRIC.lines().collect();
        let mut found = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let Some(id) = line.strip_prefix("- id: ") else { continue };
            // The `'true':` report text follows the id, before the next statement.
            let text = lines[i..]
                .windows(2)
                .take_while(|w| !w[1].starts_with("- id: "))
                .find(|w| w[0].trim() == "'true':")
                .and_then(|w| w[1].trim().strip_prefix("en: "))
                .expect("a report text for a match");
            found.push((id.trim().to_string(), text.to_string()));
        }
        let ours: Vec<(String, String)> = VOCABULARY.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        assert_eq!(ours, found);
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
