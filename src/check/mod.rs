//! One verdict per file: provenance, anchors and detection, judged against a
//! policy. Entry point: [`judge`] turns a [`FileReport`] into a
//! [`CheckRecord`]; [`Shard`] and [`Resume`] decide which files a run takes.

pub mod policy;

use std::collections::HashSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::anchor::AnchorState;
use crate::provenance::C2paState;
use crate::report::FileReport;
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
            let codes = c2pa.map(|c| c.codes.join(", ")).unwrap_or_default();
            add("c2pa", Verdict::Fail, format!("Content Credentials are invalid ({codes})"));
        }
        (Some(C2paState::Trusted), _) => {}
        (Some(C2paState::Valid), C2paRequirement::Trusted) => {
            add("c2pa", Verdict::Fail, "signed, but the signer does not chain to a trusted root".into())
        }
        (Some(C2paState::Valid), _) if policy.is_some() => {}
        (Some(C2paState::Valid), _) => {
            add("c2pa", Verdict::Warn, "signed, but the signer does not chain to a trusted root".into())
        }
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
        if let Some(source_type) = &c2pa.digital_source_type {
            let name = source_type.rsplit('/').next().unwrap_or(source_type);
            if rules.refused_source_types.iter().any(|t| policy::same_source_type(t, source_type)) {
                add("source-type", Verdict::Fail, format!("digital source type {name} is refused by the policy"));
            } else if !rules.allowed_source_types.is_empty()
                && !rules.allowed_source_types.iter().any(|t| policy::same_source_type(t, source_type))
            {
                add("source-type", Verdict::Fail, format!("digital source type {name} is not among those allowed"));
            }
        } else if !rules.allowed_source_types.is_empty() {
            add("source-type", Verdict::Fail, "no digital source type declared; the policy allows only some".into());
        }
    }

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
    CheckRecord { report, verdict, reasons }
}

/// Adds the detection rule's reason: `score` is the file's synthetic score.
pub fn judge_synthetic(record: &mut CheckRecord, score: Option<f32>, max: Option<f32>) {
    let (Some(score), Some(max)) = (score, max) else { return };
    if score > max {
        record.reasons.push(Reason {
            rule: "synthetic",
            verdict: Verdict::Fail,
            message: format!("synthetic score {score:.3} is above the policy's {max}"),
        });
        record.verdict = Verdict::Fail;
    }
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

/// `--resume FILE`: the paths already in a JSON Lines output, kept as
/// 64-bit hashes so millions of them fit in a few megabytes.
#[derive(Debug, Default)]
pub struct Resume {
    done: HashSet<u64>,
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
        let mut done = HashSet::new();
        let lines: Vec<_> = std::io::BufReader::new(file).lines().collect();
        let last = lines.len();
        for (n, line) in lines.into_iter().enumerate() {
            let line = line.map_err(|source| CheckError::Io { path: path.into(), source })?;
            if line.trim().is_empty() {
                continue;
            }
            let parsed = serde_json::from_str::<serde_json::Value>(&line);
            let record_path = match &parsed {
                Ok(value) => value.get("path").and_then(|p| p.as_str()),
                Err(_) if n + 1 == last => continue,
                Err(_) => None,
            };
            let Some(record_path) = record_path else {
                let reason = parsed.err().map(|e| e.to_string()).unwrap_or_else(|| "no \"path\"".into());
                return Err(CheckError::Resume { path: path.into(), line: n + 1, reason });
            };
            done.insert(path_key(Path::new(record_path)));
        }
        Ok(Self { done })
    }

    pub fn is_done(&self, path: &Path) -> bool {
        self.done.contains(&path_key(path))
    }

    pub fn len(&self) -> usize {
        self.done.len()
    }

    pub fn is_empty(&self) -> bool {
        self.done.is_empty()
    }
}

fn path_key(path: &Path) -> u64 {
    let digest = Sha256::digest(path.as_os_str().as_encoded_bytes());
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
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
        FileReport { path: PathBuf::from("a.jpg"), c2pa, anchors, detection: None }
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
        std::fs::write(&out, "garbage\n{\"path\":\"a.jpg\"}\n").unwrap();
        assert!(Resume::load(&out).unwrap_err().to_string().contains("line 1"));
        assert!(Resume::load(&dir.path().join("none.jsonl")).unwrap().is_empty());
    }
}
