//! Verification: what a file's Content Credentials say, and whether they hold.

use std::fs::File;
use std::sync::Arc;

use c2pa::{Context, Reader, ValidationState};
use serde::Serialize;
use serde_json::Value;

use super::sign::sidecar_path;
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
    pub digital_source_type: Option<String>,
    pub ingredients: Vec<IngredientSummary>,
    pub title: Option<String>,
    pub claim_generator: Option<String>,
    /// Label of the active manifest.
    pub manifest: Option<String>,
    /// Whether the manifest came from a `FILE.c2pa` sidecar.
    pub sidecar: bool,
    /// Why a manifest could not be validated at all, when that happened.
    pub reason: Option<String>,
}

impl C2paReport {
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
            ingredients: Vec::new(),
            title: None,
            claim_generator: None,
            manifest: None,
            sidecar: false,
            reason: None,
        }
    }
}

/// Opens the manifest store of `file` (embedded, or from its sidecar).
/// `Ok(None)` means the file has no manifest.
pub(crate) fn read_store(
    file: &MediaFile,
    context: &Arc<Context>,
) -> Result<(Option<Reader>, bool, Option<c2pa::Error>), ProvenanceError> {
    let io = |source| ProvenanceError::Io { path: file.path.clone(), source };
    let mime = file.format.mime();
    let stream = File::open(&file.path).map_err(io)?;
    let sidecar = sidecar_path(&file.path);
    let (result, from_sidecar) = if sidecar.is_file() {
        let manifest =
            std::fs::read(&sidecar).map_err(|source| ProvenanceError::Io { path: sidecar.clone(), source })?;
        let reader = Reader::from_shared_context(context).with_manifest_data_and_stream(&manifest, mime, stream);
        (reader, true)
    } else {
        (Reader::from_shared_context(context).with_stream(mime, stream), false)
    };
    match result {
        Ok(reader) => Ok((Some(reader), from_sidecar, None)),
        Err(e) if is_no_manifest(&e) => Ok((None, from_sidecar, None)),
        Err(c2pa::Error::IoError(source)) => Err(io(source)),
        Err(e @ (c2pa::Error::InvalidAsset(_) | c2pa::Error::UnsupportedType)) => {
            Err(ProvenanceError::Unreadable { path: file.path.clone(), format: mime, reason: e.to_string() })
        }
        Err(e) => Ok((None, from_sidecar, Some(e))),
    }
}

/// Verifies the C2PA manifest of one media file against the context's anchors.
pub fn verify_file(file: &MediaFile, context: &Arc<Context>) -> Result<C2paReport, ProvenanceError> {
    let (reader, sidecar, failure) = read_store(file, context)?;
    let Some(reader) = reader else {
        // A manifest that is there but cannot even be parsed is invalid, not absent.
        return Ok(match failure {
            Some(c2pa::Error::RemoteManifestUrl(url)) => C2paReport {
                reason: Some(format!("the manifest is stored remotely at {url}; pass --allow-remote to fetch it")),
                ..C2paReport::empty(C2paState::Absent)
            },
            Some(e) => C2paReport {
                codes: vec![failure_code(&e).to_string()],
                reason: Some(e.to_string()),
                sidecar,
                ..C2paReport::empty(C2paState::Invalid)
            },
            None => C2paReport::empty(C2paState::Absent),
        });
    };
    let mut state = match reader.validation_state() {
        ValidationState::Trusted => C2paState::Trusted,
        ValidationState::Valid => C2paState::Valid,
        ValidationState::Invalid => C2paState::Invalid,
    };
    let leaf = reader.active_manifest().and_then(|m| m.signature_info()).and_then(|info| leaf_der(info.cert_chain()));
    let mut codes = failure_codes(&reader);
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
    for assertion in active["assertions"].as_array().into_iter().flatten() {
        let label = assertion["label"].as_str().unwrap_or_default();
        if label == "c2pa.actions" || label.starts_with("c2pa.actions.v") {
            for action in assertion["data"]["actions"].as_array().into_iter().flatten() {
                if let Some(name) = action["action"].as_str() {
                    actions.push(name.to_string());
                }
                if digital_source_type.is_none() {
                    digital_source_type = text(&action["digitalSourceType"]);
                }
            }
        }
    }
    let ingredients = active["ingredients"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| IngredientSummary {
            title: text(&i["title"]),
            relationship: text(&i["relationship"]).unwrap_or_else(|| "componentOf".into()),
            format: text(&i["format"]),
            has_manifest: i.get("active_manifest").is_some_and(|m| !m.is_null()),
        })
        .collect();
    let claim_generator = text(&active["claim_generator"]).or_else(|| {
        active["claim_generator_info"].as_array().and_then(|infos| infos.first()).map(|info| {
            match (info["name"].as_str(), info["version"].as_str()) {
                (Some(n), Some(v)) => format!("{n}/{v}"),
                (Some(n), None) => n.to_string(),
                _ => String::new(),
            }
        })
    });

    Ok(C2paReport {
        state,
        signer: text(&sig["common_name"]),
        signer_sha256: leaf.as_deref().map(|der| {
            use sha2::{Digest, Sha256};
            hex::encode(Sha256::digest(der))
        }),
        issuer: text(&sig["issuer"]),
        signed_at: text(&sig["time"]),
        alg: text(&sig["alg"]),
        codes,
        actions,
        digital_source_type,
        ingredients,
        title: text(&active["title"]),
        claim_generator,
        manifest: active_label,
        sidecar,
        reason,
    })
}

/// vouch's own code for a signer whose certificate is self-signed.
pub const SELF_SIGNED_CODE: &str = "vouch.signingCredential.selfSigned";

/// The DER of the first certificate of a PEM chain.
fn leaf_der(pem_chain: &str) -> Option<Vec<u8>> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem_chain.as_bytes()).ok()?;
    Some(pem.contents)
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

/// A C2PA-style code for a manifest that could not be parsed at all.
fn failure_code(e: &c2pa::Error) -> &'static str {
    match e {
        c2pa::Error::JumbfParseError(_) | c2pa::Error::JumbfBoxNotFound => "manifest.malformed",
        c2pa::Error::ClaimMissing { .. } => "claim.missing",
        c2pa::Error::RemoteManifestUrl(_) | c2pa::Error::RemoteManifestFetch(_) => "manifest.inaccessible",
        _ => "general.error",
    }
}
