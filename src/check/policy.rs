//! Policy files: what a newsroom or a CI job requires of every asset.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use super::CheckError;
use crate::provenance::{signals, source_type};

/// How much C2PA a file must carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum C2paRequirement {
    /// Signed by a signer that chains to a trusted root.
    Trusted,
    /// Signed, intact; the signer need not be trusted.
    Valid,
    /// A manifest that is present and not invalid.
    Any,
    /// Nothing required (an invalid manifest still fails).
    #[default]
    None,
}

/// Which anchor must be confirmed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnchorRequirement {
    Ots,
    Evm,
    Any,
    #[default]
    None,
}

/// A policy as written (TOML). Every field is optional; unknown fields are
/// refused, so a typo cannot silently weaken a policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub require_c2pa: C2paRequirement,
    /// Root certificates (PEM) to trust, relative to the policy file.
    #[serde(default)]
    pub trusted_roots: Vec<PathBuf>,
    /// Signing certificates allowed (SHA-256 fingerprints or prefixes of
    /// them, hex, colons allowed); empty allows any signer.
    #[serde(default)]
    pub signer_fingerprints: Vec<String>,
    #[serde(default)]
    pub require_anchor: AnchorRequirement,
    /// EVM anchors need this many blocks (the anchoring one included).
    pub min_confirmations: Option<u64>,
    /// Files scoring above this are refused; setting it turns detection on
    /// and replaces the model's own line (its card's threshold + margin).
    pub max_synthetic_score: Option<f32>,
    /// Digital source types allowed (IPTC names like `digitalCapture`, or URIs); empty allows any.
    #[serde(default)]
    pub allowed_source_types: Vec<String>,
    /// Digital source types refused, e.g. `trainedAlgorithmicMedia` for news photos.
    #[serde(default)]
    pub refused_source_types: Vec<String>,
    /// Signals of the C2PA signals rubric refused anywhere in the history,
    /// by their official names (`inception:signal_fullyGenAIMedia`).
    #[serde(default)]
    pub refused_signals: Vec<String>,
    /// Signals of the C2PA signals rubric some manifest of the history must show.
    #[serde(default)]
    pub required_signals: Vec<String>,
    /// Only files matching one of these globs are checked (all when empty).
    #[serde(default)]
    pub include: Vec<String>,
    /// Files matching one of these globs are skipped.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Let a file pass whose history holds a manifest that was recorded as
    /// invalid when it became an ingredient (by default that fails under
    /// `require_c2pa = "trusted"` or `"valid"`).
    #[serde(default)]
    pub allow_invalid_ingredients: bool,
    /// Whether the public trust lists (C2PA Trust List, TSA list, interim
    /// list) count as anchors; `false` trusts only local anchors.
    #[serde(default = "yes")]
    pub public_trust: bool,
    /// Whether a confirmed anchor inside an expired signing certificate's
    /// validity keeps the file trusted (vouch's rule, beyond C2PA).
    #[serde(default = "yes")]
    pub anchor_time_evidence: bool,
}

fn yes() -> bool {
    true
}

impl Default for Policy {
    fn default() -> Self {
        // The defaults are the serde defaults: an empty policy.
        toml::from_str("").expect("the empty policy parses")
    }
}

/// A policy ready to apply: globs compiled, paths resolved.
#[derive(Debug, Clone)]
pub struct LoadedPolicy {
    pub rules: Policy,
    pub source: PathBuf,
    include: Option<GlobSet>,
    exclude: GlobSet,
}

impl LoadedPolicy {
    /// The policy's `trusted_roots`, each with the setting that named it
    /// (`trusted_roots in newsroom.toml`) and the path as written there.
    pub fn trusted_roots(&self) -> Vec<crate::trust::RootFile> {
        let dir = self.source.parent().unwrap_or(Path::new("."));
        let setting = format!("trusted_roots in {}", self.source.display());
        self.rules
            .trusted_roots
            .iter()
            .map(|path| crate::trust::RootFile {
                path: path.clone(),
                written: path.strip_prefix(dir).unwrap_or(path).to_path_buf(),
                setting: setting.clone(),
            })
            .collect()
    }

    pub fn load(path: &Path) -> Result<Self, CheckError> {
        let text = std::fs::read_to_string(path).map_err(|source| CheckError::Io { path: path.into(), source })?;
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self, CheckError> {
        let bad = |reason: String| CheckError::Policy { path: path.into(), reason };
        let mut rules: Policy = toml::from_str(text).map_err(|e| bad(toml_reason(text, &e)))?;
        // An unknown source type would match nothing: a typo in a refusal
        // would let the very files it names pass.
        for (field, values) in [
            ("allowed_source_types", &rules.allowed_source_types),
            ("refused_source_types", &rules.refused_source_types),
        ] {
            if let Some(value) = values.iter().find(|v| source_type::resolve(v).is_none()) {
                return Err(bad(format!("{field}: {}", source_type::unknown(value))));
            }
        }
        // Likewise a misspelt signal: checked against the rubric's vocabulary.
        for (field, values) in
            [("refused_signals", &rules.refused_signals), ("required_signals", &rules.required_signals)]
        {
            if let Some(value) = values.iter().find(|v| !signals::is_signal(v)) {
                let known: Vec<&str> = signals::vocabulary().iter().map(|(name, _)| name.as_str()).collect();
                return Err(bad(format!(
                    "{field}: `{value}` is not a signal of the C2PA signals rubric (one of {})",
                    known.join(", ")
                )));
            }
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        rules.trusted_roots = rules.trusted_roots.iter().map(|r| dir.join(r)).collect();
        if let Some(score) = rules.max_synthetic_score.filter(|s| !(0.0..=1.0).contains(s)) {
            return Err(bad(format!("max_synthetic_score = {score} is not between 0 and 1")));
        }
        for fingerprint in &rules.signer_fingerprints {
            let hex = fingerprint.replace(':', "");
            if hex.len() < 8 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(bad(format!("signer fingerprint `{fingerprint}` is not 8 or more hex digits")));
            }
        }
        let globs = |patterns: &[String]| -> Result<GlobSet, CheckError> {
            let mut set = GlobSetBuilder::new();
            for pattern in patterns {
                // Case-insensitive, like format detection: `*.jpg` means
                // DSC_0001.JPG too.
                let glob = GlobBuilder::new(pattern).case_insensitive(true).build();
                set.add(glob.map_err(|e| bad(format!("glob `{pattern}`: {e}")))?);
            }
            set.build().map_err(|e| bad(e.to_string()))
        };
        let include = if rules.include.is_empty() { None } else { Some(globs(&rules.include)?) };
        let exclude = globs(&rules.exclude)?;
        Ok(Self { rules, source: path.into(), include, exclude })
    }

    /// Whether the policy applies to `path`. A glob matches the path as
    /// walked or the bare file name, so `*.jpg` means every JPEG.
    pub fn selects(&self, path: &Path) -> bool {
        let matches = |set: &GlobSet| set.is_match(path) || path.file_name().is_some_and(|n| set.is_match(n));
        self.include.as_ref().is_none_or(matches) && !matches(&self.exclude)
    }

    /// Whether detection must run for this policy.
    pub fn needs_detection(&self) -> bool {
        self.rules.max_synthetic_score.is_some()
    }
}

/// A TOML error as one line that names the field and the value it is
/// about, e.g. `require_c2pa = "trustd": unknown variant `trustd`, expected
/// one of `trusted`, `valid`, `any`, `none``.
fn toml_reason(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().to_string();
    let Some(span) = e.span().filter(|s| s.start <= s.end && s.end <= text.len()) else { return message };
    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[span.start..].find('\n').map_or(text.len(), |i| span.start + i);
    match text[line_start..line_end].split_once('=') {
        Some((key, value)) if !key.trim().is_empty() && !key.contains('[') => {
            format!("{} = {}: {message}", key.trim(), value.trim())
        }
        _ => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<LoadedPolicy, CheckError> {
        LoadedPolicy::parse(text, Path::new("policies/strict.toml"))
    }

    #[test]
    fn a_full_policy_parses_and_resolves_roots_beside_it() {
        let policy = parse(
            r#"
            require_c2pa = "trusted"
            trusted_roots = ["roots/planet.pem"]
            signer_fingerprints = ["ab:cd:ef:01"]
            require_anchor = "evm"
            min_confirmations = 12
            max_synthetic_score = 0.4
            refused_source_types = ["trainedAlgorithmicMedia"]
            include = ["*.jpg", "video/**"]
            exclude = ["drafts/**"]
            "#,
        )
        .unwrap();
        assert_eq!(policy.rules.require_c2pa, C2paRequirement::Trusted);
        assert_eq!(policy.rules.require_anchor, AnchorRequirement::Evm);
        assert_eq!(policy.rules.trusted_roots, vec![PathBuf::from("policies/roots/planet.pem")]);
        assert!(policy.needs_detection());
        assert!(policy.selects(Path::new("delivery/a.jpg")));
        assert!(policy.selects(Path::new("video/clip.mp4")));
        assert!(!policy.selects(Path::new("delivery/a.png")));
        assert!(!policy.selects(Path::new("drafts/b.jpg")));
        assert!(policy.selects(Path::new("card/DSC_0001.JPG")), "globs ignore case");
        assert!(!policy.selects(Path::new("DRAFTS/c.JPG")));
    }

    #[test]
    fn typos_and_nonsense_are_refused_with_the_file_named() {
        for (text, expected) in [
            ("require_c2pa = \"trustd\"", "unknown variant"),
            ("requre_c2pa = \"trusted\"", "unknown field"),
            ("max_synthetic_score = 3.0", "not between 0 and 1"),
            ("signer_fingerprints = [\"xyz\"]", "not 8 or more hex digits"),
            ("include = [\"[\"]", "glob"),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.starts_with("policies/strict.toml: "), "{err}");
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn signer_pins_are_eight_or_more_hex_digits() {
        for pin in ["ab", "ab:cd:ef", "abcdef0", "abcdefgh", "ab:cd:ef:0g", "ab cd ef 01"] {
            let err = parse(&format!("signer_fingerprints = [\"{pin}\"]")).unwrap_err().to_string();
            assert!(err.contains("not 8 or more hex digits"), "{pin}: {err}");
        }
        let full = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
        for pin in ["abcdef01", "AB:CD:EF:01", full] {
            let policy = parse(&format!("signer_fingerprints = [\"{pin}\"]"));
            assert!(policy.is_ok(), "{pin}: {:?}", policy.err());
        }
    }

    #[test]
    fn only_a_synthetic_ceiling_turns_detection_on() {
        assert!(!parse("require_c2pa = \"trusted\"\nrequire_anchor = \"any\"").unwrap().needs_detection());
        assert!(parse("max_synthetic_score = 0.0").unwrap().needs_detection());
        for edge in ["0.0", "1.0"] {
            assert!(parse(&format!("max_synthetic_score = {edge}")).is_ok(), "{edge}");
        }
        for outside in ["-0.01", "1.01"] {
            assert!(parse(&format!("max_synthetic_score = {outside}")).is_err(), "{outside}");
        }
    }

    #[test]
    fn an_empty_policy_selects_every_file_and_exclude_wins_over_include() {
        let all = parse("").unwrap();
        assert!(all.selects(Path::new("any/where.bin")));
        let both = parse("include = [\"*.jpg\"]\nexclude = [\"secret.jpg\"]").unwrap();
        assert!(both.selects(Path::new("a/open.jpg")));
        assert!(!both.selects(Path::new("a/secret.jpg")));
    }

    #[test]
    fn a_misspelt_value_is_refused_naming_field_value_and_choices() {
        for (text, expected) in [
            ("refused_source_types = [\"trainedAlgoritmicMedia\"]", "refused_source_types: `trainedAlgoritmicMedia`"),
            ("allowed_source_types = [\"digital-captur\"]", "allowed_source_types: `digital-captur`"),
            ("require_c2pa = \"trustd\"", "require_c2pa = \"trustd\": unknown variant `trustd`, expected one of"),
            ("require_anchor = \"bitcoin\"", "require_anchor = \"bitcoin\": unknown variant `bitcoin`"),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text}: {err}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
        let err = parse("refused_source_types = [\"x\"]").unwrap_err().to_string();
        assert!(err.contains("trainedAlgorithmicMedia"), "lists the accepted values: {err}");
        let ok = parse("refused_source_types = [\"trained-algorithmic-media\", \"compositeSynthetic\"]");
        assert!(ok.is_ok());
    }

    #[test]
    fn a_policy_trusts_the_public_lists_and_anchor_time_unless_it_says_false() {
        for policy in [parse("").unwrap().rules, Policy::default()] {
            assert!(policy.public_trust, "public trust lists count by default");
            assert!(policy.anchor_time_evidence, "anchor time evidence counts by default");
        }
        let off = parse("public_trust = false\nanchor_time_evidence = false").unwrap().rules;
        assert!(!off.public_trust && !off.anchor_time_evidence);
    }

    #[test]
    fn a_bad_value_is_named_by_its_own_line_of_a_longer_policy() {
        let first = parse("require_c2pa = \"trustd\"\nrequire_anchor = \"any\"\n").unwrap_err().to_string();
        assert!(first.starts_with("policies/strict.toml: require_c2pa = \"trustd\": unknown variant"), "{first}");
        let text = "require_c2pa = \"trusted\"\nrequire_anchor = \"bitcoin\"\nmin_confirmations = 6\n";
        let second = parse(text).unwrap_err().to_string();
        assert!(second.starts_with("policies/strict.toml: require_anchor = \"bitcoin\": unknown variant"), "{second}");
        // A line without a key of its own is not quoted as `key = value`.
        for text in ["= \"trusted\"", "[extra] = 1"] {
            let message = toml::from_str::<Policy>(text).unwrap_err().message().trim().to_string();
            assert_eq!(parse(text).unwrap_err().to_string(), format!("policies/strict.toml: {message}"), "{text}");
        }
    }

    #[test]
    fn a_misspelt_signal_is_refused_and_an_official_one_kept() {
        for field in ["refused_signals", "required_signals"] {
            let err = parse(&format!("{field} = [\"inception:signal_fullyGenAI\"]")).unwrap_err().to_string();
            assert!(err.contains(&format!("{field}: `inception:signal_fullyGenAI` is not a signal")), "{err}");
            let policy = parse(&format!("{field} = [\"inception:signal_fullyGenAIMedia\"]"));
            assert!(policy.is_ok(), "{field}: {:?}", policy.err());
        }
    }
}

/// Every policy field with what it means: the `vouch-policy(5)` man page
/// and the README's table are written from this.
pub const FIELDS: &[(&str, &str)] = &[
    (
        "require_c2pa",
        "\"trusted\" (signed, signer chains to a trusted root), \"valid\" (signed and intact), \"any\" (a manifest \
         that is not invalid) or \"none\" (default). Invalid credentials fail under every setting.",
    ),
    (
        "trusted_roots",
        "PEM root certificates to trust, relative to the policy file, besides `vouch trust` and --trust.",
    ),
    (
        "signer_fingerprints",
        "SHA-256 fingerprints (or prefixes of 8+ hex digits, colons allowed) of the signing certificates allowed; \
         empty allows any signer.",
    ),
    (
        "require_anchor",
        "\"ots\" (a confirmed Bitcoin anchor), \"evm\" (a confirmed EVM anchor), \"any\" or \"none\" (default). \
         Invalid anchors fail under every setting; pending ones warn when no anchor is required.",
    ),
    ("min_confirmations", "Blocks an EVM anchor needs (the anchoring one included) to count as confirmed."),
    (
        "max_synthetic_score",
        "Highest synthetic score (0..1) a file may get from the detector; setting it runs detection and replaces \
         the model's own line (a file fails when the detector flags it: its card's threshold + margin). Files that \
         declare AI origin in their metadata fail either way.",
    ),
    (
        "allowed_source_types",
        "IPTC digital source types allowed (names such as \"digitalCapture\" or full URIs); empty allows any.",
    ),
    ("refused_source_types", "IPTC digital source types refused, e.g. \"trainedAlgorithmicMedia\" for news photos."),
    (
        "refused_signals",
        "Provenance signals of the C2PA Conformance Program's signals rubric refused anywhere in the history (the \
         active manifest or any ingredient's), by their official names, e.g. \"inception:signal_fullyGenAIMedia\" or \
         \"transformation:signal_perceptibleGenAI\".",
    ),
    (
        "required_signals",
        "Signals of that rubric that some manifest of the history must show, e.g. \
         \"inception:signal_capturedMedia\"; a file without valid Content Credentials shows none.",
    ),
    (
        "include",
        "Globs of the files the policy applies to (matched against the path and the file name); all by default.",
    ),
    ("exclude", "Globs of files to skip."),
    (
        "allow_invalid_ingredients",
        "true lets a file pass whose history holds a manifest recorded as invalid when it became an ingredient; \
         by default that fails under require_c2pa = \"trusted\" or \"valid\" (and warns otherwise).",
    ),
    (
        "public_trust",
        "false trusts only local anchors (vouch trust, trusted_roots, --trust): the C2PA Trust List, the C2PA TSA \
         Trust List and the interim Content Credentials list then vouch for no one. Default true.",
    ),
    (
        "anchor_time_evidence",
        "false switches off vouch's rule beyond C2PA: a signer whose certificate has since expired, with no trusted \
         timestamp, stays trusted when a confirmed anchor of the file falls inside the certificate's validity. \
         Default true.",
    ),
];

/// A complete policy for news photos, as shown in the docs (and tested).
pub const EXAMPLE: &str = r#"# newsroom.toml: what every published photo must carry
require_c2pa = "trusted"
trusted_roots = ["roots/daily-planet-root.pem"]
require_anchor = "any"
min_confirmations = 6
max_synthetic_score = 0.5
refused_source_types = ["trainedAlgorithmicMedia", "compositeSynthetic"]
include = ["*.jpg", "*.jpeg", "*.png", "*.mp4"]
exclude = ["drafts/**"]
"#;

#[cfg(test)]
mod documentation {
    use super::*;

    #[test]
    fn the_documented_example_parses_and_every_field_is_documented() {
        let policy = LoadedPolicy::parse(EXAMPLE, Path::new("newsroom.toml")).unwrap();
        assert_eq!(policy.rules.require_c2pa, C2paRequirement::Trusted);
        for (field, _) in FIELDS {
            assert!(
                EXAMPLE.contains(field)
                    || [
                        "signer_fingerprints",
                        "allowed_source_types",
                        "refused_signals",
                        "required_signals",
                        "allow_invalid_ingredients",
                        "public_trust",
                        "anchor_time_evidence"
                    ]
                    .contains(field)
            );
        }
        // A field missing from FIELDS would be refused here by deny_unknown_fields.
        let all: String = FIELDS
            .iter()
            .map(|(f, _)| match *f {
                "require_c2pa" | "require_anchor" => format!("{f} = \"none\"\n"),
                "min_confirmations" => format!("{f} = 1\n"),
                "max_synthetic_score" => format!("{f} = 0.5\n"),
                "allow_invalid_ingredients" | "public_trust" | "anchor_time_evidence" => format!("{f} = false\n"),
                _ => format!("{f} = []\n"),
            })
            .collect();
        LoadedPolicy::parse(&all, Path::new("all.toml")).unwrap();
    }
}
