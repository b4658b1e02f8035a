//! Verification: what a file's Content Credentials say, and whether they hold.

use c2pa::{Reader, ValidationState};
use serde::Serialize;
use serde_json::Value;
use std::fs::File;
use std::path::Path;

use super::sign::find_sidecar;
use super::{is_no_manifest, ProvenanceError, Validator};
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
    /// Label of the ingredient's own manifest, when it has one in the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingredient_manifest: Option<String>,
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
    /// The C2PA Conformance Program's provenance signals of the active
    /// manifest and of every ingredient manifest in the store, as the
    /// official signals rubric reports them on the file's crJSON.
    #[serde(default)]
    pub signals: Vec<super::signals::ManifestSignals>,
    /// The signer's certificate chain (DER, leaf first), to name its anchor.
    #[serde(skip)]
    pub signer_chain: Vec<Vec<u8>>,
    /// The manifest store's crJSON as c2pa validated it, which asset rubrics
    /// (`check --rubric`) are evaluated on. Not in records (`inspect --crjson`
    /// prints it).
    #[serde(skip)]
    pub crjson: Option<serde_json::Value>,
    /// Whether the validator found the claim signature itself holds
    /// (`claimSignature.validated`), whatever it says of the certificate.
    #[serde(skip)]
    pub claim_signature_validated: bool,
    /// Whether the manifest sits in the file's own bytes (embedded, not a
    /// sidecar nor fetched from elsewhere): what an anchor of the file covers.
    #[serde(skip)]
    pub in_anchored_bytes: bool,
    /// Whether the validator's only objections are the active manifest's
    /// expired signer (and the untrusted-now that follows), none about any
    /// ingredient.
    #[serde(skip)]
    pub only_signer_expired: bool,
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
            signals: Vec::new(),
            trust: None,
            timestamp: None,
            time_evidence: None,
            signer_chain: Vec::new(),
            crjson: None,
            claim_signature_validated: false,
            in_anchored_bytes: false,
            only_signer_expired: false,
        }
    }
}

/// A manifest store as c2pa opened it: a reader, nothing (no manifest), or
/// the reason a manifest that is there could not be parsed.
pub(crate) struct Opened {
    pub reader: Option<Reader>,
    pub failure: Option<c2pa::Error>,
}

/// The bytes of a media file small enough to validate in memory (up to
/// [`super::sign::IN_MEMORY_LIMIT`]), read once for every reader of a run:
/// the validator may open the file twice (a parse, then the validating
/// read), c2pa reads it in many small pieces, and the declared-origin
/// readers scan it too. `None` for a larger file, which is streamed.
pub fn read_small(file: &MediaFile) -> Result<Option<Vec<u8>>, ProvenanceError> {
    let io = |source| ProvenanceError::Io { path: file.path.clone(), source };
    let len = std::fs::metadata(&file.path).map_err(io)?.len();
    if len <= super::sign::IN_MEMORY_LIMIT {
        Ok(Some(std::fs::read(&file.path).map_err(io)?))
    } else {
        Ok(None)
    }
}

/// Opens the manifest store embedded in `file`, or the one in `sidecar`
/// (checked against the file's bytes), from `in_memory` when the file was
/// read ([`read_small`]), else from disk.
pub(crate) fn open_store(
    file: &MediaFile,
    in_memory: Option<&[u8]>,
    sidecar: Option<&Path>,
    validator: &Validator,
) -> Result<Opened, ProvenanceError> {
    let io = |source| ProvenanceError::Io { path: file.path.clone(), source };
    let mime = file.format.mime();
    let manifest = match sidecar {
        Some(sidecar) => {
            Some(std::fs::read(sidecar).map_err(|source| ProvenanceError::Io { path: sidecar.to_path_buf(), source })?)
        }
        None => None,
    };
    let result = validator.read(|context| {
        let reader = Reader::from_shared_context(context);
        match (&manifest, &in_memory) {
            (Some(manifest), Some(bytes)) => {
                reader.with_manifest_data_and_stream(manifest, mime, std::io::Cursor::new(*bytes))
            }
            (Some(manifest), None) => reader.with_manifest_data_and_stream(manifest, mime, File::open(&file.path)?),
            (None, Some(bytes)) => reader.with_stream(mime, std::io::Cursor::new(*bytes)),
            (None, None) => reader.with_stream(mime, File::open(&file.path)?),
        }
    });
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
pub(crate) fn read_store(file: &MediaFile, validator: &Validator) -> Result<(Opened, bool), ProvenanceError> {
    let bytes = read_small(file)?;
    let embedded = open_store(file, bytes.as_deref(), None, validator)?;
    if embedded.reader.is_some() || embedded.failure.is_some() {
        return Ok((embedded, false));
    }
    match find_sidecar(&file.path) {
        Some(sidecar) => Ok((open_store(file, bytes.as_deref(), Some(&sidecar), validator)?, true)),
        None => Ok((embedded, false)),
    }
}

/// Verifies the C2PA manifest of one media file against the context's anchors.
///
/// A file with both an embedded manifest and a sidecar gets both verified:
/// the embedded verdict stands, the sidecar's is reported beside it, and a
/// sidecar that does not hold is a warning (`vouch.sidecar.mismatch`), so
/// neither can hide the other.
pub fn verify_file(file: &MediaFile, validator: &Validator) -> Result<C2paReport, ProvenanceError> {
    verify_read(file, read_small(file)?.as_deref(), validator)
}

/// [`verify_file`] on a file whose bytes the caller has already read
/// ([`read_small`]; `None` for a file streamed from disk).
pub fn verify_read(
    file: &MediaFile,
    in_memory: Option<&[u8]>,
    validator: &Validator,
) -> Result<C2paReport, ProvenanceError> {
    let embedded = report_of_opened(open_store(file, in_memory, None, validator)?, false);
    let Some(sidecar) = find_sidecar(&file.path) else { return Ok(embedded) };
    let beside = report_of_opened(open_store(file, in_memory, Some(&sidecar), validator)?, true);
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
    // The store as c2pa's JSON shows it, built as a value: `Reader::json`
    // serialises this same value to a string (after turning byte arrays into
    // base64 and putting back post-validation values, which vouch never
    // runs), and parsing that string back cost more than the rest of this
    // function. No field read below is a byte array.
    let store: Value = serde_json::to_value(reader).unwrap_or(Value::Null);
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
    let crjson = reader.to_crjson_value().ok();
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
        signals: crjson.as_ref().map(super::signals::signals_of).unwrap_or_default(),
        crjson,
        trust: None,
        timestamp,
        time_evidence: None,
        signer_chain,
        claim_signature_validated: reader
            .validation_results()
            .and_then(|r| r.active_manifest())
            .is_some_and(|a| a.success().iter().any(|s| s.code() == "claimSignature.validated")),
        in_anchored_bytes: !sidecar && reader.is_embedded() && reader.remote_url().is_none(),
        only_signer_expired: only_signer_expired(reader),
    }
}

/// The failure code of a signing certificate that has expired.
pub const EXPIRED_CODE: &str = "signingCredential.expired";
/// The failure code c2pa adds when a signer does not chain to an anchor
/// *now*: an expired certificate always gets it beside [`EXPIRED_CODE`].
const UNTRUSTED_CODE: &str = "signingCredential.untrusted";

/// Whether the validator objects only to the active manifest's signer
/// having expired (and so being untrusted now): no other failure there, and
/// none in any ingredient.
fn only_signer_expired(reader: &Reader) -> bool {
    let Some(results) = reader.validation_results() else { return false };
    let Some(active) = results.active_manifest() else { return false };
    let codes: Vec<&str> = active.failure().iter().map(|s| s.code()).collect();
    let ingredients_clean =
        results.ingredient_deltas().into_iter().flatten().all(|d| d.validation_deltas().failure().is_empty());
    ingredients_clean
        && codes.contains(&EXPIRED_CODE)
        && codes.iter().all(|c| *c == EXPIRED_CODE || *c == UNTRUSTED_CODE)
}

/// A confirmed anchor of a file's exact bytes, as the time-evidence rule
/// takes it.
#[derive(Debug, Clone, Copy)]
pub struct ConfirmedAnchor<'a> {
    /// `ots` or `evm`, as receipts name them.
    pub kind: &'a str,
    pub block: Option<u64>,
    /// The block's time, RFC 3339.
    pub time: &'a str,
}

/// vouch's rule, beyond C2PA: a file whose signature holds but whose
/// signing certificate has since expired, with no trusted timestamp, is
/// `trusted` when a confirmed anchor of the file's exact bytes has a block
/// time at which c2pa's own checks accept the signer: every certificate of
/// the chain valid then, the chain (signatures, CA constraints, EKUs)
/// reaching one of `trust`'s anchors, and the certificate profile met. The
/// block proves the bytes — manifest and signature included — existed then,
/// which is what a trusted timestamp proves under C2PA's rule.
///
/// It applies only to a manifest embedded in the anchored bytes (not a
/// sidecar, nor one fetched from elsewhere), only when the validator's sole
/// objections are the expiry and the untrusted-now that follows from it,
/// and never to a self-signed signer.
pub fn apply_anchor_time_evidence(
    report: &mut C2paReport,
    anchors: &[ConfirmedAnchor<'_>],
    trust: &crate::trust::TrustAnchors,
) {
    // Checked on the report's codes too: vouch's own (an invalid ingredient
    // in the history, a sidecar that does not hold) are objections as well.
    let only_expired = report.only_signer_expired
        && report.codes.iter().any(|c| c == EXPIRED_CODE)
        && report.codes.iter().all(|c| c == EXPIRED_CODE || c == UNTRUSTED_CODE);
    let timestamped = report.timestamp.as_ref().is_some_and(|t| t.trusted);
    if report.state != C2paState::Invalid
        || !only_expired
        || timestamped
        || !report.claim_signature_validated
        || !report.in_anchored_bytes
        // A self-signed signer vouches only for itself, at any time.
        || report.signer_chain.first().is_none_or(|leaf| is_self_issued(leaf))
    {
        return;
    }
    let mut dated: Vec<(i64, &ConfirmedAnchor<'_>)> = anchors
        .iter()
        .filter_map(|a| chrono::DateTime::parse_from_rfc3339(a.time).ok().map(|t| (t.timestamp(), a)))
        .collect();
    // The earliest block that proves enough is the one to name.
    dated.sort_by_key(|(t, _)| *t);
    let policy = trust.certificate_policy();
    let Some((_, anchor)) = dated.into_iter().find(|(t, _)| signer_acceptable_at(&report.signer_chain, &policy, *t))
    else {
        return;
    };
    let kind = if anchor.kind == "ots" { "bitcoin" } else { anchor.kind };
    report.state = C2paState::Trusted;
    report.codes.clear();
    report.reason = Some(format!(
        "vouch's rule, beyond C2PA: the signing certificate has expired and no trusted timestamp says when it \
         signed, but a confirmed {kind} anchor of this file's bytes at {} falls inside the validity of its \
         certificate chain",
        anchor.time
    ));
    report.time_evidence =
        Some(TimeEvidence { kind: kind.to_string(), block: anchor.block, time: anchor.time.to_string() });
}

/// How long after its recorded time a block may have been made: a Bitcoin
/// block's time need only exceed the median of the eleven before it, so
/// it can trail the real time by an hour or more. A file in that block may
/// have been signed up to then.
pub const BLOCK_TIME_LAG_SECS: i64 = 2 * 60 * 60;

/// Whether c2pa's checks accept the signer chain (DER, leaf first) for a
/// signature that existed in a block dated `block_time` (Unix): every
/// certificate valid from then until [`BLOCK_TIME_LAG_SECS`] later (the
/// signature was made before the block, which may be that much younger
/// than its time), the chain reaching an anchor of `policy` then, and the
/// leaf meeting the certificate profile.
fn signer_acceptable_at(
    chain: &[Vec<u8>],
    policy: &c2pa::crypto::cose::CertificateTrustPolicy,
    block_time: i64,
) -> bool {
    let latest = block_time.saturating_add(BLOCK_TIME_LAG_SECS);
    let (Ok(from), Ok(to)) =
        (x509_parser::time::ASN1Time::from_timestamp(block_time), x509_parser::time::ASN1Time::from_timestamp(latest))
    else {
        return false;
    };
    // c2pa checks validity itself, except for a certificate allowed one by
    // one (it returns before looking at the time): checked here for all.
    let all_valid = chain.iter().all(|der| {
        x509_parser::parse_x509_certificate(der)
            .is_ok_and(|(_, cert)| cert.validity().is_valid_at(from) && cert.validity().is_valid_at(to))
    });
    if !all_valid || policy.check_certificate_trust(&chain[1..], &chain[0], Some(latest)).is_err() {
        return false;
    }
    // c2pa's profile check stops at an expired certificate before its other
    // rules, and takes a signing time only from a timestamp. The validity is
    // settled above, so the profile is checked on a copy of the leaf whose
    // validity is widened to include now: every other byte is the leaf's.
    let Some(widened) = with_validity_widened(&chain[0]) else { return false };
    let mut log = c2pa::status_tracker::StatusTracker::default();
    c2pa::crypto::cose::check_end_entity_certificate_profile(&widened, policy, &mut log, None).is_ok()
}

/// A copy of a certificate whose notBefore and notAfter are replaced by
/// times of the same encoding and length (1950/2000 to 2049 for UTCTime,
/// 0001 to 9999 for GeneralizedTime), so that no length around them
/// changes. Its signature no longer holds: it is for profile checks only.
/// `None` when the validity is not found in the plain DER form.
fn with_validity_widened(der: &[u8]) -> Option<Vec<u8>> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let (not_before, not_after) = (cert.validity().not_before, cert.validity().not_after);
    // The validity is the first SEQUENCE of two times that parses to the
    // certificate's own: scan the DER for it.
    let at = (0..der.len().saturating_sub(32)).find(|&i| {
        der[i] == 0x30
            && matches!(der.get(i + 2), Some(0x17 | 0x18))
            && x509_parser::certificate::Validity::from_der(&der[i..])
                .is_ok_and(|(_, v)| v.not_before == not_before && v.not_after == not_after)
    })?;
    let mut widened = der.to_vec();
    let mut pos = at + 2;
    for edge in 0..2 {
        let (tag, len) = (*widened.get(pos)?, *widened.get(pos + 1)? as usize);
        let replacement: &[u8] = match (tag, len, edge) {
            (0x17, 13, 0) => b"000101000000Z",
            (0x17, 13, _) => b"491231235959Z",
            (0x18, 15, 0) => b"00010101000000Z",
            (0x18, 15, _) => b"99991231235959Z",
            _ => return None,
        };
        widened.get_mut(pos + 2..pos + 2 + len)?.copy_from_slice(replacement);
        pos += 2 + len;
    }
    Some(widened)
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
                        ingredient_manifest: ingredient["active_manifest"].as_str().map(str::to_string),
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
pub(crate) fn chain_der(pem_chain: &str) -> Vec<Vec<u8>> {
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

    /// A fresh 30-day identity: (chain leaf first, root DER, leaf validity).
    fn identity() -> (Vec<Vec<u8>>, Vec<u8>, (i64, i64)) {
        let dir = tempfile::tempdir().unwrap();
        let req = crate::identity::NewIdentity { name: "Unit Reporter".into(), org: None, email: None, days: 30 };
        crate::identity::create(&dir.path().join("id"), &req, None).unwrap();
        let read = |name: &str| std::fs::read(dir.path().join("id").join(name)).unwrap();
        let chain = chain_der(&String::from_utf8(read("signer.pem")).unwrap());
        let root = chain_der(&String::from_utf8(read("root.pem")).unwrap()).remove(0);
        let (_, leaf) = x509_parser::parse_x509_certificate(&chain[0]).unwrap();
        let validity = (leaf.validity().not_before.timestamp(), leaf.validity().not_after.timestamp());
        (chain, root, validity)
    }

    fn policy_anchored_at(root: &[u8]) -> c2pa::crypto::cose::CertificateTrustPolicy {
        let mut policy = c2pa::crypto::cose::CertificateTrustPolicy::default();
        let pem = crate::identity::to_pem(&[root.to_vec()]);
        policy.add_trust_anchors(pem.as_bytes(), "local", c2pa::crypto::cose::TrustAnchorType::Manifest, None).unwrap();
        policy
    }

    #[test]
    fn a_signer_is_acceptable_only_inside_its_validity_and_under_an_anchor() {
        let (chain, root, (not_before, not_after)) = identity();
        let policy = policy_anchored_at(&root);
        assert!(signer_acceptable_at(&chain, &policy, not_before + 60));
        assert!(signer_acceptable_at(&chain, &policy, not_after - BLOCK_TIME_LAG_SECS));
        // The block may be younger than its time: a time just before the
        // expiry does not prove the signature came before it.
        assert!(!signer_acceptable_at(&chain, &policy, not_after - BLOCK_TIME_LAG_SECS + 1), "within the lag");
        assert!(!signer_acceptable_at(&chain, &policy, not_after + 1), "after the expiry");
        assert!(!signer_acceptable_at(&chain, &policy, not_before - 1), "before the certificate existed");
        let unanchored = c2pa::crypto::cose::CertificateTrustPolicy::default();
        assert!(!signer_acceptable_at(&chain, &unanchored, not_before + 60), "no anchor");
        let (_, other_root, _) = identity();
        assert!(!signer_acceptable_at(&chain, &policy_anchored_at(&other_root), not_before + 60), "another root");
    }

    /// The block time lag is two hours: a block dated two hours before the
    /// signer expired proves the signature came in time, one dated a second
    /// later does not.
    #[test]
    fn a_block_proves_a_signature_only_two_hours_or_more_before_the_expiry() {
        let (chain, root, (_, not_after)) = identity();
        let policy = policy_anchored_at(&root);
        assert!(signer_acceptable_at(&chain, &policy, not_after - 7200));
        assert!(!signer_acceptable_at(&chain, &policy, not_after - 7199));
    }

    /// vouch's anchor-time rule turns an expired signer's `invalid` into
    /// `trusted` only when nothing but the expiry objects, no trusted
    /// timestamp already speaks, the signature itself holds, the manifest
    /// is in the anchored bytes and the signer is not self-signed; and it
    /// names the earliest confirmed anchor that proves it.
    #[test]
    fn an_expired_signer_is_trusted_by_an_anchor_only_when_nothing_else_objects() {
        let dir = tempfile::tempdir().unwrap();
        let id = dir.path().join("id");
        let req = crate::identity::NewIdentity { name: "Unit Reporter".into(), org: None, email: None, days: 30 };
        crate::identity::create(&id, &req, None).unwrap();
        let chain = chain_der(&std::fs::read_to_string(id.join("signer.pem")).unwrap());
        let trust = crate::trust::gather(&[], &dir.path().join("store"), Some(&id), None).unwrap();
        let expired = C2paReport {
            codes: vec![EXPIRED_CODE.into(), UNTRUSTED_CODE.into()],
            signer_chain: chain.clone(),
            claim_signature_validated: true,
            in_anchored_bytes: true,
            only_signer_expired: true,
            ..C2paReport::empty(C2paState::Invalid)
        };
        // The 30-day identity starts now: blocks of tomorrow and the day after fall inside it.
        let now = chrono::Utc::now();
        let (earlier, later) =
            ((now + chrono::Duration::days(1)).to_rfc3339(), (now + chrono::Duration::days(2)).to_rfc3339());
        let anchors = [
            ConfirmedAnchor { kind: "evm", block: Some(9), time: &later },
            ConfirmedAnchor { kind: "ots", block: Some(7), time: &earlier },
            ConfirmedAnchor { kind: "evm", block: None, time: "not a time" },
        ];
        let judged = |report: &C2paReport, anchors: &[ConfirmedAnchor<'_>]| {
            let mut report = report.clone();
            apply_anchor_time_evidence(&mut report, anchors, &trust);
            report
        };
        let trusted = judged(&expired, &anchors);
        assert_eq!(trusted.state, C2paState::Trusted);
        assert!(trusted.codes.is_empty(), "{:?}", trusted.codes);
        assert_eq!(
            trusted.time_evidence,
            Some(TimeEvidence { kind: "bitcoin".into(), block: Some(7), time: earlier.clone() })
        );
        assert!(
            trusted.reason.as_deref().is_some_and(|r| r.contains("a confirmed bitcoin anchor")),
            "{:?}",
            trusted.reason
        );
        assert_eq!(judged(&expired, &anchors[..1]).time_evidence.map(|e| e.kind), Some("evm".to_string()));

        // Each objection alone keeps the verdict.
        let unchanged = |report: C2paReport, why: &str| {
            let after = judged(&report, &anchors);
            assert_eq!(after.state, report.state, "{why}");
            assert_eq!(after.codes, report.codes, "{why}");
            assert_eq!(after.time_evidence, None, "{why}");
        };
        unchanged(C2paReport { state: C2paState::Valid, ..expired.clone() }, "not invalid");
        unchanged(C2paReport { only_signer_expired: false, ..expired.clone() }, "the validator objects to more");
        unchanged(
            C2paReport {
                codes: vec![EXPIRED_CODE.into(), UNTRUSTED_CODE.into(), INGREDIENT_INVALID_CODE.into()],
                ..expired.clone()
            },
            "vouch objects to more",
        );
        unchanged(C2paReport { codes: vec![UNTRUSTED_CODE.into()], ..expired.clone() }, "not expired");
        let timestamp = Timestamp { time: None, tsa: Some("TSA".into()), trusted: true };
        unchanged(C2paReport { timestamp: Some(timestamp), ..expired.clone() }, "a trusted timestamp speaks");
        unchanged(C2paReport { claim_signature_validated: false, ..expired.clone() }, "the signature does not hold");
        unchanged(C2paReport { in_anchored_bytes: false, ..expired.clone() }, "not in the anchored bytes");
        unchanged(C2paReport { signer_chain: Vec::new(), ..expired.clone() }, "no signer");
        assert_eq!(judged(&expired, &[]).state, C2paState::Invalid, "no anchor");
        // The expiry alone, without the untrusted-now that usually follows it.
        let expiry_alone = C2paReport { codes: vec![EXPIRED_CODE.into()], ..expired.clone() };
        assert_eq!(judged(&expiry_alone, &anchors).state, C2paState::Trusted);
    }

    #[test]
    fn a_signer_outside_the_c2pa_profile_is_never_acceptable() {
        // fixtures/certs/README.md: two 30-day signers of January 2020 under
        // one root, the second with keyUsage keyEncipherment only.
        let der = |pem: &str| chain_der(pem).remove(0);
        let root = der(include_str!("../../fixtures/certs/profile-root.pem"));
        let good = der(include_str!("../../fixtures/certs/profile-good-leaf.pem"));
        let bad = der(include_str!("../../fixtures/certs/profile-keyencipherment-leaf.pem"));
        let policy = policy_anchored_at(&root);
        let jan_10 = 1578614400;
        assert!(signer_acceptable_at(&[good.clone(), root.clone()], &policy, jan_10));
        assert!(!signer_acceptable_at(&[good, root.clone()], &policy, jan_10 + 30 * 86400), "expired by then");
        // The chain holds and the time is right, but the profile refuses it.
        assert!(policy.check_certificate_trust(std::slice::from_ref(&root), &bad, Some(jan_10)).is_ok());
        assert!(!signer_acceptable_at(&[bad, root], &policy, jan_10));
    }

    #[test]
    fn a_widened_copy_differs_from_the_certificate_only_in_its_validity() {
        let (chain, _, _) = identity();
        let utc_times = chain[0].clone();
        // The same certificate with its times as GeneralizedTime, as some
        // CAs write them (the widening never looks at the signature).
        let generalized_times = with_generalized_times(&utc_times);
        // A serial number whose bytes look like the start of a validity
        // (a SEQUENCE then a UTCTime tag): only the real one is rewritten.
        let mut odd_serial = utc_times.clone();
        assert_eq!(odd_serial[8..15], [0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, odd_serial[14]], "v3, then the serial");
        assert!(odd_serial[14] >= 4);
        odd_serial[15..19].copy_from_slice(&[0x30, 0x01, 0x17, 0x0d]);
        for (leaf, most_changed) in [(&utc_times, 26), (&generalized_times, 30), (&odd_serial, 26)] {
            let widened = with_validity_widened(leaf).unwrap();
            assert_eq!(widened.len(), leaf.len());
            let (_, original) = x509_parser::parse_x509_certificate(leaf).unwrap();
            let (_, copy) = x509_parser::parse_x509_certificate(&widened).unwrap();
            assert!(copy.validity().is_valid(), "valid now");
            assert!(copy.validity().not_before.timestamp() <= original.validity().not_before.timestamp());
            assert!(copy.validity().not_after.timestamp() >= original.validity().not_after.timestamp());
            assert_eq!(copy.subject(), original.subject());
            assert_eq!(copy.extensions(), original.extensions());
            assert_eq!(copy.public_key().raw, original.public_key().raw);
            assert_eq!(copy.signature_value, original.signature_value);
            // Only the two times changed.
            let changed = leaf.iter().zip(&widened).filter(|(a, b)| a != b).count();
            assert!((1..=most_changed).contains(&changed), "{changed} bytes changed");
        }
        assert_eq!(with_validity_widened(b"not a certificate"), None);
    }

    /// An issuer is free to name itself with any text, among it the bytes
    /// of a validity: one sharing only its notBefore with the certificate's
    /// is not taken for it. Rewriting that instead would leave the real,
    /// expired validity in place (the profile check then refuses a signer
    /// the rule should accept) and change the issuer's name.
    #[test]
    fn a_validity_lookalike_in_the_issuer_name_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let name = "Unit Reporter of a Newsroom with a Long Name";
        let req = crate::identity::NewIdentity { name: name.into(), org: None, email: None, days: 30 };
        crate::identity::create(&dir.path().join("id"), &req, None).unwrap();
        let pem = std::fs::read_to_string(dir.path().join("id/signer.pem")).unwrap();
        let leaf = chain_der(&pem).remove(0);
        let real = leaf.windows(4).position(|w| w == [0x30, 0x1e, 0x17, 0x0d]).expect("a UTCTime validity");
        // The issuer's common name ("<name> Root CA") comes before the
        // validity; 32 of its bytes become the look-alike.
        let cn = leaf.windows(name.len()).position(|w| w == name.as_bytes()).unwrap();
        assert!(cn + 32 < real, "the issuer's name precedes the validity");
        let mut lookalike = leaf.clone();
        lookalike[cn..cn + 4].copy_from_slice(&[0x30, 0x1e, 0x17, 0x0d]);
        lookalike[cn + 4..cn + 17].copy_from_slice(&leaf[real + 4..real + 17]);
        lookalike[cn + 17..cn + 32].copy_from_slice(b"\x17\x0d201231235959Z");
        let (_, original) = x509_parser::parse_x509_certificate(&lookalike).unwrap();
        use x509_parser::prelude::FromDer;
        let (_, fake) = x509_parser::certificate::Validity::from_der(&lookalike[cn..]).unwrap();
        assert_eq!(fake.not_before, original.validity().not_before, "shares the notBefore");
        assert_ne!(fake.not_after, original.validity().not_after, "but not the notAfter");
        let widened = with_validity_widened(&lookalike).unwrap();
        let (_, copy) = x509_parser::parse_x509_certificate(&widened).unwrap();
        assert_eq!(copy.issuer(), original.issuer());
        assert!(copy.validity().not_before.timestamp() < original.validity().not_before.timestamp());
        assert!(copy.validity().not_after.timestamp() > original.validity().not_after.timestamp());
    }

    /// `der` (whose validity is two UTCTimes) with both times rewritten as
    /// the same instants in GeneralizedTime, and the lengths around them
    /// grown to match. Its signature no longer holds.
    fn with_generalized_times(der: &[u8]) -> Vec<u8> {
        let at = der.windows(4).position(|w| w == [0x30, 0x1e, 0x17, 0x0d]).expect("a UTCTime validity");
        let mut out = der[..at].to_vec();
        out.extend([0x30, 0x22]);
        for time in [&der[at + 4..at + 17], &der[at + 19..at + 32]] {
            out.extend([0x18, 0x0f]);
            out.extend(b"20");
            out.extend(time);
        }
        out.extend(&der[at + 32..]);
        // The certificate and its TBSCertificate, both in the two-byte long form.
        for start in [0, 4] {
            assert_eq!(out[start..start + 2], [0x30, 0x82]);
            let len = u16::from_be_bytes([out[start + 2], out[start + 3]]) + 4;
            out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
        }
        let (_, cert) = x509_parser::parse_x509_certificate(&out).unwrap();
        let (_, before) = x509_parser::parse_x509_certificate(der).unwrap();
        let instants = |v: &x509_parser::certificate::Validity| (v.not_before.timestamp(), v.not_after.timestamp());
        assert_eq!(instants(cert.validity()), instants(before.validity()));
        out
    }

    /// The words the text and HTML reports print for a report: the state,
    /// the anchor of a trusted verdict, the timestamp and the time evidence.
    #[test]
    fn a_report_says_its_state_anchor_timestamp_and_time_evidence_in_words() {
        use C2paState::*;
        assert_eq!([Trusted, Valid, Invalid, Absent].map(C2paState::as_str), ["trusted", "valid", "invalid", "absent"]);
        let anchor =
            crate::trust::TrustSource { list: "c2pa".into(), anchor: "Test Root".into(), anchor_sha256: "ab".into() };
        let mut report = C2paReport { trust: Some(anchor), ..C2paReport::empty(Trusted) };
        assert_eq!(report.trust_words().as_deref(), Some("trusted: Test Root, C2PA Trust List"));
        // A verdict taken down to `valid` (a TSA-only anchor) names no anchor.
        report.state = Valid;
        assert_eq!(report.trust_words(), None);
        assert_eq!(report.time_evidence_words(), None);
        assert_eq!(report.timestamp_words(), None);
        report.time_evidence =
            Some(TimeEvidence { kind: "evm".into(), block: Some(12), time: "2020-01-10T12:00:00Z".into() });
        assert_eq!(
            report.time_evidence_words().as_deref(),
            Some(
                "time evidence: evm block 12 at 2020-01-10T12:00:00Z inside the expired certificate's validity \
                 (vouch's rule, beyond C2PA)"
            )
        );
        report.timestamp = Some(Timestamp {
            time: Some("2024-08-06T21:53:37+00:00".into()),
            tsa: Some("DigiCert Timestamp 2023".into()),
            trusted: true,
        });
        assert_eq!(
            report.timestamp_words().as_deref(),
            Some("timestamp 2024-08-06T21:53:37+00:00 by DigiCert Timestamp 2023 (trusted)")
        );
        report.timestamp = Some(Timestamp { time: None, tsa: None, trusted: false });
        assert_eq!(report.timestamp_words().as_deref(), Some("timestamp (untrusted time-stamping authority)"));
        // Of the declarations, only the AI-generated one is said to be so.
        let declared = |source_type: &str| DeclaredSource {
            source_type: source_type.into(),
            manifest: "m".into(),
            action: "c2pa.created".into(),
        };
        report.declared_sources =
            vec![declared("http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"), declared(AI)];
        let synthetic: Vec<_> = report.synthetic_declarations().collect();
        assert_eq!(synthetic, [(&report.declared_sources[1], "AI-generated content")]);
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
