//! Content Credentials (C2PA): signing media and verifying what it claims.
//!
//! Entry points: [`sign::sign_file`] embeds (or writes beside the file) a
//! manifest signed with a vouch identity; [`verify::verify_file`] reads one
//! back into a [`verify::C2paReport`]; [`inspect::inspect_file`] gives the
//! whole manifest store for a person (or its crJSON, for the C2PA asset
//! rubrics); [`signals::signals_of`] gives the official provenance signals.

pub mod codes;
pub mod inspect;
pub mod sign;
pub mod signals;
pub mod signed_index;
pub mod source_type;
pub mod validator;
pub mod verify;

use std::path::PathBuf;
use std::sync::Arc;

pub use c2pa::Context;

pub use sign::{sign_file, SignOptions, SignOutput, Signed};
pub use validator::Validator;
pub use verify::{verify_file, C2paReport, C2paState, DeclaredSource, InvalidIngredient};

/// Why a file could not be signed or read. Verification *results* (invalid,
/// absent) are not errors: they are reported in [`C2paReport`].
#[derive(Debug, thiserror::Error)]
pub enum ProvenanceError {
    #[error(transparent)]
    Input(#[from] crate::media::InputError),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: cannot create the output folder: {source}", path.display())]
    OutputDir { path: PathBuf, source: std::io::Error },
    #[error("{}: already exists (pass --force to overwrite)", .0.display())]
    OutputExists(PathBuf),
    #[error("{}: the output would replace an input; choose another -o folder (or sign --in-place)", .0.display())]
    OutputIsInput(PathBuf),
    #[error("{}: cannot read this file as {format}: {reason}", path.display())]
    Unreadable { path: PathBuf, format: &'static str, reason: String },
    #[error("{}: signing failed: {reason}", path.display())]
    Sign { path: PathBuf, reason: String },
    #[error(
        "{}: its Content Credentials are invalid ({codes}); a new signature would bury that in its history \
         (pass --allow-invalid-parent to sign it anyway)",
        path.display()
    )]
    InvalidParent { path: PathBuf, codes: String },
    #[error("{}: c2pa settings rejected: {reason}", path.display())]
    Settings { path: PathBuf, reason: String },
}

/// Whether c2pa checks each manifest it has just signed (its signature and
/// structure, not the asset's hash) before the file is written.
///
/// Off. What the check would catch is a signer whose signatures do not
/// verify: a key that is not the certificate's. vouch signs only with a
/// loaded identity, and [`crate::identity::load`] proves once per run that
/// its key signs what its certificate verifies (`identity::cert::check_key_matches`;
/// `tests/identity.rs` refuses a swapped key before anything is written), so
/// repeating it per file buys nothing. Measured 2026-12-02 on a release build
/// signing 500 photos of 214 KiB with one thread (`perf`): the check was 9%
/// of the CPU time (c2pa's `verify_store` re-reading and re-verifying each
/// manifest). Every output is still verified by the tests, and by c2pa-python
/// in the interop tests.
pub const VERIFY_AFTER_SIGN: bool = false;

/// The C2PA specification version vouch's manifests follow, written as
/// `specVersion` in `claim_generator_info` (mandatory for spec 2.4 in the
/// C2PA Conformance Program).
pub const SPEC_VERSION: &str = "2.4.0";

/// Who wrote a manifest: vouch, its version, and the spec version it follows.
pub(crate) fn claim_generator_info() -> serde_json::Value {
    serde_json::json!({ "name": "vouch", "version": env!("CARGO_PKG_VERSION"), "specVersion": SPEC_VERSION })
}

/// Builds the c2pa context for a run. OCSP is never fetched, and remote
/// manifests only when the user allows it: by default verification uses
/// only the file, its sidecar, the shipped lists and local anchors, and
/// contacts no one. `trust` is the `trust` section of c2pa's settings
/// ([`crate::trust::TrustAnchors::c2pa_settings`]).
pub fn context(trust: Option<serde_json::Value>, allow_remote: bool) -> Result<Arc<Context>, c2pa::Error> {
    let mut settings = serde_json::json!({
        "verify": {
            "remote_manifest_fetch": allow_remote,
            "ocsp_fetch": false,
            "verify_trust": true,
            "verify_after_sign": VERIFY_AFTER_SIGN,
        },
        "builder": {
            "claim_generator_info": claim_generator_info(),
            // vouch records the one action it performs (signing a file as
            // created, or as edited under its parent); nothing else is done
            // to the asset, so the list is complete, and the C2PA
            // Conformance Program requires the field in every actions assertion.
            "actions": { "all_actions_included": true },
        },
    });
    if let Some(trust) = trust {
        settings["trust"] = trust;
    }
    Ok(Arc::new(Context::new().with_settings(settings)?))
}

/// A context that only parses manifest stores: no hashing, no signature or
/// trust checks, nothing fetched. Its readers say what a store holds (the
/// certificates above all), never whether it holds.
pub(crate) fn parse_only_context() -> Result<Arc<Context>, c2pa::Error> {
    let settings = serde_json::json!({
        "verify": {
            "remote_manifest_fetch": false,
            "ocsp_fetch": false,
            "verify_trust": false,
            "verify_after_reading": false,
        },
    });
    Ok(Arc::new(Context::new().with_settings(settings)?))
}

/// Whether a c2pa error means "this file has no manifest" rather than a failure.
pub(crate) fn is_no_manifest(e: &c2pa::Error) -> bool {
    matches!(e, c2pa::Error::JumbfNotFound | c2pa::Error::ProvenanceMissing)
}
