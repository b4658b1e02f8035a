//! Verification: what a file's Content Credentials say, and whether they hold.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use c2pa::{Context, Reader, ValidationState};
use serde::Serialize;
use serde_json::Value;

use super::sign::find_sidecar;
use super::{is_no_manifest, ProvenanceError};
use crate::media::MediaFile;

/// The verdict on a file's C2PA manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum C2paState {
    /// Signature and hashes hold and the signer chains to a trust anchor.
    Trusted,
    /// Signature and hashes hold; the signer is not among the trust anchors.
    Valid,
    /// Something does not hold: see `codes`.
    Invalid,
    /// No manifest.
    Absent,
}

impl C2paState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trusted => "trusted",
            Self::Valid => "valid",
            Self::Invalid => "invalid",
            Self::Absent => "absent",
        }
    }

    /// Whether `vouch verify` counts this state as passing.
    pub fn passes(self) -> bool {
        matches!(self, Self::Trusted | Self::Valid)
    }
}

/// One ingredient of the active manifest.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct IngredientSummary {
    pub title: Option<String>,
    pub relationship: String,
    pub format: Option<String>,
    /// Whether the ingredient carried its own manifest.
    pub has_manifest: bool,
    /// What the validator recorded for the ingredient's manifest when it was
    /// added: `invalid` when it recorded a failure, `trusted` or `valid`
    /// otherwise, absent when the ingredient had no manifest.
    #[serde(default)]
    pub state: Option<C2paState>,
    /// The failure codes recorded for the ingredient's manifest.
    #[serde(default)]
    pub codes: Vec<String>,
}

/// A digital source type declared somewhere in a file's provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DeclaredSource {
    /// The IPTC (or C2PA) source type, as the manifest wrote it.
    #[serde(rename = "type")]
    pub source_type: String,
    /// Label of the manifest that declares it.
    pub manifest: String,
    /// The action that carries it, e.g. `c2pa.created`.
    pub action: String,
}

impl DeclaredSource {
    /// "AI-generated content" or "synthetic content" when that is what the
    /// declaration says.
    pub fn synthetic_words(&self) -> Option<&'static str> {
        super::source_type::synthetic_words(&self.source_type)
    }
}

/// A manifest in a file's history whose recorded validation failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct InvalidIngredient {
    pub title: Option<String>,
    /// Label of the manifest that lists the ingredient.
    pub manifest: String,
    pub codes: Vec<String>,
}

/// What `vouch verify` reports about a file's C2PA manifest.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct C2paReport {
    pub state: C2paState,
    /// Common name of the signing certificate.
    pub signer: Option<String>,
    /// SHA-256 of the signing certificate (DER), hex: what policies pin.
    pub signer_sha256: Option<String>,
    /// Organisation of the certificate's issuer.
    pub issuer: Option<String>,
    /// When the claim was signed (RFC 3339), from a trusted timestamp if any.
    pub signed_at: Option<String>,
    pub alg: Option<String>,
    /// Failure codes from the C2PA validator, e.g. `assertion.dataHash.mismatch`.
    pub codes: Vec<String>,
    pub actions: Vec<String>,
    /// The active manifest's first declared source type (kept for
    /// compatibility; `declared_sources` is what policies judge).
    pub digital_source_type: Option<String>,
    /// Every source type declared anywhere in the provenance: each action of
    /// the active manifest and, recursively, of every ingredient manifest.
    #[serde(default)]
    pub declared_sources: Vec<DeclaredSource>,
    pub ingredients: Vec<IngredientSummary>,
    /// Ingredients anywhere in the history whose manifests were recorded as
    /// invalid when they were added (`vouch.ingredient.invalid`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalid_ingredients: Vec<InvalidIngredient>,
    pub title: Option<String>,
    pub claim_generator: Option<String>,
    /// Label of the active manifest.
    pub manifest: Option<String>,
    /// Whether the manifest came from a `FILE.c2pa` sidecar.
    pub sidecar: bool,
    /// When a file has an embedded manifest *and* a sidecar: the sidecar's
    /// own report, beside the embedded verdict that stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecar_manifest: Option<Box<C2paReport>>,
    /// Why a manifest could not be validated at all, when that happened.
    pub reason: Option<String>,
    /// For a `trusted` verdict: the anchor the signer chains to and its list.
    #[serde(default)]
    pub trust: Option<crate::trust::TrustSource>,
    /// The RFC 3161 timestamp on the signature, when there is one.
    #[serde(default)]
    pub timestamp: Option<Timestamp>,
    /// vouch's rule, beyond C2PA: the confirmed anchor whose time proves
    /// the file existed while its since-expired signing certificate was valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_evidence: Option<TimeEvidence>,
    /// The signer's certificate chain (DER, leaf first), to name its anchor.
    #[serde(skip)]
    pub signer_chain: Vec<Vec<u8>>,
    /// Whether the validator found the signer chains to an anchor (even if
    /// its certificate has expired).
    #[serde(skip)]
    pub signer_chain_trusted: bool,
}

/// A public chain's block time that stands in for a trusted timestamp.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TimeEvidence {
    /// `bitcoin` (an OpenTimestamps proof) or `evm`.
    pub kind: String,
    pub block: Option<u64>,
    pub time: String,
}

/// An RFC 3161 timestamp on a claim signature, as the validator judged it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Timestamp {
    /// The time the authority attested (RFC 3339), when the validator read it.
    pub time: Option<String>,
    /// Common name of the time-stamping authority's certificate.
    pub tsa: Option<String>,
    /// Whether the authority chains to the TSA trust list or a local anchor.
    pub trusted: bool,
}

impl C2paReport {
    /// The declarations of AI-generated or synthetic content in the history.
    pub fn synthetic_declarations(&self) -> impl Iterator<Item = (&DeclaredSource, &'static str)> {
        self.declared_sources.iter().filter_map(|d| d.synthetic_words().map(|w| (d, w)))
    }

    /// "trusted: Google C2PA Root CA G3, C2PA Trust List" for a trusted
    /// verdict whose anchor is known.
    pub fn trust_words(&self) -> Option<String> {
        let source = self.trust.as_ref().filter(|_| self.state == C2paState::Trusted)?;
        Some(format!("trusted: {}, {}", source.anchor, source.list_words()))
    }

    /// "time evidence: evm block 12 at 2020-01-10T12:00:00Z (vouch's rule,
    /// beyond C2PA)" when an anchor stands in for a timestamp.
    pub fn time_evidence_words(&self) -> Option<String> {
        let e = self.time_evidence.as_ref()?;
        let block = e.block.map(|b| format!(" block {b}")).unwrap_or_default();
        Some(format!(
            "time evidence: {}{block} at {} inside the expired certificate's validity (vouch's rule, beyond C2PA)",
            e.kind, e.time
        ))
    }

    /// "timestamp 2024-08-06T21:53:37+00:00 by DigiCert Timestamp 2023
    /// (trusted)", or with "(untrusted time-stamping authority)".
    pub fn timestamp_words(&self) -> Option<String> {
        let ts = self.timestamp.as_ref()?;
        let mut words = String::from("timestamp");
        if let Some(time) = &ts.time {
            words.push_str(&format!(" {time}"));
        }
        if let Some(tsa) = &ts.tsa {
            words.push_str(&format!(" by {tsa}"));
        }
        words.push_str(if ts.trusted { " (trusted)" } else { " (untrusted time-stamping authority)" });
        Some(words)
    }

    fn empty(state: C2paState) -> Self {
        Self {
            state,
            signer: None,
            signer_sha256: None,
            issuer: None,
            signed_at: None,
            alg: None,
            codes: Vec::new(),
            actions: Vec::new(),
            digital_source_type: None,
            declared_sources: Vec::new(),
            ingredients: Vec::new(),
            invalid_ingredients: Vec::new(),
            title: None,
            claim_generator: None,
            manifest: None,
            sidecar: false,
            sidecar_manifest: None,
            reason: None,
            trust: None,
            timestamp: None,
            time_evidence: None,
            signer_chain: Vec::new(),
            signer_chain_trusted: false,
        }
    }
}

/// A manifest store as c2pa opened it: a reader, nothing (no manifest), or
/// the reason a manifest that is there could not be parsed.
pub(crate) struct Opened {
    pub reader: Option<Reader>,
    pub failure: Option<c2pa::Error>,
}

/// Opens the manifest store embedded in `file`, or the one in `sidecar`
/// (checked against the file's bytes).
pub(crate) fn open_store(
    file: &MediaFile,
    sidecar: Option<&Path>,
    context: &Arc<Context>,
) -> Result<Opened, ProvenanceError> {
    let io = |source| ProvenanceError::Io { path: file.path.clone(), source };
    let mime = file.format.mime();
    let stream = File::open(&file.path).map_err(io)?;
    let result = match sidecar {
        Some(sidecar) => {
            let manifest =
                std::fs::read(sidecar).map_err(|source| ProvenanceError::Io { path: sidecar.to_path_buf(), source })?;
            Reader::from_shared_context(context).with_manifest_data_and_stream(&manifest, mime, stream)
        }
        None => Reader::from_shared_context(context).with_stream(mime, stream),
    };
    match result {
        Ok(reader) => Ok(Opened { reader: Some(reader), failure: None }),
        Err(e) if is_no_manifest(&e) => Ok(Opened { reader: None, failure: None }),
        Err(c2pa::Error::IoError(source)) => Err(io(source)),
        Err(e @ (c2pa::Error::InvalidAsset(_) | c2pa::Error::UnsupportedType)) => {
            Err(ProvenanceError::Unreadable { path: file.path.clone(), format: mime, reason: e.to_string() })
        }
        Err(e) => Ok(Opened { reader: None, failure: Some(e) }),
    }
}

/// Opens the store a person means by "the file's credentials": the embedded
/// one, or the sidecar's when nothing is embedded. The flag says which.
pub(crate) fn read_store(file: &MediaFile, context: &Arc<Context>) -> Result<(Opened, bool), ProvenanceError> {
    let embedded = open_store(file, None, context)?;
    if embedded.reader.is_some() || embedded.failure.is_some() {
        return Ok((embedded, false));
    }
    match find_sidecar(&file.path) {
        Some(sidecar) => Ok((open_store(file, Some(&sidecar), context)?, true)),
        None => Ok((embedded, false)),
    }
}

/// Verifies the C2PA manifest of one media file against the context's anchors.
///
/// A file with both an embedded manifest and a sidecar gets both verified:
/// the embedded verdict stands, the sidecar's is reported beside it, and a
/// sidecar that does not hold is a warning (`vouch.sidecar.mismatch`), so
/// neither can hide the other.
pub fn verify_file(file: &MediaFile, context: &Arc<Context>) -> Result<C2paReport, ProvenanceError> {
    let embedded = report_of_opened(open_store(file, None, context)?, false);
    let Some(sidecar) = find_sidecar(&file.path) else { return Ok(embedded) };
    let beside = report_of_opened(open_store(file, Some(&sidecar), context)?, true);
    if embedded.state == C2paState::Absent && embedded.reason.is_none() {
        return Ok(beside);
    }
    let mut report = embedded;
    if !beside.state.passes() {
        report.codes.push(SIDECAR_MISMATCH_CODE.to_string());
    }
    report.sidecar_manifest = Some(Box::new(beside));
    Ok(report)
}

fn report_of_opened(opened: Opened, sidecar: bool) -> C2paReport {
    let Opened { reader, failure } = opened;
    let Some(reader) = reader else {
        // A manifest that is there but cannot even be parsed is invalid, not absent.
        return match failure {
            Some(c2pa::Error::RemoteManifestUrl(url)) => C2paReport {
                reason: Some(format!("the manifest is stored remotely at {url}; pass --allow-remote to fetch it")),
                ..C2paReport::empty(C2paState::Absent)
            },
            Some(e) => C2paReport { sidecar, ..unparseable(&e) },
            None => C2paReport::empty(C2paState::Absent),
        };
    };
    report_of(&reader, sidecar)
}

/// The report on a manifest store that c2pa could open.
pub(crate) fn report_of(reader: &Reader, sidecar: bool) -> C2paReport {
    let mut state = match reader.validation_state() {
        ValidationState::Trusted => C2paState::Trusted,
        ValidationState::Valid => C2paState::Valid,
        ValidationState::Invalid => C2paState::Invalid,
    };
    let signer_chain = reader
        .active_manifest()
        .and_then(|m| m.signature_info())
        .map(|info| chain_der(info.cert_chain()))
        .unwrap_or_default();
    let leaf = signer_chain.first().cloned();
    let mut codes = failure_codes(reader);
    let mut reason = None;
    // A signer that issued its own certificate vouches only for itself:
    // listing it as a trust anchor must not make its files "trusted".
    if state == C2paState::Trusted && leaf.as_deref().is_some_and(is_self_issued) {
        state = C2paState::Valid;
        codes.push(SELF_SIGNED_CODE.to_string());
        reason = Some("the signing certificate is self-signed: no authority vouches for the signer".into());
    }
    let store: Value = serde_json::from_str(&reader.json()).unwrap_or(Value::Null);
    let active_label = reader.active_label().map(str::to_string);
    let active = active_label.as_ref().and_then(|l| store["manifests"].get(l)).cloned().unwrap_or(Value::Null);
    let sig = &active["signature_info"];
    let text = |v: &Value| v.as_str().map(str::to_string);

    let mut actions = Vec::new();
    let mut digital_source_type = None;
    for action in manifest_actions(&active) {
        if let Some(name) = action["action"].as_str() {
            actions.push(name.to_string());
        }
        if digital_source_type.is_none() {
            digital_source_type = text(&action["digitalSourceType"]);
        }
    }
    let ingredients = active["ingredients"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            let has_manifest = i.get("active_manifest").is_some_and(|m| !m.is_null());
            let codes = recorded_failures(i);
            let state = has_manifest.then(|| recorded_state(i, &codes));
            IngredientSummary {
                title: text(&i["title"]),
                relationship: text(&i["relationship"]).unwrap_or_else(|| "componentOf".into()),
                format: text(&i["format"]),
                has_manifest,
                state,
                codes,
            }
        })
        .collect();
    let history = active_label.as_deref().map(|label| History::walk(&store, label)).unwrap_or_default();
    if !history.invalid_ingredients.is_empty() {
        codes.push(INGREDIENT_INVALID_CODE.to_string());
    }
    let claim_generator = text(&active["claim_generator"]).or_else(|| {
        active["claim_generator_info"].as_array().and_then(|infos| infos.first()).map(|info| {
            match (info["name"].as_str(), info["version"].as_str()) {
                (Some(n), Some(v)) => format!("{n}/{v}"),
                (Some(n), None) => n.to_string(),
                _ => String::new(),
            }
        })
    });

    let timestamp = timestamp_of(reader, text(&sig["time"]));
    // A time only an untrusted authority attests is no signing time.
    let signed_at = text(&sig["time"]).filter(|_| timestamp.as_ref().is_none_or(|t| t.trusted));
    C2paReport {
        state,
        signed_at,
        signer: text(&sig["common_name"]),
        signer_sha256: leaf.as_deref().map(|der| {
            use sha2::{Digest, Sha256};
            hex::encode(Sha256::digest(der))
        }),
        issuer: text(&sig["issuer"]),
        alg: text(&sig["alg"]).map(|a| super::codes::alg_name(&a)),
        codes,
        actions,
        digital_source_type,
        declared_sources: history.declared_sources,
        ingredients,
        invalid_ingredients: history.invalid_ingredients,
        title: text(&active["title"]),
        claim_generator,
        manifest: active_label,
        sidecar,
        sidecar_manifest: None,
        reason,
        trust: None,
        timestamp,
        time_evidence: None,
        signer_chain,
        signer_chain_trusted: reader
            .validation_results()
            .and_then(|r| r.active_manifest())
            .is_some_and(|a| a.success().iter().any(|s| s.code() == "signingCredential.trusted")),
    }
}

/// The failure code of a signing certificate that has expired.
pub const EXPIRED_CODE: &str = "signingCredential.expired";

/// vouch's rule, beyond C2PA: a file whose only failure is that its signing
/// certificate has since expired, with no trusted timestamp, but whose
/// signer the validator found chaining to an anchor, is `trusted` when a
/// confirmed anchor of the file's exact bytes falls inside the
/// certificate's validity: the chain's block time proves the signature
/// existed while the certificate was valid. `anchors` are (kind, block,
/// RFC 3339 time) of confirmed anchors.
pub fn apply_anchor_time_evidence(report: &mut C2paReport, anchors: &[(&str, Option<u64>, &str)]) {
    let only_expired = report.codes.len() == 1 && report.codes[0] == EXPIRED_CODE;
    let timestamped = report.timestamp.as_ref().is_some_and(|t| t.trusted);
    if report.state != C2paState::Invalid || !only_expired || timestamped || !report.signer_chain_trusted {
        return;
    }
    let Some((not_before, not_after)) = report.signer_chain.first().and_then(|der| validity(der)) else { return };
    let inside = anchors.iter().find(|(_, _, time)| {
        chrono::DateTime::parse_from_rfc3339(time)
            .is_ok_and(|t| t.timestamp() >= not_before && t.timestamp() <= not_after)
    });
    if let Some((kind, block, time)) = inside {
        let kind = if *kind == "ots" { "bitcoin" } else { *kind };
        report.state = C2paState::Trusted;
        report.codes.clear();
        report.reason = Some(format!(
            "vouch's rule, beyond C2PA: the signing certificate has expired and no trusted timestamp says when it \
             signed, but a confirmed {kind} anchor of this file at {time} falls inside its validity"
        ));
        report.time_evidence = Some(TimeEvidence { kind: kind.to_string(), block: *block, time: time.to_string() });
    }
}

/// A certificate's validity as Unix seconds.
fn validity(der: &[u8]) -> Option<(i64, i64)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some((cert.validity().not_before.timestamp(), cert.validity().not_after.timestamp()))
}

/// What the validator said about the signature's timestamp, if it has one.
fn timestamp_of(reader: &Reader, time: Option<String>) -> Option<Timestamp> {
    let active = reader.validation_results()?.active_manifest()?;
    let statuses = active.success().iter().chain(active.informational()).chain(active.failure());
    let mut found: Option<Timestamp> = None;
    for status in statuses {
        let trusted = match status.code() {
            "timeStamp.trusted" => true,
            "timeStamp.untrusted" | "timeStamp.mismatch" | "timeStamp.malformed" | "timeStamp.outsideValidity" => false,
            _ => continue,
        };
        let tsa = status
            .explanation()
            .and_then(|e| e.split_once(": ").map(|(_, cn)| cn.trim()))
            // c2pa 0.91 appends which of its lists matched; the name is before it.
            .map(|cn| cn.split_once(", trust list:").map_or(cn, |(name, _)| name).trim().to_string())
            .filter(|cn| !cn.is_empty());
        let entry = found.get_or_insert(Timestamp { time: None, tsa: None, trusted: false });
        entry.trusted |= trusted;
        if entry.tsa.is_none() || trusted {
            entry.tsa = tsa.or(entry.tsa.take());
        }
    }
    if let Some(entry) = found.as_mut() {
        entry.time = time;
    }
    found
}

/// vouch's own code for a signer that chains only to the TSA trust list.
pub const TSA_ANCHOR_ONLY_CODE: &str = "vouch.signingCredential.tsaAnchorOnly";

/// Names the anchor behind a `trusted` verdict (in `report` and the
/// sidecar's report beside it). A signer whose only anchor is on the TSA
/// list is not trusted: that list vouches for time-stamping authorities,
/// not for anyone's claims.
pub fn attribute_trust(report: &mut C2paReport, anchors: &crate::trust::TrustAnchors) {
    use crate::trust::Attribution;
    if let Some(beside) = report.sidecar_manifest.as_deref_mut() {
        attribute_trust(beside, anchors);
    }
    if report.state != C2paState::Trusted {
        return;
    }
    match anchors.attribute(&report.signer_chain) {
        Attribution::Signer(source) => report.trust = Some(source),
        Attribution::TsaOnly(_) => {
            report.state = C2paState::Valid;
            report.codes.push(TSA_ANCHOR_ONLY_CODE.to_string());
            report.reason = Some(
                "the signer chains only to the C2PA TSA Trust List, which vouches for time-stamping authorities, \
                 not for signers"
                    .into(),
            );
        }
        Attribution::Unknown => {}
    }
}

/// vouch's own code for a signer whose certificate is self-signed.
pub const SELF_SIGNED_CODE: &str = "vouch.signingCredential.selfSigned";
/// vouch's own code for a sidecar that does not hold beside an embedded manifest.
pub const SIDECAR_MISMATCH_CODE: &str = "vouch.sidecar.mismatch";
/// vouch's own code for a history that holds a manifest recorded as invalid.
pub const INGREDIENT_INVALID_CODE: &str = "vouch.ingredient.invalid";

/// The actions of a manifest (as c2pa's JSON shows it), from every actions
/// assertion: `c2pa.actions` (v1) and `c2pa.actions.v2`.
fn manifest_actions(manifest: &Value) -> impl Iterator<Item = &Value> {
    manifest["assertions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["label"].as_str().is_some_and(|l| l == "c2pa.actions" || l.starts_with("c2pa.actions.v")))
        .flat_map(|a| a["data"]["actions"].as_array().into_iter().flatten())
}

/// What a file's whole provenance declares, gathered from the active
/// manifest down through every ingredient manifest in the store.
#[derive(Debug, Default)]
struct History {
    declared_sources: Vec<DeclaredSource>,
    invalid_ingredients: Vec<InvalidIngredient>,
}

impl History {
    fn walk(store: &Value, active: &str) -> Self {
        let mut history = Self::default();
        let mut seen = std::collections::HashSet::new();
        let mut pending = vec![active.to_string()];
        // Each manifest is visited once, so a store whose ingredients refer
        // to each other in a loop still ends.
        while let Some(label) = pending.pop() {
            if !seen.insert(label.clone()) {
                continue;
            }
            let Some(manifest) = store["manifests"].get(&label) else { continue };
            for action in manifest_actions(manifest) {
                if let Some(source_type) = action["digitalSourceType"].as_str() {
                    history.declared_sources.push(DeclaredSource {
                        source_type: source_type.to_string(),
                        manifest: label.clone(),
                        action: action["action"].as_str().unwrap_or_default().to_string(),
                    });
                }
            }
            for ingredient in manifest["ingredients"].as_array().into_iter().flatten() {
                let codes = recorded_failures(ingredient);
                if !codes.is_empty() {
                    history.invalid_ingredients.push(InvalidIngredient {
                        title: ingredient["title"].as_str().map(str::to_string),
                        manifest: label.clone(),
                        codes,
                    });
                }
                if let Some(child) = ingredient["active_manifest"].as_str() {
                    pending.push(child.to_string());
                }
            }
        }
        history
    }
}

/// Success and informational codes of the C2PA specification: a legacy
/// ingredient's `validation_status` may list them beside failures.
const NOT_FAILURES: &[&str] = &[
    "claimSignature.validated",
    "claimSignature.insideValidity",
    "signingCredential.trusted",
    "signingCredential.untrusted",
    "signingCredential.ocsp.notRevoked",
    "signingCredential.ocsp.skipped",
    "signingCredential.ocsp.inaccessible",
    "timeStamp.trusted",
    "timeStamp.validated",
    "timeStamp.untrusted",
    "assertion.hashedURI.match",
    "assertion.dataHash.match",
    "assertion.bmffHash.match",
    "assertion.boxesHash.match",
    "assertion.collectionHash.match",
    "assertion.multiAssetHash.match",
    "assertion.accessible",
    "ingredient.manifest.validated",
    "ingredient.claimSignature.validated",
    "ingredient.unknownProvenance",
    "algorithm.deprecated",
];

/// The failure codes the validator recorded for an ingredient's manifest
/// when it was added. An untrusted signer in the history is not a failure:
/// it says who signed, not that something is false.
fn recorded_failures(ingredient: &Value) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    let results = &ingredient["validation_results"]["activeManifest"]["failure"];
    let legacy = &ingredient["validation_status"];
    for status in results.as_array().into_iter().flatten().chain(legacy.as_array().into_iter().flatten()) {
        if let Some(code) = status["code"].as_str() {
            if !NOT_FAILURES.contains(&code) && !codes.iter().any(|c| c == code) {
                codes.push(code.to_string());
            }
        }
    }
    codes
}

/// The state recorded for an ingredient that has a manifest.
fn recorded_state(ingredient: &Value, failures: &[String]) -> C2paState {
    let trusted = ingredient["validation_results"]["activeManifest"]["success"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["code"] == "signingCredential.trusted");
    match (failures.is_empty(), trusted) {
        (false, _) => C2paState::Invalid,
        (true, true) => C2paState::Trusted,
        (true, false) => C2paState::Valid,
    }
}

/// The DER certificates of a PEM chain, in order.
fn chain_der(pem_chain: &str) -> Vec<Vec<u8>> {
    x509_parser::pem::Pem::iter_from_buffer(pem_chain.as_bytes())
        .map_while(Result::ok)
        .filter(|p| p.label == "CERTIFICATE")
        .map(|p| p.contents)
        .collect()
}

/// Whether a certificate is its own issuer.
fn is_self_issued(der: &[u8]) -> bool {
    x509_parser::parse_x509_certificate(der).is_ok_and(|(_, cert)| cert.subject().as_raw() == cert.issuer().as_raw())
}

/// The validator's failure codes for the active manifest and its ingredients,
/// without duplicates, in the order reported.
fn failure_codes(reader: &Reader) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    let mut push = |code: &str| {
        if !codes.iter().any(|c| c == code) {
            codes.push(code.to_string());
        }
    };
    if let Some(results) = reader.validation_results() {
        if let Some(active) = results.active_manifest() {
            active.failure().iter().for_each(|s| push(s.code()));
        }
        for delta in results.ingredient_deltas().into_iter().flatten() {
            delta.validation_deltas().failure().iter().for_each(|s| push(s.code()));
        }
    } else {
        for status in reader.validation_status().into_iter().flatten() {
            push(status.code());
        }
    }
    codes
}

/// The report on a manifest that is there but cannot even be parsed: invalid.
pub(crate) fn unparseable(e: &c2pa::Error) -> C2paReport {
    C2paReport {
        codes: vec![failure_code(e).to_string()],
        reason: Some(e.to_string()),
        ..C2paReport::empty(C2paState::Invalid)
    }
}

/// A C2PA-style code for a manifest that could not be parsed at all.
fn failure_code(e: &c2pa::Error) -> &'static str {
    match e {
        c2pa::Error::JumbfParseError(_) | c2pa::Error::JumbfBoxNotFound => "manifest.malformed",
        c2pa::Error::ClaimMissing { .. } => "claim.missing",
        c2pa::Error::RemoteManifestUrl(_) | c2pa::Error::RemoteManifestFetch(_) => "manifest.inaccessible",
        _ => "general.error",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const AI: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";

    fn actions(label: &str, source_type: &str) -> Value {
        json!({ "label": label, "data": { "actions": [ { "action": "c2pa.created", "digitalSourceType": source_type } ] } })
    }

    #[test]
    fn both_actions_assertion_versions_declare_a_source_type() {
        for label in ["c2pa.actions", "c2pa.actions.v2"] {
            let store = json!({ "manifests": { "m": { "assertions": [ actions(label, AI) ] } } });
            let history = History::walk(&store, "m");
            assert_eq!(history.declared_sources.len(), 1, "{label}");
            assert_eq!(history.declared_sources[0].source_type, AI);
            assert_eq!(history.declared_sources[0].action, "c2pa.created");
        }
        // Other assertions that happen to hold an `actions` list declare nothing.
        for label in ["c2pa.actionsx", "stds.schema-org.CreativeWork", "c2pa.action"] {
            let store = json!({ "manifests": { "m": { "assertions": [ actions(label, AI) ] } } });
            assert!(History::walk(&store, "m").declared_sources.is_empty(), "{label}");
        }
    }

    #[test]
    fn history_walks_every_ingredient_once_and_keeps_recorded_failures() {
        let store = json!({ "manifests": {
            "top": { "assertions": [], "ingredients": [
                { "title": "parent.jpg", "active_manifest": "parent",
                  "validation_results": { "activeManifest": { "failure": [
                      { "code": "assertion.dataHash.mismatch" },
                      { "code": "assertion.dataHash.mismatch" } ] } } } ] },
            "parent": { "assertions": [ actions("c2pa.actions.v2", AI) ], "ingredients": [
                { "title": "loop", "active_manifest": "top",
                  "validation_status": [ { "code": "signingCredential.untrusted" } ] } ] }
        } });
        let history = History::walk(&store, "top");
        assert_eq!(history.declared_sources.len(), 1);
        assert_eq!(history.declared_sources[0].manifest, "parent");
        assert_eq!(history.invalid_ingredients.len(), 1, "an untrusted signer is not a failure");
        assert_eq!(history.invalid_ingredients[0].title.as_deref(), Some("parent.jpg"));
        assert_eq!(history.invalid_ingredients[0].codes, ["assertion.dataHash.mismatch"]);
    }

    #[test]
    fn a_recorded_ingredient_state_follows_its_codes() {
        let trusted = json!({ "validation_results": { "activeManifest": {
            "success": [ { "code": "signingCredential.trusted" } ] } } });
        assert_eq!(recorded_state(&trusted, &[]), C2paState::Trusted);
        assert_eq!(recorded_state(&json!({}), &[]), C2paState::Valid);
        assert_eq!(recorded_state(&trusted, &["claimSignature.mismatch".into()]), C2paState::Invalid);
        let legacy = json!({ "validation_status": [
            { "code": "claimSignature.validated" }, { "code": "claimSignature.mismatch" } ] });
        assert_eq!(recorded_failures(&legacy), ["claimSignature.mismatch"]);
    }

    #[test]
    fn an_unparseable_manifest_is_invalid_with_its_code_and_reason() {
        let report = unparseable(&c2pa::Error::JumbfBoxNotFound);
        assert_eq!(report.state, C2paState::Invalid);
        assert_eq!(report.codes, ["manifest.malformed"]);
        assert!(report.reason.as_deref().is_some_and(|r| !r.is_empty()));
        assert!(!report.sidecar);
        assert_eq!(failure_code(&c2pa::Error::ClaimMissing { label: "x".into() }), "claim.missing");
        assert_eq!(failure_code(&c2pa::Error::RemoteManifestUrl("u".into())), "manifest.inaccessible");
        assert_eq!(failure_code(&c2pa::Error::NotFound), "general.error");
    }
}
