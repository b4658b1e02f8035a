//! Verifying one file, the work `vouch verify` and `vouch check` share:
//! its Content Credentials, every receipt that anchors it, and what it
//! declares about AI origin, gathered into one [`FileReport`]
//! ([`Verifier::file`]); then, when a run asks for it, a detector's scores
//! for the same file ([`detect`]). Detection is a second call because a
//! detector runs its own pipeline across the cores, one file at a time,
//! while files are verified in parallel.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::anchor::{self, AnchorError, AnchorState, ChainData};
use crate::detect::{declared, DetectError, Detection, Detector};
use crate::media::MediaFile;
use crate::provenance::{self, ProvenanceError};
use crate::results::{self, FileReport};
use crate::trust::TrustAnchors;

/// Why a file could not be verified. What it was found to be (`invalid`,
/// `absent`, a false anchor) is not an error: it is in the [`FileReport`].
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Provenance(#[from] ProvenanceError),
    #[error(transparent)]
    Anchor(#[from] AnchorError),
}

/// What a verifying run checks every file against: the c2pa context with
/// its trust anchors, the anchors themselves (to name the one behind each
/// `trusted` verdict) and the chain data receipts are checked against.
pub struct Verifier {
    c2pa: Arc<provenance::Validator>,
    anchors: TrustAnchors,
    chain: ChainData,
    /// Whether a confirmed anchor may stand in for a timestamp (vouch's rule).
    pub anchor_time_evidence: bool,
}

impl Verifier {
    pub fn new(c2pa: Arc<provenance::Validator>, anchors: TrustAnchors, chain: ChainData) -> Self {
        Self { c2pa, anchors, chain, anchor_time_evidence: true }
    }

    /// The manifest reader, for commands that read manifests without judging them.
    pub fn c2pa(&self) -> &Arc<provenance::Validator> {
        &self.c2pa
    }

    /// Everything this run can learn about `path` without a model: its
    /// credentials (`media` is `None` for formats that cannot carry them),
    /// the receipts beside it and `extra_receipts`, its declarations.
    pub fn file(
        &self,
        path: &Path,
        media: Option<&MediaFile>,
        extra_receipts: &[PathBuf],
    ) -> Result<FileReport, VerifyError> {
        // Read once: c2pa validates these bytes and the declared-origin
        // readers scan them.
        let bytes = media.map(provenance::verify::read_small).transpose()?.flatten();
        let mut c2pa = media.map(|m| provenance::verify::verify_read(m, bytes.as_deref(), &self.c2pa)).transpose()?;
        let mut receipts = anchor::receipts_beside(path);
        for receipt in extra_receipts {
            if !receipts.contains(receipt) {
                receipts.push(receipt.clone());
            }
        }
        let anchors =
            receipts.iter().map(|r| anchor::verify_receipt(path, r, &self.chain)).collect::<Result<Vec<_>, _>>()?;
        if let Some(report) = c2pa.as_mut() {
            if self.anchor_time_evidence {
                let confirmed: Vec<provenance::verify::ConfirmedAnchor> = anchors
                    .iter()
                    .filter(|a| a.state == AnchorState::Confirmed)
                    .filter_map(|a| {
                        let time = a.time.as_deref()?;
                        Some(provenance::verify::ConfirmedAnchor { kind: a.kind, block: a.block, time })
                    })
                    .collect();
                provenance::verify::apply_anchor_time_evidence(report, &confirmed, &self.anchors);
            }
            provenance::verify::attribute_trust(report, &self.anchors);
        }
        let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        // Metadata that cannot be read has already failed the C2PA reading.
        let read = bytes.as_deref().filter(|_| media.is_some_and(|m| m.path == path));
        let mut declared = declared::read(path, read).unwrap_or_default();
        if let Some(c2pa) = &c2pa {
            declared.extend(declared::from_c2pa(c2pa));
        }
        Ok(FileReport {
            path: path.to_path_buf(),
            path_bytes: results::path_bytes(path),
            link,
            c2pa,
            anchors,
            declared,
            detection: None,
        })
    }
}

/// The detector's scores for a verified file, carrying the file's own
/// declarations; `None` for files the detector does not read.
pub fn detect(report: &FileReport, detector: &mut Detector) -> Result<Option<Detection>, DetectError> {
    if !crate::detect::decode::is_media(&report.path) {
        return Ok(None);
    }
    let mut detection = detector.detect(&report.path)?;
    detection.declare(report.declared.clone());
    Ok(Some(detection))
}
