//! One verdict per file: provenance, anchors and detection, judged against a
//! policy. Entry point: [`judge`] turns a [`FileReport`] into a
//! [`CheckRecord`]; [`Shard`] and [`Resume`] decide which files a run takes.

pub mod policy;
pub mod records;

use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::anchor::AnchorState;
use crate::detect::Detection;
use crate::provenance::{codes, C2paReport, C2paState, DeclaredSource};
use crate::results::FileReport;
pub use policy::{AnchorRequirement, C2paRequirement, LoadedPolicy, Policy};

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: {reason}", path.display())]
    Policy { path: PathBuf, reason: String },
    #[error("--shard {0}: expected I/N with 0 <= I < N, e.g. 0/4")]
    Shard(String),
    #[error("{}: line {line}: not a vouch JSON record: {reason}", path.display())]
    Resume { path: PathBuf, line: usize, reason: String },
}

/// The answer for one file, worst last so `max` gives a run's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

impl Verdict {
    /// The word a record carries (`pass`, `warn`, `fail`).
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "pass" => Some(Self::Pass),
            "warn" => Some(Self::Warn),
            "fail" => Some(Self::Fail),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

/// One reason behind a verdict, with the rule that gave it (stable ids that
/// SARIF and CI annotations key on).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// `c2pa`, `signer`, `source-type`, `anchor` or `synthetic`.
    pub rule: &'static str,
    pub verdict: Verdict,
    pub message: String,
}

/// The record `vouch check` writes per file: the same record `verify` (and
/// `detect`) produce, plus the verdict and its reasons.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRecord {
    #[serde(flatten)]
    pub report: FileReport,
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
    /// What each `--rubric` found, in the order given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rubrics: Vec<RubricRecord>,
    /// The score line the `synthetic` rule used (the policy's maximum, or
    /// the model's threshold + margin), when detection ran.
    #[serde(skip)]
    pub synthetic_line: Option<f32>,
}

/// Judges one file. Without a policy vouch only reports: a file fails when
/// something about it is false (invalid credentials, a false anchor) and
/// warns when nothing vouches for it yet.
pub fn judge(report: FileReport, policy: Option<&Policy>) -> CheckRecord {
    let mut reasons = Vec::new();
    let mut add = |rule, verdict, message: String| reasons.push(Reason { rule, verdict, message });
    let default = Policy::default();
    let rules = policy.unwrap_or(&default);
    let c2pa = report.c2pa.as_ref();
    let state = c2pa.map(|c| c.state);

    // Credentials.
    match (state, rules.require_c2pa) {
        (Some(C2paState::Invalid), _) => {
            let codes = c2pa.map(|c| c.codes.as_slice()).unwrap_or_default();
            add(
                "c2pa",
                Verdict::Fail,
                format!(
                    "Content Credentials are invalid: {} ({})",
                    codes::sentences_for(codes, &report.path),
                    codes.join(", ")
                ),
            );
        }
        (Some(C2paState::Trusted), _) => {}
        (Some(C2paState::Valid), C2paRequirement::Trusted) => {
            add("c2pa", Verdict::Fail, format!("{} (the policy requires trusted)", codes::VALID_WORDS))
        }
        (Some(C2paState::Valid), _) if policy.is_some() => {}
        (Some(C2paState::Valid), _) => add("c2pa", Verdict::Warn, codes::VALID_WORDS.into()),
        (Some(C2paState::Absent) | None, C2paRequirement::None) => {
            if policy.is_none() && !report.anchors.iter().any(|a| a.state == AnchorState::Confirmed) {
                add("c2pa", Verdict::Warn, "no Content Credentials".into());
            }
        }
        (Some(C2paState::Absent), required) => {
            add("c2pa", Verdict::Fail, format!("no Content Credentials (the policy requires {})", c2pa_word(required)))
        }
        (None, required) => add(
            "c2pa",
            Verdict::Fail,
            format!("this format cannot carry Content Credentials (the policy requires {})", c2pa_word(required)),
        ),
    }

    // A sidecar beside an embedded manifest that does not hold: the embedded
    // verdict stands, but the disagreement is worth a look.
    if let Some(beside) = c2pa.and_then(|c| c.sidecar_manifest.as_deref()).filter(|s| !s.state.passes()) {
        let codes = if beside.codes.is_empty() {
            beside.state.as_str().to_string()
        } else {
            format!("{}: {}", codes::sentences(&beside.codes), beside.codes.join(", "))
        };
        add(
            "c2pa",
            Verdict::Warn,
            format!("the sidecar beside the file does not hold ({codes}); the embedded manifest was judged"),
        );
    }

    // Who signed, and what they say the content is.
    if let Some(c2pa) = c2pa.filter(|c| c.state.passes()) {
        if !rules.signer_fingerprints.is_empty() {
            let signer = c2pa.signer_sha256.as_deref().unwrap_or_default();
            let allowed = rules.signer_fingerprints.iter().any(|f| {
                let prefix = f.replace(':', "").to_ascii_lowercase();
                !signer.is_empty() && signer.starts_with(&prefix)
            });
            if !allowed {
                let who = c2pa.signer.as_deref().unwrap_or("unknown signer");
                add("signer", Verdict::Fail, format!("signer {who} ({}) is not one the policy allows", short(signer)));
            }
        }
        judge_declared_sources(c2pa, rules, &mut add);
    }
    judge_signals(c2pa.filter(|c| c.state.passes()), rules, &mut add);

    // The history: a manifest recorded as invalid when it became an
    // ingredient stays a fact about the file, however well the newest
    // manifest verifies.
    if let Some(c2pa) = c2pa.filter(|c| !c.invalid_ingredients.is_empty()) {
        let strict = matches!(rules.require_c2pa, C2paRequirement::Trusted | C2paRequirement::Valid);
        let verdict = if strict && !rules.allow_invalid_ingredients { Verdict::Fail } else { Verdict::Warn };
        for ingredient in &c2pa.invalid_ingredients {
            let title = ingredient.title.as_deref().unwrap_or("an ingredient");
            add(
                "ingredient",
                verdict,
                format!(
                    "its history holds {title}, whose credentials were invalid when it was used: {} ({})",
                    codes::sentences(&ingredient.codes),
                    ingredient.codes.join(", ")
                ),
            );
        }
    }

    // What the file's metadata declares about AI origin (C2PA source types
    // are judged above, under `source-type`).
    judge_declared_metadata(&report.declared, rules, &mut add);

    // Anchors.
    for anchor in report.anchors.iter().filter(|a| a.state == AnchorState::Invalid) {
        let why = anchor.reason.as_deref().unwrap_or("false for this file");
        add("anchor", Verdict::Fail, format!("{} anchor is invalid: {why}", anchor.kind));
    }
    let wanted = |kind: &str| match rules.require_anchor {
        AnchorRequirement::Ots => kind == "ots",
        AnchorRequirement::Evm => kind == "evm",
        AnchorRequirement::Any => true,
        AnchorRequirement::None => false,
    };
    if rules.require_anchor != AnchorRequirement::None {
        let confirmed = report.anchors.iter().any(|a| wanted(a.kind) && a.state == AnchorState::Confirmed);
        if !confirmed {
            let kinds = match rules.require_anchor {
                AnchorRequirement::Ots => "a Bitcoin (OpenTimestamps)",
                AnchorRequirement::Evm => "an EVM",
                _ => "an",
            };
            let found: Vec<String> = report
                .anchors
                .iter()
                .filter(|a| wanted(a.kind))
                .map(|a| format!("{} {}", a.kind, anchor_word(a.state)))
                .collect();
            let found = if found.is_empty() { "none found".to_string() } else { found.join(", ") };
            add("anchor", Verdict::Fail, format!("the policy requires {kinds} anchor confirmed on chain ({found})"));
        }
    } else {
        for anchor in report.anchors.iter().filter(|a| a.state == AnchorState::Pending) {
            add("anchor", Verdict::Warn, format!("{} anchor is still pending", anchor.kind));
        }
    }

    let verdict = reasons.iter().map(|r| r.verdict).max().unwrap_or(Verdict::Pass);
    CheckRecord { report, verdict, reasons, rubrics: Vec::new(), synthetic_line: None }
}

/// One trait of a rubric, as a record lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraitLine {
    #[serde(rename = "trait")]
    pub name: String,
    pub report_text: String,
}

/// What one asset rubric (`check --rubric FILE.yml`) found in a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RubricRecord {
    /// The rubric's name and version (`rubric_metadata`), and its file.
    pub rubric: String,
    pub version: String,
    pub file: String,
    /// Why the rubric could not be evaluated (no Content Credentials).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_evaluated: Option<String>,
    /// Trait rubrics: every trait (`category:name`) and its value: `true`,
    /// `false` (evaluation errors included) or `"warning"`.
    pub traits: serde_json::Map<String, serde_json::Value>,
    pub failed: Vec<TraitLine>,
    pub warnings: Vec<TraitLine>,
    /// Signals rubrics: each manifest's signals.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub manifests: Vec<crate::rubric::ManifestResult>,
}

/// Judges a file with asset rubrics, on the crJSON its credentials were
/// validated as. Each `false` trait is a `rubric` reason that fails the
/// file, each warning warns, whatever the policy says: a rubric only adds
/// reasons, so the verdict is the worst of the policy's and the rubrics'.
/// A file without Content Credentials cannot be judged by a rubric, which
/// is said (a warning), never passed over.
pub fn judge_rubrics(record: &mut CheckRecord, rubrics: &[crate::rubric::Rubric]) {
    use crate::rubric::Outcome;
    for rubric in rubrics {
        let title = format!("{} {}", rubric.name, rubric.version);
        let mut entry = RubricRecord {
            rubric: rubric.name.clone(),
            version: rubric.version.clone(),
            file: rubric.path.to_string_lossy().into_owned(),
            not_evaluated: None,
            traits: serde_json::Map::new(),
            failed: Vec::new(),
            warnings: Vec::new(),
            manifests: Vec::new(),
        };
        let Some(crjson) = record.report.c2pa.as_ref().and_then(|c| c.crjson.as_ref()) else {
            let why = "no Content Credentials to evaluate";
            record.reasons.push(Reason {
                rule: "rubric",
                verdict: Verdict::Warn,
                message: format!("{title}: not evaluated ({why})"),
            });
            entry.not_evaluated = Some(why.into());
            record.rubrics.push(entry);
            continue;
        };
        let report = rubric.evaluate(crjson);
        for t in &report.traits {
            let value = match t.outcome {
                Outcome::True => serde_json::Value::Bool(true),
                Outcome::False => serde_json::Value::Bool(false),
                Outcome::Warning => serde_json::Value::String("warning".into()),
            };
            // A trait listed once per manifest it found holds if any does.
            if entry.traits.get(&t.name) != Some(&serde_json::Value::Bool(true)) {
                entry.traits.insert(t.name.clone(), value);
            }
            let line = TraitLine { name: t.name.clone(), report_text: t.report_text.clone() };
            let (verdict, list, word) = match t.outcome {
                Outcome::True => continue,
                Outcome::False => (Verdict::Fail, &mut entry.failed, "false"),
                Outcome::Warning => (Verdict::Warn, &mut entry.warnings, "a warning"),
            };
            record.reasons.push(Reason {
                rule: "rubric",
                verdict,
                message: format!("{title}: {} is {word}: {}", t.name, t.report_text),
            });
            list.push(line);
        }
        entry.manifests = report.manifests;
        record.rubrics.push(entry);
    }
    record.verdict = record.reasons.iter().map(|r| r.verdict).max().unwrap_or(Verdict::Pass);
}

/// Judges every source type declared anywhere in the file's history: one
/// refused declaration fails the file, wherever it sits, and with an allow
/// list every declaration must be allowed. A declaration of AI-generated or
/// synthetic content that the policy does not explicitly allow is always
/// shown, as a warning.
fn judge_declared_sources(c2pa: &C2paReport, rules: &Policy, add: &mut impl FnMut(&'static str, Verdict, String)) {
    use crate::provenance::source_type;
    let active = c2pa.manifest.as_deref();
    let place = |manifest: &str| if Some(manifest) == active { "" } else { " in its history" };
    // Records written before `declared_sources` existed carry only the
    // active manifest's type: judge that rather than nothing.
    let fallback: Vec<DeclaredSource> = match (&c2pa.digital_source_type, c2pa.declared_sources.is_empty()) {
        (Some(t), true) => vec![DeclaredSource {
            source_type: t.clone(),
            manifest: active.unwrap_or_default().to_string(),
            action: String::new(),
        }],
        _ => Vec::new(),
    };
    let declared_sources = if fallback.is_empty() { &c2pa.declared_sources } else { &fallback };
    if declared_sources.is_empty() && !rules.allowed_source_types.is_empty() {
        add("source-type", Verdict::Fail, "no digital source type declared; the policy allows only some".into());
    }
    let mut said = std::collections::HashSet::new();
    for declared in declared_sources {
        let name = source_type::name_of(&declared.source_type);
        let what = match declared.synthetic_words() {
            Some(words) => format!("declares {words} ({name}){}", place(&declared.manifest)),
            None => format!("declares digital source type {name}{}", place(&declared.manifest)),
        };
        let refused = rules.refused_source_types.iter().any(|t| source_type::may_be(&declared.source_type, t));
        let allowed = rules.allowed_source_types.iter().any(|t| source_type::same(t, &declared.source_type));
        let (verdict, message) = if refused {
            (Verdict::Fail, format!("{what}, which the policy refuses"))
        } else if !rules.allowed_source_types.is_empty() && !allowed {
            (Verdict::Fail, format!("{what}, which is not among those the policy allows"))
        } else if declared.synthetic_words().is_some() && !allowed {
            (Verdict::Warn, what)
        } else {
            continue;
        };
        if said.insert(message.clone()) {
            add("source-type", verdict, message);
        }
    }
}

/// Judges the official provenance signals over the whole history, as
/// source types are: a refused signal fails the file wherever it shows (an
/// AI inception in an ingredient counts), and each required signal must
/// show in some manifest. Only credentials that hold are read.
fn judge_signals(c2pa: Option<&C2paReport>, rules: &Policy, add: &mut impl FnMut(&'static str, Verdict, String)) {
    let history = c2pa.map(|c| &c.signals[..]).unwrap_or_default();
    let active = c2pa.and_then(|c| c.manifest.as_deref());
    let mut said = std::collections::HashSet::new();
    for manifest in history {
        let place = if Some(manifest.manifest.as_str()) == active { "" } else { " in its history" };
        for signal in manifest.all().filter(|s| rules.refused_signals.contains(&s.name)) {
            let message =
                format!("shows \"{}\" ({}){place}, which the policy refuses", signal.report_text, signal.name);
            if said.insert(message.clone()) {
                add("signal", Verdict::Fail, message);
            }
        }
    }
    // A required signal counts only from a manifest that held: one recorded
    // as invalid when it became an ingredient vouches for nothing.
    let invalid: Vec<&str> = c2pa
        .map(|c| c.invalid_ingredients.iter().filter_map(|i| i.ingredient_manifest.as_deref()).collect())
        .unwrap_or_default();
    let held = || history.iter().filter(|m| !invalid.contains(&m.manifest.as_str()));
    for required in &rules.required_signals {
        if !held().flat_map(|m| m.all()).any(|s| &s.name == required) {
            let words = crate::provenance::signals::report_text(required).unwrap_or(required);
            add(
                "signal",
                Verdict::Fail,
                format!("the policy requires \"{words}\" ({required}), which no manifest in its history shows"),
            );
        }
    }
}

/// Judges declarations of AI origin outside the C2PA source types (XMP,
/// PNG text, EXIF, a C2PA claim generator): an XMP source type the policy
/// refuses fails; any other declaration the policy does not allow warns.
fn judge_declared_metadata(
    declared: &[crate::detect::declared::Declared],
    rules: &Policy,
    add: &mut impl FnMut(&'static str, Verdict, String),
) {
    use crate::provenance::source_type;
    for d in declared.iter().filter(|d| !(d.source == "c2pa" && d.field.ends_with("digitalSourceType"))) {
        let is_type = d.field.ends_with("DigitalSourceType");
        let what = format!("declares AI origin: {} {} = {}", d.source, d.field, d.value.replace(['\n', '\r'], " "));
        if is_type && rules.refused_source_types.iter().any(|t| source_type::may_be(&d.value, t)) {
            add("declared", Verdict::Fail, format!("{what}, which the policy refuses"));
        } else if !(is_type && rules.allowed_source_types.iter().any(|t| source_type::same(t, &d.value))) {
            add("declared", Verdict::Warn, what);
        }
    }
}

/// Adds the detection rule's reasons and returns the score line that
/// decided (for the HTML timeline). The rule uses detection's own labels:
/// a file fails when the detector flags it (at its card's threshold +
/// margin) or when the file declares AI origin that the policy does not
/// allow; an `inconclusive` score warns. A policy's `max_synthetic_score`
/// replaces the model's line with the policy's number.
pub fn judge_synthetic(record: &mut CheckRecord, detection: &Detection, policy: Option<&Policy>) -> f32 {
    use crate::detect::aggregate::{self, Verdict as Label};
    use crate::provenance::source_type;
    let max = policy.and_then(|p| p.max_synthetic_score);
    let band = detection.band();
    let flag_line = band.flag_at();
    // The declarations judge() warned about are judged here instead.
    record.reasons.retain(|r| r.rule != "declared");
    let mut add = |verdict, message: String| record.reasons.push(Reason { rule: "synthetic", verdict, message });
    let allowed = policy.map_or(&[][..], |p| &p.allowed_source_types[..]);
    for declared in &detection.declared {
        let is_type = declared.field.to_ascii_lowercase().ends_with("digitalsourcetype");
        if is_type && allowed.iter().any(|t| source_type::same(t, &declared.value)) {
            continue;
        }
        add(
            Verdict::Fail,
            format!(
                "declares AI origin: {} {} = {}",
                declared.source,
                declared.field,
                declared.value.replace(['\n', '\r'], " ")
            ),
        );
    }
    // Each model judges on its own line (several models: any that flags
    // the file fails it).
    let judged: Vec<(&str, Option<f32>, crate::detect::card::Band)> = if detection.models.is_empty() {
        vec![(detection.model.as_str(), detection.score, band)]
    } else {
        detection
            .models
            .iter()
            .map(|m| {
                let band = crate::detect::card::Band {
                    threshold: m.threshold,
                    margin: m.margin,
                    not_flagged_below: m.not_flagged_below,
                };
                (m.model.as_str(), m.score, band)
            })
            .collect()
    };
    let several = judged.len() > 1;
    for (model, score, band) in judged {
        let flag_line = band.flag_at();
        match (score, max) {
            (Some(score), Some(max)) if score > max => {
                let by = if several { format!(" ({model})") } else { String::new() };
                add(Verdict::Fail, format!("synthetic score {score:.3}{by} is above the policy's {max}"))
            }
            (Some(_), Some(_)) => {}
            (score, None) => match aggregate::verdict(score, &band) {
                Label::Flagged => add(
                    Verdict::Fail,
                    format!(
                        "flagged by {model}: score {:.3} is at or above {flag_line:.3} (threshold {:.3} + margin {:.3})",
                        score.unwrap_or_default(),
                        band.threshold,
                        band.margin
                    ),
                ),
                Label::Inconclusive => add(
                    Verdict::Warn,
                    match score {
                        Some(s) => format!(
                            "inconclusive: {model} scores {s:.3}, below its flag line {flag_line:.3} but not below {:.3}",
                            band.not_flagged_below
                        ),
                        None => format!("inconclusive: {model} scored nothing (no faces found)"),
                    },
                ),
                _ => {}
            },
            (None, Some(_)) => {}
        }
    }
    record.verdict = record.reasons.iter().map(|r| r.verdict).max().unwrap_or(Verdict::Pass);
    record.synthetic_line = Some(max.unwrap_or(flag_line));
    max.unwrap_or(flag_line)
}

fn c2pa_word(required: C2paRequirement) -> &'static str {
    match required {
        C2paRequirement::Trusted => "a trusted signer",
        C2paRequirement::Valid => "valid credentials",
        _ => "credentials",
    }
}

fn anchor_word(state: AnchorState) -> &'static str {
    match state {
        AnchorState::Confirmed => "confirmed",
        AnchorState::Pending => "pending",
        AnchorState::Invalid => "invalid",
        AnchorState::Unverifiable => "unverifiable",
    }
}

fn short(fingerprint: &str) -> String {
    if fingerprint.is_empty() {
        "no certificate".into()
    } else {
        format!("sha256 {}…", &fingerprint[..fingerprint.len().min(16)])
    }
}

/// `--shard I/N`: file belongs to shard I when the hash of its path, mod N,
/// is I. Deterministic across machines, so N workers split an archive with
/// no coordination; every file lands in exactly one shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl std::str::FromStr for Shard {
    type Err = CheckError;

    fn from_str(s: &str) -> Result<Self, CheckError> {
        let bad = || CheckError::Shard(s.to_string());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u64, u64) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl Shard {
    pub fn takes(&self, path: &Path) -> bool {
        let digest = Sha256::digest(path.as_os_str().as_encoded_bytes());
        let bucket = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) % self.count;
        bucket == self.index
    }
}

/// `--resume FILE`: the records already in a JSON Lines output, kept as
/// 64-bit path hashes with their outcome so millions fit in a few megabytes.
/// A path whose last record is an error is checked again; the others count
/// in the run's summary and exit code as they were recorded.
#[derive(Debug, Default)]
pub struct Resume {
    done: std::collections::HashMap<u64, Recorded>,
}

/// The outcome of an earlier record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Verdict(Verdict),
    Skipped,
    Error,
}

impl Resume {
    /// Reads the records of an earlier run; a missing file means a fresh
    /// start. A torn last line (the run was killed mid-write) is ignored.
    pub fn load(path: &Path) -> Result<Self, CheckError> {
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => return Err(CheckError::Io { path: path.into(), source }),
        };
        let mut done = std::collections::HashMap::new();
        let lines: Vec<_> = std::io::BufReader::new(file).lines().collect();
        let last = lines.len();
        for (n, line) in lines.into_iter().enumerate() {
            let line = line.map_err(|source| CheckError::Io { path: path.into(), source })?;
            if line.trim().is_empty() {
                continue;
            }
            let bad = |reason: String| CheckError::Resume { path: path.into(), line: n + 1, reason };
            let value = match serde_json::from_str::<serde_json::Value>(&line) {
                Ok(value) => value,
                Err(_) if n + 1 == last => continue,
                Err(e) => return Err(bad(e.to_string())),
            };
            let key = record_key(&value).ok_or_else(|| bad("no \"path\"".into()))?;
            let outcome = if value.get("error").is_some() {
                Recorded::Error
            } else if value.get("skipped").is_some() {
                Recorded::Skipped
            } else {
                match value.get("verdict").and_then(|v| v.as_str()) {
                    Some("pass") => Recorded::Verdict(Verdict::Pass),
                    Some("warn") => Recorded::Verdict(Verdict::Warn),
                    Some("fail") => Recorded::Verdict(Verdict::Fail),
                    _ => return Err(bad("no \"verdict\", \"error\" or \"skipped\"".into())),
                }
            };
            done.insert(key, outcome);
        }
        Ok(Self { done })
    }

    /// Whether `path` has a record that stands (errors are checked again).
    pub fn is_done(&self, path: &Path) -> bool {
        self.done.get(&path_key(path)).is_some_and(|r| *r != Recorded::Error)
    }

    /// The outcomes that stand, for the run's summary and exit code.
    pub fn standing(&self) -> impl Iterator<Item = Recorded> + '_ {
        self.done.values().copied().filter(|r| *r != Recorded::Error)
    }

    pub fn len(&self) -> usize {
        self.done.len()
    }

    pub fn is_empty(&self) -> bool {
        self.done.is_empty()
    }
}

/// The path key of a record: its exact bytes when the path is not UTF-8.
fn record_key(value: &serde_json::Value) -> Option<u64> {
    use base64::Engine as _;
    if let Some(bytes) = value.get("path_bytes").and_then(|b| b.as_str()) {
        let raw = base64::engine::general_purpose::STANDARD.decode(bytes).ok()?;
        // The bytes `as_encoded_bytes` gave when the record was written:
        // on Unix, the path's own bytes.
        return Some(key_of_bytes(&raw));
    }
    value.get("path").and_then(|p| p.as_str()).map(|p| path_key(Path::new(p)))
}

pub(crate) fn key_of_bytes(bytes: &[u8]) -> u64 {
    let digest = Sha256::digest(bytes);
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

fn path_key(path: &Path) -> u64 {
    key_of_bytes(path.as_os_str().as_encoded_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anchor::AnchorReport;
    use crate::provenance::C2paReport;

    fn c2pa(state: C2paState, source_type: Option<&str>) -> C2paReport {
        let json = serde_json::json!({
            "state": state, "signer": "Alice", "signer_sha256": "abcdef0123456789", "issuer": "Planet",
            "signed_at": null, "alg": "Ed25519", "codes": [], "actions": ["c2pa.created"],
            "digital_source_type": source_type, "ingredients": [], "title": null, "claim_generator": null,
            "manifest": null, "sidecar": false, "reason": null
        });
        serde_json::from_value(json).unwrap()
    }

    fn anchor(kind: &'static str, state: AnchorState) -> AnchorReport {
        AnchorReport {
            kind,
            state,
            chain: None,
            block: None,
            block_hash: None,
            time: None,
            reason: None,
            receipt: PathBuf::from("r"),
            tx_hash: None,
            confirmations: None,
            beyond_checkpoints: false,
            invalid_attestations: Vec::new(),
        }
    }

    fn report(c2pa: Option<C2paReport>, anchors: Vec<AnchorReport>) -> FileReport {
        FileReport {
            path: PathBuf::from("a.jpg"),
            path_bytes: None,
            link: false,
            c2pa,
            anchors,
            declared: Vec::new(),
            detection: None,
        }
    }

    /// A trusted file whose active manifest `top` edited an ingredient
    /// manifest `parent` that shows `parent_signal`.
    fn with_signals(parent_signal: &str, parent_invalid: bool) -> C2paReport {
        use crate::provenance::signals::{ManifestSignals, Signal};
        let signal = |name: &str| Signal {
            name: name.to_string(),
            report_text: crate::provenance::signals::report_text(name).unwrap().to_string(),
        };
        let mut c2pa = c2pa(C2paState::Trusted, None);
        c2pa.manifest = Some("top".into());
        c2pa.signals = vec![
            ManifestSignals {
                manifest: "top".into(),
                inceptions: vec![],
                transformations: vec![signal("transformation:signal_perceptibleNonGenAI")],
                pseudo: false,
            },
            ManifestSignals {
                manifest: "parent".into(),
                inceptions: vec![signal(parent_signal)],
                transformations: vec![],
                pseudo: false,
            },
        ];
        if parent_invalid {
            c2pa.invalid_ingredients.push(crate::provenance::InvalidIngredient {
                title: Some("parent.jpg".into()),
                manifest: "top".into(),
                ingredient_manifest: Some("parent".into()),
                codes: vec!["assertion.dataHash.mismatch".into()],
            });
        }
        c2pa
    }

    #[test]
    fn signals_are_judged_over_the_history_and_only_manifests_that_held_satisfy_a_requirement() {
        let refuse = Policy { refused_signals: vec!["inception:signal_fullyGenAIMedia".into()], ..Policy::default() };
        let ai = judge(report(Some(with_signals("inception:signal_fullyGenAIMedia", false)), vec![]), Some(&refuse));
        assert_eq!(ai.verdict, Verdict::Fail);
        assert_eq!(ai.reasons[0].rule, "signal");
        assert!(ai.reasons[0]
            .message
            .contains("\"Contains Fully GenAI Media\" (inception:signal_fullyGenAIMedia) in its history"));
        let capture = judge(report(Some(with_signals("inception:signal_capturedMedia", false)), vec![]), Some(&refuse));
        assert_eq!(capture.verdict, Verdict::Pass, "{:?}", capture.reasons);

        let require = Policy { required_signals: vec!["inception:signal_capturedMedia".into()], ..Policy::default() };
        let held = judge(report(Some(with_signals("inception:signal_capturedMedia", false)), vec![]), Some(&require));
        assert_eq!(held.verdict, Verdict::Pass, "{:?}", held.reasons);
        let broken = judge(report(Some(with_signals("inception:signal_capturedMedia", true)), vec![]), Some(&require));
        assert!(
            broken.reasons.iter().any(|r| r.rule == "signal" && r.verdict == Verdict::Fail),
            "{:?}",
            broken.reasons
        );
        // Invalid credentials show no signal that counts.
        let mut invalid = with_signals("inception:signal_capturedMedia", false);
        invalid.state = C2paState::Invalid;
        let invalid = judge(report(Some(invalid), vec![]), Some(&require));
        assert!(invalid.reasons.iter().any(|r| r.rule == "signal"), "{:?}", invalid.reasons);
    }

    #[test]
    fn an_invalid_ingredient_fails_a_policy_that_wants_credentials_unless_it_allows_them() {
        let file = |invalid| report(Some(with_signals("inception:signal_capturedMedia", invalid)), vec![]);
        let ingredient = |record: &CheckRecord| {
            let reason = record.reasons.iter().find(|r| r.rule == "ingredient");
            (record.verdict, reason.map(|r| r.verdict))
        };
        let trusted = Policy { require_c2pa: C2paRequirement::Trusted, ..Policy::default() };
        let strict = judge(file(true), Some(&trusted));
        assert_eq!(ingredient(&strict), (Verdict::Fail, Some(Verdict::Fail)));
        assert!(
            strict.reasons[0].message.starts_with(
                "its history holds parent.jpg, whose credentials were invalid when it was used: \
                 the image data changed after it was signed (assertion.dataHash.mismatch"
            ),
            "{:?}",
            strict.reasons
        );
        let allowing = Policy { allow_invalid_ingredients: true, ..trusted.clone() };
        assert_eq!(ingredient(&judge(file(true), Some(&allowing))), (Verdict::Warn, Some(Verdict::Warn)));
        for lax in [None, Some(Policy::default())] {
            assert_eq!(ingredient(&judge(file(true), lax.as_ref())), (Verdict::Warn, Some(Verdict::Warn)), "{lax:?}");
        }
        assert_eq!(ingredient(&judge(file(false), Some(&trusted))), (Verdict::Pass, None));
    }

    #[test]
    fn a_sidecar_that_does_not_hold_beside_the_embedded_manifest_warns() {
        let beside = |state| {
            let mut c2pa = c2pa(C2paState::Trusted, None);
            let mut sidecar = c2pa.clone();
            sidecar.state = state;
            sidecar.codes =
                if state == C2paState::Invalid { vec!["assertion.dataHash.mismatch".into()] } else { vec![] };
            c2pa.sidecar_manifest = Some(Box::new(sidecar));
            judge(report(Some(c2pa), vec![]), None)
        };
        let broken = beside(C2paState::Invalid);
        assert_eq!(broken.verdict, Verdict::Warn);
        assert!(
            broken.reasons[0].message.starts_with("the sidecar beside the file does not hold (")
                && broken.reasons[0]
                    .message
                    .ends_with("assertion.dataHash.mismatch); the embedded manifest was judged"),
            "{:?}",
            broken.reasons
        );
        let holding = beside(C2paState::Trusted);
        assert_eq!(holding.verdict, Verdict::Pass, "{:?}", holding.reasons);
    }

    #[test]
    fn a_refused_source_type_is_said_to_sit_in_the_active_manifest_or_its_history() {
        let policy = Policy { refused_source_types: vec!["trainedAlgorithmicMedia".into()], ..Policy::default() };
        let declared_in = |manifest: &str| {
            let mut c2pa = c2pa(C2paState::Trusted, None);
            c2pa.manifest = Some("top".into());
            c2pa.declared_sources = vec![DeclaredSource {
                source_type: format!("{}trainedAlgorithmicMedia", crate::provenance::source_type::IPTC),
                manifest: manifest.into(),
                action: "c2pa.created".into(),
            }];
            let record = judge(report(Some(c2pa), vec![]), Some(&policy));
            assert_eq!(record.verdict, Verdict::Fail);
            record.reasons[0].message.clone()
        };
        let refused = "which the policy refuses";
        assert_eq!(declared_in("top"), format!("declares AI-generated content (trainedAlgorithmicMedia), {refused}"));
        assert_eq!(
            declared_in("parent"),
            format!("declares AI-generated content (trainedAlgorithmicMedia) in its history, {refused}")
        );
    }

    #[test]
    fn a_declared_ai_source_type_warns_unless_the_policy_allows_it() {
        let ai = || {
            let uri = format!("{}trainedAlgorithmicMedia", crate::provenance::source_type::IPTC);
            let mut c2pa = c2pa(C2paState::Trusted, Some(&uri));
            c2pa.manifest = Some("top".into());
            report(Some(c2pa), vec![])
        };
        for policy in [None, Some(Policy::default())] {
            let warned = judge(ai(), policy.as_ref());
            assert_eq!(warned.verdict, Verdict::Warn, "{policy:?}");
            assert_eq!(warned.reasons[0].message, "declares AI-generated content (trainedAlgorithmicMedia)");
        }
        let allowing = Policy { allowed_source_types: vec!["trainedAlgorithmicMedia".into()], ..Policy::default() };
        let allowed = judge(ai(), Some(&allowing));
        assert_eq!(allowed.verdict, Verdict::Pass, "{:?}", allowed.reasons);
    }

    #[test]
    fn metadata_declaring_ai_origin_warns_fails_when_refused_and_passes_when_allowed() {
        use crate::detect::declared::Declared;
        use crate::provenance::source_type::IPTC;
        let said = |source: &str, field: &str, value: &str| Declared {
            source: source.into(),
            field: field.into(),
            value: value.into(),
        };
        let ai = format!("{IPTC}trainedAlgorithmicMedia");
        let xmp = || said("xmp", "Iptc4xmpExt:DigitalSourceType", &ai);
        let judged = |declared: Vec<Declared>, policy: Option<&Policy>| {
            let mut file = report(Some(c2pa(C2paState::Trusted, Some(&ai))), vec![]);
            file.declared = declared;
            let record = judge(file, policy);
            let declared: Vec<_> = record
                .reasons
                .iter()
                .filter(|r| r.rule == "declared")
                .map(|r| (r.verdict, r.message.clone()))
                .collect();
            (record.verdict, declared)
        };
        let xmp_words = format!("declares AI origin: xmp Iptc4xmpExt:DigitalSourceType = {ai}");
        let refusing = Policy { refused_source_types: vec!["trainedAlgorithmicMedia".into()], ..Policy::default() };
        let allowing = Policy { allowed_source_types: vec!["trainedAlgorithmicMedia".into()], ..Policy::default() };
        assert_eq!(judged(vec![xmp()], Some(&allowing)), (Verdict::Pass, vec![]));
        let (_, reasons) = judged(vec![xmp()], None);
        assert_eq!(reasons, [(Verdict::Warn, xmp_words.clone())]);
        let (verdict, reasons) = judged(vec![xmp()], Some(&refusing));
        assert_eq!(
            (verdict, reasons),
            (Verdict::Fail, vec![(Verdict::Fail, format!("{xmp_words}, which the policy refuses"))])
        );
        // The manifest's own source type is judged as a source type, not
        // again here; a C2PA claim generator that names an AI tool is.
        let c2pa_type = said("c2pa", "c2pa.created digitalSourceType", &ai);
        assert_eq!(judged(vec![c2pa_type], Some(&allowing)), (Verdict::Pass, vec![]));
        let generator = said("c2pa", "claim_generator", "Adobe_Firefly");
        let (_, reasons) = judged(vec![generator], Some(&allowing));
        assert_eq!(reasons, [(Verdict::Warn, "declares AI origin: c2pa claim_generator = Adobe_Firefly".to_string())]);
    }

    fn strict() -> Policy {
        LoadedPolicy::parse(
            "require_c2pa = \"trusted\"\nrequire_anchor = \"any\"\nrefused_source_types = [\"trainedAlgorithmicMedia\"]",
            Path::new("p.toml"),
        )
        .unwrap()
        .rules
    }

    #[test]
    fn without_a_policy_only_falsehoods_fail() {
        let absent = judge(report(Some(c2pa(C2paState::Absent, None)), vec![]), None);
        assert_eq!(absent.verdict, Verdict::Warn);
        let invalid = judge(report(Some(c2pa(C2paState::Invalid, None)), vec![]), None);
        assert_eq!(invalid.verdict, Verdict::Fail);
        let bad_anchor =
            judge(report(Some(c2pa(C2paState::Trusted, None)), vec![anchor("ots", AnchorState::Invalid)]), None);
        assert_eq!(bad_anchor.verdict, Verdict::Fail);
        assert_eq!(judge(report(Some(c2pa(C2paState::Trusted, None)), vec![]), None).verdict, Verdict::Pass);
    }

    #[test]
    fn a_strict_policy_names_every_shortfall() {
        let policy = strict();
        let good =
            report(Some(c2pa(C2paState::Trusted, Some("digitalCapture"))), vec![anchor("evm", AnchorState::Confirmed)]);
        assert_eq!(judge(good, Some(&policy)).verdict, Verdict::Pass);

        let untrusted =
            judge(report(Some(c2pa(C2paState::Valid, None)), vec![anchor("ots", AnchorState::Pending)]), Some(&policy));
        assert_eq!(untrusted.verdict, Verdict::Fail);
        let rules: Vec<_> = untrusted.reasons.iter().map(|r| r.rule).collect();
        assert_eq!(rules, ["c2pa", "anchor"]);
        assert!(untrusted.reasons[1].message.contains("ots pending"));

        let ai = judge(
            report(
                Some(c2pa(
                    C2paState::Trusted,
                    Some("http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"),
                )),
                vec![anchor("ots", AnchorState::Confirmed)],
            ),
            Some(&policy),
        );
        assert_eq!(ai.verdict, Verdict::Fail);
        assert_eq!(ai.reasons[0].rule, "source-type");
    }

    #[test]
    fn signer_pins_match_by_fingerprint_prefix() {
        let mut policy = Policy { signer_fingerprints: vec!["AB:CD:EF:01".into()], ..Policy::default() };
        let signed = || report(Some(c2pa(C2paState::Trusted, None)), vec![]);
        assert_eq!(judge(signed(), Some(&policy)).verdict, Verdict::Pass);
        policy.signer_fingerprints = vec!["00112233".into()];
        let refused = judge(signed(), Some(&policy));
        assert_eq!(refused.verdict, Verdict::Fail);
        assert_eq!(refused.reasons[0].rule, "signer");
        assert_eq!(refused.reasons[0].message, "signer Alice (sha256 abcdef0123456789…) is not one the policy allows");
        let mut long = signed();
        long.c2pa.as_mut().unwrap().signer_sha256 = Some("abcdef0123456789".repeat(4));
        let refused = judge(long, Some(&policy));
        assert_eq!(refused.reasons[0].message, "signer Alice (sha256 abcdef0123456789…) is not one the policy allows");
        let mut unknown = signed();
        unknown.c2pa.as_mut().unwrap().signer_sha256 = None;
        let refused = judge(unknown, Some(&policy));
        assert_eq!(refused.reasons[0].message, "signer Alice (no certificate) is not one the policy allows");
    }

    #[test]
    fn an_untrusted_signer_warns_without_a_policy_and_passes_a_lax_one() {
        let valid = || report(Some(c2pa(C2paState::Valid, None)), vec![]);
        let alone = judge(valid(), None);
        assert_eq!(alone.verdict, Verdict::Warn);
        assert_eq!(alone.reasons[0].rule, "c2pa");
        assert_eq!(judge(valid(), Some(&Policy::default())).verdict, Verdict::Pass);
        let trusted = Policy { require_c2pa: C2paRequirement::Trusted, ..Policy::default() };
        assert_eq!(judge(valid(), Some(&trusted)).verdict, Verdict::Fail);
    }

    #[test]
    fn an_unsigned_file_passes_without_a_policy_only_with_a_confirmed_anchor() {
        let unsigned = |state| report(Some(c2pa(C2paState::Absent, None)), vec![anchor("ots", state)]);
        assert_eq!(judge(unsigned(AnchorState::Confirmed), None).verdict, Verdict::Pass);
        for state in [AnchorState::Unverifiable, AnchorState::Pending] {
            let record = judge(unsigned(state), None);
            assert_eq!(record.verdict, Verdict::Warn, "{state:?}");
            assert!(record.reasons.iter().any(|r| r.message == "no Content Credentials"), "{state:?}");
        }
        // A policy that asks nothing says nothing about missing credentials.
        let unverifiable = judge(unsigned(AnchorState::Unverifiable), Some(&Policy::default()));
        assert!(unverifiable.reasons.is_empty(), "{:?}", unverifiable.reasons);
    }

    #[test]
    fn an_allow_list_refuses_every_other_source_type() {
        let policy =
            LoadedPolicy::parse("allowed_source_types = [\"digitalCapture\"]", Path::new("p.toml")).unwrap().rules;
        let declaring = |t: &str| report(Some(c2pa(C2paState::Trusted, Some(t))), vec![]);
        let ai =
            judge(declaring("http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"), Some(&policy));
        assert_eq!(ai.verdict, Verdict::Fail);
        assert_eq!(ai.reasons[0].rule, "source-type");
        assert!(ai.reasons[0].message.contains("not among those the policy allows"), "{:?}", ai.reasons);
        let camera = judge(declaring("http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"), Some(&policy));
        assert_eq!(camera.verdict, Verdict::Pass, "{:?}", camera.reasons);
        let undeclared = judge(report(Some(c2pa(C2paState::Trusted, None)), vec![]), Some(&policy));
        assert_eq!(undeclared.verdict, Verdict::Fail);
        assert_eq!(undeclared.reasons[0].rule, "source-type");
        // Without a list, an undeclared type is no reason at all.
        let open = judge(report(Some(c2pa(C2paState::Trusted, None)), vec![]), Some(&Policy::default()));
        assert!(open.reasons.is_empty());
    }

    #[test]
    fn a_required_anchor_kind_is_not_met_by_the_other_kind() {
        let signed = |kind| report(Some(c2pa(C2paState::Trusted, None)), vec![anchor(kind, AnchorState::Confirmed)]);
        let evm = Policy { require_anchor: AnchorRequirement::Evm, ..Policy::default() };
        let ots = Policy { require_anchor: AnchorRequirement::Ots, ..Policy::default() };
        let any = Policy { require_anchor: AnchorRequirement::Any, ..Policy::default() };
        assert_eq!(judge(signed("evm"), Some(&evm)).verdict, Verdict::Pass);
        let wrong = judge(signed("ots"), Some(&evm));
        assert_eq!(wrong.verdict, Verdict::Fail);
        assert_eq!(wrong.reasons[0].message, "the policy requires an EVM anchor confirmed on chain (none found)");
        assert_eq!(judge(signed("ots"), Some(&ots)).verdict, Verdict::Pass);
        let wrong = judge(signed("evm"), Some(&ots));
        assert_eq!(wrong.verdict, Verdict::Fail);
        assert!(wrong.reasons[0].message.contains("a Bitcoin (OpenTimestamps) anchor"), "{:?}", wrong.reasons);
        for kind in ["ots", "evm"] {
            assert_eq!(judge(signed(kind), Some(&any)).verdict, Verdict::Pass, "{kind}");
        }
    }

    #[test]
    fn a_pending_anchor_warns_when_no_anchor_is_required() {
        let with = |state| report(Some(c2pa(C2paState::Trusted, None)), vec![anchor("ots", state)]);
        for policy in [None, Some(Policy::default())] {
            let pending = judge(with(AnchorState::Pending), policy.as_ref());
            assert_eq!(pending.verdict, Verdict::Warn);
            assert_eq!(pending.reasons[0].message, "ots anchor is still pending");
            assert_eq!(judge(with(AnchorState::Confirmed), policy.as_ref()).verdict, Verdict::Pass);
            assert_eq!(judge(with(AnchorState::Unverifiable), policy.as_ref()).verdict, Verdict::Pass);
        }
    }

    /// A detection by a model whose own line (0.99 + 0.0) never decides here.
    fn detection(score: Option<f32>, declared: Vec<crate::detect::declared::Declared>) -> Detection {
        Detection {
            path: PathBuf::from("a.jpg"),
            kind: crate::detect::decode::Kind::Image,
            model: "m".into(),
            model_sha256: String::new(),
            limits: Default::default(),
            runtime: String::new(),
            frames_scored: 1,
            score,
            verdict: crate::detect::aggregate::Verdict::Inconclusive,
            threshold: 0.99,
            margin: 0.0,
            not_flagged_below: 0.0,
            declared,
            notes: Vec::new(),
            segments: Vec::new(),
            frames: Vec::new(),
            smoothed: Vec::new(),
            models: Vec::new(),
        }
    }

    #[test]
    fn with_detection_a_declaration_of_ai_origin_fails_unless_the_policy_allows_its_type() {
        use crate::detect::declared::Declared;
        let ai = format!("{}trainedAlgorithmicMedia", crate::provenance::source_type::IPTC);
        let xmp = Declared { source: "xmp".into(), field: "Iptc4xmpExt:DigitalSourceType".into(), value: ai.clone() };
        let judged = |policy: Option<&Policy>| {
            let mut file = report(Some(c2pa(C2paState::Trusted, Some(&ai))), vec![]);
            file.declared = vec![xmp.clone()];
            let mut record = judge(file, policy);
            judge_synthetic(&mut record, &detection(Some(0.1), vec![xmp.clone()]), policy);
            let rules: Vec<_> = record.reasons.iter().map(|r| (r.rule, r.verdict)).collect();
            (record.verdict, rules)
        };
        // What judge() warned about, detection fails instead (once).
        let (verdict, rules) = judged(None);
        assert_eq!(verdict, Verdict::Fail);
        assert!(!rules.contains(&("declared", Verdict::Warn)), "{rules:?}");
        assert!(rules.contains(&("synthetic", Verdict::Fail)), "{rules:?}");
        let allowing = Policy {
            allowed_source_types: vec!["trainedAlgorithmicMedia".into()],
            max_synthetic_score: Some(0.5),
            ..Policy::default()
        };
        assert_eq!(judged(Some(&allowing)), (Verdict::Pass, vec![]));
    }

    #[test]
    fn without_a_limit_the_model_s_own_labels_decide() {
        let judged = |score: Option<f32>| {
            let mut record = judge(report(Some(c2pa(C2paState::Trusted, None)), vec![]), None);
            judge_synthetic(&mut record, &detection(score, Vec::new()), None);
            (record.verdict, record.reasons.iter().map(|r| r.message.clone()).collect::<Vec<_>>())
        };
        let (verdict, messages) = judged(Some(0.995));
        assert_eq!(verdict, Verdict::Fail);
        assert!(messages[0].starts_with("flagged by m: score 0.995 is at or above 0.990"), "{messages:?}");
        let (verdict, messages) = judged(Some(0.5));
        assert_eq!(verdict, Verdict::Warn);
        assert!(messages[0].starts_with("inconclusive: m scores 0.500, below its flag line 0.990"), "{messages:?}");
    }

    #[test]
    fn a_missing_manifest_names_what_the_policy_requires() {
        let shortfall = |state: Option<C2paState>, require_c2pa| {
            let policy = Policy { require_c2pa, ..Policy::default() };
            let record = judge(report(state.map(|s| c2pa(s, None)), vec![]), Some(&policy));
            assert_eq!(record.verdict, Verdict::Fail);
            record.reasons[0].message.clone()
        };
        let absent = Some(C2paState::Absent);
        assert_eq!(
            shortfall(absent, C2paRequirement::Trusted),
            "no Content Credentials (the policy requires a trusted signer)"
        );
        assert_eq!(
            shortfall(absent, C2paRequirement::Valid),
            "no Content Credentials (the policy requires valid credentials)"
        );
        assert_eq!(
            shortfall(None, C2paRequirement::Any),
            "this format cannot carry Content Credentials (the policy requires credentials)"
        );
    }

    #[test]
    fn a_synthetic_score_fails_only_above_the_limit() {
        let judged = |score: Option<f32>, max: Option<f32>| {
            let mut record = judge(report(Some(c2pa(C2paState::Trusted, None)), vec![]), None);
            let policy = Policy { max_synthetic_score: max, ..Policy::default() };
            judge_synthetic(&mut record, &detection(score, Vec::new()), Some(&policy));
            record
        };
        assert_eq!(judged(Some(0.5), Some(0.5)).verdict, Verdict::Pass, "at the limit");
        assert_eq!(judged(Some(0.4), Some(0.5)).verdict, Verdict::Pass);
        let above = judged(Some(0.51), Some(0.5));
        assert_eq!(above.verdict, Verdict::Fail);
        assert_eq!(above.reasons[0].rule, "synthetic");
        assert_eq!(above.reasons[0].message, "synthetic score 0.510 is above the policy's 0.5");
        // With several models, the one above the limit is named.
        let model = |name: &str, score| crate::detect::ModelResult {
            model: name.into(),
            model_sha256: String::new(),
            limits: Default::default(),
            faces: false,
            frames_scored: 1,
            score: Some(score),
            verdict: crate::detect::aggregate::Verdict::Inconclusive,
            threshold: 0.99,
            margin: 0.0,
            not_flagged_below: 0.0,
            notes: Vec::new(),
        };
        let mut two = detection(Some(0.2), Vec::new());
        two.models = vec![model("clip", 0.2), model("faces", 0.9)];
        let mut record = judge(report(Some(c2pa(C2paState::Trusted, None)), vec![]), None);
        judge_synthetic(&mut record, &two, Some(&Policy { max_synthetic_score: Some(0.5), ..Policy::default() }));
        let messages: Vec<_> = record.reasons.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(messages, ["synthetic score 0.900 (faces) is above the policy's 0.5"]);
        assert_eq!(judged(None, Some(0.1)).verdict, Verdict::Pass, "no score");
    }

    #[test]
    fn shards_cover_every_path_exactly_once() {
        let shards: Vec<Shard> = (0..4).map(|i| format!("{i}/4").parse().unwrap()).collect();
        for n in 0..2000 {
            let path = PathBuf::from(format!("archive/{n}.jpg"));
            assert_eq!(shards.iter().filter(|s| s.takes(&path)).count(), 1);
        }
        for bad in ["4/4", "1/0", "x/2", "3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn resume_reads_paths_and_forgives_only_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        std::fs::write(&out, "{\"path\":\"a.jpg\",\"verdict\":\"pass\"}\n{\"path\":\"b.jp").unwrap();
        let resume = Resume::load(&out).unwrap();
        assert!(resume.is_done(Path::new("a.jpg")) && !resume.is_done(Path::new("b.jpg")));
        std::fs::write(
            &out,
            "{\"path\":\"a.jpg\",\"verdict\":\"fail\"}\n{\"path\":\"e.jpg\",\"error\":\"x\"}\n\
             {\"path\":\"s\",\"skipped\":\"excluded by the policy\"}\n",
        )
        .unwrap();
        let resume = Resume::load(&out).unwrap();
        assert!(!resume.is_done(Path::new("e.jpg")), "errors are checked again");
        let mut standing: Vec<_> = resume.standing().collect();
        standing.sort_by_key(|r| format!("{r:?}"));
        assert_eq!(standing, [Recorded::Skipped, Recorded::Verdict(Verdict::Fail)]);
        std::fs::write(&out, "{\"path\":\"w.jpg\",\"verdict\":\"warn\"}\n{\"path\":\"p.jpg\",\"verdict\":\"pass\"}\n")
            .unwrap();
        let resume = Resume::load(&out).unwrap();
        assert_eq!((resume.len(), resume.is_empty()), (2, false));
        let mut standing: Vec<_> = resume.standing().collect();
        standing.sort_by_key(|r| format!("{r:?}"));
        assert_eq!(standing, [Recorded::Verdict(Verdict::Pass), Recorded::Verdict(Verdict::Warn)]);
        std::fs::write(&out, "garbage\n{\"path\":\"a.jpg\"}\n").unwrap();
        assert!(Resume::load(&out).unwrap_err().to_string().contains(": line 1: not a vouch JSON record: "));
        std::fs::write(&out, "{\"path\":\"a.jpg\",\"verdict\":\"pass\"}\ngarbage\n{\"path\":\"a.jpg\"}\n").unwrap();
        let err = Resume::load(&out).unwrap_err().to_string();
        assert!(err.contains(": line 2: not a vouch JSON record: "), "{err}");
        assert!(Resume::load(&dir.path().join("none.jsonl")).unwrap().is_empty());
        // A path that is not UTF-8 is known by the bytes its record keeps.
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let line = r#"{"path":"caf\ufffd.jpg","path_bytes":"Y2Fm6S5qcGc=","verdict":"pass","reasons":[]}"#;
            std::fs::write(&out, format!("{line}\n")).unwrap();
            let resume = Resume::load(&out).unwrap();
            assert!(resume.is_done(Path::new(std::ffi::OsStr::from_bytes(b"caf\xe9.jpg"))));
            assert!(!resume.is_done(Path::new("caf\u{fffd}.jpg")));
            assert_eq!(resume.len(), 1);
        }
        // Only a missing file is a fresh start: one that cannot be opened is an error.
        std::fs::write(dir.path().join("plain"), "").unwrap();
        let err = Resume::load(&dir.path().join("plain/out.jsonl")).unwrap_err().to_string();
        assert!(err.contains("plain/out.jsonl: "), "{err}");
    }
}
