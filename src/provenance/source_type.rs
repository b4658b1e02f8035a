//! IPTC digital source types: the vocabulary a manifest uses to say what
//! kind of content it is (a camera capture, a trained model's output, …).
//!
//! One list serves `vouch sign --source-type`, policy files and the record's
//! `declared_sources`, so a value that vouch accepts anywhere is one it
//! recognises everywhere: a typo is refused, never silently ignored.

/// Where the IPTC vocabulary lives; manifests carry the full URI.
pub const IPTC: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/";
/// C2PA's own additions to the vocabulary.
pub const C2PA: &str = "http://c2pa.org/digitalsourcetype/";

/// The IPTC names (current and retired, since old manifests carry both).
pub const IPTC_NAMES: &[&str] = &[
    "digitalCapture",
    "computationalCapture",
    "negativeFilm",
    "positiveFilm",
    "print",
    "minorHumanEdits",
    "humanEdits",
    "compositeCapture",
    "algorithmicallyEnhanced",
    "dataDrivenMedia",
    "digitalArt",
    "digitalCreation",
    "softwareImage",
    "virtualRecording",
    "composite",
    "compositeSynthetic",
    "compositeWithTrainedAlgorithmicMedia",
    "trainedAlgorithmicMedia",
    "algorithmicMedia",
    "screenCapture",
];

/// C2PA's names, under [`C2PA`].
pub const C2PA_NAMES: &[&str] = &["trainedAlgorithmicData", "empty"];

/// Source types that declare content made or partly made by a trained model.
const AI_GENERATED: &[&str] =
    &["trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "trainedAlgorithmicData"];
/// Source types that declare synthetic content made without a trained model.
const SYNTHETIC: &[&str] = &["algorithmicMedia", "compositeSynthetic"];

/// The bare name of a source type given as a URI or a name.
pub fn name_of(value: &str) -> &str {
    value.rsplit('/').next().unwrap_or(value)
}

/// Resolves `digital-capture`, `digitalCapture` or a full URI (any case) to
/// the vocabulary's URI, or `None` when the value names no known type.
pub fn resolve(value: &str) -> Option<String> {
    // A bare name holds neither; anything else is a URI and must be one of
    // the vocabulary's own, whatever the case of its scheme.
    let is_uri = value.contains(['/', ':']);
    let prefix_matches =
        |prefix: &str| value.len() >= prefix.len() && value[..prefix.len()].eq_ignore_ascii_case(prefix);
    let key = normalise(name_of(value));
    let find = |names: &[&'static str]| names.iter().copied().find(|n| normalise(n) == key);
    if !is_uri || prefix_matches(IPTC) {
        if let Some(name) = find(IPTC_NAMES) {
            return Some(format!("{IPTC}{name}"));
        }
    }
    if !is_uri || prefix_matches(C2PA) {
        if let Some(name) = find(C2PA_NAMES) {
            return Some(format!("{C2PA}{name}"));
        }
    }
    None
}

/// The error text for a value that names no known type.
pub fn unknown(value: &str) -> String {
    let names: Vec<&str> = IPTC_NAMES.iter().chain(C2PA_NAMES).copied().collect();
    format!("`{value}` is not a digital source type (known: {}, or their full URIs)", names.join(", "))
}

/// `trainedAlgorithmicMedia`, `trained-algorithmic-media` and the full URI
/// all name the same source type; a URI outside the vocabulary names none,
/// so `http://example.com/digitalCapture` is not a capture.
pub fn same(a: &str, b: &str) -> bool {
    resolve(a).is_some_and(|a| Some(a) == resolve(b))
}

/// Whether a declared source type may be the refused one: compared by name
/// alone, so a manifest cannot dodge a refusal by writing the vocabulary's
/// URI with another scheme or host.
pub fn may_be(declared: &str, refused: &str) -> bool {
    normalise(name_of(declared)) == normalise(name_of(refused))
}

/// What a declared source type says about the content's origin, in words,
/// when it declares AI-generated or otherwise synthetic content.
pub fn synthetic_words(value: &str) -> Option<&'static str> {
    let key = normalise(name_of(value));
    if AI_GENERATED.iter().any(|n| normalise(n) == key) {
        Some("AI-generated content")
    } else if SYNTHETIC.iter().any(|n| normalise(n) == key) {
        Some("synthetic content")
    } else {
        None
    }
}

fn normalise(name: &str) -> String {
    name.replace(['-', '_'], "").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_uris_resolve_to_one_uri() {
        let uri = format!("{IPTC}trainedAlgorithmicMedia");
        for spelling in ["trained-algorithmic-media", "trainedAlgorithmicMedia", "TRAINEDALGORITHMICMEDIA", &uri] {
            assert_eq!(resolve(spelling).as_deref(), Some(uri.as_str()), "{spelling}");
        }
        assert_eq!(resolve("empty").unwrap(), format!("{C2PA}empty"));
    }

    #[test]
    fn typos_and_foreign_uris_are_not_source_types() {
        for value in [
            "trainedAlgoritmicMedia",
            "made-up",
            "",
            "http://example.com/trainedAlgorithmicMedia",
            "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgoritmicMedia",
            "HTTP://evil.example/digitalCapture",
            "ftp://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
            "urn:digitalCapture",
        ] {
            assert_eq!(resolve(value), None, "{value}");
        }
        assert!(unknown("x").contains("trainedAlgorithmicMedia"));
    }

    #[test]
    fn each_vocabulary_names_only_its_own_types() {
        // A C2PA name under the IPTC URI, or the reverse, is no type at all.
        assert_eq!(resolve(&format!("{IPTC}trainedAlgorithmicData")), None);
        assert_eq!(resolve(&format!("{C2PA}digitalCapture")), None);
        assert_eq!(resolve(&format!("{C2PA}trainedAlgorithmicData")).unwrap(), format!("{C2PA}trainedAlgorithmicData"));
        assert_eq!(
            resolve("https://CV.IPTC.ORG/newscodes/digitalsourcetype/digitalCapture"),
            None,
            "https is another URI"
        );
        assert_eq!(
            resolve("http://CV.IPTC.ORG/NEWSCODES/DIGITALSOURCETYPE/digitalCapture").unwrap(),
            format!("{IPTC}digitalCapture")
        );
        // A URI shorter than the vocabulary's prefix, or the bare prefix, names nothing.
        assert_eq!(resolve("http://cv.iptc.org/"), None);
        assert_eq!(resolve(IPTC), None);
        assert!(!same("made-up", "made-up"), "two unknown values are not the same type");
        assert!(!may_be("digitalCapture", "trainedAlgorithmicMedia"));
        assert_eq!(name_of("digitalCapture"), "digitalCapture");
        assert_eq!(synthetic_words("algorithmicMedia"), Some("synthetic content"));
        assert_eq!(synthetic_words("trained_algorithmic_data"), Some("AI-generated content"));
    }

    #[test]
    fn ai_and_synthetic_declarations_are_told_apart_from_captures() {
        assert_eq!(synthetic_words(&format!("{IPTC}trainedAlgorithmicMedia")), Some("AI-generated content"));
        assert_eq!(synthetic_words("compositeWithTrainedAlgorithmicMedia"), Some("AI-generated content"));
        assert_eq!(synthetic_words("compositeSynthetic"), Some("synthetic content"));
        assert_eq!(synthetic_words("digitalCapture"), None);
        assert!(same("trained-algorithmic-media", &format!("{IPTC}trainedAlgorithmicMedia")));
        assert!(!same("digitalCapture", "trainedAlgorithmicMedia"));
        assert!(!same("http://example.com/digitalCapture", "digitalCapture"));
        assert!(may_be("https://example.com/trainedAlgorithmicMedia", "trained-algorithmic-media"));
    }
}
